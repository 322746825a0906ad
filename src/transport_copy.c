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
	flags |= MSG_NOSIGNAL;
	if (sock->nonblock)
		flags |= MSG_DONTWAIT;
	while (zc_req_left(req)) {
		ssize_t n;

		n = zc_req_sendmsg(sock, req, flags);
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

int zc_rx_pool_init(struct zc_sock *sock, struct zc_rx_pool *rp)
{
	size_t size = sock->opts.rx_buf_size ? sock->opts.rx_buf_size
					     : ZC_RX_BUF_SIZE;
	unsigned count = sock->opts.rx_buf_count ? sock->opts.rx_buf_count
						 : ZC_RX_BUF_COUNT;
	int ret;

	if (size > SIZE_MAX / count)
		return -EOVERFLOW;
	/* Copied data needs no pinning: stay clear of RLIMIT_MEMLOCK. */
	ret = zc_region_create(size * count, ZC_REGION_NOLOCK, &rp->region);
	if (!ret)
		ret = zc_pool_create(rp->region, size, sock->opts.rx_done,
				     sock->opts.rx_done_arg, &rp->pool);
	if (ret)
		zc_rx_pool_fini(rp);
	return ret;
}

void zc_rx_pool_fini(struct zc_rx_pool *rp)
{
	if (rp->pool)
		zc_pool_destroy(rp->pool);
	if (rp->region)
		zc_region_destroy(rp->region);
	rp->pool = NULL;
	rp->region = NULL;
}

bool zc_rx_pool_busy(const struct zc_rx_pool *rp)
{
	return zc_pool_avail(rp->pool) != zc_pool_count(rp->pool);
}

bool zc_rx_pool_owns(const struct zc_rx_pool *rp, const struct zc_buf *buf)
{
	return buf->owner == rp->pool;
}

ssize_t zc_rx_recv_into(struct zc_sock *sock, void *dst, size_t len, int flags)
{
	ssize_t n;

	if (sock->nonblock)
		flags |= MSG_DONTWAIT;
	do {
		n = recv(sock->fd, dst, len, flags);
	} while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

void zc_rx_count_copied(struct zc_sock *sock, size_t n)
{
	sock->stats.rx_bytes += n;
	sock->stats.rx_bytes_copied += n;
}

ssize_t zc_rx_pool_recv(struct zc_sock *sock, struct zc_rx_pool *rp, size_t max,
			struct zc_buf **out)
{
	struct zc_buf *buf;
	ssize_t n;
	int ret;

	ret = zc_pool_get(rp->pool, &buf);
	if (ret)
		return ret;
	if (!max || max > buf->segs[0].len)
		max = buf->segs[0].len;
	n = zc_rx_recv_into(sock, buf->segs[0].base, max, 0);
	if (n <= 0) {
		/* Never handed out: back to the pool without running the
		 * application's completion. */
		buf->ubuf = NULL;
		zc_buf_release(buf);
		return n;
	}
	zc_buf_trim(buf, (size_t)n);
	zc_rx_count_copied(sock, (size_t)n);
	*out = buf;
	return n;
}

static int rx_copy_init(struct zc_sock *sock)
{
	struct zc_rx_pool *rp = calloc(1, sizeof(*rp));
	int ret;

	if (!rp)
		return -ENOMEM;
	ret = zc_rx_pool_init(sock, rp);
	if (ret) {
		free(rp);
		return ret;
	}
	sock->rx_priv = rp;
	return 0;
}

static ssize_t rx_copy_recv(struct zc_sock *sock, struct zc_buf **out)
{
	return zc_rx_pool_recv(sock, sock->rx_priv, 0, out);
}

static bool rx_copy_busy(struct zc_sock *sock)
{
	return zc_rx_pool_busy(sock->rx_priv);
}

static bool rx_copy_owns(struct zc_sock *sock, const struct zc_buf *buf)
{
	return zc_rx_pool_owns(sock->rx_priv, buf);
}

static void rx_copy_fini(struct zc_sock *sock)
{
	zc_rx_pool_fini(sock->rx_priv);
	free(sock->rx_priv);
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
