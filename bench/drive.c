/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zcsign-bench's driver loop (see drive.h for what it measures and why).
 *
 * One thread does everything: poll completions, issue what is due, print
 * progress. A pass reads the clock once, twice when completions arrived (they
 * are stamped when the poll returned them, as a gateway would see them).
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include <zcsign/wire.h>

#include "drive.h"

#define NSEC_PER_SEC 1e9

/* The request being issued: kept across passes while it is refused. */
struct pending {
	int have;
	int refused; /* at least once */
	uint64_t intended;
	uint64_t first_refusal;
	struct zcs_sign_args args;
	uint8_t hash[32];
};

struct run {
	const struct zcs_bench_conf *c;
	const struct zcs_bench_ops *ops;
	struct zcs_bench_stats *st;
	struct zcs_bench_sched sched;
	struct zcs_bench_accounts acc;
	struct zcs_bench_rng rng;
	struct pending p;
	int issuing;
	uint64_t t_stop; /* duration runs: no measured request intended at or after it */
	uint64_t stall; /* ticks */
	uint64_t last_activity;
	uint64_t next_progress;
	uint64_t progress_done; /* completions (warm-up included) at the last progress line */
	uint64_t progress_t;
};

void
zcs_bench_conf_init(struct zcs_bench_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->mode = ZCS_BENCH_CLOSED;
	c->outstanding = 1;
	c->arrivals = ZCS_BENCH_UNIFORM;
	c->count = 1000;
	c->first_account = 1;
	c->accounts = 1000;
	c->algo = ZCS_ALGO_ECDSA;
	c->seed = 1;
	c->ticks_per_s = (uint64_t)NSEC_PER_SEC;
	c->stall_s = 10;
}

void
zcs_bench_stats_init(struct zcs_bench_stats *st, uint64_t t_start, uint64_t t_measure)
{
	memset(st, 0, sizeof(*st));
	zcs_hist_init(&st->e2e);
	zcs_hist_init(&st->signer);
	zcs_hist_init(&st->engine);
	zcs_hist_init(&st->lag);
	zcs_hist_init(&st->pickup);
	st->t_start = t_start;
	st->t_measure = t_measure;
	st->t_end = t_measure;
}

static uint64_t
s_to_ticks(const struct zcs_bench_conf *c, double s)
{
	return (uint64_t)(s * (double)c->ticks_per_s + 0.5);
}

void
zcs_bench_complete(struct zcs_bench_stats *st, const struct zcs_bench_conf *c,
	const struct zcs_request *r, uint64_t now)
{
	uint64_t intended = r->cookie, e2e, signer;
	unsigned int status = r->status < ZCS_STATUS_MAX ? r->status : ZCS_STATUS_MAX;

	if (st->outstanding > 0)
		st->outstanding--;
	if (r->status == ZCS_OK && c->records != NULL)
		zcs_bench_records_add(c->records, r);
	if (intended < st->t_measure) {
		st->warmup_completed++;
		if (r->status != ZCS_OK)
			st->warmup_failed++;
		return;
	}
	st->completed++;
	st->by_status[status]++;
	if (now > st->t_end)
		st->t_end = now;
	if (r->status != ZCS_OK)
		return;
	e2e = zcs_bench_latency(intended, now);
	zcs_hist_record(&st->e2e, e2e);
	zcs_hist_record(&st->signer, r->signer_ns);
	signer = (uint64_t)((double)r->signer_ns * (double)c->ticks_per_s / NSEC_PER_SEC);
	zcs_hist_record(&st->engine, e2e > signer ? e2e - signer : 0);
	zcs_hist_record(&st->lag, zcs_bench_latency(intended, r->submit_tsc));
	zcs_hist_record(&st->pickup, zcs_bench_latency(r->done_tsc, now));
}

static int
conf_valid(const struct zcs_bench_conf *c)
{
	struct zcs_bench_accounts a;

	if (c->ticks_per_s == 0 || !(c->warmup_s >= 0) || !(c->stall_s > 0))
		return 0;
	if (c->count == 0 && !(c->duration_s > 0))
		return 0;
	if (c->mode == ZCS_BENCH_CLOSED && c->outstanding == 0)
		return 0;
	if (c->mode == ZCS_BENCH_OPEN && (!(c->rate > 0) || !isfinite(c->rate)))
		return 0;
	if (c->algo != ZCS_BENCH_ALGO_MIX && !zcs_algo_valid(c->algo))
		return 0;
	return zcs_bench_accounts_init(&a, c->first_account, c->accounts, c->zipf) == 0;
}

/* Whether a request intended at t belongs to the run (warm-up or measured). */
static int
may_issue(const struct run *r, uint64_t t)
{
	if (t < r->st->t_measure)
		return 1;
	if (r->c->count > 0)
		return r->st->issued < r->c->count;
	return t < r->t_stop;
}

static void
pending_fill(struct run *r, uint64_t intended)
{
	struct pending *p = &r->p;

	p->have = 1;
	p->refused = 0;
	p->intended = intended;
	zcs_bench_rng_hash(&r->rng, p->hash);
	p->args.account = zcs_bench_account(&r->acc, &r->rng);
	p->args.cookie = intended;
	p->args.deadline_tsc = 0;
	p->args.algo = r->c->algo != ZCS_BENCH_ALGO_MIX
		? r->c->algo
		: ZCS_ALGO_ECDSA + (unsigned int)zcs_bench_rng_below(&r->rng, 3);
	p->args.hash = p->hash;
}

