/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zcsign-bench's core, without EAL: a uniform schedule is exact and does not
 * drift, a Poisson one has the right mean and spread; Zipf ranks follow
 * 1/k^s; the driver, run against a simulated engine on a virtual clock,
 * measures from the intended send time, so a stalled engine (with
 * backpressure) or a stalled bench inflates the latency of every request that
 * should have gone out meanwhile, where a from-submit measure hides it;
 * closed loop, warm-up, duration, error statuses, lost requests; the
 * signature store samples uniformly and its verify catches a bad signature;
 * the JSON report parses (a small validator here) and says what it should.
 * The command line: --spawn's layout on this box and its overrides, the
 * attach defaults, --sweep's timed steps, and the refusals, message by
 * message. The sweep: geometric step rates; the SLO verdict of a step at its
 * edges (p99 exactly at the SLO, no sample, errors, falling behind); the capacity
 * of a synthetic latency curve, found by the search's geometric steps and
 * bisection, noise included; the CSV writer's exact text; ratios over the
 * baselines and the JSON of a sweep with baselines.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include <secp256k1.h>
#include <secp256k1_extrakeys.h>
#include <secp256k1_recovery.h>
#include <secp256k1_schnorrsig.h>

#include <zcsign/histogram.h>
#include <zcsign/status.h>
#include <zcsign/wire.h>

#include <zcsign/poll.h>

#include "json_check.h"
#include "args.h"
#include "drive.h"
#include "load.h"
#include "records.h"
#include "report.h"
#include "sweep.h"

#define US 1000u /* ticks are ns in these tests */
#define MS (1000u * US)

/* ---- schedule ---- */

static void
test_uniform_exact(void **state)
{
	struct zcs_bench_sched s;
	uint64_t k, t;

	(void)state;
	assert_int_equal(zcs_bench_sched_init(&s, ZCS_BENCH_UNIFORM, 1000, 1000000000, 5, 1), 0);
	for (k = 0; k < 100000; k++)
		assert_int_equal(zcs_bench_sched_take(&s), 5 + k * 1000000);

	/* 3/s: a gap of 333333333.33 ns, rounded per request, never accumulated */
	assert_int_equal(zcs_bench_sched_init(&s, ZCS_BENCH_UNIFORM, 3, 1000000000, 0, 1), 0);
	for (k = 0; k < 3000; k++) {
		t = zcs_bench_sched_take(&s);
		assert_int_equal(t, (uint64_t)llround((double)k * 1e9 / 3));
	}
	assert_int_equal(zcs_bench_sched_peek(&s), UINT64_C(1000000000000));

	assert_int_equal(zcs_bench_sched_init(&s, ZCS_BENCH_UNIFORM, 0, 1000000000, 0, 1), -EINVAL);
	assert_int_equal(
		zcs_bench_sched_init(&s, ZCS_BENCH_POISSON, NAN, 1000000000, 0, 1), -EINVAL);
	assert_int_equal(zcs_bench_sched_init(&s, ZCS_BENCH_UNIFORM, 10, 0, 0, 1), -EINVAL);
}

static void
test_poisson_mean(void **state)
{
	const unsigned int n = 200000;
	const double gap = 1e9 / 50000; /* 50k/s: 20 us */
	struct zcs_bench_sched s;
	double sum = 0, sum2 = 0, d, mean, sd;
	uint64_t prev, t, above = 0;
	unsigned int i;

	(void)state;
	assert_int_equal(zcs_bench_sched_init(&s, ZCS_BENCH_POISSON, 50000, 1000000000, 100, 7), 0);
	prev = zcs_bench_sched_take(&s);
	assert_int_equal(prev, 100); /* the first request goes at start */
	for (i = 0; i < n; i++) {
		t = zcs_bench_sched_take(&s);
		assert_true(t >= prev);
		d = (double)(t - prev);
		sum += d;
		sum2 += d * d;
		above += d > gap;
		prev = t;
	}
	mean = sum / n;
	sd = sqrt(sum2 / n - mean * mean);
	/* exponential: mean = sd = gap, P(gap > mean) = 1/e */
	assert_true(fabs(mean / gap - 1) < 0.02);
	assert_true(fabs(sd / gap - 1) < 0.03);
	assert_true(fabs((double)above / n - exp(-1)) < 0.01);
}

/* ---- accounts ---- */

static double
harmonic(uint64_t n, double s)
{
	double h = 0;
	uint64_t k;

	for (k = n; k >= 1; k--)
		h += pow((double)k, -s);
	return h;
}

static void
check_zipf(uint64_t n, double s, unsigned int samples)
{
	struct zcs_bench_accounts a;
	struct zcs_bench_rng r;
	uint64_t *freq = calloc(n + 1, sizeof(*freq));
	double h = harmonic(n, s), sx = 0, sy = 0, sxx = 0, sxy = 0, x, y, slope;
	unsigned int i, k, m = 0;

	assert_non_null(freq);
	assert_int_equal(zcs_bench_accounts_init(&a, 1000, n, s), 0);
	zcs_bench_rng_seed(&r, 42);
	for (i = 0; i < samples; i++) {
		uint64_t rank = zcs_bench_zipf_rank(&a, &r);

		assert_true(rank >= 1 && rank <= n);
		freq[rank]++;
	}
	/* the head, rank by rank: within 3 % of 1 / (k^s H(n, s)) */
	for (k = 1; k <= 5; k++) {
		double expect = (double)samples * pow(k, -s) / h;

		assert_true(fabs((double)freq[k] / expect - 1) < 0.03);
	}
	/* the shape: log frequency against log rank over ranks 1..50 has slope -s */
	for (k = 1; k <= 50; k++) {
		x = log(k);
		y = log((double)freq[k]);
		sx += x;
		sy += y;
		sxx += x * x;
		sxy += x * y;
		m++;
	}
	slope = (m * sxy - sx * sy) / (m * sxx - sx * sx);
	assert_true(fabs(slope + s) < 0.05);
	free(freq);
}

static void
test_zipf_shape(void **state)
{
	(void)state;
	check_zipf(1000, 1.0, 2000000);
	check_zipf(100000, 0.8, 2000000);
	check_zipf(1000, 1.3, 2000000);
}

