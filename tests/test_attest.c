/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * attest/ (attest.h): Nitro-format attestation documents.
 *
 * A genuine document issued by AWS Nitro (tests/fixtures/attest/README.md
 * names its source) parses and verifies against the pinned AWS root G1
 * fingerprint at its own time, and is refused, each time with its own
 * reason, with a byte changed in the signature (signature), in the payload
 * (signature), in a certificate (chain), with a cabundle entry dropped
 * (chain), at a time outside the leaf's validity (expired), under another
 * pinned root (root), with other expected PCRs (pcr), with a nonce expected
 * (nonce) and with a tight skew (timestamp). A dev document from a chain made
 * here (root -> intermediate -> leaf, P-384) signs and verifies with every
 * field as given; the strict parser refuses trailing bytes, other tags,
 * indefinite lengths, duplicate and unknown keys, missing fields, fields out
 * of AWS's limits and another algorithm, and a container whose declared count
 * the bytes cannot hold (before libcbor would allocate for it: the first
 * thing fuzz_attest found).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cbor.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "attest.h"
#include "hex.h"
#include "proc_util.h"

#define AWS_DOC "tests/fixtures/attest/aws-nitro-2025-07-18.hex"
#define AWS_TS 1752827858990ull /* its timestamp: 2025-07-18 08:37:38.990 UTC */
#define HOUR_MS 3600000ull

static struct {
	uint8_t aws[8192];
	size_t aws_len;
	struct zcs_attest_doc *doc; /* ~33 KiB: on the heap */
	/* the dev chain */
	EVP_PKEY *root_key, *inter_key, *leaf_key;
	X509 *root, *inter, *leaf;
	uint8_t *root_der, *inter_der, *leaf_der;
	int root_len, inter_len, leaf_len;
	char err[256];
} g;

static void
load_aws(void)
{
	const char *src = getenv("ZCS_SOURCE_DIR");
	char path[4096], hex[16384];
	ssize_t n;

	assert_non_null(src);
	snprintf(path, sizeof(path), "%s/%s", src, AWS_DOC);
	n = proc_read_file(path, hex, sizeof(hex));
	assert_true(n > 0);
	while (n > 0 && (hex[n - 1] == '\n' || hex[n - 1] == ' '))
		hex[--n] = '\0';
	assert_true((size_t)n / 2 <= sizeof(g.aws));
	assert_int_equal(zcs_hex_decode(hex, (size_t)n / 2, g.aws), 0);
	g.aws_len = (size_t)n / 2;
}

static int
group_setup(void **state)
{
	time_t now = time(NULL);

	(void)state;
	load_aws();
	g.doc = malloc(sizeof(*g.doc));
	g.root_key = zcs_attest_p384_new();
	g.inter_key = zcs_attest_p384_new();
	g.leaf_key = zcs_attest_p384_new();
	if (g.doc == NULL || g.root_key == NULL || g.inter_key == NULL || g.leaf_key == NULL)
		return -1;
	g.root = zcs_attest_cert_new(
		g.root_key, "dev root", now - 60, now + 86400, NULL, NULL, true, -1);
	g.inter = zcs_attest_cert_new(
		g.inter_key, "dev intermediate", now - 60, now + 3600, g.root, g.root_key, true, 0);
	g.leaf = zcs_attest_cert_new(
		g.leaf_key, "dev signer", now - 60, now + 600, g.inter, g.inter_key, false, -1);
	if (g.root == NULL || g.inter == NULL || g.leaf == NULL)
		return -1;
	g.root_len = i2d_X509(g.root, &g.root_der);
	g.inter_len = i2d_X509(g.inter, &g.inter_der);
	g.leaf_len = i2d_X509(g.leaf, &g.leaf_der);
	return g.root_len > 0 && g.inter_len > 0 && g.leaf_len > 0 ? 0 : -1;
}

static int
group_teardown(void **state)
{
	(void)state;
	free(g.doc);
	OPENSSL_free(g.root_der);
	OPENSSL_free(g.inter_der);
	OPENSSL_free(g.leaf_der);
	X509_free(g.root);
	X509_free(g.inter);
	X509_free(g.leaf);
	EVP_PKEY_free(g.root_key);
	EVP_PKEY_free(g.inter_key);
	EVP_PKEY_free(g.leaf_key);
	return 0;
}

