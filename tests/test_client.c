/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * shards/client.c (libzcsign): an in-process EAL (no hugepages, no shared
 * config) plays the primary; each test creates engine objects of the sizes it
 * needs and plays the gateway through the client API and a fake worker
 * (dequeue from the shard rings, zcs_shards_complete). What gateways rely on:
 * slots are claimed once, exhausted cleanly and reclaimed from dead owners
 * with nothing leaked; a refused request (-EINVAL, -ENOBUFS, -EBUSY,
 * -ESHUTDOWN) was not queued and holds no object; a burst queues a prefix;
 * one account's requests stay in order; completions come back intact; every
 * object returns to the pool; the counters reconcile.
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
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include <zcsign/client.h>
#include <zcsign/shard.h>

#include "eal_nohuge.h"
#include "shards.h"

#define MAX_CLIENTS 8

struct fixture {
	struct zcs_engine_shared *sh;
	struct zcs_client *c[MAX_CLIENTS];
	uint32_t pool_size;
};

static const uint8_t hash[32] = {0xab, 0xcd};

/* ---- helpers ---- */

static struct zcs_engine_shared *
engine_create(struct fixture *f, uint16_t shards, uint32_t ring, uint32_t pool, uint32_t cache,
	uint16_t clients)
{
	struct zcs_shards_conf conf = shards_conf_make(shards, ring, pool, cache, clients);

	f->sh = zcs_shards_create(&conf);
	assert_non_null(f->sh);
	f->pool_size = pool;
	return f->sh;
}

/* The nth account (from 1) that zcs_shard_of puts on shard. */
static uint64_t
account_on(uint32_t shard, uint32_t shard_count, unsigned int nth)
{
	uint64_t a;

	for (a = 1;; a++)
		if (zcs_shard_of(a, shard_count) == shard && --nth == 0)
			return a;
}

static struct zcs_sign_args
args_for(uint64_t account, uint64_t cookie)
{
	struct zcs_sign_args a = {
		.account = account,
		.cookie = cookie,
		.algo = ZCS_ALGO_ECDSA,
		.hash = hash,
	};

	return a;
}

static unsigned int
queued(const struct zcs_engine_shared *sh)
{
	unsigned int n = 0;
	unsigned int i;

	for (i = 0; i < sh->shard_count; i++)
		n += rte_ring_count(sh->shards[i].ring);
	return n;
}

/* The fake worker: complete everything queued on one shard, in ring order. */
static unsigned int
work_shard(struct zcs_engine_shared *sh, unsigned int shard, uint16_t status)
{
	void *objs[64];
	unsigned int n, i, total = 0;

	while ((n = rte_ring_dequeue_burst(sh->shards[shard].ring, objs, RTE_DIM(objs), NULL)) >
		0) {
		for (i = 0; i < n; i++) {
			struct zcs_request *r = objs[i];

			assert_int_equal(r->shard, shard);
			zcs_shards_complete(sh, r, status, rte_rdtsc());
		}
		total += n;
	}
	return total;
}

static unsigned int
work_all(struct zcs_engine_shared *sh, uint16_t status)
{
	unsigned int s, total = 0;

	for (s = 0; s < sh->shard_count; s++)
		total += work_shard(sh, s, status);
	return total;
}

/* Poll and release everything completed for c; the count. */
static unsigned int
poll_all(struct zcs_client *c)
{
	struct zcs_request *out[32];
	unsigned int n, total = 0;

	while ((n = zcs_poll(c, out, RTE_DIM(out))) > 0) {
		zcs_release(c, out, n);
		total += n;
	}
	return total;
}

/* A pid no process has: a child that already exited and was reaped. */
static pid_t
dead_pid(void)
{
	pid_t pid = fork();
	int st;

	assert_true(pid >= 0);
	if (pid == 0)
		_exit(0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return pid;
}

/* splitmix64: a reproducible sequence for the interleaving test. */
static uint64_t
next_rand(uint64_t *s)
{
	*s += UINT64_C(0x9e3779b97f4a7c15);
	return zcs_mix64(*s);
}

/* ---- fixture ---- */

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	int rc = shards_teardown(f->sh, f->c, MAX_CLIENTS);

	free(f);
	return rc;
}

