/* One trapped syscall: reading its arguments, and the one answer it gets
 * (a result, an error, "continue" or an injected fd). */
#ifndef CODA_NOTIFY_H
#define CODA_NOTIFY_H

#include <limits.h>
#include <linux/seccomp.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "coda_wire.h"

struct sup;
struct task;
struct proc;

struct call {
	struct sup *sup;
	struct task *task;
	const struct seccomp_notif *n;
	int listener; /* the seccomp listener the call came from */
	struct proc *proc;
	int64_t uid_override; /* the uid upcalls carry instead of fsuid, or -1 */
	bool answered;
	bool abandoned; /* the target left the call (killed) before our answer */
};

static inline uint64_t call_arg(const struct call *c, int i)
{
	return c->n->data.args[i];
}

/* The caller as an upcall names it: tid, tgid, fsuid. */
int call_caller(struct call *c, struct coda_caller *caller);

void call_return(struct call *c, long result); /* >= 0, or -errno */
void call_continue(struct call *c);

/* Injects srcfd into the target as its call's result: at band slot `newfd`
 * (SETFD) or the lowest free fd (newfd < 0). Returns the fd number in the
 * target, or -errno (the call is then still unanswered). */
int call_inject_fd(struct call *c, int srcfd, int newfd, bool cloexec);

/* Adds srcfd to the target without answering the call: at newfd (replacing
 * what is there), or the lowest free fd when newfd < 0. The fd or -errno. */
int call_add_fd(struct call *c, int srcfd, int newfd, bool cloexec);

/* Is the target still waiting in this call? (Checked after every lookup in
 * /proc that names the target by pid.) */
bool call_valid(struct call *c);
/* The same for notification id of listener (not ENOENT). */
bool call_id_valid(int listener, uint64_t id);

/* Target memory. A path is read once, up to its NUL: -EFAULT for a bad
 * pointer, -ENAMETOOLONG when it has PATH_MAX bytes or more, as the kernel. */
int call_read_path(struct call *c, uint64_t addr, char buf[PATH_MAX]);
int call_read(struct call *c, uint64_t addr, void *buf, size_t len);
int call_write(struct call *c, uint64_t addr, const void *buf, size_t len);
/* A string of up to cap bytes, NUL included: its length or -errno. */
long call_read_string(struct call *c, uint64_t addr, char *buf, size_t cap);
/* Writes read-only pages too (/proc/PID/mem); of any process we may trace. */
int call_write_force(struct call *c, uint64_t addr, const void *buf, size_t len);
int mem_write_force(pid_t pid, uint64_t addr, const void *buf, size_t len);

/* Is the call task t serves to end now: its caller killed, or a SIGINT
 * waiting for it? For the venus channel's checks of held calls. */
bool call_task_interrupted(struct sup *s, struct task *t);

/* Serves one notification (the body of a syscall task). */
void call_serve(struct task *t);

#endif
