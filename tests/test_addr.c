/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Endpoint addresses: parsing of every accepted and refused form, and vsock
 * addressing: parsed and turned into a sockaddr_vm only, no vsock socket is
 * ever opened on these machines (test_addr_unix opens the unix ones).
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <linux/vm_sockets.h>
#include <setjmp.h>
#include <cmocka.h>

#include "addr.h"

static char err[256];

static void
parse_unix(void **state)
{
	struct zcs_addr a;
	char buf[160];

	(void)state;
	assert_int_equal(zcs_addr_parse("unix:/tmp/s0.sock", true, &a, err, sizeof(err)), 0);
	assert_int_equal(a.kind, ZCS_ADDR_UNIX);
	assert_string_equal(a.path, "/tmp/s0.sock");
	assert_string_equal(zcs_addr_format(&a, buf, sizeof(buf)), "unix:/tmp/s0.sock");
	assert_int_equal(zcs_addr_parse("unix:rel.sock", false, &a, err, sizeof(err)), 0);
	assert_string_equal(a.path, "rel.sock");
}

static void
parse_unix_refused(void **state)
{
	struct zcs_addr a;
	char longp[200];

	(void)state;
	assert_int_equal(zcs_addr_parse("unix:", true, &a, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "unix:"));
	memset(longp, 'x', sizeof(longp));
	memcpy(longp, "unix:", 5);
	longp[sizeof(longp) - 1] = '\0';
	assert_int_equal(zcs_addr_parse(longp, true, &a, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "path"));
	assert_int_equal(zcs_addr_parse("tcp:127.0.0.1:5", true, &a, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "tcp:127.0.0.1:5"));
	assert_int_equal(zcs_addr_parse("", true, &a, err, sizeof(err)), -EINVAL);
	assert_int_equal(zcs_addr_parse(NULL, true, &a, err, sizeof(err)), -EINVAL);
}

static void
parse_vsock_forms(void **state)
{
	struct zcs_addr a;
	struct sockaddr_storage ss;
	struct sockaddr_vm *vm = (struct sockaddr_vm *)&ss;
	socklen_t len;
	char buf[160];

	(void)state;
	/* listen: any CID, given port */
	assert_int_equal(zcs_addr_parse("vsock:5005", true, &a, err, sizeof(err)), 0);
	assert_int_equal(a.kind, ZCS_ADDR_VSOCK);
	assert_int_equal(a.cid, VMADDR_CID_ANY);
	assert_int_equal(a.port, 5005);
	assert_string_equal(zcs_addr_format(&a, buf, sizeof(buf)), "vsock:5005");
	assert_int_equal(zcs_addr_sockaddr(&a, &ss, &len), 0);
	assert_int_equal(vm->svm_family, AF_VSOCK);
	assert_int_equal(vm->svm_cid, VMADDR_CID_ANY);
	assert_int_equal(vm->svm_port, 5005);
	assert_int_equal(len, sizeof(struct sockaddr_vm));

	/* the engine's side: enclave CID and port */
	assert_int_equal(zcs_addr_parse("vsock:16:5005", false, &a, err, sizeof(err)), 0);
	assert_int_equal(a.cid, 16);
	assert_int_equal(a.port, 5005);
	assert_string_equal(zcs_addr_format(&a, buf, sizeof(buf)), "vsock:16:5005");
	assert_int_equal(zcs_addr_sockaddr(&a, &ss, &len), 0);
	assert_int_equal(vm->svm_cid, 16);
	assert_int_equal(vm->svm_port, 5005);
	assert_int_equal(zcs_addr_parse("vsock:4294967295:1", false, &a, err, sizeof(err)), 0);
	assert_int_equal(a.cid, UINT32_MAX);
}

static void
parse_vsock_refused(void **state)
{
	struct zcs_addr a;
	const char *bad_listen[] = {
		"vsock:", "vsock:16:5005", "vsock:-1", "vsock:5x", "vsock:4294967296", "vsock: 5"};
	const char *bad_engine[] = {"vsock:5005", "vsock:16:", "vsock::5", "vsock:a:5",
		"vsock:16:5:6", "vsock:16:99999999999"};

	(void)state;
	for (size_t i = 0; i < sizeof(bad_listen) / sizeof(bad_listen[0]); i++) {
		assert_int_equal(
			zcs_addr_parse(bad_listen[i], true, &a, err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, bad_listen[i]));
		assert_non_null(strstr(err, "vsock:PORT"));
	}
	for (size_t i = 0; i < sizeof(bad_engine) / sizeof(bad_engine[0]); i++) {
		assert_int_equal(
			zcs_addr_parse(bad_engine[i], false, &a, err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "vsock:CID:PORT"));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_unix),
		cmocka_unit_test(parse_unix_refused),
		cmocka_unit_test(parse_vsock_forms),
		cmocka_unit_test(parse_vsock_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
