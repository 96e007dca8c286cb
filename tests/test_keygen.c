/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zcsign-keygen, run as the real program: its key files load, hold every account
 * in the shard zcs_shard_of() names and nowhere else, match the manifest's public
 * keys, are never overwritten, and bad arguments are refused by name.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include <zcsign/shard.h>

#include "hex.h"
#include "keystore.h"
#include "json_check.h"
#include "proc_util.h"
#include "secp_util.h"

#define ACCOUNTS 1000
#define SHARDS 4
#define RUN_TIMEOUT_S 60 /* sanitizer builds on shared cores */

static char tmpdir[64];
static char keygen[PATH_MAX];
static secp256k1_context *ctx;
static char out_text[1 << 16], err_text[1 << 16];

static int
setup(void **state)
{
	(void)state;
	if (proc_build_path(keygen, sizeof(keygen), "enclave/zcsign-keygen") != 0) {
		fprintf(stderr, "ZCS_BUILD_DIR is not set (run through meson test)\n");
		return -1;
	}
	if (access(keygen, X_OK) != 0)
		return -1;
	return secp_tmp_setup(&ctx, tmpdir, sizeof(tmpdir), "keygen");
}

static int
teardown(void **state)
{
	(void)state;
	return secp_tmp_teardown(ctx, tmpdir);
}

/* A file the test knows is there, whole into buf. */
static void
slurp(const char *path, char *buf, size_t len)
{
	if (proc_read_file(path, buf, len) < 0)
		fail_msg("cannot read %s", path);
}

static void
path_in(char *out, size_t len, const char *dir, const char *name)
{
	assert_int_equal(proc_path(out, len, dir, name), 0);
}

/*
 * Run keygen with args (NULL-terminated), stdout and stderr into out_text and
 * err_text. Returns its exit code; a hang or a signal fails the test.
 */
static int
run_keygen_argv(const char *const *args)
{
	char *argv[32], out_path[300], err_path[300];
	int argc = 0, code;

	argv[argc++] = keygen;
	/* These tests read the plaintext format; test_bundle.c covers the sealed bundles. */
	if (*args != NULL && strcmp(*args, "--help") != 0 && strcmp(*args, "--sealed-only") != 0)
		argv[argc++] = "--insecure-plaintext";
	else if (*args != NULL && strcmp(*args, "--sealed-only") == 0)
		args++;
	for (; *args != NULL && argc < 31; args++)
		argv[argc++] = (char *)*args;
	argv[argc] = NULL;

	path_in(out_path, sizeof(out_path), tmpdir, "stdout.txt");
	path_in(err_path, sizeof(err_path), tmpdir, "stderr.txt");
	code = proc_run(argv, out_path, err_path, RUN_TIMEOUT_S * 1000);
	slurp(out_path, out_text, sizeof(out_text));
	slurp(err_path, err_text, sizeof(err_text));
	if (code < 0)
		fail_msg("zcsign-keygen did not finish in %d s, or died of a signal: %s",
			RUN_TIMEOUT_S, err_text);
	return code;
}

static int
run_keygen(const char *arg, ...)
{
	const char *args[32];
	size_t n = 0;
	va_list ap;

	va_start(ap, arg);
	for (; arg != NULL && n < 31; arg = va_arg(ap, const char *))
		args[n++] = arg;
	va_end(ap);
	args[n] = NULL;
	return run_keygen_argv(args);
}

/* --- checks on a generated key set --- */

struct manifest_entry {
	uint64_t account;
	uint32_t shard;
	char pubkey[67];
	char xonly[65];
};

static char manifest_text[1 << 20];