/* The AWS document's policy: pinned AWS root, verified at its own time. */
static struct zcs_attest_policy
aws_policy(void)
{
	struct zcs_attest_policy p;

	memset(&p, 0, sizeof(p));
	p.root_sha256 = zcs_attest_aws_root_g1_sha256;
	p.at_ms = AWS_TS;
	return p;
}

/* Check buf under p; the result must be want, and err must name it. */
static void
expect(const uint8_t *buf, size_t len, const struct zcs_attest_policy *p, int want)
{
	int rc = zcs_attest_check(g.doc, g.err, sizeof(g.err), buf, len, p);

	if (rc != want)
		fail_msg("result %s (%s), want %s", zcs_attest_result_name(rc), g.err,
			zcs_attest_result_name(want));
	if (want != 0 &&
		strncmp(g.err, zcs_attest_result_name(want),
			strlen(zcs_attest_result_name(want))) != 0)
		fail_msg(
			"error '%s' does not start with '%s'", g.err, zcs_attest_result_name(want));
}

/* Where needle starts in the AWS document. */
static size_t
aws_find(const void *needle, size_t n)
{
	size_t i;

	for (i = 0; i + n <= g.aws_len; i++)
		if (memcmp(g.aws + i, needle, n) == 0)
			return i;
	fail_msg("not in the document");
	return 0;
}

/* A copy of the AWS document with byte at flipped. */
static uint8_t *
aws_flipped(size_t at)
{
	uint8_t *b = malloc(g.aws_len);

	assert_non_null(b);
	memcpy(b, g.aws, g.aws_len);
	b[at] ^= 0x01;
	return b;
}

static void
test_aws_genuine(void **state)
{
	struct zcs_attest_policy p = aws_policy();

	(void)state;
	expect(g.aws, g.aws_len, &p, ZCS_ATTEST_OK);
	assert_string_equal(g.doc->module_id, "i-0a9f2a8b8dd31c7c8-enc019802a541b75725");
	assert_int_equal(g.doc->timestamp_ms, AWS_TS);
	assert_int_equal(g.doc->pcr_mask, 0xffff);
	assert_int_equal(g.doc->pcr_len[0], 48);
	assert_int_equal(g.doc->cabundle_count, 4);
	assert_int_equal(g.doc->public_key.len, 32);
	assert_null(g.doc->user_data.p);
	assert_null(g.doc->nonce.p);
	/* Its own PCR0 is what it expects; a minute's skew is fine at its time. */
	p.pcr_mask = 1;
	p.pcr_len[0] = 48;
	memcpy(p.pcr[0], g.doc->pcr[0], 48);
	p.max_skew_ms = 60000;
	expect(g.aws, g.aws_len, &p, ZCS_ATTEST_OK);
	/* The leaf lives for three hours: valid an hour later too. */
	p.at_ms = AWS_TS + HOUR_MS;
	p.max_skew_ms = 0;
	expect(g.aws, g.aws_len, &p, ZCS_ATTEST_OK);
}

