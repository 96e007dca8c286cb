/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The dev attestation CA's certificates (attest.h): P-384 keys and X.509
 * certificates signed with ES384, in the shape of AWS's chain (root, CA
 * intermediates, an end-entity leaf that signs documents).
 */
#include <stdio.h>

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "attest.h"

EVP_PKEY *
zcs_attest_p384_new(void)
{
	return EVP_EC_gen("P-384");
}

static int
add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (ext == NULL)
		return 0;
	ok = X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	return ok;
}

static int
set_name(X509 *cert, const char *cn)
{
	X509_NAME *name = X509_get_subject_name(cert);

	return X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
		       (const unsigned char *)"zcsign dev attestation", -1, -1, 0) &&
		X509_NAME_add_entry_by_txt(
			name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
}

static int
set_serial(X509 *cert)
{
	unsigned char b[16];
	BIGNUM *bn;
	int ok;

	if (RAND_bytes(b, sizeof(b)) != 1)
		return 0;
	b[0] &= 0x7f; /* positive */
	bn = BN_bin2bn(b, sizeof(b), NULL);
	ok = bn != NULL && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) != NULL;
	BN_free(bn);
	return ok;
}

X509 *
zcs_attest_cert_new(EVP_PKEY *key, const char *cn, int64_t not_before, int64_t not_after,
	X509 *issuer, EVP_PKEY *issuer_key, bool ca, int pathlen)
{
	X509 *cert = X509_new();
	char bc[48];
	int ok;

	if (cert == NULL)
		return NULL;
	if (issuer == NULL) {
		issuer = cert;
		issuer_key = key;
	}
	if (ca && pathlen >= 0)
		snprintf(bc, sizeof(bc), "critical,CA:TRUE,pathlen:%d", pathlen);
	else
		snprintf(bc, sizeof(bc), ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
	ok = X509_set_version(cert, 2) && set_serial(cert) &&
		ASN1_TIME_set(X509_getm_notBefore(cert), (time_t)not_before) != NULL &&
		ASN1_TIME_set(X509_getm_notAfter(cert), (time_t)not_after) != NULL &&
		X509_set_pubkey(cert, key) && set_name(cert, cn) &&
		X509_set_issuer_name(cert, X509_get_subject_name(issuer)) &&
		add_ext(cert, issuer, NID_basic_constraints, bc) &&
		add_ext(cert, issuer, NID_key_usage,
			ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature") &&
		add_ext(cert, issuer, NID_subject_key_identifier, "hash") &&
		(issuer == cert || add_ext(cert, issuer, NID_authority_key_identifier, "keyid")) &&
		X509_sign(cert, issuer_key, EVP_sha384()) > 0;
	if (!ok) {
		X509_free(cert);
		return NULL;
	}
	return cert;
}
