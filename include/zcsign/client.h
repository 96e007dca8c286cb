/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * libzcsign: the gateway's side of zcsign.
 *
 * A gateway hands sign requests to zcsignd in place: zcs_submit() takes a
 * request object from the engine's mempool, fills it, stamps the TSC and
 * enqueues it on the ring of the shard that owns the account. The shard's
 * worker sends it to its signer and writes the signature into the same object,
 * which comes back on this client's completion ring: zcs_poll() returns it,
 * zcs_release() gives it back to the pool.
 *
 * Works from a DPDK secondary process (call rte_eal_init() with
 * --proc-type=secondary and zcsignd's --file-prefix first) and from any thread
 * of the EAL application that runs the engine. One struct zcs_client belongs
 * to one thread: submit, poll and release are not thread-safe on the same
 * client (use one client per gateway thread). Different clients never contend
 * except on the shard rings (multi-producer, lock-free).
 *
 * Guarantees: every request zcs_submit() accepts gets exactly one completion
 * (signed, or an error status); a refused request was not queued. Requests
 * for one account complete in submission order.
 *
 * Argument order: client, outputs, inputs.
 */
#ifndef ZCSIGN_CLIENT_H
#define ZCSIGN_CLIENT_H

#include <stdint.h>

#include <zcsign/status.h>
#include <zcsign/wire.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * A request: one mempool object, written by the client up to zcs_submit(), by
 * the worker until it is completed, and read by the client after zcs_poll().
 * Three cache lines: what the client writes, what the worker writes, the
 * signature.
 */
struct zcs_request {
	/* line 0: client */
	uint64_t account;
	uint64_t cookie; /**< the caller's own tag, returned untouched */
	uint64_t submit_tsc; /**< rte_rdtsc() at zcs_submit() */
	uint64_t deadline_tsc; /**< absolute TSC; 0: none. Checked before sending. */
	uint8_t hash[32];
	/* line 1: worker */
	uint8_t algo; /**< enum zcs_algo */
	uint8_t recid; /**< recoverable ECDSA: 0..3 */
	uint16_t client; /**< client slot that submitted it */
	uint16_t shard; /**< shard that owns the account */
	uint16_t status; /**< enum zcs_status, valid once completed */
	uint64_t seq; /**< worker's sequence number on its signer connection */
	uint64_t send_tsc; /**< TSC when the frame went out (0 if never sent) */
	uint64_t done_tsc; /**< TSC when completed */
	uint64_t signer_ns; /**< signer's own service time, from its reply */
	uint8_t op; /**< enum zcs_op */
	/**
	 * 1 from zcs_submit() until the engine completes it (internal: when the
	 * engine dies, its client completes exactly these with
	 * ZCS_ERR_ENGINE_DOWN).
	 */
	uint8_t inflight;
	uint8_t pad[2];
	/**
	 * Claim generation of the client slot at submit: zcs_poll() drops (to the
	 * pool) late completions of a previous owner of the slot.
	 */
	uint32_t client_gen;
	uint64_t reserved[2];
	/* lines 2-3 */
	/**
	 * ZCS_OP_SIGN: compact signature when status is ZCS_OK.
	 * ZCS_OP_PUBKEY: the 33-byte compressed public key; bytes 1..32 are also
	 * the BIP-340 x-only key.
	 */
	uint8_t sig[64];
} __attribute__((aligned(64)));

static_assert(sizeof(struct zcs_request) == 192, "zcs_request is three cache lines");
static_assert(offsetof(struct zcs_request, algo) == 64, "worker line");
static_assert(offsetof(struct zcs_request, sig) == 128, "signature line");
static_assert(offsetof(struct zcs_request, client_gen) == 108, "client_gen");

/** What a request asks for. */
enum zcs_op {
	ZCS_OP_SIGN = 0,
	ZCS_OP_PUBKEY = 1, /**< the account's public key, from its shard's signer */
};

/** What to sign: the caller's view of a request. */
struct zcs_sign_args {
	uint64_t account;
	uint64_t cookie;
	uint64_t deadline_tsc; /**< 0: no deadline */
	unsigned int algo; /**< enum zcs_algo */
	const uint8_t *hash; /**< 32 bytes */
};

struct zcs_client;

/**
 * Attach to a running engine: claim a client slot (and its completion ring).
 * rte_eal_init() must have run in this process.
 *
 * @param name
 *   A label for this client shown in status and telemetry (truncated to 31).
 * @return
 *   The client, or NULL with rte_errno set:
 *   - ENOENT: no engine in this EAL (not running, or another --file-prefix);
 *     the log line says what to check.
 *   - ENOSPC: every client slot is taken.
 *   - EPROTO: the engine was built with another zcsign layout version.
 *   - ENOMEM: no memory for the client's mempool cache.
 */
struct zcs_client *zcs_attach(const char *name);

/**
 * Give the slot back. Completions waiting in its ring return to the pool now;
 * requests still in flight are completed into the ring later and released by
 * the next client to claim the slot (at its attach, or dropped by its
 * zcs_poll(): a client only ever sees its own requests).
 * @param c
 *   A client from zcs_attach(), or NULL (no-op).
 */
void zcs_detach(struct zcs_client *c);

/** Client slot number (what zcs_request.client holds). */
uint16_t zcs_client_slot(const struct zcs_client *c);

/** Number of shards of the attached engine. */
uint16_t zcs_shard_count(const struct zcs_client *c);

/**
 * Submit one sign request. Returns immediately.
 *
 * @return
 *   - 0: queued; exactly one completion will follow.
 *   - -EINVAL: bad algorithm or NULL hash; nothing queued.
 *   - -ENOBUFS: the request pool is empty (too much in flight); nothing queued.
 *   - -EBUSY: the shard's ring is full; nothing queued.
 *   - -ESHUTDOWN: the engine is stopping; nothing queued.
 *   - -ENOTCONN: the engine process died (zcs_poll() saw its heartbeat stop);
 *     nothing queued. Recovery: zcs_detach(), then attach to a restarted
 *     zcsignd (a DPDK secondary must restart its process: its EAL cannot
 *     attach to a new primary), or, embedded, restart the engine.
 */
int zcs_submit(struct zcs_client *c, const struct zcs_sign_args *args);

/**
 * Ask for an account's public key (forwarded to the shard's signer). Same
 * returns as zcs_submit(); the completion has op ZCS_OP_PUBKEY.
 */
int zcs_submit_pubkey(struct zcs_client *c, uint64_t account, uint64_t cookie);

/**
 * Submit up to n requests, in order, stopping at the first refusal.
 *
 * @param err
 *   When fewer than n were queued: the refusal of the first one not queued
 *   (as zcs_submit() returns); else 0. May be NULL.
 * @return
 *   Number queued (a prefix of args).
 */
unsigned int zcs_submit_burst(
	struct zcs_client *c, int *err, const struct zcs_sign_args *args, unsigned int n);

/**
 * Take completed requests. Never blocks.
 *
 * A poll that finds nothing also watches the engine's heartbeat (at most every
 * 10 ms): once the beat is older than 100 ms and the engine's process is gone,
 * every request this client submitted and the engine had not completed is
 * returned, once, with status ZCS_ERR_ENGINE_DOWN (one log line says so), and
 * zcs_submit() returns -ENOTCONN from then on.
 *
 * @return
 *   Number of requests written to out (0..n). Read status, sig, recid,
 *   cookie..., then zcs_release() them.
 */
unsigned int zcs_poll(struct zcs_client *c, struct zcs_request **out, unsigned int n);

/** Return completed requests to the pool. */
void zcs_release(struct zcs_client *c, struct zcs_request **reqs, unsigned int n);

/** Convert nanoseconds to TSC cycles (for deadlines and latency). */
uint64_t zcs_ns_to_tsc(uint64_t ns);

/** Convert TSC cycles to nanoseconds. */
uint64_t zcs_tsc_to_ns(uint64_t cycles);

#ifdef __cplusplus
}
#endif

#endif /* ZCSIGN_CLIENT_H */
