/* SPDX-License-Identifier: BSD-3-Clause */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "proc_util.h"
#include "secp_util.h"

const uint8_t *
secp_order(void)
{
	static const uint8_t n[32] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b,
		0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41};

	return n;
}

void
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

void
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

void
secp_random(void *buf, size_t len)
{
	assert_int_equal(getrandom(buf, len, 0), (ssize_t)len);
}

void
secp_random_seckey(const secp256k1_context *ctx, uint8_t sk[32])
{
	do
		secp_random(sk, 32);
	while (!secp256k1_ec_seckey_verify(ctx, sk));
}

void
secp_test_hash(unsigned int i, uint8_t hash[32])
{
	if (i >= SECP_EDGE_HASHES)
		secp_random(hash, 32);
	else
		secp_edge_hash(i, hash);
}

int
secp_tmp_setup(secp256k1_context **ctx, char *dir, size_t len, const char *tag)
{
	if (proc_tmpdir(dir, len, tag) != 0)
		return -1;
	*ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
	return *ctx == NULL ? -1 : 0;
}

int
secp_tmp_teardown(secp256k1_context *ctx, const char *dir)
{
	if (ctx != NULL)
		secp256k1_context_destroy(ctx);
	return proc_rmtree(dir);
}
