/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The shard worker (private to the engine): one per shard, alone on its lcore.
 *
 * It owns its shard's ring (single consumer), one connection to the shard's
 * signer, and the shard's counters in the engine memzone (single writer).
 * Requests go out in ring order and the signer answers in order on that one
 * connection, so an in-flight FIFO matches every reply to its request; every
 * request dequeued gets exactly one completion, in dequeue order. While UP it
 * also asks the signer for its pool counters (STATS, every stats_interval_ms
 * and after each handshake) on that connection, matched the same way, and
 * publishes them in the shard state (zcs_shard_signer_stats_read()).
 *
 * Life cycle (main lcore): zcs_worker_create() for each shard, then
 * rte_eal_remote_launch(zcs_worker_main, NULL, lcore); to stop, set the stop
 * flag given at creation (after zcs_engine_shared.stopping), wait for the
 * lcore, read zcs_worker_shutdown_failed(), zcs_worker_free().
 */
#ifndef ZCS_ENGINE_WORKER_H
#define ZCS_ENGINE_WORKER_H

#include <stdint.h>

#include <zcsign/engine.h>

#include "shards.h"

/*
 * After the stop flag is seen, an empty ring is trusted only after this long:
 * a client that read stopping == 0 just before it was set may still be between
 * that check and its rte_ring_enqueue() (see zcs_worker_main()).
 */
#define ZCS_WORKER_DRAIN_GRACE_US 20000

/* Backoff poll mode: idle time spun before sleeping, and each sleep. */
#define ZCS_WORKER_BACKOFF_SPIN_US 50
#define ZCS_WORKER_BACKOFF_SLEEP_US 100

/* With nothing in flight, look at the connection this often (EOF, ERROR frames). */
#define ZCS_WORKER_IDLE_PROBE_US 1000

struct zcs_worker;
struct zcs_tel_worker;

/*
 * Allocate a shard's worker on the NUMA socket of its lcore and register it as
 * that lcore's worker. conf->shard[shard] must name a valid signer (checked
 * conf). stop: the engine's stop flag, read by the worker every iteration.
 * Returns NULL with rte_errno ENOMEM, EINVAL (bad address) or EEXIST (lcore
 * already has a worker).
 */
struct zcs_worker *zcs_worker_create(const struct zcs_engine_conf *conf,
	struct zcs_engine_shared *sh, uint16_t shard, unsigned int lcore, const volatile int *stop);

/* Close the connection if open, unregister and free. NULL is a no-op. */
void zcs_worker_free(struct zcs_worker *w);

/*
 * The worker loop, for rte_eal_remote_launch(); arg is unused: the worker
 * finds its state by rte_lcore_id(). Returns 0 once drained after the stop
 * flag was set, -ENOENT when the lcore has no worker.
 */
int zcs_worker_main(void *arg);

/* Requests completed with ZCS_ERR_SHUTDOWN at the drain deadline (after the worker returned). */
uint64_t zcs_worker_shutdown_failed(const struct zcs_worker *w);

/*
 * After the worker returned: complete whatever reached the ring since (a
 * client that was mid-enqueue when stopping was set) with ZCS_ERR_SHUTDOWN,
 * from the calling lcore, which becomes the ring's consumer and the shard
 * counters' writer. Returns the number completed.
 */
unsigned int zcs_worker_sweep(struct zcs_worker *w);

/* The worker's telemetry (histograms, hiccup log), for zcs_tel_engine_publish(). */
struct zcs_tel_worker *zcs_worker_tel(const struct zcs_worker *w);

#endif /* ZCS_ENGINE_WORKER_H */
