/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tests/support/json_check.c, the JSON syntax check the tests hold program
 * output to: it must refuse what is not JSON (or not the plain subset keygen
 * writes), or those tests could not fail.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "json_check.h"

/* RFC 8259: the validator test_bench held until the test-support library had one. */
static void
test_json_validator(void **state)
{
	(void)state;
	assert_true(json_check("{\"a\":[1,-2.5e3,true,null,\"x\\u00e9\\n\"],\"b\":{}}\n", 32, 0));
	assert_false(json_check("{\"a\":1,}", 32, 0));
	assert_false(json_check("{\"a\":nan}", 32, 0));
	assert_false(json_check("{\"a\":01}", 32, 0));
	assert_false(json_check("{\"a\":\"\n\"}", 32, 0));
	assert_false(json_check("{\"a\":1", 32, 0));
	assert_false(json_check("{\"a\":1}{", 32, 0));
	assert_false(json_check("{\"a\":\"\\x\"}", 32, 0));
	assert_false(json_check("{\"a\":\"\\u12\"}", 32, 0));
	assert_false(json_check("", 32, 0));
}

/* The keygen subset, depth and object limits. */
static void
test_json_plain(void **state)
{
	const unsigned int plain = JSON_CHECK_PLAIN | JSON_CHECK_OBJECT;

	(void)state;
	assert_true(json_check("{\"shards\":2,\"accounts\":[{\"a\":\"0a\"}]}\n", 8, plain));
	assert_false(json_check("{\"a\":\"x\\n\"}", 8, plain));
	assert_false(json_check("{\"a\":-1}", 8, plain));
	assert_false(json_check("{\"a\":1.5}", 8, plain));
	assert_false(json_check("{\"a\":true}", 8, plain));
	assert_false(json_check("{\"a\":null}", 8, plain));
	assert_false(json_check("[1]", 8, plain));
	assert_true(json_check("[1]", 8, JSON_CHECK_PLAIN));
	assert_true(json_check("[[1]]", 2, 0)); /* the 1 is two levels down */
	assert_false(json_check("[[1]]", 1, 0));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_validator),
		cmocka_unit_test(test_json_plain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
