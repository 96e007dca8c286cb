/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Creation, lookup and teardown of the objects the engine shares with its
 * clients (shards.h), and the one operation every worker needs on them:
 * completing a request onto its client's ring.
 *
 * The primary builds everything, then publishes it by setting the header's
 * magic last (release order): a process that finds the memzone but not the
 * magic sees an engine still being built, or one being torn down, and treats
 * it as absent.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_memzone.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "log.h"
#include "clock.h"
#include "shards.h"

static int
conf_check(const struct zcs_shards_conf *conf)
{
	if (conf == NULL) {
		ZCS_LOG(ERR, "no shard configuration given");
		return -EINVAL;
	}
	if (conf->shard_count == 0 || conf->shard_count > ZCS_MAX_SHARDS) {
		ZCS_LOG(ERR, "shard count %u out of range 1..%u", conf->shard_count,
			ZCS_MAX_SHARDS);
		return -EINVAL;
	}
	if (conf->client_slots == 0 || conf->client_slots > ZCS_MAX_CLIENTS) {
		ZCS_LOG(ERR, "client slots %u out of range 1..%u", conf->client_slots,
			ZCS_MAX_CLIENTS);
		return -EINVAL;
	}
	if (conf->ring_size < 2 || !rte_is_power_of_2(conf->ring_size) ||
		conf->ring_size > RTE_RING_SZ_MASK) {
		ZCS_LOG(ERR, "shard ring size %u is not a power of two in 2..%u", conf->ring_size,
			RTE_RING_SZ_MASK);
		return -EINVAL;
	}
	/* The completion rings are pool_size exact: the same ring limit applies. */
	if (conf->pool_size == 0 || conf->pool_size > RTE_RING_SZ_MASK) {
		ZCS_LOG(ERR, "pool size %u out of range 1..%u", conf->pool_size, RTE_RING_SZ_MASK);
		return -EINVAL;
	}
	if (conf->pool_cache > RTE_MEMPOOL_CACHE_MAX_SIZE) {
		ZCS_LOG(ERR, "client pool cache %u above %u", conf->pool_cache,
			RTE_MEMPOOL_CACHE_MAX_SIZE);
		return -EINVAL;
	}
	return 0;
}

/* A request that was never used reads as all zero, whatever memory it got. */
static void
request_init(struct rte_mempool *mp, void *arg, void *obj, unsigned int idx)
{
	RTE_SET_USED(mp);
	RTE_SET_USED(arg);
	RTE_SET_USED(idx);
	memset(obj, 0, sizeof(struct zcs_request));
}

static int
pool_create(struct zcs_engine_shared *sh, const struct zcs_shards_conf *conf)
{
	/*
	 * No per-lcore caches (cache size 0): a secondary's lcore ids overlap
	 * the primary's, so two processes would share one "per-lcore" cache
	 * without a lock. Clients bring their own user caches (client.c);
	 * workers never take from the pool. Requests are touched by a client
	 * and by every worker, so no socket is the right one: SOCKET_ID_ANY.
	 * No device ever DMAs a request: IOVA contiguity is not needed.
	 */
	sh->pool = rte_mempool_create(ZCS_POOL_NAME, conf->pool_size, sizeof(struct zcs_request), 0,
		0, NULL, NULL, request_init, NULL, SOCKET_ID_ANY, RTE_MEMPOOL_F_NO_IOVA_CONTIG);
	if (sh->pool == NULL) {
		ZCS_LOG(ERR, "cannot create mempool %s (%u requests of %zu bytes): %s",
			ZCS_POOL_NAME, conf->pool_size, sizeof(struct zcs_request),
			rte_strerror(rte_errno));
		return -rte_errno;
	}
	return 0;
}

