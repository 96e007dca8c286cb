/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zcsign-bench: load a running zcsignd and measure it, from a DPDK secondary
 * process, the way a co-located gateway would see it.
 *
 * This file is the run, around the EAL-free core: the private engine of
 * --spawn (spawn.h: started before the EAL, since this process is the
 * secondary of the zcsignd it starts), EAL init and zcs_attach(), libzcsign
 * wrapped in the driver's ops (drive.h), the signers' pool counters read
 * from the engine's snapshots (shards.h), the sweep (sweep.h), the baselines
 * measured in-process before any load (baseline.h), --verify after the timed
 * runs (records.h), the report (report.h), plots. The command line, its
 * defaults and --spawn's layout are args.h's: by the time this file sees
 * them they are final.
 *
 * Exit status: 0 when every accepted request completed and, with --verify,
 * every kept signature verified; 1 when not, or when the bench could not run;
 * 2 for a bad command line. Error statuses of completions (expired,
 * signer_down, ...) are reported, not failures of the bench: a fault test
 * expects them.
 */
#define _GNU_SOURCE
#include <errno.h>
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
#include <zcsign/poll.h>
#include <zcsign/wire.h>

#include "args.h"
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
#define BASELINE_ITERS 20000
#define UP_TIMEOUT_S 30.0
/* ECDSA refill per presignature on an idle core, plus margin (RESULTS.md: ~17 us) */
#define REFILL_US_PER_ENTRY 20.0
/* Longest wait for the signers' pool counters after a run: 1.5 STATS intervals. */
#define POOL_WAIT_MS 1500

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
eal_attach(const struct zcs_bench_args *a)
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
load_manifest(const struct zcs_bench_args *a, struct zcs_manifest *m)
{
	uint64_t i, missing = 0;
	char err[512];

	if (zcs_manifest_load(m, err, sizeof(err), a->manifest) != 0) {
		fprintf(stderr, PROG ": %s\n", err);
		return -1;
	}
	for (i = 0; i < a->conf.accounts && missing == 0; i++)
		missing += zcs_manifest_find(m, a->conf.first_account + i) == NULL;
	if (missing > 0) {
		fprintf(stderr,
			PROG ": account %" PRIu64
			     " is not in %s (%zu accounts): its requests would "
			     "fail unknown_account; give --first-account/--accounts within it\n",
			a->conf.first_account + i - 1, a->manifest, m->count);
		return -1;
	}
	return 0;
}

/*
 * The engine's own view of its keys, before any load: a sealed signer, or
 * fewer keys in all than accounts asked for, means requests that would only
 * fail. 0, or -1 after one line saying what to do.
 */
