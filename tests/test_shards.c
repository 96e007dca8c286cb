/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * shards/shards.c: the objects the engine shares with its clients. An
 * in-process EAL (no hugepages, no shared config) plays the primary; each test creates
 * its own engine objects and plays client and worker itself. What the engine
 * and the clients rely on: every name exists with the right size and sync
 * mode, one engine per process group, lookups refuse a half-built or foreign
 * engine, a failed create leaves nothing behind, destroy frees every name, a
 * request lands on the ring zcs_shard_of names, and a completion on the ring
 * of the client that submitted it.
 */
#define _GNU_SOURCE /* open_memstream */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_memzone.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include <zcsign/client.h>
#include <zcsign/shard.h>

#include "eal_nohuge.h"
#include "shards.h"

#define SHARDS 4
#define RING 64
#define POOL 256
#define CACHE 16
#define CLIENTS 4

struct fixture {
	struct zcs_engine_shared *sh;
	struct zcs_client *c[CLIENTS];
};

/* ---- helpers ---- */

static FILE *log_file;
static char *log_buf;
static size_t log_len;

static void
log_capture(void)
{
	log_file = open_memstream(&log_buf, &log_len);
	assert_non_null(log_file);
	assert_int_equal(rte_openlog_stream(log_file), 0);
}

/* Stops capturing; the caller frees what it returns. */
static char *
log_captured(void)
{
	rte_openlog_stream(NULL);
	fclose(log_file);
	log_file = NULL;
	return log_buf;
}

/* ---- fixture ---- */

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct zcs_shards_conf conf = shards_conf_make(SHARDS, RING, POOL, CACHE, CLIENTS);

	if (f == NULL)
		return -1;
	f->sh = zcs_shards_create(&conf);
	if (f->sh == NULL) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	/* Every test must leave the process group without an engine. */
	int rc = shards_teardown(f->sh, f->c, CLIENTS);

	free(f);
	return rc;
}

/* ---- tests ---- */

static void
create_makes_every_object(void **state)
{
	struct fixture *f = *state;
	struct zcs_engine_shared *sh = f->sh;
	char name[RTE_RING_NAMESIZE];
	struct rte_mempool *mp;
	unsigned int i;
	void *obj = NULL;

	assert_int_equal(sh->magic, ZCS_ENGINE_MAGIC);
	assert_int_equal(sh->layout_version, ZCS_LAYOUT_VERSION);
	assert_int_equal(sh->shard_count, SHARDS);
	assert_int_equal(sh->client_slots, CLIENTS);
	assert_int_equal(sh->pool_cache, CACHE);
	assert_int_equal(sh->stopping, 0);
	assert_true(sh->tsc_hz == rte_get_tsc_hz() && sh->tsc_hz > 0);
	assert_true(sh->start_tsc > 0 && sh->start_tsc <= rte_rdtsc());

	mp = rte_mempool_lookup(ZCS_POOL_NAME);
	assert_ptr_equal(mp, sh->pool);
	assert_int_equal(mp->size, POOL);
	assert_int_equal(mp->cache_size, 0);
	assert_true(mp->elt_size >= sizeof(struct zcs_request));
	assert_int_equal(rte_mempool_avail_count(mp), POOL);

	for (i = 0; i < SHARDS; i++) {
		struct rte_ring *r;

		snprintf(name, sizeof(name), ZCS_SHARD_RING_FMT, i);
		r = rte_ring_lookup(name);
		assert_non_null(r);
		assert_ptr_equal(r, sh->shards[i].ring);
		assert_int_equal(rte_ring_get_size(r), RING);
		assert_int_equal(rte_ring_get_capacity(r), RING - 1);
		assert_int_equal(rte_ring_get_prod_sync_type(r), RTE_RING_SYNC_MT_RTS);
		assert_int_equal(rte_ring_get_cons_sync_type(r), RTE_RING_SYNC_ST);
		assert_int_equal(sh->shards[i].state, ZCS_SHARD_DOWN);
	}
	snprintf(name, sizeof(name), ZCS_SHARD_RING_FMT, SHARDS);
	assert_null(rte_ring_lookup(name));

	for (i = 0; i < CLIENTS; i++) {
		struct rte_ring *r;

		snprintf(name, sizeof(name), ZCS_CQ_RING_FMT, i);
		r = rte_ring_lookup(name);
		assert_non_null(r);
		assert_ptr_equal(r, sh->clients[i].cq);
		/* Room for every request there is: a completion never fails. */
		assert_int_equal(rte_ring_get_capacity(r), POOL);
		assert_int_equal(rte_ring_get_prod_sync_type(r), RTE_RING_SYNC_MT);
		assert_int_equal(rte_ring_get_cons_sync_type(r), RTE_RING_SYNC_ST);
		assert_int_equal(sh->clients[i].in_use, 0);
	}
	snprintf(name, sizeof(name), ZCS_CQ_RING_FMT, CLIENTS);
	assert_null(rte_ring_lookup(name));

	/* A request never used reads as all zero. */
	assert_int_equal(rte_mempool_get(mp, &obj), 0);
	for (i = 0; i < sizeof(struct zcs_request); i++)
		assert_int_equal(((uint8_t *)obj)[i], 0);
	rte_mempool_put(mp, obj);
}

