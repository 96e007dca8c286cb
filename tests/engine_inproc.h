/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * An in-process engine for unit tests, set up as test_worker does: an EAL in
 * this process (--no-huge, three lcores over whatever CPUs we may use), one
 * real signer per shard (enclave/serve.c) in a thread on a unix socket, keys
 * for INPROC_NACC accounts per shard, and the engine's configuration in
 * backoff poll mode (tests share 2 cores). Shard INPROC_PRESIG_SHARD's signer
 * signs with precomputed nonces from small pools filled once at start, with
 * no refill thread: a test that signs more than a pool holds sees exact
 * misses; the others use RFC 6979.
 *
 * Header-only (static functions) for the tests that include it; the caller
 * links zcs_engine_dep and zcs_enclave_dep. Every wait has a deadline.
 */
#ifndef ZCS_TESTS_ENGINE_INPROC_H
#define ZCS_TESTS_ENGINE_INPROC_H

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <secp256k1.h>

#include <rte_eal.h>
#include <rte_lcore.h>

#include <zcsign/engine.h>
#include <zcsign/shard.h>

#include "addr.h"
#include "hex.h"
#include "keystore.h"
#include "lcores.h"
#include "presig.h"
#include "serve.h"
#include "sign.h"

#define INPROC_SHARDS 2
#define INPROC_NACC 4 /* accounts with keys, per shard */
#define INPROC_PRESIG_SHARD 1
#define INPROC_PRESIG_ECDSA 64 /* pool capacities, filled once: one refill batch each */
#define INPROC_PRESIG_SCHNORR 32
#define INPROC_STATS_MS 20 /* stats_interval_ms: signer counters fresh within a few polls */

struct inproc_signer {
	uint16_t shard;
	char keyfile[160];
	char text[100]; /* unix:PATH */
	struct zcs_addr addr;
	secp256k1_context *ctx;
	struct zcs_keystore ks;
	int lfd;
	struct zcs_server *srv;
	struct zcs_presig *presig; /* shard INPROC_PRESIG_SHARD only */
	pthread_t thread;
	bool running;
	atomic_int stop; /* the server's stop flag (our loop uses quit) */
	atomic_int quit;
	uint64_t accounts[INPROC_NACC];
};

struct inproc {
	char dir[64];
	char runtime_dir[256]; /* the EAL's, removed at the end */
	uint8_t measurement[ZCS_MEASUREMENT_LEN];
	struct inproc_signer sig[INPROC_SHARDS];
};

