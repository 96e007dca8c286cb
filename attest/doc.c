/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Strict parsing of attestation documents (attest.h): libcbor builds the
 * item tree, this file decides what is allowed in it. Every refusal names
 * the item at fault. No cryptography here (verify.c).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <cbor.h>

#include "attest.h"
#include "attest_internal.h"

/* COSE: header label 1 is the algorithm; -35 is ES384 (CBOR negint 34). */
#define COSE_LABEL_ALG 1
#define COSE_ALG_ES384_NEG 34
#define COSE_SIGN1_TAG 18

/* What the size pre-scan knows while libcbor's streaming decoder walks the items. */
struct scan {
	size_t left; /* bytes after the current item's head */
	bool too_big; /* a container declared more items than bytes remain */
};

static void
scan_array(void *ctx, size_t n)
{
	struct scan *sc = ctx;

	if (n > sc->left)
		sc->too_big = true; /* every item takes at least one byte */
}

static void
scan_map(void *ctx, size_t n)
{
	struct scan *sc = ctx;

	if (n > sc->left / 2)
		sc->too_big = true; /* a key and a value per entry */
}

/*
 * Before cbor_load(): libcbor allocates a definite container for the count
 * its head declares, before reading a single entry, so a 10-byte document
 * declaring 2^32 entries would make it allocate gigabytes. Walk the item
 * heads with libcbor's streaming decoder first and refuse a count the bytes
 * left cannot hold. Byte and text strings are checked by the decoder itself
 * (it needs their bytes to report them).
 */
static int
sizes_fit(const uint8_t *buf, size_t len)
{
	struct cbor_callbacks cb = cbor_empty_callbacks;
	struct scan sc = {.left = len, .too_big = false};
	struct cbor_decoder_result r;
	size_t off = 0;

	cb.array_start = scan_array;
	cb.map_start = scan_map;
	while (off < len && !sc.too_big) {
		r = cbor_stream_decode(buf + off, len - off, &cb, &sc);
		if (r.status != CBOR_DECODER_FINISHED || r.read == 0)
			return -1;
		off += r.read;
		sc.left = len - off;
		/* The counts of the head just read are judged against what follows it. */
	}
	return sc.too_big ? -1 : 0;
}

/* Load exactly one item from buf, all of it; NULL (err set) otherwise. */
cbor_item_t *
zcs_attest_cbor_load(char *err, size_t errlen, const uint8_t *buf, size_t len, const char *what)
{
	struct cbor_load_result r;
	cbor_item_t *item;

	if (len == 0) {
		zcs_attest_fail(err, errlen, ZCS_ATTEST_ERR_CBOR, "%s is empty", what);
		return NULL;
	}
	if (sizes_fit(buf, len) != 0) {
		zcs_attest_fail(err, errlen, ZCS_ATTEST_ERR_CBOR,
			"%s is not well-formed CBOR (a count exceeds the bytes left)", what);
		return NULL;
	}
	item = cbor_load(buf, len, &r);
	if (item == NULL || r.error.code != CBOR_ERR_NONE) {
		zcs_attest_fail(err, errlen, ZCS_ATTEST_ERR_CBOR,
			"%s is not well-formed CBOR (at byte %zu)", what, r.error.position);
		if (item != NULL)
			cbor_decref(&item);
		return NULL;
	}
	if (r.read != len) {
		zcs_attest_fail(err, errlen, ZCS_ATTEST_ERR_CBOR,
			"%s: %zu trailing bytes after its item", what, len - r.read);
		cbor_decref(&item);
		return NULL;
	}
	return item;
}

/*
 * A definite byte string of min..max bytes, copied into doc's store; bad is
 * the result when it is something else (ZCS_ATTEST_ERR_COSE for the COSE
 * envelope's items, ZCS_ATTEST_ERR_FIELD for the payload's).
 */
