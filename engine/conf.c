/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Engine configuration: defaults, the INI file and the checks.
 *
 * The file is read by ini.c (a strict line-by-line scan, then rte_cfgfile:
 * syntax and lengths are refused there with line numbers); its sections and
 * entries are walked here to refuse anything unknown, duplicated or out of
 * range. Every error is one line naming the file, the section, the key and
 * the value. Needs no EAL (see ini.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cfgfile.h>
#include <rte_common.h>
#include <rte_mempool.h>

#include <zcsign/engine.h>

#include "addr.h"
#include "hex.h"
#include "ini.h"
#include "num.h"
#include "shards.h"

#define SHARD_SECTION "shard."

/* Numeric keys of [engine]: field, range, and whether it must be a power of two. */
struct num_key {
	const char *name;
	size_t off;
	size_t size; /* 2 or 4 bytes */
	uint32_t min;
	uint32_t max;
	bool pow2;
};

#define NUM_KEY(field, lo, hi, p2)                                                                 \
	{                                                                                          \
#field, offsetof(struct zcs_engine_conf, field),                                   \
			sizeof(((struct zcs_engine_conf *)0)->field), lo, hi, p2                   \
	}

static const struct num_key num_keys[] = {
	NUM_KEY(shards, 1, ZCS_MAX_SHARDS, false),
	NUM_KEY(ring_size, 2, 1u << 28, true),
	NUM_KEY(pool_size, 2, 1u << 28, false),
	NUM_KEY(pool_cache, 0, RTE_MEMPOOL_CACHE_MAX_SIZE, false),
	NUM_KEY(client_slots, 1, ZCS_MAX_CLIENTS, false),
	NUM_KEY(inflight_max, 1, 1u << 16, false),
	NUM_KEY(burst, 1, ZCS_ENGINE_BURST_MAX, false),
	NUM_KEY(reconnect_min_ms, 1, 60000, false),
	NUM_KEY(reconnect_max_ms, 1, 3600000, false),
	NUM_KEY(handshake_timeout_ms, 1, 600000, false),
	NUM_KEY(drain_timeout_ms, 0, 3600000, false),
	NUM_KEY(gap_threshold_us, 1, 10000000, false),
	NUM_KEY(stats_interval_ms, 0, 3600000, false),
};

void
zcs_engine_conf_init(struct zcs_engine_conf *conf)
{
	unsigned int i;

	memset(conf, 0, sizeof(*conf));
	conf->poll = ZCS_POLL_SPIN;
	conf->ring_size = 4096;
	conf->pool_size = 65535;
	conf->pool_cache = 256;
	conf->client_slots = 16;
	conf->inflight_max = 1024;
	conf->burst = 32;
	conf->reconnect_min_ms = 10;
	conf->reconnect_max_ms = 1000;
	conf->handshake_timeout_ms = 1000;
	conf->drain_timeout_ms = 5000;
	conf->gap_threshold_us = 10;
	conf->stats_interval_ms = 1000;
	for (i = 0; i < ZCS_MAX_SHARDS; i++)
		conf->shard[i].lcore = ZCS_ENGINE_LCORE_ANY;
}

static int fail(char *err, size_t errlen, const char *fmt, ...) __rte_format_printf(3, 4);

/* Every refusal: one line in err, -EINVAL. */
static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/*
 * Strict decimal (zcs_parse_u64: digits only, no sign, space or base prefix),
 * at most UINT32_MAX, and no leading zero: 010 is not silently ten to someone
 * who meant octal.
 */
static int
parse_u32(const char *s, uint32_t *v)
{
	uint64_t x;

	if (s[0] == '0' && s[1] != '\0')
		return -1;
	if (zcs_parse_u64(s, UINT32_MAX, &x) != 0)
		return -1;
	*v = (uint32_t)x;
	return 0;
}

/* ---- checks on the struct (also for configurations built by hand) ---- */

static int
check_shard(const struct zcs_engine_conf *conf, unsigned int i, char *err, size_t errlen)
{
	const struct zcs_engine_shard_conf *s = &conf->shard[i];
	struct zcs_addr a;
	char aerr[192];
	unsigned int j;

	if (s->signer[0] == '\0')
		return fail(
			err, errlen, "[shard.%u] signer: missing (unix:PATH or vsock:CID:PORT)", i);
	if (memchr(s->signer, '\0', sizeof(s->signer)) == NULL)
		return fail(err, errlen, "[shard.%u] signer: longer than %zu characters", i,
			sizeof(s->signer) - 1);
	if (zcs_addr_parse(s->signer, false, &a, aerr, sizeof(aerr)) != 0)
		return fail(err, errlen, "[shard.%u] signer = %s: %s", i, s->signer, aerr);
	if (s->attest > ZCS_ENGINE_ATTEST_NITRO)
		return fail(
			err, errlen, "[shard.%u] attest = %u: not off, dev or nitro", i, s->attest);
	if (s->attest == ZCS_ENGINE_ATTEST_DEV && s->attest_root[0] == '\0')
		return fail(err, errlen,
			"[shard.%u] attest = dev: needs attest_root = PEMFILE "
			"(the dev attestation CA's root.pem)",
			i);
	/* Expectations nothing would check are a misconfiguration, not a no-op. */
	if (s->attest == ZCS_ENGINE_ATTEST_OFF && (s->pcr_mask != 0 || s->attest_root[0] != '\0'))
		return fail(err, errlen, "[shard.%u] %s without attest = dev or nitro", i,
			s->pcr_mask != 0 ? "pcrN" : "attest_root");
	if (s->lcore == ZCS_ENGINE_LCORE_ANY)
		return 0;
	if (s->lcore >= RTE_MAX_LCORE)
		return fail(err, errlen, "[shard.%u] lcore = %u: must be below %u", i, s->lcore,
			RTE_MAX_LCORE);
	for (j = 0; j < i; j++)
		if (conf->shard[j].lcore == s->lcore)
			return fail(err, errlen,
				"[shard.%u] lcore = %u: already the lcore of [shard.%u] (one "
				"shard per lcore)",
				i, s->lcore, j);
	return 0;
}

int
zcs_engine_conf_check(const struct zcs_engine_conf *conf, char *err, size_t errlen)
{
	unsigned int i;
	int rc;

	for (i = 0; i < RTE_DIM(num_keys); i++) {
		const struct num_key *k = &num_keys[i];
		const void *p = (const uint8_t *)conf + k->off;
		uint32_t v = k->size == 2 ? *(const uint16_t *)p : *(const uint32_t *)p;

		if (v < k->min || v > k->max)
			return fail(err, errlen,
				"[engine] %s = %" PRIu32 ": out of range %" PRIu32 "..%" PRIu32,
				k->name, v, k->min, k->max);
		if (k->pow2 && !rte_is_power_of_2(v))
			return fail(err, errlen, "[engine] %s = %" PRIu32 ": not a power of two",
				k->name, v);
	}
	if (zcs_poll_mode_name(conf->poll) == NULL)
		return fail(err, errlen, "[engine] poll = %d: not spin, backoff or yield",
			(int)conf->poll);
	if (conf->pool_size < conf->ring_size)
		return fail(err, errlen,
			"[engine] pool_size = %" PRIu32 ": below ring_size = %" PRIu32
			" (a full ring could not be filled)",
			conf->pool_size, conf->ring_size);
	/* rte_mempool refuses a cache whose flush threshold (1.5 x) exceeds the pool. */
	if ((uint64_t)conf->pool_cache * 3 / 2 > conf->pool_size)
		return fail(err, errlen,
			"[engine] pool_cache = %" PRIu32 ": more than 2/3 of pool_size = %" PRIu32,
			conf->pool_cache, conf->pool_size);
	if (conf->burst > conf->inflight_max)
		return fail(err, errlen,
			"[engine] burst = %" PRIu32 ": above inflight_max = %" PRIu32, conf->burst,
			conf->inflight_max);
	if (conf->reconnect_min_ms > conf->reconnect_max_ms)
		return fail(err, errlen,
			"[engine] reconnect_min_ms = %" PRIu32
			": above reconnect_max_ms = %" PRIu32,
			conf->reconnect_min_ms, conf->reconnect_max_ms);
	for (i = 0; i < conf->shards; i++) {
		rc = check_shard(conf, i, err, errlen);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* ---- the file ---- */

static int
parse_num(struct zcs_engine_conf *conf, const struct num_key *k, const char *val, const char *path,
	char *err, size_t errlen)
{
	void *p = (uint8_t *)conf + k->off;
	uint32_t v;

	if (parse_u32(val, &v) != 0)
		return fail(err, errlen,
			"%s: [engine] %s = %s: not a decimal number (digits only, no sign or "
			"leading zero)",
			path, k->name, val);
	if (v < k->min || v > k->max)
		return fail(err, errlen, "%s: [engine] %s = %s: out of range %" PRIu32 "..%" PRIu32,
			path, k->name, val, k->min, k->max);
	if (k->pow2 && !rte_is_power_of_2(v))
		return fail(err, errlen, "%s: [engine] %s = %s: not a power of two", path, k->name,
			val);
	if (k->size == 2)
		*(uint16_t *)p = (uint16_t)v;
	else
		*(uint32_t *)p = v;
	return 0;
}

static int
parse_engine_entry(struct zcs_engine_conf *conf, bool *have_shards,
	const struct rte_cfgfile_entry *e, const char *path, char *err, size_t errlen)
{
	unsigned int i;

	if (strcmp(e->name, "poll") == 0) {
		int m = zcs_poll_mode_parse(e->value);

		if (m < 0)
			return fail(err, errlen,
				"%s: [engine] poll = %s: not spin, backoff or yield", path,
				e->value);
		conf->poll = (enum zcs_poll_mode)m;
		return 0;
	}
	for (i = 0; i < RTE_DIM(num_keys); i++) {
		if (strcmp(e->name, num_keys[i].name) != 0)
			continue;
		if (i == 0)
			*have_shards = true;
		return parse_num(conf, &num_keys[i], e->value, path, err, errlen);
	}
	return fail(err, errlen, "%s: [engine] %s = %s: unknown key", path, e->name, e->value);
}

/* attest, attest_root, pcrN: how the shard's signer proves what it runs. */
static int
parse_attest_entry(struct zcs_engine_shard_conf *s, const char *sec,
	const struct rte_cfgfile_entry *e, const char *path, char *err, size_t errlen)
{
	static const char *const modes[] = {"off", "dev", "nitro"};
	uint32_t i;

	if (strcmp(e->name, "attest") == 0) {
		for (i = 0; i < RTE_DIM(modes); i++)
			if (strcmp(e->value, modes[i]) == 0) {
				s->attest = (uint8_t)i;
				return 0;
			}
		return fail(err, errlen, "%s: [%s] attest = %s: expected off, dev or nitro", path,
			sec, e->value);
	}
	if (strcmp(e->name, "attest_root") == 0) {
		if (strlen(e->value) >= sizeof(s->attest_root))
			return fail(err, errlen, "%s: [%s] attest_root: longer than %zu characters",
				path, sec, sizeof(s->attest_root) - 1);
		memcpy(s->attest_root, e->value, strlen(e->value) + 1);
		return 0;
	}
	if (strncmp(e->name, "pcr", 3) == 0 && parse_u32(e->name + 3, &i) == 0 &&
		i < ZCS_ENGINE_PCRS) {
		if (strlen(e->value) != 2 * ZCS_MEASUREMENT_LEN ||
			zcs_hex_decode(e->value, ZCS_MEASUREMENT_LEN, s->pcr[i]) != 0)
			return fail(err, errlen,
				"%s: [%s] %s = %s: expected %d hex digits (SHA-384)", path, sec,
				e->name, e->value, 2 * ZCS_MEASUREMENT_LEN);
		s->pcr_mask |= UINT32_C(1) << i;
		return 0;
	}
	return fail(err, errlen,
		"%s: [%s] %s = %s: unknown key (signer, measurement, lcore, attest, attest_root, "
		"pcr0..pcr%d)",
		path, sec, e->name, e->value, ZCS_ENGINE_PCRS - 1);
}

static int
parse_shard_entry(struct zcs_engine_shard_conf *s, const char *sec,
	const struct rte_cfgfile_entry *e, const char *path, char *err, size_t errlen)
{
	char aerr[192];
	struct zcs_addr a;
	uint32_t v;

	if (strcmp(e->name, "signer") == 0) {
		if (strlen(e->value) >= sizeof(s->signer))
			return fail(err, errlen, "%s: [%s] signer = %s: longer than %zu characters",
				path, sec, e->value, sizeof(s->signer) - 1);
		if (zcs_addr_parse(e->value, false, &a, aerr, sizeof(aerr)) != 0)
			return fail(
				err, errlen, "%s: [%s] signer = %s: %s", path, sec, e->value, aerr);
		/* length checked above */
		memcpy(s->signer, e->value, strlen(e->value) + 1);
		return 0;
	}
	if (strcmp(e->name, "measurement") == 0) {
		if (strlen(e->value) != 2 * ZCS_MEASUREMENT_LEN)
			return fail(err, errlen,
				"%s: [%s] measurement = %s: %zu characters, expected %d hex "
				"digits",
				path, sec, e->value, strlen(e->value), 2 * ZCS_MEASUREMENT_LEN);
		if (zcs_hex_decode(e->value, ZCS_MEASUREMENT_LEN, s->measurement) != 0)
			return fail(err, errlen, "%s: [%s] measurement = %s: not hex", path, sec,
				e->value);
		s->has_measurement = 1;
		return 0;
	}
	if (strcmp(e->name, "lcore") == 0) {
		if (parse_u32(e->value, &v) != 0 || v >= RTE_MAX_LCORE)
			return fail(err, errlen,
				"%s: [%s] lcore = %s: not a decimal lcore id below %u", path, sec,
				e->value, RTE_MAX_LCORE);
		s->lcore = v;
		return 0;
	}
	return parse_attest_entry(s, sec, e, path, err, errlen);
}

/* Shard number of a "shard.<i>" section name, or -1. */
static int
shard_section(const char *name)
{
	uint32_t v;

	if (strncmp(name, SHARD_SECTION, strlen(SHARD_SECTION)) != 0)
		return -1;
	if (parse_u32(name + strlen(SHARD_SECTION), &v) != 0 || v >= ZCS_MAX_SHARDS)
		return -1;
	return (int)v;
}

struct walk {
	struct zcs_engine_conf *conf;
	const char *path;
	bool have_shards;
	bool seen_engine;
	bool seen_shard[ZCS_MAX_SHARDS];
	int max_shard;
};

/* A section's name: [engine], or a [shard.<i>] seen first (reset to its defaults, *shard = i). */
static int
enter_section(struct walk *w, const char *name, int *shard, char *err, size_t errlen)
{
	int i;

	*shard = -1;
	if (strcmp(name, "engine") == 0) {
		if (w->seen_engine)
			return fail(err, errlen, "%s: [engine] appears twice", w->path);
		w->seen_engine = true;
		return 0;
	}
	i = shard_section(name);
	if (i < 0)
		return fail(err, errlen, "%s: [%s]: unknown section ([engine] or [shard.<0..%d>])",
			w->path, name, ZCS_MAX_SHARDS - 1);
	if (w->seen_shard[i])
		return fail(err, errlen, "%s: [%s] appears twice", w->path, name);
	w->seen_shard[i] = true;
	w->max_shard = RTE_MAX(w->max_shard, i);
	memset(&w->conf->shard[i], 0, sizeof(w->conf->shard[i]));
	w->conf->shard[i].lcore = ZCS_ENGINE_LCORE_ANY;
	*shard = i;
	return 0;
}

static int
walk_section(struct walk *w, const struct zcs_ini *ini, int idx, char *err, size_t errlen)
{
	struct rte_cfgfile_entry *entries;
	char name[CFG_NAME_LEN];
	bool attest_given = false;
	int n, i, j, shard, rc;

	n = zcs_ini_section(ini, idx, name, &entries);
	if (n == -ENOMEM)
		return n;
	if (n < 0)
		return fail(err, errlen, "%s: section %d unreadable", w->path, idx);
	rc = enter_section(w, name, &shard, err, errlen);
	for (i = 0; rc == 0 && i < n; i++) {
		attest_given |= strcmp(entries[i].name, "attest") == 0;
		for (j = 0; j < i; j++)
			if (strcmp(entries[i].name, entries[j].name) == 0)
				break;
		if (j < i)
			rc = fail(err, errlen, "%s: [%s] %s = %s: key given twice", w->path, name,
				entries[i].name, entries[i].value);
		else if (shard < 0)
			rc = parse_engine_entry(
				w->conf, &w->have_shards, &entries[i], w->path, err, errlen);
		else
			rc = parse_shard_entry(
				&w->conf->shard[shard], name, &entries[i], w->path, err, errlen);
	}
	/*
	 * A vsock signer is an enclave's: without an attest key its documents are
	 * checked against AWS's Nitro root (attest = off says otherwise, explicitly).
	 */
	if (rc == 0 && shard >= 0 && !attest_given &&
		strncmp(w->conf->shard[shard].signer, "vsock:", 6) == 0)
		w->conf->shard[shard].attest = ZCS_ENGINE_ATTEST_NITRO;
	free(entries);
	return rc;
}

/* Every shard below the count has its section, and no section lies beyond it. */
static int
check_sections(struct walk *w, char *err, size_t errlen)
{
	unsigned int i;

	if (!w->have_shards)
		w->conf->shards = (uint16_t)(w->max_shard + 1);
	if (w->conf->shards == 0)
		return fail(err, errlen, "%s: no [shard.0] section and no [engine] shards key",
			w->path);
	for (i = 0; i < ZCS_MAX_SHARDS; i++) {
		if (i < w->conf->shards && !w->seen_shard[i])
			return fail(err, errlen,
				"%s: [shard.%u]: missing (shards = %u needs [shard.0] to "
				"[shard.%u])",
				w->path, i, w->conf->shards, w->conf->shards - 1u);
		if (i >= w->conf->shards && w->seen_shard[i])
			return fail(err, errlen, "%s: [shard.%u]: beyond shards = %u", w->path, i,
				w->conf->shards);
	}
	return 0;
}

int
zcs_engine_conf_load(struct zcs_engine_conf *conf, char *err, size_t errlen, const char *path)
{
	struct walk w = {.conf = conf, .path = path, .max_shard = -1};
	struct zcs_ini ini;
	char cerr[256];
	int rc, n, i;

	rc = zcs_ini_load(&ini, path, err, errlen);
	if (rc != 0)
		return rc;
	n = zcs_ini_sections(&ini);
	for (i = 0; rc == 0 && i < n; i++)
		rc = walk_section(&w, &ini, i, err, errlen);
	zcs_ini_free(&ini);
	if (rc == 0)
		rc = check_sections(&w, err, errlen);
	if (rc == 0 && zcs_engine_conf_check(conf, cerr, sizeof(cerr)) != 0)
		rc = fail(err, errlen, "%s: %s", path, cerr);
	if (rc == -ENOMEM)
		snprintf(err, errlen, "%s: out of memory", path);
	return rc;
}
