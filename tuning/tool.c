/* SPDX-License-Identifier: BSD-3-Clause */
/* The tuning tools' command line (contract in tool.h). */
#include <getopt.h>
#include <stdio.h>

#include "tool.h"

int
zcs_tool_getopt(const struct zcs_tool *t, int argc, char **argv, int *status)
{
	int opt = getopt_long(argc, argv, "h", t->opts, NULL);

	if (opt == 'h') {
		t->usage(stdout);
		*status = 0;
		return -1;
	}
	if (opt == '?' || opt == ':') {
		t->usage(stderr);
		*status = 2;
		return -1;
	}
	if (opt != -1)
		return opt;
	if (optind != argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", t->name, argv[optind]);
		t->usage(stderr);
		*status = 2;
		return -1;
	}
	return 0;
}
