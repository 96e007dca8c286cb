/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * CLOCK_MONOTONIC in nanoseconds: the one wall-independent clock of the tools,
 * the signer and the tests (deadlines, service times). Hot paths inside the
 * engine use the TSC instead; this is for code without DPDK. And the wall
 * clock in ms, for attestation timestamps.
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

/* CLOCK_MONOTONIC in milliseconds: tools' timeouts. */
static inline uint64_t
zcs_mono_ms(void)
{
	return zcs_mono_ns() / 1000000u;
}

/*
 * CLOCK_REALTIME in milliseconds since the epoch: what attestation documents
 * carry as their timestamp and what their certificates are checked against.
 */
static inline uint64_t
zcs_real_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

#endif /* ZCS_COMMON_CLOCK_H */
