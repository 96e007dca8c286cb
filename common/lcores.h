/* SPDX-License-Identifier: BSD-3-Clause */
/* EAL --lcores maps over the CPUs this process may run on (CLI and tests). */
#ifndef ZCS_LCORES_H
#define ZCS_LCORES_H

#include <stddef.h>

/*
 * Write the EAL --lcores value that puts lcores first..last on every CPU in
 * this process's affinity mask, as ranges: "0@(0-3,6)" for one lcore,
 * "(0-2)@(0-1)" for several. Floating over the allowed CPUs (rather than
 * pinning, -l) leaves placement to the scheduler, and to whatever the caller
 * was started with (taskset, cgroups); a secondary pinned by -l would also pin
 * every process it spawns. Returns 0, or -1 when the mask cannot be read or
 * out (len bytes) is too small.
 */
int zcs_lcores_map(char *out, size_t len, unsigned int first, unsigned int last);

#endif /* ZCS_LCORES_H */
