/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * enclave/presig*.c, their internals reached through presig_internal.h (the
 * library is linked, no .c is included): every signature of
 * every nonce mode verifies with libsecp256k1's own verify (a separate
 * context): ECDSA verify and low-S, recovery giving back the account's key,
 * BIP-340 verify; the online step through its edge cases (hash 0, n, above
 * n; R.x >= n; a zero product or sum discards the entry and takes the next,
 * counted); 1,000,000 signatures without a repeated r, from the real refill
 * thread; an empty pool falls back to RFC 6979 and counts the miss; a forked
 * child finds its pools wiped; a used entry is zeroed; the SPSC ring under a
 * producer and a consumer thread loses and duplicates nothing. Nothing is
 * timed: waits are bounded only to turn a hang into a failure.
 */
#define _GNU_SOURCE /* usleep */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <secp256k1.h>
#include <secp256k1_extrakeys.h>
#include <secp256k1_recovery.h>
#include <secp256k1_schnorrsig.h>

#include <zcsign/status.h>
#include <zcsign/wire.h>

#include "keystore.h"
#include "presig.h"
#include "presig_internal.h"
#include "sign_fixture.h"
#include "sign.h"

#define NKEYS 4
#define NRANDOM 24
#define NEDGE (SECP_EDGE_HASHES + 1) /* secp_util's, and half n + 1 */
#define NHASHES (NEDGE + NRANDOM)
#define MILLION 1000000u

/* ---- helpers ---- */

/* keys[0] has an even P.y, keys[1] an odd one, the others are random. */
static int
setup(void **state)
{
	struct secp_sign_fixture *f = secp_sign_fixture_new(NKEYS);
	uint8_t sk[32];
	int i;

	assert_non_null(f);
	/* d and n - d: both parities of P.y, so both d' = d and d' = n - d run. */
	secp_random_seckey(f->vctx, sk);
	secp_key_make(f->vctx, &f->keys[0], 1, sk);
	assert_true(secp256k1_ec_seckey_negate(f->vctx, sk));
	secp_key_make(f->vctx, &f->keys[1], 1, sk);
	if (f->keys[0].pub_compressed[0] == 3) {
		struct zcs_key t = f->keys[0];

		f->keys[0] = f->keys[1];
		f->keys[1] = t;
	}
	assert_int_equal(f->keys[0].pub_compressed[0], 2);
	assert_int_equal(f->keys[1].pub_compressed[0], 3);
	for (i = 2; i < NKEYS; i++)
		secp_key_make(f->vctx, &f->keys[i], 1, NULL);
	explicit_bzero(sk, sizeof(sk));
	*state = f;
	return 0;
}

/* Hash i: secp_util's edge cases, then half n + 1 (just above the low-S bound), then random. */
static void
test_hash(unsigned int i, uint8_t hash[32])
{
	if (i == SECP_EDGE_HASHES) {
		memcpy(hash, presig_half_n, 32);
		hash[31] = 0xa1;
		return;
	}
	secp_test_hash(i, hash);
}

/* libsecp256k1's own verdict on a signature of key, for algo. */
static void
verify_sig(const struct secp_sign_fixture *f, const struct zcs_key *key, unsigned int algo,
	const uint8_t hash[32], const uint8_t sig64[64], uint8_t recid)
{
	secp256k1_ecdsa_recoverable_signature rsig;
	secp256k1_ecdsa_signature sig;
	secp256k1_xonly_pubkey xpub;
	secp256k1_pubkey pub, got;
	uint8_t comp[33];
	size_t len = sizeof(comp);

	if (algo == ZCS_ALGO_SCHNORR) {
		assert_int_equal(recid, 0);
		assert_true(secp256k1_xonly_pubkey_parse(f->vctx, &xpub, key->pub_xonly));
		assert_true(secp256k1_schnorrsig_verify(f->vctx, sig64, hash, 32, &xpub));
		return;
	}
	assert_true(secp256k1_ec_pubkey_parse(f->vctx, &pub, key->pub_compressed, 33));
	assert_true(secp256k1_ecdsa_signature_parse_compact(f->vctx, &sig, sig64));
	/* normalize returns 1 only when it had to flip a high S. */
	assert_int_equal(secp256k1_ecdsa_signature_normalize(f->vctx, NULL, &sig), 0);
	assert_true(secp256k1_ecdsa_verify(f->vctx, &sig, hash, &pub));
	if (algo == ZCS_ALGO_ECDSA) {
		assert_int_equal(recid, 0);
		return;
	}
	assert_in_range(recid, 0, 3);
	assert_true(
		secp256k1_ecdsa_recoverable_signature_parse_compact(f->vctx, &rsig, sig64, recid));
	assert_true(secp256k1_ecdsa_recover(f->vctx, &got, &rsig, hash));
	assert_true(
		secp256k1_ec_pubkey_serialize(f->vctx, comp, &len, &got, SECP256K1_EC_COMPRESSED));
	assert_memory_equal(comp, key->pub_compressed, 33);
}

