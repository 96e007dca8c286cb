/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zcsign-bench's driver: issues sign requests in a closed loop (N outstanding)
 * or an open loop (a schedule of intended send times), takes completions and
 * records their latency, coordinated-omission correct.
 *
 * It reaches the engine only through struct zcs_bench_ops (clock, submit,
 * poll, release), so the bench wraps libzcsign in it and the tests wrap a
 * simulated engine and clock: no EAL here.
 *
 * Latency, in ticks (TSC cycles in the bench), is measured from a request's
 * INTENDED send time to the moment the driver's poll returned its completion.
 * Open loop: the intended time comes from the schedule, so when the engine
 * pushes back or the bench itself falls behind, the time lost counts against
 * every request that should have gone out meanwhile (measuring from the
 * actual send would hide exactly the stalls that matter). A refused submit
 * (-EBUSY, -ENOBUFS) is counted by errno and the same request (same intended
 * time, account and hash) is retried at the next loop pass: a gateway facing
 * backpressure retries, and its order still pays for the wait. Closed loop:
 * the intended time is when the driver found a free slot, so it only differs
 * from the send by the driver's own cost and refused retries.
 *
 * A request is in the measured phase when its intended time falls at or after
 * the end of the warm-up; only those enter the histograms and the counters
 * of the report. The cookie of each request carries its intended time.
 */
#ifndef ZCS_BENCH_DRIVE_H
#define ZCS_BENCH_DRIVE_H

#include <stdint.h>
#include <stdio.h>

#include <zcsign/client.h>
#include <zcsign/histogram.h>
#include <zcsign/status.h>

#include "load.h"
#include "records.h"

/** Requests taken per poll. */
#define ZCS_BENCH_POLL_BURST 64

/** zcs_bench_conf.algo: a uniform mix of the three algorithms. */
#define ZCS_BENCH_ALGO_MIX 0

/** What the driver calls; ctx is passed back untouched. */
struct zcs_bench_ops {
	void *ctx;
	uint64_t (*now)(void *ctx); /**< ticks, monotonic; same clock as submit_tsc */
	int (*submit)(void *ctx, const struct zcs_sign_args *args); /**< as zcs_submit() */
	unsigned int (*poll)(void *ctx, struct zcs_request **out, unsigned int n);
	void (*release)(void *ctx, struct zcs_request **reqs, unsigned int n);
};

enum zcs_bench_mode {
	ZCS_BENCH_CLOSED = 0,
	ZCS_BENCH_OPEN = 1,
};

struct zcs_bench_conf {
	enum zcs_bench_mode mode;
	unsigned int outstanding; /**< closed loop: requests kept in flight */
	double rate; /**< open loop: requests per second */
	enum zcs_bench_arrivals arrivals;
	uint64_t count; /**< measured requests to issue; 0: run for duration_s */
	double duration_s; /**< measured phase when count is 0 */
	double warmup_s;
	uint64_t first_account;
	uint64_t accounts;
	double zipf; /**< 0: uniform accounts */
	unsigned int algo; /**< ZCS_ALGO_* or ZCS_BENCH_ALGO_MIX */
	uint64_t seed;
	uint64_t ticks_per_s;
	double stall_s; /**< give up when nothing completes for this long */
	FILE *progress; /**< one line a second, or NULL */
	struct zcs_bench_records *records; /**< every signed completion kept, or NULL */
};

/** Fill conf with the defaults: closed loop of 1, 1000 requests, 1000 accounts from 1. */
void zcs_bench_conf_init(struct zcs_bench_conf *c);

/** What a run measured. Histograms of the measured phase only. */
struct zcs_bench_stats {
	struct zcs_hist e2e; /**< ticks: intended send -> completion polled (signed only) */
	struct zcs_hist signer; /**< ns: the signer's own service time (signer_ns) */
	struct zcs_hist engine; /**< ticks: e2e minus the signer's time */
	struct zcs_hist lag; /**< ticks: actual submit (submit_tsc) - intended */
	struct zcs_hist pickup; /**< ticks: completion polled - completed (done_tsc) */
	uint64_t issued; /**< measured requests accepted by submit */
	uint64_t completed; /**< their completions, any status */
	uint64_t by_status[ZCS_STATUS_MAX + 1]; /**< last: out-of-range status */
	uint64_t warmup_issued;
	uint64_t warmup_completed;
	uint64_t warmup_failed; /**< warm-up completions not ZCS_OK */
	uint64_t refusals_busy; /**< -EBUSY submits (each retry counts) */
	uint64_t refusals_nobufs; /**< -ENOBUFS submits */
	uint64_t refused_requests; /**< measured requests refused at least once */
	uint64_t outstanding; /**< accepted, not completed: lost when the run ends */
	uint64_t t_start; /**< first intended time */
	uint64_t t_measure; /**< end of the warm-up */
	uint64_t t_end; /**< last measured completion */
	int aborted; /**< 0, -ETIMEDOUT (stall), -ESHUTDOWN, or another submit error */
};

/**
 * Run: issue, complete, drain. Returns when every accepted request completed,
 * or nothing completed for stall_s (st->outstanding then says how many are
 * lost), or submit failed with something else than -EBUSY/-ENOBUFS.
 *
 * @return 0, or -EINVAL (bad conf), or st->aborted.
 */
int zcs_bench_drive(struct zcs_bench_stats *st, const struct zcs_bench_conf *c,
	const struct zcs_bench_ops *ops);

/** Latency from the intended time, never negative. */
static inline uint64_t
zcs_bench_latency(uint64_t intended, uint64_t now)
{
	return now > intended ? now - intended : 0;
}

/**
 * Account one completion polled at tick now (what zcs_bench_drive() does for
 * each): counters, histograms, records.
 */
void zcs_bench_complete(struct zcs_bench_stats *st, const struct zcs_bench_conf *c,
	const struct zcs_request *r, uint64_t now);

/** Empty stats whose measured phase starts at t_measure. */
void zcs_bench_stats_init(struct zcs_bench_stats *st, uint64_t t_start, uint64_t t_measure);

#endif /* ZCS_BENCH_DRIVE_H */
