/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Snapshots of the engine memzone (shards.h): the one place that knows how
 * to read state other lcores and processes write. zcsignd's status lines,
 * the telemetry commands, `zcsign-cli status` and the bench all go through
 * here, so none of them pokes the raw memzone or keeps its own table of
 * names.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_ring.h>

#include "shards.h"

#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

static const char *const conn_names[] = {
	[ZCS_SHARD_DOWN] = "down",
	[ZCS_SHARD_CONNECTING] = "connecting",
	[ZCS_SHARD_HANDSHAKE] = "handshake",
	[ZCS_SHARD_UP] = "up",
	[ZCS_SHARD_REFUSED] = "refused",
};

const char *
zcs_shard_conn_name(uint32_t state)
{
	return state < RTE_DIM(conn_names) && conn_names[state] != NULL ? conn_names[state]
									: "unknown";
}

static bool
all_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;

	while (n-- > 0)
		acc |= *p++;
	return acc == 0;
}

int
zcs_shard_info(const struct zcs_engine_shared *sh, unsigned int shard, struct zcs_shard_info *out)
{
	const struct zcs_shard_state *st;
	unsigned int i;

	if (shard >= sh->shard_count || shard >= ZCS_MAX_SHARDS)
		return -EINVAL;
	st = &sh->shards[shard];
	memset(out, 0, sizeof(*out));
	out->shard = (uint16_t)shard;
	out->state = __atomic_load_n(&st->state, __ATOMIC_ACQUIRE);
	out->lcore = LOAD(st->lcore);
	snprintf(out->endpoint, sizeof(out->endpoint), "%.*s", (int)sizeof(st->endpoint) - 1,
		st->endpoint);
	out->ring_count = rte_ring_count(st->ring);
	out->ring_capacity = rte_ring_get_capacity(st->ring);
	out->dequeued = LOAD(st->dequeued);
	out->sent = LOAD(st->sent);
	out->signed_ok = LOAD(st->signed_ok);
	out->expired = LOAD(st->expired);
	out->failed = LOAD(st->failed);
	out->inflight = LOAD(st->inflight);
	out->connects = LOAD(st->connects);
	out->disconnects = LOAD(st->disconnects);
	for (i = 0; i < ZCS_STATUS_MAX; i++)
		out->by_status[i] = LOAD(st->by_status[i]);
	out->signer_keys = LOAD(st->signer_keys);
	out->signer_key_source = LOAD(st->signer_key_source);
	/* Until a handshake, nobody has said. */
	out->nonce_known = out->connects != 0 || out->state == ZCS_SHARD_UP;
	out->signer_nonce_mode = LOAD(st->signer_nonce_mode);
	memcpy(out->signer_measurement, st->signer_measurement, ZCS_MEASUREMENT_LEN);
	out->has_signer_measurement = !all_zero(out->signer_measurement, ZCS_MEASUREMENT_LEN);
	out->has_expected_measurement = st->has_expected_measurement != 0;
	memcpy(out->expected_measurement, st->expected_measurement, ZCS_MEASUREMENT_LEN);
	out->busy_cycles = LOAD(st->busy_cycles);
	out->idle_cycles = LOAD(st->idle_cycles);
	out->loop_gaps = LOAD(st->loop_gaps);
	out->loop_gap_max = LOAD(st->loop_gap_max);
	out->stats_requests = LOAD(st->stats_requests);
	/* Written by the worker while REFUSED is set after it: bounded, maybe a mix of two. */
	snprintf(out->refused_reason, sizeof(out->refused_reason), "%.*s",
		(int)sizeof(st->refused_reason) - 1, st->refused_reason);
	if (out->state != ZCS_SHARD_REFUSED)
		out->refused_reason[0] = '\0';
	out->stats_rc = zcs_shard_signer_stats_read(st, &out->signer);
	return 0;
}

void
zcs_engine_info(const struct zcs_engine_shared *sh, struct zcs_engine_info *out)
{
	unsigned int i;

	memset(out, 0, sizeof(*out));
	out->shard_count = sh->shard_count;
	out->client_slots = sh->client_slots;
	for (i = 0; i < sh->client_slots && i < ZCS_MAX_CLIENTS; i++)
		out->client_slots_used +=
			__atomic_load_n(&sh->clients[i].in_use, __ATOMIC_ACQUIRE) != 0;
	out->stopping = __atomic_load_n(&sh->stopping, __ATOMIC_ACQUIRE) != 0;
	out->tsc_hz = sh->tsc_hz;
	out->uptime_tsc = rte_rdtsc() - sh->start_tsc;
	out->ring_size = sh->ring_size;
	out->pool_cache = sh->pool_cache;
	out->undeliverable = LOAD(sh->undeliverable);
	zcs_shards_client_totals(&out->clients, sh);
	for (i = 0; i < sh->shard_count && i < ZCS_MAX_SHARDS; i++) {
		const struct zcs_shard_state *st = &sh->shards[i];

		out->signed_ok += LOAD(st->signed_ok);
		out->expired += LOAD(st->expired);
		out->failed += LOAD(st->failed);
		out->inflight += LOAD(st->inflight);
	}
}

int
zcs_client_info(const struct zcs_engine_shared *sh, unsigned int slot, struct zcs_client_info *out)
{
	const struct zcs_client_slot *s;
	size_t k;

	if (slot >= sh->client_slots || slot >= ZCS_MAX_CLIENTS)
		return -EINVAL;
	s = &sh->clients[slot];
	if (__atomic_load_n(&s->in_use, __ATOMIC_ACQUIRE) == 0)
		return -ENOENT;
	memset(out, 0, sizeof(*out));
	out->slot = slot;
	/* A label any process wrote: printable ASCII only, nothing to escape. */
	snprintf(out->name, sizeof(out->name), "%.*s", (int)sizeof(s->name) - 1, s->name);
	for (k = 0; out->name[k] != '\0'; k++)
		if (out->name[k] < 0x20 || out->name[k] > 0x7e || out->name[k] == '"' ||
			out->name[k] == '\\')
			out->name[k] = '?';
	out->pid = __atomic_load_n(&s->pid, __ATOMIC_RELAXED);
	out->submitted = LOAD(s->submitted);
	out->refused = LOAD(s->refused);
	out->completed = LOAD(s->completed);
	out->stale = LOAD(s->stale);
	return 0;
}

bool
zcs_shards_all_up(const struct zcs_engine_shared *sh)
{
	unsigned int i;

	for (i = 0; i < sh->shard_count && i < ZCS_MAX_SHARDS; i++)
		if (__atomic_load_n(&sh->shards[i].state, __ATOMIC_ACQUIRE) != ZCS_SHARD_UP)
			return false;
	return true;
}
