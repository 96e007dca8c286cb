/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Removing what a bench run leaves on disk: --spawn's temp dir and its
 * engine's DPDK runtime directory, zcsign-bench-micro's EAL runtime
 * directory. Best effort: a cleanup has nobody to report to, and a path
 * that is already gone is the goal.
 */
#ifndef ZCS_BENCH_RMTREE_H
#define ZCS_BENCH_RMTREE_H

/** Remove path and everything below it; symbolic links are removed, not followed. */
void zcs_bench_rmtree(const char *path);

#endif /* ZCS_BENCH_RMTREE_H */
