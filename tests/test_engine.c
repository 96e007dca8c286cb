/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The engine end to end, with real processes: zcsign-keygen's keys, one
 * zcsign-enclave per shard on a unix socket (--idle backoff), zcsignd with
 * hugepages, and clients as DPDK secondary processes: this test process
 * itself, zcsign-cli, and a copy of this program (the drain client). Every
 * signature is verified with libsecp256k1 against keygen's manifest.
 *
 * The group's engine: 4 shards, 1000 accounts, on this 2-CPU box
 *
 *   zcsignd --file-prefix zcs_e2e_<pid> --no-pci -m 256 --lcores 0@0,1@1,2@0,3@1,4@0
 *           -- --config FILE --poll backoff
 *
 *   lcore 0 (main, control only: sleeps)  CPU 0
 *   lcore 1 shard 0 worker                CPU 1
 *   lcore 2 shard 1 worker                CPU 0
 *   lcore 3 shard 2 worker                CPU 1
 *   lcore 4 shard 3 worker                CPU 0
 *
 * Two workers share each CPU with the signers and the clients: backoff poll
 * (sleeps when idle) and --idle backoff signers. This process attaches as a
 * secondary in the group setup with its one lcore floating over both CPUs
 * (one EAL per process, so the scenarios needing another engine, the
 * measurement mismatch and SIGTERM drain, start their own zcsignd, driven
 * through zcsign-cli or the drain client).
 *
 * [engine] ring_size 1024 and inflight_max 128 keep the backpressure
 * scenario's numbers small and exact (128 in flight + the ring's 1023); the
 * reconnect backoff is capped at 100 ms so a restarted signer is found fast.
 *
 * Counts are asserted exactly (completions, statuses, counter deltas), never
 * timings. Every wait has a deadline: a hung engine fails a test, it does not
 * hang the suite. Every process started here must exit 0 (or by the signal we
 * sent), so a sanitizer report in any of them fails the run.
 */
#define _GNU_SOURCE /* sched_getaffinity (engine_fixture.h) */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ring.h>

#include <zcsign/client.h>
#include <zcsign/shard.h>
#include <zcsign/status.h>

#include "clock.h"
#include "engine_fixture.h"
#include "hex.h"
#include "secp_util.h"
#include "shards.h"

#define SHARDS 4
#define ACCOUNTS 1000
#define RING_SIZE 1024
#define INFLIGHT_MAX 128
#define ENGINE_INI                                                                                 \
	"ring_size = 1024\ninflight_max = 128\nreconnect_min_ms = 10\nreconnect_max_ms = 100\n"

#define BULK_N 100000
#define BULK_WINDOW 2048
#define KILL_N 20000
#define KILL_AT 5000
#define KILL_WINDOW 1000
#define KILL_SHARD 1
#define BP_SHARD 2
#define POLL_BURST 64

/* No completion at all for this long: the engine is wedged (generous: ASan, 2 CPUs). */
#define STALL_MS 15000
/* A shard finds its restarted signer within this (reconnect backoff is <= 100 ms). */
#define RECOVER_MS 20000
#define CLI_MS 30000

/* The drain client: this program run as "test_engine --drain-client PREFIX MANIFEST". */
#define DRAIN_CLIENT_ARG "--drain-client"
/* A client killed with requests in flight and completions unpolled. */
#define DEAD_CLIENT_ARG "--dead-client"
#define DEAD_CLIENT_N 200
/* A client whose engine is killed: requests held by a stopped signer, and after. */
#define DOWN_CLIENT_ARG "--down-client"
#define DOWN_HELD 100 /* on shard 0, whose signer is stopped */
#define DOWN_OK 20 /* on shard 1, completed before the kill */
#define DRAIN_READY 4000 /* accepted before it says "ready" */
#define DRAIN_WINDOW 1024
#define DRAIN_CLIENT_MS 60000

struct cli_result {
	int code;
	char out[16384];
	char err[4096];
};

/* Requests of one scenario: cookie = base + index; index -> account, algo, hash. */
struct flow {
	uint64_t base;
	uint64_t n;
	uint64_t window; /* most outstanding at once */
	int shard; /* only accounts of this shard; -1: all */
	const struct zcs_manifest_account **accts; /* the accounts it draws from */
	size_t naccts;
	uint64_t submitted; /* accepted: indices [0, submitted) */
	uint64_t completed;
	uint64_t refused; /* -EBUSY / -ENOBUFS, retried */
	uint8_t *status; /* per index, once completed */
	uint8_t *seen;
	uint64_t *last; /* per account: index + 1 of its last completion (order check) */
	uint64_t by_status[ZCS_STATUS_MAX];
};

/* Counters before a scenario, to assert exact deltas after it. */
struct snap {
	uint64_t signed_ok[SHARDS], expired[SHARDS], failed[SHARDS], sent[SHARDS];
	uint64_t connects[SHARDS], disconnects[SHARDS];
	uint64_t by_status[SHARDS][ZCS_STATUS_MAX];
	uint64_t submitted, refused, completed;
};

struct env {
	struct engine_fixture fx; /* the group's engine */
	struct engine_fixture aux; /* a scenario's own engine, stopped by the teardowns */
	struct engine_client ec; /* this process as the group engine's secondary */
	uint64_t next_cookie; /* unique across scenarios: a stray completion is caught */
	struct flow flow;
	pid_t helper;
	char cli_out[PATH_MAX];
	char cli_err[PATH_MAX];
	struct cli_result r;
};

static struct env the_env = {.fx.pid = -1, .aux.pid = -1, .helper = -1};

/* ---- small helpers ---- */

static void
nap_us(long us)
{
	struct timespec ts = {.tv_sec = 0, .tv_nsec = us * 1000L};

	nanosleep(&ts, NULL);
}

static uint64_t
mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static uint64_t
ld(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static const struct zcs_client_slot *
my_slot(const struct env *e)
{
	return &e->ec.sh->clients[zcs_client_slot(e->ec.cl)];
}

static void
snap_take(const struct env *e, struct snap *s)
{
	const struct zcs_client_slot *cs = my_slot(e);
	unsigned int i, k;

	for (i = 0; i < SHARDS; i++) {
		const struct zcs_shard_state *st = &e->ec.sh->shards[i];

		s->signed_ok[i] = ld(&st->signed_ok);
		s->expired[i] = ld(&st->expired);
		s->failed[i] = ld(&st->failed);
		s->sent[i] = ld(&st->sent);
		s->connects[i] = ld(&st->connects);
		s->disconnects[i] = ld(&st->disconnects);
		for (k = 0; k < ZCS_STATUS_MAX; k++)
			s->by_status[i][k] = ld(&st->by_status[k]);
	}
	s->submitted = ld(&cs->submitted);
	s->refused = ld(&cs->refused);
	s->completed = ld(&cs->completed);
}

static bool
all_zero(const uint8_t *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i] != 0)
			return false;
	return true;
}

static unsigned int
shard_state(const struct env *e, unsigned int i)
{
	return __atomic_load_n(&e->ec.sh->shards[i].state, __ATOMIC_ACQUIRE);
}

/* One request's completion (any other is a stray: fails), copied out; bounded. */
static void
await_one(struct env *e, uint64_t cookie, struct zcs_request *out)
{
	uint64_t deadline = proc_now_ns() + (uint64_t)STALL_MS * 1000000u;
	struct zcs_request *r;

	while (zcs_poll(e->ec.cl, &r, 1) == 0) {
		if (proc_now_ns() > deadline)
			fail_msg("no completion of cookie %" PRIu64 " within %d ms", cookie,
				STALL_MS);
		nap_us(50);
	}
	*out = *r;
	zcs_release(e->ec.cl, &r, 1);
	assert_int_equal(out->cookie, cookie);
}

static void
hash_of(uint64_t cookie, uint8_t hash[32])
{
	unsigned int k;

	for (k = 0; k < 4; k++) {
		uint64_t v = mix64(cookie * 4 + k);

		memcpy(hash + 8 * k, &v, 8);
	}
}

/* Sign one hash outside any flow and wait for it; returns its completion. */
static void
sign_one(struct env *e, uint64_t account, unsigned int algo, struct zcs_request *out)
{
	uint8_t hash[32];
	struct zcs_sign_args a = {.account = account, .algo = algo, .hash = hash};

	a.cookie = e->next_cookie++;
	hash_of(a.cookie, hash);
	assert_int_equal(zcs_submit(e->ec.cl, &a), 0);
	await_one(e, a.cookie, out);
	assert_int_equal(out->account, account);
	assert_memory_equal(out->hash, hash, 32);
}

static void
assert_verifies(const struct env *e, const struct zcs_request *r)
{
	const struct zcs_manifest_account *acct = zcs_manifest_find(&e->fx.m, r->account);
	unsigned int recid = r->algo == ZCS_ALGO_ECDSA_RECOVERABLE ? r->recid : 0;

	assert_non_null(acct);
	assert_int_equal(r->status, ZCS_OK);
	assert_int_equal(zcs_verify(e->fx.ctx, r->algo, r->hash, r->sig, recid, acct), 0);
}

