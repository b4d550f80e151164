/* The event loop: one epoll set for the command's seccomp listener and for
 * what the rest of the trap and the layers above add (a pidfd per process,
 * the fds held calls wait for, the venus channel, signals), each kind
 * served by the handler set for it, and the deadlines they keep. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>

#include "filters/filter.h"
#include "proto/poll_first.h"
#include "trap.h"

void loop_tune_listener(struct trap *t)
{
	/* The target sleeps while we answer: waking it on our CPU saves a
	 * migration per call. An older kernel says EINVAL; it only costs time. */
	ioctl(t->listener, SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP);
}

static int add_events(struct trap *t, int fd, uint32_t events, int kind, pid_t pid)
{
	struct epoll_event ev = {
	    .events = events,
	    .data.u64 = ((uint64_t)kind << 32) | (uint32_t)pid,
	};

	return epoll_ctl(t->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

int loop_add(struct trap *t, int fd, int kind, pid_t pid)
{
	return add_events(t, fd, EPOLLIN, kind, pid);
}

int loop_add_oneshot(struct trap *t, int fd, int kind, pid_t pid)
{
	return add_events(t, fd, EPOLLIN | EPOLLONESHOT, kind, pid);
}

void loop_remove(struct trap *t, int fd)
{
	epoll_ctl(t->epfd, EPOLL_CTL_DEL, fd, NULL);
}

void loop_on(struct trap *t, int kind, loop_handler fn)
{
	t->handlers[kind] = fn;
}

/* A notification received: its task starts now, from the loop (call_serve
 * takes the time). */
static void serve_notification(struct trap *t, int listener, const struct seccomp_notif *n,
			       task_fn serve)
{
	if (t->stats)
		t->stats->recv_ns = latency_now_ns();
	if (task_spawn(t, serve, n, NULL) < 0) {
		struct seccomp_notif_resp resp = {.id = n->id, .error = -ENOMEM};

		ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp);
	}
}

void loop_serve_listener(struct trap *t, int listener, task_fn serve)
{
	struct seccomp_notif n;

	memset(&n, 0, sizeof(n));
	if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &n) < 0) {
		/* ENOENT: the target gave up the call (killed, signalled). */
		if (errno != ENOENT && errno != EINTR)
			fprintf(stderr, "coda-exec: receiving a notification: %s\n",
				strerror(errno));
		return;
	}
	serve_notification(t, listener, &n, serve);
}

static void on_event(struct trap *t, const struct epoll_event *ev)
{
	int kind = (int)(ev->data.u64 >> 32);
	pid_t pid = (pid_t)(uint32_t)ev->data.u64;

	switch (kind) {
	case EV_LISTENER:
		if (ev->events & EPOLLIN) {
			loop_serve_listener(t, t->listener, call_serve);
		} else if (ev->events & EPOLLHUP) {
			loop_remove(t, t->listener); /* no task of ours is left */
			t->tree_gone = true;
		}
		break;
	default:
		if (kind > 0 && kind < EV_KINDS && t->handlers[kind])
			t->handlers[kind](t, pid, ev->events);
		break;
	}
}

/* The soonest of two deadlines, either of which may be none (-1). */
static int sooner(int a, int b)
{
	return a < 0 || (b >= 0 && b < a) ? b : a;
}

int loop_on_deadline(struct trap *t, loop_deadline fn)
{
	for (int i = 0; i < LOOP_DEADLINES; i++) {
		if (!t->deadlines[i]) {
			t->deadlines[i] = fn;
			return 0;
		}
	}
	return -ENOSPC;
}

/* Calls served from the idle wait before the loop looks at its other
 * events once: the exits of the tree's processes come only through those,
 * and a process table that kept every exited process of a build until it
 * paused grew by 21 KiB per process (4,000 /bin/true: 85 MiB). */
#define IDLE_SERVES_PER_LOOK 64

/* Nothing but the command's next call can need the loop: no task waits,
 * no deadline is kept, and the layers above say so. */
static bool idle(struct trap *t, int timeout)
{
	return timeout < 0 && t->signals.wr >= 0 && t->listener >= 0 && t->tasks.live == 0 &&
	       !t->tree_gone && t->ops->quiet && t->ops->quiet(t);
}

/* epoll_wait, but polled a while first when an answer is due (an upcall
 * in flight: venus answers within microseconds, proto/poll_first.h). */
static int wait_events(struct trap *t, struct epoll_event *evs, int max, int timeout)
{
	bool due = t->ops->answer_due && t->ops->answer_due(t);

	return poll_epoll_wait(t->epfd, evs, max, timeout, due ? POLL_BUSY_NS : 0);
}

/* One round: waits for events (or the next deadline) and serves them. */
static int loop_once(struct trap *t)
{
	struct epoll_event evs[32];
	int timeout = -1, n;

	for (int i = 0; i < LOOP_DEADLINES && t->deadlines[i]; i++)
		timeout = sooner(timeout, t->deadlines[i](t));
	if (t->idle_served < IDLE_SERVES_PER_LOOK && idle(t, timeout) &&
	    signals_recv_idle(t) == 1) {
		t->idle_served++;
		serve_notification(t, t->listener, &t->signals.recv_notif, call_serve);
		task_run_ready(t);
		return 0;
	}
	t->idle_served = 0;
	signals_seen(t);
	n = wait_events(t, evs, 32, timeout);

	if (n < 0 && errno != EINTR) {
		fprintf(stderr, "coda-exec: epoll_wait: %s\n", strerror(errno));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		on_event(t, &evs[i]);
		task_run_ready(t);
	}
	return 0;
}

int loop_run_until(struct trap *t, bool (*done)(struct trap *t))
{
	while (!done(t))
		if (loop_once(t) < 0)
			return -1;
	return 0;
}
