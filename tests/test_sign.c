/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * enclave/sign.c: every signature zcs_sign() produces, in both of its nonce
 * modes, verifies with libsecp256k1's own verify (a separate context), ECDSA
 * is low-S, recovery gives back the signer's key; rfc6979 is deterministic
 * (BIP-340 with aux NULL equals 32 zero bytes), hedged never repeats a nonce;
 * zcs_sign_verify_var() accepts exactly the good signatures; and the self
 * measurement is the SHA-384 of the binary.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <secp256k1.h>
#include <secp256k1_extrakeys.h>
#include <secp256k1_recovery.h>
#include <secp256k1_schnorrsig.h>

#include <zcsign/status.h>
#include <zcsign/wire.h>

#include "keystore.h"
#include "sign_fixture.h"
#include "sign.h"

#define NKEYS 8
#define NRANDOM 64

/* The nonce modes zcs_sign() implements. */
static const unsigned int modes[] = {ZCS_NONCE_RFC6979, ZCS_NONCE_HEDGED};
#define NMODES (sizeof(modes) / sizeof(modes[0]))

static int
setup(void **state)
{
	struct secp_sign_fixture *f = secp_sign_fixture_new(NKEYS);
	unsigned int i;

	assert_non_null(f);
	for (i = 0; i < NKEYS; i++)
		secp_key_make(f->vctx, &f->keys[i], 1000 + (uint64_t)i, NULL);
	*state = f;
	return 0;
}

/* Hashes of the test set (secp_test_hash): the edge cases, then random ones. */
#define NHASHES (SECP_EDGE_HASHES + NRANDOM)

static void
pubkey_of(const struct secp_sign_fixture *f, const struct zcs_key *k, secp256k1_pubkey *pub)
{
	assert_true(secp256k1_ec_pubkey_parse(f->vctx, pub, k->pub_compressed, 33));
}

static void
test_ecdsa_verifies_low_s(void **state)
{
	struct secp_sign_fixture *f = *state;
	unsigned int i, k, m;

	for (m = 0; m < NMODES; m++)
		for (k = 0; k < NKEYS; k++) {
			secp256k1_pubkey pub;

			pubkey_of(f, &f->keys[k], &pub);
			for (i = 0; i < NHASHES; i++) {
				secp256k1_ecdsa_signature sig, norm;
				uint8_t hash[32], sig64[64];
				uint8_t recid = 0xaa;

				secp_test_hash(i, hash);
				assert_int_equal(zcs_sign(f->ctx, sig64, &recid, &f->keys[k],
							 ZCS_ALGO_ECDSA, modes[m], hash),
					ZCS_OK);
				assert_true(zcs_sign_verify_var(
					f->vctx, &f->keys[k], ZCS_ALGO_ECDSA, hash, sig64, 0));
				assert_int_equal(recid, 0);
				assert_true(secp256k1_ecdsa_signature_parse_compact(
					f->vctx, &sig, sig64));
				/* normalize returns 1 only when it had to flip a high S. */
				assert_int_equal(
					secp256k1_ecdsa_signature_normalize(f->vctx, &norm, &sig),
					0);
				assert_true(secp256k1_ecdsa_verify(f->vctx, &sig, hash, &pub));
				/* And not for another hash. */
				hash[0] ^= 1;
				assert_false(secp256k1_ecdsa_verify(f->vctx, &sig, hash, &pub));
			}
		}
}

static void
test_ecdsa_deterministic(void **state)
{
	struct secp_sign_fixture *f = *state;
	const struct zcs_key *k0 = &f->keys[0];
	uint8_t hash[32], a[64], b[64];
	uint8_t recid;

	secp_random(hash, sizeof(hash));
	assert_int_equal(
		zcs_sign(f->ctx, a, &recid, k0, ZCS_ALGO_ECDSA, ZCS_NONCE_RFC6979, hash), ZCS_OK);
	assert_int_equal(
		zcs_sign(f->ctx, b, &recid, k0, ZCS_ALGO_ECDSA, ZCS_NONCE_RFC6979, hash), ZCS_OK);
	assert_memory_equal(a, b, 64); /* RFC 6979 */
	assert_int_equal(
		zcs_sign(f->ctx, b, &recid, &f->keys[1], ZCS_ALGO_ECDSA, ZCS_NONCE_RFC6979, hash),
		ZCS_OK);
	assert_memory_not_equal(a, b, 64);
}

