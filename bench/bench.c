/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zcsign-bench: load a running zcsignd and measure it, from a DPDK secondary
 * process, the way a co-located gateway would see it.
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
 * This file is the shell around the EAL-free core: the command line, the
 * private engine of --spawn (spawn.h: started before the EAL, since this
 * process is the secondary of the zcsignd it starts), EAL init and
 * zcs_attach(), libzcsign wrapped in the driver's ops (drive.h), the sweep
 * (sweep.h), the baselines measured in-process before any load (baseline.h),
 * --verify after the timed runs (records.h), the report (report.h), plots.
 *
 * Exit status: 0 when every accepted request completed and, with --verify,
 * every kept signature verified; 1 when not, or when the bench could not run;
 * 2 for a bad command line. Error statuses of completions (expired,
 * signer_down, ...) are reported, not failures of the bench: a fault test
 * expects them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/random.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>

#include <zcsign/client.h>
#include <zcsign/wire.h>

#include "baseline.h"
#include "drive.h"
#include "plot.h"
#include "records.h"
#include "report.h"
#include "shards.h"
#include "spawn.h"
#include "sweep.h"
#include "verify.h"

#define PROG "zcsign-bench"
#define DEFAULT_COUNT 10000
#define DEFAULT_SLO_US 50.0
#define DEFAULT_STEP_S 2.0
#define BASELINE_ITERS 20000
#define UP_TIMEOUT_S 30.0
/* ECDSA refill per presignature on an idle core, plus margin (RESULTS.md: ~17 us) */
#define REFILL_US_PER_ENTRY 20.0
/*
 * --spawn's presignature pools: the refill thread (SCHED_IDLE) gets no CPU
 * while the bench and a worker poll both CPUs, so a run lives on what was
 * filled before it: room for a few seconds at the rates this box sustains.
 */
#define DEFAULT_PRESIG 65536
/* Longest wait for the signers' pool counters after a run: 1.5 STATS intervals. */
#define POOL_WAIT_MS 1500

struct args {
	struct zcs_bench_conf conf;
	const char *prefix;
	const char *manifest;
	const char *json;
	const char *csv;
	const char *plot;
	unsigned int cpu;
	uint64_t verify_max;
	int have_seed;
	int verify; /* --verify given (manifest: --spawn's when not named) */
	/* --spawn */
	int spawn;
	struct zcs_spawn_conf sc;
	char lcores[128];
	/* --sweep */
	int sweep;
	double slo_us;
	double sweep_from;
	double sweep_factor;
	double sweep_to;
	unsigned int sweep_refine;
	/* --baselines */
	int baselines;
	int sched_idle;
	int yield; /* sched_yield() after a poll that found nothing */
};

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: " PROG " --file-prefix P | --spawn [options]\n"
		"Loads zcsignd (attached as a DPDK secondary process) and reports latency\n"
		"from each request's intended send time.\n"
		"  --file-prefix P       attach to the running zcsignd of this EAL --file-prefix\n"
		"  --spawn               start keygen, signers and zcsignd for this run, stop them "
		"after\n"
		"  --shards S            --spawn: shards (default 1)\n"
		"  --nonce MODE          --spawn: signers' nonces: precomputed (default), "
		"rfc6979,\n"
		"                        hedged\n"
		"  --poll P              --spawn: zcsignd workers spin, backoff or yield (default:\n"
		"                        spin with one shard, yield when workers share CPU 1)\n"
		"  --signer-idle I       --spawn: signers spin, backoff, or yield (poll, and\n"
		"                        sched_yield() when idle; default on the bench's CPU,\n"
		"                        else backoff)\n"
		"  --signer-spin-us N    --spawn: backoff signers spin N us before sleeping\n"
		"                        (default 0 on the bench's CPU, else theirs)\n"
		"  --lcores MAP          --spawn: zcsignd EAL --lcores (default 0@0, workers @1)\n"
		"  --signer-cpu C        --spawn: pin the signers to CPU C (default 0; -1: not)\n"
		"  --refill-cpu C        --spawn: signers' presignature refill CPU (default 0)\n"
		"  --presig N            --spawn: signers' pool capacity per kind (default "
		"theirs)\n"
		"  --signer-fifo P       --spawn: signers at SCHED_FIFO priority P (0: normal)\n"
		"  --sched-idle          run the bench at SCHED_IDLE: a signer sharing its CPU\n"
		"                        preempts it as soon as a frame wakes it (--spawn's "
		"default\n"
		"                        when backoff signers share the bench's CPU; "
		"--sched-normal: not)\n"
		"  --yield               sched_yield() after each poll that finds nothing, for a\n"
		"                        yield signer on the bench's CPU (--spawn's default then)\n"
		"  --engine-idle         --spawn: zcsignd at SCHED_IDLE, for signers on its CPU\n"
		"  --sweep               open loop at rising rates; capacity = highest rate whose\n"
		"                        p99 meets --slo-us (each step: --duration, default 2 s)\n"
		"  --slo-us U            SLO on end-to-end p99 (default 50)\n"
		"  --sweep-from R        first rate (default 1000/s)\n"
		"  --sweep-factor F      rate step factor (default 1.5)\n"
		"  --sweep-to R          highest rate (default 1000000/s)\n"
		"  --sweep-refine K      bisection steps at the knee (default 3)\n"
		"  --baselines           measure the floors in-process first (raw sign, "
		"presignature\n"
		"                        online step, AF_UNIX round trip) and print ratios over "
		"them\n"
		"  --csv FILE            one row per run or sweep step\n"
		"  --plot DIR            gnuplot PNGs: percentiles vs load, histogram of the last "
		"step\n"
		"  --closed N            closed loop: N requests in flight (default 1)\n"
		"  --rate R              open loop: R requests/s on a fixed schedule\n"
		"  --arrivals A          uniform (default) or poisson inter-arrival times\n"
		"  --count N             measured requests (default %d)\n"
		"  --duration SEC        measured time instead of a count\n"
		"  --warmup SEC          unmeasured lead-in (default 0)\n"
		"  --accounts A          accounts in use (default 1000)\n"
		"  --first-account F     first account id (default 1)\n"
		"  --zipf S              Zipf exponent of account choice (default 0: uniform)\n"
		"  --algo A              ecdsa (default), ecdsa-recoverable, schnorr, mix\n"
		"  --verify [MANIFEST]   verify signatures against keygen's manifest.json after\n"
		"                        the run (all of them, or a uniform sample past "
		"--verify-max)\n"
		"  --verify-max N        signatures kept for --verify (default %" PRIu64 ")\n"
		"  --json FILE           write the report as JSON\n"
		"  --seed N              workload seed (default: random, printed in the JSON)\n"
		"  --cpu C               CPU of the bench's thread (default 0)\n"
		"  --stall SEC           give up when nothing completes for SEC (default 10)\n"
		"Exit: 0 all accepted requests completed (and verified), 1 not, 2 usage.\n",
		DEFAULT_COUNT, ZCS_BENCH_RECORDS_DEFAULT);
}

