/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Log-linear latency histograms: one writer, no locks, fixed size.
 *
 * Values (TSC cycles, ns: any unsigned unit) below 128 get a bucket each and
 * are exact. Above, every power of two [2^e, 2^(e+1)) is cut into 64 equal
 * buckets, so a bucket is at most 1/64 of its lower bound wide, and a
 * percentile is reported as its bucket's midpoint:
 *
 *     relative error of any percentile <= 1/128 (0.79 %)
 *
 * (max and min are tracked exactly). Values up to 2^40 - 1 are kept apart;
 * larger ones (18 minutes in ns, 6 minutes in 3 GHz cycles) land in the last
 * bucket, and max still says how large they were.
 *
 * Recording is a count-leading-zeros, two shifts and an increment in memory
 * the writer owns (zcs_hist_record()). Readers never block the writer: they
 * copy (zcs_hist_snapshot()), and "reset" by keeping a baseline snapshot and
 * subtracting it (zcs_hist_sub()). Histograms of several writers merge with
 * zcs_hist_add().
 */
#ifndef ZCSIGN_HISTOGRAM_H
#define ZCSIGN_HISTOGRAM_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ZCS_HIST_SUB_BITS 7 /**< 2^7 exact values, then 2^6 buckets per octave */
#define ZCS_HIST_MAX_BITS 40
#define ZCS_HIST_HALF (1u << (ZCS_HIST_SUB_BITS - 1))
/** Number of buckets: 128 exact, then 64 per octave from 2^7 to 2^40. */
#define ZCS_HIST_BUCKETS ((ZCS_HIST_MAX_BITS - ZCS_HIST_SUB_BITS + 2) * ZCS_HIST_HALF)
/** Largest value kept apart from the last bucket. */
#define ZCS_HIST_MAX_VALUE ((UINT64_C(1) << ZCS_HIST_MAX_BITS) - 1)

struct zcs_hist {
	uint64_t count;
	uint64_t sum; /**< of recorded values (clamped ones included unclamped) */
	uint64_t min; /**< UINT64_MAX while empty */
	uint64_t max;
	uint64_t buckets[ZCS_HIST_BUCKETS];
};

/** Percentiles and moments of a histogram, in its unit. */
struct zcs_hist_summary {
	uint64_t count;
	uint64_t min;
	uint64_t max;
	double mean;
	uint64_t p50;
	uint64_t p90;
	uint64_t p99;
	uint64_t p999;
	uint64_t p9999;
};

/** Bucket of a value. */
static inline unsigned int
zcs_hist_index(uint64_t v)
{
	unsigned int e, shift;

	if (v < 2 * ZCS_HIST_HALF)
		return (unsigned int)v;
	if (v > ZCS_HIST_MAX_VALUE)
		v = ZCS_HIST_MAX_VALUE;
	e = 63u - (unsigned int)__builtin_clzll(v); /* 2^e <= v, e >= SUB_BITS */
	shift = e - (ZCS_HIST_SUB_BITS - 1);
	return shift * ZCS_HIST_HALF + (unsigned int)(v >> shift);
}

/**
 * Record one value. Single writer: the caller owns h. Readers may copy h at
 * any time and see each field whole (aligned 64-bit stores).
 */
static inline void
zcs_hist_record(struct zcs_hist *h, uint64_t v)
{
	unsigned int i = zcs_hist_index(v);

	__atomic_store_n(&h->buckets[i], h->buckets[i] + 1, __ATOMIC_RELAXED);
	__atomic_store_n(&h->sum, h->sum + v, __ATOMIC_RELAXED);
	if (v > h->max)
		__atomic_store_n(&h->max, v, __ATOMIC_RELAXED);
	if (v < h->min)
		__atomic_store_n(&h->min, v, __ATOMIC_RELAXED);
	/* count last: a reader's count never exceeds the buckets it sums */
	__atomic_store_n(&h->count, h->count + 1, __ATOMIC_RELEASE);
}

/** Empty a histogram (writer, or before it is shared). */
void zcs_hist_init(struct zcs_hist *h);

/** Copy a histogram another thread writes; count is made to match the buckets copied. */
void zcs_hist_snapshot(struct zcs_hist *dst, const struct zcs_hist *src);

/**
 * dst = now - base, for "since the last reset" views. base must be an earlier
 * snapshot of the same histogram. min and max of the difference are the
 * bounds of its lowest and highest non-empty buckets, tightened by now's exact
 * min and max where they fall in those buckets.
 */
void zcs_hist_sub(struct zcs_hist *dst, const struct zcs_hist *now, const struct zcs_hist *base);

/** dst += src (merge the histograms of several writers). */
void zcs_hist_add(struct zcs_hist *dst, const struct zcs_hist *src);

/** Lowest value of bucket i. */
uint64_t zcs_hist_bucket_low(unsigned int i);

/** Highest value of bucket i. */
uint64_t zcs_hist_bucket_high(unsigned int i);

/**
 * The value at or below which a fraction q of the recorded values lie
 * (q in [0, 1]; 0 gives min, 1 gives max). Within 1/128 of the exact one.
 * @return 0 for an empty histogram.
 */
uint64_t zcs_hist_quantile(const struct zcs_hist *h, double q);

/** count, min, max, mean and p50..p99.99 in one pass. */
void zcs_hist_summarize(struct zcs_hist_summary *s, const struct zcs_hist *h);

#ifdef __cplusplus
}
#endif

#endif /* ZCSIGN_HISTOGRAM_H */