static void
test_accounts_uniform(void **state)
{
	struct zcs_bench_accounts a;
	struct zcs_bench_rng r;
	uint64_t freq[10] = {0}, acct;
	unsigned int i;

	(void)state;
	assert_int_equal(zcs_bench_accounts_init(&a, 7, 10, 0), 0);
	zcs_bench_rng_seed(&r, 3);
	for (i = 0; i < 1000000; i++) {
		acct = zcs_bench_account(&a, &r);
		assert_true(acct >= 7 && acct < 17);
		freq[acct - 7]++;
	}
	for (i = 0; i < 10; i++)
		assert_true(fabs((double)freq[i] / 100000 - 1) < 0.02);
	assert_int_equal(zcs_bench_accounts_init(&a, 1, 0, 0), -EINVAL);
	assert_int_equal(zcs_bench_accounts_init(&a, 1, 10, -1), -EINVAL);
	assert_int_equal(zcs_bench_accounts_init(&a, UINT64_MAX, 2, 0), -EINVAL);
}

/* ---- a simulated engine on a virtual clock (ticks = ns) ---- */

#define FAKE_POOL 8192

struct fake {
	uint64_t now;
	uint64_t step; /* the cost of one clock read: the driver's pass takes time */
	uint64_t jump_at, jump_by; /* the bench loses the CPU once: the clock leaps */
	int jumped;
	uint64_t service; /* one server, FIFO, this long per request */
	uint64_t stall_at, stall_len; /* the server does nothing in this window */
	unsigned int qcap; /* requests inside the engine at most (ring full: -EBUSY) */
	unsigned int fail_every; /* every n-th request completes EXPIRED */
	int never; /* nothing ever completes */
	uint64_t last_done;
	uint64_t head, tail, submitted;
	struct zcs_request req[FAKE_POOL];
	struct zcs_hist naive; /* done - actual submit: what a from-submit bench would report */
};

static uint64_t
fake_now(void *ctx)
{
	struct fake *f = ctx;

	f->now += f->step;
	if (f->jump_by > 0 && !f->jumped && f->now >= f->jump_at) {
		f->now += f->jump_by;
		f->jumped = 1;
	}
	return f->now;
}

static int
fake_submit(void *ctx, const struct zcs_sign_args *a)
{
	struct fake *f = ctx;
	struct zcs_request *r;
	uint64_t start;

	if (f->tail - f->head >= (f->qcap > 0 ? f->qcap : FAKE_POOL))
		return -EBUSY;
	r = &f->req[f->tail++ % FAKE_POOL];
	memset(r, 0, sizeof(*r));
	r->account = a->account;
	r->cookie = a->cookie;
	memcpy(r->hash, a->hash, 32);
	r->algo = (uint8_t)a->algo;
	r->submit_tsc = f->now;
	start = f->now > f->last_done ? f->now : f->last_done;
	if (f->stall_len > 0 && start < f->stall_at + f->stall_len &&
		start + f->service > f->stall_at)
		start = f->stall_at + f->stall_len;
	r->done_tsc = f->never ? UINT64_MAX : start + f->service;
	f->last_done = r->done_tsc;
	r->signer_ns = f->service;
	f->submitted++;
	r->status =
		f->fail_every > 0 && f->submitted % f->fail_every == 0 ? ZCS_ERR_EXPIRED : ZCS_OK;
	return 0;
}

static unsigned int
fake_poll(void *ctx, struct zcs_request **out, unsigned int n)
{
	struct fake *f = ctx;
	unsigned int k = 0;

	while (k < n && f->head < f->tail && f->req[f->head % FAKE_POOL].done_tsc <= f->now) {
		out[k] = &f->req[f->head++ % FAKE_POOL];
		zcs_hist_record(&f->naive, f->now - out[k]->submit_tsc);
		k++;
	}
	return k;
}

static void
fake_release(void *ctx, struct zcs_request **reqs, unsigned int n)
{
	(void)ctx;
	(void)reqs;
	(void)n;
}

static struct fake *
fake_new(uint64_t service)
{
	struct fake *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->now = 1 * MS;
	f->step = 50;
	f->service = service;
	zcs_hist_init(&f->naive);
	return f;
}

static struct zcs_bench_ops
fake_ops(struct fake *f)
{
	struct zcs_bench_ops ops = {
		.ctx = f,
		.now = fake_now,
		.submit = fake_submit,
		.poll = fake_poll,
		.release = fake_release,
	};

	return ops;
}

static void
open_conf(struct zcs_bench_conf *c, double rate, uint64_t count)
{
	zcs_bench_conf_init(c);
	c->mode = ZCS_BENCH_OPEN;
	c->rate = rate;
	c->count = count;
	c->algo = ZCS_BENCH_ALGO_MIX;
	c->ticks_per_s = 1000000000;
}

static struct zcs_bench_stats st;

static void
test_complete_from_intended(void **state)
{
	struct zcs_bench_conf c;
	struct zcs_request r;

	(void)state;
	zcs_bench_conf_init(&c);
	zcs_bench_stats_init(&st, 0, 1000);
	memset(&r, 0, sizeof(r));
	r.status = ZCS_OK;
	r.cookie = 2000; /* intended */
	r.submit_tsc = 4500; /* sent late */
	r.done_tsc = 4800; /* completed by the worker, polled at 5000 */
	r.signer_ns = 300;
	st.outstanding = 2;
	zcs_bench_complete(&st, &c, &r, 5000);
	assert_int_equal(st.e2e.count, 1);
	assert_int_equal(st.e2e.max, 3000); /* from the intended time, not the send */
	assert_int_equal(st.lag.max, 2500);
	assert_int_equal(st.engine.max, 2700);
	assert_int_equal(st.pickup.max, 200);
	assert_int_equal(st.signer.max, 300);
	r.cookie = 999; /* intended in the warm-up: not measured */
	zcs_bench_complete(&st, &c, &r, 5000);
	assert_int_equal(st.e2e.count, 1);
	assert_int_equal(st.warmup_completed, 1);
	assert_int_equal(st.completed, 1);
	assert_int_equal(st.outstanding, 0);
	assert_int_equal(zcs_bench_latency(10, 5), 0);
}

static void
test_open_steady(void **state)
{
	struct fake *f = fake_new(20 * US);
	struct zcs_bench_ops ops = fake_ops(f);
	struct zcs_bench_conf c;

	(void)state;
	open_conf(&c, 10000, 2000);
	assert_int_equal(zcs_bench_drive(&st, &c, &ops), 0);
	assert_int_equal(st.issued, 2000);
	assert_int_equal(st.completed, 2000);
	assert_int_equal(st.by_status[ZCS_OK], 2000);
	assert_int_equal(st.outstanding, 0);
	assert_int_equal(st.refused_requests, 0);
	/* an idle server: service time plus a few passes of the loop */
	assert_true(st.e2e.min >= 20 * US);
	assert_true(st.e2e.max <= 21 * US);
	assert_true(st.engine.max <= 1 * US);
	free(f);
}