static int
check_engine_keys(const struct zcs_bench_args *a)
{
	const struct zcs_engine_shared *sh = zcs_shards_lookup();
	struct zcs_shard_info si;
	uint64_t keys = 0;
	unsigned int i;

	if (sh == NULL)
		return 0; /* zcs_attach() says why */
	for (i = 0; zcs_shard_info(sh, i, &si) == 0; i++) {
		if (si.state != ZCS_SHARD_UP || si.signer_key_source == 0)
			return 0; /* not known yet: the run reports what happens */
		if (si.signer_key_source == ZCS_KEYS_SEALED) {
			fprintf(stderr,
				PROG ": shard %u's signer (%s) is sealed: it holds no keys until "
				     "provisioned (zcsign-cli provision)\n",
				i, si.endpoint);
			return -1;
		}
		keys += si.signer_keys;
	}
	if (a->conf.accounts > keys) {
		fprintf(stderr,
			PROG ": the engine's signers hold %" PRIu64 " keys in all, fewer than the "
			     "%" PRIu64 " accounts asked for (--accounts; default 1000): give "
			     "--accounts within the key set, or --verify MANIFEST\n",
			keys, a->conf.accounts);
		return -1;
	}
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
records_capacity(const struct zcs_bench_args *a)
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
	struct zcs_engine_info ei;
	struct zcs_shard_info si;
	unsigned int i;

	memset(p, 0, sizeof(*p));
	if (sh == NULL)
		return;
	zcs_engine_info(sh, &ei);
	for (i = 0; i < ei.shard_count; i++) {
		for (;;) {
			if (zcs_shard_info(sh, i, &si) != 0 || si.stats_rc != 0)
				return;
			if (si.signer.rx_tsc > fresh || rte_rdtsc() >= end)
				break;
			rte_delay_us_sleep(10000);
		}
		if (si.signer.rx_tsc <= fresh || si.signer.nonce_mode != ZCS_NONCE_PRECOMPUTED)
			return;
		p->misses += si.signer.misses;
		p->refilled += si.signer.refilled;
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
	rep->pool_known =
		p0.known && p1.known && p1.misses >= p0.misses && p1.refilled >= p0.refilled;
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
run_sweep(struct zcs_client *client, struct zcs_bench_args *a, struct results *res)
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
outputs(struct zcs_bench_args *a, struct results *res)
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
run(struct zcs_bench_args *a, const struct zcs_manifest *m, struct zcs_bench_records *recs,
	struct results *res)
{
	struct zcs_client *client;
	int rc;

	if (!a->verify && check_engine_keys(a) != 0)
		return -1;
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
baselines(struct zcs_bench_args *a, struct results *res)
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
describe_layout(const struct zcs_bench_args *a, struct results *res)
{
	const struct zcs_spawn_conf *sc = &a->sc;
	char spin[48] = "", where[32] = "unpinned", refill[64] = "";

	if (!a->spawn) {
		snprintf(res->layout, sizeof(res->layout),
			"attached to zcsignd --file-prefix %s (its layout); bench on CPU %u, "
			"busy-polling%s",
			a->prefix, a->cpu, a->yield ? ", sched_yield() when idle" : "");
		res->x.layout = res->layout;
		return;
	}
	if (sc->signer_spin_us >= 0 && sc->signer_idle == ZCS_POLL_BACKOFF)
		snprintf(spin, sizeof(spin), " (spins %d us, then sleeps)", sc->signer_spin_us);
	if (sc->signer_cpu >= 0)
		snprintf(where, sizeof(where), "on CPU %d", sc->signer_cpu);
	if (sc->nonce == ZCS_NONCE_PRECOMPUTED)
		snprintf(refill, sizeof(refill), ", refill thread (SCHED_IDLE) on CPU %d",
			sc->refill_cpu);
	snprintf(res->layout, sizeof(res->layout),
		"zcsignd --lcores %s (main lcore: control, sleeps; workers poll %s%s); %u signer%s "
		"%s, idle %s%s, nonce %s%s; bench on CPU %u, busy-polling%s",
		sc->lcores, zcs_poll_mode_name(sc->poll), sc->engine_idle ? ", SCHED_IDLE" : "",
		sc->shards, sc->shards > 1 ? "s" : "", where, zcs_poll_mode_name(sc->signer_idle),
		spin, zcs_nonce_mode_name(sc->nonce), refill, a->cpu,
		a->sched_idle > 0 ? " at SCHED_IDLE"
				  : (a->yield ? ", sched_yield() when idle" : ""));
	res->x.layout = res->layout;
	res->x.nonce = zcs_nonce_mode_name(sc->nonce);
}

/* Precomputed mode: let the refill threads fill the pools while nothing else runs. */
static void
settle(const struct zcs_bench_args *a)
{
	double s;

	if (!a->spawn || a->sc.nonce != ZCS_NONCE_PRECOMPUTED)
		return;
	s = 0.2 + 2.0 * a->sc.shards * a->sc.presig * REFILL_US_PER_ENTRY / 1e6;
	fprintf(stderr, PROG ": --spawn: %.1f s for the signers to fill their presignature pools\n",
		s);
	usleep((useconds_t)(s * 1e6));
}

static int
spawn_start(struct zcs_bench_args *a)
{
	struct sigaction sa = {.sa_handler = on_signal};

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	fprintf(stderr,
		PROG ": --spawn: %u shard(s), %u accounts, nonce %s, zcsignd --lcores %s "
		     "--poll %s\n",
		a->sc.shards, a->sc.accounts, zcs_nonce_mode_name(a->sc.nonce), a->sc.lcores,
		zcs_poll_mode_name(a->sc.poll));
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
	struct zcs_bench_args a;
	int rc;

	res.x.capacity = -1;
	rc = zcs_bench_args_parse(argc, argv, &a);
	if (rc != 0) {
		if (rc > 0)
			zcs_bench_usage(stdout);
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
