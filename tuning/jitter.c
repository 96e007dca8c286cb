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
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jitter_probe.h"
#include "preflight_checks.h"

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

static int
parse_double(const char *s, double *v, double lo, double hi)
{
	char *end;

	errno = 0;
	*v = strtod(s, &end);
	return end == s || *end != '\0' || errno != 0 || *v < lo || *v > hi ? -1 : 0;
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
	struct zcs_jitter_core *cores;
	struct zcs_cpuset set;
	cpu_set_t allowed;
	double seconds = 10, threshold_ns = 1000, hz;
	char err[256];
	unsigned int n = 0, k = 0;
	int json = 0, opt, ret;

	zcs_cpuset_zero(&set);
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
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
			if (parse_double(optarg, &seconds, 0.001, 86400) < 0) {
				fprintf(stderr,
					"zcsign-jitter: --seconds '%s': want 0.001 to 86400\n",
					optarg);
				return 2;
			}
			break;
		case 't':
			if (parse_double(optarg, &threshold_ns, 1, 1e9) < 0) {
				fprintf(stderr,
					"zcsign-jitter: --threshold-ns '%s': want 1 to 1e9\n",
					optarg);
				return 2;
			}
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "zcsign-jitter: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (zcs_cpuset_count(&set) == 0) {
		if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0) {
			fprintf(stderr, "zcsign-jitter: sched_getaffinity: %s; pass --cores\n",
				strerror(errno));
			return 2;
		}
		for (unsigned int c = 0; c < CPU_SETSIZE && c < ZCS_PF_MAX_CPUS; c++)
			if (CPU_ISSET(c, &allowed))
				zcs_cpuset_set(&set, c);
	}
	if (sched_getaffinity(0, sizeof(allowed), &allowed) == 0) {
		for (unsigned int c = 0; c < ZCS_PF_MAX_CPUS; c++)
			if (zcs_cpuset_isset(&set, c) &&
				(c >= CPU_SETSIZE || !CPU_ISSET(c, &allowed))) {
				fprintf(stderr,
					"zcsign-jitter: cpu %u is offline or not allowed for this "
					"process "
					"(taskset, cgroup cpuset)\n",
					c);
				return 2;
			}
	}
	n = zcs_cpuset_count(&set);
	cores = aligned_alloc(64, n * sizeof(*cores));
	if (cores == NULL) {
		fprintf(stderr, "zcsign-jitter: allocating %u per-core histograms: out of memory\n",
			n);
		return 1;
	}
	hz = zcs_jitter_calibrate(200);
	for (unsigned int c = 0; c < ZCS_PF_MAX_CPUS; c++)
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
