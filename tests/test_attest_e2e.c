/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zcsignd attests every signer connection (engine/attest_check.c through
 * engine/worker.c), end to end: a dev attestation CA (zcsign-attest-ca), two
 * signers started with --attest dev:LEAF, zcsignd with attest = dev, the CA's
 * root pinned and PCR0 expected per shard: shard 0 expects the signer's real
 * PCR0 (the SHA-384 of the zcsign-enclave binary), shard 1 another one.
 *
 * What it proves: shard 0 goes UP only after its document verified and signs
 * (every signature verified against the manifest); shard 1 stays REFUSED,
 * its reason naming the failed check, in the shard snapshot and in
 * `zcsign-cli status`; its requests complete `attestation`, while shard 0
 * keeps signing; zcsignd then drains and exits 0 with totals that reconcile.
 */
#define _GNU_SOURCE
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

#include <zcsign/client.h>
#include <zcsign/status.h>

#include "engine_fixture.h"
#include "hex.h"
#include "lcores.h"
#include "shards.h"

#define NSHARDS 2
#define NACC 16
#define WAIT_MS 30000

static struct {
	struct engine_group e;
	char ca[64];
	char attest[NSHARDS][160];
	char ini[NSHARDS][512];
	char out[PATH_MAX], err[PATH_MAX];
} g;

/* zcsign-attest-ca with args up to NULL; 0 when it exits 0. */
static int
ca_run(const char *cmd, ...)
{
	char prog[PATH_MAX];
	char *argv[16];
	va_list ap;
	int n = 0;

	if (proc_build_path(prog, sizeof(prog), "attest/zcsign-attest-ca") != 0)
		return -1;
	argv[n++] = prog;
	argv[n++] = (char *)cmd;
	va_start(ap, cmd);
	while (n < 15 && (argv[n] = va_arg(ap, char *)) != NULL)
		n++;
	va_end(ap);
	argv[n] = NULL;
	return proc_run(argv, g.out, g.err, PROC_REPLY_MS) == 0 ? 0 : -1;
}

static int
group_teardown(void **state)
{
	int rc = 0;

	(void)state;
	rc = engine_group_stop(&g.e);
	proc_rmtree(g.ca);
	return rc;
}

static int
group_setup(void **state)
{
	char pcr0[97], wrong[97], name[16];
	unsigned int i;

	(void)state;
	memset(&g, 0, sizeof(g));
	if (engine_group_conf(&g.e, "attest_e2e", NSHARDS, NACC) != 0 ||
		proc_tmpdir(g.ca, sizeof(g.ca), "attest-ca") != 0)
		return -1;
	proc_signer_pcr0_hex(pcr0);
	snprintf(g.out, sizeof(g.out), "%s/ca.out", g.ca);
	snprintf(g.err, sizeof(g.err), "%s/ca.err", g.ca);
	if (ca_run("init", "--out", g.ca, NULL) != 0)
		return -1;
	memcpy(wrong, pcr0, sizeof(wrong));
	wrong[0] = wrong[0] == 'a' ? 'b' : 'a';
	for (i = 0; i < NSHARDS; i++) {
		snprintf(name, sizeof(name), "shard-%u", i);
		if (ca_run("leaf", "--ca", g.ca, "--out", g.ca, "--name", name, NULL) != 0)
			return -1;
		snprintf(g.attest[i], sizeof(g.attest[i]), "dev:%s/%s", g.ca, name);
		snprintf(g.ini[i], sizeof(g.ini[i]),
			"attest = dev\nattest_root = %s/root.pem\npcr0 = %s\n", g.ca,
			i == 0 ? pcr0 : wrong);
		g.e.c.shard_ini[i] = g.ini[i];
		g.e.c.signer_attest[i] = g.attest[i];
	}
	if (engine_group_start(&g.e, "test_attest_e2e") != 0) {
		proc_rmtree(g.ca);
		return -1;
	}
	return 0;
}

