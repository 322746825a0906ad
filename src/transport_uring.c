/* SPDX-License-Identifier: MIT */
/*
 * Transport "uring": io_uring SEND_ZC / SENDMSG_ZC, from registered regions
 * as fixed buffers in mode uring-fixed; and receive through a multishot
 * recv into a provided buffer ring whose buffers live in a region.
 *
 * Kernel rules this file relies on (Linux 6.0+, REPORT_USAGE 6.2+):
 *  - a send posts a result CQE; when it carries IORING_CQE_F_MORE a
 *    notification CQE (IORING_CQE_F_NOTIF) follows once the kernel no
 *    longer needs the pages.  Requests that fail early post no
 *    notification, so the result CQE then drops the send's reference;
 *  - with IORING_SEND_ZC_REPORT_USAGE the notification's res has
 *    IORING_NOTIF_USAGE_ZC_COPIED set when the data was copied after all;
 *  - a send may be short.  Two sends in flight on one stream socket may
 *    be reordered (one waits for space, the next goes inline), so each
 *    socket has at most one send SQE in flight; its request stays at the
 *    head of the send queue until every byte is with the kernel, and a
 *    result is applied only to the request whose SQE produced it;
 *  - -ENOBUFS/-ENOMEM (optmem, RLIMIT_MEMLOCK for the notification's pages)
 *    mean nothing of that SQE was sent: the rest goes by copy;
 *  - a multishot recv ends (no F_MORE) when the buffer ring is empty
 *    (-ENOBUFS) or the CQ overflowed; it is re-armed once buffers are back.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "region.h"
#include "rxpool.h"
#include "transport.h"
#include "uring.h"
#include "util.h"

#define ZC_RX_BUF_MAX 32768	     /* buffer ring entries the kernel allows */
#define ZC_URING_SEND_MAX (1u << 30) /* one SQE's length is 32 bits */

struct uring_tx {
	struct zc_uring *u;
	bool fixed;	 /* mode uring-fixed: use registered regions */
	bool busy;	 /* a send SQE waits for its result */
	bool done;	 /* res holds a result push has not consumed */
	bool poll_first; /* the socket was full: wait for space first */
	int res;
	struct zc_req *req; /* whose SQE res belongs to */
	struct msghdr msg;  /* stable until the SQE is consumed */
	struct iovec iov[ZC_SEND_MAX_IOV];
};

/* ---- send -------------------------------------------------------------- */

static void uring_send_cqe(void *owner, const struct io_uring_cqe *cqe)
{
	struct zc_req *req = owner;
	struct zc_tsock *sock = req->sock;
	struct uring_tx *ut = sock->tx_priv;

	if (cqe->flags & IORING_CQE_F_NOTIF) {
		bool copied = (uint32_t)cqe->res & IORING_NOTIF_USAGE_ZC_COPIED;

		zc_req_id_done(req, 0,
			       copied ? ZC_TRACK_COPIED : ZC_TRACK_ZEROCOPY,
			       sock);
		return;
	}
	ut->busy = false;
	ut->done = true;
	ut->res = cqe->res;
	ut->req = req;
	/* No notification is coming: the SQE's reference goes now, without
	 * a claim of zero-copy the kernel never made. */
	if (!(cqe->flags & IORING_CQE_F_MORE))
		zc_ubuf_put(&req->ubuf, &req->buf, false);
	/* The request may go on (its rest, or the next one) once the push
	 * that is perhaps running now has returned. */
	zc_tsock_defer(sock);
}

static void uring_orphan_req(void *owner)
{
	struct zc_req *req = owner;

	zc_req_id_done(req, 0, ZC_TRACK_ABANDONED, req->sock);
}

static void uring_prep_send(struct zc_tsock *sock, struct uring_tx *ut,
			    struct io_uring_sqe *sqe, unsigned zc_flags)
{
	void *base = ut->iov[0].iov_base;
	size_t len = ut->iov[0].iov_len;
	int idx;

