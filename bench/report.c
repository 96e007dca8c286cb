/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zcsign-bench's report: table and JSON (see report.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include <zcsign/wire.h>

#include "report.h"
#include "sweep.h"

const char *
zcs_bench_algo_name(unsigned int algo)
{
	const char *name = algo == ZCS_BENCH_ALGO_MIX ? "mix" : zcs_algo_name(algo);

	return name != NULL ? name : "invalid";
}

void
zcs_bench_lat_from_hist(struct zcs_bench_lat *l, const struct zcs_hist *h, double ticks_per_s)
{
	struct zcs_hist_summary s;
	double us = 1e6 / ticks_per_s;

	zcs_hist_summarize(&s, h);
	l->count = s.count;
	if (s.count == 0) {
		/* no sample, no percentile: null in JSON, "-" in the table */
		l->mean = l->p50 = l->p90 = l->p99 = l->p999 = l->max = NAN;
		return;
	}
	l->mean = s.mean * us;
	l->p50 = (double)s.p50 * us;
	l->p90 = (double)s.p90 * us;
	l->p99 = (double)s.p99 * us;
	l->p999 = (double)s.p999 * us;
	l->max = (double)s.max * us;
}

static const char *
abort_reason(int aborted)
{
	switch (aborted) {
	case 0:
		return NULL;
	case -ETIMEDOUT:
		return "stall: nothing completed or was accepted for the stall timeout";
	case -ESHUTDOWN:
		return "the engine is stopping";
	case -EINVAL:
		return "submit refused a request as invalid";
	default:
		return "submit failed";
	}
}

void
zcs_bench_report_fill(struct zcs_bench_report *rep, const struct zcs_bench_conf *c,
	const struct zcs_bench_stats *st)
{
	double hz = (double)c->ticks_per_s;

	memset(rep, 0, sizeof(*rep));
	rep->mode = c->mode == ZCS_BENCH_OPEN ? "open" : "closed";
	rep->outstanding = c->mode == ZCS_BENCH_CLOSED ? c->outstanding : 0;
	rep->arrivals = c->mode == ZCS_BENCH_CLOSED ? NULL
		: c->arrivals == ZCS_BENCH_POISSON  ? "poisson"
						    : "uniform";
	rep->offered_rate = c->mode == ZCS_BENCH_OPEN ? c->rate : NAN;
	rep->algo = zcs_bench_algo_name(c->algo);
	rep->first_account = c->first_account;
	rep->accounts = c->accounts;
	rep->zipf = c->zipf;
	rep->warmup_s = c->warmup_s;
	rep->tsc_hz = hz;
	rep->seed = c->seed;
	rep->measured_s = (double)(st->t_end - st->t_measure) / hz;
	rep->achieved_rate = rep->measured_s > 0 ? (double)st->completed / rep->measured_s : NAN;
	rep->issued = st->issued;
	rep->completed = st->completed;
	rep->signed_ok = st->by_status[ZCS_OK];
	memcpy(rep->by_status, st->by_status, sizeof(rep->by_status));
	rep->warmup_completed = st->warmup_completed;
	rep->warmup_failed = st->warmup_failed;
	rep->refusals_busy = st->refusals_busy;
	rep->refusals_nobufs = st->refusals_nobufs;
	rep->refused_requests = st->refused_requests;
	rep->lost = st->outstanding;
	rep->aborted = abort_reason(st->aborted);
	zcs_bench_lat_from_hist(&rep->e2e, &st->e2e, hz);
	zcs_bench_lat_from_hist(&rep->signer, &st->signer, 1e9); /* recorded in ns */
	zcs_bench_lat_from_hist(&rep->engine, &st->engine, hz);
	zcs_bench_lat_from_hist(&rep->lag, &st->lag, hz);
	zcs_bench_lat_from_hist(&rep->pickup, &st->pickup, hz);
	/* A request that failed (any status but ok) fails the run, warm-up included. */
	rep->passed = rep->lost == 0 && rep->aborted == NULL && rep->completed == rep->signed_ok &&
		rep->warmup_failed == 0;
}

/* ---- table ---- */

