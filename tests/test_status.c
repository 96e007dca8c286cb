/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Status names: every code has a distinct snake_case name (they become
 * telemetry and JSON keys, which DPDK refuses unless snake_case) and a text.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include <zcsign/status.h>

static void
every_code_named_distinctly(void **state)
{
	(void)state;
	for (int i = 0; i < ZCS_STATUS_MAX; i++) {
		const char *n = zcs_status_name(i);

		assert_non_null(n);
		assert_true(strlen(n) > 0);
		assert_string_not_equal(n, "invalid_status");
		for (const char *p = n; *p; p++)
			assert_true(islower((unsigned char)*p) || *p == '_');
		assert_true(strlen(zcs_strerror(i)) > 0);
		for (int j = 0; j < i; j++)
			assert_string_not_equal(n, zcs_status_name(j));
	}
}

static void
out_of_range(void **state)
{
	(void)state;
	assert_string_equal(zcs_status_name(-1), "invalid_status");
	assert_string_equal(zcs_status_name(ZCS_STATUS_MAX), "invalid_status");
	assert_string_equal(zcs_strerror(1000), "invalid status code");
	assert_string_equal(zcs_status_name(ZCS_ERR_UNKNOWN_ACCOUNT), "unknown_account");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_code_named_distinctly),
		cmocka_unit_test(out_of_range),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