/* Parse dir/manifest.json; returns the number of entries (one per line). */
static size_t
read_manifest(const char *dir, struct manifest_entry *m, size_t max, uint32_t shards)
{
	char path[PATH_MAX], head[64];
	const char *line;
	size_t n = 0;
	int used;

	path_in(path, sizeof(path), dir, "manifest.json");
	slurp(path, manifest_text, sizeof(manifest_text));
	assert_json(manifest_text, 8, JSON_CHECK_PLAIN | JSON_CHECK_OBJECT);
	snprintf(head, sizeof(head), "{\"version\":1,\"shards\":%" PRIu32 ",\"accounts\":[\n",
		shards);
	assert_memory_equal(manifest_text, head, strlen(head));
	for (line = strchr(manifest_text, '\n') + 1; strncmp(line, "{\"account\":", 11) == 0;
		line = strchr(line, '\n') + 1) {
		assert_true(n < max);
		used = 0;
		assert_int_equal(
			sscanf(line,
				"{\"account\":%" SCNu64 ",\"shard\":%" SCNu32
				",\"pubkey\":\"%66[0-9a-f]\",\"xonly\":\"%64[0-9a-f]\"}%n",
				&m[n].account, &m[n].shard, m[n].pubkey, m[n].xonly, &used),
			4);
		assert_true(used > 0);
		assert_int_equal(strlen(m[n].pubkey), 66);
		assert_int_equal(strlen(m[n].xonly), 64);
		n++;
	}
	assert_string_equal(line, "]}\n");
	return n;
}

static int
cmp_pub(const void *a, const void *b)
{
	return memcmp(a, b, 33);
}

/*
 * Load every shard file of dir and check it against the manifest: each account
 * first..first+accounts-1 exactly once, in the shard zcs_shard_of() names, with
 * the manifest's public keys; all keys distinct. Fills sizes[] per shard.
 */
static void
check_key_set(const char *dir, uint64_t first, size_t accounts, uint32_t shards, uint32_t *sizes)
{
	static struct manifest_entry m[ACCOUNTS];
	static unsigned char pubs[ACCOUNTS][33];
	char path[PATH_MAX], name[32], err[512], hex[67];
	struct zcs_keystore ks;
	struct stat st;
	size_t n, total = 0;

	n = read_manifest(dir, m, ACCOUNTS, shards);
	assert_int_equal(n, accounts);
	for (size_t i = 0; i < n; i++) {
		/* in account order, each once, in its shard */
		assert_true(m[i].account == first + i);
		assert_int_equal(m[i].shard, zcs_shard_of(m[i].account, shards));
	}
	path_in(path, sizeof(path), dir, "manifest.json");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);

	for (uint32_t s = 0; s < shards; s++) {
		snprintf(name, sizeof(name), "shard-%" PRIu32 ".keys", s);
		path_in(path, sizeof(path), dir, name);
		assert_int_equal(stat(path, &st), 0);
		assert_true(S_ISREG(st.st_mode));
		assert_int_equal(st.st_mode & 07777, 0600);
		if (zcs_keystore_load(&ks, ctx, path, err, sizeof(err)) != 0)
			fail_msg("%s", err);
		assert_int_equal(ks.shard_id, s);
		assert_int_equal(ks.shard_count, shards);
		for (uint32_t k = 0; k < ks.count; k++) {
			const struct zcs_key *key = &ks.keys[k];
			uint64_t idx = key->account - first;

			assert_true(key->account >= first && idx < accounts);
			assert_int_equal(zcs_shard_of(key->account, shards), s);
			zcs_hex_encode(key->pub_compressed, 33, hex);
			assert_string_equal(hex, m[idx].pubkey);
			zcs_hex_encode(key->pub_xonly, 32, hex);
			assert_string_equal(hex, m[idx].xonly);
			memcpy(pubs[total + k], key->pub_compressed, 33);
		}
		sizes[s] = ks.count;
		total += ks.count;
		zcs_keystore_wipe(&ks);
	}
	/* every account has a key (no account was lost or duplicated across files) */
	assert_int_equal(total, accounts);
	/* and every key is fresh: a broken RNG would repeat */
	qsort(pubs, total, 33, cmp_pub);
	for (size_t i = 1; i < total; i++)
		assert_true(memcmp(pubs[i - 1], pubs[i], 33) != 0);
}