static int
shard_rings_create(struct zcs_engine_shared *sh, const struct zcs_shards_conf *conf)
{
	char name[RTE_RING_NAMESIZE];
	unsigned int i;

	for (i = 0; i < conf->shard_count; i++) {
		snprintf(name, sizeof(name), ZCS_SHARD_RING_FMT, i);
		/*
		 * RTS (relaxed tail sync) for the producers: gateway threads may
		 * share cores, and with the classic MP ring a producer preempted
		 * between reserving its slots and publishing them stalls every
		 * other producer of that ring until it runs again. RTS lets the
		 * others publish past it. One consumer: the shard's worker.
		 */
		sh->shards[i].ring = rte_ring_create(name, conf->ring_size, conf->socket_id[i],
			RING_F_MP_RTS_ENQ | RING_F_SC_DEQ);
		if (sh->shards[i].ring == NULL) {
			ZCS_LOG(ERR, "cannot create ring %s (%u entries, socket %d): %s", name,
				conf->ring_size, conf->socket_id[i], rte_strerror(rte_errno));
			return -rte_errno;
		}
	}
	return 0;
}

static int
cq_rings_create(struct zcs_engine_shared *sh, const struct zcs_shards_conf *conf)
{
	char name[RTE_RING_NAMESIZE];
	unsigned int i;

	for (i = 0; i < conf->client_slots; i++) {
		snprintf(name, sizeof(name), ZCS_CQ_RING_FMT, i);
		/*
		 * Exactly pool_size entries: it can hold every request there is,
		 * so a worker's completion enqueue never fails and never waits
		 * on a slow client. The owner may run on any socket.
		 */
		sh->clients[i].cq = rte_ring_create(
			name, conf->pool_size, SOCKET_ID_ANY, RING_F_SC_DEQ | RING_F_EXACT_SZ);
		if (sh->clients[i].cq == NULL) {
			ZCS_LOG(ERR, "cannot create ring %s (%u entries, socket any): %s", name,
				conf->pool_size, rte_strerror(rte_errno));
			return -rte_errno;
		}
	}
	return 0;
}

/* Frees whatever exists: also the undo of a partial zcs_shards_create. */
static void
objects_free(struct zcs_engine_shared *sh)
{
	unsigned int i;

	for (i = 0; i < RTE_DIM(sh->shards); i++) {
		rte_ring_free(sh->shards[i].ring);
		sh->shards[i].ring = NULL;
	}
	for (i = 0; i < RTE_DIM(sh->clients); i++) {
		/* A client cache left by a process that never detached. */
		rte_mempool_cache_free(sh->clients[i].cache);
		sh->clients[i].cache = NULL;
		rte_ring_free(sh->clients[i].cq);
		sh->clients[i].cq = NULL;
	}
	rte_mempool_free(sh->pool);
	sh->pool = NULL;
}

struct zcs_engine_shared *
zcs_shards_create(const struct zcs_shards_conf *conf)
{
	const struct rte_memzone *mz;
	struct zcs_engine_shared *sh;
	int ret;

	ret = conf_check(conf);
	if (ret != 0) {
		rte_errno = -ret;
		return NULL;
	}
	mz = rte_memzone_reserve(ZCS_MZ_ENGINE, sizeof(*sh), SOCKET_ID_ANY, 0);
	if (mz == NULL) {
		ret = rte_errno;
		if (ret == EEXIST)
			ZCS_LOG(ERR,
				"memzone %s exists: an engine already runs in this DPDK "
				"process group (same --file-prefix)",
				ZCS_MZ_ENGINE);
		else
			ZCS_LOG(ERR, "cannot reserve memzone %s (%zu bytes): %s", ZCS_MZ_ENGINE,
				sizeof(*sh), rte_strerror(ret));
		rte_errno = ret;
		return NULL;
	}
	sh = mz->addr;
	memset(sh, 0, sizeof(*sh));

	ret = pool_create(sh, conf);
	if (ret == 0)
		ret = shard_rings_create(sh, conf);
	if (ret == 0)
		ret = cq_rings_create(sh, conf);
	if (ret != 0) {
		objects_free(sh);
		rte_memzone_free(mz);
		rte_errno = -ret;
		return NULL;
	}

	sh->layout_version = ZCS_LAYOUT_VERSION;
	sh->shard_count = conf->shard_count;
	sh->client_slots = conf->client_slots;
	sh->pool_cache = conf->pool_cache;
	sh->ring_size = conf->ring_size;
	sh->tsc_hz = rte_get_tsc_hz();
	sh->start_tsc = rte_rdtsc();
	sh->engine_pid = (int32_t)getpid();
	zcs_shards_beat(sh);
	/* Publish: everything above is visible before the magic is. */
	__atomic_store_n(&sh->magic, ZCS_ENGINE_MAGIC, __ATOMIC_RELEASE);
	ZCS_LOG(DEBUG, "created %u shards (ring %u), %u client slots, pool %u (client cache %u)",
		conf->shard_count, conf->ring_size, conf->client_slots, conf->pool_size,
		conf->pool_cache);
	return sh;
}

