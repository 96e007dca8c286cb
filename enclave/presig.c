/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Presignature pools: see presig.h for the contract. Read top to bottom:
 * constant-time scalar helpers, the ring, refill, the online step, the
 * refill thread, creation, and the start-up self-test.
 *
 * Scalars are 32-byte big-endian arrays, as libsecp256k1's seckey functions
 * take them; every secret goes through those (constant time) or through the
 * branch-free helpers below. Branches are taken only on public values (the
 * hash, e, the exponent n - 2) or on a libsecp256k1 failure, which is a
 * probability-2^-128 event and is answered by discarding the entry.
 */
#define _GNU_SOURCE /* pthread_attr_setaffinity_np */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <secp256k1.h>
#include <secp256k1_extrakeys.h>

#include <zcsign/status.h>
#include <zcsign/wire.h>

#include "keystore.h"
#include "presig.h"
#include "sign.h"

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* The group order n, Fermat's exponent n - 2, and floor(n / 2), big-endian. */
static const uint8_t order_n[32] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf,
	0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41};
static const uint8_t order_n_minus_2[32] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b,
	0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x3f};
static const uint8_t half_n[32] = {0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0x5d, 0x57, 0x6e, 0x73, 0x57, 0xa4, 0x50, 0x1d, 0xdf, 0xe9,
	0x2f, 0x46, 0x68, 0x1b, 0x20, 0xa0};

static const char challenge_tag[] = "BIP0340/challenge";

