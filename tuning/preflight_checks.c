/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zcsign-preflight's parsers and checks (contract in preflight_checks.h).
 * Each check reads what the kernel exposes, decides, and says in one line
 * what it found and what to change; the why of each fix is in docs/TUNING.md.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <numa.h>

#include "preflight_checks.h"

/* ---- command line and config ------------------------------------------ */

int
zcs_pf_cmdline_get(const char *cmdline, const char *key, char *val, size_t len)
{
	size_t klen = strlen(key);
	const char *p = cmdline;
	int found = 0;

	while (*p != '\0') {
		const char *tok, *end;

		while (isspace((unsigned char)*p))
			p++;
		if (*p == '\0')
			break;
		tok = p;
		while (*p != '\0' && !isspace((unsigned char)*p))
			p++;
		end = p;
		if (end - tok == 2 && tok[0] == '-' && tok[1] == '-')
			break;
		if ((size_t)(end - tok) < klen || strncmp(tok, key, klen) != 0)
			continue;
		if (tok + klen == end) {
			if (len > 0)
				val[0] = '\0';
			found = 1;
		} else if (tok[klen] == '=') {
			size_t vlen = (size_t)(end - tok - (ptrdiff_t)klen - 1);

			if (len > 0) {
				if (vlen >= len)
					vlen = len - 1;
				memcpy(val, tok + klen + 1, vlen);
				val[vlen] = '\0';
			}
			found = 1;
		}
	}
	return found;
}

int
zcs_pf_isolcpus_parse(struct zcs_cpuset *s, bool *managed_irq, const char *val)
{
	char list[1024] = "";
	size_t off = 0;
	const char *p = val;

	if (managed_irq != NULL)
		*managed_irq = false;
	/* flags come first, each followed by a comma; the CPU list follows */
	while (isalpha((unsigned char)*p)) {
		const char *comma = strchr(p, ',');
		size_t n = comma != NULL ? (size_t)(comma - p) : strlen(p);

		if (n == strlen("managed_irq") && strncmp(p, "managed_irq", n) == 0 &&
			managed_irq != NULL)
			*managed_irq = true;
		p += n;
		if (*p == ',')
			p++;
	}
	off = strlen(p);
	if (off >= sizeof(list))
		return -EINVAL;
	memcpy(list, p, off + 1);
	return zcs_cpuset_parse(s, list);
}

static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

int
zcs_pf_cores_from_config(struct zcs_cpuset *s, const char *path, char *err, size_t errlen)
{
	char line[512], section[128] = "", shard_sec[128] = "";
	bool shard_has_lcore = true;
	unsigned int lineno = 0, shards = 0;
	FILE *f = fopen(path, "r");

	zcs_cpuset_zero(s);
	if (f == NULL) {
		snprintf(err, errlen, "config %s: %s", path, strerror(errno));
		return -ENOENT;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *l = trim(line), *eq, *key, *v, *end;
		unsigned long cpu;

		lineno++;
		if (*l == '\0' || *l == '#' || *l == ';')
			continue;
		if (*l == '[') {
			char *close = strchr(l, ']');

			if (close == NULL)
				goto bad_line;
			*close = '\0';
			snprintf(section, sizeof(section), "%s", trim(l + 1));
			if (strncmp(section, "shard.", 6) == 0) {
				if (!shard_has_lcore)
					goto no_lcore;
				snprintf(shard_sec, sizeof(shard_sec), "%s", section);
				shard_has_lcore = false;
				shards++;
			}
			continue;
		}
		eq = strchr(l, '=');
		if (eq == NULL)
			goto bad_line;
		*eq = '\0';
		key = trim(l);
		v = trim(eq + 1);
		if (strncmp(section, "shard.", 6) != 0 || strcmp(key, "lcore") != 0)
			continue;
		errno = 0;
		cpu = strtoul(v, &end, 10);
		if (!isdigit((unsigned char)*v) || *end != '\0' || errno != 0 ||
			cpu >= ZCS_PF_MAX_CPUS) {
			snprintf(err, errlen,
				"config %s line %u: [%s] lcore = '%s' is not a CPU number", path,
				lineno, section, v);
			fclose(f);
			return -EINVAL;
		}
		zcs_cpuset_set(s, (unsigned int)cpu);
		shard_has_lcore = true;
	}
	fclose(f);
	if (!shard_has_lcore)
		goto no_lcore_closed;
	if (shards == 0) {
		snprintf(err, errlen, "config %s: no [shard.<i>] section", path);
		return -EINVAL;
	}
	return 0;
bad_line:
	snprintf(err, errlen, "config %s line %u: neither [section] nor key = value", path, lineno);
	fclose(f);
	return -EINVAL;
no_lcore:
	fclose(f);
no_lcore_closed:
	snprintf(err, errlen,
		"config %s: [%s] has no lcore = N (zcsignd picks it at start); pass --cores", path,
		shard_sec);
	return -EINVAL;
}

/* ---- file access ------------------------------------------------------- */

