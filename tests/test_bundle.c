/* SPDX-License-Identifier: BSD-3-Clause */
#define _GNU_SOURCE /* memmem */
/*
 * keys/bundle.c and the key store's merge: a bundle opens only with its
 * recipient's key and only whole (truncated, extended or altered anywhere is
 * refused, naming the problem); records are checked; the operator's private
 * key file must be private; zcsign-keygen's sealed output opens to the keys of
 * its manifest and writes no plaintext; a merge adds, rotates and keeps the
 * old store intact.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include <zcsign/shard.h>
#include <zcsign/wire.h>

#include "bundle.h"
#include "hex.h"
#include "keystore.h"
#include "proc_util.h"
#include "secp_util.h"
#include "verify.h"

static char tmpdir[64];
static secp256k1_context *ctx;
static EVP_PKEY *recipient;
static uint8_t recipient_pub[ZCS_BUNDLE_PUB_LEN];

static int
setup(void **state)
{
	(void)state;
	if (secp_tmp_setup(&ctx, tmpdir, sizeof(tmpdir), "bundle") != 0 ||
		zcs_secure_heap_init() != 0)
		return -1;
	recipient = zcs_bundle_key_new();
	return recipient != NULL && zcs_bundle_key_pub(recipient, recipient_pub) == 0 ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	EVP_PKEY_free(recipient);
	return secp_tmp_teardown(ctx, tmpdir);
}

/* n records of shard id/count, accounts ascending from first, fresh valid secrets. */
static uint8_t *
make_records(uint32_t n, uint16_t id, uint16_t count, uint64_t first)
{
	uint8_t *rec = zcs_secure_alloc(n ? (size_t)n * ZCS_BUNDLE_REC_LEN : 1);
	uint64_t a = first;
	uint32_t i;

	assert_non_null(rec);
	for (i = 0; i < n; i++, a++) {
		uint8_t *r = rec + (size_t)i * ZCS_BUNDLE_REC_LEN;
		uint64_t le;

		while (zcs_shard_of(a, count) != id)
			a++;
		le = htole64(a);
		memcpy(r, &le, 8);
		secp_random_seckey(ctx, r + 8);
	}
	return rec;
}

/* A bundle of recs sealed to the test's recipient. */
static uint8_t *
seal(size_t *len, const uint8_t *recs, uint32_t n, uint16_t id, uint16_t count, uint64_t gen)
{
	struct zcs_bundle_hdr h;
	uint8_t *out = NULL;
	char err[200];

	memset(&h, 0, sizeof(h));
	h.purpose = ZCS_BUNDLE_AT_REST;
	h.shard_id = id;
	h.shard_count = count;
	h.key_count = n;
	h.generation = gen;
	assert_int_equal(zcs_bundle_seal(&out, len, err, sizeof(err), &h, recipient_pub, recs), 0);
	assert_int_equal(*len, zcs_bundle_size(n));
	return out;
}

/* Parse then open; 0, or the first refusal with its message in err. */
static int
parse_open(uint8_t *plain, char *err, size_t errlen, const uint8_t *buf, size_t len, EVP_PKEY *k)
{
	struct zcs_bundle_hdr h;
	int rc = zcs_bundle_parse(&h, err, errlen, buf, len);

	return rc != 0 ? rc : zcs_bundle_open(plain, err, errlen, &h, buf, len, k);
}