/* ---- flows: many requests, pipelined ---- */

static void
flow_free(struct flow *f)
{
	free(f->accts);
	free(f->status);
	free(f->seen);
	free(f->last);
	memset(f, 0, sizeof(*f));
}

static void
flow_init(struct env *e, struct flow *f, uint64_t n, uint64_t window, int shard)
{
	size_t k;

	flow_free(f);
	f->base = e->next_cookie;
	e->next_cookie += n;
	f->n = n;
	f->window = window;
	f->shard = shard;
	f->accts = calloc(e->fx.m.count, sizeof(*f->accts));
	f->status = calloc(n, 1);
	f->seen = calloc(n, 1);
	f->last = calloc(e->fx.m.count, sizeof(*f->last));
	assert_non_null(f->accts);
	assert_non_null(f->status);
	assert_non_null(f->seen);
	assert_non_null(f->last);
	for (k = 0; k < e->fx.m.count; k++)
		if (shard < 0 || e->fx.m.accounts[k].shard == (uint32_t)shard)
			f->accts[f->naccts++] = &e->fx.m.accounts[k];
	assert_true(f->naccts > 0);
}

/*
 * Request i: a pseudo-random account (so accounts interleave on every shard),
 * the three algorithms in turn, and a hash from the cookie; the first ones
 * sign the edge-case hashes (0, n, n +- 1, ...) with every algorithm.
 */
static size_t
flow_req(const struct flow *f, uint64_t i, unsigned int *algo, uint8_t hash[32])
{
	*algo = ZCS_ALGO_ECDSA + (unsigned int)(i % 3);
	if (i < 3 * SECP_EDGE_HASHES)
		secp_edge_hash((unsigned int)(i / 3), hash);
	else
		hash_of(f->base + i, hash);
	return (size_t)(mix64(f->base + i) % f->naccts);
}

/* Submit request f->submitted: 0, or the refusal (-EBUSY, -ENOBUFS), counted. */
static int
flow_submit(struct env *e, struct flow *f)
{
	struct zcs_sign_args a;
	unsigned int algo;
	uint8_t hash[32];
	size_t ai;
	int rc;

	ai = flow_req(f, f->submitted, &algo, hash);
	a.account = f->accts[ai]->account;
	a.cookie = f->base + f->submitted;
	a.deadline_tsc = 0;
	a.algo = algo;
	a.hash = hash;
	rc = zcs_submit(e->ec.cl, &a);
	if (rc == -EBUSY || rc == -ENOBUFS) {
		f->refused++;
		return rc;
	}
	assert_int_equal(rc, 0);
	f->submitted++;
	return 0;
}

/*
 * One completion of the flow: exactly once, the request it was (account,
 * shard, algorithm, hash), after every earlier request of its account, and
 * signed with a signature that verifies, or failed with nothing in sig.
 */
static void
flow_complete(const struct env *e, struct flow *f, const struct zcs_request *r)
{
	uint64_t i = r->cookie - f->base;
	unsigned int algo;
	uint8_t hash[32];
	size_t ai;

	if (r->cookie < f->base || i >= f->submitted)
		fail_msg("completion of cookie %" PRIu64 ", not a request in flight", r->cookie);
	if (f->seen[i])
		fail_msg("request %" PRIu64 " completed twice", i);
	f->seen[i] = 1;
	ai = flow_req(f, i, &algo, hash);
	assert_int_equal(r->account, f->accts[ai]->account);
	assert_int_equal(r->shard, f->accts[ai]->shard);
	assert_int_equal(r->op, ZCS_OP_SIGN);
	assert_int_equal(r->algo, algo);
	assert_memory_equal(r->hash, hash, 32);
	/* Per-account order: submitted in index order, so completed in index order. */
	if (f->last[ai] > i)
		fail_msg("account %" PRIu64 ": request %" PRIu64 " completed after %" PRIu64,
			r->account, i, f->last[ai] - 1);
	f->last[ai] = i + 1;
	assert_true(r->status < ZCS_STATUS_MAX);
	f->status[i] = (uint8_t)r->status;
	f->by_status[r->status]++;
	f->completed++;
	if (r->status == ZCS_OK)
		assert_verifies(e, r);
	else
		assert_true(all_zero(r->sig, sizeof(r->sig)));
}

/* Poll one burst of completions into the flow; returns how many. */
static unsigned int
flow_poll(struct env *e, struct flow *f)
{
	struct zcs_request *reqs[POLL_BURST];
	unsigned int n, k;

	n = zcs_poll(e->ec.cl, reqs, POLL_BURST);
	for (k = 0; k < n; k++)
		flow_complete(e, f, reqs[k]);
	zcs_release(e->ec.cl, reqs, n);
	return n;
}

/*
 * Keep up to f->window requests outstanding until until have been accepted
 * (refusals are retried after polling); with drain, also until every accepted
 * one has completed. Fails when nothing moves for STALL_MS.
 */
static void
flow_pump(struct env *e, struct flow *f, uint64_t until, bool drain)
{
	uint64_t last = proc_now_ns();
	bool moved;

	while (f->submitted < until || (drain && f->completed < f->submitted)) {
		moved = false;
		while (f->submitted < until && f->submitted - f->completed < f->window &&
			flow_submit(e, f) == 0)
			moved = true;
		if (flow_poll(e, f) != 0)
			moved = true;
		if (moved) {
			last = proc_now_ns();
			continue;
		}
		if (proc_now_ns() - last > (uint64_t)STALL_MS * 1000000u)
			fail_msg("no progress for %d ms: %" PRIu64 " accepted, %" PRIu64
				 " completed",
				STALL_MS, f->submitted, f->completed);
		nap_us(50);
	}
}

/* Requests of the flow, [from, to), that went to shard. */
static uint64_t
flow_count_shard(const struct flow *f, uint64_t from, uint64_t to, unsigned int shard)
{
	unsigned int algo;
	uint8_t hash[32];
	uint64_t i, n = 0;

	for (i = from; i < to; i++)
		n += f->accts[flow_req(f, i, &algo, hash)]->shard == shard;
	return n;
}

/* ---- zcsign-cli ---- */

static void
run_cli(struct env *e, struct cli_result *r, ...)
{
	char prog[PATH_MAX];
	char *argv[32];
	va_list ap;
	int n;

	va_start(ap, r);
	n = proc_build_argv(argv, 32, prog, sizeof(prog), "cli/zcsign-cli", ap);
	va_end(ap);
	assert_true(n > 0);
	r->code = proc_run_tied(argv, e->cli_out, e->cli_err, CLI_MS);
	assert_true(proc_read_file(e->cli_out, r->out, sizeof(r->out)) >= 0);
	assert_true(proc_read_file(e->cli_err, r->err, sizeof(r->err)) >= 0);
	if (proc_sanitizer_report(r->err))
		fail_msg("zcsign-cli: sanitizer report:\n%s", r->err);
}

static void
assert_cli_ok(const struct cli_result *r)
{
	size_t len = strlen(r->out);

	if (r->code != 0 || r->err[0] != '\0')
		fail_msg("zcsign-cli: exit %d, stderr '%s'", r->code, r->err);
	assert_true(len > 2);
	assert_int_equal(r->out[0], '{');
	assert_string_equal(r->out + len - 2, "}\n");
	assert_ptr_equal(strchr(r->out, '\n'), r->out + len - 1);
}

/* Exit 1, nothing on stdout, one stderr line naming each needle. */
static void
assert_cli_failed(const struct cli_result *r, const char *needle1, const char *needle2)
{
	if (r->code != 1 || r->out[0] != '\0' || strstr(r->err, needle1) == NULL ||
		(needle2 != NULL && strstr(r->err, needle2) == NULL))
		fail_msg("expected exit 1 naming '%s'/'%s'; got exit %d, stdout '%s', stderr '%s'",
			needle1, needle2 != NULL ? needle2 : "", r->code, r->out, r->err);
	assert_true(strncmp(r->err, "zcsign-cli: ", 12) == 0);
	assert_string_equal(strchr(r->err, '\n'), "\n");
}

/* Value after "key": in text (the CLI prints no blanks); NULL if absent. */
static const char *
json_at(const char *text, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(text, pat);
	return p == NULL ? NULL : p + strlen(pat);
}

static uint64_t
json_u64(const char *text, const char *key)
{
	const char *p = json_at(text, key);
	char *end;
	uint64_t v;

	if (p == NULL || *p < '0' || *p > '9')
		fail_msg("no number \"%s\" in %.300s", key, text);
	v = strtoull(p, &end, 10);
	if (*end != ',' && *end != '}')
		fail_msg("bad number \"%s\" in %.300s", key, text);
	return v;
}

