/* SPDX-License-Identifier: BSD-3-Clause */
/* The in-process engine fixture (engine_inproc.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_lcore.h>

#include <zcsign/shard.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "clock.h"
#include "engine_inproc.h"
#include "hex.h"
#include "lcores.h"
#include "presig.h"
#include "serve.h"
#include "sign.h"

uint64_t
inproc_now_ms(void)
{
	return zcs_mono_ms();
}

static int
write_str(int fd, const char *s)
{
	size_t len = strlen(s);

	while (len > 0) {
		ssize_t n = write(fd, s, len);

		if (n <= 0)
			return -1;
		s += n;
		len -= (size_t)n;
	}
	return 0;
}

/* A fresh valid secret key and its compressed public key; 0 or -1. */
static int
new_key(secp256k1_context *ctx, uint8_t seckey[32], uint8_t compressed[33])
{
	secp256k1_pubkey pub;
	size_t len = 33;

	do {
		if (getrandom(seckey, 32, 0) != 32)
			return -1;
	} while (!secp256k1_ec_seckey_verify(ctx, seckey));
	if (!secp256k1_ec_pubkey_create(ctx, &pub, seckey) ||
		!secp256k1_ec_pubkey_serialize(
			ctx, compressed, &len, &pub, SECP256K1_EC_COMPRESSED))
		return -1;
	return 0;
}

/*
 * Key file of s->shard of INPROC_SHARDS (mode 0600, keystore.h format): the
 * first INPROC_NACC accounts of the shard get keys, the next one is s->unknown.
 */
