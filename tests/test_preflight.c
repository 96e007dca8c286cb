/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zcsign-preflight: its parsers (CPU lists and masks, kernel command line,
 * isolcpus=, zcsignd configs) and every check against the fake /proc and /sys
 * trees of tests/fixtures/preflight/ (make-fixtures.sh there says what each
 * tree holds) give the expected verdicts; the real binary run with --root on
 * those trees exits 1 on a FAIL, 0 without, 2 on bad usage, and its --json
 * is one well-formed object with one {name, verdict, found, fix} per check.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include <zcsign/engine.h>

#include "preflight_checks.h"
#include "shell_util.h"

static const char *
env_dir(const char *name)
{
	const char *d = getenv(name);

	if (d == NULL)
		fail_msg("%s is not set (run through meson test)", name);
	return d;
}

static void
ctx_for(struct zcs_pf_ctx *ctx, const char *tree, const char *cores)
{
	memset(ctx, 0, sizeof(*ctx));
	snprintf(ctx->root, sizeof(ctx->root), "%s/tests/fixtures/preflight/%s",
		env_dir("ZCS_SOURCE_DIR"), tree);
	ctx->use_libnuma = false;
	zcs_pf_ctx_load(ctx);
	assert_int_equal(zcs_cpuset_parse(&ctx->cores, cores), 0);
}

static enum zcs_pf_verdict
verdict_of(const char *tree, const char *cores, const char *check, struct zcs_pf_check *r)
{
	struct zcs_pf_ctx ctx;

	ctx_for(&ctx, tree, cores);
	assert_int_equal(zcs_pf_run_one(&ctx, check, r), 0);
	assert_non_null(r->name);
	assert_true(r->found[0] != '\0');
	/* a verdict other than PASS always says what to do */
	if (r->verdict != ZCS_PF_PASS)
		assert_true(r->fix[0] != '\0');
	return r->verdict;
}

/* ---- parsers ----------------------------------------------------------- */

static void
test_cpuset_lists(void **state)
{
	struct zcs_cpuset s, t;
	char out[64];

	(void)state;
	assert_int_equal(zcs_cpuset_parse(&s, "0-3,8,10-11\n"), 0);
	assert_int_equal(zcs_cpuset_count(&s), 7);
	assert_true(zcs_cpuset_isset(&s, 8) && !zcs_cpuset_isset(&s, 9));
	zcs_cpuset_format(out, sizeof(out), &s);
	assert_string_equal(out, "0-3,8,10-11");
	assert_int_equal(zcs_cpuset_parse(&s, ""), 0);
	assert_int_equal(zcs_cpuset_count(&s), 0);
	zcs_cpuset_format(out, sizeof(out), &s);
	assert_string_equal(out, "none");
	assert_int_equal(zcs_cpuset_parse(&s, "3-1"), -EINVAL);
	assert_int_equal(zcs_cpuset_parse(&s, "1,x"), -EINVAL);
	assert_int_equal(zcs_cpuset_parse(&s, "1024"), -EINVAL);
	assert_int_equal(zcs_cpuset_parse(&s, "(null)"), -EINVAL);
	assert_int_equal(zcs_cpuset_parse(&s, "1023"), 0);

	assert_int_equal(zcs_cpuset_parse_mask(&s, "f"), 0);
	zcs_cpuset_format(out, sizeof(out), &s);
	assert_string_equal(out, "0-3");
	assert_int_equal(zcs_cpuset_parse_mask(&s, "00000001,00000006\n"), 0);
	zcs_cpuset_format(out, sizeof(out), &s);
	assert_string_equal(out, "1-2,32");
	assert_int_equal(zcs_cpuset_parse_mask(&s, "0g"), -EINVAL);

	assert_int_equal(zcs_cpuset_parse(&s, "2-3"), 0);
	assert_int_equal(zcs_cpuset_parse(&t, "0-3"), 0);
	assert_true(zcs_cpuset_subset(&s, &t) && !zcs_cpuset_subset(&t, &s));
	assert_true(zcs_cpuset_intersects(&s, &t));
	zcs_cpuset_andnot(&t, &t, &s);
	zcs_cpuset_format(out, sizeof(out), &t);
	assert_string_equal(out, "0-1");
	assert_false(zcs_cpuset_intersects(&s, &t));
}