static void
table_num(FILE *f, double v)
{
	if (isfinite(v))
		fprintf(f, " %9.2f", v);
	else
		fprintf(f, " %9s", "-");
}

static void
table_lat(FILE *f, const char *name, const struct zcs_bench_lat *l, const char *note)
{
	fprintf(f, "  %-14s", name);
	table_num(f, l->p50);
	table_num(f, l->p90);
	table_num(f, l->p99);
	table_num(f, l->p999);
	table_num(f, l->max);
	table_num(f, l->mean);
	fprintf(f, "  %s\n", note);
}

static void
table_errors(FILE *f, const struct zcs_bench_report *rep)
{
	unsigned int i;
	int any = 0;

	fprintf(f, "  %-14s", "errors");
	for (i = 1; i <= ZCS_STATUS_MAX; i++) {
		if (rep->by_status[i] == 0)
			continue;
		fprintf(f, "%s %s %" PRIu64, any ? "," : "", zcs_status_name((int)i),
			rep->by_status[i]);
		any = 1;
	}
	fprintf(f, "%s\n", any ? "" : " none");
	if (rep->warmup_failed > 0)
		fprintf(f, "  %-14s %" PRIu64 " failed in the warm-up\n", "", rep->warmup_failed);
}

void
zcs_bench_report_table(FILE *f, const struct zcs_bench_report *rep)
{
	if (rep->arrivals == NULL)
		fprintf(f, "zcsign-bench: closed loop, %u outstanding", rep->outstanding);
	else
		fprintf(f, "zcsign-bench: open loop, %s arrivals", rep->arrivals);
	fprintf(f, ", algo %s, accounts [%" PRIu64 ", %" PRIu64 ") %s", rep->algo,
		rep->first_account, rep->first_account + rep->accounts,
		rep->zipf > 0 ? "zipf" : "uniform");
	if (rep->zipf > 0)
		fprintf(f, " s=%.2f", rep->zipf);
	if (rep->shards > 0)
		fprintf(f, ", %u shards", rep->shards);
	fprintf(f, "\n");
	fprintf(f, "  %-14s offered ", "rate");
	if (isfinite(rep->offered_rate))
		fprintf(f, "%.0f req/s", rep->offered_rate);
	else
		fprintf(f, "- (closed loop)");
	fprintf(f, ", achieved %.0f req/s over %.3f s (warm-up %.1f s excluded)\n",
		isfinite(rep->achieved_rate) ? rep->achieved_rate : 0.0, rep->measured_s,
		rep->warmup_s);
	fprintf(f,
		"  %-14s issued %" PRIu64 ", completed %" PRIu64 ", signed %" PRIu64
		", lost %" PRIu64 " (warm-up: %" PRIu64 " more)\n",
		"requests", rep->issued, rep->completed, rep->signed_ok, rep->lost,
		rep->warmup_completed);
	fprintf(f, "  %-14s %9s %9s %9s %9s %9s %9s\n", "latency (us)", "p50", "p90", "p99",
		"p99.9", "max", "mean");
	table_lat(f, "end-to-end", &rep->e2e, "intended send -> completion");
	table_lat(f, "signer", &rep->signer, "signer's own service time");
	table_lat(f, "engine share", &rep->engine, "end-to-end minus signer");
	table_lat(f, "bench lag", &rep->lag, "intended -> actual submit");
	table_lat(f, "pickup", &rep->pickup, "completion ring -> bench poll");
	fprintf(f,
		"  %-14s %" PRIu64 " requests refused at least once (ebusy %" PRIu64
		", enobufs %" PRIu64 " submits)\n",
		"backpressure", rep->refused_requests, rep->refusals_busy, rep->refusals_nobufs);
	table_errors(f, rep);
	if (rep->pool_known)
		fprintf(f,
			"  %-14s %" PRIu64 " misses (signed by RFC 6979 instead), %" PRIu64
			" presignatures refilled\n",
			"signer pools", rep->pool_misses, rep->pool_refilled);
	if (rep->verify)
		fprintf(f,
			"  %-14s %" PRIu64 " verified, %" PRIu64 " failed, of %" PRIu64
			" signatures checked (%s %" PRIu64 " signed)\n",
			"verify", rep->verified, rep->verify_failed, rep->verify_checked,
			rep->verify_checked < rep->verify_seen ? "a uniform sample of" : "all",
			rep->verify_seen);
	if (rep->aborted != NULL)
		fprintf(f, "  %-14s %s\n", "aborted", rep->aborted);
	if (rep->passed)
		fprintf(f, "  %-14s PASS\n", "result");
	else if (rep->completed != rep->signed_ok || rep->warmup_failed != 0)
		fprintf(f,
			"  %-14s FAIL: %" PRIu64 " of %" PRIu64 " requests failed (errors above)\n",
			"result", rep->completed - rep->signed_ok + rep->warmup_failed,
			rep->completed + rep->warmup_completed);
	else
		fprintf(f, "  %-14s FAIL\n", "result");
}

