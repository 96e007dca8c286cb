/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Where a signer's attestation documents come from (zcsign-enclave
 * --attest): inside a Nitro enclave the NSM (/dev/nsm, attest/nsm.h), which
 * measures the enclave image itself; on a dev box a leaf of the dev
 * attestation CA (zcsign-attest-ca), with dev PCRs the signer computes:
 *
 *   PCR0  SHA-384 of the signer executable (/proc/self/exe)
 *   PCR1  SHA-384 of SHA-384(libsecp256k1) || SHA-384(libcrypto), the shared
 *         objects this process actually loaded (found with dl_iterate_phdr)
 *
 * Every document carries the client's nonce and, as user_data, the text
 * "zcsign shard I/N STATE": the signer's shard and the state of its keys
 * (sealed, provisioned, insecure-dev) for ATTEST, or "provision" for a
 * document whose public_key is a provisioning key, so a verifier also learns
 * which shard answered and whether its keys ever were plaintext on a host. A dev leaf's key sits on
 * the host: such documents show the shape of the check, not a hardware root of trust.
 */
#ifndef ZCS_ENCLAVE_ATTEST_SOURCE_H
#define ZCS_ENCLAVE_ATTEST_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "attest.h"

#define ZCS_DEV_PCR_LEN 48

struct zcs_attest_source;

/*
 * Open a source: "dev:PREFIX" (PREFIX.key, PREFIX.pem, PREFIX.bundle.pem as
 * zcsign-attest-ca leaf writes them) or "nitro" (the NSM). NULL with one line
 * in err naming the spec or file.
 */
struct zcs_attest_source *zcs_attest_source_open(
	const char *spec, uint16_t shard, uint16_t shards, char *err, size_t errlen);

/*
 * A document carrying nonce (32 bytes), user_data "zcsign shard I/N STATE"
 * and public_key (NULL: none) into out. 0, or -1 with err. Thread-safe.
 */
int zcs_attest_source_document(struct zcs_attest_source *s, uint8_t *out, size_t cap, size_t *len,
	const uint8_t nonce[32], const char *state, const uint8_t *public_key,
	size_t public_key_len, char *err, size_t errlen);

/* "dev" or "nitro". */
const char *zcs_attest_source_kind(const struct zcs_attest_source *s);

void zcs_attest_source_close(struct zcs_attest_source *s);

#endif /* ZCS_ENCLAVE_ATTEST_SOURCE_H */
