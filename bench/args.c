/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zcsign-bench's command line (see args.h): the usage text, one parser per
 * kind of value, the option table, the checks across options, then --spawn's
 * layout. Every refusal names the option and the value; tests and scripts
 * match these messages, so they change only with the option.
 */
#include <errno.h>
#include <float.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zcsign/poll.h>
#include <zcsign/wire.h>

#include "args.h"
#include "num.h"
#include "records.h"
#include "report.h"

#define PROG "zcsign-bench"
#define DEFAULT_SLO_US 50.0
#define DEFAULT_STEP_S 2.0
/*
 * --spawn's presignature pools: the refill thread (SCHED_IDLE) gets no CPU
 * while the bench and a worker poll both CPUs, so a run lives on what was
 * filled before it: room for a few seconds at the rates this box sustains.
 */
#define DEFAULT_PRESIG 65536
/* --spawn's keygen makes accounts 1..N, N at most this */
#define SPAWN_MAX_ACCOUNTS 1000000

void
zcs_bench_usage(FILE *f)
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
		"  --poll P              --spawn: zcsignd workers spin, backoff or yield "
		"(default:\n"
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
		"  --attest              --spawn: signers prove what they run with dev "
		"attestation\n"
		"                        documents (a dev CA of its own); zcsignd verifies one "
		"per\n"
		"                        connection (root, PCR0, nonce) and logs the handshake "
		"time\n"
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
		ZCS_BENCH_DEFAULT_COUNT, ZCS_BENCH_RECORDS_DEFAULT);
}

/* ---- one parser per kind of value ---- */

