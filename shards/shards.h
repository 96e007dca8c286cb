/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * State shared between zcsignd (the EAL primary) and its clients (the same
 * process, or DPDK secondary processes): every shared DPDK object name, and
 * the layout of the engine memzone. The primary creates everything
 * (zcs_shards_create); clients look it up (zcs_shards_lookup). DPDK maps
 * shared memory at the same address in every process, so the pointers stored
 * here are valid everywhere.
 *
 * Writers: each zcs_shard_state is written by its worker lcore only; each
 * zcs_client_slot's counters by the client that owns the slot only; the
 * header fields by the primary's main lcore only. Readers (status,
 * telemetry) read without locks and may see counters a few events apart.
 */
#ifndef ZCS_SHARDS_H
#define ZCS_SHARDS_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_mempool.h>
#include <rte_pause.h>
#include <rte_ring.h>

#include <zcsign/client.h>
#include <zcsign/shard.h>
#include <zcsign/status.h>
#include <zcsign/wire.h>

/* Every shared name lives here. */
#define ZCS_MZ_ENGINE "zcs_engine"
#define ZCS_POOL_NAME "zcs_req_pool"
#define ZCS_SHARD_RING_FMT "zcs_shard_%u"
#define ZCS_CQ_RING_FMT "zcs_cq_%u"

/* Bumped whenever struct zcs_engine_shared or struct zcs_request changes. */
#define ZCS_LAYOUT_VERSION 5 /* 5: signer_key_source, slot.submitting, 3 more statuses */
#define ZCS_ENGINE_MAGIC 0x7a63736eU /* "zcsn" */
#define ZCS_MAX_CLIENTS 64
#define ZCS_ENDPOINT_MAX 128

/* Shard connection states (zcs_shard_state.state). */
enum zcs_shard_conn {
	ZCS_SHARD_DOWN = 0, /* no connection; waiting for the reconnect timer */
	ZCS_SHARD_CONNECTING = 1, /* non-blocking connect in progress */
	ZCS_SHARD_HANDSHAKE = 2, /* HELLO sent, waiting for HELLO_REPLY */
	ZCS_SHARD_UP = 3, /* signing */
	ZCS_SHARD_REFUSED = 4, /* signer's measurement or shard is not the expected one */
};

/*
 * The signer's own counters, from its last STATS_REPLY (docs/PROTOCOL.md), and
 * when the worker received it. A multiple of 8 bytes: it is copied word by
 * word under a sequence count (zcs_shard_signer_stats_read()).
 */
struct zcs_signer_stats {
	uint64_t rx_tsc; /* TSC when the reply was decoded; 0: no reply yet */
	uint64_t refilled; /* presignatures produced, both pools */
	uint64_t misses; /* SIGNs that found their pool empty (signed by RFC 6979) */
	uint64_t discards; /* presignatures thrown away */
	uint64_t signed_ok; /* SIGNs the signer answered ok, since it started */
	uint32_t ecdsa_depth;
	uint32_t ecdsa_capacity;
	uint32_t schnorr_depth;
	uint32_t schnorr_capacity;
	uint8_t nonce_mode; /* enum zcs_nonce_mode */
	uint8_t pad[7];
};

static_assert(sizeof(struct zcs_signer_stats) % sizeof(uint64_t) == 0, "signer stats words");

/* The same bytes as words, so that they can be copied with atomic loads and stores. */
union zcs_signer_stats_words {
	struct zcs_signer_stats s;
	uint64_t w[sizeof(struct zcs_signer_stats) / sizeof(uint64_t)];
};