static void
second_create_is_eexist(void **state)
{
	struct fixture *f = *state;
	struct zcs_shards_conf conf = shards_conf_make(SHARDS, RING, POOL, CACHE, CLIENTS);
	char *log;

	log_capture();
	rte_errno = 0;
	assert_null(zcs_shards_create(&conf));
	assert_int_equal(rte_errno, EEXIST);
	log = log_captured();
	assert_non_null(strstr(log, "zcs_engine"));
	assert_non_null(strstr(log, "already runs"));
	free(log);
	/* The running engine is untouched. */
	assert_ptr_equal(zcs_shards_lookup(), f->sh);
	assert_ptr_equal(rte_mempool_lookup(ZCS_POOL_NAME), f->sh->pool);
	assert_int_equal(rte_mempool_avail_count(f->sh->pool), POOL);
}

static void
lookup_checks_magic_and_version(void **state)
{
	struct fixture *f = *state;

	assert_ptr_equal(zcs_shards_lookup(), f->sh);

	/* Half-built (or being torn down): magic not (yet) set. */
	f->sh->magic = 0;
	rte_errno = 0;
	assert_null(zcs_shards_lookup());
	assert_int_equal(rte_errno, ENOENT);
	f->sh->magic = ZCS_ENGINE_MAGIC;

	f->sh->layout_version = ZCS_LAYOUT_VERSION + 1;
	rte_errno = 0;
	assert_null(zcs_shards_lookup());
	assert_int_equal(rte_errno, EPROTO);
	f->sh->layout_version = ZCS_LAYOUT_VERSION;

	assert_ptr_equal(zcs_shards_lookup(), f->sh);
}

static void
destroy_frees_every_name(void **state)
{
	struct fixture *f = *state;
	struct zcs_shards_conf conf = shards_conf_make(2, 32, 64, 0, 2);
	char name[RTE_RING_NAMESIZE];
	unsigned int i;

	zcs_shards_destroy(f->sh);
	f->sh = NULL;
	rte_errno = 0;
	assert_null(zcs_shards_lookup());
	assert_int_equal(rte_errno, ENOENT);
	assert_null(rte_memzone_lookup(ZCS_MZ_ENGINE));
	assert_null(rte_mempool_lookup(ZCS_POOL_NAME));
	for (i = 0; i < SHARDS; i++) {
		snprintf(name, sizeof(name), ZCS_SHARD_RING_FMT, i);
		assert_null(rte_ring_lookup(name));
	}
	for (i = 0; i < CLIENTS; i++) {
		snprintf(name, sizeof(name), ZCS_CQ_RING_FMT, i);
		assert_null(rte_ring_lookup(name));
	}

	/* Names are free again, and other sizes are fine. */
	f->sh = zcs_shards_create(&conf);
	assert_non_null(f->sh);
	assert_ptr_equal(zcs_shards_lookup(), f->sh);
	assert_int_equal(f->sh->shard_count, 2);
	assert_int_equal(rte_ring_get_size(f->sh->shards[1].ring), 32);
	assert_int_equal(rte_ring_get_capacity(f->sh->clients[1].cq), 64);
}