	if (len > ZC_URING_SEND_MAX)
		len = ZC_URING_SEND_MAX;
	idx = ut->fixed ? zc_uring_fixed_find(ut->u, base, len) : -1;
	if (idx >= 0) {
		io_uring_prep_send_zc_fixed(sqe, sock->fd, base, len,
					    MSG_NOSIGNAL, zc_flags,
					    (unsigned)idx);
		sock->stats.fixed_sends++;
	} else {
		io_uring_prep_send_zc(sqe, sock->fd, base, len, MSG_NOSIGNAL,
				      zc_flags);
	}
}

/* Hand the unsent part of req to the ring; the result may come at once. */
static int uring_send(struct zc_tsock *sock, struct uring_tx *ut,
		      struct zc_req *req)
{
	unsigned zc_flags = IORING_SEND_ZC_REPORT_USAGE;
	struct io_uring_sqe *sqe;

	sqe = zc_uring_sqe(ut->u, uring_send_cqe, req, ut);
	if (!sqe)
		return -ENOMEM;
	if (ut->poll_first)
		zc_flags |= IORING_RECVSEND_POLL_FIRST;
	zc_req_msghdr(req, &ut->msg, ut->iov);
	if (ut->msg.msg_iovlen == 1 && !ut->msg.msg_namelen) {
		uring_prep_send(sock, ut, sqe, zc_flags);
	} else {
		io_uring_prep_sendmsg_zc(sqe, sock->fd, &ut->msg, MSG_NOSIGNAL);
		sqe->ioprio |= zc_flags;
	}
	/* The SQE's reference: dropped by its notification. */
	zc_ubuf_get(&req->ubuf);
	ut->busy = true;
	ut->done = false;
	ut->req = req;
	/* Handlers of the CQEs drained here only record results and queue
	 * completions: nothing re-enters this push. */
	zc_uring_submit(ut->u);
	return 0;
}

/* Apply a send result to req.  0: go on (send the rest, if any). */
static int uring_result(struct uring_tx *ut, struct zc_req *req, int res)
{
	ut->poll_first = false;
	if (res > 0) {
		req->sent += (size_t)res;
		return 0;
	}
	switch (res) {
	case 0:
	case -EAGAIN:
		ut->poll_first = true;
		return 0;
	case -EINTR:
		return 0;
	case -ENOBUFS:
	case -ENOMEM:
		return zc_req_fall_back(req);
	default:
		return res;
	}
}

static int uring_push(struct zc_tsock *sock, struct zc_req *req)
{
	struct uring_tx *ut = sock->tx_priv;
	int ret;

	while (!ut->busy) {
		if (ut->done && ut->req == req) {
			ut->done = false;
			ret = uring_result(ut, req, ut->res);
			if (ret)
				return ret;
		}
		if (!zc_req_left(req))
			return 0;
		ret = uring_send(sock, ut, req);
		if (ret)
			return ret;
	}
	/* The result comes through the context fd; the request waits at
	 * the head of the send queue, so nothing overtakes it. */
	return -EAGAIN;
}

static int uring_tx_setup(struct zc_tsock *sock, bool fixed)
{
	struct uring_tx *ut;
	struct zc_uring *u;
	int ret;

	ret = zc_tsock_uring(sock, &u);
	if (ret)
		return ret;
	ut = calloc(1, sizeof(*ut));
	if (!ut)
		return -ENOMEM;
	ut->u = u;
	ut->fixed = fixed;
	sock->tx_priv = ut;
	return 0;
}

static int uring_tx_init(struct zc_tsock *sock)
{
	return uring_tx_setup(sock, false);
}

static int uring_tx_init_fixed(struct zc_tsock *sock)
{
	return uring_tx_setup(sock, true);
}

/* After close gave up waiting: stop what is queued in the kernel, and
 * report sends whose notifications never came as abandoned. */
static void uring_tx_fini(struct zc_tsock *sock)
{
	struct uring_tx *ut = sock->tx_priv;

	if (!ut)
		return;
	zc_uring_cancel_fd(ut->u, sock->fd);
	zc_uring_orphan(ut->u, ut, uring_orphan_req);
	free(ut);
	sock->tx_priv = NULL;
}

