/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * engine/telemetry.c, through telemetry_internal.h (the handlers by name,
 * the hiccup reader, the workers by lcore): the workers' recording and the /zcsign/ commands, on an
 * in-process engine with real signer threads (engine_inproc.h) and EAL telemetry on.
 *
 * What it proves: the loop accounting splits busy from idle, counts gaps over
 * the threshold, keeps the largest, and the hiccup ring returns the most
 * recent ones oldest first after wrapping (synthetic TSC values, exact); with
 * no engine every command answers -ENODEV; on a running engine every command
 * answers, also while the worker records (a reader thread asks during the
 * load), a bad or missing parameter gives -EINVAL (and null on the socket);
 * through the EAL's telemetry socket the latency and signer counts equal the
 * requests sent per shard, percentiles are ordered, non-zero and below the
 * test's wall time; a worker stalled through the test hook shows up in
 * jitter,<lcore> as a hiccup at least as long as the stall, stamped with
 * CLOCK_REALTIME; shard,<n> shows the signer's own counters from STATS (the
 * precomputed signer's pool capacities, its drained pools' depth 0 and exact
 * misses, signed_ok equal to the requests signed; no pools for RFC 6979).
 * No timing is asserted beyond "a forced stall of 3 ms is a gap of at least
 * 3 ms"; the signer counters are waited for with bounded polling.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cmocka.h>
#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/lsan_interface.h>
#endif

#include <rte_cycles.h>
#include <rte_malloc.h>
#include <rte_telemetry.h>

#include <zcsign/client.h>
#include <zcsign/version.h>

#include "engine_inproc.h"
#include "hex.h"
#include "shards.h"
#include "telemetry_internal.h"

#define WAIT_MS 15000
#define N0 150 /* requests to shard 0 */
#define N1 90 /* requests to shard 1 */
#define STALL_US 3000
#define REPLY_MAX 32768

static struct {
	struct inproc p;
	struct zcs_engine *e;
	struct zcs_engine_shared *sh;
	struct zcs_client *c;
	uint64_t wall_ns; /* from the first submit to the last completion */
	char reply[REPLY_MAX];
} g;

/* ---- a minimal client of the EAL's telemetry socket ---- */

/* Drop the blanks outside strings, so that the checks need not guess DPDK's spacing. */
static void
squeeze(char *json)
{
	bool in_str = false;
	char *out = json, prev = '\0';

	for (; *json != '\0'; prev = *json++) {
		if (*json == '"' && prev != '\\')
			in_str = !in_str;
		if (!in_str && (*json == ' ' || *json == '\n'))
			continue;
		*out++ = *json;
	}
	*out = '\0';
}

/* One command through the socket; the JSON reply in g.reply (blanks squeezed). */
static void
tel_query(const char *cmd)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	ssize_t n;
	int fd;
	int len = snprintf(sa.sun_path, sizeof(sa.sun_path), "%.*s/dpdk_telemetry.v2",
		(int)(sizeof(sa.sun_path) - 20), g.p.runtime_dir);

	assert_true(len > 0 && (size_t)len < sizeof(sa.sun_path));
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		fail_msg("connect %s: %s", sa.sun_path, strerror(errno));
	/* The greeting (version, pid, max_output_len), then the reply. */
	assert_true(recv(fd, g.reply, sizeof(g.reply) - 1, 0) > 0);
	assert_int_equal(send(fd, cmd, strlen(cmd), 0), (ssize_t)strlen(cmd));
	n = recv(fd, g.reply, sizeof(g.reply) - 1, 0);
	assert_true(n > 0);
	g.reply[n] = '\0';
	close(fd);
	squeeze(g.reply);
}

