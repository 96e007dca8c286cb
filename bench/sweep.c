/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zcsign-bench --sweep: step rates and capacity search (see sweep.h).
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "sweep.h"

int
zcs_bench_point_pass(const struct zcs_bench_point *p, double slo_us)
{
	/* NaN compares false: a step that signed nothing never passes */
	return p->failures == 0 && p->p99_us <= slo_us &&
		p->achieved >= ZCS_BENCH_KEEP_UP * p->offered;
}

int
zcs_bench_capacity(const struct zcs_bench_point *pts, unsigned int n, double slo_us)
{
	unsigned int i;
	int best = -1;

	for (i = 0; i < n; i++)
		if (zcs_bench_point_pass(&pts[i], slo_us) &&
			(best < 0 || pts[i].offered > pts[best].offered))
			best = (int)i;
	return best;
}

unsigned int
zcs_bench_sweep_rates(double *out, unsigned int max, double from, double factor, double to)
{
	unsigned int n = 0;
	double r;

	if (!(from > 0) || !(factor > 1) || !(to >= from) || !isfinite(to))
		return 0;
	/* each rate computed afresh, so rounding does not accumulate over the steps */
	for (r = from; n < max && r <= to * (1 + 1e-9); r = from * pow(factor, n))
		out[n++] = r;
	return n;
}

int
zcs_bench_search_init(struct zcs_bench_search *s, double from, double factor, double to,
	double slo_us, unsigned int refine)
{
	memset(s, 0, sizeof(*s));
	if (!(from > 0) || !(factor > 1) || !(to >= from) || !isfinite(to) || !(slo_us > 0))
		return -EINVAL;
	s->from = from;
	s->factor = factor;
	s->to = to;
	s->slo_us = slo_us;
	s->refine = refine;
	return 0;
}

/* The lowest failing rate above the capacity, or 0 when no step above it failed. */
static double
lowest_fail_above(const struct zcs_bench_search *s, double cap)
{
	double low = 0;
	unsigned int i;

	for (i = 0; i < s->n; i++)
		if (s->pts[i].offered > cap && !zcs_bench_point_pass(&s->pts[i], s->slo_us) &&
			(low == 0 || s->pts[i].offered < low))
			low = s->pts[i].offered;
	return low;
}

double
zcs_bench_search_next(const struct zcs_bench_search *s)
{
	double r, cap, fail;
	int c;

	if (s->n >= ZCS_BENCH_SWEEP_MAX)
		return 0;
	if (!s->bisecting) {
		r = s->from * pow(s->factor, s->n);
		if (s->fails < ZCS_BENCH_SWEEP_FAILS && r <= s->to * (1 + 1e-9))
			return r;
	}
	if (s->refined >= s->refine)
		return 0;
	c = zcs_bench_search_capacity(s);
	cap = c >= 0 ? s->pts[c].offered : 0;
	fail = lowest_fail_above(s, cap);
	if (fail == 0)
		return 0; /* every rate up to `to` passed: nothing to refine */
	/* geometric midpoint: the steps are geometric, and no rate below from was tried */
	return c >= 0 ? sqrt(cap * fail) : fail / s->factor;
}

void
zcs_bench_search_add(struct zcs_bench_search *s, const struct zcs_bench_point *p)
{
	int pass = zcs_bench_point_pass(p, s->slo_us);

	if (s->n >= ZCS_BENCH_SWEEP_MAX)
		return;
	s->pts[s->n++] = *p;
	if (s->bisecting) {
		s->refined++;
		return;
	}
	s->fails = pass ? 0 : s->fails + 1;
	if (s->fails >= ZCS_BENCH_SWEEP_FAILS ||
		s->from * pow(s->factor, s->n) > s->to * (1 + 1e-9))
		s->bisecting = 1;
}
