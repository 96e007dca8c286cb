/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The /zcsign/ DPDK telemetry commands, and the worker-side recording that is
 * too cold to be inline (hiccups, the sleep hook).
 *
 * The handlers run on DPDK's telemetry thread. They read the published engine
 * under a mutex that only they and the engine's start/stop take (never a
 * worker), copy each histogram with zcs_hist_snapshot() (the writer never
 * waits) and answer in ns. Replies stay far below DPDK's limits: the largest
 * is /zcsign/info, three arrays of one entry per shard (<= 256 shards, about
 * 10 KiB); no dict has more than 40 entries and no container nests another.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_ring.h>
#include <rte_telemetry.h>

#include <zcsign/status.h>
#include <zcsign/telemetry.h>
#include <zcsign/version.h>
#include <zcsign/wire.h>

#include "hex.h"
#include "log.h"
#include "num.h"
#include "telemetry_internal.h"

/* rte_telemetry_register_cmd() refuses help of this length or more (22.11). */
#define HELP_MAX 128

static pthread_mutex_t eng_lock = PTHREAD_MUTEX_INITIALIZER;
static struct zcs_tel_engine eng; /* under eng_lock */
static bool eng_live; /* under eng_lock */
static struct zcs_tel_worker *by_lcore[RTE_MAX_LCORE]; /* under eng_lock */
static bool registered;

/* ---- worker side (cold) ---- */

