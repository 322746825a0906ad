/* SPDX-License-Identifier: MIT */
/*
 * Runs the README's shared-region example (extracted from README.md into
 * readme_shm.c at build time) as two applications would: linked against
 * the shared library, in two processes joined by an AF_UNIX socket pair.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <zcopy/zcopy.h>

int shm_send(struct zc_ctx *ctx, int fd, const char *msg);
int shm_receive(struct zc_ctx *ctx, int fd, char *out, size_t len);

#define MSG "hello from the shared region"

int main(void)
{
	struct zc_ctx *ctx;
	char got[64];
	int sv[2], st, ret;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return 1;
	pid = fork();
	if (pid < 0)
		return 1;
	if (!pid) {
		alarm(30);
		close(sv[0]);
		if (zc_ctx_create(NULL, &ctx))
			_exit(1);
		ret = shm_send(ctx, sv[1], MSG);
		zc_ctx_destroy(ctx);
		_exit(ret ? 1 : 0);
	}
	close(sv[1]);
	alarm(30);
	if (zc_ctx_create(NULL, &ctx))
		return 1;
	ret = shm_receive(ctx, sv[0], got, sizeof(got));
	zc_ctx_destroy(ctx);
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st)) {
		fprintf(stderr, "sender failed\n");
		return 1;
	}
	if (ret || strcmp(got, MSG) != 0) {
		fprintf(stderr, "receiver: %s, got '%s'\n", zc_strerror(ret),
			got);
		return 1;
	}
	return 0;
}