static void
test_aws_tampered(void **state)
{
	struct zcs_attest_policy p = aws_policy();
	static const char module[] = "i-0a9f2a8b8dd31c7c8-enc";
	static const uint8_t leaf_sig_tail[] = {0x4c, 0x26, 0x15, 0x8b, 0x39};
	uint8_t *b;

	(void)state;
	/* The signature: its last byte. */
	b = aws_flipped(g.aws_len - 1);
	expect(b, g.aws_len, &p, ZCS_ATTEST_ERR_SIGNATURE);
	free(b);
	/* The payload: a byte of module_id (still valid text). */
	b = aws_flipped(aws_find(module, sizeof(module) - 1) + 5);
	expect(b, g.aws_len, &p, ZCS_ATTEST_ERR_SIGNATURE);
	free(b);
	/* A certificate: the end of the leaf's own signature. */
	b = aws_flipped(aws_find(leaf_sig_tail, sizeof(leaf_sig_tail)) + 2);
	expect(b, g.aws_len, &p, ZCS_ATTEST_ERR_CHAIN);
	free(b);
	/* Outside the leaf's validity (08:23:24 .. 11:23:27 UTC). */
	p.at_ms = AWS_TS + 3 * HOUR_MS;
	expect(g.aws, g.aws_len, &p, ZCS_ATTEST_ERR_EXPIRED);
	p.at_ms = AWS_TS - HOUR_MS;
	expect(g.aws, g.aws_len, &p, ZCS_ATTEST_ERR_EXPIRED);
	/* Another pinned root: a fingerprint, or the dev root. */
	p = aws_policy();
	p.root_sha256 = (const uint8_t *)"0123456789abcdef0123456789abcdef";
	expect(g.aws, g.aws_len, &p, ZCS_ATTEST_ERR_ROOT);
	p = aws_policy();
	p.root_der = g.root_der;
	p.root_der_len = (size_t)g.root_len;
	expect(g.aws, g.aws_len, &p, ZCS_ATTEST_ERR_ROOT);
	/* Other expectations. */
	p = aws_policy();
	p.pcr_mask = 1u << 2;
	p.pcr_len[2] = 48;
	expect(g.aws, g.aws_len, &p, ZCS_ATTEST_ERR_PCR);
	p = aws_policy();
	p.nonce = (const uint8_t *)"fresh";
	p.nonce_len = 5;
	expect(g.aws, g.aws_len, &p, ZCS_ATTEST_ERR_NONCE);
	p = aws_policy();
	p.at_ms = AWS_TS + HOUR_MS;
	p.max_skew_ms = 60000;
	expect(g.aws, g.aws_len, &p, ZCS_ATTEST_ERR_TIMESTAMP);
}

/* The fields of the parsed document (g.doc), to re-encode. */
static void
fields_of_doc(struct zcs_attest_fields *f)
{
	const struct zcs_attest_doc *d = g.doc;

	memset(f, 0, sizeof(*f));
	f->module_id = d->module_id;
	f->timestamp_ms = d->timestamp_ms;
	f->pcr_mask = d->pcr_mask;
	memcpy(f->pcr_len, d->pcr_len, sizeof(f->pcr_len));
	memcpy(f->pcr, d->pcr, sizeof(f->pcr));
	f->certificate = d->certificate;
	f->cabundle_count = d->cabundle_count;
	memcpy(f->cabundle, d->cabundle, sizeof(f->cabundle));
	f->public_key = d->public_key;
	f->user_data = d->user_data;
	f->nonce = d->nonce;
}

/* A cabundle entry dropped: the chain breaks before any signature matters. */
static void
test_aws_dropped_cabundle_entry(void **state)
{
	struct zcs_attest_policy p = aws_policy();
	struct zcs_attest_fields f;
	uint8_t *out;
	size_t len;

	(void)state;
	expect(g.aws, g.aws_len, &p, ZCS_ATTEST_OK);
	fields_of_doc(&f);
	f.cabundle[2] = f.cabundle[3];
	f.cabundle_count = 3;
	assert_int_equal(zcs_attest_sign(&out, &len, g.err, sizeof(g.err), &f, g.leaf_key), 0);
	expect(out, len, &p, ZCS_ATTEST_ERR_CHAIN);
	free(out);
}

/* A dev document: every field as given, at the dev chain's time. */
static size_t
dev_doc(uint8_t **out, const char *nonce)
{
	struct zcs_attest_fields f;
	size_t len;

	memset(&f, 0, sizeof(f));
	f.module_id = "dev-signer-shard-0";
	f.timestamp_ms = (uint64_t)time(NULL) * 1000;
	f.pcr_mask = (1u << 0) | (1u << 1);
	f.pcr_len[0] = f.pcr_len[1] = 48;
	memset(f.pcr[0], 0xa0, 48);
	memset(f.pcr[1], 0xa1, 48);
	f.certificate = (struct zcs_attest_bytes){g.leaf_der, (size_t)g.leaf_len};
	f.cabundle_count = 2;
	f.cabundle[0] = (struct zcs_attest_bytes){g.root_der, (size_t)g.root_len};
	f.cabundle[1] = (struct zcs_attest_bytes){g.inter_der, (size_t)g.inter_len};
	f.public_key = (struct zcs_attest_bytes){(const uint8_t *)"an ephemeral key", 16};
	f.user_data = (struct zcs_attest_bytes){(const uint8_t *)"", 0};
	if (nonce != NULL)
		f.nonce = (struct zcs_attest_bytes){(const uint8_t *)nonce, strlen(nonce)};
	assert_int_equal(zcs_attest_sign(out, &len, g.err, sizeof(g.err), &f, g.leaf_key), 0);
	return len;
}