/* Where "key": starts in json at or after from (scope: inside that key's value); NULL if absent. */
static const char *
json_find(const char *json, const char *scope, const char *key)
{
	char pat[96];

	if (scope != NULL) {
		snprintf(pat, sizeof(pat), "\"%s\":", scope);
		json = strstr(json, pat);
		if (json == NULL)
			return NULL;
		json += strlen(pat);
	}
	snprintf(pat, sizeof(pat), "\"%s\":", key);
	json = strstr(json, pat);
	return json == NULL ? NULL : json + strlen(pat);
}

static uint64_t
json_u64(const char *scope, const char *key)
{
	const char *v = json_find(g.reply, scope, key);

	if (v == NULL)
		fail_msg("no %s%s%s in %s", scope ? scope : "", scope ? "." : "", key, g.reply);
	if (*v < '0' || *v > '9')
		fail_msg("%s is not a number in %s", key, g.reply);
	return strtoull(v, NULL, 10);
}

static bool
json_str_is_in(const char *scope, const char *key, const char *want)
{
	const char *v = json_find(g.reply, scope, key);
	char pat[256];

	snprintf(pat, sizeof(pat), "\"%s\"", want);
	return v != NULL && strncmp(v, pat, strlen(pat)) == 0;
}

static bool
json_str_is(const char *key, const char *want)
{
	return json_str_is_in(NULL, key, want);
}

/* The percentile dict at scope (NULL: top level): ordered, non-zero, below max_ns; its count. */
static uint64_t
check_percentiles(const char *scope, uint64_t max_ns)
{
	static const char *const keys[] = {"min", "p50", "p90", "p99", "p99_9", "p99_99", "max"};
	uint64_t prev = 0, v, mean;
	unsigned int i;

	for (i = 0; i < RTE_DIM(keys); i++) {
		v = json_u64(scope, keys[i]);
		if (v < prev || v == 0 || v >= max_ns)
			fail_msg("%s %s = %" PRIu64 " (previous %" PRIu64 ", bound %" PRIu64
				 "): %s",
				scope ? scope : "", keys[i], v, prev, max_ns, g.reply);
		prev = v;
	}
	mean = json_u64(scope, "mean");
	assert_true(mean >= json_u64(scope, "min") && mean <= json_u64(scope, "max"));
	return json_u64(scope, "count");
}

/* ---- the handlers, called directly ---- */

/*
 * One handler call. DPDK frees a reply's nested containers when it writes the
 * JSON out; rte_tel_data_free() (22.11) frees only the top level, and the
 * containers' layout is private. So a direct call leaks them by design: keep
 * LeakSanitizer from counting what is allocated here (the socket path, which
 * frees them, is leak-checked with everything else).
 */
static int
call(const char *cmd, const char *params)
{
	struct rte_tel_data *d;
	int rc;

#ifdef __SANITIZE_ADDRESS__
	__lsan_disable();
#endif
	d = rte_tel_data_alloc();
	assert_non_null(d);
	rc = zcs_tel_call(cmd, params, d);
	rte_tel_data_free(d);
#ifdef __SANITIZE_ADDRESS__
	__lsan_enable();
#endif
	return rc;
}

/*
 * Ask latency, signer and jitter of shard 0 over and over while the test
 * signs: the handlers snapshot histograms the worker is writing. Counts a
 * handler that did not answer 0 (asserting here would leave cmocka's thread).
 */
static atomic_int reader_stop;
static atomic_int reader_errors;
static atomic_int reader_calls;

static void *
reader_thread(void *arg)
{
	(void)arg;
	while (!atomic_load(&reader_stop)) {
		if (call(ZCS_TEL_CMD_LATENCY, "0") != 0 || call(ZCS_TEL_CMD_SIGNER, "0") != 0 ||
			call(ZCS_TEL_CMD_SHARD, "1") != 0 || call(ZCS_TEL_CMD_JITTER, "1") != 0)
			atomic_fetch_add(&reader_errors, 1);
		atomic_fetch_add(&reader_calls, 1);
	}
	return NULL;
}

/* ---- fixture ---- */

