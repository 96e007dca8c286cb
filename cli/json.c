/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The JSON reader of json.h: one recursive-descent pass over the text into a
 * flat array of nodes in document order, then lookups that walk siblings by
 * each node's next. The grammar is RFC 8259's, checked in full (escapes,
 * number syntax), because the text comes from another process.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "num.h"

static int parse_value(struct json_doc *d, unsigned int depth);

static int
fail(struct json_doc *d, const char *what)
{
	if (d->pos >= d->len)
		snprintf(d->err, sizeof(d->err), "%s at the end (byte %zu)", what, d->pos);
	else
		snprintf(d->err, sizeof(d->err), "%s at byte %zu", what, d->pos);
	return -1;
}

static void
skip_ws(struct json_doc *d)
{
	while (d->pos < d->len &&
		(d->text[d->pos] == ' ' || d->text[d->pos] == '\t' || d->text[d->pos] == '\n' ||
			d->text[d->pos] == '\r'))
		d->pos++;
}

static int
new_node(struct json_doc *d, enum json_type type)
{
	struct json_node *n;

	if (d->n >= JSON_MAX_NODES)
		return fail(d, "too many values");
	n = &d->node[d->n];
	memset(n, 0, sizeof(*n));
	n->type = type;
	n->start = (uint32_t)d->pos;
	return (int)d->n++;
}

static bool
is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* A string at d->pos (the opening quote): escapes checked, control characters refused. */
static int
parse_string(struct json_doc *d)
{
	int i = new_node(d, JSON_STR);
	unsigned int k;

	if (i < 0)
		return -1;
	d->pos++;
	d->node[i].start = (uint32_t)d->pos;
	for (;;) {
		unsigned char c;

		if (d->pos >= d->len)
			return fail(d, "unterminated string");
		c = (unsigned char)d->text[d->pos];
		if (c == '"')
			break;
		if (c < 0x20)
			return fail(d, "control character in a string");
		if (c == '\\') {
			d->pos++;
			if (d->pos >= d->len)
				return fail(d, "unterminated string");
			c = (unsigned char)d->text[d->pos];
			if (c == 'u') {
				for (k = 1; k <= 4; k++)
					if (d->pos + k >= d->len || !is_hex(d->text[d->pos + k]))
						return fail(d, "bad \\u escape");
				d->pos += 4;
			} else if (strchr("\"\\/bfnrt", c) == NULL || c == '\0') {
				return fail(d, "bad escape");
			}
		}
		d->pos++;
	}
	d->node[i].len = (uint32_t)(d->pos - d->node[i].start);
	d->pos++;
	d->node[i].next = d->n;
	return i;
}

/* The JSON number grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static int
parse_number(struct json_doc *d)
{
	const char *t = d->text;
	int i = new_node(d, JSON_NUM);
	size_t digits;

	if (i < 0)
		return -1;
	if (d->pos < d->len && t[d->pos] == '-')
		d->pos++;
	if (d->pos < d->len && t[d->pos] == '0') {
		d->pos++;
	} else {
		for (digits = 0; d->pos < d->len && t[d->pos] >= '0' && t[d->pos] <= '9'; digits++)
			d->pos++;
		if (digits == 0)
			return fail(d, "bad number");
	}
	if (d->pos < d->len && t[d->pos] == '.') {
		d->pos++;
		for (digits = 0; d->pos < d->len && t[d->pos] >= '0' && t[d->pos] <= '9'; digits++)
			d->pos++;
		if (digits == 0)
			return fail(d, "bad number");
	}
	if (d->pos < d->len && (t[d->pos] == 'e' || t[d->pos] == 'E')) {
		d->pos++;
		if (d->pos < d->len && (t[d->pos] == '+' || t[d->pos] == '-'))
			d->pos++;
		for (digits = 0; d->pos < d->len && t[d->pos] >= '0' && t[d->pos] <= '9'; digits++)
			d->pos++;
		if (digits == 0)
			return fail(d, "bad number");
	}
	d->node[i].len = (uint32_t)(d->pos - d->node[i].start);
	d->node[i].next = d->n;
	return i;
}

static int
parse_word(struct json_doc *d, const char *word, enum json_type type)
{
	size_t len = strlen(word);
	int i;

	if (d->len - d->pos < len || memcmp(d->text + d->pos, word, len) != 0)
		return fail(d, "unexpected character");
	i = new_node(d, type);
	if (i < 0)
		return -1;
	d->pos += len;
	d->node[i].len = (uint32_t)len;
	d->node[i].next = d->n;
	return i;
}

/* An array or object at d->pos (its opening bracket). */
static int
parse_container(struct json_doc *d, unsigned int depth)
{
	bool obj = d->text[d->pos] == '{';
	char close = obj ? '}' : ']';
	int i = new_node(d, obj ? JSON_OBJ : JSON_ARR);

	if (i < 0)
		return -1;
	if (depth >= JSON_MAX_DEPTH)
		return fail(d, "nested too deep");
	d->pos++;
	skip_ws(d);
	if (d->pos < d->len && d->text[d->pos] == close) {
		d->pos++;
		d->node[i].next = d->n;
		return i;
	}
	for (;;) {
		skip_ws(d);
		if (obj) {
			if (d->pos >= d->len || d->text[d->pos] != '"')
				return fail(d, "expected a key");
			if (parse_string(d) < 0)
				return -1;
			skip_ws(d);
			if (d->pos >= d->len || d->text[d->pos] != ':')
				return fail(d, "expected ':'");
			d->pos++;
		}
		if (parse_value(d, depth + 1) < 0)
			return -1;
		d->node[i].kids++;
		skip_ws(d);
		if (d->pos < d->len && d->text[d->pos] == ',') {
			d->pos++;
			continue;
		}
		if (d->pos < d->len && d->text[d->pos] == close)
			break;
		return fail(d, obj ? "expected ',' or '}'" : "expected ',' or ']'");
	}
	d->pos++;
	d->node[i].len = (uint32_t)(d->pos - d->node[i].start);
	d->node[i].next = d->n;
	return i;
}

