/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zcsign-bench-micro: what each piece of the signing path costs, in ns per
 * operation, chosen by name like libsecp256k1's bench:
 *
 *   zcsign-bench-micro [--iters N] [--cpus A,B] [NAME...]     (no NAME: all)
 *
 * Costs of a few ns are timed in batches of BATCH operations (the clock read
 * would dominate otherwise) and reported per operation; costs of microseconds
 * are timed one by one, so their percentiles are real. Round trips run the
 * real signer loop (enclave/serve.c, spin mode) in a thread pinned to the
 * second CPU, the client busy-polling on the first: the floor the engine's
 * worker sees, without DPDK in between.
 *
 * Presignatures: the online step is timed per ZCS_PRESIG_BATCH signatures
 * from a pool refilled, untimed, in between; presig_refill_* time one refill
 * batch (k*G per entry, plus one batched inversion for ECDSA) and report per
 * entry, whose inverse is the signature rate one refill core sustains. The
 * precomputed round trips keep the pool topped up from the client thread
 * between requests (untimed; no refill thread, which at SCHED_IDLE would
 * starve next to two spinning threads on a 2-core box), so every request
 * takes the online path; misses, if any, are printed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mempool.h>
#include <rte_pause.h>
#include <rte_ring.h>

#include <secp256k1.h>
#include <secp256k1_extrakeys.h>

#include <zcsign/histogram.h>
#include <zcsign/wire.h>

#include "baseline.h"
#include "clock.h"
#include "num.h"
#include "presig.h"
#include "rmtree.h"
#include "serve.h"
#include "sign.h"

#define BATCH 1000

struct bench_ctx {
	unsigned int iters;
	int cpu_client;
	int cpu_server;
	struct zcs_baseline base; /* context, key, CPUs */
	secp256k1_context *ctx; /* base's */
	struct zcs_keystore *ks; /* base's */
	int eal; /* 1 once the EAL is up (a DPDK bench was chosen) */
};

/*
 * One benchmark of the table: its runner, and what the runner measures (the
 * same runner serves every algorithm and nonce mode).
 */
struct bench {
	const char *name;
	const char *what;
	int (*run)(struct bench_ctx *b, const struct bench *bn, uint64_t *ns, unsigned int n,
		unsigned int *per);
	unsigned int algo; /* ZCS_ALGO_*: signing, presignature and round-trip benches */
	unsigned int nonce; /* ZCS_NONCE_*: round trips */
	bool batched; /* a sample times a batch: iters / 10 samples are plenty */
};

static int
bench_sign(struct bench_ctx *b, const struct bench *bn, uint64_t *ns, unsigned int n,
	unsigned int *per)
{
	return zcs_baseline_sign(&b->base, bn->algo, ns, n, per);
}

/* The pools of baseline.c hold this many entries of each kind. */
#define PRESIG_CAP 4096

static unsigned int
presig_kind(unsigned int algo)
{
	return algo == ZCS_ALGO_SCHNORR ? ZCS_PRESIG_SCHNORR : ZCS_PRESIG_ECDSA;
}

static int
bench_presig(struct bench_ctx *b, const struct bench *bn, uint64_t *ns, unsigned int n,
	unsigned int *per)
{
	return zcs_baseline_presig(&b->base, bn->algo, ns, n, per);
}

static int
bench_refill(struct bench_ctx *b, const struct bench *bn, uint64_t *ns, unsigned int n,
	unsigned int *per)
{
	struct zcs_presig *ps = zcs_baseline_presig_pool();
	unsigned int kind = presig_kind(bn->algo);
	int rc = 0;

	(void)b;
	*per = ZCS_PRESIG_BATCH;
	if (ps == NULL)
		return -1;
	for (unsigned int i = 0; i < n && rc == 0; i++) {
		uint64_t t0 = zcs_mono_ns();

		if (zcs_presig_refill(ps, kind, ZCS_PRESIG_BATCH) != ZCS_PRESIG_BATCH)
			rc = -1;
		ns[i] = zcs_mono_ns() - t0;
		zcs_presig_drain(ps, kind);
	}
	zcs_presig_destroy(ps);
	return rc;
}