static void
round_trip(void **state)
{
	uint8_t *recs = make_records(25, 1, 3, 100), *plain, *b;
	struct zcs_bundle_hdr h;
	char err[200];
	size_t len;

	(void)state;
	b = seal(&len, recs, 25, 1, 3, 7);
	plain = zcs_secure_alloc(25 * ZCS_BUNDLE_REC_LEN);
	assert_int_equal(zcs_bundle_parse(&h, err, sizeof(err), b, len), 0);
	assert_int_equal(h.purpose, ZCS_BUNDLE_AT_REST);
	assert_int_equal(h.shard_id, 1);
	assert_int_equal(h.shard_count, 3);
	assert_int_equal(h.key_count, 25);
	assert_true(h.generation == 7);
	assert_memory_equal(h.recipient_pub, recipient_pub, ZCS_BUNDLE_PUB_LEN);
	assert_int_equal(zcs_bundle_open(plain, err, sizeof(err), &h, b, len, recipient), 0);
	assert_memory_equal(plain, recs, 25 * ZCS_BUNDLE_REC_LEN);
	/* The ciphertext is not the plaintext. */
	assert_null(memmem(b, len, recs + 8, 32));
	/* Two seals of the same keys differ (fresh sender key and IV). */
	{
		size_t len2;
		uint8_t *b2 = seal(&len2, recs, 25, 1, 3, 7);

		assert_memory_not_equal(b + 32, b2 + 32, 32);
		assert_memory_not_equal(b + ZCS_BUNDLE_HDR_LEN, b2 + ZCS_BUNDLE_HDR_LEN, 40);
		free(b2);
	}
	/* An empty shard's bundle: header and tag only, still authenticated. */
	free(b);
	b = seal(&len, recs, 0, 2, 3, 8);
	assert_int_equal(len, ZCS_BUNDLE_HDR_LEN + ZCS_BUNDLE_TAG_LEN);
	assert_int_equal(parse_open(plain, err, sizeof(err), b, len, recipient), 0);
	free(b);
	zcs_secure_free(plain, 25 * ZCS_BUNDLE_REC_LEN);
	zcs_secure_free(recs, 25 * ZCS_BUNDLE_REC_LEN);
}

/* Truncated, extended and altered bundles: each refused, named, nothing left in plain. */
static void
tampering_refused(void **state)
{
	const uint32_t n = 10;
	uint8_t *recs = make_records(n, 0, 1, 1), *b, *c, *plain;
	size_t len, i;
	char err[200];

	(void)state;
	b = seal(&len, recs, n, 0, 1, 1);
	plain = zcs_secure_alloc(n * ZCS_BUNDLE_REC_LEN);
	c = malloc(len + 64);
	assert_non_null(c);

	/* Cut at a record boundary (the failure the plaintext format had), by a byte, to a header.
	 */
	assert_int_equal(
		parse_open(plain, err, sizeof(err), b, len - ZCS_BUNDLE_REC_LEN, recipient),
		-EINVAL);
	assert_non_null(strstr(err, "truncated"));
	assert_non_null(strstr(err, "a bundle of 10 keys is 560"));
	assert_int_equal(parse_open(plain, err, sizeof(err), b, len - 1, recipient), -EINVAL);
	assert_non_null(strstr(err, "truncated"));
	assert_int_equal(parse_open(plain, err, sizeof(err), b, 100, recipient), -EINVAL);
	assert_non_null(strstr(err, "shorter than the 144-byte header"));
	/* Extended: a record's worth, or one byte. */
	memcpy(c, b, len);
	memcpy(c + len, b + ZCS_BUNDLE_HDR_LEN, ZCS_BUNDLE_REC_LEN);
	assert_int_equal(
		parse_open(plain, err, sizeof(err), c, len + ZCS_BUNDLE_REC_LEN, recipient),
		-EINVAL);
	assert_non_null(strstr(err, "extended"));
	/* A header that claims one key fewer, to match a cut file: the tag catches it. */
	memcpy(c, b, len - ZCS_BUNDLE_REC_LEN);
	c[16] = (uint8_t)(n - 1);
	memcpy(c + len - ZCS_BUNDLE_REC_LEN - ZCS_BUNDLE_TAG_LEN, b + len - ZCS_BUNDLE_TAG_LEN,
		ZCS_BUNDLE_TAG_LEN);
	assert_int_equal(
		parse_open(plain, err, sizeof(err), c, len - ZCS_BUNDLE_REC_LEN, recipient),
		-EBADMSG);
	assert_non_null(strstr(err, "not authentic"));
	/* One bit flipped anywhere but the recipient key: refused, and plain holds no key byte. */
	for (i = 0; i < len; i++) {
		int rc;

		if (i >= 64 && i < 96)
			continue; /* the recipient key: "sealed to another key", below */
		memcpy(c, b, len);
		c[i] ^= 0x10;
		memset(plain, 0xee, n * ZCS_BUNDLE_REC_LEN);
		rc = parse_open(plain, err, sizeof(err), c, len, recipient);
		if (rc == 0)
			fail_msg("a bundle with byte %zu altered was accepted", i);
		if (i >= ZCS_BUNDLE_HDR_LEN && !strstr(err, "not authentic"))
			fail_msg("byte %zu altered: '%s' does not say not authentic", i, err);
		assert_null(memmem(plain, n * ZCS_BUNDLE_REC_LEN, recs + 8, 32));
	}
	memcpy(c, b, len);
	c[70] ^= 1;
	assert_int_equal(parse_open(plain, err, sizeof(err), c, len, recipient), -EKEYREJECTED);
	assert_non_null(strstr(err, "sealed to another key"));
	/* Another recipient's private key. */
	{
		EVP_PKEY *other = zcs_bundle_key_new();

		assert_int_equal(parse_open(plain, err, sizeof(err), b, len, other), -EKEYREJECTED);
		assert_non_null(strstr(err, "sealed to another key"));
		EVP_PKEY_free(other);
	}
	/* Not a bundle at all. */
	memcpy(c, b, len);
	c[0] = 'X';
	assert_int_equal(parse_open(plain, err, sizeof(err), c, len, recipient), -EINVAL);
	assert_non_null(strstr(err, "bad magic"));
	free(c);
	free(b);
	zcs_secure_free(plain, n * ZCS_BUNDLE_REC_LEN);
	zcs_secure_free(recs, n * ZCS_BUNDLE_REC_LEN);
}