static void
full_path(const struct zcs_pf_ctx *ctx, const char *path, char *out, size_t len)
{
	snprintf(out, len, "%s%s", ctx->root, path);
}

int
zcs_pf_read(const struct zcs_pf_ctx *ctx, const char *path, char *buf, size_t len)
{
	char p[PATH_MAX];
	FILE *f;
	size_t n;
	int ret = 0;

	full_path(ctx, path, p, sizeof(p));
	f = fopen(p, "r");
	if (f == NULL)
		return -errno;
	n = fread(buf, 1, len - 1, f);
	if (ferror(f))
		ret = -EIO;
	else if (n == len - 1 && fgetc(f) != EOF)
		ret = -EFBIG;
	fclose(f);
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return ret;
}

void
zcs_pf_ctx_load(struct zcs_pf_ctx *ctx)
{
	ctx->cmdline_ok =
		zcs_pf_read(ctx, "/proc/cmdline", ctx->cmdline, sizeof(ctx->cmdline)) == 0;
	if (!ctx->cmdline_ok)
		ctx->cmdline[0] = '\0';
}

static int
read_u64(const struct zcs_pf_ctx *ctx, const char *path, unsigned long long *v)
{
	char buf[64], *end;
	int ret = zcs_pf_read(ctx, path, buf, sizeof(buf));

	if (ret < 0)
		return ret;
	errno = 0;
	*v = strtoull(buf, &end, 10);
	if (end == buf || errno != 0)
		return -EINVAL;
	return 0;
}

/* ---- verdicts ---------------------------------------------------------- */

const char *
zcs_pf_verdict_name(enum zcs_pf_verdict v)
{
	switch (v) {
	case ZCS_PF_PASS:
		return "PASS";
	case ZCS_PF_WARN:
		return "WARN";
	default:
		return "FAIL";
	}
}

static void verdict(struct zcs_pf_check *r, enum zcs_pf_verdict v, const char *fix, const char *fmt,
	...) __attribute__((format(printf, 4, 5)));

static void
verdict(struct zcs_pf_check *r, enum zcs_pf_verdict v, const char *fix, const char *fmt, ...)
{
	va_list ap;

	r->verdict = v;
	snprintf(r->fix, sizeof(r->fix), "%s", v == ZCS_PF_PASS || fix == NULL ? "" : fix);
	va_start(ap, fmt);
	vsnprintf(r->found, sizeof(r->found), fmt, ap);
	va_end(ap);
}

static void
unreadable(const struct zcs_pf_ctx *ctx, struct zcs_pf_check *r, const char *path, int err)
{
	char p[PATH_MAX];

	full_path(ctx, path, p, sizeof(p));
	verdict(r, ZCS_PF_WARN, "run as root, or check that the kernel exposes it",
		"could not read %s: %s", p, strerror(-err));
}

/* ---- checks ------------------------------------------------------------ */

static void
check_cores(const struct zcs_pf_ctx *ctx, struct zcs_pf_check *r)
{
	char buf[1024], list[256], miss[256];
	struct zcs_cpuset online, missing;
	int ret = zcs_pf_read(ctx, "/sys/devices/system/cpu/online", buf, sizeof(buf));

	zcs_cpuset_format(list, sizeof(list), &ctx->cores);
	if (ret < 0)
		return unreadable(ctx, r, "/sys/devices/system/cpu/online", ret);
	if (zcs_cpuset_parse(&online, buf) < 0)
		return verdict(r, ZCS_PF_WARN, "report this host's format",
			"cannot parse online CPUs '%s'", buf);
	zcs_cpuset_andnot(&missing, &ctx->cores, &online);
	if (zcs_cpuset_count(&missing) > 0) {
		zcs_cpuset_format(miss, sizeof(miss), &missing);
		return verdict(r, ZCS_PF_FAIL, "pick worker cores among the online CPUs",
			"cores %s: %s not online (online: %s)", list, miss, buf);
	}
	if (zcs_cpuset_isset(&ctx->cores, 0))
		return verdict(r, ZCS_PF_WARN,
			"leave CPU 0 to the kernel (timekeeping, unbound work): pick others",
			"cores %s include CPU 0 (online: %s)", list, buf);
	verdict(r, ZCS_PF_PASS, NULL, "cores %s online (online: %s)", list, buf);
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

static void
check_isolcpus(const struct zcs_pf_ctx *ctx, struct zcs_pf_check *r)
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
			return unreadable(ctx, r, "/sys/devices/system/cpu/isolated", ret);
		iso = on_cmdline ? cmd : (struct zcs_cpuset){{0}};
	} else if (zcs_cpuset_parse(&iso, buf) < 0) {
		return verdict(r, ZCS_PF_WARN, fix, "cannot parse isolated CPUs '%s'", buf);
	}
	if (!zcs_cpuset_subset(&ctx->cores, &iso))
		return verdict(r, ZCS_PF_FAIL, fix,
			"cores %s not all isolated (isolated: '%s', cmdline isolcpus=%s)", list,
			buf[0] != '\0' ? buf : "none", on_cmdline ? val : "absent");
	if (on_cmdline && !managed)
		return verdict(r, ZCS_PF_WARN,
			"add the managed_irq flag: isolcpus=managed_irq,domain,CORES",
			"cores %s isolated, but isolcpus=%s lacks managed_irq (managed IRQs may "
			"still land there)",
			list, val);
	verdict(r, ZCS_PF_PASS, NULL, "cores %s isolated (isolated: %s)", list, buf);
}

