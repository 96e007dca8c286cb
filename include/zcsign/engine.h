/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The zcsign engine as a library.
 *
 * zcsignd is a thin main around this: a gateway may instead embed the engine
 * in its own EAL application. After the host's rte_eal_init(), build a
 * configuration (zcs_engine_conf_init() then zcs_engine_conf_load() or by
 * hand), zcs_engine_start() it on worker lcores, submit through libzcsign
 * (zcsign/client.h) from any thread, and zcs_engine_stop() it: that stops
 * accepting, drains every request in flight (each gets its completion), and
 * joins the workers. The main lcore only does control; every shard runs on
 * its own worker lcore.
 */
#ifndef ZCSIGN_ENGINE_H
#define ZCSIGN_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include <zcsign/poll.h>
#include <zcsign/shard.h>
#include <zcsign/wire.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Largest ring dequeue burst (the worker keeps a burst array of this size). */
#define ZCS_ENGINE_BURST_MAX 256

/** zcs_engine_shard_conf.lcore when zcs_engine_start() picks the lcore. */
#define ZCS_ENGINE_LCORE_ANY ((unsigned int)-1)

/** How a shard's signer must prove what it runs (INI: attest = off|dev|nitro). */
enum zcs_engine_attest {
	ZCS_ENGINE_ATTEST_OFF = 0, /**< no document asked for */
	/** a document chaining to the dev attestation CA root in attest_root (PEM) */
	ZCS_ENGINE_ATTEST_DEV = 1,
	/** a document chaining to the AWS Nitro root G1 (pinned by fingerprint) */
	ZCS_ENGINE_ATTEST_NITRO = 2,
};

/** PCRs a shard may expect (INI: pcr0 .. pcr15 = 96 hex digits, SHA-384). */
#define ZCS_ENGINE_PCRS 16

/** Per-shard configuration. */
struct zcs_engine_shard_conf {
	char signer[128]; /**< "unix:PATH" or "vsock:CID:PORT" */
	int has_measurement; /**< refuse a signer whose measurement differs */
	uint8_t measurement[ZCS_MEASUREMENT_LEN];
	unsigned int lcore; /**< worker lcore, or ZCS_ENGINE_LCORE_ANY (the default) */
	/**
	 * enum zcs_engine_attest: with attestation on, every connection asks for a
	 * document with a fresh nonce and goes UP only when it verifies (root,
	 * chain, signature, the PCRs of pcr_mask, the nonce, the timestamp).
	 */
	uint8_t attest;
	char attest_root[256]; /**< ZCS_ENGINE_ATTEST_DEV: PEM file of the pinned root */
	uint32_t pcr_mask; /**< bit i: pcr[i] is expected */
	uint8_t pcr[ZCS_ENGINE_PCRS][ZCS_MEASUREMENT_LEN];
};

/** Engine configuration. INI keys in [engine] are the field names. */
struct zcs_engine_conf {
	uint16_t shards; /**< 1..ZCS_MAX_SHARDS */
	enum zcs_poll_mode poll; /**< default spin */
	uint32_t ring_size; /**< per-shard ring, power of two; default 4096 */
	uint32_t pool_size; /**< requests in the pool; default 65535 */
	uint32_t pool_cache; /**< per-client pool cache; default 256 */
	uint16_t client_slots; /**< default 16 */
	uint32_t inflight_max; /**< per shard, sent and unanswered; default 1024 */
	uint32_t burst; /**< ring dequeue burst, <= inflight_max; default 32 */
	uint32_t reconnect_min_ms; /**< first reconnect delay; default 10 */
	uint32_t reconnect_max_ms; /**< backoff cap; default 1000 */
	uint32_t handshake_timeout_ms; /**< HELLO_REPLY wait; default 1000 */
	uint32_t drain_timeout_ms; /**< at stop, then fail what is left; default 5000 */
	/**
	 * A worker loop iteration that starts longer than this after the previous
	 * one is a hiccup (counted, and kept in the lcore's hiccup log); default 10.
	 */
	uint32_t gap_threshold_us;
	/**
	 * While a shard is UP, ask its signer for its nonce mode and presignature
	 * pool counters (a STATS frame) this often, and once right after each
	 * handshake; default 1000, 0: never (a signer older than STATS closes the
	 * connection on one; the worker then stops asking it).
	 */
	uint32_t stats_interval_ms;
	struct zcs_engine_shard_conf shard[ZCS_MAX_SHARDS];
};

struct zcs_engine;

/** Fill conf with the defaults above (no shards; every lcore ZCS_ENGINE_LCORE_ANY). */
void zcs_engine_conf_init(struct zcs_engine_conf *conf);

/**
 * Read an INI file (rte_cfgfile): [engine] with the keys of struct
 * zcs_engine_conf, and one [shard.<i>] per shard with signer = ... and
 * optional measurement = <96 hex>, lcore = N. Comments start with '#'.
 * Keys absent from the file keep their value in conf (call
 * zcs_engine_conf_init() first); without a shards key, the [shard.<i>]
 * sections give the count. The result is checked (zcs_engine_conf_check()).
 * Needs no EAL: usable before rte_eal_init().
 *
 * @param err
 *   One line naming the file, section and key of the first problem.
 * @return
 *   0, or -EINVAL (bad content), -ENOENT (no such file).
 */
int zcs_engine_conf_load(struct zcs_engine_conf *conf, char *err, size_t errlen, const char *path);

/**
 * Check a configuration (ranges, powers of two, one endpoint per shard).
 * @return 0 or -EINVAL with a message in err.
 */
int zcs_engine_conf_check(const struct zcs_engine_conf *conf, char *err, size_t errlen);

/**
 * Create the shared objects and launch one worker per shard with
 * rte_eal_remote_launch(). Must run on the main lcore of an EAL primary.
 * Shards without an lcore take the worker lcores in order.
 *
 * @return
 *   The engine, or NULL with rte_errno set: EINVAL (bad conf, too few worker
 *   lcores), EEXIST (an engine already runs in this EAL), ENOMEM.
 */
struct zcs_engine *zcs_engine_start(const struct zcs_engine_conf *conf);

/**
 * Stop: refuse new submissions, drain (every accepted request completes),
 * join the workers. The shared objects stay until the process exits, so
 * clients can still poll the completions of the drain.
 * @return 0, or -ETIMEDOUT when requests had to be failed with
 *   ZCS_ERR_SHUTDOWN after drain_timeout_ms.
 */
int zcs_engine_stop(struct zcs_engine *e);

/**
 * Free a stopped engine and its shared objects (memzone, pool, rings), so
 * that another engine can start in this EAL. Every client must have
 * detached. zcsignd does not call it (its clients may still be polling when
 * it exits; rte_eal_cleanup() releases the memory).
 * @param e
 *   An engine after zcs_engine_stop(), or NULL (no-op).
 */
void zcs_engine_destroy(struct zcs_engine *e);

#ifdef __cplusplus
}
#endif

#endif /* ZCSIGN_ENGINE_H */
