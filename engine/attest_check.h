/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A shard worker's attestation check (private to the engine): the policy of
 * the shard's configuration (pinned root, expected PCRs), a fresh nonce per
 * handshake, the document reassembled from its ATTEST_REPLY chunks, then
 * verified (attest/attest.h). Cold path: once per connection, on the
 * worker's lcore before the shard goes UP.
 */
#ifndef ZCS_ENGINE_ATTEST_CHECK_H
#define ZCS_ENGINE_ATTEST_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include <zcsign/engine.h>
#include <zcsign/wire.h>

/* Allowed distance between a document's timestamp and the engine's clock. */
#define ZCS_ATTEST_CHECK_SKEW_MS 60000

struct zcs_attest_check;

/* The check for shard conf sc (attest on). NULL with err naming the file or key. */
struct zcs_attest_check *zcs_attest_check_create(
	const struct zcs_engine_shard_conf *sc, char *err, size_t errlen);

void zcs_attest_check_free(struct zcs_attest_check *c);

/* A new handshake: a fresh random nonce into nonce (32 bytes), the buffer emptied. 0 or -1. */
int zcs_attest_check_start(struct zcs_attest_check *c, uint8_t nonce[32]);

/*
 * One ATTEST_REPLY of the handshake in progress. Returns 0 when more chunks
 * are due, 1 when the document is whole, -1 with err (a refusal by the
 * signer, a chunk out of order).
 */
int zcs_attest_check_chunk(struct zcs_attest_check *c, const struct zcs_wire_attest_reply *f,
	char *err, size_t errlen);

/* Verify the whole document against the policy and this handshake's nonce. 0, or -1 with err. */
int zcs_attest_check_verify(struct zcs_attest_check *c, char *err, size_t errlen);

#endif /* ZCS_ENGINE_ATTEST_CHECK_H */