/* ---- attach ---- */

static void
attach_without_engine_says_what_to_check(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *log;

	(void)state;
	log = open_memstream(&buf, &len);
	assert_non_null(log);
	rte_openlog_stream(log);
	rte_errno = 0;
	assert_null(zcs_attach("nobody"));
	assert_int_equal(rte_errno, ENOENT);
	rte_openlog_stream(NULL);
	fclose(log);
	assert_non_null(strstr(buf, "is zcsignd running"));
	assert_non_null(strstr(buf, "--file-prefix"));
	assert_non_null(strstr(buf, rte_eal_get_runtime_dir()));
	free(buf);
}

static void
attach_and_detach(void **state)
{
	struct fixture *f = *state;
	struct zcs_engine_shared *sh = engine_create(f, 2, 64, 128, 8, 4);
	struct zcs_client_slot *s;
	uint16_t slot;
	uint32_t gen;

	f->c[0] = zcs_attach("a-very-long-gateway-name-that-does-not-fit-in-32");
	assert_non_null(f->c[0]);
	slot = zcs_client_slot(f->c[0]);
	assert_true(slot < 4);
	assert_int_equal(zcs_shard_count(f->c[0]), 2);
	s = &sh->clients[slot];
	assert_int_equal(s->in_use, 1);
	assert_int_equal(s->pid, getpid());
	assert_int_equal(strlen(s->name), 31);
	assert_non_null(s->cache);
	gen = s->gen;
	assert_int_not_equal(gen, 0);

	f->c[1] = zcs_attach("b");
	assert_non_null(f->c[1]);
	assert_int_not_equal(zcs_client_slot(f->c[1]), slot);

	zcs_detach(f->c[0]);
	f->c[0] = NULL;
	assert_int_equal(s->in_use, 0);
	assert_int_equal(s->pid, 0);
	assert_null(s->cache);
	assert_int_equal(shards_pool_free(sh), 128);

	/* The freed slot is claimed again, under a new generation. */
	f->c[0] = zcs_attach("c");
	assert_non_null(f->c[0]);
	assert_int_equal(zcs_client_slot(f->c[0]), slot);
	assert_string_equal(s->name, "c");
	assert_int_not_equal(s->gen, gen);
	zcs_detach(NULL);
}

static void
slots_exhaust_with_enospc(void **state)
{
	struct fixture *f = *state;
	unsigned int i;

	engine_create(f, 1, 64, 128, 8, 3);
	for (i = 0; i < 3; i++) {
		f->c[i] = zcs_attach("x");
		assert_non_null(f->c[i]);
	}
	rte_errno = 0;
	assert_null(zcs_attach("one-too-many"));
	assert_int_equal(rte_errno, ENOSPC);
	/* Slots of live owners (this process) are never reclaimed. */
	assert_null(zcs_attach("one-too-many"));
	zcs_detach(f->c[1]);
	f->c[1] = zcs_attach("x");
	assert_non_null(f->c[1]);
	assert_int_equal(shards_pool_free(f->sh), 128);
}