/* One presignature. ECDSA: k^-1, r, recid bits. BIP-340: k (even-y R), R.x, 0. */
struct entry {
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
struct pool {
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
	struct entry *slots;
};

/* The refill side's working set: nonces and prefix products of one batch. */
struct scratch {
	uint8_t k[ZCS_PRESIG_BATCH][32];
	uint8_t prefix[ZCS_PRESIG_BATCH][32];
};

/* Refill thread priority, as reported back by the thread. */
enum {
	PRIO_PENDING = 0,
	PRIO_IDLE = 1,
	PRIO_NICE = 2,
	PRIO_NORMAL = 3,
};

struct zcs_presig {
	struct pool *pools[ZCS_PRESIG_KINDS]; /* in region */
	struct scratch *scratch; /* in region */
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

/* ---- constant-time helpers on 32-byte big-endian scalars ---- */

/* out = a - b mod 2^256; returns the borrow (1 when a < b). */
static uint32_t
sub_be32(uint8_t out[32], const uint8_t a[32], const uint8_t b[32])
{
	uint32_t borrow = 0;
	int i;

	for (i = 31; i >= 0; i--) {
		uint32_t d = (uint32_t)a[i] - b[i] - borrow;

		out[i] = (uint8_t)d;
		borrow = d >> 31;
	}
	return borrow;
}

/* dst = flag ? src : dst, flag 0 or 1, with no branch (volatile keeps it so). */
static void
cmov32(uint8_t dst[32], const uint8_t src[32], uint32_t flag)
{
	volatile uint32_t vflag = flag;
	uint8_t mask = (uint8_t)(0u - vflag);
	int i;

	for (i = 0; i < 32; i++)
		dst[i] ^= (uint8_t)(mask & (dst[i] ^ src[i]));
}

/* 1 when all 32 bytes are zero, without a data-dependent branch. */
static uint32_t
is_zero32(const uint8_t a[32])
{
	uint32_t acc = 0;
	int i;

	for (i = 0; i < 32; i++)
		acc |= a[i];
	return (acc - 1) >> 31;
}

/*
 * out = in mod n, for any 256-bit in (one subtraction is enough: n > 2^255).
 * Returns 1 when in >= n. out may be in.
 */
static uint32_t
reduce_mod_n(uint8_t out[32], const uint8_t in[32])
{
	uint8_t t[32];
	uint32_t ge = sub_be32(t, in, order_n) ^ 1;

	if (out != in)
		memcpy(out, in, 32);
	cmov32(out, t, ge);
	explicit_bzero(t, sizeof(t));
	return ge;
}

/* 1 when s > n / 2: a high S, which ECDSA signers must negate. */
static uint32_t
is_high(const uint8_t s[32])
{
	uint8_t t[32];
	uint32_t high = sub_be32(t, half_n, s);

	explicit_bzero(t, sizeof(t));
	return high;
}

/*
 * out = a^-1 mod n as a^(n-2) (Fermat), by square-and-multiply with
 * libsecp256k1's constant-time multiplication; the exponent is public.
 * Returns 1, or 0 when a call failed (a not a valid scalar).
 */
static int
inverse_mod_n(const secp256k1_context *ctx, uint8_t out[32], const uint8_t a[32])
{
	uint8_t sq[32];
	int ok = 1;
	int bit;

	/* Bit 255 of n - 2 is set: start from a. */
	memcpy(out, a, 32);
	for (bit = 254; bit >= 0; bit--) {
		memcpy(sq, out, 32);
		ok &= secp256k1_ec_seckey_tweak_mul(ctx, out, sq);
		if ((order_n_minus_2[31 - bit / 8] >> (bit % 8)) & 1)
			ok &= secp256k1_ec_seckey_tweak_mul(ctx, out, a);
	}
	explicit_bzero(sq, sizeof(sq));
	return ok;
}

/* ---- the ring ---- */

static inline struct entry *
slot(const struct pool *p, uint64_t i)
{
	return &p->slots[i & p->mask];
}

/* Single-writer counter: a plain add, no locked instruction; readers load it atomically. */
static inline void
count(_Atomic uint64_t *c, uint64_t n)
{
	atomic_store_explicit(
		c, atomic_load_explicit(c, memory_order_relaxed) + n, memory_order_relaxed);
}

/* Entries ready, from any thread (clamped: tail may be read stale). */
static uint32_t
pool_depth(const struct pool *p)
{
	uint64_t tail = atomic_load_explicit(&p->tail, memory_order_acquire);
	uint64_t head = atomic_load_explicit(&p->head, memory_order_acquire);
	uint64_t d = head - tail;

	return d < p->capacity ? (uint32_t)d : p->capacity;
}

/* Producer: free slots, and in *head the index of the first. */
static inline uint32_t
ring_room(const struct pool *p, uint64_t *head)
{
	*head = atomic_load_explicit(&p->head, memory_order_relaxed);
	/* Acquire: the slots the consumer handed back are wiped and free to write. */
	return p->capacity -
		(uint32_t)(*head - atomic_load_explicit(&p->tail, memory_order_acquire));
}

/* Producer: make the n entries written from head on visible to the consumer. */
static inline void
ring_publish(struct pool *p, uint64_t head, unsigned int n)
{
	/* Release: the entries are written before the consumer can see them. */
	atomic_store_explicit(&p->head, head + n, memory_order_release);
}

/* Consumer: the next entry, or NULL when the pool is empty. */
static inline struct entry *
ring_peek(struct pool *p)
{
	uint64_t tail = atomic_load_explicit(&p->tail, memory_order_relaxed);

	if (unlikely(tail == p->head_cache)) {
		/* Acquire: the entries up to head are fully written. */
		p->head_cache = atomic_load_explicit(&p->head, memory_order_acquire);
		if (tail == p->head_cache)
			return NULL;
	}
	return slot(p, tail);
}

/*
 * Consumer: wipe the entry just used and hand its slot back. Release orders
 * the wipe before the producer can see the slot free and reuse it.
 */
static inline void
ring_pop(struct pool *p, struct entry *e)
{
	uint64_t tail = atomic_load_explicit(&p->tail, memory_order_relaxed);

	explicit_bzero(e, sizeof(*e));
	atomic_store_explicit(&p->tail, tail + 1, memory_order_release);
}

/* ---- refill (producer side) ---- */

/*
 * A valid nonce k (a zero or >= n draw is redrawn: ~2^-128 per draw) and
 * R = k*G, compressed. k arrives with random bytes (a zeroed k is redrawn).
 * Returns 0, -EIO (libsecp256k1 failed) or a getrandom() error.
 */
static int
make_nonce(const secp256k1_context *ctx, uint8_t k[32], uint8_t r33[33])
{
	secp256k1_pubkey pub;
	size_t len = 33;
	int rc = 0;

	while (!secp256k1_ec_seckey_verify(ctx, k)) {
		rc = zcs_random(k, 32);
		if (rc < 0)
			return rc;
	}
	if (!secp256k1_ec_pubkey_create(ctx, &pub, k) ||
		!secp256k1_ec_pubkey_serialize(ctx, r33, &len, &pub, SECP256K1_EC_COMPRESSED))
		rc = -EIO;
	explicit_bzero(&pub, sizeof(pub));
	return rc;
}

/*
 * The R part of an ECDSA entry: r = R.x mod n, recid bit 0 = R.y odd, bit 1 =
 * R.x >= n. Returns 0 when r = 0 (R.x = n: the entry is unusable), else 1.
 */
static int
ecdsa_entry_r(struct entry *e, const uint8_t r33[33])
{
	uint32_t over = reduce_mod_n(e->rx, r33 + 1);

	e->recid = (uint8_t)((r33[0] & 1) | (over << 1));
	return !is_zero32(e->rx);
}

/* A BIP-340 entry: R.x, and k negated when R.y is odd (so k*G has an even y). */
static int
schnorr_entry(
	const secp256k1_context *ctx, struct entry *e, const uint8_t k[32], const uint8_t r33[33])
{
	uint8_t neg[32];
	int ok;

	memcpy(e->k, k, 32);
	memcpy(neg, k, 32);
	ok = secp256k1_ec_seckey_negate(ctx, neg);
	cmov32(e->k, neg, r33[0] & 1);
	memcpy(e->rx, r33 + 1, 32);
	e->recid = 0;
	explicit_bzero(neg, sizeof(neg));
	return ok;
}

/*
 * Montgomery's trick: with prefix[i] = k_0 * ... * k_i, one inversion gives
 * every k_i^-1. Writes each entry's k. Returns 0 or -EIO.
 */
static int
invert_batch(const secp256k1_context *ctx, struct scratch *s, struct pool *p, uint64_t head,
	unsigned int n)
{
	uint8_t inv[32];
	unsigned int i;
	int ok;

	ok = inverse_mod_n(ctx, inv, s->prefix[n - 1]);
	for (i = n - 1; i > 0; i--) {
		struct entry *e = slot(p, head + i);

		/* k_i^-1 = (k_0 ... k_{i-1}) * (k_0 ... k_i)^-1 */
		memcpy(e->k, s->prefix[i - 1], 32);
		ok &= secp256k1_ec_seckey_tweak_mul(ctx, e->k, inv);
		/* (k_0 ... k_{i-1})^-1 for the next step */
		ok &= secp256k1_ec_seckey_tweak_mul(ctx, inv, s->k[i]);
	}
	memcpy(slot(p, head)->k, inv, 32);
	explicit_bzero(inv, sizeof(inv));
	return ok ? 0 : -EIO;
}

/* One ECDSA entry at index i of the batch; also extends the prefix product. */
static int
fill_ecdsa(const secp256k1_context *ctx, struct scratch *s, struct entry *e, unsigned int i)
{
	uint8_t r33[33];
	int rc;

	rc = make_nonce(ctx, s->k[i], r33);
	while (rc == 0 && !ecdsa_entry_r(e, r33)) {
		memset(s->k[i], 0, 32); /* R.x = n: draw another k */
		rc = make_nonce(ctx, s->k[i], r33);
	}
	if (rc == 0) {
		memcpy(s->prefix[i], i == 0 ? s->k[0] : s->prefix[i - 1], 32);
		if (i > 0 && !secp256k1_ec_seckey_tweak_mul(ctx, s->prefix[i], s->k[i]))
			rc = -EIO;
	}
	explicit_bzero(r33, sizeof(r33));
	return rc;
}

static int
fill_schnorr(const secp256k1_context *ctx, struct scratch *s, struct entry *e, unsigned int i)
{
	uint8_t r33[33];
	int rc;

	rc = make_nonce(ctx, s->k[i], r33);
	if (rc == 0 && !schnorr_entry(ctx, e, s->k[i], r33))
		rc = -EIO;
	explicit_bzero(r33, sizeof(r33));
	return rc;
}

/* Write n entries from slot head on (unpublished). Returns 0 or -errno (entries wiped). */
static int
refill_batch(struct zcs_presig *ps, unsigned int kind, uint64_t head, unsigned int n)
{
	struct pool *p = ps->pools[kind];
	struct scratch *s = ps->scratch;
	unsigned int i;
	int rc;

	rc = zcs_random(s->k[0], 32 * (size_t)n);
	for (i = 0; i < n && rc == 0; i++) {
		/*
		 * Give way after each entry (~16 us). Alone on its core this
		 * returns at once (~3 % of a refill, measured); on a core shared
		 * with pollers that never sleep (yield mode) it bounds how long the
		 * refill holds the CPU once picked to one entry instead of a
		 * scheduler tick: e2e p99 at 16 k req/s while refilling went from
		 * 3 ms to 37 us (bench/RESULTS.md).
		 */
		if (i != 0)
			sched_yield();
		if (kind == ZCS_PRESIG_ECDSA)
			rc = fill_ecdsa(ps->ctx, s, slot(p, head + i), i);
		else
			rc = fill_schnorr(ps->ctx, s, slot(p, head + i), i);
	}
	if (rc == 0 && kind == ZCS_PRESIG_ECDSA)
		rc = invert_batch(ps->ctx, s, p, head, n);
	if (rc < 0)
		for (i = 0; i < n; i++)
			explicit_bzero(slot(p, head + i), sizeof(struct entry));
	explicit_bzero(s, sizeof(*s));
	return rc;
}

/* Producer: up to max entries (one batch at most) into the pool of kind. */
static int
refill(struct zcs_presig *ps, unsigned int kind, unsigned int max)
{
	struct pool *p = ps->pools[kind];
	uint64_t head;
	unsigned int n = ring_room(p, &head);
	int rc;

	if (n > max)
		n = max;
	if (n > ZCS_PRESIG_BATCH)
		n = ZCS_PRESIG_BATCH;
	if (n == 0)
		return 0;
	rc = refill_batch(ps, kind, head, n);
	if (rc < 0) {
		count(&ps->refill_errors, 1);
		return rc;
	}
	ring_publish(p, head, n);
	count(&p->refilled, n);
	return (int)n;
}

int
zcs_presig_refill(struct zcs_presig *ps, unsigned int kind, unsigned int max)
{
	if (kind >= ZCS_PRESIG_KINDS)
		return -EINVAL;
	if (ps->started)
		return -EBUSY;
	return refill(ps, kind, max);
}

/* ---- the online step (consumer side) ---- */

/*
 * ECDSA: s = k^-1 (z + r d) mod n, low-S. Writes sig64 = r || s and recid
 * only on success. Returns 1, or 0 when libsecp256k1 refused a step (r d = 0,
 * z + r d = 0, an invalid scalar): the entry must be discarded.
 */
static int
ecdsa_online(const secp256k1_context *ctx, uint8_t sig64[64], uint8_t *recid, const struct entry *e,
	const uint8_t seckey[32], const uint8_t hash[32])
{
	uint8_t z[32], t[32], neg[32];
	uint32_t high;
	int ok;

	reduce_mod_n(z, hash);
	memcpy(t, seckey, 32);
	ok = secp256k1_ec_seckey_tweak_mul(ctx, t, e->rx);
	/* z is public; libsecp256k1 refuses a zero tweak, and adding 0 is nothing. */
	if (!is_zero32(z))
		ok &= secp256k1_ec_seckey_tweak_add(ctx, t, z);
	ok &= secp256k1_ec_seckey_tweak_mul(ctx, t, e->k);
	memcpy(neg, t, 32);
	ok &= secp256k1_ec_seckey_negate(ctx, neg);
	high = is_high(t);
	cmov32(t, neg, high);
	if (likely(ok)) {
		memcpy(sig64, e->rx, 32);
		memcpy(sig64 + 32, t, 32);
		/* s -> n - s is k -> -k: R.y flips. */
		*recid = (uint8_t)(e->recid ^ high);
	}
	explicit_bzero(t, sizeof(t));
	explicit_bzero(neg, sizeof(neg));
	return ok;
}

/* d' = d, or n - d when P.y is odd (BIP-340 signs for the even-y point), branch-free. */
static int
even_y_seckey(const secp256k1_context *ctx, uint8_t out[32], const struct zcs_key *key)
{
	uint8_t neg[32];
	int ok;

	memcpy(out, key->seckey, 32);
	memcpy(neg, key->seckey, 32);
	ok = secp256k1_ec_seckey_negate(ctx, neg);
	cmov32(out, neg, key->pub_compressed[0] & 1);
	explicit_bzero(neg, sizeof(neg));
	return ok;
}

/*
 * BIP-340: e = tagged_hash("BIP0340/challenge", R.x || P.x || m) mod n,
 * s = k + e d' mod n. Writes sig64 = R.x || s only on success. Returns 1, or
 * 0 when libsecp256k1 refused a step (s = 0, an invalid scalar): discard.
 */
static int
schnorr_online(const secp256k1_context *ctx, uint8_t sig64[64], const struct entry *e,
	const struct zcs_key *key, const uint8_t hash[32])
{
	uint8_t msg[96], ch[32], t[32];
	int ok;

	memcpy(msg, e->rx, 32);
	memcpy(msg + 32, key->pub_xonly, 32);
	memcpy(msg + 64, hash, 32);
	ok = secp256k1_tagged_sha256(ctx, ch, (const unsigned char *)challenge_tag,
		sizeof(challenge_tag) - 1, msg, sizeof(msg));
	reduce_mod_n(ch, ch);
	if (unlikely(is_zero32(ch))) {
		/* e is public; e = 0 makes s = k (and a zero tweak is refused). */
		memcpy(t, e->k, 32);
	} else {
		ok &= even_y_seckey(ctx, t, key);
		ok &= secp256k1_ec_seckey_tweak_mul(ctx, t, ch);
		ok &= secp256k1_ec_seckey_tweak_add(ctx, t, e->k);
	}
	if (likely(ok)) {
		memcpy(sig64, e->rx, 32);
		memcpy(sig64 + 32, t, 32);
	}
	explicit_bzero(t, sizeof(t));
	return ok;
}

int
zcs_presig_sign(const secp256k1_context *ctx, struct zcs_presig *ps, uint8_t sig64[64],
	uint8_t *recid, const struct zcs_key *key, unsigned int algo, const uint8_t hash[32])
{
	unsigned int kind = algo == ZCS_ALGO_SCHNORR ? ZCS_PRESIG_SCHNORR : ZCS_PRESIG_ECDSA;
	struct pool *p = ps->pools[kind];
	struct entry *e;
	uint8_t rid = 0;
	int ok;

	*recid = 0;
	if (unlikely(!zcs_algo_valid(algo))) {
		memset(sig64, 0, 64);
		return ZCS_ERR_BAD_ALGO;
	}
	while ((e = ring_peek(p)) != NULL) {
		if (kind == ZCS_PRESIG_ECDSA)
			ok = ecdsa_online(ctx, sig64, &rid, e, key->seckey, hash);
		else
			ok = schnorr_online(ctx, sig64, e, key, hash);
		ring_pop(p, e);
		if (likely(ok)) {
			if (algo == ZCS_ALGO_ECDSA_RECOVERABLE)
				*recid = rid;
			return ZCS_OK;
		}
		count(&p->discards, 1);
	}
	count(&p->misses, 1);
	return zcs_sign(ctx, sig64, recid, key, algo, ZCS_NONCE_RFC6979, hash);
}

uint32_t
zcs_presig_drain(struct zcs_presig *ps, unsigned int kind)
{
	struct entry *e;
	uint32_t n = 0;

	if (kind >= ZCS_PRESIG_KINDS)
		return 0;
	while ((e = ring_peek(ps->pools[kind])) != NULL) {
		ring_pop(ps->pools[kind], e);
		n++;
	}
	return n;
}

void
zcs_presig_stats(const struct zcs_presig *ps, struct zcs_presig_stats *out)
{
	unsigned int k;

	memset(out, 0, sizeof(*out));
	for (k = 0; k < ZCS_PRESIG_KINDS; k++) {
		const struct pool *p = ps->pools[k];

		out->depth[k] = pool_depth(p);
		out->capacity[k] = p->capacity;
		out->refilled[k] = atomic_load_explicit(&p->refilled, memory_order_relaxed);
		out->misses[k] = atomic_load_explicit(&p->misses, memory_order_relaxed);
		out->discards[k] = atomic_load_explicit(&p->discards, memory_order_relaxed);
	}
	out->refill_errors = atomic_load_explicit(&ps->refill_errors, memory_order_relaxed);
}

/* ---- the refill thread ---- */

static void
sleep_us(unsigned int us)
{
	struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)us * 1000};

