/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * CLOCK_MONOTONIC in nanoseconds: the one wall-independent clock of the tools,
 * the signer and the tests (deadlines, service times). Hot paths inside the
 * engine use the TSC instead; this is for code without DPDK.
 */
#ifndef ZCS_COMMON_CLOCK_H
#define ZCS_COMMON_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t
zcs_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#endif /* ZCS_COMMON_CLOCK_H */
