/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zcsign-cli against a live zcsign-enclave: its JSON is parsed and every
 * signature it prints is verified with libsecp256k1 against keygen's manifest;
 * every refusal is checked for its exit status (2 command line, 1 run time)
 * and for a message that names what failed.
 *
 * Before each CLI run the test waits until the signer has dropped its previous
 * client (the CLI that just exited): the signer serves one connection at a
 * time and would rightly answer BUSY otherwise.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include "proc_util.h"

#define N_ACCOUNTS 20
#define CLI_MS 20000

struct env {
	char dir[64];
	char keys[PATH_MAX];
	char sock[PATH_MAX];
	char signer_arg[PATH_MAX + 8]; /* unix:<sock> */
	char log[PATH_MAX];
	char out[PATH_MAX];
	char err[PATH_MAX];
	pid_t signer;
	int held; /* a client connection a test holds open, closed by the teardown */
	secp256k1_context *ctx;
	struct proc_account accts[N_ACCOUNTS];
	int naccts;
};

static struct env the_env = {.signer = -1, .held = -1};

/* Output of one CLI run. */
struct cli_result {
	int code;
	char out[4096];
	char err[4096];
};

static void
dump_log(const char *what, const char *path)
{
	static char buf[16384];

	if (proc_read_file(path, buf, sizeof(buf)) > 0)
		print_message("---- %s (%s) ----\n%s---- end ----\n", what, path, buf);
}

static int
group_setup(void **state)
{
	struct env *e = &the_env;
	uint32_t shards = 0;

	*state = e;
	e->ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
	if (e->ctx == NULL || proc_tmpdir(e->dir, sizeof(e->dir), "cli") != 0)
		return -1;
	if (proc_path(e->keys, sizeof(e->keys), e->dir, "shard-0.keys") != 0 ||
		proc_path(e->sock, sizeof(e->sock), e->dir, "signer.sock") != 0 ||
		proc_path(e->log, sizeof(e->log), e->dir, "signer.log") != 0 ||
		proc_path(e->out, sizeof(e->out), e->dir, "cli.out") != 0 ||
		proc_path(e->err, sizeof(e->err), e->dir, "cli.err") != 0 ||
		proc_unix_arg(e->signer_arg, sizeof(e->signer_arg), e->sock) != 0)
		return -1;
	if (proc_keygen(e->dir, N_ACCOUNTS, 1) != 0) {
		print_error("zcsign-keygen failed\n");
		return -1;
	}
	e->naccts = proc_manifest_load(e->dir, e->accts, N_ACCOUNTS, &shards);
	if (e->naccts != N_ACCOUNTS || shards != 1) {
		print_error("manifest: %d accounts, %u shards\n", e->naccts, shards);
		return -1;
	}
	e->signer = proc_signer_start(e->keys, e->sock, e->log);
	if (e->signer < 0) {
		dump_log("signer", e->log);
		return -1;
	}
	return 0;
}

static int
group_teardown(void **state)
{
	struct env *e = *state;
	int st = 0, rc = 0;

	if (e->held >= 0)
		close(e->held);
	if (e->signer > 0) {
		if (proc_stop(e->signer, SIGTERM, PROC_STOP_MS, &st) != 0 || !proc_exited_ok(st)) {
			print_error("signer did not exit 0 on SIGTERM (status 0x%x)\n", st);
			dump_log("signer", e->log);
			rc = -1;
		}
		if (access(e->sock, F_OK) == 0) {
			print_error("signer left its socket %s behind\n", e->sock);
			rc = -1;
		}
	}
	if (e->dir[0] != '\0')
		proc_rmtree(e->dir);
	secp256k1_context_destroy(e->ctx);
	return rc;
}

static int
test_teardown(void **state)
{
	struct env *e = *state;

	if (e->held >= 0)
		close(e->held);
	e->held = -1;
	return 0;
}

/*
 * Run zcsign-cli with the given arguments (NULL-terminated) and collect exit
 * code, stdout and stderr. A sanitizer report in its stderr fails the test.
 */
