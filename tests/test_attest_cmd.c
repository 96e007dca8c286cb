/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zcsign-cli attest verify (cli/attest_cmd.c), run as a program: the genuine
 * AWS document (tests/fixtures/attest) is valid as of its own time, with its
 * own PCR values, from hex or raw CBOR, and prints its fields (--json); it is
 * invalid now (its leaf expired), with another PCR, with a nonce asked for,
 * under a dev root, and with a changed byte, each time exit 1 and one line
 * naming the check; a bad command line exits 2 naming the option.
 *
 * Then from a live signer: zcsign-attest-ca makes a dev CA and a leaf, a
 * zcsign-enclave --attest dev:LEAF answers ATTEST, and `zcsign-cli --signer
 * ... attest` verifies its document against the dev root with the signer's
 * PCR0 (the SHA-384 of the zcsign-enclave binary) and the nonce it sent;
 * another PCR0 or the AWS root is refused; a signer without --attest answers
 * no_attestation.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "hex.h"
#include "proc_util.h"

#define DOC "tests/fixtures/attest/aws-nitro-2025-07-18.hex"
#define AT "1752827858990"
#define PCR2                                                                                       \
	"21b9efbc184807662e966d34f390821309eeac6802309798826296bf3e8bec7c10edb30948c90ba67310f7b9" \
	"64fc500a"

static struct {
	char dir[64];
	char hex[4096]; /* the fixture's path */
	char raw[4096]; /* the same document as raw CBOR */
	char flipped[4096]; /* one byte of the signature changed */
	char out[4096], err[4096];
	char text[65536];
} g;

/* zcsign-cli with the arguments up to NULL: its exit code; stdout/stderr in g.text files. */
static int
cli(const char *arg, ...)
{
	char prog[4096];
	char *argv[32];
	va_list ap;
	int code;

	va_start(ap, arg);
	{
		const char *words[30];
		size_t n = 0;

		words[n++] = arg;
		while (n < 29 && (words[n] = va_arg(ap, const char *)) != NULL)
			n++;
		va_end(ap);
		assert_int_equal(proc_build_path(prog, sizeof(prog), "cli/zcsign-cli"), 0);
		argv[0] = prog;
		memcpy(argv + 1, words, n * sizeof(words[0]));
		argv[n + 1] = NULL;
	}
	code = proc_run(argv, g.out, g.err, PROC_REPLY_MS);
	assert_true(code >= 0);
	return code;
}

/* stdout or stderr of the last run must contain s. */
static void
says(const char *file, const char *s)
{
	assert_true(proc_read_file(file, g.text, sizeof(g.text)) >= 0);
	if (strstr(g.text, s) == NULL)
		fail_msg("'%s' not in '%s'", s, g.text);
}

static int
setup(void **state)
{
	const char *src = getenv("ZCS_SOURCE_DIR");
	uint8_t doc[8192];
	ssize_t n;

	(void)state;
	if (src == NULL || proc_tmpdir(g.dir, sizeof(g.dir), "attest-cli") != 0)
		return -1;
	snprintf(g.hex, sizeof(g.hex), "%s/%s", src, DOC);
	snprintf(g.raw, sizeof(g.raw), "%s/doc.cbor", g.dir);
	snprintf(g.flipped, sizeof(g.flipped), "%s/flipped.cbor", g.dir);
	snprintf(g.out, sizeof(g.out), "%s/out", g.dir);
	snprintf(g.err, sizeof(g.err), "%s/err", g.dir);
	n = proc_read_file(g.hex, g.text, sizeof(g.text));
	while (n > 0 && (g.text[n - 1] == '\n' || g.text[n - 1] == ' '))
		n--;
	if (n <= 0 || (size_t)n / 2 > sizeof(doc) ||
		zcs_hex_decode(g.text, (size_t)n / 2, doc) != 0)
		return -1;
	if (proc_write_file(g.raw, doc, (size_t)n / 2, 0600) != 0)
		return -1;
	doc[(size_t)n / 2 - 1] ^= 1;
	return proc_write_file(g.flipped, doc, (size_t)n / 2, 0600);
}

