/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Attestation documents in the AWS Nitro format: parse, verify, and (on a dev
 * box, from the dev attestation CA) produce them.
 *
 * A document is a COSE_Sign1 (RFC 8152), untagged as the Nitro Secure Module
 * emits it or with tag 18: [protected, unprotected, payload, signature], where
 * protected is the bstr-wrapped map {1: -35} (ES384), unprotected is {}, the
 * payload is the bstr-wrapped CBOR map of the attestation document and the
 * signature is r || s (48 bytes each) over the COSE Sig_structure
 * ["Signature1", protected, h'', payload] with SHA-384. The payload fields and
 * their limits are those of aws-nitro-enclaves-nsm-api's
 * docs/attestation_process.md: module_id (text, non-empty), digest ("SHA384"),
 * timestamp (ms since the epoch, > 0), pcrs (1..32 entries, index 0..31,
 * 32/48/64 bytes each), certificate (DER, 1..1024 bytes), cabundle (1..
 * ZCS_ATTEST_CABUNDLE_MAX DER certificates, root first), and the optional
 * public_key (1..1024), user_data (0..512), nonce (0..512); a present optional
 * field may be null, which reads as absent (the NSM writes null for them).
 *
 * Parsing is strict, so that exactly one reading of a document exists: every
 * item has a definite length except the payload's own map (the NSM writes it
 * as an indefinite-length map), no duplicate or unknown keys, no trailing
 * bytes, no tags but the optional outer 18, no floats. Verification checks,
 * in this order, each with its own result: the COSE structure and algorithm
 * (at parse), the pinned root (cabundle[0] is it, by SHA-256 fingerprint or
 * byte for byte), the chain from the leaf through the cabundle to the root
 * with every certificate valid at the verification time, the ES384 signature
 * with the leaf's key, the expected PCRs, the nonce, and the timestamp skew.
 *
 * Argument order: outputs, inputs. Functions return 0 or a negative
 * enum zcs_attest_result and write one line naming the failed check to err.
 */
#ifndef ZCS_ATTEST_H
#define ZCS_ATTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ZCS_ATTEST_DOC_MAX 16384 /* the payload's limit; a whole document stays below 20 KiB */
#define ZCS_ATTEST_PCRS 32
#define ZCS_ATTEST_CABUNDLE_MAX 8 /* AWS chains hold 4 or 5 */
#define ZCS_ATTEST_CERT_MAX 1024
#define ZCS_ATTEST_PUBKEY_MAX 1024
#define ZCS_ATTEST_DATA_MAX 512 /* user_data and nonce */
#define ZCS_ATTEST_MODULE_ID_MAX 128
#define ZCS_ATTEST_SIG_LEN 96 /* ES384: r || s */

/* SHA-256 of the DER of the AWS Nitro Enclaves root certificate (G1), as AWS publishes it. */
extern const uint8_t zcs_attest_aws_root_g1_sha256[32];

/* Every way a document can fail; zcs_attest_result_name() names them. */
enum zcs_attest_result {
	ZCS_ATTEST_OK = 0,
	ZCS_ATTEST_ERR_CBOR = -1, /* not well-formed or not strict CBOR */
	ZCS_ATTEST_ERR_COSE = -2, /* not a COSE_Sign1 of the expected shape */
	ZCS_ATTEST_ERR_ALG = -3, /* the protected header is not {1: -35} (ES384) */
	ZCS_ATTEST_ERR_FIELD = -4, /* a payload field missing, unknown, mistyped or out of range */
	ZCS_ATTEST_ERR_ROOT = -5, /* cabundle[0] is not the pinned root */
	ZCS_ATTEST_ERR_CHAIN = -6, /* the leaf does not chain through the cabundle to the root */
	ZCS_ATTEST_ERR_EXPIRED = -7, /* a certificate is not valid at the verification time */
	ZCS_ATTEST_ERR_SIGNATURE = -8, /* the ES384 signature does not verify */
	ZCS_ATTEST_ERR_PCR = -9, /* a PCR differs from the expected value, or is missing */
	ZCS_ATTEST_ERR_NONCE = -10, /* the nonce is not the expected one */
	ZCS_ATTEST_ERR_TIMESTAMP = -11, /* the timestamp is too far from the verification time */
	ZCS_ATTEST_ERR_NOMEM = -12,
	ZCS_ATTEST_ERR_INTERNAL = -13, /* OpenSSL failed for another reason (err says) */
};

/* "ok", "cbor", "cose", ... for a result; "unknown" otherwise. */
const char *zcs_attest_result_name(int result);

/* A byte range (of a parsed document: inside its own store). */
struct zcs_attest_bytes {
	const uint8_t *p;
	size_t len;
};

/* Room for every byte string of a document: the payload, and its fields again. */
#define ZCS_ATTEST_STORE (2 * ZCS_ATTEST_DOC_MAX + 256)

/*
 * A parsed document. It keeps its own copies of the byte strings (store), so
 * the input buffer may go; ~33 KiB: allocate it, do not put it on a small
 * stack. Optional fields have p == NULL when absent (or null).
 */