static struct zcs_presig *
make_pool(uint32_t ecdsa_cap, uint32_t schnorr_cap)
{
	struct zcs_presig_conf conf;
	struct zcs_presig *ps;

	zcs_presig_conf_default(&conf);
	conf.capacity[ZCS_PRESIG_ECDSA] = ecdsa_cap;
	conf.capacity[ZCS_PRESIG_SCHNORR] = schnorr_cap;
	ps = zcs_presig_create(&conf);
	assert_non_null(ps);
	return ps;
}

/* Fill the pool of kind to capacity from the test thread (the one producer). */
static void
fill(struct zcs_presig *ps, unsigned int kind)
{
	int n;

	do
		n = zcs_presig_refill(ps, kind, ZCS_PRESIG_BATCH);
	while (n > 0);
	assert_int_equal(n, 0);
	assert_int_equal(pool_depth(ps->pools[kind]), ps->pools[kind]->capacity);
}

static int
all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i] != 0)
			return 0;
	return 1;
}

static unsigned int
kind_of(unsigned int algo)
{
	return algo == ZCS_ALGO_SCHNORR ? ZCS_PRESIG_SCHNORR : ZCS_PRESIG_ECDSA;
}

/* ---- every mode verifies ---- */

static void
test_every_mode_verifies(void **state)
{
	static const unsigned int modes[] = {
		ZCS_NONCE_PRECOMPUTED, ZCS_NONCE_RFC6979, ZCS_NONCE_HEDGED};
	struct secp_sign_fixture *f = *state;
	struct zcs_presig *ps = make_pool(2 * NKEYS * NHASHES, NKEYS * NHASHES);
	struct zcs_presig_stats st;
	unsigned int m, k, i, algo;

	fill(ps, ZCS_PRESIG_ECDSA);
	fill(ps, ZCS_PRESIG_SCHNORR);
	for (m = 0; m < 3; m++) {
		for (k = 0; k < NKEYS; k++)
			for (i = 0; i < NHASHES; i++)
				for (algo = ZCS_ALGO_ECDSA; algo <= ZCS_ALGO_SCHNORR; algo++) {
					uint8_t hash[32], sig[64], recid = 0xaa;
					int rc;

					test_hash(i, hash);
					if (modes[m] == ZCS_NONCE_PRECOMPUTED)
						rc = zcs_presig_sign(f->ctx, ps, sig, &recid,
							&f->keys[k], algo, hash);
					else
						rc = zcs_sign(f->ctx, sig, &recid, &f->keys[k],
							algo, modes[m], hash);
					assert_int_equal(rc, ZCS_OK);
					verify_sig(f, &f->keys[k], algo, hash, sig, recid);
				}
	}
	/* Every precomputed signature took the online path. */
	zcs_presig_stats(ps, &st);
	assert_int_equal(st.misses[0] + st.misses[1], 0);
	assert_int_equal(st.discards[0] + st.discards[1], 0);
	assert_int_equal(st.depth[0] + st.depth[1], 0);
	assert_int_equal(st.refilled[ZCS_PRESIG_ECDSA], 2 * NKEYS * NHASHES);
	assert_int_equal(st.refill_errors, 0);
	zcs_presig_destroy(ps);
}

/* ---- the scalar helpers ---- */

static void
test_scalar_helpers(void **state)
{
	struct secp_sign_fixture *f = *state;
	uint8_t a[32], b[32], one[32] = {0}, inv[32];
	int i;

	/* reduce: below n unchanged, n -> 0, n + 5 -> 5, 2^256 - 1 -> 2^256 - 1 - n. */
	memcpy(a, presig_order_n, 32);
	a[31] = 0x40;
	assert_int_equal(presig_reduce_mod_n(b, a), 0);
	assert_memory_equal(a, b, 32);
	assert_int_equal(presig_reduce_mod_n(b, presig_order_n), 1);
	assert_true(presig_is_zero32(b));
	memcpy(a, presig_order_n, 32);
	a[31] += 5;
	assert_int_equal(presig_reduce_mod_n(a, a), 1);
	memset(b, 0, 32);
	b[31] = 5;
	assert_memory_equal(a, b, 32);
	memset(a, 0xff, 32);
	assert_int_equal(presig_reduce_mod_n(a, a), 1);
	{
		static const uint8_t want[32] = {[15] = 0x01,
			0x45,
			0x51,
			0x23,
			0x19,
			0x50,
			0xb7,
			0x5f,
			0xc4,
			0x40,
			0x2d,
			0xa1,
			0x73,
			0x2f,
			0xc9,
			0xbe,
			0xbe};

		assert_memory_equal(a, want, 32);
	}
	/* high S: above floor(n / 2) only. */
	assert_int_equal(presig_is_high(presig_half_n), 0);
	memcpy(a, presig_half_n, 32);
	a[31]++;
	assert_int_equal(presig_is_high(a), 1);
	a[31] -= 2;
	assert_int_equal(presig_is_high(a), 0);
	assert_int_equal(presig_is_high(presig_order_n), 1);
	/* cmov moves on 1 only. */
	memset(a, 0x11, 32);
	memset(b, 0x22, 32);
	presig_cmov32(a, b, 0);
	assert_int_equal(a[7], 0x11);
	presig_cmov32(a, b, 1);
	assert_memory_equal(a, b, 32);
	/* inverse: k * k^-1 = 1, for random k and for 1 and n - 1. */
	one[31] = 1;
	for (i = 0; i < 8; i++) {
		if (i == 0)
			memcpy(a, one, 32);
		else if (i == 1) {
			memcpy(a, presig_order_n, 32);
			a[31] = 0x40;
		} else
			secp_random_seckey(f->vctx, a);
		assert_true(presig_inverse_mod_n(f->vctx, inv, a));
		assert_true(secp256k1_ec_seckey_tweak_mul(f->vctx, inv, a));
		assert_memory_equal(inv, one, 32);
	}
	/* Zero has no inverse: the failure is reported, not hidden. */
	memset(a, 0, 32);
	assert_false(presig_inverse_mod_n(f->vctx, inv, a));
}

