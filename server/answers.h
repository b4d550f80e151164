/* Venus's answers to LOOKUP, GETATTR and ACCESS, kept for every job: the
 * names, attributes and access rights one job learned answer the next
 * job's upcalls with no round trip to venus. They are kept true as the
 * kernel's caches are, by downcalls: venus's own, and the ZAPDIR and
 * ZAPFILE the relay makes of every job's changes. Venus answers one upcall
 * after another, so an answer taken in before a change's is dropped by it,
 * and one taken in after it is fresh.
 *
 * They are kept per uid, in a table of shared memory (proto/shtable.h)
 * that every job of that uid maps and reads itself: a job must never read
 * what another uid looked up. An answer is dropped from the table before
 * the relay sends anyone the reply or downcall of the change that drops
 * it. */
#ifndef CODA_SERVER_ANSWERS_H
#define CODA_SERVER_ANSWERS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "proto/shtable.h"

struct answers;
/* One uid's: its table, and the fids venus has handed its connections. */
struct user;

int answers_new(struct answers **ap);
void answers_free(struct answers *a);

/* The record of uid, made the first time one of its jobs connects, kept
 * while the server lives. 0 and *up, or -ENOMEM. */
int answers_user(struct answers *a, uid_t uid, struct user **up);
/* The memfd of u's table, for its jobs to map; -1 if it has none (it
 * could not be made: its answers are then not kept). */
int answers_table_fd(const struct user *u);

/* The answer kept for key, copied into out: true, or false. */
bool answers_find(const struct user *u, const unsigned char *key, size_t len, struct coda_msg *out);
/* Venus's reply to u's upcall of key: kept if it is an answer that holds
 * until a change (a success, a missing name, a denial); a full set of
 * the table drops its oldest. */
void answers_keep(struct answers *a, struct user *u, const unsigned char *key, size_t len,
		  const struct coda_msg *reply);
/* A downcall, venus's or made of a job's change: what it says may have
 * changed is dropped in every uid's table (ZAPFILE: the object's
 * attributes and rights; ZAPDIR and PURGEFID: its names too). */
void answers_zap(struct answers *a, uint32_t opcode, const struct CodaFid *fid);
/* CODA_FLUSH, CODA_PURGEUSER, CODA_REPLACE: nothing kept holds any more. */
void answers_flush(struct answers *a);

/* The fids u may name: those venus handed any of its connections (ROOT,
 * LOOKUP, CREATE, MKDIR, VGET), as a kernel names only objects it has
 * found; per uid, since its jobs read one table of answers. user_give is
 * -ENOMEM when it cannot be recorded. */
int user_give(struct user *u, const struct CodaFid *fid);
bool user_was_given(const struct user *u, const struct CodaFid *fid);
/* Every uid that was handed old is handed new (a CODA_REPLACE). */
void answers_replace(struct answers *a, const struct CodaFid *old, const struct CodaFid *new);

#endif
