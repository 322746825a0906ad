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

int zc_rx_region_create(size_t size, unsigned count, struct zc_region **out)
{
	if (size > (SIZE_MAX - ZC_RX_SKEW) / count)
		return -EOVERFLOW;
	/* Copied data needs no pinning: stay clear of RLIMIT_MEMLOCK. */
	return zc_region_create(ZC_RX_SKEW + size * count, ZC_REGION_NOLOCK,
				out);
}

int zc_rx_pool_init(struct zc_tsock *sock, struct zc_rx_pool *rp)
{
	size_t size = sock->opts.rx_buf_size ? sock->opts.rx_buf_size
					     : ZC_RX_BUF_SIZE;
	unsigned count = sock->opts.rx_buf_count ? sock->opts.rx_buf_count
						 : ZC_RX_BUF_COUNT;
	int ret;

	ret = zc_rx_region_create(size, count, &rp->region);
	if (!ret)
		ret = zc_pool_create_at(rp->region, ZC_RX_SKEW, size,
					sock->opts.rx_done,
					sock->opts.rx_done_arg, &rp->pool);
	if (ret) {
		zc_rx_pool_fini(rp);
		return ret;
	}
	return 0;
}

/* A stream receive that fills its buffers cannot tell, by its length,
 * whether more is queued: TCP_INQ says, saving the recv() that would only
 * say -EAGAIN.  Without it (Linux < 4.18) that recv() is made.  Only a
 * receive callback's reads ask, so only they switch it on: a program that
 * calls zc_recv() keeps the socket a plain recv() loop would have. */
static bool want_inq(struct zc_tsock *sock, struct zc_rx_pool *rp)
{
	if (!rp->inq_tried) {
		rp->inq_tried = true;
		rp->inq = !setsockopt(sock->fd, IPPROTO_TCP, TCP_INQ,
				      &(int){ 1 }, sizeof(int));
	}
	return rp->inq;
}

void zc_rx_pool_fini(struct zc_rx_pool *rp)
{
	/* Data read ahead goes with the socket. */
	while (rp->stash_len) {
		zc_rx_pool_unused(rp->stash[rp->stash_head++]);
		rp->stash_len--;
	}
	if (rp->pool)
		zc_pool_orphan(rp->pool, rp->region);
	else if (rp->region)
		zc_region_destroy(rp->region);
	rp->pool = NULL;
	rp->region = NULL;
}

bool zc_rx_pool_busy(const struct zc_rx_pool *rp)
{
	return zc_pool_avail(rp->pool) + rp->stash_len !=
	       zc_pool_count(rp->pool);
}

