#include <unistd.h>

#include "blocking.h"

static void wake_waiter(struct coda_waiter *w)
{
	w->woken = true;
}

static bool never_interrupted(struct coda_waiter *w)
{
	(void)w;
	return false;
}

static int this_process(struct coda_waiter *w, struct coda_caller *who)
{
	(void)w;
	*who = (struct coda_caller){.pid = getpid(), .pgid = getpgrp(), .uid = geteuid()};
	return 0;
}

static int spawn_now(void *ctx, void (*fn)(struct coda_waiter *w, void *arg), void *arg)
{
	struct coda_waiter w = {0};

	(void)ctx;
	fn(&w, arg);
	return 0;
}

void blocking_sched_init(struct coda_sched *s, void (*sleep)(struct coda_waiter *w))
{
	*s = (struct coda_sched){
	    .sleep = sleep,
	    .wake = wake_waiter,
	    .wake_later = wake_waiter,
	    .interrupted = never_interrupted,
	    .caller = this_process,
	    .spawn = spawn_now,
	};
}