static void
run_cli(struct env *e, struct cli_result *r, ...)
{
	char prog[PATH_MAX];
	char *argv[32];
	int n = 0;
	va_list ap;

	assert_int_equal(proc_build_path(prog, sizeof(prog), "cli/zcsign-cli"), 0);
	argv[n++] = prog;
	va_start(ap, r);
	while (n < 31 && (argv[n] = va_arg(ap, char *)) != NULL)
		n++;
	va_end(ap);
	argv[n] = NULL;
	assert_int_equal(proc_wait_unix_idle(e->sock, PROC_REPLY_MS), 0);
	r->code = proc_run(argv, e->out, e->err, CLI_MS);
	assert_true(proc_read_file(e->out, r->out, sizeof(r->out)) >= 0);
	assert_true(proc_read_file(e->err, r->err, sizeof(r->err)) >= 0);
	if (strstr(r->err, "Sanitizer") != NULL || strstr(r->err, "runtime error") != NULL)
		fail_msg("zcsign-cli: sanitizer report:\n%s", r->err);
}

/* The CLI failed with code, said nothing on stdout and one line naming each needle. */
static void
assert_refused(const struct cli_result *r, int code, const char *needle1, const char *needle2)
{
	if (r->code != code || r->out[0] != '\0' || strstr(r->err, needle1) == NULL ||
		(needle2 != NULL && strstr(r->err, needle2) == NULL))
		fail_msg("expected exit %d naming '%s'/'%s'; got exit %d, stdout '%s', stderr '%s'",
			code, needle1, needle2 != NULL ? needle2 : "", r->code, r->out, r->err);
	assert_true(strncmp(r->err, "zcsign-cli: ", 12) == 0);
	/* One line. */
	assert_non_null(strchr(r->err, '\n'));
	assert_string_equal(strchr(r->err, '\n'), "\n");
}

/* A success: exit 0, nothing on stderr, exactly one JSON object on one line. */
static void
assert_json_ok(const struct cli_result *r)
{
	size_t len = strlen(r->out);

	if (r->code != 0 || r->err[0] != '\0')
		fail_msg("exit %d, stderr '%s'", r->code, r->err);
	assert_true(len > 2);
	assert_int_equal(r->out[0], '{');
	assert_string_equal(r->out + len - 2, "}\n");
	assert_ptr_equal(strchr(r->out, '\n'), r->out + len - 1);
	assert_ptr_equal(strchr(r->out + 1, '{'), NULL);
}

static uint64_t
json_u64(const struct cli_result *r, const char *key)
{
	uint64_t v = 0;

	if (proc_json_u64(r->out, r->out + strlen(r->out), key, &v) != 0)
		fail_msg("no number \"%s\" in %s", key, r->out);
	return v;
}

static void
json_hex(const struct cli_result *r, const char *key, uint8_t *out, size_t n)
{
	if (proc_json_hex(r->out, r->out + strlen(r->out), key, out, n) != 0)
		fail_msg("no %zu-byte hex string \"%s\" in %s", n, key, r->out);
}

static bool
json_has(const struct cli_result *r, const char *key, const char *literal)
{
	const char *p = proc_json_field(r->out, r->out + strlen(r->out), key);

	return p != NULL && strncmp(p, literal, strlen(literal)) == 0;
}

static void
hex_of(const uint8_t *b, size_t n, char *out)
{
	zcs_hex_encode(b, n, out);
}

