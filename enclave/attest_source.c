/* SPDX-License-Identifier: BSD-3-Clause */
/* A signer's attestation documents (attest_source.h). */
#define _GNU_SOURCE /* dl_iterate_phdr */
#include <errno.h>
#include <link.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "attest_source.h"
#include "clock.h"
#include "nsm.h"
#include "sign.h"

enum { SRC_DEV = 1, SRC_NITRO = 2 };

struct zcs_attest_source {
	int kind;
	uint16_t shard, shards;
	pthread_mutex_t lock; /* the serve loop (ATTEST) and the control thread (PROVISION) */
	/* dev */
	EVP_PKEY *key;
	uint8_t *cert;
	int cert_len;
	uint8_t *bundle[ZCS_ATTEST_CABUNDLE_MAX];
	int bundle_len[ZCS_ATTEST_CABUNDLE_MAX];
	unsigned int nbundle;
	uint8_t pcr0[ZCS_DEV_PCR_LEN], pcr1[ZCS_DEV_PCR_LEN];
	/* nitro */
	int nsm_fd;
};

/* The paths of the loaded libsecp256k1 and libcrypto. */
struct libs {
	char secp[4096];
	char crypto[4096];
};

static int
find_lib(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct libs *l = arg;
	const char *base = strrchr(info->dlpi_name, '/');

	(void)size;
	base = base != NULL ? base + 1 : info->dlpi_name;
	if (strncmp(base, "libsecp256k1.so", 15) == 0)
		snprintf(l->secp, sizeof(l->secp), "%s", info->dlpi_name);
	else if (strncmp(base, "libcrypto.so", 12) == 0)
		snprintf(l->crypto, sizeof(l->crypto), "%s", info->dlpi_name);
	return 0;
}

/* The dev PCRs of this process (attest_source.h). 0, or -1 with err naming what was unreadable. */
static int
zcs_dev_pcrs(uint8_t pcr0[ZCS_DEV_PCR_LEN], uint8_t pcr1[ZCS_DEV_PCR_LEN], char *err, size_t errlen)
{
	uint8_t both[2 * ZCS_DEV_PCR_LEN];
	struct libs l = {"", ""};
	unsigned int n = 0;

	if (zcs_measure_self(pcr0) != 0) {
		snprintf(err, errlen, "cannot measure /proc/self/exe: %s", strerror(errno));
		return -1;
	}
	dl_iterate_phdr(find_lib, &l);
	if (l.secp[0] == '\0' || l.crypto[0] == '\0') {
		snprintf(err, errlen, "PCR1: %s is not a loaded shared object",
			l.secp[0] == '\0' ? "libsecp256k1" : "libcrypto");
		return -1;
	}
	if (zcs_measure_path(l.secp, both) != 0 ||
		zcs_measure_path(l.crypto, both + ZCS_DEV_PCR_LEN) != 0) {
		snprintf(err, errlen, "PCR1: cannot read %s or %s", l.secp, l.crypto);
		return -1;
	}
	if (EVP_Digest(both, sizeof(both), pcr1, &n, EVP_sha384(), NULL) != 1 ||
		n != ZCS_DEV_PCR_LEN) {
		snprintf(err, errlen, "PCR1: SHA-384 failed");
		return -1;
	}
	return 0;
}

