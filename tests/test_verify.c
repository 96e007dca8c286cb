/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * verify/verify.c: a manifest from the real zcsign-keygen loads and matches its
 * key files; every malformed manifest is refused with a message naming the
 * file and the line or account; zcs_verify() accepts signatures of each
 * algorithm made here with libsecp256k1 and names the reason for each bad one
 * (tampered, high S, wrong or misplaced recid, wrong key, bad key, bad algo).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include <secp256k1.h>
#include <secp256k1_extrakeys.h>
#include <secp256k1_recovery.h>
#include <secp256k1_schnorrsig.h>

#include <zcsign/shard.h>
#include <zcsign/wire.h>

#include "hex.h"
#include "proc_util.h"
#include "secp_util.h"
#include "verify.h"

#define NKEYS 3
#define KEYGEN_ACCOUNTS 50
#define KEYGEN_SHARDS 4

struct fixture {
	char dir[64];
	secp256k1_context *ctx;
	uint8_t seckey[NKEYS][32];
	struct zcs_manifest_account acct[NKEYS]; /* accounts 7, 8, 9 of one shard */
	struct zcs_manifest m; /* those three, written as a manifest and loaded */
	int files; /* manifests written so far: each gets a fresh name */
};

static struct fixture the_fx;

/* One account line as keygen writes it (no trailing comma). */
static void
account_json(char *out, size_t len, const struct zcs_manifest_account *a)
{
	char pub[67], xonly[65];

	zcs_hex_encode(a->pubkey, 33, pub);
	zcs_hex_encode(a->xonly, 32, xonly);
	snprintf(out, len,
		"{\"account\":%" PRIu64 ",\"shard\":%" PRIu32
		",\"pubkey\":\"%s\",\"xonly\":\"%s\"}",
		a->account, a->shard, pub, xonly);
}

/* Write text to a fresh file in the fixture's dir; path[PATH_MAX] gets its name. */
static void
write_text(struct fixture *f, char *path, const char *text)
{
	char name[32];

	snprintf(name, sizeof(name), "m%d.json", f->files++);
	assert_int_equal(proc_path(path, PATH_MAX, f->dir, name), 0);
	assert_int_equal(proc_write_file(path, text, strlen(text), 0644), 0);
}

/* The fixture's three accounts as keygen would write them. */
static void
good_manifest(const struct fixture *f, char *out, size_t len)
{
	char line[256];
	int i;

	snprintf(out, len, "{\"version\":1,\"shards\":1,\"accounts\":[\n");
	for (i = 0; i < NKEYS; i++) {
		account_json(line, sizeof(line), &f->acct[i]);
		strcat(out, line);
		strcat(out, i + 1 < NKEYS ? ",\n" : "\n");
	}
	strcat(out, "]}\n");
}