	nanosleep(&ts, NULL);
}

/* Lowest priority available without privileges: SCHED_IDLE, else nice 19. */
static int
lower_priority(void)
{
	struct sched_param sp = {.sched_priority = 0};

	if (pthread_setschedparam(pthread_self(), SCHED_IDLE, &sp) == 0)
		return PRIO_IDLE;
	/* Per thread on Linux: PRIO_PROCESS with a thread id. */
	if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 19) == 0)
		return PRIO_NICE;
	return PRIO_NORMAL;
}

/*
 * Keep each pool between its water marks: below low, refill a batch at a
 * time until high; when no pool needs work (or a refill failed), sleep.
 */
static void *
refill_main(void *arg)
{
	struct zcs_presig *ps = arg;
	bool filling[ZCS_PRESIG_KINDS] = {false};
	unsigned int k;

	atomic_store_explicit(&ps->prio, lower_priority(), memory_order_release);
	while (!atomic_load_explicit(&ps->stop, memory_order_relaxed)) {
		bool busy = false;

		for (k = 0; k < ZCS_PRESIG_KINDS; k++) {
			struct pool *p = ps->pools[k];
			uint32_t depth = pool_depth(p);

			if (depth < p->low)
				filling[k] = true;
			if (!filling[k] || depth >= p->high) {
				filling[k] = false;
				continue;
			}
			if (refill(ps, k, p->high - depth) > 0)
				busy = true;
		}
		if (!busy)
			sleep_us(ZCS_PRESIG_IDLE_US);
	}
	return NULL;
}