/* "key":"<text>" into out (the first key of that name with a string value); fails if none. */
static void
json_str(const char *text, const char *key, char *out, size_t len)
{
	char pat[64];
	const char *p, *end = NULL;

	snprintf(pat, sizeof(pat), "\"%s\":\"", key);
	p = strstr(text, pat);
	if (p != NULL) {
		p += strlen(pat);
		end = strchr(p, '"');
	}
	if (end == NULL || (size_t)(end - p) >= len)
		fail_msg("no string \"%s\" in %.300s", key, text);
	memcpy(out, p, (size_t)(end - p));
	out[end - p] = '\0';
}

/* Shard i's object in status output (its fields come before the next shard's). */
static const char *
json_shard(const char *text, unsigned int i)
{
	char pat[32];
	const char *p;

	snprintf(pat, sizeof(pat), "{\"shard\":%u,", i);
	p = strstr(text, pat);
	if (p == NULL)
		fail_msg("no shard %u in %.300s", i, text);
	return p;
}

static void
hex_of(const uint8_t *b, size_t n, char *out)
{
	zcs_hex_encode(b, n, out);
}

/* ---- setup and teardown ---- */

static int
group_setup(void **state)
{
	struct env *e = &the_env;
	struct engine_fixture_conf c = {
		.tag = "e2e",
		.prefix = NULL,
		.shards = SHARDS,
		.accounts = ACCOUNTS,
		.lcores = "0@0,1@1,2@0,3@1,4@0",
		.mem_mb = 256,
		.engine_ini = ENGINE_INI,
	};
	char prefix[64];

	*state = e;
	snprintf(prefix, sizeof(prefix), "zcs_e2e_%d", (int)getpid());
	c.prefix = prefix;
	e->next_cookie = 1;
	if (engine_fixture_start(&e->fx, &c) != 0)
		return -1;
	if (proc_path(e->cli_out, sizeof(e->cli_out), e->fx.dir, "cli.out") != 0 ||
		proc_path(e->cli_err, sizeof(e->cli_err), e->fx.dir, "cli.err") != 0)
		goto fail;
	if (engine_client_start(&e->ec, "test_engine", prefix) != 0 ||
		zcs_shard_count(e->ec.cl) != SHARDS) {
		fprintf(stderr, "cannot attach to the engine\n");
		goto fail;
	}
	return 0;
fail:
	engine_client_stop(&e->ec);
	engine_fixture_stop(&e->fx, NULL);
	return -1;
}

static int
group_teardown(void **state)
{
	struct env *e = *state;
	struct engine_totals t;
	int rc;

	flow_free(&e->flow);
	engine_client_stop(&e->ec);
	engine_fixture_stop(&e->aux, NULL);
	/* Drains, exits 0, nothing in flight, every signer exits 0. */
	rc = engine_fixture_stop(&e->fx, &t);
	if (rc == 0)
		fprintf(stderr,
			"group engine: submitted=%" PRIu64 " signed=%" PRIu64 " expired=%" PRIu64
			" failed=%" PRIu64 "\n",
			t.submitted, t.signed_ok, t.expired, t.failed);
	return rc;
}

/* Completions nobody waits for any more (a failed test's), back to the pool. */
static void
drain_strays(struct env *e)
{
	uint64_t deadline = proc_now_ns() + 5000000000ULL;
	uint64_t quiet = proc_now_ns();
	struct zcs_request *reqs[POLL_BURST];
	unsigned int n;

	while (proc_now_ns() < deadline && proc_now_ns() - quiet < 300000000ULL) {
		n = zcs_poll(e->ec.cl, reqs, POLL_BURST);
		zcs_release(e->ec.cl, reqs, n);
		if (n != 0)
			quiet = proc_now_ns();
		else
			nap_us(200);
	}
}

/*
 * After each test, also a failed one: resume a stopped signer, restart a
 * killed one, stop a test's own engine and helper, return stray completions,
 * so that the next test starts with every shard of the group's engine up.
 */
static int
test_teardown(void **state)
{
	struct env *e = *state;
	unsigned int i;

	if (e->helper > 0)
		proc_stop(e->helper, SIGKILL, PROC_STOP_MS, NULL);
	e->helper = -1;
	engine_fixture_stop(&e->aux, NULL);
	for (i = 0; i < SHARDS; i++) {
		if (e->fx.signer[i] > 0)
			kill(e->fx.signer[i], SIGCONT);
		else if (engine_fixture_signer_start(&e->fx, i) != 0)
			return -1;
	}
	drain_strays(e);
	flow_free(&e->flow);
	return 0;
}

/* Every scenario starts with every shard of the group's engine up (bounded). */
static int
test_setup(void **state)
{
	const struct env *e = *state;

	engine_fixture_wait_up(e->ec.sh, RECOVER_MS);
	return 0;
}

/* ---- scenarios ---- */

/*
 * 100,000 requests over 1,000 accounts on 4 shards, the three algorithms in
 * turn, up to BULK_WINDOW outstanding: each completes once, signed and
 * verified, in submission order per account; the client's and the shards'
 * counters move by exactly what was sent.
 */
static void
bulk_100k(void **state)
{
	struct env *e = *state;
	struct flow *f = &e->flow;
	uint64_t sig_total = 0;
	struct snap s0, s1;
	unsigned int i;

	flow_init(e, f, BULK_N, BULK_WINDOW, -1);
	snap_take(e, &s0);
	flow_pump(e, f, f->n, true);
	snap_take(e, &s1);
	assert_int_equal(f->completed, BULK_N);
	assert_int_equal(f->by_status[ZCS_OK], BULK_N);
	assert_int_equal(s1.submitted - s0.submitted, BULK_N);
	assert_int_equal(s1.completed - s0.completed, BULK_N);
	assert_int_equal(s1.refused - s0.refused, f->refused);
	for (i = 0; i < SHARDS; i++) {
		assert_int_equal(
			s1.signed_ok[i] - s0.signed_ok[i], flow_count_shard(f, 0, BULK_N, i));
		assert_int_equal(s1.sent[i] - s0.sent[i], flow_count_shard(f, 0, BULK_N, i));
		assert_int_equal(s1.failed[i], s0.failed[i]);
		assert_int_equal(s1.expired[i], s0.expired[i]);
		sig_total += s1.signed_ok[i] - s0.signed_ok[i];
	}
	assert_int_equal(sig_total, BULK_N);
	fprintf(stderr, "bulk: %d signed and verified, %" PRIu64 " submits retried (ring full)\n",
		BULK_N, f->refused);
}

/*
 * Deadlines: per account, a request with a deadline far ahead (signs), one
 * whose deadline already passed (expires, unsigned, never sent), one without
 * (signs), completing in that order.
 */
static void
deadlines_expire(void **state)
{
	struct env *e = *state;
	const unsigned int n_acct = 100;
	uint64_t base = e->next_cookie, i, n = 3 * n_acct, expired = 0, ok = 0, sent = 0;
	uint64_t last[100] = {0};
	struct zcs_request *r;
	struct snap s0, s1;
	uint8_t hash[32];
	unsigned int k;

	e->next_cookie += n;
	snap_take(e, &s0);
	for (i = 0; i < n; i++) {
		struct zcs_sign_args a = {
			.account = e->fx.m.accounts[(i / 3) * 7 % ACCOUNTS].account,
			.cookie = base + i,
			.algo = ZCS_ALGO_ECDSA + (unsigned int)(i % 3),
			.hash = hash,
		};

		hash_of(base + i, hash);
		if (i % 3 == 0)
			a.deadline_tsc = rte_rdtsc() + zcs_ns_to_tsc(60ULL * 1000000000ULL);
		else if (i % 3 == 1)
			a.deadline_tsc = rte_rdtsc() - 1;
		assert_int_equal(zcs_submit(e->ec.cl, &a), 0);
	}
	for (i = 0; i < n;) {
		uint64_t deadline = proc_now_ns() + (uint64_t)STALL_MS * 1000000u;

		while (zcs_poll(e->ec.cl, &r, 1) == 0) {
			if (proc_now_ns() > deadline)
				fail_msg("%" PRIu64 " of %" PRIu64 " completed", i, n);
			nap_us(50);
		}
		k = (unsigned int)((r->cookie - base) / 3);
		assert_true(r->cookie >= base && r->cookie < base + n);
		assert_true(last[k] <= r->cookie - base);
		last[k] = r->cookie - base + 1;
		if ((r->cookie - base) % 3 == 1) {
			assert_int_equal(r->status, ZCS_ERR_EXPIRED);
			assert_true(all_zero(r->sig, sizeof(r->sig)));
			assert_int_equal(r->recid, 0);
			assert_int_equal(r->send_tsc, 0);
			expired++;
		} else {
			assert_verifies(e, r);
			ok++;
		}
		zcs_release(e->ec.cl, &r, 1);
		i++;
	}
	snap_take(e, &s1);
	assert_int_equal(expired, n_acct);
	assert_int_equal(ok, 2 * n_acct);
	for (k = 0, expired = 0; k < SHARDS; k++) {
		expired += s1.expired[k] - s0.expired[k];
		sent += s1.sent[k] - s0.sent[k];
		assert_int_equal(s1.expired[k] - s0.expired[k],
			s1.by_status[k][ZCS_ERR_EXPIRED] - s0.by_status[k][ZCS_ERR_EXPIRED]);
	}
	assert_int_equal(expired, n_acct);
	/* An expired request never reaches its signer. */
	assert_int_equal(sent, 2 * n_acct);
}

