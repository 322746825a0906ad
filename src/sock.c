/* SPDX-License-Identifier: MIT */
/*
 * Sockets and send requests.  A request is accepted once and completes
 * once: when every byte is with the kernel and every completion id the
 * kernel issued for it has been reported (or given up at close).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sock.h"
#include "sockreg.h"
#include "uring.h"
#include "util.h"

#define ZC_UDP4_MAX 65507 /* 65535 - IPv4 header - UDP header */
#define ZC_UDP6_MAX 65527 /* 65535 - UDP header (payload length field) */
#define ZC_IDS_INITIAL 64
#define ZC_IDS_MAX (1u << 20)

static void req_complete(struct zc_buf *buf, struct zc_ubuf *ubuf, bool ok);

static const struct zc_ubuf_ops req_ubuf_ops = {
	.complete = req_complete,
};

static void req_free(struct zc_sock *sock, struct zc_req *req)
{
	req->next = sock->free_reqs;
	sock->free_reqs = req;
}

/* A send the kernel reported on after the connection died may have been
 * thrown away with it: whatever the report said, it did not arrive for
 * sure, so it is not called a success. */
static int req_lost_error(const struct zc_req *req)
{
	const struct zc_sock *sock = req->sock;

	if (!req->notified || !sock->dead)
		return 0;
	return sock->stats.last_error ? sock->stats.last_error : -EPIPE;
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
	zc_ctx_queue_done(req->sock->ctx, req);
}

/* Tell the caller, then recycle the slot. */
void zc_req_deliver(struct zc_req *req)
{
	struct zc_sock *sock = req->sock;
	struct zc_completion c = { 0 };

	req_result(req, req->zc_ok, &c);
	stats_count(&sock->stats, &c);
	req->cb(sock, &c, req->arg);
	req_free(sock, req);
}

void zc_req_id_done(void *cookie, uint32_t id, enum zc_track_how how, void *arg)
{
	struct zc_req *req = cookie;
	struct zc_sock *sock = arg;

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

void zc_sock_note_error(struct zc_sock *sock, int err)
{
	/* The first fatal error says what happened (a reset, ss -K); the
	 * -EPIPEs of the sends after it do not. */
	if (sock->dead)
		return;
	sock->stats.last_error = err;
	if (sock->type == SOCK_STREAM &&
	    (err == -EPIPE || err == -ECONNRESET || err == -ETIMEDOUT ||
	     err == -ECONNABORTED))
		sock->dead = true;
}

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
}

ssize_t zc_req_sendmsg(struct zc_sock *sock, const struct zc_req *req,
		       int flags)
{
	struct iovec iov[ZC_SEND_MAX_IOV];
	struct msghdr msg;

	zc_req_msghdr(req, &msg, iov);
	/* send() skips importing a msghdr and an iovec array: cheaper in
	 * the kernel for the common one-buffer case. */
	if (msg.msg_iovlen == 1)
		return send(sock->fd, iov[0].iov_base, iov[0].iov_len, flags);
	return sendmsg(sock->fd, &msg, flags);
}

/* ---- the epoll set ----------------------------------------------------- */

static bool sock_waits_for_space(const struct zc_sock *sock)
{
	/* io_uring requests wait for their CQE, not for socket space. */
	return sock->sendq_head && !zc_tx_is_uring(sock->sendq_head->tx);
}

/*
 * A socket is in the context's epoll set only while something must wake
 * the context: MSG_ZEROCOPY ids in flight (their notifications raise
 * EPOLLERR, which needs no event bit) or a request waiting for space
 * (EPOLLOUT; kept while registered, as a socket that filled up once tends
 * to again).  Every wake-up of a registered socket runs epoll's callback in
 * the kernel, for UDP once per datagram sent, so sockets that only copy,
 * or whose policy backed off, stay out of the set.
 */
void zc_sock_ep_update(struct zc_sock *sock)
{
	bool space = sock_waits_for_space(sock);
	uint32_t want = 0;
	int op;

	if (space || sock->ids.inflight) {
		want = EPOLLET | (sock->ep_events & EPOLLOUT);
		if (space)
			want |= EPOLLOUT;
	}
	if (want == sock->ep_events)
		return;
	op = !want	       ? EPOLL_CTL_DEL
	     : sock->ep_events ? EPOLL_CTL_MOD
			       : EPOLL_CTL_ADD;
	if (epoll_ctl(sock->ctx->epfd, op, sock->fd,
		      &(struct epoll_event){ .events = want,
					     .data.ptr = sock })) {
		zc_sock_note_error(sock, -errno);
		return;
	}
	sock->ctx->nsocks_ep += (want != 0) - (sock->ep_events != 0);
	sock->ep_events = want;
}

