/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zcsign-bench --spawn: a whole engine of its own for one run. Keys from the
 * real zcsign-keygen into a private temp dir, one zcsign-enclave per shard on
 * a unix socket, the INI configuration, and zcsignd (EAL primary, hugepages)
 * under its own --file-prefix; torn down at the end, its hugepage files and
 * DPDK runtime directory removed even when it crashed.
 *
 * Order matters: the bench attaches as a DPDK secondary of the zcsignd it
 * started, so zcs_spawn_start() returns once zcsignd has published its shared
 * state (it logs its shards only after), the caller then runs rte_eal_init()
 * as a secondary, and zcs_spawn_wait_up() reads the shard snapshots
 * (shards.h) until every signer connection is up.
 *
 * The binaries are found next to this one (<build>/bench/zcsign-bench ->
 * <build>/engine/zcsignd, <build>/enclave/zcsign-*), else on PATH.
 */
#ifndef ZCS_BENCH_SPAWN_H
#define ZCS_BENCH_SPAWN_H

#include <limits.h>
#include <sys/types.h>

#define ZCS_SPAWN_MAX_SHARDS 8

struct zcs_spawn_conf {
	unsigned int shards;
	unsigned int accounts;
	unsigned int nonce; /**< zcsign-enclave --nonce: enum zcs_nonce_mode */
	int poll; /**< zcsignd --poll: enum zcs_poll_mode */
	int signer_idle; /**< zcsign-enclave --idle: enum zcs_poll_mode */
	int signer_spin_us; /**< zcsign-enclave --idle-spin-us, -1: its default */
	const char *lcores; /**< zcsignd EAL --lcores */
	int signer_cpu; /**< CPU the signers are pinned to, -1: not pinned */
	int engine_idle; /**< zcsignd at SCHED_IDLE: a signer on a worker's CPU preempts it */
	int signer_fifo; /**< SCHED_FIFO priority of the signers (wake ahead of a poller), 0: none
			  */
	int refill_cpu; /**< zcsign-enclave --refill-cpu, -1: not given */
	unsigned int mem_mb; /**< zcsignd EAL -m */
	unsigned int presig; /**< signers' pool capacity per kind; 0: their default */
	int attest; /**< dev attestation: a dev CA, signers --attest dev:, zcsignd attest = dev */
};

struct zcs_spawn {
	char dir[64]; /**< private temp dir */
	char prefix[64]; /**< zcsignd's --file-prefix */
	char manifest[PATH_MAX];
	char log[PATH_MAX]; /**< zcsignd's stderr */
	char totals[256]; /**< zcsignd's "stopped:" line, after zcs_spawn_stop() */
	char pcr0[97]; /**< --attest: the signers' PCR0 (hex), what zcsignd expects */
	unsigned int shards;
	pid_t signer[ZCS_SPAWN_MAX_SHARDS]; /**< -1: not running */
	pid_t zcsignd; /**< -1: not running */
};

/**
 * Keygen, signers, configuration, zcsignd; returns once zcsignd logged its
 * shards (its shared state exists). On failure everything started is stopped
 * and removed.
 * @return 0, or -1 after a message on stderr.
 */
int zcs_spawn_start(struct zcs_spawn *s, const struct zcs_spawn_conf *c);

/**
 * After rte_eal_init() as a secondary of s->prefix: wait until every shard's
 * signer connection is up (at most timeout_s).
 * @return 0, or -1 after a message on stderr.
 */
int zcs_spawn_wait_up(struct zcs_spawn *s, double timeout_s);

/**
 * SIGTERM zcsignd (it drains) and check it exits 0 with a reconciled
 * "stopped:" line (submitted = signed + expired + failed, nothing in flight),
 * then the signers (exit 0); remove the hugepage files, the DPDK runtime
 * directory and the temp dir. Safe on a partly started s.
 * @return 0, or -1 when a check failed (said on stderr).
 */
int zcs_spawn_stop(struct zcs_spawn *s);

/** For a signal handler: SIGTERM every child, nothing else (async-signal-safe). */
void zcs_spawn_kill(const struct zcs_spawn *s);

#endif /* ZCS_BENCH_SPAWN_H */
