/* SPDX-License-Identifier: BSD-3-Clause */
/* Test support: see json_check.h. A recursive descent over RFC 8259. */
#include <stddef.h>
#include <string.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "json_check.h"

struct check {
	int max_depth;
	unsigned int flags;
};

static const char *value(const struct check *c, const char *p, int depth);

static const char *
ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

static const char *
string(const struct check *c, const char *p)
{
	int i;

	if (*p++ != '"')
		return NULL;
	while (*p != '"') {
		if ((unsigned char)*p < 0x20)
			return NULL; /* a raw control character, or the end of the text */
		if (*p == '\\') {
			if (c->flags & JSON_CHECK_PLAIN)
				return NULL;
			p++;
			if (*p == 'u') {
				for (i = 1; i <= 4; i++)
					if (p[i] == '\0' || !strchr("0123456789abcdefABCDEF", p[i]))
						return NULL;
				p += 4;
			} else if (*p == '\0' || !strchr("\"\\/bfnrt", *p)) {
				return NULL;
			}
		}
		p++;
	}
	return p + 1;
}

static const char *
digits(const char *p)
{
	if (*p < '0' || *p > '9')
		return NULL;
	while (*p >= '0' && *p <= '9')
		p++;
	return p;
}

static const char *
number(const struct check *c, const char *p)
{
	bool plain = c->flags & JSON_CHECK_PLAIN;

	if (*p == '-' && !plain)
		p++;
	if (*p == '0')
		p++;
	else if ((p = digits(p)) == NULL)
		return NULL;
	if (plain)
		return p;
	if (*p == '.' && (p = digits(p + 1)) == NULL)
		return NULL;
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if ((p = digits(p)) == NULL)
			return NULL;
	}
	return p;
}

/* The members of an object (keyed) or array after its opening bracket. */
static const char *
members(const struct check *c, const char *p, int depth, char close, bool keyed)
{
	p = ws(p);
	if (*p == close)
		return p + 1;
	for (;;) {
		if (keyed) {
			p = string(c, ws(p));
			if (p == NULL || *(p = ws(p)) != ':')
				return NULL;
			p++;
		}
		p = value(c, p, depth + 1);
		if (p == NULL)
			return NULL;
		p = ws(p);
		if (*p == close)
			return p + 1;
		if (*p++ != ',')
			return NULL;
	}
}

static const char *
value(const struct check *c, const char *p, int depth)
{
	static const char *const words[] = {"true", "false", "null"};
	size_t i;

	if (depth > c->max_depth)
		return NULL;
	p = ws(p);
	if (*p == '{')
		return members(c, p + 1, depth, '}', true);
	if (*p == '[')
		return members(c, p + 1, depth, ']', false);
	if (*p == '"')
		return string(c, p);
	for (i = 0; !(c->flags & JSON_CHECK_PLAIN) && i < sizeof(words) / sizeof(words[0]); i++)
		if (strncmp(p, words[i], strlen(words[i])) == 0)
			return p + strlen(words[i]);
	return number(c, p);
}

bool
json_check(const char *text, int max_depth, unsigned int flags)
{
	struct check c = {.max_depth = max_depth, .flags = flags};
	const char *end;

	if ((flags & JSON_CHECK_OBJECT) && *ws(text) != '{')
		return false;
	end = value(&c, text, 0);
	return end != NULL && *ws(end) == '\0';
}

void
assert_json(const char *text, int max_depth, unsigned int flags)
{
	if (!json_check(text, max_depth, flags))
		fail_msg("not %s JSON (depth <= %d): %.200s",
			flags & JSON_CHECK_OBJECT ? "one object of" : "valid", max_depth, text);
}

void
assert_json_object(const char *s)
{
	assert_int_equal(s[0], '{');
	assert_json(s, 32, JSON_CHECK_OBJECT);
}
