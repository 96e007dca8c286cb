/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zcsign-bench's load: PRNG, schedule of intended send times, account sampler
 * (see load.h).
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "load.h"

/* ---- PRNG ---- */

static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

void
zcs_bench_rng_seed(struct zcs_bench_rng *r, uint64_t seed)
{
	unsigned int i;

	/* splitmix64 never yields four zero words, the one state xoshiro cannot leave */
	for (i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

void
zcs_bench_rng_hash(struct zcs_bench_rng *r, uint8_t hash[32])
{
	uint64_t w[4];
	unsigned int i;

	for (i = 0; i < 4; i++)
		w[i] = zcs_bench_rng_next(r);
	memcpy(hash, w, sizeof(w));
}

/* ---- schedule ---- */

static void
sched_advance(struct zcs_bench_sched *s)
{
	if (s->arrivals == ZCS_BENCH_UNIFORM) {
		s->next = s->start + (uint64_t)((double)s->k * s->gap + 0.5);
	} else {
		s->next = s->start + (uint64_t)(s->offset + 0.5);
		s->offset += -log(zcs_bench_rng_unit(&s->rng)) * s->gap;
	}
}

int
zcs_bench_sched_init(struct zcs_bench_sched *s, enum zcs_bench_arrivals arrivals, double rate,
	uint64_t ticks_per_s, uint64_t start, uint64_t seed)
{
	memset(s, 0, sizeof(*s));
	if (!(rate > 0) || !isfinite(rate) || ticks_per_s == 0 ||
		(arrivals != ZCS_BENCH_UNIFORM && arrivals != ZCS_BENCH_POISSON))
		return -EINVAL;
	s->arrivals = arrivals;
	s->start = start;
	s->gap = (double)ticks_per_s / rate;
	zcs_bench_rng_seed(&s->rng, seed);
	/* The first request goes at start; Poisson gaps begin after it. */
	s->offset = 0;
	sched_advance(s);
	return 0;
}

uint64_t
zcs_bench_sched_take(struct zcs_bench_sched *s)
{
	uint64_t t = s->next;

	s->k++;
	sched_advance(s);
	return t;
}

/* ---- Zipf by rejection-inversion ---- */

/* log1p(x) / x, accurate near 0 */
static double
helper1(double x)
{
	if (fabs(x) > 1e-8)
		return log1p(x) / x;
	return 1 - x * (0.5 - x * (1.0 / 3 - 0.25 * x));
}

/* expm1(x) / x, accurate near 0 */
static double
helper2(double x)
{
	if (fabs(x) > 1e-8)
		return expm1(x) / x;
	return 1 + x * 0.5 * (1 + x * (1.0 / 3) * (1 + 0.25 * x));
}

/* h(x) = x^-s, the unnormalised density the ranks are drawn against */
static double
zipf_h(double s, double x)
{
	return exp(-s * log(x));
}

/* H(x), an antiderivative of h: (x^(1-s) - 1) / (1 - s), or log(x) for s = 1 */
static double
zipf_hint(double s, double x)
{
	double lx = log(x);

	return helper2((1 - s) * lx) * lx;
}

static double
zipf_hint_inv(double s, double x)
{
	double t = x * (1 - s);

	if (t < -1)
		t = -1; /* rounding only: keeps the result finite */
	return exp(helper1(t) * x);
}

int
zcs_bench_accounts_init(struct zcs_bench_accounts *a, uint64_t first, uint64_t count, double s)
{
	memset(a, 0, sizeof(*a));
	if (count == 0 || !(s >= 0) || !isfinite(s) || first + count - 1 < first)
		return -EINVAL;
	a->first = first;
	a->count = count;
	a->s = s;
	if (s > 0) {
		a->h_x1 = zipf_hint(s, 1.5) - 1;
		a->h_n = zipf_hint(s, (double)count + 0.5);
		a->sp = 2 - zipf_hint_inv(s, zipf_hint(s, 2.5) - zipf_h(s, 2));
	}
	return 0;
}

uint64_t
zcs_bench_zipf_rank(const struct zcs_bench_accounts *a, struct zcs_bench_rng *r)
{
	double u, x, k;

	if (a->s == 0 || a->count == 1)
		return 1 + zcs_bench_rng_below(r, a->count);
	for (;;) {
		/* u uniform over (H(n + 1/2), H(3/2) - 1]: a draw under the hat */
		u = a->h_n + zcs_bench_rng_unit(r) * (a->h_x1 - a->h_n);
		x = zipf_hint_inv(a->s, u);
		k = floor(x + 0.5);
		if (k < 1)
			k = 1;
		else if (k > (double)a->count)
			k = (double)a->count;
		/* accept in the band where hat and density agree, else test exactly */
		if (k - x <= a->sp || u >= zipf_hint(a->s, k + 0.5) - zipf_h(a->s, k))
			return (uint64_t)k;
	}
}