/* ---- JSON ---- */

#define JSON_DEPTH 8

/* A streaming writer that places commas itself, so no member can be followed by a stray one. */
struct jw {
	FILE *f;
	unsigned int depth;
	int first[JSON_DEPTH];
};

static void
jw_str(struct jw *w, const char *s)
{
	const unsigned char *p;

	fputc('"', w->f);
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(w->f, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(w->f, "\\u%04x", *p);
		else
			fputc(*p, w->f);
	}
	fputc('"', w->f);
}

static void
jw_key(struct jw *w, const char *key)
{
	if (!w->first[w->depth])
		fputc(',', w->f);
	w->first[w->depth] = 0;
	jw_str(w, key);
	fputc(':', w->f);
}

static void
jw_open(struct jw *w, const char *key)
{
	if (key != NULL)
		jw_key(w, key);
	fputc('{', w->f);
	if (w->depth + 1 < JSON_DEPTH)
		w->depth++;
	w->first[w->depth] = 1;
}

static void
jw_close(struct jw *w)
{
	fputc('}', w->f);
	if (w->depth > 0)
		w->depth--;
}

static void
jw_null(struct jw *w, const char *key)
{
	jw_key(w, key);
	fputs("null", w->f);
}

static void
jw_u64(struct jw *w, const char *key, uint64_t v)
{
	jw_key(w, key);
	fprintf(w->f, "%" PRIu64, v);
}

/* JSON has no NaN or infinity: an undefined number is null. */
static void
jw_num(struct jw *w, const char *key, double v)
{
	jw_key(w, key);
	if (isfinite(v))
		fprintf(w->f, "%.3f", v);
	else
		fputs("null", w->f);
}

static void
jw_strkey(struct jw *w, const char *key, const char *v)
{
	jw_key(w, key);
	if (v != NULL)
		jw_str(w, v);
	else
		fputs("null", w->f);
}

static void
jw_bool(struct jw *w, const char *key, int v)
{
	jw_key(w, key);
	fputs(v ? "true" : "false", w->f);
}

static void
jw_lat(struct jw *w, const char *key, const struct zcs_bench_lat *l)
{
	jw_open(w, key);
	jw_u64(w, "count", l->count);
	jw_num(w, "mean", l->mean);
	jw_num(w, "p50", l->p50);
	jw_num(w, "p90", l->p90);
	jw_num(w, "p99", l->p99);
	jw_num(w, "p99_9", l->p999);
	jw_num(w, "max", l->max);
	jw_close(w);
}

static void
json_run(struct jw *w, const struct zcs_bench_report *rep)
{
	jw_strkey(w, "mode", rep->mode);
	if (rep->arrivals == NULL)
		jw_u64(w, "outstanding", rep->outstanding);
	else
		jw_null(w, "outstanding");
	jw_strkey(w, "arrivals", rep->arrivals);
	jw_num(w, "offered_rate", rep->offered_rate);
	jw_strkey(w, "algo", rep->algo);
	jw_u64(w, "first_account", rep->first_account);
	jw_u64(w, "accounts", rep->accounts);
	jw_num(w, "zipf", rep->zipf);
	jw_u64(w, "shards", rep->shards);
	jw_num(w, "warmup_s", rep->warmup_s);
	jw_num(w, "tsc_hz", rep->tsc_hz);
	jw_u64(w, "seed", rep->seed);
}