static void
dead_owner_slot_is_reclaimed(void **state)
{
	struct fixture *f = *state;
	struct zcs_engine_shared *sh = engine_create(f, 2, 64, 128, 8, 2);
	struct zcs_client *dead;
	struct zcs_sign_args a;
	uint16_t slot;
	unsigned int i;

	dead = zcs_attach("dies");
	f->c[1] = zcs_attach("lives");
	assert_non_null(dead);
	assert_non_null(f->c[1]);
	slot = zcs_client_slot(dead);
	for (i = 0; i < 5; i++) {
		a = args_for(100 + i, i);
		assert_int_equal(zcs_submit(dead, &a), 0);
	}
	assert_int_equal(work_all(sh, ZCS_OK), 5);
	assert_int_equal(rte_ring_count(sh->clients[slot].cq), 5);
	/* The owner "dies": its private memory is gone, its shared state is not. */
	assert_true(sh->clients[slot].cache->len > 0);
	sh->clients[slot].pid = (int32_t)dead_pid();
	free(dead);
	/* Held: the 5 completions (its cache is still counted, it is shared). */
	assert_int_equal(shards_pool_free(sh), 128 - 5);

	f->c[0] = zcs_attach("heir");
	assert_non_null(f->c[0]);
	assert_int_equal(zcs_client_slot(f->c[0]), slot);
	assert_int_equal(sh->clients[slot].pid, getpid());
	assert_int_equal(sh->clients[slot].stale, 5);
	assert_int_equal(sh->clients[slot].submitted, 0);
	/* ...but the engine's totals still count what the dead owner submitted */
	struct zcs_client_totals t;
	zcs_shards_client_totals(&t, sh);
	assert_int_equal(t.submitted, 5);
	assert_int_equal(rte_ring_count(sh->clients[slot].cq), 0);
	/*
	 * Its completions and its cache went back to the pool: had the cache
	 * been dropped instead of flushed, its objects would be missing here.
	 */
	assert_int_equal(shards_pool_free(sh), 128);
	assert_int_equal(poll_all(f->c[0]), 0);

	rte_errno = 0;
	assert_null(zcs_attach("none-left"));
	assert_int_equal(rte_errno, ENOSPC);
}

/* A previous owner's request completing after the slot changed hands is dropped. */
static void
late_completion_of_previous_owner_is_dropped(void **state)
{
	struct fixture *f = *state;
	struct zcs_engine_shared *sh = engine_create(f, 2, 64, 128, 8, 1);
	struct zcs_request *out[8];
	struct zcs_sign_args a;
	unsigned int i;

	f->c[0] = zcs_attach("first");
	assert_non_null(f->c[0]);
	for (i = 0; i < 3; i++) {
		a = args_for(7 + i, 1000 + i);
		assert_int_equal(zcs_submit(f->c[0], &a), 0);
	}
	zcs_detach(f->c[0]);
	f->c[0] = zcs_attach("second");
	assert_non_null(f->c[0]);
	a = args_for(50, 5000);
	assert_int_equal(zcs_submit(f->c[0], &a), 0);
	assert_int_equal(work_all(sh, ZCS_OK), 4);

	assert_int_equal(zcs_poll(f->c[0], out, RTE_DIM(out)), 1);
	assert_int_equal(out[0]->cookie, 5000);
	zcs_release(f->c[0], out, 1);
	assert_int_equal(sh->clients[0].stale, 3);
	assert_int_equal(sh->clients[0].completed, 1);
	assert_int_equal(shards_pool_free(sh), 128);
}

/* ---- submit ---- */

static void
submit_validates_arguments(void **state)
{
	struct fixture *f = *state;
	struct zcs_engine_shared *sh = engine_create(f, 2, 64, 128, 8, 1);
	struct zcs_sign_args a = args_for(1, 1);
	unsigned int before;
	uint16_t slot;

	f->c[0] = zcs_attach("v");
	assert_non_null(f->c[0]);
	slot = zcs_client_slot(f->c[0]);
	before = shards_pool_free(sh);
	a.algo = 0;
	assert_int_equal(zcs_submit(f->c[0], &a), -EINVAL);
	a.algo = ZCS_ALGO_SCHNORR + 1;
	assert_int_equal(zcs_submit(f->c[0], &a), -EINVAL);
	a.algo = ZCS_ALGO_ECDSA;
	a.hash = NULL;
	assert_int_equal(zcs_submit(f->c[0], &a), -EINVAL);
	assert_int_equal(zcs_submit(f->c[0], NULL), -EINVAL);
	assert_int_equal(queued(sh), 0);
	assert_int_equal(shards_pool_free(sh), before);
	assert_int_equal(sh->clients[slot].refused, 4);
	assert_int_equal(sh->clients[slot].submitted, 0);

	/* Every valid algorithm goes through, and so does a public key request. */
	a.hash = hash;
	for (a.algo = ZCS_ALGO_ECDSA; a.algo <= ZCS_ALGO_SCHNORR; a.algo++)
		assert_int_equal(zcs_submit(f->c[0], &a), 0);
	assert_int_equal(zcs_submit_pubkey(f->c[0], 1, 2), 0);
	assert_int_equal(queued(sh), 4);
	assert_int_equal(sh->clients[slot].submitted, 4);
}

