/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cli/json.c, the small JSON reader of zcsign-cli top (linked from
 * zcs_cli_core): valid text parsed and looked up; every kind of malformed
 * text refused with a position, never a crash (run under ASan/UBSan too).
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "json.h"

static struct json_doc doc; /* 320 KiB: not on the stack */

static int
parse(const char *text)
{
	return json_parse(&doc, text, strlen(text));
}

/* ---- the JSON reader ---- */

static void
test_json_valid(void **state)
{
	const char *text = " {\"/zcsign/x\": {\"a\": 18446744073709551615, \"b\": [1, 2, {\"c\": "
			   "null}], \"s\": \"q\\\"\\\\\\/\\u0041\\u00e9\\n\", \"t\": true, "
			   "\"f\": false, \"n\": -1.5e3, \"z\": 0, \"e\": {}, \"ea\": []}}\n";
	uint64_t v;
	char buf[16];
	int o, b;

	(void)state;
	assert_int_equal(parse(text), 0);
	assert_int_equal(doc.node[0].type, JSON_OBJ);
	o = json_find(&doc, 0, "/zcsign/x");
	assert_true(o > 0);
	assert_int_equal(json_u64(&doc, json_find(&doc, o, "a"), &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(json_u64(&doc, json_find(&doc, o, "z"), &v), 0);
	assert_true(v == 0);
	b = json_find(&doc, o, "b");
	assert_int_equal(doc.node[b].kids, 3);
	assert_int_equal(json_u64(&doc, json_at(&doc, b, 1), &v), 0);
	assert_true(v == 2);
	assert_int_equal(doc.node[json_find(&doc, json_at(&doc, b, 2), "c")].type, JSON_NULL);
	assert_int_equal(json_at(&doc, b, 3), -1);
	/* Lookup walks siblings past nested containers. */
	assert_int_equal(json_str(&doc, json_find(&doc, o, "s"), buf, sizeof(buf)), 0);
	assert_string_equal(buf, "q\"\\/A?\n");
	assert_int_equal(json_str(&doc, json_find(&doc, o, "s"), buf, 4), -1); /* too long */
	assert_int_equal(doc.node[json_find(&doc, o, "t")].type, JSON_BOOL);
	assert_int_equal(doc.node[json_find(&doc, o, "ea")].kids, 0);
	assert_int_equal(doc.node[json_find(&doc, o, "e")].type, JSON_OBJ);
	/* Wrong types and absent keys are -1, not a crash. */
	assert_int_equal(json_u64(&doc, json_find(&doc, o, "n"), &v), -1);
	assert_int_equal(json_u64(&doc, json_find(&doc, o, "s"), &v), -1);
	assert_int_equal(json_u64(&doc, json_find(&doc, o, "nope"), &v), -1);
	assert_int_equal(json_str(&doc, json_find(&doc, o, "a"), buf, sizeof(buf)), -1);
	assert_int_equal(json_find(&doc, b, "a"), -1);
	assert_int_equal(json_at(&doc, o, 0), -1);
	assert_int_equal(json_find(&doc, -1, "a"), -1);
}

static void
test_json_numbers(void **state)
{
	static const char *const not_u64[] = {
		"18446744073709551616", "-1", "-0", "1.0", "1e3", "99999999999999999999999"};
	uint64_t v;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(not_u64) / sizeof(not_u64[0]); i++) {
		assert_int_equal(parse(not_u64[i]), 0);
		if (json_u64(&doc, 0, &v) != -1)
			fail_msg("'%s' read as u64 %" PRIu64, not_u64[i], v);
	}
}

static void
test_json_malformed(void **state)
{
	static const char *const bad[] = {
		"",
		"   ",
		"{",
		"}",
		"[1,]",
		"[,1]",
		"{\"a\":1,}",
		"{\"a\" 1}",
		"{\"a\":}",
		"{a:1}",
		"{1:2}",
		"{\"a\":1}}",
		"{\"a\":1} x",
		"[1 2]",
		"01",
		"-",
		"1.",
		".5",
		"1e",
		"1e+",
		"+1",
		"0x10",
		"\"abc",
		"\"a\\x\"",
		"\"a\\u12\"",
		"\"a\\u12g4\"",
		"\"a\\",
		"\"tab\there\"",
		"nul",
		"nulll",
		"truex",
		"True",
		"[[[[[[[[[[1]]]]]]]]]]",
		"{\"/zcsign/info\": {\"shards\": 2,",
		"\xff",
	};
	static char big[4 * JSON_MAX_NODES];
	const char nul[] = {'[', '1', ',', '\0', '2', ']'};
	size_t i, off = 0;

	(void)state;
	for (i = 0; i < (sizeof(bad) / sizeof(bad[0])); i++) {
		if (parse(bad[i]) != -1)
			fail_msg("'%s' accepted", bad[i]);
		if (doc.err[0] == '\0' || strstr(doc.err, "byte ") == NULL)
			fail_msg("'%s': no position in '%s'", bad[i], doc.err);
	}
	/* A NUL inside the text is a character like any other: refused, not an end. */
	assert_int_equal(json_parse(&doc, nul, sizeof(nul)), -1);
	assert_non_null(strstr(doc.err, "byte 3"));
	/* More values than nodes: refused, not written past the array. */
	big[off++] = '[';
	for (i = 0; i < JSON_MAX_NODES + 1; i++)
		off += (size_t)snprintf(big + off, sizeof(big) - off, "%s0", i ? "," : "");
	big[off++] = ']';
	assert_int_equal(json_parse(&doc, big, off), -1);
	assert_non_null(strstr(doc.err, "too many values"));
	/* Exactly as deep as allowed is fine. */
	assert_int_equal(parse("[[[[[[[[1]]]]]]]]"), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_valid),
		cmocka_unit_test(test_json_numbers),
		cmocka_unit_test(test_json_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
