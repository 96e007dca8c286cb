/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libzcsign's client side (zcsign/client.h): attach to a client slot, then
 * submit, poll and release requests in place.
 *
 * Attach and detach are the slow path (they may log, allocate, call kill(2)).
 * Submit, poll and release are the hot path: no syscall, no lock, no
 * allocation; they touch the request, the client's private mempool cache, one
 * shard ring or the client's completion ring, and the slot's counters, which
 * sit on a cache line only this client writes.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include <zcsign/client.h>

#include "log.h"
#include "clock.h"
#include "shards.h"

/* Longest run of same-shard requests zcs_submit_burst enqueues at once. */
#define BURST_RUN 32

/* Completions taken per dequeue when draining a slot's ring. */
#define DRAIN_BURST 64

#define NSEC_PER_SEC UINT64_C(1000000000)

struct zcs_client {
	struct zcs_engine_shared *sh;
	struct zcs_client_slot *slot;
	struct rte_mempool *pool;
	/*
	 * Every pool access goes through this user-owned cache (or straight to
	 * the pool when the engine configured none), never through the pool's
	 * per-lcore caches: lcore ids are per process, so a secondary's lcore 1
	 * and the primary's lcore 1 would share one unlocked cache and corrupt
	 * it. It also makes any thread, EAL or not, a valid client.
	 */
	struct rte_mempool_cache *cache;
	struct rte_ring *cq;
	uint32_t gen;
	uint16_t slot_id;
	uint16_t shard_count;
	/*
	 * Copied from the shard states at attach: those share their cache lines
	 * with counters the workers write all the time, so reading the ring
	 * pointer there on every submit would pull the line across cores.
	 */
	struct rte_ring *rings[ZCS_MAX_SHARDS];
	/*
	 * The engine's heartbeat, looked at when a poll finds nothing (every
	 * check_tsc at most). Once the engine is dead, down holds the requests
	 * it took with it, completed ZCS_ERR_ENGINE_DOWN, for zcs_poll().
	 */
	uint64_t next_check_tsc;
	uint64_t check_tsc;
	bool engine_down;
	struct zcs_request **down;
	unsigned int ndown, down_pos;
};

/* The slot's counters have one writer (the owner); readers load them unlocked. */
static inline void
count(uint64_t *counter, uint64_t n)
{
	__atomic_store_n(counter, *counter + n, __ATOMIC_RELAXED);
}

/* ---- slots ---- */

bool
zcs_shards_process_gone(int32_t pid)
{
	char path[64], buf[256], *p;
	ssize_t n;
	int fd;

	if (pid <= 0)
		return false;
	/*
	 * ESRCH only: EPERM means a live process of another user. This assumes
	 * every client shares the engine's PID namespace.
	 */
	if (kill(pid, 0) == -1 && errno == ESRCH)
		return true;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	/* "pid (comm) S ...": the state follows the last ')'; a zombie runs no code. */
	p = strrchr(buf, ')');
	return p != NULL && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X');
}

/*
 * Claim a free slot, else reclaim one whose owner died. See the ownership
 * protocol in shards.h. Returns the slot index, or -1.
 */
