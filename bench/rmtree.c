/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zcs_bench_rmtree() (see rmtree.h): a depth-first walk, so a directory is
 * empty by the time it is removed.
 */
#define _GNU_SOURCE
#include <ftw.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rmtree.h"

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	if (flag == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

void
zcs_bench_rmtree(const char *path)
{
	nftw(path, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}
