#include "latency.h"

static unsigned bucket_of(int64_t ns)
{
	unsigned shift;

	if (ns < (int64_t)1 << LATENCY_MIN_SHIFT)
		return 0;
	shift = 63 - (unsigned)__builtin_clzll((uint64_t)ns);
	if (shift >= LATENCY_MAX_SHIFT)
		return LATENCY_BUCKETS - 1;
	/* The power of two, then the 3 bits below its leading one. */
	return ((shift - LATENCY_MIN_SHIFT) << LATENCY_SUB_BITS) |
	       ((unsigned)(ns >> (shift - LATENCY_SUB_BITS)) & ((1u << LATENCY_SUB_BITS) - 1));
}

/* The middle of bucket i, in ns. */
static double bucket_middle_ns(unsigned i)
{
	unsigned shift = LATENCY_MIN_SHIFT + (i >> LATENCY_SUB_BITS);
	unsigned sub = i & ((1u << LATENCY_SUB_BITS) - 1);
	double width = (double)((uint64_t)1 << (shift - LATENCY_SUB_BITS));

	return ((1u << LATENCY_SUB_BITS) + sub) * width + width / 2;
}

void latency_add(struct latency_hist *h, int64_t ns)
{
	h->bucket[bucket_of(ns)]++;
	h->count++;
}

double latency_percentile_us(const struct latency_hist *h, unsigned pct)
{
	uint64_t rank = (h->count * pct + 99) / 100, seen = 0;

	if (!h->count)
		return -1;
	for (unsigned i = 0; i < LATENCY_BUCKETS; i++) {
		seen += h->bucket[i];
		if (seen >= rank)
			return bucket_middle_ns(i) / 1000;
	}
	return bucket_middle_ns(LATENCY_BUCKETS - 1) / 1000;
}
