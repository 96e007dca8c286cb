/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Verification of a parsed attestation document (attest.h): the pinned root,
 * the certificate chain at the verification time, the ES384 signature, then
 * the policy (PCRs, nonce, timestamp). OpenSSL does the X.509 and ECDSA work.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cbor.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "attest.h"
#include "clock.h"
#include "attest_internal.h"

/* AWS publishes this fingerprint with the root (docs.aws.amazon.com, "Verifying the root of
 * trust"). */
const uint8_t zcs_attest_aws_root_g1_sha256[32] = {
	0x64,
	0x1a,
	0x03,
	0x21,
	0xa3,
	0xe2,
	0x44,
	0xef,
	0xe4,
	0x56,
	0x46,
	0x31,
	0x95,
	0xd6,
	0x06,
	0x31,
	0x7e,
	0xd7,
	0xcd,
	0xcc,
	0x3c,
	0x17,
	0x56,
	0xe0,
	0x98,
	0x93,
	0xf3,
	0xc6,
	0x8f,
	0x79,
	0xbb,
	0x5b,
};

const uint8_t zcs_attest_protected_es384[4] = {0xa1, 0x01, 0x38, 0x22};

static const char *const result_names[] = {
	"ok",
	"cbor",
	"cose",
	"algorithm",
	"field",
	"root",
	"chain",
	"expired",
	"signature",
	"pcr",
	"nonce",
	"timestamp",
	"nomem",
	"internal",
};

const char *
zcs_attest_result_name(int result)
{
	unsigned int i = result <= 0 ? (unsigned int)-result : ~0u;

	return i < sizeof(result_names) / sizeof(result_names[0]) ? result_names[i] : "unknown";
}

int
zcs_attest_fail(char *err, size_t errlen, int result, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(err, errlen, "%s: ", zcs_attest_result_name(result));
	va_start(ap, fmt);
	if (n > 0 && (size_t)n < errlen)
		vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return result;
}

size_t
zcs_attest_sig_structure(uint8_t **out, const uint8_t *prot, size_t prot_len,
	const uint8_t *payload, size_t payload_len)
{
	static const char context[] = "Signature1";
	size_t cap = 32 + prot_len + payload_len, off = 0;
	uint8_t *b = malloc(cap);

	if (b == NULL)
		return 0;
	off += cbor_encode_array_start(4, b + off, cap - off);
	off += cbor_encode_string_start(sizeof(context) - 1, b + off, cap - off);
	memcpy(b + off, context, sizeof(context) - 1);
	off += sizeof(context) - 1;
	off += cbor_encode_bytestring_start(prot_len, b + off, cap - off);
	memcpy(b + off, prot, prot_len);
	off += prot_len;
	off += cbor_encode_bytestring_start(0, b + off, cap - off); /* external_aad */
	off += cbor_encode_bytestring_start(payload_len, b + off, cap - off);
	memcpy(b + off, payload, payload_len);
	off += payload_len;
	*out = b;
	return off;
}

/* The DER bytes as one certificate, nothing after it; NULL otherwise. */
static X509 *
der_cert(const struct zcs_attest_bytes *b)
{
	const unsigned char *p = b->p;
	X509 *x = d2i_X509(NULL, &p, (long)b->len);

	if (x != NULL && p != b->p + b->len) {
		X509_free(x);
		x = NULL;
	}
	return x;
}

static int
check_root(const struct zcs_attest_doc *doc, char *err, size_t errlen,
	const struct zcs_attest_policy *pol)
{
	const struct zcs_attest_bytes *root = &doc->cabundle[0];
	uint8_t fp[SHA256_DIGEST_LENGTH];

	if (pol->root_der != NULL) {
		if (root->len != pol->root_der_len ||
			memcmp(root->p, pol->root_der, root->len) != 0)
			return zcs_attest_fail(err, errlen, ZCS_ATTEST_ERR_ROOT,
				"cabundle[0] is not the pinned root certificate");
		return 0;
	}
	if (pol->root_sha256 == NULL)
		return zcs_attest_fail(err, errlen, ZCS_ATTEST_ERR_ROOT, "no root is pinned");
	SHA256(root->p, root->len, fp);
	if (CRYPTO_memcmp(fp, pol->root_sha256, sizeof(fp)) != 0)
		return zcs_attest_fail(err, errlen, ZCS_ATTEST_ERR_ROOT,
			"cabundle[0] does not have the pinned SHA-256 fingerprint");
	return 0;
}

/*
 * The leaf through cabundle[n-1] .. cabundle[1] to the root cabundle[0], at
 * time at (s): every bundle certificate used, every one valid then.
 */