int
zcs_presig_start(struct zcs_presig *ps)
{
	pthread_attr_t attr;
	sigset_t all, saved;
	cpu_set_t set;
	int rc;

	if (ps->started)
		return -EALREADY;
	if (ps->conf.refill_cpu >= CPU_SETSIZE)
		return -EINVAL;
	rc = pthread_attr_init(&attr);
	if (rc != 0)
		return -rc;
	if (ps->conf.refill_cpu >= 0) {
		CPU_ZERO(&set);
		CPU_SET(ps->conf.refill_cpu, &set);
		rc = pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
	}
	/* Signals go to the serve loop's thread, whose poll() they must cut short. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &saved);
	if (rc == 0)
		rc = pthread_create(&ps->thread, &attr, refill_main, ps);
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
	pthread_attr_destroy(&attr);
	if (rc != 0)
		return -rc;
	ps->started = true;
	/* The thread reports its priority first thing; wait so it can be logged. */
	while (atomic_load_explicit(&ps->prio, memory_order_acquire) == PRIO_PENDING)
		sleep_us(100);
	return 0;
}

const char *
zcs_presig_priority(const struct zcs_presig *ps)
{
	switch (atomic_load_explicit(&ps->prio, memory_order_acquire)) {
	case PRIO_IDLE:
		return "SCHED_IDLE";
	case PRIO_NICE:
		return "nice 19";
	case PRIO_NORMAL:
		return "normal";
	default:
		return "";
	}
}