/*
 * Requests the engine cannot serve: an account no signer holds completes
 * unknown_account (sign with every algorithm, and pubkey) unsigned; an
 * unknown algorithm or no hash is refused by zcs_submit with -EINVAL and
 * nothing is queued (the next completion is the next good request's).
 */
static void
bad_requests(void **state)
{
	struct env *e = *state;
	uint8_t hash[32] = {1};
	struct zcs_sign_args bad[3];
	struct zcs_request r;
	struct snap s0, s1;
	unsigned int i, algo;
	int err;

	snap_take(e, &s0);
	for (i = 0; i < SHARDS; i++) {
		uint64_t unknown = engine_fixture_unknown_account(&e->fx, i);

		assert_null(zcs_manifest_find(&e->fx.m, unknown));
		for (algo = ZCS_ALGO_ECDSA; algo <= ZCS_ALGO_SCHNORR; algo++) {
			sign_one(e, unknown, algo, &r);
			assert_int_equal(r.status, ZCS_ERR_UNKNOWN_ACCOUNT);
			assert_int_equal(r.shard, i);
			assert_true(all_zero(r.sig, sizeof(r.sig)));
		}
		assert_int_equal(zcs_submit_pubkey(e->ec.cl, unknown, e->next_cookie), 0);
		await_one(e, e->next_cookie++, &r);
		assert_int_equal(r.op, ZCS_OP_PUBKEY);
		assert_int_equal(r.status, ZCS_ERR_UNKNOWN_ACCOUNT);
		assert_true(all_zero(r.sig, sizeof(r.sig)));
	}

	for (i = 0; i < 3; i++) {
		bad[i].account = e->fx.m.accounts[i].account;
		bad[i].cookie = e->next_cookie++;
		bad[i].deadline_tsc = 0;
		bad[i].algo = ZCS_ALGO_ECDSA;
		bad[i].hash = hash;
	}
	bad[0].algo = 0;
	assert_int_equal(zcs_submit(e->ec.cl, &bad[0]), -EINVAL);
	bad[0].algo = ZCS_ALGO_SCHNORR + 1;
	assert_int_equal(zcs_submit(e->ec.cl, &bad[0]), -EINVAL);
	bad[0].algo = 255;
	assert_int_equal(zcs_submit(e->ec.cl, &bad[0]), -EINVAL);
	bad[0].algo = ZCS_ALGO_ECDSA;
	bad[0].hash = NULL;
	assert_int_equal(zcs_submit(e->ec.cl, &bad[0]), -EINVAL);
	/* A burst stops at its first bad request: the prefix before it is queued. */
	bad[0].hash = hash;
	bad[1].algo = 9;
	assert_int_equal(zcs_submit_burst(e->ec.cl, &err, bad, 3), 1);
	assert_int_equal(err, -EINVAL);
	await_one(e, bad[0].cookie, &r);
	assert_verifies(e, &r);
	/* Nothing else was queued: the next completion is the next request's. */
	sign_one(e, e->fx.m.accounts[5].account, ZCS_ALGO_SCHNORR, &r);
	assert_verifies(e, &r);

	snap_take(e, &s1);
	/* 4 unknown_account x 4 shards, the burst's first, the last good one. */
	assert_int_equal(s1.submitted - s0.submitted, 4 * SHARDS + 2);
	assert_int_equal(s1.refused - s0.refused, 5);
	assert_int_equal(s1.completed - s0.completed, 4 * SHARDS + 2);
	for (i = 0; i < SHARDS; i++)
		assert_int_equal(s1.by_status[i][ZCS_ERR_UNKNOWN_ACCOUNT] -
				s0.by_status[i][ZCS_ERR_UNKNOWN_ACCOUNT],
			4);
}

/*
 * Ring-full backpressure: with shard BP_SHARD's signer stopped (SIGSTOP), its
 * worker fills its in-flight window (inflight_max) and then the ring fills:
 * zcs_submit returns -EBUSY and queues nothing, exactly inflight_max + the
 * ring's capacity are accepted, the other shards keep signing, and after
 * SIGCONT every accepted request completes, signed, in order.
 */
static void
backpressure(void **state)
{
	struct env *e = *state;
	struct flow *f = &e->flow;
	pid_t signer = e->fx.signer[BP_SHARD];
	struct rte_ring *ring = e->ec.sh->shards[BP_SHARD].ring;
	const struct zcs_manifest_account *other;
	uint64_t deadline;
	struct zcs_request r;
	struct snap s0, s1;
	int rc;

	flow_init(e, f, 4 * RING_SIZE, UINT64_MAX, BP_SHARD);
	snap_take(e, &s0);
	assert_int_equal(kill(signer, SIGSTOP), 0);
	assert_int_equal(proc_wait_stopped(signer, PROC_STOP_MS), 0);

	/* Fill until refused; the worker may not have taken its window yet. */
	while ((rc = flow_submit(e, f)) == 0 && f->submitted < f->n)
		;
	assert_int_equal(rc, -EBUSY);
	deadline = proc_now_ns() + (uint64_t)STALL_MS * 1000000u;
	while (ld(&e->ec.sh->shards[BP_SHARD].inflight) != INFLIGHT_MAX) {
		if (proc_now_ns() > deadline)
			fail_msg("shard %d: %" PRIu64 " in flight, expected %d", BP_SHARD,
				ld(&e->ec.sh->shards[BP_SHARD].inflight), INFLIGHT_MAX);
		proc_sleep_ms(1);
	}
	/* Window full, signer silent: now only the ring takes requests, until it is full. */
	while ((rc = flow_submit(e, f)) == 0 && f->submitted < f->n)
		;
	assert_int_equal(rc, -EBUSY);
	assert_int_equal(f->submitted, INFLIGHT_MAX + rte_ring_get_capacity(ring));
	assert_int_equal(rte_ring_count(ring), rte_ring_get_capacity(ring));
	assert_int_equal(f->refused, 2);
	assert_int_equal(ld(&my_slot(e)->submitted) - s0.submitted, f->submitted);
	assert_int_equal(ld(&my_slot(e)->refused) - s0.refused, 2);
	/* Refused again and again: still nothing queued. */
	assert_int_equal(flow_submit(e, f), -EBUSY);
	assert_int_equal(rte_ring_count(ring), rte_ring_get_capacity(ring));

	/* The other shards are not held up by the stuck one. */
	other = engine_fixture_account_on(&e->fx, (BP_SHARD + 1) % SHARDS, 3);
	sign_one(e, other->account, ZCS_ALGO_ECDSA_RECOVERABLE, &r);
	assert_verifies(e, &r);
	assert_int_equal(f->completed, 0);

	assert_int_equal(kill(signer, SIGCONT), 0);
	flow_pump(e, f, f->submitted, true);
	assert_int_equal(f->by_status[ZCS_OK], f->submitted);
	snap_take(e, &s1);
	assert_int_equal(s1.signed_ok[BP_SHARD] - s0.signed_ok[BP_SHARD], f->submitted);
	assert_int_equal(s1.failed[BP_SHARD], s0.failed[BP_SHARD]);
	fprintf(stderr,
		"backpressure: %" PRIu64 " accepted (%d in flight + ring %u), then -EBUSY\n",
		f->submitted, INFLIGHT_MAX, rte_ring_get_capacity(ring));
}

/*
 * kill -9 of shard KILL_SHARD's signer while requests flow on every shard:
 * every request completes once; the other shards' all sign; the dead shard's
 * sign or fail signer_down, and every one submitted after the signer was
 * reaped fails signer_down. Restarted on the same path, the signer is found
 * again by the worker on its own: a request to the shard signs.
 */
