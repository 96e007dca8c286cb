/* SPDX-License-Identifier: BSD-3-Clause */
#define _GNU_SOURCE /* sched_getaffinity (engine_fixture.h), memmem */
/*
 * Provisioning end to end, the promise of the design: keys sealed to an
 * operator key (no plaintext file), two sealed signers with dev attestation,
 * a real zcsignd, this process its client.
 *
 * - Sealed, the engine's requests complete `sealed`; zcsign-cli provision
 *   gives each signer its bundle after checking its attestation; zcsignd's
 *   status then shows the key count, and every signature verifies.
 * - A second provisioning (500 more accounts) under a paced load on the old
 *   accounts: no request fails, and the new accounts sign within a measured
 *   time (printed).
 * - After signing, zcsignd's memory (every readable mapping, via
 *   /proc/PID/mem) holds none of the secret keys, and neither does any file
 *   the run wrote; the same scan finds them in a signer's memory (so the
 *   scan can find what it looks for).
 */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <rte_common.h>

#include <zcsign/client.h>

#include "bundle.h"
#include "engine_fixture.h"
#include "hex.h"
#include "secure.h"

#define NSHARDS 2
#define NACC 200
#define NACC2 500 /* the second generation: accounts NACC+1 .. NACC+NACC2 */
#define WAIT_MS 20000
#define LOAD_US 500 /* one request every 500 us on the old accounts: 2000/s */

static struct {
	struct engine_group e;
	char ca[64], opdir[64];
	char attest[NSHARDS][160], ini[NSHARDS][320];
	char op_key[160], op_pub[160], keys2[160], root[160], pcr0[97];
	EVP_PKEY *op;
	uint8_t *secrets; /* every secret key of both generations, 32 bytes each */
	size_t nsecrets;
	struct zcs_manifest m2;
} g;

