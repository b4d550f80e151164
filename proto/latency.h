/* Latencies in bounded memory, for --stats: a histogram of 8 linear
 * sub-buckets per power of two of nanoseconds, from 2^10 ns (1.0 us) to
 * 2^37 ns (137 s); a latency below falls in the first bucket, one above in
 * the last. A percentile is read off as the middle of its bucket, so inside
 * that range it is within 1/16 (6.25%) of the sample at that rank: a bucket
 * is at most 1/8 as wide as its lower bound. Both the Coda module (upcalls)
 * and the trap (syscalls) keep them. */
#ifndef CODA_LATENCY_H
#define CODA_LATENCY_H

#include <stdint.h>
#include <time.h>

#define LATENCY_SUB_BITS  3  /* 8 sub-buckets per power of two */
#define LATENCY_MIN_SHIFT 10 /* 1,024 ns */
#define LATENCY_MAX_SHIFT 37 /* 137 s */
#define LATENCY_BUCKETS	  ((LATENCY_MAX_SHIFT - LATENCY_MIN_SHIFT) << LATENCY_SUB_BITS)

struct latency_hist {
	uint64_t count;
	uint32_t bucket[LATENCY_BUCKETS];
};

/* The monotonic clock in ns: where a latency starts and ends. */
static inline int64_t latency_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Counts one latency of ns nanoseconds. */
void latency_add(struct latency_hist *h, int64_t ns);

/* The pct-th percentile (1 to 100) in microseconds: the middle of the
 * bucket holding the sample of rank ceil(pct% of count). -1 if h is empty. */
double latency_percentile_us(const struct latency_hist *h, unsigned pct);

#endif
