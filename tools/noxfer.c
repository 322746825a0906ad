/* SPDX-License-Identifier: MIT */
/* zcopy send/recv in a build without libxxhash: they verify every file
 * with XXH3, so without it they are not built. */
#include <stdio.h>

#include "cli.h"

static int no_xxhash(const char *cmd)
{
	fprintf(stderr,
		"zcopy %s: this zcopy was built without libxxhash-dev (XXH3), "
		"which send and recv need to verify files\n",
		cmd);
	return ZC_EXIT_FAIL;
}

int zc_cmd_send(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return no_xxhash("send");
}

int zc_cmd_recv(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return no_xxhash("recv");
}