static int
check_chain(const struct zcs_attest_doc *doc, char *err, size_t errlen, time_t at, X509 **leaf_out)
{
	X509_STORE *store = X509_STORE_new();
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	X509 *leaf = der_cert(&doc->certificate), *root = der_cert(&doc->cabundle[0]);
	int rc = 0, e;
	unsigned int i;

	if (store == NULL || untrusted == NULL || ctx == NULL) {
		rc = zcs_attest_fail(
			err, errlen, ZCS_ATTEST_ERR_NOMEM, "cannot allocate the X.509 store");
		goto out;
	}
	if (leaf == NULL || root == NULL) {
		rc = zcs_attest_fail(err, errlen, ZCS_ATTEST_ERR_CHAIN,
			"%s is not one DER X.509 certificate",
			leaf == NULL ? "certificate" : "cabundle[0]");
		goto out;
	}
	for (i = 1; i < doc->cabundle_count; i++) {
		X509 *x = der_cert(&doc->cabundle[i]);

		if (x == NULL || !sk_X509_push(untrusted, x)) {
			X509_free(x);
			rc = zcs_attest_fail(err, errlen, ZCS_ATTEST_ERR_CHAIN,
				"cabundle[%u] is not one DER X.509 certificate", i);
			goto out;
		}
	}
	if (!X509_STORE_add_cert(store, root) ||
		!X509_STORE_CTX_init(ctx, store, leaf, untrusted)) {
		rc = zcs_attest_fail(
			err, errlen, ZCS_ATTEST_ERR_INTERNAL, "X.509 store set-up failed");
		goto out;
	}
	X509_STORE_CTX_set_time(ctx, 0, at);
	if (X509_verify_cert(ctx) != 1) {
		e = X509_STORE_CTX_get_error(ctx);
		rc = zcs_attest_fail(err, errlen,
			e == X509_V_ERR_CERT_HAS_EXPIRED || e == X509_V_ERR_CERT_NOT_YET_VALID
				? ZCS_ATTEST_ERR_EXPIRED
				: ZCS_ATTEST_ERR_CHAIN,
			"certificate at depth %d: %s", X509_STORE_CTX_get_error_depth(ctx),
			X509_verify_cert_error_string(e));
		goto out;
	}
	if ((unsigned int)sk_X509_num(X509_STORE_CTX_get0_chain(ctx)) != doc->cabundle_count + 1) {
		rc = zcs_attest_fail(err, errlen, ZCS_ATTEST_ERR_CHAIN,
			"the chain does not use every cabundle certificate");
		goto out;
	}
	/* A leaf that says what it may do must allow signatures. */
	if ((X509_get_extension_flags(leaf) & EXFLAG_KUSAGE) &&
		!(X509_get_key_usage(leaf) & KU_DIGITAL_SIGNATURE)) {
		rc = zcs_attest_fail(err, errlen, ZCS_ATTEST_ERR_CHAIN,
			"the signing certificate's key usage excludes signatures");
		goto out;
	}
	*leaf_out = leaf;
	leaf = NULL;
out:
	X509_STORE_CTX_free(ctx);
	sk_X509_pop_free(untrusted, X509_free);
	X509_STORE_free(store);
	X509_free(root);
	X509_free(leaf);
	return rc;
}

/* r || s as the DER ECDSA-Sig-Value OpenSSL verifies; its length, or 0. */
static int
der_signature(uint8_t **out, const uint8_t rs[ZCS_ATTEST_SIG_LEN])
{
	ECDSA_SIG *sig = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(rs, ZCS_ATTEST_SIG_LEN / 2, NULL);
	BIGNUM *s = BN_bin2bn(rs + ZCS_ATTEST_SIG_LEN / 2, ZCS_ATTEST_SIG_LEN / 2, NULL);
	int len = 0;

	if (sig != NULL && r != NULL && s != NULL && ECDSA_SIG_set0(sig, r, s)) {
		r = s = NULL; /* owned by sig now */
		*out = NULL;
		len = i2d_ECDSA_SIG(sig, out);
	}
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(sig);
	return len > 0 ? len : 0;
}

static int
check_signature(const struct zcs_attest_doc *doc, char *err, size_t errlen, X509 *leaf)
{
	EVP_PKEY *key = X509_get0_pubkey(leaf);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	uint8_t *tbs = NULL, *der = NULL;
	size_t tbs_len;
	int der_len, ok, rc = 0;

	if (key == NULL || EVP_PKEY_get_base_id(key) != EVP_PKEY_EC ||
		EVP_PKEY_get_bits(key) != 384) {
		rc = zcs_attest_fail(err, errlen, ZCS_ATTEST_ERR_SIGNATURE,
			"the signing certificate's key is not P-384");
		goto out;
	}
	tbs_len = zcs_attest_sig_structure(&tbs, doc->protected_hdr.p, doc->protected_hdr.len,
		doc->payload.p, doc->payload.len);
	der_len = der_signature(&der, doc->signature.p);
	if (md == NULL || tbs_len == 0 || der_len == 0) {
		rc = zcs_attest_fail(
			err, errlen, ZCS_ATTEST_ERR_NOMEM, "cannot build the Sig_structure");
		goto out;
	}
	ok = EVP_DigestVerifyInit(md, NULL, EVP_sha384(), NULL, key) == 1 &&
		EVP_DigestVerify(md, der, (size_t)der_len, tbs, tbs_len) == 1;
	if (!ok)
		rc = zcs_attest_fail(err, errlen, ZCS_ATTEST_ERR_SIGNATURE,
			"the ES384 signature does not verify with the signing certificate's key");
out:
	ERR_clear_error();
	EVP_MD_CTX_free(md);
	free(tbs);
	OPENSSL_free(der);
	return rc;
}