/* Hedged: fresh extra data each time, so a new nonce (new r) for the same hash. */
static void
test_ecdsa_hedged_fresh(void **state)
{
	struct secp_sign_fixture *f = *state;
	const struct zcs_key *k0 = &f->keys[0];
	uint8_t hash[32], a[64], b[64], det[64];
	uint8_t recid;
	unsigned int algo;

	secp_random(hash, sizeof(hash));
	for (algo = ZCS_ALGO_ECDSA; algo <= ZCS_ALGO_SCHNORR; algo++) {
		assert_int_equal(
			zcs_sign(f->ctx, a, &recid, k0, algo, ZCS_NONCE_HEDGED, hash), ZCS_OK);
		assert_int_equal(
			zcs_sign(f->ctx, b, &recid, k0, algo, ZCS_NONCE_HEDGED, hash), ZCS_OK);
		assert_int_equal(
			zcs_sign(f->ctx, det, &recid, k0, algo, ZCS_NONCE_RFC6979, hash), ZCS_OK);
		assert_memory_not_equal(a, b, 32);
		assert_memory_not_equal(a, det, 32);
		assert_memory_not_equal(b, det, 32);
	}
}

static void
test_recoverable(void **state)
{
	struct secp_sign_fixture *f = *state;
	unsigned int i, k, m;
	unsigned int seen[4] = {0};

	for (m = 0; m < NMODES; m++)
		for (k = 0; k < NKEYS; k++) {
			secp256k1_pubkey pub;

			pubkey_of(f, &f->keys[k], &pub);
			for (i = 0; i < NHASHES; i++) {
				secp256k1_ecdsa_recoverable_signature rsig;
				secp256k1_ecdsa_signature sig, norm;
				secp256k1_pubkey got;
				uint8_t hash[32], sig64[64], plain[64], comp[33];
				uint8_t recid = 0xaa, r0;
				size_t len = sizeof(comp);

				secp_test_hash(i, hash);
				assert_int_equal(
					zcs_sign(f->ctx, sig64, &recid, &f->keys[k],
						ZCS_ALGO_ECDSA_RECOVERABLE, modes[m], hash),
					ZCS_OK);
				assert_in_range(recid, 0, 3);
				assert_true(zcs_sign_verify_var(f->vctx, &f->keys[k],
					ZCS_ALGO_ECDSA_RECOVERABLE, hash, sig64, recid));
				/* Another recid recovers another key (or none). */
				assert_false(zcs_sign_verify_var(f->vctx, &f->keys[k],
					ZCS_ALGO_ECDSA_RECOVERABLE, hash, sig64, recid ^ 1));
				seen[recid]++;
				assert_true(secp256k1_ecdsa_recoverable_signature_parse_compact(
					f->vctx, &rsig, sig64, recid));
				assert_true(secp256k1_ecdsa_recover(f->vctx, &got, &rsig, hash));
				assert_true(secp256k1_ec_pubkey_serialize(
					f->vctx, comp, &len, &got, SECP256K1_EC_COMPRESSED));
				assert_memory_equal(comp, f->keys[k].pub_compressed, 33);
				assert_true(secp256k1_ecdsa_recoverable_signature_convert(
					f->vctx, &sig, &rsig));
				assert_int_equal(
					secp256k1_ecdsa_signature_normalize(f->vctx, &norm, &sig),
					0);
				assert_true(secp256k1_ecdsa_verify(f->vctx, &sig, hash, &pub));
				/* Same RFC 6979 nonce: r||s equal to the plain ECDSA signature. */
				if (modes[m] != ZCS_NONCE_RFC6979)
					continue;
				assert_int_equal(zcs_sign(f->ctx, plain, &r0, &f->keys[k],
							 ZCS_ALGO_ECDSA, ZCS_NONCE_RFC6979, hash),
					ZCS_OK);
				assert_memory_equal(plain, sig64, 64);
			}
		}
	/* Low-S leaves only recid 0 and 1 in practice (2, 3 need r >= n). */
	assert_true(seen[0] > 0 && seen[1] > 0);
}