/* ---- the online step's edge cases ---- */

/* The next entry of a pool, copied out (the pool's own copy stays). */
static struct presig_entry
peek_copy(struct zcs_presig *ps, unsigned int kind)
{
	struct presig_entry *e = ring_peek(ps->pools[kind]);

	assert_non_null(e);
	return *e;
}

/*
 * One entry signed for hash 0 and hash n, for 1 and n + 1, for all ones and
 * its reduction: z is reduced mod n, so each pair is the same signature, and
 * libsecp256k1 (which reduces the same way) verifies each.
 */
static void
test_online_hash_edges(void **state)
{
	/* secp_edge_hash(): 0 and n, 1 and n + 1, all ones and (below) its reduction. */
	static const unsigned int same[3][2] = {{0, 2}, {5, 4}, {1, 1}};
	struct secp_sign_fixture *f = *state;
	struct zcs_presig *ps = make_pool(64, 64);
	uint8_t h1[32], h2[32], s1[64], s2[64], r1, r2;
	const struct zcs_key *key = &f->keys[1];
	unsigned int pair, k;

	fill(ps, ZCS_PRESIG_ECDSA);
	fill(ps, ZCS_PRESIG_SCHNORR);
	for (pair = 0; pair < 3; pair++) {
		struct presig_entry e = peek_copy(ps, ZCS_PRESIG_ECDSA);

		test_hash(same[pair][0], h1);
		test_hash(same[pair][1], h2);
		if (pair == 2)
			presig_reduce_mod_n(h2, h2);
		assert_true(presig_ecdsa_online(f->vctx, s1, &r1, &e, key->seckey, h1));
		assert_true(presig_ecdsa_online(f->vctx, s2, &r2, &e, key->seckey, h2));
		assert_memory_equal(s1, s2, 64);
		assert_int_equal(r1, r2);
		verify_sig(f, key, ZCS_ALGO_ECDSA_RECOVERABLE, h1, s1, r1);
		verify_sig(f, key, ZCS_ALGO_ECDSA_RECOVERABLE, h2, s2, r2);
		ring_pop(ps->pools[ZCS_PRESIG_ECDSA], ring_peek(ps->pools[ZCS_PRESIG_ECDSA]));
	}
	/* BIP-340 signs m as given (no reduction): each edge hash verifies, both parities. */
	for (k = 0; k < 2; k++)
		for (pair = 0; pair < NEDGE; pair++) {
			struct presig_entry e = peek_copy(ps, ZCS_PRESIG_SCHNORR);

			test_hash(pair, h1);
			assert_true(presig_schnorr_online(f->vctx, s1, &e, &f->keys[k], h1));
			verify_sig(f, &f->keys[k], ZCS_ALGO_SCHNORR, h1, s1, 0);
			ring_pop(ps->pools[ZCS_PRESIG_SCHNORR],
				ring_peek(ps->pools[ZCS_PRESIG_SCHNORR]));
		}
	explicit_bzero(s1, sizeof(s1));
	zcs_presig_destroy(ps);
}

/*
 * R.x >= n cannot be found (probability ~2^-128), so the arithmetic is driven
 * with a synthetic R: the entry holds r = R.x - n and recid bit 1; the online
 * step keeps bit 1, flips bit 0 exactly when it negates s, and satisfies
 * s k = +-(z + r d) mod n.
 */
