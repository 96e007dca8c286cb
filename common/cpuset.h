/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * CPU sets as the kernel writes them: lists ("0-3,8", the format of
 * /sys/devices/system/cpu/isolated, isolcpus= and taskset -c) and hex masks
 * ("ff,00000003", /proc/irq/N/smp_affinity). One home for the engine's
 * isolation check, zcsign-preflight, zcsign-jitter and the EAL --lcores maps.
 * No DPDK (zcsign-jitter runs on hosts without it), and no cpu_set_t in the
 * interface: CPU ids are plain numbers up to ZCS_CPUSET_MAX.
 */
#ifndef ZCS_COMMON_CPUSET_H
#define ZCS_COMMON_CPUSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* CPU ids at or above this are refused by the parsers and ignored by set(). */
#define ZCS_CPUSET_MAX 1024

/** A set of CPU ids below ZCS_CPUSET_MAX. */
struct zcs_cpuset {
	uint64_t w[ZCS_CPUSET_MAX / 64];
};

void zcs_cpuset_zero(struct zcs_cpuset *s);
void zcs_cpuset_set(struct zcs_cpuset *s, unsigned int cpu);
bool zcs_cpuset_isset(const struct zcs_cpuset *s, unsigned int cpu);
unsigned int zcs_cpuset_count(const struct zcs_cpuset *s);
bool zcs_cpuset_subset(const struct zcs_cpuset *a, const struct zcs_cpuset *b); /* a in b */
bool zcs_cpuset_intersects(const struct zcs_cpuset *a, const struct zcs_cpuset *b);
void zcs_cpuset_andnot(
	struct zcs_cpuset *dst, const struct zcs_cpuset *a, const struct zcs_cpuset *b);

/**
 * A CPU list; surrounding white space (the newline of a sysfs file) is
 * ignored. @return 0, or -EINVAL (not a list, or a CPU >= ZCS_CPUSET_MAX).
 * "" is the empty set.
 */
int zcs_cpuset_parse(struct zcs_cpuset *s, const char *list);

/** A hex mask, comma-separated 32-bit groups allowed. @return 0, or -EINVAL. */
int zcs_cpuset_parse_mask(struct zcs_cpuset *s, const char *hex);

/**
 * The CPU list in a file (a sysfs cpulist). @return 0, or -errno when it
 * cannot be read, -EINVAL when it is not a list; s is empty on error.
 */
int zcs_cpuset_read(struct zcs_cpuset *s, const char *path);

/** This process's CPU affinity. @return 0 or -errno. */
int zcs_cpuset_affinity(struct zcs_cpuset *s);

/**
 * "1-3,5", or "none" for the empty set. Truncated output stays
 * NUL-terminated. @return the length written, or -1 when out was too small.
 */
int zcs_cpuset_format(char *out, size_t len, const struct zcs_cpuset *s);

#endif /* ZCS_COMMON_CPUSET_H */