struct zcs_attest_doc {
	struct zcs_attest_bytes protected_hdr; /* the bstr content, for the Sig_structure */
	struct zcs_attest_bytes payload; /* the bstr content: the CBOR map */
	struct zcs_attest_bytes signature;
	char module_id[ZCS_ATTEST_MODULE_ID_MAX + 1];
	uint64_t timestamp_ms;
	uint32_t pcr_mask; /* bit i: PCR i present */
	uint8_t pcr_len[ZCS_ATTEST_PCRS];
	uint8_t pcr[ZCS_ATTEST_PCRS][64];
	struct zcs_attest_bytes certificate;
	unsigned int cabundle_count;
	struct zcs_attest_bytes cabundle[ZCS_ATTEST_CABUNDLE_MAX];
	struct zcs_attest_bytes public_key;
	struct zcs_attest_bytes user_data;
	struct zcs_attest_bytes nonce;
	size_t store_used;
	uint8_t store[ZCS_ATTEST_STORE];
};

/* Strict syntax and field checks (no cryptography). */
int zcs_attest_parse(
	struct zcs_attest_doc *doc, char *err, size_t errlen, const uint8_t *buf, size_t len);

/* What the verifier holds a document to. Zero-initialise, then set what applies. */
struct zcs_attest_policy {
	/*
	 * The pinned root: root_der (the certificate, byte for byte; a dev CA's
	 * root) or, when root_der is NULL, root_sha256 (a fingerprint of
	 * cabundle[0]; zcs_attest_aws_root_g1_sha256 for Nitro).
	 */
	const uint8_t *root_der;
	size_t root_der_len;
	const uint8_t *root_sha256;
	uint64_t at_ms; /* verification time, ms since the epoch; 0: now */
	uint64_t max_skew_ms; /* |timestamp - at| allowed; 0: not checked */
	uint32_t pcr_mask; /* PCRs that must be present with these values */
	uint8_t pcr_len[ZCS_ATTEST_PCRS];
	uint8_t pcr[ZCS_ATTEST_PCRS][64];
	const uint8_t *nonce; /* must equal the document's; NULL: not checked */
	size_t nonce_len;
};

/*
 * The DER of the first certificate of the PEM file at path into *der
 * (OPENSSL_free it). Its length, or -1 with err naming the file.
 */
int zcs_attest_pem_der(const char *path, uint8_t **der, char *err, size_t errlen);

/*
 * A document reassembled from its ATTEST_REPLY chunks (the wire protocol's
 * ZCS_WIRE_ATTEST_CHUNK pieces, in order; the signer's control endpoint
 * reassembles a key bundle's BUNDLE chunks the same way): buf and cap are
 * the caller's.
 */
struct zcs_attest_chunks {
	uint8_t *buf;
	size_t cap;
	size_t total; /* 0 until the first chunk */
	size_t got;
};

/*
 * Add one chunk (offset, total, chunk_len and data of an ATTEST_REPLY with
 * status ok). 1 when the document is whole, 0 when more are due, -1 with err
 * when the chunk is out of order or the document larger than cap.
 */
int zcs_attest_chunks_add(struct zcs_attest_chunks *c, uint32_t offset, uint32_t total,
	const uint8_t *data, uint16_t chunk_len, char *err, size_t errlen);

/* Verify a parsed document against policy: every check after the syntax. */
int zcs_attest_verify(const struct zcs_attest_doc *doc, char *err, size_t errlen,
	const struct zcs_attest_policy *policy);

/* Parse and verify: the one call a consumer makes. */
int zcs_attest_check(struct zcs_attest_doc *doc, char *err, size_t errlen, const uint8_t *buf,
	size_t len, const struct zcs_attest_policy *policy);

/* ---- producing documents (dev attestation CA; the NSM's own format) ---- */

/* The payload of a document to sign; cabundle root first, as in a document. */
struct zcs_attest_fields {
	const char *module_id;
	uint64_t timestamp_ms;
	uint32_t pcr_mask;
	uint8_t pcr_len[ZCS_ATTEST_PCRS];
	uint8_t pcr[ZCS_ATTEST_PCRS][64];
	struct zcs_attest_bytes certificate;
	unsigned int cabundle_count;
	struct zcs_attest_bytes cabundle[ZCS_ATTEST_CABUNDLE_MAX];
	struct zcs_attest_bytes public_key; /* p NULL: absent */
	struct zcs_attest_bytes user_data;
	struct zcs_attest_bytes nonce;
};

struct evp_pkey_st; /* OpenSSL's EVP_PKEY */

/*
 * Encode f and sign it with key (the P-384 key of f->certificate) into a
 * document: *out is malloc'ed (the caller frees it), *out_len its size.
 */
int zcs_attest_sign(uint8_t **out, size_t *out_len, char *err, size_t errlen,
	const struct zcs_attest_fields *f, struct evp_pkey_st *key);

/* ---- the dev attestation CA (devca.c): the chain shape of Nitro's, on a dev box ---- */

struct x509_st; /* OpenSSL's X509 */

/* A fresh P-384 key, or NULL. */
struct evp_pkey_st *zcs_attest_p384_new(void);

/*
 * A certificate for key named cn (CN=cn, O=zcsign dev attestation), valid
 * from not_before to not_after (seconds since the epoch), signed by issuer /
 * issuer_key (both NULL: self-signed), with ES384. ca: basicConstraints
 * CA:TRUE (critical, pathlen as given, -1 for none) and keyCertSign; else
 * an end entity with digitalSignature, as AWS's attestation leaves are.
 * NULL on failure.
 */
struct x509_st *zcs_attest_cert_new(struct evp_pkey_st *key, const char *cn, int64_t not_before,
	int64_t not_after, struct x509_st *issuer, struct evp_pkey_st *issuer_key, bool ca,
	int pathlen);

#endif /* ZCS_ATTEST_H */