static int
group_setup(void **state)
{
	(void)state;
	if (inproc_setup(&g.p, "test_telemetry", true, INPROC_PRESIG_SHARD) != 0) {
		inproc_teardown(&g.p);
		return -1;
	}
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	if (g.e != NULL) {
		zcs_engine_stop(g.e);
		zcs_detach(g.c);
		zcs_engine_destroy(g.e);
	}
	inproc_teardown(&g.p);
	return 0;
}

static void
wait_up(unsigned int shard)
{
	uint64_t end = inproc_now_ms() + WAIT_MS;

	while (__atomic_load_n(&g.sh->shards[shard].state, __ATOMIC_ACQUIRE) != ZCS_SHARD_UP) {
		if (inproc_now_ms() > end)
			fail_msg("shard %u never came up", shard);
		usleep(1000);
	}
}

/* n signs for shard s's accounts (round robin), all collected with ZCS_OK. */
static void
sign_n(unsigned int s, unsigned int n)
{
	struct zcs_request *out[64];
	uint8_t hash[32] = {1, 2, 3};
	uint64_t end = inproc_now_ms() + WAIT_MS;
	unsigned int i, got = 0, k;

	for (i = 0; i < n; i++) {
		struct zcs_sign_args a = {
			.account = g.p.sig[s].accounts[i % INPROC_NACC],
			.cookie = i,
			.algo = ZCS_ALGO_ECDSA,
			.hash = hash,
		};

		hash[31] = (uint8_t)i;
		assert_int_equal(zcs_submit(g.c, &a), 0);
	}
	while (got < n) {
		k = zcs_poll(g.c, out, RTE_DIM(out));
		if (k == 0) {
			if (inproc_now_ms() > end)
				fail_msg("%u of %u completions", got, n);
			usleep(200);
			continue;
		}
		for (i = 0; i < k; i++)
			assert_int_equal(out[i]->status, ZCS_OK);
		zcs_release(g.c, out, k);
		got += k;
	}
}

/* Wait (bounded) until shard's signer has reported signed_ok == n through STATS. */
static void
wait_signer_signed(unsigned int shard, uint64_t n)
{
	uint64_t end = inproc_now_ms() + WAIT_MS;
	struct zcs_signer_stats s;

	memset(&s, 0, sizeof(s));
	for (;;) {
		assert_int_equal(zcs_shard_signer_stats_read(&g.sh->shards[shard], &s), 0);
		if (s.rx_tsc != 0 && s.signed_ok == n)
			return;
		if (inproc_now_ms() > end)
			fail_msg("shard %u: signer reported signed_ok %" PRIu64
				 ", waited for %" PRIu64,
				shard, s.signed_ok, n);
		usleep(1000);
	}
}

/* ---- tests ---- */