static int
setup(void **state)
{
	struct fixture *f = &the_fx;
	char text[2048], path[PATH_MAX], err[256];
	int i;

	*state = f;
	f->ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
	if (f->ctx == NULL || proc_tmpdir(f->dir, sizeof(f->dir), "verify") != 0)
		return -1;
	/* Fixed keys: ECDSA is deterministic (RFC 6979), so every case below is too. */
	for (i = 0; i < NKEYS; i++) {
		secp256k1_pubkey pub;
		secp256k1_keypair kp;
		secp256k1_xonly_pubkey xpub;
		size_t len = 33;

		memset(f->seckey[i], 0x11 * (i + 1), 32);
		f->acct[i].account = 7 + (uint64_t)i;
		f->acct[i].shard = 0;
		if (!secp256k1_ec_pubkey_create(f->ctx, &pub, f->seckey[i]) ||
			!secp256k1_ec_pubkey_serialize(
				f->ctx, f->acct[i].pubkey, &len, &pub, SECP256K1_EC_COMPRESSED) ||
			!secp256k1_keypair_create(f->ctx, &kp, f->seckey[i]) ||
			!secp256k1_keypair_xonly_pub(f->ctx, &xpub, NULL, &kp) ||
			!secp256k1_xonly_pubkey_serialize(f->ctx, f->acct[i].xonly, &xpub))
			return -1;
	}
	good_manifest(f, text, sizeof(text));
	snprintf(path, sizeof(path), "%s/good.json", f->dir);
	if (proc_write_file(path, text, strlen(text), 0644) != 0 ||
		zcs_manifest_load(&f->m, err, sizeof(err), path) != 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	zcs_manifest_free(&f->m);
	secp256k1_context_destroy(f->ctx);
	return proc_rmtree(f->dir);
}

/*
 * Every key line of a keygen key file: the manifest holds that account in
 * that shard, with the public keys of that secret, and a signature of each
 * algorithm with the secret verifies against the manifest entry.
 */
static size_t
check_key_file(struct fixture *f, const struct zcs_manifest *m, const char *path, uint32_t shard)
{
	static char text[1 << 16];
	const char *line;
	size_t n = 0;

	assert_true(proc_read_file(path, text, sizeof(text)) > 0);
	for (line = text; *line != '\0'; line = strchr(line, '\n') + 1) {
		const struct zcs_manifest_account *a;
		uint8_t sk[32], hash[32], sig[64];
		secp256k1_ecdsa_signature es;
		secp256k1_keypair kp;
		secp256k1_pubkey pub;
		uint8_t ser[33];
		size_t len = sizeof(ser);
		char hex[65];
		uint64_t account;

		assert_non_null(strchr(line, '\n'));
		if (sscanf(line, "%" SCNu64 " %64[0-9a-f]\n", &account, hex) != 2)
			continue; /* comment or header */
		a = zcs_manifest_find(m, account);
		assert_non_null(a);
		assert_int_equal(a->account, account);
		assert_int_equal(a->shard, shard);
		assert_int_equal(zcs_hex_decode(hex, 32, sk), 0);
		assert_true(secp256k1_ec_pubkey_create(f->ctx, &pub, sk));
		assert_true(secp256k1_ec_pubkey_serialize(
			f->ctx, ser, &len, &pub, SECP256K1_EC_COMPRESSED));
		assert_memory_equal(ser, a->pubkey, 33);

		memset(hash, (int)account, sizeof(hash));
		assert_true(secp256k1_ecdsa_sign(f->ctx, &es, hash, sk, NULL, NULL));
		assert_true(secp256k1_ecdsa_signature_serialize_compact(f->ctx, sig, &es));
		assert_int_equal(
			zcs_verify(f->ctx, ZCS_ALGO_ECDSA, hash, sig, 0, a), ZCS_VERIFY_OK);
		assert_true(secp256k1_keypair_create(f->ctx, &kp, sk));
		assert_true(secp256k1_schnorrsig_sign32(f->ctx, sig, hash, &kp, NULL));
		assert_int_equal(
			zcs_verify(f->ctx, ZCS_ALGO_SCHNORR, hash, sig, 0, a), ZCS_VERIFY_OK);
		n++;
	}
	return n;
}

static void
keygen_manifest_loads(void **state)
{
	struct fixture *f = *state;
	char dir[PATH_MAX], path[PATH_MAX], name[32], err[256];
	struct zcs_manifest m;
	size_t i, keys = 0;
	uint32_t s;

	assert_int_equal(proc_path(dir, sizeof(dir), f->dir, "keygen"), 0);
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(proc_keygen(dir, KEYGEN_ACCOUNTS, KEYGEN_SHARDS), 0);
	assert_int_equal(proc_path(path, sizeof(path), dir, "manifest.json"), 0);
	if (zcs_manifest_load(&m, err, sizeof(err), path) != 0)
		fail_msg("%s", err);
	assert_int_equal(m.shards, KEYGEN_SHARDS);
	assert_int_equal(m.count, KEYGEN_ACCOUNTS);
	/* Sorted, accounts 1..N (keygen's default first account), each findable. */
	for (i = 0; i < m.count; i++) {
		assert_int_equal(m.accounts[i].account, i + 1);
		assert_ptr_equal(zcs_manifest_find(&m, i + 1), &m.accounts[i]);
		assert_int_equal(m.accounts[i].shard, zcs_shard_of(i + 1, KEYGEN_SHARDS));
	}
	assert_null(zcs_manifest_find(&m, 0));
	assert_null(zcs_manifest_find(&m, KEYGEN_ACCOUNTS + 1));
	assert_null(zcs_manifest_find(&m, UINT64_MAX));
	/* And it describes the secret keys keygen wrote, shard by shard. */
	for (s = 0; s < KEYGEN_SHARDS; s++) {
		snprintf(name, sizeof(name), "shard-%" PRIu32 ".keys", s);
		assert_int_equal(proc_path(path, sizeof(path), dir, name), 0);
		keys += check_key_file(f, &m, path, s);
	}
	assert_int_equal(keys, KEYGEN_ACCOUNTS);
	zcs_manifest_free(&m);
	assert_null(m.accounts);
	assert_int_equal(m.count, 0);
	zcs_manifest_free(&m); /* twice is harmless */
}

/* Any JSON layout of the same content loads the same: keygen's line layout is not required. */
static void
other_layout_loads(void **state)
{
	struct fixture *f = *state;
	char text[2048], pub[67], xonly[65], path[PATH_MAX], err[256];
	struct zcs_manifest m;
	size_t i;

	zcs_hex_encode(f->acct[1].pubkey, 33, pub);
	zcs_hex_encode(f->acct[1].xonly, 32, xonly);
	for (i = 0; pub[i] != '\0'; i++)
		if (pub[i] >= 'a')
			pub[i] = (char)(pub[i] - 'a' + 'A');
	/* Fields reordered, blanks and CRLF everywhere, upper-case hex. */
	snprintf(text, sizeof(text),
		"\r\n{ \"accounts\" : [ {\r\n\t\"xonly\" : \"%s\",\r\n\t\"pubkey\": \"%s\",\r\n"
		"\t\"shard\": 0, \"account\": 8 } ] ,\r\n \"shards\":1, \"version\" :1 }\r\n",
		xonly, pub);
	write_text(f, path, text);
	if (zcs_manifest_load(&m, err, sizeof(err), path) != 0)
		fail_msg("%s\n%s", err, text);
	assert_int_equal(m.count, 1);
	assert_int_equal(m.shards, 1);
	assert_memory_equal(&m.accounts[0], &f->acct[1], sizeof(m.accounts[0]));
	zcs_manifest_free(&m);

	/* The fixture's own manifest: each account as written. */
	assert_int_equal(f->m.count, NKEYS);
	for (i = 0; i < NKEYS; i++)
		assert_memory_equal(zcs_manifest_find(&f->m, f->acct[i].account), &f->acct[i],
			sizeof(f->acct[i]));

	/* Accounts out of order (9, 7, 8) come out sorted, each findable. */
	{
		char l7[256], l8[256], l9[256];

		account_json(l7, sizeof(l7), &f->acct[0]);
		account_json(l8, sizeof(l8), &f->acct[1]);
		account_json(l9, sizeof(l9), &f->acct[2]);
		snprintf(text, sizeof(text),
			"{\"version\":1,\"shards\":1,\"accounts\":[\n%s,\n%s,\n%s\n]}\n", l9, l7,
			l8);
	}
	write_text(f, path, text);
	if (zcs_manifest_load(&m, err, sizeof(err), path) != 0)
		fail_msg("%s", err);
	assert_int_equal(m.count, NKEYS);
	for (i = 0; i < NKEYS; i++) {
		assert_int_equal(m.accounts[i].account, 7 + i);
		assert_memory_equal(zcs_manifest_find(&m, 7 + i), &f->acct[i], sizeof(f->acct[i]));
	}
	assert_null(zcs_manifest_find(&m, 6));
	assert_null(zcs_manifest_find(&m, 10));
	zcs_manifest_free(&m);
}

/*
 * Load text; it must be refused with rc, the manifest left zeroed, and a
 * one-line message starting with "<path>:<line>: " (line 0: "<path>: ")
 * containing want.
 */
static void
expect_refused(struct fixture *f, const char *text, int rc, int line, const char *want)
{
	struct zcs_manifest m, zero = {0};
	char path[PATH_MAX], err[512];

	write_text(f, path, text);
	memset(&m, 0xa5, sizeof(m));
	assert_int_equal(zcs_manifest_load(&m, err, sizeof(err), path), rc);
	assert_memory_equal(&m, &zero, sizeof(m));
	if (!proc_err_names(err, path, line, want))
		fail_msg("message '%s' is not one line naming %s:%d and '%s'", err, path, line,
			want);
}

/* The good manifest with the first occurrence of from replaced by to. */
static void
edited(const struct fixture *f, char *out, size_t len, const char *from, const char *to)
{
	char good[2048];
	const char *p;

	good_manifest(f, good, sizeof(good));
	p = strstr(good, from);
	assert_non_null(p);
	snprintf(out, len, "%.*s%s%s", (int)(p - good), good, to, p + strlen(from));
}

static void
malformed_refused(void **state)
{
	struct fixture *f = *state;
	char good[2048], text[2048], pub[67], xonly[65], field[96];
	size_t len;

	good_manifest(f, good, sizeof(good));
	len = strlen(good);
	zcs_hex_encode(f->acct[0].pubkey, 33, pub);

	/* Truncated: in the middle of account 8 (line 3), and after the last account. */
	snprintf(text, sizeof(text), "%.*s",
		(int)(strchr(strstr(good, "\"account\":8"), 'p') - good), good);
	expect_refused(f, text, -EINVAL, 3, "truncated");
	snprintf(text, sizeof(text), "%.*s", (int)(len - 3), good);
	expect_refused(f, text, -EINVAL, 5, "truncated");
	expect_refused(f, "", -EINVAL, 1, "truncated");
	expect_refused(f,
		"{\"version\":1,\"shards\":1,\"accounts\":[\n{\"account\":7,\"shard\":0,"
		"\"pubkey\":\"02",
		-EINVAL, 2, "truncated");

	/* Bad hex: a non-digit, one digit short, one too many. */
	snprintf(field, sizeof(field), "%s", pub);
	field[40] = 'g';
	edited(f, text, sizeof(text), pub, field);
	expect_refused(f, text, -EINVAL, 2, "account 7: \"pubkey\": character 41 is not a hex");
	snprintf(field, sizeof(field), "%.65s", pub);
	edited(f, text, sizeof(text), pub, field);
	expect_refused(f, text, -EINVAL, 2, "\"pubkey\" must be 66 hex digits, got 65");
	snprintf(field, sizeof(field), "%s0", pub);
	edited(f, text, sizeof(text), pub, field);
	expect_refused(f, text, -EINVAL, 2, "got 67 characters");

	/* Missing, repeated and unknown fields. */
	edited(f, text, sizeof(text), ",\"xonly\":\"", ",\"spare\":\"");
	expect_refused(f, text, -EINVAL, 2, "account 7: unknown field \"spare\"");
	zcs_hex_encode(f->acct[0].xonly, 32, xonly);
	snprintf(field, sizeof(field), ",\"xonly\":\"%s\"", xonly);
	edited(f, text, sizeof(text), field, "");
	expect_refused(f, text, -EINVAL, 2, "account 7: missing \"xonly\"");
	edited(f, text, sizeof(text), "{\"account\":8,", "{");
	expect_refused(f, text, -EINVAL, 3, "missing \"account\"");
	edited(f, text, sizeof(text), "\"shard\":0,", "\"shard\":0,\"shard\":0,");
	expect_refused(f, text, -EINVAL, 2, "account 7: \"shard\" appears twice");
	edited(f, text, sizeof(text), "\"shards\":1,", "");
	expect_refused(f, text, -EINVAL, 5, "missing \"shards\"");
	edited(f, text, sizeof(text), "{\"version\":1,", "{");
	expect_refused(f, text, -EINVAL, 5, "missing \"version\"");
	edited(f, text, sizeof(text), "\"shards\":1,", "\"shards\":1,\"owner\":\"ops\",");
	expect_refused(f, text, -EINVAL, 1, "unknown field \"owner\"");

	/* Values out of range. */
	edited(f, text, sizeof(text), "\"version\":1", "\"version\":2");
	expect_refused(f, text, -EINVAL, 1, "version 2");
	edited(f, text, sizeof(text), "\"shards\":1", "\"shards\":0");
	expect_refused(f, text, -EINVAL, 1, "\"shards\" must be 1..256");
	edited(f, text, sizeof(text), "\"account\":7", "\"account\":99999999999999999999");
	expect_refused(f, text, -EINVAL, 2, "does not fit 64 bits");
	edited(f, text, sizeof(text), "\"account\":7", "\"account\":-7");
	expect_refused(f, text, -EINVAL, 2, "unsigned integer");
	edited(f, text, sizeof(text), "\"account\":7", "\"account\":07");
	expect_refused(f, text, -EINVAL, 2, "leading zero");
	edited(f, text, sizeof(text), "\"account\":7", "\"account\":7.5");
	expect_refused(f, text, -EINVAL, 2, "unsigned integer");

	/* JSON we do not read. */
	edited(f, text, sizeof(text), "\"version\"", "\"ver\\u0073ion\"");
	expect_refused(f, text, -EINVAL, 1, "escape");
	edited(f, text, sizeof(text), "]}\n", "]}\n{}\n");
	expect_refused(f, text, -EINVAL, 6, "text after the manifest");
	edited(f, text, sizeof(text), "},\n{\"account\":8", "}\n{\"account\":8");
	expect_refused(f, text, -EINVAL, 3, "',' or ']'");

	/* Content checks across fields and accounts: named by account. */
	edited(f, text, sizeof(text), "\"shard\":0", "\"shard\":1");
	expect_refused(f, text, -EINVAL, 0,
		"account 7: shard 1, but zcs_shard_of() puts it in shard 0 of 1");
	edited(f, text, sizeof(text), "\"account\":9", "\"account\":7");
	expect_refused(f, text, -EINVAL, 0, "account 7 appears twice");
	snprintf(field, sizeof(field), "%s", pub);
	field[10] = field[10] == '0' ? '1' : '0';
	edited(f, text, sizeof(text), pub, field);
	expect_refused(f, text, -EINVAL, 2, "account 7: \"xonly\" is not the x coordinate");
}

static void
missing_file_refused(void **state)
{
	struct fixture *f = *state;
	struct zcs_manifest m;
	char path[PATH_MAX], err[512];

	assert_int_equal(proc_path(path, sizeof(path), f->dir, "none.json"), 0);
	assert_int_equal(zcs_manifest_load(&m, err, sizeof(err), path), -ENOENT);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "No such file"));
	assert_int_equal(zcs_manifest_load(&m, err, sizeof(err), f->dir), -EINVAL);
	assert_non_null(strstr(err, "not a regular file"));
}