static int
take_bytes(struct zcs_attest_doc *doc, struct zcs_attest_bytes *out, char *err, size_t errlen,
	cbor_item_t *it, size_t min, size_t max, const char *what, int bad)
{
	size_t n;

	if (!cbor_isa_bytestring(it))
		return zcs_attest_fail(err, errlen, bad, "%s is not a byte string", what);
	if (!cbor_bytestring_is_definite(it))
		return zcs_attest_fail(
			err, errlen, ZCS_ATTEST_ERR_CBOR, "%s has an indefinite length", what);
	n = cbor_bytestring_length(it);
	if (n < min || n > max)
		return zcs_attest_fail(
			err, errlen, bad, "%s is %zu bytes (allowed %zu..%zu)", what, n, min, max);
	if (n > sizeof(doc->store) - doc->store_used)
		return zcs_attest_fail(err, errlen, bad, "%s: document too large", what);
	out->p = doc->store + doc->store_used;
	out->len = n;
	if (n > 0)
		memcpy(doc->store + doc->store_used, cbor_bytestring_handle(it), n);
	doc->store_used += n;
	return 0;
}

/* A definite text string, NUL-terminated into out (outlen includes the NUL). */
static int
take_text(char *out, size_t outlen, char *err, size_t errlen, cbor_item_t *it, const char *what)
{
	size_t n;

	if (!cbor_isa_string(it))
		return zcs_attest_fail(
			err, errlen, ZCS_ATTEST_ERR_FIELD, "%s is not a text string", what);
	if (!cbor_string_is_definite(it))
		return zcs_attest_fail(
			err, errlen, ZCS_ATTEST_ERR_CBOR, "%s has an indefinite length", what);
	n = cbor_string_length(it);
	if (n == 0 || n >= outlen)
		return zcs_attest_fail(err, errlen, ZCS_ATTEST_ERR_FIELD,
			"%s is %zu bytes (allowed 1..%zu)", what, n, outlen - 1);
	memcpy(out, cbor_string_handle(it), n);
	out[n] = '\0';
	if (strlen(out) != n)
		return zcs_attest_fail(
			err, errlen, ZCS_ATTEST_ERR_FIELD, "%s holds a NUL byte", what);
	return 0;
}

/* The protected header: the bstr-wrapped map {1: -35}, nothing else. */
static int
check_protected(char *err, size_t errlen, const struct zcs_attest_bytes *b)
{
	cbor_item_t *m = zcs_attest_cbor_load(err, errlen, b->p, b->len, "protected header");
	struct cbor_pair *kv;
	int rc = 0;

	if (m == NULL)
		return ZCS_ATTEST_ERR_CBOR;
	if (!cbor_isa_map(m) || !cbor_map_is_definite(m) || cbor_map_size(m) != 1) {
		rc = zcs_attest_fail(
			err, errlen, ZCS_ATTEST_ERR_ALG, "protected header is not {1: -35}");
	} else {
		kv = cbor_map_handle(m);
		if (!cbor_isa_uint(kv[0].key) || cbor_get_int(kv[0].key) != COSE_LABEL_ALG ||
			!cbor_isa_negint(kv[0].value) ||
			cbor_get_int(kv[0].value) != COSE_ALG_ES384_NEG)
			rc = zcs_attest_fail(err, errlen, ZCS_ATTEST_ERR_ALG,
				"protected header is not {1: -35} (ES384)");
	}
	cbor_decref(&m);
	return rc;
}

