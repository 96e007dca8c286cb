/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * secp256k1 inputs the tests share: the group order n, the edge-case hashes
 * every signing test runs first (a hash is reduced mod n, so 0, n and the
 * values next to it are where a signer or verifier would slip), random valid
 * secrets; the group set-up of the key tests (a context and a temp dir). In
 * the test-support library; every helper returns 0 or -1 (no cmocka here).
 * The enclave's signing fixture is sign_fixture.h.
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
const uint8_t *secp_order(void);

/* Edge-case hash i (< SECP_EDGE_HASHES): 0, all ones (> n), n (reduces to 0), n - 1, n + 1, 1. */
void secp_edge_hash(unsigned int i, uint8_t hash[32]);

/* x = n - x for a 32-byte big-endian x in 1..n-1: turns a low ECDSA s into its high twin. */
void secp_negate_mod_n(uint8_t x[32]);

/* len bytes from getrandom(2); the test fails on a short read. */
void secp_random(void *buf, size_t len);

/* A random valid secret key (the test fails when getrandom does). */
void secp_random_seckey(const secp256k1_context *ctx, uint8_t sk[32]);

/* Hash i of a test set: the edge cases first (i < SECP_EDGE_HASHES), then random ones. */
void secp_test_hash(unsigned int i, uint8_t hash[32]);

/*
 * The group set-up of the key tests (test_keygen, test_keystore): a fresh
 * context in *ctx and a private directory /tmp/zcs-<tag>-XXXXXX in dir.
 * Returns 0 or -1; secp_tmp_teardown() undoes it (its result: proc_rmtree's).
 */
int secp_tmp_setup(secp256k1_context **ctx, char *dir, size_t len, const char *tag);
int secp_tmp_teardown(secp256k1_context *ctx, const char *dir);

#endif /* ZCS_TESTS_SECP_UTIL_H */