static void
kill_signer(void **state)
{
	struct env *e = *state;
	struct flow *f = &e->flow;
	const struct zcs_manifest_account *acct;
	uint64_t kill_at, i, after, deadline;
	struct zcs_request r;
	struct snap s0, s1;
	unsigned int algo, k;
	uint8_t hash[32];
	int st;

	flow_init(e, f, KILL_N, KILL_WINDOW, -1);
	snap_take(e, &s0);
	flow_pump(e, f, KILL_AT, false);
	assert_int_equal(kill(e->fx.signer[KILL_SHARD], SIGKILL), 0);
	assert_int_equal(proc_wait(e->fx.signer[KILL_SHARD], PROC_STOP_MS, &st), 0);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	e->fx.signer[KILL_SHARD] = -1;
	kill_at = f->submitted;
	flow_pump(e, f, f->n, true);

	assert_int_equal(f->completed, KILL_N);
	assert_int_equal(f->by_status[ZCS_OK] + f->by_status[ZCS_ERR_SIGNER_DOWN], KILL_N);
	for (i = 0; i < KILL_N; i++) {
		k = f->accts[flow_req(f, i, &algo, hash)]->shard;
		if (k != KILL_SHARD)
			assert_int_equal(f->status[i], ZCS_OK);
		else if (i >= kill_at)
			assert_int_equal(f->status[i], ZCS_ERR_SIGNER_DOWN);
	}
	after = flow_count_shard(f, kill_at, KILL_N, KILL_SHARD);
	assert_true(after > 0);
	assert_true(f->by_status[ZCS_ERR_SIGNER_DOWN] >= after);
	snap_take(e, &s1);
	for (k = 0; k < SHARDS; k++) {
		assert_int_equal(s1.disconnects[k] - s0.disconnects[k], k == KILL_SHARD);
		if (k != KILL_SHARD)
			assert_int_equal(s1.failed[k], s0.failed[k]);
	}
	assert_int_equal(s1.by_status[KILL_SHARD][ZCS_ERR_SIGNER_DOWN] -
			s0.by_status[KILL_SHARD][ZCS_ERR_SIGNER_DOWN],
		f->by_status[ZCS_ERR_SIGNER_DOWN]);

	/* Same socket path, new process: the shard comes back by itself. */
	assert_int_equal(engine_fixture_signer_start(&e->fx, KILL_SHARD), 0);
	acct = engine_fixture_account_on(&e->fx, KILL_SHARD, 0);
	deadline = proc_now_ns() + (uint64_t)RECOVER_MS * 1000000u;
	for (;;) {
		sign_one(e, acct->account, ZCS_ALGO_SCHNORR, &r);
		if (r.status == ZCS_OK)
			break;
		assert_int_equal(r.status, ZCS_ERR_SIGNER_DOWN);
		if (proc_now_ns() > deadline)
			fail_msg("shard %d did not recover within %d ms", KILL_SHARD, RECOVER_MS);
		proc_sleep_ms(10);
	}
	assert_verifies(e, &r);
	assert_int_equal(shard_state(e, KILL_SHARD), ZCS_SHARD_UP);
	assert_int_equal(ld(&e->ec.sh->shards[KILL_SHARD].connects) - s0.connects[KILL_SHARD], 1);
	fprintf(stderr,
		"kill -9: %" PRIu64 " signed, %" PRIu64 " signer_down (%" PRIu64
		" sent to shard %d after the kill)\n",
		f->by_status[ZCS_OK], f->by_status[ZCS_ERR_SIGNER_DOWN], after, KILL_SHARD);
}

/* zcsign-cli sign through the engine; its output verified here and by `zcsign-cli verify`. */
static void
cli_sign_check(struct env *e, const struct zcs_manifest_account *acct, const char *algo_name,
	unsigned int algo)
{
	char account[24], hash_hex[65], sig_hex[160], pub_hex[80], want[80], recid[8];
	struct cli_result *r = &e->r;
	uint8_t hash[32], sig[64];
	const char *p;

	snprintf(account, sizeof(account), "%" PRIu64, acct->account);
	hash_of(e->next_cookie++, hash);
	hex_of(hash, 32, hash_hex);
	run_cli(e, r, "--file-prefix", e->fx.prefix, "sign", "--account", account, "--hash",
		hash_hex, "--algo", algo_name, NULL);
	assert_cli_ok(r);
	json_str(r->out, "signature", sig_hex, sizeof(sig_hex));
	json_str(r->out, "pubkey", pub_hex, sizeof(pub_hex));
	assert_int_equal(strlen(sig_hex), 128);
	assert_int_equal(zcs_hex_decode(sig_hex, 64, sig), 0);
	if (algo == ZCS_ALGO_SCHNORR)
		hex_of(acct->xonly, 32, want);
	else
		hex_of(acct->pubkey, 33, want);
	assert_string_equal(pub_hex, want);
	assert_int_equal(json_u64(r->out, "shard"), acct->shard);
	assert_true(json_u64(r->out, "latency_ns") > 0);
	(void)json_u64(r->out, "service_ns");
	p = json_at(r->out, "recid");
	assert_non_null(p);
	snprintf(recid, sizeof(recid), "%.*s", (int)strcspn(p, ","), p);
	if (algo == ZCS_ALGO_ECDSA_RECOVERABLE)
		assert_true(recid[0] >= '0' && recid[0] <= '3' && recid[1] == '\0');
	else
		assert_string_equal(recid, "null");
	assert_int_equal(
		zcs_verify(e->fx.ctx, algo, hash, sig,
			algo == ZCS_ALGO_ECDSA_RECOVERABLE ? (unsigned int)(recid[0] - '0') : 0,
			acct),
		0);
	/* Straight through to the CLI's own verify, recid text included. */
	run_cli(e, r, "verify", "--manifest", e->fx.manifest, "--account", account, "--hash",
		hash_hex, "--signature", sig_hex, "--algo", algo_name, "--recid", recid, NULL);
	assert_cli_ok(r);
	assert_non_null(strstr(r->out, "\"valid\":true"));
}

/*
 * zcsign-cli as a secondary process of the group's engine: sign with every
 * algorithm (verified by `zcsign-cli verify`), pubkey (the manifest's keys),
 * an unknown account (exit 1 naming it and the status), and status (4 shards
 * up, counters at least what this test saw).
 */
static void
cli_engine_path(void **state)
{
	struct env *e = *state;
	struct cli_result *r = &e->r;
	const struct zcs_manifest_account *acct;
	char account[24], pub_hex[80], want[80], text[64], meas[2 * ZCS_MEASUREMENT_LEN + 1];
	const char *hash0 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
	struct snap s;
	unsigned int i;

	for (i = 0; i < SHARDS; i++) {
		acct = engine_fixture_account_on(&e->fx, i, 11);
		cli_sign_check(e, acct, "ecdsa", ZCS_ALGO_ECDSA);
		cli_sign_check(e, acct, "ecdsa-recoverable", ZCS_ALGO_ECDSA_RECOVERABLE);
		cli_sign_check(e, acct, "schnorr", ZCS_ALGO_SCHNORR);
	}

	acct = engine_fixture_account_on(&e->fx, 3, 5);
	snprintf(account, sizeof(account), "%" PRIu64, acct->account);
	run_cli(e, r, "--file-prefix", e->fx.prefix, "pubkey", "--account", account, NULL);
	assert_cli_ok(r);
	json_str(r->out, "pubkey", pub_hex, sizeof(pub_hex));
	hex_of(acct->pubkey, 33, want);
	assert_string_equal(pub_hex, want);
	json_str(r->out, "xonly", pub_hex, sizeof(pub_hex));
	hex_of(acct->xonly, 32, want);
	assert_string_equal(pub_hex, want);
	assert_int_equal(json_u64(r->out, "shard"), 3);

	snprintf(account, sizeof(account), "%" PRIu64, engine_fixture_unknown_account(&e->fx, 2));
	run_cli(e, r, "--file-prefix", e->fx.prefix, "sign", "--account", account, "--hash", hash0,
		NULL);
	assert_cli_failed(r, "unknown_account", account);

	snap_take(e, &s);
	run_cli(e, r, "--file-prefix", e->fx.prefix, "status", NULL);
	assert_cli_ok(r);
	assert_int_equal(json_u64(r->out, "shards"), SHARDS);
	assert_true(json_u64(r->out, "client_slots_used") >= 1);
	assert_non_null(strstr(r->out, "\"name\":\"test_engine\""));
	assert_non_null(strstr(r->out, "\"stopping\":false"));
	for (i = 0; i < SHARDS; i++) {
		const char *sj = json_shard(r->out, i);

		json_str(sj, "state", text, sizeof(text));
		assert_string_equal(text, "up");
		json_str(sj, "endpoint", text, sizeof(text));
		assert_true(strncmp(text, "unix:", 5) == 0);
		assert_int_equal(json_u64(sj, "lcore"), i + 1);
		assert_true(json_u64(sj, "signed") >= s.signed_ok[i]);
		assert_true(json_u64(sj, "expired") >= s.expired[i]);
		assert_true(json_u64(sj, "connects") >= 1);
		assert_true(json_u64(sj, "signer_keys") > 0);
		json_str(sj, "nonce_mode", text, sizeof(text));
		json_str(sj, "measurement", meas, sizeof(meas));
		assert_int_equal(strlen(meas), 2 * ZCS_MEASUREMENT_LEN);
	}
	/* The unknown account just tried: counted under its status name. */
	assert_non_null(strstr(json_shard(r->out, 2), "\"unknown_account\":"));
}

