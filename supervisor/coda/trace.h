/* --trace: every upcall and downcall as it happens, as Coda's codacon shows
 * them: opcode, the objects and names it is about, the caller's uid and
 * pid, venus's answer and how long it took. psdev.c calls these only when
 * sb->trace is set. */
#ifndef CODA_TRACE_H
#define CODA_TRACE_H

#include "coda.h"
#include "proto/describe.h"

/* Room for what an upcall's line says before its answer. */
#define CODA_TRACE_LEN (CODA_DESCRIBE_LEN + 96)

/* The upcall in m, about to go: its line up to the answer, in buf. */
void coda_trace_format(const struct coda_msg *m, char *buf, size_t len);
/* Its answer has come (rc: 0 or -errno), sent_ns after it went. */
void coda_trace_upcall(struct coda_sb *sb, const char *line, int rc, int64_t sent_ns);
/* A downcall from venus, or a CODA_SIGNAL to it for a caller gone. */
void coda_trace_downcall(struct coda_sb *sb, const struct coda_msg *m);
void coda_trace_signal(struct coda_sb *sb, uint32_t unique);

#endif
