/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The kernel command line: the value of a parameter, the CPU list of
 * isolcpus=, and the additions zcsign-preflight --suggest-cmdline prints for
 * the worker cores (contract in preflight_checks.h). What the checks make of
 * the command line is in their families (preflight_cpu.c ...).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "preflight_internal.h"

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

int
zcs_pf_suggest_cmdline(
	const struct zcs_pf_ctx *ctx, char *out, size_t len, char *err, size_t errlen)
{
	char buf[1024], cores[256], others[256];
	struct zcs_cpuset online, rest;

	if (zcs_pf_online(ctx, &online, buf, sizeof(buf)) < 0) {
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
