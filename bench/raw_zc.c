/* SPDX-License-Identifier: MIT */
/* raw_send -z: the plain pair's loops, through libzcopy (raw_zc.h). */
#include <errno.h>
#include <zcopy/zcopy.h>

#include "raw_zc.h"

/* As many receive buffers as zcopy bench's receiver has. */
#define RZ_BUFS 16
#define RZ_WAIT_MS 100

static int rz_attach(int fd, const struct zc_sock_opts *so, struct zc_ctx **ctx,
		     struct zc_sock **sock)
{
	int ret = zc_ctx_create(NULL, ctx);

	if (!ret)
		ret = zc_sock_attach(*ctx, fd, so, sock);
	return ret;
}

int rz_recv(int fd, size_t buf_len, struct bc_count *c)
{
	struct zc_sock_opts so = { .tx = ZC_TX_COPY,
				   .rx = ZC_RX_COPY,
				   .flags = ZC_SOCK_KEEP_FD,
				   .rx_buf_size = buf_len,
				   .rx_buf_count = RZ_BUFS };
	struct zc_ctx *ctx = NULL;
	struct zc_sock *sock = NULL;
	ssize_t n;
	int ret;

	ret = rz_attach(fd, &so, &ctx, &sock);
	while (!ret) {
		struct zc_buf *buf;

		n = zc_recv(sock, &buf);
		if (n <= 0) {
			/* Shut down under the receiver, or reset: the end. */
			ret = n == -ECONNRESET || n == -ENOTCONN ? 0 : (int)n;
			break;
		}
		bc_count_add(c, (size_t)n);
		zc_buf_release(buf);
	}
	zc_ctx_destroy(ctx);
	return ret;
}

static void rz_sent(struct zc_sock *sock, const struct zc_completion *comp,
		    void *arg)
{
	int *error = arg;

	(void)sock;
	if (comp->result == ZC_RESULT_ERROR && !*error)
		*error = comp->error;
}

int rz_send(int fd, const void *buf, size_t len, int64_t deadline_us,
	    struct bc_count *c)
{
	struct zc_sock_opts so = { .tx = ZC_TX_COPY, .flags = ZC_SOCK_KEEP_FD };
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct zc_ctx *ctx = NULL;
	struct zc_sock *sock = NULL;
	int ret, error = 0;

	ret = rz_attach(fd, &so, &ctx, &sock);
	while (!ret && !error && bc_now_us() < deadline_us) {
		ret = zc_send(sock, &iov, 1, rz_sent, &error);
		if (ret == -EAGAIN) {
			/* Too much in flight: completions make room. */
			ret = zc_ctx_process(ctx, RZ_WAIT_MS);
			ret = ret < 0 ? ret : 0;
			continue;
		}
		if (!ret)
			bc_count_add(c, len);
	}
	if (sock) {
		int cret = zc_sock_close(sock);

		ret = ret ? ret : cret;
	}
	zc_ctx_destroy(ctx);
	return ret ? ret : error;
}