static void
generates_loadable_shards(void **state)
{
	char dir[300], want[256], num[16];
	uint32_t sizes[SHARDS];
	struct stat st;
	int n;

	(void)state;
	path_in(dir, sizeof(dir), tmpdir, "keys");
	snprintf(num, sizeof(num), "%d", ACCOUNTS);
	assert_int_equal(run_keygen("--accounts", num, "--shards", "4", "--out", dir, NULL), 0);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	check_key_set(dir, 1, ACCOUNTS, SHARDS, sizes);
	/* the summary line reports the real shard sizes */
	n = snprintf(want, sizeof(want),
		"zcsign-keygen: %d accounts in 4 shards -> %s (shard sizes %u %u %u %u), "
		"generation ",
		ACCOUNTS, dir, sizes[0], sizes[1], sizes[2], sizes[3]);
	assert_true(n > 0);
	if (strncmp(out_text, want, (size_t)n) != 0 ||
		strstr(out_text, ": INSECURE plaintext shard-<i>.keys\n") == NULL)
		fail_msg("summary '%s' is not '%s...: INSECURE plaintext ...'", out_text, want);
	/* the split is roughly even: no shard is starved */
	for (int s = 0; s < SHARDS; s++)
		assert_true(sizes[s] > ACCOUNTS / SHARDS / 2);
}

static void
snapshot(const char *dir, char files[SHARDS + 1][1 << 18])
{
	char path[PATH_MAX], name[32];

	for (int s = 0; s < SHARDS; s++) {
		snprintf(name, sizeof(name), "shard-%d.keys", s);
		path_in(path, sizeof(path), dir, name);
		slurp(path, files[s], sizeof(files[s]));
		assert_true(strlen(files[s]) > 1000);
	}
	path_in(path, sizeof(path), dir, "manifest.json");
	slurp(path, files[SHARDS], sizeof(files[SHARDS]));
}

static void
never_overwrites(void **state)
{
	static char before[SHARDS + 1][1 << 18], after[SHARDS + 1][1 << 18];
	char dir[300], path[PATH_MAX];
	struct stat st;

	(void)state;
	path_in(dir, sizeof(dir), tmpdir, "keys"); /* written by generates_loadable_shards */
	snapshot(dir, before);
	assert_int_not_equal(
		run_keygen("--accounts", "10", "--shards", "4", "--out", dir, NULL), 0);
	assert_non_null(strstr(err_text, "shard-0.keys already exists"));
	snapshot(dir, after);
	for (int f = 0; f <= SHARDS; f++)
		assert_string_equal(before[f], after[f]);

	/* a fewer-shard run over the same dir is refused at the first clash too */
	assert_int_not_equal(
		run_keygen("--accounts", "10", "--shards", "2", "--out", dir, NULL), 0);
	snapshot(dir, after);
	for (int f = 0; f <= SHARDS; f++)
		assert_string_equal(before[f], after[f]);

	/* only a manifest in the way: refused, and the key files it made are removed */
	path_in(dir, sizeof(dir), tmpdir, "only-manifest");
	assert_int_equal(mkdir(dir, 0700), 0);
	path_in(path, sizeof(path), dir, "manifest.json");
	assert_int_equal(close(open(path, O_WRONLY | O_CREAT, 0644)), 0);
	assert_int_not_equal(
		run_keygen("--accounts", "10", "--shards", "2", "--out", dir, NULL), 0);
	assert_non_null(strstr(err_text, "manifest.json already exists"));
	path_in(path, sizeof(path), dir, "shard-0.keys");
	assert_int_equal(stat(path, &st), -1);
	path_in(path, sizeof(path), dir, "shard-1.keys");
	assert_int_equal(stat(path, &st), -1);
}

