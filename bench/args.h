/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zcsign-bench's command line: the usage text, the options, their defaults,
 * the checks across options and, for --spawn, the layout of the private
 * engine on this box (which CPU each process polls on, and how it idles).
 *
 *   zcsign-bench --file-prefix P | --spawn [--shards S] [--nonce MODE] [--poll P]
 *       [--signer-idle I] [--lcores MAP] [--signer-cpu C] [--refill-cpu C] [--presig N]
 *       [--closed N | --rate R [--arrivals uniform|poisson] | --sweep [--slo-us U]
 *       [--sweep-from R] [--sweep-factor F] [--sweep-to R] [--sweep-refine K]]
 *       [--count N | --duration SEC] [--warmup SEC] [--accounts A] [--first-account F]
 *       [--zipf S] [--algo ecdsa|ecdsa-recoverable|schnorr|mix] [--verify [MANIFEST]]
 *       [--baselines] [--json FILE] [--csv FILE] [--plot DIR] [--seed N] [--cpu C]
 *       [--verify-max N] [--stall SEC]
 *
 * Contract: zcs_bench_args_parse() either refuses the command line with one
 * message on stderr naming what is wrong, or leaves every field final for
 * the run: exactly one of prefix and spawn; with --spawn every field of sc
 * chosen (poll and idle modes, lcores, accounts, presignatures); yield and
 * sched_idle 0 or 1; conf.count 0 when the run is timed. It reads no file,
 * starts nothing and needs no EAL, so tests/test_bench.c parses command
 * lines directly. Only conf.seed stays for the caller when have_seed is 0.
 */
#ifndef ZCS_BENCH_ARGS_H
#define ZCS_BENCH_ARGS_H

#include <stdint.h>
#include <stdio.h>

#include "drive.h"
#include "spawn.h"

/** Measured requests when neither --count nor --duration is given. */
#define ZCS_BENCH_DEFAULT_COUNT 10000

struct zcs_bench_args {
	struct zcs_bench_conf conf;
	const char *prefix; /**< --file-prefix, or --spawn's after zcs_spawn_start() */
	const char *manifest; /**< --verify's; NULL: --spawn's */
	const char *json;
	const char *csv;
	const char *plot;
	unsigned int cpu;
	uint64_t verify_max;
	int have_seed;
	int verify;
	/* --spawn */
	int spawn;
	struct zcs_spawn_conf sc;
	char lcores[128]; /**< sc.lcores when chosen here */
	/* --sweep */
	int sweep;
	double slo_us;
	double sweep_from;
	double sweep_factor;
	double sweep_to;
	unsigned int sweep_refine;
	int baselines;
	int sched_idle; /**< run the bench at SCHED_IDLE */
	int yield; /**< sched_yield() after a poll that found nothing */
};

/** The --help text. */
void zcs_bench_usage(FILE *f);

/**
 * Parse argv into a (all of it overwritten). Uses getopt_long(), from the
 * start of argv whatever an earlier call left in optind.
 * @return 0; 1 at --help (what follows it is not read, nothing is checked
 *   across options); -1 after printing why the command line is wrong.
 */
int zcs_bench_args_parse(int argc, char **argv, struct zcs_bench_args *a);

#endif /* ZCS_BENCH_ARGS_H */