static int
write_keys(struct inproc_signer *s, secp256k1_context *ctx)
{
	uint8_t seckey[32];
	char line[160], hex[65];
	uint64_t a = 1;
	int fd, i, rc;

	fd = open(s->keyfile, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	snprintf(line, sizeof(line), "# zcsign tests\nzcsign-keys v1 shard=%u shards=%d keys=%d\n",
		s->shard, INPROC_SHARDS, INPROC_NACC);
	rc = write_str(fd, line);
	for (i = 0; rc == 0 && i <= INPROC_NACC; i++) {
		while (zcs_shard_of(a, INPROC_SHARDS) != s->shard)
			a++;
		if (i == INPROC_NACC) {
			s->unknown = a;
			break;
		}
		s->accounts[i] = a++;
		rc = new_key(ctx, seckey, s->compressed[i]);
		zcs_hex_encode(seckey, 32, hex);
		snprintf(line, sizeof(line), "%" PRIu64 " %s\n", s->accounts[i], hex);
		rc = rc ?: write_str(fd, line);
	}
	explicit_bzero(seckey, sizeof(seckey));
	explicit_bzero(hex, sizeof(hex));
	explicit_bzero(line, sizeof(line));
	close(fd);
	return rc;
}

static void *
signer_thread(void *arg)
{
	struct inproc_signer *s = arg;

	while (!atomic_load(&s->quit)) {
		if (atomic_load(&s->drop)) {
			zcs_serve_conn_close(s->srv, "test: dropping the engine's connection");
			atomic_store(&s->drop, 0);
		}
		if (atomic_load(&s->paused)) {
			usleep(200);
			continue;
		}
		if (zcs_serve_poll(s->srv) == ZCS_SERVE_IDLE)
			usleep(50);
	}
	return NULL;
}

/* Pools of INPROC_PRESIG_ECDSA and _SCHNORR presignatures, full; NULL on failure. */
static struct zcs_presig *
full_pools(void)
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

/* A server over s's keys and listener, in its own thread. */
static int
serve(struct inproc *p, struct inproc_signer *s, unsigned int nonce, struct zcs_presig *ps)
{
	struct zcs_serve_conf conf;

	memset(&conf, 0, sizeof(conf));
	conf.ctx = s->ctx;
	conf.ks = &s->ks;
	conf.nonce = nonce;
	conf.presig = ps;
	memcpy(conf.measurement, p->measurement, sizeof(conf.measurement));
	conf.listen_fd = s->lfd;
	conf.idle = ZCS_POLL_BACKOFF;
	conf.stop = &s->stop;
	s->srv = zcs_serve_create(&conf);
	if (s->srv == NULL || pthread_create(&s->thread, NULL, signer_thread, s) != 0) {
		fprintf(stderr, "signer of shard %u: cannot start the server\n", s->shard);
		return -1;
	}
	s->running = true;
	return 0;
}

static void
quit_thread(struct inproc_signer *s)
{
	if (s->running) {
		atomic_store(&s->quit, 1);
		pthread_join(s->thread, NULL);
		s->running = false;
		atomic_store(&s->quit, 0);
	}
}

void
inproc_signer_set_mode(
	struct inproc *p, struct inproc_signer *s, unsigned int nonce, struct zcs_presig *ps)
{
	quit_thread(s);
	zcs_serve_destroy(s->srv);
	s->srv = NULL;
	assert_int_equal(serve(p, s, nonce, ps), 0);
}

/* Start the signer of shard in p->dir; 0, or -1 with a message on stderr. */
static int
signer_start(struct inproc *p, struct inproc_signer *s, uint16_t shard, bool presig)
{
	char err[256];

	s->shard = shard;
	snprintf(s->keyfile, sizeof(s->keyfile), "%s/shard-%u.keys", p->dir, shard);
	snprintf(s->text, sizeof(s->text), "unix:%s/s%u.sock", p->dir, shard);
	if (zcs_addr_parse(s->text, true, &s->addr, err, sizeof(err)) != 0)
		goto fail;
	s->ctx = zcs_sign_ctx_create();
	if (s->ctx == NULL || write_keys(s, s->ctx) != 0) {
		snprintf(err, sizeof(err), "cannot write %s", s->keyfile);
		goto fail;
	}
	if (zcs_keystore_load(&s->ks, s->ctx, s->keyfile, err, sizeof(err)) != 0)
		goto fail;
	s->lfd = zcs_addr_listen(&s->addr, err, sizeof(err));
	if (s->lfd < 0)
		goto fail;
	if (presig) {
		s->presig = full_pools();
		if (s->presig == NULL) {
			snprintf(err, sizeof(err), "cannot make presignature pools: %s",
				strerror(errno));
			goto fail;
		}
	}
	return serve(p, s, presig ? ZCS_NONCE_PRECOMPUTED : 0, s->presig);
fail:
	fprintf(stderr, "signer of shard %u: %s\n", shard, err);
	return -1;
}

static void
signer_stop(struct inproc_signer *s)
{
	quit_thread(s);
	zcs_serve_destroy(s->srv);
	s->srv = NULL;
	zcs_presig_destroy(s->presig);
	s->presig = NULL;
	if (s->lfd >= 0)
		close(s->lfd);
	s->lfd = -1;
	if (s->addr.path[0] != '\0')
		unlink(s->addr.path);
	zcs_keystore_wipe(&s->ks);
	if (s->ctx != NULL)
		zcs_sign_ctx_destroy(s->ctx);
	s->ctx = NULL;
	if (s->keyfile[0] != '\0')
		unlink(s->keyfile);
}

int
inproc_setup(struct inproc *p, const char *tag, bool telemetry, int presig_shard)
{
	char prefix[64], lcores[64];
	char *argv[16];
	int argc = 0;
	unsigned int i;

	memset(p, 0, sizeof(*p));
	for (i = 0; i < INPROC_SHARDS; i++)
		p->sig[i].lfd = -1;
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
		if (signer_start(p, &p->sig[i], (uint16_t)i, (int)i == presig_shard) != 0)
			return -1;
	return 0;
}

void
inproc_teardown(struct inproc *p)
{
	unsigned int i;
	char path[512];

	for (i = 0; i < INPROC_SHARDS; i++)
		signer_stop(&p->sig[i]);
	if (p->dir[0] != '\0')
		rmdir(p->dir);
	rte_eal_cleanup();
	if (p->runtime_dir[0] != '\0') {
		snprintf(path, sizeof(path), "%s/dpdk_telemetry.v2", p->runtime_dir);
		unlink(path);
		rmdir(p->runtime_dir);
	}
}

void
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
	for (i = 0; i < INPROC_SHARDS; i++)
		snprintf(
			conf->shard[i].signer, sizeof(conf->shard[i].signer), "%s", p->sig[i].text);
	conf->shard[0].has_measurement = 1;
	memcpy(conf->shard[0].measurement, p->measurement, ZCS_MEASUREMENT_LEN);
}
