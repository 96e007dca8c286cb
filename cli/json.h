/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A strict, bounded JSON reader for replies another process sends (zcsignd's
 * telemetry socket): the whole text must be one JSON value, nothing is
 * allocated, and a malformed text is refused with the byte where reading
 * stopped, never a crash or a value read as something else. Lookups take a
 * node index and return -1 for "absent or of another type", so a chain of
 * them needs one check at its end.
 *
 * Not for: text with keys that need unescaping (keys are compared as sent),
 * or strings outside ASCII (json_str() turns \u escapes above it into '?').
 */
#ifndef ZCS_CLI_JSON_H
#define ZCS_CLI_JSON_H

#include <stddef.h>
#include <stdint.h>

/*
 * Enough for any reply DPDK can send (16 KiB): a value takes at least one
 * byte and its separator two, so 16 Ki nodes cover a 32 KiB text.
 */
#define JSON_MAX_NODES 16384
/* DPDK nests one level inside a reply's own dict: 3 levels; 8 refuses deep junk early. */
#define JSON_MAX_DEPTH 8

enum json_type {
	JSON_NULL,
	JSON_BOOL,
	JSON_NUM,
	JSON_STR,
	JSON_ARR,
	JSON_OBJ,
};

/*
 * One value, in document order: a container's first child follows it, and
 * next is the index after its whole subtree (its next sibling). An object's
 * children alternate key (a string) and value. Strings span their bytes
 * between the quotes, still escaped.
 */
struct json_node {
	enum json_type type;
	uint32_t start;
	uint32_t len;
	uint32_t next;
	uint32_t kids; /* array: elements; object: members */
};

/* A parsed text: node 0 is its root. About 320 KiB: keep it off the stack. */
struct json_doc {
	const char *text;
	size_t len;
	size_t pos;
	uint32_t n;
	char err[96];
	struct json_node node[JSON_MAX_NODES];
};

/*
 * Parse one whole JSON text of len bytes (text need not be NUL-terminated;
 * a NUL inside it is refused like any other stray character). The doc points
 * into text until the next parse. Returns 0, or -1 with d->err saying what
 * and at which byte.
 */
int json_parse(struct json_doc *d, const char *text, size_t len);

/* The value of member key of object obj, or -1 (no such member, or obj not an object). */
int json_find(const struct json_doc *d, int obj, const char *key);

/* Element idx of array arr, or -1. */
int json_at(const struct json_doc *d, int arr, uint32_t idx);

/* Node i as a non-negative integer without fraction or exponent that fits a uint64_t: 0 or -1. */
int json_u64(const struct json_doc *d, int i, uint64_t *out);

/*
 * String node i into buf, unescaped and NUL-terminated. Returns 0, or -1
 * (not a string, or longer than len - 1).
 */
int json_str(const struct json_doc *d, int i, char *buf, size_t len);

#endif /* ZCS_CLI_JSON_H */