/* A signature of algo by key k over hash, made with libsecp256k1; *recid for recoverable. */
static void
sign_with(const struct fixture *f, int k, unsigned int algo, const uint8_t hash[32],
	uint8_t sig[64], unsigned int *recid)
{
	secp256k1_ecdsa_recoverable_signature rs;
	secp256k1_ecdsa_signature es;
	secp256k1_keypair kp;
	int r = 0;

	*recid = 0;
	if (algo == ZCS_ALGO_SCHNORR) {
		assert_true(secp256k1_keypair_create(f->ctx, &kp, f->seckey[k]));
		/* No aux randomness: deterministic, like the rest of this test. */
		assert_true(secp256k1_schnorrsig_sign32(f->ctx, sig, hash, &kp, NULL));
	} else if (algo == ZCS_ALGO_ECDSA) {
		assert_true(secp256k1_ecdsa_sign(f->ctx, &es, hash, f->seckey[k], NULL, NULL));
		assert_true(secp256k1_ecdsa_signature_serialize_compact(f->ctx, sig, &es));
	} else {
		assert_true(secp256k1_ecdsa_sign_recoverable(
			f->ctx, &rs, hash, f->seckey[k], NULL, NULL));
		assert_true(secp256k1_ecdsa_recoverable_signature_serialize_compact(
			f->ctx, sig, &r, &rs));
		*recid = (unsigned int)r;
	}
}

