/* SPDX-License-Identifier: MIT */
/* zcopy subcommands: each gets argv from its own name on and returns the
 * exit status (0 success, 1 failure, 2 bad usage). */
#ifndef ZC_TOOLS_CLI_H
#define ZC_TOOLS_CLI_H

int zc_cmd_probe(int argc, char **argv);
int zc_cmd_bench(int argc, char **argv);

#endif