static void
check_nohz_full(const struct zcs_pf_ctx *ctx, struct zcs_pf_check *r)
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
		full_path(ctx, "/sys/devices/system/cpu", cpudir, sizeof(cpudir));
		d = opendir(cpudir);
		if (d == NULL)
			return unreadable(ctx, r, "/sys/devices/system/cpu/nohz_full", ret);
		closedir(d);
		return verdict(r, ZCS_PF_FAIL,
			"a kernel with CONFIG_NO_HZ_FULL=y (grep NO_HZ_FULL /boot/config-$(uname "
			"-r)), "
			"then nohz_full=CORES",
			"kernel built without CONFIG_NO_HZ_FULL (no %s/sys/devices/system/cpu/"
			"nohz_full; cmdline nohz_full=%s): the tick interrupts cores %s",
			ctx->root, val, list);
	}
	if (ret < 0)
		return unreadable(ctx, r, "/sys/devices/system/cpu/nohz_full", ret);
	/* the kernel writes "(null)" when nohz_full= is absent */
	if (strcmp(buf, "(null)") == 0 || buf[0] == '\0')
		return verdict(r, ZCS_PF_FAIL, fix,
			"no tickless CPU: the scheduler tick interrupts cores %s (cmdline "
			"nohz_full=%s)",
			list, val);
	if (zcs_cpuset_parse(&set, buf) < 0)
		return verdict(r, ZCS_PF_WARN, fix, "cannot parse nohz_full CPUs '%s'", buf);
	if (!zcs_cpuset_subset(&ctx->cores, &set))
		return verdict(r, ZCS_PF_FAIL, fix, "cores %s not all tickless (nohz_full: %s)",
			list, buf);
	verdict(r, ZCS_PF_PASS, NULL, "cores %s tickless (nohz_full: %s)", list, buf);
}

static void
check_rcu_nocbs(const struct zcs_pf_ctx *ctx, struct zcs_pf_check *r)
{
	char val[512], nohz[512], list[256];
	struct zcs_cpuset set, nz;
	int cov, covn;

	zcs_cpuset_format(list, sizeof(list), &ctx->cores);
	if (!ctx->cmdline_ok)
		return unreadable(ctx, r, "/proc/cmdline", cmdline_errno(ctx));
	cov = cmdline_covers(ctx, "rcu_nocbs", &set, val, sizeof(val));
	if (cov == 1)
		return verdict(
			r, ZCS_PF_PASS, NULL, "cores %s offloaded (rcu_nocbs=%s)", list, val);
	/* nohz_full= implies rcu_nocbs= for the same CPUs */
	covn = cmdline_covers(ctx, "nohz_full", &nz, nohz, sizeof(nohz));
	if (covn == 1)
		return verdict(r, ZCS_PF_PASS, NULL, "cores %s offloaded (implied by nohz_full=%s)",
			list, nohz);
	verdict(r, ZCS_PF_FAIL, "boot with rcu_nocbs=CORES", "RCU callbacks run on cores %s (%s)",
		list, cov < 0 ? "no rcu_nocbs= on the cmdline" : "rcu_nocbs= misses them");
}

static void
check_irqaffinity(const struct zcs_pf_ctx *ctx, struct zcs_pf_check *r)
{
	char buf[512], val[512] = "absent", list[256], def[256];
	struct zcs_cpuset set;
	int ret = zcs_pf_read(ctx, "/proc/irq/default_smp_affinity", buf, sizeof(buf));

	zcs_cpuset_format(list, sizeof(list), &ctx->cores);
	if (ret < 0)
		return unreadable(ctx, r, "/proc/irq/default_smp_affinity", ret);
	if (zcs_cpuset_parse_mask(&set, buf) < 0)
		return verdict(r, ZCS_PF_WARN, "report this host's format",
			"cannot parse default_smp_affinity '%s'", buf);
	zcs_cpuset_format(def, sizeof(def), &set);
	zcs_pf_cmdline_get(ctx->cmdline, "irqaffinity", val, sizeof(val));
	if (zcs_cpuset_intersects(&set, &ctx->cores))
		return verdict(r, ZCS_PF_FAIL,
			"boot with irqaffinity=<the other CPUs>, or write their mask to "
			"/proc/irq/default_smp_affinity",
			"new IRQs may land on cores %s (default affinity %s, cmdline "
			"irqaffinity=%s)",
			list, def, val);
	verdict(r, ZCS_PF_PASS, NULL, "default IRQ affinity %s, off cores %s", def, list);
}