/* Sign through the CLI and check its whole answer. algo_name NULL: the default. */
static void
cli_sign_check(struct env *e, const struct proc_account *acct, const char *algo_name,
	unsigned int algo, const uint8_t hash[32])
{
	struct cli_result r;
	char account[24], hash_hex[65];
	uint8_t sig[64], pub[33], echoed[32];
	uint64_t recid = 0;

	snprintf(account, sizeof(account), "%" PRIu64, acct->account);
	hex_of(hash, 32, hash_hex);
	if (algo_name != NULL)
		run_cli(e, &r, "--signer", e->signer_arg, "sign", "--account", account, "--hash",
			hash_hex, "--algo", algo_name, NULL);
	else
		run_cli(e, &r, "--signer", e->signer_arg, "sign", "--account", account, "--hash",
			hash_hex, NULL);
	assert_json_ok(&r);

	assert_int_equal(json_u64(&r, "account"), acct->account);
	assert_true(json_has(&r, "algo",
		algo == ZCS_ALGO_ECDSA		   ? "\"ecdsa\""
			: algo == ZCS_ALGO_SCHNORR ? "\"schnorr\""
						   : "\"ecdsa-recoverable\""));
	json_hex(&r, "hash", echoed, 32);
	assert_memory_equal(echoed, hash, 32);
	json_hex(&r, "signature", sig, 64);
	if (algo == ZCS_ALGO_ECDSA_RECOVERABLE) {
		recid = json_u64(&r, "recid");
		assert_in_range(recid, 0, 3);
	} else {
		assert_true(json_has(&r, "recid", "null"));
	}
	/* The key printed is the one to verify with: x-only for BIP-340. */
	if (algo == ZCS_ALGO_SCHNORR) {
		json_hex(&r, "pubkey", pub, 32);
		assert_memory_equal(pub, acct->xonly, 32);
	} else {
		json_hex(&r, "pubkey", pub, 33);
		assert_memory_equal(pub, acct->pubkey, 33);
	}
	assert_int_equal(json_u64(&r, "shard"), 0);
	assert_true(json_u64(&r, "latency_ns") > 0);
	/* Signer time is part of the round trip. */
	assert_true(json_u64(&r, "service_ns") <= json_u64(&r, "latency_ns"));
	assert_int_equal(
		proc_verify(e->ctx, algo, hash, sig, (unsigned int)recid, acct), PROC_VERIFY_OK);
}

static void
sign_each_algo(void **state)
{
	struct env *e = *state;
	uint8_t hash[32];
	int i;

	for (i = 0; i < 3; i++) {
		const struct proc_account *acct = &e->accts[i * 7 % e->naccts];

		memset(hash, 0xa0 + i, sizeof(hash));
		hash[0] = (uint8_t)i;
		cli_sign_check(e, acct, "ecdsa", ZCS_ALGO_ECDSA, hash);
		cli_sign_check(e, acct, "ecdsa-recoverable", ZCS_ALGO_ECDSA_RECOVERABLE, hash);
		cli_sign_check(e, acct, "schnorr", ZCS_ALGO_SCHNORR, hash);
		cli_sign_check(e, acct, NULL, ZCS_ALGO_ECDSA, hash);
	}
	/* Edge hashes: zero and all ones (above the group order). */
	memset(hash, 0, sizeof(hash));
	cli_sign_check(e, &e->accts[0], "ecdsa-recoverable", ZCS_ALGO_ECDSA_RECOVERABLE, hash);
	memset(hash, 0xff, sizeof(hash));
	cli_sign_check(e, &e->accts[1], "schnorr", ZCS_ALGO_SCHNORR, hash);
}

/* Upper-case hex is accepted and echoed in lower case. */
static void
sign_uppercase_hash(void **state)
{
	struct env *e = *state;
	char account[24], hash_hex[65];
	struct cli_result r;
	uint8_t hash[32], sig[64];
	size_t i;

	for (i = 0; i < 32; i++)
		hash[i] = (uint8_t)(0xa5 + 3 * i);
	hex_of(hash, 32, hash_hex);
	for (i = 0; i < 64; i++)
		if (hash_hex[i] >= 'a')
			hash_hex[i] = (char)(hash_hex[i] - 'a' + 'A');
	snprintf(account, sizeof(account), "%" PRIu64, e->accts[3].account);
	run_cli(e, &r, "--signer", e->signer_arg, "sign", "--algo", "ecdsa", "--account", account,
		"--hash", hash_hex, NULL);
	assert_json_ok(&r);
	hex_of(hash, 32, hash_hex);
	assert_non_null(strstr(r.out, hash_hex));
	json_hex(&r, "signature", sig, 64);
	assert_int_equal(
		proc_verify(e->ctx, ZCS_ALGO_ECDSA, hash, sig, 0, &e->accts[3]), PROC_VERIFY_OK);
}

