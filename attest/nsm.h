/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The Nitro Secure Module (/dev/nsm) inside a Nitro enclave: ask it for an
 * attestation document. The device takes one ioctl with a CBOR request and
 * fills a CBOR response, in the encoding of aws-nitro-enclaves-nsm-api
 * (serde's externally tagged enums):
 *
 *   request   {"Attestation": {"user_data": bstr|null, "nonce": bstr|null,
 *                              "public_key": bstr|null}}
 *   response  {"Attestation": {"document": bstr}}  or  {"Error": "<ErrorCode>"}
 *
 * The document is the COSE_Sign1 attest.h parses. Outside an enclave there is
 * no /dev/nsm: zcs_nsm_open() says so, and everything else here is tested
 * without the device (tests/test_nsm.c).
 */
#ifndef ZCS_ATTEST_NSM_H
#define ZCS_ATTEST_NSM_H

#include <stddef.h>
#include <stdint.h>

#include <linux/ioctl.h>

#define ZCS_NSM_DEVICE "/dev/nsm"
#define ZCS_NSM_REQUEST_MAX 0x1000
#define ZCS_NSM_RESPONSE_MAX 0x3000

/* The driver's message: where the request is, and room for the response. */
struct zcs_nsm_iovec {
	uint64_t addr;
	uint64_t len;
};

struct zcs_nsm_message {
	struct zcs_nsm_iovec request;
	struct zcs_nsm_iovec response; /* len: capacity in, bytes written out */
};

#define ZCS_NSM_IOCTL_MAGIC 0x0A
#define ZCS_NSM_IOCTL_REQUEST _IOWR(ZCS_NSM_IOCTL_MAGIC, 0, struct zcs_nsm_message)

/*
 * Encode an Attestation request (each field NULL for none) into out.
 * Returns its length, or 0 when it does not fit (or exceeds the device's limit).
 */
size_t zcs_nsm_attestation_request(uint8_t *out, size_t cap, const uint8_t *user_data,
	size_t user_data_len, const uint8_t *nonce, size_t nonce_len, const uint8_t *public_key,
	size_t public_key_len);

/*
 * Decode the device's response into doc (cap bytes). Returns 0 with
 * *doc_len set, or -1 with err naming the NSM's error code or the malformation.
 */
int zcs_nsm_attestation_response(uint8_t *doc, size_t cap, size_t *doc_len, char *err,
	size_t errlen, const uint8_t *resp, size_t resp_len);

/* Open the device. Returns the fd, or -errno with err saying what that means here. */
int zcs_nsm_open(char *err, size_t errlen);

/*
 * One request through the device fd: an attestation document with these
 * fields (each NULL for none). 0 or -1. Not reentrant (static buffers).
 */
int zcs_nsm_attest(int fd, uint8_t *doc, size_t cap, size_t *doc_len, char *err, size_t errlen,
	const uint8_t *user_data, size_t user_data_len, const uint8_t *nonce, size_t nonce_len,
	const uint8_t *public_key, size_t public_key_len);

#endif /* ZCS_ATTEST_NSM_H */
