/* SPDX-License-Identifier: MIT */
/*
 * User-space instructions of one send and its completion: N sends of SIZE
 * bytes on loopback TCP, each followed by zc_ctx_process() until its
 * callback ran and a plain recv() of the bytes.  Run it under callgrind
 * with two values of N, counting only the library's entry points; the
 * difference over the difference of N is the figure:
 *
 *   valgrind --tool=callgrind --toggle-collect=zc_send \
 *            --toggle-collect=zc_ctx_process send_ops N [SIZE] [MODE]
 *
 * MODE is a zc_tx_mode number (1: ZC_TX_COPY, the default).  Public API
 * only, so the same file builds against an older libzcopy for an A/B.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <zcopy/zcopy.h>

static void done_cb(struct zc_sock *sock, const struct zc_completion *c,
		    void *arg)
{
	(void)sock;
	(void)c;
	(*(unsigned *)arg)++;
}

/* A connected loopback pair: *tx and *rx, or -1. */
static int tcp_pair(int *tx, int *rx)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM, 0);

	*tx = socket(AF_INET, SOCK_STREAM, 0);
	if (l < 0 || *tx < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) ||
	    listen(l, 1) || getsockname(l, (struct sockaddr *)&a, &len) ||
	    connect(*tx, (struct sockaddr *)&a, sizeof(a)))
		return -1;
	*rx = accept(l, NULL, NULL);
	return *rx < 0 ? -1 : 0;
}

/* Read len bytes from fd into sink (size max). */
static int drain(int fd, char *sink, size_t max, size_t len)
{
	while (len) {
		ssize_t n = recv(fd, sink, len < max ? len : max, 0);

		if (n <= 0)
			return -1;
		len -= (size_t)n;
	}
	return 0;
}

int main(int argc, char **argv)
{
	unsigned n = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 1000;
	size_t len = argc > 2 ? strtoul(argv[2], NULL, 0) : 4096;
	struct zc_sock_opts o = { .tx = argc > 3
						? (enum zc_tx_mode)atoi(argv[3])
						: ZC_TX_COPY };
	char *buf = calloc(1, len), *sink = malloc(1 << 20);
	unsigned done = 0;
	struct zc_sock *sock;
	struct zc_ctx *ctx;
	int tx, rx, ret;

	if (!n || !len || !buf || !sink || tcp_pair(&tx, &rx)) {
		fprintf(stderr, "usage: send_ops [N [SIZE [MODE]]]\n");
		return 2;
	}
	ret = zc_ctx_create(NULL, &ctx);
	if (!ret)
		ret = zc_sock_attach(ctx, tx, &o, &sock);
	for (unsigned i = 0; !ret && i < n; i++) {
		struct iovec v = { buf, len };

		ret = zc_send(sock, &v, 1, done_cb, &done);
		while (!ret && done <= i)
			ret = zc_ctx_process(ctx, 1000) < 0;
		if (!ret && drain(rx, sink, 1 << 20, len))
			ret = -1;
	}
	if (ret) {
		fprintf(stderr, "send_ops: %s\n", zc_strerror(ret));
		return 1;
	}
	zc_ctx_destroy(ctx);
	printf("%u sends of %zu bytes\n", n, len);
	return 0;
}