const struct zc_tx_ops zc_tx_uring = {
	.name = "uring",
	.mode = ZC_TX_URING,
	.flags = ZC_TXO_RING,
	.init = uring_tx_init,
	.push = uring_push,
	.reap = zc_tsock_uring_reap,
	.fini = uring_tx_fini,
};

const struct zc_tx_ops zc_tx_uring_fixed = {
	.name = "uring-fixed",
	.mode = ZC_TX_URING_FIXED,
	.flags = ZC_TXO_RING,
	.init = uring_tx_init_fixed,
	.push = uring_push,
	.reap = zc_tsock_uring_reap,
	.fini = uring_tx_fini,
};

/* ---- receive: multishot recv into a buffer ring over a region ---------- */

struct uring_rx_ent {
	struct zc_buf buf;
	struct zc_seg seg;
};

struct uring_rx_ready {
	uint32_t bid;
	uint32_t len;
};

struct uring_rx {
	struct zc_tsock *sock; /* NULL once the socket is gone */
	struct zc_uring *u;
	struct zc_region *region;
	size_t size;	/* bytes per buffer */
	unsigned count; /* buffers */
	struct io_uring_buf_ring *br;
	size_t br_len;
	unsigned entries; /* ring entries: power of two >= count */
	uint16_t bgid;
	bool registered;
	struct uring_rx_ent *ents;
	struct uring_rx_ready *ready; /* FIFO of filled buffers */
	unsigned rhead, nready;
	unsigned out; /* buffers the application holds */
	bool armed;   /* a multishot recv is in the kernel */
	bool eof;
	int error;
	struct zc_ubuf ubuf; /* static: one for every buffer */
};

/* Where buffer bid starts in the region (ZC_RX_SKEW into a page). */
static size_t rx_buf_off(const struct uring_rx *rx, unsigned bid)
{
	return ZC_RX_SKEW + (size_t)bid * rx->size;
}

static void *rx_buf_base(const struct uring_rx *rx, unsigned bid)
{
	return (char *)rx->region->base + rx_buf_off(rx, bid);
}

/* Give buffer bid back to the kernel. */
static void rx_give(struct uring_rx *rx, unsigned bid)
{
	io_uring_buf_ring_add(rx->br, rx_buf_base(rx, bid), (unsigned)rx->size,
			      (unsigned short)bid,
			      io_uring_buf_ring_mask(rx->entries), 0);
	io_uring_buf_ring_advance(rx->br, 1);
}

static void rx_cqe(void *owner, const struct io_uring_cqe *cqe)
{
	struct uring_rx *rx = owner;

	if (!(cqe->flags & IORING_CQE_F_MORE))
		rx->armed = false;
	/* process() delivers data to a receive callback and re-arms a
	 * stopped receive if buffers are free. */
	if (rx->sock)
		zc_tsock_defer(rx->sock);
	if (cqe->flags & IORING_CQE_F_BUFFER) {
		unsigned bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;

		if (cqe->res > 0 && bid < rx->count) {
			unsigned tail = (rx->rhead + rx->nready) % rx->count;

			rx->ready[tail] =
				(struct uring_rx_ready){ bid,
							 (uint32_t)cqe->res };
			rx->nready++;
		} else if (bid < rx->count) {
			rx_give(rx, bid);
		}
	}
	/* An empty datagram is no end of stream. */
	if (cqe->res == 0 && rx->sock && rx->sock->type == SOCK_STREAM)
		rx->eof = true;
	else if (cqe->res < 0 && cqe->res != -ENOBUFS && cqe->res != -ECANCELED)
		rx->error = cqe->res;
}

/* (Re)start receiving if it stopped and buffers are in the ring.  Only
 * submits: CQEs are dispatched by zc_recv() and zc_ctx_process(), never
 * inside zc_buf_release(). */
