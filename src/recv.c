/* SPDX-License-Identifier: MIT */
/*
 * Receives.  The socket picks the receive transport for its options and,
 * under ZC_RX_AUTO, asks the policy before every receive whether mapping
 * pays; transports only do what they are told.
 */
#include <errno.h>
#include <string.h>

#include "sock.h"
#include "util.h"

static const struct zc_rx_ops *sock_pick_rx(const struct zc_sock *sock)
{
	switch (sock->t.opts.rx) {
	case ZC_RX_AUTO:
		/* TCP: the mapped path, the policy deciding per receive
		 * whether to map.  UDP: nothing maps. */
		return sock->t.type == SOCK_STREAM ? &zc_rx_tcpmmap
						   : &zc_rx_copy;
	case ZC_RX_COPY:
		return &zc_rx_copy;
	case ZC_RX_TCPMMAP:
		return &zc_rx_tcpmmap;
	case ZC_RX_URING:
		return &zc_rx_uring;
	case ZC_RX_ZCRX:
		return &zc_rx_zcrx;
	case ZC_RX_DEVMEM:
		return &zc_rx_devmem;
	case ZC_RX_SHM:
		return &zc_rx_shm;
	default:
		return NULL;
	}
}

/* Pinned receive transports do what they say or fail; auto (no mapping
 * window) and ZC_SOCK_FALLBACK (no ring) copy instead. */
