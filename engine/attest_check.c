/* SPDX-License-Identifier: BSD-3-Clause */
/* A shard worker's attestation check (attest_check.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include <zcsign/status.h>

#include "attest.h"
#include "attest_check.h"

struct zcs_attest_check {
	struct zcs_attest_policy policy;
	uint8_t *root_der; /* dev: the pinned root; NULL for Nitro (fingerprint) */
	uint8_t nonce[32];
	size_t total, got;
	uint8_t buf[ZCS_WIRE_ATTEST_MAX];
	struct zcs_attest_doc doc;
};

struct zcs_attest_check *
zcs_attest_check_create(const struct zcs_engine_shard_conf *sc, char *err, size_t errlen)
{
	struct zcs_attest_check *c = calloc(1, sizeof(*c));
	unsigned int i;
	X509 *root;
	FILE *f;
	int len;

	if (c == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (sc->attest == ZCS_ENGINE_ATTEST_NITRO) {
		c->policy.root_sha256 = zcs_attest_aws_root_g1_sha256;
	} else {
		f = fopen(sc->attest_root, "r");
		root = f != NULL ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
		if (f != NULL)
			fclose(f);
		len = root != NULL ? i2d_X509(root, &c->root_der) : 0;
		X509_free(root);
		if (len <= 0) {
			snprintf(err, errlen, "attest_root = %s: no PEM certificate there",
				sc->attest_root);
			free(c);
			return NULL;
		}
		c->policy.root_der = c->root_der;
		c->policy.root_der_len = (size_t)len;
	}
	for (i = 0; i < ZCS_ENGINE_PCRS; i++)
		if (sc->pcr_mask & (UINT32_C(1) << i)) {
			c->policy.pcr_mask |= UINT32_C(1) << i;
			c->policy.pcr_len[i] = ZCS_MEASUREMENT_LEN;
			memcpy(c->policy.pcr[i], sc->pcr[i], ZCS_MEASUREMENT_LEN);
		}
	c->policy.max_skew_ms = ZCS_ATTEST_CHECK_SKEW_MS;
	c->policy.nonce = c->nonce;
	c->policy.nonce_len = sizeof(c->nonce);
	return c;
}

void
zcs_attest_check_free(struct zcs_attest_check *c)
{
	if (c == NULL)
		return;
	OPENSSL_free(c->root_der);
	free(c);
}

int
zcs_attest_check_start(struct zcs_attest_check *c, uint8_t nonce[32])
{
	if (getrandom(c->nonce, sizeof(c->nonce), 0) != (ssize_t)sizeof(c->nonce))
		return -1;
	memcpy(nonce, c->nonce, sizeof(c->nonce));
	c->total = c->got = 0;
	return 0;
}

int
zcs_attest_check_chunk(
	struct zcs_attest_check *c, const struct zcs_wire_attest_reply *f, char *err, size_t errlen)
{
	if (f->status != ZCS_OK) {
		snprintf(err, errlen, "no attestation document: %s", zcs_status_name(f->status));
		return -1;
	}
	if (f->offset != c->got || (c->got > 0 && f->total != c->total)) {
		snprintf(err, errlen, "attestation chunk at %u of %u out of order", f->offset,
			f->total);
		return -1;
	}
	c->total = f->total;
	memcpy(c->buf + c->got, f->data, f->chunk_len);
	c->got += f->chunk_len;
	return c->got == c->total ? 1 : 0;
}

int
zcs_attest_check_verify(struct zcs_attest_check *c, char *err, size_t errlen)
{
	c->policy.at_ms = 0; /* now */
	return zcs_attest_check(&c->doc, err, errlen, c->buf, c->total, &c->policy) == 0 ? 0 : -1;
}
