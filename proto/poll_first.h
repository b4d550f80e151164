/* Waiting that polls a while before it sleeps. Where CPUs idle in a
 * hypervisor, waking a process that sleeps on the other CPU costs more
 * than the wait for what it waits for: a SOCK_SEQPACKET round trip between
 * two CPUs took 44-66 us with both ends asleep and 4 us with both polling
 * on the machine this was measured on. Each waiter polls where the next
 * message is likely to come soon (an answer is due, or the peer usually
 * speaks again at once): for POLL_NS, or POLL_BUSY_NS where that is more
 * likely still, so a poll costs at most that much of a CPU that would
 * otherwise halt. */
#ifndef CODA_PROTO_POLL_FIRST_H
#define CODA_PROTO_POLL_FIRST_H

#include <sys/epoll.h>

#define POLL_NS 30000

/* How long a waiter polls while what it waits for comes within that
 * (venus: its upcalls come close together; the supervisor: an answer is
 * due). Where a wake of a process that sleeps costs 15-25 us, a wait of
 * 30 to 150 us (39% of venus's in a tar x, which does something between
 * its calls, and a store's answer) is cheaper polled. */
#define POLL_BUSY_NS 200000

/* Calls try_once(arg) until it returns something else than `nothing`, or
 * until poll_ns have passed, yielding the CPU between tries; its last
 * result (`nothing` when the time ran out first). */
int poll_first(int (*try_once)(void *arg), void *arg, int nothing, long poll_ns);

/* epoll_wait, polled for poll_ns first (epoll_wait with no timeout) unless
 * timeout is 0. */
int poll_epoll_wait(int ep, struct epoll_event *evs, int max, int timeout, long poll_ns);

#endif