static int
teardown(void **state)
{
	(void)state;
	return proc_rmtree(g.dir);
}

static void
test_valid(void **state)
{
	(void)state;
	assert_int_equal(cli("attest", "verify", "--doc", g.hex, "--at", AT, NULL), 0);
	says(g.out, "valid: module i-0a9f2a8b8dd31c7c8-enc019802a541b75725");
	says(g.out, "PCR2 " PCR2);
	assert_int_equal(cli("attest", "verify", "--doc", g.raw, "--at", AT, "--root", "aws",
				 "--pcr", "2=" PCR2, "--json", NULL),
		0);
	says(g.out, "{\"valid\":true,\"module_id\":\"i-0a9f2a8b8dd31c7c8-enc019802a541b75725\"");
	says(g.out, "\"timestamp_ms\":" AT);
	says(g.out,
		"\"public_key\":"
		"\"d98bf9cbc8419b84dcec66816dfdba5ffa8bba6b75aae44be9c969b4b82316aa\"");
	says(g.out, "\"nonce\":null");
}

static void
test_invalid(void **state)
{
	char pem[4096];

	(void)state;
	/* Now: the leaf expired on 2025-07-18. */
	assert_int_equal(cli("attest", "verify", "--doc", g.hex, NULL), 1);
	says(g.err, "expired: ");
	assert_int_equal(
		cli("attest", "verify", "--doc", g.flipped, "--at", AT, "--json", NULL), 1);
	says(g.err, "signature: ");
	says(g.out, "{\"valid\":false,\"check\":\"signature\"}");
	assert_int_equal(
		cli("attest", "verify", "--doc", g.hex, "--at", AT, "--pcr", "3=" PCR2, NULL), 1);
	says(g.err, "pcr: PCR3 differs");
	assert_int_equal(
		cli("attest", "verify", "--doc", g.hex, "--at", AT, "--nonce", "0102", NULL), 1);
	says(g.err, "nonce: ");
	/* Another root: any PEM certificate that is not AWS's (a throwaway self-signed one). */
	snprintf(pem, sizeof(pem), "%s/root.pem", g.dir);
	{
		char cmd[8192];

		snprintf(cmd, sizeof(cmd),
			"openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes "
			"-keyout /dev/null -subj /CN=other -days 1 -out '%s' 2>/dev/null",
			pem);
		assert_int_equal(system(cmd), 0);
	}
	assert_int_equal(
		cli("attest", "verify", "--doc", g.hex, "--at", AT, "--root", pem, NULL), 1);
	says(g.err, "root: ");
}

static void
test_usage(void **state)
{
	(void)state;
	assert_int_equal(cli("attest", NULL), 2);
	says(g.err, "attest verify --doc FILE");
	assert_int_equal(cli("attest", "verify", NULL), 2);
	says(g.err, "--doc FILE is required");
	assert_int_equal(cli("attest", "verify", "--doc", g.hex, "--pcr", "32=00", NULL), 2);
	says(g.err, "--pcr '32=00'");
	assert_int_equal(cli("attest", "verify", "--doc", g.hex, "--pcr", "1=abc", NULL), 2);
	says(g.err, "--pcr 1: expected 64, 96 or 128 hex digits");
	assert_int_equal(cli("attest", "verify", "--doc", g.hex, "--at", "soon", NULL), 2);
	says(g.err, "--at: expected a time in ms");
	assert_int_equal(cli("attest", "verify", "--doc", g.hex, "--nonce", "abc", NULL), 2);
	says(g.err, "--nonce: expected an even number of hex digits");
	assert_int_equal(cli("attest", "verify", "--doc", g.hex, "--bogus", NULL), 2);
	says(g.err, "unknown option '--bogus'");
	assert_int_equal(cli("attest", "verify", "--doc", "/nonexistent", NULL), 1);
	says(g.err, "cannot open /nonexistent");
}

