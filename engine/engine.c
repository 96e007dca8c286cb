/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The engine library: place the shards on worker lcores, create the shared
 * objects, launch one worker per shard, and stop them with a drain. Runs on
 * the main lcore of an EAL primary and does control only; the data path is
 * entirely in worker.c.
 */
#define _GNU_SOURCE /* cpu_set_t, rte_lcore_cpuset() */
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_alarm.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include <zcsign/engine.h>

#include "cpuset.h"
#include "log.h"
#include "shards.h"
#include "telemetry_internal.h"
#include "worker.h"

#define SYS_ISOLATED "/sys/devices/system/cpu/isolated"
#define SYS_NOHZ_FULL "/sys/devices/system/cpu/nohz_full"

struct zcs_engine {
	struct zcs_engine_conf conf; /* lcores assigned */
	struct zcs_engine_shared *sh;
	struct zcs_worker *workers[ZCS_MAX_SHARDS];
	const char *isolation[ZCS_MAX_SHARDS]; /* check_isolation() verdicts, for telemetry */
	volatile int stop; /* read by every worker; set once by zcs_engine_stop() */
	bool launched[ZCS_MAX_SHARDS];
	bool stopped;
	uint64_t alarms; /* engine_alarm() runs */
};

/* One engine per EAL: the shared object names are fixed. */
static struct zcs_engine *running;

/* ---- lcores ---- */

static int
assign_lcores(struct zcs_engine_conf *conf)
{
	unsigned int main_lcore = rte_get_main_lcore();
	bool used[RTE_MAX_LCORE] = {false};
	unsigned int i, l, need = 0, free_lcores = 0;

	for (i = 0; i < conf->shards; i++) {
		l = conf->shard[i].lcore;
		if (l == ZCS_ENGINE_LCORE_ANY) {
			need++;
			continue;
		}
		if (l == main_lcore) {
			ZCS_LOG(ERR,
				"shard %u: lcore %u is the main lcore, which only does control; "
				"give the shard a worker lcore",
				i, l);
			return -EINVAL;
		}
		if (!rte_lcore_is_enabled(l)) {
			ZCS_LOG(ERR,
				"shard %u: lcore %u is not in this EAL's lcore list (-l/--lcores)",
				i, l);
			return -EINVAL;
		}
		used[l] = true;
	}
	RTE_LCORE_FOREACH_WORKER(l)
	{
		if (!used[l])
			free_lcores++;
	}
	if (free_lcores < need) {
		unsigned int total = rte_lcore_count() + need - free_lcores;

		ZCS_LOG(ERR,
			"%u shards need one worker lcore each besides the main lcore, and only "
			"%u are free: give the EAL %u lcores, e.g. -l 0-%u (or --lcores)",
			need, free_lcores, total, total - 1);
		return -EINVAL;
	}
	i = 0;
	RTE_LCORE_FOREACH_WORKER(l)
	{
		if (used[l])
			continue;
		while (i < conf->shards && conf->shard[i].lcore != ZCS_ENGINE_LCORE_ANY)
			i++;
		if (i == conf->shards)
			break;
		conf->shard[i].lcore = l;
		used[l] = true;
	}
	return 0;
}

/*
 * A worker busy-polls its core: anything else scheduled there (other tasks,
 * the timer tick, RCU callbacks) shows up as latency spikes. Say so at start,
 * and return the verdict for /zcsign/info.
 */
static const char *
check_isolation(
	unsigned int lcore, const struct zcs_cpuset *isolated, const struct zcs_cpuset *nohz)
{
	rte_cpuset_t cpus = rte_lcore_cpuset(lcore);
	struct zcs_cpuset set;
	bool iso, tickless;
	char list[128];
	unsigned int c, n;

	zcs_cpuset_zero(&set);
	for (c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &cpus))
			zcs_cpuset_set(&set, c);
	n = zcs_cpuset_count(&set);
	zcs_cpuset_format(list, sizeof(list), &set);
	iso = zcs_cpuset_subset(&set, isolated);
	tickless = zcs_cpuset_subset(&set, nohz);
	if (n == 0)
		return "unknown";
	if (!iso)
		ZCS_LOG(WARNING,
			"lcore %u (cpu%s %s) is not isolated%s: expect jitter; see "
			"docs/TUNING.md",
			lcore, n > 1 ? "s" : "", list, tickless ? "" : " nor nohz_full");
	else if (!tickless)
		ZCS_LOG(WARNING,
			"lcore %u (cpu%s %s) is isolated but not nohz_full: expect "
			"timer-tick jitter; see docs/TUNING.md",
			lcore, n > 1 ? "s" : "", list);
	else
		ZCS_LOG(INFO, "lcore %u (cpu%s %s) is isolated and nohz_full", lcore,
			n > 1 ? "s" : "", list);
	/* Short: /zcsign/info lists one per shard, and a reply is at most 16 KiB. */
	if (!iso)
		return tickless ? "nohz_full" : "none";
	return tickless ? "isolated_nohz_full" : "isolated";
}

/* ---- start ---- */

