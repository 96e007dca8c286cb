/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What test_preflight.c and test_jitter.c share to check the tuning tools'
 * output: run a shell command for its stdout and exit status, count a
 * substring, and check that a text is one JSON object. Header-only (static
 * inline functions, cmocka assertions): include it after <cmocka.h>.
 */
#ifndef ZCS_TESTS_TUNING_TEST_UTIL_H
#define ZCS_TESTS_TUNING_TEST_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

static inline int run(char *out, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Run a shell command; its stdout into out, its exit status returned. */
static inline int
run(char *out, size_t len, const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	size_t n;
	FILE *p;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(out, 1, len - 1, p);
	out[n] = '\0';
	st = pclose(p);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static inline unsigned int
count(const char *s, const char *what)
{
	unsigned int n = 0;

	for (; (s = strstr(s, what)) != NULL; s += strlen(what))
		n++;
	return n;
}

/*
 * s is one object: it starts with '{', brackets and braces balance outside
 * strings, strings close and hold no raw control character, and nothing but
 * white space follows.
 */
static inline void
assert_json_object(const char *s)
{
	int depth = 0;
	bool in_str = false;
	const char *p = s;

	assert_int_equal(*p, '{');
	for (; *p != '\0'; p++) {
		if (in_str) {
			if (*p == '\\' && p[1] != '\0')
				p++;
			else if (*p == '"')
				in_str = false;
			else
				assert_true((unsigned char)*p >= 0x20);
			continue;
		}
		if (*p == '"')
			in_str = true;
		else if (*p == '{' || *p == '[')
			depth++;
		else if (*p == '}' || *p == ']')
			assert_true(--depth >= 0);
		if (depth == 0)
			break;
	}
	assert_false(in_str);
	assert_int_equal(depth, 0);
	for (p++; *p != '\0'; p++)
		assert_true(*p == '\n' || *p == ' ');
}

#endif /* ZCS_TESTS_TUNING_TEST_UTIL_H */