static int
take_pcrs(struct zcs_attest_doc *doc, char *err, size_t errlen, cbor_item_t *it)
{
	struct cbor_pair *kv;
	size_t i, n;

	if (!cbor_isa_map(it))
		return zcs_attest_fail(err, errlen, ZCS_ATTEST_ERR_FIELD, "pcrs is not a map");
	if (!cbor_map_is_definite(it))
		return zcs_attest_fail(
			err, errlen, ZCS_ATTEST_ERR_CBOR, "pcrs has an indefinite length");
	n = cbor_map_size(it);
	if (n < 1 || n > ZCS_ATTEST_PCRS)
		return zcs_attest_fail(err, errlen, ZCS_ATTEST_ERR_FIELD,
			"pcrs has %zu entries (allowed 1..%d)", n, ZCS_ATTEST_PCRS);
	kv = cbor_map_handle(it);
	for (i = 0; i < n; i++) {
		uint64_t idx;
		size_t len;

		if (!cbor_isa_uint(kv[i].key) || (idx = cbor_get_int(kv[i].key)) >= ZCS_ATTEST_PCRS)
			return zcs_attest_fail(err, errlen, ZCS_ATTEST_ERR_FIELD,
				"pcrs: a key is not an index 0..%d", ZCS_ATTEST_PCRS - 1);
		if (doc->pcr_mask & (UINT32_C(1) << idx))
			return zcs_attest_fail(err, errlen, ZCS_ATTEST_ERR_CBOR,
				"pcrs: index %u appears twice", (unsigned int)idx);
		if (!cbor_isa_bytestring(kv[i].value) || !cbor_bytestring_is_definite(kv[i].value))
			return zcs_attest_fail(err, errlen, ZCS_ATTEST_ERR_FIELD,
				"pcrs: PCR%u is not a definite byte string", (unsigned int)idx);
		len = cbor_bytestring_length(kv[i].value);
		if (len != 32 && len != 48 && len != 64)
			return zcs_attest_fail(err, errlen, ZCS_ATTEST_ERR_FIELD,
				"pcrs: PCR%u is %zu bytes (allowed 32, 48, 64)", (unsigned int)idx,
				len);
		doc->pcr_mask |= UINT32_C(1) << idx;
		doc->pcr_len[idx] = (uint8_t)len;
		memcpy(doc->pcr[idx], cbor_bytestring_handle(kv[i].value), len);
	}
	return 0;
}

static int
take_cabundle(struct zcs_attest_doc *doc, char *err, size_t errlen, cbor_item_t *it)
{
	cbor_item_t **v;
	size_t i, n;
	int rc;

	if (!cbor_isa_array(it))
		return zcs_attest_fail(
			err, errlen, ZCS_ATTEST_ERR_FIELD, "cabundle is not an array");
	if (!cbor_array_is_definite(it))
		return zcs_attest_fail(
			err, errlen, ZCS_ATTEST_ERR_CBOR, "cabundle has an indefinite length");
	n = cbor_array_size(it);
	if (n < 1 || n > ZCS_ATTEST_CABUNDLE_MAX)
		return zcs_attest_fail(err, errlen, ZCS_ATTEST_ERR_FIELD,
			"cabundle has %zu certificates (allowed 1..%d)", n,
			ZCS_ATTEST_CABUNDLE_MAX);
	v = cbor_array_handle(it);
	for (i = 0; i < n; i++) {
		char what[32];

		snprintf(what, sizeof(what), "cabundle[%zu]", i);
		rc = take_bytes(doc, &doc->cabundle[i], err, errlen, v[i], 1, ZCS_ATTEST_CERT_MAX,
			what, ZCS_ATTEST_ERR_FIELD);
		if (rc != 0)
			return rc;
	}
	doc->cabundle_count = (unsigned int)n;
	return 0;
}

/* The payload's fields, in the order the NSM writes them. */
enum field {
	F_MODULE_ID,
	F_DIGEST,
	F_TIMESTAMP,
	F_PCRS,
	F_CERTIFICATE,
	F_CABUNDLE,
	F_PUBLIC_KEY,
	F_USER_DATA,
	F_NONCE,
	F_COUNT,
};

static const char *const field_names[F_COUNT] = {
	"module_id",
	"digest",
	"timestamp",
	"pcrs",
	"certificate",
	"cabundle",
	"public_key",
	"user_data",
	"nonce",
};

#define REQUIRED                                                                                   \
	((1u << F_MODULE_ID) | (1u << F_DIGEST) | (1u << F_TIMESTAMP) | (1u << F_PCRS) |           \
		(1u << F_CERTIFICATE) | (1u << F_CABUNDLE))