static void
failed_create_leaves_nothing(void **state)
{
	struct fixture *f = *state;
	struct zcs_shards_conf conf = shards_conf_make(SHARDS, RING, POOL, CACHE, CLIENTS);
	char name[RTE_RING_NAMESIZE];
	struct rte_ring *squatter;
	unsigned int i;
	char *log;

	zcs_shards_destroy(f->sh);
	f->sh = NULL;
	/* A stale ring with a shard's name: creation fails half-way. */
	squatter = rte_ring_create("zcs_shard_2", 16, SOCKET_ID_ANY, 0);
	assert_non_null(squatter);

	log_capture();
	rte_errno = 0;
	assert_null(zcs_shards_create(&conf));
	assert_int_equal(rte_errno, EEXIST);
	log = log_captured();
	assert_non_null(strstr(log, "cannot create ring zcs_shard_2 (64 entries, socket"));
	free(log);

	assert_null(rte_memzone_lookup(ZCS_MZ_ENGINE));
	assert_null(rte_mempool_lookup(ZCS_POOL_NAME));
	assert_null(rte_ring_lookup("zcs_shard_0"));
	assert_null(rte_ring_lookup("zcs_shard_1"));
	assert_ptr_equal(rte_ring_lookup("zcs_shard_2"), squatter);
	for (i = 0; i < CLIENTS; i++) {
		snprintf(name, sizeof(name), ZCS_CQ_RING_FMT, i);
		assert_null(rte_ring_lookup(name));
	}

	rte_ring_free(squatter);
	f->sh = zcs_shards_create(&conf);
	assert_non_null(f->sh);
}

static void
bad_conf_is_einval(void **state)
{
	struct fixture *f = *state;
	struct zcs_shards_conf good = shards_conf_make(SHARDS, RING, POOL, CACHE, CLIENTS);
	struct zcs_shards_conf bad[7];
	unsigned int i;

	zcs_shards_destroy(f->sh);
	f->sh = NULL;
	for (i = 0; i < RTE_DIM(bad); i++)
		bad[i] = good;
	bad[0].shard_count = 0;
	bad[1].shard_count = ZCS_MAX_SHARDS + 1;
	bad[2].client_slots = 0;
	bad[3].client_slots = ZCS_MAX_CLIENTS + 1;
	bad[4].ring_size = 100;
	bad[5].pool_size = 0;
	bad[6].pool_cache = RTE_MEMPOOL_CACHE_MAX_SIZE + 1;
	for (i = 0; i < RTE_DIM(bad); i++) {
		rte_errno = 0;
		assert_null(zcs_shards_create(&bad[i]));
		assert_int_equal(rte_errno, EINVAL);
		assert_null(rte_memzone_lookup(ZCS_MZ_ENGINE));
	}
	rte_errno = 0;
	assert_null(zcs_shards_create(NULL));
	assert_int_equal(rte_errno, EINVAL);
}

static void
requests_go_to_the_shard_of_their_account(void **state)
{
	struct fixture *f = *state;
	struct zcs_engine_shared *sh = f->sh;
	uint8_t hash[32] = {1};
	struct zcs_sign_args a = {.algo = ZCS_ALGO_ECDSA, .hash = hash};
	unsigned int seen[SHARDS] = {0};
	void *obj = NULL;
	uint64_t acc;
	unsigned int i;

	f->c[0] = zcs_attach("router");
	assert_non_null(f->c[0]);
	assert_int_equal(zcs_shard_count(f->c[0]), SHARDS);
	for (acc = 1000; acc < 1040; acc++) {
		uint32_t want = zcs_shard_of(acc, SHARDS);
		struct zcs_request *r;

		a.account = acc;
		a.cookie = acc * 7;
		assert_int_equal(zcs_submit(f->c[0], &a), 0);
		for (i = 0; i < SHARDS; i++)
			assert_int_equal(rte_ring_count(sh->shards[i].ring), i == want ? 1 : 0);
		assert_int_equal(rte_ring_dequeue(sh->shards[want].ring, &obj), 0);
		r = obj;
		assert_int_equal(r->account, acc);
		assert_int_equal(r->cookie, acc * 7);
		assert_int_equal(r->shard, want);
		assert_int_equal(r->client, zcs_client_slot(f->c[0]));
		assert_int_equal(r->status, ZCS_ERR_INTERNAL);
		seen[want]++;
		zcs_release(f->c[0], &r, 1);
	}
	/* 40 accounts reach every one of 4 shards. */
	for (i = 0; i < SHARDS; i++)
		assert_true(seen[i] > 0);
	assert_int_equal(shards_pool_free(sh), POOL);
}