static struct zcs_attest_policy
dev_policy(void)
{
	struct zcs_attest_policy p;

	memset(&p, 0, sizeof(p));
	p.root_der = g.root_der;
	p.root_der_len = (size_t)g.root_len;
	return p;
}

static void
test_dev_roundtrip(void **state)
{
	struct zcs_attest_policy p = dev_policy();
	uint8_t *doc;
	size_t len = dev_doc(&doc, "nonce-1");

	(void)state;
	p.pcr_mask = 3;
	p.pcr_len[0] = p.pcr_len[1] = 48;
	memset(p.pcr[0], 0xa0, 48);
	memset(p.pcr[1], 0xa1, 48);
	p.nonce = (const uint8_t *)"nonce-1";
	p.nonce_len = 7;
	p.max_skew_ms = 60000;
	expect(doc, len, &p, ZCS_ATTEST_OK);
	assert_string_equal(g.doc->module_id, "dev-signer-shard-0");
	assert_int_equal(g.doc->public_key.len, 16);
	assert_memory_equal(g.doc->public_key.p, "an ephemeral key", 16);
	assert_non_null(g.doc->user_data.p); /* present and empty is not absent */
	assert_int_equal(g.doc->user_data.len, 0);
	/* A replayed document: another nonce was asked for. */
	p.nonce = (const uint8_t *)"nonce-2";
	expect(doc, len, &p, ZCS_ATTEST_ERR_NONCE);
	/* Another PCR1. */
	p.nonce = NULL;
	p.pcr[1][47] ^= 1;
	expect(doc, len, &p, ZCS_ATTEST_ERR_PCR);
	/* Signed by a key that is not the leaf's. */
	free(doc);
	{
		EVP_PKEY *other = zcs_attest_p384_new();
		struct zcs_attest_fields f;

		assert_non_null(other);
		assert_int_equal(
			zcs_attest_parse(g.doc, g.err, sizeof(g.err), g.aws, g.aws_len), 0);
		memset(&f, 0, sizeof(f));
		f.module_id = "x";
		f.timestamp_ms = (uint64_t)time(NULL) * 1000;
		f.pcr_mask = 1;
		f.pcr_len[0] = 32;
		f.certificate = (struct zcs_attest_bytes){g.leaf_der, (size_t)g.leaf_len};
		f.cabundle_count = 2;
		f.cabundle[0] = (struct zcs_attest_bytes){g.root_der, (size_t)g.root_len};
		f.cabundle[1] = (struct zcs_attest_bytes){g.inter_der, (size_t)g.inter_len};
		assert_int_equal(zcs_attest_sign(&doc, &len, g.err, sizeof(g.err), &f, other), 0);
		p = dev_policy();
		expect(doc, len, &p, ZCS_ATTEST_ERR_SIGNATURE);
		free(doc);
		EVP_PKEY_free(other);
	}
}

/* ---- strict parsing: documents made by hand ---- */

/* The COSE_Sign1 around payload (a dummy signature: parse checks only). */
static size_t
cose(uint8_t *out, size_t cap, const uint8_t *prot, size_t prot_len, const uint8_t *payload,
	size_t payload_len)
{
	static const uint8_t sig[ZCS_ATTEST_SIG_LEN];
	size_t off = 0;

	off += cbor_encode_array_start(4, out + off, cap - off);
	off += cbor_encode_bytestring_start(prot_len, out + off, cap - off);
	memcpy(out + off, prot, prot_len);
	off += prot_len;
	off += cbor_encode_map_start(0, out + off, cap - off);
	off += cbor_encode_bytestring_start(payload_len, out + off, cap - off);
	memcpy(out + off, payload, payload_len);
	off += payload_len;
	off += cbor_encode_bytestring_start(sizeof(sig), out + off, cap - off);
	memcpy(out + off, sig, sizeof(sig));
	return off + sizeof(sig);
}