static void
full_ring_is_ebusy(void **state)
{
	struct fixture *f = *state;
	struct zcs_engine_shared *sh = engine_create(f, 2, 8, 64, 8, 1);
	struct zcs_sign_args a;
	unsigned int i, before;
	uint16_t slot;

	f->c[0] = zcs_attach("b");
	assert_non_null(f->c[0]);
	slot = zcs_client_slot(f->c[0]);
	/* An 8-entry ring holds 7. */
	for (i = 0; i < 7; i++) {
		a = args_for(account_on(0, 2, i + 1), i);
		assert_int_equal(zcs_submit(f->c[0], &a), 0);
	}
	before = shards_pool_free(sh);
	assert_int_equal(before, 64 - 7);
	a = args_for(account_on(0, 2, 1), 99);
	assert_int_equal(zcs_submit(f->c[0], &a), -EBUSY);
	assert_int_equal(zcs_submit_pubkey(f->c[0], account_on(0, 2, 2), 98), -EBUSY);
	assert_int_equal(shards_pool_free(sh), before);
	assert_int_equal(rte_ring_count(sh->shards[0].ring), 7);
	assert_int_equal(sh->clients[slot].refused, 2);
	assert_int_equal(sh->clients[slot].submitted, 7);
	/* The other shard is not affected. */
	a = args_for(account_on(1, 2, 1), 100);
	assert_int_equal(zcs_submit(f->c[0], &a), 0);
}

/* Same test with a client cache and without one (pool_cache 0). */
static void
empty_pool_is_enobufs_cache(struct fixture *f, uint32_t cache)
{
	struct zcs_engine_shared *sh = engine_create(f, 4, 64, 32, cache, 1);
	struct zcs_sign_args a[4];
	unsigned int i;
	int err = 0;

	f->c[0] = zcs_attach("p");
	assert_non_null(f->c[0]);
	for (i = 0; i < 30; i++) {
		a[0] = args_for(i, i);
		assert_int_equal(zcs_submit(f->c[0], &a[0]), 0);
	}
	/* Two left: a burst of four queues two, then the pool is empty. */
	for (i = 0; i < 4; i++)
		a[i] = args_for(1000 + i, 1000 + i);
	assert_int_equal(zcs_submit_burst(f->c[0], &err, a, 4), 2);
	assert_int_equal(err, -ENOBUFS);
	assert_int_equal(queued(sh), 32);
	assert_int_equal(zcs_submit(f->c[0], &a[3]), -ENOBUFS);
	assert_int_equal(zcs_submit_pubkey(f->c[0], 5, 5), -ENOBUFS);
	assert_int_equal(queued(sh), 32);
	assert_int_equal(shards_pool_free(sh), 0);

	assert_int_equal(work_all(sh, ZCS_OK), 32);
	assert_int_equal(poll_all(f->c[0]), 32);
	assert_int_equal(shards_pool_free(sh), 32);
	assert_int_equal(zcs_submit(f->c[0], &a[3]), 0);
}

static void
empty_pool_is_enobufs(void **state)
{
	empty_pool_is_enobufs_cache(*state, 4);
}

