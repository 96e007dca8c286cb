/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What zcsign-preflight's check families share, and the checks themselves for
 * the table in preflight_checks.c. Private to tuning/: the contract of every
 * check (read under ctx->root only, one verdict, "could not read" is a WARN)
 * is in preflight_checks.h. One file per family, as DPDK's l3fwd keeps one
 * file per lookup method:
 *   preflight_cpu.c    which cores, and are they isolated (cores, isolcpus,
 *                      nohz_full, rcu_nocbs)
 *   preflight_irq.c    what else runs on them (IRQs, irqbalance, timer
 *                      migration, watchdogs, vmstat)
 *   preflight_power.c  their clock (C-states, governor, turbo, TSC)
 *   preflight_mem.c    memory (THP, hugepages, NUMA, swap)
 */
#ifndef ZCS_TUNING_PREFLIGHT_INTERNAL_H
#define ZCS_TUNING_PREFLIGHT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "preflight_checks.h"

/* ROOT/path into out. */
void zcs_pf_path(const struct zcs_pf_ctx *ctx, const char *path, char *out, size_t len);

/* A decimal number alone in ROOT/path. @return 0, -errno, or -EINVAL. */
int zcs_pf_read_u64(const struct zcs_pf_ctx *ctx, const char *path, unsigned long long *v);

/*
 * A CPU list (or, with mask, a hex mask) in ROOT/path, its text in buf.
 * @return 0, -errno (unreadable), or -EINVAL (not a CPU set; buf holds it).
 */
int zcs_pf_read_cpuset(const struct zcs_pf_ctx *ctx, const char *path, bool mask,
	struct zcs_cpuset *s, char *buf, size_t len);

/* Fill r: verdict v, the fix (dropped on PASS) and what was found. */
void zcs_pf_verdict(struct zcs_pf_check *r, enum zcs_pf_verdict v, const char *fix, const char *fmt,
	...) __attribute__((format(printf, 4, 5)));

/* Fill r with the WARN for a file that could not be read (err: -errno). */
void zcs_pf_unreadable(
	const struct zcs_pf_ctx *ctx, struct zcs_pf_check *r, const char *path, int err);

/*
 * zcs_pf_read_cpuset() for a check: on failure fill r (the WARN "could not
 * read", or "cannot parse WHAT '...'") and return false.
 */
bool zcs_pf_cpuset_or_warn(const struct zcs_pf_ctx *ctx, struct zcs_pf_check *r, const char *path,
	bool mask, const char *what, struct zcs_cpuset *s, char *buf, size_t len);

/*
 * Append at buf + *off, advancing *off only when the piece fits whole: a
 * piece cut short stays at the end, where the next one may overwrite it.
 */
void zcs_pf_appendf(char *buf, size_t len, size_t *off, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* The checks, by family, in the order of the report (preflight_checks.c). */
void zcs_pf_check_cores(const struct zcs_pf_ctx *ctx, struct zcs_pf_check *r);
void zcs_pf_check_isolcpus(const struct zcs_pf_ctx *ctx, struct zcs_pf_check *r);
void zcs_pf_check_nohz_full(const struct zcs_pf_ctx *ctx, struct zcs_pf_check *r);
void zcs_pf_check_rcu_nocbs(const struct zcs_pf_ctx *ctx, struct zcs_pf_check *r);

void zcs_pf_check_irqaffinity(const struct zcs_pf_ctx *ctx, struct zcs_pf_check *r);
void zcs_pf_check_irqs(const struct zcs_pf_ctx *ctx, struct zcs_pf_check *r);
void zcs_pf_check_irqbalance(const struct zcs_pf_ctx *ctx, struct zcs_pf_check *r);
void zcs_pf_check_timer_migration(const struct zcs_pf_ctx *ctx, struct zcs_pf_check *r);
void zcs_pf_check_watchdogs(const struct zcs_pf_ctx *ctx, struct zcs_pf_check *r);
void zcs_pf_check_stat_interval(const struct zcs_pf_ctx *ctx, struct zcs_pf_check *r);

void zcs_pf_check_cstates(const struct zcs_pf_ctx *ctx, struct zcs_pf_check *r);
void zcs_pf_check_governor(const struct zcs_pf_ctx *ctx, struct zcs_pf_check *r);
void zcs_pf_check_turbo(const struct zcs_pf_ctx *ctx, struct zcs_pf_check *r);
void zcs_pf_check_tsc(const struct zcs_pf_ctx *ctx, struct zcs_pf_check *r);

void zcs_pf_check_thp(const struct zcs_pf_ctx *ctx, struct zcs_pf_check *r);
void zcs_pf_check_hugepages(const struct zcs_pf_ctx *ctx, struct zcs_pf_check *r);
void zcs_pf_check_numa(const struct zcs_pf_ctx *ctx, struct zcs_pf_check *r);
void zcs_pf_check_swap(const struct zcs_pf_ctx *ctx, struct zcs_pf_check *r);

#endif /* ZCS_TUNING_PREFLIGHT_INTERNAL_H */
