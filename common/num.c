/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <zcsign/shard.h>

#include "num.h"

int
zcs_parse_u64_n(const char *s, size_t n, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;
	int over = 0;

	if (s == NULL || n == 0)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		unsigned int d = (unsigned char)s[i] - '0';

		if (d > 9)
			return -EINVAL;
		if (v > (UINT64_MAX - d) / 10)
			over = 1; /* keep scanning: "99999999999999999999x" is not a number */
		else
			v = v * 10 + d;
	}
	if (over || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int
zcs_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	return zcs_parse_u64_n(s, s != NULL ? strlen(s) : 0, max, out);
}

int
zcs_parse_double(const char *s, double min, double max, double *out)
{
	char *end;
	double v;
	size_t i;

	if (s == NULL || s[0] == '\0')
		return -EINVAL;
	/* Plain decimal only: strtod() would also take " 1", "0x1p3", "inf", "nan". */
	for (i = 0; s[i] != '\0'; i++)
		if (strchr("0123456789.eE+-", s[i]) == NULL)
			return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end != '\0')
		return -EINVAL;
	if (errno == ERANGE || !isfinite(v) || v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int
zcs_parse_shard(const char *s, uint16_t *id, uint16_t *count)
{
	const char *slash = strchr(s, '/');
	uint64_t i, n;

	if (slash == NULL || zcs_parse_u64_n(s, (size_t)(slash - s), ZCS_MAX_SHARDS - 1, &i) != 0 ||
		zcs_parse_u64(slash + 1, ZCS_MAX_SHARDS, &n) != 0 || n == 0 || i >= n)
		return -1;
	*id = (uint16_t)i;
	*count = (uint16_t)n;
	return 0;
}