static void
empty_pool_is_enobufs_without_cache(void **state)
{
	empty_pool_is_enobufs_cache(*state, 0);
}

static void
stopping_engine_is_eshutdown(void **state)
{
	struct fixture *f = *state;
	struct zcs_engine_shared *sh = engine_create(f, 2, 64, 64, 8, 1);
	struct zcs_sign_args a[2] = {args_for(1, 1), args_for(2, 2)};
	unsigned int before;
	int err = 0;

	f->c[0] = zcs_attach("s");
	assert_non_null(f->c[0]);
	before = shards_pool_free(sh);
	sh->stopping = 1;
	assert_int_equal(zcs_submit(f->c[0], &a[0]), -ESHUTDOWN);
	assert_int_equal(zcs_submit_pubkey(f->c[0], 1, 1), -ESHUTDOWN);
	assert_int_equal(zcs_submit_burst(f->c[0], &err, a, 2), 0);
	assert_int_equal(err, -ESHUTDOWN);
	assert_int_equal(queued(sh), 0);
	assert_int_equal(shards_pool_free(sh), before);
	assert_int_equal(sh->clients[zcs_client_slot(f->c[0])].refused, 3);
	sh->stopping = 0;
	assert_int_equal(zcs_submit_burst(f->c[0], &err, a, 2), 2);
	assert_int_equal(err, 0);
}

/* ---- burst ---- */

static void
burst_cut_by_full_ring_queues_a_prefix(void **state)
{
	struct fixture *f = *state;
	struct zcs_engine_shared *sh = engine_create(f, 2, 8, 64, 8, 1);
	uint64_t a0 = account_on(0, 2, 1), a1 = account_on(1, 2, 1);
	struct zcs_sign_args a[6];
	struct zcs_request *r;
	unsigned int i;
	void *obj = NULL;
	int err = 0;

	f->c[0] = zcs_attach("burst");
	assert_non_null(f->c[0]);
	for (i = 0; i < 5; i++) {
		a[0] = args_for(a0, i);
		assert_int_equal(zcs_submit(f->c[0], &a[0]), 0);
	}
	/* Shard 0 has room for 2 more: the third shard-0 request is refused. */
	a[0] = args_for(a1, 100);
	a[1] = args_for(a0, 101);
	a[2] = args_for(a0, 102);
	a[3] = args_for(a0, 103);
	a[4] = args_for(a1, 104);
	a[5] = args_for(a1, 105);
	assert_int_equal(zcs_submit_burst(f->c[0], &err, a, 6), 3);
	assert_int_equal(err, -EBUSY);
	assert_int_equal(rte_ring_count(sh->shards[0].ring), 7);
	assert_int_equal(rte_ring_count(sh->shards[1].ring), 1);
	assert_int_equal(shards_pool_free(sh), 64 - 8);
	assert_int_equal(sh->clients[0].submitted, 8);
	assert_int_equal(sh->clients[0].refused, 1);

	assert_int_equal(rte_ring_dequeue(sh->shards[1].ring, &obj), 0);
	r = obj;
	assert_int_equal(r->cookie, 100);
	zcs_release(f->c[0], &r, 1);
	for (i = 0; i < 7; i++) {
		assert_int_equal(rte_ring_dequeue(sh->shards[0].ring, &obj), 0);
		r = obj;
		assert_int_equal(r->cookie, i < 5 ? i : 101 + (i - 5));
		zcs_release(f->c[0], &r, 1);
	}
	assert_int_equal(shards_pool_free(sh), 64);

	/* An invalid request stops the burst too; n == 0 queues nothing. */
	a[2].algo = 0;
	assert_int_equal(zcs_submit_burst(f->c[0], &err, a, 6), 2);
	assert_int_equal(err, -EINVAL);
	assert_int_equal(queued(sh), 2);
	assert_int_equal(zcs_submit_burst(f->c[0], &err, a, 0), 0);
	assert_int_equal(err, 0);
	assert_int_equal(zcs_submit_burst(f->c[0], NULL, a, 2), 2);
	assert_int_equal(queued(sh), 4);
}

