/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Checks of the worker cores' clock: deep C-states (wake-up latency), the
 * frequency governor and turbo (a clock that moves), and an invariant TSC
 * (what every latency figure is measured with). Contract in
 * preflight_checks.h; the why of each fix in docs/TUNING.md.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "preflight_internal.h"

void
zcs_pf_check_cstates(const struct zcs_pf_ctx *ctx, struct zcs_pf_check *r)
{
	char drv[64], path[128], name[64], deep[300] = "";
	char intel[32] = "unset", proc[32] = "unset";
	size_t off = 0;
	unsigned int states = 0;
	int ret = zcs_pf_read(
		ctx, "/sys/devices/system/cpu/cpuidle/current_driver", drv, sizeof(drv));

	zcs_pf_cmdline_get(ctx->cmdline, "intel_idle.max_cstate", intel, sizeof(intel));
	zcs_pf_cmdline_get(ctx->cmdline, "processor.max_cstate", proc, sizeof(proc));
	if (ret == -ENOENT) {
		/* no cpuidle: the idle loop halts (C1) */
		return zcs_pf_verdict(r, ZCS_PF_PASS, NULL,
			"no cpuidle driver (idle is a plain halt); intel_idle.max_cstate=%s "
			"processor.max_cstate=%s",
			intel, proc);
	}
	if (ret < 0)
		return zcs_pf_unreadable(
			ctx, r, "/sys/devices/system/cpu/cpuidle/current_driver", ret);
	for (unsigned int c = 0; c < ZCS_CPUSET_MAX; c++) {
		if (!zcs_cpuset_isset(&ctx->cores, c))
			continue;
		for (unsigned int s = 0;; s++) {
			unsigned long long lat, dis = 0;

			snprintf(path, sizeof(path),
				"/sys/devices/system/cpu/cpu%u/cpuidle/state%u/name", c, s);
			if (zcs_pf_read(ctx, path, name, sizeof(name)) < 0)
				break;
			states++;
			snprintf(path, sizeof(path),
				"/sys/devices/system/cpu/cpu%u/cpuidle/state%u/latency", c, s);
			if (zcs_pf_read_u64(ctx, path, &lat) < 0)
				continue;
			snprintf(path, sizeof(path),
				"/sys/devices/system/cpu/cpu%u/cpuidle/state%u/disable", c, s);
			/* unreadable or not a number: enabled, as the kernel's default */
			(void)zcs_pf_read_u64(ctx, path, &dis);
			if (lat <= ZCS_PF_CSTATE_MAX_US || dis != 0)
				continue;
			if (off < sizeof(deep) - 40) {
				int n = snprintf(deep + off, sizeof(deep) - off,
					"%scpu%u %s (%llu us)", off ? ", " : "", c, name, lat);

				off += n > 0 ? (size_t)n : 0;
			}
		}
	}
	if (off > 0)
		return zcs_pf_verdict(r, ZCS_PF_FAIL,
			"boot with intel_idle.max_cstate=0 processor.max_cstate=1 (or write 1 to "
			"cpuN/cpuidle/stateK/disable, or tuned's force_latency)",
			"driver %s, deep states enabled: %s", drv, deep);
	if (strcmp(drv, "none") != 0 && states == 0)
		return zcs_pf_verdict(r, ZCS_PF_WARN, "run as root, or check cpuN/cpuidle",
			"driver %s, but no idle state readable on the cores", drv);
	zcs_pf_verdict(r, ZCS_PF_PASS, NULL,
		"driver %s, no enabled state deeper than %d us on the cores; "
		"intel_idle.max_cstate=%s processor.max_cstate=%s",
		drv, ZCS_PF_CSTATE_MAX_US, intel, proc);
}

void
zcs_pf_check_governor(const struct zcs_pf_ctx *ctx, struct zcs_pf_check *r)
{
	char path[128], gov[64], slow[300] = "", none[200] = "";
	size_t off = 0, noff = 0;
	unsigned int good = 0;

	for (unsigned int c = 0; c < ZCS_CPUSET_MAX; c++) {
		if (!zcs_cpuset_isset(&ctx->cores, c))
			continue;
		snprintf(path, sizeof(path),
			"/sys/devices/system/cpu/cpu%u/cpufreq/scaling_governor", c);
		if (zcs_pf_read(ctx, path, gov, sizeof(gov)) < 0)
			zcs_pf_appendf(none, sizeof(none), &noff, "%s%u", noff ? "," : "", c);
		else if (strcmp(gov, "performance") == 0)
			good++;
		else
			zcs_pf_appendf(
				slow, sizeof(slow), &off, "%scpu%u %s", off ? ", " : "", c, gov);
	}
	if (off > 0)
		return zcs_pf_verdict(r, ZCS_PF_FAIL,
			"cpupower -c CORES frequency-set -g performance (or the tuned profile)",
			"governor not performance: %s", slow);
	if (noff > 0)
		return zcs_pf_verdict(r, ZCS_PF_WARN,
			"none on a VM (the hypervisor sets the clock); on metal load the cpufreq "
			"driver and set performance",
			"no cpufreq on cpu %s (virtual machine, or no cpufreq driver)", none);
	zcs_pf_verdict(r, ZCS_PF_PASS, NULL, "governor performance on %u core(s)", good);
}

