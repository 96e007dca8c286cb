/* SPDX-License-Identifier: BSD-3-Clause */
/* The NSM request path (nsm.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cbor.h>

#include "attest.h"
#include "attest_internal.h"
#include "nsm.h"

/* A text key's head and bytes. Returns the new offset, or 0 when it does not fit. */
static size_t
put_text(uint8_t *out, size_t cap, size_t off, const char *s)
{
	size_t n = strlen(s), h = cbor_encode_string_start(n, out + off, cap - off);

	if (h == 0 || n > cap - off - h)
		return 0;
	memcpy(out + off + h, s, n);
	return off + h + n;
}

/* A byte string, or null when p is NULL. Returns the new offset, or 0. */
static size_t
put_bytes(uint8_t *out, size_t cap, size_t off, const uint8_t *p, size_t n)
{
	size_t h;

	if (p == NULL)
		return off < cap && cbor_encode_null(out + off, cap - off) == 1 ? off + 1 : 0;
	h = cbor_encode_bytestring_start(n, out + off, cap - off);
	if (h == 0 || n > cap - off - h)
		return 0;
	memcpy(out + off + h, p, n);
	return off + h + n;
}

size_t
zcs_nsm_attestation_request(uint8_t *out, size_t cap, const uint8_t *user_data,
	size_t user_data_len, const uint8_t *nonce, size_t nonce_len, const uint8_t *public_key,
	size_t public_key_len)
{
	size_t off;

	if (cap > ZCS_NSM_REQUEST_MAX)
		cap = ZCS_NSM_REQUEST_MAX;
	off = cbor_encode_map_start(1, out, cap);
	off = off ? put_text(out, cap, off, "Attestation") : 0;
	off = off && off < cap ? off + cbor_encode_map_start(3, out + off, cap - off) : 0;
	/* serde writes a struct's fields in declaration order. */
	off = off ? put_text(out, cap, off, "user_data") : 0;
	off = off ? put_bytes(out, cap, off, user_data, user_data_len) : 0;
	off = off ? put_text(out, cap, off, "nonce") : 0;
	off = off ? put_bytes(out, cap, off, nonce, nonce_len) : 0;
	off = off ? put_text(out, cap, off, "public_key") : 0;
	off = off ? put_bytes(out, cap, off, public_key, public_key_len) : 0;
	return off;
}

/* The one entry of a definite map of one entry whose key is the text want; NULL otherwise. */
static cbor_item_t *
only_entry(cbor_item_t *m, const char *want)
{
	struct cbor_pair *kv;

	if (!cbor_isa_map(m) || cbor_map_size(m) != 1)
		return NULL;
	kv = cbor_map_handle(m);
	if (!cbor_isa_string(kv[0].key) || !cbor_string_is_definite(kv[0].key) ||
		cbor_string_length(kv[0].key) != strlen(want) ||
		memcmp(cbor_string_handle(kv[0].key), want, strlen(want)) != 0)
		return NULL;
	return kv[0].value;
}

int
zcs_nsm_attestation_response(uint8_t *doc, size_t cap, size_t *doc_len, char *err, size_t errlen,
	const uint8_t *resp, size_t resp_len)
{
	cbor_item_t *m = zcs_attest_cbor_load(err, errlen, resp, resp_len, "NSM response");
	cbor_item_t *v, *d;
	int rc = -1;

	if (m == NULL)
		return -1;
	v = only_entry(m, "Error");
	if (v != NULL) {
		if (cbor_isa_string(v) && cbor_string_is_definite(v))
			snprintf(err, errlen, "NSM refused the attestation: %.*s",
				(int)cbor_string_length(v), (const char *)cbor_string_handle(v));
		else
			snprintf(err, errlen, "NSM refused the attestation");
		goto out;
	}
	v = only_entry(m, "Attestation");
	d = v != NULL ? only_entry(v, "document") : NULL;
	if (d == NULL || !cbor_isa_bytestring(d) || !cbor_bytestring_is_definite(d)) {
		snprintf(
			err, errlen, "NSM response is not {\"Attestation\": {\"document\": bstr}}");
		goto out;
	}
	if (cbor_bytestring_length(d) > cap) {
		snprintf(err, errlen, "NSM document of %zu bytes exceeds %zu",
			cbor_bytestring_length(d), cap);
		goto out;
	}
	memcpy(doc, cbor_bytestring_handle(d), cbor_bytestring_length(d));
	*doc_len = cbor_bytestring_length(d);
	rc = 0;
out:
	cbor_decref(&m);
	return rc;
}

int
zcs_nsm_open(char *err, size_t errlen)
{
	int fd = open(ZCS_NSM_DEVICE, O_RDWR | O_CLOEXEC);

	if (fd >= 0)
		return fd;
	fd = -errno;
	if (fd == -ENOENT)
		snprintf(err, errlen, ZCS_NSM_DEVICE " does not exist: not inside a Nitro enclave");
	else
		snprintf(err, errlen, "cannot open " ZCS_NSM_DEVICE ": %s", strerror(-fd));
	return fd;
}

int
zcs_nsm_attest(int fd, uint8_t *doc, size_t cap, size_t *doc_len, char *err, size_t errlen,
	const uint8_t *user_data, size_t user_data_len, const uint8_t *nonce, size_t nonce_len,
	const uint8_t *public_key, size_t public_key_len)
{
	static uint8_t req[ZCS_NSM_REQUEST_MAX], resp[ZCS_NSM_RESPONSE_MAX];
	struct zcs_nsm_message msg;
	size_t req_len;

	req_len = zcs_nsm_attestation_request(req, sizeof(req), user_data, user_data_len, nonce,
		nonce_len, public_key, public_key_len);
	if (req_len == 0) {
		snprintf(err, errlen, "NSM request does not fit in %d bytes", ZCS_NSM_REQUEST_MAX);
		return -1;
	}
	msg.request.addr = (uint64_t)(uintptr_t)req;
	msg.request.len = req_len;
	msg.response.addr = (uint64_t)(uintptr_t)resp;
	msg.response.len = sizeof(resp);
	if (ioctl(fd, ZCS_NSM_IOCTL_REQUEST, &msg) != 0) {
		snprintf(err, errlen, "NSM ioctl: %s", strerror(errno));
		return -1;
	}
	if (msg.response.len > sizeof(resp)) {
		snprintf(err, errlen, "NSM wrote %llu bytes into %zu",
			(unsigned long long)msg.response.len, sizeof(resp));
		return -1;
	}
	return zcs_nsm_attestation_response(
		doc, cap, doc_len, err, errlen, resp, (size_t)msg.response.len);
}
