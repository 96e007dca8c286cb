/* SPDX-License-Identifier: BSD-3-Clause */
/* A shard worker's attestation check (attest_check.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/crypto.h>

#include <zcsign/status.h>

#include "attest.h"
#include "attest_check.h"

struct zcs_attest_check {
	struct zcs_attest_policy policy;
	uint8_t *root_der; /* dev: the pinned root; NULL for Nitro (fingerprint) */
	uint8_t nonce[32];
	struct zcs_attest_chunks doc_in; /* over buf */
	uint8_t buf[ZCS_WIRE_ATTEST_MAX];
	struct zcs_attest_doc doc;
};

struct zcs_attest_check *
zcs_attest_check_create(const struct zcs_engine_shard_conf *sc, char *err, size_t errlen)
{
	struct zcs_attest_check *c = calloc(1, sizeof(*c));
	char why[300];
	unsigned int i;
	int len;

	if (c == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (sc->attest == ZCS_ENGINE_ATTEST_NITRO) {
		c->policy.root_sha256 = zcs_attest_aws_root_g1_sha256;
	} else {
		len = zcs_attest_pem_der(sc->attest_root, &c->root_der, why, sizeof(why));
		if (len < 0) {
			snprintf(err, errlen, "attest_root = %s", why);
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
	c->doc_in = (struct zcs_attest_chunks){.buf = c->buf, .cap = sizeof(c->buf)};
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
	return zcs_attest_chunks_add(
		&c->doc_in, f->offset, f->total, f->data, f->chunk_len, err, errlen);
}

int
zcs_attest_check_verify(struct zcs_attest_check *c, char *err, size_t errlen)
{
	c->policy.at_ms = 0; /* now */
	return zcs_attest_check(&c->doc, err, errlen, c->buf, c->doc_in.total, &c->policy) == 0
		? 0
		: -1;
}