/* Per-shard counters and state: written by the shard's worker only. */
struct zcs_shard_state {
	struct rte_ring *ring; /* MP enqueue (clients), SC dequeue (worker) */
	uint32_t state; /* enum zcs_shard_conn */
	uint32_t lcore;
	uint64_t dequeued; /* requests taken from the ring */
	uint64_t sent; /* frames sent to the signer */
	uint64_t signed_ok; /* completed with ZCS_OK */
	uint64_t expired; /* completed with ZCS_ERR_EXPIRED */
	uint64_t failed; /* completed with any other error */
	uint64_t inflight; /* sent, reply not yet received */
	uint64_t connects; /* successful handshakes */
	uint64_t disconnects; /* connections lost or dropped */
	uint64_t by_status[ZCS_STATUS_MAX];
	char endpoint[ZCS_ENDPOINT_MAX];
	uint8_t has_expected_measurement;
	uint8_t signer_nonce_mode;
	uint8_t signer_key_source; /* enum zcs_key_source; 0 until a signer answered */
	uint32_t signer_keys; /* from HELLO_REPLY, then every STATS_REPLY (hot reload) */
	uint8_t expected_measurement[ZCS_MEASUREMENT_LEN];
	uint8_t signer_measurement[ZCS_MEASUREMENT_LEN]; /* from the last HELLO_REPLY */
	/* Why the shard is REFUSED (wrong shard, measurement, attestation); "" otherwise. */
	char refused_reason[160];
	/*
	 * Worker loop accounting (telemetry_internal.h), TSC cycles: an iteration
	 * that did work is busy, one that did not (or slept in backoff mode) idle.
	 * A gap is the time between the starts of two iterations.
	 */
	uint64_t busy_cycles;
	uint64_t idle_cycles;
	uint64_t loop_gaps; /* gaps above gap_threshold_us (hiccups) */
	uint64_t loop_gap_max; /* largest gap seen */
	/*
	 * The signer's pools and counters (STATS every stats_interval_ms while
	 * UP). Kept when the connection goes down: rx_tsc tells how old they are.
	 */
	uint64_t stats_requests; /* STATS frames sent */
	uint32_t signer_stats_gen; /* sequence count: odd while the worker writes */
	union zcs_signer_stats_words signer_stats;
} __rte_cache_aligned;

/*
 * Sequence count over signer_stats (rte_seqcount is experimental in DPDK
 * 22.11): one writer, the shard's worker, that never waits; readers retry.
 */
