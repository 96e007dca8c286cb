/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Checks of what else the kernel runs on the worker cores: device IRQs and
 * their default affinity, irqbalance moving them, timers migrating there, the
 * soft and NMI watchdogs, vmstat work. Contract in preflight_checks.h; the why
 * of each fix in docs/TUNING.md.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "num.h"
#include "preflight_internal.h"

/* ROOT/path opened (its name in full), or NULL with r filled: could not read. */
static DIR *
open_dir(const struct zcs_pf_ctx *ctx, struct zcs_pf_check *r, const char *path, char *full,
	size_t len)
{
	DIR *d;

	zcs_pf_path(ctx, path, full, len);
	d = opendir(full);
	if (d == NULL)
		zcs_pf_unreadable(ctx, r, path, -errno);
	return d;
}

/* A sysctl's number into *v, or false with r filled: could not read. */
static bool
sysctl_or_warn(const struct zcs_pf_ctx *ctx, struct zcs_pf_check *r, const char *path,
	unsigned long long *v)
{
	int ret = zcs_pf_read_u64(ctx, path, v);

	if (ret < 0)
		zcs_pf_unreadable(ctx, r, path, ret);
	return ret == 0;
}

/* The next entry of d named by a decimal number (an IRQ, a pid), or NULL. */
static const char *
next_number(DIR *d, uint64_t *n)
{
	struct dirent *de;

	while ((de = readdir(d)) != NULL)
		if (zcs_parse_u64(de->d_name, UINT64_MAX, n) == 0)
			return de->d_name;
	return NULL;
}

void
zcs_pf_check_irqaffinity(const struct zcs_pf_ctx *ctx, struct zcs_pf_check *r)
{
	char buf[512], val[512] = "absent", list[256], def[256];
	struct zcs_cpuset set;

	zcs_cpuset_format(list, sizeof(list), &ctx->cores);
	if (!zcs_pf_cpuset_or_warn(ctx, r, "/proc/irq/default_smp_affinity", true,
		    "default_smp_affinity", &set, buf, sizeof(buf)))
		return;
	zcs_cpuset_format(def, sizeof(def), &set);
	zcs_pf_cmdline_get(ctx->cmdline, "irqaffinity", val, sizeof(val));
	if (zcs_cpuset_intersects(&set, &ctx->cores))
		return zcs_pf_verdict(r, ZCS_PF_FAIL,
			"boot with irqaffinity=<the other CPUs>, or write their mask to "
			"/proc/irq/default_smp_affinity",
			"new IRQs may land on cores %s (default affinity %s, cmdline "
			"irqaffinity=%s)",
			list, def, val);
	zcs_pf_verdict(r, ZCS_PF_PASS, NULL, "default IRQ affinity %s, off cores %s", def, list);
}

void
zcs_pf_check_irqs(const struct zcs_pf_ctx *ctx, struct zcs_pf_check *r)
{
	char dir[PATH_MAX], path[64], buf[1024], list[256], on[200] = "";
	struct zcs_cpuset set;
	unsigned int total = 0, bad = 0, unread = 0;
	size_t off = 0;
	uint64_t irq;
	DIR *d;

	zcs_cpuset_format(list, sizeof(list), &ctx->cores);
	d = open_dir(ctx, r, "/proc/irq", dir, sizeof(dir));
	if (d == NULL)
		return;
	while (next_number(d, &irq) != NULL) {
		snprintf(path, sizeof(path), "/proc/irq/%" PRIu64 "/smp_affinity_list", irq);
		total++;
		if (zcs_pf_read(ctx, path, buf, sizeof(buf)) < 0 ||
			zcs_cpuset_parse(&set, buf) < 0) {
			unread++;
			continue;
		}
		if (!zcs_cpuset_intersects(&set, &ctx->cores))
			continue;
		bad++;
		if (off < sizeof(on) - 16) {
			zcs_pf_appendf(on, sizeof(on), &off, "%s%" PRIu64, off ? "," : "", irq);
		} else if (off < sizeof(on) - 4) {
			snprintf(on + off, sizeof(on) - off, ",...");
			off = sizeof(on);
		}
	}
	closedir(d);
	if (bad > 0)
		return zcs_pf_verdict(r, ZCS_PF_FAIL,
			"tuning/irq-affinity.sh CORES (and boot with irqaffinity= so new IRQs stay "
			"off)",
			"%u of %u IRQs may run on cores %s (IRQ %s)", bad, total, list, on);
	if (unread > 0)
		return zcs_pf_verdict(r, ZCS_PF_WARN, "run as root to read every smp_affinity_list",
			"could not read %u of %u IRQ affinities under %s", unread, total, dir);
	zcs_pf_verdict(r, ZCS_PF_PASS, NULL, "all %u IRQs off cores %s", total, list);
}

