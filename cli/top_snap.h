/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What zcsign-cli top shows, read from zcsignd's telemetry commands
 * (zcsign/telemetry.h) through a tel_client: one refresh asks /zcsign/info,
 * /zcsign/shards, then /zcsign/shard, /zcsign/latency and /zcsign/jitter per
 * shard, and checks every value it keeps (present, of its type, in range). A
 * reply that parses but is not what the command answers fails the refresh
 * with the command named in the client's err, never a silently wrong number.
 *
 * Counters are totals since the engine started; rates are the caller's
 * business (two refreshes apart).
 */
#ifndef ZCS_CLI_TOP_SNAP_H
#define ZCS_CLI_TOP_SNAP_H

#include <stdbool.h>
#include <stdint.h>

#include <zcsign/shard.h>

#include "tel_client.h"

/* One shard in one refresh. */
struct top_shard {
	unsigned int shard;
	unsigned int lcore;
	char state[16];
	uint64_t signed_ok;
	uint64_t expired;
	uint64_t failed;
	uint64_t in_flight;
	uint64_t ring_count;
	uint64_t lat_count;
	uint64_t p50;
	uint64_t p99;
	uint64_t p999;
	uint64_t lat_max;
	uint64_t gap_max; /* ns: the largest gap of any size, not only hiccups */
	uint64_t hiccups;
	/* The signer's last STATS (shard,<n>'s "signer"), when it sent one. */
	bool has_signer;
	char nonce_mode[16];
	uint64_t ecdsa_depth;
	uint64_t ecdsa_capacity;
	uint64_t misses;
};

/* One refresh: every command asked once. */
struct top_snap {
	uint64_t t_ns; /* CLOCK_MONOTONIC when the counters were read (the caller stamps it) */
	uint64_t pid;
	uint64_t uptime_ns;
	char version[32];
	char poll_mode[16];
	unsigned int shards;
	struct top_shard s[ZCS_MAX_SHARDS];
};

/* Every command of one refresh into s (but t_ns). 0, or -1 with c->err. */
int top_snap_read(struct tel_client *c, struct top_snap *s);

/* Shard n's /zcsign/shard, /zcsign/latency and /zcsign/jitter into x. 0, or -1 with c->err. */
int top_shard_read(struct tel_client *c, struct top_shard *x, unsigned int n);

#endif /* ZCS_CLI_TOP_SNAP_H */