static int
parse_u64(const char *opt, const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v < min || v > max) {
		fprintf(stderr, PROG ": %s %s: not an integer in [%" PRIu64 ", %" PRIu64 "]\n", opt,
			s, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

static int
parse_double(const char *opt, const char *s, double min, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !isfinite(v) || v < min) {
		fprintf(stderr, PROG ": %s %s: not a number >= %g\n", opt, s, min);
		return -1;
	}
	*out = v;
	return 0;
}

static int
parse_algo(const char *s, unsigned int *algo)
{
	static const unsigned int algos[] = {
		ZCS_BENCH_ALGO_MIX, ZCS_ALGO_ECDSA, ZCS_ALGO_ECDSA_RECOVERABLE, ZCS_ALGO_SCHNORR};
	unsigned int i;

	for (i = 0; i < RTE_DIM(algos); i++) {
		if (strcmp(s, zcs_bench_algo_name(algos[i])) == 0) {
			*algo = algos[i];
			return 0;
		}
	}
	fprintf(stderr, PROG ": --algo %s: not ecdsa, ecdsa-recoverable, schnorr or mix\n", s);
	return -1;
}

enum {
	OPT_PREFIX = 256,
	OPT_CLOSED,
	OPT_RATE,
	OPT_ARRIVALS,
	OPT_COUNT,
	OPT_DURATION,
	OPT_WARMUP,
	OPT_ACCOUNTS,
	OPT_FIRST,
	OPT_ZIPF,
	OPT_ALGO,
	OPT_VERIFY,
	OPT_VERIFY_MAX,
	OPT_JSON,
	OPT_SEED,
	OPT_CPU,
	OPT_STALL,
	OPT_SPAWN,
	OPT_SHARDS,
	OPT_NONCE,
	OPT_POLL,
	OPT_SIGNER_IDLE,
	OPT_SIGNER_SPIN,
	OPT_LCORES,
	OPT_SIGNER_CPU,
	OPT_REFILL_CPU,
	OPT_PRESIG,
	OPT_SIGNER_FIFO,
	OPT_SCHED_IDLE,
	OPT_SCHED_NORMAL,
	OPT_YIELD,
	OPT_ENGINE_IDLE,
	OPT_SWEEP,
	OPT_SLO,
	OPT_SWEEP_FROM,
	OPT_SWEEP_FACTOR,
	OPT_SWEEP_TO,
	OPT_SWEEP_REFINE,
	OPT_BASELINES,
	OPT_CSV,
	OPT_PLOT,
	OPT_HELP,
};

static int
parse_word(const char *opt, const char *v, const char *a, const char *b, const char *c,
	const char **out)
{
	if (strcmp(v, a) == 0 || strcmp(v, b) == 0 || (c != NULL && strcmp(v, c) == 0)) {
		*out = v;
		return 0;
	}
	fprintf(stderr, PROG ": %s %s: not %s, %s%s%s\n", opt, v, a, b, c != NULL ? " or " : "",
		c != NULL ? c : "");
	return -1;
}

static int
parse_cpu(const char *opt, const char *v, int *out)
{
	uint64_t u;

	if (strcmp(v, "-1") == 0) {
		*out = -1;
		return 0;
	}
	if (parse_u64(opt, v, 0, 1023, &u) != 0)
		return -1;
	*out = (int)u;
	return 0;
}

/* The options of --spawn, --sweep and the outputs added to the core's. */
static int
parse_more(struct args *a, int opt, const char *v)
{
	uint64_t u;
	int rc = 0;

	switch (opt) {
	case OPT_SPAWN:
		a->spawn = 1;
		break;
	case OPT_SHARDS:
		rc = parse_u64("--shards", v, 1, ZCS_SPAWN_MAX_SHARDS, &u);
		a->sc.shards = (unsigned int)u;
		break;
	case OPT_NONCE:
		rc = parse_word("--nonce", v, "precomputed", "rfc6979", "hedged", &a->sc.nonce);
		break;
	case OPT_POLL:
		rc = parse_word("--poll", v, "spin", "backoff", "yield", &a->sc.poll);
		break;
	case OPT_SIGNER_IDLE:
		rc = parse_word("--signer-idle", v, "spin", "backoff", "yield", &a->sc.signer_idle);
		break;
	case OPT_SIGNER_SPIN:
		rc = parse_u64("--signer-spin-us", v, 0, 1000000, &u);
		a->sc.signer_spin_us = (int)u;
		break;
	case OPT_LCORES:
		a->sc.lcores = v;
		break;
	case OPT_SIGNER_CPU:
		rc = parse_cpu("--signer-cpu", v, &a->sc.signer_cpu);
		break;
	case OPT_REFILL_CPU:
		rc = parse_cpu("--refill-cpu", v, &a->sc.refill_cpu);
		break;
	case OPT_PRESIG:
		rc = parse_u64("--presig", v, 1, 1u << 22, &u);
		a->sc.presig = (unsigned int)u;
		break;
	case OPT_SIGNER_FIFO:
		rc = parse_u64("--signer-fifo", v, 0, 99, &u);
		a->sc.signer_fifo = (int)u;
		break;
	case OPT_ENGINE_IDLE:
		a->sc.engine_idle = 1;
		break;
	case OPT_SCHED_IDLE:
		a->sched_idle = 1;
		break;
	case OPT_SCHED_NORMAL:
		a->sched_idle = 0;
		break;
	case OPT_YIELD:
		a->yield = 1;
		break;
	case OPT_SWEEP:
		a->sweep = 1;
		break;
	case OPT_SLO:
		rc = parse_double("--slo-us", v, 1e-3, &a->slo_us);
		break;
	case OPT_SWEEP_FROM:
		rc = parse_double("--sweep-from", v, 1e-3, &a->sweep_from);
		break;
	case OPT_SWEEP_FACTOR:
		rc = parse_double("--sweep-factor", v, 1.01, &a->sweep_factor);
		break;
	case OPT_SWEEP_TO:
		rc = parse_double("--sweep-to", v, 1e-3, &a->sweep_to);
		break;
	case OPT_SWEEP_REFINE:
		rc = parse_u64("--sweep-refine", v, 0, 16, &u);
		a->sweep_refine = (unsigned int)u;
		break;
	case OPT_BASELINES:
		a->baselines = 1;
		break;
	case OPT_CSV:
		a->csv = v;
		break;
	case OPT_PLOT:
		a->plot = v;
		break;
	default:
		rc = -1;
	}
	return rc;
}

/* One option into a; -1 after printing why it is wrong. */
static int
parse_one(struct args *a, int opt, const char *v, int *seen_count, int *seen_dur)
{
	struct zcs_bench_conf *c = &a->conf;
	uint64_t u;
	int rc = 0;

	switch (opt) {
	case OPT_PREFIX:
		a->prefix = v;
		break;
	case OPT_CLOSED:
		rc = parse_u64("--closed", v, 1, 1u << 20, &u);
		c->mode = ZCS_BENCH_CLOSED;
		c->outstanding = (unsigned int)u;
		break;
	case OPT_RATE:
		rc = parse_double("--rate", v, 1e-3, &c->rate);
		c->mode = ZCS_BENCH_OPEN;
		break;
	case OPT_ARRIVALS:
		if (strcmp(v, "uniform") == 0)
			c->arrivals = ZCS_BENCH_UNIFORM;
		else if (strcmp(v, "poisson") == 0)
			c->arrivals = ZCS_BENCH_POISSON;
		else
			rc = -1;
		if (rc != 0)
			fprintf(stderr, PROG ": --arrivals %s: not uniform or poisson\n", v);
		break;
	case OPT_COUNT:
		rc = parse_u64("--count", v, 1, UINT64_MAX, &c->count);
		*seen_count = 1;
		break;
	case OPT_DURATION:
		rc = parse_double("--duration", v, 1e-3, &c->duration_s);
		*seen_dur = 1;
		break;
	case OPT_WARMUP:
		rc = parse_double("--warmup", v, 0, &c->warmup_s);
		break;
	case OPT_ACCOUNTS:
		rc = parse_u64("--accounts", v, 1, UINT64_MAX, &c->accounts);
		break;
	case OPT_FIRST:
		rc = parse_u64("--first-account", v, 0, UINT64_MAX, &c->first_account);
		break;
	case OPT_ZIPF:
		rc = parse_double("--zipf", v, 0, &c->zipf);
		break;
	case OPT_ALGO:
		rc = parse_algo(v, &c->algo);
		break;
	case OPT_VERIFY:
		a->verify = 1;
		a->manifest = v; /* NULL: --spawn's manifest */
		break;
	case OPT_VERIFY_MAX:
		rc = parse_u64("--verify-max", v, 1, UINT64_C(1) << 32, &a->verify_max);
		break;
	case OPT_JSON:
		a->json = v;
		break;
	case OPT_SEED:
		rc = parse_u64("--seed", v, 0, UINT64_MAX, &c->seed);
		a->have_seed = 1;
		break;
	case OPT_CPU:
		rc = parse_u64("--cpu", v, 0, 1023, &u);
		a->cpu = (unsigned int)u;
		break;
	case OPT_STALL:
		rc = parse_double("--stall", v, 1e-3, &c->stall_s);
		break;
	default:
		rc = parse_more(a, opt, v);
	}
	return rc;
}

/*
 * --spawn's layout on this box unless told: zcsignd's main lcore (control,
 * sleeps) on CPU 0 and its workers on CPU 1 (a worker alone there spins,
 * workers sharing it yield); signers and the bench on CPU 0, both polling
 * and handing the CPU to each other with sched_yield() when idle: no wake-up
 * on the request path (RESULTS.md: e2e p50 8 us against 25 us for a signer
 * sleeping in poll() and a SCHED_IDLE bench).
 */
static int
spawn_defaults(struct args *a)
{
	struct zcs_spawn_conf *sc = &a->sc;
	unsigned int i;
	size_t n;

	if (sc->accounts == 0)
		sc->accounts = (unsigned int)RTE_MIN(
			a->conf.first_account + a->conf.accounts - 1, (uint64_t)1000000);
	if (a->conf.first_account + a->conf.accounts - 1 > sc->accounts ||
		a->conf.first_account == 0) {
		fprintf(stderr,
			PROG ": --spawn makes accounts 1..%u: --first-account and --accounts "
			     "must stay in them\n",
			sc->accounts);
		return -1;
	}
	if (sc->signer_idle == NULL)
		sc->signer_idle = sc->signer_cpu == (int)a->cpu ? "yield" : "backoff";
	if (a->yield < 0)
		a->yield = sc->signer_cpu == (int)a->cpu && strcmp(sc->signer_idle, "yield") == 0;
	/* A yielding bench hands its CPU over by sched_yield(): both at normal priority. */
	if (a->sched_idle < 0)
		a->sched_idle = sc->signer_cpu == (int)a->cpu && !a->yield;
	/*
	 * A signer's idle spin on the bench's CPU only keeps the bench from
	 * polling the reply it just sent: it sleeps at once (measured: e2e p50
	 * 80 us with its own 50 us default, 26 us with none).
	 */
	if (sc->signer_spin_us < 0 && sc->signer_cpu == (int)a->cpu &&
		strcmp(sc->signer_idle, "backoff") == 0)
		sc->signer_spin_us = 0;
	if (sc->presig == 0 && strcmp(sc->nonce, "precomputed") == 0)
		sc->presig = DEFAULT_PRESIG;
	if (sc->poll == NULL)
		sc->poll = sc->shards == 1 ? "spin" : "yield";
	if (sc->lcores == NULL) {
		n = (size_t)snprintf(a->lcores, sizeof(a->lcores), "0@0");
		for (i = 0; i < sc->shards && n < sizeof(a->lcores); i++)
			n += (size_t)snprintf(a->lcores + n, sizeof(a->lcores) - n, ",%u@1", i + 1);
		sc->lcores = a->lcores;
	}
	return 0;
}

/* Returns 0, 1 for --help, or -1 after printing why the command line is wrong. */
static int
parse_args(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
		{"file-prefix", required_argument, NULL, OPT_PREFIX},
		{"closed", required_argument, NULL, OPT_CLOSED},
		{"rate", required_argument, NULL, OPT_RATE},
		{"arrivals", required_argument, NULL, OPT_ARRIVALS},
		{"count", required_argument, NULL, OPT_COUNT},
		{"duration", required_argument, NULL, OPT_DURATION},
		{"warmup", required_argument, NULL, OPT_WARMUP},
		{"accounts", required_argument, NULL, OPT_ACCOUNTS},
		{"first-account", required_argument, NULL, OPT_FIRST},
		{"zipf", required_argument, NULL, OPT_ZIPF},
		{"algo", required_argument, NULL, OPT_ALGO},
		{"verify", optional_argument, NULL, OPT_VERIFY},
		{"verify-max", required_argument, NULL, OPT_VERIFY_MAX},
		{"json", required_argument, NULL, OPT_JSON},
		{"seed", required_argument, NULL, OPT_SEED},
		{"cpu", required_argument, NULL, OPT_CPU},
		{"stall", required_argument, NULL, OPT_STALL},
		{"spawn", no_argument, NULL, OPT_SPAWN},
		{"shards", required_argument, NULL, OPT_SHARDS},
		{"nonce", required_argument, NULL, OPT_NONCE},
		{"poll", required_argument, NULL, OPT_POLL},
		{"signer-idle", required_argument, NULL, OPT_SIGNER_IDLE},
		{"signer-spin-us", required_argument, NULL, OPT_SIGNER_SPIN},
		{"lcores", required_argument, NULL, OPT_LCORES},
		{"signer-cpu", required_argument, NULL, OPT_SIGNER_CPU},
		{"refill-cpu", required_argument, NULL, OPT_REFILL_CPU},
		{"presig", required_argument, NULL, OPT_PRESIG},
		{"signer-fifo", required_argument, NULL, OPT_SIGNER_FIFO},
		{"sched-idle", no_argument, NULL, OPT_SCHED_IDLE},
		{"sched-normal", no_argument, NULL, OPT_SCHED_NORMAL},
		{"yield", no_argument, NULL, OPT_YIELD},
		{"engine-idle", no_argument, NULL, OPT_ENGINE_IDLE},
		{"sweep", no_argument, NULL, OPT_SWEEP},
		{"slo-us", required_argument, NULL, OPT_SLO},
		{"sweep-from", required_argument, NULL, OPT_SWEEP_FROM},
		{"sweep-factor", required_argument, NULL, OPT_SWEEP_FACTOR},
		{"sweep-to", required_argument, NULL, OPT_SWEEP_TO},
		{"sweep-refine", required_argument, NULL, OPT_SWEEP_REFINE},
		{"baselines", no_argument, NULL, OPT_BASELINES},
		{"csv", required_argument, NULL, OPT_CSV},
		{"plot", required_argument, NULL, OPT_PLOT},
		{"help", no_argument, NULL, OPT_HELP},
		{NULL, 0, NULL, 0},
	};
	int seen_count = 0, seen_dur = 0, seen_closed = 0, seen_rate = 0, c;

	zcs_bench_conf_init(&a->conf);
	a->conf.count = DEFAULT_COUNT;
	a->verify_max = ZCS_BENCH_RECORDS_DEFAULT;
	a->sc = (struct zcs_spawn_conf){.shards = 1,
		.accounts = 0,
		.nonce = "precomputed",
		.signer_cpu = 0,
		.signer_spin_us = -1,
		.refill_cpu = 0,
		.mem_mb = 256};
	a->slo_us = DEFAULT_SLO_US;
	a->sweep_from = 1000;
	a->sweep_factor = 1.5;
	a->sweep_to = 1e6;
	a->sweep_refine = 3;
	a->sched_idle = -1;
	a->yield = -1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (c == OPT_HELP)
			return 1;
		if (c == ':') {
			fprintf(stderr, PROG ": %s needs a value (try --help)\n", argv[optind - 1]);
			return -1;
		}
		if (c == '?') {
			fprintf(stderr, PROG ": unknown option '%s' (try --help)\n",
				argv[optind - 1]);
			return -1;
		}
		seen_closed |= c == OPT_CLOSED;
		seen_rate |= c == OPT_RATE;
		/* --verify MANIFEST (space-separated) as well as --verify=MANIFEST */
		if (c == OPT_VERIFY && optarg == NULL && optind < argc && argv[optind][0] != '-')
			optarg = argv[optind++];
		if (parse_one(a, c, optarg, &seen_count, &seen_dur) != 0)
			return -1;
	}
	if (optind < argc) {
		fprintf(stderr, PROG ": unexpected argument '%s' (try --help)\n", argv[optind]);
		return -1;
	}
	if ((a->prefix == NULL) == !a->spawn) {
		fprintf(stderr,
			PROG ": one of --file-prefix P (attach to a running zcsignd) or "
			     "--spawn is required\n");
		return -1;
	}
	if (a->verify && a->manifest == NULL && !a->spawn) {
		fprintf(stderr, PROG ": --verify needs keygen's MANIFEST unless --spawn made it\n");
		return -1;
	}
	if (seen_closed + seen_rate + a->sweep > 1) {
		fprintf(stderr, PROG ": --closed, --rate and --sweep exclude each other\n");
		return -1;
	}
	if (seen_count && seen_dur) {
		fprintf(stderr, PROG ": --count and --duration exclude each other\n");
		return -1;
	}
	if (a->sweep && seen_count) {
		fprintf(stderr, PROG ": --sweep runs each step for --duration, not --count\n");
		return -1;
	}
	if (a->sweep) {
		a->conf.mode = ZCS_BENCH_OPEN;
		if (!seen_dur)
			a->conf.duration_s = DEFAULT_STEP_S;
		seen_dur = 1;
	}
	if (seen_dur)
		a->conf.count = 0;
	if (a->spawn)
		return spawn_defaults(a);
	a->yield = a->yield > 0;
	if (a->conf.first_account + a->conf.accounts - 1 < a->conf.first_account) {
		fprintf(stderr, PROG ": --first-account + --accounts passes 2^64\n");
		return -1;
	}
	return 0;
}

