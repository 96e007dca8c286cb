/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zcsign-cli top (cli/top.c), end to end. Its JSON reader is tested by
 * test_json.c, its telemetry client and reply checks by test_tel_client.c.
 *
 * Two zcsign-enclave signers and zcsignd with EAL
 * telemetry on (engine_fixture.h, conf.telemetry), load from this process as
 * a DPDK secondary (libzcsign), every signature verified against the
 * manifest. What it proves: `top --once --json` reports every shard, up, with
 * signed and latency counts equal to the requests sent there, errors equal to
 * the requests for an unknown account, percentiles ordered; `top --json`
 * while load arrives in bursts reports a rate above zero and ends with every
 * request counted; live `top` with stdout to a file prints one plain table
 * per interval (no ANSI codes) and exits 0 on SIGTERM (ZCS_TOP_OUT=<file>
 * keeps the output); without an engine, top exits 1 naming the socket path
 * and prefix. zcsignd then drains, exits 0, and its totals equal what was
 * sent.
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
#include <sys/socket.h>

#include <cmocka.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>

#include <zcsign/client.h>
#include <zcsign/telemetry.h>

#include "engine_fixture.h"
#include "shards.h"

#include "json.h"
#include "tel_client.h"
#include "top_snap.h"

#define NSHARDS 2
#define NACC 16
#define N0 120 /* signs sent to shard 0 before the --once snapshot */
#define N1 80 /* and to shard 1 */
#define BURSTS 10 /* while `top --json` runs: BURSTS x BURST_N, BURST_MS apart */
#define BURST_N 20
#define BURST_MS 100
#define WAIT_MS 30000
#define CLI_MS 30000

static struct json_doc doc; /* 320 KiB: not on the stack */

/* ---- no engine ---- */

static void
run_cli(char *const argv[], const char *out, const char *err, int *code)
{
	*code = proc_run_tied(argv, out, err, CLI_MS);
}

static void
test_no_engine(void **state)
{
	char prog[PATH_MAX], dir[] = "/tmp/zcs-top-none-XXXXXX", out[PATH_MAX], err[PATH_MAX];
	char prefix[64], sock[PATH_MAX], want[PATH_MAX + 256], text[2048];
	char *once[] = {prog, (char *)"--file-prefix", prefix, (char *)"top", (char *)"--once",
		(char *)"--json", NULL};
	char *live[] = {prog, (char *)"--file-prefix", prefix, (char *)"top", NULL};
	int code;

	(void)state;
	assert_int_equal(proc_build_path(prog, sizeof(prog), "cli/zcsign-cli"), 0);
	assert_non_null(mkdtemp(dir));
	assert_int_equal(proc_path(out, sizeof(out), dir, "out"), 0);
	assert_int_equal(proc_path(err, sizeof(err), dir, "err"), 0);
	snprintf(prefix, sizeof(prefix), "zcs_top_none_%d", (int)getpid());
	assert_int_equal(engine_telemetry_sock(sock, sizeof(sock), prefix), 0);
	snprintf(want, sizeof(want),
		"zcsign-cli: no telemetry socket at %s: is zcsignd running with "
		"--file-prefix %s (and telemetry enabled)?\n",
		sock, prefix);
	run_cli(once, out, err, &code);
	assert_int_equal(code, 1);
	assert_true(proc_read_file(err, text, sizeof(text)) >= 0);
	assert_string_equal(text, want);
	assert_int_equal(proc_read_file(out, text, sizeof(text)), 0);
	run_cli(live, out, err, &code);
	assert_int_equal(code, 1);
	assert_true(proc_read_file(err, text, sizeof(text)) >= 0);
	assert_string_equal(text, want);
	proc_rmtree(dir);
}

/* ---- the real thing ---- */

static struct {
	struct engine_group e; /* zcsignd, signers, this process as its secondary */
	char prog[PATH_MAX];
	unsigned int next_account; /* engine_fixture_account_on() index of the next sign */
	uint64_t sent[NSHARDS]; /* signed ok */
	uint64_t failed[NSHARDS]; /* refused by the signer: unknown account */
	char text[1 << 20];
} g;

