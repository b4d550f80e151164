/* exec of a program stored in /coda. The kernel opens what it runs by a path
 * it can see, and a /coda file has none; its container is not executable
 * either (venus makes it 0600). So the supervisor does the kernel's binfmt
 * work itself: it follows #! lines (an interpreter may be in /coda too),
 * copies the ELF at the end into an executable memfd, and writes an exec
 * plan: what to run, with which argv and envp. The plan is a memfd too, a
 * "#!" script whose interpreter is coda-exec; the target's path string is
 * rewritten to /dev/fd/N of the plan, and its call continues. coda-exec then
 * starts in the target (EXEC_PLAN_OPTION) and execs what the plan says. */
#ifndef CODA_EXEC_H
#define CODA_EXEC_H

#include <stdbool.h>

struct call;
struct exec_undo;
struct nameidata;

/* The target execs the /coda object nd. path_arg is the call's path argument
 * (argv and envp follow it); fd_itself: execveat(fd, "", AT_EMPTY_PATH) of
 * dirfd. Answers the call. */
void coda_exec(struct call *c, const struct nameidata *nd, int path_arg, long dirfd,
	       bool fd_itself);

/* The exec's rewrite of the caller's memory, undone at the caller's next
 * call (the plan's first, or the caller's own if the exec failed), or at its
 * exit for a vfork parent's sake. */
void coda_exec_undo(struct call *c);
void coda_exec_undo_exit(struct exec_undo *u);

#endif