/* zcs_tel_loop() and the hiccup ring on synthetic TSC values. */
static void
test_loop_accounting(void **state)
{
	struct zcs_shard_state *st = rte_zmalloc("st", sizeof(*st), RTE_CACHE_LINE_SIZE);
	struct zcs_tel_hiccup h[ZCS_TEL_HICCUPS];
	struct zcs_tel_worker *t;
	uint64_t now = 1000, thr, busy = 0, idle = 0, i;
	unsigned int n;

	(void)state;
	assert_non_null(st);
	t = zcs_tel_worker_create(st, 0, 1, SOCKET_ID_ANY, 10);
	assert_non_null(t);
	thr = t->gap_threshold;
	assert_true(thr > 0);
	t->last_tsc = now;
	/* 100 short iterations, every other one busy. */
	for (i = 0; i < 100; i++) {
		now += thr / 2;
		zcs_tel_loop(t, now);
		if (t->last_work)
			busy += thr / 2;
		else
			idle += thr / 2;
		zcs_tel_work(t, (int)(i & 1));
	}
	assert_int_equal(st->loop_gaps, 0);
	assert_int_equal(st->loop_gap_max, 0);
	/* 70 hiccups of growing length: the ring (64) wraps. */
	for (i = 1; i <= 70; i++) {
		now += thr + i;
		zcs_tel_loop(t, now);
		if (t->last_work)
			busy += thr + i;
		else
			idle += thr + i;
		zcs_tel_work(t, 0);
	}
	/* A gap of exactly the threshold is not a hiccup. */
	now += thr;
	zcs_tel_loop(t, now);
	idle += thr;
	assert_int_equal(st->loop_gaps, 70);
	assert_int_equal(st->loop_gap_max, thr + 70);
	assert_int_equal(st->busy_cycles, busy);
	assert_int_equal(st->idle_cycles, idle);
	assert_int_equal(t->gap.count, 171);
	assert_int_equal(t->gap.max, thr + 70);
	n = zcs_tel_read_hiccups(t, h, ZCS_TEL_HICCUPS_SHOWN);
	assert_int_equal(n, ZCS_TEL_HICCUPS_SHOWN);
	for (i = 0; i < n; i++)
		assert_int_equal(h[i].gap_cycles, thr + 70 - ZCS_TEL_HICCUPS_SHOWN + 1 + i);
	/* 70 written into 64 slots: 1..6 overwritten, 7 left out (its slot is the next written). */
	n = zcs_tel_read_hiccups(t, h, ZCS_TEL_HICCUPS);
	assert_int_equal(n, ZCS_TEL_HICCUPS - 1);
	assert_int_equal(h[0].gap_cycles, thr + 8);
	assert_int_equal(h[n - 1].gap_cycles, thr + 70);
	assert_true(h[0].realtime_ns > 0 && h[0].realtime_ns <= h[n - 1].realtime_ns);
	zcs_tel_worker_free(t);
	rte_free(st);
}

static void
test_no_engine(void **state)
{
	(void)state;
	/* Registered at the first publish; the handlers answer -ENODEV without an engine. */
	assert_int_equal(zcs_telemetry_init(), 0);
	assert_int_equal(zcs_telemetry_init(), 0);
	assert_int_equal(call(ZCS_TEL_CMD_INFO, NULL), -ENODEV);
	assert_int_equal(call(ZCS_TEL_CMD_SHARDS, NULL), -ENODEV);
	assert_int_equal(call(ZCS_TEL_CMD_SHARD, "0"), -ENODEV);
	assert_int_equal(call(ZCS_TEL_CMD_LATENCY, "0"), -ENODEV);
	assert_int_equal(call(ZCS_TEL_CMD_SIGNER, "0"), -ENODEV);
	assert_int_equal(call(ZCS_TEL_CMD_JITTER, "1"), -ENODEV);
	tel_query("/zcsign/latency,0");
	assert_non_null(strstr(g.reply, "\"/zcsign/latency\":null"));
	/* All six are listed, each with its help text. */
	tel_query("/");
	assert_non_null(strstr(g.reply, "\"/zcsign/info\""));
	assert_non_null(strstr(g.reply, "\"/zcsign/shards\""));
	assert_non_null(strstr(g.reply, "\"/zcsign/shard\""));
	assert_non_null(strstr(g.reply, "\"/zcsign/latency\""));
	assert_non_null(strstr(g.reply, "\"/zcsign/signer\""));
	assert_non_null(strstr(g.reply, "\"/zcsign/jitter\""));
	tel_query("/help,/zcsign/jitter");
	assert_non_null(strstr(g.reply, "Parameter: lcore id"));
}