/* No zcsignd with that prefix: exit 1, one line saying what to check, nothing left behind. */
static void
cli_no_engine(void **state)
{
	struct env *e = *state;
	char prefix[64], dir[PATH_MAX];

	snprintf(prefix, sizeof(prefix), "zcs_none_%d", (int)getpid());
	run_cli(e, &e->r, "--file-prefix", prefix, "status", NULL);
	assert_cli_failed(&e->r, "cannot attach to zcsignd", prefix);
	run_cli(e, &e->r, "--file-prefix", prefix, "sign", "--account", "1", "--hash",
		"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", NULL);
	assert_cli_failed(&e->r, "is it running, with --file-prefix", prefix);
	assert_int_equal(engine_runtime_dir(dir, sizeof(dir), prefix), 0);
	assert_int_equal(access(dir, F_OK), -1);
}

/* Exit 2, nothing on stdout, one stderr line naming needle. */
static void
assert_cli_usage(const struct cli_result *r, const char *needle)
{
	if (r->code != 2 || r->out[0] != '\0' || strstr(r->err, needle) == NULL)
		fail_msg("expected exit 2 naming '%s'; got exit %d, stdout '%s', stderr '%s'",
			needle, r->code, r->out, r->err);
	assert_string_equal(strchr(r->err, '\n'), "\n");
}

/* The engine path's command line: refused before any EAL is started. */
static void
cli_engine_usage(void **state)
{
	struct env *e = *state;
	struct cli_result *r = &e->r;

	run_cli(e, r, "--file-prefix", "", "status", NULL);
	assert_cli_usage(r, "--file-prefix");
	run_cli(e, r, "--file-prefix", "a/b", "status", NULL);
	assert_cli_usage(r, "a/b");
	run_cli(e, r, "--file-prefix", "-x", "status", NULL);
	assert_cli_usage(r, "--file-prefix");
	run_cli(e, r, "--file-prefix", e->fx.prefix, "--signer", "unix:/nonexistent", "pubkey",
		"--account", "1", NULL);
	assert_cli_usage(r, "exclude");
	run_cli(e, r, "--signer", "unix:/nonexistent", "status", NULL);
	assert_cli_usage(r, "status");
	run_cli(e, r, "--file-prefix", e->fx.prefix, "status", "--account", "1", NULL);
	assert_cli_usage(r, "does not apply");
	run_cli(e, r, "--file-prefix", e->fx.prefix, "sign", "--account", "1", NULL);
	assert_cli_usage(r, "--hash");
	run_cli(e, r, "--help", NULL);
	assert_int_equal(r->code, 0);
	assert_non_null(strstr(r->out, "--file-prefix"));
	assert_non_null(strstr(r->out, "status"));
}

/* The aux engine's shard states as zcsign-cli status prints them (bounded wait for want). */
static void
aux_wait_states(struct env *e, const char *want0, const char *want1)
{
	uint64_t deadline = proc_now_ns() + (uint64_t)RECOVER_MS * 1000000u;
	char s0[32], s1[32];

	for (;;) {
		run_cli(e, &e->r, "--file-prefix", e->aux.prefix, "status", NULL);
		assert_cli_ok(&e->r);
		json_str(json_shard(e->r.out, 0), "state", s0, sizeof(s0));
		json_str(json_shard(e->r.out, 1), "state", s1, sizeof(s1));
		if (strcmp(s0, want0) == 0 && strcmp(s1, want1) == 0)
			return;
		if (proc_now_ns() > deadline)
			fail_msg("shards %s/%s, expected %s/%s", s0, s1, want0, want1);
		proc_sleep_ms(50);
	}
}

/*
 * A separate zcsignd whose config expects another measurement for shard 0
 * and the real one (SHA-384 of zcsign-enclave) for shard 1: shard 0 is
 * refused and its requests fail with status measurement (exit 1 through the
 * CLI), shard 1 signs; status shows both measurements.
 */
static void
measurement_mismatch(void **state)
{
	struct env *e = *state;
	struct cli_result *r = &e->r;
	uint8_t real[ZCS_MEASUREMENT_LEN], wrong[ZCS_MEASUREMENT_LEN];
	char real_hex[2 * ZCS_MEASUREMENT_LEN + 1], wrong_hex[2 * ZCS_MEASUREMENT_LEN + 1];
	char ini0[160], ini1[160], prefix[64], prog[PATH_MAX], account[24], text[160];
	const char *hash = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
	const struct zcs_manifest_account *good;
	const char *sj;
	struct engine_fixture_conf c = {
		.tag = "e2e-meas",
		.shards = 2,
		.accounts = 100,
		.lcores = "0@0,1@1,2@0",
		.mem_mb = 128,
		.engine_ini = "reconnect_max_ms = 100\n",
	};

	assert_int_equal(proc_build_path(prog, sizeof(prog), "enclave/zcsign-enclave"), 0);
	proc_sha384_file(prog, real);
	memcpy(wrong, real, sizeof(wrong));
	wrong[0] ^= 0x5a;
	hex_of(real, sizeof(real), real_hex);
	hex_of(wrong, sizeof(wrong), wrong_hex);
	snprintf(ini0, sizeof(ini0), "measurement = %s\n", wrong_hex);
	snprintf(ini1, sizeof(ini1), "measurement = %s\n", real_hex);
	snprintf(prefix, sizeof(prefix), "zcs_e2e_%d_m", (int)getpid());
	c.prefix = prefix;
	c.shard_ini[0] = ini0;
	c.shard_ini[1] = ini1;
	assert_int_equal(engine_fixture_start(&e->aux, &c), 0);
	aux_wait_states(e, "refused", "up");

	snprintf(account, sizeof(account), "%" PRIu64,
		engine_fixture_account_on(&e->aux, 0, 1)->account);
	run_cli(e, r, "--file-prefix", prefix, "sign", "--account", account, "--hash", hash, NULL);
	assert_cli_failed(r, "(measurement)", account);
	run_cli(e, r, "--file-prefix", prefix, "pubkey", "--account", account, NULL);
	assert_cli_failed(r, "(measurement)", account);

	good = engine_fixture_account_on(&e->aux, 1, 1);
	snprintf(account, sizeof(account), "%" PRIu64, good->account);
	run_cli(e, r, "--file-prefix", prefix, "sign", "--account", account, "--hash", hash,
		"--algo", "schnorr", NULL);
	assert_cli_ok(r);
	json_str(r->out, "signature", text, sizeof(text));
	run_cli(e, r, "verify", "--manifest", e->aux.manifest, "--account", account, "--hash", hash,
		"--signature", text, "--algo", "schnorr", NULL);
	assert_cli_ok(r);

	run_cli(e, r, "--file-prefix", prefix, "status", NULL);
	assert_cli_ok(r);
	sj = json_shard(r->out, 0);
	json_str(sj, "state", text, sizeof(text));
	assert_string_equal(text, "refused");
	/* by_status comes before the measurement fields: its "measurement" is the count. */
	assert_int_equal(json_u64(json_at(sj, "by_status"), "measurement"), 2);
	assert_int_equal(json_u64(sj, "signed"), 0);
	json_str(sj, "measurement", text, sizeof(text));
	assert_string_equal(text, real_hex);
	json_str(sj, "expected_measurement", text, sizeof(text));
	assert_string_equal(text, wrong_hex);
	sj = json_shard(r->out, 1);
	/* The sign and the pubkey the CLI asks for with it: both completed ok. */
	assert_int_equal(json_u64(sj, "signed"), 2);
	json_str(sj, "expected_measurement", text, sizeof(text));
	assert_string_equal(text, real_hex);

	assert_int_equal(engine_fixture_stop(&e->aux, NULL), 0);
}

/*
 * SIGTERM drains: a separate zcsignd (2 shards) and one client, the drain
 * client (this program as a secondary of it), which keeps DRAIN_WINDOW
 * requests in flight. SIGTERM to zcsignd while they flow: the client's submits
 * are refused with -ESHUTDOWN from then on, every request it got accepted
 * completes (signed and verified, or shutdown at the drain deadline),
 * zcsignd exits 0, and its totals reconcile with the client's own counts
 * and its slot's counters.
 */
/*
 * This test binary again, as a helper client (mode: DRAIN_CLIENT_ARG, ...) of
 * the engine under prefix, its stdout in dir/<tag>.out and stderr in
 * dir/<tag>.err; returns once the helper printed ready (waits at most wait_ms).
 */
