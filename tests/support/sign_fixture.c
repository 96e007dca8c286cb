/* SPDX-License-Identifier: BSD-3-Clause */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "sign_fixture.h"

struct secp_sign_fixture *
secp_sign_fixture_new(unsigned int nkeys)
{
	struct secp_sign_fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return NULL;
	f->ctx = zcs_sign_ctx_create();
	f->vctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
	f->keys = calloc(nkeys, sizeof(*f->keys));
	f->nkeys = nkeys;
	if (f->ctx != NULL && f->vctx != NULL && f->keys != NULL)
		return f;
	zcs_sign_ctx_destroy(f->ctx);
	if (f->vctx != NULL)
		secp256k1_context_destroy(f->vctx);
	free(f->keys);
	free(f);
	return NULL;
}

int
secp_sign_fixture_teardown(void **state)
{
	struct secp_sign_fixture *f = *state;

	zcs_sign_ctx_destroy(f->ctx);
	secp256k1_context_destroy(f->vctx);
	explicit_bzero(f->keys, f->nkeys * sizeof(*f->keys));
	free(f->keys);
	free(f);
	return 0;
}

void
secp_key_make(
	const secp256k1_context *ctx, struct zcs_key *k, uint64_t account, const uint8_t *seckey)
{
	memset(k, 0, sizeof(*k));
	k->account = account;
	if (seckey != NULL)
		memcpy(k->seckey, seckey, 32);
	else
		secp_random_seckey(ctx, k->seckey);
	assert_int_equal(zcs_key_derive(ctx, k), 0);
}
