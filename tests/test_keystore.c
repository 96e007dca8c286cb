/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Key store: a good file loads with the right keys, and every bad file is
 * refused with the right errno and a one-line message naming file and line that
 * never quotes a secret. Secure memory is zeroed, locked, undumpable and wiped in
 * a forked child.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include <secp256k1_schnorrsig.h>
#include <zcsign/shard.h>

#include "hex.h"
#include "keystore.h"
#include "proc_util.h"
#include "secp_util.h"

/* Valid secret keys (1, 2, 3, and n - 1) and two invalid ones (0 and n). */
#define SK1 "0000000000000000000000000000000000000000000000000000000000000001"
#define SK2 "0000000000000000000000000000000000000000000000000000000000000002"
#define SK3 "c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00"
#define SKMAX "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364140"
#define SKZERO "0000000000000000000000000000000000000000000000000000000000000000"
#define SKN "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141"
/* A valid secret that must never show up in an error message. */
#define SKSECRET "5ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e7aaaa"

static char tmpdir[64];
static secp256k1_context *ctx;
static int file_seq;

static int
setup(void **state)
{
	(void)state;
	return secp_tmp_setup(&ctx, tmpdir, sizeof(tmpdir), "keystore");
}

static int
teardown(void **state)
{
	(void)state;
	return secp_tmp_teardown(ctx, tmpdir);
}

/* Write text to a fresh file in tmpdir with the given mode; returns its path. */
static const char *
write_keys(const char *text, mode_t mode)
{
	static char path[256];

	snprintf(path, sizeof(path), "%s/k%d.keys", tmpdir, file_seq++);
	assert_int_equal(proc_write_file(path, text, strlen(text), mode), 0);
	return path;
}

/* First account >= from that zcs_shard_of maps to shard, or (not) to it. */
static uint64_t
account_in(uint64_t from, uint32_t shard, uint32_t count, int want)
{
	while ((zcs_shard_of(from, count) == shard) != want)
		from++;
	return from;
}

static void
assert_pubkey_of(const struct zcs_key *k, const char *sk_hex)
{
	unsigned char sk[32], ser[33];
	secp256k1_pubkey pub;
	size_t len = sizeof(ser);

	assert_int_equal(zcs_hex_decode(sk_hex, 32, sk), 0);
	assert_memory_equal(k->seckey, sk, 32);
	assert_true(secp256k1_ec_pubkey_create(ctx, &pub, sk));
	assert_true(secp256k1_ec_pubkey_serialize(ctx, ser, &len, &pub, SECP256K1_EC_COMPRESSED));
	assert_memory_equal(k->pub_compressed, ser, 33);
	/* x-only key is the x coordinate of the same point */
	assert_memory_equal(k->pub_xonly, ser + 1, 32);
}

static int
contains_ci(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay != '\0'; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return 1;
	return 0;
}

/*
 * Load text (mode 0600 unless told), expect rc and a message naming the file,
 * the line (0 = no line), containing want, free of secrets, on one line.
 */
static void
expect_refused_mode(const char *text, mode_t mode, int rc, int line, const char *want)
{
	struct zcs_keystore ks, zero = {0};
	const char *path = write_keys(text, mode);
	char err[512];

	memset(&ks, 0xa5, sizeof(ks));
	assert_int_equal(zcs_keystore_load(&ks, ctx, path, err, sizeof(err)), rc);
	if (!proc_err_names(err, path, line, want))
		fail_msg("message '%s' is not one line naming %s:%d and '%s'", err, path, line,
			want);
	assert_false(contains_ci(err, SKSECRET));
	assert_false(contains_ci(err, "5ec2e75ec2e7"));
	/* a refused load leaves nothing behind */
	assert_memory_equal(&ks, &zero, sizeof(ks));
	zcs_keystore_wipe(&ks);
}

static void
expect_refused(const char *text, int rc, int line, const char *want)
{
	expect_refused_mode(text, 0600, rc, line, want);
}

