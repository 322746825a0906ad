/* SPDX-License-Identifier: MIT */
/*
 * Sends.  A request is accepted once and completes once: when every byte
 * is with the kernel and every completion id the kernel issued for it has
 * been reported (or given up at close).  Its callback then runs from
 * zc_ctx_process(), never inside a transport's push.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "sock.h"
#include "util.h"

static void req_complete(struct zc_buf *buf, struct zc_ubuf *ubuf, bool ok);

static const struct zc_ubuf_ops req_ubuf_ops = {
	.complete = req_complete,
};

static void req_free(struct zc_sock *sock, struct zc_req *req)
{
	if (req->is_file)
		zc_file_release(req);
	req->next = sock->free_reqs;
	sock->free_reqs = req;
}

/*
 * Send records come in chunks of ZC_REQ_CHUNK, allocated when the free list
 * runs dry and kept until close: an idle socket costs no records, a busy
 * one allocates a few times and then never again (no malloc per send).
 */
#define ZC_REQ_CHUNK 16

struct zc_req_chunk {
	struct zc_req_chunk *next;
	struct zc_req reqs[ZC_REQ_CHUNK];
};

void zc_sock_init_reqs(struct zc_sock *sock, unsigned n)
{
	sock->max_reqs = n;
}

/* 0, -EAGAIN at max_inflight, -ENOMEM. */
static int reqs_grow(struct zc_sock *sock)
{
	unsigned n = sock->max_reqs - sock->nreqs;
	struct zc_req_chunk *c;

	if (!n)
		return -EAGAIN;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->next = sock->chunks;
	sock->chunks = c;
	if (n > ZC_REQ_CHUNK)
		n = ZC_REQ_CHUNK;
	sock->nreqs += n;
	while (n--)
		req_free(sock, &c->reqs[n]);
	return 0;
}

void zc_sock_free_reqs(struct zc_sock *sock)
{
	while (sock->chunks) {
		struct zc_req_chunk *c = sock->chunks;

		sock->chunks = c->next;
		free(c);
	}
}

/* ---- completion --------------------------------------------------------- */

/* A send the kernel reported on after the connection died may have been
 * thrown away with it: whatever the report said, it did not arrive for
 * sure, so it is not called a success. */
static int req_lost_error(const struct zc_req *req)
{
	const struct zc_sock *sock = zc_sock_of(req->sock);

	if (!req->notified || !sock->dead)
		return 0;
	return sock->t.stats.last_error ? sock->t.stats.last_error : -EPIPE;
}

static void req_result(const struct zc_req *req, bool ok,
		       struct zc_completion *c)
{
	int lost = req->error ? 0 : req_lost_error(req);

	c->bytes = req->sent;
	c->tx = req->tx->mode;
	if (lost) {
		c->result = ZC_RESULT_ERROR;
		c->error = lost;
	} else if (req->abandoned) {
		c->result = ZC_RESULT_ABANDONED;
		c->error = req->error;
	} else if (req->error) {
		c->result = ZC_RESULT_ERROR;
		c->error = req->error;
	} else if (ok) {
		c->result = ZC_RESULT_ZEROCOPY;
	} else {
		c->result = ZC_RESULT_COPIED;
		c->why = req->why ? req->why : ZC_WHY_KERNEL;
		if (c->why == ZC_WHY_UNVERIFIED)
			c->flags |= ZC_COMPL_UNVERIFIED;
	}
}

static void stats_count(struct zc_stats *st, const struct zc_completion *c)
{
	st->completions++;
	st->inflight--;
	switch (c->result) {
	case ZC_RESULT_ZEROCOPY:
		st->zerocopy++;
		break;
	case ZC_RESULT_COPIED:
		st->copied++;
		st->copied_why[c->why]++;
		break;
	case ZC_RESULT_ERROR:
		st->errors++;
		break;
	case ZC_RESULT_ABANDONED:
		st->abandoned++;
		break;
	}
}

/* The last reference is gone: the callback runs from process(), where
 * no transport is half way through a push. */
static void req_complete(struct zc_buf *buf, struct zc_ubuf *ubuf, bool ok)
{
	struct zc_req *req = ubuf->priv;

	(void)buf;
	req->zc_ok = ok;
	zc_ctx_queue_done(zc_sock_of(req->sock)->ctx, req);
}