static void
test_r_above_n(void **state)
{
	struct secp_sign_fixture *f = *state;
	const struct zcs_key *key = &f->keys[2];
	uint8_t r33[33], k[32], lhs[32], rhs[32], z[32], sig[64], rid;
	struct presig_entry e;
	unsigned int parity, i;

	for (parity = 0; parity < 2; parity++) {
		/* R.x = n + 0x1234: r = 0x1234, recid bit 1 set. */
		r33[0] = (uint8_t)(2 + parity);
		memcpy(r33 + 1, presig_order_n, 32);
		r33[31] = 0x53;
		r33[32] = 0x75;
		memset(&e, 0, sizeof(e));
		assert_true(presig_ecdsa_entry_r(&e, r33));
		assert_true(all_zero(e.rx, 30));
		assert_int_equal(e.rx[30], 0x12);
		assert_int_equal(e.rx[31], 0x34);
		assert_int_equal(e.recid, 2 | parity);
		/* R.x = n - 1: no reduction, bit 1 clear. */
		memcpy(r33 + 1, presig_order_n, 32);
		r33[32] = 0x40;
		assert_true(presig_ecdsa_entry_r(&e, r33));
		assert_memory_equal(e.rx, r33 + 1, 32);
		assert_int_equal(e.recid, parity);
		/* R.x = n: r = 0, unusable. */
		memcpy(r33 + 1, presig_order_n, 32);
		assert_false(presig_ecdsa_entry_r(&e, r33));
	}
	/* The online step over a synthetic r >= n entry, many k and z. */
	for (i = 0; i < 64; i++) {
		r33[0] = (uint8_t)(2 + (i & 1));
		memcpy(r33 + 1, presig_order_n, 32);
		r33[32] = (uint8_t)(0x42 + i); /* n + 1 + i */
		assert_true(presig_ecdsa_entry_r(&e, r33));
		secp_random_seckey(f->vctx, k);
		assert_true(presig_inverse_mod_n(f->vctx, e.k, k));
		secp_random(z, 32);
		if (i < NEDGE)
			test_hash(i, z);
		assert_true(presig_ecdsa_online(f->vctx, sig, &rid, &e, key->seckey, z));
		assert_memory_equal(sig, e.rx, 32);
		assert_int_equal(rid & 2, 2);
		assert_int_equal(presig_is_high(sig + 32), 0);
		/* lhs = s k; rhs = z + r d (mod n) */
		memcpy(lhs, sig + 32, 32);
		assert_true(secp256k1_ec_seckey_tweak_mul(f->vctx, lhs, k));
		memcpy(rhs, key->seckey, 32);
		assert_true(secp256k1_ec_seckey_tweak_mul(f->vctx, rhs, e.rx));
		presig_reduce_mod_n(z, z);
		if (!presig_is_zero32(z))
			assert_true(secp256k1_ec_seckey_tweak_add(f->vctx, rhs, z));
		if ((rid & 1) != (e.recid & 1)) /* negated: s k = -(z + r d) */
			assert_true(secp256k1_ec_seckey_negate(f->vctx, rhs));
		assert_memory_equal(lhs, rhs, 32);
	}
	explicit_bzero(k, sizeof(k));
}

/*
 * z = -(r d) mod n makes z + r d = 0: libsecp256k1 refuses the sum, the entry
 * is discarded (wiped, counted) and the next one signs.
 */
static void
test_zero_sum_discarded(void **state)
{
	struct secp_sign_fixture *f = *state;
	const struct zcs_key *key = &f->keys[0];
	struct zcs_presig *ps = make_pool(16, 16);
	struct presig_pool *p = ps->pools[ZCS_PRESIG_ECDSA];
	struct zcs_presig_stats st;
	struct presig_entry *first;
	uint8_t hash[32], sig[64], r1[32], rid;

	fill(ps, ZCS_PRESIG_ECDSA);
	first = ring_peek(p);
	memcpy(r1, first->rx, 32);
	memcpy(hash, key->seckey, 32);
	assert_true(secp256k1_ec_seckey_tweak_mul(f->vctx, hash, r1));
	assert_true(secp256k1_ec_seckey_negate(f->vctx, hash));
	assert_int_equal(
		zcs_presig_sign(f->ctx, ps, sig, &rid, key, ZCS_ALGO_ECDSA_RECOVERABLE, hash),
		ZCS_OK);
	verify_sig(f, key, ZCS_ALGO_ECDSA_RECOVERABLE, hash, sig, rid);
	assert_memory_not_equal(sig, r1, 32);
	assert_true(all_zero(first, sizeof(*first)));
	zcs_presig_stats(ps, &st);
	assert_int_equal(st.discards[ZCS_PRESIG_ECDSA], 1);
	assert_int_equal(st.misses[ZCS_PRESIG_ECDSA], 0);
	assert_int_equal(st.depth[ZCS_PRESIG_ECDSA], 14);

	/* r = 0 (never made by a refill): r d = 0 is refused, discarded too. */
	memset(ring_peek(p)->rx, 0, 32);
	secp_random(hash, 32);
	assert_int_equal(zcs_presig_sign(f->ctx, ps, sig, &rid, key, ZCS_ALGO_ECDSA, hash), ZCS_OK);
	verify_sig(f, key, ZCS_ALGO_ECDSA, hash, sig, rid);
	zcs_presig_stats(ps, &st);
	assert_int_equal(st.discards[ZCS_PRESIG_ECDSA], 2);
	assert_int_equal(st.depth[ZCS_PRESIG_ECDSA], 12);
	zcs_presig_destroy(ps);
}