static uint64_t
inproc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Key file of s->shard of INPROC_SHARDS (mode 0600, keystore.h format); 0 or -1. */
static int
inproc_write_keys(struct inproc_signer *s, secp256k1_context *ctx)
{
	uint8_t seckey[32];
	char line[160], hex[65];
	uint64_t a = 1;
	int fd, i, rc = 0;

	fd = open(s->keyfile, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	snprintf(
		line, sizeof(line), "zcsign-keys v1 shard=%u shards=%d\n", s->shard, INPROC_SHARDS);
	if (write(fd, line, strlen(line)) != (ssize_t)strlen(line))
		rc = -1;
	for (i = 0; rc == 0 && i < INPROC_NACC; i++) {
		while (zcs_shard_of(a, INPROC_SHARDS) != s->shard)
			a++;
		s->accounts[i] = a++;
		do {
			if (getrandom(seckey, sizeof(seckey), 0) != (ssize_t)sizeof(seckey))
				rc = -1;
		} while (rc == 0 && !secp256k1_ec_seckey_verify(ctx, seckey));
		zcs_hex_encode(seckey, 32, hex);
		snprintf(line, sizeof(line), "%" PRIu64 " %s\n", s->accounts[i], hex);
		if (write(fd, line, strlen(line)) != (ssize_t)strlen(line))
			rc = -1;
	}
	explicit_bzero(seckey, sizeof(seckey));
	explicit_bzero(hex, sizeof(hex));
	explicit_bzero(line, sizeof(line));
	close(fd);
	return rc;
}

static void *
inproc_signer_thread(void *arg)
{
	struct inproc_signer *s = arg;

	while (!atomic_load(&s->quit))
		if (zcs_serve_poll(s->srv) == ZCS_SERVE_IDLE)
			usleep(50);
	return NULL;
}

/* Pools of INPROC_PRESIG_ECDSA and _SCHNORR presignatures, full; NULL on failure. */
static struct zcs_presig *
inproc_presig(void)
{
	struct zcs_presig_conf pc;
	struct zcs_presig *ps;

	zcs_presig_conf_default(&pc);
	pc.capacity[ZCS_PRESIG_ECDSA] = INPROC_PRESIG_ECDSA;
	pc.capacity[ZCS_PRESIG_SCHNORR] = INPROC_PRESIG_SCHNORR;
	ps = zcs_presig_create(&pc);
	if (ps == NULL)
		return NULL;
	if (zcs_presig_refill(ps, ZCS_PRESIG_ECDSA, INPROC_PRESIG_ECDSA) != INPROC_PRESIG_ECDSA ||
		zcs_presig_refill(ps, ZCS_PRESIG_SCHNORR, INPROC_PRESIG_SCHNORR) !=
			INPROC_PRESIG_SCHNORR) {
		zcs_presig_destroy(ps);
		return NULL;
	}
	return ps;
}

/* Start the signer of shard in p->dir; 0, or -1 with a message on stderr. */
static int
inproc_signer_start(struct inproc *p, struct inproc_signer *s, uint16_t shard)
{
	struct zcs_serve_conf conf;
	char err[256];

	s->shard = shard;
	s->lfd = -1;
	snprintf(s->keyfile, sizeof(s->keyfile), "%s/shard-%u.keys", p->dir, shard);
	snprintf(s->text, sizeof(s->text), "unix:%s/s%u.sock", p->dir, shard);
	if (zcs_addr_parse(s->text, true, &s->addr, err, sizeof(err)) != 0)
		goto fail;
	s->ctx = zcs_sign_ctx_create();
	if (s->ctx == NULL || inproc_write_keys(s, s->ctx) != 0) {
		snprintf(err, sizeof(err), "cannot write %s", s->keyfile);
		goto fail;
	}
	if (zcs_keystore_load(&s->ks, s->ctx, s->keyfile, err, sizeof(err)) != 0)
		goto fail;
	s->lfd = zcs_addr_listen(&s->addr, err, sizeof(err));
	if (s->lfd < 0)
		goto fail;
	memset(&conf, 0, sizeof(conf));
	conf.ctx = s->ctx;
	conf.ks = &s->ks;
	memcpy(conf.measurement, p->measurement, sizeof(conf.measurement));
	conf.listen_fd = s->lfd;
	conf.idle = ZCS_POLL_BACKOFF;
	conf.stop = &s->stop;
	if (shard == INPROC_PRESIG_SHARD) {
		s->presig = inproc_presig();
		if (s->presig == NULL) {
			snprintf(err, sizeof(err), "cannot make presignature pools: %s",
				strerror(errno));
			goto fail;
		}
		conf.nonce = ZCS_NONCE_PRECOMPUTED;
		conf.presig = s->presig;
	}
	s->srv = zcs_serve_create(&conf);
	if (s->srv == NULL || pthread_create(&s->thread, NULL, inproc_signer_thread, s) != 0) {
		snprintf(err, sizeof(err), "cannot start the server");
		goto fail;
	}
	s->running = true;
	return 0;
fail:
	fprintf(stderr, "signer of shard %u: %s\n", shard, err);
	return -1;
}

static void
inproc_signer_stop(struct inproc_signer *s)
{
	if (s->running) {
		atomic_store(&s->quit, 1);
		pthread_join(s->thread, NULL);
		s->running = false;
	}
	zcs_serve_destroy(s->srv);
	s->srv = NULL;
	zcs_presig_destroy(s->presig);
	s->presig = NULL;
	if (s->lfd >= 0)
		close(s->lfd);
	s->lfd = -1;
	unlink(s->addr.path);
	zcs_keystore_wipe(&s->ks);
	if (s->ctx != NULL)
		zcs_sign_ctx_destroy(s->ctx);
	s->ctx = NULL;
	unlink(s->keyfile);
}

/*
 * EAL (telemetry on when telemetry is true: its socket lands in the runtime
 * directory, which inproc_teardown() removes) and the signers. 0 or -1.
 */
static int
inproc_setup(struct inproc *p, const char *tag, bool telemetry)
{
	char prefix[64], lcores[64];
	char *argv[16];
	int argc = 0;
	unsigned int i;

	memset(p, 0, sizeof(*p));
	snprintf(prefix, sizeof(prefix), "zcs_%s_%d", tag, (int)getpid());
	if (zcs_lcores_map(lcores, sizeof(lcores), 0, 2) != 0)
		return -1;
	argv[argc++] = (char *)tag;
	argv[argc++] = "--no-huge";
	argv[argc++] = "-m";
	argv[argc++] = "512";
	argv[argc++] = "--no-pci";
	argv[argc++] = "--no-shconf";
	if (!telemetry)
		argv[argc++] = "--no-telemetry";
	argv[argc++] = "--file-prefix";
	argv[argc++] = prefix;
	argv[argc++] = "--lcores";
	argv[argc++] = lcores;
	argv[argc++] = "--log-level";
	argv[argc++] = "lib.eal:error";
	argv[argc] = NULL;
	if (rte_eal_init(argc, argv) < 0 || rte_lcore_count() != 3) {
		fprintf(stderr, "rte_eal_init failed (or not 3 lcores)\n");
		return -1;
	}
	snprintf(p->runtime_dir, sizeof(p->runtime_dir), "%s", rte_eal_get_runtime_dir());
	snprintf(p->dir, sizeof(p->dir), "/tmp/zcs-%s-XXXXXX", "inproc");
	if (mkdtemp(p->dir) == NULL || zcs_measure_self(p->measurement) != 0)
		return -1;
	for (i = 0; i < INPROC_SHARDS; i++)
		p->sig[i].lfd = -1;
	for (i = 0; i < INPROC_SHARDS; i++)
		if (inproc_signer_start(p, &p->sig[i], (uint16_t)i) != 0)
			return -1;
	return 0;
}

/* Signers, EAL, and the EAL's runtime directory (with the telemetry socket). */
static void
inproc_teardown(struct inproc *p)
{
	unsigned int i;
	char path[512];

	for (i = 0; i < INPROC_SHARDS; i++)
		inproc_signer_stop(&p->sig[i]);
	if (p->dir[0] != '\0')
		rmdir(p->dir);
	rte_eal_cleanup();
	if (p->runtime_dir[0] != '\0') {
		snprintf(path, sizeof(path), "%s/dpdk_telemetry.v2", p->runtime_dir);
		unlink(path);
		rmdir(p->runtime_dir);
	}
}

/* Backoff poll (tests share cores), small sizes, one signer per shard. */
static void
inproc_conf(const struct inproc *p, struct zcs_engine_conf *conf)
{
	unsigned int i;

	zcs_engine_conf_init(conf);
	conf->shards = INPROC_SHARDS;
	conf->poll = ZCS_POLL_BACKOFF;
	conf->ring_size = 1024;
	conf->pool_size = 4096;
	conf->pool_cache = 64;
	conf->client_slots = 2;
	conf->inflight_max = 128;
	conf->burst = 16;
	conf->reconnect_min_ms = 10;
	conf->reconnect_max_ms = 100;
	conf->handshake_timeout_ms = 300;
	conf->drain_timeout_ms = 5000;
	conf->stats_interval_ms = INPROC_STATS_MS;
	for (i = 0; i < INPROC_SHARDS; i++)
		snprintf(
			conf->shard[i].signer, sizeof(conf->shard[i].signer), "%s", p->sig[i].text);
	conf->shard[0].has_measurement = 1;
	memcpy(conf->shard[0].measurement, p->measurement, ZCS_MEASUREMENT_LEN);
}

#endif /* ZCS_TESTS_ENGINE_INPROC_H */