static int
run_tool(const char *rel, char *const args[])
{
	char prog[PATH_MAX], log[200];
	char *argv[24];
	int n = 0;

	if (proc_build_path(prog, sizeof(prog), rel) != 0)
		return -1;
	argv[n++] = prog;
	for (; *args != NULL && n < 23; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	snprintf(log, sizeof(log), "%s/tools.log", g.opdir);
	if (proc_run(argv, log, log, PROC_START_MS) != 0) {
		proc_dump_log(rel, log);
		return -1;
	}
	return 0;
}

/* The secrets of every bundle in dir (shard-0.., NSHARDS of them), appended to g.secrets. */
static int
collect_secrets(const char *dir)
{
	char path[200], err[256];
	struct zcs_bundle_hdr h;
	uint8_t *buf, *rec, *grown;
	size_t len, i;
	unsigned int s;

	for (s = 0; s < NSHARDS; s++) {
		snprintf(path, sizeof(path), "%s/shard-%u.bundle", dir, s);
		if (zcs_bundle_read(&buf, &len, &h, err, sizeof(err), path) != 0)
			return -1;
		rec = zcs_secure_alloc((size_t)h.key_count * ZCS_BUNDLE_REC_LEN + 1);
		grown = realloc(g.secrets, (g.nsecrets + h.key_count) * 32);
		if (rec == NULL || grown == NULL ||
			zcs_bundle_open(rec, err, sizeof(err), &h, buf, len, g.op) != 0)
			return -1;
		g.secrets = grown;
		for (i = 0; i < h.key_count; i++)
			memcpy(g.secrets + (g.nsecrets + i) * 32, rec + i * ZCS_BUNDLE_REC_LEN + 8,
				32);
		g.nsecrets += h.key_count;
		zcs_secure_free(rec, (size_t)h.key_count * ZCS_BUNDLE_REC_LEN + 1);
		free(buf);
	}
	return 0;
}

static int
group_setup(void **state)
{
	char name[16], path[200], err[256], first[16], accounts[16];
	char *init[] = {"init", "--out", g.ca, NULL};
	char *leaf[] = {"leaf", "--ca", g.ca, "--out", g.ca, "--name", name, NULL};
	char *gen2[] = {"--accounts", accounts, "--shards", "2", "--first-account", first, "--out",
		g.keys2, "--operator-pub", g.op_pub, NULL};
	unsigned int i;

	(void)state;
	memset(&g, 0, sizeof(g));
	if (zcs_secure_heap_init() != 0 ||
		engine_group_conf(&g.e, "prov_e2e", NSHARDS, NACC) != 0 ||
		proc_tmpdir(g.ca, sizeof(g.ca), "prov-ca") != 0 ||
		proc_tmpdir(g.opdir, sizeof(g.opdir), "prov-op") != 0)
		return -1;
	/* The operator's key, and the two generations sealed to it. */
	snprintf(path, sizeof(path), "%s/op", g.opdir);
	snprintf(g.op_key, sizeof(g.op_key), "%s/op.key", g.opdir);
	snprintf(g.op_pub, sizeof(g.op_pub), "%s/op.pub", g.opdir);
	g.op = zcs_bundle_key_new();
	if (g.op == NULL || zcs_bundle_key_write(path, g.op, err, sizeof(err)) != 0)
		return -1;
	snprintf(g.keys2, sizeof(g.keys2), "%s/keys2", g.opdir);
	snprintf(first, sizeof(first), "%d", NACC + 1);
	snprintf(accounts, sizeof(accounts), "%d", NACC2);
	if (run_tool("attest/zcsign-attest-ca", init) != 0)
		return -1;
	snprintf(g.root, sizeof(g.root), "%s/root.pem", g.ca);
	proc_signer_pcr0_hex(g.pcr0);
	for (i = 0; i < NSHARDS; i++) {
		snprintf(name, sizeof(name), "shard-%u", i);
		if (run_tool("attest/zcsign-attest-ca", leaf) != 0)
			return -1;
		snprintf(g.attest[i], sizeof(g.attest[i]), "dev:%s/%s", g.ca, name);
		snprintf(g.ini[i], sizeof(g.ini[i]), "attest = dev\nattest_root = %s\npcr0 = %s\n",
			g.root, g.pcr0);
		g.e.c.shard_ini[i] = g.ini[i];
		g.e.c.signer_attest[i] = g.attest[i];
	}
	g.e.c.engine_ini = ENGINE_GROUP_INI "stats_interval_ms = 50\n";
	g.e.c.sealed = true;
	g.e.c.operator_pub = g.op_pub;
	if (engine_group_start(&g.e, "test_provision_e2e") != 0)
		return -1;
	/* The second generation is made after the first: newer, so a signer takes it. */
	if (run_tool("enclave/zcsign-keygen", gen2) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/manifest.json", g.keys2);
	if (zcs_manifest_load(&g.m2, err, sizeof(err), path) != 0)
		return -1;
	return collect_secrets(g.e.f.dir) == 0 && collect_secrets(g.keys2) == 0 ? 0 : -1;
}

static int
group_teardown(void **state)
{
	int rc;

	(void)state;
	rc = engine_group_stop(&g.e);
	zcs_manifest_free(&g.m2);
	EVP_PKEY_free(g.op);
	explicit_bzero(g.secrets, g.nsecrets * 32);
	free(g.secrets);
	proc_rmtree(g.ca);
	proc_rmtree(g.opdir);
	return rc;
}

/* zcsign-cli provision of shard s with the given bundles; started, not waited for. */
static pid_t
provision_start(unsigned int s, const char *b1, const char *b2, const char *log)
{
	char prog[PATH_MAX], signer[176], pcr[112];
	char *argv[] = {prog, "--signer", signer, "provision", "--operator-key", g.op_key, "--root",
		g.root, "--pcr", pcr, (char *)b1, (char *)b2, NULL};

	assert_int_equal(proc_build_path(prog, sizeof(prog), "cli/zcsign-cli"), 0);
	assert_int_equal(proc_unix_arg(signer, sizeof(signer), g.e.f.sock[s]), 0);
	snprintf(pcr, sizeof(pcr), "0=%s", g.pcr0);
	return proc_spawn_tied(argv, log, log);
}

static void
provision_wait(pid_t pid, const char *log)
{
	int status;

	assert_true(pid > 0);
	assert_int_equal(proc_wait(pid, WAIT_MS, &status), 0);
	if (!proc_exited_ok(status)) {
		proc_dump_log("zcsign-cli provision", log);
		fail_msg("zcsign-cli provision exited %d", proc_exit_code(status));
	}
}

/* One request through the engine; its completion (released). */
static uint16_t
sign_once(uint64_t account, uint8_t sig[64])
{
	struct zcs_request *out;
	struct zcs_sign_args a;
	uint8_t hash[32];
	uint64_t end = proc_now_ns() + (uint64_t)WAIT_MS * 1000000u;
	uint16_t st;

	assert_int_equal(getrandom(hash, 32, 0), 32);
	a = (struct zcs_sign_args){.account = account, .algo = ZCS_ALGO_ECDSA, .hash = hash};
	assert_int_equal(zcs_submit(g.e.ec.cl, &a), 0);
	while (zcs_poll(g.e.ec.cl, &out, 1) == 0) {
		if (proc_now_ns() > end)
			fail_msg("no completion in %d ms", WAIT_MS);
		proc_sleep_ms(1);
	}
	st = out->status;
	if (sig != NULL)
		memcpy(sig, out->sig, 64);
	zcs_release(g.e.ec.cl, &out, 1);
	return st;
}

/* Wait until zcsignd reports want keys from every signer (STATS every 50 ms). */
static void
wait_engine_keys(uint32_t want0, uint32_t want1)
{
	uint64_t end = proc_now_ns() + (uint64_t)WAIT_MS * 1000000u;
	struct zcs_shard_info a, b;

	for (;;) {
		assert_int_equal(zcs_shard_info(g.e.ec.sh, 0, &a), 0);
		assert_int_equal(zcs_shard_info(g.e.ec.sh, 1, &b), 0);
		if (a.signer_keys == want0 && b.signer_keys == want1 &&
			a.signer_key_source == ZCS_KEYS_PROVISIONED &&
			b.signer_key_source == ZCS_KEYS_PROVISIONED)
			return;
		if (proc_now_ns() > end)
			fail_msg("zcsignd shows %u and %u keys, not %u and %u", a.signer_keys,
				b.signer_keys, want0, want1);
		proc_sleep_ms(10);
	}
}

static uint32_t
shard_keys(const struct zcs_manifest *m, unsigned int s)
{
	uint32_t n = 0;
	size_t i;

	for (i = 0; i < m->count; i++)
		n += m->accounts[i].shard == s;
	return n;
}

static void
sealed_then_provisioned(void **state)
{
	char b[NSHARDS][200], log[NSHARDS][200];
	unsigned int n[NSHARDS] = {60, 60},
		     algos[] = {ZCS_ALGO_ECDSA, ZCS_ALGO_ECDSA_RECOVERABLE, ZCS_ALGO_SCHNORR};
	struct zcs_shard_info si;
	pid_t pid[NSHARDS];
	unsigned int s;

	(void)state;
	engine_fixture_wait_up(g.e.ec.sh, WAIT_MS);
	/* Sealed: the shard is up (attested), its signer holds nothing. */
	assert_int_equal(zcs_shard_info(g.e.ec.sh, 0, &si), 0);
	assert_int_equal(si.signer_key_source, ZCS_KEYS_SEALED);
	assert_int_equal(
		sign_once(engine_fixture_account_on(&g.e.f, 0, 0)->account, NULL), ZCS_ERR_SEALED);
	assert_true(proc_file_contains(g.e.f.log, "is sealed"));
	for (s = 0; s < NSHARDS; s++) {
		snprintf(b[s], sizeof(b[s]), "%s/shard-%u.bundle", g.e.f.dir, s);
		snprintf(log[s], sizeof(log[s]), "%s/provision-%u.log", g.opdir, s);
		pid[s] = provision_start(s, b[s], NULL, log[s]);
	}
	for (s = 0; s < NSHARDS; s++)
		provision_wait(pid[s], log[s]);
	wait_engine_keys(shard_keys(&g.e.f.m, 0), shard_keys(&g.e.f.m, 1));
	assert_true(proc_file_contains(g.e.f.log, "now holds"));
	engine_fixture_sign_verified(
		&g.e.f, g.e.ec.cl, n, NSHARDS, algos, RTE_DIM(algos), 0, WAIT_MS);
}

/* The second generation under load: nothing fails, the new accounts sign soon after. */
static void
hot_reload_under_load(void **state)
{
	char b1[NSHARDS][200], b2[NSHARDS][200], log[NSHARDS][200];
	const struct zcs_manifest_account *fresh[NSHARDS];
	struct zcs_request *out[64];
	uint64_t t0, next, done_at = 0, first_new[NSHARDS] = {0}, issued = 0, completed = 0;
	uint64_t failed = 0, bad_sig = 0;
	unsigned int s, k, i, pending_new[NSHARDS] = {0}, children = NSHARDS;
	pid_t pid[NSHARDS];
	uint8_t hashes[1024][32], new_hash[32];
	const struct zcs_manifest_account *accts[1024];
	int status;

	(void)state;
	assert_int_equal(getrandom(new_hash, 32, 0), 32);
	for (s = 0; s < NSHARDS; s++) {
		snprintf(b1[s], sizeof(b1[s]), "%s/shard-%u.bundle", g.e.f.dir, s);
		snprintf(b2[s], sizeof(b2[s]), "%s/shard-%u.bundle", g.keys2, s);
		snprintf(log[s], sizeof(log[s]), "%s/reload-%u.log", g.opdir, s);
		fresh[s] = NULL;
		for (i = 0; i < g.m2.count && fresh[s] == NULL; i++)
			if (g.m2.accounts[i].shard == s)
				fresh[s] = &g.m2.accounts[i];
		assert_non_null(fresh[s]);
		/* Not known yet. */
		assert_int_equal(sign_once(fresh[s]->account, NULL), ZCS_ERR_UNKNOWN_ACCOUNT);
	}
	t0 = proc_now_ns();
	for (s = 0; s < NSHARDS; s++)
		pid[s] = provision_start(s, b1[s], b2[s], log[s]);
	next = t0;
	/* Paced load on the old accounts; the new ones tried once both provisioners are done. */
	while (children > 0 || first_new[0] == 0 || first_new[1] == 0 ||
		proc_now_ns() < t0 + 300000000u) {
		uint64_t now = proc_now_ns();

		if (now - t0 > (uint64_t)WAIT_MS * 1000000u)
			fail_msg("reload did not finish in %d ms", WAIT_MS);
		for (s = 0; s < NSHARDS && children > 0; s++)
			if (pid[s] > 0 && proc_wait(pid[s], 0, &status) == 0) {
				if (!proc_exited_ok(status)) {
					proc_dump_log("zcsign-cli provision", log[s]);
					fail_msg("provisioning shard %u failed", s);
				}
				pid[s] = -1;
				if (--children == 0)
					done_at = proc_now_ns();
			}
		if (now >= next && issued - completed < 512) {
			unsigned int slot = (unsigned int)(issued % 1024);
			struct zcs_sign_args a;

			accts[slot] = engine_fixture_account_on(
				&g.e.f, (unsigned int)(issued % 2), (unsigned int)issued);
			assert_int_equal(getrandom(hashes[slot], 32, 0), 32);
			a = (struct zcs_sign_args){.account = accts[slot]->account,
				.cookie = slot,
				.algo = ZCS_ALGO_ECDSA,
				.hash = hashes[slot]};
			assert_int_equal(zcs_submit(g.e.ec.cl, &a), 0);
			issued++;
			next += LOAD_US * 1000u;
		}
		for (s = 0; s < NSHARDS && children == 0; s++)
			if (first_new[s] == 0 && !pending_new[s]) {
				struct zcs_sign_args a = {.account = fresh[s]->account,
					.cookie = 2000 + s,
					.algo = ZCS_ALGO_ECDSA,
					.hash = new_hash};

				assert_int_equal(zcs_submit(g.e.ec.cl, &a), 0);
				pending_new[s] = 1;
			}
		k = zcs_poll(g.e.ec.cl, out, RTE_DIM(out));
		for (i = 0; i < k; i++) {
			uint64_t c = out[i]->cookie;

			if (c >= 2000) {
				s = (unsigned int)(c - 2000);
				pending_new[s] = 0;
				if (out[i]->status == ZCS_OK) {
					assert_int_equal(
						zcs_verify(g.e.f.ctx, ZCS_ALGO_ECDSA, new_hash,
							out[i]->sig, 0, fresh[s]),
						0);
					first_new[s] = proc_now_ns();
				}
				continue;
			}
			completed++;
			if (out[i]->status != ZCS_OK)
				failed++;
			else if (zcs_verify(g.e.f.ctx, ZCS_ALGO_ECDSA, hashes[c], out[i]->sig, 0,
					 accts[c]) != 0)
				bad_sig++;
		}
		if (k > 0)
			zcs_release(g.e.ec.cl, out, k);
		if (k == 0)
			proc_sleep_ms(0);
	}
	while (completed < issued) {
		k = zcs_poll(g.e.ec.cl, out, RTE_DIM(out));
		for (i = 0; i < k; i++) {
			completed++;
			failed += out[i]->status != ZCS_OK;
		}
		if (k > 0)
			zcs_release(g.e.ec.cl, out, k);
		else
			proc_sleep_ms(1);
	}
	fprintf(stderr,
		"test_provision_e2e: reload under load: %" PRIu64 " requests, %" PRIu64
		" failed; provisioning took %.1f ms; new accounts signed %.1f / %.1f ms after it "
		"began (%.1f / %.1f ms after the provisioners returned)\n",
		issued, failed, (double)(done_at - t0) / 1e6, (double)(first_new[0] - t0) / 1e6,
		(double)(first_new[1] - t0) / 1e6, (double)(first_new[0] - done_at) / 1e6,
		(double)(first_new[1] - done_at) / 1e6);
	assert_true(issued >= 100);
	assert_int_equal(failed, 0);
	assert_int_equal(bad_sig, 0);
	wait_engine_keys(shard_keys(&g.e.f.m, 0) + shard_keys(&g.m2, 0),
		shard_keys(&g.e.f.m, 1) + shard_keys(&g.m2, 1));
}

/* Every regular file under dir: raw secrets, or their hex (either case), must not occur. */
static void
scan_tree(const char *dir, unsigned int *files)
{
	char path[PATH_MAX], hex[65];
	struct dirent *de;
	struct stat st;
	DIR *d = opendir(dir);
	static char buf[1 << 22];
	size_t k;
	ssize_t n, j;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (lstat(path, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			scan_tree(path, files);
			continue;
		}
		if (!S_ISREG(st.st_mode))
			continue;
		n = proc_read_file(path, buf, sizeof(buf) - 1);
		assert_true(n >= 0);
		(*files)++;
		for (k = 0; k < g.nsecrets; k++)
			if (memmem(buf, (size_t)n, g.secrets + k * 32, 32) != NULL)
				fail_msg("%s holds a secret key (raw)", path);
		/* Hex in either case: compare in lower case. */
		for (j = 0; j < n; j++)
			buf[j] = (char)tolower((unsigned char)buf[j]);
		for (k = 0; k < g.nsecrets; k++) {
			zcs_hex_encode(g.secrets + k * 32, 32, hex);
			if (memmem(buf, (size_t)n, hex, 64) != NULL)
				fail_msg("%s holds a secret key (hex)", path);
		}
	}
	closedir(d);
}

static void
no_key_outside_the_signers(void **state)
{
	uint64_t scanned, signer_scanned;
	unsigned int files = 0;
	long found, in_signer;

	(void)state;
	assert_true(g.nsecrets == NACC + NACC2);
	in_signer = proc_mem_scan(g.e.f.signer[0], g.secrets, g.nsecrets, &signer_scanned);
	found = proc_mem_scan(g.e.f.pid, g.secrets, g.nsecrets, &scanned);
	if (found == PROC_SCAN_SANITIZER) {
		fprintf(stderr, "test_provision_e2e: the memory scan is skipped: %s\n",
			proc_mem_scan_skip_reason(found));
	} else {
		/* Control: the scan finds the keys where they are (root reads the signer). */
		if (in_signer < 0)
			fprintf(stderr, "test_provision_e2e: the scan's control is skipped: %s\n",
				proc_mem_scan_skip_reason(in_signer));
		else
			assert_true(in_signer >= (long)shard_keys(&g.e.f.m, 0));
		assert_true(found >= 0);
		fprintf(stderr,
			"test_provision_e2e: zcsignd: %.1f MB of memory scanned, %ld secret keys "
			"found; signer 0: %.1f MB, %ld found\n",
			(double)scanned / 1e6, found, (double)signer_scanned / 1e6, in_signer);
		assert_true(scanned > 1000000);
		assert_int_equal(found, 0);
	}
	/* The disk: everything this run wrote (engine, signers, keys, CA, operator). */
	scan_tree(g.e.f.dir, &files);
	scan_tree(g.opdir, &files);
	scan_tree(g.ca, &files);
	assert_true(files > 10);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sealed_then_provisioned),
		cmocka_unit_test(hot_reload_under_load),
		cmocka_unit_test(no_key_outside_the_signers),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