static void
test_cmdline(void **state)
{
	static const char cl[] = "BOOT_IMAGE=/vmlinuz nohz_full=1-3 quiet isolcpus=domain,2 "
				 "isolcpus=managed_irq,domain,2-3,5 -- rcu_nocbs=1";
	struct zcs_cpuset s;
	char v[64], out[64];
	bool managed;

	(void)state;
	assert_int_equal(zcs_pf_cmdline_get(cl, "nohz_full", v, sizeof(v)), 1);
	assert_string_equal(v, "1-3");
	assert_int_equal(zcs_pf_cmdline_get(cl, "quiet", v, sizeof(v)), 1);
	assert_string_equal(v, "");
	assert_int_equal(zcs_pf_cmdline_get(cl, "nohz", v, sizeof(v)), 0);
	/* after "--" the words belong to init */
	assert_int_equal(zcs_pf_cmdline_get(cl, "rcu_nocbs", v, sizeof(v)), 0);
	/* the last one wins */
	assert_int_equal(zcs_pf_cmdline_get(cl, "isolcpus", v, sizeof(v)), 1);
	assert_int_equal(zcs_pf_isolcpus_parse(&s, &managed, v), 0);
	assert_true(managed);
	zcs_cpuset_format(out, sizeof(out), &s);
	assert_string_equal(out, "2-3,5");
	assert_int_equal(zcs_pf_isolcpus_parse(&s, &managed, "nohz,domain,4"), 0);
	assert_false(managed);
	zcs_cpuset_format(out, sizeof(out), &s);
	assert_string_equal(out, "4");
	assert_int_equal(zcs_pf_isolcpus_parse(&s, NULL, "1-2"), 0);
	assert_int_equal(zcs_cpuset_count(&s), 2);
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static void
test_config(void **state)
{
	char dir[] = "/tmp/zcs_pf_conf_XXXXXX", path[128], err[256], out[64];
	struct zcs_cpuset s;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/zcsignd.ini", dir);

	write_file(path,
		"# two shards\n[engine]\nshards = 2\nlcore = 9\n\n[shard.0]\n"
		"signer = unix:/tmp/s0\nlcore = 3\n[shard.1]\n  lcore=2  \n"
		"signer = unix:/tmp/s1\n");
	assert_int_equal(zcs_pf_cores_from_config(&s, path, err, sizeof(err)), 0);
	zcs_cpuset_format(out, sizeof(out), &s);
	assert_string_equal(out, "2-3");

	write_file(path, "[shard.0]\nlcore = 1\n[shard.1]\nsigner = unix:/tmp/s1\n");
	assert_int_equal(zcs_pf_cores_from_config(&s, path, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "[shard.1] has no lcore"));
	assert_non_null(strstr(err, path));

	write_file(path, "[shard.0]\nsigner = unix:/tmp/s0\n[shard.1]\nlcore = 1\n");
	assert_int_equal(zcs_pf_cores_from_config(&s, path, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "[shard.0] has no lcore"));

	write_file(path, "[shard.0]\nlcore = two\n");
	assert_int_equal(zcs_pf_cores_from_config(&s, path, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "line 2"));
	/* A leading zero, which the engine refuses too (010 is not eight to zcsignd). */
	write_file(path, "[shard.0]\nlcore = 03\n");
	assert_int_equal(zcs_pf_cores_from_config(&s, path, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "line 2"));
	/* the line of the bad one when the key repeats */
	write_file(path, "[shard.0]\nlcore = 1\n# a comment\nlcore = 1x\n");
	assert_int_equal(zcs_pf_cores_from_config(&s, path, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "line 4"));
	assert_non_null(strstr(err, "'1x'"));

	write_file(path, "[engine]\nshards = 1\n");
	assert_int_equal(zcs_pf_cores_from_config(&s, path, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "no [shard.<i>]"));

	assert_int_equal(unlink(path), 0);
	assert_int_equal(zcs_pf_cores_from_config(&s, path, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, path));
	assert_int_equal(rmdir(dir), 0);
}

/*
 * A file zcsignd refuses for its syntax is refused by --config too, with the
 * same line: both read it with engine/ini.c.
 */
static void
test_config_syntax(void **state)
{
	static const struct {
		const char *text;
		const char *line;
	} bad[] = {
		/* neither [section] nor key = value */
		{"[shard.0]\nlcore = 1\nlcore 2\n", "line 3"},
		/* comments start with '#' */
		{"; INI comment\n[shard.0]\nlcore = 1\n", "line 1"},
		{"lcore = 1\n[shard.0]\nlcore = 2\n", "line 1"}, /* before any [section] */
		{"[shard.0\nlcore = 1\n", "line 1"},
		{"[shard.0]\nlcore =\n", "line 2"}, /* an empty value */
	};
	char dir[] = "/tmp/zcs_pf_syn_XXXXXX", path[128], err[512], eerr[512];
	struct zcs_engine_conf conf;
	struct zcs_cpuset s;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/zcsignd.ini", dir);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_file(path, bad[i].text);
		zcs_engine_conf_init(&conf);
		assert_int_equal(zcs_engine_conf_load(&conf, eerr, sizeof(eerr), path), -EINVAL);
		assert_int_equal(zcs_pf_cores_from_config(&s, path, err, sizeof(err)), -EINVAL);
		if (strstr(err, bad[i].line) == NULL || strstr(err, path) == NULL)
			fail_msg("'%s' does not name %s and %s", err, path, bad[i].line);
		/* the engine's own words, after preflight's "config " */
		assert_string_equal(err + strlen("config "), eerr);
	}
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

static void
test_suggest_cmdline(void **state)
{
	struct zcs_pf_ctx ctx;
	char line[1024], err[256];

	(void)state;
	ctx_for(&ctx, "stock", "2-3");
	assert_int_equal(zcs_pf_suggest_cmdline(&ctx, line, sizeof(line), err, sizeof(err)), 0);
	assert_non_null(strstr(line, "isolcpus=managed_irq,domain,2-3 "));
	assert_non_null(strstr(line, "nohz_full=2-3 "));
	assert_non_null(strstr(line, "rcu_nocbs=2-3 "));
	assert_non_null(strstr(line, "irqaffinity=0-1 "));
	assert_non_null(strstr(line, "intel_idle.max_cstate=0"));
	assert_non_null(strstr(line, "processor.max_cstate=1"));
	assert_non_null(strstr(line, "nosoftlockup"));
	assert_non_null(strstr(line, "tsc=reliable"));

	ctx_for(&ctx, "stock", "0-3");
	assert_int_equal(
		zcs_pf_suggest_cmdline(&ctx, line, sizeof(line), err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "no housekeeping CPU"));

	ctx_for(&ctx, "empty", "1");
	assert_int_equal(zcs_pf_suggest_cmdline(&ctx, line, sizeof(line), err, sizeof(err)), -EIO);
	assert_non_null(strstr(err, "/sys/devices/system/cpu/online"));
}

/* ---- checks against the fixture trees --------------------------------- */

struct expect {
	const char *tree;
	const char *cores;
	const char *check;
	enum zcs_pf_verdict verdict;
	const char *found; /* a substring of found, or NULL */
};

static const struct expect expects[] = {
	/* isolated and not */
	{"tuned", "2-3", "isolcpus", ZCS_PF_PASS, "isolated"},
	{"stock", "2-3", "isolcpus", ZCS_PF_FAIL, "not all isolated"},
	{"tuned", "1-2", "isolcpus", ZCS_PF_FAIL, "not all isolated"},
	{"isolcpus_nomanaged", "2-3", "isolcpus", ZCS_PF_WARN, "lacks managed_irq"},
	/* nohz_full set, unset, asked for but not honoured */
	{"tuned", "2-3", "nohz_full", ZCS_PF_PASS, "tickless"},
	{"stock", "2-3", "nohz_full", ZCS_PF_FAIL, "cmdline nohz_full=absent"},
	{"tuned", "1-2", "nohz_full", ZCS_PF_FAIL, "not all tickless"},
	{"isolcpus_nomanaged", "2-3", "nohz_full", ZCS_PF_FAIL, "without CONFIG_NO_HZ_FULL"},
	{"tuned", "2-3", "rcu_nocbs", ZCS_PF_PASS, "rcu_nocbs=2-3"},
	{"isolcpus_nomanaged", "2-3", "rcu_nocbs", ZCS_PF_PASS, "implied by nohz_full"},
	{"stock", "2-3", "rcu_nocbs", ZCS_PF_FAIL, "RCU callbacks"},
	/* IRQs on and off the cores */
	{"tuned", "2-3", "irqaffinity", ZCS_PF_PASS, "default IRQ affinity 0-1"},
	{"stock", "2-3", "irqaffinity", ZCS_PF_FAIL, "default affinity 0-3"},
	{"tuned", "2-3", "irqs", ZCS_PF_PASS, "all 3 IRQs off"},
	{"stock", "2-3", "irqs", ZCS_PF_FAIL, "2 of 3 IRQs"},
	{"tuned", "1", "irqs", ZCS_PF_FAIL, "2 of 3 IRQs"},
	{"tuned", "2-3", "irqbalance", ZCS_PF_PASS, "not running"},
	{"stock", "2-3", "irqbalance", ZCS_PF_WARN, "pid 700"},
	/* C-state layouts: acpi_idle C1 only, intel_idle deep, acpi_idle deep, none,
	 * deep but disabled, no cpuidle at all */
	{"tuned", "2-3", "cstates", ZCS_PF_PASS, "driver acpi_idle"},
	{"stock", "2-3", "cstates", ZCS_PF_FAIL, "cpu3 C6 (133 us)"},
	{"cstate_acpi", "2-3", "cstates", ZCS_PF_FAIL, "cpu2 C2 (100 us)"},
	{"cstate_acpi", "3", "cstates", ZCS_PF_PASS, "driver acpi_idle"},
	{"cstate_none", "2-3", "cstates", ZCS_PF_PASS, "driver none"},
	{"cstate_disabled", "2-3", "cstates", ZCS_PF_PASS, "driver intel_idle"},
	{"empty", "2-3", "cstates", ZCS_PF_PASS, "no cpuidle driver"},
	/* governors and turbo */
	{"tuned", "2-3", "governor", ZCS_PF_PASS, "performance"},
	{"stock", "2-3", "governor", ZCS_PF_FAIL, "cpu2 powersave"},
	{"empty", "2-3", "governor", ZCS_PF_WARN, "no cpufreq"},
	{"tuned", "2-3", "turbo", ZCS_PF_PASS, "turbo off"},
	{"stock", "2-3", "turbo", ZCS_PF_WARN, "turbo on"},
	/* THP always, madvise, never */
	{"stock", "2-3", "thp", ZCS_PF_FAIL, "THP always"},
	{"thp_madvise", "2-3", "thp", ZCS_PF_WARN, "THP madvise"},
	{"tuned", "2-3", "thp", ZCS_PF_PASS, "THP never"},
	/* hugepages: none, reserved but not mounted, reserved and mounted */
	{"stock", "2-3", "hugepages", ZCS_PF_FAIL, "no hugepages reserved"},
	{"hugepages_nomount", "2-3", "hugepages", ZCS_PF_FAIL, "no hugetlbfs mounted"},
	{"tuned", "2-3", "hugepages", ZCS_PF_PASS, "hugetlbfs at /dev/hugepages"},
	/* NUMA: one node; cores on a node without hugepages; cores split */
	{"tuned", "2-3", "numa", ZCS_PF_PASS, "node 0 of 1"},
	{"stock", "2-3", "numa", ZCS_PF_FAIL, "no free hugepage on node 1"},
	{"stock", "1-2", "numa", ZCS_PF_FAIL, "several nodes"},
	/* swap on and off */
	{"stock", "2-3", "swap", ZCS_PF_WARN, "/dev/sda2"},
	{"tuned", "2-3", "swap", ZCS_PF_PASS, "no swap"},
	/* sysctls */
	{"tuned", "2-3", "timer_migration", ZCS_PF_PASS, "=0"},
	{"stock", "2-3", "timer_migration", ZCS_PF_WARN, "=1"},
	{"tuned", "2-3", "watchdogs", ZCS_PF_PASS, "off the cores"},
	{"tuned", "1", "watchdogs", ZCS_PF_WARN, "watchdog=1"},
	{"stock", "2-3", "watchdogs", ZCS_PF_WARN, "nmi_watchdog=1"},
	{"tuned", "2-3", "stat_interval", ZCS_PF_PASS, "=10"},
	{"stock", "2-3", "stat_interval", ZCS_PF_WARN, "=1 s"},
	/* TSC flags present and missing */
	{"tuned", "2-3", "tsc", ZCS_PF_PASS, "invariant TSC"},
	{"stock", "2-3", "tsc", ZCS_PF_FAIL, "no nonstop_tsc"},
	/* the cores themselves */
	{"tuned", "2-3", "cores", ZCS_PF_PASS, "online"},
	{"tuned", "0-1", "cores", ZCS_PF_WARN, "include CPU 0"},
	{"tuned", "3-4", "cores", ZCS_PF_FAIL, "4 not online"},
	/* nothing readable: WARN "could not read", never FAIL */
	{"empty", "2-3", "isolcpus", ZCS_PF_WARN, "could not read"},
	{"empty", "2-3", "nohz_full", ZCS_PF_WARN, "could not read"},
	{"empty", "2-3", "rcu_nocbs", ZCS_PF_WARN, "could not read"},
	{"empty", "2-3", "irqs", ZCS_PF_WARN, "could not read"},
	{"empty", "2-3", "hugepages", ZCS_PF_WARN, "could not read"},
	{"empty", "2-3", "tsc", ZCS_PF_WARN, "could not read"},
};

static void
test_fixture_verdicts(void **state)
{
	unsigned int bad = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(expects) / sizeof(expects[0]); i++) {
		const struct expect *e = &expects[i];
		struct zcs_pf_check r;
		enum zcs_pf_verdict v = verdict_of(e->tree, e->cores, e->check, &r);

		if (v != e->verdict || (e->found != NULL && strstr(r.found, e->found) == NULL)) {
			print_error("%s --cores %s, %s: want %s '%s', got %s '%s'\n", e->tree,
				e->cores, e->check, zcs_pf_verdict_name(e->verdict),
				e->found ? e->found : "", zcs_pf_verdict_name(v), r.found);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

static void
test_whole_trees(void **state)
{
	struct zcs_pf_check r[64];
	struct zcs_pf_ctx ctx;
	unsigned int fails = 0, warns = 0;

	(void)state;
	assert_true(zcs_pf_nchecks <= 64);
	ctx_for(&ctx, "tuned", "2-3");
	assert_int_equal(zcs_pf_run_all(&ctx, r), ZCS_PF_PASS);
	ctx_for(&ctx, "stock", "2-3");
	assert_int_equal(zcs_pf_run_all(&ctx, r), ZCS_PF_FAIL);
	/* nothing readable is never a FAIL: the tool must run without root */
	ctx_for(&ctx, "empty", "2-3");
	assert_int_equal(zcs_pf_run_all(&ctx, r), ZCS_PF_WARN);
	for (unsigned int i = 0; i < zcs_pf_nchecks; i++) {
		fails += r[i].verdict == ZCS_PF_FAIL;
		warns += r[i].verdict == ZCS_PF_WARN;
	}
	assert_int_equal(fails, 0);
	assert_true(warns >= zcs_pf_nchecks - 2);
	assert_int_equal(zcs_pf_run_one(&ctx, "no-such-check", &r[0]), -ENOENT);
}

/* ---- the real binary --------------------------------------------------- */

static int preflight(char *out, size_t len, const char *tree, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * Run zcsign-preflight (with --root on the fixture tree, unless tree is NULL)
 * and the arguments; its stdout into out, its exit status returned.
 */
static int
preflight(char *out, size_t len, const char *tree, const char *fmt, ...)
{
	char args[1024], root[512] = "";
	va_list ap;

	/* The shell expands them, quoted: the checkout may live under any path. */
	env_dir("ZCS_BUILD_DIR");
	env_dir("ZCS_SOURCE_DIR");
	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	if (tree != NULL)
		snprintf(root, sizeof(root),
			"--root \"$ZCS_SOURCE_DIR\"/tests/fixtures/preflight/%s ", tree);
	return shell_run(out, len, "\"$ZCS_BUILD_DIR\"/tuning/zcsign-preflight %s%s", root, args);
}

static void
test_binary(void **state)
{
	static char out[65536];
	char conf[] = "/tmp/zcs_pf_bin_XXXXXX", ini[128];

	(void)state;
	/* all PASS: exit 0, one object, every check PASS */
	assert_int_equal(preflight(out, sizeof(out), "tuned", "--cores 2-3 --json"), 0);
	assert_json_object(out);
	assert_non_null(strstr(out, "\"checks\": ["));
	assert_int_equal(str_count(out, "\"name\": "), zcs_pf_nchecks);
	assert_int_equal(str_count(out, "\"verdict\": \"PASS\""), zcs_pf_nchecks);
	assert_int_equal(str_count(out, "\"found\": "), zcs_pf_nchecks);
	assert_int_equal(str_count(out, "\"fix\": "), zcs_pf_nchecks);

	/* a FAIL: exit 1 */
	assert_int_equal(preflight(out, sizeof(out), "stock", "--cores 2-3 --json"), 1);
	assert_json_object(out);
	assert_int_equal(str_count(out, "\"name\": "), zcs_pf_nchecks);
	assert_true(str_count(out, "\"verdict\": \"FAIL\"") > 0);

	/* text: one line per check, then the summary */
	assert_int_equal(preflight(out, sizeof(out), "stock", "--cores 2-3"), 1);
	assert_int_equal(str_count(out, "\n"), zcs_pf_nchecks + 2);
	assert_non_null(strstr(out, "FAIL  isolcpus"));
	assert_non_null(strstr(out, "| fix: "));
	assert_non_null(strstr(out, "summary: "));

	/* unreadable tree: WARNs only, exit 0 */
	assert_int_equal(preflight(out, sizeof(out), "empty", "--cores 2-3"), 0);
	assert_non_null(strstr(out, "WARN  hugepages       could not read"));

	/* cores from a zcsignd config */
	assert_non_null(mkdtemp(conf));
	snprintf(ini, sizeof(ini), "%s/z.ini", conf);
	write_file(ini, "[shard.0]\nlcore = 2\n[shard.1]\nlcore = 3\n");
	assert_int_equal(preflight(out, sizeof(out), "tuned", "--config %s", ini), 0);
	assert_non_null(strstr(out, "worker cores 2-3 (lcores of --config)"));
	write_file(ini, "[shard.0]\nsigner = unix:/x\n");
	assert_int_equal(preflight(out, sizeof(out), "tuned", "--config %s 2>&1", ini), 2);
	assert_non_null(strstr(out, "has no lcore"));
	assert_int_equal(unlink(ini), 0);
	assert_int_equal(rmdir(conf), 0);

	/* the GRUB line */
	assert_int_equal(preflight(out, sizeof(out), "tuned", "--cores 2-3 --suggest-cmdline"), 0);
	assert_non_null(strstr(out, "GRUB_CMDLINE_LINUX_DEFAULT=\""));
	assert_non_null(strstr(out, "irqaffinity=0-1"));

	/* usage errors: 2, and the message names what was wrong */
	assert_int_equal(preflight(out, sizeof(out), NULL, "--cores x-y 2>&1"), 2);
	assert_non_null(strstr(out, "--cores 'x-y'"));
	assert_int_equal(preflight(out, sizeof(out), NULL, "--bogus 2>&1"), 2);
	assert_int_equal(preflight(out, sizeof(out), NULL, "extra 2>&1"), 2);
}

/* tuning/irq-affinity.sh on a copy of the stock tree: the irqs check then PASSes */
static void
test_irq_affinity_script(void **state)
{
	static char out[8192];
	char dir[] = "/tmp/zcs_pf_irq_XXXXXX";
	struct zcs_pf_check r;
	struct zcs_pf_ctx ctx;

	(void)state;
	env_dir("ZCS_SOURCE_DIR"); /* the commands below expand it */
	assert_non_null(mkdtemp(dir));
	assert_int_equal(
		shell_run(out, sizeof(out),
			"cp -r \"$ZCS_SOURCE_DIR\"/tests/fixtures/preflight/stock/. %s", dir),
		0);
	memset(&ctx, 0, sizeof(ctx));
	snprintf(ctx.root, sizeof(ctx.root), "%s", dir);
	assert_int_equal(zcs_cpuset_parse(&ctx.cores, "2-3"), 0);
	zcs_pf_ctx_load(&ctx);
	assert_int_equal(zcs_pf_run_one(&ctx, "irqs", &r), 0);
	assert_int_equal(r.verdict, ZCS_PF_FAIL);

	/* --dry-run changes nothing */
	assert_int_equal(shell_run(out, sizeof(out),
				 "ZCS_IRQ_ROOT=%s bash \"$ZCS_SOURCE_DIR\"/tuning/irq-affinity.sh "
				 "--dry-run 2-3",
				 dir),
		0);
	assert_non_null(strstr(out, "irq 24: would move 2 -> 0-1"));
	assert_int_equal(zcs_pf_run_one(&ctx, "irqs", &r), 0);
	assert_int_equal(r.verdict, ZCS_PF_FAIL);

	assert_int_equal(
		shell_run(out, sizeof(out),
			"ZCS_IRQ_ROOT=%s bash \"$ZCS_SOURCE_DIR\"/tuning/irq-affinity.sh 2-3", dir),
		0);
	assert_non_null(strstr(out, "2 IRQ(s) moved, 1 already off 2-3"));
	assert_int_equal(zcs_pf_run_one(&ctx, "irqs", &r), 0);
	assert_int_equal(r.verdict, ZCS_PF_PASS);
	assert_int_equal(zcs_pf_run_one(&ctx, "irqaffinity", &r), 0);
	assert_int_equal(r.verdict, ZCS_PF_PASS);

	/* every CPU a worker: refused */
	assert_int_equal(
		shell_run(out, sizeof(out),
			"ZCS_IRQ_ROOT=%s bash \"$ZCS_SOURCE_DIR\"/tuning/irq-affinity.sh 0-3 2>&1",
			dir),
		1);
	assert_non_null(strstr(out, "leave no CPU for IRQs"));
	assert_int_equal(
		shell_run(out, sizeof(out), "bash \"$ZCS_SOURCE_DIR\"/tuning/irq-affinity.sh 2>&1"),
		2);
	assert_int_equal(shell_run(out, sizeof(out), "rm -rf %s", dir), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cpuset_lists),
		cmocka_unit_test(test_cmdline),
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_config_syntax),
		cmocka_unit_test(test_suggest_cmdline),
		cmocka_unit_test(test_fixture_verdicts),
		cmocka_unit_test(test_whole_trees),
		cmocka_unit_test(test_binary),
		cmocka_unit_test(test_irq_affinity_script),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