/*
 * The server stalls 10 ms while 10k req/s keep coming and its queue holds 4:
 * the bench is refused for the whole stall. From the intended time, the
 * request due at the start of the stall waits all of it and the top 1 % of
 * 2000 all wait more than 8 ms; measured from the actual submit (what the
 * fake engine sees), the p99 stays near the service time.
 */
static void
test_open_engine_stall(void **state)
{
	struct fake *f = fake_new(20 * US);
	struct zcs_bench_ops ops = fake_ops(f);
	struct zcs_bench_conf c;

	(void)state;
	f->qcap = 4;
	f->stall_at = f->now + 50 * MS;
	f->stall_len = 10 * MS;
	open_conf(&c, 10000, 2000);
	assert_int_equal(zcs_bench_drive(&st, &c, &ops), 0);
	assert_int_equal(st.completed, 2000);
	assert_int_equal(st.outstanding, 0);
	/* the ~100 due in the stall, and the ~25 due while the backlog drains (4 x faster) */
	assert_true(st.refused_requests >= 115 && st.refused_requests <= 135);
	assert_true(st.refusals_busy >= st.refused_requests);
	assert_true(st.e2e.max >= 10 * MS && st.e2e.max <= 10 * MS + 100 * US);
	assert_true(zcs_hist_quantile(&st.e2e, 0.99) > 8 * MS);
	assert_true(st.lag.max > 9 * MS); /* where the time went: waiting to submit */
	assert_true(zcs_hist_quantile(&f->naive, 0.99) < 200 * US);
	free(f);
}

/*
 * The bench itself loses the CPU for 10 ms (the clock leaps): requests due
 * meanwhile go out late, and their lateness counts.
 */
static void
test_open_bench_stall(void **state)
{
	struct fake *f = fake_new(20 * US);
	struct zcs_bench_ops ops = fake_ops(f);
	struct zcs_bench_conf c;

	(void)state;
	f->jump_at = f->now + 50 * MS;
	f->jump_by = 10 * MS;
	open_conf(&c, 10000, 2000);
	c.arrivals = ZCS_BENCH_POISSON;
	assert_int_equal(zcs_bench_drive(&st, &c, &ops), 0);
	assert_int_equal(st.completed, 2000);
	assert_true(st.e2e.max >= 9 * MS && st.e2e.max <= 10 * MS + 100 * US);
	assert_true(zcs_hist_quantile(&st.e2e, 0.99) > 5 * MS);
	assert_true(zcs_hist_quantile(&f->naive, 0.99) < 10 * MS / 4);
	free(f);
}

static void
test_closed_loop(void **state)
{
	struct fake *f = fake_new(20 * US);
	struct zcs_bench_ops ops = fake_ops(f);
	struct zcs_bench_report rep;
	struct zcs_bench_conf c;

	(void)state;
	zcs_bench_conf_init(&c);
	c.mode = ZCS_BENCH_CLOSED;
	c.outstanding = 4;
	c.count = 5000;
	assert_int_equal(zcs_bench_drive(&st, &c, &ops), 0);
	assert_int_equal(st.issued, 5000);
	assert_int_equal(st.completed, 5000);
	/* one server, 4 in flight: 1/service throughput, 4 services of latency */
	zcs_bench_report_fill(&rep, &c, &st);
	assert_true(fabs(rep.achieved_rate / 50000 - 1) < 0.02);
	assert_true(fabs(rep.e2e.p50 / 80 - 1) < 0.02);
	assert_true(isnan(rep.offered_rate));
	assert_true(rep.passed);
	free(f);
}

static void
test_warmup_duration(void **state)
{
	struct fake *f = fake_new(20 * US);
	struct zcs_bench_ops ops = fake_ops(f);
	struct zcs_bench_conf c;

	(void)state;
	open_conf(&c, 10000, 0);
	c.duration_s = 0.1;
	c.warmup_s = 0.02;
	assert_int_equal(zcs_bench_drive(&st, &c, &ops), 0);
	/* uniform: exactly rate x time in each phase */
	assert_int_equal(st.warmup_issued, 200);
	assert_int_equal(st.warmup_completed, 200);
	assert_int_equal(st.issued, 1000);
	assert_int_equal(st.completed, 1000);
	assert_int_equal(st.e2e.count, 1000);
	free(f);
}

static void
test_errors_and_lost(void **state)
{
	struct fake *f = fake_new(5 * US);
	struct zcs_bench_ops ops = fake_ops(f);
	struct zcs_bench_report rep;
	struct zcs_bench_conf c;

	(void)state;
	f->fail_every = 10;
	zcs_bench_conf_init(&c);
	c.outstanding = 2;
	c.count = 1000;
	assert_int_equal(zcs_bench_drive(&st, &c, &ops), 0);
	assert_int_equal(st.by_status[ZCS_ERR_EXPIRED], 100);
	assert_int_equal(st.by_status[ZCS_OK], 900);
	assert_int_equal(st.e2e.count, 900); /* latency of signed requests only */
	zcs_bench_report_fill(&rep, &c, &st);
	/* Failed requests are reported, not lost, and a run with failures is no PASS. */
	assert_false(rep.passed);
	assert_null(rep.aborted);
	f->fail_every = 0;
	assert_int_equal(zcs_bench_drive(&st, &c, &ops), 0);
	zcs_bench_report_fill(&rep, &c, &st);
	assert_true(rep.passed);
	free(f);

	/* an engine that never answers: the run gives up and counts the lost */
	f = fake_new(5 * US);
	ops = fake_ops(f);
	f->never = 1;
	c.stall_s = 0.01;
	assert_int_equal(zcs_bench_drive(&st, &c, &ops), -ETIMEDOUT);
	assert_int_equal(st.outstanding, 2);
	zcs_bench_report_fill(&rep, &c, &st);
	assert_int_equal(rep.lost, 2);
	assert_false(rep.passed);
	assert_non_null(rep.aborted);

	zcs_bench_conf_init(&c);
	c.algo = 9;
	assert_int_equal(zcs_bench_drive(&st, &c, &ops), -EINVAL);
	free(f);
}

/* ---- signature store ---- */

