/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zcsign-jitter's probe, in the manner of sysjitter: a thread pinned to a core
 * reads the TSC in a tight loop; any gap between two reads above a threshold
 * is time the core was taken away (interrupt, tick, kworker, SMI, hypervisor
 * exit). Gaps are recorded in TSC cycles in a zcs_hist, one per core, written
 * only by the thread spinning there; the report converts to ns with the TSC
 * rate calibrated against CLOCK_MONOTONIC.
 *
 * Percentiles are those of the hiccups (gaps above the threshold), not of all
 * loop iterations. "lost" is the sum of those gaps over the time spun.
 */
#ifndef ZCS_TUNING_JITTER_PROBE_H
#define ZCS_TUNING_JITTER_PROBE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <zcsign/histogram.h>

struct zcs_jitter_core {
	unsigned int cpu;
	uint64_t threshold; /* cycles; gaps above it are hiccups */
	uint64_t span; /* cycles spun (last read - first read) */
	uint64_t lost; /* sum of the hiccups, cycles */
	uint64_t reads; /* TSC reads, for the loop cost */
	struct zcs_hist hist; /* hiccups, cycles */
} __attribute__((aligned(64)));

/** Per-core figures in ns, as reported. */
struct zcs_jitter_result {
	unsigned int cpu;
	double seconds;
	double threshold_ns;
	uint64_t hiccups;
	double rate_per_s;
	double p99_ns;
	double p999_ns;
	double max_ns;
	double lost_share; /* in [0, 1] */
};

/** Empty c for a run on cpu with the given threshold in cycles. */
void zcs_jitter_core_init(struct zcs_jitter_core *c, unsigned int cpu, uint64_t threshold);

/** One step of the loop: the gap between two consecutive reads. */
static inline void
zcs_jitter_gap(struct zcs_jitter_core *c, uint64_t prev, uint64_t now)
{
	uint64_t gap = now - prev;

	if (__builtin_expect(gap > c->threshold, 0)) {
		zcs_hist_record(&c->hist, gap);
		c->lost += gap;
	}
}

/** Run the loop over a recorded TSC sequence (the tests' synthetic clock). */
void zcs_jitter_feed(struct zcs_jitter_core *c, const uint64_t *tsc, size_t n);

/** Read the TSC (CLOCK_MONOTONIC_RAW ns where there is no TSC). */
uint64_t zcs_jitter_tsc(void);

/** Spin on the calling thread for cycles TSC cycles, recording into c. */
void zcs_jitter_spin(struct zcs_jitter_core *c, uint64_t cycles);

/** TSC rate in Hz, measured against CLOCK_MONOTONIC over ms milliseconds. */
double zcs_jitter_calibrate(unsigned int ms);

/**
 * Spin one thread pinned to each cores[i].cpu for seconds, all at once.
 * @return 0, or -errno with err naming the CPU and the call that failed.
 */
int zcs_jitter_run(struct zcs_jitter_core *cores, unsigned int n, double seconds, double tsc_hz,
	char *err, size_t errlen);

/** The figures of one core at tsc_hz. */
void zcs_jitter_result(struct zcs_jitter_result *r, const struct zcs_jitter_core *c, double tsc_hz);

/** Text table (json 0) or one JSON object {tsc_hz, threshold_ns, cores: [...]}. */
void zcs_jitter_report(
	FILE *f, const struct zcs_jitter_core *cores, unsigned int n, double tsc_hz, int json);

#endif /* ZCS_TUNING_JITTER_PROBE_H */
