/* What --stats counts on the channel (struct coda_stats): psdev.c calls
 * these only when vc->stats is set, so that counting off costs a branch. */
#ifndef CODA_STATS_H
#define CODA_STATS_H

#include "coda.h"

/* An upcall has gone to venus. */
void coda_stats_sent(struct coda_stats *st, uint32_t opcode);
/* The reply of an upcall written at sent_ns has been read. */
void coda_stats_replied(struct coda_stats *st, uint32_t opcode, int64_t sent_ns);
/* An upcall was answered from the server's shared table. */
void coda_stats_shared(struct coda_stats *st, uint32_t opcode);
/* A downcall has come from venus. */
void coda_stats_downcall(struct coda_stats *st, uint32_t opcode);
void coda_stats_free(struct coda_sb *sb);

#endif