/* ---- creation ---- */

void
zcs_presig_conf_default(struct zcs_presig_conf *conf)
{
	memset(conf, 0, sizeof(*conf));
	conf->capacity[ZCS_PRESIG_ECDSA] = ZCS_PRESIG_DEFAULT_CAPACITY;
	conf->capacity[ZCS_PRESIG_SCHNORR] = ZCS_PRESIG_DEFAULT_CAPACITY;
	conf->low_pct = ZCS_PRESIG_DEFAULT_LOW_PCT;
	conf->high_pct = ZCS_PRESIG_DEFAULT_HIGH_PCT;
	conf->refill_cpu = -1;
}

static size_t
round64(size_t x)
{
	return (x + 63) & ~(size_t)63;
}

/* Smallest power of two >= n (n >= 1, n <= ZCS_PRESIG_MAX_CAPACITY). */
static uint32_t
pow2_ceil(uint32_t n)
{
	uint32_t p = 1;

	while (p < n)
		p <<= 1;
	return p;
}

/* Lay the pools, the scratch and the slots out in the region. */
static void
carve(struct zcs_presig *ps, const size_t slots_off[ZCS_PRESIG_KINDS], const uint32_t ring[])
{
	uint8_t *base = ps->region;
	unsigned int k;

	ps->scratch = (struct scratch *)(base + ZCS_PRESIG_KINDS * round64(sizeof(struct pool)));
	for (k = 0; k < ZCS_PRESIG_KINDS; k++) {
		struct pool *p = (struct pool *)(base + k * round64(sizeof(struct pool)));
		uint32_t cap = ps->conf.capacity[k];

		ps->pools[k] = p;
		p->capacity = cap;
		p->mask = ring[k] - 1;
		/* Rounded up, so a pool with any capacity refills to a non-zero low mark. */
		p->low = (uint32_t)(((uint64_t)cap * ps->conf.low_pct + 99) / 100);
		p->high = (uint32_t)((uint64_t)cap * ps->conf.high_pct / 100);
		p->slots = cap > 0 ? (struct entry *)(base + slots_off[k]) : NULL;
	}
}