/*
 * Many accounts, interleaved singles and bursts (some longer than one
 * enqueue run, some of one account only): the worker sees each account's
 * requests in submission order, on its shard, and so does the client.
 */
static void
per_account_order_is_kept(void **state)
{
	enum { ACCOUNTS = 40, SHARDS = 4, TOTAL = 20000 };
	struct fixture *f = *state;
	struct zcs_engine_shared *sh = engine_create(f, SHARDS, 512, 2048, 32, 1);
	static uint32_t sent[ACCOUNTS], seen[ACCOUNTS], polled[ACCOUNTS];
	struct zcs_sign_args a[48];
	struct zcs_request *out[32];
	uint64_t accounts[ACCOUNTS];
	uint64_t rnd = 42, total = 0, completed = 0;
	unsigned int i, k, n;
	void *objs[64];
	int err;

	memset(sent, 0, sizeof(sent));
	memset(seen, 0, sizeof(seen));
	memset(polled, 0, sizeof(polled));
	for (i = 0; i < ACCOUNTS; i++)
		accounts[i] = next_rand(&rnd);
	f->c[0] = zcs_attach("order");
	assert_non_null(f->c[0]);

	while (total < TOTAL) {
		/* Gateway: a single, or a burst of 1..48 (half of them one account). */
		n = next_rand(&rnd) % 3 == 0 ? 1 : 1 + next_rand(&rnd) % RTE_DIM(a);
		k = next_rand(&rnd) % ACCOUNTS;
		for (i = 0; i < n; i++) {
			if (n % 2 == 1)
				k = next_rand(&rnd) % ACCOUNTS;
			a[i] = args_for(accounts[k], (uint64_t)k << 32 | sent[k]++);
		}
		if (n == 1)
			assert_int_equal(zcs_submit(f->c[0], &a[0]), 0);
		else
			assert_int_equal(zcs_submit_burst(f->c[0], &err, a, n), n);
		total += n;

		/* Worker: now and then, and before a ring could fill, drain them all. */
		if (queued(sh) < 256 && next_rand(&rnd) % 4 != 0 && total < TOTAL)
			continue;
		for (unsigned int s = 0; s < SHARDS; s++) {
			while ((n = rte_ring_dequeue_burst(
					sh->shards[s].ring, objs, RTE_DIM(objs), NULL)) > 0) {
				for (i = 0; i < n; i++) {
					struct zcs_request *r = objs[i];

					k = (unsigned int)(r->cookie >> 32);
					assert_true(k < ACCOUNTS);
					assert_int_equal(r->account, accounts[k]);
					assert_int_equal(zcs_shard_of(r->account, SHARDS), s);
					assert_int_equal(r->shard, s);
					assert_int_equal((uint32_t)r->cookie, seen[k]++);
					zcs_shards_complete(sh, r, ZCS_OK, rte_rdtsc());
				}
			}
		}
		/* Client: completions of one account also come back in order. */
		while ((n = zcs_poll(f->c[0], out, RTE_DIM(out))) > 0) {
			for (i = 0; i < n; i++) {
				k = (unsigned int)(out[i]->cookie >> 32);
				assert_int_equal((uint32_t)out[i]->cookie, polled[k]++);
			}
			zcs_release(f->c[0], out, n);
			completed += n;
		}
	}
	assert_int_equal(completed, total);
	for (i = 0; i < ACCOUNTS; i++) {
		assert_int_equal(seen[i], sent[i]);
		assert_int_equal(polled[i], sent[i]);
	}
	assert_int_equal(sh->clients[0].submitted, total);
	assert_int_equal(sh->clients[0].completed, total);
	assert_int_equal(sh->clients[0].refused, 0);
	assert_int_equal(shards_pool_free(sh), 2048);
}

/* ---- completions ---- */