static void
test_schnorr(void **state)
{
	static const uint8_t zero_aux[32];
	struct secp_sign_fixture *f = *state;
	unsigned int i, k, m;

	for (m = 0; m < NMODES; m++)
		for (k = 0; k < NKEYS; k++) {
			secp256k1_xonly_pubkey xpub;

			assert_true(
				secp256k1_xonly_pubkey_parse(f->vctx, &xpub, f->keys[k].pub_xonly));
			for (i = 0; i < NHASHES; i++) {
				uint8_t hash[32], sig64[64], again[64], ref[64];
				uint8_t recid = 0xaa;

				secp_test_hash(i, hash);
				assert_int_equal(zcs_sign(f->ctx, sig64, &recid, &f->keys[k],
							 ZCS_ALGO_SCHNORR, modes[m], hash),
					ZCS_OK);
				assert_int_equal(recid, 0);
				assert_true(secp256k1_schnorrsig_verify(
					f->vctx, sig64, hash, 32, &xpub));
				assert_true(zcs_sign_verify_var(
					f->vctx, &f->keys[k], ZCS_ALGO_SCHNORR, hash, sig64, 0));
				assert_int_equal(zcs_sign(f->ctx, again, &recid, &f->keys[k],
							 ZCS_ALGO_SCHNORR, modes[m], hash),
					ZCS_OK);
				assert_true(secp256k1_schnorrsig_verify(
					f->vctx, again, hash, 32, &xpub));
				if (modes[m] == ZCS_NONCE_HEDGED) {
					/* Fresh aux randomness per signature: a new nonce each
					 * time. */
					assert_memory_not_equal(sig64, again, 64);
				} else {
					/* rfc6979: aux NULL, deterministic, and BIP-340's zero aux.
					 */
					assert_memory_equal(sig64, again, 64);
					assert_true(secp256k1_schnorrsig_sign32(
						f->vctx, ref, hash, &f->keys[k].keypair, zero_aux));
					assert_memory_equal(sig64, ref, 64);
				}
				hash[31] ^= 0x80;
				assert_false(secp256k1_schnorrsig_verify(
					f->vctx, sig64, hash, 32, &xpub));
				assert_false(zcs_sign_verify_var(
					f->vctx, &f->keys[k], ZCS_ALGO_SCHNORR, hash, sig64, 0));
			}
		}
}

/* zcs_sign() refuses with status: a zeroed signature and recid, whatever they held. */
static void
assert_sign_refused(const struct secp_sign_fixture *f, unsigned int algo, unsigned int nonce,
	const uint8_t hash[32], int status)
{
	static const uint8_t zero[64];
	uint8_t sig64[64], recid = 0xaa;

	memset(sig64, 0xaa, sizeof(sig64));
	assert_int_equal(zcs_sign(f->ctx, sig64, &recid, &f->keys[0], algo, nonce, hash), status);
	assert_memory_equal(sig64, zero, 64);
	assert_int_equal(recid, 0);
}

static void
test_bad_algo(void **state)
{
	static const unsigned int bad[] = {0, 4, 255, 0x100 | ZCS_ALGO_ECDSA};
	struct secp_sign_fixture *f = *state;
	uint8_t hash[32];
	unsigned int i, m;

	secp_random(hash, sizeof(hash));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		for (m = 0; m < NMODES; m++)
			assert_sign_refused(f, bad[i], modes[m], hash, ZCS_ERR_BAD_ALGO);
}

/* Precomputed is enclave/presig.c's; anything but rfc6979 / hedged is refused. */
static void
test_bad_nonce_mode(void **state)
{
	static const unsigned int bad[] = {0, ZCS_NONCE_PRECOMPUTED, 4, 255};
	struct secp_sign_fixture *f = *state;
	uint8_t hash[32];
	unsigned int i;

	secp_random(hash, sizeof(hash));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_sign_refused(f, ZCS_ALGO_ECDSA, bad[i], hash, ZCS_ERR_INTERNAL);
}

