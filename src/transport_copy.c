/* SPDX-License-Identifier: MIT */
/*
 * Transport "copy": plain sendmsg()/recv().  The baseline every other
 * transport is measured against and the fallback they all drop to.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "region.h"
#include "sock.h"

#define ZC_RX_BUF_SIZE 65536
#define ZC_RX_BUF_COUNT 64

int zc_copy_push(struct zc_sock *sock, struct zc_req *req, int flags)
{
	struct iovec iov[ZC_SEND_MAX_IOV];
	struct msghdr msg;

	flags |= MSG_NOSIGNAL;
	if (sock->nonblock)
		flags |= MSG_DONTWAIT;
	while (zc_req_left(req)) {
		ssize_t n;

		zc_req_msghdr(req, &msg, iov);
		n = sendmsg(sock->fd, &msg, flags);
		if (n > 0) {
			req->sent += (size_t)n;
			continue;
		}
		if (n == 0 || errno == EAGAIN)
			return -EAGAIN;
		if (errno != EINTR)
			return -errno;
	}
	return 0;
}

int zc_req_fall_back(struct zc_sock *sock, struct zc_req *req)
{
	req->why = ZC_WHY_NOBUFS;
	req->tx = &zc_tx_copy;
	sock->stats.fallbacks++;
	zc_policy_note(&sock->policy, ZC_POL_NOBUFS);
	return zc_copy_push(sock, req, 0);
}

static int copy_push(struct zc_sock *sock, struct zc_req *req)
{
	return zc_copy_push(sock, req, 0);
}

static int copy_init(struct zc_sock *sock)
{
	(void)sock;
	return 0;
}

const struct zc_tx_ops zc_tx_copy = {
	.name = "copy",
	.mode = ZC_TX_COPY,
	.init = copy_init,
	.push = copy_push,
};

/* ---- receive: recv() into buffers of a pool --------------------------- */

struct rx_copy {
	struct zc_region *region;
	struct zc_pool *pool;
};

static void rx_copy_free(struct rx_copy *rx)
{
	if (rx->pool)
		zc_pool_destroy(rx->pool);
	if (rx->region)
		zc_region_destroy(rx->region);
	free(rx);
}

static int rx_copy_init(struct zc_sock *sock)
{
	size_t size = sock->opts.rx_buf_size ? sock->opts.rx_buf_size
					     : ZC_RX_BUF_SIZE;
	unsigned count = sock->opts.rx_buf_count ? sock->opts.rx_buf_count
						 : ZC_RX_BUF_COUNT;
	struct rx_copy *rx;
	int ret;

	if (size > SIZE_MAX / count)
		return -EOVERFLOW;
	rx = calloc(1, sizeof(*rx));
	if (!rx)
		return -ENOMEM;
	/* Copied data needs no pinning: stay clear of RLIMIT_MEMLOCK. */
	ret = zc_region_create(size * count, ZC_REGION_NOLOCK, &rx->region);
	if (!ret)
		ret = zc_pool_create(rx->region, size, sock->opts.rx_done,
				     sock->opts.rx_done_arg, &rx->pool);
	if (ret) {
		rx_copy_free(rx);
		return ret;
	}
	sock->rx_priv = rx;
	return 0;
}

static ssize_t rx_copy_recv(struct zc_sock *sock, struct zc_buf **out)
{
	struct rx_copy *rx = sock->rx_priv;
	struct zc_buf *buf;
	ssize_t n;
	int ret;

	ret = zc_pool_get(rx->pool, &buf);
	if (ret)
		return ret;
	do {
		n = recv(sock->fd, buf->segs[0].base, buf->segs[0].len,
			 sock->nonblock ? MSG_DONTWAIT : 0);
	} while (n < 0 && errno == EINTR);
	if (n <= 0) {
		ret = n < 0 ? -errno : 0;
		/* Never handed out: back to the pool without running the
		 * application's completion. */
		buf->ubuf = NULL;
		zc_buf_release(buf);
		return ret;
	}
	zc_buf_trim(buf, (size_t)n);
	sock->stats.rx_bytes += (uint64_t)n;
	sock->stats.rx_bytes_copied += (uint64_t)n;
	*out = buf;
	return n;
}

static bool rx_copy_busy(struct zc_sock *sock)
{
	struct rx_copy *rx = sock->rx_priv;

	return zc_pool_avail(rx->pool) != zc_pool_count(rx->pool);
}

static bool rx_copy_owns(struct zc_sock *sock, const struct zc_buf *buf)
{
	struct rx_copy *rx = sock->rx_priv;

	return buf->owner == rx->pool;
}

static void rx_copy_fini(struct zc_sock *sock)
{
	rx_copy_free(sock->rx_priv);
	sock->rx_priv = NULL;
}

const struct zc_rx_ops zc_rx_copy = {
	.name = "copy",
	.mode = ZC_RX_COPY,
	.init = rx_copy_init,
	.recv = rx_copy_recv,
	.busy = rx_copy_busy,
	.owns = rx_copy_owns,
	.fini = rx_copy_fini,
};
