/* An unmodified Coda venus, hosted without the kernel module. It runs under
 * a seccomp filter of its own (filters/venus_filter.c) and every call that
 * would reach the kernel's Coda device comes here: the open of the device
 * gets an end of our channel (at VENUS_DEV_FD), the version ioctl is
 * answered, mount(2) of type coda succeeds and names the mount point, and
 * each write of a reply or downcall is read from venus's memory and taken
 * in as psdev_write() would, the container of a CODA_OPEN_BY_FD reply taken
 * from venus's fd table while the write is held (venus closes it as soon as
 * its write returns). Upcalls reach venus's reads through the channel.
 * What it would need root for is answered as fakeroot would (fakeroot.h). */
#ifndef CODA_HOSTED_H
#define CODA_HOSTED_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include "venus_filter.h"

struct sup;
struct task;

/* Where each open of the device also puts, in venus, the read end of the
 * lifeline and the supervisor's end of the channel (hosted_lifeline). */
#define VENUS_LIFELINE_FD (VENUS_DEV_FD + 1)
#define VENUS_PEER_FD	  (VENUS_DEV_FD + 2)

struct hosted_venus {
	const char *cmd;     /* --venus-cmd, or NULL: the embedded venus */
	const char *devices; /* --venus-device: the paths of its device */
	int listener;	     /* venus's seccomp listener */
	int venus_end;	     /* what each open of its device gets */
	int lifeline[2];     /* a pipe whose write end only we hold */
	pid_t pid;	     /* venus itself, the process that opened the device */
	int pidfd;	     /* its pidfd until it exits */
	bool exited;	     /* (its pidfd said so) */
	bool mounted;	     /* it has mounted (the mount point is in mnt) */
	int timer;	     /* fires when it has taken too long to mount */
	bool too_late;
	bool stopping; /* we asked it to leave (SIGTERM): its exit is expected */
	char mnt[PATH_MAX];
};

/* Venus is to end with us, even when we are killed, and even when a shell
 * has forked it, out of reach of our PR_SET_PDEATHSIG. Only the kernel can
 * do it then: the read end of a pipe whose write end only we hold goes to
 * venus with its device, owned by venus (F_SETOWN) and set to signal
 * SIGTERM when it becomes readable (O_ASYNC, F_SETSIG), which it does when
 * our write end closes, at our exit. Our end of the channel goes to venus
 * too: its device then never reads 0 bytes, as it would once we are gone,
 * on which stock venus spins and no longer heeds SIGTERM. 0 or -errno. */
int hosted_lifeline(struct hosted_venus *h);

/* The body of a task serving one of venus's trapped calls. */
void hosted_serve(struct task *t);

/* Does a seccomp filter we run under (a container's profile) answer mount(2)
 * itself? venus's mount would then fail before its own filter could trap
 * it: every filter runs, and an errno beats a user notification. The kernel
 * fails our probe with EFAULT (its mount point is no string); the errno a
 * filter gave instead, or 0. */
int hosted_mount_preempted(void);

/* Start-up is done: venus has mounted, or has gone. */
bool hosted_ready(struct sup *s);

/* Has venus exited? Its own process once its device open named it; until
 * then, the one --venus-cmd started. */
bool hosted_exited(const struct sup *s);

/* Venus's pidfd says it has exited: the channel is dead. */
void hosted_venus_exited(struct sup *s);

/* At the end: asks venus to leave (SIGTERM; stock venus then flushes its RVM
 * log, or the next start finds a dirty shutdown and loses its cache) and
 * serves its calls until it has, for at most `secs`, then kills it; then
 * asks the rest of its command line to leave (stop_venus kills it). Venus
 * first, by its own pid: it leaves the process group it was started in.
 * The channel stays open meanwhile: on a closed device venus loops, deaf to
 * SIGTERM. */
void hosted_stop(struct sup *s, int secs);

#endif