static int
parse_u64(const char *opt, const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v;

	if (zcs_parse_u64(s, max, &v) != 0 || v < min) {
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
	if (zcs_parse_double(s, min, DBL_MAX, out) != 0) {
		fprintf(stderr, PROG ": %s %s: not a number >= %g\n", opt, s, min);
		return -1;
	}
	return 0;
}

/* A CPU number, or -1 for "not pinned". */
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

/* An enum zcs_poll_mode, by the names zcsignd --poll and zcsign-enclave --idle take. */
static int
parse_poll(const char *opt, const char *v, int *out)
{
	int m = zcs_poll_mode_parse(v);

	if (m < 0) {
		fprintf(stderr, PROG ": %s %s: not %s, %s or %s\n", opt, v,
			zcs_poll_mode_name(ZCS_POLL_SPIN), zcs_poll_mode_name(ZCS_POLL_BACKOFF),
			zcs_poll_mode_name(ZCS_POLL_YIELD));
		return -1;
	}
	*out = m;
	return 0;
}

/* An enum zcs_nonce_mode, by the names zcsign-enclave --nonce takes. */
static int
parse_nonce(const char *v, unsigned int *out)
{
	unsigned int m = zcs_nonce_mode_parse(v);

	if (m == 0) {
		fprintf(stderr, PROG ": --nonce %s: not %s, %s or %s\n", v,
			zcs_nonce_mode_name(ZCS_NONCE_PRECOMPUTED),
			zcs_nonce_mode_name(ZCS_NONCE_RFC6979),
			zcs_nonce_mode_name(ZCS_NONCE_HEDGED));
		return -1;
	}
	*out = m;
	return 0;
}

static int
parse_arrivals(const char *v, enum zcs_bench_arrivals *out)
{
	if (strcmp(v, "uniform") == 0) {
		*out = ZCS_BENCH_UNIFORM;
	} else if (strcmp(v, "poisson") == 0) {
		*out = ZCS_BENCH_POISSON;
	} else {
		fprintf(stderr, PROG ": --arrivals %s: not uniform or poisson\n", v);
		return -1;
	}
	return 0;
}

static int
parse_algo(const char *s, unsigned int *algo)
{
	static const unsigned int algos[] = {
		ZCS_BENCH_ALGO_MIX, ZCS_ALGO_ECDSA, ZCS_ALGO_ECDSA_RECOVERABLE, ZCS_ALGO_SCHNORR};
	unsigned int i;

	for (i = 0; i < sizeof(algos) / sizeof(algos[0]); i++) {
		if (strcmp(s, zcs_bench_algo_name(algos[i])) == 0) {
			*algo = algos[i];
			return 0;
		}
	}
	fprintf(stderr, PROG ": --algo %s: not ecdsa, ecdsa-recoverable, schnorr or mix\n", s);
	return -1;
}

/* ---- the options ---- */

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
	OPT_ATTEST,
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
	{"attest", no_argument, NULL, OPT_ATTEST},
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

/* What the command line leaves unsaid; -1: chosen after parsing, from the rest. */
static void
set_defaults(struct zcs_bench_args *a)
{
	memset(a, 0, sizeof(*a));
	zcs_bench_conf_init(&a->conf);
	a->conf.count = ZCS_BENCH_DEFAULT_COUNT;
	a->verify_max = ZCS_BENCH_RECORDS_DEFAULT;
	a->sc = (struct zcs_spawn_conf){.shards = 1,
		.accounts = 0,
		.nonce = ZCS_NONCE_PRECOMPUTED,
		.poll = -1,
		.signer_idle = -1,
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
}

/* Which options the cross-option checks need to know were given. */
struct seen {
	int count, duration, closed, rate;
};

/* The options of --spawn, --sweep and the outputs added to the core's. */
static int
parse_more(struct zcs_bench_args *a, int opt, const char *v)
{
	uint64_t u = 0; /* read after a failed parse too: the result is thrown away then */
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
		rc = parse_nonce(v, &a->sc.nonce);
		break;
	case OPT_POLL:
		rc = parse_poll("--poll", v, &a->sc.poll);
		break;
	case OPT_SIGNER_IDLE:
		rc = parse_poll("--signer-idle", v, &a->sc.signer_idle);
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
	case OPT_ATTEST:
		a->sc.attest = 1;
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
parse_one(struct zcs_bench_args *a, int opt, const char *v, struct seen *seen)
{
	struct zcs_bench_conf *c = &a->conf;
	uint64_t u = 0; /* as in parse_more() */
	int rc = 0;

	switch (opt) {
	case OPT_PREFIX:
		a->prefix = v;
		break;
	case OPT_CLOSED:
		seen->closed = 1;
		rc = parse_u64("--closed", v, 1, 1u << 20, &u);
		c->mode = ZCS_BENCH_CLOSED;
		c->outstanding = (unsigned int)u;
		break;
	case OPT_RATE:
		seen->rate = 1;
		rc = parse_double("--rate", v, 1e-3, &c->rate);
		c->mode = ZCS_BENCH_OPEN;
		break;
	case OPT_ARRIVALS:
		rc = parse_arrivals(v, &c->arrivals);
		break;
	case OPT_COUNT:
		rc = parse_u64("--count", v, 1, UINT64_MAX, &c->count);
		seen->count = 1;
		break;
	case OPT_DURATION:
		rc = parse_double("--duration", v, 1e-3, &c->duration_s);
		seen->duration = 1;
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

/* ---- the checks across options ---- */

/* After every option: the combinations that make no run. */
static int
check_combination(struct zcs_bench_args *a, struct seen *seen)
{
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
	if (seen->closed + seen->rate + a->sweep > 1) {
		fprintf(stderr, PROG ": --closed, --rate and --sweep exclude each other\n");
		return -1;
	}
	if (seen->count && seen->duration) {
		fprintf(stderr, PROG ": --count and --duration exclude each other\n");
		return -1;
	}
	if (a->sweep && seen->count) {
		fprintf(stderr, PROG ": --sweep runs each step for --duration, not --count\n");
		return -1;
	}
	if (a->sweep) {
		a->conf.mode = ZCS_BENCH_OPEN;
		if (!seen->duration)
			a->conf.duration_s = DEFAULT_STEP_S;
		seen->duration = 1;
	}
	if (seen->duration)
		a->conf.count = 0;
	return 0;
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
spawn_layout(struct zcs_bench_args *a)
{
	struct zcs_spawn_conf *sc = &a->sc;
	int shares_cpu = sc->signer_cpu == (int)a->cpu;
	unsigned int i;
	size_t n;

	if (sc->accounts == 0) {
		uint64_t last = a->conf.first_account + a->conf.accounts - 1;

		sc->accounts =
			(unsigned int)(last < SPAWN_MAX_ACCOUNTS ? last : SPAWN_MAX_ACCOUNTS);
	}
	if (a->conf.first_account + a->conf.accounts - 1 > sc->accounts ||
		a->conf.first_account == 0) {
		fprintf(stderr,
			PROG ": --spawn makes accounts 1..%u: --first-account and --accounts "
			     "must stay in them\n",
			sc->accounts);
		return -1;
	}
	if (sc->signer_idle < 0)
		sc->signer_idle = shares_cpu ? ZCS_POLL_YIELD : ZCS_POLL_BACKOFF;
	if (a->yield < 0)
		a->yield = shares_cpu && sc->signer_idle == ZCS_POLL_YIELD;
	/* A yielding bench hands its CPU over by sched_yield(): both at normal priority. */
	if (a->sched_idle < 0)
		a->sched_idle = shares_cpu && !a->yield;
	/*
	 * A signer's idle spin on the bench's CPU only keeps the bench from
	 * polling the reply it just sent: it sleeps at once (measured: e2e p50
	 * 80 us with its own 50 us default, 26 us with none).
	 */
	if (sc->signer_spin_us < 0 && shares_cpu && sc->signer_idle == ZCS_POLL_BACKOFF)
		sc->signer_spin_us = 0;
	if (sc->presig == 0 && sc->nonce == ZCS_NONCE_PRECOMPUTED)
		sc->presig = DEFAULT_PRESIG;
	if (sc->poll < 0)
		sc->poll = sc->shards == 1 ? ZCS_POLL_SPIN : ZCS_POLL_YIELD;
	if (sc->lcores == NULL) {
		n = (size_t)snprintf(a->lcores, sizeof(a->lcores), "0@0");
		for (i = 0; i < sc->shards && n < sizeof(a->lcores); i++)
			n += (size_t)snprintf(a->lcores + n, sizeof(a->lcores) - n, ",%u@1", i + 1);
		sc->lcores = a->lcores;
	}
	return 0;
}

/* Attached to a running zcsignd: its layout is its own, the bench only polls. */
static int
attach_layout(struct zcs_bench_args *a)
{
	a->yield = a->yield > 0;
	a->sched_idle = a->sched_idle > 0;
	if (a->conf.first_account + a->conf.accounts - 1 < a->conf.first_account) {
		fprintf(stderr, PROG ": --first-account + --accounts passes 2^64\n");
		return -1;
	}
	return 0;
}

int
zcs_bench_args_parse(int argc, char **argv, struct zcs_bench_args *a)
{
	struct seen seen = {0};
	int c;

	set_defaults(a);
	opterr = 0;
	optind = 0; /* glibc: start over, whatever a previous parse left */
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
		/* --verify MANIFEST (space-separated) as well as --verify=MANIFEST */
		if (c == OPT_VERIFY && optarg == NULL && optind < argc && argv[optind][0] != '-')
			optarg = argv[optind++];
		if (parse_one(a, c, optarg, &seen) != 0)
			return -1;
	}
	if (optind < argc) {
		fprintf(stderr, PROG ": unexpected argument '%s' (try --help)\n", argv[optind]);
		return -1;
	}
	if (check_combination(a, &seen) != 0)
		return -1;
	return a->spawn ? spawn_layout(a) : attach_layout(a);
}
