/* SPDX-License-Identifier: MIT */
/*
 * Receives.  The socket picks the receive transport for its options and,
 * under ZC_RX_AUTO, asks the policy before every receive whether mapping
 * pays; transports only do what they are told.
 */
#include <errno.h>

#include "sock.h"

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
				     st->rx_bytes_copied)
		       ? 0
		       : ZC_RXF_COPY;
}

ssize_t zc_recv(struct zc_sock *sock, struct zc_buf **out)
{
	int ret;

	if (!sock || !out)
		return -EINVAL;
	ret = zc_sock_rx_start(sock);
	if (ret)
		return ret;
	return sock->rx->recv(&sock->t, out, rx_flags(sock));
}

int zc_sock_release(struct zc_sock *sock, struct zc_buf *buf)
{
	if (!sock || !buf)
		return -EINVAL;
	if (!sock->rx || !sock->rx->owns(&sock->t, buf))
		return -EXDEV;
	return zc_buf_release(buf);
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
