/* SPDX-License-Identifier: MIT */
/*
 * Transport "devmem": devmem TCP.  Receive: a dma-buf bound to the RX
 * queue the flow is steered to; recvmsg(MSG_SOCK_DEVMEM) copies headers
 * and stray packets into our buffer and names the rest by offset in the
 * dma-buf.  Transmit: a dma-buf bound to the interface, sent from by
 * offset.  Payload in the dma-buf is never read by zcopy: buffers over it
 * are ZC_F_UNREADABLE, while linear (copied) runs stay readable.
 *
 * Kernel rules this file relies on (Linux 6.12 RX, 6.15 TX):
 *  - bind-rx and bind-tx (netdev netlink, dmabuf.h) need CAP_NET_ADMIN, a
 *    driver with queue management (RX; header split on, hds-thresh 0) or
 *    netmem TX; the binding lasts while its netlink socket is open;
 *  - recvmsg(MSG_SOCK_DEVMEM) describes each frag in a control message
 *    (devmem.c); every dma-buf frag holds a token until
 *    SO_DEVMEM_DONTNEED returns it (devmem.c has the limits); tokens
 *    still held when the socket closes are freed by the kernel;
 *  - a control buffer too small for every frag makes the kernel stop
 *    early (the rest comes with the next call);
 *  - a devmem send needs SO_BINDTODEVICE to the bound interface,
 *    MSG_ZEROCOPY (completions on the error queue, as for msgzc) and an
 *    SCM_DEVMEM_DMABUF control message with the tx binding's id; its iov
 *    bases are offsets in the dma-buf.
 */
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "devmem.h"
#include "dmabuf.h"
#include "region.h"
#include "transport.h"

#define DM_MAX_FRAGS 256
#define DM_LINEAR_DEFAULT 65536
#define DM_HELD_DEFAULT 64

/* One recvmsg(): its linear bytes, shared by the runs made from it. */
struct dm_msg {
	unsigned refs;
	char linear[];
};

/* A run of frags of one kind, handed out as one buffer. */
struct dm_run {
	struct zc_buf buf;
	struct dm_msg *msg;
	struct dm_run *next;
	unsigned ntok;
	uint32_t *tokens;
	struct zc_seg segs[];
};

struct dm_rx {
	struct zc_tsock *sock; /* NULL once the socket is gone */
	struct zc_dmabuf dmabuf;
	struct zc_netdev_bind bind;
	size_t linear_len;
	unsigned max_held;
	struct dm_run *head, *tail; /* received, not handed out */
	unsigned out;
	bool eof;
	struct zc_ubuf ubuf;
	struct zc_devmem_frag frags[DM_MAX_FRAGS];
	uint32_t tokens[DM_MAX_FRAGS];
	char ctl[DM_MAX_FRAGS * CMSG_SPACE(sizeof(struct dmabuf_cmsg))];
};

/* ---- giving tokens back ------------------------------------------------ */

static void dm_dontneed(int fd, const uint32_t *tokens, size_t n)
{
	struct dmabuf_token r[ZC_DEVMEM_DONTNEED_MAX_TOKENS];
	unsigned nr;

	while (n) {
		size_t k = zc_devmem_dontneed_batch(tokens, n, r, &nr);

		/* Tokens the kernel does not know are skipped by it; nothing
		 * else can be done about them. */
		setsockopt(fd, SOL_SOCKET, SO_DEVMEM_DONTNEED, r,
			   (socklen_t)(nr * sizeof(r[0])));
		tokens += k;
		n -= k;
	}
}

static void dm_msg_put(struct dm_msg *m)
{
	if (m && !--m->refs)
		free(m);
}

static void dm_run_free(struct dm_rx *rx, struct dm_run *run)
{
	if (rx->sock && run->ntok)
		dm_dontneed(rx->sock->fd, run->tokens, run->ntok);
	dm_msg_put(run->msg);
	free(run);
}

static void dm_rx_free(struct dm_rx *rx)
{
	while (rx->head) {
		struct dm_run *r = rx->head;

		rx->head = r->next;
		dm_run_free(rx, r);
	}
	zc_netdev_unbind(&rx->bind);
	zc_dmabuf_close(&rx->dmabuf);
	free(rx);
}

/* ---- receiving --------------------------------------------------------- */

static void dm_recycle(struct zc_buf *buf);