static const uint8_t es384[] = {0xa1, 0x01, 0x38, 0x22};

/* A payload map of the good fields, with entry `replace` swapped for key/value (or dropped). */
static size_t
payload(uint8_t **out, const char *replace, const char *key, cbor_item_t *value)
{
	static const char *const keys[] = {
		"module_id", "digest", "timestamp", "pcrs", "certificate", "cabundle"};
	cbor_item_t *m = cbor_new_definite_map(8), *pcrs, *bundle;
	uint8_t pcr[48] = {0};
	size_t cap = 0, len, i;

	pcrs = cbor_new_definite_map(1);
	assert_true(cbor_map_add(pcrs,
		(struct cbor_pair){.key = cbor_move(cbor_build_uint8(0)),
			.value = cbor_move(cbor_build_bytestring(pcr, 48))}));
	bundle = cbor_new_definite_array(1);
	assert_true(cbor_array_push(
		bundle, cbor_move(cbor_build_bytestring(g.root_der, (size_t)g.root_len))));
	{
		cbor_item_t *good[] = {cbor_build_string("m"), cbor_build_string("SHA384"),
			cbor_build_uint64(1), pcrs,
			cbor_build_bytestring(g.leaf_der, (size_t)g.leaf_len), bundle};

		for (i = 0; i < 6; i++) {
			if (replace != NULL && strcmp(keys[i], replace) == 0) {
				cbor_decref(&good[i]);
				continue;
			}
			assert_true(cbor_map_add(m,
				(struct cbor_pair){.key = cbor_move(cbor_build_string(keys[i])),
					.value = cbor_move(good[i])}));
		}
	}
	if (key != NULL)
		assert_true(cbor_map_add(m,
			(struct cbor_pair){.key = cbor_move(cbor_build_string(key)),
				.value = cbor_move(value)}));
	len = cbor_serialize_alloc(m, out, &cap);
	cbor_decref(&m);
	assert_true(len > 0);
	return len;
}

/* A document around payload(replace, key, value): its parse result. */
static int
parse_with(const char *replace, const char *key, cbor_item_t *value)
{
	static uint8_t doc[8192];
	uint8_t *pl;
	size_t pl_len = payload(&pl, replace, key, value);
	size_t len = cose(doc, sizeof(doc), es384, sizeof(es384), pl, pl_len);
	int rc = zcs_attest_parse(g.doc, g.err, sizeof(g.err), doc, len);

	free(pl);
	return rc;
}

