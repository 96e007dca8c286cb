/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Strict number parsing for every command-line option, config value and
 * telemetry parameter: the whole text must be the number. strtoul() alone
 * accepts " 7", "+7", "-1" (as ULONG_MAX), "7x" and "0x7"; an operator's typo
 * must be refused, not read as something else.
 */
#ifndef ZCS_COMMON_NUM_H
#define ZCS_COMMON_NUM_H

#include <stddef.h>
#include <stdint.h>

/*
 * Decimal digits only (no sign, space, base prefix or trailing text), at most
 * max. Leading zeros are accepted ("007" is 7); callers that must refuse them
 * (the engine config: 010 is not ten to someone who meant octal) check s[0].
 * Returns 0 with *out set, -EINVAL (not a decimal number; also NULL or "") or
 * -ERANGE (above max); *out is untouched on error.
 */
int zcs_parse_u64(const char *s, uint64_t max, uint64_t *out);

/* The same over the first n bytes of s (which need not be NUL-terminated there). */
int zcs_parse_u64_n(const char *s, size_t n, uint64_t max, uint64_t *out);

/*
 * A finite decimal floating-point number ("0.5", "2", "1e-3"; no hex, inf or
 * nan, no surrounding space) in [min, max]. Returns 0, -EINVAL or -ERANGE.
 */
/*
 * "I/N": a shard id and count, I < N <= ZCS_MAX_SHARDS (zcsign/shard.h).
 * 0, or -1 (nothing written).
 */
int zcs_parse_shard(const char *s, uint16_t *id, uint16_t *count);

int zcs_parse_double(const char *s, double min, double max, double *out);

#endif /* ZCS_COMMON_NUM_H */
