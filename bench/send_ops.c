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
#include <errno.h>
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

/* n sends of len bytes from buf, each completed and read before the next:
 * 0 or a negative errno. */
static int run(struct zc_ctx *ctx, struct zc_sock *sock, int rx, void *buf,
	       size_t len, unsigned n)
{
	static char sink[1 << 20];
	unsigned done = 0;

	for (unsigned i = 0; i < n; i++) {
		struct iovec v = { buf, len };
		int ret = zc_send(sock, &v, 1, done_cb, &done);

		while (!ret && done <= i)
			ret = zc_ctx_process(ctx, 1000) < 0 ? -EIO : 0;
		if (!ret && drain(rx, sink, sizeof(sink), len))
			ret = -EPIPE;
		if (ret)
			return ret;
	}
	return 0;
}

int main(int argc, char **argv)
{
	unsigned n = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 1000;
	size_t len = argc > 2 ? strtoul(argv[2], NULL, 0) : 4096;
	struct zc_sock_opts o = { .tx = ZC_TX_COPY };
	struct zc_sock *sock;
	struct zc_ctx *ctx;
	int tx, rx, ret;
	char *buf;

	if (argc > 3)
		o.tx = (enum zc_tx_mode)strtol(argv[3], NULL, 10);
	if (!n || !len || len > (1u << 30) || tcp_pair(&tx, &rx)) {
		fprintf(stderr, "usage: send_ops [N [SIZE [MODE]]]\n");
		return 2;
	}
	buf = calloc(1, len);
	if (!buf)
		return 1;
	ret = zc_ctx_create(NULL, &ctx);
	if (!ret)
		ret = zc_sock_attach(ctx, tx, &o, &sock);
	if (!ret)
		ret = run(ctx, sock, rx, buf, len, n);
	free(buf);
	if (ret) {
		fprintf(stderr, "send_ops: %s\n", zc_strerror(ret));
		return 1;
	}
	zc_ctx_destroy(ctx);
	printf("%u sends of %zu bytes\n", n, len);
	return 0;
}