/* Authentic bundles with bad records: out of order, duplicated, of another shard. */
static void
bad_records_refused(void **state)
{
	uint8_t *recs = make_records(3, 0, 2, 10), *plain, *b, tmp[ZCS_BUNDLE_REC_LEN];
	uint64_t le;
	size_t len;
	char err[200];

	(void)state;
	plain = zcs_secure_alloc(3 * ZCS_BUNDLE_REC_LEN);
	memcpy(tmp, recs, sizeof(tmp)); /* swap records 0 and 1 */
	memcpy(recs, recs + ZCS_BUNDLE_REC_LEN, sizeof(tmp));
	memcpy(recs + ZCS_BUNDLE_REC_LEN, tmp, sizeof(tmp));
	b = seal(&len, recs, 3, 0, 2, 1);
	assert_int_equal(parse_open(plain, err, sizeof(err), b, len, recipient), -EINVAL);
	assert_non_null(strstr(err, "record 1: account"));
	assert_non_null(strstr(err, "out of order"));
	free(b);
	memcpy(recs + ZCS_BUNDLE_REC_LEN, recs, 8); /* records 0 and 1: one account */
	b = seal(&len, recs, 3, 0, 2, 1);
	assert_int_equal(parse_open(plain, err, sizeof(err), b, len, recipient), -EINVAL);
	assert_non_null(strstr(err, "appears twice"));
	free(b);
	zcs_secure_free(recs, 3 * ZCS_BUNDLE_REC_LEN);
	recs = make_records(3, 0, 2, 10);
	le = zcs_bundle_rec_account(recs + 2 * ZCS_BUNDLE_REC_LEN) + 1;
	while (zcs_shard_of(le, 2) == 0)
		le++;
	le = htole64(le);
	memcpy(recs + 2 * ZCS_BUNDLE_REC_LEN, &le, 8);
	b = seal(&len, recs, 3, 0, 2, 1);
	assert_int_equal(parse_open(plain, err, sizeof(err), b, len, recipient), -EINVAL);
	assert_non_null(strstr(err, "belongs to shard 1, not 0"));
	assert_null(memmem(plain, 3 * ZCS_BUNDLE_REC_LEN, recs + 8, 32));
	free(b);
	zcs_secure_free(plain, 3 * ZCS_BUNDLE_REC_LEN);
	zcs_secure_free(recs, 3 * ZCS_BUNDLE_REC_LEN);
}