/* BIP-340: an entry with k = -(e d') makes s = 0: discarded, the next one signs. */
static void
test_zero_schnorr_discarded(void **state)
{
	struct secp_sign_fixture *f = *state;
	struct zcs_presig *ps = make_pool(16, 16);
	struct presig_pool *p = ps->pools[ZCS_PRESIG_SCHNORR];
	struct zcs_presig_stats st;
	uint8_t hash[32], msg[96], ch[32], sig[64], rid;
	unsigned int k;

	fill(ps, ZCS_PRESIG_SCHNORR);
	for (k = 0; k < 2; k++) {
		const struct zcs_key *key = &f->keys[k];
		struct presig_entry *e = ring_peek(p);

		secp_random(hash, 32);
		memcpy(msg, e->rx, 32);
		memcpy(msg + 32, key->pub_xonly, 32);
		memcpy(msg + 64, hash, 32);
		assert_true(secp256k1_tagged_sha256(f->vctx, ch,
			(const unsigned char *)PRESIG_CHALLENGE_TAG,
			sizeof(PRESIG_CHALLENGE_TAG) - 1, msg, 96));
		presig_reduce_mod_n(ch, ch);
		assert_true(presig_even_y_seckey(f->vctx, e->k, key));
		assert_true(secp256k1_ec_seckey_tweak_mul(f->vctx, e->k, ch));
		assert_true(secp256k1_ec_seckey_negate(f->vctx, e->k));
		assert_int_equal(
			zcs_presig_sign(f->ctx, ps, sig, &rid, key, ZCS_ALGO_SCHNORR, hash),
			ZCS_OK);
		verify_sig(f, key, ZCS_ALGO_SCHNORR, hash, sig, rid);
		assert_memory_not_equal(sig, msg, 32);
	}
	zcs_presig_stats(ps, &st);
	assert_int_equal(st.discards[ZCS_PRESIG_SCHNORR], 2);
	assert_int_equal(st.depth[ZCS_PRESIG_SCHNORR], 12);
	zcs_presig_destroy(ps);
}

/* ---- the pool ---- */

/* An empty pool is not an error: RFC 6979 signs (the same bytes), the miss is counted. */
static void
test_exhaustion_falls_back(void **state)
{
	struct secp_sign_fixture *f = *state;
	struct zcs_presig *ps = make_pool(4, 2);
	const struct zcs_key *key = &f->keys[3];
	struct zcs_presig_stats st;
	uint8_t hash[32], sig[64], ref[64], rid, rref;
	unsigned int i, algo;

	fill(ps, ZCS_PRESIG_ECDSA);
	fill(ps, ZCS_PRESIG_SCHNORR);
	secp_random(hash, 32);
	for (algo = ZCS_ALGO_ECDSA; algo <= ZCS_ALGO_SCHNORR; algo++)
		for (i = 0; i < 4; i++) {
			unsigned int kind = kind_of(algo);
			uint64_t before;

			zcs_presig_stats(ps, &st);
			before = st.misses[kind];
			assert_int_equal(
				zcs_presig_sign(f->ctx, ps, sig, &rid, key, algo, hash), ZCS_OK);
			verify_sig(f, key, algo, hash, sig, rid);
			assert_int_equal(
				zcs_sign(f->ctx, ref, &rref, key, algo, ZCS_NONCE_RFC6979, hash),
				ZCS_OK);
			zcs_presig_stats(ps, &st);
			if (st.misses[kind] == before) {
				/* a presignature: a random nonce, not RFC 6979's */
				assert_memory_not_equal(sig, ref, 32);
			} else {
				assert_int_equal(st.misses[kind], before + 1);
				assert_memory_equal(sig, ref, 64);
				assert_int_equal(rid, rref);
			}
		}
	zcs_presig_stats(ps, &st);
	/* ECDSA: 4 entries for 8 requests; BIP-340: 2 for 4. */
	assert_int_equal(st.misses[ZCS_PRESIG_ECDSA], 4);
	assert_int_equal(st.misses[ZCS_PRESIG_SCHNORR], 2);
	assert_int_equal(st.depth[0] + st.depth[1], 0);
	zcs_presig_destroy(ps);

	/* A pool of capacity 0 always falls back. */
	ps = make_pool(0, 0);
	assert_int_equal(zcs_presig_refill(ps, ZCS_PRESIG_ECDSA, 64), 0);
	assert_int_equal(zcs_presig_sign(f->ctx, ps, sig, &rid, key, ZCS_ALGO_ECDSA, hash), ZCS_OK);
	verify_sig(f, key, ZCS_ALGO_ECDSA, hash, sig, rid);
	zcs_presig_stats(ps, &st);
	assert_int_equal(st.misses[ZCS_PRESIG_ECDSA], 1);
	assert_int_equal(zcs_presig_sign(f->ctx, ps, sig, &rid, key, 0, hash), ZCS_ERR_BAD_ALGO);
	assert_true(all_zero(sig, 64));
	zcs_presig_destroy(ps);
}

/* A used entry is zeroed in place, whatever the algorithm; so is a drained one. */
static void
test_entries_zeroed_after_use(void **state)
{
	struct secp_sign_fixture *f = *state;
	struct zcs_presig *ps = make_pool(8, 8);
	uint8_t hash[32], sig[64], rid;
	unsigned int algo, kind, i;

	fill(ps, ZCS_PRESIG_ECDSA);
	fill(ps, ZCS_PRESIG_SCHNORR);
	for (kind = 0; kind < ZCS_PRESIG_KINDS; kind++)
		for (i = 0; i < 8; i++)
			assert_false(
				all_zero(&ps->pools[kind]->slots[i], sizeof(struct presig_entry)));
	secp_random(hash, 32);
	for (algo = ZCS_ALGO_ECDSA; algo <= ZCS_ALGO_SCHNORR; algo++) {
		struct presig_entry *e = ring_peek(ps->pools[kind_of(algo)]);

		assert_int_equal(
			zcs_presig_sign(f->ctx, ps, sig, &rid, &f->keys[0], algo, hash), ZCS_OK);
		assert_true(all_zero(e, sizeof(*e)));
	}
	assert_int_equal(zcs_presig_drain(ps, ZCS_PRESIG_ECDSA), 6);
	assert_int_equal(zcs_presig_drain(ps, ZCS_PRESIG_SCHNORR), 7);
	assert_int_equal(zcs_presig_drain(ps, ZCS_PRESIG_KINDS), 0);
	for (kind = 0; kind < ZCS_PRESIG_KINDS; kind++)
		assert_true(all_zero(ps->pools[kind]->slots, 8 * sizeof(struct presig_entry)));
	/* The refill scratch holds no nonce between batches either. */
	assert_true(all_zero(ps->scratch, sizeof(*ps->scratch)));
	zcs_presig_destroy(ps);
}

