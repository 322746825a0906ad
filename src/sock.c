/* SPDX-License-Identifier: MIT */
/*
 * Sockets: attach and close, the epoll set, and the services transports
 * use (transport.h).  Sending is in send.c, receiving in recv.c.
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
#define ZC_IDS_INITIAL 4  /* grows with the ids in flight */
#define ZC_IDS_MAX (1u << 20)

/* ---- services for the transports ---------------------------------------- */

void zc_tsock_error(struct zc_tsock *t, int err)
{
	struct zc_sock *sock = zc_sock_of(t);

	/* The first fatal error says what happened (a reset, ss -K); the
	 * -EPIPEs of the sends after it do not. */
	if (sock->dead)
		return;
	t->stats.last_error = err;
	if (t->type == SOCK_STREAM &&
	    (err == -EPIPE || err == -ECONNRESET || err == -ETIMEDOUT ||
	     err == -ECONNABORTED || err == -EPROTO))
		sock->dead = true;
}

void zc_tsock_defer(struct zc_tsock *t)
{
	struct zc_sock *sock = zc_sock_of(t);
	struct zc_ctx *ctx = sock->ctx;

	if (sock->flush_queued)
		return;
	sock->flush_queued = true;
	sock->flush_next = ctx->flush_head;
	ctx->flush_head = sock;
	if (!ctx->in_process)
		zc_ctx_wake(ctx);
}

int zc_tsock_uring(struct zc_tsock *t, struct zc_uring **out)
{
	return zc_ctx_uring(zc_sock_of(t)->ctx, out);
}

void zc_tsock_uring_reap(struct zc_tsock *t)
{
	struct zc_ctx *ctx = zc_sock_of(t)->ctx;

	if (ctx->uring)
		zc_uring_submit(ctx->uring);
}

int zc_tsock_watch(struct zc_tsock *t, int fd)
{
	struct zc_sock *sock = zc_sock_of(t);
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET,
				  .data.ptr = sock };

	if (sock->watching)
		return -EBUSY;
	if (epoll_ctl(sock->ctx->epfd, EPOLL_CTL_ADD, fd, &ev))
		return -errno;
	sock->watching = true;
	sock->watch_fd = fd;
	/* Counted as a socket in the set: the context must not wait in
	 * its ring alone while a doorbell may ring. */
	sock->ctx->nsocks_ep++;
	return 0;
}

static void sock_unwatch(struct zc_sock *sock)
{
	if (!sock->watching)
		return;
	epoll_ctl(sock->ctx->epfd, EPOLL_CTL_DEL, sock->watch_fd, NULL);
	sock->ctx->nsocks_ep--;
	sock->watching = false;
}

static void sock_defer_unlink(struct zc_sock *sock)
{
	struct zc_sock **pp = &sock->ctx->flush_head;

	if (!sock->flush_queued)
		return;
	while (*pp != sock)
		pp = &(*pp)->flush_next;
	*pp = sock->flush_next;
	sock->flush_queued = false;
}

/* ---- the epoll set ------------------------------------------------------ */

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
	bool space = zc_sock_waits_for_space(sock);
	uint32_t want = 0;
	int op;

	/* A watched socket (zc_tsock_watch) stays for its hang-up. */
	if (space || sock->t.ids.inflight || sock->watching) {
		want = EPOLLET | (sock->ep_events & EPOLLOUT);
		if (space)
			want |= EPOLLOUT;
	}
	/* Received data for the receive callback (ring-less transports;
	 * the ring reports its own). */
	if (zc_sock_rx_wants_epollin(sock))
		want |= EPOLLET | EPOLLIN | EPOLLRDHUP;
	if (want == sock->ep_events)
		return;
	op = !want	       ? EPOLL_CTL_DEL
	     : sock->ep_events ? EPOLL_CTL_MOD
			       : EPOLL_CTL_ADD;
	if (epoll_ctl(sock->ctx->epfd, op, sock->t.fd,
		      &(struct epoll_event){ .events = want,
					     .data.ptr = sock })) {
		zc_tsock_error(&sock->t, -errno);
		return;
	}
	sock->ctx->nsocks_ep += (want != 0) - (sock->ep_events != 0);
	sock->ep_events = want;
}