static void
fill_shard_state(struct zcs_engine *e)
{
	unsigned int i;

	for (i = 0; i < e->conf.shards; i++) {
		struct zcs_shard_state *st = &e->sh->shards[i];
		const struct zcs_engine_shard_conf *sc = &e->conf.shard[i];

		st->lcore = sc->lcore;
		snprintf(st->endpoint, sizeof(st->endpoint), "%s", sc->signer);
		st->has_expected_measurement = sc->has_measurement ? 1 : 0;
		memcpy(st->expected_measurement, sc->measurement, ZCS_MEASUREMENT_LEN);
	}
}

/* Stop and free whatever a failed start had made. */
static void
undo_start(struct zcs_engine *e)
{
	unsigned int i;

	zcs_tel_engine_retract();
	if (e->sh != NULL)
		e->sh->stopping = 1;
	__atomic_store_n(&e->stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i < e->conf.shards; i++) {
		if (e->launched[i])
			rte_eal_wait_lcore(e->conf.shard[i].lcore);
		zcs_worker_free(e->workers[i]);
	}
	if (e->sh != NULL)
		zcs_shards_destroy(e->sh);
	rte_free(e);
}

static int
create_workers(struct zcs_engine *e)
{
	unsigned int i;
	int rc;

	for (i = 0; i < e->conf.shards; i++) {
		e->workers[i] = zcs_worker_create(
			&e->conf, e->sh, (uint16_t)i, e->conf.shard[i].lcore, &e->stop);
		if (e->workers[i] == NULL) {
			ZCS_LOG(ERR, "shard %u: cannot create its worker: %s", i,
				rte_strerror(rte_errno));
			return -rte_errno;
		}
	}
	for (i = 0; i < e->conf.shards; i++) {
		rc = rte_eal_remote_launch(zcs_worker_main, NULL, e->conf.shard[i].lcore);
		if (rc != 0) {
			ZCS_LOG(ERR, "shard %u: cannot launch on lcore %u: %s (lcore busy?)", i,
				e->conf.shard[i].lcore, strerror(-rc));
			return rc;
		}
		e->launched[i] = true;
	}
	return 0;
}

/*
 * Let the /zcsign/ telemetry commands see this engine (registered on first
 * use). Signing does not depend on it: a failure is logged, not fatal.
 */
static void
publish_telemetry(struct zcs_engine *e)
{
	struct zcs_tel_engine t;
	unsigned int i;
	int rc;

	memset(&t, 0, sizeof(t));
	t.sh = e->sh;
	t.shards = e->conf.shards;
	t.poll = e->conf.poll;
	t.gap_threshold_us = e->conf.gap_threshold_us;
	for (i = 0; i < e->conf.shards; i++) {
		t.isolation[i] = e->isolation[i];
		t.w[i] = zcs_worker_tel(e->workers[i]);
	}
	rc = zcs_tel_engine_publish(&t);
	if (rc != 0)
		ZCS_LOG(WARNING,
			"engine: cannot register the /zcsign/ telemetry commands: %s; "
			"running without them",
			strerror(-rc));
}

/*
 * On the EAL's alarm thread, every ZCS_BEAT_MS: the heartbeat clients watch
 * (shards.h), and every ZCS_REAP_MS the client reaper (zcs_shards_reap).
 */
static void
engine_alarm(void *arg)
{
	struct zcs_engine *e = arg;

	zcs_shards_beat(e->sh);
	if (++e->alarms % (ZCS_REAP_MS / ZCS_BEAT_MS) == 0)
		zcs_shards_reap(e->sh);
	rte_eal_alarm_set(ZCS_BEAT_MS * 1000, engine_alarm, e);
}

