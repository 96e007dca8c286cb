/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zcsign-bench's report: the numbers of one run in microseconds and requests
 * per second (converted from ticks here, never while measuring), printed as a
 * table for people and as JSON for scripts. No EAL.
 *
 * JSON keys are snake_case and stable; a number that is not defined for the
 * run (offered rate of a closed loop, percentiles of an empty histogram) is
 * null, never NaN, so every JSON parser reads the file.
 */
#ifndef ZCS_BENCH_REPORT_H
#define ZCS_BENCH_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <zcsign/status.h>

#include "drive.h"

/** Percentiles of one latency histogram, in microseconds. */
struct zcs_bench_lat {
	uint64_t count;
	double mean;
	double p50;
	double p90;
	double p99;
	double p999;
	double max;
};

struct zcs_bench_report {
	/* what was run */
	const char *mode; /**< "closed" or "open" */
	unsigned int outstanding; /**< closed loop */
	const char *arrivals; /**< "uniform", "poisson"; NULL for a closed loop */
	double offered_rate; /**< req/s; NAN for a closed loop */
	const char *algo; /**< "ecdsa", "ecdsa-recoverable", "schnorr", "mix" */
	uint64_t first_account;
	uint64_t accounts;
	double zipf;
	unsigned int shards;
	double warmup_s;
	double tsc_hz;
	uint64_t seed; /**< of the workload (hashes, accounts, algorithms, arrivals) */
	/* what happened */
	double measured_s; /**< end of warm-up to the last measured completion */
	double achieved_rate; /**< completions per second over measured_s */
	uint64_t issued;
	uint64_t completed;
	uint64_t signed_ok;
	uint64_t by_status[ZCS_STATUS_MAX + 1];
	uint64_t warmup_completed;
	uint64_t warmup_failed;
	uint64_t refusals_busy;
	uint64_t refusals_nobufs;
	uint64_t refused_requests;
	uint64_t lost;
	const char *aborted; /**< why the run stopped early, or NULL */
	struct zcs_bench_lat e2e; /**< intended send -> completion polled */
	struct zcs_bench_lat signer; /**< signer's own service time */
	struct zcs_bench_lat engine; /**< e2e minus signer: rings, socket, queueing */
	struct zcs_bench_lat lag; /**< intended -> actual submit: the bench's lateness */
	struct zcs_bench_lat pickup; /**< completed by the worker -> polled by the bench */
	/*
	 * The signers' presignature pools over the run (warm-up included), from
	 * the STATS counters zcsignd keeps per shard; the caller's to fill.
	 */
	int pool_known; /**< 0: a shard's signer gave no fresh STATS */
	uint64_t pool_misses; /**< SIGNs that found the pool empty: signed by RFC 6979 */
	uint64_t pool_refilled; /**< presignatures the refill threads made */
	/* --verify */
	int verify;
	uint64_t verify_seen; /**< signed completions (warm-up included) */
	uint64_t verify_checked; /**< records checked: all, or a sample */
	uint64_t verified;
	uint64_t verify_failed;
	int passed; /**< every accepted request completed ok (warm-up too), all checked verified */
};

/** A floor measured in the same run (--baselines), in microseconds per operation. */
struct zcs_bench_baseline {
	const char *name; /**< snake_case: JSON key and CSV-safe */
	const char *what; /**< for the table */
	uint64_t count;
	double p50;
	double p99;
};

#define ZCS_BENCH_BASELINES_MAX 8

/** The published enclave-over-vsock figure zcsign must beat (docs/ARCHITECTURE.md). */
#define ZCS_BENCH_PUBLISHED_P50_US 42.0
#define ZCS_BENCH_PUBLISHED_P99_US 120.0

/** What a run adds to the report of its last (or only) run; all optional. */
struct zcs_bench_extra {
	const struct zcs_bench_report *steps; /**< --sweep: every step, in the order run */
	unsigned int nsteps;
	double slo_us;
	int capacity; /**< index into steps, or -1 */
	const struct zcs_bench_baseline *baselines; /**< --baselines */
	unsigned int nbaselines;
	const char *layout; /**< --spawn: which process on which CPU, poll modes */
	const char *nonce; /**< --spawn: the signers' nonce mode */
};

/** Algorithm name for the report and the command line ("mix" for ZCS_BENCH_ALGO_MIX). */
const char *zcs_bench_algo_name(unsigned int algo);

/** Percentiles of a histogram recorded in ticks (ticks_per_s of them a second). */
void zcs_bench_lat_from_hist(struct zcs_bench_lat *l, const struct zcs_hist *h, double ticks_per_s);

/**
 * Fill the report from a run's conf and stats (verify fields and shards are
 * the caller's, left zero; passed is computed for a run without --verify).
 */
void zcs_bench_report_fill(struct zcs_bench_report *rep, const struct zcs_bench_conf *c,
	const struct zcs_bench_stats *st);

/** The human table. */
void zcs_bench_report_table(FILE *f, const struct zcs_bench_report *rep);

/**
 * The report as one JSON object, newline-terminated.
 * @return 0, or -EIO when the stream reports a write error.
 */
int zcs_bench_report_json(FILE *f, const struct zcs_bench_report *rep);

/**
 * num / den as "12.34x" into buf, or "-" when either is not a positive finite
 * number (a ratio over a missing baseline is no ratio).
 * @return buf
 */
const char *zcs_bench_ratio(char *buf, size_t len, double num, double den);

/** One table row of a sweep step (offered, achieved, percentiles, errors, SLO verdict). */
void zcs_bench_step_row(FILE *f, const struct zcs_bench_report *rep, double slo_us, int header);

/** The sweep, capacity, baselines and ratios of x, as a table (what x holds). */
void zcs_bench_extra_table(
	FILE *f, const struct zcs_bench_report *rep, const struct zcs_bench_extra *x);

/**
 * The report as JSON with x's members added ("sweep", "baselines", "ratios",
 * "layout", "nonce": null when x does not hold them).
 * @return 0, or -EIO.
 */
int zcs_bench_report_json_ext(
	FILE *f, const struct zcs_bench_report *rep, const struct zcs_bench_extra *x);

/**
 * One number of a data file: sep, then v to 3 decimals, or missing when v is
 * not finite (the CSV leaves the field empty, gnuplot wants "NaN").
 */
void zcs_bench_put_num(FILE *f, char sep, double v, const char *missing);

/** The CSV header line (newline-terminated). */
void zcs_bench_csv_header(FILE *f);

/**
 * One CSV row for step number step (0-based) of a run; an undefined number is
 * an empty field. slo_us <= 0: the slo_pass column is empty.
 */
void zcs_bench_csv_row(
	FILE *f, unsigned int step, const struct zcs_bench_report *rep, double slo_us);

/** Whether a step passed the SLO (sweep.h's rule), from its report. */
int zcs_bench_report_pass(const struct zcs_bench_report *rep, double slo_us);

#endif /* ZCS_BENCH_REPORT_H */
