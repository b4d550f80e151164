/* The command's trapped calls counted for --stats: call.c reports each
 * answer when the call was timed (a notification of the command's
 * listener, with counting on). */
#include <errno.h>
#include <stdlib.h>

#include "trap.h"

int trap_stats_enable(struct trap *t)
{
	t->stats = calloc(1, sizeof(*t->stats));
	return t->stats ? 0 : -ENOMEM;
}

void trap_stats_answered(struct call *c)
{
	struct trap_stats *st = c->trap->stats;
	int nr = c->n->data.nr;

	if (nr < 0 || nr >= TRAP_STATS_NRS)
		return;
	st->arch = c->n->data.arch;
	latency_add(&st->calls[nr], latency_now_ns() - c->recv_ns);
}

void trap_stats_free(struct trap *t)
{
	free(t->stats);
	t->stats = NULL;
}
