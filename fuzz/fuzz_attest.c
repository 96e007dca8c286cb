/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: the attestation document parser (attest/doc.c) on
 * arbitrary bytes. It must never crash, leak or read out of bounds, and what
 * it accepts must be self-consistent (every range inside the document's own
 * store, every PCR of the mask 32/48/64 bytes). Seeds: fuzz/corpus/attest.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "attest.h"

static struct zcs_attest_doc doc;

static int
inside(const struct zcs_attest_bytes *b)
{
	return b->p == NULL || (b->p >= doc.store && b->p + b->len <= doc.store + doc.store_used);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	unsigned int i;

	if (zcs_attest_parse(&doc, err, sizeof(err), data, size) != 0)
		return 0;
	if (!inside(&doc.protected_hdr) || !inside(&doc.payload) || !inside(&doc.signature) ||
		!inside(&doc.certificate) || !inside(&doc.public_key) || !inside(&doc.user_data) ||
		!inside(&doc.nonce) || doc.cabundle_count == 0 ||
		doc.cabundle_count > ZCS_ATTEST_CABUNDLE_MAX || doc.pcr_mask == 0)
		abort();
	for (i = 0; i < doc.cabundle_count; i++)
		if (!inside(&doc.cabundle[i]))
			abort();
	for (i = 0; i < ZCS_ATTEST_PCRS; i++)
		if ((doc.pcr_mask >> i & 1) && doc.pcr_len[i] != 32 && doc.pcr_len[i] != 48 &&
			doc.pcr_len[i] != 64)
			abort();
	return 0;
}