static void
json_counts(struct jw *w, const struct zcs_bench_report *rep)
{
	unsigned int i;

	jw_num(w, "measured_s", rep->measured_s);
	jw_num(w, "achieved_rate", rep->achieved_rate);
	jw_u64(w, "issued", rep->issued);
	jw_u64(w, "completed", rep->completed);
	jw_u64(w, "signed", rep->signed_ok);
	jw_u64(w, "lost", rep->lost);
	jw_u64(w, "warmup_completed", rep->warmup_completed);
	jw_u64(w, "warmup_failed", rep->warmup_failed);
	jw_open(w, "refused");
	jw_u64(w, "requests", rep->refused_requests);
	jw_u64(w, "ebusy", rep->refusals_busy);
	jw_u64(w, "enobufs", rep->refusals_nobufs);
	jw_close(w);
	/* every non-OK status that occurred, by its stable snake_case name */
	jw_open(w, "errors");
	for (i = 1; i <= ZCS_STATUS_MAX; i++)
		if (rep->by_status[i] > 0)
			jw_u64(w, zcs_status_name((int)i), rep->by_status[i]);
	jw_close(w);
}

static void
jw_open_arr(struct jw *w, const char *key)
{
	if (key != NULL)
		jw_key(w, key);
	fputc('[', w->f);
	if (w->depth + 1 < JSON_DEPTH)
		w->depth++;
	w->first[w->depth] = 1;
}

static void
jw_close_arr(struct jw *w)
{
	fputc(']', w->f);
	if (w->depth > 0)
		w->depth--;
}

/* An object as an array element. */
static void
jw_elem_open(struct jw *w)
{
	if (!w->first[w->depth])
		fputc(',', w->f);
	w->first[w->depth] = 0;
	jw_open(w, NULL);
}

static void
json_members(struct jw *w, const struct zcs_bench_report *rep)
{
	json_run(w, rep);
	json_counts(w, rep);
	jw_open(w, "latency_us");
	jw_lat(w, "e2e", &rep->e2e);
	jw_lat(w, "signer", &rep->signer);
	jw_lat(w, "engine", &rep->engine);
	jw_lat(w, "lag", &rep->lag);
	jw_lat(w, "pickup", &rep->pickup);
	jw_close(w);
	if (rep->pool_known) {
		jw_open(w, "signer_pool");
		jw_u64(w, "misses", rep->pool_misses);
		jw_u64(w, "refilled", rep->pool_refilled);
		jw_close(w);
	} else {
		jw_null(w, "signer_pool");
	}
	if (rep->verify) {
		jw_open(w, "verify");
		jw_u64(w, "seen", rep->verify_seen);
		jw_u64(w, "checked", rep->verify_checked);
		jw_bool(w, "sampled", rep->verify_checked < rep->verify_seen);
		jw_u64(w, "verified", rep->verified);
		jw_u64(w, "failed", rep->verify_failed);
		jw_close(w);
	} else {
		jw_null(w, "verify");
	}
	jw_strkey(w, "aborted", rep->aborted);
	jw_bool(w, "passed", rep->passed);
}

static void
json_sweep(struct jw *w, const struct zcs_bench_extra *x)
{
	unsigned int i;

	jw_open(w, "sweep");
	jw_num(w, "slo_us", x->slo_us);
	if (x->capacity >= 0)
		jw_num(w, "capacity", x->steps[x->capacity].offered_rate);
	else
		jw_null(w, "capacity");
	jw_open_arr(w, "steps");
	for (i = 0; i < x->nsteps; i++) {
		jw_elem_open(w);
		json_members(w, &x->steps[i]);
		jw_bool(w, "slo_pass", zcs_bench_report_pass(&x->steps[i], x->slo_us));
		jw_close(w);
	}
	jw_close_arr(w);
	jw_close(w);
}

