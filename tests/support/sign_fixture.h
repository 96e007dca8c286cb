/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The fixture of the enclave's signing tests (test_sign, test_presig): the
 * signer's context, an independent one for the checks, and keys derived as
 * the key store does. In the enclave part of the test-support library
 * (zcs_test_enclave_dep).
 */
#ifndef ZCS_TESTS_SIGN_FIXTURE_H
#define ZCS_TESTS_SIGN_FIXTURE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <secp256k1.h>

#include "secp_util.h"
#include "sign.h"

/* The fixture of test_sign and test_presig. */
struct secp_sign_fixture {
	secp256k1_context *ctx; /* the signer's (zcs_sign_ctx_create) */
	secp256k1_context *vctx; /* independent: verify, key derivation, references */
	struct zcs_key *keys; /* nkeys, zeroed until the test makes them (secp_key_make) */
	unsigned int nkeys;
};

/* Both contexts and nkeys zeroed keys, on the heap. NULL on failure, with nothing left. */
struct secp_sign_fixture *secp_sign_fixture_new(unsigned int nkeys);

/* A cmocka teardown for *state from secp_sign_fixture_new(): contexts, keys (wiped), all freed. */
int secp_sign_fixture_teardown(void **state);

/*
 * k for account, from seckey (NULL: a random valid one), its public half
 * derived on ctx the way the key store derives it (zcs_key_derive); the
 * test fails when either step does.
 */
void secp_key_make(
	const secp256k1_context *ctx, struct zcs_key *k, uint64_t account, const uint8_t *seckey);

#endif /* ZCS_TESTS_SIGN_FIXTURE_H */
