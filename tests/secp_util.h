/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * secp256k1 inputs the tests share: the group order n, and the edge-case
 * hashes every signing test runs first (a hash is reduced mod n, so 0, n and
 * the values next to it are where a signer or verifier would slip).
 * Header-only, static inline.
 */
#ifndef ZCS_TESTS_SECP_UTIL_H
#define ZCS_TESTS_SECP_UTIL_H

#include <stdint.h>
#include <string.h>

/* How many edge-case hashes secp_edge_hash() has. */
#define SECP_EDGE_HASHES 6

/* The group order n, big-endian. */
static inline const uint8_t *
secp_order(void)
{
	static const uint8_t n[32] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b,
		0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41};

	return n;
}

/* Edge-case hash i (< SECP_EDGE_HASHES): 0, all ones (> n), n (reduces to 0), n - 1, n + 1, 1. */
static inline void
secp_edge_hash(unsigned int i, uint8_t hash[32])
{
	switch (i) {
	case 0:
		memset(hash, 0, 32);
		break;
	case 1:
		memset(hash, 0xff, 32);
		break;
	case 2:
		memcpy(hash, secp_order(), 32);
		break;
	case 3: /* n - 1 */
		memcpy(hash, secp_order(), 32);
		hash[31] = 0x40;
		break;
	case 4: /* n + 1 */
		memcpy(hash, secp_order(), 32);
		hash[31] = 0x42;
		break;
	default: /* 1 */
		memset(hash, 0, 32);
		hash[31] = 1;
		break;
	}
}

/* x = n - x for a 32-byte big-endian x in 1..n-1: turns a low ECDSA s into its high twin. */
static inline void
secp_negate_mod_n(uint8_t x[32])
{
	const uint8_t *n = secp_order();
	unsigned int borrow = 0;
	int i;

	for (i = 31; i >= 0; i--) {
		unsigned int d = (unsigned int)n[i] - x[i] - borrow;

		x[i] = (uint8_t)d;
		borrow = d >> 8 & 1;
	}
}

#endif /* ZCS_TESTS_SECP_UTIL_H */
