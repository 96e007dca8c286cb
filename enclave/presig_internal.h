/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * PRIVATE to the presignature module (presig.c, presig_scalar.c,
 * presig_selftest.c) and its unit test: never installed, not a contract for
 * anyone else. The module's contract is presig.h.
 *
 * What the three files share: the layout of an entry, a pool (one SPSC ring)
 * and the refill scratch; the ring's hot operations (static inline, used on
 * the serve loop's path); and the scalar arithmetic mod n of presig_scalar.c.
 *
 * Scalars are 32-byte big-endian arrays, as libsecp256k1's seckey functions
 * take them. Every function below that touches a secret does so in constant
 * time (libsecp256k1's seckey calls or branch-free byte loops); a branch is
 * taken only on public values or on a libsecp256k1 failure.
 */
#ifndef ZCS_PRESIG_INTERNAL_H
#define ZCS_PRESIG_INTERNAL_H

#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <secp256k1.h>

#include "keystore.h"
#include "presig.h"

#ifndef likely
#define likely(x) __builtin_expect(!!(x), 1)
#endif
#ifndef unlikely
#define unlikely(x) __builtin_expect(!!(x), 0)
#endif

/* BIP-340's challenge tag: e = tagged_hash(PRESIG_CHALLENGE_TAG, R.x || P.x || m). */
#define PRESIG_CHALLENGE_TAG "BIP0340/challenge"

/* One presignature. ECDSA: k^-1, r, recid bits. BIP-340: k (even-y R), R.x, 0. */
struct presig_entry {
	uint8_t k[32];
	uint8_t rx[32];
	uint8_t recid;
	uint8_t pad[7];
};

/*
 * One SPSC ring. head and tail count entries ever published and consumed;
 * depth is head - tail. Each side's index and counters sit on its own cache
 * line; the consumer keeps a cached head so a deep pool costs it no look at
 * the producer's line per entry.
 */
struct presig_pool {
	/* Producer's line: written by the refill side only. */
	alignas(64) _Atomic uint64_t head;
	_Atomic uint64_t refilled;
	/* Consumer's line. */
	alignas(64) _Atomic uint64_t tail;
	uint64_t head_cache;
	_Atomic uint64_t misses;
	_Atomic uint64_t discards;
	/* Set at creation, read-only after. */
	alignas(64) uint32_t capacity;
	uint32_t mask;
	uint32_t low; /* entries */
	uint32_t high;
	struct presig_entry *slots;
};

/* The refill side's working set: nonces and prefix products of one batch. */
struct presig_scratch {
	uint8_t k[ZCS_PRESIG_BATCH][32];
	uint8_t prefix[ZCS_PRESIG_BATCH][32];
};

struct zcs_presig {
	struct presig_pool *pools[ZCS_PRESIG_KINDS]; /* in region */
	struct presig_scratch *scratch; /* in region */
	void *region; /* zcs_secure_alloc() */
	size_t region_len;
	secp256k1_context *ctx; /* the refill side's own, randomized */
	struct zcs_presig_conf conf;
	_Atomic uint64_t refill_errors; /* producer-written */
	atomic_int stop;
	atomic_int prio;
	bool started;
	pthread_t thread;
};

/* ---- the ring (presig.c's producer and consumer, and the test's) ---- */

static inline struct presig_entry *
ring_slot(const struct presig_pool *p, uint64_t i)
{
	return &p->slots[i & p->mask];
}

/* Entries ready, from any thread (clamped: tail may be read stale). */
static inline uint32_t
pool_depth(const struct presig_pool *p)
{
	uint64_t tail = atomic_load_explicit(&p->tail, memory_order_acquire);
	uint64_t head = atomic_load_explicit(&p->head, memory_order_acquire);
	uint64_t d = head - tail;

	return d < p->capacity ? (uint32_t)d : p->capacity;
}

/* Producer: free slots, and in *head the index of the first. */
static inline uint32_t
ring_room(const struct presig_pool *p, uint64_t *head)
{
	*head = atomic_load_explicit(&p->head, memory_order_relaxed);
	/* Acquire: the slots the consumer handed back are wiped and free to write. */
	return p->capacity -
		(uint32_t)(*head - atomic_load_explicit(&p->tail, memory_order_acquire));
}

/* Producer: make the n entries written from head on visible to the consumer. */
static inline void
ring_publish(struct presig_pool *p, uint64_t head, unsigned int n)
{
	/* Release: the entries are written before the consumer can see them. */
	atomic_store_explicit(&p->head, head + n, memory_order_release);
}

/* Consumer: the next entry, or NULL when the pool is empty. */
static inline struct presig_entry *
ring_peek(struct presig_pool *p)
{
	uint64_t tail = atomic_load_explicit(&p->tail, memory_order_relaxed);

	if (unlikely(tail == p->head_cache)) {
		/* Acquire: the entries up to head are fully written. */
		p->head_cache = atomic_load_explicit(&p->head, memory_order_acquire);
		if (tail == p->head_cache)
			return NULL;
	}
	return ring_slot(p, tail);
}

/*
 * Consumer: wipe the entry just used and hand its slot back. Release orders
 * the wipe before the producer can see the slot free and reuse it.
 */
static inline void
ring_pop(struct presig_pool *p, struct presig_entry *e)
{
	uint64_t tail = atomic_load_explicit(&p->tail, memory_order_relaxed);

	explicit_bzero(e, sizeof(*e));
	atomic_store_explicit(&p->tail, tail + 1, memory_order_release);
}

/* ---- scalar arithmetic mod n (presig_scalar.c) ---- */

/* The group order n and floor(n / 2), big-endian. */
extern const uint8_t presig_order_n[32];
extern const uint8_t presig_half_n[32];

/* dst = flag ? src : dst, flag 0 or 1, with no branch. */
void presig_cmov32(uint8_t dst[32], const uint8_t src[32], uint32_t flag);

/* 1 when all 32 bytes are zero, without a data-dependent branch. */
uint32_t presig_is_zero32(const uint8_t a[32]);

/*
 * out = in mod n, for any 256-bit in (one subtraction is enough: n > 2^255).
 * Returns 1 when in >= n. out may be in.
 */
uint32_t presig_reduce_mod_n(uint8_t out[32], const uint8_t in[32]);

/* 1 when s > n / 2: a high S, which ECDSA signers must negate. */
uint32_t presig_is_high(const uint8_t s[32]);

/*
 * out = a^-1 mod n as a^(n-2) (Fermat), by square-and-multiply with
 * libsecp256k1's constant-time multiplication; the exponent is public.
 * Returns 1, or 0 when a call failed (a not a valid scalar).
 */
int presig_inverse_mod_n(const secp256k1_context *ctx, uint8_t out[32], const uint8_t a[32]);

/*
 * The R part of an ECDSA entry: r = R.x mod n, recid bit 0 = R.y odd, bit 1 =
 * R.x >= n. Returns 0 when r = 0 (R.x = n: the entry is unusable), else 1.
 */
int presig_ecdsa_entry_r(struct presig_entry *e, const uint8_t r33[33]);

/*
 * A BIP-340 entry: R.x, and k negated when R.y is odd (so k*G has an even y).
 * Returns 1, or 0 when libsecp256k1 refused k.
 */
int presig_schnorr_entry(const secp256k1_context *ctx, struct presig_entry *e, const uint8_t k[32],
	const uint8_t r33[33]);

/*
 * Montgomery's trick, first half: s->prefix[i] = k_0 * ... * k_i, from
 * s->prefix[i - 1] and s->k[i] (s->k[0] for i = 0). Returns 1, or 0 when
 * libsecp256k1 refused the product.
 */
int presig_batch_prefix(const secp256k1_context *ctx, struct presig_scratch *s, unsigned int i);

/*
 * Montgomery's trick, second half: one inversion of prefix[n - 1] gives every
 * k_i^-1, written to the k of the n entries from slot head on of p.
 * Returns 0 or -EIO.
 */
int presig_invert_batch(const secp256k1_context *ctx, const struct presig_scratch *s,
	struct presig_pool *p, uint64_t head, unsigned int n);

/*
 * The ECDSA online step: s = k^-1 (z + r d) mod n, low-S. Writes sig64 = r || s
 * and recid only on success. Returns 1, or 0 when libsecp256k1 refused a step
 * (r d = 0, z + r d = 0, an invalid scalar): the entry must be discarded.
 */
int presig_ecdsa_online(const secp256k1_context *ctx, uint8_t sig64[64], uint8_t *recid,
	const struct presig_entry *e, const uint8_t seckey[32], const uint8_t hash[32]);

/* d' = d, or n - d when P.y is odd (BIP-340 signs for the even-y point), branch-free. */
int presig_even_y_seckey(const secp256k1_context *ctx, uint8_t out[32], const struct zcs_key *key);

/*
 * The BIP-340 online step: e = tagged_hash("BIP0340/challenge", R.x || P.x || m)
 * mod n, s = k + e d' mod n. Writes sig64 = R.x || s only on success. Returns
 * 1, or 0 when libsecp256k1 refused a step (s = 0, an invalid scalar): discard.
 */
int presig_schnorr_online(const secp256k1_context *ctx, uint8_t sig64[64],
	const struct presig_entry *e, const struct zcs_key *key, const uint8_t hash[32]);

#endif /* ZCS_PRESIG_INTERNAL_H */