struct zcs_presig *
zcs_presig_create(const struct zcs_presig_conf *conf)
{
	struct zcs_presig *ps;
	size_t off, slots_off[ZCS_PRESIG_KINDS];
	uint32_t ring[ZCS_PRESIG_KINDS];
	unsigned int k;
	int saved;

	if (conf == NULL || conf->high_pct > 100 || conf->low_pct >= conf->high_pct ||
		conf->refill_cpu < -1 || conf->refill_cpu >= CPU_SETSIZE) {
		errno = EINVAL;
		return NULL;
	}
	for (k = 0; k < ZCS_PRESIG_KINDS; k++)
		if (conf->capacity[k] > ZCS_PRESIG_MAX_CAPACITY) {
			errno = EINVAL;
			return NULL;
		}
	ps = calloc(1, sizeof(*ps));
	if (ps == NULL)
		return NULL;
	ps->conf = *conf;
	off = ZCS_PRESIG_KINDS * round64(sizeof(struct pool)) + round64(sizeof(struct scratch));
	for (k = 0; k < ZCS_PRESIG_KINDS; k++) {
		ring[k] = conf->capacity[k] > 0 ? pow2_ceil(conf->capacity[k]) : 1;
		slots_off[k] = off;
		if (conf->capacity[k] > 0)
			off += round64((size_t)ring[k] * sizeof(struct entry));
	}
	ps->region_len = off;
	ps->region = zcs_secure_alloc(off);
	if (ps->region == NULL)
		goto fail;
	carve(ps, slots_off, ring);
	ps->ctx = zcs_sign_ctx_create();
	if (ps->ctx == NULL)
		goto fail;
	return ps;
fail:
	saved = errno;
	zcs_secure_free(ps->region, ps->region_len);
	free(ps);
	errno = saved;
	return NULL;
}

void
zcs_presig_destroy(struct zcs_presig *ps)
{
	if (ps == NULL)
		return;
	if (ps->started) {
		atomic_store_explicit(&ps->stop, 1, memory_order_relaxed);
		pthread_join(ps->thread, NULL);
	}
	zcs_sign_ctx_destroy(ps->ctx);
	/* Wipes every entry and the scratch before unmapping. */
	zcs_secure_free(ps->region, ps->region_len);
	free(ps);
}

