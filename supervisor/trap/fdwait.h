/* Blocking calls done on a target's behalf (recvmsg of fds): the task that
 * serves one sleeps until the fd is ready, and ends the wait as the kernel's
 * blocking calls do when a signal comes for the caller. */
#ifndef CODA_FDWAIT_H
#define CODA_FDWAIT_H

#include <stdint.h>
#include <sys/types.h>

/* The kernel's "restart if SA_RESTART" result (include/linux/errno.h, not in
 * the uapi): answered to a call, the kernel restarts it or says EINTR as the
 * caller's handler wants. */
#define ERESTARTSYS 512

struct call;
struct sup;
struct fd_wait;

/* Sleeps until fd is readable (0), a signal is pending for the caller
 * (-ERESTARTSYS, or -EINTR when timeout_ms is set, as sock_intr_errno()),
 * timeout_ms has passed (-EAGAIN; 0: none), or the caller was killed
 * (-EINTR). */
int fdwait_readable(struct call *c, int fd, int64_t timeout_ms);

/* Event-loop side: the wait of task tid is over (its fd is ready). */
void fdwait_ready(struct sup *s, pid_t tid);

/* Ends the waits whose deadline has passed or whose caller has a signal;
 * returns ms until the next check, or -1 when nothing waits. */
int fdwait_expire(struct sup *s);

#endif
