#include <stdio.h>
#include <string.h>

#include "trace.h"

/* The opcode as codacon names it, without the CODA_ prefix. */
static const char *short_name(uint32_t opcode)
{
	const char *name = coda_opcode_name(opcode);

	return strncmp(name, "CODA_", 5) ? name : name + 5;
}

void coda_trace_format(const struct coda_msg *m, char *buf, size_t len)
{
	char what[CODA_DESCRIBE_LEN];

	coda_msg_describe(m, false, what, sizeof(what));
	snprintf(buf, len, "upcall %u %s uid=%u pid=%d%s", m->ih.unique, short_name(m->ih.opcode),
		 m->ih.uid, m->ih.pid, what);
}

void coda_trace_upcall(struct coda_sb *sb, const char *line, int rc, int64_t sent_ns)
{
	const char *err = rc < 0 ? strerrorname_np(-rc) : NULL;

	fprintf(sb->log, "coda-exec: trace: %s -> %s (%.1f us)\n", line,
		rc == 0 ? "0"
		: err	? err
			: "?",
		(double)(latency_now_ns() - sent_ns) / 1000.0);
}

void coda_trace_downcall(struct coda_sb *sb, const struct coda_msg *m)
{
	char what[CODA_DESCRIBE_LEN];

	coda_msg_describe(m, true, what, sizeof(what));
	fprintf(sb->log, "coda-exec: trace: downcall %s%s\n", short_name(m->oh.opcode), what);
}

void coda_trace_signal(struct coda_sb *sb, uint32_t unique)
{
	fprintf(sb->log, "coda-exec: trace: upcall %u SIGNAL (its caller has gone)\n", unique);
}
