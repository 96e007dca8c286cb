/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * secp256k1 inputs the tests share: the group order n, the edge-case hashes
 * every signing test runs first (a hash is reduced mod n, so 0, n and the
 * values next to it are where a signer or verifier would slip), random valid
 * secrets. Where enclave/ is on the include path (sign.h is there), also the
 * fixture of the enclave's signing tests: the signer's context, an
 * independent one for the checks, and keys derived as the key store does.
 * Header-only, static inline; every helper returns 0 or -1 (no cmocka here).
 */
#ifndef ZCS_TESTS_SECP_UTIL_H
#define ZCS_TESTS_SECP_UTIL_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <secp256k1.h>

/* How many edge-case hashes secp_edge_hash() has. */
#define SECP_EDGE_HASHES 6

/* The group order n, big-endian. */
static inline const uint8_t *
secp_order(void)
{
	static const uint8_t n[32] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b,
		0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41};

	return n;
}

/* Edge-case hash i (< SECP_EDGE_HASHES): 0, all ones (> n), n (reduces to 0), n - 1, n + 1, 1. */
static inline void
secp_edge_hash(unsigned int i, uint8_t hash[32])
{
	switch (i) {
	case 0:
		memset(hash, 0, 32);
		break;
	case 1:
		memset(hash, 0xff, 32);
		break;
	case 2:
		memcpy(hash, secp_order(), 32);
		break;
	case 3: /* n - 1 */
		memcpy(hash, secp_order(), 32);
		hash[31] = 0x40;
		break;
	case 4: /* n + 1 */
		memcpy(hash, secp_order(), 32);
		hash[31] = 0x42;
		break;
	default: /* 1 */
		memset(hash, 0, 32);
		hash[31] = 1;
		break;
	}
}

/* x = n - x for a 32-byte big-endian x in 1..n-1: turns a low ECDSA s into its high twin. */
static inline void
secp_negate_mod_n(uint8_t x[32])
{
	const uint8_t *n = secp_order();
	unsigned int borrow = 0;
	int i;

	for (i = 31; i >= 0; i--) {
		unsigned int d = (unsigned int)n[i] - x[i] - borrow;

		x[i] = (uint8_t)d;
		borrow = d >> 8 & 1;
	}
}

/* len bytes from getrandom(2). Returns 0, or -1 (a short read included). */
static inline int
secp_random(void *buf, size_t len)
{
	return getrandom(buf, len, 0) == (ssize_t)len ? 0 : -1;
}

/* A random valid secret key. Returns 0, or -1 when getrandom failed. */
static inline int
secp_random_seckey(const secp256k1_context *ctx, uint8_t sk[32])
{
	do
		if (secp_random(sk, 32) != 0)
			return -1;
	while (!secp256k1_ec_seckey_verify(ctx, sk));
	return 0;
}

/* Hash i of a test set: the edge cases first (i < SECP_EDGE_HASHES), then random ones. */
static inline int
secp_test_hash(unsigned int i, uint8_t hash[32])
{
	if (i >= SECP_EDGE_HASHES)
		return secp_random(hash, 32);
	secp_edge_hash(i, hash);
	return 0;
}

#if __has_include("sign.h")
#include "sign.h"

/* The fixture of test_sign and test_presig. */
struct secp_sign_fixture {
	secp256k1_context *ctx; /* the signer's (zcs_sign_ctx_create) */
	secp256k1_context *vctx; /* independent: verify, key derivation, references */
	struct zcs_key *keys; /* nkeys, zeroed until the test makes them (secp_key_make) */
	unsigned int nkeys;
};

/* Both contexts and nkeys zeroed keys, on the heap. NULL on failure, with nothing left. */
static inline struct secp_sign_fixture *
secp_sign_fixture_new(unsigned int nkeys)
{
	struct secp_sign_fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return NULL;
	f->ctx = zcs_sign_ctx_create();
	f->vctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
	f->keys = calloc(nkeys, sizeof(*f->keys));
	f->nkeys = nkeys;
	if (f->ctx != NULL && f->vctx != NULL && f->keys != NULL)
		return f;
	zcs_sign_ctx_destroy(f->ctx);
	if (f->vctx != NULL)
		secp256k1_context_destroy(f->vctx);
	free(f->keys);
	free(f);
	return NULL;
}

/* A cmocka teardown for *state from secp_sign_fixture_new(): contexts, keys (wiped), all freed. */
static inline int
secp_sign_fixture_teardown(void **state)
{
	struct secp_sign_fixture *f = *state;

	zcs_sign_ctx_destroy(f->ctx);
	secp256k1_context_destroy(f->vctx);
	explicit_bzero(f->keys, f->nkeys * sizeof(*f->keys));
	free(f->keys);
	free(f);
	return 0;
}

/*
 * k for account, from seckey (NULL: a random valid one), its public half
 * derived on ctx the way the key store derives it (zcs_key_derive).
 * Returns 0 or -1.
 */
static inline int
secp_key_make(
	const secp256k1_context *ctx, struct zcs_key *k, uint64_t account, const uint8_t *seckey)
{
	memset(k, 0, sizeof(*k));
	k->account = account;
	if (seckey != NULL)
		memcpy(k->seckey, seckey, 32);
	else if (secp_random_seckey(ctx, k->seckey) != 0)
		return -1;
	return zcs_key_derive(ctx, k) == 0 ? 0 : -1;
}
#endif /* sign.h */

#endif /* ZCS_TESTS_SECP_UTIL_H */