static int
bench_encode(struct bench_ctx *b, const struct bench *bn, uint64_t *ns, unsigned int n,
	unsigned int *per)
{
	static struct zcs_wire_sign frames[BATCH];
	uint8_t hash[32];

	(void)b;
	(void)bn;
	*per = BATCH;
	zcs_baseline_random_hash(hash);
	for (unsigned int i = 0; i < n; i++) {
		uint64_t t0 = zcs_mono_ns();

		for (unsigned int j = 0; j < BATCH; j++)
			zcs_wire_sign(&frames[j], j, i, ZCS_ALGO_ECDSA, hash);
		ns[i] = zcs_mono_ns() - t0;
	}
	return frames[BATCH - 1].seq == BATCH - 1 ? 0 : -1;
}

static int
bench_decode(struct bench_ctx *b, const struct bench *bn, uint64_t *ns, unsigned int n,
	unsigned int *per)
{
	static struct zcs_wire_sign_reply frames[BATCH];
	union zcs_wire_frame f;
	uint8_t sig[64] = {0};
	size_t used;
	uint64_t sum = 0;

	(void)b;
	(void)bn;
	*per = BATCH;
	for (unsigned int j = 0; j < BATCH; j++)
		zcs_wire_sign_reply(&frames[j], j, ZCS_OK, 0, 1000, sig);
	for (unsigned int i = 0; i < n; i++) {
		uint64_t t0 = zcs_mono_ns();

		for (unsigned int j = 0; j < BATCH; j++) {
			if (zcs_wire_decode(&frames[j], sizeof(frames[j]), &f, &used) != 0)
				return -1;
			sum += f.sign_reply.seq;
		}
		ns[i] = zcs_mono_ns() - t0;
	}
	return sum > 0 ? 0 : -1;
}

static int
bench_hist(struct bench_ctx *b, const struct bench *bn, uint64_t *ns, unsigned int n,
	unsigned int *per)
{
	static struct zcs_hist h;
	uint64_t v = 20000;

	(void)b;
	(void)bn;
	*per = BATCH;
	zcs_hist_init(&h);
	for (unsigned int i = 0; i < n; i++) {
		uint64_t t0 = zcs_mono_ns();

		for (unsigned int j = 0; j < BATCH; j++) {
			zcs_hist_record(&h, v);
			v = v * 6364136223846793005ULL +
				1442695040888963407ULL; /* spread buckets */
			v >>= 40;
		}
		ns[i] = zcs_mono_ns() - t0;
	}
	return h.count == (uint64_t)n * BATCH ? 0 : -1;
}

/* The signer loop in a thread on the second CPU. */
struct server_thread {
	struct zcs_server *srv;
	atomic_int stop;
	int cpu;
	pthread_t tid;
};

static void *
server_main(void *arg)
{
	struct server_thread *st = arg;

	zcs_baseline_pin(st->cpu);
	zcs_serve_run(st->srv);
	return NULL;
}