/* ---- libzcsign as the driver's engine ---- */

static uint64_t
op_now(void *ctx)
{
	RTE_SET_USED(ctx);
	return rte_rdtsc();
}

static int
op_submit(void *ctx, const struct zcs_sign_args *args)
{
	return zcs_submit(ctx, args);
}

static int yield_when_idle; /* --yield */

static unsigned int
op_poll(void *ctx, struct zcs_request **out, unsigned int n)
{
	unsigned int got = zcs_poll(ctx, out, n);

	if (got == 0 && yield_when_idle)
		sched_yield();
	return got;
}

static void
op_release(void *ctx, struct zcs_request **reqs, unsigned int n)
{
	zcs_release(ctx, reqs, n);
}

static int
eal_attach(const struct args *a)
{
	char prefix[300], lcores[16];
	char *eal_argv[] = {(char *)PROG, (char *)"--proc-type=secondary", prefix,
		(char *)"--no-pci", (char *)"-l", lcores, (char *)"--log-level=lib.eal:error",
		(char *)"--no-telemetry", NULL};

	snprintf(prefix, sizeof(prefix), "--file-prefix=%s", a->prefix);
	snprintf(lcores, sizeof(lcores), "%u", a->cpu);
	if (rte_eal_init((int)RTE_DIM(eal_argv) - 1, eal_argv) < 0) {
		fprintf(stderr,
			PROG ": cannot attach to DPDK with --file-prefix %s (is zcsignd running "
			     "with that prefix, and may this user read /var/run/dpdk/%s?)\n",
			a->prefix, a->prefix);
		return -1;
	}
	return 0;
}

