/* SPDX-License-Identifier: BSD-3-Clause */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>

#include "lcores.h"

int
zcs_lcores_map(char *out, size_t len, unsigned int first, unsigned int last)
{
	cpu_set_t set;
	size_t off;
	int c, end, n;

	if (first > last || sched_getaffinity(0, sizeof(set), &set) != 0)
		return -1;
	n = first == last ? snprintf(out, len, "%u@(", first)
			  : snprintf(out, len, "(%u-%u)@(", first, last);
	if (n < 0 || (size_t)n >= len)
		return -1;
	off = (size_t)n;
	for (c = 0; c < CPU_SETSIZE; c = end + 1) {
		end = c;
		if (!CPU_ISSET(c, &set))
			continue;
		while (end + 1 < CPU_SETSIZE && CPU_ISSET(end + 1, &set))
			end++;
		n = end > c ? snprintf(out + off, len - off, "%d-%d,", c, end)
			    : snprintf(out + off, len - off, "%d,", c);
		if (n < 0 || (size_t)n >= len - off)
			return -1;
		off += (size_t)n;
	}
	if (out[off - 1] != ',')
		return -1; /* no CPU at all */
	out[off - 1] = ')'; /* over the last ',' */
	return 0;
}
