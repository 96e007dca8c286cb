/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A private EAL without hugepages for in-process tests of the shared objects
 * (test_shards, test_client): --no-huge, no PCI, no shared config, no
 * telemetry, lcores 0-1, file prefix "<name>_<pid>"; and its teardown.
 * --no-huge cannot be --in-memory, so EAL leaves an empty runtime directory
 * behind: the teardown removes it. Also the shard-object helpers both tests use.
 */
#ifndef ZCS_TEST_EAL_NOHUGE_H
#define ZCS_TEST_EAL_NOHUGE_H

#include <limits.h>
#include <stdio.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_eal.h>
#include <rte_errno.h>

#include "shards.h"

/* A cmocka group setup's body: 0, or -1 with the EAL's reason on stderr. */
int eal_nohuge_init(const char *name);

/* rte_eal_cleanup() and the empty runtime directory; its result. */
int eal_nohuge_cleanup(void);

/* cmocka group setup and teardown around the two, named after the program. */
int eal_nohuge_group_setup(void **state);
int eal_nohuge_group_teardown(void **state);

/* Shared-object sizes for zcs_shards_create(), every shard on this lcore's socket. */
struct zcs_shards_conf shards_conf_make(
	uint16_t shards, uint32_t ring, uint32_t pool, uint32_t cache, uint16_t clients);

/*
 * A test's teardown of the shared objects: detach the n clients (NULL ones
 * skipped), destroy sh (NULL: none). 0 when no engine is left in the process
 * group afterwards, -1 otherwise.
 */
int shards_teardown(struct zcs_engine_shared *sh, struct zcs_client **c, unsigned int n);

/* Requests not held by anyone: in the pool, or in a client's private cache. */
unsigned int shards_pool_free(const struct zcs_engine_shared *sh);

#endif /* ZCS_TEST_EAL_NOHUGE_H */