static void
test_records_reservoir(void **state)
{
	struct zcs_bench_records s;
	struct zcs_request r;
	double sum = 0;
	uint64_t i;

	(void)state;
	memset(&r, 0, sizeof(r));
	assert_int_equal(zcs_bench_records_init(&s, 1000, 5), 0);
	for (i = 0; i < 100000; i++) {
		r.account = i;
		zcs_bench_records_add(&s, &r);
	}
	assert_int_equal(s.kept, 1000);
	assert_int_equal(s.seen, 100000);
	assert_true(zcs_bench_records_sampled(&s));
	for (i = 0; i < s.kept; i++)
		sum += (double)s.rec[i].account;
	/* a uniform sample of 0..99999: mean 50000, its standard error ~0.9 % */
	assert_true(fabs(sum / (double)s.kept / 50000 - 1) < 0.05);
	zcs_bench_records_free(&s);
	assert_int_equal(zcs_bench_records_init(&s, 0, 5), -EINVAL);
}

static void
sign_into(const secp256k1_context *ctx, struct zcs_request *r, const uint8_t sk[32])
{
	secp256k1_ecdsa_recoverable_signature rs;
	secp256k1_ecdsa_signature sig;
	secp256k1_keypair kp;
	int recid;

	switch (r->algo) {
	case ZCS_ALGO_ECDSA:
		assert_true(secp256k1_ecdsa_sign(ctx, &sig, r->hash, sk, NULL, NULL));
		assert_true(secp256k1_ecdsa_signature_serialize_compact(ctx, r->sig, &sig));
		r->recid = 0;
		break;
	case ZCS_ALGO_ECDSA_RECOVERABLE:
		assert_true(secp256k1_ecdsa_sign_recoverable(ctx, &rs, r->hash, sk, NULL, NULL));
		assert_true(secp256k1_ecdsa_recoverable_signature_serialize_compact(
			ctx, r->sig, &recid, &rs));
		r->recid = (uint8_t)recid;
		break;
	default:
		assert_true(secp256k1_keypair_create(ctx, &kp, sk));
		assert_true(secp256k1_schnorrsig_sign32(ctx, r->sig, r->hash, &kp, NULL));
		r->recid = 0;
	}
}

static void
test_records_verify(void **state)
{
	secp256k1_context *ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
	struct zcs_manifest_account acct;
	struct zcs_manifest m = {.shards = 1, .count = 1, .accounts = &acct};
	struct zcs_bench_records s;
	secp256k1_xonly_pubkey xo;
	secp256k1_pubkey pk;
	struct zcs_request r;
	struct zcs_bench_rng rng;
	uint8_t sk[32];
	size_t len = 33;
	uint64_t failed;
	unsigned int i;

	(void)state;
	memset(sk, 0x11, sizeof(sk));
	memset(&acct, 0, sizeof(acct));
	acct.account = 7;
	assert_true(secp256k1_ec_pubkey_create(ctx, &pk, sk));
	assert_true(secp256k1_ec_pubkey_serialize(
		ctx, acct.pubkey, &len, &pk, SECP256K1_EC_COMPRESSED));
	assert_true(secp256k1_xonly_pubkey_from_pubkey(ctx, &xo, NULL, &pk));
	assert_true(secp256k1_xonly_pubkey_serialize(ctx, acct.xonly, &xo));

	zcs_bench_rng_seed(&rng, 9);
	assert_int_equal(zcs_bench_records_init(&s, 64, 1), 0);
	memset(&r, 0, sizeof(r));
	r.account = 7;
	for (i = 0; i < 30; i++) {
		r.algo = (uint8_t)(ZCS_ALGO_ECDSA + i % 3);
		zcs_bench_rng_hash(&rng, r.hash);
		sign_into(ctx, &r, sk);
		zcs_bench_records_add(&s, &r);
	}
	assert_int_equal(zcs_bench_records_verify(&s, &failed, &m, NULL), 30);
	assert_int_equal(failed, 0);

	s.rec[4].sig[10] ^= 1; /* a corrupted signature */
	s.rec[5].account = 8; /* an account the manifest does not have */
	s.rec[6].hash[0] ^= 1; /* a signature of another message */
	assert_int_equal(zcs_bench_records_verify(&s, &failed, &m, NULL), 27);
	assert_int_equal(failed, 3);
	zcs_bench_records_free(&s);
	secp256k1_context_destroy(ctx);
}

static char *
report_json(const struct zcs_bench_report *rep)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(zcs_bench_report_json(f, rep), 0);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static void
test_json_report(void **state)
{
	struct fake *f = fake_new(5 * US);
	struct zcs_bench_ops ops = fake_ops(f);
	struct zcs_bench_report rep;
	struct zcs_bench_conf c;
	char *js, *table = NULL;
	size_t tlen = 0;
	FILE *tf;

	(void)state;
	f->fail_every = 100;
	zcs_bench_conf_init(&c);
	c.outstanding = 3;
	c.count = 1000;
	c.algo = ZCS_BENCH_ALGO_MIX;
	c.seed = 77;
	assert_int_equal(zcs_bench_drive(&st, &c, &ops), 0);
	zcs_bench_report_fill(&rep, &c, &st);
	rep.shards = 2;
	rep.verify = 1;
	rep.verify_seen = rep.verify_checked = rep.verified = 990;
	js = report_json(&rep);
	assert_json(js, 32, 0);
	assert_non_null(strstr(js, "\"signer_pool\":null,")); /* not read: not claimed */
	free(js);
	rep.pool_known = 1;
	rep.pool_misses = 3;
	rep.pool_refilled = 40;
	js = report_json(&rep);
	assert_json(js, 32, 0);
	assert_non_null(strstr(js, "\"signer_pool\":{\"misses\":3,\"refilled\":40},"));
	assert_non_null(strstr(js,
		"\"mode\":\"closed\",\"outstanding\":3,\"arrivals\":null,"
		"\"offered_rate\":null,\"algo\":\"mix\""));
	assert_non_null(strstr(js, "\"seed\":77"));
	assert_non_null(strstr(js, "\"issued\":1000,\"completed\":1000,\"signed\":990,\"lost\":0"));
	assert_non_null(strstr(js, "\"refused\":{\"requests\":0,\"ebusy\":0,\"enobufs\":0}"));
	assert_non_null(strstr(js, "\"errors\":{\"expired\":10}"));
	assert_non_null(strstr(js, "\"e2e\":{\"count\":990,"));
	assert_non_null(strstr(js,
		"\"verify\":{\"seen\":990,\"checked\":990,\"sampled\":false,"
		"\"verified\":990,\"failed\":0}"));
	/* 10 of 1000 failed (expired): reported, and the run is no PASS. */
	assert_non_null(strstr(js, "\"aborted\":null,\"passed\":false,"));
	assert_non_null(strstr(js,
		"\"sweep\":null,\"baselines\":null,\"ratios\":null,"
		"\"layout\":null,\"nonce\":null}\n"));
	free(js);

	tf = open_memstream(&table, &tlen);
	assert_non_null(tf);
	zcs_bench_report_table(tf, &rep);
	fclose(tf);
	assert_non_null(strstr(table, "end-to-end"));
	assert_non_null(strstr(table, "expired 10"));
	assert_non_null(
		strstr(table, "3 misses (signed by RFC 6979 instead), 40 presignatures refilled"));
	assert_non_null(strstr(table, "FAIL: 10 of 1000 requests failed"));
	free(table);

	/* nothing measured, open loop, a name that needs escaping: still JSON */
	memset(&st, 0, sizeof(st));
	zcs_bench_stats_init(&st, 0, 0);
	open_conf(&c, 1000, 10);
	zcs_bench_report_fill(&rep, &c, &st);
	rep.algo = "a\"b\\c\n";
	js = report_json(&rep);
	assert_json(js, 32, 0);
	assert_non_null(strstr(js,
		"\"outstanding\":null,\"arrivals\":\"uniform\","
		"\"offered_rate\":1000.000,\"algo\":\"a\\\"b\\\\c\\u000a\""));
	assert_non_null(strstr(js, "\"achieved_rate\":null"));
	assert_non_null(strstr(js, "\"p50\":null"));
	assert_non_null(strstr(js, "\"errors\":{}"));
	assert_non_null(strstr(js, "\"verify\":null"));
	free(js);
	free(f);
}