static void
operator_key_files(void **state)
{
	char prefix[128], path[160], err[300];
	uint8_t pub[ZCS_BUNDLE_PUB_LEN], pub2[ZCS_BUNDLE_PUB_LEN];
	struct stat st;
	EVP_PKEY *k;

	(void)state;
	snprintf(prefix, sizeof(prefix), "%s/op", tmpdir);
	assert_int_equal(zcs_bundle_key_write(prefix, recipient, err, sizeof(err)), 0);
	/* Never overwritten. */
	assert_int_equal(zcs_bundle_key_write(prefix, recipient, err, sizeof(err)), -EEXIST);
	snprintf(path, sizeof(path), "%s.key", prefix);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	k = zcs_bundle_key_load_private(path, err, sizeof(err));
	assert_non_null(k);
	assert_int_equal(zcs_bundle_key_pub(k, pub), 0);
	assert_memory_equal(pub, recipient_pub, sizeof(pub));
	EVP_PKEY_free(k);
	snprintf(path, sizeof(path), "%s.pub", prefix);
	assert_int_equal(zcs_bundle_key_load_public(pub2, err, sizeof(err), path), 0);
	assert_memory_equal(pub2, recipient_pub, sizeof(pub2));
	/* A private key others can read is refused, naming the file and the mode. */
	snprintf(path, sizeof(path), "%s.key", prefix);
	assert_int_equal(chmod(path, 0640), 0);
	assert_null(zcs_bundle_key_load_private(path, err, sizeof(err)));
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "mode 0640"));
	assert_int_equal(chmod(path, 0604), 0);
	assert_null(zcs_bundle_key_load_private(path, err, sizeof(err)));
	assert_non_null(strstr(err, "group/others"));
	/* The public file is no private key. */
	snprintf(path, sizeof(path), "%s.pub", prefix);
	assert_int_equal(chmod(path, 0600), 0);
	assert_null(zcs_bundle_key_load_private(path, err, sizeof(err)));
	assert_non_null(strstr(err, "not a PEM private key"));
}

/* Merge: accounts added, rotated (new secret), unchanged; the old store as it was. */
static void
merge_adds_and_rotates(void **state)
{
	struct zcs_keystore sealed, one, two;
	struct zcs_keystore_delta d;
	uint8_t *a = make_records(6, 0, 1, 1), *b = make_records(4, 0, 1, 4);
	uint8_t old_sec[32];
	char err[200];
	uint32_t i;

	(void)state;
	zcs_keystore_sealed(&sealed, 0, 1);
	assert_int_equal(sealed.source, ZCS_KEYS_SEALED);
	assert_int_equal(zcs_keystore_merge(&one, &d, &sealed, ctx, a, 6, 3, err, sizeof(err)), 0);
	assert_int_equal(one.count, 6);
	assert_int_equal(one.source, ZCS_KEYS_PROVISIONED);
	assert_true(one.generation == 3);
	assert_int_equal(d.added, 6);
	assert_int_equal(d.rotated, 0);
	/* b: accounts 4..7; 4 keeps its secret, 5 and 6 rotate, 7 is new. */
	memcpy(b + 8, a + 3 * ZCS_BUNDLE_REC_LEN + 8, 32);
	memcpy(old_sec, zcs_keystore_find(&one, 5)->seckey, 32);
	assert_int_equal(zcs_keystore_merge(&two, &d, &one, ctx, b, 4, 4, err, sizeof(err)), 0);
	assert_int_equal(two.count, 7);
	assert_int_equal(d.added, 1);
	assert_int_equal(d.rotated, 2);
	assert_int_equal(d.unchanged, 1);
	for (i = 1; i < two.count; i++)
		assert_true(two.keys[i - 1].account < two.keys[i].account);
	assert_memory_equal(zcs_keystore_find(&two, 5)->seckey, b + ZCS_BUNDLE_REC_LEN + 8, 32);
	assert_memory_equal(zcs_keystore_find(&two, 1)->seckey, a + 8, 32);
	/* The old store is untouched until its owner wipes it (the loop may still read it). */
	assert_int_equal(one.count, 6);
	assert_memory_equal(zcs_keystore_find(&one, 5)->seckey, old_sec, 32);
	/* An invalid secret refuses the whole merge. */
	memset(b + 2 * ZCS_BUNDLE_REC_LEN + 8, 0, 32);
	assert_int_equal(
		zcs_keystore_merge(&sealed, &d, &two, ctx, b, 4, 5, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "record 2 (account 6): not a valid"));
	assert_null(sealed.keys);
	zcs_keystore_wipe(&one);
	zcs_keystore_wipe(&two);
	zcs_secure_free(a, 6 * ZCS_BUNDLE_REC_LEN);
	zcs_secure_free(b, 4 * ZCS_BUNDLE_REC_LEN);
}