static void
top_account_ids_and_empty_shards(void **state)
{
	uint32_t sizes[8], empty = 0;
	char dir[300];

	(void)state;
	/* 3 accounts over 8 shards: most shards get none, and their files still load */
	path_in(dir, sizeof(dir), tmpdir, "top");
	assert_int_equal(run_keygen("--accounts", "3", "--shards", "8", "--first-account",
				 "18446744073709551613", "--out", dir, NULL),
		0);
	check_key_set(dir, UINT64_C(18446744073709551613), 3, 8, sizes);
	for (int s = 0; s < 8; s++)
		empty += sizes[s] == 0;
	assert_true(empty >= 5);
}

/* A refused invocation: exit 2, one line naming the argument, nothing created. */
static void
expect_usage_error(const char *names, ...)
{
	const char *args[32];
	char dir[300];
	struct stat st;
	size_t n = 0;
	va_list ap;

	va_start(ap, names);
	while (n < 31 && (args[n] = va_arg(ap, const char *)) != NULL)
		n++;
	va_end(ap);
	args[n] = NULL;
	path_in(dir, sizeof(dir), tmpdir, "never");
	assert_int_equal(run_keygen_argv(args), 2);
	if (strstr(err_text, names) == NULL)
		fail_msg("stderr '%s' does not name '%s'", err_text, names);
	/* exactly one line */
	assert_ptr_equal(strchr(err_text, '\n'), err_text + strlen(err_text) - 1);
	assert_int_equal(stat(dir, &st), -1);
}

static void
bad_arguments_refused(void **state)
{
	char dir[300];

	(void)state;
	path_in(dir, sizeof(dir), tmpdir, "never");
	expect_usage_error("--accounts", "--accounts", "0", "--shards", "4", "--out", dir, NULL);
	expect_usage_error(
		"--accounts", "--accounts", "10000001", "--shards", "4", "--out", dir, NULL);
	expect_usage_error("--accounts", "--accounts", "-5", "--shards", "4", "--out", dir, NULL);
	expect_usage_error("--accounts", "--accounts", "12x", "--shards", "4", "--out", dir, NULL);
	expect_usage_error("--accounts", "--accounts", "99999999999999999999", "--shards", "4",
		"--out", dir, NULL);
	expect_usage_error("--accounts", "--shards", "4", "--out", dir, "--accounts", NULL);
	expect_usage_error("--shards", "--accounts", "10", "--shards", "0", "--out", dir, NULL);
	expect_usage_error("--shards", "--accounts", "10", "--shards", "300", "--out", dir, NULL);
	expect_usage_error("--shards", "--accounts", "10", "--shards", "257", "--out", dir, NULL);
	expect_usage_error(
		"--bogus", "--accounts", "10", "--bogus", "--shards", "4", "--out", dir, NULL);
	expect_usage_error("--out", "--accounts", "10", "--shards", "4", NULL);
	/* No plaintext unless asked for: without --operator-pub there is nothing to write. */
	expect_usage_error("--operator-pub FILE", "--sealed-only", "--accounts", "10", "--shards",
		"4", "--out", dir, NULL);
	expect_usage_error("--out", "--accounts", "10", "--shards", "4", "--out", NULL);
	expect_usage_error("--accounts", "--shards", "4", "--out", dir, NULL);
	expect_usage_error("--shards", "--accounts", "10", "--out", dir, NULL);
	expect_usage_error("--first-account", "--accounts", "10", "--shards", "4",
		"--first-account", "18446744073709551610", "--out", dir, NULL);
	expect_usage_error("--first-account", "--accounts", "10", "--shards", "4",
		"--first-account", "-1", "--out", dir, NULL);
	expect_usage_error(
		"stray", "--accounts", "10", "--shards", "4", "--out", dir, "stray", NULL);
}

static void
help_exits_zero(void **state)
{
	(void)state;
	assert_int_equal(run_keygen("--help", NULL), 0);
	assert_non_null(strstr(out_text, "usage: zcsign-keygen --accounts N --shards S --out DIR"));
	assert_string_equal(err_text, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(generates_loadable_shards),
		cmocka_unit_test(never_overwrites),
		cmocka_unit_test(top_account_ids_and_empty_shards),
		cmocka_unit_test(bad_arguments_refused),
		cmocka_unit_test(help_exits_zero),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