void zc_req_deliver(struct zc_req *req)
{
	struct zc_sock *sock = zc_sock_of(req->sock);
	struct zc_completion c = { 0 };

	req_result(req, req->zc_ok, &c);
	stats_count(&sock->t.stats, &c);
	req->cb(sock, &c, req->arg);
	req_free(sock, req);
	if (sock->drain_cb && !sock->t.stats.inflight)
		zc_tsock_defer(&sock->t);
}

void zc_req_id_done(void *cookie, uint32_t id, enum zc_track_how how, void *arg)
{
	struct zc_req *req = cookie;
	struct zc_sock *sock = zc_sock_of(arg);

	(void)id;
	req->notified = true;
	switch (how) {
	case ZC_TRACK_ZEROCOPY:
		zc_policy_note(&sock->policy, ZC_POL_ZEROCOPY);
		break;
	case ZC_TRACK_COPIED:
		req->kernel_copied = true;
		zc_policy_note(&sock->policy, ZC_POL_COPIED);
		break;
	case ZC_TRACK_ABANDONED:
		req->abandoned = true;
		break;
	}
	zc_ubuf_put(&req->ubuf, &req->buf, how == ZC_TRACK_ZEROCOPY);
}

int zc_req_fall_back(struct zc_req *req)
{
	struct zc_sock *sock = zc_sock_of(req->sock);

	req->why = ZC_WHY_NOBUFS;
	req->tx = &zc_tx_copy;
	sock->t.stats.fallbacks++;
	zc_policy_note(&sock->policy, ZC_POL_NOBUFS);
	return zc_copy_push(req->sock, req, 0);
}

/* ---- the request API ---------------------------------------------------- */

void zc_req_msghdr(const struct zc_req *req, struct msghdr *msg,
		   struct iovec *iov)
{
	size_t skip = req->sent;
	unsigned n = 0;

	for (unsigned i = 0; i < req->buf.nsegs; i++) {
		const struct zc_seg *seg = &req->buf.segs[i];

		if (skip >= seg->len) {
			skip -= seg->len;
			continue;
		}
		iov[n].iov_base = (char *)seg->base + skip;
		iov[n].iov_len = seg->len - skip;
		skip = 0;
		n++;
	}
	*msg = (struct msghdr){ .msg_iov = iov, .msg_iovlen = n };
	if (req->destlen) {
		msg->msg_name = (void *)&req->dest;
		msg->msg_namelen = req->destlen;
	}
}

ssize_t zc_req_sendmsg(struct zc_tsock *sock, const struct zc_req *req,
		       int flags)
{
	const struct zc_seg *seg = &req->buf.segs[0];
	struct iovec iov[ZC_SEND_MAX_IOV];
	struct msghdr msg;

	/* send() skips importing a msghdr and an iovec array: cheaper in
	 * the kernel (and here) for the common one-buffer case. */
	if (req->buf.nsegs == 1 && !req->destlen)
		return send(sock->fd, (char *)seg->base + req->sent,
			    seg->len - req->sent, flags);
	zc_req_msghdr(req, &msg, iov);
	if (msg.msg_iovlen == 1 && !req->destlen)
		return send(sock->fd, iov[0].iov_base, iov[0].iov_len, flags);
	return sendmsg(sock->fd, &msg, flags);
}

/* ---- the send queue ----------------------------------------------------- */

static void sendq_add(struct zc_sock *sock, struct zc_req *req)
{
	req->next = NULL;
	if (sock->sendq_tail)
		sock->sendq_tail->next = req;
	else
		sock->sendq_head = req;
	sock->sendq_tail = req;
	sock->t.stats.queued_waits++;
}

static struct zc_req *sendq_pop(struct zc_sock *sock)
{
	struct zc_req *req = sock->sendq_head;

	sock->sendq_head = req->next;
	if (!sock->sendq_head)
		sock->sendq_tail = NULL;
	return req;
}

/* Every byte is with the kernel (or the request failed): drop the
 * reference that stood for the unsent bytes. */