/* ---- sweep, capacity, CSV, ratios ---- */

static void
test_sweep_rates(void **state)
{
	double r[16];
	unsigned int n;

	(void)state;
	n = zcs_bench_sweep_rates(r, 16, 1000, 2, 16000);
	assert_int_equal(n, 5);
	assert_true(r[0] == 1000 && r[1] == 2000 && r[2] == 4000 && r[3] == 8000 && r[4] == 16000);
	/* the last rate within rounding of `to` is kept; 1.5^k computed afresh */
	n = zcs_bench_sweep_rates(r, 16, 1000, 1.5, 1000 * 1.5 * 1.5 * 1.5);
	assert_int_equal(n, 4);
	assert_true(fabs(r[3] - 3375) < 1e-9);
	assert_int_equal(zcs_bench_sweep_rates(r, 3, 1, 2, 1e9), 3); /* max */
	assert_int_equal(zcs_bench_sweep_rates(r, 16, 5, 2, 5), 1);
	assert_int_equal(zcs_bench_sweep_rates(r, 16, 0, 2, 10), 0);
	assert_int_equal(zcs_bench_sweep_rates(r, 16, 10, 1, 100), 0);
	assert_int_equal(zcs_bench_sweep_rates(r, 16, 10, 2, 5), 0);
	assert_int_equal(zcs_bench_sweep_rates(r, 16, 10, 2, INFINITY), 0);
}

static struct zcs_bench_point
pt(double offered, double p99)
{
	return (struct zcs_bench_point){.offered = offered, .achieved = offered, .p99_us = p99};
}

static void
test_slo_edges(void **state)
{
	struct zcs_bench_point p = pt(1000, 50);

	(void)state;
	assert_true(zcs_bench_point_pass(&p, 50)); /* at the SLO: meets it */
	p.p99_us = nextafter(50, 100);
	assert_false(zcs_bench_point_pass(&p, 50));
	p.p99_us = NAN; /* nothing signed */
	assert_false(zcs_bench_point_pass(&p, 50));
	p = pt(1000, 10);
	p.failures = 1; /* one error status, lost request or abort */
	assert_false(zcs_bench_point_pass(&p, 50));
	p = pt(1000, 10);
	p.achieved = 1000 * ZCS_BENCH_KEEP_UP; /* just kept up */
	assert_true(zcs_bench_point_pass(&p, 50));
	p.achieved = nextafter(1000 * ZCS_BENCH_KEEP_UP, 0); /* fell behind its schedule */
	assert_false(zcs_bench_point_pass(&p, 50));
}

static void
test_capacity(void **state)
{
	struct zcs_bench_point c[6] = {
		pt(1000, 8), pt(2000, 9), pt(4000, 12), pt(8000, 60), pt(16000, 900), pt(3000, 11)};

	(void)state;
	assert_int_equal(zcs_bench_capacity(c, 6, 50), 2); /* 4000: the highest passing */
	assert_int_equal(zcs_bench_capacity(c, 6, 60), 3); /* 60 us p99 meets a 60 us SLO */
	assert_int_equal(zcs_bench_capacity(c, 6, 5), -1); /* none passes */
	assert_int_equal(zcs_bench_capacity(c, 0, 50), -1);
	assert_int_equal(zcs_bench_capacity(c, 6, 1e9), 4); /* all pass: the highest rate */
	/* the order run does not matter: the bisection's steps come last */
	c[2].failures = 1;
	assert_int_equal(zcs_bench_capacity(c, 6, 50), 5);
}

/* A latency curve: 10 us unloaded, 50 us at 32000/s (exactly), saturated from 40000/s. */
static double
curve_p99(double rate)
{
	return rate >= 40000 ? 1e6 : 10 + rate / 800;
}

static unsigned int
search_run(struct zcs_bench_search *s, double noise_at)
{
	struct zcs_bench_point p;
	unsigned int steps = 0;
	double r;

	while ((r = zcs_bench_search_next(s)) > 0) {
		p = pt(r, curve_p99(r));
		if (r == noise_at)
			p.p99_us = 1000; /* one noisy step below the knee */
		if (r >= 40000)
			p.achieved = 39000; /* saturated: cannot achieve the rate */
		zcs_bench_search_add(s, &p);
		steps++;
		assert_true(steps <= ZCS_BENCH_SWEEP_MAX);
	}
	return steps;
}

