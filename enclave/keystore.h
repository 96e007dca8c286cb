/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Key store of one shard's signer: the only place key material lives.
 *
 * Key file format (written by zcsign-keygen, mode 0600):
 *
 *   # comment lines and blank lines are ignored anywhere
 *   zcsign-keys v1 shard=<id> shards=<count> keys=<n>   <- first non-comment line
 *   <account> <secret>                                  <- one per account (n lines)
 *
 * <account> is a decimal uint64, <secret> 64 hex digits (a valid secp256k1
 * secret key). Every account must map to <id> under zcs_shard_of(account,
 * <count>). The loader refuses, naming file and line: a file readable or
 * writable by group or others, a missing or malformed header, a malformed line,
 * an account of another shard, a duplicate account, an invalid secret key, a
 * number of key lines other than the header's keys= (a file cut short at a line
 * boundary, or with lines appended, is refused, not served in part).
 * A file bigger than ZCS_KEYFILE_MAX or empty is refused too. A header with no
 * key lines is a valid, empty key set: with few accounts and many shards a
 * shard can own none, and zcsign-keygen writes such files; the signer reports
 * its key count in the HELLO reply, so an empty shard is visible, not silent.
 * Content errors are found in three passes and reported in that order: line
 * syntax and shard membership (in line order), duplicate accounts, then the
 * secret keys' digits and validity (in account order). No error message ever
 * quotes text from the file: a misplaced field could be a secret.
 *
 * The file is read with read(2) straight into locked memory (no stdio buffer
 * holds a secret); keys live in one mmap'ed region that is mlock'ed,
 * MADV_DONTDUMP and MADV_WIPEONFORK, sorted by account, and wiped by
 * zcs_keystore_wipe().
 */
#ifndef ZCS_KEYSTORE_H
#define ZCS_KEYSTORE_H

#include <stddef.h>
#include <stdint.h>

#include <secp256k1.h>
#include <secp256k1_extrakeys.h>

#include "secure.h"

/*
 * Largest key file the loader reads (it holds the whole file in locked memory
 * while parsing). zcsign-keygen's worst case, 10,000,000 accounts in one shard,
 * is about 860 MB of text (a line is at most 20 + 1 + 64 + 1 bytes).
 */
#define ZCS_KEYFILE_MAX (UINT64_C(1) << 30)

struct zcs_key {
	uint64_t account;
	unsigned char seckey[32];
	secp256k1_keypair keypair; /* for BIP-340 */
	unsigned char pub_compressed[33];
	unsigned char pub_xonly[32];
};

#ifndef ZCS_WARN_UNUSED_RESULT
#define ZCS_WARN_UNUSED_RESULT __attribute__((warn_unused_result))
#endif

/*
 * The one derivation of a key's public half, for the key store, zcsign-keygen,
 * the start-up self-test and the tests: fill k's keypair, compressed and x-only
 * public keys from k->seckey (k->account is left alone). Returns 0, or -EINVAL
 * when libsecp256k1 refused the secret (not a valid key); the caller wipes k.
 */
ZCS_WARN_UNUSED_RESULT int zcs_key_derive(const secp256k1_context *ctx, struct zcs_key *k);

struct zcs_keystore {
	struct zcs_key *keys; /* sorted by account; in secure memory */
	uint32_t count;
	uint16_t shard_id;
	uint16_t shard_count;
	uint8_t source; /* enum zcs_key_source (zcsign/wire.h) */
	uint64_t generation; /* of the last bundle provisioned; 0: none */
	size_t map_len; /* bytes of the secure region behind keys */
};

/* A sealed store: this shard's, no keys (a signer before provisioning). */
void zcs_keystore_sealed(struct zcs_keystore *ks, uint16_t shard_id, uint16_t shard_count);

/* What a provisioning changed. */
struct zcs_keystore_delta {
	uint32_t added; /* accounts new to the store */
	uint32_t rotated; /* accounts whose secret changed (the old one is wiped with old) */
	uint32_t unchanged; /* accounts provisioned again with the same secret */
};

/*
 * A new store (out): old's keys, plus the n records of a provisioned bundle
 * (ZCS_BUNDLE_REC_LEN bytes each: account u64 little-endian, secret[32];
 * accounts strictly ascending, all of old's shard, as zcs_bundle_open()
 * checked), a record's secret replacing old's for the same account. old is
 * left as it is (the serve loop may still read it); the caller wipes it once
 * the loop has moved to out. out->source is ZCS_KEYS_PROVISIONED, its
 * generation the one given. Returns 0, or a negative errno with err naming
 * the record (an invalid secret key, out of locked memory); out is then
 * zeroed and nothing partial survives.
 */
int zcs_keystore_merge(struct zcs_keystore *out, struct zcs_keystore_delta *d,
	const struct zcs_keystore *old, const secp256k1_context *ctx, const uint8_t *records,
	uint32_t n, uint64_t generation, char *err, size_t errlen);

/*
 * Load a key file. ctx must allow signing (keypair creation, pubkey derivation).
 * Returns 0, or a negative errno with a one-line message in err naming the file
 * (and line, for a content error). On error nothing stays allocated and every
 * partial secret is wiped.
 */
int zcs_keystore_load(struct zcs_keystore *ks, const secp256k1_context *ctx, const char *path,
	char *err, size_t errlen);

/* Key of an account, or NULL. Binary search on the (public) account id. */
const struct zcs_key *zcs_keystore_find(const struct zcs_keystore *ks, uint64_t account);

/* Wipe every key, unlock and unmap. Safe on a zeroed or already-wiped store. */
void zcs_keystore_wipe(struct zcs_keystore *ks);

#endif /* ZCS_KEYSTORE_H */
