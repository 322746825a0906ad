/* SPDX-License-Identifier: MIT */
/* zcopy: the command-line tool.  Dispatches to subcommands. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <zcopy/zcopy.h>

#include "cli.h"

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *help;
};

static const struct command commands[] = {
	{ "probe", zc_cmd_probe, "what zero-copy really does on this machine" },
	{ "bench", zc_cmd_bench, "compare transports on loopback or veth" },
	{ "send", zc_cmd_send, "send files and directories to zcopy recv" },
	{ "recv", zc_cmd_recv, "receive files from zcopy send, verified" },
	{ "relay", zc_cmd_relay, "TCP proxy without copies in user space" },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	fprintf(f, "Usage: zcopy [--help] [--version] <command> [<args>]\n\n"
		   "Commands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\n'zcopy <command> --help' describes a command.\n"
		   "Exit status: 0 ok, 1 runtime failure, 2 bad usage.\n");
}

static const struct command *find(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const struct command *cmd;
	int c;

	/* "+": stop at the command; its options are its own. */
	while ((c = getopt_long(argc, argv, "+hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout);
			return ZC_EXIT_OK;
		case 'V':
			printf("zcopy %d.%d.%d\n", ZC_VERSION_MAJOR,
			       ZC_VERSION_MINOR, ZC_VERSION_PATCH);
			return ZC_EXIT_OK;
		default:
			fprintf(stderr, "Try 'zcopy --help'.\n");
			return ZC_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return ZC_EXIT_USAGE;
	}
	cmd = find(argv[optind]);
	if (!cmd) {
		fprintf(stderr,
			"zcopy: unknown command '%s'; try 'zcopy --help'.\n",
			argv[optind]);
		return ZC_EXIT_USAGE;
	}
	return cmd->run(argc - optind, argv + optind);
}