static void
test_capacity_search(void **state)
{
	static struct zcs_bench_search s;
	double knee, cap;
	int c;

	(void)state;
	knee = 32000;
	assert_true(curve_p99(knee) == 50);
	assert_int_equal(zcs_bench_search_init(&s, 1000, 2, 1e6, 50, 0), 0);
	search_run(&s, 0);
	/* geometric: 1k..16k pass, 32k meets it exactly, 64k and 128k fail, then stop */
	assert_int_equal(s.n, 8);
	c = zcs_bench_search_capacity(&s);
	assert_true(c >= 0 && s.pts[c].offered == 32000);

	/* the knee between two steps: bisection closes in from below, never above */
	assert_int_equal(zcs_bench_search_init(&s, 1000, 3, 1e6, 50, 6), 0);
	search_run(&s, 0);
	c = zcs_bench_search_capacity(&s);
	assert_true(c >= 0);
	cap = s.pts[c].offered;
	assert_true(cap <= knee && cap > 0.95 * knee);
	assert_true(s.refined == 6);

	/* a noisy failure at 2000 does not end the sweep (two in a row do) */
	assert_int_equal(zcs_bench_search_init(&s, 1000, 2, 1e6, 50, 0), 0);
	search_run(&s, 2000);
	c = zcs_bench_search_capacity(&s);
	assert_true(c >= 0 && s.pts[c].offered == 32000);

	/* every rate up to `to` passes: capacity is `to`, nothing to refine */
	assert_int_equal(zcs_bench_search_init(&s, 1000, 2, 8000, 50, 4), 0);
	assert_int_equal(search_run(&s, 0), 4);
	assert_true(s.pts[zcs_bench_search_capacity(&s)].offered == 8000);

	/* an SLO below the unloaded latency: no capacity, and the search still ends */
	assert_int_equal(zcs_bench_search_init(&s, 1000, 2, 1e6, 5, 3), 0);
	assert_int_equal(search_run(&s, 0), 2 + 3);
	assert_int_equal(zcs_bench_search_capacity(&s), -1);

	assert_int_equal(zcs_bench_search_init(&s, 0, 2, 10, 50, 0), -EINVAL);
	assert_int_equal(zcs_bench_search_init(&s, 1, 1, 10, 50, 0), -EINVAL);
	assert_int_equal(zcs_bench_search_init(&s, 1, 2, 10, 0, 0), -EINVAL);
}

static struct zcs_bench_report
csv_rep(void)
{
	struct zcs_bench_report r;

	memset(&r, 0, sizeof(r));
	r.mode = "open";
	r.offered_rate = 20000;
	r.achieved_rate = 19999.5;
	r.issued = 40000;
	r.completed = 40000;
	r.signed_ok = 39998;
	r.by_status[ZCS_ERR_EXPIRED] = 2;
	r.refused_requests = 3;
	r.e2e = (struct zcs_bench_lat){
		.count = 39998, .p50 = 6.25, .p90 = 8, .p99 = 21.125, .p999 = 40, .max = 133.0004};
	r.signer = (struct zcs_bench_lat){.count = 39998, .p50 = 0.5, .p99 = 1.25};
	r.engine = (struct zcs_bench_lat){.count = 39998, .p50 = 5.75, .p99 = 19.875};
	return r;
}

static char *
csv_text(const struct zcs_bench_report *r, unsigned int n, double slo)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	unsigned int i;

	assert_non_null(f);
	zcs_bench_csv_header(f);
	for (i = 0; i < n; i++)
		zcs_bench_csv_row(f, i, &r[i], slo);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static void
test_csv(void **state)
{
	struct zcs_bench_report r[2];
	char *t;

	(void)state;
	r[0] = csv_rep();
	r[1] = csv_rep();
	r[1].mode = "closed";
	r[1].offered_rate = NAN; /* closed loop: no offered rate */
	r[1].completed = r[1].signed_ok = 39998;
	r[1].by_status[ZCS_ERR_EXPIRED] = 0;
	r[1].e2e.p99 = 49.5;
	t = csv_text(r, 2, 50);
	assert_string_equal(t,
		"step,mode,offered_rate,achieved_rate,issued,completed,signed,errors,lost,"
		"refused,e2e_p50_us,e2e_p90_us,e2e_p99_us,e2e_p99_9_us,e2e_max_us,"
		"signer_p50_us,signer_p99_us,engine_p50_us,engine_p99_us,slo_pass\n"
		"0,open,20000.000,19999.500,40000,40000,39998,2,0,3,6.250,8.000,21.125,40.000,"
		"133.000,0.500,1.250,5.750,19.875,0\n"
		"1,closed,,19999.500,40000,39998,39998,0,0,3,6.250,8.000,49.500,40.000,"
		"133.000,0.500,1.250,5.750,19.875,1\n");
	free(t);
	/* no SLO (a single run): the verdict column is empty; no sample: empty fields */
	r[0].e2e.p50 = r[0].e2e.p90 = r[0].e2e.p99 = r[0].e2e.p999 = r[0].e2e.max = NAN;
	t = csv_text(r, 1, 0);
	assert_non_null(strstr(t,
		"\n0,open,20000.000,19999.500,40000,40000,39998,2,0,3,,,,,,"
		"0.500,1.250,5.750,19.875,\n"));
	free(t);
}

static void
test_ratio(void **state)
{
	char b[32];

	(void)state;
	assert_string_equal(zcs_bench_ratio(b, sizeof(b), 21, 20), "1.05x");
	assert_string_equal(zcs_bench_ratio(b, sizeof(b), 6.3, 42), "0.15x");
	assert_string_equal(zcs_bench_ratio(b, sizeof(b), 1234.5, 0.5), "2469.00x");
	assert_string_equal(zcs_bench_ratio(b, sizeof(b), 5, 0), "-");
	assert_string_equal(zcs_bench_ratio(b, sizeof(b), NAN, 2), "-");
	assert_string_equal(zcs_bench_ratio(b, sizeof(b), 2, INFINITY), "-");
	assert_string_equal(zcs_bench_ratio(b, sizeof(b), -1, 2), "-");
	assert_string_equal(zcs_bench_ratio(b, 3, 21, 20), "1."); /* truncated, terminated */
}