/*
 * MADV_WIPEONFORK: the child reads zeros where the parent has entries, ring
 * indices included, so its pools are empty and it can only fall back.
 */
static void
test_fork_child_wiped(void **state)
{
	struct secp_sign_fixture *f = *state;
	struct zcs_presig *ps = make_pool(64, 64);
	const size_t ecdsa_bytes = 64 * sizeof(struct presig_entry);
	struct presig_entry *slots[ZCS_PRESIG_KINDS];
	int status;
	pid_t pid;

	fill(ps, ZCS_PRESIG_ECDSA);
	fill(ps, ZCS_PRESIG_SCHNORR);
	slots[0] = ps->pools[0]->slots;
	slots[1] = ps->pools[1]->slots;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		uint8_t hash[32] = {1}, sig[64], rid;
		int bad = 0;

		/* No cmocka in the child: the exit status is the verdict. */
		bad |= !all_zero(slots[0], ecdsa_bytes) << 0;
		bad |= !all_zero(slots[1], ecdsa_bytes) << 1;
		bad |= !all_zero(ps->region, ps->region_len) << 2;
		bad |= (zcs_presig_sign(f->ctx, ps, sig, &rid, &f->keys[0], ZCS_ALGO_ECDSA, hash) !=
			       ZCS_OK)
			<< 3;
		bad |= (atomic_load(&ps->pools[0]->misses) != 1) << 4;
		_exit(bad);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* The parent's pools are untouched. */
	assert_int_equal(pool_depth(ps->pools[0]), 64);
	assert_false(all_zero(slots[0], sizeof(struct presig_entry)));
	assert_false(all_zero(&slots[1][63], sizeof(struct presig_entry)));
	zcs_presig_destroy(ps);
}

/* ---- 1,000,000 signatures, no repeated r ---- */

/* Open addressing over indices into the r array; r is uniform, its first bytes hash it. */
struct rset {
	uint8_t (*r)[32];
	uint32_t *slots; /* index + 1, 0 = free */
	uint32_t mask;
	uint32_t n;
};

/* Insert r; returns 0 if it was already there. */
static int
rset_add(struct rset *s, const uint8_t r[32])
{
	uint64_t h;
	uint32_t i;

	memcpy(&h, r, sizeof(h));
	for (i = (uint32_t)h & s->mask;; i = (i + 1) & s->mask) {
		if (s->slots[i] == 0)
			break;
		if (memcmp(s->r[s->slots[i] - 1], r, 32) == 0)
			return 0;
	}
	memcpy(s->r[s->n], r, 32);
	s->slots[i] = ++s->n;
	return 1;
}

/*
 * The real refill thread produces, this thread consumes (waiting, not
 * falling back, while a pool is empty): 1,000,000 signatures, a quarter of
 * them BIP-340, every r (R.x) distinct, a sample verified.
 */
static void
test_million_no_repeated_r(void **state)
{
	struct secp_sign_fixture *f = *state;
	struct zcs_presig_conf conf;
	struct zcs_presig_stats st;
	struct zcs_presig *ps;
	struct rset set;
	uint8_t hash[32], sig[64], rid;
	unsigned int i, waits = 0;

	/*
	 * At normal priority: this test wants the refill thread's throughput,
	 * also beside busy neighbours (the default's lowest priority is tested
	 * with the water marks).
	 */
	zcs_presig_conf_default(&conf);
	conf.capacity[ZCS_PRESIG_ECDSA] = 4096;
	conf.capacity[ZCS_PRESIG_SCHNORR] = 2048;
	conf.refill_normal = true;
	ps = zcs_presig_create(&conf);
	assert_non_null(ps);
	set.r = malloc((size_t)MILLION * 32);
	set.mask = (1u << 21) - 1;
	set.slots = calloc((size_t)set.mask + 1, sizeof(uint32_t));
	set.n = 0;
	assert_non_null(set.r);
	assert_non_null(set.slots);
	assert_int_equal(zcs_presig_start(ps), 0);
	assert_int_equal(zcs_presig_refill(ps, ZCS_PRESIG_ECDSA, 1), -EBUSY);
	assert_int_equal(zcs_presig_start(ps), -EALREADY);
	assert_string_equal(zcs_presig_priority(ps), "normal");
	secp_random(hash, 32);
	for (i = 0; i < MILLION; i++) {
		unsigned int algo = (i & 3) == 3 ? ZCS_ALGO_SCHNORR : ZCS_ALGO_ECDSA + (i & 1);
		const struct zcs_key *key = &f->keys[i % NKEYS];

		while (pool_depth(ps->pools[kind_of(algo)]) == 0) {
			usleep(200);
			/* ~20 minutes at most: a hung refill thread fails, not hangs. */
			assert_true(++waits < 6000000);
		}
		assert_int_equal(zcs_presig_sign(f->ctx, ps, sig, &rid, key, algo, hash), ZCS_OK);
		if (!rset_add(&set, sig))
			fail_msg("r repeated at signature %u", i);
		if (i % 997 == 0)
			verify_sig(f, key, algo, hash, sig, rid);
		hash[i & 31] ^= sig[32 + (i & 31)]; /* a new message each time */
	}
	assert_int_equal(set.n, MILLION);
	zcs_presig_stats(ps, &st);
	assert_int_equal(st.misses[0] + st.misses[1], 0);
	assert_int_equal(st.discards[0] + st.discards[1], 0);
	assert_int_equal(st.refill_errors, 0);
	assert_true(st.refilled[0] + st.refilled[1] >= MILLION);
	zcs_presig_destroy(ps);
	free(set.r);
	free(set.slots);
}