static struct dm_run *dm_run_new(struct dm_rx *rx, unsigned nsegs)
{
	struct dm_run *r = calloc(1, sizeof(*r) + nsegs * sizeof(r->segs[0]) +
					     nsegs * sizeof(uint32_t));

	if (!r)
		return NULL;
	r->tokens = (uint32_t *)&r->segs[nsegs];
	zc_buf_init(&r->buf, r->segs, nsegs, dm_recycle, rx);
	return r;
}

static void dm_queue(struct dm_rx *rx, struct dm_run *r)
{
	if (rx->tail)
		rx->tail->next = r;
	else
		rx->head = r;
	rx->tail = r;
}

/* Frags [i, j) of one kind become one run. */
static int dm_run_add(struct dm_rx *rx, struct dm_msg *m, unsigned i,
		      unsigned j, size_t *lin)
{
	struct dm_run *r = dm_run_new(rx, j - i);

	if (!r)
		return -ENOMEM;
	for (unsigned k = i; k < j; k++) {
		const struct zc_devmem_frag *f = &rx->frags[k];

		if (f->kind == ZC_DEVMEM_LINEAR) {
			zc_buf_add(&r->buf, m->linear + *lin, f->len);
			*lin += f->len;
			continue;
		}
		zc_buf_add_region(&r->buf, rx->dmabuf.standin, f->off, f->len);
		r->tokens[r->ntok++] = f->token;
	}
	if (rx->frags[i].kind == ZC_DEVMEM_LINEAR) {
		r->msg = m;
		m->refs++;
	}
	dm_queue(rx, r);
	return 0;
}

static int dm_runs(struct dm_rx *rx, struct dm_msg *m, unsigned n)
{
	size_t lin = 0;
	unsigned i = 0;
	int ret = 0;

	while (i < n && !ret) {
		unsigned j = i + 1;

		while (j < n && rx->frags[j].kind == rx->frags[i].kind)
			j++;
		/* Empty frags carry nothing to hand out. */
		ret = dm_run_add(rx, m, i, j, &lin);
		i = j;
	}
	return ret;
}

static void dm_give_back(struct dm_rx *rx, unsigned n)
{
	unsigned nt = 0;

	for (unsigned i = 0; i < n; i++)
		if (rx->frags[i].kind == ZC_DEVMEM_DMABUF)
			rx->tokens[nt++] = rx->frags[i].token;
	dm_dontneed(rx->sock->fd, rx->tokens, nt);
}

/* One recvmsg(): 0 with runs queued (or eof), or -errno. */
static int dm_read(struct zc_tsock *sock, struct dm_rx *rx, unsigned flags)
{
	struct dm_msg *m = malloc(sizeof(*m) + rx->linear_len);
	struct iovec iov = { .iov_base = m ? m->linear : NULL,
			     .iov_len = rx->linear_len };
	struct msghdr msg = { .msg_iov = &iov,
			      .msg_iovlen = 1,
			      .msg_control = rx->ctl,
			      .msg_controllen = sizeof(rx->ctl) };
	struct zc_devmem_expect want = { rx->bind.id, rx->dmabuf.size, 0 };
	unsigned nparsed, unknown;
	ssize_t n;
	int ret;

	if (!m)
		return -ENOMEM;
	m->refs = 1;
	n = recvmsg(sock->fd, &msg,
		    MSG_SOCK_DEVMEM | (sock->nonblock || (flags & ZC_RXF_NOWAIT)
					       ? MSG_DONTWAIT
					       : 0));
	ret = n < 0 ? -errno : 0;
	if (n == 0)
		rx->eof = true;
	if (n > 0) {
		want.received = (size_t)n;
		ret = zc_devmem_parse(rx->ctl, msg.msg_controllen, &want,
				      rx->frags, DM_MAX_FRAGS, &nparsed,
				      &unknown);
		if (ret < 0) {
			sock->stats.bad_notifications++;
			dm_give_back(rx, nparsed);
		} else {
			ret = dm_runs(rx, m, nparsed);
		}
	}
	dm_msg_put(m);
	return ret;
}

static ssize_t dm_hand_out(struct zc_tsock *sock, struct dm_rx *rx,
			   struct zc_buf **out)
{
	struct dm_run *r = rx->head;
	size_t len = r->buf.len;

