/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Signing with libsecp256k1 (argument order: context, outputs, inputs): the
 * nonce modes that need no presignature (enclave/presig.h does the precomputed
 * one and falls back to ZCS_NONCE_RFC6979 here).
 *
 * ECDSA: low-S (libsecp256k1 signs low-S), compact r||s.
 * Recoverable ECDSA: the same signature plus recid 0..3.
 * BIP-340 Schnorr: secp256k1_schnorrsig_sign32.
 *
 * ZCS_NONCE_RFC6979: ECDSA nonce by RFC 6979 with no extra data; BIP-340 with
 * aux_rand32 NULL, which BIP-340 and libsecp256k1 (0.2) define as 32 zero bytes.
 * Both are deterministic: the same key and hash give the same signature.
 * ZCS_NONCE_HEDGED: the same derivations fed 32 bytes of fresh randomness
 * (RFC 6979 extra data, BIP-340 aux_rand32) from OpenSSL's private DRBG, which
 * is userspace: no syscall per signature. Why hedge: the nonce stays secret if
 * either the randomness or the deterministic derivation holds, and a fault
 * injected into one signing cannot be replayed for the same hash.
 */
#ifndef ZCS_SIGN_H
#define ZCS_SIGN_H

#include <stddef.h>
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
 * Sign a 32-byte hash with key under algo (enum zcs_algo), nonce mode
 * ZCS_NONCE_RFC6979 or ZCS_NONCE_HEDGED. sig64 receives the compact
 * signature, *recid the recovery id (0 unless ZCS_ALGO_ECDSA_RECOVERABLE).
 * Returns ZCS_OK, ZCS_ERR_BAD_ALGO, ZCS_ERR_SIGN_FAILED, or ZCS_ERR_INTERNAL
 * for another nonce mode; on error sig64 and *recid are zeroed.
 */
ZCS_WARN_UNUSED_RESULT int zcs_sign(const secp256k1_context *ctx, uint8_t sig64[64], uint8_t *recid,
	const struct zcs_key *key, unsigned int algo, unsigned int nonce, const uint8_t hash[32]);

/*
 * Verify a signature made by key, with libsecp256k1's own verify: ECDSA by
 * secp256k1_ecdsa_verify (which also refuses a high S), recoverable ECDSA by
 * recovering the public key from (sig64, recid) and comparing it to key's,
 * BIP-340 by secp256k1_schnorrsig_verify. Variable time: everything it reads
 * is public. Returns 1 when the signature is good, 0 otherwise.
 */
ZCS_WARN_UNUSED_RESULT int zcs_sign_verify_var(const secp256k1_context *ctx,
	const struct zcs_key *key, unsigned int algo, const uint8_t hash[32],
	const uint8_t sig64[64], uint8_t recid);

/* Fill buf from getrandom(), retrying on a signal. Returns 0 or -errno. */
ZCS_WARN_UNUSED_RESULT int zcs_random(uint8_t *buf, size_t len);

/*
 * Dev-mode measurement: SHA-384 of the running executable (/proc/self/exe).
 * Returns 0 or -errno.
 */
int zcs_measure_self(uint8_t out[48]);

/* SHA-384 of the file at path (a PCR-like measurement). Returns 0 or -errno. */
int zcs_measure_path(const char *path, uint8_t out[48]);

#endif /* ZCS_SIGN_H */
