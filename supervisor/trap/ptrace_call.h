/* What ptrace lets us do to a thread held in a trapped call, which seccomp
 * alone does not: borrow one of its fds where pidfd_getfd is denied (the
 * default seccomp profiles of Docker and containerd deny it but allow
 * ptrace), and have it make its call again, with an argument changed or as
 * it was. */
#ifndef CODA_PTRACE_CALL_H
#define CODA_PTRACE_CALL_H

#include <stdbool.h>
#include <stdint.h>

struct call;

/* What a borrow left for the call it restarted. */
struct lent_fd {
	bool held;
	int fd;	  /* the target's fd number */
	int sock; /* ours of it, or -errno when it could not be got */
};

/* Stops c's thread, has it send its fd `fd` to us, and answers c so that the
 * thread makes the same call again when it goes on; that call finds what we
 * got in its task's `lent`. 0 when c is answered so, else -errno with c
 * unanswered and the thread untouched (no ptrace here, or it is traced). */
int fd_borrow(struct call *c, int fd);

/* The fd a borrow got for c's repeated call, if c is that call: true and
 * *sock (ours, or -errno) then. Anything else lent is dropped. */
bool fd_borrowed(struct call *c, int fd, int *sock);

void lent_fd_drop(struct lent_fd *l);

/* Answers c so that its thread makes the same call again, but with its
 * argument `arg` (0-5) set to `value`. 0, or -errno with c unanswered and
 * the thread untouched (no ptrace here, or it is traced). */
int call_restart_with_arg(struct call *c, int arg, uint64_t value);

/* Thread tid, if it waits in a recvmsg the kernel does (one let through
 * untrapped), is made to make the call again from the start: trapped again.
 * It does not see it happen (a wait SO_RCVTIMEO bounds starts over). */
void fd_borrow_kick(pid_t tid);

/* Is pidfd_getfd denied to us (so that fds must be borrowed)? */
bool fd_borrow_needed(void);

#endif
