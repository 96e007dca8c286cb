/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zcsign-jitter: the gap recorder fed synthetic TSC sequences gives exact
 * hiccup counts, max and lost time (a gap equal to the threshold is not a
 * hiccup); the figures in ns and the text and JSON reports have the expected
 * shape; a failed thread start names the CPU and releases the threads already
 * started; a short real run, in process and through the binary, gives sane
 * figures. Nothing here is timed: no assertion depends on the host's jitter.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include "jitter_probe.h"
#include "shell_util.h"

/* a CPU id no test host has */
#define ZCS_TEST_NO_CPU 1000

static struct zcs_jitter_core cores[2];

static void
test_feed_exact(void **state)
{
	/* gaps: 10 10 200 10 1000 10 100 (= threshold, not a hiccup) 101 */
	static const uint64_t tsc[] = {0, 10, 20, 220, 230, 1230, 1240, 1340, 1441};
	struct zcs_jitter_core *c = &cores[0];

	(void)state;
	zcs_jitter_core_init(c, 3, 100);
	zcs_jitter_feed(c, tsc, sizeof(tsc) / sizeof(tsc[0]));
	assert_int_equal(c->hist.count, 3);
	assert_int_equal(c->hist.max, 1000);
	assert_int_equal(c->hist.min, 101);
	assert_int_equal(c->lost, 200 + 1000 + 101);
	assert_int_equal(c->span, 1441);
	assert_int_equal(c->reads, 9);

	/* a second sequence accumulates */
	zcs_jitter_feed(c, (const uint64_t[]){5000, 5001, 9001}, 3);
	assert_int_equal(c->hist.count, 4);
	assert_int_equal(c->hist.max, 4000);
	assert_int_equal(c->lost, 1301 + 4000);
	assert_int_equal(c->span, 1441 + 4001);

	/* empty and single-read sequences add nothing to the hiccups */
	zcs_jitter_core_init(c, 0, 100);
	zcs_jitter_feed(c, tsc, 0);
	zcs_jitter_feed(c, tsc, 1);
	assert_int_equal(c->hist.count, 0);
	assert_int_equal(c->span, 0);
	assert_int_equal(c->lost, 0);
}

static void
test_feed_many(void **state)
{
	static uint64_t tsc[100001];
	struct zcs_jitter_core *c = &cores[0];
	uint64_t t = 1000, lost = 0;
	unsigned int hiccups = 0;

	(void)state;
	zcs_jitter_core_init(c, 0, 50);
	/* every 100th gap a hiccup of 1000 + i cycles, the others 20 */
	for (unsigned int i = 0; i < 100001; i++) {
		tsc[i] = t;
		if (i == 100000)
			break;
		if (i % 100 == 99) {
			t += 1000 + i;
			lost += 1000 + i;
			hiccups++;
		} else {
			t += 20;
		}
	}
	zcs_jitter_feed(c, tsc, 100001);
	assert_int_equal(hiccups, 1000);
	assert_int_equal(c->hist.count, hiccups);
	assert_int_equal(c->lost, lost);
	assert_int_equal(c->hist.min, 1000 + 99);
	assert_int_equal(c->hist.max, 1000 + 99999);
	assert_int_equal(c->span, tsc[100000] - tsc[0]);
}

static void
test_result(void **state)
{
	static const uint64_t tsc[] = {0, 10, 20, 220, 230, 1230, 1240};
	struct zcs_jitter_core *c = &cores[0];
	struct zcs_jitter_result r;

	(void)state;
	zcs_jitter_core_init(c, 7, 100);
	zcs_jitter_feed(c, tsc, 7);
	/* 2 GHz: 1 cycle = 0.5 ns */
	zcs_jitter_result(&r, c, 2e9);
	assert_int_equal(r.cpu, 7);
	assert_int_equal(r.hiccups, 2);
	assert_true(fabs(r.threshold_ns - 50) < 1e-9);
	assert_true(fabs(r.seconds - 620e-9) < 1e-15);
	assert_true(fabs(r.rate_per_s - 2 / 620e-9) < 1);
	assert_true(fabs(r.max_ns - 500) < 1e-9);
	/* p99 and p99.9 of {200, 1000} cycles: 1000 within the histogram's 1/128 */
	assert_true(fabs(r.p99_ns - 500) <= 500.0 / 128);
	assert_true(fabs(r.p999_ns - 500) <= 500.0 / 128);
	assert_true(fabs(r.lost_share - 1200.0 / 1240.0) < 1e-12);

	/* no hiccups: zeros, no division by zero */
	zcs_jitter_core_init(c, 1, 100);
	zcs_jitter_result(&r, c, 2e9);
	assert_int_equal(r.hiccups, 0);
	assert_true(r.rate_per_s == 0 && r.max_ns == 0 && r.p99_ns == 0 && r.lost_share == 0);
}