/* Submit the pending request: 0 accepted, 1 refused (retry later), < 0 fatal. */
static int
pending_submit(struct run *r, uint64_t now)
{
	struct zcs_bench_stats *st = r->st;
	struct pending *p = &r->p;
	int measured = p->intended >= st->t_measure;
	int rc;

	rc = r->ops->submit(r->ops->ctx, &p->args);
	if (rc == 0) {
		p->have = 0;
		if (st->outstanding++ == 0)
			r->last_activity = now;
		if (measured)
			st->issued++;
		else
			st->warmup_issued++;
		return 0;
	}
	if (rc != -EBUSY && rc != -ENOBUFS)
		return rc;
	if (rc == -EBUSY)
		st->refusals_busy++;
	else
		st->refusals_nobufs++;
	if (!p->refused) {
		p->refused = 1;
		p->first_refusal = now;
		if (measured)
			st->refused_requests++;
	} else if (now - p->first_refusal > r->stall) {
		/* Refused for as long as a stall: nothing is draining the engine. */
		return -ETIMEDOUT;
	}
	return 1;
}

/*
 * Issue what is due at now, at most a poll burst per pass: a bench far behind
 * its schedule still takes completions between bursts. Returns 0 or a fatal
 * submit error.
 */
static int
issue(struct run *r, uint64_t now)
{
	unsigned int n;
	uint64_t t;
	int rc;

	for (n = 0; n < ZCS_BENCH_POLL_BURST; n++) {
		if (!r->p.have) {
			if (r->c->mode == ZCS_BENCH_OPEN) {
				t = zcs_bench_sched_peek(&r->sched);
				if (t > now)
					return 0;
			} else {
				if (r->st->outstanding >= r->c->outstanding)
					return 0;
				t = now;
			}
			if (!may_issue(r, t)) {
				r->issuing = 0;
				return 0;
			}
			if (r->c->mode == ZCS_BENCH_OPEN)
				zcs_bench_sched_take(&r->sched);
			pending_fill(r, t);
		}
		rc = pending_submit(r, now);
		if (rc != 0)
			return rc > 0 ? 0 : rc;
	}
	return 0;
}

static void
progress(struct run *r, uint64_t now)
{
	const struct zcs_bench_stats *st = r->st;
	double hz = (double)r->c->ticks_per_s;
	uint64_t done = st->completed + st->warmup_completed;
	uint64_t errors = st->completed - st->by_status[ZCS_OK] + st->warmup_failed;
	double dt = (double)(now - r->progress_t) / hz;

	fprintf(r->c->progress,
		"zcsign-bench: %6.1f s %-7s %9.0f req/s  p99 %8.2f us  in flight %" PRIu64
		"  refused %" PRIu64 "  errors %" PRIu64 "\n",
		(double)(now - st->t_start) / hz, now < st->t_measure ? "warm-up" : "measure",
		dt > 0 ? (double)(done - r->progress_done) / dt : 0.0,
		(double)zcs_hist_quantile(&st->e2e, 0.99) * 1e6 / hz, st->outstanding,
		st->refusals_busy + st->refusals_nobufs, errors);
	fflush(r->c->progress);
	r->progress_done = done;
	r->progress_t = now;
	r->next_progress = now + r->c->ticks_per_s;
}

static void
take_completions(struct run *r)
{
	struct zcs_request *out[ZCS_BENCH_POLL_BURST];
	unsigned int n, i;
	uint64_t now;

	n = r->ops->poll(r->ops->ctx, out, ZCS_BENCH_POLL_BURST);
	if (n == 0)
		return;
	now = r->ops->now(r->ops->ctx);
	for (i = 0; i < n; i++)
		zcs_bench_complete(r->st, r->c, out[i], now);
	r->ops->release(r->ops->ctx, out, n);
	r->last_activity = now;
}

static int
run_init(struct run *r, struct zcs_bench_stats *st, const struct zcs_bench_conf *c,
	const struct zcs_bench_ops *ops)
{
	uint64_t t0;

	memset(r, 0, sizeof(*r));
	if (!conf_valid(c))
		return -EINVAL;
	r->c = c;
	r->ops = ops;
	r->st = st;
	zcs_bench_accounts_init(&r->acc, c->first_account, c->accounts, c->zipf);
	zcs_bench_rng_seed(&r->rng, c->seed);
	r->stall = s_to_ticks(c, c->stall_s);
	t0 = ops->now(ops->ctx);
	zcs_bench_stats_init(st, t0, t0 + s_to_ticks(c, c->warmup_s));
	r->t_stop = st->t_measure + s_to_ticks(c, c->duration_s);
	/* A different stream from the requests', so the mode never changes the workload. */
	if (c->mode == ZCS_BENCH_OPEN &&
		zcs_bench_sched_init(&r->sched, c->arrivals, c->rate, c->ticks_per_s, t0,
			c->seed ^ UINT64_C(0x5bd1e9955bd1e995)) != 0)
		return -EINVAL;
	r->issuing = 1;
	r->last_activity = t0;
	r->progress_t = t0;
	r->next_progress = t0 + c->ticks_per_s;
	return 0;
}

int
zcs_bench_drive(
	struct zcs_bench_stats *st, const struct zcs_bench_conf *c, const struct zcs_bench_ops *ops)
{
	struct run r;
	uint64_t now;
	int rc;

	rc = run_init(&r, st, c, ops);
	if (rc != 0)
		return rc;
	for (;;) {
		take_completions(&r);
		now = ops->now(ops->ctx);
		if (r.issuing) {
			rc = issue(&r, now);
			if (rc != 0) {
				/* Stop issuing; what was accepted still completes. */
				st->aborted = rc;
				r.issuing = 0;
				r.p.have = 0;
			}
		}
		if (!r.issuing && st->outstanding == 0)
			break;
		if (st->outstanding > 0 && now - r.last_activity > r.stall) {
			st->aborted = -ETIMEDOUT;
			break;
		}
		if (c->progress != NULL && now >= r.next_progress)
			progress(&r, now);
	}
	return st->aborted;
}