static void
test_strict_fields(void **state)
{
	uint8_t big[600] = {0}, pcr20[20] = {0};
	cbor_item_t *pcrs, *indef;

	(void)state;
	assert_int_equal(parse_with(NULL, NULL, NULL), 0);
	/* Each mandatory field missing. */
	assert_int_equal(parse_with("module_id", NULL, NULL), ZCS_ATTEST_ERR_FIELD);
	assert_int_equal(parse_with("cabundle", NULL, NULL), ZCS_ATTEST_ERR_FIELD);
	assert_int_equal(parse_with("pcrs", NULL, NULL), ZCS_ATTEST_ERR_FIELD);
	/* Unknown and duplicate keys. */
	assert_int_equal(parse_with(NULL, "extra", cbor_build_uint8(1)), ZCS_ATTEST_ERR_FIELD);
	assert_int_equal(parse_with(NULL, "timestamp", cbor_build_uint8(2)), ZCS_ATTEST_ERR_CBOR);
	/* Out of AWS's limits, or mistyped. */
	assert_int_equal(
		parse_with("digest", "digest", cbor_build_string("SHA256")), ZCS_ATTEST_ERR_FIELD);
	assert_int_equal(
		parse_with("timestamp", "timestamp", cbor_build_uint8(0)), ZCS_ATTEST_ERR_FIELD);
	assert_int_equal(
		parse_with("module_id", "module_id", cbor_build_string("")), ZCS_ATTEST_ERR_FIELD);
	assert_int_equal(parse_with(NULL, "user_data", cbor_build_bytestring(big, 513)),
		ZCS_ATTEST_ERR_FIELD);
	assert_int_equal(
		parse_with(NULL, "nonce", cbor_build_string("text")), ZCS_ATTEST_ERR_FIELD);
	assert_int_equal(parse_with(NULL, "public_key", cbor_build_bytestring(big, 0)),
		ZCS_ATTEST_ERR_FIELD);
	assert_int_equal(parse_with(NULL, "nonce", cbor_new_null()), 0); /* null: absent */
	pcrs = cbor_new_definite_map(1);
	assert_true(cbor_map_add(pcrs,
		(struct cbor_pair){.key = cbor_move(cbor_build_uint8(32)),
			.value = cbor_move(cbor_build_bytestring(big, 48))}));
	assert_int_equal(parse_with("pcrs", "pcrs", pcrs), ZCS_ATTEST_ERR_FIELD);
	pcrs = cbor_new_definite_map(1);
	assert_true(cbor_map_add(pcrs,
		(struct cbor_pair){.key = cbor_move(cbor_build_uint8(1)),
			.value = cbor_move(cbor_build_bytestring(pcr20, 20))}));
	assert_int_equal(parse_with("pcrs", "pcrs", pcrs), ZCS_ATTEST_ERR_FIELD);
	/* An indefinite-length cabundle. */
	indef = cbor_new_indefinite_array();
	assert_true(cbor_array_push(
		indef, cbor_move(cbor_build_bytestring(g.root_der, (size_t)g.root_len))));
	assert_int_equal(parse_with("cabundle", "cabundle", indef), ZCS_ATTEST_ERR_CBOR);
}

static void
test_strict_envelope(void **state)
{
	static uint8_t doc[8192], wrapped[8200];
	static const uint8_t es256[] = {0xa1, 0x01, 0x26}; /* {1: -7} */
	uint8_t *pl;
	size_t pl_len, len;

	(void)state;
	pl_len = payload(&pl, NULL, NULL, NULL);
	len = cose(doc, sizeof(doc), es384, sizeof(es384), pl, pl_len);
	assert_int_equal(zcs_attest_parse(g.doc, g.err, sizeof(g.err), doc, len), 0);
	/* Trailing bytes, truncation. */
	doc[len] = 0x00;
	assert_int_equal(
		zcs_attest_parse(g.doc, g.err, sizeof(g.err), doc, len + 1), ZCS_ATTEST_ERR_CBOR);
	assert_int_equal(
		zcs_attest_parse(g.doc, g.err, sizeof(g.err), doc, len - 1), ZCS_ATTEST_ERR_CBOR);
	/* Tag 18 (COSE_Sign1) is accepted, another tag is not. */
	wrapped[0] = 0xd2;
	memcpy(wrapped + 1, doc, len);
	assert_int_equal(zcs_attest_parse(g.doc, g.err, sizeof(g.err), wrapped, len + 1), 0);
	wrapped[0] = 0xd3;
	assert_int_equal(zcs_attest_parse(g.doc, g.err, sizeof(g.err), wrapped, len + 1),
		ZCS_ATTEST_ERR_COSE);
	/* Not an array of four; another algorithm; a short signature. */
	doc[0] = 0x83;
	assert_int_equal(zcs_attest_parse(g.doc, g.err, sizeof(g.err), doc, len),
		ZCS_ATTEST_ERR_CBOR); /* three items read, bytes left over */
	len = cose(doc, sizeof(doc), es256, sizeof(es256), pl, pl_len);
	assert_int_equal(
		zcs_attest_parse(g.doc, g.err, sizeof(g.err), doc, len), ZCS_ATTEST_ERR_ALG);
	len = cose(doc, sizeof(doc), es384, sizeof(es384), pl, pl_len);
	doc[len - ZCS_ATTEST_SIG_LEN - 1] = 0x40 | 0x1f; /* bstr header: 0x58 0x60 -> indefinite */
	assert_int_not_equal(zcs_attest_parse(g.doc, g.err, sizeof(g.err), doc, len), 0);
	free(pl);
	/*
	 * Counts no byte string can back: refused before libcbor allocates for
	 * them (an array of 2^32 items, a map of 2^60 entries, in 9 bytes).
	 */
	assert_int_equal(zcs_attest_parse(g.doc, g.err, sizeof(g.err),
				 (const uint8_t *)"\x9b\x00\x00\x00\x01\x00\x00\x00\x00", 9),
		ZCS_ATTEST_ERR_CBOR);
	assert_non_null(strstr(g.err, "a count exceeds the bytes left"));
	assert_int_equal(
		zcs_attest_parse(g.doc, g.err, sizeof(g.err),
			(const uint8_t *)"\x84\x40\xa0\xbb\x10\x00\x00\x00\x00\x00\x00\x00", 12),
		ZCS_ATTEST_ERR_CBOR);
	assert_non_null(strstr(g.err, "a count exceeds the bytes left"));
	/* Not CBOR at all, and empty. */
	assert_int_equal(zcs_attest_parse(g.doc, g.err, sizeof(g.err), (const uint8_t *)"\xff", 1),
		ZCS_ATTEST_ERR_CBOR);
	assert_int_equal(
		zcs_attest_parse(g.doc, g.err, sizeof(g.err), doc, 0), ZCS_ATTEST_ERR_CBOR);
}