static void
check_irqs(const struct zcs_pf_ctx *ctx, struct zcs_pf_check *r)
{
	char dir[PATH_MAX], path[64], buf[1024], list[256], on[200] = "";
	struct zcs_cpuset set;
	unsigned int total = 0, bad = 0, unread = 0;
	size_t off = 0;
	struct dirent *de;
	DIR *d;

	zcs_cpuset_format(list, sizeof(list), &ctx->cores);
	full_path(ctx, "/proc/irq", dir, sizeof(dir));
	d = opendir(dir);
	if (d == NULL)
		return unreadable(ctx, r, "/proc/irq", -errno);
	while ((de = readdir(d)) != NULL) {
		char *end;
		unsigned long irq = strtoul(de->d_name, &end, 10);

		if (!isdigit((unsigned char)de->d_name[0]) || *end != '\0')
			continue;
		snprintf(path, sizeof(path), "/proc/irq/%lu/smp_affinity_list", irq);
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
			int n = snprintf(on + off, sizeof(on) - off, "%s%lu", off ? "," : "", irq);

			off += n > 0 ? (size_t)n : 0;
		} else if (off < sizeof(on) - 4) {
			snprintf(on + off, sizeof(on) - off, ",...");
			off = sizeof(on);
		}
	}
	closedir(d);
	if (bad > 0)
		return verdict(r, ZCS_PF_FAIL,
			"tuning/irq-affinity.sh CORES (and boot with irqaffinity= so new IRQs stay "
			"off)",
			"%u of %u IRQs may run on cores %s (IRQ %s)", bad, total, list, on);
	if (unread > 0)
		return verdict(r, ZCS_PF_WARN, "run as root to read every smp_affinity_list",
			"could not read %u of %u IRQ affinities under %s", unread, total, dir);
	verdict(r, ZCS_PF_PASS, NULL, "all %u IRQs off cores %s", total, list);
}

static void
check_irqbalance(const struct zcs_pf_ctx *ctx, struct zcs_pf_check *r)
{
	char dir[PATH_MAX], path[300], comm[64];
	struct dirent *de;
	DIR *d;
	long pid = 0;

	full_path(ctx, "/proc", dir, sizeof(dir));
	d = opendir(dir);
	if (d == NULL)
		return unreadable(ctx, r, "/proc", -errno);
	while ((de = readdir(d)) != NULL) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", de->d_name);
		if (zcs_pf_read(ctx, path, comm, sizeof(comm)) == 0 &&
			strcmp(comm, "irqbalance") == 0) {
			pid = strtol(de->d_name, NULL, 10);
			break;
		}
	}
	closedir(d);
	if (pid > 0)
		return verdict(r, ZCS_PF_WARN,
			"systemctl disable --now irqbalance, or set "
			"IRQBALANCE_BANNED_CPULIST=CORES "
			"in /etc/default/irqbalance",
			"irqbalance running (pid %ld): it moves IRQs and may move them onto the "
			"cores",
			pid);
	verdict(r, ZCS_PF_PASS, NULL, "irqbalance not running");
}