/* Wait until shard s is in state want; its snapshot in *si. */
static void
wait_state(unsigned int s, uint32_t want, struct zcs_shard_info *si)
{
	uint64_t end = proc_now_ns() + (uint64_t)WAIT_MS * 1000000u;

	for (;;) {
		assert_int_equal(zcs_shard_info(g.e.ec.sh, s, si), 0);
		if (si->state == want)
			return;
		if (proc_now_ns() > end)
			fail_msg("shard %u is %s, not %s, after %d ms", s,
				zcs_shard_conn_name(si->state), zcs_shard_conn_name(want), WAIT_MS);
		proc_sleep_ms(10);
	}
}

static void
test_attested_shard_signs(void **state)
{
	static const unsigned int algos[] = {ZCS_ALGO_ECDSA, ZCS_ALGO_SCHNORR};
	static const unsigned int n[NSHARDS] = {20, 0};
	struct zcs_shard_info si;

	(void)state;
	wait_state(0, ZCS_SHARD_UP, &si);
	assert_string_equal(si.refused_reason, "");
	engine_fixture_sign_verified(&g.e.f, g.e.ec.cl, n, NSHARDS, algos, 2, 0, WAIT_MS);
	assert_true(proc_file_contains(g.e.f.log, "attestation verified"));
}

static void
test_wrong_pcr_refused(void **state)
{
	const struct zcs_manifest_account *acct = engine_fixture_account_on(&g.e.f, 1, 0);
	uint64_t end = proc_now_ns() + (uint64_t)WAIT_MS * 1000000u;
	static const uint8_t hash[32] = {1};
	struct zcs_sign_args a = {.cookie = 7, .algo = ZCS_ALGO_ECDSA, .hash = hash};
	struct zcs_request *out[4];
	struct zcs_shard_info si;
	char prog[PATH_MAX], text[65536];
	char *argv[] = {prog, (char *)"--file-prefix", g.e.prefix, (char *)"status", NULL};
	unsigned int k;

	(void)state;
	wait_state(1, ZCS_SHARD_REFUSED, &si);
	if (strstr(si.refused_reason, "attestation: pcr: PCR0 differs") == NULL)
		fail_msg("reason '%s'", si.refused_reason);
	/* A request for shard 1 completes with the reason's status. */
	assert_non_null(acct);
	a.account = acct->account;
	assert_int_equal(zcs_submit(g.e.ec.cl, &a), 0);
	while ((k = zcs_poll(g.e.ec.cl, out, 4)) == 0) {
		assert_true(proc_now_ns() < end);
		proc_sleep_ms(1);
	}
	assert_int_equal(k, 1);
	assert_int_equal(out[0]->status, ZCS_ERR_ATTESTATION);
	zcs_release(g.e.ec.cl, out, k);
	/* zcsign-cli status says why. */
	assert_int_equal(proc_build_path(prog, sizeof(prog), "cli/zcsign-cli"), 0);
	assert_int_equal(proc_run(argv, g.out, g.err, PROC_REPLY_MS), 0);
	assert_true(proc_read_file(g.out, text, sizeof(text)) > 0);
	assert_non_null(strstr(text, "\"state\":\"refused\""));
	assert_non_null(strstr(text, "\"refused_reason\":\"signer unix:"));
	assert_non_null(strstr(text, "attestation: pcr: PCR0 differs"));
	/* Shard 0 signs on. */
	wait_state(0, ZCS_SHARD_UP, &si);
	{
		static const unsigned int algos[] = {ZCS_ALGO_ECDSA_RECOVERABLE};
		static const unsigned int n[NSHARDS] = {5, 0};

		engine_fixture_sign_verified(&g.e.f, g.e.ec.cl, n, NSHARDS, algos, 1, 100, WAIT_MS);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_attested_shard_signs),
		cmocka_unit_test(test_wrong_pcr_refused),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
