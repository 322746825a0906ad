/* SPDX-License-Identifier: MIT */
/* Receive buffers for the copying receive paths: recv() into a pool. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "pool.h"
#include "rxpool.h"

#define ZC_RX_BUF_SIZE 65536
#define ZC_RX_BUF_COUNT 64

int zc_rx_pool_init(struct zc_tsock *sock, struct zc_rx_pool *rp)
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
	if (ret) {
		zc_rx_pool_fini(rp);
		return ret;
	}
	/* A stream receive that fills its buffer cannot tell, by its length,
	 * whether more is queued: TCP_INQ says, saving the recv() that would
	 * only say -EAGAIN.  Without it (Linux < 4.18) that recv() is made. */
	if (sock->type == SOCK_STREAM)
		rp->inq = !setsockopt(sock->fd, IPPROTO_TCP, TCP_INQ,
				      &(int){ 1 }, sizeof(int));
	return 0;
}

void zc_rx_pool_fini(struct zc_rx_pool *rp)
{
	if (rp->pool)
		zc_pool_orphan(rp->pool, rp->region);
	else if (rp->region)
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

void zc_rx_pool_unused(struct zc_buf *buf)
{
	buf->ubuf = NULL;
	zc_buf_release(buf);
}

ssize_t zc_rx_recv_into(struct zc_tsock *sock, void *dst, size_t len, int flags)
{
	ssize_t n;

	if (sock->nonblock)
		flags |= MSG_DONTWAIT;
	do {
		n = recv(sock->fd, dst, len, flags);
	} while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

/* recv() with TCP_INQ on: *left is what it left queued (not 0 at the end
 * of the stream: the kernel says 1 then, so the end is still read). */
static ssize_t recv_inq(int fd, void *dst, size_t len, int flags, int *left)
{
	char ctrl[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { dst, len };
	struct msghdr msg = { .msg_iov = &iov,
			      .msg_iovlen = 1,
			      .msg_control = ctrl,
			      .msg_controllen = sizeof(ctrl) };
	struct cmsghdr *cm;
	ssize_t n = recvmsg(fd, &msg, flags);

	cm = n > 0 ? CMSG_FIRSTHDR(&msg) : NULL;
	if (cm && cm->cmsg_level == IPPROTO_TCP && cm->cmsg_type == TCP_CM_INQ)
		memcpy(left, CMSG_DATA(cm), sizeof(*left));
	return n;
}

/* One recvfrom() into a pool buffer; from may be NULL. */
static ssize_t pool_recv(struct zc_tsock *sock, struct zc_rx_pool *rp,
			 size_t max, unsigned rx_flags, struct zc_buf **out,
			 struct zc_rx_from *from)
{
	int flags = rx_flags & ZC_RXF_NOWAIT ? MSG_DONTWAIT : 0;
	struct sockaddr *sa = from ? (struct sockaddr *)&from->addr : NULL;
	struct zc_buf *buf;
	int left = 1; /* bytes still queued, as far as we know */
	ssize_t n;
	int ret;

	ret = zc_pool_get(rp->pool, &buf);
	if (ret)
		return ret;
	if (!max || max > buf->segs[0].len)
		max = buf->segs[0].len;
	if (sock->nonblock)
		flags |= MSG_DONTWAIT;
	if (from)
		from->len = sizeof(from->addr);
	do {
		if (rp->inq && !from)
			n = recv_inq(sock->fd, buf->segs[0].base, max, flags,
				     &left);
		else
			n = recvfrom(sock->fd, buf->segs[0].base, max, flags,
				     sa, from ? &from->len : NULL);
	} while (n < 0 && errno == EINTR);
	if (n <= 0) {
		ret = n < 0 ? -errno : 0;
		zc_rx_pool_unused(buf);
		return ret;
	}
	zc_buf_trim(buf, (size_t)n);
	zc_tsock_count_copied(sock, (size_t)n);
	/* A stream gives all it has, up to the size asked: less means the
	 * queue is empty now (new data raises a new edge). */
	if (sock->type == SOCK_STREAM && ((size_t)n < max || !left))
		sock->rx_drained = true;
	*out = buf;
	return n;
}

ssize_t zc_rx_pool_recv(struct zc_tsock *sock, struct zc_rx_pool *rp,
			size_t max, unsigned rx_flags, struct zc_buf **out)
{
	return pool_recv(sock, rp, max, rx_flags, out, NULL);
}

ssize_t zc_rx_pool_recvfrom(struct zc_tsock *sock, struct zc_rx_pool *rp,
			    unsigned rx_flags, struct zc_buf **out,
			    struct zc_rx_from *from)
{
	return pool_recv(sock, rp, 0, rx_flags, out, from);
}