static void
json_baselines(struct jw *w, const struct zcs_bench_report *rep, const struct zcs_bench_extra *x)
{
	const struct zcs_bench_baseline *b;
	unsigned int i;

	jw_open(w, "baselines");
	for (i = 0; i < x->nbaselines; i++) {
		b = &x->baselines[i];
		jw_open(w, b->name);
		jw_u64(w, "count", b->count);
		jw_num(w, "p50_us", b->p50);
		jw_num(w, "p99_us", b->p99);
		jw_close(w);
	}
	jw_open(w, "published_enclave");
	jw_num(w, "p50_us", ZCS_BENCH_PUBLISHED_P50_US);
	jw_num(w, "p99_us", ZCS_BENCH_PUBLISHED_P99_US);
	jw_close(w);
	jw_close(w);
	/* e2e over each floor: how far above it the engine's whole path sits */
	jw_open(w, "ratios");
	for (i = 0; i < x->nbaselines; i++) {
		b = &x->baselines[i];
		jw_open(w, b->name);
		jw_num(w, "p50", b->p50 > 0 ? rep->e2e.p50 / b->p50 : NAN);
		jw_num(w, "p99", b->p99 > 0 ? rep->e2e.p99 / b->p99 : NAN);
		jw_close(w);
	}
	jw_open(w, "published_enclave");
	jw_num(w, "p50", rep->e2e.p50 / ZCS_BENCH_PUBLISHED_P50_US);
	jw_num(w, "p99", rep->e2e.p99 / ZCS_BENCH_PUBLISHED_P99_US);
	jw_close(w);
	jw_close(w);
}

int
zcs_bench_report_json_ext(
	FILE *f, const struct zcs_bench_report *rep, const struct zcs_bench_extra *x)
{
	struct jw w = {.f = f, .depth = 0};

	w.first[0] = 1;
	jw_open(&w, NULL);
	json_members(&w, rep);
	if (x != NULL && x->nsteps > 0)
		json_sweep(&w, x);
	else
		jw_null(&w, "sweep");
	if (x != NULL && x->baselines != NULL) {
		json_baselines(&w, rep, x);
	} else {
		jw_null(&w, "baselines");
		jw_null(&w, "ratios");
	}
	jw_strkey(&w, "layout", x != NULL ? x->layout : NULL);
	jw_strkey(&w, "nonce", x != NULL ? x->nonce : NULL);
	jw_close(&w);
	fputc('\n', f);
	return ferror(f) ? -EIO : 0;
}

int
zcs_bench_report_json(FILE *f, const struct zcs_bench_report *rep)
{
	return zcs_bench_report_json_ext(f, rep, NULL);
}

/* ---- sweep, baselines, CSV ---- */

int
zcs_bench_report_pass(const struct zcs_bench_report *rep, double slo_us)
{
	struct zcs_bench_point p = {
		.offered = isfinite(rep->offered_rate) ? rep->offered_rate : 0,
		.achieved = isfinite(rep->achieved_rate) ? rep->achieved_rate : 0,
		.p99_us = rep->e2e.p99,
		.failures = rep->completed - rep->signed_ok + rep->lost + (rep->aborted != NULL),
	};

	return zcs_bench_point_pass(&p, slo_us);
}

const char *
zcs_bench_ratio(char *buf, size_t len, double num, double den)
{
	if (!isfinite(num) || !isfinite(den) || !(num > 0) || !(den > 0))
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.2fx", num / den);
	return buf;
}

void
zcs_bench_step_row(FILE *f, const struct zcs_bench_report *rep, double slo_us, int header)
{
	if (header)
		fprintf(f, "  %10s %10s %9s %9s %9s %9s %9s %8s %s\n", "offered/s", "achieved/s",
			"p50 us", "p90 us", "p99 us", "p99.9 us", "max us", "errors", "slo");
	fprintf(f, "  %10.0f %10.0f", isfinite(rep->offered_rate) ? rep->offered_rate : 0.0,
		isfinite(rep->achieved_rate) ? rep->achieved_rate : 0.0);
	table_num(f, rep->e2e.p50);
	table_num(f, rep->e2e.p90);
	table_num(f, rep->e2e.p99);
	table_num(f, rep->e2e.p999);
	table_num(f, rep->e2e.max);
	fprintf(f, " %8" PRIu64 " %s\n", rep->completed - rep->signed_ok + rep->lost,
		zcs_bench_report_pass(rep, slo_us) ? "pass" : "FAIL");
}

