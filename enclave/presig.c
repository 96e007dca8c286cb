/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Presignature pools: see presig.h for the contract. This file is the pool
 * with its refill side; the scalar arithmetic is presig_scalar.c's and the
 * start-up self-test presig_selftest.c's (shared layout and declarations in
 * presig_internal.h). Read top to bottom: refill, the online step's pool
 * side, the refill thread, creation.
 *
 * Secrets (nonces, inverses, prefix products) are handled here only by
 * copying and wiping; every operation on them is presig_scalar.c's, in
 * constant time.
 */
#define _GNU_SOURCE /* pthread_attr_setaffinity_np */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <secp256k1.h>

#include <zcsign/status.h>
#include <zcsign/wire.h>

#include "keystore.h"
#include "presig.h"
#include "presig_internal.h"
#include "sign.h"

/* Refill thread priority, as reported back by the thread. */
enum {
	PRIO_PENDING = 0,
	PRIO_IDLE = 1,
	PRIO_NICE = 2,
	PRIO_NORMAL = 3,
};

/* Single-writer counter: a plain add, no locked instruction; readers load it atomically. */
static inline void
count(_Atomic uint64_t *c, uint64_t n)
{
	atomic_store_explicit(
		c, atomic_load_explicit(c, memory_order_relaxed) + n, memory_order_relaxed);
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
 * Entry i of a batch of kind: a fresh nonce and its R; for ECDSA, also the
 * prefix product that presig_invert_batch() turns into every k^-1.
 */
static int
fill_entry(const secp256k1_context *ctx, struct presig_scratch *s, struct presig_entry *e,
	unsigned int kind, unsigned int i)
{
	uint8_t r33[33];
	int rc;

	rc = make_nonce(ctx, s->k[i], r33);
	if (kind == ZCS_PRESIG_ECDSA) {
		while (rc == 0 && !presig_ecdsa_entry_r(e, r33)) {
			memset(s->k[i], 0, 32); /* R.x = n: draw another k */
			rc = make_nonce(ctx, s->k[i], r33);
		}
		if (rc == 0 && !presig_batch_prefix(ctx, s, i))
			rc = -EIO;
	} else if (rc == 0 && !presig_schnorr_entry(ctx, e, s->k[i], r33)) {
		rc = -EIO;
	}
	explicit_bzero(r33, sizeof(r33));
	return rc;
}

/* Write n entries from slot head on (unpublished). Returns 0 or -errno (entries wiped). */
static int
refill_batch(struct zcs_presig *ps, unsigned int kind, uint64_t head, unsigned int n)
{
	struct presig_pool *p = ps->pools[kind];
	struct presig_scratch *s = ps->scratch;
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
		rc = fill_entry(ps->ctx, s, ring_slot(p, head + i), kind, i);
	}
	if (rc == 0 && kind == ZCS_PRESIG_ECDSA)
		rc = presig_invert_batch(ps->ctx, s, p, head, n);
	if (rc < 0)
		for (i = 0; i < n; i++)
			explicit_bzero(ring_slot(p, head + i), sizeof(struct presig_entry));
	explicit_bzero(s, sizeof(*s));
	return rc;
}

/* Producer: up to max entries (one batch at most) into the pool of kind. */
static int
refill(struct zcs_presig *ps, unsigned int kind, unsigned int max)
{
	struct presig_pool *p = ps->pools[kind];
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

int
zcs_presig_sign(const secp256k1_context *ctx, struct zcs_presig *ps, uint8_t sig64[64],
	uint8_t *recid, const struct zcs_key *key, unsigned int algo, const uint8_t hash[32])
{
	unsigned int kind = algo == ZCS_ALGO_SCHNORR ? ZCS_PRESIG_SCHNORR : ZCS_PRESIG_ECDSA;
	struct presig_pool *p = ps->pools[kind];
	struct presig_entry *e;
	uint8_t rid = 0;
	int ok;

	*recid = 0;
	if (unlikely(!zcs_algo_valid(algo))) {
		memset(sig64, 0, 64);
		return ZCS_ERR_BAD_ALGO;
	}
	while ((e = ring_peek(p)) != NULL) {
		if (kind == ZCS_PRESIG_ECDSA)
			ok = presig_ecdsa_online(ctx, sig64, &rid, e, key->seckey, hash);
		else
			ok = presig_schnorr_online(ctx, sig64, e, key, hash);
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
	struct presig_entry *e;
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
		const struct presig_pool *p = ps->pools[k];

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

	atomic_store_explicit(&ps->prio, ps->conf.refill_normal ? PRIO_NORMAL : lower_priority(),
		memory_order_release);
	while (!atomic_load_explicit(&ps->stop, memory_order_relaxed)) {
		bool busy = false;

		for (k = 0; k < ZCS_PRESIG_KINDS; k++) {
			struct presig_pool *p = ps->pools[k];
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

static const char *
prio_name(int prio)
{
	switch (prio) {
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

const char *
zcs_presig_priority(const struct zcs_presig *ps)
{
	return prio_name(atomic_load_explicit(&ps->prio, memory_order_acquire));
}

const char *
zcs_thread_lower_priority(void)
{
	return prio_name(lower_priority());
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

	ps->scratch = (struct presig_scratch *)(base +
		ZCS_PRESIG_KINDS * round64(sizeof(struct presig_pool)));
	for (k = 0; k < ZCS_PRESIG_KINDS; k++) {
		struct presig_pool *p =
			(struct presig_pool *)(base + k * round64(sizeof(struct presig_pool)));
		uint32_t cap = ps->conf.capacity[k];

		ps->pools[k] = p;
		p->capacity = cap;
		p->mask = ring[k] - 1;
		/* Rounded up, so a pool with any capacity refills to a non-zero low mark. */
		p->low = (uint32_t)(((uint64_t)cap * ps->conf.low_pct + 99) / 100);
		p->high = (uint32_t)((uint64_t)cap * ps->conf.high_pct / 100);
		p->slots = cap > 0 ? (struct presig_entry *)(base + slots_off[k]) : NULL;
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
	off = ZCS_PRESIG_KINDS * round64(sizeof(struct presig_pool)) +
		round64(sizeof(struct presig_scratch));
	for (k = 0; k < ZCS_PRESIG_KINDS; k++) {
		ring[k] = conf->capacity[k] > 0 ? pow2_ceil(conf->capacity[k]) : 1;
		slots_off[k] = off;
		if (conf->capacity[k] > 0)
			off += round64((size_t)ring[k] * sizeof(struct presig_entry));
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