void
zcs_pf_check_irqbalance(const struct zcs_pf_ctx *ctx, struct zcs_pf_check *r)
{
	char dir[PATH_MAX], path[300], comm[64];
	const char *name;
	uint64_t pid = 0, v;
	DIR *d;

	d = open_dir(ctx, r, "/proc", dir, sizeof(dir));
	if (d == NULL)
		return;
	while ((name = next_number(d, &v)) != NULL) {
		snprintf(path, sizeof(path), "/proc/%s/comm", name);
		if (zcs_pf_read(ctx, path, comm, sizeof(comm)) == 0 &&
			strcmp(comm, "irqbalance") == 0) {
			pid = v;
			break;
		}
	}
	closedir(d);
	if (pid > 0)
		return zcs_pf_verdict(r, ZCS_PF_WARN,
			"systemctl disable --now irqbalance, or set "
			"IRQBALANCE_BANNED_CPULIST=CORES "
			"in /etc/default/irqbalance",
			"irqbalance running (pid %" PRIu64 "): it moves IRQs and may move them "
			"onto the cores",
			pid);
	zcs_pf_verdict(r, ZCS_PF_PASS, NULL, "irqbalance not running");
}

void
zcs_pf_check_timer_migration(const struct zcs_pf_ctx *ctx, struct zcs_pf_check *r)
{
	unsigned long long v;

	if (!sysctl_or_warn(ctx, r, "/proc/sys/kernel/timer_migration", &v))
		return;
	/* a spinning core never looks idle: a migration target on kernels that
	 * do not restrict targets to housekeeping CPUs */
	if (v != 0)
		return zcs_pf_verdict(r, ZCS_PF_WARN,
			"sysctl kernel.timer_migration=0 (what tuned's cpu-partitioning sets)",
			"kernel.timer_migration=%llu: timers of idle CPUs may move to a busy one, "
			"and a polling core is always busy",
			v);
	zcs_pf_verdict(r, ZCS_PF_PASS, NULL, "kernel.timer_migration=0: timers stay where armed");
}

void
zcs_pf_check_watchdogs(const struct zcs_pf_ctx *ctx, struct zcs_pf_check *r)
{
	unsigned long long soft = 0, nmi = 0;
	char mask[512], list[256];
	struct zcs_cpuset wd;
	bool on_cores = true;
	int rs = zcs_pf_read_u64(ctx, "/proc/sys/kernel/watchdog", &soft);
	int rn = zcs_pf_read_u64(ctx, "/proc/sys/kernel/nmi_watchdog", &nmi);

	if (rs < 0 && rn < 0)
		return zcs_pf_unreadable(ctx, r, "/proc/sys/kernel/watchdog", rs);
	zcs_cpuset_format(list, sizeof(list), &ctx->cores);
	/* with nohz_full the kernel restricts the watchdog to housekeeping CPUs */
	if (zcs_pf_read(ctx, "/proc/sys/kernel/watchdog_cpumask", mask, sizeof(mask)) == 0 &&
		zcs_cpuset_parse(&wd, mask) == 0)
		on_cores = zcs_cpuset_intersects(&wd, &ctx->cores);
	if ((soft == 1 && on_cores) || nmi == 1)
		return zcs_pf_verdict(r, ZCS_PF_WARN,
			"sysctl kernel.watchdog=0 kernel.nmi_watchdog=0 (boot: nosoftlockup "
			"nmi_watchdog=0)",
			"watchdog=%llu%s nmi_watchdog=%llu: a timer or NMI hits cores %s every few "
			"seconds",
			soft, on_cores ? "" : " (off the cores)", nmi, list);
	zcs_pf_verdict(r, ZCS_PF_PASS, NULL, "watchdog=%llu%s nmi_watchdog=%llu", soft,
		soft == 1 && !on_cores ? " (off the cores)" : "", nmi);
}

void
zcs_pf_check_stat_interval(const struct zcs_pf_ctx *ctx, struct zcs_pf_check *r)
{
	unsigned long long v;

	if (!sysctl_or_warn(ctx, r, "/proc/sys/vm/stat_interval", &v))
		return;
	if (v < 10)
		return zcs_pf_verdict(r, ZCS_PF_WARN, "sysctl vm.stat_interval=10",
			"vm.stat_interval=%llu s: per-CPU vmstat work wakes every core that often",
			v);
	zcs_pf_verdict(r, ZCS_PF_PASS, NULL, "vm.stat_interval=%llu s", v);
}