/* ---- from a live signer ---- */

/* A dev CA and leaf in g.dir, keys, a signer with (or without) --attest; returns its pid. */
static pid_t
signer_with_ca(const char *sock, bool attest)
{
	char ca[4096], keys[4096], log[4096], prefix[4096], spec[4200], prog[4096];
	char dir[2048];
	char *init[] = {prog, "init", "--out", dir, NULL};
	char *leaf[] = {prog, "leaf", "--ca", dir, "--out", dir, "--name", "signer", NULL};
	char *extra[] = {"--attest", spec, NULL};
	static bool made;

	snprintf(dir, sizeof(dir), "%s/ca", g.dir);
	snprintf(ca, sizeof(ca), "%s/root.pem", dir);
	snprintf(keys, sizeof(keys), "%s/shard-0.keys", dir);
	snprintf(log, sizeof(log), "%s/%s.log", g.dir, attest ? "attest" : "plain");
	snprintf(prefix, sizeof(prefix), "%s/signer", dir);
	snprintf(spec, sizeof(spec), "dev:%s", prefix);
	if (!made) {
		assert_int_equal(mkdir(dir, 0700), 0);
		assert_int_equal(proc_build_path(prog, sizeof(prog), "attest/zcsign-attest-ca"), 0);
		assert_int_equal(proc_run(init, g.out, g.err, PROC_REPLY_MS), 0);
		assert_int_equal(proc_run(leaf, g.out, g.err, PROC_REPLY_MS), 0);
		assert_int_equal(proc_keygen(dir, 8, 1), 0);
		made = true;
	}
	return proc_signer_start_with(keys, sock, log, attest ? extra : NULL);
}

static void
test_from_signer(void **state)
{
	char sock[4096], signer[4200], root[4096], pcr[128], hex[97], other[128];
	pid_t pid;
	int st;

	(void)state;
	snprintf(sock, sizeof(sock), "%s/a.sock", g.dir);
	snprintf(signer, sizeof(signer), "unix:%s", sock);
	snprintf(root, sizeof(root), "%s/ca/root.pem", g.dir);
	pid = signer_with_ca(sock, true);
	assert_true(pid > 0);
	proc_signer_pcr0_hex(hex);
	snprintf(pcr, sizeof(pcr), "0=%s", hex);
	assert_int_equal(
		cli("--signer", signer, "attest", "--root", root, "--pcr", pcr, "--json", NULL), 0);
	says(g.out, "\"valid\":true,\"module_id\":\"zcsign-dev-shard-0-of-1\"");
	says(g.out, hex);
	/* "zcsign shard 0/1 insecure-dev": this signer loaded a plaintext key file. */
	says(g.out, "\"user_data\":\"7a637369676e20736861726420302f3120696e7365637572652d646576\"");
	/* Another PCR0, the AWS root: refused, naming the check. */
	memcpy(other, pcr, sizeof(other));
	other[2] = other[2] == 'a' ? 'b' : 'a';
	assert_int_equal(
		cli("--signer", signer, "attest", "--root", root, "--pcr", other, NULL), 1);
	says(g.err, "pcr: PCR0 differs");
	assert_int_equal(cli("--signer", signer, "attest", NULL), 1);
	says(g.err, "root: ");
	assert_int_equal(proc_stop(pid, SIGTERM, PROC_STOP_MS, &st), 0);
	assert_true(proc_exited_ok(st));
	/* Without --attest: no document. */
	pid = signer_with_ca(sock, false);
	assert_true(pid > 0);
	assert_int_equal(cli("--signer", signer, "attest", "--root", root, NULL), 1);
	says(g.err, "no_attestation");
	assert_int_equal(proc_stop(pid, SIGTERM, PROC_STOP_MS, &st), 0);
	assert_true(proc_exited_ok(st));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_usage),
		cmocka_unit_test(test_from_signer),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
