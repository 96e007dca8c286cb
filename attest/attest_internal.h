/* SPDX-License-Identifier: BSD-3-Clause */
/* What the files of attest/ share (private to it). */
#ifndef ZCS_ATTEST_INTERNAL_H
#define ZCS_ATTEST_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/* The protected header every document carries: the map {1: -35} (ES384). */
extern const uint8_t zcs_attest_protected_es384[4];

/*
 * The COSE Sig_structure ["Signature1", protected, h'', payload], encoded:
 * what ES384 signs. *out is malloc'ed. Returns its length, or 0 (no memory).
 */
size_t zcs_attest_sig_structure(uint8_t **out, const uint8_t *prot, size_t prot_len,
	const uint8_t *payload, size_t payload_len);

/*
 * A failure: err gets "<result name>: " and the formatted message (cut to
 * errlen); returns result (a ZCS_ATTEST_ERR_*).
 */
int zcs_attest_fail(char *err, size_t errlen, int result, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

struct cbor_item_t;

/*
 * Exactly one CBOR item from buf, all of it (no trailing bytes), with every
 * container count checked against the bytes left before libcbor allocates
 * for it. NULL with err naming what (a ZCS_ATTEST_ERR_CBOR message).
 */
struct cbor_item_t *zcs_attest_cbor_load(
	char *err, size_t errlen, const uint8_t *buf, size_t len, const char *what);

#endif /* ZCS_ATTEST_INTERNAL_H */