static void
check_cstates(const struct zcs_pf_ctx *ctx, struct zcs_pf_check *r)
{
	char drv[64], path[128], name[64], buf[64], deep[300] = "";
	char intel[32] = "unset", proc[32] = "unset";
	size_t off = 0;
	unsigned int states = 0;
	int ret = zcs_pf_read(
		ctx, "/sys/devices/system/cpu/cpuidle/current_driver", drv, sizeof(drv));

	zcs_pf_cmdline_get(ctx->cmdline, "intel_idle.max_cstate", intel, sizeof(intel));
	zcs_pf_cmdline_get(ctx->cmdline, "processor.max_cstate", proc, sizeof(proc));
	if (ret == -ENOENT) {
		/* no cpuidle: the idle loop halts (C1) */
		return verdict(r, ZCS_PF_PASS, NULL,
			"no cpuidle driver (idle is a plain halt); intel_idle.max_cstate=%s "
			"processor.max_cstate=%s",
			intel, proc);
	}
	if (ret < 0)
		return unreadable(ctx, r, "/sys/devices/system/cpu/cpuidle/current_driver", ret);
	for (unsigned int c = 0; c < ZCS_PF_MAX_CPUS; c++) {
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
			if (read_u64(ctx, path, &lat) < 0)
				continue;
			snprintf(path, sizeof(path),
				"/sys/devices/system/cpu/cpu%u/cpuidle/state%u/disable", c, s);
			if (zcs_pf_read(ctx, path, buf, sizeof(buf)) == 0)
				dis = strtoull(buf, NULL, 10);
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
		return verdict(r, ZCS_PF_FAIL,
			"boot with intel_idle.max_cstate=0 processor.max_cstate=1 (or write 1 to "
			"cpuN/cpuidle/stateK/disable, or tuned's force_latency)",
			"driver %s, deep states enabled: %s", drv, deep);
	if (strcmp(drv, "none") != 0 && states == 0)
		return verdict(r, ZCS_PF_WARN, "run as root, or check cpuN/cpuidle",
			"driver %s, but no idle state readable on the cores", drv);
	verdict(r, ZCS_PF_PASS, NULL,
		"driver %s, no enabled state deeper than %d us on the cores; "
		"intel_idle.max_cstate=%s processor.max_cstate=%s",
		drv, ZCS_PF_CSTATE_MAX_US, intel, proc);
}

static void
check_governor(const struct zcs_pf_ctx *ctx, struct zcs_pf_check *r)
{
	char path[128], gov[64], slow[300] = "", none[200] = "";
	size_t off = 0, noff = 0;
	unsigned int good = 0;

	for (unsigned int c = 0; c < ZCS_PF_MAX_CPUS; c++) {
		int ret, n;

		if (!zcs_cpuset_isset(&ctx->cores, c))
			continue;
		snprintf(path, sizeof(path),
			"/sys/devices/system/cpu/cpu%u/cpufreq/scaling_governor", c);
		ret = zcs_pf_read(ctx, path, gov, sizeof(gov));
		if (ret < 0) {
			n = snprintf(none + noff, sizeof(none) - noff, "%s%u", noff ? "," : "", c);
			if (n > 0 && (size_t)n < sizeof(none) - noff)
				noff += (size_t)n;
			continue;
		}
		if (strcmp(gov, "performance") == 0) {
			good++;
			continue;
		}
		n = snprintf(slow + off, sizeof(slow) - off, "%scpu%u %s", off ? ", " : "", c, gov);
		if (n > 0 && (size_t)n < sizeof(slow) - off)
			off += (size_t)n;
	}
	if (off > 0)
		return verdict(r, ZCS_PF_FAIL,
			"cpupower -c CORES frequency-set -g performance (or the tuned profile)",
			"governor not performance: %s", slow);
	if (noff > 0)
		return verdict(r, ZCS_PF_WARN,
			"none on a VM (the hypervisor sets the clock); on metal load the cpufreq "
			"driver and set performance",
			"no cpufreq on cpu %s (virtual machine, or no cpufreq driver)", none);
	verdict(r, ZCS_PF_PASS, NULL, "governor performance on %u core(s)", good);
}

static void
check_turbo(const struct zcs_pf_ctx *ctx, struct zcs_pf_check *r)
{
	unsigned long long v;

	if (read_u64(ctx, "/sys/devices/system/cpu/intel_pstate/no_turbo", &v) == 0) {
		if (v == 1)
			return verdict(r, ZCS_PF_PASS, NULL, "turbo off (intel_pstate/no_turbo=1)");
		return verdict(r, ZCS_PF_WARN,
			"echo 1 > /sys/devices/system/cpu/intel_pstate/no_turbo for a steady clock "
			"(trade-off: lower peak speed)",
			"turbo on (intel_pstate/no_turbo=0): the clock varies with power and heat");
	}
	if (read_u64(ctx, "/sys/devices/system/cpu/cpufreq/boost", &v) == 0) {
		if (v == 0)
			return verdict(r, ZCS_PF_PASS, NULL, "turbo off (cpufreq/boost=0)");
		return verdict(r, ZCS_PF_WARN,
			"echo 0 > /sys/devices/system/cpu/cpufreq/boost for a steady clock "
			"(trade-off: lower peak speed)",
			"boost on (cpufreq/boost=1): the clock varies with power and heat");
	}
	verdict(r, ZCS_PF_WARN, "none on a VM; on metal check the BIOS turbo setting",
		"could not read %s/sys/devices/system/cpu/intel_pstate/no_turbo nor "
		"cpufreq/boost: turbo state unknown",
		ctx->root);
}

static void
check_thp(const struct zcs_pf_ctx *ctx, struct zcs_pf_check *r)
{
	static const char fix[] = "echo never > /sys/kernel/mm/transparent_hugepage/enabled "
				  "(boot: transparent_hugepage=never)";
	char buf[128];
	int ret = zcs_pf_read(ctx, "/sys/kernel/mm/transparent_hugepage/enabled", buf, sizeof(buf));

	if (ret < 0)
		return unreadable(ctx, r, "/sys/kernel/mm/transparent_hugepage/enabled", ret);
	if (strstr(buf, "[always]") != NULL)
		return verdict(r, ZCS_PF_FAIL, fix,
			"THP always: page faults may compact memory and khugepaged scans every "
			"process (%s)",
			buf);
	if (strstr(buf, "[madvise]") != NULL)
		return verdict(r, ZCS_PF_WARN, fix,
			"THP madvise: only processes that ask get them, but those may stall in "
			"compaction (%s)",
			buf);
	if (strstr(buf, "[never]") != NULL)
		return verdict(r, ZCS_PF_PASS, NULL, "THP never (%s)", buf);
	verdict(r, ZCS_PF_WARN, fix, "cannot tell the THP mode from '%s'", buf);
}

/* value of "Key:   123 kB" in meminfo text, or -1 */
static long long
meminfo_get(const char *text, const char *key)
{
	const char *p = text;
	size_t klen = strlen(key);

	while (p != NULL && *p != '\0') {
		if (strncmp(p, key, klen) == 0 && p[klen] == ':')
			return strtoll(p + klen + 1, NULL, 10);
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	return -1;
}

/* mount point of the first hugetlbfs in ROOT/proc/mounts into mnt; 0, -ENOENT, -errno */
static int
hugetlbfs_mount(const struct zcs_pf_ctx *ctx, char *mnt, size_t len)
{
	char path[PATH_MAX], line[1024];
	FILE *f;
	int ret = -ENOENT;

	full_path(ctx, "/proc/mounts", path, sizeof(path));
	f = fopen(path, "r");
	if (f == NULL)
		return -errno;
	while (fgets(line, sizeof(line), f) != NULL) {
		char dev[256], dir[512], type[64];

		if (sscanf(line, "%255s %511s %63s", dev, dir, type) == 3 &&
			strcmp(type, "hugetlbfs") == 0) {
			snprintf(mnt, len, "%s", dir);
			ret = 0;
			break;
		}
	}
	fclose(f);
	return ret;
}

static void
check_hugepages(const struct zcs_pf_ctx *ctx, struct zcs_pf_check *r)
{
	static const char fix[] = "tuning/hugepages.sh 512 (as root), or hugepages=512 on the "
				  "cmdline and a hugetlbfs mount in /etc/fstab";
	char buf[8192], mnt[512];
	long long total, free_, size;
	int ret = zcs_pf_read(ctx, "/proc/meminfo", buf, sizeof(buf));

	if (ret < 0)
		return unreadable(ctx, r, "/proc/meminfo", ret);
	total = meminfo_get(buf, "HugePages_Total");
	free_ = meminfo_get(buf, "HugePages_Free");
	size = meminfo_get(buf, "Hugepagesize");
	if (total < 0 || free_ < 0)
		return verdict(r, ZCS_PF_WARN, fix, "no HugePages_* lines in /proc/meminfo");
	if (total == 0)
		return verdict(r, ZCS_PF_FAIL, fix, "no hugepages reserved (HugePages_Total 0)");
	if (free_ == 0)
		return verdict(
			r, ZCS_PF_FAIL, fix, "all %lld hugepages in use (HugePages_Free 0)", total);
	ret = hugetlbfs_mount(ctx, mnt, sizeof(mnt));
	if (ret == -ENOENT)
		return verdict(r, ZCS_PF_FAIL, fix,
			"%lld x %lld kB reserved, %lld free, no hugetlbfs "
			"mounted",
			total, size, free_);
	if (ret < 0)
		return unreadable(ctx, r, "/proc/mounts", ret);
	verdict(r, ZCS_PF_PASS, NULL, "%lld x %lld kB reserved, %lld free, hugetlbfs at %s", total,
		size, free_, mnt);
}

/* node of a CPU from ROOT/sys/devices/system/node/node<N>/cpulist, or -1 */
static int
sysfs_node_of_cpu(const struct zcs_pf_ctx *ctx, unsigned int cpu, unsigned int *nnodes)
{
	char path[96], buf[1024];
	struct zcs_cpuset set;
	int node = -1;

	*nnodes = 0;
	for (unsigned int n = 0; n < 1024; n++) {
		snprintf(path, sizeof(path), "/sys/devices/system/node/node%u/cpulist", n);
		if (zcs_pf_read(ctx, path, buf, sizeof(buf)) < 0)
			break;
		(*nnodes)++;
		if (zcs_cpuset_parse(&set, buf) == 0 && zcs_cpuset_isset(&set, cpu))
			node = (int)n;
	}
	return node;
}

static void
check_numa(const struct zcs_pf_ctx *ctx, struct zcs_pf_check *r)
{
	char list[256], path[128], nodes[128] = "";
	unsigned int nnodes = 0, seen = 0;
	unsigned long long hp_free = 0, hp;
	int first = -1, node;
	bool split = false;
	size_t off = 0;
	DIR *d;
	struct dirent *de;
	char dir[PATH_MAX];

	zcs_cpuset_format(list, sizeof(list), &ctx->cores);
	if (ctx->use_libnuma && numa_available() < 0)
		return verdict(r, ZCS_PF_PASS, NULL, "no NUMA (libnuma: not available): one node");
	for (unsigned int c = 0; c < ZCS_PF_MAX_CPUS; c++) {
		int n;

		if (!zcs_cpuset_isset(&ctx->cores, c))
			continue;
		if (ctx->use_libnuma) {
			node = numa_node_of_cpu((int)c);
			nnodes = (unsigned int)numa_num_configured_nodes();
		} else {
			node = sysfs_node_of_cpu(ctx, c, &nnodes);
		}
		if (node < 0)
			return verdict(r, ZCS_PF_WARN, "check /sys/devices/system/node",
				"could not find the NUMA node of cpu %u", c);
		if (first < 0)
			first = node;
		if (node != first)
			split = true;
		n = snprintf(nodes + off, sizeof(nodes) - off, "%scpu%u:node%d", off ? " " : "", c,
			node);
		if (n > 0 && (size_t)n < sizeof(nodes) - off)
			off += (size_t)n;
		seen++;
	}
	if (seen == 0)
		return verdict(r, ZCS_PF_WARN, "pass --cores", "no cores to place");
	if (split)
		return verdict(r, ZCS_PF_FAIL,
			"pick worker cores on one node (the node of the NIC and the hugepages)",
			"cores on several nodes: %s", nodes);
	/* hugepages free on the cores' node */
	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/hugepages", first);
	full_path(ctx, path, dir, sizeof(dir));
	d = opendir(dir);
	if (d == NULL)
		return verdict(r, ZCS_PF_WARN, "run as root, or check the node's hugepages",
			"cores on node %d of %u (%s); could not read %s", first, nnodes, nodes,
			dir);
	while ((de = readdir(d)) != NULL) {
		char p[400];

		if (strncmp(de->d_name, "hugepages-", 10) != 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s/free_hugepages", path, de->d_name);
		if (read_u64(ctx, p, &hp) == 0)
			hp_free += hp;
	}
	closedir(d);
	if (hp_free == 0)
		return verdict(r, ZCS_PF_FAIL,
			"reserve hugepages on that node: echo N > "
			"/sys/devices/system/node/nodeX/hugepages/hugepages-2048kB/nr_hugepages",
			"cores on node %d of %u, but no free hugepage on node %d", first, nnodes,
			first);
	verdict(r, ZCS_PF_PASS, NULL, "cores on node %d of %u, %llu free hugepages there", first,
		nnodes, hp_free);
}

static void
check_swap(const struct zcs_pf_ctx *ctx, struct zcs_pf_check *r)
{
	char buf[4096], first[256] = "";
	unsigned int n = 0;
	const char *p;
	int ret = zcs_pf_read(ctx, "/proc/swaps", buf, sizeof(buf));

	if (ret < 0)
		return unreadable(ctx, r, "/proc/swaps", ret);
	p = strchr(buf, '\n'); /* skip the header */
	while (p != NULL && *++p != '\0') {
		if (n++ == 0)
			sscanf(p, "%255s", first);
		p = strchr(p, '\n');
	}
	if (n > 0)
		return verdict(r, ZCS_PF_WARN,
			"swapoff -a and drop swap from /etc/fstab (zcsign's hot memory is "
			"hugepages, "
			"but the gateway's is not)",
			"%u swap area(s) active (%s)", n, first);
	verdict(r, ZCS_PF_PASS, NULL, "no swap");
}

static void
check_timer_migration(const struct zcs_pf_ctx *ctx, struct zcs_pf_check *r)
{
	unsigned long long v;
	int ret = read_u64(ctx, "/proc/sys/kernel/timer_migration", &v);

	if (ret < 0)
		return unreadable(ctx, r, "/proc/sys/kernel/timer_migration", ret);
	/* a spinning core never looks idle: a migration target on kernels that
	 * do not restrict targets to housekeeping CPUs */
	if (v != 0)
		return verdict(r, ZCS_PF_WARN,
			"sysctl kernel.timer_migration=0 (what tuned's cpu-partitioning sets)",
			"kernel.timer_migration=%llu: timers of idle CPUs may move to a busy one, "
			"and a polling core is always busy",
			v);
	verdict(r, ZCS_PF_PASS, NULL, "kernel.timer_migration=0: timers stay where armed");
}

static void
check_watchdogs(const struct zcs_pf_ctx *ctx, struct zcs_pf_check *r)
{
	unsigned long long soft = 0, nmi = 0;
	char mask[512], list[256];
	struct zcs_cpuset wd;
	bool on_cores = true;
	int rs = read_u64(ctx, "/proc/sys/kernel/watchdog", &soft);
	int rn = read_u64(ctx, "/proc/sys/kernel/nmi_watchdog", &nmi);

	if (rs < 0 && rn < 0)
		return unreadable(ctx, r, "/proc/sys/kernel/watchdog", rs);
	zcs_cpuset_format(list, sizeof(list), &ctx->cores);
	/* with nohz_full the kernel restricts the watchdog to housekeeping CPUs */
	if (zcs_pf_read(ctx, "/proc/sys/kernel/watchdog_cpumask", mask, sizeof(mask)) == 0 &&
		zcs_cpuset_parse(&wd, mask) == 0)
		on_cores = zcs_cpuset_intersects(&wd, &ctx->cores);
	if ((soft == 1 && on_cores) || nmi == 1)
		return verdict(r, ZCS_PF_WARN,
			"sysctl kernel.watchdog=0 kernel.nmi_watchdog=0 (boot: nosoftlockup "
			"nmi_watchdog=0)",
			"watchdog=%llu%s nmi_watchdog=%llu: a timer or NMI hits cores %s every few "
			"seconds",
			soft, on_cores ? "" : " (off the cores)", nmi, list);
	verdict(r, ZCS_PF_PASS, NULL, "watchdog=%llu%s nmi_watchdog=%llu", soft,
		soft == 1 && !on_cores ? " (off the cores)" : "", nmi);
}

static void
check_stat_interval(const struct zcs_pf_ctx *ctx, struct zcs_pf_check *r)
{
	unsigned long long v;
	int ret = read_u64(ctx, "/proc/sys/vm/stat_interval", &v);

	if (ret < 0)
		return unreadable(ctx, r, "/proc/sys/vm/stat_interval", ret);
	if (v < 10)
		return verdict(r, ZCS_PF_WARN, "sysctl vm.stat_interval=10",
			"vm.stat_interval=%llu s: per-CPU vmstat work wakes every core that often",
			v);
	verdict(r, ZCS_PF_PASS, NULL, "vm.stat_interval=%llu s", v);
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

static void
check_tsc(const struct zcs_pf_ctx *ctx, struct zcs_pf_check *r)
{
	char path[PATH_MAX], line[8192], cs[64] = "unknown";
	bool constant = true, nonstop = true, any = false;
	FILE *f;

	full_path(ctx, "/proc/cpuinfo", path, sizeof(path));
	f = fopen(path, "r");
	if (f == NULL)
		return unreadable(ctx, r, "/proc/cpuinfo", -errno);
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
		return verdict(r, ZCS_PF_WARN, "check /proc/cpuinfo",
			"no flags line in %s (not x86?)", path);
	if (!constant || !nonstop)
		return verdict(r, ZCS_PF_FAIL,
			"use a CPU (or a VM exposing one) with an invariant TSC: TSC-based "
			"latency figures are wrong without it",
			"TSC not invariant:%s%s (clocksource %s)",
			constant ? "" : " no constant_tsc", nonstop ? "" : " no nonstop_tsc", cs);
	verdict(r, ZCS_PF_PASS, NULL, "invariant TSC (constant_tsc nonstop_tsc; clocksource %s)",
		cs);
}

/* ---- registry ---------------------------------------------------------- */

const struct zcs_pf_check_def zcs_pf_checks[] = {
	{"cores", check_cores},
	{"isolcpus", check_isolcpus},
	{"nohz_full", check_nohz_full},
	{"rcu_nocbs", check_rcu_nocbs},
	{"irqaffinity", check_irqaffinity},
	{"irqs", check_irqs},
	{"irqbalance", check_irqbalance},
	{"cstates", check_cstates},
	{"governor", check_governor},
	{"turbo", check_turbo},
	{"thp", check_thp},
	{"hugepages", check_hugepages},
	{"numa", check_numa},
	{"swap", check_swap},
	{"timer_migration", check_timer_migration},
	{"watchdogs", check_watchdogs},
	{"stat_interval", check_stat_interval},
	{"tsc", check_tsc},
};
const unsigned int zcs_pf_nchecks = sizeof(zcs_pf_checks) / sizeof(zcs_pf_checks[0]);

int
zcs_pf_run_one(const struct zcs_pf_ctx *ctx, const char *name, struct zcs_pf_check *r)
{
	for (unsigned int i = 0; i < zcs_pf_nchecks; i++) {
		if (strcmp(zcs_pf_checks[i].name, name) != 0)
			continue;
		memset(r, 0, sizeof(*r));
		r->name = zcs_pf_checks[i].name;
		zcs_pf_checks[i].fn(ctx, r);
		return 0;
	}
	return -ENOENT;
}

enum zcs_pf_verdict
zcs_pf_run_all(const struct zcs_pf_ctx *ctx, struct zcs_pf_check *r)
{
	enum zcs_pf_verdict worst = ZCS_PF_PASS;

	for (unsigned int i = 0; i < zcs_pf_nchecks; i++) {
		zcs_pf_run_one(ctx, zcs_pf_checks[i].name, &r[i]);
		if (r[i].verdict > worst)
			worst = r[i].verdict;
	}
	return worst;
}

int
zcs_pf_suggest_cmdline(
	const struct zcs_pf_ctx *ctx, char *out, size_t len, char *err, size_t errlen)
{
	char buf[1024], cores[256], others[256];
	struct zcs_cpuset online, rest;

	if (zcs_pf_read(ctx, "/sys/devices/system/cpu/online", buf, sizeof(buf)) < 0 ||
		zcs_cpuset_parse(&online, buf) < 0) {
		snprintf(err, errlen, "could not read %s/sys/devices/system/cpu/online", ctx->root);
		return -EIO;
	}
	zcs_cpuset_andnot(&rest, &online, &ctx->cores);
	zcs_cpuset_format(cores, sizeof(cores), &ctx->cores);
	if (zcs_cpuset_count(&rest) == 0) {
		snprintf(err, errlen,
			"cores %s leave no housekeeping CPU (online: %s): keep at least one", cores,
			buf);
		return -EINVAL;
	}
	zcs_cpuset_format(others, sizeof(others), &rest);
	snprintf(out, len,
		"isolcpus=managed_irq,domain,%s nohz_full=%s rcu_nocbs=%s irqaffinity=%s "
		"rcu_nocb_poll intel_idle.max_cstate=0 processor.max_cstate=1 nosoftlockup "
		"nmi_watchdog=0 tsc=reliable transparent_hugepage=never",
		cores, cores, cores, others);
	return 0;
}
