/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Checks of the worker cores themselves: are they online, and isolated from
 * the scheduler (isolcpus=), the tick (nohz_full=) and RCU callbacks
 * (rcu_nocbs=)? Contract in preflight_checks.h; the why of each fix in
 * docs/TUNING.md.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "preflight_internal.h"

void
zcs_pf_check_cores(const struct zcs_pf_ctx *ctx, struct zcs_pf_check *r)
{
	char buf[1024], list[256], miss[256];
	struct zcs_cpuset online, missing;

	zcs_cpuset_format(list, sizeof(list), &ctx->cores);
	if (!zcs_pf_cpuset_or_warn(ctx, r, "/sys/devices/system/cpu/online", false, "online CPUs",
		    &online, buf, sizeof(buf)))
		return;
	zcs_cpuset_andnot(&missing, &ctx->cores, &online);
	if (zcs_cpuset_count(&missing) > 0) {
		zcs_cpuset_format(miss, sizeof(miss), &missing);
		return zcs_pf_verdict(r, ZCS_PF_FAIL, "pick worker cores among the online CPUs",
			"cores %s: %s not online (online: %s)", list, miss, buf);
	}
	if (zcs_cpuset_isset(&ctx->cores, 0))
		return zcs_pf_verdict(r, ZCS_PF_WARN,
			"leave CPU 0 to the kernel (timekeeping, unbound work): pick others",
			"cores %s include CPU 0 (online: %s)", list, buf);
	zcs_pf_verdict(r, ZCS_PF_PASS, NULL, "cores %s online (online: %s)", list, buf);
}

/* why /proc/cmdline could not be read (-errno) */
static int
cmdline_errno(const struct zcs_pf_ctx *ctx)
{
	char buf[16];
	int ret = zcs_pf_read(ctx, "/proc/cmdline", buf, sizeof(buf));

	return ret < 0 && ret != -EFBIG ? ret : -EIO;
}

/* cores in the CPU list of a cmdline parameter: 1 all, 0 not all, -1 absent */
static int
cmdline_covers(const struct zcs_pf_ctx *ctx, const char *key, struct zcs_cpuset *set, char *val,
	size_t len)
{
	if (!zcs_pf_cmdline_get(ctx->cmdline, key, val, len))
		return -1;
	if (zcs_cpuset_parse(set, val) < 0)
		return 0;
	return zcs_cpuset_subset(&ctx->cores, set);
}

void
zcs_pf_check_isolcpus(const struct zcs_pf_ctx *ctx, struct zcs_pf_check *r)
{
	static const char fix[] =
		"boot with isolcpus=managed_irq,domain,CORES (zcsign-preflight --suggest-cmdline)";
	char buf[1024] = "", val[512] = "none", list[256];
	struct zcs_cpuset iso, cmd;
	bool managed = false, on_cmdline;
	int ret = zcs_pf_read(ctx, "/sys/devices/system/cpu/isolated", buf, sizeof(buf));

	zcs_cpuset_format(list, sizeof(list), &ctx->cores);
	on_cmdline = zcs_pf_cmdline_get(ctx->cmdline, "isolcpus", val, sizeof(val)) == 1;
	if (on_cmdline && zcs_pf_isolcpus_parse(&cmd, &managed, val) < 0)
		zcs_cpuset_zero(&cmd);
	if (ret < 0) {
		if (!ctx->cmdline_ok)
			return zcs_pf_unreadable(ctx, r, "/sys/devices/system/cpu/isolated", ret);
		iso = on_cmdline ? cmd : (struct zcs_cpuset){{0}};
	} else if (zcs_cpuset_parse(&iso, buf) < 0) {
		return zcs_pf_verdict(r, ZCS_PF_WARN, fix, "cannot parse isolated CPUs '%s'", buf);
	}
	if (!zcs_cpuset_subset(&ctx->cores, &iso))
		return zcs_pf_verdict(r, ZCS_PF_FAIL, fix,
			"cores %s not all isolated (isolated: '%s', cmdline isolcpus=%s)", list,
			buf[0] != '\0' ? buf : "none", on_cmdline ? val : "absent");
	if (on_cmdline && !managed)
		return zcs_pf_verdict(r, ZCS_PF_WARN,
			"add the managed_irq flag: isolcpus=managed_irq,domain,CORES",
			"cores %s isolated, but isolcpus=%s lacks managed_irq (managed IRQs may "
			"still land there)",
			list, val);
	zcs_pf_verdict(r, ZCS_PF_PASS, NULL, "cores %s isolated (isolated: %s)", list, buf);
}

