/* The channel's counts for --stats, kept by opcode. Opcodes are checked:
 * a downcall's comes from venus. */
#include <errno.h>
#include <stdlib.h>

#include "stats.h"

int coda_stats_enable(struct coda_sb *sb)
{
	sb->vc.stats = calloc(1, sizeof(*sb->vc.stats));
	return sb->vc.stats ? 0 : -ENOMEM;
}

void coda_stats_sent(struct coda_stats *st, uint32_t opcode)
{
	if (opcode < CODA_NCALLS)
		st->sent[opcode]++;
}

void coda_stats_replied(struct coda_stats *st, uint32_t opcode, int64_t sent_ns)
{
	if (opcode < CODA_NCALLS)
		latency_add(&st->replied[opcode], latency_now_ns() - sent_ns);
}

void coda_stats_shared(struct coda_stats *st, uint32_t opcode)
{
	if (opcode < CODA_NCALLS)
		st->shared[opcode]++;
}

void coda_stats_downcall(struct coda_stats *st, uint32_t opcode)
{
	if (opcode < CODA_NCALLS)
		st->downcalls[opcode]++;
}

void coda_stats_free(struct coda_sb *sb)
{
	free(sb->vc.stats);
	sb->vc.stats = NULL;
}
