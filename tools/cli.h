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

/* --json needs jansson, which the build may lack (meson -Djson). */
#ifdef ZC_HAVE_JSON
#define ZC_CLI_HAVE_JSON 1
#else
#define ZC_CLI_HAVE_JSON 0
#endif
#define ZC_CLI_NO_JSON "this zcopy was built without JSON output (jansson)"

int zc_cmd_probe(int argc, char **argv);
int zc_cmd_bench(int argc, char **argv);
/* zcopy send / recv (without libxxhash: a message saying so). */
int zc_cmd_send(int argc, char **argv);
int zc_cmd_recv(int argc, char **argv);
int zc_cmd_relay(int argc, char **argv);

#endif