static bool rx_may_fall_back(const struct zc_sock *sock)
{
	switch (sock->t.opts.rx) {
	case ZC_RX_AUTO:
		return true;
	case ZC_RX_URING:
	case ZC_RX_ZCRX:
	case ZC_RX_DEVMEM:
		return sock->t.opts.flags & ZC_SOCK_FALLBACK;
	default:
		return false;
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
	ret = rx->init(&sock->t);
	if (ret && rx == &zc_rx_uring)
		sock->t.stats.uring_error = ret;
	if (ret && zc_rx_mode_is_dev(rx->mode))
		sock->t.stats.rx_error = ret;
	if (ret && rx != &zc_rx_copy && rx_may_fall_back(sock)) {
		rx = &zc_rx_copy;
		ret = rx->init(&sock->t);
	}
	if (ret)
		return ret;
	sock->rx = rx;
	return 0;
}

void zc_sock_rx_fini(struct zc_sock *sock)
{
	if (sock->rx)
		sock->rx->fini(&sock->t);
	sock->rx = NULL;
}

bool zc_sock_rx_busy(struct zc_sock *sock)
{
	return sock->rx && sock->rx->busy && sock->rx->busy(&sock->t);
}

/* How this receive goes: under auto the policy decides from the mapped
 * share of past windows. */
static unsigned rx_flags(struct zc_sock *sock)
{
	const struct zc_stats *st = &sock->t.stats;

	if (sock->rx_copy_only)
		return ZC_RXF_COPY;
	if (sock->t.opts.rx != ZC_RX_AUTO || sock->rx != &zc_rx_tcpmmap)
		return 0;
	return zc_policy_rx_want_map(&sock->policy, st->rx_bytes_mapped,
				     st->rx_bytes_copied, sock->t.rx_unmappable)
		       ? 0
		       : ZC_RXF_COPY;
}

/* End of stream, unless an event already took the socket's error. */
static ssize_t rx_eof(struct zc_sock *sock, ssize_t n)
{
	if (n || !sock->rx_error)
		return n;
	n = sock->rx_error;
	sock->rx_error = 0;
	return n;
}

/* Auto's mapped or copying receive, a sample of them timed for the
 * policy (a blocking receive's wait is not counted). */
static ssize_t rx_auto(struct zc_sock *sock, struct zc_buf **out,
		       unsigned flags, struct zc_rx_from *from)
{
	struct zc_costsel *cost = &sock->policy.rx_cost;
	bool timed = zc_cost_sample(cost);
	bool may_block = !sock->t.nonblock && !(flags & ZC_RXF_NOWAIT);
	uint64_t t0 = timed ? zc_cost_clock(may_block) : 0;
	size_t moved;
	ssize_t n;

	sock->t.rx_moved = SIZE_MAX; /* only the copying pool sets it */
	n = sock->rx->recv(&sock->t, out, flags, from);
	if (n <= 0)
		return n;
	/* What the call took from the kernel: a copy read that filled
	 * several buffers counts once, when it was made. */
	moved = sock->t.rx_moved == SIZE_MAX ? (size_t)n : sock->t.rx_moved;
	if (!moved) {
		if (timed)
			zc_cost_sample_again(cost);
		return n;
	}
	if (timed)
		zc_policy_rx_cost(&sock->policy, !(flags & ZC_RXF_COPY),
				  (uint64_t)moved,
				  zc_cost_clock(may_block) - t0);
	else
		zc_cost_untimed(cost, (uint64_t)moved);
	return n;
}

static ssize_t rx_call(struct zc_sock *sock, struct zc_buf **out,
		       unsigned flags, struct zc_rx_from *from)
{
	flags |= rx_flags(sock);
	if (sock->t.opts.rx == ZC_RX_AUTO && sock->rx == &zc_rx_tcpmmap)
		return rx_eof(sock, rx_auto(sock, out, flags, from));
	return rx_eof(sock, sock->rx->recv(&sock->t, out, flags, from));
}

ssize_t zc_recv(struct zc_sock *sock, struct zc_buf **out)
{
	ZC_CTX_GUARD(sock ? sock->ctx : NULL);
	int ret;

	if (!sock || !out)
		return -EINVAL;
	ret = zc_sock_rx_start(sock);
	if (ret)
		return ret;
	return rx_call(sock, out, 0, NULL);
}

int zc_sock_release(struct zc_sock *sock, struct zc_buf *buf)
{
	ZC_CTX_GUARD(sock ? sock->ctx : NULL);
	int ret;

	if (!sock || !buf)
		return -EINVAL;
	if (!sock->rx || !sock->rx->owns(&sock->t, buf))
		return -EXDEV;
	ret = zc_buf_release(buf);
	/* A receive callback paused on held buffers goes on. */
	if (!ret && sock->rx_cb && sock->rx_ready)
		zc_tsock_defer(&sock->t);
	return ret;
}

int zc_rx_tcpmmap_set_mapping(struct zc_sock *sock, bool on)
{
	int ret;

	if (!sock)
		return -EINVAL;
	if (sock->t.opts.rx != ZC_RX_TCPMMAP)
		return -EOPNOTSUPP;
	ret = zc_sock_rx_start(sock);
	if (ret)
		return ret;
	sock->rx_copy_only = !on;
	return 0;
}

/* ---- receiving with the sender's address -------------------------------- */

static ssize_t sock_recv(struct zc_sock *sock, struct zc_buf **out,
			 unsigned flags, struct zc_rx_from *from)
{
	if (from) {
		from->len = 0;
		if (sock->t.type == SOCK_DGRAM &&
		    !(sock->rx->flags & ZC_RXO_FROM))
			return -EOPNOTSUPP;
	}
	return rx_call(sock, out, flags, from);
}

ssize_t zc_recvfrom(struct zc_sock *sock, struct zc_buf **out,
		    struct sockaddr *from, socklen_t *fromlen)
{
	ZC_CTX_GUARD(sock ? sock->ctx : NULL);
	struct zc_rx_from f;
	ssize_t n;
	int ret;

	if (!sock || !out || (from && !fromlen))
		return -EINVAL;
	ret = zc_sock_rx_start(sock);
	if (ret)
		return ret;
	n = sock_recv(sock, out, 0, fromlen ? &f : NULL);
	if (n > 0 && fromlen) {
		if (from)
			memcpy(from, &f.addr,
			       f.len < *fromlen ? f.len : *fromlen);
		*fromlen = f.len;
	}
	return n;
}

/* ---- the receive callback ----------------------------------------------- */

/* Buffers per socket per round: one busy socket cannot starve the others;
 * the rest waits for the next round (the socket stays queued). */
#define ZC_RX_PER_RUN 64

bool zc_sock_rx_wants_epollin(const struct zc_sock *sock)
{
	return sock->rx_cb && !sock->rx_ended && sock->rx &&
	       !(sock->rx->flags & ZC_RXO_RING);
}

int zc_recv_start(struct zc_sock *sock, zc_recv_cb cb, void *arg)
{
	ZC_CTX_GUARD(sock ? sock->ctx : NULL);
	int ret;

	if (!sock || !cb)
		return -EINVAL;
	ret = zc_sock_rx_start(sock);
	if (ret)
		return ret;
	/* A UDP server needs each datagram's sender. */
	if (sock->t.unconnected && !(sock->rx->flags & ZC_RXO_FROM))
		return -EOPNOTSUPP;
	sock->rx_cb = cb;
	sock->rx_arg = arg;
	/* Data may be queued already: look at once, from process(). */
	sock->rx_ready = true;
	zc_sock_ep_update(sock);
	zc_tsock_defer(&sock->t);
	return 0;
}

int zc_recv_stop(struct zc_sock *sock)
{
	ZC_CTX_GUARD(sock ? sock->ctx : NULL);
	if (!sock || !sock->rx_cb)
		return -EINVAL;
	sock->rx_cb = NULL;
	sock->rx_arg = NULL;
	zc_sock_ep_update(sock);
	return 0;
}

/* End of stream or an error: told once, then the callback is done. */
static void rx_end(struct zc_sock *sock, ssize_t n)
{
	zc_recv_cb cb = sock->rx_cb;

	sock->rx_ended = true;
	sock->rx_ready = false;
	zc_sock_ep_update(sock);
	cb(sock, NULL, n, NULL, sock->rx_arg);
}

int zc_sock_rx_deliver(struct zc_sock *sock)
{
	struct zc_rx_from from;
	bool want_from = sock->t.unconnected;
	int ncb = 0, tries = 0;

	if (!(sock->rx->flags & ZC_RXO_RING) && !sock->rx_ready)
		return 0;
	while (sock->rx_cb && !sock->rx_ended && tries++ < ZC_RX_PER_RUN) {
		struct zc_buf *buf = NULL;
		ssize_t n;

		sock->t.rx_drained = false;
		n = sock_recv(sock, &buf, ZC_RXF_NOWAIT | ZC_RXF_BATCH,
			      want_from ? &from : NULL);
		if (n == -EAGAIN || n == -ENOBUFS) {
			/* -ENOBUFS: every buffer is held; zc_sock_release()
			 * of one queues the socket again. */
			sock->rx_ready = n == -ENOBUFS;
			return ncb;
		}
		/* An empty datagram: UDP has no end of stream (counted in
		 * tries, so a flood of them cannot hold process()). */
		if (n == 0 && sock->t.type == SOCK_DGRAM)
			continue;
		ncb++;
		if (n <= 0) {
			rx_end(sock, n);
			break;
		}
		sock->rx_cb(sock, buf, n,
			    want_from && from.len
				    ? (struct sockaddr *)&from.addr
				    : NULL,
			    sock->rx_arg);
		/* Nothing left: save the recv() that would say -EAGAIN (but
		 * not past the peer's end: that recv() says 0). */
		if (sock->t.rx_drained && !sock->rx_hup) {
			sock->rx_ready = false;
			return ncb;
		}
	}
	/* More may be queued: go on in the next round. */
	if (sock->rx_cb && !sock->rx_ended && tries > ZC_RX_PER_RUN)
		zc_tsock_defer(&sock->t);
	return ncb;
}
