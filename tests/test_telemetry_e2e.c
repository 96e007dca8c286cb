/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The /zcsign/ telemetry commands on the real thing: keys from zcsign-keygen,
 * two zcsign-enclave signers, zcsignd with hugepages and EAL telemetry under
 * its own --file-prefix (engine_fixture.h, but started here with telemetry
 * on), load from this process as a DPDK secondary client (libzcsign), every
 * signature verified against the manifest; then every command is asked
 * through the EAL's telemetry socket by DPDK's own dpdk-telemetry.py
 * (commands piped on stdin, one JSON reply per line), whose replies are
 * flattened to "line.key.path=value" by python3's json module and read here.
 *
 * What it proves: every command answers on a running zcsignd through the
 * tool operators use; per shard, latency and signer counts and the shard's
 * signed counter equal the requests this test sent there; percentiles are
 * ordered, non-zero and below the test's wall time; a bad or missing
 * parameter answers null; gap_threshold_us from the INI file is the one
 * reported; zcsignd drains, exits 0 and its totals agree.
 *
 * ZCS_TEL_E2E_OUT=<file> keeps dpdk-telemetry.py's raw output there.
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
#include <sys/random.h>

#include <cmocka.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>

#include <zcsign/client.h>
#include <zcsign/telemetry.h>

#include "engine_fixture.h"
#include "shards.h"

#define NSHARDS 2
#define NACC 16
#define N0 300 /* signs sent to shard 0 */
#define N1 200 /* and to shard 1 */
#define WAIT_MS 30000
#define TELEMETRY_PY "/usr/bin/dpdk-telemetry.py"
#define TOOL_MS 30000

/* Flatten dpdk-telemetry.py's output: line i {"/cmd": v} -> "i.path=value" for every leaf. */
static const char flatten_py[] =
	"import json, sys\n"
	"def walk(i, p, v):\n"
	"    if isinstance(v, dict):\n"
	"        for k, x in v.items(): walk(i, p + '.' + k if p else k, x)\n"
	"    elif isinstance(v, list):\n"
	"        for j, x in enumerate(v): walk(i, p + '.' + str(j) if p else str(j), x)\n"
	"    else:\n"
	"        print('%d.%s=%s' % (i, p, 'null' if v is None else v))\n"
	"for i, line in enumerate(open(sys.argv[1])):\n"
	"    for cmd, v in json.loads(line).items(): walk(i, '', v)\n";

static struct {
	struct engine_group e; /* zcsignd, signers, this process as its secondary */
	uint64_t wall_ns;
	uint64_t sent[NSHARDS];
	char flat[65536]; /* "\n" + the flattened replies */
} g;

static int
group_teardown(void **state)
{
	(void)state;
	return engine_group_stop(&g.e);
}

static int
group_setup(void **state)
{
	(void)state;
	memset(&g, 0, sizeof(g));
	if (engine_group_conf(&g.e, "tel_e2e", NSHARDS, NACC) != 0)
		return -1;
	/* A threshold other than the default: the INI key reaches jitter,<lcore>. */
	g.e.c.engine_ini = ENGINE_GROUP_INI "gap_threshold_us = 20\n";
	g.e.c.telemetry = true;
	return engine_group_start(&g.e, "test_telemetry_e2e");
}

/* ---- load ---- */

/* N0 signs on shard 0, N1 on shard 1 (three algorithms), every one verified. */
static void
drive_load(void)
{
	static const unsigned int algos[] = {
		ZCS_ALGO_ECDSA, ZCS_ALGO_ECDSA_RECOVERABLE, ZCS_ALGO_SCHNORR};
	static const unsigned int n[NSHARDS] = {N0, N1};
	uint64_t t0 = rte_rdtsc();

	engine_fixture_sign_verified(
		&g.e.f, g.e.ec.cl, n, NSHARDS, algos, RTE_DIM(algos), 0, WAIT_MS);
	g.wall_ns = zcs_tsc_to_ns(rte_rdtsc() - t0);
	g.sent[0] += N0;
	g.sent[1] += N1;
}

/* ---- dpdk-telemetry.py ---- */

/* Run argv with stdin from in, stdout to out; 0 when it exits 0 within TOOL_MS. */
static int
run_tool(char *const argv[], const char *in, const char *out, const char *err)
{
	pid_t pid = proc_spawn_stdin(argv, in, out, err);
	int st;

	if (pid < 0)
		return -1;
	if (proc_wait(pid, TOOL_MS, &st) != 0) {
		proc_stop(pid, SIGKILL, PROC_STOP_MS, NULL);
		return -1;
	}
	return proc_exited_ok(st) ? 0 : -1;
}

