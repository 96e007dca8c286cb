/* SPDX-License-Identifier: BSD-3-Clause */
/* Test support: see eal_nohuge.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>

#include <rte_lcore.h>
#include <rte_memzone.h>
#include <rte_mempool.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "eal_nohuge.h"

int
eal_nohuge_init(const char *name)
{
	char prefix[64];
	char *argv[] = {(char *)name, "--no-huge", "-m", "256", "--no-pci", "--no-shconf",
		"--no-telemetry", "--file-prefix", prefix, "-l", "0-1",
		"--log-level=lib.eal:warning", NULL};

	snprintf(prefix, sizeof(prefix), "zcs_%s_%d", name, (int)getpid());
	if (rte_eal_init((int)RTE_DIM(argv) - 1, argv) < 0) {
		fprintf(stderr, "rte_eal_init: %s\n", rte_strerror(rte_errno));
		return -1;
	}
	return 0;
}

int
eal_nohuge_cleanup(void)
{
	char dir[PATH_MAX];
	int ret;

	snprintf(dir, sizeof(dir), "%s", rte_eal_get_runtime_dir());
	ret = rte_eal_cleanup();
	rmdir(dir);
	return ret;
}

int
eal_nohuge_group_setup(void **state)
{
	(void)state;
	return eal_nohuge_init(program_invocation_short_name);
}

int
eal_nohuge_group_teardown(void **state)
{
	(void)state;
	return eal_nohuge_cleanup();
}

struct zcs_shards_conf
shards_conf_make(uint16_t shards, uint32_t ring, uint32_t pool, uint32_t cache, uint16_t clients)
{
	struct zcs_shards_conf conf;
	unsigned int i;

	memset(&conf, 0, sizeof(conf));
	conf.shard_count = shards;
	conf.ring_size = ring;
	conf.pool_size = pool;
	conf.pool_cache = cache;
	conf.client_slots = clients;
	for (i = 0; i < ZCS_MAX_SHARDS; i++)
		conf.socket_id[i] = (int)rte_socket_id();
	return conf;
}

unsigned int
shards_pool_free(const struct zcs_engine_shared *sh)
{
	unsigned int n = rte_mempool_avail_count(sh->pool);
	unsigned int i;

	for (i = 0; i < sh->client_slots; i++)
		if (sh->clients[i].cache != NULL)
			n += sh->clients[i].cache->len;
	return n;
}

int
shards_teardown(struct zcs_engine_shared *sh, struct zcs_client **c, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		zcs_detach(c[i]);
	zcs_shards_destroy(sh);
	/* Destroyed means gone: a later test must be able to create the engine again. */
	assert_null(rte_memzone_lookup(ZCS_MZ_ENGINE));
	return 0;
}
