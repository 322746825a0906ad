/* SPDX-License-Identifier: MIT */
/*
 * File sends (zc_send_file): a request whose bytes come from a file range
 * instead of segments, in the same send queue as memory sends, so the
 * stream keeps the order of the calls.  This file picks the mechanism and
 * builds the request; the mechanisms themselves are transport_file.c's,
 * and a mapped file goes out through the socket's zero-copy transport.
 */
#include <errno.h>

#include "sock.h"

int zc_sock_file_opts_check(const struct zc_sock_opts *o)
{
	if (o->reserved32)
		return -EINVAL;
	switch (o->file_tx) {
	case ZC_TX_AUTO:
	case ZC_TX_COPY:
	case ZC_TX_SENDFILE:
	case ZC_TX_SPLICE:
	case ZC_TX_URING_SPLICE:
		return 0;
	case ZC_TX_MSGZC:
		/* The map mechanism uses the socket's MSG_ZEROCOPY... */
		return o->tx == ZC_TX_AUTO || o->tx == ZC_TX_MSGZC ? 0
								   : -EINVAL;
	case ZC_TX_URING:
		/* ...or its io_uring. */
		return o->tx == ZC_TX_URING || o->tx == ZC_TX_URING_FIXED
			       ? 0
			       : -EINVAL;
	default:
		return -EINVAL;
	}
}

/* io_uring splice needs the context's ring, had or refused at attach as
 * for the pinned io_uring transports: without it the attach fails, or with
 * ZC_SOCK_FALLBACK the socket splices by splice(2) (stats.uring_error
 * says why). */
int zc_sock_file_setup(struct zc_sock *sock)
{
	struct zc_uring *u;
	int ret;

	if (sock->t.opts.file_tx != ZC_TX_URING_SPLICE)
		return 0;
	ret = zc_tsock_uring(&sock->t, &u);
	if (!ret)
		return 0;
	sock->t.stats.uring_error = ret;
	if (!(sock->t.opts.flags & ZC_SOCK_FALLBACK))
		return ret;
	sock->t.opts.file_tx = ZC_TX_SPLICE;
	return 0;
}

/* The socket's transport for a mapped file, if it is the one asked for:
 * ZC_TX_URING also covers uring-fixed (a mapping is not a registered
 * region, so it goes as a plain SEND_ZC). */
static const struct zc_tx_ops *map_transport(const struct zc_sock *sock,
					     enum zc_tx_mode want)
{
	const struct zc_tx_ops *tx = sock->tx ? sock->tx : sock->tx_zc;

	if (!tx)
		return NULL;
	if (tx->mode == want ||
	    (want == ZC_TX_URING && tx->mode == ZC_TX_URING_FIXED))
		return tx;
	return NULL;
}

static const struct zc_tx_ops *file_mechanism(enum zc_tx_mode mode,
					      uint8_t *why)
{
	switch (mode) {
	case ZC_TX_SENDFILE:
		*why = ZC_WHY_UNVERIFIED;
		return &zc_tx_sendfile;
	case ZC_TX_SPLICE:
		*why = ZC_WHY_UNVERIFIED;
		return &zc_tx_splice;
	case ZC_TX_URING_SPLICE:
		*why = ZC_WHY_UNVERIFIED;
		return &zc_tx_uring_splice;
	default:
		*why = ZC_WHY_TRANSPORT;
		return &zc_tx_fread;
	}
}

/* The mechanism for len bytes, and whether the request is auto's. */
static const struct zc_tx_ops *file_pick(struct zc_sock *sock, size_t len,
					 uint8_t *why, bool *is_auto)
{
	enum zc_tx_mode mode = sock->t.opts.file_tx;
	const struct zc_tx_ops *tx;

	*is_auto = mode == ZC_TX_AUTO;
	if (*is_auto) {
		tx = zc_file_auto(&sock->t, len);
		*why = tx == &zc_tx_sendfile ? ZC_WHY_UNVERIFIED
					     : ZC_WHY_POLICY;
		return tx;
	}
	if (mode == ZC_TX_MSGZC || mode == ZC_TX_URING) {
		*why = ZC_WHY_NONE;
		return map_transport(sock, mode);
	}
	return file_mechanism(mode, why);
}

/* A request for the range, without segments: the mechanism reads the
 * file (or zc_file_map() adds the mapping as the one segment). */
static void file_req_fill(struct zc_req *req, int fd, off_t offset, size_t len,
			  bool is_auto)
{
	zc_buf_init(&req->buf, req->segs, ZC_SEND_MAX_IOV, NULL, req);
	req->buf.len = len;
	req->is_file = true;
	req->destlen = 0;
	req->file = (struct zc_file_src){ .fd = fd,
					  .off = offset,
					  .may_fall_back = is_auto };
}

int zc_send_file(struct zc_sock *sock, int file_fd, off_t offset, size_t len,
		 zc_send_cb cb, void *arg)
{
	ZC_CTX_GUARD(sock ? sock->ctx : NULL);
	const struct zc_tx_ops *tx;
	struct zc_req *req;
	uint8_t why;
	bool is_auto;
	int ret;

	ret = zc_sock_send_check(sock, cb);
	if (ret)
		return ret;
	if (sock->t.type != SOCK_STREAM)
		return -EOPNOTSUPP;
	ret = zc_file_check(file_fd, offset, &len);
	if (ret)
		return ret;
	tx = file_pick(sock, len, &why, &is_auto);
	if (!tx)
		return -EOPNOTSUPP; /* the socket has no such transport */
	req = sock->free_reqs;
	file_req_fill(req, file_fd, offset, len, is_auto);
	if (!(tx->flags & ZC_TXO_FILE)) {
		ret = zc_file_map(req);
		if (ret && is_auto && ret != -EBADF) {
			/* Auto's mapping failed (no room, a file system that
			 * cannot map): the file is read instead. */
			zc_file_release(req);
			file_req_fill(req, file_fd, offset, len, is_auto);
			tx = &zc_tx_fread;
		} else if (ret) {
			zc_file_release(req);
			return ret;
		}
	}
	return zc_sock_submit(sock, req, tx, why, cb, arg);
}