static int
engine_teardown(void **state)
{
	(void)state;
	return engine_group_stop(&g.e);
}

static int
engine_setup(void **state)
{
	(void)state;
	memset(&g, 0, sizeof(g));
	if (engine_group_conf(&g.e, "top", NSHARDS, NACC) != 0 ||
		proc_build_path(g.prog, sizeof(g.prog), "cli/zcsign-cli") != 0)
		return -1;
	g.e.c.telemetry = true;
	return engine_group_start(&g.e, "test_top");
}

/* n0 signs on shard 0 and n1 on shard 1, all completed and verified before returning. */
static void
sign_burst(unsigned int n0, unsigned int n1)
{
	static const unsigned int algo = ZCS_ALGO_ECDSA;
	const unsigned int n[NSHARDS] = {n0, n1};

	engine_fixture_sign_verified(
		&g.e.f, g.e.ec.cl, n, NSHARDS, &algo, 1, g.next_account, WAIT_MS);
	g.next_account += n0 + n1;
	g.sent[0] += n0;
	g.sent[1] += n1;
}

/* n signs for an account no signer holds, on shard s: each completes failed. */
static void
sign_unknown(unsigned int s, unsigned int n)
{
	uint64_t end = proc_now_ns() + (uint64_t)WAIT_MS * 1000000u;
	uint8_t hash[32] = {1};
	struct zcs_request *out[8];
	unsigned int i, got = 0;
	struct zcs_sign_args a = {.account = engine_fixture_unknown_account(&g.e.f, s),
		.algo = ZCS_ALGO_ECDSA,
		.hash = hash};

	for (i = 0; i < n; i++)
		assert_int_equal(zcs_submit(g.e.ec.cl, &a), 0);
	while (got < n) {
		unsigned int k = zcs_poll(g.e.ec.cl, out, RTE_DIM(out));

		if (k == 0 && proc_now_ns() > end)
			fail_msg("%u of %u completions", got, n);
		if (k == 0)
			proc_sleep_ms(1);
		for (i = 0; i < k; i++)
			assert_int_equal(out[i]->status, ZCS_ERR_UNKNOWN_ACCOUNT);
		zcs_release(g.e.ec.cl, out, k);
		got += k;
	}
	g.failed[s] += n;
}

/* Member path "a.b" of object o in doc as u64, failing the test with the text. */
static uint64_t
u64_at(int o, const char *key, const char *sub)
{
	uint64_t v;
	int i = json_find(&doc, o, key);

	if (sub != NULL)
		i = json_find(&doc, i, sub);
	if (json_u64(&doc, i, &v) != 0)
		fail_msg("%s%s%s: not an unsigned integer in %s", key, sub ? "." : "",
			sub ? sub : "", g.text);
	return v;
}

/* A number that may have a fraction (rate_per_s); -1 for null. */
static double
num_at(int o, const char *key)
{
	int i = json_find(&doc, o, key);

	if (i >= 0 && doc.node[i].type == JSON_NULL)
		return -1;
	if (i < 0 || doc.node[i].type != JSON_NUM)
		fail_msg("%s: not a number in %s", key, g.text);
	return strtod(doc.text + doc.node[i].start, NULL);
}

/* Shard i as zcsignd's memzone has it now (the snapshot of shards.h). */
static void
shard_now(unsigned int i, struct zcs_shard_info *si)
{
	assert_int_equal(zcs_shard_info(g.e.ec.sh, i, si), 0);
}

/* Shard i's signer, as its last STATS reported it to the engine. */
static void
signer_now(unsigned int i, struct zcs_signer_stats *st)
{
	struct zcs_shard_info si;

	shard_now(i, &si);
	assert_int_equal(si.stats_rc, 0);
	*st = si.signer;
}

