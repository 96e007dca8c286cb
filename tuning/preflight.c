/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zcsign-preflight: will this host give the worker cores flat latency?
 *
 *   zcsign-preflight [--cores LIST] [--config FILE] [--json] [--root DIR]
 *                    [--suggest-cmdline]
 *
 * One line per check (PASS / WARN / FAIL, what was found, the fix) on stdout,
 * or one JSON object with --json. Exit status: 1 when any check FAILs, 0
 * otherwise, 2 for a usage error. Worker cores: --cores, else the lcore = N
 * of every shard in --config, else every online CPU but CPU 0.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "preflight_checks.h"
#include "tool.h"

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: zcsign-preflight [--cores LIST] [--config FILE] [--json] [--root DIR]\n"
		"                        [--suggest-cmdline]\n"
		"  --cores LIST       worker CPUs, e.g. 2-5 (default: the lcores of --config,\n"
		"                     else every online CPU but 0)\n"
		"  --config FILE      zcsignd INI config: its [shard.<i>] lcore = N\n"
		"  --json             one JSON object {cores, checks[{name, verdict, found, "
		"fix}], ...}\n"
		"  --root DIR         read /proc and /sys under DIR (tests, offline review)\n"
		"  --suggest-cmdline  print the kernel command line additions for the cores\n"
		"exit: 1 if any check FAILs, 0 otherwise, 2 on usage error\n");
}

static void
json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void
print_json(FILE *f, const char *cores, const char *root, const struct zcs_pf_check *r,
	const unsigned int *tally)
{
	fputs("{\"cores\": ", f);
	json_str(f, cores);
	fputs(", \"root\": ", f);
	json_str(f, root[0] != '\0' ? root : "/");
	fputs(", \"checks\": [", f);
	for (unsigned int i = 0; i < zcs_pf_nchecks; i++) {
		fprintf(f, "%s\n  {\"name\": ", i ? "," : "");
		json_str(f, r[i].name);
		fprintf(f, ", \"verdict\": \"%s\", \"found\": ", zcs_pf_verdict_name(r[i].verdict));
		json_str(f, r[i].found);
		fputs(", \"fix\": ", f);
		json_str(f, r[i].fix);
		fputc('}', f);
	}
	fprintf(f, "\n], \"pass\": %u, \"warn\": %u, \"fail\": %u}\n", tally[ZCS_PF_PASS],
		tally[ZCS_PF_WARN], tally[ZCS_PF_FAIL]);
}

static void
print_text(FILE *f, const char *cores, const char *why, const char *root,
	const struct zcs_pf_check *r, const unsigned int *tally)
{
	fprintf(f, "zcsign-preflight: worker cores %s (%s), root %s\n", cores, why,
		root[0] != '\0' ? root : "/");
	for (unsigned int i = 0; i < zcs_pf_nchecks; i++) {
		fprintf(f, "%s  %-15s %s", zcs_pf_verdict_name(r[i].verdict), r[i].name,
			r[i].found);
		if (r[i].fix[0] != '\0')
			fprintf(f, " | fix: %s", r[i].fix);
		fputc('\n', f);
	}
	fprintf(f, "summary: %u PASS, %u WARN, %u FAIL\n", tally[ZCS_PF_PASS], tally[ZCS_PF_WARN],
		tally[ZCS_PF_FAIL]);
}

/* every online CPU but 0 (or CPU 0 alone on a one-CPU host) */
static int
default_cores(struct zcs_pf_ctx *ctx)
{
	char buf[1024];
	struct zcs_cpuset online;

	if (zcs_pf_online(ctx, &online, buf, sizeof(buf)) < 0) {
		fprintf(stderr,
			"zcsign-preflight: could not read %s/sys/devices/system/cpu/online; pass "
			"--cores\n",
			ctx->root);
		return -1;
	}
	ctx->cores = online;
	if (zcs_cpuset_count(&online) > 1)
		ctx->cores.w[0] &= ~UINT64_C(1);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"cores", required_argument, NULL, 'c'},
		{"config", required_argument, NULL, 'f'},
		{"json", no_argument, NULL, 'j'},
		{"root", required_argument, NULL, 'r'},
		{"suggest-cmdline", no_argument, NULL, 's'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	static const struct zcs_tool tool = {"zcsign-preflight", usage, opts};
	static struct zcs_pf_ctx ctx;
	static struct zcs_pf_check res[64];
	const char *cores_arg = NULL, *config = NULL, *why;
	char cores[256], err[512], line[2048];
	unsigned int tally[3] = {0, 0, 0};
	int json = 0, suggest = 0, opt, status;
	size_t n;

	while ((opt = zcs_tool_getopt(&tool, argc, argv, &status)) > 0) {
		switch (opt) {
		case 'c':
			cores_arg = optarg;
			break;
		case 'f':
			config = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'r':
			if (strlen(optarg) >= sizeof(ctx.root)) {
				fprintf(stderr, "zcsign-preflight: --root %s: path too long\n",
					optarg);
				return 2;
			}
			snprintf(ctx.root, sizeof(ctx.root), "%s", optarg);
			break;
		case 's':
			suggest = 1;
			break;
		}
	}
	if (opt < 0)
		return status;
	n = strlen(ctx.root);
	while (n > 0 && ctx.root[n - 1] == '/')
		ctx.root[--n] = '\0';
	ctx.use_libnuma = ctx.root[0] == '\0';
	zcs_pf_ctx_load(&ctx);

	if (cores_arg != NULL) {
		why = "--cores";
		if (zcs_cpuset_parse(&ctx.cores, cores_arg) < 0 ||
			zcs_cpuset_count(&ctx.cores) == 0) {
			fprintf(stderr,
				"zcsign-preflight: --cores '%s' is not a CPU list like 2-5,8\n",
				cores_arg);
			return 2;
		}
	} else if (config != NULL) {
		why = "lcores of --config";
		if (zcs_pf_cores_from_config(&ctx.cores, config, err, sizeof(err)) < 0) {
			fprintf(stderr, "zcsign-preflight: %s\n", err);
			return 2;
		}
	} else {
		why = "default: online CPUs but 0";
		if (default_cores(&ctx) < 0)
			return 2;
	}
	zcs_cpuset_format(cores, sizeof(cores), &ctx.cores);

	if (suggest) {
		if (zcs_pf_suggest_cmdline(&ctx, line, sizeof(line), err, sizeof(err)) < 0) {
			fprintf(stderr, "zcsign-preflight: --suggest-cmdline: %s\n", err);
			return 1;
		}
		printf("# /etc/default/grub, for worker cores %s; then update-grub and reboot\n"
		       "GRUB_CMDLINE_LINUX_DEFAULT=\"$GRUB_CMDLINE_LINUX_DEFAULT %s\"\n",
			cores, line);
		return 0;
	}

	zcs_pf_run_all(&ctx, res);
	for (unsigned int i = 0; i < zcs_pf_nchecks; i++)
		tally[res[i].verdict]++;
	if (json)
		print_json(stdout, cores, ctx.root, res, tally);
	else
		print_text(stdout, cores, why, ctx.root, res, tally);
	if (fflush(stdout) != 0) {
		fprintf(stderr, "zcsign-preflight: writing the report to stdout: %s\n",
			strerror(errno));
		return 2;
	}
	return tally[ZCS_PF_FAIL] > 0 ? 1 : 0;
}