void
zcs_shards_destroy(struct zcs_engine_shared *sh)
{
	const struct rte_memzone *mz;

	if (sh == NULL)
		return;
	/* Unpublish first: a late lookup then fails instead of finding freed rings. */
	__atomic_store_n(&sh->magic, 0, __ATOMIC_RELEASE);
	objects_free(sh);
	mz = rte_memzone_lookup(ZCS_MZ_ENGINE);
	if (mz != NULL && mz->addr == sh)
		rte_memzone_free(mz);
	else
		ZCS_LOG(ERR, "memzone %s not found at %p: not freed", ZCS_MZ_ENGINE, (void *)sh);
}

void
zcs_shards_client_totals(struct zcs_client_totals *t, const struct zcs_engine_shared *sh)
{
	unsigned int i;

	t->submitted = __atomic_load_n(&sh->retired_submitted, __ATOMIC_RELAXED);
	t->refused = __atomic_load_n(&sh->retired_refused, __ATOMIC_RELAXED);
	t->completed = __atomic_load_n(&sh->retired_completed, __ATOMIC_RELAXED);
	for (i = 0; i < sh->client_slots; i++) {
		t->submitted += __atomic_load_n(&sh->clients[i].submitted, __ATOMIC_RELAXED);
		t->refused += __atomic_load_n(&sh->clients[i].refused, __ATOMIC_RELAXED);
		t->completed += __atomic_load_n(&sh->clients[i].completed, __ATOMIC_RELAXED);
	}
}

struct zcs_engine_shared *
zcs_shards_lookup(void)
{
	const struct rte_memzone *mz;
	struct zcs_engine_shared *sh;

	mz = rte_memzone_lookup(ZCS_MZ_ENGINE);
	if (mz == NULL) {
		rte_errno = ENOENT;
		return NULL;
	}
	sh = mz->addr;
	/* Acquire: pairs with the release in create, so the rest is complete. */
	if (__atomic_load_n(&sh->magic, __ATOMIC_ACQUIRE) != ZCS_ENGINE_MAGIC) {
		rte_errno = ENOENT;
		return NULL;
	}
	if (sh->layout_version != ZCS_LAYOUT_VERSION) {
		ZCS_LOG(ERR,
			"memzone %s has layout version %u, this library speaks %u: build the "
			"gateway against the engine's libzcsign",
			ZCS_MZ_ENGINE, sh->layout_version, ZCS_LAYOUT_VERSION);
		rte_errno = EPROTO;
		return NULL;
	}
	return sh;
}

void
zcs_shards_beat(struct zcs_engine_shared *sh)
{
	__atomic_store_n(&sh->beat_ms, zcs_mono_ms(), __ATOMIC_RELEASE);
}

void
zcs_shards_complete(
	struct zcs_engine_shared *sh, struct zcs_request *r, uint16_t status, uint64_t now_tsc)
{
	void *obj = r;

	r->status = status;
	r->done_tsc = now_tsc;
	r->inflight = 0;
	/* The ring's release on its tail publishes the writes above to the client. */
	if (likely(r->client < sh->client_slots &&
		    rte_ring_enqueue(sh->clients[r->client].cq, obj) == 0))
		return;

	/*
	 * Impossible by sizing (see shards.h), so a bug: say so loudly, and give
	 * the object back rather than leak it or spin on a ring that only a
	 * (perhaps dead) client can drain. The worker's own counters still count
	 * the request; the client never sees it.
	 */
	__atomic_fetch_add(&sh->undeliverable, 1, __ATOMIC_RELAXED);
	ZCS_LOG(ERR,
		"BUG: cannot deliver completion (account %" PRIu64 ", cookie %" PRIu64
		", status %u) to client slot %u of %u: request returned to the pool",
		r->account, r->cookie, status, r->client, sh->client_slots);
	rte_mempool_generic_put(sh->pool, &obj, 1, NULL);
}