/* zcsign-keygen --operator-pub: bundles that open to the manifest's keys, no plaintext. */
static void
keygen_writes_sealed_bundles(void **state)
{
	char prog[PATH_MAX], out[160], pub[160], log[160], path[200], err[300];
	char *argv[] = {prog, "--accounts", "30", "--shards", "2", "--out", out, "--operator-pub",
		pub, "--generation", "42", NULL};
	struct zcs_manifest m;
	struct zcs_bundle_hdr h;
	struct zcs_keystore sealed, ks;
	struct zcs_keystore_delta d;
	uint8_t *buf, *plain;
	unsigned int s, found = 0;
	size_t len, i;

	(void)state;
	assert_int_equal(proc_build_path(prog, sizeof(prog), "enclave/zcsign-keygen"), 0);
	snprintf(out, sizeof(out), "%s/keys", tmpdir);
	snprintf(pub, sizeof(pub), "%s/op.pub", tmpdir);
	snprintf(log, sizeof(log), "%s/keygen.log", tmpdir);
	if (access(pub, F_OK) != 0) {
		snprintf(path, sizeof(path), "%s/op", tmpdir);
		assert_int_equal(zcs_bundle_key_write(path, recipient, err, sizeof(err)), 0);
	}
	assert_int_equal(proc_run(argv, log, log, PROC_START_MS), 0);
	snprintf(path, sizeof(path), "%s/manifest.json", out);
	assert_int_equal(zcs_manifest_load(&m, err, sizeof(err), path), 0);
	for (s = 0; s < 2; s++) {
		snprintf(path, sizeof(path), "%s/shard-%u.keys", out, s);
		assert_int_equal(access(path, F_OK), -1); /* no plaintext */
		snprintf(path, sizeof(path), "%s/shard-%u.bundle", out, s);
		assert_int_equal(zcs_bundle_read(&buf, &len, &h, err, sizeof(err), path), 0);
		assert_int_equal(h.shard_id, s);
		assert_int_equal(h.shard_count, 2);
		assert_true(h.generation == 42);
		plain = zcs_secure_alloc((size_t)h.key_count * ZCS_BUNDLE_REC_LEN + 1);
		assert_int_equal(
			zcs_bundle_open(plain, err, sizeof(err), &h, buf, len, recipient), 0);
		zcs_keystore_sealed(&sealed, (uint16_t)s, 2);
		assert_int_equal(zcs_keystore_merge(&ks, &d, &sealed, ctx, plain, h.key_count, 42,
					 err, sizeof(err)),
			0);
		/* Every key's public half is the manifest's. */
		for (i = 0; i < ks.count; i++) {
			const struct zcs_manifest_account *ma =
				zcs_manifest_find(&m, ks.keys[i].account);

			assert_non_null(ma);
			assert_int_equal(ma->shard, s);
			assert_memory_equal(ma->pubkey, ks.keys[i].pub_compressed, 33);
			found++;
		}
		zcs_keystore_wipe(&ks);
		zcs_secure_free(plain, (size_t)h.key_count * ZCS_BUNDLE_REC_LEN + 1);
		free(buf);
	}
	assert_int_equal(found, 30);
	zcs_manifest_free(&m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip),
		cmocka_unit_test(tampering_refused),
		cmocka_unit_test(bad_records_refused),
		cmocka_unit_test(operator_key_files),
		cmocka_unit_test(merge_adds_and_rotates),
		cmocka_unit_test(keygen_writes_sealed_bundles),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
