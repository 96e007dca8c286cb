/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A JSON syntax check for what the programs print (the bench's --json, the
 * keygen manifest, the tuning tools' --json): the whole text must be one value
 * and nothing but white space around it. It checks syntax only; what the
 * fields mean is the test's business.
 */
#ifndef ZCS_TESTS_JSON_CHECK_H
#define ZCS_TESTS_JSON_CHECK_H

#include <stdbool.h>

/*
 * JSON_CHECK_PLAIN: the subset zcsign-keygen writes: strings without escapes,
 * non-negative integers only, no true/false/null. Without it, RFC 8259.
 */
#define JSON_CHECK_PLAIN 1u
/* The value must be an object ({...}). */
#define JSON_CHECK_OBJECT 2u

/* text is one JSON value nested at most max_depth deep, under flags. */
bool json_check(const char *text, int max_depth, unsigned int flags);

/* The test fails, quoting the text's start, unless json_check() accepts it. */
void assert_json(const char *text, int max_depth, unsigned int flags);

/* s is one JSON object: it starts with '{', and json_check() accepts it. */
void assert_json_object(const char *s);

#endif /* ZCS_TESTS_JSON_CHECK_H */