/* ---- verify and report ---- */

static int
load_manifest(const struct args *a, struct zcs_manifest *m)
{
	uint64_t i, missing = 0;
	char err[512];

	if (zcs_manifest_load(m, err, sizeof(err), a->manifest) != 0) {
		fprintf(stderr, PROG ": %s\n", err);
		return -1;
	}
	for (i = 0; i < a->conf.accounts && missing == 0; i++)
		missing += zcs_manifest_find(m, a->conf.first_account + i) == NULL;
	if (missing > 0)
		fprintf(stderr,
			PROG ": warning: account %" PRIu64 " is not in %s: its requests will "
			     "fail with unknown_account\n",
			a->conf.first_account + i - 1, a->manifest);
	return 0;
}

static void
verify_run(struct zcs_bench_report *rep, const struct zcs_bench_records *recs,
	const struct zcs_manifest *m)
{
	uint64_t failed = 0;
	int64_t ok;

	fprintf(stderr, PROG ": verifying %" PRIu64 " signatures%s\n", recs->kept,
		zcs_bench_records_sampled(recs) ? " (a uniform sample)" : "");
	ok = zcs_bench_records_verify(recs, &failed, m, stderr);
	rep->verify = 1;
	rep->verify_seen = recs->seen;
	rep->verify_checked = recs->kept;
	rep->verified = ok > 0 ? (uint64_t)ok : 0;
	rep->verify_failed = ok < 0 ? recs->kept : failed;
	if (ok < 0 || failed > 0)
		rep->passed = 0;
}