static void
good_file_loads(void **state)
{
	uint64_t a = account_in(1, 1, 3, 1);
	uint64_t b = account_in(a + 1, 1, 3, 1);
	uint64_t c = account_in(b + 1, 1, 3, 1);
	uint64_t d = account_in(UINT64_MAX - 1000, 1, 3, 1);
	/* in shard 1, between the loaded accounts, but not in the file */
	uint64_t missing = account_in(c + 1, 1, 3, 1);
	struct zcs_keystore ks;
	char text[2048], err[256];
	const struct zcs_key *k;

	(void)state;
	/* out of order, comments, blank lines, tabs, CRLF and trailing blanks */
	snprintf(text, sizeof(text),
		"# secret\n\n  # indented comment\n"
		"zcsign-keys v1 shard=1 shards=3 keys=4\n"
		"%" PRIu64 " " SKMAX "\n"
		"%" PRIu64 "\t\t" SK3 "  \n"
		"\n# middle comment\n"
		"%" PRIu64 "   " SK1 "\r\n"
		"  %" PRIu64 " " SK2,
		d, c, a, b);
	assert_int_equal(zcs_keystore_load(&ks, ctx, write_keys(text, 0600), err, sizeof(err)), 0);
	assert_int_equal(ks.count, 4);
	assert_int_equal(ks.shard_id, 1);
	assert_int_equal(ks.shard_count, 3);
	assert_true(ks.map_len >= 4 * sizeof(struct zcs_key));
	for (uint32_t i = 1; i < ks.count; i++)
		assert_true(ks.keys[i - 1].account < ks.keys[i].account);

	k = zcs_keystore_find(&ks, a);
	assert_non_null(k);
	assert_true(k->account == a);
	assert_pubkey_of(k, SK1);
	assert_pubkey_of(zcs_keystore_find(&ks, b), SK2);
	assert_pubkey_of(zcs_keystore_find(&ks, c), SK3);
	assert_pubkey_of(zcs_keystore_find(&ks, d), SKMAX);
	assert_null(zcs_keystore_find(&ks, missing));
	assert_null(zcs_keystore_find(&ks, 0));
	assert_null(zcs_keystore_find(&ks, UINT64_MAX));
	zcs_keystore_wipe(&ks);
}

static void
keypair_signs_for_pubkey(void **state)
{
	uint64_t a = account_in(1, 0, 2, 1);
	struct zcs_keystore ks;
	secp256k1_xonly_pubkey xonly;
	unsigned char msg[32] = {1, 2, 3}, sig[64];
	char text[256], err[256];
	const struct zcs_key *k;

	(void)state;
	snprintf(text, sizeof(text),
		"zcsign-keys v1 shard=0 shards=2 keys=1\n%" PRIu64 " " SK3 "\n", a);
	assert_int_equal(zcs_keystore_load(&ks, ctx, write_keys(text, 0400), err, sizeof(err)), 0);
	k = zcs_keystore_find(&ks, a);
	assert_non_null(k);
	/* the BIP-340 keypair verifies against the stored x-only key */
	assert_true(secp256k1_schnorrsig_sign32(ctx, sig, msg, &k->keypair, NULL));
	assert_true(secp256k1_xonly_pubkey_parse(ctx, &xonly, k->pub_xonly));
	assert_true(secp256k1_schnorrsig_verify(ctx, sig, msg, sizeof(msg), &xonly));
	zcs_keystore_wipe(&ks);
}

static void
header_only_is_empty_set(void **state)
{
	struct zcs_keystore ks;
	char err[256];

	(void)state;
	assert_int_equal(
		zcs_keystore_load(&ks, ctx,
			write_keys("# none\nzcsign-keys v1 shard=2 shards=4 keys=0\n", 0600), err,
			sizeof(err)),
		0);
	assert_int_equal(ks.count, 0);
	assert_int_equal(ks.shard_id, 2);
	assert_int_equal(ks.shard_count, 4);
	assert_null(zcs_keystore_find(&ks, 1));
	zcs_keystore_wipe(&ks);
}

static void
wipe_zeroes_and_repeats(void **state)
{
	struct zcs_keystore ks, zero = {0};
	char text[256], err[256];

	(void)state;
	snprintf(text, sizeof(text), "zcsign-keys v1 shard=0 shards=1 keys=1\n7 " SK3 "\n");
	assert_int_equal(zcs_keystore_load(&ks, ctx, write_keys(text, 0600), err, sizeof(err)), 0);
	assert_non_null(ks.keys);
	zcs_keystore_wipe(&ks);
	assert_memory_equal(&ks, &zero, sizeof(ks));
	zcs_keystore_wipe(&ks);
	assert_memory_equal(&ks, &zero, sizeof(ks));
	assert_null(zcs_keystore_find(&ks, 7));
}

static void
group_or_world_access_refused(void **state)
{
	const char *text = "zcsign-keys v1 shard=0 shards=1 keys=1\n1 " SKSECRET "\n";

	(void)state;
	expect_refused_mode(text, 0644, -EACCES, 0, "mode 0644); chmod 600");
	expect_refused_mode(text, 0640, -EACCES, 0, "mode 0640)");
	expect_refused_mode(text, 0602, -EACCES, 0, "group/others");
	expect_refused_mode(text, 0620, -EACCES, 0, "group/others");
}