struct zcs_engine *
zcs_engine_start(const struct zcs_engine_conf *conf)
{
	struct zcs_shards_conf sc;
	struct zcs_cpuset isolated, nohz;
	struct zcs_engine *e;
	char err[256];
	unsigned int i;
	int rc;

	if (rte_eal_process_type() != RTE_PROC_PRIMARY || rte_lcore_id() != rte_get_main_lcore()) {
		ZCS_LOG(ERR, "engine: start it on the main lcore of an EAL primary process");
		rte_errno = EINVAL;
		return NULL;
	}
	if (running != NULL) {
		ZCS_LOG(ERR, "engine: one already runs in this EAL");
		rte_errno = EEXIST;
		return NULL;
	}
	if (zcs_engine_conf_check(conf, err, sizeof(err)) != 0) {
		ZCS_LOG(ERR, "engine: configuration: %s", err);
		rte_errno = EINVAL;
		return NULL;
	}
	e = rte_zmalloc("zcs_engine", sizeof(*e), RTE_CACHE_LINE_SIZE);
	if (e == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	e->conf = *conf;
	if (assign_lcores(&e->conf) != 0) {
		rte_free(e);
		rte_errno = EINVAL;
		return NULL;
	}

	/* A missing file (no isolation configured) is an empty set. */
	zcs_cpuset_read(&isolated, SYS_ISOLATED);
	zcs_cpuset_read(&nohz, SYS_NOHZ_FULL);
	memset(&sc, 0, sizeof(sc));
	sc.shard_count = e->conf.shards;
	sc.client_slots = e->conf.client_slots;
	sc.ring_size = e->conf.ring_size;
	sc.pool_size = e->conf.pool_size;
	sc.pool_cache = e->conf.pool_cache;
	for (i = 0; i < e->conf.shards; i++) {
		e->isolation[i] = check_isolation(e->conf.shard[i].lcore, &isolated, &nohz);
		sc.socket_id[i] = (int)rte_lcore_to_socket_id(e->conf.shard[i].lcore);
	}
	e->sh = zcs_shards_create(&sc);
	if (e->sh == NULL) {
		rc = rte_errno;
		rte_free(e);
		rte_errno = rc;
		return NULL;
	}
	fill_shard_state(e);
	rc = create_workers(e);
	if (rc != 0) {
		undo_start(e);
		rte_errno = -rc;
		return NULL;
	}
	running = e;
	publish_telemetry(e);
	/* Dead clients' slots and requests come back within ZCS_REAP_MS. */
	if (rte_eal_alarm_set(ZCS_BEAT_MS * 1000, engine_alarm, e) != 0)
		ZCS_LOG(WARNING,
			"engine: no EAL alarm: no heartbeat for clients, and dead "
			"clients' slots are reclaimed only when slots run out");
	ZCS_LOG(INFO, "engine: %u shards started, %s poll, ring %" PRIu32 ", inflight_max %" PRIu32,
		e->conf.shards, zcs_poll_mode_name(e->conf.poll), e->conf.ring_size,
		e->conf.inflight_max);
	return e;
}

/* ---- stop ---- */

/*
 * After stopping is set: wait until no client is inside zcs_submit*() (the
 * handshake of shards.h's slot.submitting), so that a client that passed the
 * stopping check just before it was set has enqueued before the drain starts.
 * A slot whose owner died inside a submit is passed over; one that stays
 * inside longer than the drain timeout (a process stopped by a debugger) is
 * logged and passed over too.
 */
static void
wait_submitters(struct zcs_engine *e)
{
	uint64_t hz = rte_get_tsc_hz();
	uint64_t end = rte_rdtsc() + hz * e->conf.drain_timeout_ms / 1000;
	unsigned int i;

	for (i = 0; i < e->sh->client_slots; i++) {
		struct zcs_client_slot *s = &e->sh->clients[i];

		while (__atomic_load_n(&s->submitting, __ATOMIC_SEQ_CST) != 0 &&
			__atomic_load_n(&s->in_use, __ATOMIC_ACQUIRE) != 0) {
			int32_t pid = __atomic_load_n(&s->pid, __ATOMIC_RELAXED);

			if (zcs_shards_process_gone(pid))
				break; /* died inside: its request never reached a ring */
			if (rte_rdtsc() > end) {
				ZCS_LOG(WARNING,
					"client slot %u (%s, pid %d) stayed inside zcs_submit for "
					"%u ms: what it queues after the drain fails (shutdown)",
					i, s->name, (int)pid, e->conf.drain_timeout_ms);
				break;
			}
			rte_delay_us_sleep(50);
		}
	}
}

int
zcs_engine_stop(struct zcs_engine *e)
{
	uint64_t shutdown = 0, late = 0, ok = 0, expired = 0, failed = 0;
	unsigned int i, n;

	if (e == NULL || e->stopped)
		return 0;
	/* The workers' telemetry is freed below: hide it from the commands first. */
	zcs_tel_engine_retract();
	/* Returns once the alarm is not running (it re-arms itself otherwise). */
	rte_eal_alarm_cancel(engine_alarm, e);
	/* Clients first: once none is inside zcs_submit, the rings hold all there will be. */
	__atomic_store_n(&e->sh->stopping, 1, __ATOMIC_SEQ_CST);
	wait_submitters(e);
	__atomic_store_n(&e->stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i < e->conf.shards; i++) {
		rte_eal_wait_lcore(e->conf.shard[i].lcore);
		e->launched[i] = false;
	}
	for (i = 0; i < e->conf.shards; i++) {
		const struct zcs_shard_state *st = &e->sh->shards[i];

		n = zcs_worker_sweep(e->workers[i]);
		if (n != 0)
			ZCS_LOG(WARNING,
				"shard %u: %u requests reached the ring after the drain; failed "
				"(shutdown)",
				i, n);
		late += n;
		shutdown += zcs_worker_shutdown_failed(e->workers[i]);
		ok += st->signed_ok;
		expired += st->expired;
		failed += st->failed;
		zcs_worker_free(e->workers[i]);
		e->workers[i] = NULL;
	}
	e->stopped = true;
	ZCS_LOG(INFO,
		"engine: stopped: signed %" PRIu64 ", expired %" PRIu64 ", failed %" PRIu64
		" (%" PRIu64 " at the drain deadline, %" PRIu64 " late)",
		ok, expired, failed, shutdown, late);
	return shutdown + late != 0 ? -ETIMEDOUT : 0;
}

void
zcs_engine_destroy(struct zcs_engine *e)
{
	if (e == NULL)
		return;
	zcs_engine_stop(e);
	zcs_shards_destroy(e->sh);
	if (running == e)
		running = NULL;
	rte_free(e);
}