/* ZCS_TEL_E2E_OUT=path keeps a copy of the raw replies (docs/TELEMETRY.md's examples). */
static void
keep_replies(const char *out)
{
	static char text[65536];
	const char *keep = getenv("ZCS_TEL_E2E_OUT");
	ssize_t n;

	if (keep == NULL || keep[0] == '\0')
		return;
	n = proc_read_file(out, text, sizeof(text));
	unlink(keep);
	if (n < 0 || proc_write_file(keep, text, (size_t)n, 0644) != 0)
		fprintf(stderr, "cannot keep the replies in %s\n", keep);
}

/* Ask every command in cmds (one per line) and load the flattened replies into g.flat. */
static void
query(const char *cmds)
{
	char script[PATH_MAX], out[PATH_MAX], flat[PATH_MAX], err[PATH_MAX], prefix[96];
	char *tel[] = {
		(char *)"/usr/bin/python3", (char *)TELEMETRY_PY, (char *)"-f", prefix, NULL};
	char *py[] = {(char *)"/usr/bin/python3", (char *)"-c", (char *)flatten_py, out, NULL};

	assert_int_equal(proc_path(script, sizeof(script), g.e.f.dir, "tel.in"), 0);
	assert_int_equal(proc_path(out, sizeof(out), g.e.f.dir, "tel.out"), 0);
	assert_int_equal(proc_path(flat, sizeof(flat), g.e.f.dir, "tel.flat"), 0);
	assert_int_equal(proc_path(err, sizeof(err), g.e.f.dir, "tel.err"), 0);
	snprintf(prefix, sizeof(prefix), "%s", g.e.prefix);
	unlink(script);
	assert_int_equal(proc_write_file(script, cmds, strlen(cmds), 0600), 0);
	if (run_tool(tel, script, out, err) != 0) {
		proc_dump_log("dpdk-telemetry.py", err);
		fail_msg("dpdk-telemetry.py failed");
	}
	if (run_tool(py, "/dev/null", flat, err) != 0) {
		proc_dump_log("dpdk-telemetry.py output", out);
		proc_dump_log("flatten", err);
		fail_msg("its output is not one JSON reply per line");
	}
	g.flat[0] = '\n';
	assert_true(proc_read_file(flat, g.flat + 1, sizeof(g.flat) - 1) > 0);
	keep_replies(out);
}

/* The value of "<line>.<path>", or NULL. */
static const char *
flat_get(unsigned int line, const char *path, char *buf, size_t len)
{
	char key[128];
	const char *p, *e;

	snprintf(key, sizeof(key), "\n%u.%s=", line, path);
	p = strstr(g.flat, key);
	if (p == NULL)
		return NULL;
	p += strlen(key);
	e = strchr(p, '\n');
	snprintf(buf, len, "%.*s", (int)(e != NULL ? e - p : (ptrdiff_t)strlen(p)), p);
	return buf;
}

static uint64_t
flat_u64(unsigned int line, const char *path)
{
	char buf[128];
	char *end;
	uint64_t v;

	if (flat_get(line, path, buf, sizeof(buf)) == NULL)
		fail_msg("no %u.%s in the replies:%s", line, path, g.flat);
	v = strtoull(buf, &end, 10);
	if (*end != '\0' || buf[0] == '\0')
		fail_msg("%u.%s = %s: not a number", line, path, buf);
	return v;
}

static bool
flat_is(unsigned int line, const char *path, const char *want)
{
	char buf[256];

	return flat_get(line, path, buf, sizeof(buf)) != NULL && strcmp(buf, want) == 0;
}

/* A percentile dict (scope "" or "round_trip." ...): ordered, non-zero, below the wall time. */
static uint64_t
check_percentiles(unsigned int line, const char *scope)
{
	static const char *const keys[] = {"min", "p50", "p90", "p99", "p99_9", "p99_99", "max"};
	uint64_t prev = 0, v;
	char path[64];
	unsigned int i;

	for (i = 0; i < RTE_DIM(keys); i++) {
		snprintf(path, sizeof(path), "%s%s", scope, keys[i]);
		v = flat_u64(line, path);
		if (v < prev || v == 0 || v >= g.wall_ns)
			fail_msg("%u.%s = %" PRIu64 " (previous %" PRIu64 ", wall %" PRIu64 " ns)",
				line, path, v, prev, g.wall_ns);
		prev = v;
	}
	snprintf(path, sizeof(path), "%scount", scope);
	return flat_u64(line, path);
}

/* ---- the test ---- */

