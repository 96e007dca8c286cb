/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The start-up self-test of a nonce mode (zcs_selftest(), contract in
 * presig.h): a signer that cannot make a good signature must not make any.
 * It goes through the public paths only (zcs_sign(), a private presignature
 * pool through zcs_presig_sign()) and checks every signature with
 * libsecp256k1's own verify (zcs_sign_verify_var()); presig_internal.h gives
 * it only the group order n, for its edge-case hashes. Its throwaway keys are
 * wiped before it returns.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <secp256k1.h>

#include <zcsign/status.h>
#include <zcsign/wire.h>

#include "keystore.h"
#include "presig.h"
#include "presig_internal.h"
#include "sign.h"

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

/* A key built by the key store's own derivation. */
static int
st_key(const secp256k1_context *ctx, struct zcs_key *k, const uint8_t seckey[32])
{
	memset(k, 0, sizeof(*k));
	memcpy(k->seckey, seckey, 32);
	return zcs_key_derive(ctx, k) == 0;
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
	memcpy(st->hashes[2], presig_order_n, 32); /* n - 1 */
	st->hashes[2][31] = 0x40;
	memcpy(st->hashes[3], presig_order_n, 32); /* n: z = 0 after reduction */
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