static void req_sent(struct zc_req *req, int err)
{
	struct zc_sock *sock = zc_sock_of(req->sock);

	if (err) {
		zc_tsock_error(req->sock, err);
		/* After a reset every later send fails with -EPIPE; the
		 * connection's first error says what happened. */
		if (sock->dead && sock->t.stats.last_error)
			err = sock->t.stats.last_error;
		req->error = err;
	}
	zc_ubuf_put(&req->ubuf, &req->buf, req->why == ZC_WHY_NONE);
}

bool zc_sock_waits_for_space(const struct zc_sock *sock)
{
	/* io_uring requests wait for their CQE, not for socket space. */
	return sock->sendq_head && !(sock->sendq_head->tx->flags & ZC_TXO_RING);
}

/* Auto, once the kernel confirmed zero-copy: the policy compares costs. */
static bool tx_measured(const struct zc_sock *sock)
{
	return !sock->tx && sock->policy.state == ZC_POLICY_ZEROCOPY;
}

/* A sample of the pushes on each path is timed for the policy (the
 * zero-copy path's completions are reaped in zc_sock_reap(), timed too). */
static int req_push_measured(struct zc_sock *sock, struct zc_req *req)
{
	bool timed = zc_cost_sample(&sock->policy.tx_cost);
	bool may_block = !sock->t.nonblock;
	uint64_t t0 = timed ? zc_cost_clock(may_block) : 0;
	size_t before = req->sent;
	int ret = req->tx->push(&sock->t, req);

	if (timed && req->sent > before)
		zc_policy_tx_cost(&sock->policy, req->tx != &zc_tx_copy,
				  req->sent - before,
				  zc_cost_clock(may_block) - t0);
	else if (req->sent > before)
		zc_cost_untimed(&sock->policy.tx_cost, req->sent - before);
	return ret;
}

/* Hand what the kernel takes of req to its transport; file requests'
 * errors are said in file terms. */
static int req_push(struct zc_sock *sock, struct zc_req *req)
{
	int ret = tx_measured(sock) ? req_push_measured(sock, req)
				    : req->tx->push(&sock->t, req);

	if (ret && ret != -EAGAIN && req->is_file)
		ret = zc_file_error(req, ret);
	return ret;
}

void zc_sock_push_queued(struct zc_sock *sock)
{
	while (sock->sendq_head) {
		struct zc_req *req = sock->sendq_head;
		int ret = req_push(sock, req);

		if (ret == -EAGAIN)
			break;
		sendq_pop(sock);
		req_sent(req, ret);
	}
}

void zc_sock_reap(struct zc_sock *sock)
{
	const struct zc_tx_ops *tx = sock->tx ? sock->tx : sock->tx_zc;
	bool timed;
	uint64_t t0;

	if (!tx || !tx->reap)
		return;
	timed = tx_measured(sock) && zc_cost_sample(&sock->policy.tx_cost);
	t0 = timed ? zc_cost_clock(false) : 0;
	tx->reap(&sock->t); /* never waits */
	if (timed)
		zc_policy_tx_cost(&sock->policy, true, 0,
				  zc_cost_clock(false) - t0);
}

void zc_sock_cancel_sends(struct zc_sock *sock)
{
	const struct zc_tx_ops *tx = sock->tx ? sock->tx : sock->tx_zc;

	while (sock->sendq_head)
		req_sent(sendq_pop(sock), -ECANCELED);
	zc_tracker_drain(&sock->t.ids, zc_req_id_done, &sock->t);
	if (tx && tx->fini)
		tx->fini(&sock->t);
	zc_file_fini(&sock->t);
}

/* ---- sending ------------------------------------------------------------ */

static const struct zc_tx_ops *sock_pick(struct zc_sock *sock, size_t len,
					 uint8_t *why)
{
	if (sock->tx) {
		*why = sock->tx == &zc_tx_copy ? ZC_WHY_TRANSPORT : ZC_WHY_NONE;
		return sock->tx;
	}
	if (zc_policy_want_zc(&sock->policy, len)) {
		*why = ZC_WHY_NONE;
		return sock->tx_zc;
	}
	*why = ZC_WHY_POLICY;
	return &zc_tx_copy;
}

