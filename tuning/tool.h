/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The command line of the tuning tools (zcsign-preflight, zcsign-jitter):
 * long options only, --help prints the usage to stdout and exits 0, an
 * unknown option or a stray operand prints it to stderr and exits 2. What
 * each option means stays in each tool's main.
 */
#ifndef ZCS_TUNING_TOOL_H
#define ZCS_TUNING_TOOL_H

#include <getopt.h>
#include <stdio.h>

struct zcs_tool {
	const char *name; /* prefix of every message, e.g. "zcsign-jitter" */
	void (*usage)(FILE *f);
	const struct option *opts; /* getopt_long()'s table; --help has val 'h' */
};

/*
 * The next option of argv (getopt_long() over t->opts, optarg set).
 * Returns its val (> 0) for the tool to handle; 0 when the options are over
 * and no operand follows; -1 when the tool must exit with *status (0 after
 * --help, 2 after an unknown option or an operand, each with the usage).
 */
int zcs_tool_getopt(const struct zcs_tool *t, int argc, char **argv, int *status);

#endif /* ZCS_TUNING_TOOL_H */
