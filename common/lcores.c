/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdio.h>

#include "cpuset.h"
#include "lcores.h"

int
zcs_lcores_map(char *out, size_t len, unsigned int first, unsigned int last)
{
	struct zcs_cpuset set;
	size_t off;
	int n;

	if (first > last || zcs_cpuset_affinity(&set) != 0 || zcs_cpuset_count(&set) == 0)
		return -1;
	n = first == last ? snprintf(out, len, "%u@(", first)
			  : snprintf(out, len, "(%u-%u)@(", first, last);
	if (n < 0 || (size_t)n >= len)
		return -1;
	off = (size_t)n;
	n = zcs_cpuset_format(out + off, len - off, &set);
	if (n < 0 || (size_t)n + 1 >= len - off)
		return -1;
	out[off + (size_t)n] = ')';
	out[off + (size_t)n + 1] = '\0';
	return 0;
}