bool zc_rx_pool_stashed(const struct zc_rx_pool *rp)
{
	return rp->stash_len > 0;
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

/* recvmsg() into iov[0, n), retried on EINTR; with left, TCP_INQ's count
 * of what it left queued (not 0 at the end of the stream: the kernel says
 * 1 then, so the end is still read); with from, the sender's address.
 * Bytes, 0 or -errno. */
static ssize_t recv_iov(int fd, struct iovec *iov, unsigned n, int flags,
			int *left, struct zc_rx_from *from)
{
	char ctrl[CMSG_SPACE(sizeof(int))];
	struct msghdr msg = { .msg_iov = iov,
			      .msg_iovlen = n,
			      .msg_name = from ? &from->addr : NULL,
			      .msg_namelen = from ? sizeof(from->addr) : 0,
			      .msg_control = left ? ctrl : NULL,
			      .msg_controllen = left ? sizeof(ctrl) : 0 };
	struct cmsghdr *cm;
	ssize_t ret;

	do {
		ret = recvmsg(fd, &msg, flags);
	} while (ret < 0 && errno == EINTR);
	if (ret < 0)
		return -errno;
	if (from)
		from->len = msg.msg_namelen;
	cm = ret > 0 && left ? CMSG_FIRSTHDR(&msg) : NULL;
	if (cm && cm->cmsg_level == IPPROTO_TCP && cm->cmsg_type == TCP_CM_INQ)
		memcpy(left, CMSG_DATA(cm), sizeof(*left));
	return ret;
}

static int recv_flags(const struct zc_tsock *sock, unsigned rx_flags)
{
	return rx_flags & ZC_RXF_NOWAIT || sock->nonblock ? MSG_DONTWAIT : 0;
}

/* The next buffer a scattered read filled. */
static ssize_t stash_pop(struct zc_tsock *sock, struct zc_rx_pool *rp,
			 struct zc_buf **out)
{
	*out = rp->stash[rp->stash_head++];
	if (!--rp->stash_len) {
		rp->stash_head = 0;
		if (rp->stash_drained)
			sock->rx_drained = true;
	}
	sock->rx_moved = 0;
	return (ssize_t)zc_buf_len(*out);
}

/* The buffers a read of n bytes into iov[0, k) filled, taken from the
 * pool (zc_pool_peek's order): the first handed out, the others stashed. */
static struct zc_buf *take_filled(struct zc_rx_pool *rp,
				  const struct iovec *iov, unsigned k, size_t n)
{
	struct zc_buf *first = NULL;

	for (unsigned i = 0; i < k && n; i++) {
		size_t take = n < iov[i].iov_len ? n : iov[i].iov_len;
		struct zc_buf *buf;

		/* Cannot fail: peeked free, and nothing ran since. */
		zc_pool_get(rp->pool, &buf);
		zc_buf_trim(buf, take);
		n -= take;
		if (i)
			rp->stash[rp->stash_len++] = buf;
		else
			first = buf;
	}
	return first;
}

/* A receive callback's read of a stream: one recvmsg() into up to
 * ZC_RX_SCATTER buffers, which also says whether it left data queued. */
static ssize_t stream_recv(struct zc_tsock *sock, struct zc_rx_pool *rp,
			   unsigned rx_flags, struct zc_buf **out)
{
	struct iovec iov[ZC_RX_SCATTER];
	int left = 1; /* bytes still queued, as far as we know */
	size_t room = 0;
	unsigned k;
	ssize_t n;

	k = zc_pool_peek(rp->pool, iov, ZC_RX_SCATTER);
	if (!k)
		return -ENOBUFS;
	for (unsigned i = 0; i < k; i++)
		room += iov[i].iov_len;
	n = recv_iov(sock->fd, iov, k, recv_flags(sock, rx_flags),
		     want_inq(sock, rp) ? &left : NULL, NULL);
	if (n <= 0)
		return n;
	sock->rx_moved = (size_t)n;
	zc_tsock_count_copied(sock, (size_t)n);
	*out = take_filled(rp, iov, k, (size_t)n);
	/* A stream gives all it has, up to the size asked: less means the
	 * queue is empty now (new data raises a new edge). */
	rp->stash_drained = (size_t)n < room || !left;
	if (!rp->stash_len && rp->stash_drained)
		sock->rx_drained = true;
	return (ssize_t)zc_buf_len(*out);
}

/*
 * One read into one buffer: a datagram (and who sent it, when from is not
 * NULL), or zc_recv()'s read of at most max bytes of a stream.  Without
 * the sender's address it is the recv() a plain receiver makes: only a
 * receive callback reads the drained hint (recvmsg() with TCP_INQ's cmsg
 * cost 0.85-0.89x a recv() loop's loopback throughput at 128 KiB).
 */
static ssize_t recv_one(struct zc_tsock *sock, struct zc_rx_pool *rp,
			size_t max, unsigned rx_flags, struct zc_buf **out,
			struct zc_rx_from *from)
{
	int flags = recv_flags(sock, rx_flags);
	struct zc_buf *buf;
	struct iovec iov;
	ssize_t n;
	int ret;

	ret = zc_pool_get(rp->pool, &buf);
	if (ret)
		return ret;
	iov.iov_base = buf->segs[0].base;
	iov.iov_len = max && max < buf->len ? max : buf->len;
	if (from)
		n = recv_iov(sock->fd, &iov, 1, flags, NULL, from);
	else
		n = zc_rx_recv_into(sock, iov.iov_base, iov.iov_len, flags);
	if (n <= 0) {
		zc_rx_pool_unused(buf);
		return n;
	}
	/* zc_buf_trim() for a pool buffer, which has one segment. */
	buf->segs[0].len = (size_t)n;
	buf->len = (size_t)n;
	sock->rx_moved = (size_t)n;
	zc_tsock_count_copied(sock, (size_t)n);
	/* A stream gives all it has, up to the size asked: less means the
	 * queue is empty now. */
	if (sock->type == SOCK_STREAM) {
		rp->stash_drained = (size_t)n < iov.iov_len;
		sock->rx_drained = rp->stash_drained;
	}
	*out = buf;
	return n;
}

static ssize_t pool_recv(struct zc_tsock *sock, struct zc_rx_pool *rp,
			 size_t max, unsigned rx_flags, struct zc_buf **out,
			 struct zc_rx_from *from)
{
	if (sock->type != SOCK_STREAM)
		return recv_one(sock, rp, 0, rx_flags, out, from);
	if (from)
		from->len = 0;
	if (rp->stash_len)
		return stash_pop(sock, rp, out);
	if (rx_flags & ZC_RXF_BATCH && !max)
		return stream_recv(sock, rp, rx_flags, out);
	return recv_one(sock, rp, max, rx_flags, out, NULL);
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
