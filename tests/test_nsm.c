/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * attest/nsm.c, the NSM request path, without the device (these machines are
 * no Nitro enclave): the Attestation request is the CBOR the NSM expects (a
 * byte-exact vector, in aws-nitro-enclaves-nsm-api's serde encoding), the
 * ioctl number and message layout are the driver's, a response carrying the
 * genuine AWS document yields that document (which then parses), the NSM's
 * error codes and malformed responses are refused naming what, and opening
 * the device here says there is none.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cbor.h>
#include <cmocka.h>

#include "attest.h"
#include "hex.h"
#include "nsm.h"
#include "proc_util.h"

static uint8_t aws[8192];
static size_t aws_len;

static int
setup(void **state)
{
	const char *src = getenv("ZCS_SOURCE_DIR");
	char path[4096], hex[16384];
	ssize_t n;

	(void)state;
	if (src == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/tests/fixtures/attest/aws-nitro-2025-07-18.hex", src);
	n = proc_read_file(path, hex, sizeof(hex));
	while (n > 0 && (hex[n - 1] == '\n' || hex[n - 1] == ' '))
		n--;
	if (n <= 0 || zcs_hex_decode(hex, (size_t)n / 2, aws) != 0)
		return -1;
	aws_len = (size_t)n / 2;
	return 0;
}

static void
test_request_bytes(void **state)
{
	static const uint8_t want[] = {0xa1, 0x6b, 'A', 't', 't', 'e', 's', 't', 'a', 't', 'i', 'o',
		'n', 0xa3, 0x69, 'u', 's', 'e', 'r', '_', 'd', 'a', 't', 'a', 0xf6, 0x65, 'n', 'o',
		'n', 'c', 'e', 0x44, 1, 2, 3, 4, 0x6a, 'p', 'u', 'b', 'l', 'i', 'c', '_', 'k', 'e',
		'y', 0xf6};
	static const uint8_t nonce[] = {1, 2, 3, 4};
	uint8_t out[256], big[ZCS_NSM_REQUEST_MAX];
	size_t n;

	(void)state;
	n = zcs_nsm_attestation_request(out, sizeof(out), NULL, 0, nonce, 4, NULL, 0);
	assert_int_equal(n, sizeof(want));
	assert_memory_equal(out, want, sizeof(want));
	/* A public key is a byte string in its place. */
	n = zcs_nsm_attestation_request(out, sizeof(out), NULL, 0, NULL, 0, nonce, 4);
	assert_int_equal(out[n - 5], 0x44);
	assert_memory_equal(out + n - 4, nonce, 4);
	/* Too small a buffer, or beyond the device's request limit: 0. */
	assert_int_equal(zcs_nsm_attestation_request(out, 20, NULL, 0, nonce, 4, NULL, 0), 0);
	memset(big, 0, sizeof(big));
	assert_int_equal(
		zcs_nsm_attestation_request(out, sizeof(out), big, sizeof(big), NULL, 0, NULL, 0),
		0);
}

static void
test_ioctl_layout(void **state)
{
	(void)state;
	assert_int_equal(sizeof(struct zcs_nsm_message), 32);
	assert_int_equal(offsetof(struct zcs_nsm_message, response), 16);
	/* _IOWR(0x0A, 0, 32 bytes), as the NSM driver and nsm-api define it. */
	assert_int_equal((unsigned long)ZCS_NSM_IOCTL_REQUEST, 0xc0200a00ul);
}

/* A response map {outer: {inner: value}} encoded into out; its length. */
static size_t
response(uint8_t *out, size_t cap, const char *outer, const char *inner, cbor_item_t *value)
{
	cbor_item_t *m = cbor_new_definite_map(1), *v = value;
	size_t n;

	if (inner != NULL) {
		v = cbor_new_definite_map(1);
		assert_true(cbor_map_add(v,
			(struct cbor_pair){.key = cbor_move(cbor_build_string(inner)),
				.value = cbor_move(value)}));
	}
	assert_true(cbor_map_add(m,
		(struct cbor_pair){
			.key = cbor_move(cbor_build_string(outer)), .value = cbor_move(v)}));
	n = cbor_serialize(m, out, cap);
	cbor_decref(&m);
	assert_true(n > 0);
	return n;
}

static void
test_response(void **state)
{
	static uint8_t resp[ZCS_NSM_RESPONSE_MAX], doc[ZCS_NSM_RESPONSE_MAX];
	static struct zcs_attest_doc parsed;
	char err[256];
	size_t n, len = 0;

	(void)state;
	n = response(
		resp, sizeof(resp), "Attestation", "document", cbor_build_bytestring(aws, aws_len));
	assert_int_equal(
		zcs_nsm_attestation_response(doc, sizeof(doc), &len, err, sizeof(err), resp, n), 0);
	assert_int_equal(len, aws_len);
	assert_memory_equal(doc, aws, aws_len);
	assert_int_equal(zcs_attest_parse(&parsed, err, sizeof(err), doc, len), 0);
	/* A buffer too small for the document. */
	assert_int_equal(
		zcs_nsm_attestation_response(doc, 100, &len, err, sizeof(err), resp, n), -1);
	assert_non_null(strstr(err, "exceeds"));
	/* A trailing byte. */
	resp[n] = 0;
	assert_int_equal(
		zcs_nsm_attestation_response(doc, sizeof(doc), &len, err, sizeof(err), resp, n + 1),
		-1);
	/* The NSM's own refusal names its code. */
	n = response(resp, sizeof(resp), "Error", NULL, cbor_build_string("InternalError"));
	assert_int_equal(
		zcs_nsm_attestation_response(doc, sizeof(doc), &len, err, sizeof(err), resp, n),
		-1);
	assert_non_null(strstr(err, "InternalError"));
	/* Other shapes. */
	n = response(resp, sizeof(resp), "Attestation", "document", cbor_build_uint8(5));
	assert_int_equal(
		zcs_nsm_attestation_response(doc, sizeof(doc), &len, err, sizeof(err), resp, n),
		-1);
	assert_non_null(strstr(err, "is not {\"Attestation\""));
	n = response(resp, sizeof(resp), "GetRandom", "random", cbor_build_bytestring(aws, 8));
	assert_int_equal(
		zcs_nsm_attestation_response(doc, sizeof(doc), &len, err, sizeof(err), resp, n),
		-1);
}

static void
test_no_device_here(void **state)
{
	char err[128];
	int fd;

	(void)state;
	if (access(ZCS_NSM_DEVICE, F_OK) == 0)
		skip(); /* inside a Nitro enclave after all */
	fd = zcs_nsm_open(err, sizeof(err));
	assert_int_equal(fd, -ENOENT);
	assert_non_null(strstr(err, "not inside a Nitro enclave"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_bytes),
		cmocka_unit_test(test_ioctl_layout),
		cmocka_unit_test(test_response),
		cmocka_unit_test(test_no_device_here),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