static inline void
zcs_shard_signer_stats_write(struct zcs_shard_state *st, const struct zcs_signer_stats *s)
{
	union zcs_signer_stats_words u = {.s = *s};
	uint32_t gen = __atomic_load_n(&st->signer_stats_gen, __ATOMIC_RELAXED);
	unsigned int i;

	__atomic_store_n(&st->signer_stats_gen, gen + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	for (i = 0; i < RTE_DIM(u.w); i++)
		__atomic_store_n(&st->signer_stats.w[i], u.w[i], __ATOMIC_RELAXED);
	__atomic_store_n(&st->signer_stats_gen, gen + 2, __ATOMIC_RELEASE);
}

/**
 * Copy the signer's last counters, all from one STATS_REPLY. Any process.
 *
 * @return
 *   0 (out->rx_tsc is 0 when no reply came yet), or -EAGAIN when the worker
 *   was rewriting them at every try (it writes once per stats_interval_ms, so
 *   only a worker that died mid-write makes this last).
 */
static inline int
zcs_shard_signer_stats_read(const struct zcs_shard_state *st, struct zcs_signer_stats *out)
{
	union zcs_signer_stats_words u;
	unsigned int try, i;
	uint32_t g1, g2;

	for (try = 0; try < 1000; try++) {
		g1 = __atomic_load_n(&st->signer_stats_gen, __ATOMIC_ACQUIRE);
		if (g1 & 1) {
			rte_pause();
			continue;
		}
		for (i = 0; i < RTE_DIM(u.w); i++)
			u.w[i] = __atomic_load_n(&st->signer_stats.w[i], __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		g2 = __atomic_load_n(&st->signer_stats_gen, __ATOMIC_RELAXED);
		if (g1 == g2) {
			*out = u.s;
			return 0;
		}
	}
	return -EAGAIN;
}

/*
 * One client slot: claimed by zcs_attach with a compare-and-swap on in_use.
 * Ownership protocol (client.c): a free slot is claimed by CAS in_use 0 -> 1,
 * then pid is set; a slot whose pid is dead is reclaimed by CAS pid dead -> own
 * (only one claimer wins); release sets pid = 0 then in_use = 0 (release
 * order), so pid == 0 with in_use == 1 means "being claimed", never "dead".
 * The counters describe the current owner: reset at claim.
 */
struct zcs_client_slot {
	uint32_t in_use; /* 0 free, 1 claimed (atomic) */
	int32_t pid; /* owner, to reclaim slots of dead processes (atomic) */
	char name[32];
	struct rte_ring *cq; /* MP enqueue (workers), SC dequeue (owner) */
	uint64_t submitted; /* accepted by zcs_submit */
	uint64_t refused; /* refused by zcs_submit (pool empty, ring full, ...) */
	uint64_t completed; /* taken by zcs_poll */
	uint64_t stale; /* completions of a previous owner, returned to the pool */
	/*
	 * The owner's private mempool cache. It lives in DPDK shared memory, so
	 * whoever reclaims the slot of a dead owner flushes it back to the pool.
	 */
	struct rte_mempool_cache *cache;
	uint32_t gen; /* bumped at each claim; stamped in zcs_request.client_gen */
	/*
	 * 1 while the owner is inside zcs_submit*() (seq_cst store, then the
	 * stopping check, then the enqueue, then 0): zcs_engine_stop() sets
	 * stopping and waits for every slot to be out before the drain, so no
	 * accepted request can reach a ring the drain has already left.
	 */
	uint32_t submitting;
} __rte_cache_aligned;

/*
 * Reclaim the slots of dead client processes now rather than when slots run
 * out: their private cache and the completions in their ring go back to the
 * pool, their counters into the engine's retired totals, and the slot is free
 * again; a free slot's ring that received a dead owner's late completions is
 * emptied too. The engine calls it every ZCS_REAP_MS (an EAL alarm, so in
 * zcsignd and in an embedding gateway alike). Returns the slots reclaimed.
 */
#define ZCS_REAP_MS 100
struct zcs_engine_shared;

/*
 * The process pid runs no code any more: no such pid, or a zombie its parent
 * has not reaped yet. For a slot's owner (reclaim) and the engine (death).
 * Reads /proc: not for a hot path.
 */
bool zcs_shards_process_gone(int32_t pid);
unsigned int zcs_shards_reap(struct zcs_engine_shared *sh);

/* The heartbeat (zcs_engine_shared.beat_ms): how often, and when a client gives up. */
#define ZCS_BEAT_MS 20
#define ZCS_ENGINE_DEAD_MS 100
void zcs_shards_beat(struct zcs_engine_shared *sh);

/*
 * Test hook (NULL in production): zcs_submit*() call it after the stopping
 * check and before the enqueue, so a test can hold a client in that window.
 */
extern void (*zcs_client_test_stall)(void);

struct zcs_engine_shared {
	uint32_t magic; /* ZCS_ENGINE_MAGIC once fully created */
	uint32_t layout_version; /* ZCS_LAYOUT_VERSION */
	uint16_t shard_count;
	uint16_t client_slots;
	volatile uint32_t stopping; /* set at shutdown: zcs_submit refuses */
	uint64_t tsc_hz;
	uint64_t start_tsc;
	struct rte_mempool *pool;
	uint32_t pool_cache; /* size of each client's private mempool cache; 0: none */
	uint32_t ring_size; /* per shard ring, as configured */
	uint64_t undeliverable; /* completions no ring could take: a bug, see the log (atomic) */
	/*
	 * Counters of slots' earlier owners, folded in (atomic add) when a slot is
	 * claimed again, so engine totals survive clients coming and going.
	 */
	uint64_t retired_submitted;
	uint64_t retired_refused;
	uint64_t retired_completed;
	/*
	 * The engine's heartbeat: its pid, and CLOCK_MONOTONIC ms of its last
	 * beat (every ZCS_BEAT_MS, from an EAL alarm). A client that finds the
	 * beat older than ZCS_ENGINE_DEAD_MS and the pid gone completes what it
	 * has in flight with ZCS_ERR_ENGINE_DOWN (client.h).
	 */
	int32_t engine_pid;
	uint64_t beat_ms;
	struct zcs_client_slot clients[ZCS_MAX_CLIENTS];
	struct zcs_shard_state shards[ZCS_MAX_SHARDS];
} __rte_cache_aligned;

/* Sizes chosen by the engine's configuration. */
struct zcs_shards_conf {
	uint16_t shard_count;
	uint16_t client_slots; /* 1..ZCS_MAX_CLIENTS */
	uint32_t ring_size; /* per shard, power of two */
	uint32_t pool_size; /* requests in the pool */
	uint32_t pool_cache; /* per-client mempool cache */
	int socket_id[ZCS_MAX_SHARDS]; /* NUMA socket of each shard's worker */
};

/**
 * Primary: create the memzone, the request pool, the shard rings and the
 * completion rings, and publish them (magic set last).
 *
 * @param conf
 *   Sizes; shard_count 1..ZCS_MAX_SHARDS, client_slots 1..ZCS_MAX_CLIENTS,
 *   ring_size a power of two >= 2, pool_size >= 1, pool_cache
 *   <= RTE_MEMPOOL_CACHE_MAX_SIZE (0: clients use no cache).
 * @return
 *   The shared state, or NULL with rte_errno set and a log line naming the
 *   object that could not be created (nothing is left behind):
 *   - EINVAL: a size in conf is out of range.
 *   - EEXIST: an engine (or a stale object with one of its names) already
 *     exists in this DPDK process group.
 *   - ENOMEM: not enough DPDK memory (on that socket).
 *   - any other rte_errno from rte_memzone_reserve, rte_mempool_create or
 *     rte_ring_create.
 */
struct zcs_engine_shared *zcs_shards_create(const struct zcs_shards_conf *conf);

/**
 * Primary: unpublish (magic cleared first) and free everything
 * zcs_shards_create made. No client may be attached any more.
 *
 * @param sh
 *   From zcs_shards_create(), or NULL (no-op).
 */
void zcs_shards_destroy(struct zcs_engine_shared *sh);

/**
 * Any process: find the engine's shared state.
 *
 * @return
 *   The shared state, or NULL with rte_errno set:
 *   - ENOENT: no engine in this EAL (no memzone, or not fully created yet).
 *   - EPROTO: the engine uses another ZCS_LAYOUT_VERSION (logged).
 */
struct zcs_engine_shared *zcs_shards_lookup(void);

/** What all clients, present and past, did: retired counters plus every slot's. */
struct zcs_client_totals {
	uint64_t submitted;
	uint64_t refused;
	uint64_t completed;
};

/**
 * Sum the client counters. Lock-free: a slot being claimed at that very
 * moment may be counted twice or not at all; at shutdown nothing is claimed.
 */
void zcs_shards_client_totals(struct zcs_client_totals *t, const struct zcs_engine_shared *sh);

/**
 * Complete a request: status and TSC stamped, enqueued on the completion ring
 * of the client slot that submitted it. Any lcore (multi-producer).
 *
 * The enqueue cannot fail: each completion ring holds pool_size entries and a
 * request is in at most one ring. If it fails anyway (a bug, or r->client
 * corrupted), the request goes back to the pool, sh->undeliverable is counted
 * and an ERR line is logged: the client loses that one completion, but the
 * worker never spins on a ring nobody may drain, and the pool does not leak.
 *
 * @param sh
 *   Shared state.
 * @param r
 *   A request taken from a shard ring.
 * @param status
 *   enum zcs_status.
 * @param now_tsc
 *   rte_rdtsc() at completion; stored as r->done_tsc.
 */
void zcs_shards_complete(
	struct zcs_engine_shared *sh, struct zcs_request *r, uint16_t status, uint64_t now_tsc);

/* ---- snapshots: the one way to read engine and shard state (info.c) ---- */

/** Name of an enum zcs_shard_conn value ("down", "connecting", ...); "unknown" otherwise. */
const char *zcs_shard_conn_name(uint32_t state);

/**
 * One shard as a reader sees it: every counter loaded atomically (a few
 * events apart from each other, never torn), strings bounded and
 * NUL-terminated whatever the memzone holds.
 */
struct zcs_shard_info {
	uint16_t shard;
	uint32_t state; /* enum zcs_shard_conn */
	uint32_t lcore;
	char endpoint[ZCS_ENDPOINT_MAX];
	uint32_t ring_count; /* requests queued, not yet dequeued */
	uint32_t ring_capacity;
	uint64_t dequeued, sent, signed_ok, expired, failed, inflight;
	uint64_t connects, disconnects;
	uint64_t by_status[ZCS_STATUS_MAX];
	uint32_t signer_keys;
	/* Where the signer's keys came from (enum zcs_key_source); 0 until it answered. */
	uint8_t signer_key_source;
	/* Nonce mode of the last HELLO_REPLY; unknown until a signer answered. */
	bool nonce_known;
	uint8_t signer_nonce_mode; /* enum zcs_nonce_mode */
	/* The last HELLO_REPLY's measurement; absent (zeros) until one came. */
	bool has_signer_measurement;
	uint8_t signer_measurement[ZCS_MEASUREMENT_LEN];
	bool has_expected_measurement;
	uint8_t expected_measurement[ZCS_MEASUREMENT_LEN];
	/* Worker loop accounting, TSC cycles (engine/telemetry_internal.h). */
	uint64_t busy_cycles, idle_cycles, loop_gaps, loop_gap_max;
	uint64_t stats_requests; /* STATS frames sent */
	char refused_reason[160]; /* why REFUSED; "" otherwise */
	/* The signer's last STATS_REPLY (rx_tsc 0: none yet); stats_rc -EAGAIN: torn. */
	struct zcs_signer_stats signer;
	int stats_rc;
};

/**
 * Snapshot shard `shard`. Any process, no lock.
 * @return 0, or -EINVAL when the engine has no such shard.
 */
int zcs_shard_info(
	const struct zcs_engine_shared *sh, unsigned int shard, struct zcs_shard_info *out);

/** The engine as a whole, for status lines and telemetry. */
struct zcs_engine_info {
	uint16_t shard_count;
	uint16_t client_slots;
	unsigned int client_slots_used;
	bool stopping;
	uint64_t tsc_hz;
	uint64_t uptime_tsc; /* since the engine started, on this process's TSC */
	uint32_t ring_size;
	uint32_t pool_cache;
	uint64_t undeliverable;
	struct zcs_client_totals clients; /* zcs_shards_client_totals() */
	uint64_t signed_ok, expired, failed, inflight; /* summed over the shards */
};

/** Snapshot the engine header, the client totals and the per-shard sums. */
void zcs_engine_info(const struct zcs_engine_shared *sh, struct zcs_engine_info *out);

/** One attached client as a reader sees it (name made printable ASCII without '"' or '\\'). */
struct zcs_client_info {
	unsigned int slot;
	char name[32];
	int32_t pid;
	uint64_t submitted, refused, completed, stale;
};

/**
 * Snapshot client slot `slot`.
 * @return 0, -ENOENT (slot free), -EINVAL (no such slot).
 */
int zcs_client_info(
	const struct zcs_engine_shared *sh, unsigned int slot, struct zcs_client_info *out);

/** True when every shard is ZCS_SHARD_UP. */
bool zcs_shards_all_up(const struct zcs_engine_shared *sh);

#endif /* ZCS_SHARDS_H */