static void
helper_start(struct env *e, const char *mode, const char *prefix, const char *dir,
	const char *manifest, const char *tag, char *out, char *err, unsigned int wait_ms)
{
	char self[PATH_MAX], name[64];
	char *argv[] = {self, (char *)mode, (char *)prefix, (char *)manifest, NULL};
	uint64_t deadline;
	ssize_t n;

	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	assert_true(n > 0);
	self[n] = '\0';
	snprintf(name, sizeof(name), "%s.out", tag);
	assert_int_equal(proc_path(out, PATH_MAX, dir, name), 0);
	snprintf(name, sizeof(name), "%s.err", tag);
	assert_int_equal(proc_path(err, PATH_MAX, dir, name), 0);
	e->helper = proc_spawn_tied(argv, out, err);
	assert_true(e->helper > 0);
	deadline = proc_now_ns() + (uint64_t)wait_ms * 1000000u;
	while (!proc_file_contains(out, "ready")) {
		if (!proc_alive(e->helper) || proc_now_ns() > deadline) {
			proc_dump_log(tag, err);
			fail_msg("the %s helper did not get going", tag);
		}
		proc_sleep_ms(2);
	}
}

/*
 * A client killed mid-burst (kill -9: no detach) with requests in flight and
 * completions unpolled: within a few reaper periods its slot is free again
 * (status no longer lists it) and every object it held is back in the pool,
 * without anyone attaching to make room.
 */
static void
dead_client_reaped(void **state)
{
	struct env *e = *state;
	char out[PATH_MAX], err[PATH_MAX], text[256];
	struct zcs_client_info ci;
	unsigned int before, now_avail = 0;
	uint64_t deadline, killed;
	int slot = -1, rc;

	drain_strays(e);
	before = rte_mempool_avail_count(e->ec.sh->pool);
	helper_start(e, DEAD_CLIENT_ARG, e->fx.prefix, e->fx.dir, e->fx.manifest, "dead", out, err,
		STALL_MS);
	assert_true(proc_read_file(out, text, sizeof(text)) > 0);
	assert_int_equal(sscanf(strstr(text, "ready "), "ready %d", &slot), 1);
	assert_int_equal(zcs_client_info(e->ec.sh, (unsigned int)slot, &ci), 0);
	assert_int_equal(ci.pid, e->helper);
	/* Its requests are out of the pool now: in flight, completed unpolled, cached. */
	assert_true(rte_mempool_avail_count(e->ec.sh->pool) + DEAD_CLIENT_N <= before + 64);
	proc_stop(e->helper, SIGKILL, PROC_STOP_MS, NULL);
	killed = proc_now_ns();
	e->helper = -1;
	/* Nobody attaches: the engine's reaper alone must bring everything back. */
	deadline = killed + 3000000000ULL;
	for (;;) {
		rc = zcs_client_info(e->ec.sh, (unsigned int)slot, &ci);
		now_avail = rte_mempool_avail_count(e->ec.sh->pool);
		if (rc == -ENOENT && now_avail == before)
			break;
		if (proc_now_ns() > deadline)
			fail_msg("3 s after the kill: slot %d %s, pool %u of %u objects back", slot,
				rc == 0 ? "still listed" : "free", now_avail, before);
		proc_sleep_ms(5);
	}
	fprintf(stderr,
		"dead client: slot %d free and %u pool objects back %.0f ms after kill -9\n", slot,
		before, (double)(proc_now_ns() - killed) / 1e6);
	assert_true(proc_file_contains(e->fx.log, "of dead process"));
}

/*
 * zcsignd killed (kill -9) with requests inside it: its client sees the
 * heartbeat stop, completes exactly the requests the engine held with
 * engine_down (the ones that had completed stay ok), refuses new submits with
 * ENOTCONN, within a few heartbeat periods of the kill.
 */
static void
engine_death_seen(void **state)
{
	struct env *e = *state;
	char prefix[64], out[PATH_MAX], err[PATH_MAX], text[512];
	unsigned int ok, down, other;
	uint64_t first_down, killed_ms;
	int st, submit;
	struct engine_fixture_conf c = {
		.tag = "e2e-down",
		.shards = 2,
		.accounts = 200,
		.lcores = "0@0,1@1,2@0",
		.mem_mb = 128,
	};

	snprintf(prefix, sizeof(prefix), "zcs_e2e_%d_k", (int)getpid());
	c.prefix = prefix;
	assert_int_equal(engine_fixture_start(&e->aux, &c), 0);
	aux_wait_states(e, "up", "up");
	assert_int_equal(kill(e->aux.signer[0], SIGSTOP), 0);
	helper_start(e, DOWN_CLIENT_ARG, prefix, e->aux.dir, e->aux.manifest, "down", out, err,
		STALL_MS);
	assert_int_equal(kill(e->aux.pid, SIGKILL), 0);
	killed_ms = zcs_mono_ms();
	assert_int_equal(proc_wait(e->helper, 30000, &st), 0);
	e->helper = -1;
	assert_true(proc_exited_ok(st));
	assert_true(proc_read_file(out, text, sizeof(text)) > 0);
	assert_int_equal(sscanf(strstr(text, "ok="),
				 "ok=%u down=%u other=%u first_down_ms=%" SCNu64 " submit=%d", &ok,
				 &down, &other, &first_down, &submit),
		5);
	fprintf(stderr,
		"engine death: %u ok before, %u engine_down %" PRIu64
		" ms after kill -9, then submit %d\n",
		ok, down, first_down - killed_ms, submit);
	assert_int_equal(ok, DOWN_OK);
	assert_int_equal(down, DOWN_HELD);
	assert_int_equal(other, 0);
	assert_int_equal(submit, -ENOTCONN);
	assert_true(first_down >= killed_ms);
	assert_true(first_down - killed_ms < 2000);
	assert_true(proc_file_contains(err, "is dead (last heartbeat"));
	/* The fixture reaps the killed zcsignd and cleans its files; the signer resumes. */
	kill(e->aux.signer[0], SIGCONT);
	waitpid(e->aux.pid, NULL, 0);
	e->aux.pid = -1;
	engine_eal_cleanup_files(prefix);
}

static void
sigterm_drain(void **state)
{
	struct env *e = *state;
	char prefix[64], out[PATH_MAX], err[PATH_MAX], text[4096];
	uint64_t accepted, ok, shutdown, other, slot_sub, slot_done, refused, slot_ref;
	struct engine_totals t;
	const char *line;
	int st;
	struct engine_fixture_conf c = {
		.tag = "e2e-drain",
		.shards = 2,
		.accounts = 200,
		.lcores = "0@0,1@1,2@0",
		.mem_mb = 128,
	};

	snprintf(prefix, sizeof(prefix), "zcs_e2e_%d_d", (int)getpid());
	c.prefix = prefix;
	assert_int_equal(engine_fixture_start(&e->aux, &c), 0);
	aux_wait_states(e, "up", "up");

	helper_start(e, DRAIN_CLIENT_ARG, prefix, e->aux.dir, e->aux.manifest, "client", out, err,
		DRAIN_CLIENT_MS);

	/* Requests in flight now: stop the engine under them. */
	assert_int_equal(engine_fixture_zcsignd_stop(&e->aux, &t), 0);
	assert_int_equal(proc_wait(e->helper, DRAIN_CLIENT_MS, &st), 0);
	e->helper = -1;
	assert_true(proc_read_file(out, text, sizeof(text)) > 0);
	if (!proc_exited_ok(st)) {
		proc_dump_log("drain client", err);
		fail_msg("the drain client exited with status 0x%x", st);
	}
	line = strstr(text, "accepted=");
	assert_non_null(line);
	assert_int_equal(sscanf(line,
				 "accepted=%" SCNu64 " signed=%" SCNu64 " shutdown=%" SCNu64
				 " other=%" SCNu64 " refused=%" SCNu64 " slot_submitted=%" SCNu64
				 " slot_refused=%" SCNu64 " slot_completed=%" SCNu64,
				 &accepted, &ok, &shutdown, &other, &refused, &slot_sub, &slot_ref,
				 &slot_done),
		8);
	fprintf(stderr, "drain: %s", line);
	fprintf(stderr,
		"drain: zcsignd: submitted=%" PRIu64 " signed=%" PRIu64 " expired=%" PRIu64
		" failed=%" PRIu64 " in_flight=%" PRIu64 "\n",
		t.submitted, t.signed_ok, t.expired, t.failed, t.in_flight);
	assert_true(accepted >= DRAIN_READY);
	assert_int_equal(other, 0);
	assert_int_equal(ok + shutdown, accepted);
	assert_int_equal(slot_sub, accepted);
	assert_int_equal(slot_done, accepted);
	assert_int_equal(slot_ref, refused);
	/* zcsignd's own totals: its one client's, reconciled. */
	assert_int_equal(t.in_flight, 0);
	assert_int_equal(t.submitted, accepted);
	assert_int_equal(t.signed_ok, ok);
	assert_int_equal(t.expired, 0);
	assert_int_equal(t.failed, shutdown);
	assert_int_equal(t.submitted, t.signed_ok + t.expired + t.failed);
	assert_int_equal(engine_fixture_stop(&e->aux, NULL), 0);
}

/* ---- the drain client (a separate process) ---- */

static int
drain_fail(const char *what)
{
	fprintf(stderr, "drain client: %s\n", what);
	return 1;
}