static void
missing_empty_and_odd_files_refused(void **state)
{
	struct zcs_keystore ks;
	char path[300], err[512];

	(void)state;
	snprintf(path, sizeof(path), "%s/no-such.keys", tmpdir);
	assert_int_equal(zcs_keystore_load(&ks, ctx, path, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, path));

	assert_int_equal(zcs_keystore_load(&ks, ctx, tmpdir, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not a regular file"));

	expect_refused("", -EINVAL, 0, "empty");
}

static void
bad_header_refused(void **state)
{
	(void)state;
	expect_refused("# only a comment\n\n", -EINVAL, 0, "no header line");
	expect_refused("# c\n1 " SKSECRET "\n", -EINVAL, 2, "missing header line");
	expect_refused("\n" SKSECRET " 1\n", -EINVAL, 2, "missing header line");
	expect_refused("zcsign-keys v2 shard=0 shards=1\n", -EINVAL, 1, "version");
	expect_refused(
		"zcsign-keys v1 shard=4 shards=4 keys=0\n", -EINVAL, 1, "shard=4 is not below");
	expect_refused(
		"zcsign-keys v1 shard=0 shards=0 keys=0\n", -EINVAL, 1, "shards=0 is out of range");
	expect_refused("zcsign-keys v1 shard=0 shards=257 keys=0\n", -EINVAL, 1, "out of range");
	expect_refused("zcsign-keys v1 shard=0 shards=2 x\n", -EINVAL, 1, "malformed header");
	expect_refused("zcsign-keys v1 shard=0 shards=2\n", -EINVAL, 1, "malformed header");
	expect_refused("zcsign-keys v1 shard=0 shards=2 keys=-1\n", -EINVAL, 1, "malformed header");
	expect_refused("zcsign-keys v1 shard=zero shards=2\n", -EINVAL, 1, "malformed header");
	expect_refused("zcsign-keys v1 shard=-1 shards=2\n", -EINVAL, 1, "malformed header");
	expect_refused("zcsign-keys v1 shards=2\n", -EINVAL, 1, "malformed header");
	expect_refused("zcsign-keysv1 shard=0 shards=1\n", -EINVAL, 1, "missing header line");
}

static void
account_of_other_shard_refused(void **state)
{
	uint64_t mine = account_in(1, 0, 4, 1);
	uint64_t other = account_in(1, 0, 4, 0);
	char text[512], want[128];

	(void)state;
	snprintf(text, sizeof(text),
		"zcsign-keys v1 shard=0 shards=4 keys=2\n%" PRIu64 " " SK1 "\n%" PRIu64 " " SKSECRET
		"\n",
		mine, other);
	snprintf(want, sizeof(want), "account %" PRIu64 " belongs to shard %" PRIu32 ", not 0",
		other, zcs_shard_of(other, 4));
	expect_refused(text, -EINVAL, 3, want);
}

static void
duplicate_account_refused(void **state)
{
	(void)state;
	expect_refused("zcsign-keys v1 shard=0 shards=1 keys=3\n5 " SK1 "\n6 " SK2
		       "\n# x\n5 " SKSECRET "\n",
		-EINVAL, 5, "duplicate account 5 (also on line 2)");
}

/*
 * A file cut at a line boundary, or with lines added, loads nothing: served in
 * part, the missing accounts would only show up as unknown_account later.
 */
static void
key_count_mismatch_refused(void **state)
{
	(void)state;
	expect_refused("zcsign-keys v1 shard=0 shards=1 keys=3\n1 " SK1 "\n2 " SK2 "\n", -EINVAL, 0,
		"keys=3 but the file has 2 key lines (cut short)");
	expect_refused("zcsign-keys v1 shard=0 shards=1 keys=480\n", -EINVAL, 0,
		"keys=480 but the file has 0 key lines (cut short)");
	expect_refused("zcsign-keys v1 shard=0 shards=1 keys=1\n1 " SK1 "\n2 " SK2 "\n", -EINVAL, 0,
		"keys=1 but the file has 2 key lines (lines added)");
}

static void
bad_secret_refused(void **state)
{
	(void)state;
	/* 63 and 65 digits */
	expect_refused("zcsign-keys v1 shard=0 shards=1 keys=2\n1 " SK1 "\n2 5" SK1 "\n", -EINVAL,
		3, "secret key is not 64 hex digits");
	expect_refused("zcsign-keys v1 shard=0 shards=1 keys=2\n2 " SKSECRET "\n1 " SKSECRET "0\n",
		-EINVAL, 3, "secret key is not 64 hex digits");
	expect_refused("zcsign-keys v1 shard=0 shards=1 keys=2\n1 "
		       "5ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e7aaa\n",
		-EINVAL, 2, "secret key is not 64 hex digits");
	expect_refused("zcsign-keys v1 shard=0 shards=1 keys=1\n1 "
		       "5ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e7aaag\n",
		-EINVAL, 2, "non-hex digit");
	expect_refused("zcsign-keys v1 shard=0 shards=1 keys=2\n1 " SKSECRET "\n2 " SKZERO "\n",
		-EINVAL, 3, "secret key is not valid");
	expect_refused("zcsign-keys v1 shard=0 shards=1 keys=2\n1 " SKSECRET "\n2 " SKN "\n",
		-EINVAL, 3, "secret key is not valid");
	expect_refused(
		"zcsign-keys v1 shard=0 shards=1 keys=2\n1\n", -EINVAL, 2, "missing secret key");
	expect_refused("zcsign-keys v1 shard=0 shards=1 keys=2\n1 " SKSECRET " # note\n", -EINVAL,
		2, "unexpected text after the secret key");
}

static void
bad_account_refused(void **state)
{
	(void)state;
	expect_refused("zcsign-keys v1 shard=0 shards=1 keys=2\n18446744073709551615 " SK1
		       "\n18446744073709551616 " SKSECRET "\n",
		-EINVAL, 3, "does not fit in 64 bits");
	expect_refused("zcsign-keys v1 shard=0 shards=1 keys=2\n-1 " SKSECRET "\n", -EINVAL, 2,
		"unsigned decimal");
	expect_refused("zcsign-keys v1 shard=0 shards=1 keys=2\n+1 " SKSECRET "\n", -EINVAL, 2,
		"unsigned decimal");
	expect_refused("zcsign-keys v1 shard=0 shards=1 keys=2\n12a " SKSECRET "\n", -EINVAL, 2,
		"not a decimal number");
	expect_refused("zcsign-keys v1 shard=0 shards=1 keys=2\n0x1 " SKSECRET "\n", -EINVAL, 2,
		"not a decimal number");
	/* fields swapped: the secret sits where the account should be */
	expect_refused("zcsign-keys v1 shard=0 shards=1 keys=2\n" SKSECRET " 1\n", -EINVAL, 2,
		"not a decimal number");
}

/* Locked and undumpable, per the kernel's own accounting of the mapping holding p. */
static void
smaps_of(void *p, long *locked_kb, char *flags, size_t flagslen)
{
	unsigned long start, end, addr = (unsigned long)p;
	char line[512];
	int in = 0;
	FILE *f = fopen("/proc/self/smaps", "r");

	assert_non_null(f);
	*locked_kb = -1;
	flags[0] = '\0';
	while (fgets(line, sizeof(line), f) != NULL) {
		/* a mapping starts with "start-end perms ..."; its fields follow */
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2) {
			in = start <= addr && addr < end;
			continue;
		}
		if (!in)
			continue;
		if (strncmp(line, "Locked:", 7) == 0)
			*locked_kb = strtol(line + 7, NULL, 10);
		if (strncmp(line, "VmFlags:", 8) == 0) {
			snprintf(flags, flagslen, "%s", line + 8);
			break;
		}
	}
	fclose(f);
}

static void
secure_alloc_is_locked_zeroed_and_private(void **state)
{
	size_t len = 3 * 4096 + 100;
	unsigned char *p = zcs_secure_alloc(len);
	char flags[512];
	long locked_kb;
	int status;
	pid_t pid;

	(void)state;
	assert_non_null(p);
	for (size_t i = 0; i < len; i++)
		assert_int_equal(p[i], 0);
	smaps_of(p, &locked_kb, flags, sizeof(flags));
	assert_true(locked_kb >= 16);
	assert_non_null(strstr(flags, " lo"));
	assert_non_null(strstr(flags, " dd"));
	assert_non_null(strstr(flags, " wf"));

	/* a forked child sees zeros where the parent keeps its secret */
	memset(p, 0x5a, len);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		for (size_t i = 0; i < len; i++)
			if (p[i] != 0)
				_exit(1);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(p[len - 1], 0x5a);
	zcs_secure_free(p, len);
	zcs_secure_free(NULL, 0);

	errno = 0;
	assert_null(zcs_secure_alloc(0));
	assert_int_equal(errno, EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(good_file_loads),
		cmocka_unit_test(keypair_signs_for_pubkey),
		cmocka_unit_test(header_only_is_empty_set),
		cmocka_unit_test(wipe_zeroes_and_repeats),
		cmocka_unit_test(group_or_world_access_refused),
		cmocka_unit_test(missing_empty_and_odd_files_refused),
		cmocka_unit_test(bad_header_refused),
		cmocka_unit_test(account_of_other_shard_refused),
		cmocka_unit_test(duplicate_account_refused),
		cmocka_unit_test(bad_secret_refused),
		cmocka_unit_test(key_count_mismatch_refused),
		cmocka_unit_test(bad_account_refused),
		cmocka_unit_test(secure_alloc_is_locked_zeroed_and_private),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