static void
pubkey_matches_manifest(void **state)
{
	struct env *e = *state;
	int i;

	for (i = 0; i < e->naccts; i++) {
		struct cli_result r;
		char account[24];
		uint8_t pub[33], xonly[32];

		snprintf(account, sizeof(account), "%" PRIu64, e->accts[i].account);
		run_cli(e, &r, "--signer", e->signer_arg, "pubkey", "--account", account, NULL);
		assert_json_ok(&r);
		assert_int_equal(json_u64(&r, "account"), e->accts[i].account);
		json_hex(&r, "pubkey", pub, 33);
		json_hex(&r, "xonly", xonly, 32);
		assert_memory_equal(pub, e->accts[i].pubkey, 33);
		assert_memory_equal(xonly, e->accts[i].xonly, 32);
		assert_int_equal(json_u64(&r, "shard"), 0);
		assert_true(json_u64(&r, "latency_ns") > 0);
	}
}

static void
unknown_account(void **state)
{
	struct env *e = *state;
	char account[24], msg[48];
	struct cli_result r;
	uint64_t unknown = 0;
	int i;

	for (i = 0; i < e->naccts; i++)
		if (e->accts[i].account >= unknown)
			unknown = e->accts[i].account + 1;
	snprintf(account, sizeof(account), "%" PRIu64, unknown);
	snprintf(msg, sizeof(msg), "account %" PRIu64 ":", unknown);

	run_cli(e, &r, "--signer", e->signer_arg, "sign", "--account", account, "--hash",
		"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", NULL);
	assert_refused(&r, 1, msg, "unknown_account");
	run_cli(e, &r, "--signer", e->signer_arg, "pubkey", "--account", account, NULL);
	assert_refused(&r, 1, msg, "unknown_account");
}

static void
bad_hash_refused(void **state)
{
	struct env *e = *state;
	char account[24];
	struct cli_result r;
	/* 64 characters, one of them not hex. */
	const char *nonhex = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeegf";

	snprintf(account, sizeof(account), "%" PRIu64, e->accts[0].account);
	run_cli(e, &r, "--signer", e->signer_arg, "sign", "--account", account, "--hash",
		"abcdef0123", NULL);
	assert_refused(&r, 2, "--hash", "10 characters");
	run_cli(e, &r, "--signer", e->signer_arg, "sign", "--account", account, "--hash", nonhex,
		NULL);
	assert_refused(&r, 2, "--hash", NULL);
	run_cli(e, &r, "--signer", e->signer_arg, "sign", "--account", account, "--hash",
		"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff0", NULL);
	assert_refused(&r, 2, "--hash", "65 characters");
	run_cli(e, &r, "--signer", e->signer_arg, "sign", "--account", account, "--hash", "", NULL);
	assert_refused(&r, 2, "--hash", NULL);
	run_cli(e, &r, "--signer", e->signer_arg, "sign", "--account", account, NULL);
	assert_refused(&r, 2, "--hash", NULL);
}

