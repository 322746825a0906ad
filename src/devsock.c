/* SPDX-License-Identifier: MIT */
/*
 * Sockets on device transports (zcrx, devmem): their memory as a region,
 * and the option checks they add.  Kept apart from sock.c, send.c and
 * recv.c, which only call in here.
 */
#include <errno.h>

#include "sock.h"

bool zc_rx_mode_is_dev(enum zc_rx_mode mode)
{
	return mode == ZC_RX_ZCRX || mode == ZC_RX_DEVMEM;
}

int zc_sock_dev_opts_check(const struct zc_sock_opts *o)
{
	bool dev = zc_rx_mode_is_dev(o->rx) || o->tx == ZC_TX_DEVMEM;

	/* A dma-buf fd without the flag would be fd 0 by mistake. */
	if (o->dmabuf_fd && !(o->flags & ZC_SOCK_DMABUF))
		return -EINVAL;
	if ((o->flags & ZC_SOCK_DMABUF) && (!dev || o->dmabuf_fd < 0))
		return -EINVAL;
	if ((o->flags & ZC_SOCK_ZCRX_NODEV) && o->rx != ZC_RX_ZCRX)
		return -EINVAL;
	if (!dev && (o->ifindex || o->rx_queue || o->zcrx_rq_entries))
		return -EINVAL;
	return 0;
}

int zc_sock_dev_region(struct zc_sock *sock, struct zc_region **out)
{
	int ret;

	if (!sock || !out)
		return -EINVAL;
	if (sock->tx && sock->tx->region) {
		*out = sock->tx->region(&sock->t);
		return 0;
	}
	if (!zc_rx_mode_is_dev(sock->t.opts.rx))
		return -EOPNOTSUPP;
	ret = zc_sock_rx_start(sock);
	if (ret)
		return ret;
	if (!sock->rx->region)
		return -EOPNOTSUPP; /* fell back */
	*out = sock->rx->region(&sock->t);
	return 0;
}