void
zcs_pf_check_nohz_full(const struct zcs_pf_ctx *ctx, struct zcs_pf_check *r)
{
	static const char fix[] = "boot with nohz_full=CORES";
	char buf[1024], val[512] = "absent", list[256], cpudir[PATH_MAX];
	struct zcs_cpuset set;
	int ret = zcs_pf_read(ctx, "/sys/devices/system/cpu/nohz_full", buf, sizeof(buf));
	DIR *d;

	zcs_cpuset_format(list, sizeof(list), &ctx->cores);
	zcs_pf_cmdline_get(ctx->cmdline, "nohz_full", val, sizeof(val));
	if (ret == -ENOENT) {
		/* the file exists on every kernel built with CONFIG_NO_HZ_FULL */
		zcs_pf_path(ctx, "/sys/devices/system/cpu", cpudir, sizeof(cpudir));
		d = opendir(cpudir);
		if (d == NULL)
			return zcs_pf_unreadable(ctx, r, "/sys/devices/system/cpu/nohz_full", ret);
		closedir(d);
		return zcs_pf_verdict(r, ZCS_PF_FAIL,
			"a kernel with CONFIG_NO_HZ_FULL=y (grep NO_HZ_FULL /boot/config-$(uname "
			"-r)), "
			"then nohz_full=CORES",
			"kernel built without CONFIG_NO_HZ_FULL (no %s/sys/devices/system/cpu/"
			"nohz_full; cmdline nohz_full=%s): the tick interrupts cores %s",
			ctx->root, val, list);
	}
	if (ret < 0)
		return zcs_pf_unreadable(ctx, r, "/sys/devices/system/cpu/nohz_full", ret);
	/* the kernel writes "(null)" when nohz_full= is absent */
	if (strcmp(buf, "(null)") == 0 || buf[0] == '\0')
		return zcs_pf_verdict(r, ZCS_PF_FAIL, fix,
			"no tickless CPU: the scheduler tick interrupts cores %s (cmdline "
			"nohz_full=%s)",
			list, val);
	if (zcs_cpuset_parse(&set, buf) < 0)
		return zcs_pf_verdict(r, ZCS_PF_WARN, fix, "cannot parse nohz_full CPUs '%s'", buf);
	if (!zcs_cpuset_subset(&ctx->cores, &set))
		return zcs_pf_verdict(r, ZCS_PF_FAIL, fix,
			"cores %s not all tickless (nohz_full: %s)", list, buf);
	zcs_pf_verdict(r, ZCS_PF_PASS, NULL, "cores %s tickless (nohz_full: %s)", list, buf);
}

void
zcs_pf_check_rcu_nocbs(const struct zcs_pf_ctx *ctx, struct zcs_pf_check *r)
{
	char val[512], nohz[512], list[256];
	struct zcs_cpuset set, nz;
	int cov, covn;

	zcs_cpuset_format(list, sizeof(list), &ctx->cores);
	if (!ctx->cmdline_ok)
		return zcs_pf_unreadable(ctx, r, "/proc/cmdline", cmdline_errno(ctx));
	cov = cmdline_covers(ctx, "rcu_nocbs", &set, val, sizeof(val));
	if (cov == 1)
		return zcs_pf_verdict(
			r, ZCS_PF_PASS, NULL, "cores %s offloaded (rcu_nocbs=%s)", list, val);
	/* nohz_full= implies rcu_nocbs= for the same CPUs */
	covn = cmdline_covers(ctx, "nohz_full", &nz, nohz, sizeof(nohz));
	if (covn == 1)
		return zcs_pf_verdict(r, ZCS_PF_PASS, NULL,
			"cores %s offloaded (implied by nohz_full=%s)", list, nohz);
	zcs_pf_verdict(r, ZCS_PF_FAIL, "boot with rcu_nocbs=CORES",
		"RCU callbacks run on cores %s (%s)", list,
		cov < 0 ? "no rcu_nocbs= on the cmdline" : "rcu_nocbs= misses them");
}