static int req_fill(struct zc_sock *sock, struct zc_req *req,
		    const struct iovec *iov, int iovcnt)
{
	zc_buf_init(&req->buf, req->segs, ZC_SEND_MAX_IOV, NULL, req);
	for (int i = 0; i < iovcnt; i++) {
		int ret;

		if (!iov[i].iov_len)
			continue;
		if (iov[i].iov_len > SSIZE_MAX)
			return -EOVERFLOW;
		ret = zc_buf_add(&req->buf, iov[i].iov_base, iov[i].iov_len);
		if (ret)
			return ret;
	}
	if (!req->buf.len)
		return -EINVAL;
	if (req->buf.len > SSIZE_MAX)
		return -EOVERFLOW;
	if (req->buf.len > sock->max_msg)
		return -EMSGSIZE;
	return 0;
}

/* Take req off the free list for a new send. */
static void req_take(struct zc_sock *sock, struct zc_req *req,
		     const struct zc_tx_ops *tx, uint8_t why, zc_send_cb cb,
		     void *arg)
{
	sock->free_reqs = req->next;
	req->sock = &sock->t;
	req->cb = cb;
	req->arg = arg;
	req->sent = 0;
	req->error = 0;
	req->kernel_copied = false;
	req->abandoned = false;
	req->notified = false;
	req->zc_ok = false;
	req->tx = tx;
	req->why = why;
}

static void req_start(struct zc_sock *sock, struct zc_req *req,
		      const struct zc_tx_ops *tx, uint8_t why, zc_send_cb cb,
		      void *arg)
{
	req_take(sock, req, tx, why, cb, arg);
	/* One reference for the unsent bytes: the buffer's own. */
	zc_ubuf_init(&req->ubuf, &req_ubuf_ops,
		     req->why ? 0 : ZC_F_REQUESTED | ZC_F_ENABLED, req);
	zc_buf_attach(&req->buf, &req->ubuf);
	zc_ubuf_put(&req->ubuf, NULL, true);
}

static void stats_accept(struct zc_stats *st, const struct zc_req *req, int n)
{
	st->sends += (uint64_t)n;
	st->bytes += (uint64_t)n * req->buf.len;
	st->inflight += (uint64_t)n;
	st->tx_by_mode[req->tx->mode] += (uint64_t)n;
}

/* A new request after its first push returned ret.  Returns 0 once
 * accepted. */
static int req_pushed(struct zc_sock *sock, struct zc_req *req, int ret)
{
	if (ret == -EAGAIN) {
		sendq_add(sock, req);
		return 0;
	}
	if (ret && !req->sent && zc_ubuf_refs(&req->ubuf) == 1) {
		/* Nothing reached the kernel: refuse it, no callback. */
		stats_accept(&sock->t.stats, req, -1);
		zc_tsock_error(&sock->t, ret);
		req_free(sock, req);
		return ret;
	}
	req_sent(req, ret);
	return 0;
}

/* First attempt at a new request.  Returns 0 once accepted. */
static int req_submit(struct zc_sock *sock, struct zc_req *req)
{
	stats_accept(&sock->t.stats, req, 1);
	if (sock->sendq_head) {
		sendq_add(sock, req);
		return 0;
	}
	return req_pushed(sock, req, req_push(sock, req));
}

/*
 * A copy send that nothing is queued ahead of, the common case.  Taken
 * whole by its first send(), no reference can outlive the call: the
 * request skips its ubuf and goes straight to the completions: 230
 * instructions in user space instead of 405 (callgrind, 16 KiB), and at
 * 4 KiB UDP the sender's CPU per GB went from 1.02x a plain send() loop's
 * to 0.99x.  Anything else goes on as any request, from what the first
 * send() did.
 */
static int submit_copy(struct zc_sock *sock, struct zc_req *req, uint8_t why,
		       zc_send_cb cb, void *arg)
{
	ssize_t n;
	int ret;

	req->sent = 0;
	n = zc_copy_send_once(&sock->t, req);
	if (n == (ssize_t)req->buf.len) {
		req_take(sock, req, &zc_tx_copy, why, cb, arg);
		req->sent = (size_t)n;
		stats_accept(&sock->t.stats, req, 1);
		zc_ctx_queue_done(sock->ctx, req);
		return 0;
	}
	ret = n > 0 ? 0 : zc_req_advance(req, n);
	if (ret && ret != -EAGAIN) {
		/* Nothing reached the kernel: refused, as req_pushed() does. */
		zc_tsock_error(&sock->t, ret);
		return ret;
	}
	req_start(sock, req, &zc_tx_copy, why, cb, arg);
	req->sent = n > 0 ? (size_t)n : 0;
	stats_accept(&sock->t.stats, req, 1);
	if (!ret)
		ret = req_push(sock, req); /* the rest, or again after EINTR */
	ret = req_pushed(sock, req, ret);
	zc_sock_ep_update(sock);
	return ret;
}

