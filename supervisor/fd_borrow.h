/* A target's fd, got where pidfd_getfd is denied (the default seccomp
 * profiles of Docker and containerd deny it but allow ptrace): the calling
 * thread is stopped and made to send the fd to us over a socket. */
#ifndef CODA_FD_BORROW_H
#define CODA_FD_BORROW_H

#include <stdbool.h>

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

/* Thread tid, if it waits in a recvmsg the kernel does (one let through
 * untrapped), is made to make the call again from the start: trapped again.
 * It does not see it happen (a wait SO_RCVTIMEO bounds starts over). */
void fd_borrow_kick(pid_t tid);

/* Is pidfd_getfd denied to us (so that fds must be borrowed)? */
bool fd_borrow_needed(void);

#endif