static void
test_every_command(void **state)
{
	struct engine_totals tot;
	char cmds[1024], want[8 + sizeof(g.e.f.sock[0])];
	unsigned int s, lc[NSHARDS];

	(void)state;
	engine_fixture_wait_up(g.e.ec.sh, WAIT_MS);
	drive_load();
	for (s = 0; s < NSHARDS; s++)
		lc[s] = g.e.ec.sh->shards[s].lcore;
	snprintf(cmds, sizeof(cmds),
		"/zcsign/info\n" /* 0 */
		"/zcsign/shards\n" /* 1 */
		"/zcsign/shard,0\n" /* 2 */
		"/zcsign/shard,1\n" /* 3 */
		"/zcsign/latency,0\n" /* 4 */
		"/zcsign/latency,1\n" /* 5 */
		"/zcsign/signer,0\n" /* 6 */
		"/zcsign/signer,1\n" /* 7 */
		"/zcsign/jitter,%u\n" /* 8 */
		"/zcsign/jitter,%u\n" /* 9 */
		"/zcsign/latency,2\n" /* 10: no such shard */
		"/zcsign/jitter,0\n" /* 11: the main lcore has no worker */
		"/zcsign/shard\n" /* 12: missing parameter */
		"/zcsign/signer,x\n" /* 13: malformed */
		"quit\n",
		lc[0], lc[1]);
	query(cmds);

	assert_int_equal(flat_u64(0, "shards"), NSHARDS);
	assert_int_equal(flat_u64(0, "lcores"), NSHARDS + 1);
	assert_true(flat_is(0, "poll_mode", "backoff"));
	assert_int_equal(flat_u64(0, "gap_threshold_ns"), 20000);
	assert_true(flat_u64(0, "uptime_ns") >= g.wall_ns);
	assert_true(flat_u64(0, "pid") == (uint64_t)g.e.f.pid);
	for (s = 0; s < NSHARDS; s++) {
		char path[32], buf[64];

		snprintf(path, sizeof(path), "shard_lcore.%u", s);
		assert_int_equal(flat_u64(0, path), lc[s]);
		snprintf(path, sizeof(path), "shard_nonce_mode.%u", s);
		assert_non_null(flat_get(0, path, buf, sizeof(buf)));
		assert_true(strcmp(buf, "unknown") != 0);
		snprintf(path, sizeof(path), "shard_isolation.%u", s);
		assert_non_null(flat_get(0, path, buf, sizeof(buf)));
	}
	assert_int_equal(flat_u64(1, "0"), 0);
	assert_int_equal(flat_u64(1, "1"), 1);

	for (s = 0; s < NSHARDS; s++) {
		snprintf(want, sizeof(want), "unix:%s", g.e.f.sock[s]);
		assert_true(flat_is(2 + s, "state", "up"));
		assert_true(flat_is(2 + s, "endpoint", want));
		assert_int_equal(flat_u64(2 + s, "signed"), g.sent[s]);
		assert_int_equal(flat_u64(2 + s, "by_status.ok"), g.sent[s]);
		assert_int_equal(flat_u64(2 + s, "failed"), 0);
		assert_int_equal(flat_u64(2 + s, "ring_count"), 0);
		assert_int_equal(flat_u64(2 + s, "in_flight"), 0);
		assert_int_equal(flat_u64(2 + s, "signer_keys") > 0, 1);
		assert_int_equal(check_percentiles(4 + s, ""), g.sent[s]);
		assert_int_equal(check_percentiles(6 + s, "round_trip."), g.sent[s]);
		assert_int_equal(check_percentiles(6 + s, "service."), g.sent[s]);
		assert_int_equal(flat_u64(8 + s, "lcore"), lc[s]);
		assert_int_equal(flat_u64(8 + s, "shard"), s);
		assert_int_equal(flat_u64(8 + s, "threshold_ns"), 20000);
		assert_true(flat_u64(8 + s, "gap.count") > 0);
		assert_true(flat_u64(8 + s, "busy_cycles") > 0);
		assert_true(flat_u64(8 + s, "busy_share_permille") <= 1000);
		/* The signer's own time is part of the round trip, which is part of the whole. */
		assert_true(flat_u64(6 + s, "service.p50") <= flat_u64(6 + s, "round_trip.p50"));
		assert_true(flat_u64(6 + s, "round_trip.min") <= flat_u64(4 + s, "max"));
	}
	assert_true(flat_is(10, "", "null"));
	assert_true(flat_is(11, "", "null"));
	assert_true(flat_is(12, "", "null"));
	assert_true(flat_is(13, "", "null"));

	/*
	 * zcsignd drains, exits 0, and its totals agree with what we sent. This
	 * process leaves the process group first: a secondary outliving its
	 * primary cannot release its memory cleanly.
	 */
	zcs_detach(g.e.ec.cl);
	g.e.ec.cl = NULL;
	rte_eal_cleanup();
	g.e.ec.eal = false;
	assert_int_equal(engine_fixture_zcsignd_stop(&g.e.f, &tot), 0);
	assert_int_equal(tot.signed_ok, N0 + N1);
	assert_int_equal(tot.failed, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_command),
	};

	if (access(TELEMETRY_PY, R_OK) != 0) {
		fprintf(stderr, "%s missing (package dpdk-dev): skipped\n", TELEMETRY_PY);
		return 77;
	}
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