/* One snapshot line of top --json (at text) against what was sent; its total rate. */
static double
check_snapshot(const char *line, size_t len, bool rate_known)
{
	static const char *const pct[] = {"p50", "p99", "p99_9", "max"};
	struct zcs_shard_info si;
	uint64_t prev, v, total = 0;
	unsigned int s, k;
	int sh, x;
	char state[16];

	if (json_parse(&doc, line, len) != 0)
		fail_msg("top --json printed no JSON (%s): %.*s", doc.err, (int)len, line);
	assert_true(u64_at(0, "pid", NULL) == (uint64_t)g.e.f.pid);
	sh = json_find(&doc, 0, "shards");
	assert_true(sh >= 0 && doc.node[sh].type == JSON_ARR);
	assert_int_equal(doc.node[sh].kids, NSHARDS);
	for (s = 0; s < NSHARDS; s++) {
		x = json_at(&doc, sh, s);
		assert_int_equal(u64_at(x, "shard", NULL), s);
		assert_int_equal(
			json_str(&doc, json_find(&doc, x, "state"), state, sizeof(state)), 0);
		assert_string_equal(state, "up");
		shard_now(s, &si);
		assert_int_equal(u64_at(x, "lcore", NULL), si.lcore);
		assert_int_equal(u64_at(x, "completed", NULL), g.sent[s] + g.failed[s]);
		assert_int_equal(u64_at(x, "signed", NULL), g.sent[s]);
		assert_int_equal(u64_at(x, "errors", NULL), g.failed[s]);
		assert_int_equal(u64_at(x, "failed", NULL), g.failed[s]);
		assert_int_equal(u64_at(x, "in_flight", NULL), 0);
		assert_int_equal(u64_at(x, "latency_ns", "count"), g.sent[s]);
		for (k = 0, prev = 1; k < RTE_DIM(pct); k++) {
			v = u64_at(x, "latency_ns", pct[k]);
			if (v < prev || v > 10000000000ull)
				fail_msg("shard %u %s = %" PRIu64 " after %" PRIu64, s, pct[k], v,
					prev);
			prev = v;
		}
		assert_true(u64_at(x, "max_loop_gap_ns", NULL) > 0);
		assert_true(num_at(x, "rate_per_s") >= (rate_known ? 0 : -1));
		total += g.sent[s] + g.failed[s];
	}
	assert_int_equal(u64_at(json_find(&doc, 0, "total"), "completed", NULL), total);
	return num_at(json_find(&doc, 0, "total"), "rate_per_s");
}

/*
 * ZCS_TOP_OUT=path keeps a copy of top's output (docs/TELEMETRY.md's
 * examples): the tables in path, the --once JSON in path.json.
 */
static void
keep_output(const char *out, const char *suffix)
{
	static char copy[1 << 16];
	const char *keep = getenv("ZCS_TOP_OUT");
	char path[PATH_MAX];
	ssize_t n;

	if (keep == NULL || keep[0] == '\0')
		return;
	snprintf(path, sizeof(path), "%s%s", keep, suffix);
	n = proc_read_file(out, copy, sizeof(copy));
	unlink(path);
	if (n < 0 || proc_write_file(path, copy, (size_t)n, 0644) != 0)
		fprintf(stderr, "cannot keep top's output in %s\n", path);
}

/* Until every signer's STATS (every second) counts the signs sent to it. */
static void
wait_signer_stats(void)
{
	uint64_t deadline = proc_now_ns() + 10ull * 1000000000u;
	struct zcs_signer_stats s = {0};
	unsigned int i;

	for (i = 0; i < NSHARDS; i++) {
		for (;;) {
			signer_now(i, &s);
			if (s.rx_tsc != 0 && s.signed_ok == g.sent[i])
				break;
			if (proc_now_ns() > deadline)
				fail_msg("shard %u: the signer's STATS say %" PRIu64
					 " signed, %" PRIu64 " were",
					i, s.signed_ok, g.sent[i]);
			proc_sleep_ms(20);
		}
	}
}