/* ---- the refill thread's water marks ---- */

static void
wait_depth(struct zcs_presig *ps, unsigned int kind, uint32_t want)
{
	unsigned int waits = 0;

	while (pool_depth(ps->pools[kind]) != want) {
		usleep(1000);
		assert_true(++waits < 600000);
	}
}

static void
test_refill_water_marks(void **state)
{
	struct secp_sign_fixture *f = *state;
	struct zcs_presig_conf conf;
	struct zcs_presig *ps;
	uint8_t hash[32], sig[64], rid;
	unsigned int i;

	zcs_presig_conf_default(&conf);
	conf.capacity[ZCS_PRESIG_ECDSA] = 256;
	conf.capacity[ZCS_PRESIG_SCHNORR] = 100;
	conf.low_pct = 50;
	conf.high_pct = 90;
	ps = zcs_presig_create(&conf);
	assert_non_null(ps);
	assert_int_equal(ps->pools[0]->low, 128);
	assert_int_equal(ps->pools[0]->high, 230);
	assert_int_equal(ps->pools[1]->low, 50);
	assert_int_equal(ps->pools[1]->high, 90);
	assert_string_equal(zcs_presig_priority(ps), "");
	assert_int_equal(zcs_presig_start(ps), 0);
	/* By default the refill thread takes the lowest priority it may. */
	assert_true(strcmp(zcs_presig_priority(ps), "SCHED_IDLE") == 0 ||
		strcmp(zcs_presig_priority(ps), "nice 19") == 0);
	/* Empty is below low: filled up to high, then left alone. */
	wait_depth(ps, ZCS_PRESIG_ECDSA, 230);
	wait_depth(ps, ZCS_PRESIG_SCHNORR, 90);
	/* Down to 130 (still >= low): no refill. */
	secp_random(hash, 32);
	for (i = 0; i < 100; i++)
		assert_int_equal(
			zcs_presig_sign(f->ctx, ps, sig, &rid, &f->keys[0], ZCS_ALGO_ECDSA, hash),
			ZCS_OK);
	usleep(20 * ZCS_PRESIG_IDLE_US);
	assert_int_equal(pool_depth(ps->pools[0]), 130);
	/* Below low: back to high. */
	for (i = 0; i < 10; i++)
		assert_int_equal(
			zcs_presig_sign(f->ctx, ps, sig, &rid, &f->keys[0], ZCS_ALGO_ECDSA, hash),
			ZCS_OK);
	wait_depth(ps, ZCS_PRESIG_ECDSA, 230);
	zcs_presig_destroy(ps);
}

static void
test_create_checks(void **state)
{
	struct zcs_presig_conf conf;
	struct zcs_presig *ps;

	(void)state;
	zcs_presig_conf_default(&conf);
	assert_int_equal(conf.capacity[0], ZCS_PRESIG_DEFAULT_CAPACITY);
	assert_int_equal(conf.refill_cpu, -1);
	conf.capacity[1] = ZCS_PRESIG_MAX_CAPACITY + 1;
	errno = 0;
	assert_null(zcs_presig_create(&conf));
	assert_int_equal(errno, EINVAL);
	zcs_presig_conf_default(&conf);
	conf.low_pct = conf.high_pct;
	assert_null(zcs_presig_create(&conf));
	conf.low_pct = 10;
	conf.high_pct = 101;
	assert_null(zcs_presig_create(&conf));
	conf.high_pct = 100;
	conf.refill_cpu = -2;
	assert_null(zcs_presig_create(&conf));
	assert_null(zcs_presig_create(NULL));
	/* A non-power-of-two capacity is honoured exactly (the ring rounds up). */
	zcs_presig_conf_default(&conf);
	conf.capacity[0] = 100;
	conf.capacity[1] = 1;
	ps = zcs_presig_create(&conf);
	assert_non_null(ps);
	assert_int_equal(ps->pools[0]->mask, 127);
	assert_int_equal(zcs_presig_refill(ps, ZCS_PRESIG_ECDSA, 1000), 64);
	assert_int_equal(zcs_presig_refill(ps, ZCS_PRESIG_ECDSA, 1000), 36);
	assert_int_equal(zcs_presig_refill(ps, ZCS_PRESIG_ECDSA, 1000), 0);
	assert_int_equal(zcs_presig_refill(ps, ZCS_PRESIG_SCHNORR, 5), 1);
	assert_int_equal(zcs_presig_refill(ps, 2, 5), -EINVAL);
	zcs_presig_destroy(ps);
	/* A CPU that does not exist: the refill thread cannot start. */
	conf.refill_cpu = CPU_SETSIZE - 1;
	ps = zcs_presig_create(&conf);
	assert_non_null(ps);
	assert_int_equal(zcs_presig_start(ps), -EINVAL);
	zcs_presig_destroy(ps);
	zcs_presig_destroy(NULL);
}