/*
 * Run as a secondary of prefix: keep DRAIN_WINDOW requests in flight, say
 * "ready" once DRAIN_READY were accepted, stop submitting at the first
 * -ESHUTDOWN, wait for every accepted one, verify each signature, print the
 * counts and its slot's counters. Exit 0 only when all of that held.
 */
static int
drain_client_run(struct zcs_client *c, const struct zcs_manifest *m)
{
	const struct zcs_client_slot *slot = &zcs_shards_lookup()->clients[zcs_client_slot(c)];
	uint64_t accepted = 0, done = 0, ok = 0, shutdown = 0, other = 0, refused = 0;
	uint64_t start = proc_now_ns(), i = 0;
	secp256k1_context *ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
	struct zcs_request *reqs[POLL_BURST];
	bool stopping = false, ready = false;
	uint8_t hash[32];
	unsigned int n, k;
	int rc = 0;

	while ((!stopping || done < accepted) && rc == 0) {
		while (!stopping && accepted - done < DRAIN_WINDOW) {
			const struct zcs_manifest_account *a = &m->accounts[mix64(i) % m->count];
			struct zcs_sign_args args = {.account = a->account,
				.cookie = i,
				.algo = ZCS_ALGO_ECDSA + (unsigned int)(i % 3),
				.hash = hash};
			int s;

			hash_of(i, hash);
			s = zcs_submit(c, &args);
			if (s == -ESHUTDOWN)
				stopping = true;
			if (s != 0) {
				refused++;
				break;
			}
			accepted++;
			i++;
		}
		if (!ready && accepted >= DRAIN_READY) {
			ready = true;
			printf("ready\n");
			fflush(stdout);
		}
		n = zcs_poll(c, reqs, POLL_BURST);
		for (k = 0; k < n; k++) {
			const struct zcs_request *r = reqs[k];
			const struct zcs_manifest_account *a = zcs_manifest_find(m, r->account);

			hash_of(r->cookie, hash);
			if (r->status == ZCS_OK) {
				ok++;
				if (a == NULL || memcmp(r->hash, hash, 32) != 0 ||
					zcs_verify(ctx, r->algo, r->hash, r->sig,
						r->algo == ZCS_ALGO_ECDSA_RECOVERABLE ? r->recid
										      : 0,
						a) != 0)
					rc = drain_fail("a signature does not verify");
			} else if (r->status == ZCS_ERR_SHUTDOWN) {
				shutdown++;
			} else {
				other++;
			}
		}
		zcs_release(c, reqs, n);
		done += n;
		if (n == 0)
			nap_us(50);
		if (proc_now_ns() - start > (uint64_t)DRAIN_CLIENT_MS * 1000000u)
			rc = drain_fail("no end of the drain in time");
	}
	printf("accepted=%" PRIu64 " signed=%" PRIu64 " shutdown=%" PRIu64 " other=%" PRIu64
	       " refused=%" PRIu64 " slot_submitted=%" PRIu64 " slot_refused=%" PRIu64
	       " slot_completed=%" PRIu64 "\n",
		accepted, ok, shutdown, other, refused, ld(&slot->submitted), ld(&slot->refused),
		ld(&slot->completed));
	fflush(stdout);
	secp256k1_context_destroy(ctx);
	return rc;
}

static int
drain_client(const char *prefix, const char *manifest)
{
	struct zcs_manifest m;
	struct zcs_client *c;
	char err[512];
	int rc;

	if (zcs_manifest_load(&m, err, sizeof(err), manifest) != 0)
		return drain_fail(err);
	if (engine_fixture_secondary("test_engine", prefix) != 0) {
		zcs_manifest_free(&m);
		return drain_fail("rte_eal_init failed");
	}
	c = zcs_attach("drain_client");
	if (c == NULL)
		rc = drain_fail("zcs_attach failed");
	else
		rc = drain_client_run(c, &m);
	zcs_detach(c);
	rte_eal_cleanup();
	zcs_manifest_free(&m);
	return rc;
}

/*
 * The client that dies: attach to the group's engine, submit DEAD_CLIENT_N
 * requests and never poll (their completions pile up in its ring, its cache
 * holds objects), say "ready", then wait to be killed.
 */
static int
dead_client(const char *prefix, const char *manifest)
{
	struct zcs_manifest m;
	struct zcs_sign_args a;
	struct zcs_client *c;
	uint8_t hash[32] = {9};
	char err[512];
	unsigned int i;

	if (zcs_manifest_load(&m, err, sizeof(err), manifest) != 0 ||
		engine_fixture_secondary("test_engine", prefix) != 0)
		return drain_fail("no manifest or no EAL");
	c = zcs_attach("dead_client");
	if (c == NULL)
		return drain_fail("zcs_attach failed");
	for (i = 0; i < DEAD_CLIENT_N; i++) {
		a = (struct zcs_sign_args){.account = m.accounts[i % m.count].account,
			.cookie = i,
			.algo = ZCS_ALGO_ECDSA,
			.hash = hash};
		if (zcs_submit(c, &a) != 0)
			return drain_fail("zcs_submit refused");
	}
	printf("ready %d\n", zcs_client_slot(c));
	fflush(stdout);
	for (;;)
		pause();
}

static const struct zcs_manifest_account *
account_of_shard(const struct zcs_manifest *m, uint32_t shard, unsigned int k)
{
	size_t i;

	for (i = 0; i < m->count; i++)
		if (m->accounts[i].shard == shard && k-- == 0)
			return &m->accounts[i];
	return NULL;
}

/*
 * The client whose engine dies: DOWN_OK requests on shard 1 (they complete),
 * DOWN_HELD on shard 0 (its signer is stopped: they stay in the engine), say
 * "ready", then poll until the held ones complete (engine_down, once the
 * engine is killed); print the counts, the CLOCK_MONOTONIC ms of the first
 * engine_down and what a submit then returns.
 */
static int
down_client(const char *prefix, const char *manifest)
{
	struct zcs_manifest m;
	struct zcs_request *out[64];
	struct zcs_sign_args a;
	struct zcs_client *c;
	uint8_t hash[32] = {3};
	unsigned int i, k, ok = 0, down = 0, other = 0;
	uint64_t first_down = 0, end;
	char err[512];
	int rc;

	if (zcs_manifest_load(&m, err, sizeof(err), manifest) != 0 ||
		engine_fixture_secondary("test_engine", prefix) != 0)
		return drain_fail("no manifest or no EAL");
	c = zcs_attach("down_client");
	if (c == NULL)
		return drain_fail("zcs_attach failed");
	for (i = 0; i < DOWN_OK + DOWN_HELD; i++) {
		const struct zcs_manifest_account *acct =
			account_of_shard(&m, i < DOWN_OK ? 1 : 0, i % 40);

		a = (struct zcs_sign_args){.account = acct->account,
			.cookie = i,
			.algo = ZCS_ALGO_ECDSA,
			.hash = hash};
		if (zcs_submit(c, &a) != 0)
			return drain_fail("zcs_submit refused");
	}
	end = proc_now_ns() + 20000000000ULL;
	while (ok + down + other < DOWN_OK + DOWN_HELD && proc_now_ns() < end) {
		k = zcs_poll(c, out, RTE_DIM(out));
		for (i = 0; i < k; i++) {
			if (out[i]->status == ZCS_OK)
				ok++;
			else if (out[i]->status == ZCS_ERR_ENGINE_DOWN && out[i]->cookie >= DOWN_OK)
				down++;
			else
				other++;
			if (out[i]->status == ZCS_ERR_ENGINE_DOWN && first_down == 0)
				first_down = zcs_mono_ms();
		}
		zcs_release(c, out, k);
		if (ok == DOWN_OK && down == 0) {
			static bool said;

			if (!said) {
				printf("ready\n");
				fflush(stdout);
				said = true;
			}
		}
		if (k == 0)
			nap_us(200);
	}
	a.cookie = 999;
	rc = zcs_submit(c, &a);
	printf("ok=%u down=%u other=%u first_down_ms=%" PRIu64 " submit=%d\n", ok, down, other,
		first_down, rc);
	fflush(stdout);
	zcs_detach(c);
	zcs_manifest_free(&m);
	return 0;
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(bad_requests, test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(deadlines_expire, test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(bulk_100k, test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(backpressure, test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(kill_signer, test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(cli_engine_path, test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(cli_no_engine, test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(cli_engine_usage, test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(measurement_mismatch, test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(sigterm_drain, test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(dead_client_reaped, test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(engine_death_seen, test_setup, test_teardown),
	};

	if (argc == 4 && strcmp(argv[1], DRAIN_CLIENT_ARG) == 0)
		return drain_client(argv[2], argv[3]);
	if (argc == 4 && strcmp(argv[1], DEAD_CLIENT_ARG) == 0)
		return dead_client(argv[2], argv[3]);
	if (argc == 4 && strcmp(argv[1], DOWN_CLIENT_ARG) == 0)
		return down_client(argv[2], argv[3]);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
