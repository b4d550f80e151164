/* Venus's answers to LOOKUP, GETATTR and ACCESS, kept for every job: the
 * names, attributes and access rights one job learned answer the next
 * job's upcalls with no round trip to venus. They are kept true as the
 * kernel's caches are, by downcalls: venus's own, and the ZAPDIR and
 * ZAPFILE the relay makes of every job's changes. Venus answers one upcall
 * after another, so an answer taken in before a change's is dropped by it,
 * and one taken in after it is fresh. */
#ifndef CODA_SERVER_ANSWERS_H
#define CODA_SERVER_ANSWERS_H

#include <stdbool.h>
#include <stddef.h>

#include "proto/msg.h"

/* At most this many answers are kept; a full table drops its oldest. */
#define ANSWERS_MAX 32768
/* The longest key: opcode, fid, uid, flags and a name. */
#define ANSWER_KEY_MAX (4 + sizeof(struct CodaFid) + 8 + CODA_MAXNAMLEN)

struct answers;

int answers_new(struct answers **ap);
void answers_free(struct answers *a);

/* The key of upcall m if its answer may be kept (a LOOKUP, GETATTR or
 * ACCESS): its length, or 0. */
size_t answers_key(const struct coda_msg *m, unsigned char key[ANSWER_KEY_MAX]);
/* The answer kept for key, copied into out: true, or false. */
bool answers_find(struct answers *a, const unsigned char *key, size_t len, struct coda_msg *out);
/* Venus's reply to the upcall of key: kept if it is an answer that holds
 * until a change (a success, a missing name, a denial). */
void answers_keep(struct answers *a, const unsigned char *key, size_t len,
		  const struct coda_msg *reply);
/* A downcall, venus's or made of a job's change: what it says may have
 * changed is dropped (ZAPFILE: the object's attributes and rights; ZAPDIR
 * and PURGEFID: its names too). */
void answers_zap(struct answers *a, uint32_t opcode, const struct CodaFid *fid);
/* CODA_FLUSH, CODA_PURGEUSER: nothing kept holds any more. */
void answers_flush(struct answers *a);

#endif
