/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What zcsign-bench offers the engine: a fast PRNG for hashes and choices, the
 * schedule of intended send times of an open-loop run, and the account
 * sampler (uniform or Zipf). No EAL, no clock: times are in "ticks", TSC
 * cycles in the bench and nanoseconds in the tests, so all of it is unit
 * tested on its own (tests/test_bench.c).
 */
#ifndef ZCS_BENCH_LOAD_H
#define ZCS_BENCH_LOAD_H

#include <stdint.h>

/* ---- PRNG: xoshiro256**, seeded through splitmix64 ---- */

/*
 * One getrandom() per request would be a syscall on the timed path and would
 * dominate a sub-microsecond sign; xoshiro256** costs a few ns per 64 bits and
 * passes BigCrush, which is all a benchmark's hashes and choices need.
 */
struct zcs_bench_rng {
	uint64_t s[4];
};

/** Seed the generator (any seed, 0 included). */
void zcs_bench_rng_seed(struct zcs_bench_rng *r, uint64_t seed);

static inline uint64_t
zcs_bench_rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/** Next 64 random bits. */
static inline uint64_t
zcs_bench_rng_next(struct zcs_bench_rng *r)
{
	uint64_t *s = r->s;
	uint64_t out = zcs_bench_rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = zcs_bench_rotl(s[3], 45);
	return out;
}

/** Uniform double in (0, 1): never 0, so -log() of it is finite. */
static inline double
zcs_bench_rng_unit(struct zcs_bench_rng *r)
{
	return ((double)(zcs_bench_rng_next(r) >> 11) + 0.5) * 0x1.0p-53;
}

/** Uniform integer in [0, n) (multiply-shift: bias below n / 2^64). */
static inline uint64_t
zcs_bench_rng_below(struct zcs_bench_rng *r, uint64_t n)
{
	return (uint64_t)(((unsigned __int128)zcs_bench_rng_next(r) * n) >> 64);
}

/** 32 random bytes (a message hash). */
void zcs_bench_rng_hash(struct zcs_bench_rng *r, uint8_t hash[32]);

/* ---- schedule of intended send times ---- */

enum zcs_bench_arrivals {
	ZCS_BENCH_UNIFORM = 0, /**< one request every 1/rate exactly */
	ZCS_BENCH_POISSON = 1, /**< exponential gaps of mean 1/rate */
};

/*
 * The k-th intended time of a uniform schedule is start + k * gap computed
 * afresh (not by adding gaps), so rounding never accumulates; a Poisson
 * schedule adds exponential gaps in double, exact to a tick for years of TSC.
 */
struct zcs_bench_sched {
	enum zcs_bench_arrivals arrivals;
	uint64_t start;
	double gap; /**< mean gap, ticks */
	uint64_t k; /**< requests taken */
	double offset; /**< Poisson: ticks from start to the next intended time */
	uint64_t next; /**< the next intended time */
	struct zcs_bench_rng rng;
};

/**
 * Start a schedule at tick start (its first intended time).
 * @return 0, or -EINVAL when rate or ticks_per_s is not positive.
 */
int zcs_bench_sched_init(struct zcs_bench_sched *s, enum zcs_bench_arrivals arrivals, double rate,
	uint64_t ticks_per_s, uint64_t start, uint64_t seed);

/** The next intended time, without taking it. */
static inline uint64_t
zcs_bench_sched_peek(const struct zcs_bench_sched *s)
{
	return s->next;
}

/** Take the next intended time and move to the one after. */
uint64_t zcs_bench_sched_take(struct zcs_bench_sched *s);

/* ---- account choice ---- */

/*
 * Zipf by rejection-inversion (Hörmann and Derflinger, 1996; as in Apache
 * Commons RNG): O(1) per sample and no table, so a million accounts cost
 * nothing to set up. Rank 1 (the most frequent) is the first account: hot
 * accounts are the lowest ids, which the shard function spreads over shards.
 */
struct zcs_bench_accounts {
	uint64_t first;
	uint64_t count;
	double s; /**< Zipf exponent; 0: uniform */
	double h_x1; /**< H(1.5) - 1 */
	double h_n; /**< H(count + 0.5) */
	double sp; /**< the rejection-free band */
};

/**
 * Accounts [first, first + count), uniform (s == 0) or Zipf of exponent s.
 * @return 0, or -EINVAL (count 0, s negative or not finite, range wraps).
 */
int zcs_bench_accounts_init(struct zcs_bench_accounts *a, uint64_t first, uint64_t count, double s);

/** Zipf rank in [1, count] (1 most frequent); uniform when s == 0. */
uint64_t zcs_bench_zipf_rank(const struct zcs_bench_accounts *a, struct zcs_bench_rng *r);

/** An account id. */
static inline uint64_t
zcs_bench_account(const struct zcs_bench_accounts *a, struct zcs_bench_rng *r)
{
	return a->first + zcs_bench_zipf_rank(a, r) - 1;
}

#endif /* ZCS_BENCH_LOAD_H */
