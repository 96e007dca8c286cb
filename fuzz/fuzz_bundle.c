/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: the key bundle parser and opener (keys/bundle.c), as the
 * signer's control endpoint and zcsign-cli provision run them on bytes a host
 * controls. Two properties:
 *   1. data as a bundle, opened with a fixed recipient key: parse and open
 *      never crash, and a bundle they accept has ascending accounts of its
 *      shard (checked again here).
 *   2. data as records, sealed to that key and opened again: accepted exactly
 *      when the accounts are strictly ascending, and then the same bytes.
 * Seeds: fuzz/corpus/bundle (bundles sealed to the fixed key, made with
 * fuzz_bundle itself: ZCS_FUZZ_SEED=DIR writes them).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include <zcsign/shard.h>

#include "bundle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define MAX_RECORDS 64

/* The fixed recipient: a test key, public by design. */
static const uint8_t recipient_priv[32] = {0x7a, 0x63, 0x73, 0x69, 0x67, 0x6e, 0x20, 0x66, 0x75,
	0x7a, 0x7a, 0x20, 0x62, 0x75, 0x6e, 0x64, 0x6c, 0x65, 0x20, 0x74, 0x65, 0x73, 0x74, 0x20,
	0x6b, 0x65, 0x79, 0x20, 0x6f, 0x6e, 0x6c, 0x79};
static EVP_PKEY *recipient;
static uint8_t recipient_pub[ZCS_BUNDLE_PUB_LEN];

static void
write_seed(const char *dir, const char *name, uint32_t n, uint16_t id, uint16_t count)
{
	uint8_t rec[MAX_RECORDS * ZCS_BUNDLE_REC_LEN], *out;
	struct zcs_bundle_hdr h;
	char path[512], err[200];
	uint64_t a = 1;
	size_t len;
	uint32_t i;
	FILE *f;

	for (i = 0; i < n; i++, a++) {
		uint64_t le;

		while (zcs_shard_of(a, count) != id)
			a++;
		le = htole64(a);
		memcpy(rec + i * ZCS_BUNDLE_REC_LEN, &le, 8);
		memset(rec + i * ZCS_BUNDLE_REC_LEN + 8, (int)(i + 1), 32);
	}
	memset(&h, 0, sizeof(h));
	h.purpose = n % 2 ? ZCS_BUNDLE_TRANSIT : ZCS_BUNDLE_AT_REST;
	h.shard_id = id;
	h.shard_count = count;
	h.key_count = n;
	h.generation = 1 + n;
	if (h.purpose == ZCS_BUNDLE_TRANSIT)
		memset(h.nonce, 0x4e, sizeof(h.nonce));
	if (zcs_bundle_seal(&out, &len, err, sizeof(err), &h, recipient_pub, rec) != 0)
		abort();
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (f == NULL || fwrite(out, 1, len, f) != len || fclose(f) != 0)
		abort();
	free(out);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *seed = getenv("ZCS_FUZZ_SEED");

	(void)argc;
	(void)argv;
	recipient = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, recipient_priv, 32);
	if (recipient == NULL || zcs_bundle_key_pub(recipient, recipient_pub) != 0)
		abort();
	if (seed != NULL) {
		write_seed(seed, "empty-shard", 0, 2, 4);
		write_seed(seed, "one-key-transit", 1, 0, 1);
		write_seed(seed, "five-keys", 6, 1, 3);
		write_seed(seed, "many-keys-transit", 33, 0, 2);
		exit(0);
	}
	return 0;
}

/* Property 1: whatever the bytes, a bundle accepted is well-formed. */
static void
open_as_bundle(const uint8_t *data, size_t size)
{
	static uint8_t plain[MAX_RECORDS * ZCS_BUNDLE_REC_LEN];
	struct zcs_bundle_hdr h;
	char err[256];
	uint64_t prev = 0, a;
	uint32_t i;

	if (zcs_bundle_parse(&h, err, sizeof(err), data, size) != 0)
		return;
	if (size != zcs_bundle_size(h.key_count))
		abort();
	if (h.key_count > MAX_RECORDS)
		return; /* bigger than this target's buffer: the parser's part is done */
	if (zcs_bundle_open(plain, err, sizeof(err), &h, data, size, recipient) != 0)
		return;
	for (i = 0; i < h.key_count; i++) {
		a = zcs_bundle_rec_account(plain + i * ZCS_BUNDLE_REC_LEN);
		if ((i > 0 && a <= prev) || zcs_shard_of(a, h.shard_count) != h.shard_id)
			abort();
		prev = a;
	}
}

/* Property 2: seal and open round-trip exactly the records that are in order. */
static void
round_trip(const uint8_t *data, size_t size)
{
	static uint8_t plain[MAX_RECORDS * ZCS_BUNDLE_REC_LEN];
	struct zcs_bundle_hdr h, p;
	uint32_t n = (uint32_t)(size / ZCS_BUNDLE_REC_LEN), i;
	uint8_t *sealed;
	char err[256];
	size_t len;
	int ascending = 1, rc;

	if (n > MAX_RECORDS)
		n = MAX_RECORDS;
	for (i = 1; i < n; i++)
		ascending &= zcs_bundle_rec_account(data + i * ZCS_BUNDLE_REC_LEN) >
			zcs_bundle_rec_account(data + (i - 1) * ZCS_BUNDLE_REC_LEN);
	memset(&h, 0, sizeof(h));
	h.purpose = ZCS_BUNDLE_AT_REST;
	h.shard_id = 0;
	h.shard_count = 1; /* every account belongs to the one shard */
	h.key_count = n;
	h.generation = 1;
	if (zcs_bundle_seal(&sealed, &len, err, sizeof(err), &h, recipient_pub, data) != 0)
		abort();
	if (zcs_bundle_parse(&p, err, sizeof(err), sealed, len) != 0)
		abort();
	rc = zcs_bundle_open(plain, err, sizeof(err), &p, sealed, len, recipient);
	if ((rc == 0) != ascending ||
		(rc == 0 && memcmp(plain, data, (size_t)n * ZCS_BUNDLE_REC_LEN) != 0))
		abort();
	free(sealed);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	open_as_bundle(data, size);
	round_trip(data, size);
	return 0;
}