static void rx_arm(struct uring_rx *rx)
{
	struct io_uring_sqe *sqe;

	if (rx->armed || rx->eof || rx->error || !rx->sock ||
	    rx->out + rx->nready == rx->count)
		return;
	sqe = zc_uring_sqe(rx->u, rx_cqe, rx, rx);
	if (!sqe)
		return; /* tried again on the next zc_recv() */
	io_uring_prep_recv_multishot(sqe, rx->sock->fd, NULL, 0, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = rx->bgid;
	rx->armed = true;
	io_uring_submit(&rx->u->ring);
}

static void rx_free(struct uring_rx *rx)
{
	if (rx->registered)
		io_uring_unregister_buf_ring(&rx->u->ring, rx->bgid);
	if (rx->br)
		munmap(rx->br, rx->br_len);
	if (rx->region)
		zc_region_destroy(rx->region);
	free(rx->ready);
	free(rx->ents);
	free(rx);
}

/* Runs after the buffer's completion (zc_buf_release orders them). */
static void rx_recycle(struct zc_buf *buf)
{
	struct uring_rx *rx = buf->owner;

	buf->state = ZC_BUF_FREE;
	rx->out--;
	if (!rx->sock) {
		/* The socket closed while the application held buffers. */
		if (!rx->out)
			rx_free(rx);
		return;
	}
	rx_give(rx, (unsigned)((struct uring_rx_ent *)buf - rx->ents));
	rx_arm(rx);
}

static int rx_ring_setup(struct uring_rx *rx)
{
	struct io_uring_buf_reg reg = { 0 };
	int ret;

	rx->entries = zc_roundup_pow2(rx->count);
	rx->br_len = rx->entries * sizeof(struct io_uring_buf);
	rx->br = mmap(NULL, rx->br_len, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (rx->br == MAP_FAILED) {
		rx->br = NULL;
		return -errno;
	}
	io_uring_buf_ring_init(rx->br);
	reg.ring_addr = (uintptr_t)rx->br;
	reg.ring_entries = rx->entries;
	/* Group ids are per ring; skip ones still taken after a wrap. */
	for (unsigned tries = 0; tries < 65536; tries++) {
		reg.bgid = rx->u->next_bgid++;
		ret = io_uring_register_buf_ring(&rx->u->ring, &reg, 0);
		if (ret != -EEXIST)
			break;
	}
	if (ret)
		return ret;
	rx->bgid = reg.bgid;
	rx->registered = true;
	for (unsigned i = 0; i < rx->count; i++)
		rx_give(rx, i);
	return 0;
}

static int rx_alloc(struct zc_tsock *sock, struct uring_rx *rx)
{
	const struct zc_ubuf_ops *ops = sock->opts.rx_done;
	int ret;

	rx->size = sock->opts.rx_buf_size ? sock->opts.rx_buf_size
					  : ZC_RX_BUF_SIZE;
	rx->count = sock->opts.rx_buf_count ? sock->opts.rx_buf_count
					    : ZC_RX_BUF_COUNT;
	if (rx->count > ZC_RX_BUF_MAX || rx->size > UINT32_MAX ||
	    (ops && !ops->complete))
		return -EINVAL;
	rx->ents = calloc(rx->count, sizeof(*rx->ents));
	rx->ready = calloc(rx->count, sizeof(*rx->ready));
	if (!rx->ents || !rx->ready)
		return -ENOMEM;
	/* The kernel copies into these buffers: laid out as a copying
	 * pool's. */
	ret = zc_rx_region_create(rx->size, rx->count, &rx->region);
	if (ret)
		return ret;
	zc_ubuf_init(&rx->ubuf, ops ? ops : &zc_ubuf_nop_ops, ZC_F_STATIC,
		     sock->opts.rx_done_arg);
	for (unsigned i = 0; i < rx->count; i++) {
		zc_buf_init(&rx->ents[i].buf, &rx->ents[i].seg, 1, rx_recycle,
			    rx);
		rx->ents[i].buf.state = ZC_BUF_FREE;
	}
	return 0;
}

static int rx_init(struct zc_tsock *sock)
{
	struct uring_rx *rx;
	int ret;

	rx = calloc(1, sizeof(*rx));
	if (!rx)
		return -ENOMEM;
	ret = zc_tsock_uring(sock, &rx->u);
	if (!ret)
		ret = rx_alloc(sock, rx);
	if (!ret)
		ret = rx_ring_setup(rx);
	if (ret) {
		rx_free(rx);
		return ret;
	}
	rx->sock = sock;
	sock->rx_priv = rx;
	rx_arm(rx);
	return 0;
}

static ssize_t rx_hand_out(struct zc_tsock *sock, struct uring_rx *rx,
			   struct zc_buf **out)
{
	struct uring_rx_ready r = rx->ready[rx->rhead];
	struct zc_buf *buf = &rx->ents[r.bid].buf;

	rx->rhead = (rx->rhead + 1) % rx->count;
	rx->nready--;
	zc_buf_reset(buf);
	buf->state = ZC_BUF_LIVE;
	/* Cannot fail: one segment, inside the region by construction. */
	zc_buf_add_region(buf, rx->region, rx_buf_off(rx, r.bid), r.len);
	zc_buf_attach(buf, &rx->ubuf);
	rx->out++;
	/* Copied by the kernel into the region, never by zcopy. */
	sock->stats.rx_bytes += r.len;
	sock->stats.rx_bytes_copied += r.len;
	*out = buf;
	return r.len;
}

/* Collect completions; block for them on a blocking socket.  0 when the
 * caller should look again. */
static int rx_wait(struct zc_tsock *sock, struct uring_rx *rx, unsigned flags)
{
	rx_arm(rx);
	zc_uring_submit(rx->u);
	if (rx->nready || rx->eof || rx->error)
		return 0;
	rx_arm(rx);
	if (!rx->armed)
		return -ENOBUFS; /* the application holds every buffer */
	if (sock->nonblock || (flags & ZC_RXF_NOWAIT))
		return -EAGAIN;
	return zc_uring_wait_timeout(rx->u, -1);
}

static ssize_t rx_recv(struct zc_tsock *sock, struct zc_buf **out,
		       unsigned flags, struct zc_rx_from *from)
{
	struct uring_rx *rx = sock->rx_priv;
	ssize_t ret;

	(void)from; /* multishot recv does not report it (no ZC_RXO_FROM) */
	for (;;) {
		if (rx->nready)
			return rx_hand_out(sock, rx, out);
		if (rx->error) {
			ret = rx->error;
			rx->error = 0;
			zc_tsock_error(sock, (int)ret);
			return ret;
		}
		if (rx->eof)
			return 0;
		ret = rx_wait(sock, rx, flags);
		if (ret)
			return ret;
	}
}

static bool rx_busy(struct zc_tsock *sock)
{
	struct uring_rx *rx = sock->rx_priv;

	return rx->out;
}

static bool rx_owns(struct zc_tsock *sock, const struct zc_buf *buf)
{
	return buf->recycle == rx_recycle && buf->owner == sock->rx_priv;
}

static void rx_kick(struct zc_tsock *sock)
{
	rx_arm(sock->rx_priv);
}

static void rx_fini(struct zc_tsock *sock)
{
	struct uring_rx *rx = sock->rx_priv;

	sock->rx_priv = NULL;
	if (rx->armed)
		zc_uring_cancel_fd(rx->u, sock->fd);
	zc_uring_orphan(rx->u, rx, NULL);
	rx->sock = NULL;
	/* Buffers still held are freed with the last one released. */
	if (rx->out) {
		io_uring_unregister_buf_ring(&rx->u->ring, rx->bgid);
		rx->registered = false;
		return;
	}
	rx_free(rx);
}

const struct zc_rx_ops zc_rx_uring = {
	.name = "uring",
	.mode = ZC_RX_URING,
	.flags = ZC_RXO_RING,
	.init = rx_init,
	.recv = rx_recv,
	.busy = rx_busy,
	.owns = rx_owns,
	.kick = rx_kick,
	.fini = rx_fini,
};
