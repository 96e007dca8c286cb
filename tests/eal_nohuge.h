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
static inline int
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

/* rte_eal_cleanup() and the empty runtime directory; its result. */
static inline int
eal_nohuge_cleanup(void)
{
	char dir[PATH_MAX];
	int ret;

	snprintf(dir, sizeof(dir), "%s", rte_eal_get_runtime_dir());
	ret = rte_eal_cleanup();
	rmdir(dir);
	return ret;
}

#endif /* ZCS_TEST_EAL_NOHUGE_H */
