/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Signature verification against zcsign-keygen's public manifest, with
 * libsecp256k1's own verify: what zcsign-cli verify, the benchmark's --verify
 * and the end-to-end tests use to check a signer's output. It never sees a
 * secret key, so nothing here is constant-time or wiped.
 *
 * Argument order, as in libsecp256k1: context, outputs, inputs.
 *
 * Manifest format (zcsign-keygen writes one account per line; any JSON
 * whitespace is accepted, strings have no escapes):
 *
 *   {"version":1,"shards":S,"accounts":[
 *   {"account":A,"shard":I,"pubkey":"<66 hex>","xonly":"<64 hex>"},
 *   ...
 *   ]}
 *
 * The loader refuses, naming the file and the line (or the account, for a
 * check across accounts): JSON it cannot read (truncated file, bad hex, a
 * missing, repeated or unknown field), a version other than 1, a shard count
 * outside 1..ZCS_MAX_SHARDS, an account in a shard other than the one
 * zcs_shard_of() names, an x-only key that is not the x coordinate of the
 * compressed one, a repeated account. Whether a key is a point on the curve is
 * left to zcs_verify() (ZCS_VERIFY_BAD_KEY): that needs a context.
 */
#ifndef ZCS_VERIFY_H
#define ZCS_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#include <secp256k1.h>

/** Largest manifest read: 10,000,000 accounts (keygen's limit) take about 1.7 GB. */
#define ZCS_MANIFEST_MAX (UINT64_C(1) << 31)

/** One account of a manifest: its shard and public keys. */
struct zcs_manifest_account {
	uint64_t account;
	uint32_t shard;
	uint8_t pubkey[33]; /**< compressed, for (recoverable) ECDSA */
	uint8_t xonly[32]; /**< BIP-340 */
};

/** A loaded manifest. */
struct zcs_manifest {
	uint32_t shards;
	size_t count;
	struct zcs_manifest_account *accounts; /**< heap, sorted by account */
};

/**
 * Load a manifest.json.
 *
 * @param m
 *   Filled on success; zeroed on failure (nothing to free then).
 * @param err
 *   On failure, one line naming path and line or account, and what is wrong.
 * @param errlen
 *   Size of err.
 * @param path
 *   The manifest file.
 * @return
 *   0, or -ENOENT, -EACCES, ... (the file cannot be read), -EFBIG (larger than
 *   ZCS_MANIFEST_MAX), -ENOMEM, -EINVAL (malformed).
 */
int zcs_manifest_load(struct zcs_manifest *m, char *err, size_t errlen, const char *path)
	__attribute__((warn_unused_result));

/**
 * An account's entry (binary search).
 *
 * @return
 *   The entry, or NULL when the manifest has no such account.
 */
const struct zcs_manifest_account *zcs_manifest_find(
	const struct zcs_manifest *m, uint64_t account);

/** Free a loaded manifest and zero it. Safe on a zeroed or already-freed one. */
void zcs_manifest_free(struct zcs_manifest *m);

/** Why zcs_verify() refused a signature (0 is valid). */
enum zcs_verify_result {
	ZCS_VERIFY_OK = 0,
	ZCS_VERIFY_BAD_KEY = -1, /**< the manifest's key does not parse */
	ZCS_VERIFY_BAD_SIG = -2, /**< r or s out of range */
	ZCS_VERIFY_HIGH_S = -3, /**< ECDSA s is not low (the protocol promises low-S) */
	ZCS_VERIFY_INVALID = -4, /**< the signature does not verify */
	ZCS_VERIFY_RECOVER = -5, /**< recovery fails or gives another key */
	ZCS_VERIFY_BAD_RECID = -6, /**< above 3, or not 0 for a non-recoverable algo */
	ZCS_VERIFY_BAD_ALGO = -7, /**< not a ZCS_ALGO_* */
};

/**
 * Verify a signer's signature: ECDSA and recoverable ECDSA against the
 * compressed key, low-S required; recoverable ECDSA must also recover exactly
 * that key; BIP-340 against the x-only key. Variable time (public data only).
 *
 * @param ctx
 *   Any libsecp256k1 context (SECP256K1_CONTEXT_NONE is enough).
 * @param algo
 *   ZCS_ALGO_ECDSA, ZCS_ALGO_ECDSA_RECOVERABLE or ZCS_ALGO_SCHNORR.
 * @param hash
 *   The 32-byte message hash that was signed.
 * @param sig
 *   Compact r||s (ECDSA) or R.x||s (BIP-340), as in SIGN_REPLY.
 * @param recid
 *   0..3 for recoverable ECDSA; 0 otherwise, as in SIGN_REPLY (none).
 * @param acct
 *   The signing account's manifest entry.
 * @return
 *   ZCS_VERIFY_OK, or the negative zcs_verify_result saying why not.
 */
int zcs_verify(const secp256k1_context *ctx, unsigned int algo, const uint8_t hash[32],
	const uint8_t sig[64], unsigned int recid, const struct zcs_manifest_account *acct)
	__attribute__((warn_unused_result));

/** A short phrase for a zcs_verify() result ("invalid", "high S", ...); never NULL. */
const char *zcs_verify_strerror(int result);

#endif /* ZCS_VERIFY_H */