static void
bad_args_refused(void **state)
{
	struct env *e = *state;
	const char *hash = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
	char account[24];
	struct cli_result r;

	snprintf(account, sizeof(account), "%" PRIu64, e->accts[0].account);
	run_cli(e, &r, "--signer", e->signer_arg, "sign", "--account", account, "--hash", hash,
		"--algo", "rsa", NULL);
	assert_refused(&r, 2, "--algo", "rsa");
	run_cli(e, &r, "--signer", e->signer_arg, "sign", "--account", "12x", "--hash", hash, NULL);
	assert_refused(&r, 2, "--account", "12x");
	run_cli(e, &r, "--signer", e->signer_arg, "sign", "--account", "-1", "--hash", hash, NULL);
	assert_refused(&r, 2, "--account", NULL);
	run_cli(e, &r, "--signer", e->signer_arg, "pubkey", NULL);
	assert_refused(&r, 2, "--account", NULL);
	run_cli(e, &r, "--signer", e->signer_arg, "frob", NULL);
	assert_refused(&r, 2, "frob", NULL);
	run_cli(e, &r, "--signer", e->signer_arg, NULL);
	assert_refused(&r, 2, "command", NULL);
	run_cli(e, &r, "pubkey", "--account", account, NULL);
	assert_refused(&r, 2, "--signer", NULL);
	run_cli(e, &r, "--signer", "tcp:1", "pubkey", "--account", account, NULL);
	assert_refused(&r, 2, "tcp:1", NULL);
	/* Malformed vsock only: a valid one would open AF_VSOCK, never done here. */
	run_cli(e, &r, "--signer", "vsock:3", "pubkey", "--account", account, NULL);
	assert_refused(&r, 2, "vsock:3", NULL);
	run_cli(e, &r, "--signer", e->signer_arg, "pubkey", "--account", account, "--bogus", NULL);
	assert_refused(&r, 2, "--bogus", NULL);
	run_cli(e, &r, "--signer", e->signer_arg, "pubkey", "--account", account, "extra", NULL);
	assert_refused(&r, 2, "extra", NULL);

	run_cli(e, &r, "--help", NULL);
	assert_int_equal(r.code, 0);
	assert_non_null(strstr(r.out, "Usage"));
	run_cli(e, &r, "--signer", e->signer_arg, "sign", "--help", NULL);
	assert_int_equal(r.code, 0);
	assert_non_null(strstr(r.out, "--hash"));
}

static void
no_signer(void **state)
{
	struct env *e = *state;
	char path[PATH_MAX], arg[PATH_MAX + 8], account[24];
	struct cli_result r;

	assert_int_equal(proc_path(path, sizeof(path), e->dir, "none.sock"), 0);
	assert_int_equal(proc_unix_arg(arg, sizeof(arg), path), 0);
	snprintf(account, sizeof(account), "%" PRIu64, e->accts[0].account);
	run_cli(e, &r, "--signer", arg, "pubkey", "--account", account, NULL);
	assert_refused(&r, 1, arg, "No such file");
}

static void
busy_signer(void **state)
{
	struct env *e = *state;
	union zcs_wire_frame hello;
	struct cli_result r;
	char account[24];

	snprintf(account, sizeof(account), "%" PRIu64, e->accts[0].account);
	assert_int_equal(proc_wait_unix_idle(e->sock, PROC_REPLY_MS), 0);
	e->held = proc_signer_hello(e->sock, ZCS_SHARD_ANY, 0, &hello);
	assert_true(e->held >= 0);
	{
		char prog[PATH_MAX];
		char *argv[] = {
			prog, "--signer", e->signer_arg, "pubkey", "--account", account, NULL};

		/* run_cli() would wait for the signer to be idle: it never is here. */
		assert_int_equal(proc_build_path(prog, sizeof(prog), "cli/zcsign-cli"), 0);
		r.code = proc_run(argv, e->out, e->err, CLI_MS);
		assert_true(proc_read_file(e->out, r.out, sizeof(r.out)) >= 0);
		assert_true(proc_read_file(e->err, r.err, sizeof(r.err)) >= 0);
	}
	assert_refused(&r, 1, "busy", e->signer_arg);
	close(e->held);
	e->held = -1;
	/* Free again once the holder leaves. */
	run_cli(e, &r, "--signer", e->signer_arg, "pubkey", "--account", account, NULL);
	assert_json_ok(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(sign_each_algo, test_teardown),
		cmocka_unit_test_teardown(sign_uppercase_hash, test_teardown),
		cmocka_unit_test_teardown(pubkey_matches_manifest, test_teardown),
		cmocka_unit_test_teardown(unknown_account, test_teardown),
		cmocka_unit_test_teardown(bad_hash_refused, test_teardown),
		cmocka_unit_test_teardown(bad_args_refused, test_teardown),
		cmocka_unit_test_teardown(no_signer, test_teardown),
		cmocka_unit_test_teardown(busy_signer, test_teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
