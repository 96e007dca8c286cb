/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zcsign-jitter: how often, and for how long, is a spinning thread taken off
 * each core? What a busy-polling zcsign worker suffers on that host.
 *
 *   zcsign-jitter [--cores LIST] [--seconds N] [--threshold-ns T] [--json]
 *
 * Defaults: every CPU this process may run on, 10 s, 1000 ns. The spinners
 * run at the caller's scheduling class: run under `chrt -f 1` on isolated
 * cores to see the host, not the other tasks sharing the core.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpuset.h"
#include "jitter_probe.h"
#include "num.h"
#include "tool.h"

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: zcsign-jitter [--cores LIST] [--seconds N] [--threshold-ns T] [--json]\n"
		"  --cores LIST        CPUs to spin on, e.g. 2-5 (default: every allowed CPU)\n"
		"  --seconds N         spin time per core, all cores at once (default 10)\n"
		"  --threshold-ns T    a gap longer than T between two TSC reads is a hiccup "
		"(default 1000)\n"
		"  --json              one JSON object {tsc_hz, threshold_ns, cores: [...]}\n");
}

/* --opt VALUE, a number in [min, max] (range: how the message says it). */
static int
opt_double(const char *opt, const char *val, double min, double max, const char *range, double *out)
{
	if (zcs_parse_double(val, min, max, out) == 0)
		return 0;
	fprintf(stderr, "zcsign-jitter: %s '%s': want %s\n", opt, val, range);
	return -1;
}

/*
 * The CPUs to spin on: --cores, else every CPU this process may run on; each
 * must be allowed (a thread pinned elsewhere would fail to start).
 */
static int
pick_cores(struct zcs_cpuset *set)
{
	struct zcs_cpuset allowed, refused;
	int rc = zcs_cpuset_affinity(&allowed);
	unsigned int c;

	if (zcs_cpuset_count(set) == 0) {
		if (rc < 0) {
			fprintf(stderr, "zcsign-jitter: sched_getaffinity: %s; pass --cores\n",
				strerror(-rc));
			return -1;
		}
		*set = allowed;
	}
	if (rc < 0)
		return 0; /* the threads' start will say */
	zcs_cpuset_andnot(&refused, set, &allowed);
	if (zcs_cpuset_count(&refused) == 0)
		return 0;
	for (c = 0; !zcs_cpuset_isset(&refused, c); c++)
		;
	fprintf(stderr,
		"zcsign-jitter: cpu %u is offline or not allowed for this process (taskset, cgroup "
		"cpuset)\n",
		c);
	return -1;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"cores", required_argument, NULL, 'c'},
		{"seconds", required_argument, NULL, 's'},
		{"threshold-ns", required_argument, NULL, 't'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	static const struct zcs_tool tool = {"zcsign-jitter", usage, opts};
	struct zcs_jitter_core *cores;
	struct zcs_cpuset set;
	double seconds = 10, threshold_ns = 1000, hz;
	char err[256];
	unsigned int n = 0, k = 0;
	int json = 0, opt, ret, status;

	zcs_cpuset_zero(&set);
	while ((opt = zcs_tool_getopt(&tool, argc, argv, &status)) > 0) {
		switch (opt) {
		case 'c':
			if (zcs_cpuset_parse(&set, optarg) < 0 || zcs_cpuset_count(&set) == 0) {
				fprintf(stderr,
					"zcsign-jitter: --cores '%s' is not a CPU list like "
					"2-5,8\n",
					optarg);
				return 2;
			}
			break;
		case 's':
			if (opt_double("--seconds", optarg, 0.001, 86400, "0.001 to 86400",
				    &seconds) < 0)
				return 2;
			break;
		case 't':
			if (opt_double("--threshold-ns", optarg, 1, 1e9, "1 to 1e9",
				    &threshold_ns) < 0)
				return 2;
			break;
		case 'j':
			json = 1;
			break;
		}
	}
	if (opt < 0)
		return status;
	if (pick_cores(&set) < 0)
		return 2;
	n = zcs_cpuset_count(&set);
	cores = aligned_alloc(64, n * sizeof(*cores));
	if (cores == NULL) {
		fprintf(stderr, "zcsign-jitter: allocating %u per-core histograms: out of memory\n",
			n);
		return 1;
	}
	hz = zcs_jitter_calibrate(200);
	for (unsigned int c = 0; c < ZCS_CPUSET_MAX; c++)
		if (zcs_cpuset_isset(&set, c))
			zcs_jitter_core_init(
				&cores[k++], c, (uint64_t)(threshold_ns * hz / 1e9 + 0.5));
	if (!json)
		fprintf(stdout, "zcsign-jitter: spinning %.3f s on %u core(s)\n", seconds, n);
	ret = zcs_jitter_run(cores, n, seconds, hz, err, sizeof(err));
	if (ret < 0) {
		fprintf(stderr, "zcsign-jitter: %s\n", err);
		free(cores);
		return 1;
	}
	zcs_jitter_report(stdout, cores, n, hz, json);
	free(cores);
	if (fflush(stdout) != 0) {
		fprintf(stderr, "zcsign-jitter: writing the report to stdout: %s\n",
			strerror(errno));
		return 1;
	}
	return 0;
}
