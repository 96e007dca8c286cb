/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Signatures a bench run keeps for --verify, checked against the keygen
 * manifest after the timed run (libsecp256k1's verify costs ~25 us, far more
 * than a sign on the fast path, so it never runs while timing).
 *
 * The store is allocated and touched before the run: recording is a copy of
 * 112 bytes, no allocation, no page fault. Every signed completion is kept
 * while it fits; past the capacity the store becomes a uniform random sample
 * of all of them (reservoir sampling), and the report says so.
 */
#ifndef ZCS_BENCH_RECORDS_H
#define ZCS_BENCH_RECORDS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <zcsign/client.h>

#include "load.h"
#include "verify.h"

/** Default capacity: 1 Mi records, 112 MiB. */
#define ZCS_BENCH_RECORDS_DEFAULT (UINT64_C(1) << 20)

struct zcs_bench_record {
	uint64_t account;
	uint8_t hash[32];
	uint8_t sig[64];
	uint8_t algo;
	uint8_t recid;
	uint8_t pad[6];
};

struct zcs_bench_records {
	struct zcs_bench_record *rec;
	uint64_t cap;
	uint64_t kept; /**< records in rec (<= cap) */
	uint64_t seen; /**< signed completions offered to the store */
	struct zcs_bench_rng rng; /**< reservoir choices */
};

/**
 * Allocate and pre-fault room for cap records.
 * @return 0, -EINVAL (cap 0), -ENOMEM.
 */
int zcs_bench_records_init(struct zcs_bench_records *s, uint64_t cap, uint64_t seed);

/** Keep a signed completion (or, when full, maybe replace a random one). */
void zcs_bench_records_add(struct zcs_bench_records *s, const struct zcs_request *r);

/** Whether the store holds a sample rather than every signature. */
static inline int
zcs_bench_records_sampled(const struct zcs_bench_records *s)
{
	return s->seen > s->kept;
}

/**
 * Verify every kept record with zcs_verify() against the manifest.
 *
 * @param log
 *   The first few failures are described here (account, algo, why), or NULL.
 * @param failed
 *   Records that did not verify (an account absent from the manifest counts).
 * @return
 *   Records verified; -ENOMEM when no secp256k1 context can be made.
 */
int64_t zcs_bench_records_verify(const struct zcs_bench_records *s, uint64_t *failed,
	const struct zcs_manifest *m, FILE *log);

/** Free the store; safe on a zeroed one. */
void zcs_bench_records_free(struct zcs_bench_records *s);

#endif /* ZCS_BENCH_RECORDS_H */
