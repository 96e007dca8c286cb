/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The floors of zcsign-bench --baselines and zcsign-bench-micro (baseline.h).
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
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

#include <zcsign/wire.h>

#include "baseline.h"
#include "bundle.h"
#include "clock.h"
#include "hex.h"
#include "sign.h"

/* The presignature pools: room for a refill batch with the pool never empty. */
#define PRESIG_CAP 4096

int
zcs_baseline_pin(int cpu)
{
	cpu_set_t set;
	long i, n = sysconf(_SC_NPROCESSORS_ONLN);

	CPU_ZERO(&set);
	if (cpu >= 0)
		CPU_SET(cpu, &set);
	else
		for (i = 0; i < n && i < CPU_SETSIZE; i++)
			CPU_SET(i, &set);
	return pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

void
zcs_baseline_random_hash(uint8_t h[32])
{
	if (getrandom(h, 32, 0) != 32)
		memset(h, 0x5a, 32);
}

int
zcs_baseline_init(struct zcs_baseline *b, int cpu_client, int cpu_server)
{
	struct zcs_keystore none;
	struct zcs_keystore_delta d;
	uint64_t account = htole64(ZCS_BASELINE_ACCOUNT);
	uint8_t rec[ZCS_BUNDLE_REC_LEN];
	char err[256];
	int rc;

	memset(b, 0, sizeof(*b));
	b->cpu_client = cpu_client;
	b->cpu_server = cpu_server;
	b->ctx = zcs_sign_ctx_create();
	if (b->ctx == NULL) {
		fprintf(stderr, "zcsign-bench: baselines: no secp256k1 context\n");
		return -1;
	}
	/* One key, made in memory and merged into an empty store the way a bundle's are. */
	memcpy(rec, &account, sizeof(account));
	do
		zcs_baseline_random_hash(rec + 8);
	while (!secp256k1_ec_seckey_verify(b->ctx, rec + 8));
	zcs_keystore_sealed(&none, 0, 1);
	rc = zcs_keystore_merge(&b->ks, &d, &none, b->ctx, rec, 1, 1, err, sizeof(err));
	explicit_bzero(rec, sizeof(rec));
	if (rc != 0) {
		fprintf(stderr, "zcsign-bench: baselines: %s\n", err);
		goto fail;
	}
	return 0;
fail:
	zcs_sign_ctx_destroy(b->ctx);
	b->ctx = NULL;
	return -1;
}

void
zcs_baseline_fini(struct zcs_baseline *b)
{
	if (b->ctx == NULL)
		return;
	zcs_keystore_wipe(&b->ks);
	zcs_sign_ctx_destroy(b->ctx);
	b->ctx = NULL;
}

int
zcs_baseline_sign(
	struct zcs_baseline *b, unsigned int algo, uint64_t *ns, unsigned int n, unsigned int *per)
{
	const struct zcs_key *key = zcs_keystore_find(&b->ks, ZCS_BASELINE_ACCOUNT);
	uint8_t hash[32], sig[64], recid;
	unsigned int i;

	*per = 1;
	zcs_baseline_random_hash(hash);
	for (i = 0; i < n; i++) {
		uint64_t t0 = zcs_mono_ns();

		if (zcs_sign(b->ctx, sig, &recid, key, algo, ZCS_NONCE_RFC6979, hash) != ZCS_OK)
			return -1;
		ns[i] = zcs_mono_ns() - t0;
		hash[i & 31] ^= sig[i & 63]; /* a new message each time */
	}
	return 0;
}

struct zcs_presig *
zcs_baseline_presig_pool(void)
{
	struct zcs_presig_conf conf;

	zcs_presig_conf_default(&conf);
	conf.capacity[ZCS_PRESIG_ECDSA] = PRESIG_CAP;
	conf.capacity[ZCS_PRESIG_SCHNORR] = PRESIG_CAP;
	return zcs_presig_create(&conf);
}

int
zcs_baseline_presig_fill(struct zcs_presig *ps, unsigned int kind, unsigned int want)
{
	unsigned int got = 0;

	while (got < want) {
		int k = zcs_presig_refill(ps, kind, want - got);

		if (k < 0)
			return -1;
		if (k == 0)
			break;
		got += (unsigned int)k;
	}
	return 0;
}

int
zcs_baseline_presig(
	struct zcs_baseline *b, unsigned int algo, uint64_t *ns, unsigned int n, unsigned int *per)
{
	const struct zcs_key *key = zcs_keystore_find(&b->ks, ZCS_BASELINE_ACCOUNT);
	unsigned int kind = algo == ZCS_ALGO_SCHNORR ? ZCS_PRESIG_SCHNORR : ZCS_PRESIG_ECDSA;
	struct zcs_presig_stats st;
	struct zcs_presig *ps;
	uint8_t hash[32], sig[64], recid;
	unsigned int i, j;
	int rc = -1;

	*per = ZCS_PRESIG_BATCH;
	ps = zcs_baseline_presig_pool();
	if (ps == NULL)
		return -1;
	zcs_baseline_random_hash(hash);
	for (i = 0; i < n; i++) {
		uint64_t t0;

		if (zcs_baseline_presig_fill(ps, kind, ZCS_PRESIG_BATCH) != 0)
			goto out;
		t0 = zcs_mono_ns();
		for (j = 0; j < ZCS_PRESIG_BATCH; j++) {
			if (zcs_presig_sign(b->ctx, ps, sig, &recid, key, algo, hash) != ZCS_OK)
				goto out;
			hash[j & 31] ^= sig[32 + (j & 31)];
		}
		ns[i] = zcs_mono_ns() - t0;
	}
	zcs_presig_stats(ps, &st);
	rc = st.misses[kind] == 0 ? 0 : -1;
out:
	zcs_presig_destroy(ps);
	return rc;
}

/* ---- AF_UNIX round trip ---- */

struct echo {
	int fd;
	int cpu;
	atomic_int stop;
	pthread_t tid;
};

/* Exactly len bytes from a non-blocking socket, busy-polling; -1 when closed or stopped. */
int
zcs_baseline_recv_spin(int fd, void *buf, size_t len, atomic_int *stop)
{
	size_t got = 0;

	while (got < len) {
		ssize_t r = recv(fd, (uint8_t *)buf + got, len - got, MSG_DONTWAIT);

		if (r > 0)
			got += (size_t)r;
		else if (r == 0 || (errno != EAGAIN && errno != EINTR))
			return -1;
		else if (stop != NULL && atomic_load_explicit(stop, memory_order_relaxed))
			return -1;
	}
	return 0;
}

/* Answers each SIGN frame with a SIGN_REPLY of the same seq: a signer that signs nothing. */
static void *
echo_main(void *arg)
{
	struct echo *e = arg;
	struct zcs_wire_sign req;
	struct zcs_wire_sign_reply rep;
	uint8_t sig[64] = {0};

	zcs_baseline_pin(e->cpu);
	while (zcs_baseline_recv_spin(e->fd, &req, sizeof(req), &e->stop) == 0) {
		zcs_wire_sign_reply(&rep, le64toh(req.seq), ZCS_OK, 0, 0, sig);
		if (send(e->fd, &rep, sizeof(rep), MSG_NOSIGNAL) != sizeof(rep))
			break;
	}
	return NULL;
}

int
zcs_baseline_unix_rt(struct zcs_baseline *b, uint64_t *ns, unsigned int n, unsigned int *per)
{
	struct zcs_wire_sign req;
	struct zcs_wire_sign_reply rep;
	struct echo e = {.cpu = b->cpu_server};
	uint8_t hash[32];
	unsigned int i;
	int sv[2], rc = -1;

	*per = 1;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		return -1;
	e.fd = sv[1];
	if (pthread_create(&e.tid, NULL, echo_main, &e) != 0) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	zcs_baseline_pin(b->cpu_client);
	zcs_baseline_random_hash(hash);
	for (i = 0; i < n; i++) {
		uint64_t t0 = zcs_mono_ns();

		zcs_wire_sign(&req, i, ZCS_BASELINE_ACCOUNT, ZCS_ALGO_ECDSA, hash);
		if (send(sv[0], &req, sizeof(req), MSG_NOSIGNAL) != sizeof(req) ||
			zcs_baseline_recv_spin(sv[0], &rep, sizeof(rep), NULL) != 0 ||
			le64toh(rep.seq) != i)
			goto out;
		ns[i] = zcs_mono_ns() - t0;
	}
	rc = 0;
out:
	atomic_store(&e.stop, 1);
	shutdown(sv[0], SHUT_RDWR);
	pthread_join(e.tid, NULL);
	close(sv[0]);
	close(sv[1]);
	zcs_baseline_pin(-1);
	return rc;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

void
zcs_baseline_percentiles(
	uint64_t *ns, unsigned int n, unsigned int per, double *p50_us, double *p99_us)
{
	qsort(ns, n, sizeof(*ns), cmp_u64);
	*p50_us = (double)ns[(size_t)((double)(n - 1) * 0.5)] / per / 1e3;
	*p99_us = (double)ns[(size_t)((double)(n - 1) * 0.99)] / per / 1e3;
}