/* SIGN -> SIGN_REPLY of bn->algo through the signer loop in bn->nonce mode, one at a time. */
static int
bench_rt(struct bench_ctx *b, const struct bench *bn, uint64_t *ns, unsigned int n,
	unsigned int *per)
{
	unsigned int algo = bn->algo, nonce = bn->nonce, kind = presig_kind(bn->algo);
	struct zcs_presig *ps = NULL;
	struct zcs_presig_stats pst;
	struct zcs_serve_conf conf = {0};
	struct server_thread st = {0};
	struct zcs_wire_hello hello;
	struct zcs_wire_sign req;
	union {
		struct zcs_wire_hello_reply h;
		struct zcs_wire_sign_reply s;
	} rep;
	uint8_t hash[32];
	int sv[2], rc = -1;

	*per = 1;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		return -1;
	if (nonce == ZCS_NONCE_PRECOMPUTED) {
		ps = zcs_baseline_presig_pool();
		if (ps == NULL || zcs_baseline_presig_fill(ps, kind, PRESIG_CAP) != 0)
			goto out;
	}
	conf.ctx = b->ctx;
	conf.ks = b->ks;
	conf.nonce = nonce;
	conf.presig = ps;
	conf.listen_fd = -1;
	conf.idle = ZCS_POLL_SPIN;
	conf.stop = &st.stop;
	st.cpu = b->cpu_server;
	st.srv = zcs_serve_create(&conf);
	if (st.srv == NULL || zcs_serve_conn_open(st.srv, sv[1]) != 0)
		goto out;
	if (pthread_create(&st.tid, NULL, server_main, &st) != 0)
		goto out;
	zcs_baseline_pin(b->cpu_client);
	zcs_wire_hello(&hello, 0, 1);
	if (send(sv[0], &hello, sizeof(hello), MSG_NOSIGNAL) != sizeof(hello) ||
		zcs_baseline_recv_spin(sv[0], &rep.h, sizeof(rep.h), NULL) != 0)
		goto join;
	zcs_baseline_random_hash(hash);
	for (unsigned int i = 0; i < n; i++) {
		uint64_t t0;

		/* This thread is the pools' producer, the signer loop their consumer. */
		if (ps != NULL && (i % ZCS_PRESIG_BATCH) == 0 &&
			zcs_baseline_presig_fill(ps, kind, ZCS_PRESIG_BATCH) != 0)
			goto join;
		t0 = zcs_mono_ns();
		zcs_wire_sign(&req, i, ZCS_BASELINE_ACCOUNT, (uint8_t)algo, hash);
		if (send(sv[0], &req, sizeof(req), MSG_NOSIGNAL) != sizeof(req) ||
			zcs_baseline_recv_spin(sv[0], &rep.s, sizeof(rep.s), NULL) != 0 ||
			le16toh(rep.s.status) != ZCS_OK)
			goto join;
		ns[i] = zcs_mono_ns() - t0;
		hash[i & 31] ^= rep.s.sig[i & 63];
	}
	rc = 0;
join:
	atomic_store(&st.stop, 1);
	pthread_join(st.tid, NULL);
out:
	zcs_serve_destroy(st.srv);
	close(sv[0]);
	if (st.srv == NULL)
		close(sv[1]);
	zcs_baseline_pin(-1);
	if (ps != NULL) {
		zcs_presig_stats(ps, &pst);
		if (pst.misses[kind] + pst.discards[kind] > 0)
			fprintf(stderr, "# precomputed round trip: %llu misses, %llu discards\n",
				(unsigned long long)pst.misses[kind],
				(unsigned long long)pst.discards[kind]);
		zcs_presig_destroy(ps);
	}
	return rc;
}

/* ---- DPDK pieces: the EAL comes up only when one of these is chosen ---- */

static int
eal_up(struct bench_ctx *b)
{
	char lcores[32], prefix[64];
	char *argv[] = {(char *)"zcsign-bench-micro", (char *)"--no-huge", (char *)"--no-pci",
		(char *)"--no-shconf", (char *)"--no-telemetry", (char *)"-m", (char *)"128",
		(char *)"--log-level=lib.eal:error", lcores, prefix, NULL};

	if (b->eal)
		return 0;
	/* two lcores on the two CPUs of the round trips: producer and consumer */
	snprintf(lcores, sizeof(lcores), "--lcores=0@%d,1@%d", b->cpu_client, b->cpu_server);
	snprintf(prefix, sizeof(prefix), "--file-prefix=zcs_micro_%d", (int)getpid());
	if (rte_eal_init((int)RTE_DIM(argv) - 1, argv) < 0) {
		fprintf(stderr, "zcsign-bench-micro: EAL init (--no-huge): %s\n",
			rte_strerror(rte_errno));
		return -1;
	}
	b->eal = 1;
	return 0;
}

