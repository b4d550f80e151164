#include <errno.h>
#include <stdbool.h>

#include "trap.h"

struct fd_wait {
	struct task *task;
	pid_t tid;
	int listener;
	uint64_t notif_id;
	int64_t deadline_ms; /* 0: none */
	int64_t check_ms;
	int result; /* 1: waiting; 0 or -errno once over */
	struct fd_wait *next;
};

static void unlink_wait(struct trap *s, struct fd_wait *w)
{
	for (struct fd_wait **p = &s->fd_waits; *p; p = &(*p)->next) {
		if (*p == w) {
			*p = w->next;
			return;
		}
	}
}

int fdwait_readable(struct call *c, int fd, int64_t timeout_ms)
{
	struct trap *s = c->trap;
	int64_t now = loop_now_ms();
	struct fd_wait w = {
	    .task = c->task,
	    .tid = (pid_t)c->n->pid,
	    .listener = c->listener,
	    .notif_id = c->n->id,
	    .deadline_ms = timeout_ms > 0 ? now + timeout_ms : 0,
	    .check_ms = now + LOOP_SIGNAL_CHECK_MS,
	    .result = 1,
	};
	int rc = loop_add_oneshot(s, fd, EV_FDWAIT, w.tid);

	if (rc < 0)
		return rc;
	w.next = s->fd_waits;
	s->fd_waits = &w;
	while (w.result == 1)
		task_sleep(c->task);
	loop_remove(s, fd);
	return w.result;
}

void fdwait_ready(struct trap *s, pid_t tid)
{
	for (struct fd_wait *w = s->fd_waits; w; w = w->next) {
		if (w->tid == tid) {
			unlink_wait(s, w);
			w->result = 0;
			task_wake(w->task);
			return;
		}
	}
}

/* What ends w now, or 1 while nothing does. */
static int wait_outcome(struct fd_wait *w, int64_t now)
{
	if (w->deadline_ms && w->deadline_ms <= now)
		return -EAGAIN;
	if (w->check_ms > now)
		return 1;
	w->check_ms = now + LOOP_SIGNAL_CHECK_MS;
	if (!call_id_valid(w->listener, w->notif_id))
		return -EINTR;
	if (proc_signal_pending(w->tid))
		return w->deadline_ms ? -EINTR : -ERESTARTSYS;
	return 1;
}

static int64_t next_due(const struct fd_wait *w)
{
	return w->deadline_ms && w->deadline_ms < w->check_ms ? w->deadline_ms : w->check_ms;
}

int fdwait_expire(struct trap *s)
{
	struct fd_wait *w = s->fd_waits, *done = NULL, *next;
	int64_t now, wait = -1;

	if (!w)
		return -1; /* nothing to look at: no clock read per call served */
	now = loop_now_ms();

	for (; w; w = next) {
		next = w->next;
		w->result = wait_outcome(w, now);
		if (w->result != 1) {
			unlink_wait(s, w);
			w->next = done;
			done = w;
		} else if (wait < 0 || next_due(w) - now < wait) {
			wait = next_due(w) - now;
		}
	}
	/* Woken once the list is whole again: a woken task may wait anew. */
	for (w = done; w; w = next) {
		next = w->next;
		task_wake(w->task);
	}
	return (int)wait;
}