int zc_sock_send_check(struct zc_sock *sock, zc_send_cb cb)
{
	if (!sock || !cb)
		return -EINVAL;
	if (sock->closing || sock->shut_wr)
		return -ESHUTDOWN;
	if (sock->dead)
		return sock->t.stats.last_error ? sock->t.stats.last_error
						: -EPIPE;
	if (!sock->free_reqs)
		return reqs_grow(sock);
	return 0;
}

/* The destination of a zc_sendto(): an address of the socket's family
 * (an IPv6 socket also takes IPv4-mapped ones). */
static int dest_check(const struct zc_sock *sock, const struct sockaddr *dest,
		      socklen_t len)
{
	if (!dest)
		return -EINVAL;
	if (sock->t.type == SOCK_STREAM)
		return -EISCONN;
	if (dest->sa_family != sock->t.domain)
		return -EAFNOSUPPORT;
	if (len != (dest->sa_family == AF_INET ? sizeof(struct sockaddr_in)
					       : sizeof(struct sockaddr_in6)))
		return -EINVAL;
	return 0;
}

static int send_common(struct zc_sock *sock, const struct iovec *iov,
		       int iovcnt, const struct sockaddr *dest,
		       socklen_t destlen, zc_send_cb cb, void *arg)
{
	const struct zc_tx_ops *tx;
	struct zc_req *req;
	uint8_t why;
	int ret;

	ret = zc_sock_send_check(sock, cb);
	if (ret)
		return ret;
	if (!iov || iovcnt <= 0)
		return -EINVAL;
	if (iovcnt > ZC_SEND_MAX_IOV)
		return -E2BIG;
	req = sock->free_reqs;
	ret = req_fill(sock, req, iov, iovcnt);
	if (ret)
		return ret;
	req->is_file = false;
	req->destlen = destlen;
	if (destlen)
		memcpy(&req->dest, dest, destlen);
	tx = sock_pick(sock, req->buf.len, &why);
	/* Auto measuring its paths times copy sends through req_push(). */
	if (tx == &zc_tx_copy && !sock->sendq_head && !tx_measured(sock))
		return submit_copy(sock, req, why, cb, arg);
	return zc_sock_submit(sock, req, tx, why, cb, arg);
}

int zc_sock_submit(struct zc_sock *sock, struct zc_req *req,
		   const struct zc_tx_ops *tx, uint8_t why, zc_send_cb cb,
		   void *arg)
{
	int ret;

	req_start(sock, req, tx, why, cb, arg);
	ret = req_submit(sock, req);
	zc_sock_ep_update(sock);
	return ret;
}

int zc_send(struct zc_sock *sock, const struct iovec *iov, int iovcnt,
	    zc_send_cb cb, void *arg)
{
	ZC_CTX_GUARD(sock ? sock->ctx : NULL);
	if (sock && sock->t.unconnected)
		return cb ? -EDESTADDRREQ : -EINVAL;
	return send_common(sock, iov, iovcnt, NULL, 0, cb, arg);
}

int zc_sendto(struct zc_sock *sock, const struct iovec *iov, int iovcnt,
	      const struct sockaddr *dest, socklen_t destlen, zc_send_cb cb,
	      void *arg)
{
	ZC_CTX_GUARD(sock ? sock->ctx : NULL);
	int ret;

	if (!sock)
		return -EINVAL;
	ret = dest_check(sock, dest, destlen);
	if (ret)
		return ret;
	return send_common(sock, iov, iovcnt, dest, destlen, cb, arg);
}

int zc_send_buf(struct zc_sock *sock, struct zc_buf *buf, zc_send_cb cb,
		void *arg)
{
	struct iovec iov[ZC_SEND_MAX_IOV];
	int n;

	if (!buf)
		return -EINVAL;
	if (buf->flags & ZC_F_UNREADABLE)
		return -EACCES;
	n = zc_buf_to_iov(buf, iov, ZC_SEND_MAX_IOV);
	if (n == -ENOSPC)
		return -E2BIG;
	if (n < 0)
		return n;
	return zc_send(sock, iov, n, cb, arg);
}