static int
parse_value(struct json_doc *d, unsigned int depth)
{
	skip_ws(d);
	if (d->pos >= d->len)
		return fail(d, "expected a value");
	switch (d->text[d->pos]) {
	case '{':
	case '[':
		return parse_container(d, depth);
	case '"':
		return parse_string(d);
	case 't':
		return parse_word(d, "true", JSON_BOOL);
	case 'f':
		return parse_word(d, "false", JSON_BOOL);
	case 'n':
		return parse_word(d, "null", JSON_NULL);
	default:
		if (d->text[d->pos] == '-' || (d->text[d->pos] >= '0' && d->text[d->pos] <= '9'))
			return parse_number(d);
		return fail(d, "unexpected character");
	}
}

int
json_parse(struct json_doc *d, const char *text, size_t len)
{
	d->text = text;
	d->len = len;
	d->pos = 0;
	d->n = 0;
	d->err[0] = '\0';
	if (len >= UINT32_MAX)
		return fail(d, "too long");
	if (parse_value(d, 0) < 0)
		return -1;
	skip_ws(d);
	if (d->pos != d->len)
		return fail(d, "trailing characters");
	return 0;
}

int
json_find(const struct json_doc *d, int obj, const char *key)
{
	size_t klen = strlen(key);
	uint32_t i, k;

	if (obj < 0 || d->node[obj].type != JSON_OBJ)
		return -1;
	/* Keys are compared as sent: ours have no escapes, and one with any never matches. */
	for (i = (uint32_t)obj + 1, k = 0; k < d->node[obj].kids; k++) {
		const struct json_node *key_node = &d->node[i];

		if (key_node->len == klen && memcmp(d->text + key_node->start, key, klen) == 0)
			return (int)(i + 1);
		i = d->node[i + 1].next;
	}
	return -1;
}

int
json_at(const struct json_doc *d, int arr, uint32_t idx)
{
	uint32_t i, k;

	if (arr < 0 || d->node[arr].type != JSON_ARR || idx >= d->node[arr].kids)
		return -1;
	for (i = (uint32_t)arr + 1, k = 0; k < idx; k++)
		i = d->node[i].next;
	return (int)i;
}

/* A JSON number with neither sign, fraction nor exponent is what zcs_parse_u64_n() takes. */
int
json_u64(const struct json_doc *d, int i, uint64_t *out)
{
	if (i < 0 || d->node[i].type != JSON_NUM ||
		zcs_parse_u64_n(d->text + d->node[i].start, d->node[i].len, UINT64_MAX, out) != 0)
		return -1;
	return 0;
}

/* Four hex digits parse_string() has checked. */
static unsigned int
hex4(const char *s)
{
	unsigned int v = 0, k;

	for (k = 0; k < 4; k++) {
		char c = s[k];

		v = v * 16 + (unsigned int)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
	}
	return v;
}

/* \u escapes outside ASCII become '?': the replies hold names and states, never prose. */
int
json_str(const struct json_doc *d, int i, char *buf, size_t len)
{
	const char *s;
	size_t o = 0;
	uint32_t k;

	if (i < 0 || d->node[i].type != JSON_STR || len == 0)
		return -1;
	s = d->text + d->node[i].start;
	for (k = 0; k < d->node[i].len; k++) {
		char c = s[k];

		if (c == '\\') {
			c = s[++k];
			if (c == 'u') {
				unsigned int u = hex4(s + k + 1);

				c = u >= 0x20 && u < 0x7f ? (char)u : '?';
				k += 4;
			} else {
				c = c == 'b'	   ? '\b'
					: c == 'f' ? '\f'
					: c == 'n' ? '\n'
					: c == 'r' ? '\r'
					: c == 't' ? '\t'
						   : c;
			}
		}
		if (o + 1 >= len)
			return -1;
		buf[o++] = c;
	}
	buf[o] = '\0';
	return 0;
}