/* An optional byte string field: null reads as absent. */
static int
take_optional(struct zcs_attest_doc *doc, struct zcs_attest_bytes *out, char *err, size_t errlen,
	cbor_item_t *it, size_t min, size_t max, const char *what)
{
	if (cbor_is_null(it)) {
		out->p = NULL;
		out->len = 0;
		return 0;
	}
	return take_bytes(doc, out, err, errlen, it, min, max, what, ZCS_ATTEST_ERR_FIELD);
}

static int
take_field(struct zcs_attest_doc *doc, char *err, size_t errlen, enum field f, cbor_item_t *v)
{
	char digest[16];
	int rc;

	switch (f) {
	case F_MODULE_ID:
		return take_text(
			doc->module_id, sizeof(doc->module_id), err, errlen, v, "module_id");
	case F_DIGEST:
		rc = take_text(digest, sizeof(digest), err, errlen, v, "digest");
		if (rc == 0 && strcmp(digest, "SHA384") != 0)
			rc = zcs_attest_fail(err, errlen, ZCS_ATTEST_ERR_FIELD,
				"digest is '%s', not SHA384", digest);
		return rc;
	case F_TIMESTAMP:
		if (!cbor_isa_uint(v) || cbor_get_int(v) == 0)
			return zcs_attest_fail(err, errlen, ZCS_ATTEST_ERR_FIELD,
				"timestamp is not a positive integer");
		doc->timestamp_ms = cbor_get_int(v);
		return 0;
	case F_PCRS:
		return take_pcrs(doc, err, errlen, v);
	case F_CERTIFICATE:
		return take_bytes(doc, &doc->certificate, err, errlen, v, 1, ZCS_ATTEST_CERT_MAX,
			"certificate", ZCS_ATTEST_ERR_FIELD);
	case F_CABUNDLE:
		return take_cabundle(doc, err, errlen, v);
	case F_PUBLIC_KEY:
		return take_optional(doc, &doc->public_key, err, errlen, v, 1,
			ZCS_ATTEST_PUBKEY_MAX, "public_key");
	case F_USER_DATA:
		return take_optional(
			doc, &doc->user_data, err, errlen, v, 0, ZCS_ATTEST_DATA_MAX, "user_data");
	case F_NONCE:
		return take_optional(
			doc, &doc->nonce, err, errlen, v, 0, ZCS_ATTEST_DATA_MAX, "nonce");
	case F_COUNT:
		break;
	}
	return zcs_attest_fail(err, errlen, ZCS_ATTEST_ERR_INTERNAL, "no such field");
}

/* The key of a payload entry: the index of one of field_names, or a negative result. */
static int
field_of(char *err, size_t errlen, cbor_item_t *key)
{
	char name[16];
	int f;

	if (!cbor_isa_string(key) || !cbor_string_is_definite(key))
		return zcs_attest_fail(err, errlen, ZCS_ATTEST_ERR_FIELD,
			"payload: a key is not a definite text string");
	if (cbor_string_length(key) >= sizeof(name))
		return zcs_attest_fail(err, errlen, ZCS_ATTEST_ERR_FIELD, "payload: unknown key");
	memcpy(name, cbor_string_handle(key), cbor_string_length(key));
	name[cbor_string_length(key)] = '\0';
	for (f = 0; f < F_COUNT; f++)
		if (strcmp(name, field_names[f]) == 0)
			return f;
	return zcs_attest_fail(
		err, errlen, ZCS_ATTEST_ERR_FIELD, "payload: unknown key '%.15s'", name);
}