/*
 * Room for every signature of the run when its size is known (so a short run
 * does not pre-fault 112 MiB), else --verify-max.
 */
static uint64_t
records_capacity(const struct args *a)
{
	const struct zcs_bench_conf *c = &a->conf;
	double n;

	if (c->mode == ZCS_BENCH_OPEN)
		n = c->count > 0 ? (double)c->count + c->rate * c->warmup_s
				 : c->rate * (c->duration_s + c->warmup_s);
	else if (c->count > 0 && c->warmup_s == 0)
		n = (double)c->count;
	else
		return a->verify_max;
	n = n * 1.01 + 64; /* Poisson schedules run a little over their mean */
	return n < (double)a->verify_max ? (uint64_t)n : a->verify_max;
}

/* Everything a run produced: the steps (one without --sweep), for the outputs. */
struct results {
	struct zcs_bench_report steps[ZCS_BENCH_SWEEP_MAX + 1];
	unsigned int nsteps;
	struct zcs_bench_report op; /* the run, or the sweep's half-capacity operating point */
	struct zcs_hist last_e2e; /* of op */
	struct zcs_bench_extra x;
	struct zcs_bench_baseline bl[ZCS_BENCH_BASELINES_MAX];
	char layout[512];
	int have_op;
};

/* The signers' pool counters, summed over the shards. */
struct pools {
	int known; /* every shard's signer precomputes and answered STATS */
	uint64_t misses, refilled;
};