/* top's "signer" of each shard: what that signer last reported, through telemetry. */
static void
check_signer(int snap)
{
	struct zcs_signer_stats s = {0};
	char mode[32];
	unsigned int i;
	int x, sg;

	for (i = 0; i < NSHARDS; i++) {
		x = json_at(&doc, json_find(&doc, snap, "shards"), i);
		sg = json_find(&doc, x, "signer");
		assert_true(sg >= 0 && doc.node[sg].type == JSON_OBJ);
		assert_int_equal(
			json_str(&doc, json_find(&doc, sg, "nonce_mode"), mode, sizeof(mode)), 0);
		assert_string_equal(mode, "precomputed"); /* the signers' default */
		signer_now(i, &s);
		/* Only a sign can miss, and none happens now: the same count on both sides. */
		assert_int_equal(u64_at(sg, "misses", NULL), s.misses);
		assert_int_equal(u64_at(sg, "ecdsa_pool_capacity", NULL), s.ecdsa_capacity);
		assert_true(s.ecdsa_capacity > 0);
		assert_true(u64_at(sg, "ecdsa_pool_depth", NULL) <= s.ecdsa_capacity);
	}
}

static void
test_once_json(void **state)
{
	char out[PATH_MAX], err[PATH_MAX];
	char *argv[] = {g.prog, (char *)"--file-prefix", g.e.prefix, (char *)"top",
		(char *)"--once", (char *)"--json", (char *)"--interval", (char *)"0.2", NULL};
	ssize_t n;
	int code;

	(void)state;
	engine_fixture_wait_up(g.e.ec.sh, WAIT_MS);
	sign_burst(N0, N1);
	sign_unknown(1, 3);
	wait_signer_stats();
	assert_int_equal(proc_path(out, sizeof(out), g.e.f.dir, "once.out"), 0);
	assert_int_equal(proc_path(err, sizeof(err), g.e.f.dir, "once.err"), 0);
	run_cli(argv, out, err, &code);
	if (code != 0)
		proc_dump_log("zcsign-cli top", err);
	assert_int_equal(code, 0);
	keep_output(out, ".json");
	n = proc_read_file(out, g.text, sizeof(g.text));
	/* One line, one object; nothing happened between its two reads: rate 0. */
	assert_true(n > 0 && g.text[n - 1] == '\n' && strchr(g.text, '\n') == g.text + n - 1);
	assert_true(check_snapshot(g.text, (size_t)n - 1, true) == 0.0);
	check_signer(0);
}

/* top --json live while load arrives in bursts: some refresh sees a rate. */
static void
test_live_json_rate(void **state)
{
	char out[PATH_MAX], err[PATH_MAX];
	char *argv[] = {g.prog, (char *)"--file-prefix", g.e.prefix, (char *)"top",
		(char *)"--json", (char *)"--interval", (char *)"0.2", NULL};
	double rate, best = 0;
	unsigned int i, lines = 0;
	char *line, *nl;
	int st = 0;
	pid_t pid;

	(void)state;
	engine_fixture_wait_up(g.e.ec.sh, WAIT_MS);
	assert_int_equal(proc_path(out, sizeof(out), g.e.f.dir, "live-json.out"), 0);
	assert_int_equal(proc_path(err, sizeof(err), g.e.f.dir, "live-json.err"), 0);
	pid = proc_spawn_tied(argv, out, err);
	assert_true(pid > 0);
	for (i = 0; i < BURSTS; i++) {
		sign_burst(BURST_N / 2, BURST_N / 2);
		proc_sleep_ms(BURST_MS);
	}
	/* A refresh after the last burst, so the last line counts everything. */
	proc_sleep_ms(500);
	assert_int_equal(proc_stop(pid, SIGTERM, PROC_STOP_MS, &st), 0);
	if (!proc_exited_ok(st))
		proc_dump_log("zcsign-cli top --json", err);
	assert_true(proc_exited_ok(st));
	assert_true(proc_read_file(out, g.text, sizeof(g.text)) > 0);
	/* Only the last line must match the final counts; every line must be a snapshot. */
	for (line = g.text; (nl = strchr(line, '\n')) != NULL; line = nl + 1)
		lines++;
	assert_true(lines >= 3);
	for (line = g.text, i = 0; (nl = strchr(line, '\n')) != NULL; line = nl + 1, i++) {
		if (i + 1 < lines) {
			if (json_parse(&doc, line, (size_t)(nl - line)) != 0)
				fail_msg("line %u: %s", i, doc.err);
			rate = num_at(json_find(&doc, 0, "total"), "rate_per_s");
		} else {
			rate = check_snapshot(line, (size_t)(nl - line), true);
		}
		/* Only the first refresh has no earlier one to take a rate from. */
		assert_true(i == 0 ? rate == -1 : rate >= 0);
		if (rate > best)
			best = rate;
	}
	if (best <= 0)
		fail_msg("no refresh saw a rate while %u signs arrived:\n%s", BURSTS * BURST_N,
			g.text);
}