/* Negate s in a compact signature: the high-S twin, valid math, refused by policy. */
static void
negate_s(const secp256k1_context *ctx, uint8_t sig64[64])
{
	assert_true(secp256k1_ec_seckey_negate(ctx, sig64 + 32));
}

/* zcs_sign_verify_var: the good signature only, for the right key, hash, recid, low S. */
static void
test_verify_var(void **state)
{
	struct secp_sign_fixture *f = *state;
	const struct zcs_key *k0 = &f->keys[0], *k1 = &f->keys[1];
	uint8_t hash[32], sig[64], bad[64], recid;
	unsigned int algo;

	secp_random(hash, sizeof(hash));
	for (algo = ZCS_ALGO_ECDSA; algo <= ZCS_ALGO_SCHNORR; algo++) {
		assert_int_equal(
			zcs_sign(f->ctx, sig, &recid, k0, algo, ZCS_NONCE_RFC6979, hash), ZCS_OK);
		assert_true(zcs_sign_verify_var(f->vctx, k0, algo, hash, sig, recid));
		assert_false(zcs_sign_verify_var(f->vctx, k1, algo, hash, sig, recid));
		for (unsigned int byte = 0; byte < 64; byte += 7) {
			memcpy(bad, sig, 64);
			bad[byte] ^= 0x01;
			assert_false(zcs_sign_verify_var(f->vctx, k0, algo, hash, bad, recid));
		}
		hash[5] ^= 0x10;
		assert_false(zcs_sign_verify_var(f->vctx, k0, algo, hash, sig, recid));
		hash[5] ^= 0x10;
		/* A recid that is no recid, or on a non-recoverable algorithm. */
		assert_false(zcs_sign_verify_var(f->vctx, k0, algo, hash, sig, 4));
		if (algo != ZCS_ALGO_ECDSA_RECOVERABLE)
			assert_false(zcs_sign_verify_var(f->vctx, k0, algo, hash, sig, 1));
		if (algo != ZCS_ALGO_SCHNORR) {
			/* High S (recid flipped with it): a valid point, refused all the same. */
			memcpy(bad, sig, 64);
			negate_s(f->vctx, bad);
			assert_false(zcs_sign_verify_var(f->vctx, k0, algo, hash, bad,
				algo == ZCS_ALGO_ECDSA ? 0 : recid ^ 1));
		}
	}
	assert_false(zcs_sign_verify_var(f->vctx, k0, 0, hash, sig, 0));
	assert_false(zcs_sign_verify_var(f->vctx, k0, 4, hash, sig, 0));
}

/* The reference: the whole file in memory, one EVP_Digest call. */
static void
sha384_file(const char *path, uint8_t out[48])
{
	struct stat st;
	unsigned int len = 0;
	uint8_t *buf;
	size_t got = 0;
	int fd;

	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	buf = malloc((size_t)st.st_size + 1);
	assert_non_null(buf);
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		assert_true(n > 0);
		got += (size_t)n;
	}
	close(fd);
	assert_int_equal(EVP_Digest(buf, got, out, &len, EVP_sha384(), NULL), 1);
	assert_int_equal(len, 48);
	free(buf);
}

static void
test_measure_self(void **state)
{
	uint8_t a[48], b[48], ref[48], zero[48] = {0};

	(void)state;
	assert_int_equal(zcs_measure_self(a), 0);
	assert_int_equal(zcs_measure_self(b), 0);
	assert_memory_equal(a, b, 48);
	assert_memory_not_equal(a, zero, 48);
	sha384_file("/proc/self/exe", ref);
	assert_memory_equal(a, ref, 48);
}

static void
test_ctx_destroy_null(void **state)
{
	(void)state;
	zcs_sign_ctx_destroy(NULL);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, secp_sign_fixture_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_ecdsa_verifies_low_s),
		T(test_ecdsa_deterministic),
		T(test_ecdsa_hedged_fresh),
		T(test_recoverable),
		T(test_schnorr),
		T(test_bad_algo),
		T(test_bad_nonce_mode),
		T(test_verify_var),
		cmocka_unit_test(test_measure_self),
		cmocka_unit_test(test_ctx_destroy_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
