/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * For tests that check a tool's output (test_preflight, test_jitter): run a
 * shell command for its stdout and exit status, count a substring, check a
 * text is one JSON object. cmocka assertions: a failure fails the test. A
 * command names the build and source trees as "$ZCS_BUILD_DIR" and
 * "$ZCS_SOURCE_DIR", quoted, so the checkout may live under any path.
 */
#ifndef ZCS_TESTS_SHELL_UTIL_H
#define ZCS_TESTS_SHELL_UTIL_H

#include "json_check.h"

#include <stddef.h>

/* Run a shell command (printf format); its stdout into out, its exit status returned. */
int shell_run(char *out, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* How often what occurs in s (not overlapping). */
unsigned int str_count(const char *s, const char *what);

#endif /* ZCS_TESTS_SHELL_UTIL_H */
