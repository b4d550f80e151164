/* The event loop: one epoll set for the seccomp listener, the venus channel,
 * the signalfd and a pidfd per target process. */
#ifndef CODA_LOOP_H
#define CODA_LOOP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

struct sup;

enum ev_kind {
	EV_LISTENER = 1,
	EV_VENUS,
	EV_SIGNAL,
	EV_PIDFD,
	EV_INOTIFY,
	EV_VENUS_LISTENER,
	EV_TIMER,
	EV_FDWAIT,
	EV_VENUS_PIDFD
};

/* How often a call held for a target (an upcall, a blocking receive) is
 * checked for a signal that ends it: the kernel learns of one at once, we
 * only by asking /proc. */
#define LOOP_SIGNAL_CHECK_MS 10

/* The monotonic clock in ms: the deadlines of held calls. */
static inline int64_t loop_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Asks the kernel to wake targets synchronously (Linux 6.6+), if it can. */
void loop_tune_listener(struct sup *s);

int loop_add(struct sup *s, int fd, enum ev_kind kind, pid_t pid);
/* Once: the fd is dropped from the set after its first event is served. */
int loop_add_oneshot(struct sup *s, int fd, enum ev_kind kind, pid_t pid);
void loop_remove(struct sup *s, int fd);

/* Serves events until done(s) is true (checked after each round). 0, or -1
 * when the loop itself failed (said on stderr). */
int loop_run_until(struct sup *s, bool (*done)(struct sup *s));

/* Runs until the target has exited; returns its status as a shell reports it. */
int loop_run(struct sup *s);

#endif