static void
test_json_sweep_baselines(void **state)
{
	struct zcs_bench_report steps[2] = {csv_rep(), csv_rep()};
	struct zcs_bench_baseline bl[1] = {
		{.name = "raw_sign_rfc6979", .what = "x", .count = 10, .p50 = 20, .p99 = 30}};
	struct zcs_bench_extra x = {.steps = steps,
		.nsteps = 2,
		.slo_us = 50,
		.capacity = 1,
		.baselines = bl,
		.nbaselines = 1,
		.layout = "cpu 0: all",
		.nonce = "rfc6979"};
	char *buf = NULL, *table = NULL;
	size_t len = 0, tlen = 0;
	FILE *f;

	(void)state;
	steps[1].offered_rate = 40000;
	steps[1].e2e.p99 = 80; /* above the SLO */
	steps[0].completed = steps[0].signed_ok; /* no errors: passes */
	x.capacity = 0;
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(zcs_bench_report_json_ext(f, &steps[0], &x), 0);
	assert_int_equal(fclose(f), 0);
	assert_json(buf, 32, 0);
	assert_non_null(strstr(buf,
		"\"sweep\":{\"slo_us\":50.000,\"capacity\":20000.000,"
		"\"steps\":[{\"mode\":\"open\""));
	assert_non_null(strstr(buf, "\"slo_pass\":true},{\"mode\""));
	assert_non_null(strstr(buf, "\"slo_pass\":false}]}"));
	assert_non_null(strstr(buf,
		"\"baselines\":{\"raw_sign_rfc6979\":{\"count\":10,"
		"\"p50_us\":20.000,\"p99_us\":30.000},\"published_enclave\":"
		"{\"p50_us\":42.000,\"p99_us\":120.000}}"));
	/* e2e 6.25 / 20 and 21.125 / 30; over the published 42 / 120 us */
	assert_non_null(strstr(buf,
		"\"ratios\":{\"raw_sign_rfc6979\":{\"p50\":0.312,"
		"\"p99\":0.704},\"published_enclave\":{\"p50\":0.149,"
		"\"p99\":0.176}}"));
	assert_non_null(strstr(buf, "\"layout\":\"cpu 0: all\",\"nonce\":\"rfc6979\"}\n"));
	free(buf);

	f = open_memstream(&table, &tlen);
	assert_non_null(f);
	zcs_bench_extra_table(f, &steps[0], &x);
	fclose(f);
	assert_non_null(strstr(table, "capacity 20000 req/s"));
	assert_non_null(strstr(table, "0.31x"));
	assert_non_null(strstr(table, "0.15x"));
	assert_non_null(strstr(table, " FAIL\n"));
	free(table);
}

/* ---- the command line ---- */

static char argv_text[512];

/* Parse "zcsign-bench LINE" (LINE split at spaces; fields of a point into argv_text). */
static int
parse_line(struct zcs_bench_args *a, const char *line)
{
	char *argv[48], *save = NULL, *t;
	int argc = 0;

	snprintf(argv_text, sizeof(argv_text), "zcsign-bench %s", line);
	for (t = strtok_r(argv_text, " ", &save); t != NULL && argc < 47;
		t = strtok_r(NULL, " ", &save))
		argv[argc++] = t;
	argv[argc] = NULL;
	return zcs_bench_args_parse(argc, argv, a);
}

/* The refusal of LINE: -1 and exactly msg (newline included) on stderr. */
static void
assert_refused(const char *line, const char *msg)
{
	static struct zcs_bench_args a;
	char got[512];
	FILE *tmp = tmpfile();
	size_t n;
	int saved, rc;

	assert_non_null(tmp);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	assert_true(saved >= 0);
	assert_true(dup2(fileno(tmp), STDERR_FILENO) >= 0);
	rc = parse_line(&a, line);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(tmp);
	n = fread(got, 1, sizeof(got) - 1, tmp);
	got[n] = '\0';
	fclose(tmp);
	assert_int_equal(rc, -1);
	assert_string_equal(got, msg);
}

static void
test_args_spawn_layout(void **state)
{
	static struct zcs_bench_args a;

	(void)state;
	/* One shard: a spinning worker on CPU 1, signer and bench yielding to each other on 0. */
	assert_int_equal(parse_line(&a, "--spawn --verify"), 0);
	assert_true(a.spawn && a.verify);
	assert_null(a.prefix);
	assert_null(a.manifest);
	assert_int_equal(a.conf.count, ZCS_BENCH_DEFAULT_COUNT);
	assert_int_equal(a.sc.shards, 1);
	assert_int_equal(a.sc.accounts, 1000);
	assert_int_equal(a.sc.nonce, ZCS_NONCE_PRECOMPUTED);
	assert_int_equal(a.sc.presig, 65536);
	assert_int_equal(a.sc.poll, ZCS_POLL_SPIN);
	assert_int_equal(a.sc.signer_idle, ZCS_POLL_YIELD);
	assert_int_equal(a.sc.signer_spin_us, -1);
	assert_string_equal(a.sc.lcores, "0@0,1@1");
	assert_int_equal(a.yield, 1);
	assert_int_equal(a.sched_idle, 0);

	/* Workers sharing CPU 1 yield; signers off the bench's CPU back off and keep their spin. */
	assert_int_equal(parse_line(&a, "--spawn --shards 3 --signer-cpu 1 --nonce rfc6979"), 0);
	assert_int_equal(a.sc.poll, ZCS_POLL_YIELD);
	assert_int_equal(a.sc.signer_idle, ZCS_POLL_BACKOFF);
	assert_int_equal(a.sc.signer_spin_us, -1);
	assert_int_equal(a.sc.nonce, ZCS_NONCE_RFC6979);
	assert_int_equal(a.sc.presig, 0);
	assert_string_equal(a.sc.lcores, "0@0,1@1,2@1,3@1");
	assert_int_equal(a.yield, 0);
	assert_int_equal(a.sched_idle, 0);

	/* A backoff signer on the bench's CPU: sleeps at once, the bench at SCHED_IDLE. */
	assert_int_equal(parse_line(&a, "--spawn --signer-idle backoff --accounts 50"), 0);
	assert_int_equal(a.sc.signer_spin_us, 0);
	assert_int_equal(a.sc.accounts, 50);
	assert_int_equal(a.yield, 0);
	assert_int_equal(a.sched_idle, 1);
	assert_int_equal(parse_line(&a, "--spawn --signer-idle backoff --sched-normal"), 0);
	assert_int_equal(a.sched_idle, 0);

	/* What is said stays as said. */
	assert_int_equal(parse_line(&a,
				 "--spawn --poll backoff --signer-idle spin --lcores 0@0,1@0 "
				 "--signer-cpu -1 --presig 128 --first-account 5 --accounts 10"),
		0);
	assert_int_equal(a.sc.poll, ZCS_POLL_BACKOFF);
	assert_int_equal(a.sc.signer_idle, ZCS_POLL_SPIN);
	assert_string_equal(a.sc.lcores, "0@0,1@0");
	assert_int_equal(a.sc.signer_cpu, -1);
	assert_int_equal(a.sc.presig, 128);
	assert_int_equal(a.sc.accounts, 14);
}

