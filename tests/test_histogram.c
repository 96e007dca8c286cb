/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Histogram: its percentiles match exact ones from sorted samples within the
 * stated 1/128 over several distributions; bucket bounds tile the range;
 * merge and snapshot-subtract give the histogram of the union / the
 * difference; a reader copying while the writer records sees consistent copies.
 */
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include <zcsign/histogram.h>

#define N 200000

static uint64_t samples[N];
static struct zcs_hist h, h2, h3;
static uint64_t rng = 88172645463325252ULL;

static uint64_t
xorshift(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static double
unit(void)
{
	return ((double)(xorshift() >> 11) + 0.5) / 9007199254740992.0;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Exact quantile: the smallest sample with a fraction q of samples at or below it. */
static uint64_t
exact(const uint64_t *sorted, size_t n, double q)
{
	size_t rank = (size_t)ceil(q * (double)n);

	if (rank == 0)
		rank = 1;
	return sorted[rank - 1];
}

static void
check_against_exact(uint64_t *v, size_t n, const char *what)
{
	static const double qs[] = {0.0001, 0.01, 0.25, 0.5, 0.9, 0.99, 0.999, 0.9999};
	struct zcs_hist_summary s;

	zcs_hist_init(&h);
	for (size_t i = 0; i < n; i++)
		zcs_hist_record(&h, v[i]);
	qsort(v, n, sizeof(*v), cmp_u64);
	assert_int_equal(h.count, n);
	assert_true(h.min == v[0]);
	assert_true(h.max == v[n - 1]);
	for (size_t k = 0; k < sizeof(qs) / sizeof(qs[0]); k++) {
		uint64_t want = exact(v, n, qs[k]);
		uint64_t got = zcs_hist_quantile(&h, qs[k]);
		double err = fabs((double)got - (double)want);

		if (err > (double)want / 128.0)
			fail_msg("%s: q=%g exact %llu histogram %llu (error %.3f%% > 0.79%%)", what,
				qs[k], (unsigned long long)want, (unsigned long long)got,
				100.0 * err / (double)want);
	}
	zcs_hist_summarize(&s, &h);
	assert_true(s.p50 == zcs_hist_quantile(&h, 0.5));
	assert_true(s.p9999 == zcs_hist_quantile(&h, 0.9999));
	assert_true(s.p50 <= s.p90 && s.p90 <= s.p99 && s.p99 <= s.p999 && s.p999 <= s.p9999);
	assert_true(s.p9999 <= s.max && s.min <= s.p50);
	assert_true(zcs_hist_quantile(&h, 0) == v[0]);
	assert_true(zcs_hist_quantile(&h, 1) == v[n - 1]);
}

static void
uniform(void **state)
{
	(void)state;
	for (size_t i = 0; i < N; i++)
		samples[i] = xorshift() % 1000000;
	check_against_exact(samples, N, "uniform");
}

static void
exponential(void **state)
{
	(void)state;
	for (size_t i = 0; i < N; i++)
		samples[i] = (uint64_t)(-log(unit()) * 20000.0);
	check_against_exact(samples, N, "exponential");
}

static void
lognormal(void **state)
{
	(void)state;
	for (size_t i = 0; i < N; i++) {
		double z = sqrt(-2 * log(unit())) * cos(2 * M_PI * unit());
		samples[i] = (uint64_t)exp(10.0 + 1.5 * z);
	}
	check_against_exact(samples, N, "lognormal");
}

static void
bimodal_tail(void **state)
{
	/* a signer: 99 % near 20 us, 1 % stalls near 1-5 ms */
	(void)state;
	for (size_t i = 0; i < N; i++)
		samples[i] = (xorshift() % 100 == 0) ? 1000000 + xorshift() % 4000000
						     : 19000 + xorshift() % 2000;
	check_against_exact(samples, N, "bimodal");
}

static void
small_values_exact(void **state)
{
	(void)state;
	zcs_hist_init(&h);
	for (uint64_t v = 0; v < 128; v++)
		zcs_hist_record(&h, v);
	for (uint64_t v = 0; v < 128; v++)
		assert_true(zcs_hist_quantile(&h, (double)(v + 1) / 128.0) == v);
	for (size_t i = 0; i < N; i++)
		samples[i] = xorshift() % 300;
	check_against_exact(samples, N, "small");
}

static void
huge_values_clamped_max_exact(void **state)
{
	(void)state;
	zcs_hist_init(&h);
	zcs_hist_record(&h, 5);
	zcs_hist_record(&h, UINT64_C(1) << 50);
	assert_true(h.max == UINT64_C(1) << 50);
	assert_int_equal(zcs_hist_index(UINT64_C(1) << 50), ZCS_HIST_BUCKETS - 1);
	assert_true(zcs_hist_quantile(&h, 1.0) == UINT64_C(1) << 50);
	assert_true(zcs_hist_quantile(&h, 0.99) == UINT64_C(1) << 50);
	assert_true(zcs_hist_quantile(&h, 0.5) == 5);
}

static void
buckets_tile_the_range(void **state)
{
	(void)state;
	assert_int_equal(zcs_hist_bucket_low(0), 0);
	for (unsigned int i = 0; i < ZCS_HIST_BUCKETS; i++) {
		uint64_t lo = zcs_hist_bucket_low(i), hi = zcs_hist_bucket_high(i);

		assert_true(lo <= hi);
		assert_int_equal(zcs_hist_index(lo), i);
		assert_int_equal(zcs_hist_index(hi), i);
		if (i + 1 < ZCS_HIST_BUCKETS)
			assert_true(zcs_hist_bucket_low(i + 1) == hi + 1);
		/* width / lower bound <= 1/64: the midpoint is within 1/128 */
		if (lo > 0)
			assert_true((hi - lo + 1) * 64 <= lo || i < 128);
	}
	assert_true(zcs_hist_bucket_high(ZCS_HIST_BUCKETS - 1) == ZCS_HIST_MAX_VALUE);
}

static void
merge_equals_union(void **state)
{
	(void)state;
	zcs_hist_init(&h);
	zcs_hist_init(&h2);
	zcs_hist_init(&h3);
	for (size_t i = 0; i < N; i++) {
		uint64_t v = (uint64_t)(-log(unit()) * 5000.0);

		zcs_hist_record(i % 2 ? &h : &h2, v);
		zcs_hist_record(&h3, v);
	}
	zcs_hist_add(&h, &h2);
	assert_memory_equal(h.buckets, h3.buckets, sizeof(h.buckets));
	assert_true(h.count == h3.count && h.sum == h3.sum);
	assert_true(h.min == h3.min && h.max == h3.max);
}

static void
snapshot_subtract_is_a_reset(void **state)
{
	static struct zcs_hist base, now, diff, fresh;

	(void)state;
	zcs_hist_init(&h);
	zcs_hist_init(&fresh);
	for (size_t i = 0; i < N / 2; i++)
		zcs_hist_record(&h, 1000000 + xorshift() % 1000); /* before the "reset" */
	zcs_hist_snapshot(&base, &h);
	for (size_t i = 0; i < N / 2; i++) {
		uint64_t v = 20000 + xorshift() % 5000;

		zcs_hist_record(&h, v);
		zcs_hist_record(&fresh, v);
	}
	zcs_hist_snapshot(&now, &h);
	zcs_hist_sub(&diff, &now, &base);
	assert_true(diff.count == N / 2);
	assert_memory_equal(diff.buckets, fresh.buckets, sizeof(diff.buckets));
	assert_true(zcs_hist_quantile(&diff, 0.99) == zcs_hist_quantile(&fresh, 0.99));
	/* the old 1 ms values are gone from the max, and the bounds hold the true ones */
	assert_true(diff.max < 30000 && diff.max >= fresh.max);
	assert_true(diff.min <= fresh.min);

	zcs_hist_sub(&diff, &now, &now);
	assert_true(diff.count == 0);
	assert_true(zcs_hist_quantile(&diff, 0.5) == 0);
}

static volatile int writer_done;

static void *
writer(void *arg)
{
	(void)arg;
	for (int i = 0; i < 2000000; i++)
		zcs_hist_record(&h, (uint64_t)i & 0xfffff);
	writer_done = 1;
	return NULL;
}

static void
reader_copies_while_writer_records(void **state)
{
	static struct zcs_hist snap;
	pthread_t t;
	uint64_t last = 0;
	int copies = 0;

	(void)state;
	zcs_hist_init(&h);
	writer_done = 0;
	assert_int_equal(pthread_create(&t, NULL, writer, NULL), 0);
	while (!writer_done || copies == 0) {
		uint64_t sum = 0;

		zcs_hist_snapshot(&snap, &h);
		for (unsigned int i = 0; i < ZCS_HIST_BUCKETS; i++)
			sum += snap.buckets[i];
		assert_true(sum == snap.count);
		assert_true(snap.count >= last); /* counts only grow */
		last = snap.count;
		copies++;
	}
	pthread_join(t, NULL);
	zcs_hist_snapshot(&snap, &h);
	assert_true(snap.count == 2000000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(uniform),
		cmocka_unit_test(exponential),
		cmocka_unit_test(lognormal),
		cmocka_unit_test(bimodal_tail),
		cmocka_unit_test(small_values_exact),
		cmocka_unit_test(huge_values_clamped_max_exact),
		cmocka_unit_test(buckets_tile_the_range),
		cmocka_unit_test(merge_equals_union),
		cmocka_unit_test(snapshot_subtract_is_a_reset),
		cmocka_unit_test(reader_copies_while_writer_records),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
