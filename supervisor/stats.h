/* --stats: what a run counted, printed at its end on the log: each upcall
 * opcode's and downcall's count (the Coda module's channel), each trapped
 * call's (the trap), with p50/p99 latencies, and the peak RSS of the
 * supervisor and of venus. */
#ifndef CODA_RUN_STATS_H
#define CODA_RUN_STATS_H

#include <stdio.h>
#include <sys/resource.h>
#include <sys/types.h>

struct sup;

/* Counting starts in the Coda module and the trap. 0 or -ENOMEM. */
int stats_enable(struct sup *s);

/* Our child pid has been reaped, having used ru: venus's peak RSS is kept. */
void stats_reaped(struct sup *s, pid_t pid, const struct rusage *ru);

/* The rows, on out: a header, then upcalls, downcalls, syscalls and
 * memory, each kind by count, the highest first. */
void stats_print(const struct sup *s, FILE *out);

#endif