static void
poll_returns_intact_completions(void **state)
{
	struct fixture *f = *state;
	struct zcs_engine_shared *sh = engine_create(f, 2, 64, 128, 8, 2);
	struct zcs_request *out[16];
	struct zcs_sign_args a;
	uint64_t t0 = rte_rdtsc();
	unsigned int i, n, slot;
	void *objs[16];

	f->c[0] = zcs_attach("poll");
	f->c[1] = zcs_attach("other");
	assert_non_null(f->c[0]);
	assert_non_null(f->c[1]);
	slot = zcs_client_slot(f->c[0]);
	for (i = 0; i < 10; i++) {
		a = args_for(account_on(0, 2, 1), 0xc0c0000 + i);
		a.algo = ZCS_ALGO_ECDSA_RECOVERABLE;
		a.deadline_tsc = t0 + i;
		assert_int_equal(zcs_submit(f->c[0], &a), 0);
	}
	assert_int_equal(zcs_submit_pubkey(f->c[1], account_on(0, 2, 2), 77), 0);
	assert_int_equal(zcs_poll(f->c[0], out, RTE_DIM(out)), 0);

	/* Worker: odd requests expire, even ones are "signed". */
	n = rte_ring_dequeue_burst(sh->shards[0].ring, objs, RTE_DIM(objs), NULL);
	assert_int_equal(n, 11);
	for (i = 0; i < n; i++) {
		struct zcs_request *r = objs[i];

		if (r->op == ZCS_OP_PUBKEY) {
			zcs_shards_complete(sh, r, ZCS_OK, 5);
			continue;
		}
		assert_int_equal(r->status, ZCS_ERR_INTERNAL);
		r->recid = 1;
		memset(r->sig, 0x5a, sizeof(r->sig));
		zcs_shards_complete(sh, r, i % 2 ? ZCS_ERR_EXPIRED : ZCS_OK, 1000 + i);
	}

	n = zcs_poll(f->c[0], out, 4);
	assert_int_equal(n, 4);
	n += zcs_poll(f->c[0], out + 4, RTE_DIM(out) - 4);
	assert_int_equal(n, 10);
	for (i = 0; i < n; i++) {
		struct zcs_request *r = out[i];

		assert_int_equal(r->cookie, 0xc0c0000 + i);
		assert_int_equal(r->account, account_on(0, 2, 1));
		assert_int_equal(r->op, ZCS_OP_SIGN);
		assert_int_equal(r->algo, ZCS_ALGO_ECDSA_RECOVERABLE);
		assert_int_equal(r->status, i % 2 ? ZCS_ERR_EXPIRED : ZCS_OK);
		assert_int_equal(r->done_tsc, 1000 + i);
		assert_int_equal(r->deadline_tsc, t0 + i);
		assert_true(r->submit_tsc >= t0 && r->submit_tsc <= rte_rdtsc());
		assert_int_equal(r->client, slot);
		assert_int_equal(r->recid, 1);
		assert_int_equal(r->sig[63], 0x5a);
		assert_memory_equal(r->hash, hash, sizeof(hash));
	}
	assert_int_equal(zcs_poll(f->c[0], out, RTE_DIM(out)), 0);
	zcs_release(f->c[0], out, n);

	n = zcs_poll(f->c[1], out, RTE_DIM(out));
	assert_int_equal(n, 1);
	assert_int_equal(out[0]->op, ZCS_OP_PUBKEY);
	assert_int_equal(out[0]->cookie, 77);
	zcs_release(f->c[1], out, 1);

	/* A reused object starts clean: no signature of its last use. */
	a = args_for(account_on(0, 2, 1), 1);
	for (i = 0; i < 10; i++)
		assert_int_equal(zcs_submit(f->c[0], &a), 0);
	n = rte_ring_dequeue_burst(sh->shards[0].ring, objs, RTE_DIM(objs), NULL);
	assert_int_equal(n, 10);
	for (i = 0; i < n; i++) {
		struct zcs_request *r = objs[i];

		assert_int_equal(r->sig[0], 0);
		assert_int_equal(r->recid, 0);
		assert_int_equal(r->done_tsc, 0);
		zcs_shards_complete(sh, r, ZCS_ERR_SIGNER_DOWN, rte_rdtsc());
	}
	assert_int_equal(poll_all(f->c[0]), 10);

	/* Counters reconcile, and every object is back. */
	assert_int_equal(sh->clients[slot].submitted, 20);
	assert_int_equal(sh->clients[slot].completed, 20);
	assert_int_equal(sh->clients[slot].refused, 0);
	assert_int_equal(sh->clients[zcs_client_slot(f->c[1])].completed, 1);
	assert_int_equal(shards_pool_free(sh), 128);
}

