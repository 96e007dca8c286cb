/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Signing with libsecp256k1 (argument order: context, outputs, inputs).
 *
 * ECDSA: RFC 6979 nonce, low-S (libsecp256k1 signs low-S), compact r||s.
 * Recoverable ECDSA: the same signature plus recid 0..3.
 * BIP-340 Schnorr: secp256k1_schnorrsig_sign32 with 32 bytes of fresh auxiliary
 * randomness from OpenSSL's private DRBG (no syscall per signature).
 */
#ifndef ZCS_SIGN_H
#define ZCS_SIGN_H

#include <stdint.h>

#include <secp256k1.h>

#include "keystore.h"

/*
 * A signing context, created once and randomized (side-channel blinding) with
 * 32 bytes from getrandom(). Returns NULL with errno set.
 */
secp256k1_context *zcs_sign_ctx_create(void);

void zcs_sign_ctx_destroy(secp256k1_context *ctx);

/*
 * Sign a 32-byte hash with key under algo (enum zcs_algo).
 * sig64 receives the compact signature, *recid the recovery id (0 unless
 * ZCS_ALGO_ECDSA_RECOVERABLE). Returns ZCS_OK, ZCS_ERR_BAD_ALGO or
 * ZCS_ERR_SIGN_FAILED (sig64 zeroed).
 */
int zcs_sign(const secp256k1_context *ctx, uint8_t sig64[64], uint8_t *recid,
	const struct zcs_key *key, unsigned int algo, const uint8_t hash[32]);

/*
 * Dev-mode measurement: SHA-384 of the running executable (/proc/self/exe).
 * Returns 0 or -errno.
 */
int zcs_measure_self(uint8_t out[48]);

#endif /* ZCS_SIGN_H */
