/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zcsign-cli against a live zcsign-enclave: its JSON is parsed and every
 * signature it prints is verified with libsecp256k1 against keygen's manifest,
 * both here (zcs_verify) and by the CLI's own verify command, which must also
 * refuse every tampered or misattributed signature; every refusal is checked
 * for its exit status (2 command line, 1 run time) and for a message that
 * names what failed.
 *
 * Before each CLI run the test waits until the signer has dropped its previous
 * client (the CLI that just exited): the signer serves one connection at a
 * time and would rightly answer BUSY otherwise.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include "hex.h"
#include "signer_fixture.h"

#define N_ACCOUNTS 20
#define CLI_MS 20000

struct env {
	struct signer_fixture fx;
	char signer_arg[PATH_MAX + 8]; /* unix:<sock> */
	char manifest[PATH_MAX];
	char out[PATH_MAX];
	char err[PATH_MAX];
	int held; /* a client connection a test holds open, closed by the teardown */
};

static struct env the_env = {.fx.pid = -1, .held = -1};

/* Output of one CLI run. */
struct cli_result {
	int code;
	char out[4096];
	char err[4096];
};

static int
group_setup(void **state)
{
	struct env *e = &the_env;

	*state = e;
	if (signer_fixture_start(&e->fx, "cli", N_ACCOUNTS) != 0)
		return -1;
	if (proc_path(e->manifest, sizeof(e->manifest), e->fx.dir, "manifest.json") != 0 ||
		proc_path(e->out, sizeof(e->out), e->fx.dir, "cli.out") != 0 ||
		proc_path(e->err, sizeof(e->err), e->fx.dir, "cli.err") != 0 ||
		proc_unix_arg(e->signer_arg, sizeof(e->signer_arg), e->fx.sock) != 0) {
		signer_fixture_stop(&e->fx);
		return -1;
	}
	return 0;
}