static void
good_signatures_verify(void **state)
{
	struct fixture *f = *state;
	unsigned int algo, recid, i;
	uint8_t hash[32], sig[64];
	int k;

	for (k = 0; k < NKEYS; k++) {
		const struct zcs_manifest_account *a = zcs_manifest_find(&f->m, f->acct[k].account);

		assert_non_null(a);
		for (i = 0; i < SECP_EDGE_HASHES + 2; i++) {
			if (i < SECP_EDGE_HASHES)
				secp_edge_hash(i, hash);
			else
				memset(hash, 0x5c + (int)i, sizeof(hash));
			for (algo = ZCS_ALGO_ECDSA; algo <= ZCS_ALGO_SCHNORR; algo++) {
				sign_with(f, k, algo, hash, sig, &recid);
				assert_int_equal(zcs_verify(f->ctx, algo, hash, sig, recid, a),
					ZCS_VERIFY_OK);
			}
		}
	}
}

static void
bad_signatures_refused(void **state)
{
	struct fixture *f = *state;
	const struct zcs_manifest_account *a = zcs_manifest_find(&f->m, 7);
	const struct zcs_manifest_account *other = zcs_manifest_find(&f->m, 8);
	struct zcs_manifest_account broken;
	uint8_t hash[32], sig[64], bad[64];
	unsigned int algo, recid;

	assert_non_null(a);
	assert_non_null(other);
	memset(hash, 0x42, sizeof(hash));
	for (algo = ZCS_ALGO_ECDSA; algo <= ZCS_ALGO_SCHNORR; algo++) {
		sign_with(f, 0, algo, hash, sig, &recid);
		assert_int_equal(zcs_verify(f->ctx, algo, hash, sig, recid, a), ZCS_VERIFY_OK);
		/* A flipped bit in r (or R.x), in s, in the hash. */
		memcpy(bad, sig, 64);
		bad[9] ^= 0x04;
		assert_int_equal(zcs_verify(f->ctx, algo, hash, bad, recid, a), ZCS_VERIFY_INVALID);
		memcpy(bad, sig, 64);
		bad[50] ^= 0x01;
		assert_int_equal(zcs_verify(f->ctx, algo, hash, bad, recid, a), ZCS_VERIFY_INVALID);
		hash[31] ^= 0x80;
		assert_int_equal(zcs_verify(f->ctx, algo, hash, sig, recid, a), ZCS_VERIFY_INVALID);
		hash[31] ^= 0x80;
		/* Another account's key. */
		assert_int_equal(
			zcs_verify(f->ctx, algo, hash, sig, recid, other), ZCS_VERIFY_INVALID);
		/* Not a ZCS_ALGO_*. */
		assert_int_equal(zcs_verify(f->ctx, 0, hash, sig, recid, a), ZCS_VERIFY_BAD_ALGO);
		assert_int_equal(zcs_verify(f->ctx, 4, hash, sig, recid, a), ZCS_VERIFY_BAD_ALGO);
		assert_int_equal(
			zcs_verify(f->ctx, 0x100 | algo, hash, sig, recid, a), ZCS_VERIFY_BAD_ALGO);
		/* r (or R.x) all ones: >= n and >= p, no signature at all. */
		memcpy(bad, sig, 64);
		memset(bad, 0xff, 32);
		assert_int_equal(zcs_verify(f->ctx, algo, hash, bad, recid, a),
			algo == ZCS_ALGO_SCHNORR ? ZCS_VERIFY_INVALID : ZCS_VERIFY_BAD_SIG);
	}

	/*
	 * High S: the same ECDSA signature with s replaced by n - s is valid in
	 * plain math, but the protocol promises low S (malleability).
	 */
	sign_with(f, 0, ZCS_ALGO_ECDSA, hash, sig, &recid);
	memcpy(bad, sig, 64);
	secp_negate_mod_n(bad + 32);
	assert_memory_not_equal(bad + 32, sig + 32, 32);
	assert_int_equal(zcs_verify(f->ctx, ZCS_ALGO_ECDSA, hash, bad, 0, a), ZCS_VERIFY_HIGH_S);
	secp_negate_mod_n(bad + 32); /* and back: n - (n - s) = s */
	assert_memory_equal(bad, sig, 64);
	sign_with(f, 0, ZCS_ALGO_ECDSA_RECOVERABLE, hash, sig, &recid);
	memcpy(bad, sig, 64);
	secp_negate_mod_n(bad + 32);
	assert_int_equal(zcs_verify(f->ctx, ZCS_ALGO_ECDSA_RECOVERABLE, hash, bad, recid ^ 1, a),
		ZCS_VERIFY_HIGH_S);

	/* Recovery ids: the other parity recovers another key; 4 and up do not exist. */
	assert_int_equal(zcs_verify(f->ctx, ZCS_ALGO_ECDSA_RECOVERABLE, hash, sig, recid ^ 1, a),
		ZCS_VERIFY_RECOVER);
	assert_int_equal(zcs_verify(f->ctx, ZCS_ALGO_ECDSA_RECOVERABLE, hash, sig, 4, a),
		ZCS_VERIFY_BAD_RECID);
	assert_int_equal(zcs_verify(f->ctx, ZCS_ALGO_ECDSA_RECOVERABLE, hash, sig, 255, a),
		ZCS_VERIFY_BAD_RECID);
	/* A recid with an algorithm that has none: the reply would be malformed. */
	sign_with(f, 0, ZCS_ALGO_ECDSA, hash, sig, &recid);
	assert_int_equal(zcs_verify(f->ctx, ZCS_ALGO_ECDSA, hash, sig, 0, a), ZCS_VERIFY_OK);
	assert_int_equal(zcs_verify(f->ctx, ZCS_ALGO_ECDSA, hash, sig, 1, a), ZCS_VERIFY_BAD_RECID);
	sign_with(f, 0, ZCS_ALGO_SCHNORR, hash, sig, &recid);
	assert_int_equal(
		zcs_verify(f->ctx, ZCS_ALGO_SCHNORR, hash, sig, 1, a), ZCS_VERIFY_BAD_RECID);

	/* A manifest key that is no point: refused as a bad key, not as a bad signature. */
	broken = *a;
	broken.pubkey[0] = 0x05;
	sign_with(f, 0, ZCS_ALGO_ECDSA, hash, sig, &recid);
	assert_int_equal(
		zcs_verify(f->ctx, ZCS_ALGO_ECDSA, hash, sig, 0, &broken), ZCS_VERIFY_BAD_KEY);
	memset(broken.xonly, 0xff, sizeof(broken.xonly)); /* x >= p */
	sign_with(f, 0, ZCS_ALGO_SCHNORR, hash, sig, &recid);
	assert_int_equal(
		zcs_verify(f->ctx, ZCS_ALGO_SCHNORR, hash, sig, 0, &broken), ZCS_VERIFY_BAD_KEY);
}