/* ---- start-up self-test ---- */

#define ST_HASHES 6
#define ST_ALGOS 3

struct selftest {
	const secp256k1_context *ctx;
	struct zcs_key keys[2]; /* P.y even, P.y odd (d and n - d) */
	uint8_t hashes[ST_HASHES][32];
	char *err;
	size_t errlen;
};

static const unsigned int st_algos[ST_ALGOS] = {
	ZCS_ALGO_ECDSA,
	ZCS_ALGO_ECDSA_RECOVERABLE,
	ZCS_ALGO_SCHNORR,
};

static int __attribute__((format(printf, 2, 3))) st_fail(struct selftest *st, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(st->err, st->errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* A key built the way the key store builds one. */
static int
st_key(const secp256k1_context *ctx, struct zcs_key *k, const uint8_t seckey[32])
{
	secp256k1_pubkey pub;
	secp256k1_xonly_pubkey xpub;
	size_t len = 33;

	memset(k, 0, sizeof(*k));
	memcpy(k->seckey, seckey, 32);
	return secp256k1_keypair_create(ctx, &k->keypair, seckey) &&
		secp256k1_ec_pubkey_create(ctx, &pub, seckey) &&
		secp256k1_ec_pubkey_serialize(
			ctx, k->pub_compressed, &len, &pub, SECP256K1_EC_COMPRESSED) &&
		secp256k1_keypair_xonly_pub(ctx, &xpub, NULL, &k->keypair) &&
		secp256k1_xonly_pubkey_serialize(ctx, k->pub_xonly, &xpub);
}

/* Two throwaway keys of opposite P.y parity, and the known hashes. */
static int
st_setup(struct selftest *st)
{
	uint8_t d[32];
	int ok = 1;

	do
		if (zcs_random(d, sizeof(d)) < 0)
			return st_fail(st, "self-test: getrandom failed");
	while (!secp256k1_ec_seckey_verify(st->ctx, d));
	ok &= st_key(st->ctx, &st->keys[0], d);
	ok &= secp256k1_ec_seckey_negate(st->ctx, d);
	ok &= st_key(st->ctx, &st->keys[1], d);
	explicit_bzero(d, sizeof(d));
	if (!ok || st->keys[0].pub_compressed[0] == st->keys[1].pub_compressed[0])
		return st_fail(st, "self-test: cannot derive the test keys");
	memset(st->hashes[0], 0, 32); /* z = 0 */
	memset(st->hashes[1], 0, 32); /* 1 */
	st->hashes[1][31] = 1;
	memcpy(st->hashes[2], order_n, 32); /* n - 1 */
	st->hashes[2][31] = 0x40;
	memcpy(st->hashes[3], order_n, 32); /* n: z = 0 after reduction */
	memset(st->hashes[4], 0xff, 32); /* > n */
	for (int i = 0; i < 32; i++)
		st->hashes[5][i] = (uint8_t)(0x5a ^ (i * 37));
	return 0;
}

static int
st_check(struct selftest *st, const char *path, int st_sign, unsigned int key, unsigned int algo,
	unsigned int h, const uint8_t sig[64], uint8_t recid)
{
	if (st_sign != ZCS_OK)
		return st_fail(st, "self-test: %s %s sign failed: %s (key %u, hash %u)", path,
			zcs_algo_name(algo), zcs_strerror(st_sign), key, h);
	if (!zcs_sign_verify_var(st->ctx, &st->keys[key], algo, st->hashes[h], sig, recid))
		return st_fail(st, "self-test: %s %s signature does not verify (key %u, hash %u)",
			path, zcs_algo_name(algo), key, h);
	return 0;
}

/* RFC 6979 and hedged: every signature verifies; same input, same (or new) nonce. */
static int
st_direct(struct selftest *st, unsigned int nonce)
{
	const char *path = zcs_nonce_mode_name(nonce);
	uint8_t a[64], b[64], ra, rb;
	unsigned int key, ai, h;

	for (key = 0; key < 2; key++)
		for (ai = 0; ai < ST_ALGOS; ai++)
			for (h = 0; h < ST_HASHES; h++) {
				unsigned int algo = st_algos[ai];
				const struct zcs_key *k = &st->keys[key];
				int s1 = zcs_sign(st->ctx, a, &ra, k, algo, nonce, st->hashes[h]);
				int s2 = zcs_sign(st->ctx, b, &rb, k, algo, nonce, st->hashes[h]);

				if (st_check(st, path, s1, key, algo, h, a, ra) < 0 ||
					st_check(st, path, s2, key, algo, h, b, rb) < 0)
					return -1;
				if ((memcmp(a, b, 64) == 0) != (nonce == ZCS_NONCE_RFC6979))
					return st_fail(st,
						"self-test: %s %s: two signatures of one hash "
						"are %s",
						path, zcs_algo_name(algo),
						nonce == ZCS_NONCE_RFC6979 ? "different" : "equal");
			}
	return 0;
}

/* Precomputed: the online step (no two r alike), then the drained pool's fallback. */
static int
st_precomputed(struct selftest *st)
{
	enum { N = 2 * ST_ALGOS * ST_HASHES };
	struct zcs_presig_conf conf;
	struct zcs_presig_stats s;
	struct zcs_presig *ps;
	uint8_t rs[N][32], sig[64], ref[64], rid, rref;
	unsigned int key, ai, h, i, n = 0;
	int rc = -1;

	zcs_presig_conf_default(&conf);
	conf.capacity[ZCS_PRESIG_ECDSA] = 2 * 2 * ST_HASHES;
	conf.capacity[ZCS_PRESIG_SCHNORR] = 2 * ST_HASHES;
	ps = zcs_presig_create(&conf);
	if (ps == NULL)
		return st_fail(
			st, "self-test: cannot create a presignature pool: %s", strerror(errno));
	for (i = 0; i < ZCS_PRESIG_KINDS; i++)
		if (zcs_presig_refill(ps, i, conf.capacity[i]) != (int)conf.capacity[i]) {
			st_fail(st, "self-test: presignature refill failed");
			goto out;
		}
	for (key = 0; key < 2; key++)
		for (ai = 0; ai < ST_ALGOS; ai++)
			for (h = 0; h < ST_HASHES; h++) {
				unsigned int algo = st_algos[ai];
				int ss = zcs_presig_sign(st->ctx, ps, sig, &rid, &st->keys[key],
					algo, st->hashes[h]);

				if (st_check(st, "precomputed", ss, key, algo, h, sig, rid) < 0)
					goto out;
				for (i = 0; i < n; i++)
					if (memcmp(rs[i], sig, 32) == 0) {
						st_fail(st,
							"self-test: precomputed: a nonce "
							"was used twice");
						goto out;
					}
				memcpy(rs[n++], sig, 32);
			}
	zcs_presig_stats(ps, &s);
	if (s.misses[0] + s.misses[1] + s.discards[0] + s.discards[1] != 0 ||
		s.depth[0] + s.depth[1] != 0) {
		st_fail(st, "self-test: precomputed: pool accounting is off");
		goto out;
	}
	/* Empty pools: each algorithm falls back to RFC 6979, counted as a miss. */
	for (ai = 0; ai < ST_ALGOS; ai++) {
		unsigned int algo = st_algos[ai];
		int ss = zcs_presig_sign(st->ctx, ps, sig, &rid, &st->keys[1], algo, st->hashes[5]);
		int sr = zcs_sign(
			st->ctx, ref, &rref, &st->keys[1], algo, ZCS_NONCE_RFC6979, st->hashes[5]);

		if (st_check(st, "fallback", ss, 1, algo, 5, sig, rid) < 0)
			goto out;
		if (sr != ZCS_OK || memcmp(sig, ref, 64) != 0 || rid != rref) {
			st_fail(st, "self-test: the fallback is not the RFC 6979 path");
			goto out;
		}
	}
	zcs_presig_stats(ps, &s);
	if (s.misses[ZCS_PRESIG_ECDSA] != 2 || s.misses[ZCS_PRESIG_SCHNORR] != 1) {
		st_fail(st, "self-test: fallback misses not counted");
		goto out;
	}
	rc = 0;
out:
	zcs_presig_destroy(ps);
	return rc;
}

int
zcs_selftest(const secp256k1_context *ctx, unsigned int nonce, char *err, size_t errlen)
{
	struct selftest st;
	int rc;

	memset(&st, 0, sizeof(st));
	st.ctx = ctx;
	st.err = err;
	st.errlen = errlen;
	if (zcs_nonce_mode_name(nonce) == NULL)
		return st_fail(&st, "self-test: unknown nonce mode %u", nonce);
	rc = st_setup(&st);
	/* The RFC 6979 path is the fallback of every mode: always checked. */
	if (rc == 0)
		rc = st_direct(&st, ZCS_NONCE_RFC6979);
	if (rc == 0 && nonce == ZCS_NONCE_HEDGED)
		rc = st_direct(&st, ZCS_NONCE_HEDGED);
	if (rc == 0 && nonce == ZCS_NONCE_PRECOMPUTED)
		rc = st_precomputed(&st);
	explicit_bzero(&st.keys, sizeof(st.keys));
	return rc;
}
