/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * engine/conf.c: defaults, a full file, and every kind of bad file refused
 * with one line naming the file, the section, the key and the value. Runs
 * without an EAL: zcsignd loads its file after rte_eal_init(), but a gateway
 * embedding the engine may want to check its configuration before.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <zcsign/engine.h>

static const char meas_hex[] = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
			       "202122232425262728292a2b2c2d2e2f";

struct fixture {
	char dir[64];
	char path[128];
	char err[512];
	struct zcs_engine_conf conf;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/zcs-conf-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/zcsignd.ini", f->dir);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	unlink(f->path);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void
write_file(struct fixture *f, const char *text)
{
	FILE *fp = fopen(f->path, "w");

	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
}

static int
load(struct fixture *f, const char *text)
{
	write_file(f, text);
	zcs_engine_conf_init(&f->conf);
	f->err[0] = '\0';
	return zcs_engine_conf_load(&f->conf, f->err, sizeof(f->err), f->path);
}

/* The load fails with -EINVAL and one line holding the file and every needle. */
static void
expect_refused(struct fixture *f, const char *text, ...)
{
	const char *needle;
	va_list ap;
	int rc = load(f, text);

	if (rc != -EINVAL)
		fail_msg("accepted (rc %d) a bad file:\n%s", rc, text);
	if (strstr(f->err, f->path) == NULL || strchr(f->err, '\n') != NULL)
		fail_msg("message does not name the file on one line: '%s'", f->err);
	if (getenv("ZCS_TEST_VERBOSE") != NULL)
		print_message("refused: %s\n", f->err);
	va_start(ap, text);
	while ((needle = va_arg(ap, const char *)) != NULL)
		if (strstr(f->err, needle) == NULL)
			fail_msg("message '%s' lacks '%s'", f->err, needle);
	va_end(ap);
}

/* The [engine] values of c are those of want. */
static void
assert_engine_values(const struct zcs_engine_conf *c, const struct zcs_engine_conf *want)
{
	assert_int_equal(c->shards, want->shards);
	assert_int_equal(c->poll, want->poll);
	assert_int_equal(c->ring_size, want->ring_size);
	assert_int_equal(c->pool_size, want->pool_size);
	assert_int_equal(c->pool_cache, want->pool_cache);
	assert_int_equal(c->client_slots, want->client_slots);
	assert_int_equal(c->inflight_max, want->inflight_max);
	assert_int_equal(c->burst, want->burst);
	assert_int_equal(c->reconnect_min_ms, want->reconnect_min_ms);
	assert_int_equal(c->reconnect_max_ms, want->reconnect_max_ms);
	assert_int_equal(c->handshake_timeout_ms, want->handshake_timeout_ms);
	assert_int_equal(c->drain_timeout_ms, want->drain_timeout_ms);
	assert_int_equal(c->gap_threshold_us, want->gap_threshold_us);
	assert_int_equal(c->stats_interval_ms, want->stats_interval_ms);
}

static void
test_defaults(void **state)
{
	struct fixture *f = *state;
	struct zcs_engine_conf *c = &f->conf;
	unsigned int i;

	zcs_engine_conf_init(c);
	assert_engine_values(c,
		&(struct zcs_engine_conf){.shards = 0,
			.poll = ZCS_POLL_SPIN,
			.ring_size = 4096,
			.pool_size = 65535,
			.pool_cache = 256,
			.client_slots = 16,
			.inflight_max = 1024,
			.burst = 32,
			.reconnect_min_ms = 10,
			.reconnect_max_ms = 1000,
			.handshake_timeout_ms = 1000,
			.drain_timeout_ms = 5000,
			.gap_threshold_us = 10,
			.stats_interval_ms = 1000});
	for (i = 0; i < ZCS_MAX_SHARDS; i++) {
		assert_int_equal(c->shard[i].lcore, ZCS_ENGINE_LCORE_ANY);
		assert_int_equal(c->shard[i].has_measurement, 0);
	}
	/* Defaults with no shard are not a runnable configuration. */
	assert_int_equal(zcs_engine_conf_check(c, f->err, sizeof(f->err)), -EINVAL);
	assert_non_null(strstr(f->err, "shards"));

	/* Absent keys keep the defaults; the shard count follows the sections. */
	assert_int_equal(load(f, "[shard.0]\nsigner = unix:/run/s0.sock\n"), 0);
	assert_int_equal(c->shards, 1);
	assert_int_equal(c->ring_size, 4096);
	assert_int_equal(c->poll, ZCS_POLL_SPIN);
	assert_int_equal(c->drain_timeout_ms, 5000);
	assert_int_equal(c->stats_interval_ms, 1000);
	assert_string_equal(c->shard[0].signer, "unix:/run/s0.sock");
	assert_int_equal(c->shard[0].lcore, ZCS_ENGINE_LCORE_ANY);
	assert_int_equal(c->shard[0].has_measurement, 0);
}

static void
test_full_file(void **state)
{
	struct fixture *f = *state;
	struct zcs_engine_conf *c = &f->conf;
	char text[2048];
	unsigned int i;

	snprintf(text, sizeof(text),
		"# zcsignd test configuration\n"
		"\n"
		"[engine]\n"
		"shards = 3            # three signers\n"
		"poll = backoff\n"
		"ring_size = 1024\n"
		"pool_size = 8192\n"
		"pool_cache = 128\n"
		"client_slots = 4\n"
		"inflight_max = 256\n"
		"burst = 64\n"
		"reconnect_min_ms = 5\n"
		"reconnect_max_ms = 2000\n"
		"handshake_timeout_ms = 300\n"
		"drain_timeout_ms = 0\n"
		"stats_interval_ms = 250\n"
		"[shard.1]\n"
		"  signer   =   vsock:16:5000  \n"
		"lcore = 3\n"
		"[shard.0]\n"
		"signer = unix:/run/zcsign/s0.sock\n"
		"measurement = %s\n"
		"[shard.2]\n"
		"signer = unix:/run/zcsign/s2.sock\n"
		"measurement = %.64s%s\n",
		meas_hex, meas_hex, "202122232425262728292A2B2C2D2E2F");
	if (load(f, text) != 0)
		fail_msg("%s", f->err);
	/* gap_threshold_us is not in the file: the default stays */
	assert_engine_values(c,
		&(struct zcs_engine_conf){.shards = 3,
			.poll = ZCS_POLL_BACKOFF,
			.ring_size = 1024,
			.pool_size = 8192,
			.pool_cache = 128,
			.client_slots = 4,
			.inflight_max = 256,
			.burst = 64,
			.reconnect_min_ms = 5,
			.reconnect_max_ms = 2000,
			.handshake_timeout_ms = 300,
			.drain_timeout_ms = 0,
			.gap_threshold_us = 10,
			.stats_interval_ms = 250});
	assert_string_equal(c->shard[0].signer, "unix:/run/zcsign/s0.sock");
	assert_string_equal(c->shard[1].signer, "vsock:16:5000");
	assert_string_equal(c->shard[2].signer, "unix:/run/zcsign/s2.sock");
	assert_int_equal(c->shard[0].lcore, ZCS_ENGINE_LCORE_ANY);
	assert_int_equal(c->shard[1].lcore, 3);
	assert_int_equal(c->shard[0].has_measurement, 1);
	assert_int_equal(c->shard[1].has_measurement, 0);
	assert_int_equal(c->shard[2].has_measurement, 1); /* upper-case hex too */
	/* A vsock signer is attested against AWS's root unless the file says otherwise. */
	assert_int_equal(c->shard[0].attest, ZCS_ENGINE_ATTEST_OFF);
	assert_int_equal(c->shard[1].attest, ZCS_ENGINE_ATTEST_NITRO);
	assert_int_equal(c->shard[2].attest, ZCS_ENGINE_ATTEST_OFF);
	for (i = 0; i < ZCS_MEASUREMENT_LEN; i++) {
		assert_int_equal(c->shard[0].measurement[i], i);
		assert_int_equal(c->shard[2].measurement[i], i);
	}
	assert_int_equal(zcs_engine_conf_check(c, f->err, sizeof(f->err)), 0);
}

static void
test_missing_file(void **state)
{
	struct fixture *f = *state;

	zcs_engine_conf_init(&f->conf);
	assert_int_equal(
		zcs_engine_conf_load(&f->conf, f->err, sizeof(f->err), "/nonexistent/z.ini"),
		-ENOENT);
	assert_non_null(strstr(f->err, "/nonexistent/z.ini"));
}

#define SHARD0 "[shard.0]\nsigner = unix:/s0\n"

static void
test_bad_keys_and_sections(void **state)
{
	struct fixture *f = *state;

	expect_refused(f, "[engine]\nshards = 1\nfoo = 3\n" SHARD0, "[engine]", "foo = 3",
		"unknown key", NULL);
	expect_refused(
		f, SHARD0 "color = blue\n", "[shard.0]", "color = blue", "unknown key", NULL);
	expect_refused(f, "[engin]\nshards = 1\n" SHARD0, "[engin]", "unknown section", NULL);
	expect_refused(
		f, SHARD0 "[shard.x]\nsigner = unix:/s\n", "[shard.x]", "unknown section", NULL);
	expect_refused(
		f, SHARD0 "[shard.01]\nsigner = unix:/s\n", "[shard.01]", "unknown section", NULL);
	expect_refused(f, "[engine]\nshards = 2\n" SHARD0, "[shard.1]", "missing", NULL);
	expect_refused(f, "[engine]\nshards = 1\n" SHARD0 "[shard.1]\nsigner = unix:/s1\n",
		"[shard.1]", "beyond shards = 1", NULL);
	expect_refused(f, SHARD0 "[shard.2]\nsigner = unix:/s2\n", "[shard.1]", "missing", NULL);
	expect_refused(f, "[engine]\nshards = 1\n", "[shard.0]", "missing", NULL);
	expect_refused(f, "[shard.0]\nlcore = 1\n", "[shard.0]", "signer", "missing", NULL);
	/* rte_cfgfile keeps duplicates; the first would silently win. */
	expect_refused(f, SHARD0 "[shard.0]\nsigner = unix:/other\n", "[shard.0]", "twice", NULL);
	expect_refused(
		f, "[engine]\nburst = 8\n[engine]\nburst = 16\n" SHARD0, "[engine]", "twice", NULL);
	expect_refused(f, "[engine]\nburst = 8\nburst = 16\n" SHARD0, "[engine]", "burst = 16",
		"twice", NULL);
}

static void
test_bad_numbers(void **state)
{
	struct fixture *f = *state;
	static const char *const bad_burst[] = {
		"3x", "-1", "+5", "0x10", "010", "1 2", "1.5", "99999999999"};
	char text[256];
	unsigned int i;

	expect_refused(
		f, "[engine]\nshards = 0\n" SHARD0, "[engine]", "shards = 0", "1..256", NULL);
	expect_refused(f, "[engine]\nshards = 300\n" SHARD0, "[engine]", "shards = 300", NULL);
	expect_refused(f, "[engine]\nring_size = 1000\n" SHARD0, "[engine]", "ring_size = 1000",
		"power of two", NULL);
	expect_refused(f, "[engine]\npoll = fast\n" SHARD0, "[engine]", "poll = fast", NULL);
	expect_refused(
		f, "[engine]\nclient_slots = 65\n" SHARD0, "[engine]", "client_slots = 65", NULL);
	for (i = 0; i < sizeof(bad_burst) / sizeof(bad_burst[0]); i++) {
		snprintf(text, sizeof(text), "[engine]\nburst = %s\n" SHARD0, bad_burst[i]);
		expect_refused(f, text, "[engine]", "burst = ", bad_burst[i], NULL);
	}
	/* stats_interval_ms: 0 turns STATS off; at most an hour; digits only. */
	assert_int_equal(load(f, "[engine]\nstats_interval_ms = 0\n" SHARD0), 0);
	assert_int_equal(f->conf.stats_interval_ms, 0);
	assert_int_equal(load(f, "[engine]\nstats_interval_ms = 3600000\n" SHARD0), 0);
	assert_int_equal(f->conf.stats_interval_ms, 3600000);
	expect_refused(f, "[engine]\nstats_interval_ms = 3600001\n" SHARD0, "[engine]",
		"stats_interval_ms = 3600001", "0..3600000", NULL);
	expect_refused(f, "[engine]\nstats_interval_ms = -1\n" SHARD0, "[engine]",
		"stats_interval_ms = -1", NULL);
	expect_refused(f, "[engine]\nstats_interval_ms = 1s\n" SHARD0, "[engine]",
		"stats_interval_ms = 1s", NULL);
	expect_refused(f, "[engine]\nstats_interval_ms = 100\nstats_interval_ms = 200\n" SHARD0,
		"[engine]", "stats_interval_ms = 200", "twice", NULL);
	/* Cross-key rules name the key too. */
	expect_refused(f, "[engine]\nburst = 64\ninflight_max = 32\n" SHARD0, "burst = 64",
		"inflight_max = 32", NULL);
	expect_refused(f, "[engine]\nring_size = 1024\npool_size = 512\npool_cache = 0\n" SHARD0,
		"pool_size = 512", "ring_size = 1024", NULL);
	expect_refused(f, "[engine]\nreconnect_min_ms = 50\nreconnect_max_ms = 20\n" SHARD0,
		"reconnect_min_ms = 50", NULL);
	expect_refused(f, SHARD0 "lcore = 1\n[shard.1]\nsigner = unix:/s1\nlcore = 1\n",
		"[shard.1]", "lcore = 1", NULL);
	expect_refused(f, SHARD0 "lcore = -1\n", "[shard.0]", "lcore = -1", NULL);
}

static void
test_bad_signer_and_measurement(void **state)
{
	struct fixture *f = *state;
	char text[512], hex[128];

	expect_refused(f, "[shard.0]\nsigner = tcp:1.2.3.4:5\n", "[shard.0]",
		"signer = tcp:1.2.3.4:5", NULL);
	/* vsock:PORT is the signer's listen form; the engine connects to vsock:CID:PORT. */
	expect_refused(
		f, "[shard.0]\nsigner = vsock:5000\n", "[shard.0]", "signer = vsock:5000", NULL);
	expect_refused(f, "[shard.0]\nsigner = unix:\n", "[shard.0]", "signer = unix:", NULL);

	snprintf(text, sizeof(text), SHARD0 "measurement = %.95s\n", meas_hex);
	expect_refused(f, text, "[shard.0]", "measurement = ", "95 characters", NULL);
	snprintf(hex, sizeof(hex), "%s", meas_hex);
	hex[10] = 'g';
	snprintf(text, sizeof(text), SHARD0 "measurement = %s\n", hex);
	expect_refused(f, text, "[shard.0]", "measurement = 0001020304g", "not hex", NULL);
	snprintf(text, sizeof(text), SHARD0 "measurement = %s00\n", meas_hex);
	expect_refused(f, text, "[shard.0]", "measurement = ", "98 characters", NULL);
}

/* attest, attest_root and pcrN: parsed, and refused when they cannot be used. */
static void
test_attestation_keys(void **state)
{
	struct fixture *f = *state;
	char text[1024];

	snprintf(text, sizeof(text),
		SHARD0 "attest = dev\nattest_root = /etc/zcsign/root.pem\npcr0 = %s\npcr15 = %s\n",
		meas_hex, meas_hex);
	assert_int_equal(load(f, text), 0);
	assert_int_equal(f->conf.shard[0].attest, ZCS_ENGINE_ATTEST_DEV);
	assert_string_equal(f->conf.shard[0].attest_root, "/etc/zcsign/root.pem");
	assert_int_equal(f->conf.shard[0].pcr_mask, (1u << 0) | (1u << 15));
	assert_int_equal(f->conf.shard[0].pcr[15][47], 0x2f);
	assert_int_equal(load(f, SHARD0 "attest = nitro\n"), 0);
	assert_int_equal(f->conf.shard[0].attest, ZCS_ENGINE_ATTEST_NITRO);
	assert_int_equal(load(f, SHARD0 "attest = off\n"), 0);
	assert_int_equal(f->conf.shard[0].attest, ZCS_ENGINE_ATTEST_OFF);
	/* vsock: nitro by default, off only when said */
	assert_int_equal(load(f, "[shard.0]\nsigner = vsock:16:5000\nattest = off\n"), 0);
	assert_int_equal(f->conf.shard[0].attest, ZCS_ENGINE_ATTEST_OFF);
	snprintf(text, sizeof(text), "[shard.0]\nsigner = vsock:16:5000\npcr0 = %s\n", meas_hex);
	assert_int_equal(load(f, text), 0);
	assert_int_equal(f->conf.shard[0].attest, ZCS_ENGINE_ATTEST_NITRO);
	assert_int_equal(f->conf.shard[0].pcr_mask, 1);

	expect_refused(
		f, SHARD0 "attest = yes\n", "[shard.0]", "attest = yes", "off, dev or nitro", NULL);
	expect_refused(f, SHARD0 "attest = dev\n", "[shard.0]", "needs attest_root", NULL);
	snprintf(text, sizeof(text), SHARD0 "pcr3 = %s\n", meas_hex);
	expect_refused(f, text, "[shard.0]", "pcrN without attest", NULL);
	expect_refused(f, SHARD0 "attest_root = /r.pem\n", "attest_root without attest", NULL);
	snprintf(text, sizeof(text), SHARD0 "attest = nitro\npcr0 = %.90s\n", meas_hex);
	expect_refused(f, text, "[shard.0]", "pcr0 = ", "96 hex digits", NULL);
	snprintf(text, sizeof(text), SHARD0 "attest = nitro\npcr16 = %s\n", meas_hex);
	expect_refused(f, text, "[shard.0]", "pcr16", "unknown key", NULL);
	snprintf(text, sizeof(text), SHARD0 "attest = nitro\npcr01 = %s\n", meas_hex);
	expect_refused(f, text, "pcr01", "unknown key", NULL);
}

static void
test_bad_syntax(void **state)
{
	struct fixture *f = *state;

	/* rte_cfgfile would skip these lines without a word. */
	expect_refused(f, "[engine]\nshards 1\n" SHARD0, "line 2", "shards 1", NULL);
	expect_refused(f, "; an INI comment\n" SHARD0, "line 1", NULL);
	expect_refused(f, "shards = 1\n" SHARD0, "line 1", "before any [section]", NULL);
	expect_refused(f, "[engine\nshards = 1\n" SHARD0, "line 1", "[engine", NULL);
	expect_refused(f, "[shard.0]\nsigner =\n", "line 2", "signer", "empty", NULL);
	expect_refused(f, "[]\n" SHARD0, "line 1", NULL);
}

static void
test_check_by_hand(void **state)
{
	struct fixture *f = *state;
	struct zcs_engine_conf *c = &f->conf;

	zcs_engine_conf_init(c);
	c->shards = 2;
	snprintf(c->shard[0].signer, sizeof(c->shard[0].signer), "unix:/s0");
	snprintf(c->shard[1].signer, sizeof(c->shard[1].signer), "vsock:3:5000");
	assert_int_equal(zcs_engine_conf_check(c, f->err, sizeof(f->err)), 0);
	c->shard[1].signer[0] = '\0';
	assert_int_equal(zcs_engine_conf_check(c, f->err, sizeof(f->err)), -EINVAL);
	assert_non_null(strstr(f->err, "[shard.1] signer"));
	snprintf(c->shard[1].signer, sizeof(c->shard[1].signer), "vsock:3:5000");
	c->ring_size = 3000;
	assert_int_equal(zcs_engine_conf_check(c, f->err, sizeof(f->err)), -EINVAL);
	assert_non_null(strstr(f->err, "ring_size = 3000"));
	c->ring_size = 4096;
	c->poll = (enum zcs_poll_mode)7;
	assert_int_equal(zcs_engine_conf_check(c, f->err, sizeof(f->err)), -EINVAL);
	assert_non_null(strstr(f->err, "poll"));
	c->poll = ZCS_POLL_SPIN;
	c->pool_cache = 512;
	c->pool_size = 600;
	c->ring_size = 512;
	assert_int_equal(zcs_engine_conf_check(c, f->err, sizeof(f->err)), -EINVAL);
	assert_non_null(strstr(f->err, "pool_cache = 512"));
	c->pool_cache = 256;
	c->pool_size = 65535;
	c->ring_size = 4096;
	c->stats_interval_ms = 0;
	assert_int_equal(zcs_engine_conf_check(c, f->err, sizeof(f->err)), 0);
	c->stats_interval_ms = 3600001;
	assert_int_equal(zcs_engine_conf_check(c, f->err, sizeof(f->err)), -EINVAL);
	assert_non_null(strstr(f->err, "stats_interval_ms = 3600001"));
}

/* Every poll mode by its name, names and values one to one; others refused. */
static void
test_poll_modes(void **state)
{
	struct fixture *f = *state;
	const char *names[] = {"spin", "backoff", "yield"};
	char text[256];
	unsigned int i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(text, sizeof(text), "[engine]\npoll = %s\n" SHARD0, names[i]);
		if (load(f, text) != 0)
			fail_msg("poll = %s: %s", names[i], f->err);
		assert_string_equal(zcs_poll_mode_name(f->conf.poll), names[i]);
		assert_int_equal(zcs_poll_mode_parse(names[i]), (int)f->conf.poll);
	}
	assert_int_equal(f->conf.poll, ZCS_POLL_YIELD);
	assert_null(zcs_poll_mode_name(3));
	assert_int_equal(zcs_poll_mode_parse("Yield"), -1);
	assert_int_equal(zcs_poll_mode_parse(NULL), -1);
	expect_refused(f, "[engine]\npoll = sleep\n" SHARD0, "poll = sleep",
		"not spin, backoff or yield", NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_keys_and_sections, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_numbers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_signer_and_measurement, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_syntax, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attestation_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check_by_hand, setup, teardown),
		cmocka_unit_test_setup_teardown(test_poll_modes, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
