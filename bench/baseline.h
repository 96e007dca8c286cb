/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The floors zcsign is compared with, shared by zcsign-bench --baselines and
 * zcsign-bench-micro: the raw libsecp256k1 sign in-process (RFC 6979), the
 * presignature online step in-process, and a busy-polled AF_UNIX round trip
 * of one frame between two pinned threads. Each fills ns[0..n) with one
 * sample per timed unit (per operations each); no EAL.
 */
#ifndef ZCS_BENCH_BASELINE_H
#define ZCS_BENCH_BASELINE_H

#include <stdatomic.h>
#include <stdint.h>

#include <secp256k1.h>

#include "keystore.h"
#include "presig.h"

/** The account of the throwaway key. */
#define ZCS_BASELINE_ACCOUNT 1

struct zcs_baseline {
	secp256k1_context *ctx;
	struct zcs_keystore ks;
	int cpu_client; /**< the timing thread's CPU, -1 unpinned */
	int cpu_server; /**< the echo thread's CPU, -1 unpinned */
};

/**
 * A signing context and one throwaway key, through the real key-file loader.
 * @return 0, or -1 after a message on stderr.
 */
int zcs_baseline_init(struct zcs_baseline *b, int cpu_client, int cpu_server);

/** Wipe the key, free the context. */
void zcs_baseline_fini(struct zcs_baseline *b);

/** 32 random bytes (getrandom; a fixed pattern if that fails: a benchmark, not a key). */
void zcs_baseline_random_hash(uint8_t h[32]);

/**
 * Exactly len bytes from socket fd, busy-polling non-blocking recv().
 * @return 0, or -1 when the peer closed, on an error, or once *stop is set
 * (stop may be NULL).
 */
int zcs_baseline_recv_spin(int fd, void *buf, size_t len, atomic_int *stop);

/** Pin the calling thread to cpu (-1: all CPUs). @return 0 or an errno. */
int zcs_baseline_pin(int cpu);

/** zcs_sign() with RFC 6979 nonces, one per sample (*per = 1). @return 0 or -1. */
int zcs_baseline_sign(
	struct zcs_baseline *b, unsigned int algo, uint64_t *ns, unsigned int n, unsigned int *per);

/**
 * zcs_presig_sign() from a pool refilled (untimed) between samples; one
 * sample per ZCS_PRESIG_BATCH signatures (*per). @return 0 or -1 (also on a miss).
 */
int zcs_baseline_presig(
	struct zcs_baseline *b, unsigned int algo, uint64_t *ns, unsigned int n, unsigned int *per);

/**
 * One SIGN frame out and one SIGN_REPLY frame back over an AF_UNIX stream
 * socketpair, both sides busy-polling non-blocking sockets, the echo in a
 * thread on cpu_server and the timing side on cpu_client: what the engine's
 * transport costs with no signing in it (*per = 1). @return 0 or -1.
 */
int zcs_baseline_unix_rt(struct zcs_baseline *b, uint64_t *ns, unsigned int n, unsigned int *per);

/** A presignature pool of both kinds with room for 4096 entries each, empty. */
struct zcs_presig *zcs_baseline_presig_pool(void);

/** Add up to want entries to the pool of kind (fewer when it fills up). @return 0 or -1. */
int zcs_baseline_presig_fill(struct zcs_presig *ps, unsigned int kind, unsigned int want);

/** Sort ns[0..n) and give the p50 and p99 of one operation, in microseconds. */
void zcs_baseline_percentiles(
	uint64_t *ns, unsigned int n, unsigned int per, double *p50_us, double *p99_us);

#endif /* ZCS_BENCH_BASELINE_H */