/*
 * Read the pool counters zcsignd last got from each signer (STATS, every
 * stats_interval_ms), waiting up to wait_ms for replies received after TSC
 * fresh, so that a run's end counts what the run did.
 */
static void
pools_read(struct pools *p, uint64_t fresh, unsigned int wait_ms)
{
	const struct zcs_engine_shared *sh = zcs_shards_lookup();
	uint64_t end = rte_rdtsc() + (uint64_t)wait_ms * (rte_get_tsc_hz() / 1000);
	struct zcs_signer_stats s;
	unsigned int i;

	memset(p, 0, sizeof(*p));
	if (sh == NULL)
		return;
	for (i = 0; i < sh->shard_count; i++) {
		for (;;) {
			if (zcs_shard_signer_stats_read(&sh->shards[i], &s) != 0)
				return;
			if (s.rx_tsc > fresh || rte_rdtsc() >= end)
				break;
			rte_delay_us_sleep(10000);
		}
		if (s.rx_tsc <= fresh || s.nonce_mode != ZCS_NONCE_PRECOMPUTED)
			return;
		p->misses += s.misses;
		p->refilled += s.refilled;
	}
	p->known = 1;
}

/* One drive at conf c; the report in rep. -1 only when the bench itself cannot run. */
static int
run_step(struct zcs_client *client, const struct zcs_bench_conf *c, struct zcs_bench_report *rep,
	struct zcs_hist *e2e)
{
	static struct zcs_bench_stats st; /* four histograms: too large for the stack */
	struct zcs_bench_ops ops = {.ctx = client,
		.now = op_now,
		.submit = op_submit,
		.poll = op_poll,
		.release = op_release};
	struct pools p0, p1;
	int rc;

	pools_read(&p0, 0, 0);
	rc = zcs_bench_drive(&st, c, &ops);
	if (rc == -EINVAL && st.issued + st.warmup_issued == 0) {
		fprintf(stderr, PROG ": invalid configuration\n");
		return -1;
	}
	/* STATS come every second by default: wait for one from after the run. */
	pools_read(&p1, rte_rdtsc(), POOL_WAIT_MS);
	zcs_bench_report_fill(rep, c, &st);
	/* A signer that restarted mid-run started its counters again: unknown. */
	rep->pool_known = p0.known && p1.known && p1.misses >= p0.misses &&
		p1.refilled >= p0.refilled;
	rep->pool_misses = p1.misses - p0.misses;
	rep->pool_refilled = p1.refilled - p0.refilled;
	rep->shards = zcs_shard_count(client);
	if (e2e != NULL)
		*e2e = st.e2e;
	return 0;
}

static struct zcs_bench_point
point_of(const struct zcs_bench_report *r)
{
	return (struct zcs_bench_point){.offered = r->offered_rate,
		.achieved = isfinite(r->achieved_rate) ? r->achieved_rate : 0,
		.p99_us = r->e2e.p99,
		.failures = r->completed - r->signed_ok + r->lost + (r->aborted != NULL)};
}

/*
 * Open loop at the search's rates, then one more step at half the capacity:
 * the operating point the targets are stated at, and the run the ratios and
 * the table describe.
 */
static int
run_sweep(struct zcs_client *client, struct args *a, struct results *res)
{
	static struct zcs_bench_search search;
	struct zcs_bench_conf c = a->conf;
	struct zcs_bench_point pt;
	double rate;
	int cap;

	if (zcs_bench_search_init(&search, a->sweep_from, a->sweep_factor, a->sweep_to, a->slo_us,
		    a->sweep_refine) != 0) {
		fprintf(stderr, PROG ": --sweep-from/-factor/-to: no rates to run\n");
		return -1;
	}
	c.progress = NULL;
	printf("zcsign-bench: sweep, SLO end-to-end p99 <= %.1f us, %.1f s a step\n", a->slo_us,
		c.duration_s);
	while ((rate = zcs_bench_search_next(&search)) > 0) {
		struct zcs_bench_report *r = &res->steps[res->nsteps];

		c.rate = rate;
		c.seed = a->conf.seed + res->nsteps;
		if (run_step(client, &c, r, &res->last_e2e) != 0)
			return -1;
		zcs_bench_step_row(stdout, r, a->slo_us, res->nsteps == 0);
		fflush(stdout);
		pt = point_of(r);
		zcs_bench_search_add(&search, &pt);
		res->nsteps++;
		if (r->aborted != NULL && strstr(r->aborted, "stopping") != NULL)
			break;
	}
	cap = zcs_bench_search_capacity(&search);
	res->x.steps = res->steps;
	res->x.nsteps = res->nsteps;
	res->x.slo_us = a->slo_us;
	res->x.capacity = cap;
	if (cap < 0) {
		res->op = res->steps[res->nsteps - 1];
		return 0;
	}
	printf("  capacity %.0f req/s; operating point: half of it\n",
		res->steps[cap].offered_rate);
	c.rate = res->steps[cap].offered_rate / 2;
	c.seed = a->conf.seed + res->nsteps;
	c.progress = stderr;
	if (run_step(client, &c, &res->op, &res->last_e2e) != 0)
		return -1;
	res->have_op = 1;
	return 0;
}