static void
counters_reconcile(void **state)
{
	struct fixture *f = *state;
	struct zcs_engine_shared *sh = engine_create(f, 2, 16, 64, 8, 1);
	struct zcs_client_slot *s;
	struct zcs_sign_args a;
	unsigned int i, ok = 0, refused = 0;
	int ret;

	f->c[0] = zcs_attach("count");
	assert_non_null(f->c[0]);
	s = &sh->clients[zcs_client_slot(f->c[0])];
	/* Rings of 15 and a pool of 64: some accepted, some refused. */
	for (i = 0; i < 50; i++) {
		a = args_for(i, i);
		if (i % 7 == 0)
			a.algo = 9;
		ret = zcs_submit(f->c[0], &a);
		if (ret == 0)
			ok++;
		else
			refused++;
	}
	assert_true(ok > 0 && refused > 7);
	assert_int_equal(s->submitted, ok);
	assert_int_equal(s->refused, refused);
	assert_int_equal(work_all(sh, ZCS_OK), ok);
	assert_int_equal(poll_all(f->c[0]), ok);
	assert_int_equal(s->completed, s->submitted);
	assert_int_equal(shards_pool_free(sh), 64);
}

/* ---- time ---- */

static void
ns_and_tsc_round_trip(void **state)
{
	static const uint64_t ns[] = {
		1000, 1000000, 1000000000, UINT64_C(3600000000000), UINT64_C(31536000000000000)};
	uint64_t hz = rte_get_tsc_hz();
	unsigned int i;

	(void)state;
	assert_true(hz > 0);
	/* One second is tsc_hz cycles. */
	assert_true(zcs_ns_to_tsc(1000000000) == hz);
	assert_int_equal(zcs_tsc_to_ns(hz), 1000000000);
	assert_int_equal(zcs_ns_to_tsc(0), 0);
	for (i = 0; i < RTE_DIM(ns); i++) {
		uint64_t back = zcs_tsc_to_ns(zcs_ns_to_tsc(ns[i]));
		double err = ((double)back - (double)ns[i]) / (double)ns[i];

		assert_true(err < 0.01 && err > -0.01);
	}
	/* A year of cycles does not overflow. */
	assert_int_equal(zcs_tsc_to_ns(hz * 31536000), UINT64_C(31536000000000000));
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(attach_without_engine_says_what_to_check),
		T(attach_and_detach),
		T(slots_exhaust_with_enospc),
		T(dead_owner_slot_is_reclaimed),
		T(late_completion_of_previous_owner_is_dropped),
		T(submit_validates_arguments),
		T(full_ring_is_ebusy),
		T(empty_pool_is_enobufs),
		T(empty_pool_is_enobufs_without_cache),
		T(stopping_engine_is_eshutdown),
		T(burst_cut_by_full_ring_queues_a_prefix),
		T(per_account_order_is_kept),
		T(poll_returns_intact_completions),
		T(counters_reconcile),
		T(ns_and_tsc_round_trip),
	};
#undef T

	return cmocka_run_group_tests(tests, eal_nohuge_group_setup, eal_nohuge_group_teardown);
}