/* ---- the SPSC ring alone, under two threads ---- */

#define RING_ITEMS 2000000u

struct ring_test {
	struct presig_pool pool;
	struct presig_entry slots[16];
	uint64_t bad; /* consumer: items out of order or torn */
	uint64_t got;
};

/* Producer: items 1..RING_ITEMS in batches of 1..16, each entry self-checking. */
static void *
ring_producer(void *arg)
{
	struct ring_test *t = arg;
	uint64_t next = 1, head, batch = 1;

	while (next <= RING_ITEMS) {
		uint32_t room = ring_room(&t->pool, &head);
		uint64_t n = batch < room ? batch : room;
		uint64_t i;

		if (n > RING_ITEMS + 1 - next)
			n = RING_ITEMS + 1 - next;
		for (i = 0; i < n; i++) {
			struct presig_entry *e = ring_slot(&t->pool, head + i);
			uint64_t v = next + i, nv = ~v;

			memcpy(e->k, &v, 8);
			memcpy(e->k + 24, &v, 8);
			memcpy(e->rx, &nv, 8);
			memcpy(e->rx + 24, &nv, 8);
			e->recid = (uint8_t)v;
		}
		if (n > 0)
			ring_publish(&t->pool, head, (unsigned int)n);
		else
			sched_yield();
		next += n;
		batch = batch % 16 + 1;
	}
	return NULL;
}

/* Consumer: every item once, in order, whole; slots wiped on the way out. */
static void *
ring_consumer(void *arg)
{
	struct ring_test *t = arg;
	uint64_t want = 1;

	while (want <= RING_ITEMS) {
		struct presig_entry *e = ring_peek(&t->pool);
		uint64_t v, v2, nv, nv2;

		if (e == NULL) {
			sched_yield();
			continue;
		}
		memcpy(&v, e->k, 8);
		memcpy(&v2, e->k + 24, 8);
		memcpy(&nv, e->rx, 8);
		memcpy(&nv2, e->rx + 24, 8);
		if (v != want || v2 != v || nv != ~v || nv2 != ~v || e->recid != (uint8_t)v)
			t->bad++;
		ring_pop(&t->pool, e);
		t->got++;
		want++;
	}
	return NULL;
}

static void
test_spsc_ring_two_threads(void **state)
{
	struct ring_test *t = aligned_alloc(64, sizeof(struct ring_test));
	pthread_t prod, cons;

	(void)state;
	assert_non_null(t);
	memset(t, 0, sizeof(*t));
	t->pool.capacity = 16;
	t->pool.mask = 15;
	t->pool.slots = t->slots;
	assert_int_equal(pthread_create(&cons, NULL, ring_consumer, t), 0);
	assert_int_equal(pthread_create(&prod, NULL, ring_producer, t), 0);
	assert_int_equal(pthread_join(prod, NULL), 0);
	assert_int_equal(pthread_join(cons, NULL), 0);
	assert_int_equal(t->got, RING_ITEMS);
	assert_int_equal(t->bad, 0);
	/* Nothing left, nothing extra, every slot wiped. */
	assert_int_equal(atomic_load(&t->pool.head), RING_ITEMS);
	assert_int_equal(atomic_load(&t->pool.tail), RING_ITEMS);
	assert_null(ring_peek(&t->pool));
	assert_true(all_zero(t->slots, sizeof(t->slots)));
	free(t);
}

/* ---- the start-up self-test ---- */

static void
test_selftest(void **state)
{
	struct secp_sign_fixture *f = *state;
	char err[256];
	unsigned int m;

	for (m = ZCS_NONCE_RFC6979; m <= ZCS_NONCE_HEDGED; m++) {
		err[0] = '\0';
		if (zcs_selftest(f->ctx, m, err, sizeof(err)) != 0)
			fail_msg("self-test of %s: %s", zcs_nonce_mode_name(m), err);
	}
	assert_int_equal(zcs_selftest(f->ctx, 0, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unknown nonce mode"));
	assert_int_equal(zcs_selftest(f->ctx, 4, err, sizeof(err)), -1);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, secp_sign_fixture_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_every_mode_verifies),
		T(test_scalar_helpers),
		T(test_online_hash_edges),
		T(test_r_above_n),
		T(test_zero_sum_discarded),
		T(test_zero_schnorr_discarded),
		T(test_exhaustion_falls_back),
		T(test_entries_zeroed_after_use),
		T(test_fork_child_wiped),
		T(test_refill_water_marks),
		T(test_create_checks),
		cmocka_unit_test(test_spsc_ring_two_threads),
		T(test_selftest),
		T(test_million_no_repeated_r),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
