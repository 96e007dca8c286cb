/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-worker telemetry (private to the engine): what the worker records, and
 * how the telemetry commands find it.
 *
 * Each shard's worker owns one struct zcs_tel_worker, allocated on its lcore's
 * NUMA socket in the primary's DPDK heap (not in the engine memzone: four
 * histograms are ~72 KiB a shard, and only the primary's telemetry thread
 * reads them). The worker is the only writer and takes no lock; the telemetry
 * thread copies the histograms (zcs_hist_snapshot()) and the hiccup ring
 * without stopping it. The scalar loop counters (busy/idle cycles, gaps over
 * the threshold, largest gap) live in the shard state in the memzone, so a
 * secondary process can read them too.
 *
 * Hot-path cost: per completed request one record (end-to-end, ZCS_OK only),
 * per signer reply two (round trip, service time), per loop iteration one
 * (loop gap) plus an add to busy or idle; the worker reads the TSC once more
 * per received burst, so that round trips are not rounded to loop iterations.
 * All in TSC cycles except the
 * service time, which the signer reports in ns; converted on read.
 *
 * Life cycle (main lcore): zcs_tel_worker_create() before the worker starts,
 * zcs_tel_engine_publish() once every worker exists, zcs_tel_engine_retract()
 * before anything is freed, zcs_tel_worker_free() last.
 */
#ifndef ZCS_TELEMETRY_INTERNAL_H
#define ZCS_TELEMETRY_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>

#include <zcsign/engine.h>
#include <zcsign/histogram.h>
#include <zcsign/telemetry.h>

#include "shards.h"

/* Hiccups kept per lcore (a power of two); older ones are overwritten. */
#define ZCS_TEL_HICCUPS 64

/* One loop gap above the threshold. */
struct zcs_tel_hiccup {
	uint64_t realtime_ns; /* CLOCK_REALTIME when the loop resumed (the gap's end) */
	uint64_t gap_cycles;
};

struct zcs_tel_worker {
	/* Hot: written by the worker every iteration or request. */
	struct zcs_shard_state *st; /* busy/idle/gap counters */
	uint64_t last_tsc; /* start of the previous loop iteration */
	uint64_t gap_threshold; /* cycles */
	int last_work; /* the previous iteration did work: its cycles are busy */
	/* Test hook: busy-wait this long once, on the next idle sleep (backoff mode). */
	volatile uint32_t test_stall_us;
	uint64_t hiccup_next; /* hiccups ever written; release-stored after the entry */
	struct zcs_tel_hiccup hiccups[ZCS_TEL_HICCUPS];
	struct zcs_hist e2e __rte_cache_aligned; /* submit_tsc -> completion, cycles */
	struct zcs_hist rtt __rte_cache_aligned; /* frame sent -> reply decoded, cycles */
	struct zcs_hist service __rte_cache_aligned; /* signer_ns of SIGN replies, ns */
	struct zcs_hist gap __rte_cache_aligned; /* between loop iterations, cycles */
	/* Cold. */
	uint16_t shard;
	unsigned int lcore;
	uint32_t gap_threshold_us;
} __rte_cache_aligned;

/* Gap above the threshold: count, log in the hiccup ring. Out of line: it is rare. */
void zcs_tel_hiccup(struct zcs_tel_worker *t, uint64_t gap) __rte_cold;

/*
 * Start of a loop iteration: the gap since the previous one, charged to busy
 * or idle by whether that one did work.
 */
static inline void
zcs_tel_loop(struct zcs_tel_worker *t, uint64_t now)
{
	struct zcs_shard_state *st = t->st;
	uint64_t gap = now - t->last_tsc;

	t->last_tsc = now;
	zcs_hist_record(&t->gap, gap);
	if (t->last_work)
		st->busy_cycles += gap;
	else
		st->idle_cycles += gap;
	if (unlikely(gap > t->gap_threshold))
		zcs_tel_hiccup(t, gap);
}

/* The iteration that started at zcs_tel_loop() did work (or not). */
static inline void
zcs_tel_work(struct zcs_tel_worker *t, int work)
{
	t->last_work = work;
}

/*
 * Back from a deliberate sleep (backoff mode): the time since the iteration
 * started is idle, and not a gap the host inflicted. Also runs the stall hook.
 */
void zcs_tel_slept(struct zcs_tel_worker *t);

/* A request completed with ZCS_OK at now. */
static inline void
zcs_tel_signed(struct zcs_tel_worker *t, uint64_t submit_tsc, uint64_t now)
{
	zcs_hist_record(&t->e2e, likely(now > submit_tsc) ? now - submit_tsc : 0);
}

/* A reply arrived at now for a frame sent at send_tsc; service_ns from the signer (SIGN only). */
static inline void
zcs_tel_reply(
	struct zcs_tel_worker *t, uint64_t send_tsc, uint64_t now, uint64_t service_ns, bool sign)
{
	zcs_hist_record(&t->rtt, now - send_tsc);
	if (sign)
		zcs_hist_record(&t->service, service_ns);
}

/*
 * Allocate a shard's telemetry on socket (its worker's lcore). Returns NULL
 * with rte_errno ENOMEM.
 */
struct zcs_tel_worker *zcs_tel_worker_create(struct zcs_shard_state *st, uint16_t shard,
	unsigned int lcore, int socket, uint32_t gap_threshold_us);

/* Free (NULL is a no-op). Retract the engine first. */
void zcs_tel_worker_free(struct zcs_tel_worker *t);

/* What the commands say about a running engine (copied at publish). */
struct zcs_tel_engine {
	const struct zcs_engine_shared *sh;
	uint16_t shards;
	enum zcs_poll_mode poll;
	uint32_t gap_threshold_us;
	/* per shard: isolation of its worker's CPUs ("isolated_nohz_full", ...) */
	const char *isolation[ZCS_MAX_SHARDS];
	struct zcs_tel_worker *w[ZCS_MAX_SHARDS];
};

/* Make an engine visible to the /zcsign/ commands (registering them on first use). */
int zcs_tel_engine_publish(const struct zcs_tel_engine *e);

/* Hide it again; returns once no command handler still reads it. */
void zcs_tel_engine_retract(void);

/* Test hook: make the worker of lcore busy-wait us once on its next idle sleep. */
int zcs_tel_test_stall(unsigned int lcore, uint32_t us);

/*
 * For tests/test_telemetry.c, which drives the handlers without the socket.
 * The command handler registered for cmd (a ZCS_TEL_CMD_* name), called with
 * params into d: its return value, or -ENOENT for a name that is not ours.
 */
struct rte_tel_data;
int zcs_tel_call(const char *cmd, const char *params, struct rte_tel_data *d);

/* The published worker of lcore, or NULL (no engine, or not a worker lcore). */
struct zcs_tel_worker *zcs_tel_worker_of(unsigned int lcore);

/*
 * The most recent hiccups of t (at most max, and at most ZCS_TEL_HICCUPS - 1),
 * oldest first, read without stopping the writer. Returns how many.
 */
unsigned int zcs_tel_read_hiccups(
	const struct zcs_tel_worker *t, struct zcs_tel_hiccup *out, unsigned int max);

#endif /* ZCS_TELEMETRY_INTERNAL_H */
