/* What a Coda message names, for a line of a log: its fids and names.
 * Both ends use it (venus's -v lines, the supervisor's --trace). Nothing in
 * the message is trusted: a field outside it is left out, a bad name shown
 * as "(bad)". */
#ifndef CODA_DESCRIBE_H
#define CODA_DESCRIBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "msg.h"

/* A fid as venus and the kernel print one: four 32-bit words in hex. */
#define CODA_FID_STR_LEN 40
void coda_fid_format(const struct CodaFid *fid, char *buf, size_t len);

/* Room for the longest description: two fids and two names. */
#define CODA_DESCRIBE_LEN (2 * (CODA_FID_STR_LEN + CODA_MAXNAMLEN + 8))

/* " fid=F name=N ..." for an upcall (the objects and names it is about), or
 * for a downcall from venus; "" for one that names none. */
void coda_msg_describe(const struct coda_msg *m, bool downcall, char *buf, size_t len);

/* The fids an upcall is about (that lie inside it), at most 2, into fids:
 * how many. */
int coda_msg_upcall_fids(const struct coda_msg *m, struct CodaFid fids[2]);
/* The fid a successful reply to opcode hands out (ROOT, LOOKUP, CREATE,
 * MKDIR, VGET): true and *fid, or false. */
bool coda_msg_reply_fid(const struct coda_msg *m, uint32_t opcode, struct CodaFid *fid);

/* The lines of --trace, as Coda's codacon shows the traffic: opcode, the
 * objects and names, the caller's uid and pid, venus's answer and how long
 * it took. `who` (may be NULL) names the job, for a server's. */
#define CODA_TRACE_LEN (CODA_DESCRIBE_LEN + 96)
/* The upcall in m, about to go: its line up to the answer, in buf. */
void coda_trace_format(const struct coda_msg *m, char *buf, size_t len);
/* Its answer has come (err: 0 or a positive errno), sent_ns after it went. */
void coda_trace_answer(FILE *log, const char *who, const char *line, int err, int64_t sent_ns);
/* A downcall from venus; a CODA_SIGNAL for a caller that has gone. */
void coda_trace_downcall(FILE *log, const char *who, const struct coda_msg *m);
void coda_trace_signal(FILE *log, const char *who, uint32_t unique);

#endif