static void
strerror_names_each(void **state)
{
	static const int results[] = {ZCS_VERIFY_OK, ZCS_VERIFY_BAD_KEY, ZCS_VERIFY_BAD_SIG,
		ZCS_VERIFY_HIGH_S, ZCS_VERIFY_INVALID, ZCS_VERIFY_RECOVER, ZCS_VERIFY_BAD_RECID,
		ZCS_VERIFY_BAD_ALGO};
	size_t i, j, n = sizeof(results) / sizeof(results[0]);

	(void)state;
	for (i = 0; i < n; i++) {
		const char *s = zcs_verify_strerror(results[i]);

		assert_non_null(s);
		assert_true(strlen(s) > 0);
		assert_string_not_equal(s, zcs_verify_strerror(-99));
		for (j = 0; j < i; j++)
			assert_string_not_equal(s, zcs_verify_strerror(results[j]));
	}
	assert_string_equal(zcs_verify_strerror(ZCS_VERIFY_INVALID), "invalid");
	assert_string_equal(zcs_verify_strerror(ZCS_VERIFY_HIGH_S), "high S");
	assert_non_null(zcs_verify_strerror(1));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(keygen_manifest_loads),
		cmocka_unit_test(other_layout_loads),
		cmocka_unit_test(malformed_refused),
		cmocka_unit_test(missing_file_refused),
		cmocka_unit_test(good_signatures_verify),
		cmocka_unit_test(bad_signatures_refused),
		cmocka_unit_test(strerror_names_each),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