static void sock_read_error(struct zc_sock *sock)
{
	socklen_t len = sizeof(int);
	int err = 0;

	/* Reading SO_ERROR clears it.  A UDP error (ICMP unreachable) is
	 * left for the next send to report instead of being swallowed. */
	if (sock->t.type != SOCK_STREAM)
		return;
	if (!getsockopt(sock->t.fd, SOL_SOCKET, SO_ERROR, &err, &len) && err) {
		zc_tsock_error(&sock->t, -err);
		/* recv() will not see it now: a reset is no end of stream. */
		sock->rx_error = -err;
		sock->rx_hup = true;
	}
}

void zc_sock_run(struct zc_sock *sock)
{
	if (sock->rx && sock->rx->kick)
		sock->rx->kick(&sock->t);
	zc_sock_push_queued(sock);
	/* Application callbacks run from process() only (not from close). */
	if (sock->ctx->in_process) {
		zc_sock_drained(sock);
		if (sock->rx_cb)
			sock->ctx->ncb += zc_sock_rx_deliver(sock);
	}
	zc_sock_ep_update(sock);
}

void zc_sock_event(struct zc_sock *sock, uint32_t events)
{
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP))
		sock->rx_ready = true;
	/* Not on EPOLLERR alone: MSG_ZEROCOPY notifications raise it, and
	 * rx_hup, which stays, costs a recv() per receive callback run. */
	if (events & (EPOLLRDHUP | EPOLLHUP))
		sock->rx_hup = true;
	if (events & (EPOLLERR | EPOLLHUP)) {
		/* The error first: completions of a reset connection must
		 * see it. */
		sock_read_error(sock);
		zc_sock_reap(sock);
	} else if ((events & EPOLLIN) && sock->watching) {
		zc_sock_reap(sock); /* the doorbell may bring completions */
	}
	zc_sock_run(sock);
}

/* ---- attach ------------------------------------------------------------- */

static int sockopt_int(int fd, int level, int name, int *val)
{
	socklen_t len = sizeof(*val);

	return getsockopt(fd, level, name, val, &len) ? -errno : 0;
}

/* IPv4 and IPv6 for the network transports; AF_UNIX streams only for
 * the shared-region channel, which needs them. */
static int sock_family_check(const struct zc_sock *sock)
{
	bool shm = sock->t.opts.tx == ZC_TX_SHM;

	if (sock->t.domain == AF_UNIX)
		return shm && sock->t.type == SOCK_STREAM ? 0 : -EAFNOSUPPORT;
	if (sock->t.domain != AF_INET && sock->t.domain != AF_INET6)
		return -EAFNOSUPPORT;
	return shm ? -EAFNOSUPPORT : 0;
}

static int sock_identify(struct zc_sock *sock, int fd)
{
	struct sockaddr_storage peer;
	socklen_t len = sizeof(peer);
	int flags, proto, ret;

	flags = fcntl(fd, F_GETFL);
	if (flags < 0)
		return -EBADF;
	ret = sockopt_int(fd, SOL_SOCKET, SO_TYPE, &sock->t.type);
	if (ret)
		return ret;
	ret = sockopt_int(fd, SOL_SOCKET, SO_DOMAIN, &sock->t.domain);
	if (ret)
		return ret;
	ret = sock_family_check(sock);
	if (ret)
		return ret;
	ret = sockopt_int(fd, SOL_SOCKET, SO_PROTOCOL, &proto);
	if (ret)
		return ret;
	if (!(sock->t.type == SOCK_STREAM && proto == IPPROTO_TCP) &&
	    !(sock->t.type == SOCK_DGRAM && proto == IPPROTO_UDP) &&
	    sock->t.domain != AF_UNIX)
		return -EPROTONOSUPPORT;
	/* A UDP server's socket has no peer: its sends name theirs. */
	if (getpeername(fd, (struct sockaddr *)&peer, &len)) {
		if (errno != ENOTCONN || sock->t.type != SOCK_DGRAM)
			return -errno;
		sock->t.unconnected = true;
	}
	sock->t.fd = fd;
	sock->t.nonblock = flags & O_NONBLOCK;
	if (sock->t.type == SOCK_STREAM)
		sock->max_msg = SIZE_MAX;
	else
		sock->max_msg =
			sock->t.domain == AF_INET ? ZC_UDP4_MAX : ZC_UDP6_MAX;
	return 0;
}

