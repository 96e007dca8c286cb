/* SPDX-License-Identifier: BSD-3-Clause */
/* Hex codec: round trips, both cases, and refusal of every non-hex character. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include "hex.h"

static void
round_trip_all_bytes(void **state)
{
	uint8_t in[256], out[256];
	char text[513];

	(void)state;
	for (int i = 0; i < 256; i++)
		in[i] = (uint8_t)i;
	zcs_hex_encode(in, sizeof(in), text);
	assert_int_equal(strlen(text), 512);
	assert_memory_equal(text, "000102", 6);
	assert_memory_equal(text + 510, "ff", 2);
	assert_int_equal(zcs_hex_decode(text, sizeof(out), out), 0);
	assert_memory_equal(in, out, sizeof(in));
}

static void
upper_case_accepted(void **state)
{
	uint8_t out[4];

	(void)state;
	assert_int_equal(zcs_hex_decode("DEADbeef", 4, out), 0);
	assert_memory_equal(out, "\xde\xad\xbe\xef", 4);
}

static void
every_non_hex_char_refused(void **state)
{
	char text[3] = "a0";
	uint8_t out[1];
	int accepted = 0;

	(void)state;
	/* in the low digit, then in the high digit */
	for (int pos = 1; pos >= 0; pos--) {
		for (int c = 1; c < 256; c++) {
			text[0] = 'a';
			text[1] = '0';
			text[pos] = (char)c;
			int ok = zcs_hex_decode(text, 1, out) == 0;
			int want = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
				(c >= 'A' && c <= 'F');
			assert_int_equal(ok, want);
			accepted += ok;
		}
	}
	assert_int_equal(accepted, 44);
}

static void
short_text_refused(void **state)
{
	uint8_t out[4];

	(void)state;
	assert_int_equal(zcs_hex_decode("abc", 2, out), -1);
	assert_int_equal(zcs_hex_decode("", 1, out), -1);
	assert_int_equal(zcs_hex_decode("a", 1, out), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip_all_bytes),
		cmocka_unit_test(upper_case_accepted),
		cmocka_unit_test(every_non_hex_char_refused),
		cmocka_unit_test(short_text_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
