/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Key bundles: one shard's secret keys, encrypted to one X25519 public key.
 * zcsign-keygen writes them sealed to the operator's provisioning key (at
 * rest); the provisioner opens those and seals their keys again to the
 * ephemeral key an attested signer put in its attestation document (in
 * transit); only that signer can open the result. docs/SECURITY.md gives the
 * reasons for each choice.
 *
 * Layout (integers little-endian):
 *
 *   offset size  field
 *   0      8     magic "ZCSKEYB1"
 *   8      2     version (1)
 *   10     1     purpose: 1 at rest (to the operator), 2 in transit (to a signer)
 *   11     1     reserved, 0
 *   12     2     shard_id      } the shard every account belongs to
 *   14     2     shard_count   } (zcs_shard_of)
 *   16     4     key_count     (0..ZCS_BUNDLE_MAX_KEYS)
 *   20     4     reserved, 0
 *   24     8     generation    (the key set's version; a signer takes only newer)
 *   32     32    sender_pub    (X25519 public key, fresh for every bundle)
 *   64     32    recipient_pub (X25519 public key the bundle is sealed to)
 *   96     32    nonce         (in transit: the provisioner's attestation nonce;
 *                               at rest: zero)
 *   128    12    iv            (AES-GCM, random)
 *   140    4     reserved, 0
 *   144    40*n  ciphertext of n records: account u64, secret[32]
 *   ...    16    AES-GCM tag
 *
 * key    = HKDF-SHA256(ikm = X25519(sender, recipient),
 *                      salt = "zcsign key bundle v1",
 *                      info = sender_pub || recipient_pub), 32 bytes
 * cipher = AES-256-GCM(key, iv), associated data = the 144-byte header
 *
 * So the shard, the key count, the generation, the purpose, both public keys
 * and the nonce are authenticated with the keys; the size is fixed by the
 * header, so a truncated or extended bundle is refused before any
 * decryption, and an altered byte anywhere fails the tag. Records are sorted
 * by account, strictly ascending (no duplicates), every account of the
 * header's shard.
 *
 * Functions return 0 or a negative errno, with one line in err naming what
 * was refused (never a secret byte).
 */
#ifndef ZCS_BUNDLE_H
#define ZCS_BUNDLE_H

#include <endian.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define ZCS_BUNDLE_MAGIC "ZCSKEYB1"
#define ZCS_BUNDLE_VERSION 1
#define ZCS_BUNDLE_HDR_LEN 144
#define ZCS_BUNDLE_REC_LEN 40 /* account u64, secret[32] */
#define ZCS_BUNDLE_TAG_LEN 16
#define ZCS_BUNDLE_PUB_LEN 32 /* X25519 */
#define ZCS_BUNDLE_NONCE_LEN 32
#define ZCS_BUNDLE_IV_LEN 12
/* zcsign-keygen's largest shard; the wire's ZCS_WIRE_BUNDLE_MAX holds it. */
#define ZCS_BUNDLE_MAX_KEYS 10000000u

enum zcs_bundle_purpose {
	ZCS_BUNDLE_AT_REST = 1, /* zcsign-keygen -> the operator's provisioning key */
	ZCS_BUNDLE_TRANSIT = 2, /* the provisioner -> one attested signer's ephemeral key */
};

struct zcs_bundle_hdr {
	uint8_t purpose;
	uint16_t shard_id;
	uint16_t shard_count;
	uint32_t key_count;
	uint64_t generation;
	uint8_t sender_pub[ZCS_BUNDLE_PUB_LEN];
	uint8_t recipient_pub[ZCS_BUNDLE_PUB_LEN];
	uint8_t nonce[ZCS_BUNDLE_NONCE_LEN];
	uint8_t iv[ZCS_BUNDLE_IV_LEN];
};

struct evp_pkey_st; /* OpenSSL's EVP_PKEY */

/* The account of a record (its first 8 bytes, little-endian). */
static inline uint64_t
zcs_bundle_rec_account(const uint8_t *rec)
{
	uint64_t v;

	memcpy(&v, rec, sizeof(v));
	return le64toh(v);
}

/* Bytes of a bundle of n keys: header, records, tag. */
static inline size_t
zcs_bundle_size(uint32_t n)
{
	return ZCS_BUNDLE_HDR_LEN + (size_t)n * ZCS_BUNDLE_REC_LEN + ZCS_BUNDLE_TAG_LEN;
}

/*
 * The header of the len bytes at buf, checked: magic, version, purpose,
 * reserved bytes, the shard, the key count, and len equal to the size the
 * header promises (a shorter bundle is "truncated", a longer one "extended").
 * No cryptography.
 */
int zcs_bundle_parse(
	struct zcs_bundle_hdr *h, char *err, size_t errlen, const uint8_t *buf, size_t len);

/*
 * Decrypt a parsed bundle with the recipient's private key into records
 * (h->key_count * ZCS_BUNDLE_REC_LEN bytes of the caller's: secure memory),
 * then check the records: ascending accounts, each of h's shard. Refused:
 * a bundle sealed to another key, a tag that does not verify (altered, or
 * not made with this header), bad records; records are wiped on refusal.
 */
int zcs_bundle_open(uint8_t *records, char *err, size_t errlen, const struct zcs_bundle_hdr *h,
	const uint8_t *buf, size_t len, struct evp_pkey_st *recipient);

/*
 * Sealing, in pieces (zcsign-keygen streams a shard's keys to its file):
 * begin fills h's sender_pub, recipient_pub and iv (the caller set purpose,
 * shard, key_count, generation and nonce) and writes the header to hdr_out;
 * update encrypts whole records (len a multiple of ZCS_BUNDLE_REC_LEN) into
 * out (len bytes); end checks that exactly key_count records went through
 * and writes the tag. Every call frees the sealer on failure; end frees it
 * always, abort frees it unfinished.
 */
struct zcs_bundle_sealer;
struct zcs_bundle_sealer *zcs_bundle_seal_begin(uint8_t hdr_out[ZCS_BUNDLE_HDR_LEN],
	struct zcs_bundle_hdr *h, const uint8_t recipient_pub[ZCS_BUNDLE_PUB_LEN], char *err,
	size_t errlen);
int zcs_bundle_seal_update(
	struct zcs_bundle_sealer *s, uint8_t *out, const uint8_t *records, size_t len);
int zcs_bundle_seal_end(
	struct zcs_bundle_sealer *s, uint8_t tag[ZCS_BUNDLE_TAG_LEN], char *err, size_t errlen);
void zcs_bundle_seal_abort(struct zcs_bundle_sealer *s);

/*
 * A whole bundle of h->key_count records, sealed to recipient_pub, into
 * *out (malloc'ed, zcs_bundle_size() bytes): the provisioner's one call.
 */
int zcs_bundle_seal(uint8_t **out, size_t *out_len, char *err, size_t errlen,
	struct zcs_bundle_hdr *h, const uint8_t recipient_pub[ZCS_BUNDLE_PUB_LEN],
	const uint8_t *records);

/* ---- X25519 keys: the operator's provisioning key, a signer's ephemeral key ---- */

/* A fresh X25519 key (in OpenSSL's secure heap once zcs_secure_heap_init ran), or NULL. */
struct evp_pkey_st *zcs_bundle_key_new(void);

/* The raw public half. 0 or -EINVAL. */
int zcs_bundle_key_pub(const struct evp_pkey_st *k, uint8_t pub[ZCS_BUNDLE_PUB_LEN]);

/*
 * A private key from a PEM file (PKCS#8, X25519). Refused: a file that is not
 * a regular file, one readable or writable by group or others, another key
 * type. NULL with err naming the file.
 */
struct evp_pkey_st *zcs_bundle_key_load_private(const char *path, char *err, size_t errlen);

/* A public key from a PEM file (SubjectPublicKeyInfo, X25519), raw. */
int zcs_bundle_key_load_public(
	uint8_t pub[ZCS_BUNDLE_PUB_LEN], char *err, size_t errlen, const char *path);

/*
 * Write k as PREFIX.key (private, PKCS#8 PEM, mode 0600) and PREFIX.pub
 * (public, PEM, mode 0644); neither may exist.
 */
int zcs_bundle_key_write(const char *prefix, struct evp_pkey_st *k, char *err, size_t errlen);

/*
 * The whole file at path into *buf (malloc'ed; a bundle is ciphertext, not a
 * secret) after zcs_bundle_parse: *h is its header.
 */
int zcs_bundle_read(uint8_t **buf, size_t *len, struct zcs_bundle_hdr *h, char *err, size_t errlen,
	const char *path);

#endif /* ZCS_BUNDLE_H */