static void
test_commands(void **state)
{
	static const char *const bad[] = {
		NULL, "", "2", "abc", "0x1", "-1", "1 ", " 1", "0,1", "99999999999999999999"};
	struct zcs_engine_conf conf;
	uint64_t t0, wall;
	pthread_t reader;
	unsigned int i;

	(void)state;
	inproc_conf(&g.p, &conf);
	conf.stats_interval_ms = INPROC_STATS_MS;
	g.e = zcs_engine_start(&conf);
	assert_non_null(g.e);
	g.sh = zcs_shards_lookup();
	assert_non_null(g.sh);
	g.c = zcs_attach("test_telemetry");
	assert_non_null(g.c);
	wait_up(0);
	wait_up(1);

	assert_int_equal(pthread_create(&reader, NULL, reader_thread, NULL), 0);
	t0 = rte_rdtsc();
	sign_n(0, N0);
	sign_n(1, N1);
	wall = zcs_tsc_to_ns(rte_rdtsc() - t0);
	g.wall_ns = wall;
	atomic_store(&reader_stop, 1);
	pthread_join(reader, NULL);
	assert_int_equal(atomic_load(&reader_errors), 0);
	assert_true(atomic_load(&reader_calls) > 0);

	/* Every command answers; bad or missing parameters are -EINVAL. */
	assert_int_equal(call(ZCS_TEL_CMD_INFO, NULL), 0);
	assert_int_equal(call(ZCS_TEL_CMD_INFO, "x"), -EINVAL);
	assert_int_equal(call(ZCS_TEL_CMD_SHARDS, ""), 0);
	assert_int_equal(call(ZCS_TEL_CMD_SHARDS, "1"), -EINVAL);
	for (i = 0; i < INPROC_SHARDS; i++) {
		char p[8];

		snprintf(p, sizeof(p), "%u", i);
		assert_int_equal(call(ZCS_TEL_CMD_SHARD, p), 0);
		assert_int_equal(call(ZCS_TEL_CMD_LATENCY, p), 0);
		assert_int_equal(call(ZCS_TEL_CMD_SIGNER, p), 0);
		assert_int_equal(call(ZCS_TEL_CMD_JITTER, i == 0 ? "1" : "2"),
			0); /* shards take lcores 1, 2 */
	}
	for (i = 0; i < RTE_DIM(bad); i++) {
		assert_int_equal(call(ZCS_TEL_CMD_SHARD, bad[i]), -EINVAL);
		assert_int_equal(call(ZCS_TEL_CMD_LATENCY, bad[i]), -EINVAL);
		assert_int_equal(call(ZCS_TEL_CMD_SIGNER, bad[i]), -EINVAL);
	}
	/* The main lcore has no worker; nor has an lcore id beyond RTE_MAX_LCORE. */
	assert_int_equal(call(ZCS_TEL_CMD_JITTER, "0"), -EINVAL);
	assert_int_equal(call(ZCS_TEL_CMD_JITTER, "3"), -EINVAL);
	assert_int_equal(call(ZCS_TEL_CMD_JITTER, "100000"), -EINVAL);
	assert_int_equal(call(ZCS_TEL_CMD_JITTER, NULL), -EINVAL);

	/* Through the socket: contents. */
	tel_query("/zcsign/info");
	assert_int_equal(json_u64(NULL, "shards"), INPROC_SHARDS);
	assert_int_equal(json_u64(NULL, "lcores"), 3);
	assert_true(json_str_is("poll_mode", "backoff"));
	assert_true(json_str_is("version", ZCS_VERSION));
	assert_int_equal(json_u64(NULL, "gap_threshold_ns"), 10000);
	assert_true(json_u64(NULL, "uptime_ns") >= wall);
	assert_non_null(strstr(g.reply, "\"shard_lcore\":[1,2]"));
	assert_non_null(strstr(g.reply, "\"shard_nonce_mode\":[\"rfc6979\",\"precomputed\"]"));
	assert_non_null(json_find(g.reply, NULL, "shard_isolation"));

	tel_query("/zcsign/shards");
	assert_non_null(strstr(g.reply, "\"/zcsign/shards\":[0,1]"));

	tel_query("/zcsign/shard,0");
	assert_true(json_str_is("state", "up"));
	assert_true(json_str_is("endpoint", g.p.sig[0].text));
	assert_int_equal(json_u64(NULL, "signed"), N0);
	assert_int_equal(json_u64(NULL, "sent"), N0);
	assert_int_equal(json_u64(NULL, "ring_count"), 0);
	assert_int_equal(json_u64(NULL, "in_flight"), 0);
	assert_int_equal(json_u64(NULL, "signer_keys"), INPROC_NACC);
	assert_int_equal(json_u64("by_status", "ok"), N0);
	{
		char hex[2 * ZCS_MEASUREMENT_LEN + 1];

		zcs_hex_encode(g.p.measurement, ZCS_MEASUREMENT_LEN, hex);
		assert_true(json_str_is("measurement", hex));
		assert_true(json_str_is("expected_measurement", hex));
	}

	/*
	 * The signers' own counters. N1 ECDSA signs drained shard 1's ECDSA pool
	 * (nothing refills it): the rest were misses. Shard 0 has no pools.
	 */
	wait_signer_signed(0, N0);
	wait_signer_signed(1, N1);
	tel_query("/zcsign/shard,1");
	assert_true(json_str_is("nonce_mode", "precomputed")); /* from HELLO */
	assert_true(json_str_is_in("signer", "nonce_mode", "precomputed"));
	assert_int_equal(json_u64("signer", "ecdsa_pool_capacity"), INPROC_PRESIG_ECDSA);
	assert_int_equal(json_u64("signer", "ecdsa_pool_depth"), 0);
	assert_int_equal(json_u64("signer", "schnorr_pool_capacity"), INPROC_PRESIG_SCHNORR);
	assert_int_equal(json_u64("signer", "schnorr_pool_depth"), INPROC_PRESIG_SCHNORR);
	assert_int_equal(
		json_u64("signer", "refilled"), INPROC_PRESIG_ECDSA + INPROC_PRESIG_SCHNORR);
	assert_int_equal(json_u64("signer", "misses"), N1 - INPROC_PRESIG_ECDSA);
	assert_int_equal(json_u64("signer", "discards"), 0);
	assert_int_equal(json_u64("signer", "signed_ok"), N1);
	assert_int_equal(json_u64("signer", "signed_ok"), json_u64(NULL, "signed"));
	assert_true(json_u64("signer", "stats_age_ms") < WAIT_MS);
	tel_query("/zcsign/shard,0");
	assert_true(json_str_is_in("signer", "nonce_mode", "rfc6979"));
	assert_int_equal(json_u64("signer", "ecdsa_pool_capacity"), 0);
	assert_int_equal(json_u64("signer", "schnorr_pool_capacity"), 0);
	assert_int_equal(json_u64("signer", "misses"), 0);
	assert_int_equal(json_u64("signer", "signed_ok"), N0);

	for (i = 0; i < INPROC_SHARDS; i++) {
		uint64_t n = i == 0 ? N0 : N1;
		char cmd[64];

		snprintf(cmd, sizeof(cmd), "/zcsign/latency,%u", i);
		tel_query(cmd);
		assert_int_equal(check_percentiles(NULL, wall), n);
		snprintf(cmd, sizeof(cmd), "/zcsign/signer,%u", i);
		tel_query(cmd);
		assert_int_equal(check_percentiles("round_trip", wall), n);
		assert_int_equal(check_percentiles("service", wall), n);
		snprintf(cmd, sizeof(cmd), "/zcsign/jitter,%u", i + 1);
		tel_query(cmd);
		assert_int_equal(json_u64(NULL, "lcore"), i + 1);
		assert_int_equal(json_u64(NULL, "shard"), i);
		assert_int_equal(json_u64(NULL, "threshold_ns"), 10000);
		assert_true(json_u64("gap", "count") > 0);
		assert_true(json_u64(NULL, "busy_cycles") > 0);
		assert_true(json_u64(NULL, "idle_cycles") > 0);
		assert_true(json_u64(NULL, "busy_share_permille") <= 1000);
		assert_non_null(json_find(g.reply, NULL, "recent_hiccup_time"));
	}
	/* A bad parameter on the socket: null. */
	tel_query("/zcsign/latency,7");
	assert_non_null(strstr(g.reply, "\"/zcsign/latency\":null"));
	tel_query("/zcsign/jitter");
	assert_non_null(strstr(g.reply, "\"/zcsign/jitter\":null"));
}

