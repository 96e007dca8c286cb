/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include <zcsign/histogram.h>

void
zcs_hist_init(struct zcs_hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

uint64_t
zcs_hist_bucket_low(unsigned int i)
{
	unsigned int shift;

	if (i < 2 * ZCS_HIST_HALF)
		return i;
	shift = i / ZCS_HIST_HALF - 1;
	return (uint64_t)(i - shift * ZCS_HIST_HALF) << shift;
}

/* Buckets tile the range: each ends where the next begins (no overflow: < 2^41). */
uint64_t
zcs_hist_bucket_high(unsigned int i)
{
	return zcs_hist_bucket_low(i + 1) - 1;
}

void
zcs_hist_snapshot(struct zcs_hist *dst, const struct zcs_hist *src)
{
	uint64_t n = 0;
	unsigned int i;

	dst->sum = __atomic_load_n(&src->sum, __ATOMIC_ACQUIRE);
	dst->min = __atomic_load_n(&src->min, __ATOMIC_RELAXED);
	dst->max = __atomic_load_n(&src->max, __ATOMIC_RELAXED);
	for (i = 0; i < ZCS_HIST_BUCKETS; i++) {
		dst->buckets[i] = __atomic_load_n(&src->buckets[i], __ATOMIC_RELAXED);
		n += dst->buckets[i];
	}
	/* the writer may have recorded while we copied: trust what we copied */
	dst->count = n;
}

void
zcs_hist_sub(struct zcs_hist *dst, const struct zcs_hist *now, const struct zcs_hist *base)
{
	unsigned int i, lo = ZCS_HIST_BUCKETS, hi = 0;

	dst->count = 0;
	for (i = 0; i < ZCS_HIST_BUCKETS; i++) {
		uint64_t d = now->buckets[i] >= base->buckets[i]
			? now->buckets[i] - base->buckets[i]
			: 0;
		dst->buckets[i] = d;
		dst->count += d;
		if (d != 0) {
			if (lo == ZCS_HIST_BUCKETS)
				lo = i;
			hi = i;
		}
	}
	dst->sum = now->sum >= base->sum ? now->sum - base->sum : 0;
	if (dst->count == 0) {
		dst->min = UINT64_MAX;
		dst->max = 0;
		return;
	}
	dst->min = zcs_hist_bucket_low(lo);
	if (now->min >= dst->min && now->min <= zcs_hist_bucket_high(lo))
		dst->min = now->min;
	dst->max = zcs_hist_bucket_high(hi);
	if (now->max >= zcs_hist_bucket_low(hi) && now->max <= dst->max)
		dst->max = now->max;
	else if (hi == ZCS_HIST_BUCKETS - 1)
		dst->max = now->max; /* the last bucket holds clamped values */
}

void
zcs_hist_add(struct zcs_hist *dst, const struct zcs_hist *src)
{
	unsigned int i;

	for (i = 0; i < ZCS_HIST_BUCKETS; i++)
		dst->buckets[i] += src->buckets[i];
	dst->count += src->count;
	dst->sum += src->sum;
	if (src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
}

/* Midpoint of bucket i, kept inside the exact [min, max]. */
static uint64_t
bucket_value(const struct zcs_hist *h, unsigned int i)
{
	uint64_t lo = zcs_hist_bucket_low(i), hi = zcs_hist_bucket_high(i);
	uint64_t v = lo + (hi - lo) / 2;

	if (i == ZCS_HIST_BUCKETS - 1 && h->max > hi)
		return h->max;
	if (v > h->max)
		v = h->max;
	if (v < h->min)
		v = h->min;
	return v;
}

/* Values for several ascending quantiles in one walk over the buckets. */
static void
quantiles(const struct zcs_hist *h, const double *q, uint64_t *out, unsigned int n)
{
	uint64_t cum = 0;
	unsigned int i = 0, k;

	for (k = 0; k < n; k++) {
		uint64_t rank;

		if (h->count == 0) {
			out[k] = 0;
			continue;
		}
		if (q[k] <= 0) {
			out[k] = h->min;
			continue;
		}
		if (q[k] >= 1) {
			out[k] = h->max;
			continue;
		}
		/* rank = ceil(q * count), at least 1: the smallest value with q of them at or below
		 */
		rank = (uint64_t)(q[k] * (double)h->count);
		if ((double)rank < q[k] * (double)h->count)
			rank++;
		if (rank == 0)
			rank = 1;
		while (i < ZCS_HIST_BUCKETS && cum + h->buckets[i] < rank)
			cum += h->buckets[i++];
		out[k] = i < ZCS_HIST_BUCKETS ? bucket_value(h, i) : h->max;
	}
}

uint64_t
zcs_hist_quantile(const struct zcs_hist *h, double q)
{
	uint64_t v;

	quantiles(h, &q, &v, 1);
	return v;
}

void
zcs_hist_summarize(struct zcs_hist_summary *s, const struct zcs_hist *h)
{
	static const double q[] = {0.5, 0.9, 0.99, 0.999, 0.9999};
	uint64_t v[5];

	quantiles(h, q, v, 5);
	s->count = h->count;
	s->min = h->count ? h->min : 0;
	s->max = h->max;
	s->mean = h->count ? (double)h->sum / (double)h->count : 0.0;
	s->p50 = v[0];
	s->p90 = v[1];
	s->p99 = v[2];
	s->p999 = v[3];
	s->p9999 = v[4];
}