/* One handle per socket: see sockreg.h. */
static int sock_register(struct zc_sock *sock)
{
	struct stat st;
	int ret;

	if (fstat(sock->t.fd, &st))
		return -errno;
	ret = zc_sockreg_add((uint64_t)st.st_ino);
	if (!ret)
		sock->ino = (uint64_t)st.st_ino;
	return ret;
}

static int opts_check(const struct zc_sock_opts *o)
{
	int ret;

	if ((unsigned)o->tx >= ZC_TX_MODE_COUNT ||
	    (unsigned)o->rx >= ZC_RX_MODE_COUNT ||
	    (o->flags & ~(ZC_SOCK_KEEP_FD | ZC_SOCK_FALLBACK | ZC_SOCK_DMABUF |
			  ZC_SOCK_ZCRX_NODEV)) ||
	    o->max_inflight > 65536 || o->rx_lowat < 0)
		return -EINVAL;
	if (!zc_reserved_zero(o->reserved, ZC_ARRAY_SIZE(o->reserved)))
		return -EINVAL;
	/* The shared-region channel carries both directions or neither. */
	if ((o->tx == ZC_TX_SHM) != (o->rx == ZC_RX_SHM))
		return -EINVAL;
	if (o->shm_size && o->tx != ZC_TX_SHM)
		return -EINVAL;
	ret = zc_sock_dev_opts_check(o);
	return ret ? ret : zc_sock_file_opts_check(o);
}

static int sock_setup(struct zc_sock *sock)
{
	unsigned gso = sock->t.opts.udp_gso_size;
	int ret;

	if (gso) {
		if (sock->t.type != SOCK_DGRAM || gso > 65535)
			return -EINVAL;
		if (setsockopt(sock->t.fd, SOL_UDP, UDP_SEGMENT, &gso,
			       sizeof(gso)))
			return -errno;
	}
	if (sock->t.opts.rx_lowat &&
	    setsockopt(sock->t.fd, SOL_SOCKET, SO_RCVLOWAT,
		       &sock->t.opts.rx_lowat, sizeof(sock->t.opts.rx_lowat)))
		return -errno;
	ret = zc_sock_tx_setup(sock);
	if (!ret)
		ret = zc_sock_file_setup(sock);
	/* Device receive paths are refused (or fall back) at attach. */
	if (!ret && zc_rx_mode_is_dev(sock->t.opts.rx))
		ret = zc_sock_rx_start(sock);
	return ret;
}

static void sock_free(struct zc_sock *sock)
{
	sock_unwatch(sock);
	if (sock->ino)
		zc_sockreg_del(sock->ino);
	zc_tracker_fini(&sock->t.ids);
	zc_sock_free_reqs(sock);
	free(sock);
}

int zc_sock_attach(struct zc_ctx *ctx, int fd, const struct zc_sock_opts *opts,
		   struct zc_sock **out)
{
	ZC_CTX_GUARD(ctx);
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
	sock->t.opts = o;
	sock->t.fd = -1;
	sock->close_timeout_ms =
		o.close_timeout_ms ? o.close_timeout_ms : ctx->close_timeout_ms;
	zc_policy_init(&sock->policy, o.zc_threshold);
	ret = sock_identify(sock, fd);
	if (!ret)
		ret = sock_register(sock);
	if (!ret)
		ret = zc_tracker_init(&sock->t.ids, ZC_IDS_INITIAL, ZC_IDS_MAX,
				      0);
	zc_sock_init_reqs(sock,
			  o.max_inflight ? o.max_inflight : ctx->max_inflight);
	if (!ret)
		ret = sock_setup(sock);
	if (ret) {
		sock_free(sock);
		return ret;
	}
	sock->next = ctx->socks;
	if (ctx->socks)
		ctx->socks->prev = sock;
	ctx->socks = sock;
	*out = sock;
	return 0;
}

int zc_sock_fd(const struct zc_sock *sock)
{
	return sock ? sock->t.fd : -EINVAL;
}

int zc_sock_region(struct zc_sock *sock, struct zc_region **out)
{
	if (!sock || !out)
		return -EINVAL;
	if (sock->tx != &zc_tx_shm)
		return -EOPNOTSUPP;
	return zc_tx_shm_region(&sock->t, out);
}

