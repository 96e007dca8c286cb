/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Key store of one shard's signer: the only place key material lives.
 *
 * Key file format (written by zcsign-keygen, mode 0600):
 *
 *   # comment lines and blank lines are ignored anywhere
 *   zcsign-keys v1 shard=<id> shards=<count>      <- first non-comment line
 *   <account> <secret>                            <- one per account
 *
 * <account> is a decimal uint64, <secret> 64 hex digits (a valid secp256k1
 * secret key). Every account must map to <id> under zcs_shard_of(account,
 * <count>). The loader refuses, naming file and line: a file readable or
 * writable by group or others, a missing or malformed header, a malformed line,
 * an account of another shard, a duplicate account, an invalid secret key.
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
	size_t map_len; /* bytes of the secure region behind keys */
};

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

/*
 * Secure memory for secrets: anonymous mmap, mlock'ed, MADV_DONTDUMP,
 * MADV_WIPEONFORK, zero-filled. Returns NULL with errno set (mlock failure
 * included: secrets must not be swappable).
 */
void *zcs_secure_alloc(size_t len);

/* Wipe (a clear the compiler cannot drop), then munmap (which unlocks). NULL is a no-op. */
void zcs_secure_free(void *p, size_t len);

#endif /* ZCS_KEYSTORE_H */
