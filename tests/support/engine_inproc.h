/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The in-process engine fixture for unit tests (test_worker, test_telemetry):
 * an EAL in this process (--no-huge, three lcores over whatever CPUs we may
 * use), one real signer per shard (enclave/serve.c) in a thread on a unix
 * socket, keys for INPROC_NACC accounts per shard, and the engine's
 * configuration in backoff poll mode (tests share 2 cores).
 *
 * A signer's thread polls its server itself (not zcs_serve_run()), so a test
 * can pause it with its connection open (requests stay in flight) or make it
 * drop the engine's connection, and restart it in another nonce mode with the
 * same keys and listener. With presig_shard set, that shard's signer signs
 * with precomputed nonces from small pools filled once at start, with no
 * refill thread: a test that signs more than a pool holds sees exact misses.
 *
 * Linked from the test-support library (tests/support/meson.build); every
 * wait has a deadline; errors are reported on stderr and returned.
 */
#ifndef ZCS_TESTS_ENGINE_INPROC_H
#define ZCS_TESTS_ENGINE_INPROC_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <secp256k1.h>

#include <zcsign/engine.h>
#include <zcsign/wire.h>

#include "addr.h"
#include "keystore.h"

#define INPROC_SHARDS 2
#define INPROC_NACC 4 /* accounts with keys, per shard */
#define INPROC_PRESIG_SHARD 1 /* the shard inproc_setup() gives pools when asked */
#define INPROC_PRESIG_ECDSA 64 /* pool capacities, filled once: one refill batch each */
#define INPROC_PRESIG_SCHNORR 32
#define INPROC_STATS_MS 20 /* a stats_interval_ms with signer counters fresh within a few polls */

struct zcs_presig;
struct zcs_server;

struct inproc_signer {
	uint16_t shard;
	char keyfile[160];
	char text[100]; /* unix:PATH */
	struct zcs_addr addr;
	secp256k1_context *ctx;
	struct zcs_keystore ks;
	int lfd;
	struct zcs_server *srv;
	struct zcs_presig *presig; /* made by inproc_setup() for presig_shard */
	pthread_t thread;
	bool running;
	atomic_int stop; /* the server's stop flag (our loop uses quit) */
	atomic_int quit;
	atomic_int paused; /* no polling: the connection stays open, requests stay unanswered */
	atomic_int drop; /* close the engine's connection, then clear */
	uint64_t accounts[INPROC_NACC];
	uint64_t unknown; /* an account of this shard without a key */
	uint8_t compressed[INPROC_NACC][33]; /* public keys of accounts[] */
};

struct inproc {
	char dir[64];
	char runtime_dir[256]; /* the EAL's, removed at the end */
	uint8_t measurement[ZCS_MEASUREMENT_LEN];
	struct inproc_signer sig[INPROC_SHARDS];
};

/* CLOCK_MONOTONIC in ms, for deadlines. */
uint64_t inproc_now_ms(void);

/*
 * EAL (telemetry on when telemetry is true: its socket lands in the runtime
 * directory, which inproc_teardown() removes), a temporary directory and the
 * signers; presig_shard: the shard whose signer runs precomputed from full
 * pools (INPROC_PRESIG_SHARD), or -1 for RFC 6979 everywhere. 0 or -1; call
 * inproc_teardown() either way.
 */
int inproc_setup(struct inproc *p, const char *tag, bool telemetry, int presig_shard);

/* Signers, EAL, and the EAL's runtime directory (with the telemetry socket). */
void inproc_teardown(struct inproc *p);

/*
 * Restart s's server (same keys, same listener) in nonce mode nonce (0:
 * RFC 6979) with pools ps (precomputed; NULL otherwise); the engine's
 * connection, if any, is closed. The test fails when the server cannot start.
 */
void inproc_signer_set_mode(
	struct inproc *p, struct inproc_signer *s, unsigned int nonce, struct zcs_presig *ps);

/*
 * The engine configuration of the tests: backoff poll, small sizes, one
 * signer per shard; shard 0 checks the signer's measurement (and it matches),
 * shard 1 does not. Everything else at its default.
 */
void inproc_conf(const struct inproc *p, struct zcs_engine_conf *conf);

#endif /* ZCS_TESTS_ENGINE_INPROC_H */