	rx->head = r->next;
	if (!rx->head)
		rx->tail = NULL;
	r->buf.state = ZC_BUF_LIVE;
	zc_buf_attach(&r->buf, &rx->ubuf);
	rx->out++;
	sock->stats.rx_bytes += len;
	if (r->ntok)
		sock->stats.rx_bytes_zerocopy += len;
	else
		sock->stats.rx_bytes_copied += len;
	*out = &r->buf;
	return (ssize_t)len;
}

static ssize_t dm_recv(struct zc_tsock *sock, struct zc_buf **out,
		       unsigned flags, struct zc_rx_from *from)
{
	struct dm_rx *rx = sock->rx_priv;
	int ret;

	(void)from;
	for (;;) {
		if (rx->head) {
			if (rx->out >= rx->max_held)
				return -ENOBUFS;
			return dm_hand_out(sock, rx, out);
		}
		if (rx->eof)
			return 0;
		ret = dm_read(sock, rx, flags);
		if (ret == -EINTR)
			continue;
		if (ret == -EAGAIN || ret == -EWOULDBLOCK)
			return -EAGAIN;
		if (ret) {
			zc_tsock_error(sock, ret);
			return ret;
		}
	}
}

static void dm_recycle(struct zc_buf *buf)
{
	struct dm_rx *rx = buf->owner;

	buf->state = ZC_BUF_FREE;
	rx->out--;
	dm_run_free(rx, (struct dm_run *)buf);
	if (!rx->sock && !rx->out)
		dm_rx_free(rx);
}

static int dm_rx_setup(struct zc_tsock *sock, struct dm_rx *rx)
{
	const struct zc_sock_opts *o = &sock->opts;
	size_t size = o->rx_buf_size && o->rx_buf_count
			      ? o->rx_buf_size * o->rx_buf_count
			      : (size_t)DM_LINEAR_DEFAULT * DM_HELD_DEFAULT;
	int ret;

	if (o->rx_done && !o->rx_done->complete)
		return -EINVAL;
	if (sock->type != SOCK_STREAM)
		return -EPROTONOSUPPORT;
	if (!o->ifindex)
		return -EINVAL;
	ret = zc_dmabuf_open(o->flags & ZC_SOCK_DMABUF ? o->dmabuf_fd : -1,
			     size, &rx->dmabuf);
	if (!ret)
		ret = zc_netdev_bind_rx(o->ifindex, o->rx_queue, rx->dmabuf.fd,
					&rx->bind);
	rx->linear_len = o->rx_buf_size ? o->rx_buf_size : DM_LINEAR_DEFAULT;
	rx->max_held = o->rx_buf_count ? o->rx_buf_count : DM_HELD_DEFAULT;
	zc_ubuf_init(&rx->ubuf, o->rx_done ? o->rx_done : &zc_ubuf_nop_ops,
		     ZC_F_STATIC, o->rx_done_arg);
	return ret;
}

static int dm_rx_init(struct zc_tsock *sock)
{
	struct dm_rx *rx = calloc(1, sizeof(*rx));
	int ret;

	if (!rx)
		return -ENOMEM;
	rx->dmabuf.fd = -1;
	ret = dm_rx_setup(sock, rx);
	if (ret) {
		dm_rx_free(rx);
		return ret;
	}
	rx->sock = sock;
	sock->rx_priv = rx;
	return 0;
}

static bool dm_busy(struct zc_tsock *sock)
{
	struct dm_rx *rx = sock->rx_priv;

	return rx->out;
}

static bool dm_owns(struct zc_tsock *sock, const struct zc_buf *buf)
{
	return buf->recycle == dm_recycle && buf->owner == sock->rx_priv;
}

static struct zc_region *dm_rx_region(struct zc_tsock *sock)
{
	struct dm_rx *rx = sock->rx_priv;

	return rx->dmabuf.standin;
}

static void dm_rx_fini(struct zc_tsock *sock)
{
	struct dm_rx *rx = sock->rx_priv;

	sock->rx_priv = NULL;
	/* Tokens of runs not handed out go back while the socket is here;
	 * those the application holds are freed when the socket closes. */
	while (rx->head) {
		struct dm_run *r = rx->head;

		rx->head = r->next;
		dm_run_free(rx, r);
	}
	rx->tail = NULL;
	rx->sock = NULL;
	if (!rx->out)
		dm_rx_free(rx);
}

const struct zc_rx_ops zc_rx_devmem = {
	.name = "devmem",
	.mode = ZC_RX_DEVMEM,
	.init = dm_rx_init,
	.recv = dm_recv,
	.busy = dm_busy,
	.owns = dm_owns,
	.region = dm_rx_region,
	.fini = dm_rx_fini,
};

