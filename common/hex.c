/* SPDX-License-Identifier: BSD-3-Clause */
#include "hex.h"

/* Value of one hex digit, or a negative number; no branch on the digit. */
static int
hex_digit(unsigned char c)
{
	int d = c - '0';
	int l = (c | 0x20) - 'a' + 10;
	/* mask is all ones where the condition holds */
	int is_d = -(int)((unsigned)(d) < 10u);
	int is_l = -(int)((unsigned)(l - 10) < 6u);
	return (d & is_d) | (l & is_l) | ~(is_d | is_l);
}

int
zcs_hex_decode(const char *text, size_t n, uint8_t *out)
{
	int bad = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		int hi = hex_digit((unsigned char)text[2 * i]);
		int lo;

		if (text[2 * i] == '\0')
			return -1;
		lo = hex_digit((unsigned char)text[2 * i + 1]);
		bad |= hi | lo;
		out[i] = (uint8_t)(((unsigned int)hi << 4) | ((unsigned int)lo & 0xfu));
	}
	return bad < 0 ? -1 : 0;
}

void
zcs_hex_encode(const uint8_t *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0xf];
	}
	out[2 * n] = '\0';
}
