#include <sched.h>
#include "latency.h"
#include "poll_first.h"

int poll_epoll_wait(int ep, struct epoll_event *evs, int max, int timeout, long poll_ns)
{
	int64_t end = latency_now_ns() + poll_ns;

	while (timeout != 0 && latency_now_ns() < end) {
		int n = epoll_wait(ep, evs, max, 0);

		if (n != 0)
			return n;
		sched_yield(); /* to a task with work on this CPU, if any */
	}
	return epoll_wait(ep, evs, max, timeout);
}
