/* SPDX-License-Identifier: MIT */
/* Subcommands of the zcopy tool.  Each parses its own options (argv[0] is
 * the subcommand name) and returns the process exit code. */
#ifndef ZC_TOOLS_CLI_H
#define ZC_TOOLS_CLI_H

/* Exit codes shared by every subcommand. */
enum {
	ZC_EXIT_OK = 0,
	ZC_EXIT_FAIL = 1,  /* runtime failure */
	ZC_EXIT_USAGE = 2, /* bad command line */
};

int zc_cmd_probe(int argc, char **argv);
int zc_cmd_bench(int argc, char **argv);

#endif