static int
write_csv(const char *path, const struct results *res, double slo_us)
{
	FILE *f = fopen(path, "w");
	unsigned int i;

	if (f == NULL) {
		fprintf(stderr, PROG ": cannot write %s: %s\n", path, strerror(errno));
		return -1;
	}
	zcs_bench_csv_header(f);
	for (i = 0; i < res->nsteps; i++)
		zcs_bench_csv_row(f, i, &res->steps[i], slo_us);
	if (res->have_op)
		zcs_bench_csv_row(f, i, &res->op, slo_us);
	if (fclose(f) != 0) {
		fprintf(stderr, PROG ": writing %s failed\n", path);
		return -1;
	}
	return 0;
}

static int
write_json(const char *path, const struct zcs_bench_report *rep, const struct zcs_bench_extra *x)
{
	FILE *f = fopen(path, "w");
	int rc;

	if (f == NULL) {
		fprintf(stderr, PROG ": cannot write %s: %s\n", path, strerror(errno));
		return -1;
	}
	rc = zcs_bench_report_json_ext(f, rep, x);
	if (fclose(f) != 0 || rc != 0) {
		fprintf(stderr, PROG ": writing %s failed\n", path);
		return -1;
	}
	return 0;
}

static int
outputs(struct args *a, struct results *res)
{
	double slo = a->sweep ? a->slo_us : -1;
	int rc = 0;

	zcs_bench_report_table(stdout, &res->op);
	zcs_bench_extra_table(stdout, &res->op, &res->x);
	fflush(stdout);
	if (a->json != NULL && write_json(a->json, &res->op, &res->x) != 0)
		rc = -1;
	if (a->csv != NULL && write_csv(a->csv, res, slo) != 0)
		rc = -1;
	/* a missing gnuplot fails --plot with its message, never the run */
	if (a->plot != NULL)
		zcs_bench_plot(a->plot, a->sweep ? res->steps : &res->op,
			a->sweep ? res->nsteps : 1, a->slo_us, &res->last_e2e,
			(double)a->conf.ticks_per_s);
	return rc;
}

static int
run(struct args *a, const struct zcs_manifest *m, struct zcs_bench_records *recs,
	struct results *res)
{
	struct zcs_client *client;
	int rc;

	client = zcs_attach(PROG);
	if (client == NULL) {
		fprintf(stderr, PROG ": cannot attach to zcsignd (prefix %s): %s\n", a->prefix,
			rte_strerror(rte_errno));
		return -1;
	}
	a->conf.ticks_per_s = rte_get_tsc_hz();
	a->conf.progress = stderr;
	a->conf.records = a->verify ? recs : NULL;
	if (a->sweep) {
		rc = run_sweep(client, a, res);
	} else {
		rc = run_step(client, &a->conf, &res->op, &res->last_e2e);
		res->steps[0] = res->op;
		res->nsteps = 1;
	}
	zcs_detach(client);
	if (rc != 0)
		return -1;
	if (a->verify)
		verify_run(&res->op, recs, m);
	if (outputs(a, res) != 0)
		return -1;
	return res->op.passed ? 0 : 1;
}

/* ---- baselines, before any load: the floors on a quiet box ---- */

static int
baselines(struct args *a, struct results *res)
{
	struct zcs_baseline b;
	unsigned int per, n = 0;
	uint64_t *ns = calloc(BASELINE_ITERS, sizeof(*ns));
	int rc = -1;

	if (ns == NULL || zcs_baseline_init(&b, (int)a->cpu, a->cpu == 1 ? 0 : 1) != 0) {
		free(ns);
		return -1;
	}
	fprintf(stderr,
		PROG ": baselines: raw sign, presignature online step, AF_UNIX round trip "
		     "(cpus %d and %d)\n",
		b.cpu_client, b.cpu_server);
	zcs_baseline_pin(b.cpu_client);
	if (zcs_baseline_sign(&b, ZCS_ALGO_ECDSA, ns, BASELINE_ITERS, &per) != 0)
		goto out;
	res->bl[n] = (struct zcs_bench_baseline){.name = "raw_sign_rfc6979",
		.what = "libsecp256k1 ECDSA sign, RFC 6979, in-process",
		.count = BASELINE_ITERS * per};
	zcs_baseline_percentiles(ns, BASELINE_ITERS, per, &res->bl[n].p50, &res->bl[n].p99);
	n++;
	if (zcs_baseline_presig(&b, ZCS_ALGO_ECDSA, ns, BASELINE_ITERS / 10, &per) != 0)
		goto out;
	res->bl[n] = (struct zcs_bench_baseline){.name = "presig_online",
		.what = "presignature online step, ECDSA, in-process (per 64 batch)",
		.count = BASELINE_ITERS / 10 * per};
	zcs_baseline_percentiles(ns, BASELINE_ITERS / 10, per, &res->bl[n].p50, &res->bl[n].p99);
	n++;
	if (zcs_baseline_unix_rt(&b, ns, BASELINE_ITERS, &per) != 0)
		goto out;
	res->bl[n] = (struct zcs_bench_baseline){.name = "unix_rt",
		.what = "one frame out and back, AF_UNIX, busy-polled, two pinned threads",
		.count = BASELINE_ITERS};
	zcs_baseline_percentiles(ns, BASELINE_ITERS, per, &res->bl[n].p50, &res->bl[n].p99);
	n++;
	res->x.baselines = res->bl;
	res->x.nbaselines = n;
	rc = 0;
out:
	if (rc != 0)
		fprintf(stderr, PROG ": baselines: a measurement failed\n");
	zcs_baseline_pin(-1);
	zcs_baseline_fini(&b);
	free(ns);
	return rc;
}