static char *
report(int json)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	zcs_jitter_report(f, cores, 2, 1e9, json);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static void
test_report_shape(void **state)
{
	static const uint64_t tsc[] = {0, 10, 5010, 5020};
	char *out;

	(void)state;
	zcs_jitter_core_init(&cores[0], 2, 1000);
	zcs_jitter_core_init(&cores[1], 5, 1000);
	zcs_jitter_feed(&cores[0], tsc, 4);
	zcs_jitter_feed(&cores[1], tsc, 2);

	out = report(1);
	assert_json_object(out);
	assert_non_null(strstr(out, "\"tsc_hz\": 1000000000"));
	assert_non_null(strstr(out, "\"cores\": ["));
	assert_int_equal(str_count(out, "\"cpu\": "), 2);
	assert_non_null(strstr(out, "\"cpu\": 2, "));
	assert_non_null(strstr(out, "\"cpu\": 5, "));
	assert_non_null(strstr(out, "\"hiccups\": 1, "));
	assert_non_null(strstr(out, "\"hiccups\": 0, "));
	assert_non_null(strstr(out, "\"max_ns\": 5000, "));
	assert_non_null(strstr(out, "\"lost_share\": 0.996015936"));
	assert_int_equal(str_count(out, "\"threshold_ns\": 1000"), 3);
	assert_int_equal(str_count(out, "\"p99_ns\": "), 2);
	assert_int_equal(str_count(out, "\"p999_ns\": "), 2);
	assert_int_equal(str_count(out, "\"rate_per_s\": "), 2);
	free(out);

	out = report(0);
	assert_non_null(strstr(out, "TSC 1.000 GHz"));
	assert_non_null(strstr(out, "threshold_ns"));
	assert_non_null(strstr(out, "lost_%"));
	assert_int_equal(str_count(out, "\n"), 4); /* TSC line, header, one row per core */
	free(out);
}

static unsigned int
first_allowed_cpu(void)
{
	cpu_set_t set;

	assert_int_equal(sched_getaffinity(0, sizeof(set), &set), 0);
	for (unsigned int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &set))
			return c;
	fail_msg("no CPU in this process's affinity");
	return 0;
}

static void
test_run_fails_cleanly(void **state)
{
	char err[256] = "";

	(void)state;
	zcs_jitter_core_init(&cores[0], first_allowed_cpu(), 1000);
	zcs_jitter_core_init(&cores[1], ZCS_TEST_NO_CPU, 1000);
	/* the second thread cannot start: the first must be released, not left spinning */
	assert_int_equal(zcs_jitter_run(cores, 2, 3600, 1e9, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "cpu 1000"));
	assert_int_equal(cores[0].span, 0);
}

static void
test_real_run(void **state)
{
	struct zcs_jitter_result r;
	char err[256] = "";
	double hz;

	(void)state;
	hz = zcs_jitter_calibrate(50);
	assert_true(hz > 1e6);
	zcs_jitter_core_init(&cores[0], first_allowed_cpu(), (uint64_t)(hz / 1e6)); /* 1 us */
	assert_int_equal(zcs_jitter_run(cores, 1, 0.2, hz, err, sizeof(err)), 0);
	zcs_jitter_result(&r, &cores[0], hz);
	assert_true(cores[0].span >= (uint64_t)(0.2 * hz));
	assert_true(cores[0].reads > 1);
	if (r.hiccups > 0) {
		assert_true(cores[0].hist.max > cores[0].threshold);
		assert_true(r.max_ns >= r.threshold_ns);
		assert_true(r.p99_ns <= r.max_ns * (1 + 1.0 / 128));
	}
	assert_true(r.lost_share >= 0 && r.lost_share <= 1);
	assert_true(cores[0].lost <= cores[0].span);
}

static void
test_binary(void **state)
{
	static char out[16384];
	const char *b = getenv("ZCS_BUILD_DIR");

	(void)state;
	assert_non_null(b);
	assert_int_equal(
		shell_run(out, sizeof(out),
			"\"$ZCS_BUILD_DIR\"/tuning/zcsign-jitter --cores %u --seconds 0.2 --json",
			first_allowed_cpu()),
		0);
	assert_json_object(out);
	assert_int_equal(str_count(out, "\"cpu\": "), 1);
	assert_non_null(strstr(out, "\"lost_share\": "));

	assert_int_equal(shell_run(out, sizeof(out),
				 "\"$ZCS_BUILD_DIR\"/tuning/zcsign-jitter --seconds 0 2>&1"),
		2);
	assert_non_null(strstr(out, "--seconds '0'"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_feed_exact),
		cmocka_unit_test(test_feed_many),
		cmocka_unit_test(test_result),
		cmocka_unit_test(test_report_shape),
		cmocka_unit_test(test_run_fails_cleanly),
		cmocka_unit_test(test_real_run),
		cmocka_unit_test(test_binary),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