void
zcs_tel_hiccup(struct zcs_tel_worker *t, uint64_t gap)
{
	struct zcs_shard_state *st = t->st;
	struct zcs_tel_hiccup *h = &t->hiccups[t->hiccup_next & (ZCS_TEL_HICCUPS - 1)];
	struct timespec ts;

	st->loop_gaps++;
	if (gap > st->loop_gap_max)
		st->loop_gap_max = gap;
	/* Wall-clock time, so an operator can line it up with the host's own logs. */
	clock_gettime(CLOCK_REALTIME, &ts);
	__atomic_store_n(&h->realtime_ns, (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec,
		__ATOMIC_RELAXED);
	__atomic_store_n(&h->gap_cycles, gap, __ATOMIC_RELAXED);
	__atomic_store_n(&t->hiccup_next, t->hiccup_next + 1, __ATOMIC_RELEASE);
}

void
zcs_tel_slept(struct zcs_tel_worker *t)
{
	uint64_t now = rte_rdtsc();
	uint32_t stall = t->test_stall_us;

	t->st->idle_cycles += now - t->last_tsc;
	t->last_tsc = now;
	if (unlikely(stall != 0)) {
		t->test_stall_us = 0;
		rte_delay_us_block(stall);
	}
}

struct zcs_tel_worker *
zcs_tel_worker_create(struct zcs_shard_state *st, uint16_t shard, unsigned int lcore, int socket,
	uint32_t gap_threshold_us)
{
	struct zcs_tel_worker *t;

	t = rte_zmalloc_socket("zcs_tel_worker", sizeof(*t), RTE_CACHE_LINE_SIZE, socket);
	if (t == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	t->st = st;
	t->shard = shard;
	t->lcore = lcore;
	t->gap_threshold_us = gap_threshold_us;
	t->gap_threshold = rte_get_tsc_hz() * gap_threshold_us / 1000000;
	t->last_tsc = rte_rdtsc();
	zcs_hist_init(&t->e2e);
	zcs_hist_init(&t->rtt);
	zcs_hist_init(&t->service);
	zcs_hist_init(&t->gap);
	return t;
}

void
zcs_tel_worker_free(struct zcs_tel_worker *t)
{
	rte_free(t);
}

/* ---- usage callback for /eal/lcore/info (DPDK >= 23.03) ---- */

#ifdef ZCS_HAVE_LCORE_USAGE_CB
static int
lcore_usage(unsigned int lcore, struct rte_lcore_usage *u)
{
	const struct zcs_tel_worker *t;
	int rc = -ENOENT;

	/* Called from EAL's telemetry handler: same lock discipline as ours. */
	pthread_mutex_lock(&eng_lock);
	t = lcore < RTE_MAX_LCORE ? by_lcore[lcore] : NULL;
	if (t != NULL) {
		u->busy_cycles = __atomic_load_n(&t->st->busy_cycles, __ATOMIC_RELAXED);
		u->total_cycles =
			u->busy_cycles + __atomic_load_n(&t->st->idle_cycles, __ATOMIC_RELAXED);
		rc = 0;
	}
	pthread_mutex_unlock(&eng_lock);
	return rc;
}
#endif

/* ---- publish / retract ---- */

int
zcs_tel_engine_publish(const struct zcs_tel_engine *e)
{
	unsigned int i;
	int rc;

	rc = zcs_telemetry_init();
	if (rc != 0)
		return rc;
	pthread_mutex_lock(&eng_lock);
	eng = *e;
	memset(by_lcore, 0, sizeof(by_lcore));
	for (i = 0; i < e->shards; i++)
		if (e->w[i] != NULL && e->w[i]->lcore < RTE_MAX_LCORE)
			by_lcore[e->w[i]->lcore] = e->w[i];
	eng_live = true;
	pthread_mutex_unlock(&eng_lock);
#ifdef ZCS_HAVE_LCORE_USAGE_CB
	rte_lcore_register_usage_cb(lcore_usage);
#endif
	return 0;
}

void
zcs_tel_engine_retract(void)
{
	pthread_mutex_lock(&eng_lock);
	eng_live = false;
	memset(&eng, 0, sizeof(eng));
	memset(by_lcore, 0, sizeof(by_lcore));
	pthread_mutex_unlock(&eng_lock);
}

int
zcs_tel_test_stall(unsigned int lcore, uint32_t us)
{
	int rc = -EINVAL;

	pthread_mutex_lock(&eng_lock);
	if (lcore < RTE_MAX_LCORE && by_lcore[lcore] != NULL) {
		by_lcore[lcore]->test_stall_us = us;
		rc = 0;
	}
	pthread_mutex_unlock(&eng_lock);
	return rc;
}

/* ---- reply helpers: each returns 0 or the first rte_tel_data error ---- */

static uint64_t
cycles_to_ns(uint64_t c, uint64_t hz)
{
	return hz == 0 ? 0 : (uint64_t)((double)c * 1e9 / (double)hz);
}

/* A decimal parameter below limit. -EINVAL when missing, malformed or out of range. */
static int
parse_index(const char *params, unsigned int limit, unsigned int *out)
{
	uint64_t v;

	if (limit == 0 || zcs_parse_u64(params, limit - 1, &v) != 0)
		return -EINVAL;
	*out = (unsigned int)v;
	return 0;
}

/* count, min, mean, p50 .. p99_99, max of h in ns: hz != 0, h counts cycles at hz; 0, ns. */
static int
add_summary(struct rte_tel_data *d, const struct zcs_hist *h, uint64_t hz)
{
	struct zcs_hist_summary s;
	int rc = 0;

#define NS(v) (hz != 0 ? cycles_to_ns((v), hz) : (v))
	zcs_hist_summarize(&s, h);
	rc = rc ?: rte_tel_data_add_dict_u64(d, "count", s.count);
	rc = rc ?: rte_tel_data_add_dict_u64(d, "min", NS(s.min));
	rc = rc
		?: rte_tel_data_add_dict_u64(d, "mean",
			   hz != 0 ? (uint64_t)(s.mean * 1e9 / (double)hz + 0.5)
				   : (uint64_t)(s.mean + 0.5));
	rc = rc ?: rte_tel_data_add_dict_u64(d, "p50", NS(s.p50));
	rc = rc ?: rte_tel_data_add_dict_u64(d, "p90", NS(s.p90));
	rc = rc ?: rte_tel_data_add_dict_u64(d, "p99", NS(s.p99));
	rc = rc ?: rte_tel_data_add_dict_u64(d, "p99_9", NS(s.p999));
	rc = rc ?: rte_tel_data_add_dict_u64(d, "p99_99", NS(s.p9999));
	rc = rc ?: rte_tel_data_add_dict_u64(d, "max", NS(s.max));
#undef NS
	return rc;
}

/*
 * Unless rc already holds an error, add *c to d as name and hand it over:
 * keep = 0, so DPDK frees it once it has written the reply out, and *c
 * becomes NULL. On error *c stays the caller's to free. Returns the new rc.
 */
static int
add_container(struct rte_tel_data *d, const char *name, struct rte_tel_data **c, int rc)
{
	rc = rc ?: rte_tel_data_add_dict_container(d, name, *c, 0);
	if (rc == 0)
		*c = NULL;
	return rc;
}

/*
 * A snapshot of h summarized into a new dict added to d as name. hz != 0:
 * h is in cycles; 0: already in ns.
 */
static int
add_hist(struct rte_tel_data *d, const char *name, const struct zcs_hist *h, uint64_t hz)
{
	struct zcs_hist *snap = malloc(sizeof(*snap));
	struct rte_tel_data *c = rte_tel_data_alloc();
	int rc = -ENOMEM;

	if (snap != NULL && c != NULL) {
		zcs_hist_snapshot(snap, h);
		rc = rte_tel_data_start_dict(c);
		rc = rc ?: add_summary(c, snap, hz);
		rc = add_container(d, name, &c, rc);
	}
	free(snap);
	rte_tel_data_free(c);
	return rc;
}

/* Take the engine lock; -ENODEV (unlocked) when no engine is published. */
static int
lock_engine(void)
{
	pthread_mutex_lock(&eng_lock);
	if (eng_live)
		return 0;
	pthread_mutex_unlock(&eng_lock);
	return -ENODEV;
}

static void
unlock_engine(void)
{
	pthread_mutex_unlock(&eng_lock);
}

static const char *
nonce_name(uint8_t mode)
{
	const char *n = zcs_nonce_mode_name(mode);

	return n != NULL ? n : "unknown";
}

/* The signer's nonce mode; "unknown" until a handshake (nobody has said). */
static const char *
shard_nonce_name(const struct zcs_shard_info *si)
{
	return si->nonce_known ? nonce_name(si->signer_nonce_mode) : "unknown";
}

/* ---- commands ---- */

static int
array_of(struct rte_tel_data **out, enum rte_tel_value_type type)
{
	*out = rte_tel_data_alloc();
	if (*out == NULL)
		return -ENOMEM;
	return rte_tel_data_start_array(*out, type);
}

/* Per shard: lcore, isolation of its CPUs, nonce mode (one array each, indexed by shard). */
static int
info_arrays(struct rte_tel_data *d)
{
	struct rte_tel_data *lc = NULL, *iso = NULL, *nonce = NULL;
	unsigned int i;
	int rc;

	rc = array_of(&lc, RTE_TEL_U64_VAL);
	rc = rc ?: array_of(&iso, RTE_TEL_STRING_VAL);
	rc = rc ?: array_of(&nonce, RTE_TEL_STRING_VAL);
	for (i = 0; rc == 0 && i < eng.shards; i++) {
		struct zcs_shard_info si;

		rc = zcs_shard_info(eng.sh, i, &si);
		rc = rc ?: rte_tel_data_add_array_u64(lc, si.lcore);
		rc = rc
			?: rte_tel_data_add_array_string(
				   iso, eng.isolation[i] != NULL ? eng.isolation[i] : "unknown");
		rc = rc ?: rte_tel_data_add_array_string(nonce, shard_nonce_name(&si));
	}
	rc = add_container(d, "shard_lcore", &lc, rc);
	rc = add_container(d, "shard_isolation", &iso, rc);
	rc = add_container(d, "shard_nonce_mode", &nonce, rc);
	rte_tel_data_free(lc);
	rte_tel_data_free(iso);
	rte_tel_data_free(nonce);
	return rc;
}

static int
info_dict(struct rte_tel_data *d)
{
	struct zcs_engine_info ei;
	uint64_t hz;
	int rc;

	zcs_engine_info(eng.sh, &ei);
	hz = ei.tsc_hz;
	rc = rte_tel_data_start_dict(d);
	rc = rc ?: rte_tel_data_add_dict_string(d, "version", ZCS_VERSION);
	rc = rc ?: rte_tel_data_add_dict_u64(d, "pid", (uint64_t)getpid());
	rc = rc ?: rte_tel_data_add_dict_u64(d, "shards", eng.shards);
	rc = rc ?: rte_tel_data_add_dict_u64(d, "lcores", rte_lcore_count());
	rc = rc ?: rte_tel_data_add_dict_u64(d, "main_lcore", rte_get_main_lcore());
	rc = rc ?: rte_tel_data_add_dict_string(d, "poll_mode", zcs_poll_mode_name(eng.poll));
	rc = rc
		?: rte_tel_data_add_dict_u64(
			   d, "gap_threshold_ns", (uint64_t)eng.gap_threshold_us * 1000);
	rc = rc ?: rte_tel_data_add_dict_u64(d, "tsc_hz", hz);
	rc = rc ?: rte_tel_data_add_dict_u64(d, "uptime_ns", cycles_to_ns(ei.uptime_tsc, hz));
	rc = rc ?: rte_tel_data_add_dict_u64(d, "client_slots", ei.client_slots);
	return rc ?: info_arrays(d);
}

static int
shards_array(struct rte_tel_data *d)
{
	unsigned int i;
	int rc;

	rc = rte_tel_data_start_array(d, RTE_TEL_U64_VAL);
	for (i = 0; rc == 0 && i < eng.shards; i++)
		rc = rte_tel_data_add_array_u64(d, i);
	return rc;
}

typedef int (*engine_fill)(struct rte_tel_data *d);

/* The commands without a parameter: fill d with fn(d) under the lock. */
static int
on_engine(const char *params, struct rte_tel_data *d, engine_fill fn)
{
	int rc;

	if (params != NULL && params[0] != '\0')
		return -EINVAL;
	rc = lock_engine();
	if (rc != 0)
		return rc;
	rc = fn(d);
	unlock_engine();
	return rc;
}

static int
cmd_info(const char *cmd, const char *params, struct rte_tel_data *d)
{
	RTE_SET_USED(cmd);
	return on_engine(params, d, info_dict);
}

static int
cmd_shards(const char *cmd, const char *params, struct rte_tel_data *d)
{
	RTE_SET_USED(cmd);
	return on_engine(params, d, shards_array);
}

/* Non-zero completion counts by status name (by_status), as one dict. */
static int
add_by_status(struct rte_tel_data *d, const struct zcs_shard_info *si)
{
	struct rte_tel_data *c = rte_tel_data_alloc();
	unsigned int i;
	int rc;

	if (c == NULL)
		return -ENOMEM;
	rc = rte_tel_data_start_dict(c);
	for (i = 0; rc == 0 && i < ZCS_STATUS_MAX; i++)
		if (si->by_status[i] != 0)
			rc = rte_tel_data_add_dict_u64(
				c, zcs_status_name((int)i), si->by_status[i]);
	rc = add_container(d, "by_status", &c, rc);
	rte_tel_data_free(c);
	return rc;
}

/*
 * The signer's own view (its last STATS_REPLY) as the dict "signer"; absent
 * until one arrived (stats_interval_ms = 0, or a signer older than STATS):
 * zeros would read as empty pools. stats_age_ms says how fresh it is; it keeps
 * growing while the shard is down.
 */
static int
add_signer_stats(struct rte_tel_data *d, const struct zcs_shard_info *si, uint64_t hz)
{
	const struct zcs_signer_stats *sp = &si->signer;
	struct rte_tel_data *c;
	uint64_t now = rte_rdtsc();
	int rc;

	if (si->stats_rc != 0 || sp->rx_tsc == 0)
		return si->stats_rc;
	c = rte_tel_data_alloc();
	if (c == NULL)
		return -ENOMEM;
	rc = rte_tel_data_start_dict(c);
	rc = rc ?: rte_tel_data_add_dict_string(c, "nonce_mode", nonce_name(sp->nonce_mode));
	rc = rc ?: rte_tel_data_add_dict_u64(c, "ecdsa_pool_depth", sp->ecdsa_depth);
	rc = rc ?: rte_tel_data_add_dict_u64(c, "ecdsa_pool_capacity", sp->ecdsa_capacity);
	rc = rc ?: rte_tel_data_add_dict_u64(c, "schnorr_pool_depth", sp->schnorr_depth);
	rc = rc ?: rte_tel_data_add_dict_u64(c, "schnorr_pool_capacity", sp->schnorr_capacity);
	rc = rc ?: rte_tel_data_add_dict_u64(c, "refilled", sp->refilled);
	rc = rc ?: rte_tel_data_add_dict_u64(c, "misses", sp->misses);
	rc = rc ?: rte_tel_data_add_dict_u64(c, "discards", sp->discards);
	rc = rc ?: rte_tel_data_add_dict_u64(c, "signed_ok", sp->signed_ok);
	rc = rc
		?: rte_tel_data_add_dict_u64(c, "stats_age_ms",
			   now > sp->rx_tsc ? cycles_to_ns(now - sp->rx_tsc, hz) / 1000000 : 0);
	rc = add_container(d, "signer", &c, rc);
	rte_tel_data_free(c);
	return rc;
}

static int
shard_dict(struct rte_tel_data *d, unsigned int n)
{
	char hex[2 * ZCS_MEASUREMENT_LEN + 1];
	struct zcs_shard_info si;
	int rc;

	rc = zcs_shard_info(eng.sh, n, &si);
	rc = rc ?: rte_tel_data_start_dict(d);
	rc = rc ?: rte_tel_data_add_dict_u64(d, "shard", n);
	rc = rc ?: rte_tel_data_add_dict_string(d, "state", zcs_shard_conn_name(si.state));
	rc = rc ?: rte_tel_data_add_dict_u64(d, "lcore", si.lcore);
	rc = rc ?: rte_tel_data_add_dict_string(d, "endpoint", si.endpoint);
	rc = rc ?: rte_tel_data_add_dict_u64(d, "signer_keys", si.signer_keys);
	rc = rc
		?: rte_tel_data_add_dict_string(d, "signer_key_source",
			   si.signer_key_source != 0 ? zcs_key_source_name(si.signer_key_source)
						     : "unknown");
	rc = rc ?: rte_tel_data_add_dict_string(d, "nonce_mode", shard_nonce_name(&si));
	/* The measurement of the last HELLO_REPLY: zeros until a signer answered. */
	zcs_hex_encode(si.signer_measurement, ZCS_MEASUREMENT_LEN, hex);
	rc = rc ?: rte_tel_data_add_dict_string(d, "measurement", hex);
	if (si.has_expected_measurement) {
		zcs_hex_encode(si.expected_measurement, ZCS_MEASUREMENT_LEN, hex);
		rc = rc ?: rte_tel_data_add_dict_string(d, "expected_measurement", hex);
	}
	if (si.refused_reason[0] != '\0')
		rc = rc ?: rte_tel_data_add_dict_string(d, "refused_reason", si.refused_reason);
	rc = rc ?: rte_tel_data_add_dict_u64(d, "ring_count", si.ring_count);
	rc = rc ?: rte_tel_data_add_dict_u64(d, "ring_capacity", si.ring_capacity);
	rc = rc ?: rte_tel_data_add_dict_u64(d, "in_flight", si.inflight);
	rc = rc ?: rte_tel_data_add_dict_u64(d, "dequeued", si.dequeued);
	rc = rc ?: rte_tel_data_add_dict_u64(d, "sent", si.sent);
	rc = rc ?: rte_tel_data_add_dict_u64(d, "signed", si.signed_ok);
	rc = rc ?: rte_tel_data_add_dict_u64(d, "expired", si.expired);
	rc = rc ?: rte_tel_data_add_dict_u64(d, "failed", si.failed);
	rc = rc ?: rte_tel_data_add_dict_u64(d, "connects", si.connects);
	rc = rc ?: rte_tel_data_add_dict_u64(d, "disconnects", si.disconnects);
	rc = rc ?: add_by_status(d, &si);
	rc = rc ?: add_signer_stats(d, &si, eng.sh->tsc_hz);
	return rc;
}

/* A dict of ns figures for shard n: {"shard": n, "unit": "ns", ...}. */
static int
start_ns_dict(struct rte_tel_data *d, unsigned int n)
{
	int rc = rte_tel_data_start_dict(d);

	rc = rc ?: rte_tel_data_add_dict_u64(d, "shard", n);
	return rc ?: rte_tel_data_add_dict_string(d, "unit", "ns");
}

static int
latency_dict(struct rte_tel_data *d, unsigned int n)
{
	struct zcs_hist *snap = malloc(sizeof(*snap)); /* too large for the stack */
	int rc;

	if (snap == NULL)
		return -ENOMEM;
	zcs_hist_snapshot(snap, &eng.w[n]->e2e);
	rc = start_ns_dict(d, n);
	rc = rc ?: add_summary(d, snap, eng.sh->tsc_hz);
	free(snap);
	return rc;
}

static int
signer_dict(struct rte_tel_data *d, unsigned int n)
{
	int rc = start_ns_dict(d, n);

	rc = rc ?: add_hist(d, "round_trip", &eng.w[n]->rtt, eng.sh->tsc_hz);
	return rc ?: add_hist(d, "service", &eng.w[n]->service, 0);
}

typedef int (*shard_fill)(struct rte_tel_data *d, unsigned int shard);

/* The commands whose parameter is a shard: fill d with fn(d, shard) under the lock. */
static int
on_shard(const char *params, struct rte_tel_data *d, shard_fill fn)
{
	unsigned int n = 0;
	int rc;

	rc = lock_engine();
	if (rc != 0)
		return rc;
	rc = parse_index(params, eng.shards, &n);
	rc = rc ?: fn(d, n);
	unlock_engine();
	return rc;
}

static int
cmd_shard(const char *cmd, const char *params, struct rte_tel_data *d)
{
	RTE_SET_USED(cmd);
	return on_shard(params, d, shard_dict);
}

static int
cmd_latency(const char *cmd, const char *params, struct rte_tel_data *d)
{
	RTE_SET_USED(cmd);
	return on_shard(params, d, latency_dict);
}

static int
cmd_signer(const char *cmd, const char *params, struct rte_tel_data *d)
{
	RTE_SET_USED(cmd);
	return on_shard(params, d, signer_dict);
}

/*
 * The most recent hiccups (at most max, and at most ZCS_TEL_HICCUPS - 1),
 * oldest first, without stopping the writer: an entry is trusted when it was
 * published before the first look at the counter and its slot could not have
 * been rewritten before the second.
 */
unsigned int
zcs_tel_read_hiccups(const struct zcs_tel_worker *t, struct zcs_tel_hiccup *out, unsigned int max)
{
	uint64_t first, last, lo, i;
	struct zcs_tel_hiccup copy[ZCS_TEL_HICCUPS];
	unsigned int n = 0;

	first = __atomic_load_n(&t->hiccup_next, __ATOMIC_ACQUIRE);
	for (i = 0; i < ZCS_TEL_HICCUPS; i++) {
		copy[i].realtime_ns = __atomic_load_n(&t->hiccups[i].realtime_ns, __ATOMIC_RELAXED);
		copy[i].gap_cycles = __atomic_load_n(&t->hiccups[i].gap_cycles, __ATOMIC_RELAXED);
	}
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	last = __atomic_load_n(&t->hiccup_next, __ATOMIC_RELAXED);
	/* Entry `last` may be half written into the slot of last - 64: leave that slot out too. */
	lo = last + 1 > ZCS_TEL_HICCUPS ? last + 1 - ZCS_TEL_HICCUPS : 0;
	if (first > max && first - max > lo)
		lo = first - max;
	for (i = lo; i < first; i++)
		out[n++] = copy[i & (ZCS_TEL_HICCUPS - 1)];
	return n;
}

/* recent_hiccup_time (UTC, µs) and recent_hiccup_gap_ns, parallel arrays, oldest first. */
static int
add_hiccups(struct rte_tel_data *d, const struct zcs_tel_worker *t, uint64_t hz)
{
	struct zcs_tel_hiccup h[ZCS_TEL_HICCUPS_SHOWN];
	struct rte_tel_data *when = NULL, *gap = NULL;
	unsigned int n, i;
	int rc;

	n = zcs_tel_read_hiccups(t, h, ZCS_TEL_HICCUPS_SHOWN);
	rc = array_of(&when, RTE_TEL_STRING_VAL);
	rc = rc ?: array_of(&gap, RTE_TEL_U64_VAL);
	for (i = 0; rc == 0 && i < n; i++) {
		time_t sec = (time_t)(h[i].realtime_ns / 1000000000u);
		char buf[64], date[32];
		struct tm tm;

		gmtime_r(&sec, &tm);
		strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(buf, sizeof(buf), "%s.%06" PRIu64 "Z", date,
			h[i].realtime_ns % 1000000000u / 1000);
		rc = rte_tel_data_add_array_string(when, buf);
		rc = rc ?: rte_tel_data_add_array_u64(gap, cycles_to_ns(h[i].gap_cycles, hz));
	}
	rc = add_container(d, "recent_hiccup_time", &when, rc);
	rc = add_container(d, "recent_hiccup_gap_ns", &gap, rc);
	rte_tel_data_free(when);
	rte_tel_data_free(gap);
	return rc;
}

static int
jitter_dict(struct rte_tel_data *d, const struct zcs_tel_worker *t)
{
	uint64_t hz = eng.sh->tsc_hz, busy, idle;
	struct zcs_shard_info si;
	int rc;

	rc = zcs_shard_info(eng.sh, t->shard, &si);
	busy = si.busy_cycles;
	idle = si.idle_cycles;
	rc = rc ?: rte_tel_data_start_dict(d);
	rc = rc ?: rte_tel_data_add_dict_u64(d, "lcore", t->lcore);
	rc = rc ?: rte_tel_data_add_dict_u64(d, "shard", t->shard);
	rc = rc ?: rte_tel_data_add_dict_string(d, "unit", "ns");
	rc = rc
		?: rte_tel_data_add_dict_u64(
			   d, "threshold_ns", (uint64_t)t->gap_threshold_us * 1000);
	rc = rc ?: rte_tel_data_add_dict_u64(d, "hiccups", si.loop_gaps);
	rc = rc
		?: rte_tel_data_add_dict_u64(
			   d, "largest_gap_ns", cycles_to_ns(si.loop_gap_max, hz));
	rc = rc ?: rte_tel_data_add_dict_u64(d, "busy_cycles", busy);
	rc = rc ?: rte_tel_data_add_dict_u64(d, "idle_cycles", idle);
	rc = rc
		?: rte_tel_data_add_dict_u64(d, "busy_share_permille",
			   busy + idle == 0 ? 0 : busy * 1000 / (busy + idle));
	rc = rc ?: add_hist(d, "gap", &t->gap, hz);
	rc = rc ?: add_hiccups(d, t, hz);
	return rc;
}

static int
cmd_jitter(const char *cmd, const char *params, struct rte_tel_data *d)
{
	unsigned int lcore = 0;
	int rc;

	RTE_SET_USED(cmd);
	rc = lock_engine();
	if (rc != 0)
		return rc;
	rc = parse_index(params, RTE_MAX_LCORE, &lcore);
	if (rc == 0 && by_lcore[lcore] == NULL)
		rc = -EINVAL; /* not one of this engine's worker lcores */
	rc = rc ?: jitter_dict(d, by_lcore[lcore]);
	unlock_engine();
	return rc;
}

/* ---- registration ---- */

static const struct {
	const char *name;
	telemetry_cb fn;
	const char *help;
} cmds[] = {
	/* Help texts stay below 128 bytes: DPDK 22.11 refuses longer ones. */
	{ZCS_TEL_CMD_INFO, cmd_info,
		"zcsign engine: version, shards, lcores, poll mode, uptime, per-shard lcore, "
		"isolation, nonce mode"},
	{ZCS_TEL_CMD_SHARDS, cmd_shards, "List the zcsign shard numbers"},
	{ZCS_TEL_CMD_SHARD, cmd_shard,
		"State, signer, measurement, counters, ring depth, in flight, signer's nonce "
		"pools of a shard. Parameter: shard"},
	{ZCS_TEL_CMD_LATENCY, cmd_latency,
		"End-to-end latency (submit to completion) percentiles of a shard's signed "
		"requests, ns. Parameter: shard"},
	{ZCS_TEL_CMD_SIGNER, cmd_signer,
		"Signer round trip and service time percentiles of a shard, ns. Parameter: shard"},
	{ZCS_TEL_CMD_JITTER, cmd_jitter,
		"Loop gaps of a worker lcore: percentiles, hiccups, busy/idle cycles. "
		"Parameter: lcore id"},
};

int
zcs_tel_call(const char *cmd, const char *params, struct rte_tel_data *d)
{
	unsigned int i;

	for (i = 0; i < RTE_DIM(cmds); i++)
		if (strcmp(cmd, cmds[i].name) == 0)
			return cmds[i].fn(cmd, params, d);
	return -ENOENT;
}

struct zcs_tel_worker *
zcs_tel_worker_of(unsigned int lcore)
{
	struct zcs_tel_worker *t = NULL;

	pthread_mutex_lock(&eng_lock);
	if (eng_live && lcore < RTE_MAX_LCORE)
		t = by_lcore[lcore];
	pthread_mutex_unlock(&eng_lock);
	return t;
}

int
zcs_telemetry_init(void)
{
	unsigned int i;
	int rc;

	pthread_mutex_lock(&eng_lock);
	if (registered) {
		pthread_mutex_unlock(&eng_lock);
		return 0;
	}
	for (i = 0; i < RTE_DIM(cmds); i++) {
		RTE_ASSERT(strlen(cmds[i].help) < HELP_MAX);
		rc = rte_telemetry_register_cmd(cmds[i].name, cmds[i].fn, cmds[i].help);
		if (rc != 0) {
			pthread_mutex_unlock(&eng_lock);
			ZCS_LOG(ERR, "telemetry: cannot register %s: %s", cmds[i].name,
				strerror(-rc));
			return rc;
		}
	}
	registered = true;
	pthread_mutex_unlock(&eng_lock);
	return 0;
}