/* ---- transmit ---------------------------------------------------------- */

struct dm_tx {
	struct zc_dmabuf dmabuf;
	struct zc_netdev_bind bind;
};

/* The kernel's ABI: the offset in the dma-buf where the address would
 * be. */
static void *dm_offset(const struct zc_region *r, const void *p)
{
	uintptr_t off = (uintptr_t)p - (uintptr_t)r->base;

	return (void *)off; /* NOLINT(performance-no-int-to-ptr) */
}

/* The unsent part of req as offsets in the dma-buf, with the binding's
 * id; -1/EFAULT if it does not lie in the dma-buf's stand-in. */
static ssize_t dm_sendmsg(struct zc_tsock *sock, const struct zc_req *req,
			  int flags)
{
	struct dm_tx *tx = sock->tx_priv;
	const struct zc_region *r = tx->dmabuf.standin;
	char ctl[CMSG_SPACE(sizeof(uint32_t))] = { 0 };
	struct iovec iov[ZC_SEND_MAX_IOV];
	struct msghdr msg;
	struct cmsghdr *cm;

	zc_req_msghdr(req, &msg, iov);
	for (size_t i = 0; i < msg.msg_iovlen; i++) {
		if (!zc_region_contains(r, iov[i].iov_base, iov[i].iov_len)) {
			errno = EFAULT;
			return -1;
		}
		iov[i].iov_base = dm_offset(r, iov[i].iov_base);
	}
	msg.msg_control = ctl;
	msg.msg_controllen = sizeof(ctl);
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_DEVMEM_DMABUF;
	cm->cmsg_len = CMSG_LEN(sizeof(uint32_t));
	memcpy(CMSG_DATA(cm), &tx->bind.id, sizeof(uint32_t));
	return sendmsg(sock->fd, &msg, flags);
}

/* Device memory cannot be copied from: out of optmem the send fails. */
static int dm_push(struct zc_tsock *sock, struct zc_req *req)
{
	return zc_msgzc_push(sock, req, dm_sendmsg, false);
}

static int dm_tx_bind(struct zc_tsock *sock, struct dm_tx *tx)
{
	const struct zc_sock_opts *o = &sock->opts;
	char name[IF_NAMESIZE];
	int one = 1;
	int ret;

	if (sock->type != SOCK_STREAM)
		return -EPROTONOSUPPORT;
	if (!o->ifindex || !(o->flags & ZC_SOCK_DMABUF))
		return -EINVAL;
	if (!if_indextoname(o->ifindex, name))
		return -ENODEV;
	ret = zc_dmabuf_open(o->dmabuf_fd, 0, &tx->dmabuf);
	if (!ret)
		ret = zc_netdev_bind_tx(o->ifindex, tx->dmabuf.fd, &tx->bind);
	if (ret)
		return ret;
	if (setsockopt(sock->fd, SOL_SOCKET, SO_BINDTODEVICE, name,
		       (socklen_t)strlen(name) + 1) ||
	    setsockopt(sock->fd, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof(one)))
		return -errno;
	return 0;
}

static void dm_tx_free(struct dm_tx *tx)
{
	zc_netdev_unbind(&tx->bind);
	zc_dmabuf_close(&tx->dmabuf);
	free(tx);
}

static int dm_tx_init(struct zc_tsock *sock)
{
	struct dm_tx *tx = calloc(1, sizeof(*tx));
	int ret;

	if (!tx)
		return -ENOMEM;
	tx->dmabuf.fd = -1;
	ret = dm_tx_bind(sock, tx);
	if (ret) {
		dm_tx_free(tx);
		return ret;
	}
	sock->tx_priv = tx;
	return 0;
}

static struct zc_region *dm_tx_region(struct zc_tsock *sock)
{
	struct dm_tx *tx = sock->tx_priv;

	return tx->dmabuf.standin;
}

static void dm_tx_fini(struct zc_tsock *sock)
{
	if (sock->tx_priv)
		dm_tx_free(sock->tx_priv);
	sock->tx_priv = NULL;
}

const struct zc_tx_ops zc_tx_devmem = {
	.name = "devmem",
	.mode = ZC_TX_DEVMEM,
	.init = dm_tx_init,
	.push = dm_push,
	.reap = zc_msgzc_reap,
	.fini = dm_tx_fini,
	.region = dm_tx_region,
};
