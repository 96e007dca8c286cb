/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Presignatures: the precomputed-nonce signing path of one signer (private to
 * zcsign-enclave, its tests and benchmarks). Argument order: context,
 * outputs, inputs.
 *
 * Two pools, one per kind of entry. An ECDSA entry (used by plain and
 * recoverable ECDSA) holds k^-1 mod n, r = R.x mod n and the recid bits
 * (bit 0: R.y odd, bit 1: R.x >= n); a BIP-340 entry holds k, negated when
 * R.y is odd, and R.x. R = k*G; k comes from getrandom(). A refill computes
 * R with secp256k1_ec_pubkey_create and inverts a batch of k with
 * Montgomery's trick (one inversion, by Fermat, per ZCS_PRESIG_BATCH
 * entries), so a refilled ECDSA entry costs little more than its k*G.
 *
 * The online step is scalar arithmetic mod n with libsecp256k1's constant-time
 * seckey tweaks: ECDSA s = k^-1 (z + r d), then low-S (which flips recid bit
 * 0); BIP-340 e = tagged_hash("BIP0340/challenge", R.x || P.x || m) mod n and
 * s = k + e d', with d' = d or n - d so that P has an even y (chosen from the
 * key's public parity without a branch, each time: no second copy of the keys).
 * A hash z >= n is reduced; z = 0 skips the addition (libsecp256k1 refuses a
 * zero tweak); e = 0 gives s = k. When a libsecp256k1 call returns 0 (a zero
 * product or sum) the entry is discarded, counted, and the next one is used.
 * Every entry is used once: it is wiped in the pool as it is consumed, before
 * its slot is handed back to the refill side.
 *
 * Each pool is a lock-free single-producer / single-consumer ring (C11
 * acquire/release on two indices, each on its own cache line): the producer
 * is the refill thread (or the caller of zcs_presig_refill(), never both),
 * the consumer the serve loop (zcs_presig_sign(), zcs_presig_drain()). The
 * hot path takes no lock and makes no syscall. An empty pool is not an error:
 * the request is signed by the RFC 6979 path (enclave/sign.h) and counted as
 * a miss.
 *
 * Memory: pools, their indices and the refill scratch live in one region from
 * zcs_secure_alloc() (mlock'ed, MADV_DONTDUMP, MADV_WIPEONFORK), so a forked
 * child finds its pools empty and can never reuse a parent's nonce.
 *
 * The refill thread runs at SCHED_IDLE (else nice 19), optionally pinned, and
 * keeps each pool between the low and the high water mark: below low it
 * refills by batches up to high, then looks again every ZCS_PRESIG_IDLE_US.
 */
#ifndef ZCS_PRESIG_H
#define ZCS_PRESIG_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#include <secp256k1.h>

#include "keystore.h"
#include "sign.h"

/* Pool kinds. */
enum zcs_presig_kind {
	ZCS_PRESIG_ECDSA = 0, /* plain and recoverable ECDSA */
	ZCS_PRESIG_SCHNORR = 1, /* BIP-340 */
	ZCS_PRESIG_KINDS = 2,
};

#define ZCS_PRESIG_DEFAULT_CAPACITY 4096
#define ZCS_PRESIG_MAX_CAPACITY (1u << 22)
/* Water marks, in percent of a pool's capacity. */
#define ZCS_PRESIG_DEFAULT_LOW_PCT 25
#define ZCS_PRESIG_DEFAULT_HIGH_PCT 100
/* Entries refilled (and inverted together) at a time. */
#define ZCS_PRESIG_BATCH 64
/* Refill thread: sleep between two looks at pools above their low mark. */
#define ZCS_PRESIG_IDLE_US 500

struct zcs_presig_conf {
	uint32_t capacity[ZCS_PRESIG_KINDS]; /* entries, <= ZCS_PRESIG_MAX_CAPACITY; 0: no pool */
	uint32_t low_pct; /* the refill thread starts below this share of capacity */
	uint32_t high_pct; /* and fills up to this one; low_pct < high_pct <= 100 */
	int refill_cpu; /* CPU the refill thread is pinned to, or -1 */
	/*
	 * Keep the refill thread at normal priority instead of the lowest
	 * (SCHED_IDLE, else nice 19). For tests that need its throughput on a
	 * box where other work keeps every CPU busy: there a SCHED_IDLE thread
	 * barely runs. Default false.
	 */
	bool refill_normal;
};

/* A snapshot of the counters (each read atomically, the set not as a whole). */
struct zcs_presig_stats {
	uint32_t depth[ZCS_PRESIG_KINDS]; /* entries ready */
	uint32_t capacity[ZCS_PRESIG_KINDS];
	uint64_t refilled[ZCS_PRESIG_KINDS]; /* entries produced */
	uint64_t misses[ZCS_PRESIG_KINDS]; /* requests that found the pool empty */
	uint64_t discards[ZCS_PRESIG_KINDS]; /* entries thrown away */
	uint64_t refill_errors; /* refill batches lost (getrandom or libsecp256k1 failure) */
};

struct zcs_presig;

/* Defaults: ZCS_PRESIG_DEFAULT_CAPACITY each, 25 % / 100 %, not pinned. */
void zcs_presig_conf_default(struct zcs_presig_conf *conf);

/*
 * Create the pools, empty, and the refill side's own randomized context.
 * Returns NULL with errno: EINVAL (bad capacity or water marks), ENOMEM,
 * EAGAIN / EPERM (mlock refused: RLIMIT_MEMLOCK), or a getrandom() error.
 */
struct zcs_presig *zcs_presig_create(const struct zcs_presig_conf *conf);

/*
 * Start the refill thread. Returns 0, -EALREADY, -EINVAL (refill_cpu not
 * usable), or -errno from pthread_create. Its priority is reported by
 * zcs_presig_priority().
 */
ZCS_WARN_UNUSED_RESULT int zcs_presig_start(struct zcs_presig *ps);

/* "SCHED_IDLE", "nice 19" or "normal": what the refill thread got ("" before start). */
const char *zcs_presig_priority(const struct zcs_presig *ps);

/*
 * Give the calling thread the refill thread's treatment: SCHED_IDLE, else
 * nice 19 (the signer's control thread, which must not take CPU from the
 * serve loop). Returns what it got, as zcs_presig_priority() names it.
 */
const char *zcs_thread_lower_priority(void);

/* Stop the refill thread if started, wipe every entry, free. NULL is a no-op. */
void zcs_presig_destroy(struct zcs_presig *ps);

/*
 * Producer side, synchronously: add up to max entries (at most one batch of
 * ZCS_PRESIG_BATCH) to the pool of kind, fewer when it is full. Only while the
 * refill thread is not started (the ring has one producer). Returns the number
 * added, or -errno (-EINVAL for a bad kind, -EBUSY with the thread running,
 * -EIO when libsecp256k1 failed, a getrandom() error); a failed batch is
 * wiped and counted in refill_errors.
 */
ZCS_WARN_UNUSED_RESULT int zcs_presig_refill(
	struct zcs_presig *ps, unsigned int kind, unsigned int max);

/*
 * Consumer side: sign a 32-byte hash with key under algo (enum zcs_algo)
 * with the next presignature of the matching pool; RFC 6979 (zcs_sign()) when
 * the pool is empty. ctx is the signer's (for the fallback). Same outputs and
 * returns as zcs_sign(): ZCS_OK, ZCS_ERR_BAD_ALGO, ZCS_ERR_SIGN_FAILED.
 * One consumer thread only.
 */
ZCS_WARN_UNUSED_RESULT int zcs_presig_sign(const secp256k1_context *ctx, struct zcs_presig *ps,
	uint8_t sig64[64], uint8_t *recid, const struct zcs_key *key, unsigned int algo,
	const uint8_t hash[32]);

/* Consumer side: wipe and drop every ready entry of kind. Returns how many. */
uint32_t zcs_presig_drain(struct zcs_presig *ps, unsigned int kind);

/* Counters, from any thread. */
void zcs_presig_stats(const struct zcs_presig *ps, struct zcs_presig_stats *out);

/*
 * Start-up self-test of nonce mode `nonce` (enum zcs_nonce_mode): with two
 * throwaway keys (P.y even and odd), signs known hashes (0, 1, n - 1, n, all
 * 0xff, a fixed pattern) with every algorithm through every path of the mode,
 * and verifies each signature with libsecp256k1 (verify, low-S, recovery
 * giving back the key, BIP-340 verify). rfc6979 must be deterministic, hedged
 * and precomputed must not repeat a nonce; precomputed also runs a private
 * pool through its online step and, drained, its RFC 6979 fallback.
 * Returns 0, or -1 with a one-line reason in err.
 */
ZCS_WARN_UNUSED_RESULT int zcs_selftest(
	const secp256k1_context *ctx, unsigned int nonce, char *err, size_t errlen);

#endif /* ZCS_PRESIG_H */