static int
check_policy(const struct zcs_attest_doc *doc, char *err, size_t errlen,
	const struct zcs_attest_policy *pol, uint64_t at_ms)
{
	unsigned int i;
	uint64_t skew;

	for (i = 0; i < ZCS_ATTEST_PCRS; i++) {
		if (!(pol->pcr_mask & (UINT32_C(1) << i)))
			continue;
		if (!(doc->pcr_mask & (UINT32_C(1) << i)))
			return zcs_attest_fail(
				err, errlen, ZCS_ATTEST_ERR_PCR, "PCR%u is not in the document", i);
		if (doc->pcr_len[i] != pol->pcr_len[i] ||
			CRYPTO_memcmp(doc->pcr[i], pol->pcr[i], pol->pcr_len[i]) != 0)
			return zcs_attest_fail(err, errlen, ZCS_ATTEST_ERR_PCR,
				"PCR%u differs from the expected value", i);
	}
	if (pol->nonce != NULL &&
		(doc->nonce.p == NULL || doc->nonce.len != pol->nonce_len ||
			CRYPTO_memcmp(doc->nonce.p, pol->nonce, pol->nonce_len) != 0))
		return zcs_attest_fail(err, errlen, ZCS_ATTEST_ERR_NONCE,
			doc->nonce.p == NULL ? "the document carries no nonce"
					     : "the nonce is not the one asked for");
	if (pol->max_skew_ms != 0) {
		skew = doc->timestamp_ms > at_ms ? doc->timestamp_ms - at_ms
						 : at_ms - doc->timestamp_ms;
		if (skew > pol->max_skew_ms)
			return zcs_attest_fail(err, errlen, ZCS_ATTEST_ERR_TIMESTAMP,
				"timestamp is %llu ms from the verification time (at most %llu)",
				(unsigned long long)skew, (unsigned long long)pol->max_skew_ms);
	}
	return 0;
}

int
zcs_attest_verify(const struct zcs_attest_doc *doc, char *err, size_t errlen,
	const struct zcs_attest_policy *policy)
{
	uint64_t at_ms = policy->at_ms;
	X509 *leaf = NULL;
	int rc;

	if (at_ms == 0)
		at_ms = zcs_real_ms();
	rc = check_root(doc, err, errlen, policy);
	rc = rc ?: check_chain(doc, err, errlen, (time_t)(at_ms / 1000), &leaf);
	rc = rc ?: check_signature(doc, err, errlen, leaf);
	rc = rc ?: check_policy(doc, err, errlen, policy, at_ms);
	X509_free(leaf);
	if (rc == 0 && errlen > 0)
		err[0] = '\0';
	return rc;
}

int
zcs_attest_check(struct zcs_attest_doc *doc, char *err, size_t errlen, const uint8_t *buf,
	size_t len, const struct zcs_attest_policy *policy)
{
	int rc = zcs_attest_parse(doc, err, errlen, buf, len);

	return rc ?: zcs_attest_verify(doc, err, errlen, policy);
}

int
zcs_attest_pem_der(const char *path, uint8_t **der, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	X509 *cert = f != NULL ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	int len;

	if (f != NULL)
		fclose(f);
	*der = NULL;
	len = cert != NULL ? i2d_X509(cert, der) : 0;
	X509_free(cert);
	if (len <= 0) {
		snprintf(err, errlen, "%s: %s", path,
			f == NULL ? "cannot open it" : "no PEM certificate there");
		return -1;
	}
	return len;
}

int
zcs_attest_chunks_add(struct zcs_attest_chunks *c, uint32_t offset, uint32_t total,
	const uint8_t *data, uint16_t chunk_len, char *err, size_t errlen)
{
	if (offset != c->got || total > c->cap || (size_t)offset + chunk_len > total ||
		(c->got > 0 && total != c->total)) {
		snprintf(err, errlen, "chunk at %u of %u out of order, or past the %zu-byte limit",
			offset, total, c->cap);
		return -1;
	}
	c->total = total;
	memcpy(c->buf + c->got, data, chunk_len);
	c->got += chunk_len;
	return c->got == c->total ? 1 : 0;
}