/* ---- the send queue ---------------------------------------------------- */

static void sendq_add(struct zc_sock *sock, struct zc_req *req)
{
	req->next = NULL;
	if (sock->sendq_tail)
		sock->sendq_tail->next = req;
	else
		sock->sendq_head = req;
	sock->sendq_tail = req;
	sock->stats.queued_waits++;
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
	if (err) {
		req->error = err;
		zc_sock_note_error(req->sock, err);
	}
	zc_ubuf_put(&req->ubuf, &req->buf, req->why == ZC_WHY_NONE);
}

void zc_sock_flush(struct zc_sock *sock)
{
	if (sock->rx && sock->rx->kick)
		sock->rx->kick(sock);
	while (sock->sendq_head) {
		struct zc_req *req = sock->sendq_head;
		int ret = req->tx->push(sock, req);

		if (ret == -EAGAIN)
			break;
		sendq_pop(sock);
		req_sent(req, ret);
	}
	zc_sock_ep_update(sock);
}

static void sock_read_error(struct zc_sock *sock)
{
	socklen_t len = sizeof(int);
	int err = 0;

	/* Reading SO_ERROR clears it.  A UDP error (ICMP unreachable) is
	 * left for the next send to report instead of being swallowed. */
	if (sock->type != SOCK_STREAM)
		return;
	if (!getsockopt(sock->fd, SOL_SOCKET, SO_ERROR, &err, &len) && err)
		zc_sock_note_error(sock, -err);
}

void zc_sock_event(struct zc_sock *sock, uint32_t events)
{
	if (events & (EPOLLERR | EPOLLHUP)) {
		/* The error first: completions of a reset connection must
		 * see it (req_lost_error). */
		sock_read_error(sock);
		if (sock->zerocopy_on)
			zc_tx_msgzc.reap(sock);
		else if (sock->tx && sock->tx->reap)
			sock->tx->reap(sock);
	}
	zc_sock_flush(sock);
}

void zc_sock_defer_flush(struct zc_sock *sock)
{
	struct zc_ctx *ctx = sock->ctx;

	if (sock->flush_queued)
		return;
	sock->flush_queued = true;
	sock->flush_next = ctx->flush_head;
	ctx->flush_head = sock;
	if (!ctx->in_process)
		zc_ctx_wake(ctx);
}

static void sock_flush_unlink(struct zc_sock *sock)
{
	struct zc_sock **pp = &sock->ctx->flush_head;

	if (!sock->flush_queued)
		return;
	while (*pp != sock)
		pp = &(*pp)->flush_next;
	*pp = sock->flush_next;
	sock->flush_queued = false;
}

/* ---- sending ----------------------------------------------------------- */

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

static void req_start(struct zc_sock *sock, struct zc_req *req, zc_send_cb cb,
		      void *arg)
{
	req->sock = sock;
	req->cb = cb;
	req->arg = arg;
	req->sent = 0;
	req->error = 0;
	req->kernel_copied = false;
	req->abandoned = false;
	req->notified = false;
	req->tx = sock_pick(sock, req->buf.len, &req->why);
	/* One reference for the unsent bytes: the buffer's own. */
	zc_ubuf_init(&req->ubuf, &req_ubuf_ops,
		     req->why ? 0 : ZC_F_REQUESTED | ZC_F_ENABLED, req);
	zc_buf_attach(&req->buf, &req->ubuf);
	zc_ubuf_put(&req->ubuf, NULL, true);
}

static void stats_accept(struct zc_sock *sock, const struct zc_req *req)
{
	sock->stats.sends++;
	sock->stats.bytes += req->buf.len;
	sock->stats.inflight++;
	sock->stats.tx_by_mode[req->tx->mode]++;
}

/* First attempt at a new request.  Returns 0 once accepted. */
static int req_submit(struct zc_sock *sock, struct zc_req *req)
{
	int ret;

	stats_accept(sock, req);
	if (sock->sendq_head) {
		sendq_add(sock, req);
		return 0;
	}
	ret = req->tx->push(sock, req);
	if (ret == -EAGAIN) {
		sendq_add(sock, req);
		return 0;
	}
	if (ret && !req->sent && zc_ubuf_refs(&req->ubuf) == 1) {
		/* Nothing reached the kernel: refuse it, no callback. */
		sock->stats.sends--;
		sock->stats.bytes -= req->buf.len;
		sock->stats.inflight--;
		sock->stats.tx_by_mode[req->tx->mode]--;
		zc_sock_note_error(sock, ret);
		req_free(sock, req);
		return ret;
	}
	req_sent(req, ret);
	return 0;
}

