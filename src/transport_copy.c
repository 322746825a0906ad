/* SPDX-License-Identifier: MIT */
/*
 * Transport "copy": plain sendmsg()/recv().  The baseline every other
 * transport is measured against and the fallback they all drop to.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "rxpool.h"
#include "transport.h"

static int copy_flags(const struct zc_tsock *sock, int flags)
{
	return flags | MSG_NOSIGNAL | (sock->nonblock ? MSG_DONTWAIT : 0);
}

ssize_t zc_copy_send_once(struct zc_tsock *sock, const struct zc_req *req)
{
	return zc_req_sendmsg(sock, req, copy_flags(sock, 0));
}

int zc_copy_push(struct zc_tsock *sock, struct zc_req *req, int flags)
{
	flags = copy_flags(sock, flags);
	while (zc_req_left(req)) {
		int ret = zc_req_advance(req, zc_req_sendmsg(sock, req, flags));

		if (ret)
			return ret;
	}
	return 0;
}

static int copy_push(struct zc_tsock *sock, struct zc_req *req)
{
	return zc_copy_push(sock, req, 0);
}

static int copy_init(struct zc_tsock *sock)
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

static int rx_copy_init(struct zc_tsock *sock)
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

static ssize_t rx_copy_recv(struct zc_tsock *sock, struct zc_buf **out,
			    unsigned flags, struct zc_rx_from *from)
{
	return zc_rx_pool_recvfrom(sock, sock->rx_priv, flags, out, from);
}

static bool rx_copy_busy(struct zc_tsock *sock)
{
	return zc_rx_pool_busy(sock->rx_priv);
}

static bool rx_copy_owns(struct zc_tsock *sock, const struct zc_buf *buf)
{
	return zc_rx_pool_owns(sock->rx_priv, buf);
}

static void rx_copy_fini(struct zc_tsock *sock)
{
	zc_rx_pool_fini(sock->rx_priv);
	free(sock->rx_priv);
	sock->rx_priv = NULL;
}

const struct zc_rx_ops zc_rx_copy = {
	.name = "copy",
	.mode = ZC_RX_COPY,
	.flags = ZC_RXO_FROM,
	.init = rx_copy_init,
	.recv = rx_copy_recv,
	.busy = rx_copy_busy,
	.owns = rx_copy_owns,
	.fini = rx_copy_fini,
};
