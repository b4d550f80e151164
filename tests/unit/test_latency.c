/* The latency histogram of --stats (proto/latency.c): known samples give
 * known percentiles, within the bucket resolution the header states. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "latency.h"

#define US 1000 /* ns */

/* Within 1/16 of want: half a bucket, at most 1/8 of its lower bound. */
static void assert_near(double got_us, double want_us)
{
	cr_assert(got_us >= want_us * 15 / 16 && got_us <= want_us * 17 / 16,
		  "got %.3f us, want %.3f us within 1/16", got_us, want_us);
}

Test(latency, empty_histogram_has_no_percentile)
{
	struct latency_hist h = {0};

	cr_assert_eq(latency_percentile_us(&h, 50), -1);
	cr_assert_eq(latency_percentile_us(&h, 99), -1);
}

Test(latency, one_sample_is_every_percentile)
{
	struct latency_hist h = {0};

	latency_add(&h, 10 * US);
	cr_assert_eq(h.count, 1);
	/* 10,000 ns is in [9,216, 10,240): its middle is 9,728 ns. */
	cr_assert_float_eq(latency_percentile_us(&h, 50), 9.728, 1e-9);
	cr_assert_float_eq(latency_percentile_us(&h, 99), 9.728, 1e-9);
}

Test(latency, one_to_a_hundred_us_give_fifty_and_ninety_nine)
{
	struct latency_hist h = {0};

	for (int i = 100; i >= 1; i--)
		latency_add(&h, i * US);
	assert_near(latency_percentile_us(&h, 50), 50);
	assert_near(latency_percentile_us(&h, 99), 99);
	assert_near(latency_percentile_us(&h, 100), 100);
}

Test(latency, a_slow_tail_shows_in_p99_not_in_p50)
{
	struct latency_hist h = {0};

	for (int i = 0; i < 98; i++)
		latency_add(&h, 40 * US);
	latency_add(&h, 5000 * US);
	latency_add(&h, 5000 * US);
	assert_near(latency_percentile_us(&h, 50), 40);
	/* Rank 99 of 100 is the first slow one. */
	assert_near(latency_percentile_us(&h, 99), 5000);
}

Test(latency, p99_rank_is_rounded_up)
{
	struct latency_hist h = {0};

	/* 150 samples: rank ceil(148.5) = 149 is the first slow one. */
	for (int i = 0; i < 148; i++)
		latency_add(&h, 20 * US);
	latency_add(&h, 800 * US);
	latency_add(&h, 800 * US);
	assert_near(latency_percentile_us(&h, 99), 800);
}

Test(latency, out_of_range_samples_fall_in_the_end_buckets)
{
	struct latency_hist h = {0};

	latency_add(&h, 0);
	latency_add(&h, 300);
	cr_assert_float_eq(latency_percentile_us(&h, 50), 1.088, 1e-9);
	latency_add(&h, (int64_t)1000 * 1000 * 1000 * 1000); /* 1,000 s */
	latency_add(&h, (int64_t)1000 * 1000 * 1000 * 1000);
	latency_add(&h, (int64_t)1000 * 1000 * 1000 * 1000);
	/* The last bucket: [128 s, 137 s). */
	assert_near(latency_percentile_us(&h, 99), 132.0e6);
}

static int by_value(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

Test(latency, random_samples_agree_with_the_sorted_ones)
{
	enum { N = 10000 };
	static int64_t v[N];
	struct latency_hist h = {0};

	srand(14);
	for (int i = 0; i < N; i++) {
		/* 1 us to about 100 s, spread over the powers of two. */
		v[i] = (int64_t)US << (rand() % 26);
		v[i] += rand() % v[i];
		latency_add(&h, v[i]);
	}
	qsort(v, N, sizeof(v[0]), by_value);
	assert_near(latency_percentile_us(&h, 50), (double)v[N / 2 - 1] / US);
	assert_near(latency_percentile_us(&h, 99), (double)v[N * 99 / 100 - 1] / US);
}