void
zcs_pf_check_turbo(const struct zcs_pf_ctx *ctx, struct zcs_pf_check *r)
{
	unsigned long long v;

	if (zcs_pf_read_u64(ctx, "/sys/devices/system/cpu/intel_pstate/no_turbo", &v) == 0) {
		if (v == 1)
			return zcs_pf_verdict(
				r, ZCS_PF_PASS, NULL, "turbo off (intel_pstate/no_turbo=1)");
		return zcs_pf_verdict(r, ZCS_PF_WARN,
			"echo 1 > /sys/devices/system/cpu/intel_pstate/no_turbo for a steady clock "
			"(trade-off: lower peak speed)",
			"turbo on (intel_pstate/no_turbo=0): the clock varies with power and heat");
	}
	if (zcs_pf_read_u64(ctx, "/sys/devices/system/cpu/cpufreq/boost", &v) == 0) {
		if (v == 0)
			return zcs_pf_verdict(r, ZCS_PF_PASS, NULL, "turbo off (cpufreq/boost=0)");
		return zcs_pf_verdict(r, ZCS_PF_WARN,
			"echo 0 > /sys/devices/system/cpu/cpufreq/boost for a steady clock "
			"(trade-off: lower peak speed)",
			"boost on (cpufreq/boost=1): the clock varies with power and heat");
	}
	zcs_pf_verdict(r, ZCS_PF_WARN, "none on a VM; on metal check the BIOS turbo setting",
		"could not read %s/sys/devices/system/cpu/intel_pstate/no_turbo nor "
		"cpufreq/boost: turbo state unknown",
		ctx->root);
}

static bool
has_flag(const char *flags, const char *flag)
{
	size_t n = strlen(flag);

	for (const char *p = flags; (p = strstr(p, flag)) != NULL; p += n)
		if ((p == flags || isspace((unsigned char)p[-1])) &&
			(p[n] == '\0' || isspace((unsigned char)p[n])))
			return true;
	return false;
}

void
zcs_pf_check_tsc(const struct zcs_pf_ctx *ctx, struct zcs_pf_check *r)
{
	char path[PATH_MAX], line[8192], cs[64] = "unknown";
	bool constant = true, nonstop = true, any = false;
	FILE *f;

	zcs_pf_path(ctx, "/proc/cpuinfo", path, sizeof(path));
	f = fopen(path, "r");
	if (f == NULL)
		return zcs_pf_unreadable(ctx, r, "/proc/cpuinfo", -errno);
	while (fgets(line, sizeof(line), f) != NULL) {
		char *colon;

		if (strncmp(line, "flags", 5) != 0 || (colon = strchr(line, ':')) == NULL)
			continue;
		any = true;
		colon[strcspn(colon, "\n")] = '\0';
		constant = constant && has_flag(colon + 1, "constant_tsc");
		nonstop = nonstop && has_flag(colon + 1, "nonstop_tsc");
	}
	fclose(f);
	zcs_pf_read(ctx, "/sys/devices/system/clocksource/clocksource0/current_clocksource", cs,
		sizeof(cs));
	if (!any)
		return zcs_pf_verdict(r, ZCS_PF_WARN, "check /proc/cpuinfo",
			"no flags line in %s (not x86?)", path);
	if (!constant || !nonstop)
		return zcs_pf_verdict(r, ZCS_PF_FAIL,
			"use a CPU (or a VM exposing one) with an invariant TSC: TSC-based "
			"latency figures are wrong without it",
			"TSC not invariant:%s%s (clocksource %s)",
			constant ? "" : " no constant_tsc", nonstop ? "" : " no nonstop_tsc", cs);
	zcs_pf_verdict(r, ZCS_PF_PASS, NULL,
		"invariant TSC (constant_tsc nonstop_tsc; clocksource %s)", cs);
}