static int
group_teardown(void **state)
{
	struct env *e = *state;

	if (e->held >= 0)
		close(e->held);
	return signer_fixture_stop(&e->fx);
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

/* Run argv (zcsign-cli first) and collect exit code, stdout and stderr. */
static void
run_cli_argv(struct env *e, struct cli_result *r, char *const argv[])
{
	r->code = proc_run(argv, e->out, e->err, CLI_MS);
	assert_true(proc_read_file(e->out, r->out, sizeof(r->out)) >= 0);
	assert_true(proc_read_file(e->err, r->err, sizeof(r->err)) >= 0);
	if (proc_sanitizer_report(r->err))
		fail_msg("zcsign-cli: sanitizer report:\n%s", r->err);
}

/* run_cli() with its arguments as a va_list. */
static void
run_cli_va(struct env *e, struct cli_result *r, va_list ap)
{
	char prog[PATH_MAX];
	char *argv[32];
	int n;

	n = proc_build_argv(argv, 32, prog, sizeof(prog), "cli/zcsign-cli", ap);
	assert_true(n > 0);
	assert_int_equal(proc_wait_unix_idle(e->fx.sock, PROC_REPLY_MS), 0);
	run_cli_argv(e, r, argv);
}

/*
 * Run zcsign-cli with the given arguments (NULL-terminated), once the signer
 * is idle, and collect exit code, stdout and stderr. A sanitizer report in its
 * stderr fails the test.
 */
static void
run_cli(struct env *e, struct cli_result *r, ...)
{
	va_list ap;

	va_start(ap, r);
	run_cli_va(e, r, ap);
	va_end(ap);
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

/*
 * Run zcsign-cli with the arguments after needle2 (NULL-terminated): it must
 * fail with code, naming needle1 and needle2 (NULL: only needle1).
 */
static void
cli_refused(struct env *e, int code, const char *needle1, const char *needle2, ...)
{
	struct cli_result r;
	va_list ap;

	va_start(ap, needle2);
	run_cli_va(e, &r, ap);
	va_end(ap);
	assert_refused(&r, code, needle1, needle2);
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

/* Value after "key": in the CLI's one-line JSON (no blanks: it prints none); NULL if absent. */
static const char *
json_field(const struct cli_result *r, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(r->out, pat);
	return p == NULL ? NULL : p + strlen(pat);
}

static uint64_t
json_u64(const struct cli_result *r, const char *key)
{
	const char *p = json_field(r, key);
	char *end;
	uint64_t v;

	if (p == NULL || *p < '0' || *p > '9')
		fail_msg("no number \"%s\" in %s", key, r->out);
	errno = 0;
	v = strtoull(p, &end, 10);
	if (errno != 0 || (*end != ',' && *end != '}'))
		fail_msg("bad number \"%s\" in %s", key, r->out);
	return v;
}

/* A "key":"<2n hex>" field into out[n]. */
static void
json_hex(const struct cli_result *r, const char *key, uint8_t *out, size_t n)
{
	const char *p = json_field(r, key);
	size_t i;

	if (p == NULL || *p != '"' || strlen(p) < 2 * n + 2 || p[2 * n + 1] != '"')
		fail_msg("no %zu-byte hex string \"%s\" in %s", n, key, r->out);
	for (i = 1; i <= 2 * n; i++)
		if (!isxdigit((unsigned char)p[i]))
			fail_msg("\"%s\" is not hex in %s", key, r->out);
	assert_int_equal(zcs_hex_decode(p + 1, n, out), 0);
}

static bool
json_has(const struct cli_result *r, const char *key, const char *literal)
{
	const char *p = json_field(r, key);

	return p != NULL && strncmp(p, literal, strlen(literal)) == 0;
}

static void
hex_of(const uint8_t *b, size_t n, char *out)
{
	zcs_hex_encode(b, n, out);
}

/* zcsign-cli verify of account acct's signature sig (hex) over hash (hex); recid as text. */
static void
cli_verify(struct env *e, struct cli_result *r, uint64_t acct, const char *algo_name,
	const char *hash_hex, const char *sig_hex, const char *recid)
{
	char account[24];

	snprintf(account, sizeof(account), "%" PRIu64, acct);
	run_cli(e, r, "verify", "--manifest", e->manifest, "--account", account, "--hash", hash_hex,
		"--signature", sig_hex, "--algo", algo_name, "--recid", recid, NULL);
}

/* verify's answer to a valid signature: exactly this JSON, exit 0. */
static void
assert_verified(const struct cli_result *r, uint64_t acct, const char *algo_name)
{
	char want[128];

	assert_json_ok(r);
	snprintf(want, sizeof(want), "{\"account\":%" PRIu64 ",\"algo\":\"%s\",\"valid\":true}\n",
		acct, algo_name);
	assert_string_equal(r->out, want);
}

/*
 * Sign through the CLI and check its whole answer, then pass it straight to
 * the CLI's verify (recid null included). algo_name NULL: the default.
 */
static void
cli_sign_check(struct env *e, const struct zcs_manifest_account *acct, const char *algo_name,
	unsigned int algo, const uint8_t hash[32])
{
	struct cli_result r;
	char account[24], hash_hex[65], sig_hex[129], recid_text[8] = "null";
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
		snprintf(recid_text, sizeof(recid_text), "%" PRIu64, recid);
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
		zcs_verify(e->fx.ctx, algo, hash, sig, (unsigned int)recid, acct), ZCS_VERIFY_OK);

	hex_of(sig, 64, sig_hex);
	cli_verify(e, &r, acct->account, zcs_algo_name(algo), hash_hex, sig_hex, recid_text);
	assert_verified(&r, acct->account, zcs_algo_name(algo));
}

static void
sign_each_algo(void **state)
{
	struct env *e = *state;
	uint8_t hash[32];
	int i;

	for (i = 0; i < 3; i++) {
		const struct zcs_manifest_account *acct = &e->fx.m.accounts[i * 7 % N_ACCOUNTS];

		memset(hash, 0xa0 + i, sizeof(hash));
		hash[0] = (uint8_t)i;
		cli_sign_check(e, acct, "ecdsa", ZCS_ALGO_ECDSA, hash);
		cli_sign_check(e, acct, "ecdsa-recoverable", ZCS_ALGO_ECDSA_RECOVERABLE, hash);
		cli_sign_check(e, acct, "schnorr", ZCS_ALGO_SCHNORR, hash);
		cli_sign_check(e, acct, NULL, ZCS_ALGO_ECDSA, hash);
	}
	/* Edge hashes: zero and all ones (above the group order). */
	memset(hash, 0, sizeof(hash));
	cli_sign_check(
		e, &e->fx.m.accounts[0], "ecdsa-recoverable", ZCS_ALGO_ECDSA_RECOVERABLE, hash);
	memset(hash, 0xff, sizeof(hash));
	cli_sign_check(e, &e->fx.m.accounts[1], "schnorr", ZCS_ALGO_SCHNORR, hash);
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
	snprintf(account, sizeof(account), "%" PRIu64, e->fx.m.accounts[3].account);
	run_cli(e, &r, "--signer", e->signer_arg, "sign", "--algo", "ecdsa", "--account", account,
		"--hash", hash_hex, NULL);
	assert_json_ok(&r);
	hex_of(hash, 32, hash_hex);
	assert_non_null(strstr(r.out, hash_hex));
	json_hex(&r, "signature", sig, 64);
	assert_int_equal(zcs_verify(e->fx.ctx, ZCS_ALGO_ECDSA, hash, sig, 0, &e->fx.m.accounts[3]),
		ZCS_VERIFY_OK);
}

static void
pubkey_matches_manifest(void **state)
{
	struct env *e = *state;
	int i;

	for (i = 0; i < N_ACCOUNTS; i++) {
		const struct zcs_manifest_account *acct = &e->fx.m.accounts[i];
		struct cli_result r;
		char account[24];
		uint8_t pub[33], xonly[32];

		snprintf(account, sizeof(account), "%" PRIu64, acct->account);
		run_cli(e, &r, "--signer", e->signer_arg, "pubkey", "--account", account, NULL);
		assert_json_ok(&r);
		assert_int_equal(json_u64(&r, "account"), acct->account);
		json_hex(&r, "pubkey", pub, 33);
		json_hex(&r, "xonly", xonly, 32);
		assert_memory_equal(pub, acct->pubkey, 33);
		assert_memory_equal(xonly, acct->xonly, 32);
		assert_int_equal(json_u64(&r, "shard"), 0);
		assert_true(json_u64(&r, "latency_ns") > 0);
	}
}

static void
unknown_account(void **state)
{
	struct env *e = *state;
	char account[24], msg[48];
	uint64_t unknown = signer_fixture_unknown_account(&e->fx);

	snprintf(account, sizeof(account), "%" PRIu64, unknown);
	snprintf(msg, sizeof(msg), "account %" PRIu64 ":", unknown);

	cli_refused(e, 1, msg, "unknown_account", "--signer", e->signer_arg, "sign", "--account",
		account, "--hash",
		"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", NULL);
	cli_refused(e, 1, msg, "unknown_account", "--signer", e->signer_arg, "pubkey", "--account",
		account, NULL);
}

static void
bad_hash_refused(void **state)
{
	struct env *e = *state;
	char account[24];
	/* 64 characters, one of them not hex. */
	const char *nonhex = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeegf";

	snprintf(account, sizeof(account), "%" PRIu64, e->fx.m.accounts[0].account);
	cli_refused(e, 2, "--hash", "10 characters", "--signer", e->signer_arg, "sign", "--account",
		account, "--hash", "abcdef0123", NULL);
	cli_refused(e, 2, "--hash", NULL, "--signer", e->signer_arg, "sign", "--account", account,
		"--hash", nonhex, NULL);
	cli_refused(e, 2, "--hash", "65 characters", "--signer", e->signer_arg, "sign", "--account",
		account, "--hash",
		"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff0", NULL);
	cli_refused(e, 2, "--hash", NULL, "--signer", e->signer_arg, "sign", "--account", account,
		"--hash", "", NULL);
	cli_refused(e, 2, "--hash", NULL, "--signer", e->signer_arg, "sign", "--account", account,
		NULL);
}

static void
bad_args_refused(void **state)
{
	struct env *e = *state;
	const char *hash = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
	char account[24];
	struct cli_result r;

	snprintf(account, sizeof(account), "%" PRIu64, e->fx.m.accounts[0].account);
	cli_refused(e, 2, "--algo", "rsa", "--signer", e->signer_arg, "sign", "--account", account,
		"--hash", hash, "--algo", "rsa", NULL);
	cli_refused(e, 2, "--account", "12x", "--signer", e->signer_arg, "sign", "--account", "12x",
		"--hash", hash, NULL);
	cli_refused(e, 2, "--account", NULL, "--signer", e->signer_arg, "sign", "--account", "-1",
		"--hash", hash, NULL);
	cli_refused(e, 2, "--account", NULL, "--signer", e->signer_arg, "pubkey", NULL);
	cli_refused(e, 2, "frob", NULL, "--signer", e->signer_arg, "frob", NULL);
	cli_refused(e, 2, "command", NULL, "--signer", e->signer_arg, NULL);
	/* without --signer the CLI goes through zcsignd; both at once is a usage error */
	cli_refused(e, 2, "exclude", NULL, "--signer", e->signer_arg, "--file-prefix", "p",
		"pubkey", "--account", account, NULL);
	cli_refused(e, 2, "tcp:1", NULL, "--signer", "tcp:1", "pubkey", "--account", account, NULL);
	/* Malformed vsock only: a valid one would open a vsock socket, never done here. */
	cli_refused(
		e, 2, "vsock:3", NULL, "--signer", "vsock:3", "pubkey", "--account", account, NULL);
	cli_refused(e, 2, "--bogus", NULL, "--signer", e->signer_arg, "pubkey", "--account",
		account, "--bogus", NULL);
	cli_refused(e, 2, "extra", NULL, "--signer", e->signer_arg, "pubkey", "--account", account,
		"extra", NULL);

	run_cli(e, &r, "--help", NULL);
	assert_int_equal(r.code, 0);
	assert_non_null(strstr(r.out, "Usage"));
	run_cli(e, &r, "--signer", e->signer_arg, "sign", "--help", NULL);
	assert_int_equal(r.code, 0);
	assert_non_null(strstr(r.out, "--hash"));
}

/* Sign hash with account acct through the CLI; sig_hex[129] and recid_text[8] get its answer. */
static void
cli_sign(struct env *e, uint64_t acct, const char *algo_name, const char *hash_hex, char *sig_hex,
	char *recid_text)
{
	struct cli_result r;
	char account[24];
	uint8_t sig[64];

	snprintf(account, sizeof(account), "%" PRIu64, acct);
	run_cli(e, &r, "--signer", e->signer_arg, "sign", "--account", account, "--hash", hash_hex,
		"--algo", algo_name, NULL);
	assert_json_ok(&r);
	json_hex(&r, "signature", sig, 64);
	hex_of(sig, 64, sig_hex);
	if (json_has(&r, "recid", "null"))
		strcpy(recid_text, "null");
	else
		snprintf(recid_text, 8, "%" PRIu64, json_u64(&r, "recid"));
}

/* out = hex with one bit of digit i flipped: still hex, no longer what was signed. */
static void
flip_hex(char *out, const char *hex, size_t i)
{
	static const char digits[] = "0123456789abcdef";
	const char *d;

	strcpy(out, hex);
	d = strchr(digits, out[i]);
	assert_non_null(d);
	out[i] = digits[(d - digits) ^ 1];
}

/* The CLI's verify must refuse: exit 1, one line naming account acct, saying why. */
static void
verify_refused(struct env *e, uint64_t acct, const char *algo_name, const char *hash_hex,
	const char *sig_hex, const char *recid, const char *why)
{
	struct cli_result r;
	char msg[64];

	snprintf(msg, sizeof(msg), "account %" PRIu64 ": signature does not verify", acct);
	cli_verify(e, &r, acct, algo_name, hash_hex, sig_hex, recid);
	assert_refused(&r, 1, msg, why);
}

/* A tampered or misattributed signature: exit 1, one line naming the account and why. */
static void
verify_refuses_bad_signatures(void **state)
{
	struct env *e = *state;
	const struct zcs_manifest_account *a = &e->fx.m.accounts[5], *b = &e->fx.m.accounts[6];
	const char *hash = "5a5a5a5a00112233445566778899aabbccddeeff00112233445566778899aabb";
	char sig[129], bad[129], recid[8], other_recid[8];
	struct cli_result r;

	cli_sign(e, a->account, "ecdsa-recoverable", hash, sig, recid);
	assert_true(strcmp(recid, "0") == 0 || strcmp(recid, "1") == 0);
	snprintf(other_recid, sizeof(other_recid), "%c", recid[0] == '0' ? '1' : '0');
	cli_verify(e, &r, a->account, "ecdsa-recoverable", hash, sig, recid);
	assert_verified(&r, a->account, "ecdsa-recoverable");

	/* One bit of r flipped. */
	flip_hex(bad, sig, 20);
	verify_refused(e, a->account, "ecdsa-recoverable", hash, bad, recid, "(invalid)");
	/* One bit of the hash flipped. */
	flip_hex(bad, hash, 63);
	verify_refused(e, a->account, "ecdsa-recoverable", bad, sig, recid, "(invalid)");
	/* The other recovery id: a valid ECDSA signature that recovers someone else. */
	verify_refused(e, a->account, "ecdsa-recoverable", hash, sig, other_recid,
		"(recovers another key)");
	/* The same r||s is plain ECDSA too, with recid none, but not with a recid. */
	cli_verify(e, &r, a->account, "ecdsa", hash, sig, "null");
	assert_verified(&r, a->account, "ecdsa");
	verify_refused(e, a->account, "ecdsa", hash, sig, "1", "(bad recid)");
	/* Another account's key. */
	verify_refused(e, b->account, "ecdsa-recoverable", hash, sig, recid, "(invalid)");

	/* BIP-340: tampered, wrong account, recid given. */
	cli_sign(e, a->account, "schnorr", hash, sig, recid);
	assert_string_equal(recid, "null");
	cli_verify(e, &r, a->account, "schnorr", hash, sig, recid);
	assert_verified(&r, a->account, "schnorr");
	flip_hex(bad, sig, 100);
	verify_refused(e, a->account, "schnorr", hash, bad, recid, "(invalid)");
	verify_refused(e, b->account, "schnorr", hash, sig, recid, "(invalid)");
	verify_refused(e, a->account, "schnorr", hash, sig, "2", "(bad recid)");
	/* A BIP-340 signature is no ECDSA one. */
	verify_refused(e, a->account, "ecdsa", hash, sig, "null", "does not verify");
}

/* Unknown account, missing or malformed manifest: run-time errors (exit 1) naming them. */
static void
verify_refuses_bad_manifest(void **state)
{
	static char text[1 << 16];
	struct env *e = *state;
	const char *hash = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
	uint64_t unknown = signer_fixture_unknown_account(&e->fx);
	char sig[129], recid[8], msg[64], path[PATH_MAX], account[24];
	struct cli_result r;
	ssize_t n;

	cli_sign(e, e->fx.m.accounts[0].account, "ecdsa", hash, sig, recid);
	snprintf(msg, sizeof(msg), "account %" PRIu64 ": not in", unknown);
	cli_verify(e, &r, unknown, "ecdsa", hash, sig, recid);
	assert_refused(&r, 1, msg, e->manifest);

	snprintf(account, sizeof(account), "%" PRIu64, e->fx.m.accounts[0].account);
	assert_int_equal(proc_path(path, sizeof(path), e->fx.dir, "none.json"), 0);
	cli_refused(e, 1, path, "No such file", "verify", "--manifest", path, "--account", account,
		"--hash", hash, "--signature", sig, "--algo", "ecdsa", NULL);

	/* keygen's manifest cut in the middle of an account. */
	n = proc_read_file(e->manifest, text, sizeof(text));
	assert_true(n > 200 && (size_t)n < sizeof(text) - 1);
	assert_int_equal(proc_path(path, sizeof(path), e->fx.dir, "cut.json"), 0);
	assert_int_equal(proc_write_file(path, text, (size_t)n - 100, 0644), 0);
	cli_refused(e, 1, path, "truncated", "verify", "--manifest", path, "--account", account,
		"--hash", hash, "--signature", sig, "--algo", "ecdsa", NULL);
}

/* verify's command line: each mistake is exit 2 naming the option. */
static void
verify_bad_args_refused(void **state)
{
	struct env *e = *state;
	const char *hash = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
	char sig[129], recid[8], account[24], short_sig[129], nonhex[129];
	struct cli_result r;

	snprintf(account, sizeof(account), "%" PRIu64, e->fx.m.accounts[0].account);
	cli_sign(e, e->fx.m.accounts[0].account, "ecdsa", hash, sig, recid);
	strcpy(short_sig, sig);
	short_sig[127] = '\0';
	strcpy(nonhex, sig);
	nonhex[64] = 'g';

	cli_refused(e, 2, "--hash", "10 characters", "verify", "--manifest", e->manifest,
		"--account", account, "--hash", "abcdef0123", "--signature", sig, "--algo", "ecdsa",
		NULL);
	cli_refused(e, 2, "--signature", "127 characters", "verify", "--manifest", e->manifest,
		"--account", account, "--hash", hash, "--signature", short_sig, "--algo", "ecdsa",
		NULL);
	cli_refused(e, 2, "--signature", "character 65", "verify", "--manifest", e->manifest,
		"--account", account, "--hash", hash, "--signature", nonhex, "--algo", "ecdsa",
		NULL);
	cli_refused(e, 2, "--manifest", NULL, "verify", "--account", account, "--hash", hash,
		"--signature", sig, "--algo", "ecdsa", NULL);
	cli_refused(e, 2, "--signature", NULL, "verify", "--manifest", e->manifest, "--account",
		account, "--hash", hash, "--algo", "ecdsa", NULL);
	cli_refused(e, 2, "--algo", NULL, "verify", "--manifest", e->manifest, "--account", account,
		"--hash", hash, "--signature", sig, NULL);
	cli_refused(e, 2, "--account", NULL, "verify", "--manifest", e->manifest, "--hash", hash,
		"--signature", sig, "--algo", "ecdsa", NULL);
	cli_refused(e, 2, "--hash", NULL, "verify", "--manifest", e->manifest, "--account", account,
		"--signature", sig, "--algo", "ecdsa", NULL);
	cli_refused(e, 2, "--algo", "rsa", "verify", "--manifest", e->manifest, "--account",
		account, "--hash", hash, "--signature", sig, "--algo", "rsa", NULL);
	cli_refused(e, 2, "--recid", "one", "verify", "--manifest", e->manifest, "--account",
		account, "--hash", hash, "--signature", sig, "--algo", "ecdsa", "--recid", "one",
		NULL);
	/* A recoverable signature without its recid cannot be checked. */
	cli_refused(e, 2, "--recid", NULL, "verify", "--manifest", e->manifest, "--account",
		account, "--hash", hash, "--signature", sig, "--algo", "ecdsa-recoverable",
		"--recid", "null", NULL);
	cli_refused(e, 2, "extra", NULL, "verify", "--manifest", e->manifest, "--account", account,
		"--hash", hash, "--signature", sig, "--algo", "ecdsa", "extra", NULL);
	/* Options of another command are refused by name, not ignored. */
	cli_refused(e, 2, "--manifest", NULL, "--signer", e->signer_arg, "sign", "--account",
		account, "--hash", hash, "--manifest", e->manifest, NULL);
	cli_refused(e, 2, "--hash", NULL, "--signer", e->signer_arg, "pubkey", "--account", account,
		"--hash", hash, NULL);

	run_cli(e, &r, "verify", "--help", NULL);
	assert_int_equal(r.code, 0);
	assert_non_null(strstr(r.out, "--signature"));
}

static void
no_signer(void **state)
{
	struct env *e = *state;
	char path[PATH_MAX], arg[PATH_MAX + 8], account[24];

	assert_int_equal(proc_path(path, sizeof(path), e->fx.dir, "none.sock"), 0);
	assert_int_equal(proc_unix_arg(arg, sizeof(arg), path), 0);
	snprintf(account, sizeof(account), "%" PRIu64, e->fx.m.accounts[0].account);
	cli_refused(
		e, 1, arg, "No such file", "--signer", arg, "pubkey", "--account", account, NULL);
}

static void
busy_signer(void **state)
{
	struct env *e = *state;
	union zcs_wire_frame hello;
	struct cli_result r;
	char account[24];

	snprintf(account, sizeof(account), "%" PRIu64, e->fx.m.accounts[0].account);
	assert_int_equal(proc_wait_unix_idle(e->fx.sock, PROC_REPLY_MS), 0);
	e->held = proc_signer_hello(e->fx.sock, 0, 1, &hello);
	assert_true(e->held >= 0);
	{
		char prog[PATH_MAX];
		char *argv[] = {
			prog, "--signer", e->signer_arg, "pubkey", "--account", account, NULL};

		/* run_cli() would wait for the signer to be idle: it never is here. */
		assert_int_equal(proc_build_path(prog, sizeof(prog), "cli/zcsign-cli"), 0);
		run_cli_argv(e, &r, argv);
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
		cmocka_unit_test_teardown(verify_refuses_bad_signatures, test_teardown),
		cmocka_unit_test_teardown(verify_refuses_bad_manifest, test_teardown),
		cmocka_unit_test_teardown(verify_bad_args_refused, test_teardown),
		cmocka_unit_test_teardown(no_signer, test_teardown),
		cmocka_unit_test_teardown(busy_signer, test_teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