/* Every result has a distinct name (the CLI prints them). */
static void
test_result_names(void **state)
{
	int i, j;

	(void)state;
	for (i = 0; i >= ZCS_ATTEST_ERR_INTERNAL; i--) {
		assert_string_not_equal(zcs_attest_result_name(i), "unknown");
		for (j = i - 1; j >= ZCS_ATTEST_ERR_INTERNAL; j--)
			assert_string_not_equal(
				zcs_attest_result_name(i), zcs_attest_result_name(j));
	}
	assert_string_equal(zcs_attest_result_name(1), "unknown");
	assert_string_equal(zcs_attest_result_name(ZCS_ATTEST_ERR_INTERNAL - 1), "unknown");
}

/* ATTEST_REPLY chunks: reassembled in order; out of order, a changed total or too big refused. */
static void
test_chunks(void **state)
{
	uint8_t src[150], buf[150];
	struct zcs_attest_chunks c = {.buf = buf, .cap = sizeof(buf)};
	char err[128];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(src); i++)
		src[i] = (uint8_t)(i * 7);
	assert_int_equal(zcs_attest_chunks_add(&c, 0, 150, src, 64, err, sizeof(err)), 0);
	assert_int_equal(zcs_attest_chunks_add(&c, 64, 150, src + 64, 64, err, sizeof(err)), 0);
	assert_int_equal(zcs_attest_chunks_add(&c, 128, 150, src + 128, 22, err, sizeof(err)), 1);
	assert_int_equal(c.total, 150);
	assert_memory_equal(buf, src, sizeof(src));

	c = (struct zcs_attest_chunks){.buf = buf, .cap = sizeof(buf)};
	assert_int_equal(zcs_attest_chunks_add(&c, 64, 150, src, 64, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "chunk at 64 of 150 out of order"));
	assert_int_equal(zcs_attest_chunks_add(&c, 0, 151, src, 64, err, sizeof(err)), -1);
	assert_int_equal(zcs_attest_chunks_add(&c, 0, 150, src, 64, err, sizeof(err)), 0);
	assert_int_equal(zcs_attest_chunks_add(&c, 64, 140, src, 64, err, sizeof(err)), -1);
	assert_int_equal(zcs_attest_chunks_add(&c, 64, 150, src, 100, err, sizeof(err)), -1);
	assert_int_equal(c.got, 64);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_aws_genuine),
		cmocka_unit_test(test_aws_tampered),
		cmocka_unit_test(test_aws_dropped_cabundle_entry),
		cmocka_unit_test(test_dev_roundtrip),
		cmocka_unit_test(test_strict_fields),
		cmocka_unit_test(test_strict_envelope),
		cmocka_unit_test(test_result_names),
		cmocka_unit_test(test_chunks),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