static int send_check(struct zc_sock *sock, zc_send_cb cb)
{
	if (!sock || !cb)
		return -EINVAL;
	if (sock->closing)
		return -ESHUTDOWN;
	if (sock->dead)
		return sock->stats.last_error ? sock->stats.last_error : -EPIPE;
	if (!sock->free_reqs)
		return -EAGAIN;
	return 0;
}

int zc_send(struct zc_sock *sock, const struct iovec *iov, int iovcnt,
	    zc_send_cb cb, void *arg)
{
	struct zc_req *req;
	int ret;

	ret = send_check(sock, cb);
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
	sock->free_reqs = req->next;
	req_start(sock, req, cb, arg);
	ret = req_submit(sock, req);
	zc_sock_ep_update(sock);
	return ret;
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

/* ---- attach and close -------------------------------------------------- */

static int sockopt_int(int fd, int level, int name, int *val)
{
	socklen_t len = sizeof(*val);

	return getsockopt(fd, level, name, val, &len) ? -errno : 0;
}

static int sock_identify(struct zc_sock *sock, int fd)
{
	struct sockaddr_storage peer;
	socklen_t len = sizeof(peer);
	int flags, proto, ret;

	flags = fcntl(fd, F_GETFL);
	if (flags < 0)
		return -EBADF;
	ret = sockopt_int(fd, SOL_SOCKET, SO_TYPE, &sock->type);
	if (ret)
		return ret;
	ret = sockopt_int(fd, SOL_SOCKET, SO_DOMAIN, &sock->domain);
	if (ret)
		return ret;
	if (sock->domain != AF_INET && sock->domain != AF_INET6)
		return -EAFNOSUPPORT;
	ret = sockopt_int(fd, SOL_SOCKET, SO_PROTOCOL, &proto);
	if (ret)
		return ret;
	if (!(sock->type == SOCK_STREAM && proto == IPPROTO_TCP) &&
	    !(sock->type == SOCK_DGRAM && proto == IPPROTO_UDP))
		return -EPROTONOSUPPORT;
	if (getpeername(fd, (struct sockaddr *)&peer, &len))
		return -errno;
	sock->fd = fd;
	sock->nonblock = flags & O_NONBLOCK;
	if (sock->type == SOCK_STREAM)
		sock->max_msg = SIZE_MAX;
	else
		sock->max_msg =
			sock->domain == AF_INET ? ZC_UDP4_MAX : ZC_UDP6_MAX;
	return 0;
}

static int opts_check(const struct zc_sock_opts *o)
{
	if ((unsigned)o->tx >= ZC_TX_MODE_COUNT ||
	    (unsigned)o->rx >= ZC_RX_MODE_COUNT ||
	    (o->flags & ~ZC_SOCK_KEEP_FD) || o->max_inflight > 65536 ||
	    o->rx_lowat < 0)
		return -EINVAL;
	if (!zc_reserved_zero(o->reserved, ZC_ARRAY_SIZE(o->reserved)))
		return -EINVAL;
	return 0;
}

static int sock_alloc_reqs(struct zc_sock *sock, unsigned n)
{
	sock->reqs = calloc(n, sizeof(*sock->reqs));
	if (!sock->reqs)
		return -ENOMEM;
	sock->nreqs = n;
	for (unsigned i = n; i-- > 0;)
		req_free(sock, &sock->reqs[i]);
	return 0;
}

/* Without io_uring (seccomp, sysctl, old kernel, ZC_CTX_NO_URING) the
 * socket still works through MSG_ZEROCOPY or copy; stats say why. */
static int sock_pick_uring(struct zc_sock *sock, const struct zc_tx_ops *tx)
{
	int ret;

	sock->tx = tx;
	ret = tx->init(sock);
	if (!ret)
		return 0;
	sock->stats.uring_error = ret;
	sock->tx = &zc_tx_msgzc;
	if (zc_tx_msgzc.init(sock))
		sock->tx = &zc_tx_copy;
	return 0;
}

static int sock_pick_tx(struct zc_sock *sock)
{
	int ret;

	if (sock->opts.tx != ZC_TX_AUTO)
		zc_policy_off(&sock->policy, ZC_POLICY_PINNED);
	switch (sock->opts.tx) {
	case ZC_TX_AUTO:
		/* The policy decides "zero-copy"; the socket maps it to its
		 * best zero-copy transport.  Without one auto still works: it
		 * copies. */
		ret = zc_tx_msgzc.init(sock);
		if (ret) {
			zc_sock_note_error(sock, ret);
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
		return zc_tx_msgzc.init(sock);
	case ZC_TX_URING:
		return sock_pick_uring(sock, &zc_tx_uring);
	case ZC_TX_URING_FIXED:
		return sock_pick_uring(sock, &zc_tx_uring_fixed);
	default:
		return -EOPNOTSUPP;
	}
}

static int sock_setup(struct zc_sock *sock)
{
	unsigned gso = sock->opts.udp_gso_size;

	if (gso) {
		if (sock->type != SOCK_DGRAM || gso > 65535)
			return -EINVAL;
		if (setsockopt(sock->fd, SOL_UDP, UDP_SEGMENT, &gso,
			       sizeof(gso)))
			return -errno;
	}
	if (sock->opts.rx_lowat &&
	    setsockopt(sock->fd, SOL_SOCKET, SO_RCVLOWAT, &sock->opts.rx_lowat,
		       sizeof(sock->opts.rx_lowat)))
		return -errno;
	return sock_pick_tx(sock);
}

/* One handle per socket: see sockreg.h. */
static int sock_register(struct zc_sock *sock)
{
	struct stat st;
	int ret;

	if (fstat(sock->fd, &st))
		return -errno;
	ret = zc_sockreg_add((uint64_t)st.st_ino);
	if (!ret)
		sock->ino = (uint64_t)st.st_ino;
	return ret;
}

static void sock_free(struct zc_sock *sock)
{
	if (sock->ino)
		zc_sockreg_del(sock->ino);
	zc_tracker_fini(&sock->ids);
	free(sock->reqs);
	free(sock);
}

int zc_sock_attach(struct zc_ctx *ctx, int fd, const struct zc_sock_opts *opts,
		   struct zc_sock **out)
{
	struct zc_sock_opts o = { 0 };
	struct zc_sock *sock;
	int ret;

	if (!ctx || !out)
		return -EINVAL;
	if (fd < 0)
		return -EBADF;
	if (opts)
		o = *opts;
	ret = opts_check(&o);
	if (ret)
		return ret;
	sock = calloc(1, sizeof(*sock));
	if (!sock)
		return -ENOMEM;
	sock->ctx = ctx;
	sock->opts = o;
	sock->fd = -1;
	sock->close_timeout_ms =
		o.close_timeout_ms ? o.close_timeout_ms : ctx->close_timeout_ms;
	zc_policy_init(&sock->policy, o.zc_threshold);
	ret = sock_identify(sock, fd);
	if (ret)
		goto err_free;
	ret = sock_register(sock);
	if (ret)
		goto err_free;
	ret = zc_tracker_init(&sock->ids, ZC_IDS_INITIAL, ZC_IDS_MAX, 0);
	if (ret)
		goto err_free;
	ret = sock_alloc_reqs(sock, o.max_inflight ? o.max_inflight
						   : ctx->max_inflight);
	if (ret)
		goto err_free;
	ret = sock_setup(sock);
	if (ret)
		goto err_free;
	sock->next = ctx->socks;
	ctx->socks = sock;
	*out = sock;
	return 0;

err_free:
	sock_free(sock);
	return ret;
}

int zc_sock_fd(const struct zc_sock *sock)
{
	return sock ? sock->fd : -EINVAL;
}

int zc_sock_stats(const struct zc_sock *sock, struct zc_stats *out)
{
	if (!sock || !out)
		return -EINVAL;
	*out = sock->stats;
	zc_policy_stats(&sock->policy, out);
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for the socket to be writable or to report completions. */
static void sock_wait(struct zc_sock *sock, int64_t deadline, bool idle)
{
	/* io_uring completions arrive on the ring's eventfd (-1: none). */
	struct pollfd pfd[2] = { { .fd = sock->fd },
				 { .fd = zc_uring_fd(sock->ctx),
				   .events = POLLIN } };
	int64_t left = deadline - now_ms();

	if (left <= 0)
		return;
	if (sock->sendq_head)
		pfd[0].events = POLLOUT;
	/* A hung-up socket polls ready at once; pace the retries. */
	if (idle && left > 10)
		left = 10;
	poll(pfd, 2, (int)left);
}

static void sock_drain(struct zc_sock *sock)
{
	int64_t deadline =
		now_ms() +
		(sock->close_timeout_ms > 0 ? sock->close_timeout_ms : 0);
	bool idle = false;

	sock->nonblock = true;	 /* never block past the deadline */
	zc_uring_arm(sock->ctx); /* wake for ring completions too */
	for (;;) {
		uint64_t before;
		struct zc_req *head;
		size_t sent;

		zc_ctx_run_done(sock->ctx, sock, INT_MAX);
		if (!sock->stats.inflight || now_ms() >= deadline)
			break;
		before = sock->stats.completions;
		head = sock->sendq_head;
		sent = head ? head->sent : 0;
		sock_wait(sock, deadline, idle);
		zc_sock_event(sock, EPOLLERR);
		idle = sock->stats.completions == before &&
		       sock->sendq_head == head &&
		       (!head || head->sent == sent);
	}
}

static void sock_cancel(struct zc_sock *sock)
{
	while (sock->sendq_head)
		req_sent(sendq_pop(sock), -ECANCELED);
	zc_tracker_drain(&sock->ids, zc_req_id_done, sock);
	if (sock->tx && sock->tx->fini)
		sock->tx->fini(sock);
}

static void sock_unlink(struct zc_sock *sock)
{
	struct zc_sock **pp = &sock->ctx->socks;

	while (*pp != sock)
		pp = &(*pp)->next;
	*pp = sock->next;
}

int zc_sock_destroy(struct zc_sock *sock)
{
	uint64_t lost;

	/* Callbacks run below and may try to send: they get -ESHUTDOWN, so
	 * that every send this socket accepted completes before it goes. */
	sock->closing = true;
	sock->ctx->depth++;
	sock_drain(sock);
	lost = sock->stats.abandoned + sock->stats.errors;
	sock_cancel(sock);
	zc_ctx_run_done(sock->ctx, sock, INT_MAX);
	lost = sock->stats.abandoned + sock->stats.errors - lost;
	sock->ctx->depth--;
	sock_flush_unlink(sock);
	if (sock->rx)
		sock->rx->fini(sock);
	if (sock->ep_events) {
		epoll_ctl(sock->ctx->epfd, EPOLL_CTL_DEL, sock->fd, NULL);
		sock->ctx->nsocks_ep--;
	}
	if (!(sock->opts.flags & ZC_SOCK_KEEP_FD))
		close(sock->fd);
	sock_unlink(sock);
	sock_free(sock);
	return lost ? -ETIMEDOUT : 0;
}

int zc_sock_close(struct zc_sock *sock)
{
	if (!sock)
		return -EINVAL;
	if (sock->ctx->depth)
		return -EBUSY;
	if (sock->rx && sock->rx->busy && sock->rx->busy(sock))
		return -EBUSY;
	return zc_sock_destroy(sock);
}

/* ---- receiving --------------------------------------------------------- */

bool zc_sock_rx_want_map(struct zc_sock *sock)
{
	return zc_policy_rx_want_map(&sock->policy, sock->stats.rx_bytes_mapped,
				     sock->stats.rx_bytes_copied);
}

static const struct zc_rx_ops *sock_pick_rx(struct zc_sock *sock)
{
	switch (sock->opts.rx) {
	case ZC_RX_AUTO:
		/* TCP: the mapped path, the policy deciding per receive
		 * whether to map (zc_sock_rx_want_map).  UDP: nothing maps. */
		return sock->type == SOCK_STREAM ? &zc_rx_tcpmmap : &zc_rx_copy;
	case ZC_RX_COPY:
		return &zc_rx_copy;
	case ZC_RX_TCPMMAP:
		return &zc_rx_tcpmmap;
	case ZC_RX_URING:
		return &zc_rx_uring;
	default:
		return NULL;
	}
}

int zc_sock_rx_start(struct zc_sock *sock)
{
	const struct zc_rx_ops *rx;
	int ret;

	if (sock->rx)
		return 0;
	rx = sock_pick_rx(sock);
	if (!rx)
		return -EOPNOTSUPP;
	ret = rx->init(sock);
	if (ret && rx != &zc_rx_copy && sock->opts.rx != ZC_RX_TCPMMAP) {
		/* No ring (uring) or no window (auto): the copying receive,
		 * same API. */
		if (rx == &zc_rx_uring)
			sock->stats.uring_error = ret;
		rx = &zc_rx_copy;
		ret = rx->init(sock);
	}
	if (ret)
		return ret;
	sock->rx = rx;
	return 0;
}

ssize_t zc_recv(struct zc_sock *sock, struct zc_buf **out)
{
	int ret;

	if (!sock || !out)
		return -EINVAL;
	ret = zc_sock_rx_start(sock);
	if (ret)
		return ret;
	return sock->rx->recv(sock, out);
}

int zc_sock_release(struct zc_sock *sock, struct zc_buf *buf)
{
	if (!sock || !buf)
		return -EINVAL;
	if (!sock->rx || !sock->rx->owns(sock, buf))
		return -EXDEV;
	return zc_buf_release(buf);
}