static int
take_payload(struct zcs_attest_doc *doc, char *err, size_t errlen)
{
	cbor_item_t *m =
		zcs_attest_cbor_load(err, errlen, doc->payload.p, doc->payload.len, "payload");
	struct cbor_pair *kv;
	unsigned int seen = 0;
	size_t i, n;
	int rc = 0;

	if (m == NULL)
		return ZCS_ATTEST_ERR_CBOR;
	/* The one indefinite item allowed: the NSM writes the payload map that way. */
	if (!cbor_isa_map(m)) {
		rc = zcs_attest_fail(err, errlen, ZCS_ATTEST_ERR_FIELD, "payload is not a map");
		goto out;
	}
	n = cbor_map_size(m);
	kv = cbor_map_handle(m);
	for (i = 0; rc == 0 && i < n; i++) {
		int f = field_of(err, errlen, kv[i].key);

		if (f < 0)
			rc = f;
		else if (seen & (1u << f))
			rc = zcs_attest_fail(err, errlen, ZCS_ATTEST_ERR_CBOR,
				"payload: key %s appears twice", field_names[f]);
		else {
			seen |= 1u << f;
			rc = take_field(doc, err, errlen, (enum field)f, kv[i].value);
		}
	}
	for (i = 0; rc == 0 && i < F_COUNT; i++)
		if ((REQUIRED & (1u << i)) && !(seen & (1u << i)))
			rc = zcs_attest_fail(err, errlen, ZCS_ATTEST_ERR_FIELD,
				"payload: %s is missing", field_names[i]);
out:
	cbor_decref(&m);
	return rc;
}

int
zcs_attest_parse(
	struct zcs_attest_doc *doc, char *err, size_t errlen, const uint8_t *buf, size_t len)
{
	cbor_item_t *arr, **v;
	int rc;

	memset(doc, 0, offsetof(struct zcs_attest_doc, store));
	if (len > 2 * ZCS_ATTEST_DOC_MAX)
		return zcs_attest_fail(err, errlen, ZCS_ATTEST_ERR_COSE,
			"document is %zu bytes (at most %d)", len, 2 * ZCS_ATTEST_DOC_MAX);
	/*
	 * The outer tag is read here, not by libcbor: Debian's libcbor 0.8 refuses
	 * tags 6..20 (unassigned when RFC 7049 was written) and COSE_Sign1's is
	 * 18. Only that tag, in its one-byte form, may stand before the array.
	 */
	if (len > 0 && (buf[0] >> 5) == 6) {
		if (buf[0] != (0xc0 | COSE_SIGN1_TAG))
			return zcs_attest_fail(err, errlen, ZCS_ATTEST_ERR_COSE,
				"tagged 0x%02x: only COSE_Sign1's tag 18 (0xd2) may wrap it",
				buf[0]);
		buf++;
		len--;
	}
	arr = zcs_attest_cbor_load(err, errlen, buf, len, "document");
	if (arr == NULL)
		return ZCS_ATTEST_ERR_CBOR;
	if (!cbor_isa_array(arr) || !cbor_array_is_definite(arr) || cbor_array_size(arr) != 4) {
		rc = zcs_attest_fail(err, errlen, ZCS_ATTEST_ERR_COSE,
			"not a COSE_Sign1: a definite array of 4 expected");
		goto out;
	}
	v = cbor_array_handle(arr);
	rc = take_bytes(doc, &doc->protected_hdr, err, errlen, v[0], 1, 64, "protected header",
		ZCS_ATTEST_ERR_COSE);
	rc = rc ?: check_protected(err, errlen, &doc->protected_hdr);
	if (rc == 0 &&
		(!cbor_isa_map(v[1]) || !cbor_map_is_definite(v[1]) || cbor_map_size(v[1]) != 0))
		rc = zcs_attest_fail(
			err, errlen, ZCS_ATTEST_ERR_COSE, "unprotected header is not {}");
	rc = rc
		?: take_bytes(doc, &doc->payload, err, errlen, v[2], 1, ZCS_ATTEST_DOC_MAX,
			   "payload", ZCS_ATTEST_ERR_COSE);
	/* ES384 is r || s, 48 bytes each (the NSM document spec's 32/48/64 is the PCR sizes). */
	rc = rc
		?: take_bytes(doc, &doc->signature, err, errlen, v[3], ZCS_ATTEST_SIG_LEN,
			   ZCS_ATTEST_SIG_LEN, "signature", ZCS_ATTEST_ERR_COSE);
	rc = rc ?: take_payload(doc, err, errlen);
out:
	cbor_decref(&arr);
	return rc;
}
