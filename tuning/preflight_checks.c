/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zcsign-preflight's frame (contract in preflight_checks.h): file access under
 * ctx->root, the verdict helpers the check families share
 * (preflight_internal.h), and the table of checks in report order with the
 * runners. The checks live in their families (preflight_cpu.c, _irq.c,
 * _power.c, _mem.c), the parsers in preflight_cmdline.c and
 * preflight_config.c.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "num.h"
#include "preflight_internal.h"

/* ---- file access ------------------------------------------------------- */

void
zcs_pf_path(const struct zcs_pf_ctx *ctx, const char *path, char *out, size_t len)
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

	zcs_pf_path(ctx, path, p, sizeof(p));
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

int
zcs_pf_read_u64(const struct zcs_pf_ctx *ctx, const char *path, unsigned long long *v)
{
	char buf[64];
	uint64_t x;
	int ret = zcs_pf_read(ctx, path, buf, sizeof(buf));

	if (ret < 0)
		return ret;
	if (zcs_parse_u64(buf, UINT64_MAX, &x) != 0)
		return -EINVAL;
	*v = x;
	return 0;
}

int
zcs_pf_read_cpuset(const struct zcs_pf_ctx *ctx, const char *path, bool mask, struct zcs_cpuset *s,
	char *buf, size_t len)
{
	int ret = zcs_pf_read(ctx, path, buf, len);

	if (ret < 0)
		return ret;
	ret = mask ? zcs_cpuset_parse_mask(s, buf) : zcs_cpuset_parse(s, buf);
	return ret < 0 ? -EINVAL : 0;
}

int
zcs_pf_online(const struct zcs_pf_ctx *ctx, struct zcs_cpuset *online, char *buf, size_t len)
{
	return zcs_pf_read_cpuset(ctx, "/sys/devices/system/cpu/online", false, online, buf, len);
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

void
zcs_pf_verdict(struct zcs_pf_check *r, enum zcs_pf_verdict v, const char *fix, const char *fmt, ...)
{
	va_list ap;

	r->verdict = v;
	snprintf(r->fix, sizeof(r->fix), "%s", v == ZCS_PF_PASS || fix == NULL ? "" : fix);
	va_start(ap, fmt);
	vsnprintf(r->found, sizeof(r->found), fmt, ap);
	va_end(ap);
}

void
zcs_pf_unreadable(const struct zcs_pf_ctx *ctx, struct zcs_pf_check *r, const char *path, int err)
{
	char p[PATH_MAX];

	zcs_pf_path(ctx, path, p, sizeof(p));
	zcs_pf_verdict(r, ZCS_PF_WARN, "run as root, or check that the kernel exposes it",
		"could not read %s: %s", p, strerror(-err));
}

bool
zcs_pf_cpuset_or_warn(const struct zcs_pf_ctx *ctx, struct zcs_pf_check *r, const char *path,
	bool mask, const char *what, struct zcs_cpuset *s, char *buf, size_t len)
{
	int ret = zcs_pf_read_cpuset(ctx, path, mask, s, buf, len);

	if (ret == -EINVAL)
		zcs_pf_verdict(r, ZCS_PF_WARN, "report this host's format", "cannot parse %s '%s'",
			what, buf);
	else if (ret < 0)
		zcs_pf_unreadable(ctx, r, path, ret);
	return ret == 0;
}

void
zcs_pf_appendf(char *buf, size_t len, size_t *off, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf + *off, len - *off, fmt, ap);
	va_end(ap);
	if (n > 0 && (size_t)n < len - *off)
		*off += (size_t)n;
}

/* ---- registry ---------------------------------------------------------- */

const struct zcs_pf_check_def zcs_pf_checks[] = {
	{"cores", zcs_pf_check_cores},
	{"isolcpus", zcs_pf_check_isolcpus},
	{"nohz_full", zcs_pf_check_nohz_full},
	{"rcu_nocbs", zcs_pf_check_rcu_nocbs},
	{"irqaffinity", zcs_pf_check_irqaffinity},
	{"irqs", zcs_pf_check_irqs},
	{"irqbalance", zcs_pf_check_irqbalance},
	{"cstates", zcs_pf_check_cstates},
	{"governor", zcs_pf_check_governor},
	{"turbo", zcs_pf_check_turbo},
	{"thp", zcs_pf_check_thp},
	{"hugepages", zcs_pf_check_hugepages},
	{"numa", zcs_pf_check_numa},
	{"swap", zcs_pf_check_swap},
	{"timer_migration", zcs_pf_check_timer_migration},
	{"watchdogs", zcs_pf_check_watchdogs},
	{"stat_interval", zcs_pf_check_stat_interval},
	{"tsc", zcs_pf_check_tsc},
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
