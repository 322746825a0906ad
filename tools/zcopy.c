/* SPDX-License-Identifier: MIT */
/* zcopy: the command-line tool.  Dispatches to subcommands. */
#include <stdio.h>
#include <string.h>

#include <zcopy/zcopy.h>

#include "cli.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: zcopy [--help] [--version] COMMAND [ARGS]\n\n"
		   "commands:\n"
		   "  bench    throughput of every zcopy transport "
		   "(zcopy bench --help)\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("zcopy %d.%d.%d\n", ZC_VERSION_MAJOR, ZC_VERSION_MINOR,
		       ZC_VERSION_PATCH);
		return 0;
	}
	if (!strcmp(argv[1], "bench"))
		return zc_cmd_bench(argc - 1, argv + 1);
	fprintf(stderr, "zcopy: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