/* Live table, stdout a file, under load: one plain table per interval, exit 0 on SIGTERM. */
static void
test_live_table(void **state)
{
	char out[PATH_MAX], err[PATH_MAX];
	char *argv[] = {g.prog, (char *)"--file-prefix", g.e.prefix, (char *)"top",
		(char *)"--interval", (char *)"0.2", NULL};
	unsigned int i, tables = 0;
	const char *p;
	int st = 0;
	pid_t pid;

	(void)state;
	engine_fixture_wait_up(g.e.ec.sh, WAIT_MS);
	assert_int_equal(proc_path(out, sizeof(out), g.e.f.dir, "live.out"), 0);
	assert_int_equal(proc_path(err, sizeof(err), g.e.f.dir, "live.err"), 0);
	pid = proc_spawn_tied(argv, out, err);
	assert_true(pid > 0);
	/* About 1 s of bursts, so the tables show a rate. */
	for (i = 0; i < BURSTS; i++) {
		sign_burst(BURST_N / 2, BURST_N / 2);
		proc_sleep_ms(BURST_MS);
	}
	assert_int_equal(proc_stop(pid, SIGTERM, PROC_STOP_MS, &st), 0);
	if (!proc_exited_ok(st))
		proc_dump_log("zcsign-cli top", err);
	keep_output(out, "");
	assert_true(proc_exited_ok(st));
	assert_true(proc_read_file(out, g.text, sizeof(g.text)) > 0);
	for (p = g.text; (p = strstr(p, "SHARD STATE")) != NULL; p++)
		tables++;
	if (tables < 2 || strchr(g.text, '\033') != NULL)
		fail_msg("%u tables (want >= 2, no ANSI codes):\n%s", tables, g.text);
	/* Every table lists both shards, up. */
	assert_non_null(strstr(g.text, "\n    0 up "));
	assert_non_null(strstr(g.text, "\n    1 up "));
	assert_int_equal(proc_read_file(err, g.text, sizeof(g.text)), 0);
}

/* zcsignd drains, exits 0, and its totals are what this test sent. */
static void
test_engine_totals(void **state)
{
	struct engine_totals tot;

	(void)state;
	engine_client_stop(&g.e.ec); /* the secondary leaves first */
	assert_int_equal(engine_fixture_zcsignd_stop(&g.e.f, &tot), 0);
	assert_true(tot.submitted == g.sent[0] + g.sent[1] + g.failed[0] + g.failed[1]);
	assert_true(tot.signed_ok == g.sent[0] + g.sent[1]);
	assert_true(tot.failed == g.failed[0] + g.failed[1]);
}

int
main(void)
{
	const struct CMUnitTest unit[] = {
		cmocka_unit_test(test_no_engine),
	};
	const struct CMUnitTest engine[] = {
		cmocka_unit_test(test_once_json),
		cmocka_unit_test(test_live_json_rate),
		cmocka_unit_test(test_live_table),
		cmocka_unit_test(test_engine_totals),
	};
	int rc;

	rc = cmocka_run_group_tests_name("json", unit, NULL, NULL);
	return rc | cmocka_run_group_tests_name("engine", engine, engine_setup, engine_teardown);
}