static int
slot_claim(struct zcs_engine_shared *sh)
{
	int32_t self = (int32_t)getpid();
	unsigned int i;

	for (i = 0; i < sh->client_slots; i++) {
		struct zcs_client_slot *s = &sh->clients[i];
		uint32_t expect = 0;

		if (__atomic_compare_exchange_n(
			    &s->in_use, &expect, 1, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
			__atomic_store_n(&s->pid, self, __ATOMIC_RELAXED);
			return (int)i;
		}
	}
	for (i = 0; i < sh->client_slots; i++) {
		struct zcs_client_slot *s = &sh->clients[i];
		int32_t pid = __atomic_load_n(&s->pid, __ATOMIC_ACQUIRE);

		/*
		 * pid 0: being claimed (or released) right now, not dead. Several
		 * processes may find the same dead pid; the CAS on pid lets one win.
		 */
		if (__atomic_load_n(&s->in_use, __ATOMIC_ACQUIRE) == 0 || pid == 0 || pid == self ||
			!zcs_shards_process_gone(pid))
			continue;
		if (__atomic_compare_exchange_n(
			    &s->pid, &pid, self, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
			ZCS_LOG(INFO, "client slot %u (\"%.31s\") reclaimed from dead process %d",
				i, s->name, (int)pid);
			return (int)i;
		}
	}
	return -1;
}

/* Fold a slot's counters into the engine's retired totals and zero them. */
static void
slot_retire_counts(struct zcs_engine_shared *sh, struct zcs_client_slot *s)
{
	__atomic_fetch_add(&sh->retired_submitted,
		__atomic_exchange_n(&s->submitted, 0, __ATOMIC_RELAXED), __ATOMIC_RELAXED);
	__atomic_fetch_add(&sh->retired_refused,
		__atomic_exchange_n(&s->refused, 0, __ATOMIC_RELAXED), __ATOMIC_RELAXED);
	__atomic_fetch_add(&sh->retired_completed,
		__atomic_exchange_n(&s->completed, 0, __ATOMIC_RELAXED), __ATOMIC_RELAXED);
}

/* A slot held by the reaper (pid == self): give it back free. */
static void
slot_release(struct zcs_client_slot *s)
{
	/* pid first: in_use == 1 with pid == 0 is never taken for a dead owner. */
	__atomic_store_n(&s->pid, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&s->in_use, 0, __ATOMIC_RELEASE);
}

/* Returns the completions waiting in the slot's ring to the pool; the count. */
static uint64_t
cq_drain(struct zcs_engine_shared *sh, struct rte_ring *cq)
{
	void *objs[DRAIN_BURST];
	uint64_t total = 0;
	unsigned int n;

	while ((n = rte_ring_dequeue_burst(cq, objs, RTE_DIM(objs), NULL)) > 0) {
		rte_mempool_generic_put(sh->pool, objs, n, NULL);
		total += n;
	}
	return total;
}

/*
 * What a slot's previous owner left goes back: its cache (only a dead owner
 * leaves one: a detach frees it; *cached says how many requests it held) and
 * its unpolled completions (the count returned) to the pool, its counters into
 * the engine's totals; a submit it died inside no longer holds up a stop. The
 * caller holds the slot (claimed, or taken from a dead owner).
 */
static uint64_t
slot_scrub(struct zcs_engine_shared *sh, struct zcs_client_slot *s, uint64_t *cached)
{
	*cached = 0;
	if (s->cache != NULL) {
		*cached = s->cache->len;
		rte_mempool_cache_flush(s->cache, sh->pool);
		rte_mempool_cache_free(s->cache);
		s->cache = NULL;
	}
	slot_retire_counts(sh, s);
	__atomic_store_n(&s->submitting, 0, __ATOMIC_RELAXED);
	return cq_drain(sh, s->cq);
}

/*
 * Make a claimed slot ours: what the previous owner left (a dead owner's
 * cache, completions of requests it submitted) goes back to the pool.
 */
static void
slot_take_over(struct zcs_client *c, const char *name)
{
	struct zcs_client_slot *s = c->slot;
	uint64_t stale, cached;

	stale = slot_scrub(c->sh, s, &cached);
	if (stale > 0)
		ZCS_LOG(DEBUG,
			"client slot %u: %" PRIu64 " completions of its previous owner "
			"returned to the pool",
			c->slot_id, stale);
	s->cache = c->cache;
	c->gen = s->gen + 1;
	s->gen = c->gen;
	snprintf(s->name, sizeof(s->name), "%s", name != NULL ? name : "");
	__atomic_store_n(&s->stale, stale, __ATOMIC_RELAXED);
}

unsigned int
zcs_shards_reap(struct zcs_engine_shared *sh)
{
	int32_t self = (int32_t)getpid();
	unsigned int i, reaped = 0;

	for (i = 0; i < sh->client_slots; i++) {
		struct zcs_client_slot *s = &sh->clients[i];
		int32_t pid = __atomic_load_n(&s->pid, __ATOMIC_ACQUIRE);
		uint32_t free_slot = 0;
		uint64_t cached, done;

		if (__atomic_load_n(&s->in_use, __ATOMIC_ACQUIRE) != 0) {
			/* A dead owner's slot: take it the way a claimer would (shards.h). */
			if (pid == 0 || pid == self || !zcs_shards_process_gone(pid) ||
				!__atomic_compare_exchange_n(&s->pid, &pid, self, false,
					__ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
				continue;
			done = slot_scrub(sh, s, &cached);
			count(&s->stale, done);
			ZCS_LOG(INFO,
				"client slot %u (\"%.31s\") of dead process %d reclaimed: %" PRIu64
				" cached requests and %" PRIu64 " completions back in the pool",
				i, s->name, (int)pid, cached, done);
			slot_release(s);
			reaped++;
			continue;
		}
		/* A free slot that still receives a dead owner's late completions. */
		if (rte_ring_count(s->cq) == 0 ||
			!__atomic_compare_exchange_n(&s->in_use, &free_slot, 1, false,
				__ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			continue;
		__atomic_store_n(&s->pid, self, __ATOMIC_RELAXED);
		count(&s->stale, cq_drain(sh, s->cq));
		slot_release(s);
	}
	return reaped;
}

struct zcs_client *
zcs_attach(const char *name)
{
	struct zcs_engine_shared *sh;
	struct zcs_client *c;
	unsigned int i;
	int slot;

	sh = zcs_shards_lookup();
	if (sh == NULL) {
		if (rte_errno == ENOENT)
			ZCS_LOG(ERR,
				"no zcsignd engine found in this DPDK process: is zcsignd "
				"running, and did you pass its --file-prefix (this process "
				"uses %s)?",
				rte_eal_get_runtime_dir());
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		ZCS_LOG(ERR, "cannot allocate client \"%s\"", name != NULL ? name : "");
		rte_errno = ENOMEM;
		return NULL;
	}
	c->sh = sh;
	c->pool = sh->pool;
	c->shard_count = sh->shard_count;
	for (i = 0; i < sh->shard_count; i++)
		c->rings[i] = sh->shards[i].ring;
	if (sh->pool_cache > 0) {
		c->cache = rte_mempool_cache_create(sh->pool_cache, SOCKET_ID_ANY);
		if (c->cache == NULL) {
			ZCS_LOG(ERR, "cannot create mempool cache (%u entries) for client \"%s\"",
				sh->pool_cache, name != NULL ? name : "");
			free(c);
			rte_errno = ENOMEM;
			return NULL;
		}
	}
	slot = slot_claim(sh);
	if (slot < 0) {
		ZCS_LOG(ERR, "all %u client slots are taken (client \"%s\")", sh->client_slots,
			name != NULL ? name : "");
		rte_mempool_cache_free(c->cache);
		free(c);
		rte_errno = ENOSPC;
		return NULL;
	}
	c->slot_id = (uint16_t)slot;
	c->slot = &sh->clients[slot];
	c->cq = c->slot->cq;
	c->check_tsc = rte_get_tsc_hz() / 100; /* the heartbeat: at most every 10 ms */
	slot_take_over(c, name);
	ZCS_LOG(DEBUG, "client \"%s\" attached to slot %u", c->slot->name, c->slot_id);
	return c;
}

void
zcs_detach(struct zcs_client *c)
{
	struct zcs_client_slot *s;

	if (c == NULL)
		return;
	s = c->slot;
	/* Completions not polled yet go back now rather than at the next claim. */
	count(&s->stale, cq_drain(c->sh, c->cq));
	if (c->cache != NULL) {
		rte_mempool_cache_flush(c->cache, c->pool);
		rte_mempool_cache_free(c->cache);
	}
	s->cache = NULL;
	/* After the engine died: what was not polled goes back too. */
	while (c->down_pos < c->ndown) {
		void *obj = c->down[c->down_pos++];

		rte_mempool_generic_put(c->pool, &obj, 1, NULL);
	}
	free(c->down);
	slot_release(s);
	free(c);
}

uint16_t
zcs_client_slot(const struct zcs_client *c)
{
	return c->slot_id;
}

uint16_t
zcs_shard_count(const struct zcs_client *c)
{
	return c->shard_count;
}

/* ---- submit ---- */

static inline bool
args_valid(const struct zcs_sign_args *a, uint8_t op)
{
	if (op == ZCS_OP_PUBKEY)
		return true;
	return a->hash != NULL && zcs_algo_valid(a->algo);
}

/* Everything but submit_tsc, which is stamped right before the enqueue. */
static inline void
request_fill(const struct zcs_client *c, struct zcs_request *r, const struct zcs_sign_args *a,
	uint8_t op, uint32_t shard)
{
	r->account = a->account;
	r->cookie = a->cookie;
	r->deadline_tsc = a->deadline_tsc;
	if (a->hash != NULL)
		memcpy(r->hash, a->hash, sizeof(r->hash));
	else
		memset(r->hash, 0, sizeof(r->hash));
	r->algo = (uint8_t)a->algo;
	r->recid = 0;
	r->inflight = 1;
	r->client = c->slot_id;
	r->shard = (uint16_t)shard;
	/* Until a worker completes it, a request reads as failed, never as signed. */
	r->status = ZCS_ERR_INTERNAL;
	r->seq = 0;
	r->send_tsc = 0;
	r->done_tsc = 0;
	r->signer_ns = 0;
	r->op = op;
	memset(r->pad, 0, sizeof(r->pad));
	r->client_gen = c->gen;
	r->reserved[0] = 0;
	r->reserved[1] = 0;
	/* A failed request must not carry the signature of the object's last use. */
	memset(r->sig, 0, sizeof(r->sig));
}

static inline int
refuse(struct zcs_client *c, int err)
{
	count(&c->slot->refused, 1);
	return err;
}

void (*zcs_client_test_stall)(void);

/*
 * The stop handshake (shards.h, slot.submitting): announce the submit, then
 * look at stopping. Both are sequentially consistent, as are the engine's
 * store of stopping and its loads of submitting, so either this submit sees
 * stopping or the engine sees it under way and waits for its enqueue.
 */
static inline bool
submit_enter(struct zcs_client *c)
{
	__atomic_store_n(&c->slot->submitting, 1, __ATOMIC_SEQ_CST);
	return __atomic_load_n(&c->sh->stopping, __ATOMIC_SEQ_CST) == 0;
}

static inline void
submit_leave(struct zcs_client *c)
{
	__atomic_store_n(&c->slot->submitting, 0, __ATOMIC_RELEASE);
}

static inline void
submit_stall(void)
{
	void (*hook)(void) = zcs_client_test_stall;

	if (unlikely(hook != NULL))
		hook();
}

static inline int
submit_locked(struct zcs_client *c, const struct zcs_sign_args *a, uint8_t op)
{
	struct zcs_request *r;
	uint32_t shard;
	void *obj;

	if (unlikely(a == NULL || !args_valid(a, op)))
		return refuse(c, -EINVAL);
	if (unlikely(rte_mempool_generic_get(c->pool, &obj, 1, c->cache) != 0))
		return refuse(c, -ENOBUFS);
	r = obj;
	shard = zcs_shard_of(a->account, c->shard_count);
	request_fill(c, r, a, op, shard);
	r->submit_tsc = rte_rdtsc();
	submit_stall();
	if (unlikely(rte_ring_enqueue(c->rings[shard], obj) != 0)) {
		rte_mempool_generic_put(c->pool, &obj, 1, c->cache);
		return refuse(c, -EBUSY);
	}
	count(&c->slot->submitted, 1);
	return 0;
}

static inline int
submit_one(struct zcs_client *c, const struct zcs_sign_args *a, uint8_t op)
{
	int rc;

	if (unlikely(c->engine_down))
		return refuse(c, -ENOTCONN);
	if (unlikely(!submit_enter(c))) {
		submit_leave(c);
		return refuse(c, -ESHUTDOWN);
	}
	rc = submit_locked(c, a, op);
	submit_leave(c);
	return rc;
}

int
zcs_submit(struct zcs_client *c, const struct zcs_sign_args *args)
{
	return submit_one(c, args, ZCS_OP_SIGN);
}

int
zcs_submit_pubkey(struct zcs_client *c, uint64_t account, uint64_t cookie)
{
	const struct zcs_sign_args a = {
		.account = account,
		.cookie = cookie,
	};

	return submit_one(c, &a, ZCS_OP_PUBKEY);
}

/*
 * Take objects for args[0..n) while they are valid and map to one shard, and
 * fill them. Returns how many; *err is the refusal of the one that stopped the
 * run, or 0 if it ended on a shard change, n, or BURST_RUN.
 */
static inline unsigned int
run_collect(struct zcs_client *c, void **objs, uint32_t *run_shard, int *err,
	const struct zcs_sign_args *args, unsigned int n)
{
	unsigned int k;
	uint32_t shard;

	*err = 0;
	n = RTE_MIN(n, (unsigned int)BURST_RUN);
	for (k = 0; k < n; k++) {
		if (unlikely(!args_valid(&args[k], ZCS_OP_SIGN))) {
			*err = -EINVAL;
			break;
		}
		shard = zcs_shard_of(args[k].account, c->shard_count);
		if (k == 0)
			*run_shard = shard;
		else if (shard != *run_shard)
			break;
		if (unlikely(rte_mempool_generic_get(c->pool, &objs[k], 1, c->cache) != 0)) {
			*err = -ENOBUFS;
			break;
		}
		request_fill(c, objs[k], &args[k], ZCS_OP_SIGN, shard);
	}
	return k;
}

unsigned int
zcs_submit_burst(struct zcs_client *c, int *err, const struct zcs_sign_args *args, unsigned int n)
{
	void *objs[BURST_RUN];
	unsigned int done = 0, run, queued, k;
	uint32_t shard = 0;
	uint64_t tsc;
	int ret = 0;

	if (unlikely(n > 0 && c->engine_down)) {
		refuse(c, -ENOTCONN);
		if (err != NULL)
			*err = -ENOTCONN;
		return 0;
	}
	if (unlikely(n > 0 && !submit_enter(c)))
		ret = -ESHUTDOWN;
	else if (unlikely(n > 0 && args == NULL))
		ret = -EINVAL;
	while (ret == 0 && done < n) {
		/*
		 * A run of consecutive same-shard requests goes in one enqueue;
		 * the burst variant queues the longest prefix that fits, so a
		 * run cut by a full ring still leaves args[0..done) queued, in
		 * order, and nothing after.
		 */
		run = run_collect(c, objs, &shard, &ret, &args[done], n - done);
		if (run == 0)
			break;
		tsc = rte_rdtsc();
		for (k = 0; k < run; k++)
			((struct zcs_request *)objs[k])->submit_tsc = tsc;
		submit_stall();
		queued = rte_ring_enqueue_burst(c->rings[shard], objs, run, NULL);
		done += queued;
		if (unlikely(queued < run)) {
			rte_mempool_generic_put(c->pool, &objs[queued], run - queued, c->cache);
			ret = -EBUSY;
		}
	}
	if (n > 0)
		submit_leave(c);
	count(&c->slot->submitted, done);
	/* One refusal: the requests after the refused one were not attempted. */
	if (unlikely(ret != 0))
		count(&c->slot->refused, 1);
	if (err != NULL)
		*err = ret;
	return done;
}

/* ---- completions ---- */

/* One of the requests the dead engine held: ours, submitted, never completed. */
static void
collect_down(struct rte_mempool *mp, void *arg, void *obj, unsigned int idx)
{
	struct zcs_client *c = arg;
	struct zcs_request *r = obj;

	RTE_SET_USED(mp);
	RTE_SET_USED(idx);
	if (r->client != c->slot_id || r->client_gen != c->gen || r->inflight == 0)
		return;
	r->inflight = 0;
	r->status = ZCS_ERR_ENGINE_DOWN;
	r->done_tsc = rte_rdtsc();
	c->down[c->ndown++] = r;
}

/*
 * The engine is dead (its pid gone, its beat stale): every request of ours it
 * held, in a ring or in a worker, will never complete. Find them in the pool
 * (one pass) and hand them out with ZCS_ERR_ENGINE_DOWN.
 */
static void
engine_went_down(struct zcs_client *c, uint64_t beat_age_ms)
{
	c->engine_down = true;
	c->ndown = 0;
	/* Room for the whole pool: the one pass cannot find more than that. */
	c->down = calloc(c->pool->size, sizeof(*c->down));
	if (c->down != NULL)
		rte_mempool_obj_iter(c->pool, collect_down, c);
	else
		ZCS_LOG(ERR, "engine down: no memory to collect the requests it held");
	ZCS_LOG(ERR,
		"engine (pid %d) is dead (last heartbeat %" PRIu64 " ms ago): %u requests it "
		"held complete engine_down, new submits fail ENOTCONN; detach, and attach to "
		"a restarted zcsignd (a secondary restarts its process; an embedding gateway "
		"restarts the engine)",
		(int)c->sh->engine_pid, beat_age_ms, c->ndown);
}

/*
 * A poll that found nothing: every check_tsc, the heartbeat; once the engine
 * is dead, the requests it took with it.
 */
static unsigned int
poll_idle(struct zcs_client *c, struct zcs_request **out, unsigned int n)
{
	uint64_t now, beat, age;
	unsigned int k = 0;

	if (likely(!c->engine_down)) {
		now = rte_rdtsc();
		if (likely(now < c->next_check_tsc))
			return 0;
		c->next_check_tsc = now + c->check_tsc;
		beat = __atomic_load_n(&c->sh->beat_ms, __ATOMIC_ACQUIRE);
		age = zcs_mono_ms() - beat;
		if (age <= ZCS_ENGINE_DEAD_MS || !zcs_shards_process_gone(c->sh->engine_pid))
			return 0;
		engine_went_down(c, age);
	}
	while (k < n && c->down_pos < c->ndown)
		out[k++] = c->down[c->down_pos++];
	if (k > 0)
		count(&c->slot->completed, k);
	return k;
}

unsigned int
zcs_poll(struct zcs_client *c, struct zcs_request **out, unsigned int n)
{
	unsigned int got, i, kept = 0;
	void *obj;

	got = rte_ring_dequeue_burst(c->cq, (void **)out, n, NULL);
	if (unlikely(got == 0))
		return poll_idle(c, out, n);
	for (i = 0; i < got; i++) {
		/*
		 * A request a previous owner of this slot submitted, completed
		 * after we claimed it: not ours to report.
		 */
		if (unlikely(out[i]->client_gen != c->gen)) {
			obj = out[i];
			rte_mempool_generic_put(c->pool, &obj, 1, c->cache);
			count(&c->slot->stale, 1);
			continue;
		}
		out[kept++] = out[i];
	}
	if (kept > 0)
		count(&c->slot->completed, kept);
	return kept;
}

void
zcs_release(struct zcs_client *c, struct zcs_request **reqs, unsigned int n)
{
	if (n > 0)
		rte_mempool_generic_put(c->pool, (void **)reqs, n, c->cache);
}

/* ---- time ---- */

/*
 * Split in whole seconds and remainder so that neither product overflows 64
 * bits for any TSC below 18 GHz, without 128-bit division.
 */
uint64_t
zcs_ns_to_tsc(uint64_t ns)
{
	uint64_t hz = rte_get_tsc_hz();

	return ns / NSEC_PER_SEC * hz + ns % NSEC_PER_SEC * hz / NSEC_PER_SEC;
}

uint64_t
zcs_tsc_to_ns(uint64_t cycles)
{
	uint64_t hz = rte_get_tsc_hz();

	if (unlikely(hz == 0))
		return 0;
	return cycles / hz * NSEC_PER_SEC + cycles % hz * NSEC_PER_SEC / hz;
}
