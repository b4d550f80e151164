/* A scheduler for the Coda module's callers in a process that blocks on
 * each call (libcodaclient; unit-coda drives the module the same way): the
 * caller is this process, nothing interrupts it, and work nobody waits for
 * (a CODA_CLOSE) runs at once. How a caller sleeps, turning the channel's
 * loop until it is woken, is the user's. */
#ifndef CODA_CLIENT_BLOCKING_H
#define CODA_CLIENT_BLOCKING_H

#include <stdbool.h>

#include "coda/coda.h"

struct coda_waiter {
	bool woken; /* set by a wake; the sleep clears it */
};

/* Fills s; `sleep` returns once w->woken is set, and clears it. */
void blocking_sched_init(struct coda_sched *s, void (*sleep)(struct coda_waiter *w));

#endif