/* ---- --spawn ---- */

static struct zcs_spawn spawned;

static void
on_signal(int sig)
{
	zcs_spawn_kill(&spawned);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void
describe_layout(const struct args *a, struct results *res)
{
	const struct zcs_spawn_conf *sc = &a->sc;
	char spin[48] = "";

	if (!a->spawn) {
		snprintf(res->layout, sizeof(res->layout),
			"attached to zcsignd --file-prefix %s (its layout); bench on CPU %u, "
			"busy-polling%s",
			a->prefix, a->cpu, a->yield ? ", sched_yield() when idle" : "");
		res->x.layout = res->layout;
		return;
	}
	if (sc->signer_spin_us >= 0 && strcmp(sc->signer_idle, "backoff") == 0)
		snprintf(spin, sizeof(spin), " (spins %d us, then sleeps)", sc->signer_spin_us);
	snprintf(res->layout, sizeof(res->layout),
		"zcsignd --lcores %s (main lcore: control, sleeps; workers poll %s%s); %u signer%s "
		"%s%d, idle %s%s, nonce %s%s%d; bench on CPU %u, busy-polling%s",
		sc->lcores, sc->poll, sc->engine_idle ? ", SCHED_IDLE" : "", sc->shards,
		sc->shards > 1 ? "s" : "", sc->signer_cpu >= 0 ? "on CPU " : "unpinned",
		sc->signer_cpu >= 0 ? sc->signer_cpu : 0, sc->signer_idle, spin, sc->nonce,
		strcmp(sc->nonce, "precomputed") == 0 ? ", refill thread (SCHED_IDLE) on CPU " : "",
		sc->refill_cpu, a->cpu,
		a->sched_idle > 0 ? " at SCHED_IDLE" : (a->yield ? ", sched_yield() when idle" : ""));
	res->x.layout = res->layout;
	res->x.nonce = sc->nonce;
}

/* Precomputed mode: let the refill threads fill the pools while nothing else runs. */
static void
settle(const struct args *a)
{
	double s;

	if (!a->spawn || strcmp(a->sc.nonce, "precomputed") != 0)
		return;
	s = 0.2 + 2.0 * a->sc.shards * a->sc.presig * REFILL_US_PER_ENTRY / 1e6;
	fprintf(stderr, PROG ": --spawn: %.1f s for the signers to fill their presignature pools\n",
		s);
	usleep((useconds_t)(s * 1e6));
}

static int
spawn_start(struct args *a)
{
	struct sigaction sa = {.sa_handler = on_signal};

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	fprintf(stderr,
		PROG ": --spawn: %u shard(s), %u accounts, nonce %s, zcsignd --lcores %s "
		     "--poll %s\n",
		a->sc.shards, a->sc.accounts, a->sc.nonce, a->sc.lcores, a->sc.poll);
	if (zcs_spawn_start(&spawned, &a->sc) != 0)
		return -1;
	a->prefix = spawned.prefix;
	if (a->verify && a->manifest == NULL)
		a->manifest = spawned.manifest;
	return 0;
}

static int
spawn_stop(void)
{
	int rc = zcs_spawn_stop(&spawned);

	if (spawned.totals[0] != '\0')
		fprintf(stderr, PROG ": --spawn: %s\n", spawned.totals);
	return rc;
}

int
main(int argc, char **argv)
{
	static struct results res;
	struct zcs_manifest m = {0};
	struct zcs_bench_records recs = {0};
	struct args a;
	int rc;

	memset(&a, 0, sizeof(a));
	res.x.capacity = -1;
	rc = parse_args(argc, argv, &a);
	if (rc != 0) {
		if (rc > 0)
			usage(stdout);
		return rc > 0 ? 0 : 2;
	}
	if (!a.have_seed &&
		getrandom(&a.conf.seed, sizeof(a.conf.seed), 0) != (ssize_t)sizeof(a.conf.seed)) {
		fprintf(stderr, PROG ": getrandom: %s\n", strerror(errno));
		return 1;
	}
	/* 53 bits: the seed is a JSON number, and readers in doubles must get it exactly */
	if (!a.have_seed)
		a.conf.seed &= (UINT64_C(1) << 53) - 1;
	/* Before any engine runs: the floors of a quiet box. */
	if (a.baselines && baselines(&a, &res) != 0)
		return 1;
	/* Then the engine, since this process becomes its secondary. */
	if (a.spawn && spawn_start(&a) != 0)
		return 1;
	describe_layout(&a, &res);
	rc = 1;
	yield_when_idle = a.yield;
	if (a.sched_idle > 0) {
		struct sched_param sp = {.sched_priority = 0};

		if (sched_setscheduler(0, SCHED_IDLE, &sp) != 0) {
			fprintf(stderr, PROG ": --sched-idle: %s\n", strerror(errno));
			goto out;
		}
	}
	/* Before the EAL: a bad manifest or no memory fails before zcsignd is touched. */
	if (a.verify) {
		if (load_manifest(&a, &m) != 0)
			goto out;
		if (zcs_bench_records_init(&recs, a.sweep ? a.verify_max : records_capacity(&a),
			    a.conf.seed + 1) != 0) {
			fprintf(stderr, PROG ": no memory for %" PRIu64 " signature records\n",
				records_capacity(&a));
			goto out;
		}
	}
	if (eal_attach(&a) == 0) {
		if (!a.spawn || zcs_spawn_wait_up(&spawned, UP_TIMEOUT_S) == 0) {
			settle(&a);
			rc = run(&a, &m, &recs, &res) != 0 ? 1 : 0;
		}
		rte_eal_cleanup();
	}
out:
	if (a.spawn && spawn_stop() != 0)
		rc = 1;
	zcs_bench_records_free(&recs);
	zcs_manifest_free(&m);
	return rc;
}
