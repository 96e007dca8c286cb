/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A private EAL without hugepages for in-process tests: --no-huge, no PCI, no
 * shared config, no telemetry, lcores 0-1, file prefix "<name>_<pid>"; and its
 * teardown. --no-huge cannot be --in-memory, so EAL leaves an empty runtime
 * directory behind: the teardown removes it.
 */
#ifndef ZCS_TEST_EAL_NOHUGE_H
#define ZCS_TEST_EAL_NOHUGE_H

#include <limits.h>
#include <stdio.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_eal.h>
#include <rte_errno.h>

/* A cmocka group setup's body: 0, or -1 with the EAL's reason on stderr. */
int eal_nohuge_init(const char *name);

/* rte_eal_cleanup() and the empty runtime directory; its result. */
int eal_nohuge_cleanup(void);

#endif /* ZCS_TEST_EAL_NOHUGE_H */