void
zcs_bench_extra_table(FILE *f, const struct zcs_bench_report *rep, const struct zcs_bench_extra *x)
{
	const struct zcs_bench_baseline *b;
	char r50[32], r99[32];
	unsigned int i;

	if (x->layout != NULL)
		fprintf(f, "  %-14s %s\n", "layout", x->layout);
	if (x->nsteps > 0) {
		fprintf(f,
			"sweep: SLO end-to-end p99 <= %.1f us, >= %.0f %% of offered achieved, "
			"no errors\n",
			x->slo_us, 100 * ZCS_BENCH_KEEP_UP);
		for (i = 0; i < x->nsteps; i++)
			zcs_bench_step_row(f, &x->steps[i], x->slo_us, i == 0);
		if (x->capacity >= 0)
			fprintf(f,
				"  capacity %.0f req/s (p50 %.2f us, p99 %.2f us at that rate)\n",
				x->steps[x->capacity].offered_rate, x->steps[x->capacity].e2e.p50,
				x->steps[x->capacity].e2e.p99);
		else
			fprintf(f, "  capacity: no step met the SLO\n");
	}
	if (x->baselines == NULL)
		return;
	fprintf(f, "baselines (same run)          %9s %9s   e2e p50 / p99 over them\n", "p50 us",
		"p99 us");
	for (i = 0; i < x->nbaselines; i++) {
		b = &x->baselines[i];
		fprintf(f, "  %-28s %9.3f %9.3f   %8s %8s  %s\n", b->name, b->p50, b->p99,
			zcs_bench_ratio(r50, sizeof(r50), rep->e2e.p50, b->p50),
			zcs_bench_ratio(r99, sizeof(r99), rep->e2e.p99, b->p99), b->what);
	}
	fprintf(f, "  %-28s %9.3f %9.3f   %8s %8s  %s\n", "published_enclave",
		ZCS_BENCH_PUBLISHED_P50_US, ZCS_BENCH_PUBLISHED_P99_US,
		zcs_bench_ratio(r50, sizeof(r50), rep->e2e.p50, ZCS_BENCH_PUBLISHED_P50_US),
		zcs_bench_ratio(r99, sizeof(r99), rep->e2e.p99, ZCS_BENCH_PUBLISHED_P99_US),
		"enclave over vsock, published (below 1x: zcsign is faster)");
}

void
zcs_bench_put_num(FILE *f, char sep, double v, const char *missing)
{
	if (isfinite(v))
		fprintf(f, "%c%.3f", sep, v);
	else
		fprintf(f, "%c%s", sep, missing);
}

static void
csv_num(FILE *f, double v)
{
	zcs_bench_put_num(f, ',', v, "");
}

void
zcs_bench_csv_header(FILE *f)
{
	fputs("step,mode,offered_rate,achieved_rate,issued,completed,signed,errors,lost,"
	      "refused,e2e_p50_us,e2e_p90_us,e2e_p99_us,e2e_p99_9_us,e2e_max_us,"
	      "signer_p50_us,signer_p99_us,engine_p50_us,engine_p99_us,slo_pass\n",
		f);
}

void
zcs_bench_csv_row(FILE *f, unsigned int step, const struct zcs_bench_report *rep, double slo_us)
{
	fprintf(f, "%u,%s", step, rep->mode);
	csv_num(f, rep->offered_rate);
	csv_num(f, rep->achieved_rate);
	fprintf(f, ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64,
		rep->issued, rep->completed, rep->signed_ok, rep->completed - rep->signed_ok,
		rep->lost, rep->refused_requests);
	csv_num(f, rep->e2e.p50);
	csv_num(f, rep->e2e.p90);
	csv_num(f, rep->e2e.p99);
	csv_num(f, rep->e2e.p999);
	csv_num(f, rep->e2e.max);
	csv_num(f, rep->signer.p50);
	csv_num(f, rep->signer.p99);
	csv_num(f, rep->engine.p50);
	csv_num(f, rep->engine.p99);
	if (slo_us > 0)
		fprintf(f, ",%d\n", zcs_bench_report_pass(rep, slo_us));
	else
		fputs(",\n", f);
}