/* The test hook stalls lcore 1's worker; jitter,1 must show it. */
static void
test_hiccup(void **state)
{
	struct timespec ts;
	uint64_t before, after, end = inproc_now_ms() + WAIT_MS;
	uint64_t hiccups0, next0;
	struct zcs_tel_worker *t;
	struct zcs_tel_hiccup h[ZCS_TEL_HICCUPS];
	unsigned int n, i;
	bool found = false;

	(void)state;
	assert_non_null(g.e); /* test_commands started it */
	t = zcs_tel_worker_of(1);
	assert_non_null(t);
	hiccups0 = __atomic_load_n(&g.sh->shards[0].loop_gaps, __ATOMIC_RELAXED);
	next0 = __atomic_load_n(&t->hiccup_next, __ATOMIC_ACQUIRE);
	clock_gettime(CLOCK_REALTIME, &ts);
	before = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	assert_int_equal(zcs_tel_test_stall(1, STALL_US), 0);
	assert_int_equal(zcs_tel_test_stall(0, STALL_US), -EINVAL); /* main lcore */
	/* The worker takes the hook at its next idle sleep, and records at the next loop. */
	while (t->test_stall_us != 0 ||
		__atomic_load_n(&t->hiccup_next, __ATOMIC_ACQUIRE) == next0) {
		if (inproc_now_ms() > end)
			fail_msg("the worker never stalled");
		usleep(1000);
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	after = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;

	n = zcs_tel_read_hiccups(t, h, ZCS_TEL_HICCUPS);
	for (i = 0; i < n; i++)
		if (zcs_tsc_to_ns(h[i].gap_cycles) >= STALL_US * 1000ull &&
			h[i].realtime_ns >= before && h[i].realtime_ns <= after)
			found = true;
	assert_true(found);

	tel_query("/zcsign/jitter,1");
	assert_true(json_u64(NULL, "hiccups") > hiccups0);
	assert_true(json_u64(NULL, "largest_gap_ns") >= STALL_US * 1000ull);
	assert_true(json_u64("gap", "max") >= STALL_US * 1000ull * 127 / 128);
	{
		/* The stall is among the recent gaps listed. */
		const char *v = json_find(g.reply, NULL, "recent_hiccup_gap_ns");
		bool listed = false;

		assert_non_null(v);
		while (*v != ']' && *v != '\0') {
			if (*v >= '0' && *v <= '9') {
				char *e;

				if (strtoull(v, &e, 10) >= STALL_US * 1000ull)
					listed = true;
				v = e;
			} else {
				v++;
			}
		}
		assert_true(listed);
	}
}

/* After stop the engine is retracted: -ENODEV again. */
static void
test_stop_retracts(void **state)
{
	(void)state;
	assert_non_null(g.e);
	assert_int_equal(zcs_engine_stop(g.e), 0);
	assert_int_equal(call(ZCS_TEL_CMD_LATENCY, "0"), -ENODEV);
	assert_int_equal(call(ZCS_TEL_CMD_JITTER, "1"), -ENODEV);
	assert_int_equal(zcs_tel_test_stall(1, 1), -EINVAL);
	zcs_detach(g.c);
	zcs_engine_destroy(g.e);
	g.e = NULL;
	g.c = NULL;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loop_accounting),
		cmocka_unit_test(test_no_engine),
		cmocka_unit_test(test_commands),
		cmocka_unit_test(test_hiccup),
		cmocka_unit_test(test_stop_retracts),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
