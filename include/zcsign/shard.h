/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The account -> shard function.
 *
 * Fixed forever for a deployment: zcsign-keygen uses it to decide which shard's
 * key file an account goes into, and the engine uses it to route that account's
 * requests, so both must agree. It is the splitmix64 finalizer (a bijective
 * 64-bit mix, so sequential account ids spread evenly) taken modulo the shard
 * count:
 *
 *     z = account
 *     z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
 *     z = (z ^ (z >> 27)) * 0x94d049bb133111eb
 *     z =  z ^ (z >> 31)
 *     shard = z mod shard_count
 */
#ifndef ZCSIGN_SHARD_H
#define ZCSIGN_SHARD_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Most shards one deployment can have (wire shard ids are 16-bit). */
#define ZCS_MAX_SHARDS 256

/** splitmix64 finalizer. */
static inline uint64_t
zcs_mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/**
 * Shard that owns an account.
 *
 * @param account
 *   Account id.
 * @param shard_count
 *   Number of shards, 1..ZCS_MAX_SHARDS.
 * @return
 *   0..shard_count-1.
 */
static inline uint32_t
zcs_shard_of(uint64_t account, uint32_t shard_count)
{
	return (uint32_t)(zcs_mix64(account) % shard_count);
}

#ifdef __cplusplus
}
#endif

#endif /* ZCSIGN_SHARD_H */