int zc_sock_stats(const struct zc_sock *sock, struct zc_stats *out)
{
	if (!sock || !out)
		return -EINVAL;
	*out = sock->t.stats;
	zc_policy_stats(&sock->policy, out);
	if (out->policy_tx_why != ZC_PWHY_NONE)
		out->policy_tx_using =
			zc_policy_tx_zc(&sock->policy) && sock->tx_zc
				? sock->tx_zc->mode
				: ZC_TX_COPY;
	return 0;
}

/* ---- close -------------------------------------------------------------- */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for the socket to be writable or to report completions. */
static void sock_wait(struct zc_sock *sock, int64_t deadline, bool idle)
{
	/* io_uring completions arrive on the ring's eventfd, a watching
	 * transport's on its doorbell (-1: none). */
	struct pollfd pfd[3] = {
		{ .fd = sock->t.fd },
		{ .fd = zc_ctx_uring_fd(sock->ctx), .events = POLLIN },
		{ .fd = sock->watching ? sock->watch_fd : -1,
		  .events = POLLIN },
	};
	int64_t left = deadline - now_ms();

	if (left <= 0)
		return;
	if (zc_sock_waits_for_space(sock))
		pfd[0].events = POLLOUT;
	/* A hung-up socket polls ready at once; pace the retries. */
	if (idle && left > 10)
		left = 10;
	poll(pfd, 3, (int)left);
}

static void sock_drain(struct zc_sock *sock)
{
	int64_t deadline =
		now_ms() +
		(sock->close_timeout_ms > 0 ? sock->close_timeout_ms : 0);
	bool idle = false;

	sock->t.nonblock = true;     /* never block past the deadline */
	zc_ctx_uring_arm(sock->ctx); /* wake for ring completions too */
	for (;;) {
		uint64_t before;
		struct zc_req *head;
		size_t sent;

		zc_ctx_run_done(sock->ctx, sock, INT_MAX);
		if (!sock->t.stats.inflight || now_ms() >= deadline)
			break;
		before = sock->t.stats.completions;
		head = sock->sendq_head;
		sent = head ? head->sent : 0;
		sock_wait(sock, deadline, idle);
		zc_sock_event(sock, EPOLLERR);
		idle = sock->t.stats.completions == before &&
		       sock->sendq_head == head &&
		       (!head || head->sent == sent);
	}
}

static void sock_unlink(struct zc_sock *sock)
{
	if (sock->prev)
		sock->prev->next = sock->next;
	else
		sock->ctx->socks = sock->next;
	if (sock->next)
		sock->next->prev = sock->prev;
}

int zc_sock_destroy(struct zc_sock *sock)
{
	struct zc_stats *st = &sock->t.stats;
	uint64_t lost;

	/* Callbacks run below and may try to send: they get -ESHUTDOWN, so
	 * that every send this socket accepted completes before it goes. */
	sock->closing = true;
	sock->ctx->depth++;
	sock_drain(sock);
	lost = st->abandoned + st->errors;
	/* Before the transports close the doorbell. */
	sock_unwatch(sock);
	zc_sock_cancel_sends(sock);
	zc_ctx_run_done(sock->ctx, sock, INT_MAX);
	/* A flush or shutdown still waiting is told it will not happen. */
	if (sock->drain_cb)
		sock->drain_cb(sock, -ECANCELED, sock->drain_arg);
	lost = st->abandoned + st->errors - lost;
	sock->ctx->depth--;
	zc_sock_rx_fini(sock);
	if (sock->ep_events) {
		epoll_ctl(sock->ctx->epfd, EPOLL_CTL_DEL, sock->t.fd, NULL);
		sock->ctx->nsocks_ep--;
	}
	if (!(sock->t.opts.flags & ZC_SOCK_KEEP_FD))
		close(sock->t.fd);
	/* Last: tearing down the transports may have queued it. */
	sock_defer_unlink(sock);
	sock_unlink(sock);
	sock_free(sock);
	return lost ? -ETIMEDOUT : 0;
}

int zc_sock_close(struct zc_sock *sock)
{
	ZC_CTX_GUARD(sock ? sock->ctx : NULL);
	if (!sock)
		return -EINVAL;
	if (sock->ctx->depth)
		return -EBUSY;
	if (zc_sock_rx_busy(sock))
		return -EBUSY;
	return zc_sock_destroy(sock);
}
