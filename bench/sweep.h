/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zcsign-bench --sweep: which offered rates to run, and the capacity they
 * show. No EAL, no clock: tests/test_bench.c feeds it synthetic curves.
 *
 * A step passes the SLO when its end-to-end p99 is at or below slo_us, every
 * accepted request was signed (no error status, none lost, no abort) and it
 * achieved at least ZCS_BENCH_KEEP_UP of the offered rate: a step that fell
 * behind its own schedule has not shown that rate, whatever its p99. The
 * capacity is the highest offered rate that passed.
 *
 * The search steps the rate up geometrically from `from` (by `factor`, up to
 * `to`) until ZCS_BENCH_SWEEP_FAILS steps in a row fail (one failure on a
 * noisy shared box is not yet the knee), then bisects `refine` times between
 * the capacity found and the lowest failing rate above it.
 */
#ifndef ZCS_BENCH_SWEEP_H
#define ZCS_BENCH_SWEEP_H

#include <stdint.h>

/** Share of the offered rate a step must achieve to pass. */
#define ZCS_BENCH_KEEP_UP 0.95
/** Consecutive failing steps that end the geometric phase. */
#define ZCS_BENCH_SWEEP_FAILS 2
/** Most steps one sweep runs. */
#define ZCS_BENCH_SWEEP_MAX 64

/** What the capacity search needs of one step. */
struct zcs_bench_point {
	double offered; /**< req/s */
	double achieved; /**< req/s */
	double p99_us; /**< end-to-end; NAN when nothing was signed */
	uint64_t failures; /**< error statuses + lost requests (+1 when the step aborted) */
};

/** Whether a step passes an SLO of slo_us (see the file comment). */
int zcs_bench_point_pass(const struct zcs_bench_point *p, double slo_us);

/**
 * The highest offered rate among the n points that passes the SLO.
 * @return its index, or -1 when none passes (or n is 0).
 */
int zcs_bench_capacity(const struct zcs_bench_point *pts, unsigned int n, double slo_us);

/**
 * Geometric rates from, from*factor, ... up to to (inclusive, within 1e-9),
 * at most max of them.
 * @return how many were written, or 0 when from <= 0, factor <= 1 or to < from.
 */
unsigned int zcs_bench_sweep_rates(
	double *out, unsigned int max, double from, double factor, double to);

struct zcs_bench_search {
	double from;
	double factor;
	double to;
	double slo_us;
	unsigned int refine; /**< bisection steps after the geometric phase */
	unsigned int refined;
	unsigned int fails; /**< consecutive failures in the geometric phase */
	int bisecting;
	unsigned int n;
	struct zcs_bench_point pts[ZCS_BENCH_SWEEP_MAX];
};

/** @return 0, or -EINVAL (from <= 0, factor <= 1, to < from, slo_us <= 0). */
int zcs_bench_search_init(struct zcs_bench_search *s, double from, double factor, double to,
	double slo_us, unsigned int refine);

/** The next rate to run, or 0 when the search is over. */
double zcs_bench_search_next(const struct zcs_bench_search *s);

/** Record the step just run (at the rate zcs_bench_search_next() gave). */
void zcs_bench_search_add(struct zcs_bench_search *s, const struct zcs_bench_point *p);

/** Index of the capacity among the points run so far, or -1. */
static inline int
zcs_bench_search_capacity(const struct zcs_bench_search *s)
{
	return zcs_bench_capacity(s->pts, s->n, s->slo_us);
}

#endif /* ZCS_BENCH_SWEEP_H */