/* ---- choosing the transport --------------------------------------------- */

/* A pinned transport does what it says or attach fails with its error;
 * ZC_SOCK_FALLBACK lets an io_uring socket that cannot have its ring, or a
 * devmem socket refused its dma-buf, send through MSG_ZEROCOPY or copy
 * instead (*why, stats.uring_error or tx_error, says why). */
static int sock_pin(struct zc_sock *sock, const struct zc_tx_ops *tx, int *why)
{
	int ret;

	sock->tx = tx;
	ret = tx->init(&sock->t);
	if (!ret)
		return 0;
	*why = ret;
	if (!(sock->t.opts.flags & ZC_SOCK_FALLBACK))
		return ret;
	sock->tx = &zc_tx_msgzc;
	if (zc_tx_msgzc.init(&sock->t))
		sock->tx = &zc_tx_copy;
	return 0;
}

int zc_sock_tx_setup(struct zc_sock *sock)
{
	int ret;

	if (sock->t.opts.tx != ZC_TX_AUTO)
		zc_policy_off(&sock->policy, ZC_POLICY_PINNED);
	switch (sock->t.opts.tx) {
	case ZC_TX_AUTO:
		/* The policy decides "zero-copy"; the socket maps it to its
		 * zero-copy transport.  Without one auto still works: it
		 * copies. */
		ret = zc_tx_msgzc.init(&sock->t);
		if (ret) {
			zc_tsock_error(&sock->t, ret);
			zc_policy_off(&sock->policy, ZC_POLICY_NO_ZC);
			return 0;
		}
		sock->tx_zc = &zc_tx_msgzc;
		return 0;
	case ZC_TX_COPY:
		sock->tx = &zc_tx_copy;
		return 0;
	case ZC_TX_MSGZC:
		sock->tx = &zc_tx_msgzc;
		return zc_tx_msgzc.init(&sock->t);
	case ZC_TX_URING:
		return sock_pin(sock, &zc_tx_uring, &sock->t.stats.uring_error);
	case ZC_TX_URING_FIXED:
		return sock_pin(sock, &zc_tx_uring_fixed,
				&sock->t.stats.uring_error);
	case ZC_TX_DEVMEM:
		return sock_pin(sock, &zc_tx_devmem, &sock->t.stats.tx_error);
	case ZC_TX_SHM:
		sock->tx = &zc_tx_shm;
		return zc_tx_shm.init(&sock->t);
	default:
		return -EOPNOTSUPP;
	}
}

/* ---- flush and shutdown ------------------------------------------------- */

void zc_sock_drained(struct zc_sock *sock)
{
	zc_sock_cb cb = sock->drain_cb;
	int status = 0;

	if (!cb || sock->t.stats.inflight)
		return;
	sock->drain_cb = NULL;
	if (sock->dead)
		status = sock->t.stats.last_error ? sock->t.stats.last_error
						  : -EPIPE;
	else if (sock->shut_wr && sock->t.type == SOCK_STREAM &&
		 shutdown(sock->t.fd, SHUT_WR))
		status = -errno;
	sock->ctx->ncb++;
	cb(sock, status, sock->drain_arg);
}

static int drain_start(struct zc_sock *sock, zc_sock_cb cb, void *arg)
{
	if (!sock || !cb)
		return -EINVAL;
	if (sock->closing)
		return -ESHUTDOWN;
	if (sock->drain_cb)
		return -EBUSY;
	sock->drain_cb = cb;
	sock->drain_arg = arg;
	/* Checked from process(), also when nothing is in flight now. */
	zc_tsock_defer(&sock->t);
	return 0;
}

int zc_sock_flush(struct zc_sock *sock, zc_sock_cb cb, void *arg)
{
	ZC_CTX_GUARD(sock ? sock->ctx : NULL);
	return drain_start(sock, cb, arg);
}

int zc_sock_shutdown(struct zc_sock *sock, zc_sock_cb cb, void *arg)
{
	ZC_CTX_GUARD(sock ? sock->ctx : NULL);
	int ret = drain_start(sock, cb, arg);

	if (!ret)
		sock->shut_wr = true;
	return ret;
}