/* Every certificate of a PEM file, DER-encoded, into s->bundle. */
static int
load_bundle(struct zcs_attest_source *s, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	X509 *x;

	if (f == NULL) {
		snprintf(err, errlen, "--attest: cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	while ((x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
		if (s->nbundle == ZCS_ATTEST_CABUNDLE_MAX) {
			X509_free(x);
			break;
		}
		s->bundle[s->nbundle] = NULL;
		s->bundle_len[s->nbundle] = i2d_X509(x, &s->bundle[s->nbundle]);
		X509_free(x);
		if (s->bundle_len[s->nbundle] <= 0)
			break;
		s->nbundle++;
	}
	fclose(f);
	if (s->nbundle == 0) {
		snprintf(err, errlen, "--attest: %s holds no certificate", path);
		return -1;
	}
	return 0;
}

static int
open_dev(struct zcs_attest_source *s, const char *prefix, char *err, size_t errlen)
{
	char path[4096];
	char why[300];
	FILE *f;

	snprintf(path, sizeof(path), "%s.key", prefix);
	f = fopen(path, "r");
	s->key = f != NULL ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
	if (f != NULL)
		fclose(f);
	if (s->key == NULL) {
		snprintf(err, errlen, "--attest: cannot read a key from %s", path);
		return -1;
	}
	snprintf(path, sizeof(path), "%s.pem", prefix);
	s->cert_len = zcs_attest_pem_der(path, &s->cert, why, sizeof(why));
	if (s->cert_len < 0) {
		snprintf(err, errlen, "--attest: certificate %s", why);
		return -1;
	}
	snprintf(path, sizeof(path), "%s.bundle.pem", prefix);
	if (load_bundle(s, path, err, errlen) != 0)
		return -1;
	return zcs_dev_pcrs(s->pcr0, s->pcr1, err, errlen);
}

struct zcs_attest_source *
zcs_attest_source_open(const char *spec, uint16_t shard, uint16_t shards, char *err, size_t errlen)
{
	struct zcs_attest_source *s = calloc(1, sizeof(*s));
	int rc = -1;

	if (s == NULL) {
		snprintf(err, errlen, "--attest: out of memory");
		return NULL;
	}
	s->nsm_fd = -1;
	s->shard = shard;
	s->shards = shards;
	pthread_mutex_init(&s->lock, NULL);
	if (strncmp(spec, "dev:", 4) == 0 && spec[4] != '\0') {
		s->kind = SRC_DEV;
		rc = open_dev(s, spec + 4, err, errlen);
	} else if (strcmp(spec, "nitro") == 0) {
		s->kind = SRC_NITRO;
		s->nsm_fd = zcs_nsm_open(err, errlen);
		rc = s->nsm_fd >= 0 ? 0 : -1;
	} else {
		snprintf(err, errlen, "--attest '%s': expected dev:PREFIX or nitro", spec);
	}
	if (rc != 0) {
		zcs_attest_source_close(s);
		return NULL;
	}
	return s;
}

/* A document from the dev CA's leaf, with the dev PCRs. */
static int
dev_document(struct zcs_attest_source *s, uint8_t *out, size_t cap, size_t *len,
	const uint8_t nonce[32], const char *user_data, const uint8_t *public_key,
	size_t public_key_len, char *err, size_t errlen)
{
	struct zcs_attest_fields f;
	char module[48];
	uint8_t *doc;
	unsigned int i;
	int rc;

	snprintf(module, sizeof(module), "zcsign-dev-shard-%u-of-%u", s->shard, s->shards);
	memset(&f, 0, sizeof(f));
	f.module_id = module;
	f.timestamp_ms = zcs_real_ms();
	f.pcr_mask = 3;
	f.pcr_len[0] = f.pcr_len[1] = ZCS_DEV_PCR_LEN;
	memcpy(f.pcr[0], s->pcr0, ZCS_DEV_PCR_LEN);
	memcpy(f.pcr[1], s->pcr1, ZCS_DEV_PCR_LEN);
	f.certificate = (struct zcs_attest_bytes){s->cert, (size_t)s->cert_len};
	f.cabundle_count = s->nbundle;
	for (i = 0; i < s->nbundle; i++)
		f.cabundle[i] = (struct zcs_attest_bytes){s->bundle[i], (size_t)s->bundle_len[i]};
	f.user_data = (struct zcs_attest_bytes){(const uint8_t *)user_data, strlen(user_data)};
	f.nonce = (struct zcs_attest_bytes){nonce, 32};
	if (public_key != NULL)
		f.public_key = (struct zcs_attest_bytes){public_key, public_key_len};
	rc = zcs_attest_sign(&doc, len, err, errlen, &f, s->key);
	if (rc != 0)
		return -1;
	if (*len > cap) {
		snprintf(err, errlen, "attestation document of %zu bytes exceeds %zu", *len, cap);
		free(doc);
		return -1;
	}
	memcpy(out, doc, *len);
	free(doc);
	return 0;
}

int
zcs_attest_source_document(struct zcs_attest_source *s, uint8_t *out, size_t cap, size_t *len,
	const uint8_t nonce[32], const char *state, const uint8_t *public_key,
	size_t public_key_len, char *err, size_t errlen)
{
	char user_data[64];
	int rc;

	snprintf(user_data, sizeof(user_data), "zcsign shard %u/%u %s", s->shard, s->shards, state);
	pthread_mutex_lock(&s->lock);
	if (s->kind == SRC_NITRO)
		rc = zcs_nsm_attest(s->nsm_fd, out, cap, len, err, errlen,
			(const uint8_t *)user_data, strlen(user_data), nonce, 32, public_key,
			public_key_len);
	else
		rc = dev_document(s, out, cap, len, nonce, user_data, public_key, public_key_len,
			err, errlen);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

const char *
zcs_attest_source_kind(const struct zcs_attest_source *s)
{
	return s->kind == SRC_NITRO ? "nitro" : "dev";
}

void
zcs_attest_source_close(struct zcs_attest_source *s)
{
	unsigned int i;

	if (s == NULL)
		return;
	EVP_PKEY_free(s->key);
	OPENSSL_free(s->cert);
	for (i = 0; i < s->nbundle; i++)
		OPENSSL_free(s->bundle[i]);
	if (s->nsm_fd >= 0)
		close(s->nsm_fd);
	pthread_mutex_destroy(&s->lock);
	free(s);
}
