/* SPDX-License-Identifier: BSD-3-Clause */
/* Test support: see eal_nohuge.h. */
#define _GNU_SOURCE
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