static void
test_args_attach(void **state)
{
	static struct zcs_bench_args a;

	(void)state;
	assert_int_equal(parse_line(&a,
				 "--file-prefix p --rate 500 --arrivals poisson --duration 3 "
				 "--verify m.json --algo mix --seed 010"),
		0);
	assert_false(a.spawn);
	assert_string_equal(a.prefix, "p");
	assert_string_equal(a.manifest, "m.json");
	assert_int_equal(a.conf.mode, ZCS_BENCH_OPEN);
	assert_int_equal(a.conf.arrivals, ZCS_BENCH_POISSON);
	assert_int_equal(a.conf.algo, ZCS_BENCH_ALGO_MIX);
	assert_true(a.conf.rate == 500);
	assert_true(a.conf.duration_s == 3);
	assert_int_equal(a.conf.count, 0); /* timed */
	assert_true(a.have_seed);
	assert_int_equal(a.conf.seed, 10); /* decimal, whatever the leading zero */
	assert_int_equal(a.yield, 0);
	assert_int_equal(a.sched_idle, 0);
	assert_int_equal(parse_line(&a, "--file-prefix=q --yield --sched-idle --verify=m"), 0);
	assert_string_equal(a.prefix, "q");
	assert_string_equal(a.manifest, "m");
	assert_int_equal(a.yield, 1);
	assert_int_equal(a.sched_idle, 1);

	/* --sweep: open loop, each step timed (2 s unless told). */
	assert_int_equal(parse_line(&a, "--file-prefix p --sweep --slo-us 25"), 0);
	assert_int_equal(a.sweep, 1);
	assert_int_equal(a.conf.mode, ZCS_BENCH_OPEN);
	assert_true(a.conf.duration_s == 2.0);
	assert_int_equal(a.conf.count, 0);
	assert_true(a.slo_us == 25);

	assert_int_equal(parse_line(&a, "--help --bogus"), 1);
}

static void
test_args_refused(void **state)
{
	(void)state;
	assert_refused("",
		"zcsign-bench: one of --file-prefix P (attach to a running zcsignd) "
		"or --spawn is required\n");
	assert_refused("--file-prefix p --spawn",
		"zcsign-bench: one of --file-prefix P (attach to a running zcsignd) or --spawn "
		"is required\n");
	assert_refused("--bogus", "zcsign-bench: unknown option '--bogus' (try --help)\n");
	assert_refused("--file-prefix", "zcsign-bench: --file-prefix needs a value (try --help)\n");
	assert_refused("extra --spawn", "zcsign-bench: unexpected argument 'extra' (try --help)\n");
	assert_refused("--spawn --count 0",
		"zcsign-bench: --count 0: not an integer in [1, 18446744073709551615]\n");
	assert_refused("--spawn --count 5x",
		"zcsign-bench: --count 5x: not an integer in [1, 18446744073709551615]\n");
	assert_refused("--spawn --count 0x10",
		"zcsign-bench: --count 0x10: not an integer in [1, 18446744073709551615]\n");
	assert_refused("--spawn --count 18446744073709551616",
		"zcsign-bench: --count 18446744073709551616: not an integer in [1, "
		"18446744073709551615]\n");
	assert_refused("--spawn --closed 1048577",
		"zcsign-bench: --closed 1048577: not an integer in [1, 1048576]\n");
	assert_refused(
		"--spawn --shards 9", "zcsign-bench: --shards 9: not an integer in [1, 8]\n");
	assert_refused("--spawn --cpu -1", "zcsign-bench: --cpu -1: not an integer in [0, 1023]\n");
	assert_refused("--spawn --signer-cpu -2",
		"zcsign-bench: --signer-cpu -2: not an integer in [0, 1023]\n");
	assert_refused("--spawn --rate 0", "zcsign-bench: --rate 0: not a number >= 0.001\n");
	assert_refused("--spawn --rate inf", "zcsign-bench: --rate inf: not a number >= 0.001\n");
	assert_refused("--spawn --rate 0x10", "zcsign-bench: --rate 0x10: not a number >= 0.001\n");
	assert_refused("--spawn --warmup -0.5", "zcsign-bench: --warmup -0.5: not a number >= 0\n");
	assert_refused("--spawn --sweep-factor 1.0",
		"zcsign-bench: --sweep-factor 1.0: not a number >= 1.01\n");
	assert_refused(
		"--spawn --poll SPIN", "zcsign-bench: --poll SPIN: not spin, backoff or yield\n");
	assert_refused("--spawn --signer-idle sleep",
		"zcsign-bench: --signer-idle sleep: not spin, backoff or yield\n");
	assert_refused("--spawn --nonce none",
		"zcsign-bench: --nonce none: not precomputed, rfc6979 or hedged\n");
	assert_refused("--spawn --algo rsa",
		"zcsign-bench: --algo rsa: not ecdsa, ecdsa-recoverable, schnorr or mix\n");
	assert_refused("--spawn --arrivals burst",
		"zcsign-bench: --arrivals burst: not uniform or poisson\n");
	assert_refused("--spawn --closed 2 --rate 5",
		"zcsign-bench: --closed, --rate and --sweep exclude each other\n");
	assert_refused("--spawn --count 5 --duration 1",
		"zcsign-bench: --count and --duration exclude each other\n");
	assert_refused("--spawn --sweep --count 5",
		"zcsign-bench: --sweep runs each step for --duration, not --count\n");
	assert_refused("--file-prefix x --verify",
		"zcsign-bench: --verify needs keygen's MANIFEST unless --spawn made it\n");
	assert_refused("--spawn --first-account 0",
		"zcsign-bench: --spawn makes accounts 1..999: --first-account and --accounts must "
		"stay in them\n");
	assert_refused("--file-prefix x --first-account 18446744073709551615 --accounts 2",
		"zcsign-bench: --first-account + --accounts passes 2^64\n");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uniform_exact),
		cmocka_unit_test(test_poisson_mean),
		cmocka_unit_test(test_zipf_shape),
		cmocka_unit_test(test_accounts_uniform),
		cmocka_unit_test(test_complete_from_intended),
		cmocka_unit_test(test_open_steady),
		cmocka_unit_test(test_open_engine_stall),
		cmocka_unit_test(test_open_bench_stall),
		cmocka_unit_test(test_closed_loop),
		cmocka_unit_test(test_warmup_duration),
		cmocka_unit_test(test_errors_and_lost),
		cmocka_unit_test(test_records_reservoir),
		cmocka_unit_test(test_records_verify),
		cmocka_unit_test(test_json_report),
		cmocka_unit_test(test_sweep_rates),
		cmocka_unit_test(test_slo_edges),
		cmocka_unit_test(test_capacity),
		cmocka_unit_test(test_capacity_search),
		cmocka_unit_test(test_csv),
		cmocka_unit_test(test_ratio),
		cmocka_unit_test(test_json_sweep_baselines),
		cmocka_unit_test(test_args_spawn_layout),
		cmocka_unit_test(test_args_attach),
		cmocka_unit_test(test_args_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