static void
completion_lands_on_its_client(void **state)
{
	struct fixture *f = *state;
	struct zcs_engine_shared *sh = f->sh;
	struct zcs_request *r;
	uint16_t s0, s1;
	void *obj = NULL;

	f->c[0] = zcs_attach("a");
	f->c[1] = zcs_attach("b");
	assert_non_null(f->c[0]);
	assert_non_null(f->c[1]);
	s0 = zcs_client_slot(f->c[0]);
	s1 = zcs_client_slot(f->c[1]);
	assert_int_not_equal(s0, s1);
	assert_string_equal(sh->clients[s1].name, "b");

	assert_int_equal(zcs_submit_pubkey(f->c[1], 42, 4242), 0);
	assert_int_equal(rte_ring_dequeue(sh->shards[zcs_shard_of(42, SHARDS)].ring, &obj), 0);
	r = obj;
	assert_int_equal(r->op, ZCS_OP_PUBKEY);
	zcs_shards_complete(sh, r, ZCS_ERR_EXPIRED, 123456789);

	assert_int_equal(rte_ring_count(sh->clients[s0].cq), 0);
	assert_int_equal(rte_ring_count(sh->clients[s1].cq), 1);
	assert_int_equal(zcs_poll(f->c[0], &r, 1), 0);
	assert_int_equal(zcs_poll(f->c[1], &r, 1), 1);
	assert_ptr_equal(r, obj);
	assert_int_equal(r->status, ZCS_ERR_EXPIRED);
	assert_int_equal(r->done_tsc, 123456789);
	assert_int_equal(r->cookie, 4242);
	zcs_release(f->c[1], &r, 1);
	assert_int_equal(sh->undeliverable, 0);
	assert_int_equal(shards_pool_free(sh), POOL);
}

/* The "impossible" path: logged, counted, object back in the pool, no hang. */
static void
undeliverable_completion_is_not_lost(void **state)
{
	struct fixture *f = *state;
	struct zcs_engine_shared *sh = f->sh;
	struct rte_ring *cq = sh->clients[0].cq;
	static uint64_t junk;
	struct zcs_request *r1, *r2;
	unsigned int i, before;
	void *obj = NULL;
	char *log;

	assert_int_equal(rte_mempool_get(sh->pool, &obj), 0);
	r1 = obj;
	assert_int_equal(rte_mempool_get(sh->pool, &obj), 0);
	r2 = obj;
	r1->client = 0;
	r1->cookie = 77;
	r2->client = CLIENTS; /* a corrupted slot number */
	r2->cookie = 78;
	before = rte_mempool_avail_count(sh->pool);
	/* Only a bug can fill a completion ring: fake one. */
	for (i = 0; i < POOL; i++)
		assert_int_equal(rte_ring_enqueue(cq, &junk), 0);

	log_capture();
	zcs_shards_complete(sh, r1, ZCS_OK, 1);
	zcs_shards_complete(sh, r2, ZCS_OK, 1);
	log = log_captured();
	assert_non_null(strstr(log, "BUG: cannot deliver completion"));
	assert_non_null(strstr(log, "cookie 77"));
	assert_non_null(strstr(log, "cookie 78"));
	free(log);

	assert_int_equal(sh->undeliverable, 2);
	assert_int_equal(rte_mempool_avail_count(sh->pool), before + 2);
	assert_int_equal(rte_ring_count(cq), POOL);
	while (rte_ring_dequeue(cq, &obj) == 0)
		assert_ptr_equal(obj, &junk);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(create_makes_every_object, setup, teardown),
		cmocka_unit_test_setup_teardown(second_create_is_eexist, setup, teardown),
		cmocka_unit_test_setup_teardown(lookup_checks_magic_and_version, setup, teardown),
		cmocka_unit_test_setup_teardown(destroy_frees_every_name, setup, teardown),
		cmocka_unit_test_setup_teardown(failed_create_leaves_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_conf_is_einval, setup, teardown),
		cmocka_unit_test_setup_teardown(
			requests_go_to_the_shard_of_their_account, setup, teardown),
		cmocka_unit_test_setup_teardown(completion_lands_on_its_client, setup, teardown),
		cmocka_unit_test_setup_teardown(
			undeliverable_completion_is_not_lost, setup, teardown),
	};

	return cmocka_run_group_tests(tests, eal_nohuge_group_setup, eal_nohuge_group_teardown);
}
