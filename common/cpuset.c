/* SPDX-License-Identifier: BSD-3-Clause */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpuset.h"

void
zcs_cpuset_zero(struct zcs_cpuset *s)
{
	memset(s, 0, sizeof(*s));
}

void
zcs_cpuset_set(struct zcs_cpuset *s, unsigned int cpu)
{
	if (cpu < ZCS_CPUSET_MAX)
		s->w[cpu / 64] |= UINT64_C(1) << (cpu % 64);
}

bool
zcs_cpuset_isset(const struct zcs_cpuset *s, unsigned int cpu)
{
	return cpu < ZCS_CPUSET_MAX && (s->w[cpu / 64] >> (cpu % 64)) & 1;
}

unsigned int
zcs_cpuset_count(const struct zcs_cpuset *s)
{
	unsigned int n = 0;

	for (size_t i = 0; i < ZCS_CPUSET_MAX / 64; i++)
		n += (unsigned int)__builtin_popcountll(s->w[i]);
	return n;
}

bool
zcs_cpuset_subset(const struct zcs_cpuset *a, const struct zcs_cpuset *b)
{
	for (size_t i = 0; i < ZCS_CPUSET_MAX / 64; i++)
		if (a->w[i] & ~b->w[i])
			return false;
	return true;
}

bool
zcs_cpuset_intersects(const struct zcs_cpuset *a, const struct zcs_cpuset *b)
{
	for (size_t i = 0; i < ZCS_CPUSET_MAX / 64; i++)
		if (a->w[i] & b->w[i])
			return true;
	return false;
}

void
zcs_cpuset_andnot(struct zcs_cpuset *dst, const struct zcs_cpuset *a, const struct zcs_cpuset *b)
{
	for (size_t i = 0; i < ZCS_CPUSET_MAX / 64; i++)
		dst->w[i] = a->w[i] & ~b->w[i];
}

static int
parse_cpu(const char **p, unsigned int *cpu)
{
	char *end;
	unsigned long v;

	if (!isdigit((unsigned char)**p))
		return -EINVAL;
	errno = 0;
	v = strtoul(*p, &end, 10);
	if (errno != 0 || v >= ZCS_CPUSET_MAX)
		return -EINVAL;
	*cpu = (unsigned int)v;
	*p = end;
	return 0;
}

int
zcs_cpuset_parse(struct zcs_cpuset *s, const char *list)
{
	const char *p = list;

	zcs_cpuset_zero(s);
	while (isspace((unsigned char)*p))
		p++;
	while (*p != '\0' && !isspace((unsigned char)*p)) {
		unsigned int lo, hi;

		if (parse_cpu(&p, &lo) < 0)
			return -EINVAL;
		hi = lo;
		if (*p == '-') {
			p++;
			if (parse_cpu(&p, &hi) < 0 || hi < lo)
				return -EINVAL;
		}
		for (unsigned int c = lo; c <= hi; c++)
			zcs_cpuset_set(s, c);
		if (*p == ',')
			p++;
		else if (*p != '\0' && !isspace((unsigned char)*p))
			return -EINVAL;
	}
	return 0;
}

int
zcs_cpuset_parse_mask(struct zcs_cpuset *s, const char *hex)
{
	size_t n = strlen(hex);
	unsigned int bit = 0;

	zcs_cpuset_zero(s);
	while (n > 0 && isspace((unsigned char)hex[n - 1]))
		n--;
	if (n == 0)
		return -EINVAL;
	/* rightmost digit holds CPUs 0-3 */
	for (size_t i = n; i-- > 0;) {
		char c = hex[i];
		unsigned int d;

		if (c == ',')
			continue;
		if (!isxdigit((unsigned char)c))
			return -EINVAL;
		d = isdigit((unsigned char)c)
			? (unsigned int)(c - '0')
			: (unsigned int)(tolower((unsigned char)c) - 'a' + 10);
		for (unsigned int k = 0; k < 4; k++, bit++)
			if ((d >> k) & 1) {
				if (bit >= ZCS_CPUSET_MAX)
					return -EINVAL;
				zcs_cpuset_set(s, bit);
			}
	}
	return 0;
}

int
zcs_cpuset_format(char *out, size_t len, const struct zcs_cpuset *s)
{
	size_t off = 0;

	if (len == 0)
		return -1;
	out[0] = '\0';
	for (unsigned int c = 0; c < ZCS_CPUSET_MAX; c++) {
		unsigned int hi = c;
		int n;

		if (!zcs_cpuset_isset(s, c))
			continue;
		while (hi + 1 < ZCS_CPUSET_MAX && zcs_cpuset_isset(s, hi + 1))
			hi++;
		if (hi == c)
			n = snprintf(out + off, len - off, "%s%u", off ? "," : "", c);
		else
			n = snprintf(out + off, len - off, "%s%u-%u", off ? "," : "", c, hi);
		if (n < 0 || (size_t)n >= len - off)
			return -1; /* truncated, still NUL-terminated */
		off += (size_t)n;
		c = hi;
	}
	if (off == 0) {
		int n = snprintf(out, len, "none");

		return n < 0 || (size_t)n >= len ? -1 : n;
	}
	return (int)off;
}

int
zcs_cpuset_read(struct zcs_cpuset *s, const char *path)
{
	char buf[4096];
	size_t n;
	FILE *f;
	int rc;

	zcs_cpuset_zero(s);
	f = fopen(path, "re");
	if (f == NULL)
		return -errno;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	rc = ferror(f) ? -EIO : 0;
	fclose(f);
	if (rc != 0)
		return rc;
	buf[n] = '\0';
	rc = zcs_cpuset_parse(s, buf);
	if (rc != 0)
		zcs_cpuset_zero(s);
	return rc;
}

int
zcs_cpuset_affinity(struct zcs_cpuset *s)
{
	cpu_set_t set;

	zcs_cpuset_zero(s);
	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		return -errno;
	for (unsigned int c = 0; c < ZCS_CPUSET_MAX && c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &set))
			zcs_cpuset_set(s, c);
	return 0;
}
