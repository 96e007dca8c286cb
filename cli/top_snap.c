/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * top's refresh (top_snap.h): each command asked in turn on one connection,
 * each value checked as it is kept.
 */
#include <inttypes.h>
#include <stdio.h>

#include <zcsign/telemetry.h>

#include "top_snap.h"

static int
read_info(struct tel_client *c, struct top_snap *s)
{
	const char *cmd = ZCS_TEL_CMD_INFO;
	uint64_t shards;
	int v = tel_ask(c, cmd);

	if (v < 0 || tel_u64(c, cmd, v, "pid", &s->pid) != 0 ||
		tel_u64(c, cmd, v, "uptime_ns", &s->uptime_ns) != 0 ||
		tel_u64(c, cmd, v, "shards", &shards) != 0 ||
		tel_str(c, cmd, v, "version", s->version, sizeof(s->version)) != 0 ||
		tel_str(c, cmd, v, "poll_mode", s->poll_mode, sizeof(s->poll_mode)) != 0)
		return -1;
	if (shards == 0 || shards > ZCS_MAX_SHARDS)
		return tel_fail(c, "reply to %s: %" PRIu64 " shards (expected 1..%d)", cmd, shards,
			ZCS_MAX_SHARDS);
	s->shards = (unsigned int)shards;
	return 0;
}

/* /zcsign/shards must list 0..shards-1: the table indexes every other command by it. */
static int
read_shard_list(struct tel_client *c, struct top_snap *s)
{
	const char *cmd = ZCS_TEL_CMD_SHARDS;
	int v = tel_ask(c, cmd);
	uint64_t id;
	uint32_t i;

	if (v < 0)
		return -1;
	if (c->doc.node[v].type != JSON_ARR || c->doc.node[v].kids != s->shards)
		return tel_fail(
			c, "reply to %s: expected an array of %u shard numbers", cmd, s->shards);
	for (i = 0; i < s->shards; i++)
		if (json_u64(&c->doc, json_at(&c->doc, v, i), &id) != 0 || id != i)
			return tel_fail(c, "reply to %s: element %u is not shard %u", cmd, i, i);
	return 0;
}

int
top_shard_read(struct tel_client *c, struct top_shard *x, unsigned int n)
{
	char cmd[64];
	uint64_t lcore;
	int v;

	x->shard = n;
	snprintf(cmd, sizeof(cmd), ZCS_TEL_CMD_SHARD ",%u", n);
	v = tel_ask(c, cmd);
	if (v < 0 || tel_str(c, cmd, v, "state", x->state, sizeof(x->state)) != 0 ||
		tel_u64(c, cmd, v, "lcore", &lcore) != 0 ||
		tel_u64(c, cmd, v, "signed", &x->signed_ok) != 0 ||
		tel_u64(c, cmd, v, "expired", &x->expired) != 0 ||
		tel_u64(c, cmd, v, "failed", &x->failed) != 0 ||
		tel_u64(c, cmd, v, "in_flight", &x->in_flight) != 0 ||
		tel_u64(c, cmd, v, "ring_count", &x->ring_count) != 0)
		return -1;
	v = json_find(&c->doc, v, "signer"); /* absent until the signer's first STATS */
	x->has_signer = v >= 0;
	if (x->has_signer &&
		(tel_str(c, cmd, v, "nonce_mode", x->nonce_mode, sizeof(x->nonce_mode)) != 0 ||
			tel_u64(c, cmd, v, "ecdsa_pool_depth", &x->ecdsa_depth) != 0 ||
			tel_u64(c, cmd, v, "ecdsa_pool_capacity", &x->ecdsa_capacity) != 0 ||
			tel_u64(c, cmd, v, "misses", &x->misses) != 0))
		return -1;
	if (lcore > UINT16_MAX)
		return tel_fail(c, "reply to %s: lcore %" PRIu64 " out of range", cmd, lcore);
	x->lcore = (unsigned int)lcore;

	snprintf(cmd, sizeof(cmd), ZCS_TEL_CMD_LATENCY ",%u", n);
	v = tel_ask(c, cmd);
	if (v < 0 || tel_u64(c, cmd, v, "count", &x->lat_count) != 0 ||
		tel_u64(c, cmd, v, "p50", &x->p50) != 0 ||
		tel_u64(c, cmd, v, "p99", &x->p99) != 0 ||
		tel_u64(c, cmd, v, "p99_9", &x->p999) != 0 ||
		tel_u64(c, cmd, v, "max", &x->lat_max) != 0)
		return -1;

	snprintf(cmd, sizeof(cmd), ZCS_TEL_CMD_JITTER ",%u", x->lcore);
	v = tel_ask(c, cmd);
	if (v < 0 || tel_u64(c, cmd, v, "hiccups", &x->hiccups) != 0)
		return -1;
	return tel_u64(c, cmd, json_find(&c->doc, v, "gap"), "max", &x->gap_max);
}

int
top_snap_read(struct tel_client *c, struct top_snap *s)
{
	unsigned int i;

	if (read_info(c, s) != 0 || read_shard_list(c, s) != 0)
		return -1;
	for (i = 0; i < s->shards; i++)
		if (top_shard_read(c, &s->s[i], i) != 0)
			return -1;
	return 0;
}
