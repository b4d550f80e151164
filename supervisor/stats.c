/* The rows of --stats, in the format bench/run.sh reads:
 *   coda-exec: stats: KIND NAME COUNT P50_US P99_US
 * with "-" for a latency not measured, and no row for a count of 0. */
#include <inttypes.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"
#include "syscalls/syscalls.h"

#define PREFIX "coda-exec: stats: "

struct row {
	char name[32];
	uint64_t count;
	const struct latency_hist *lat; /* NULL: not measured */
};

int stats_enable(struct sup *s)
{
	int rc = coda_stats_enable(&s->sb);

	return rc ? rc : trap_stats_enable(&s->trap);
}

void stats_reaped(struct sup *s, pid_t pid, const struct rusage *ru)
{
	/* A hosted venus forked by a shell may be reaped by us or by it (a
	 * shell's usage then includes it). */
	if (!s->opt.stats || (pid != s->venus_pid && pid != s->hosted.pid))
		return;
	if (ru->ru_maxrss > s->venus_maxrss_kib)
		s->venus_maxrss_kib = ru->ru_maxrss;
}

static void add_row(struct row *rows, size_t *n, const char *name, uint64_t count,
		    const struct latency_hist *lat)
{
	struct row *r = &rows[(*n)++];

	snprintf(r->name, sizeof(r->name), "%s", name);
	r->count = count;
	r->lat = lat;
}

static int by_count(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return strcmp(x->name, y->name);
}

static void print_rows(FILE *out, const char *kind, struct row *rows, size_t n)
{
	qsort(rows, n, sizeof(*rows), by_count);
	for (size_t i = 0; i < n; i++) {
		const struct latency_hist *h = rows[i].lat;

		fprintf(out, PREFIX "%s %s %" PRIu64, kind, rows[i].name, rows[i].count);
		if (h && h->count)
			fprintf(out, " %.1f %.1f\n", latency_percentile_us(h, 50),
				latency_percentile_us(h, 99));
		else
			fputs(" - -\n", out);
	}
}

/* Upcalls, downcalls and upcalls answered from a server's shared table
 * with no message, named without the CODA_ prefix. */
static void print_channel(FILE *out, const struct coda_stats *st)
{
	struct row up[CODA_NCALLS], down[CODA_NCALLS], shared[CODA_NCALLS];
	size_t nup = 0, ndown = 0, nshared = 0;

	for (uint32_t op = 0; op < CODA_NCALLS; op++) {
		const char *name = coda_opcode_name(op) + strlen("CODA_");

		if (st->sent[op])
			add_row(up, &nup, name, st->sent[op], &st->replied[op]);
		if (st->downcalls[op])
			add_row(down, &ndown, name, st->downcalls[op], NULL);
		if (st->shared[op])
			add_row(shared, &nshared, name, st->shared[op], NULL);
	}
	print_rows(out, "upcall", up, nup);
	print_rows(out, "shared", shared, nshared);
	print_rows(out, "downcall", down, ndown);
}

static void print_calls(FILE *out, const struct trap_stats *st)
{
	struct row rows[TRAP_STATS_NRS];
	size_t n = 0;

	for (int nr = 0; nr < TRAP_STATS_NRS; nr++) {
		char *name, number[16];

		if (!st->calls[nr].count)
			continue;
		name = seccomp_syscall_resolve_num_arch(st->arch, nr);
		snprintf(number, sizeof(number), "%d", nr);
		add_row(rows, &n, name ? name : number, st->calls[nr].count, &st->calls[nr]);
		free(name);
	}
	print_rows(out, "syscall", rows, n);
}

static void print_memory(FILE *out, const struct sup *s)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) == 0)
		fprintf(out, PREFIX "memory supervisor_maxrss_kib %ld - -\n", ru.ru_maxrss);
	if (s->venus_maxrss_kib > 0)
		fprintf(out, PREFIX "memory venus_maxrss_kib %ld - -\n", s->venus_maxrss_kib);
}

void stats_print(const struct sup *s, FILE *out)
{
	fputs(PREFIX "kind name count p50_us p99_us\n", out);
	print_channel(out, s->sb.vc.stats);
	print_calls(out, s->trap.stats);
	print_memory(out, s);
	fflush(out);
}