/* --no-shconf still makes a runtime directory; nothing else will remove ours. */
static void
eal_down(void)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s", rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	zcs_bench_rmtree(path);
}

#define RING_SIZE 1024

struct handoff {
	struct rte_ring *r;
	uint64_t total; /* objects the consumer takes before it returns */
	atomic_uint_fast64_t taken;
};

/* The consumer lcore: dequeue bursts, as a worker does, until total objects arrived. */
static int
handoff_consumer(void *arg)
{
	struct handoff *h = arg;
	void *objs[32];
	uint64_t got = 0;

	while (got < h->total) {
		unsigned int k = rte_ring_sc_dequeue_burst(h->r, objs, RTE_DIM(objs), NULL);

		if (k == 0) {
			rte_pause();
			continue;
		}
		got += k;
		atomic_store_explicit(&h->taken, got, memory_order_release);
	}
	return 0;
}

/*
 * One object at a time from the main lcore (a client's zcs_submit enqueues
 * one request) to a consumer lcore on the other CPU: a sample is BATCH
 * objects from the first enqueue until the consumer has taken the last.
 */
static int
bench_ring(struct bench_ctx *b, const struct bench *bn, uint64_t *ns, unsigned int n,
	unsigned int *per)
{
	struct handoff h = {.total = (uint64_t)n * BATCH};
	unsigned int lcore = rte_get_next_lcore(-1, 1, 0);
	uint64_t sent = 0;
	int rc = 0;

	(void)bn;
	*per = BATCH;
	if (eal_up(b) != 0 || lcore >= RTE_MAX_LCORE)
		return -1;
	h.r = rte_ring_create(
		"micro_handoff", RING_SIZE, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (h.r == NULL)
		return -1;
	if (rte_eal_remote_launch(handoff_consumer, &h, lcore) != 0) {
		rte_ring_free(h.r);
		return -1;
	}
	for (unsigned int i = 0; i < n; i++) {
		uint64_t t0 = zcs_mono_ns();

		for (unsigned int j = 0; j < BATCH; j++) {
			while (rte_ring_sp_enqueue(h.r, (void *)(uintptr_t)(sent + 1)) != 0)
				rte_pause();
			sent++;
		}
		while (atomic_load_explicit(&h.taken, memory_order_acquire) < sent)
			rte_pause();
		ns[i] = zcs_mono_ns() - t0;
	}
	if (rte_eal_wait_lcore(lcore) != 0)
		rc = -1;
	rte_ring_free(h.r);
	return rc;
}

/*
 * Get one object and put it back through a user-owned cache, as libzcsign
 * does for every request (client.c: per-lcore caches are not safe across
 * DPDK processes).
 */
static int
bench_mempool(struct bench_ctx *b, const struct bench *bn, uint64_t *ns, unsigned int n,
	unsigned int *per)
{
	struct rte_mempool *mp;
	struct rte_mempool_cache *cache;
	void *obj;
	int rc = 0;

	(void)bn;
	*per = BATCH;
	if (eal_up(b) != 0)
		return -1;
	mp = rte_mempool_create(
		"micro_pool", 8191, 192, 0, 0, NULL, NULL, NULL, NULL, SOCKET_ID_ANY, 0);
	cache = rte_mempool_cache_create(256, SOCKET_ID_ANY);
	if (mp == NULL || cache == NULL) {
		rc = -1;
		goto out;
	}
	for (unsigned int i = 0; i < n && rc == 0; i++) {
		uint64_t t0 = zcs_mono_ns();

		for (unsigned int j = 0; j < BATCH; j++) {
			if (rte_mempool_generic_get(mp, &obj, 1, cache) != 0) {
				rc = -1;
				break;
			}
			rte_mempool_generic_put(mp, &obj, 1, cache);
		}
		ns[i] = zcs_mono_ns() - t0;
	}
out:
	if (cache != NULL) {
		rte_mempool_cache_flush(cache, mp);
		rte_mempool_cache_free(cache);
	}
	rte_mempool_free(mp);
	return rc;
}

static int
bench_unix_rt(struct bench_ctx *b, const struct bench *bn, uint64_t *ns, unsigned int n,
	unsigned int *per)
{
	(void)bn;
	return zcs_baseline_unix_rt(&b->base, ns, n, per);
}

static const struct bench benches[] = {
	{"ecdsa_sign", "zcs_sign ECDSA (RFC 6979, low-S)", bench_sign, .algo = ZCS_ALGO_ECDSA},
	{"ecdsa_recoverable_sign", "zcs_sign recoverable ECDSA", bench_sign,
		.algo = ZCS_ALGO_ECDSA_RECOVERABLE},
	{"schnorr_sign", "zcs_sign BIP-340 (aux randomness from the DRBG)", bench_sign,
		.algo = ZCS_ALGO_SCHNORR},
	{"wire_encode_sign", "zcs_wire_sign into a buffer", bench_encode, .batched = true},
	{"wire_decode_reply", "zcs_wire_decode of a SIGN_REPLY", bench_decode, .batched = true},
	{"hist_record", "zcs_hist_record of a value spread over the buckets", bench_hist,
		.batched = true},
	{"ring_handoff", "rte_ring one object from lcore to lcore (two CPUs), per object",
		bench_ring, .batched = true},
	{"mempool_get_put", "rte_mempool get + put of one object with a user cache", bench_mempool,
		.batched = true},
	{"unix_rt", "one frame out and back over AF_UNIX, busy-polled, no signing", bench_unix_rt},
	{"signer_rt_ecdsa", "SIGN -> SIGN_REPLY through the signer loop, AF_UNIX", bench_rt,
		.algo = ZCS_ALGO_ECDSA, .nonce = ZCS_NONCE_RFC6979},
	{"signer_rt_schnorr", "the same, BIP-340", bench_rt, .algo = ZCS_ALGO_SCHNORR,
		.nonce = ZCS_NONCE_RFC6979},
	{"presig_online_ecdsa", "zcs_presig_sign ECDSA from a full pool (online step)",
		bench_presig, .algo = ZCS_ALGO_ECDSA, .batched = true},
	{"presig_online_schnorr", "zcs_presig_sign BIP-340 from a full pool (online step)",
		bench_presig, .algo = ZCS_ALGO_SCHNORR, .batched = true},
	{"presig_refill", "ECDSA presignature refill, per entry (k*G + batched inversion)",
		bench_refill, .algo = ZCS_ALGO_ECDSA, .batched = true},
	{"presig_refill_schnorr", "BIP-340 presignature refill, per entry (k*G)", bench_refill,
		.algo = ZCS_ALGO_SCHNORR, .batched = true},
	{"signer_rt_ecdsa_precomputed", "SIGN -> SIGN_REPLY, ECDSA, precomputed nonces", bench_rt,
		.algo = ZCS_ALGO_ECDSA, .nonce = ZCS_NONCE_PRECOMPUTED},
	{"signer_rt_schnorr_precomputed", "the same, BIP-340", bench_rt, .algo = ZCS_ALGO_SCHNORR,
		.nonce = ZCS_NONCE_PRECOMPUTED},
	{"signer_rt_ecdsa_hedged", "SIGN -> SIGN_REPLY, ECDSA, hedged RFC 6979", bench_rt,
		.algo = ZCS_ALGO_ECDSA, .nonce = ZCS_NONCE_HEDGED},
};

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void
report(const struct bench *bn, uint64_t *ns, unsigned int n, unsigned int per)
{
	double sum = 0;

	qsort(ns, n, sizeof(*ns), cmp_u64);
	for (unsigned int i = 0; i < n; i++)
		sum += (double)ns[i];
#define PCT(p) ((double)ns[(size_t)((double)(n - 1) * (p))] / per)
	printf("%-30s %8u %10.1f %10.1f %10.1f %10.1f %10.1f %10.1f\n", bn->name, n * per,
		(double)ns[0] / per, PCT(0.5), sum / n / per, PCT(0.99), PCT(0.999),
		(double)ns[n - 1] / per);
#undef PCT
}

static void
usage(FILE *f)
{
	fprintf(f, "Usage: zcsign-bench-micro [--iters N] [--cpus CLIENT,SERVER] [NAME...]\n\n");
	for (size_t i = 0; i < sizeof(benches) / sizeof(benches[0]); i++)
		fprintf(f, "  %-30s %s\n", benches[i].name, benches[i].what);
}

int
main(int argc, char **argv)
{
	struct bench_ctx b = {.iters = 20000, .cpu_client = 0, .cpu_server = 1};
	bool chosen[sizeof(benches) / sizeof(benches[0])] = {false};
	bool any = false;
	uint64_t *ns;
	int rc = 0;

	for (int i = 1; i < argc; i++) {
		size_t k;

		if (strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		}
		if (strcmp(argv[i], "--iters") == 0 && i + 1 < argc) {
			uint64_t v;

			if (zcs_parse_u64(argv[++i], 10000000, &v) != 0 || v == 0) {
				fprintf(stderr, "zcsign-bench-micro: --iters: 1..10000000\n");
				return 2;
			}
			b.iters = (unsigned int)v;
			continue;
		}
		if (strcmp(argv[i], "--cpus") == 0 && i + 1 < argc) {
			if (sscanf(argv[++i], "%d,%d", &b.cpu_client, &b.cpu_server) != 2) {
				fprintf(stderr, "zcsign-bench-micro: --cpus: expected A,B\n");
				return 2;
			}
			continue;
		}
		for (k = 0; k < sizeof(benches) / sizeof(benches[0]); k++)
			if (strcmp(argv[i], benches[k].name) == 0)
				break;
		if (k == sizeof(benches) / sizeof(benches[0])) {
			fprintf(stderr, "zcsign-bench-micro: unknown benchmark or option '%s'\n",
				argv[i]);
			usage(stderr);
			return 2;
		}
		chosen[k] = any = true;
	}

	ns = calloc(b.iters, sizeof(*ns));
	if (ns == NULL || zcs_baseline_init(&b.base, b.cpu_client, b.cpu_server) != 0) {
		fprintf(stderr, "zcsign-bench-micro: setup failed\n");
		return 1;
	}
	b.ctx = b.base.ctx;
	b.ks = &b.base.ks;
	printf("# ns per operation; cpus client=%d server=%d\n", b.cpu_client, b.cpu_server);
	printf("%-30s %8s %10s %10s %10s %10s %10s %10s\n", "benchmark", "ops", "min", "p50", "avg",
		"p99", "p99.9", "max");
	for (size_t k = 0; k < sizeof(benches) / sizeof(benches[0]); k++) {
		unsigned int per = 1;
		unsigned int n = b.iters;

		if (any && !chosen[k])
			continue;
		if (benches[k].batched)
			n = b.iters / 10 > 0 ? b.iters / 10 : 1;
		if (benches[k].run(&b, &benches[k], ns, n, &per) != 0) {
			fprintf(stderr, "zcsign-bench-micro: %s failed\n", benches[k].name);
			rc = 1;
			continue;
		}
		report(&benches[k], ns, n, per);
	}
	zcs_baseline_fini(&b.base);
	free(ns);
	if (b.eal)
		eal_down();
	return rc;
}
