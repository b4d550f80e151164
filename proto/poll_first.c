#include <sched.h>
#include "latency.h"
#include "poll_first.h"

int poll_first(int (*try_once)(void *arg), void *arg, int nothing, long poll_ns)
{
	int64_t end = latency_now_ns() + poll_ns;
	int got = nothing;

	while (got == nothing && latency_now_ns() < end) {
		got = try_once(arg);
		if (got == nothing)
			sched_yield(); /* to a task with work on this CPU, if any */
	}
	return got;
}

struct epoll_args {
	int ep;
	struct epoll_event *evs;
	int max;
};

static int epoll_now(void *arg)
{
	const struct epoll_args *a = arg;

	return epoll_wait(a->ep, a->evs, a->max, 0);
}

int poll_epoll_wait(int ep, struct epoll_event *evs, int max, int timeout, long poll_ns)
{
	struct epoll_args a = {ep, evs, max};
	int n = timeout == 0 ? 0 : poll_first(epoll_now, &a, 0, poll_ns);

	return n != 0 ? n : epoll_wait(ep, evs, max, timeout);
}
