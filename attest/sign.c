/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Producing attestation documents (attest.h): the payload map as the NSM
 * writes it (text keys in its order), wrapped in a COSE_Sign1 signed with
 * ES384. Used by the signer on a dev box, with a leaf of the dev attestation
 * CA; inside a Nitro enclave the NSM produces the document instead.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cbor.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "attest.h"
#include "attest_internal.h"

/* Add key => value to map (the value's reference moves into the map). 1 or 0. */
static int
put(cbor_item_t *map, const char *key, cbor_item_t *value)
{
	return value != NULL &&
		cbor_map_add(map,
			(struct cbor_pair){.key = cbor_move(cbor_build_string(key)),
				.value = cbor_move(value)});
}

static cbor_item_t *
bytes_or_null(const struct zcs_attest_bytes *b)
{
	return b->p != NULL ? cbor_build_bytestring(b->p, b->len) : cbor_new_null();
}

static cbor_item_t *
build_pcrs(const struct zcs_attest_fields *f)
{
	cbor_item_t *m = cbor_new_definite_map((size_t)__builtin_popcount(f->pcr_mask));
	unsigned int i;

	for (i = 0; m != NULL && i < ZCS_ATTEST_PCRS; i++)
		if ((f->pcr_mask & (UINT32_C(1) << i)) &&
			!cbor_map_add(m,
				(struct cbor_pair){.key = cbor_move(cbor_build_uint8((uint8_t)i)),
					.value = cbor_move(
						cbor_build_bytestring(f->pcr[i], f->pcr_len[i]))}))
			cbor_decref(&m);
	return m;
}

static cbor_item_t *
build_cabundle(const struct zcs_attest_fields *f)
{
	cbor_item_t *a = cbor_new_definite_array(f->cabundle_count);
	unsigned int i;

	for (i = 0; a != NULL && i < f->cabundle_count; i++)
		if (!cbor_array_push(a,
			    cbor_move(cbor_build_bytestring(f->cabundle[i].p, f->cabundle[i].len))))
			cbor_decref(&a);
	return a;
}

/* The payload map, encoded; its length, or 0. */
static size_t
encode_payload(uint8_t **out, const struct zcs_attest_fields *f)
{
	cbor_item_t *m = cbor_new_definite_map(9);
	size_t cap = 0, len = 0;

	if (m != NULL && put(m, "module_id", cbor_build_string(f->module_id)) &&
		put(m, "digest", cbor_build_string("SHA384")) &&
		put(m, "timestamp", cbor_build_uint64(f->timestamp_ms)) &&
		put(m, "pcrs", build_pcrs(f)) &&
		put(m, "certificate",
			cbor_build_bytestring(f->certificate.p, f->certificate.len)) &&
		put(m, "cabundle", build_cabundle(f)) &&
		put(m, "public_key", bytes_or_null(&f->public_key)) &&
		put(m, "user_data", bytes_or_null(&f->user_data)) &&
		put(m, "nonce", bytes_or_null(&f->nonce)))
		len = cbor_serialize_alloc(m, out, &cap);
	if (m != NULL)
		cbor_decref(&m);
	return len;
}

/* ES384 over tbs: r || s, 48 bytes each, into rs. 0 or -1. */
static int
es384(uint8_t rs[ZCS_ATTEST_SIG_LEN], EVP_PKEY *key, const uint8_t *tbs, size_t tbs_len)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	uint8_t der[128];
	const unsigned char *p = der;
	size_t der_len = sizeof(der);
	ECDSA_SIG *sig = NULL;
	const BIGNUM *r, *s;
	int rc = -1;

	if (md != NULL && EVP_DigestSignInit(md, NULL, EVP_sha384(), NULL, key) == 1 &&
		EVP_DigestSign(md, der, &der_len, tbs, tbs_len) == 1 &&
		(sig = d2i_ECDSA_SIG(NULL, &p, (long)der_len)) != NULL) {
		ECDSA_SIG_get0(sig, &r, &s);
		if (BN_bn2binpad(r, rs, ZCS_ATTEST_SIG_LEN / 2) == ZCS_ATTEST_SIG_LEN / 2 &&
			BN_bn2binpad(s, rs + ZCS_ATTEST_SIG_LEN / 2, ZCS_ATTEST_SIG_LEN / 2) ==
				ZCS_ATTEST_SIG_LEN / 2)
			rc = 0;
	}
	ECDSA_SIG_free(sig);
	EVP_MD_CTX_free(md);
	ERR_clear_error();
	return rc;
}

int
zcs_attest_sign(uint8_t **out, size_t *out_len, char *err, size_t errlen,
	const struct zcs_attest_fields *f, struct evp_pkey_st *key)
{
	uint8_t *payload = NULL, *tbs = NULL, rs[ZCS_ATTEST_SIG_LEN];
	size_t payload_len, tbs_len, cap = 0;
	cbor_item_t *cose = NULL;
	int rc = 0;

	*out = NULL;
	*out_len = 0;
	if (f->module_id == NULL || f->module_id[0] == '\0' || f->timestamp_ms == 0 ||
		f->pcr_mask == 0 || f->certificate.p == NULL || f->cabundle_count == 0 ||
		f->cabundle_count > ZCS_ATTEST_CABUNDLE_MAX)
		return zcs_attest_fail(
			err, errlen, ZCS_ATTEST_ERR_FIELD, "a mandatory field is missing");
	payload_len = encode_payload(&payload, f);
	if (payload_len == 0 || payload_len > ZCS_ATTEST_DOC_MAX) {
		rc = zcs_attest_fail(err, errlen,
			payload_len == 0 ? ZCS_ATTEST_ERR_NOMEM : ZCS_ATTEST_ERR_FIELD,
			"cannot encode the payload (%zu bytes)", payload_len);
		goto out;
	}
	tbs_len = zcs_attest_sig_structure(&tbs, zcs_attest_protected_es384,
		sizeof(zcs_attest_protected_es384), payload, payload_len);
	if (tbs_len == 0 || es384(rs, key, tbs, tbs_len) != 0) {
		rc = zcs_attest_fail(err, errlen, ZCS_ATTEST_ERR_SIGNATURE,
			"cannot sign with the attestation key (is it P-384?)");
		goto out;
	}
	cose = cbor_new_definite_array(4);
	if (cose == NULL ||
		!cbor_array_push(cose,
			cbor_move(cbor_build_bytestring(
				zcs_attest_protected_es384, sizeof(zcs_attest_protected_es384)))) ||
		!cbor_array_push(cose, cbor_move(cbor_new_definite_map(0))) ||
		!cbor_array_push(cose, cbor_move(cbor_build_bytestring(payload, payload_len))) ||
		!cbor_array_push(cose, cbor_move(cbor_build_bytestring(rs, sizeof(rs)))) ||
		(*out_len = cbor_serialize_alloc(cose, out, &cap)) == 0) {
		free(*out);
		*out = NULL;
		*out_len = 0;
		rc = zcs_attest_fail(
			err, errlen, ZCS_ATTEST_ERR_NOMEM, "cannot encode the document");
	}
out:
	if (cose != NULL)
		cbor_decref(&cose);
	free(payload);
	free(tbs);
	return rc;
}
