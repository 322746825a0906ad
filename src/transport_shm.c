/* SPDX-License-Identifier: MIT */
/*
 * Transport "shm": the shared-region channel between two processes on one
 * host, over a connected AF_UNIX stream socket whose ends both attached
 * with ZC_TX_SHM/ZC_RX_SHM.  The socket carries the handshake (and tells
 * us when the peer is gone); the bytes go through memory set up once.
 *
 *  - A send from the channel's region (zc_sock_region, a pool over it)
 *    passes a descriptor: no copy.  It holds one completion id per
 *    descriptor and completes as ZC_RESULT_ZEROCOPY once the receiver
 *    released every buffer (the id comes back on the return ring).
 *  - A send from other memory is copied once into the copy area and
 *    completes at once as ZC_RESULT_COPIED (ZC_WHY_SHM_COPY); its chunks
 *    are reused only when the receiver has released them.
 *  - No room (descriptor slots, copy area, ids): the send stays queued
 *    (-EAGAIN) and goes on when returns free room.
 *  - A received buffer points into the peer's file, mapped read-only; its
 *    release pushes the token back on our return ring.
 *
 * Kernel rules this file relies on (with shm_chan.c's):
 *  - the peer's memfd is sealed against shrinking, so reading a buffer
 *    handed out never faults, even after the peer died;
 *  - an AF_UNIX stream socket hangs up (EPOLLHUP) when the peer's end is
 *    closed, also when the peer process is killed, so sends waiting for
 *    returns learn that no return will ever come.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "region.h"
#include "shm_chan.h"
#include "transport.h"

#define SHM_DEFAULT_SIZE (4u << 20)
#define SHM_DEFAULT_TIMEOUT_MS 2000
/* Copied sends go in chunks of at most a quarter of the copy area (so
 * the receiver works on one while the next is written), at least this
 * much when the area is fragmented. */
#define SHM_MIN_CHUNK 4096u
/* A blocking receive looks this long before it sleeps. */
#define SHM_SPIN_US 50

struct shm_tx {
	struct zc_shm_chan *chan;
	struct zc_shm_arena arena;
	uint32_t max_chunk;
	int error; /* the channel failed: every send fails so */
};

struct shm_rx_ent {
	struct zc_buf buf;
	struct zc_seg seg;
	struct zc_shm_ret ret; /* what the release hands back */
};

struct shm_rx {
	struct zc_shm_chan *chan;
	struct zc_tsock *sock; /* NULL once the socket is gone */
	struct zc_ubuf ubuf;   /* static: shared by every buffer */
	unsigned out;	       /* buffers the application holds */
	int error;
	uint32_t nfree, npend;
	uint32_t free[ZC_SHM_RING];
	uint32_t pend[ZC_SHM_RING]; /* released, return ring was full */
	struct shm_rx_ent ents[ZC_SHM_RING];
};

/* ---- failure ------------------------------------------------------------ */

/* The peer is gone or broke the protocol: nothing more will come back, so
 * the sends waiting for their buffers complete now, as errors. */
static void shm_fail(struct zc_tsock *sock, struct shm_tx *tx, int err)
{
	if (tx->error)
		return;
	tx->error = err;
	zc_tsock_error(sock, err);
	zc_tracker_drain(&sock->ids, zc_req_id_done, sock);
}

/* ---- returns ------------------------------------------------------------ */

static void shm_ret_apply(struct zc_tsock *sock, struct shm_tx *tx,
			  const struct zc_shm_ret *r)
{
	int ret = -EPROTO;

	if (r->flags == ZC_SHM_D_COPY)
		ret = zc_shm_arena_free(&tx->arena, r->token);
	else if (!r->flags)
		ret = zc_tracker_complete(&sock->ids, r->token, r->token, false,
					  zc_req_id_done, sock);
	/* A token we never issued, or returned twice: ignored. */
	if (ret < 0)
		sock->stats.bad_notifications++;
}

/* Apply what the receiver handed back; returns how many. */
static uint32_t shm_returns(struct zc_tsock *sock, struct shm_tx *tx)
{
	uint32_t n, head, total = 0;

	do {
		if (zc_shm_ret_avail(tx->chan, &n, &head)) {
			shm_fail(sock, tx, -EPROTO);
			return total;
		}
		for (uint32_t i = 0; i < n; i++) {
			struct zc_shm_ret r;

			zc_shm_ret_read(tx->chan, i, &r);
			shm_ret_apply(sock, tx, &r);
		}
		total += n;
	} while (n && zc_shm_ret_done(tx->chan, head));
	return total;
}

static bool shm_outstanding(const struct zc_tsock *sock,
			    const struct shm_tx *tx)
{
	return sock->ids.inflight || tx->arena.live;
}

static void shm_reap(struct zc_tsock *sock)
{
	struct shm_tx *tx = sock->tx_priv;

	zc_shm_bell_drain(tx->chan);
	if (tx->error)
		return;
	/* A wake-up that brought nothing may be the peer's hang-up. */
	if (!shm_returns(sock, tx) && shm_outstanding(sock, tx) &&
	    zc_shm_peer_gone(tx->chan))
		shm_fail(sock, tx, -EPIPE);
}

/* ---- sending ------------------------------------------------------------ */

/* The segment holding the first unsent byte, and the offset in it. */
static const struct zc_seg *req_pos(const struct zc_req *req, size_t *skip)
{
	size_t s = req->sent;
	unsigned i = 0;

	while (s >= req->buf.segs[i].len)
		s -= req->buf.segs[i++].len;
	*skip = s;
	return &req->buf.segs[i];
}

/* Room for one more descriptor: a slot in the ring and a token. */
static int shm_room(struct zc_tsock *sock, struct shm_tx *tx, uint32_t pending)
{
	uint32_t room;

	if (zc_shm_tx_room(tx->chan, pending, &room)) {
		shm_fail(sock, tx, -EPROTO);
		return -EPROTO;
	}
	if (!room || zc_tracker_full(&sock->ids) ||
	    sock->ids.inflight + tx->arena.live >= ZC_SHM_RING)
		return -EAGAIN;
	return 0;
}

/* A descriptor for the next bytes of req: the region's own memory as it
 * is, anything else copied into the copy area. */
static int shm_fill(struct zc_tsock *sock, struct shm_tx *tx,
		    struct zc_req *req, struct zc_shm_desc *d)
{
	struct zc_shm_chan *c = tx->chan;
	size_t skip;
	const struct zc_seg *seg = req_pos(req, &skip);
	const char *base = (const char *)seg->base + skip;
	size_t len = seg->len - skip;
	uint32_t off, tok, got;

	if (zc_region_contains(c->region, base, len)) {
		zc_tracker_issue(&sock->ids, req, &tok);
		zc_ubuf_get(&req->ubuf);
		off = c->copy_len +
		      (uint32_t)(base - (const char *)c->region->base);
		*d = (struct zc_shm_desc){ off, (uint32_t)len, tok, 0 };
		req->sent += len;
		return 0;
	}
	got = zc_shm_arena_alloc(
		&tx->arena, len < tx->max_chunk ? (uint32_t)len : tx->max_chunk,
		SHM_MIN_CHUNK, &off, &tok);
	if (!got)
		return -EAGAIN;
	memcpy(c->copy + off, base, got);
	req->why = ZC_WHY_SHM_COPY;
	*d = (struct zc_shm_desc){ off, got, tok, ZC_SHM_D_COPY };
	req->sent += got;
	return 0;
}

/* Write descriptors for as much of req as there is room for, publish
 * them at once.  0 when all of it is out. */
static int shm_push_some(struct zc_tsock *sock, struct shm_tx *tx,
			 struct zc_req *req)
{
	bool zc = false;
	uint32_t n = 0;
	int ret = 0;

	while (zc_req_left(req)) {
		struct zc_shm_desc d;

		ret = shm_room(sock, tx, n);
		if (!ret)
			ret = shm_fill(sock, tx, req, &d);
		if (ret)
			break;
		zc |= !(d.flags & ZC_SHM_D_COPY);
		zc_shm_tx_write(tx->chan, n++, &d);
	}
	if (n) {
		/* Region buffers come back as returns: be rung for them. */
		if (zc)
			zc_shm_tx_arm(tx->chan, true);
		zc_shm_tx_publish(tx->chan, n);
	}
	return ret;
}

static int shm_push(struct zc_tsock *sock, struct zc_req *req)
{
	struct shm_tx *tx = sock->tx_priv;
	int ret;

	for (;;) {
		/* Returns are read when room runs out (below) or the
		 * doorbell rings (reap), not per send. */
		if (tx->error)
			return tx->error;
		ret = shm_push_some(sock, tx, req);
		if (ret != -EAGAIN)
			break;
		/* Full: be rung when returns free room, then look once more
		 * (they may have come before we asked). */
		zc_shm_tx_arm(tx->chan, true);
		if (shm_returns(sock, tx))
			continue;
		if (zc_shm_peer_gone(tx->chan))
			shm_fail(sock, tx, -EPIPE);
		return tx->error ? tx->error : -EAGAIN;
	}
	if (!ret && !sock->ids.inflight)
		zc_shm_tx_arm(tx->chan, false);
	return ret;
}

static uint32_t shm_size(const struct zc_tsock *sock)
{
	return sock->opts.shm_size ? (uint32_t)sock->opts.shm_size
				   : SHM_DEFAULT_SIZE;
}

static int shm_init(struct zc_tsock *sock)
{
	int tmo = sock->opts.close_timeout_ms > 0 ? sock->opts.close_timeout_ms
						  : SHM_DEFAULT_TIMEOUT_MS;
	struct shm_tx *tx;
	int ret;

	if (sock->opts.shm_size % ZC_SHM_PAGE ||
	    sock->opts.shm_size > ZC_SHM_AREA_MAX)
		return -EINVAL;
	tx = calloc(1, sizeof(*tx));
	if (!tx)
		return -ENOMEM;
	ret = zc_shm_chan_open(sock->fd, shm_size(sock), tmo, &tx->chan);
	if (!ret)
		ret = zc_tsock_watch(sock, tx->chan->bell);
	if (ret) {
		zc_shm_chan_put(tx->chan);
		free(tx);
		return ret;
	}
	zc_shm_arena_init(&tx->arena, tx->chan->copy_len);
	tx->max_chunk = tx->chan->copy_len / 4;
	if (tx->max_chunk < SHM_MIN_CHUNK)
		tx->max_chunk = SHM_MIN_CHUNK;
	sock->tx_priv = tx;
	return 0;
}

static void shm_fini(struct zc_tsock *sock)
{
	struct shm_tx *tx = sock->tx_priv;

	sock->tx_priv = NULL;
	zc_shm_chan_put(tx->chan);
	free(tx);
}

int zc_tx_shm_region(struct zc_tsock *sock, struct zc_region **out)
{
	struct shm_tx *tx = sock->tx_priv;

	*out = tx->chan->region;
	return 0;
}

const struct zc_tx_ops zc_tx_shm = {
	.name = "shm",
	.mode = ZC_TX_SHM,
	.flags = ZC_TXO_RING, /* sends wait for returns, not socket space */
	.init = shm_init,
	.push = shm_push,
	.reap = shm_reap,
	.fini = shm_fini,
};

/* ---- receiving ---------------------------------------------------------- */

static void rx_free(struct shm_rx *rx)
{
	zc_shm_chan_put(rx->chan);
	free(rx);
}

/* Returns the ring had no room for, in the order they were released. */
static void rx_flush_pending(struct shm_rx *rx)
{
	uint32_t i = 0;

	while (i < rx->npend &&
	       !zc_shm_ret_push(rx->chan, &rx->ents[rx->pend[i]].ret))
		rx->free[rx->nfree++] = rx->pend[i++];
	if (!i)
		return;
	memmove(rx->pend, rx->pend + i, (rx->npend - i) * sizeof(*rx->pend));
	rx->npend -= i;
}

/* Runs after the buffer's completion (zc_buf_release orders them). */
static void rx_recycle(struct zc_buf *buf)
{
	struct shm_rx *rx = buf->owner;
	struct shm_rx_ent *ent = (struct shm_rx_ent *)buf;
	uint32_t idx = (uint32_t)(ent - rx->ents);

	buf->state = ZC_BUF_FREE;
	rx->out--;
	rx_flush_pending(rx);
	if (rx->npend || zc_shm_ret_push(rx->chan, &ent->ret))
		rx->pend[rx->npend++] = idx;
	else
		rx->free[rx->nfree++] = idx;
	if (!rx->sock && !rx->out)
		rx_free(rx);
}

static int rx_init(struct zc_tsock *sock)
{
	const struct zc_ubuf_ops *ops = sock->opts.rx_done;
	struct shm_tx *tx = sock->tx_priv;
	struct shm_rx *rx;

	if (!tx || (ops && !ops->complete))
		return -EINVAL;
	rx = calloc(1, sizeof(*rx));
	if (!rx)
		return -ENOMEM;
	rx->chan = tx->chan;
	rx->chan->refs++;
	zc_ubuf_init(&rx->ubuf, ops ? ops : &zc_ubuf_nop_ops, ZC_F_STATIC,
		     sock->opts.rx_done_arg);
	for (uint32_t i = 0; i < ZC_SHM_RING; i++) {
		zc_buf_init(&rx->ents[i].buf, &rx->ents[i].seg, 1, rx_recycle,
			    rx);
		rx->ents[i].buf.state = ZC_BUF_FREE;
		rx->free[rx->nfree++] = ZC_SHM_RING - 1 - i;
	}
	rx->sock = sock;
	sock->rx_priv = rx;
	return 0;
}

static ssize_t rx_fail(struct zc_tsock *sock, struct shm_rx *rx, int err)
{
	rx->error = err;
	zc_tsock_error(sock, err);
	return err;
}

static ssize_t rx_hand_out(struct zc_tsock *sock, struct shm_rx *rx,
			   const struct zc_shm_desc *d, struct zc_buf **out)
{
	uint32_t idx = rx->free[--rx->nfree];
	struct shm_rx_ent *ent = &rx->ents[idx];

	zc_buf_reset(&ent->buf);
	ent->buf.state = ZC_BUF_LIVE;
	/* Cannot fail: one segment, length checked non-zero. */
	zc_buf_add(&ent->buf, (void *)(rx->chan->pdata + d->off), d->len);
	zc_buf_attach(&ent->buf, &rx->ubuf);
	ent->ret = (struct zc_shm_ret){ d->token, d->flags };
	rx->out++;
	sock->stats.rx_bytes += d->len;
	sock->stats.rx_bytes_mapped += d->len;
	*out = &ent->buf;
	return d->len;
}

/* The next descriptor as a buffer: its length, 0 if none, or an error. */
static ssize_t rx_take(struct zc_tsock *sock, struct shm_rx *rx,
		       struct zc_buf **out)
{
	struct zc_shm_desc d;
	uint32_t n;

	if (rx->error)
		return rx->error;
	rx_flush_pending(rx);
	if (zc_shm_rx_avail(rx->chan, &n))
		return rx_fail(sock, rx, -EPROTO);
	if (!n)
		return 0;
	if (!rx->nfree)
		return -ENOBUFS; /* the application holds every buffer */
	if (zc_shm_rx_read(rx->chan, &d))
		return rx_fail(sock, rx, -EPROTO);
	zc_shm_rx_next(rx->chan);
	return rx_hand_out(sock, rx, &d, out);
}

/* Nothing queued: 1 to look again, 0 at end of stream, -EAGAIN when the
 * caller must not wait, or an error. */
static ssize_t rx_idle(struct zc_tsock *sock, struct shm_rx *rx, unsigned flags)
{
	bool wait = !sock->nonblock && !(flags & ZC_RXF_NOWAIT);
	int end;

	/* A peer on another CPU often answers within microseconds: look a
	 * while before paying for a sleep and the peer for a wake-up. */
	if (wait && zc_shm_rx_spin(rx->chan, SHM_SPIN_US))
		return 1;
	if (zc_shm_rx_arm(rx->chan))
		return 1;
	end = zc_shm_peer_ended(rx->chan);
	if (end < 0)
		return rx_fail(sock, rx, end);
	if (end) /* what it published before it ended is still ours */
		return zc_shm_rx_arm(rx->chan) ? 1 : 0;
	if (!wait)
		return -EAGAIN;
	zc_shm_bell_drain(rx->chan);
	if (!zc_shm_rx_arm(rx->chan))
		zc_shm_wait(rx->chan);
	return 1;
}

static ssize_t rx_recv(struct zc_tsock *sock, struct zc_buf **out,
		       unsigned flags, struct zc_rx_from *from)
{
	struct shm_rx *rx = sock->rx_priv;

	(void)from; /* a stream: no sender address */
	for (;;) {
		ssize_t n = rx_take(sock, rx, out);

		if (n)
			return n;
		n = rx_idle(sock, rx, flags);
		if (n <= 0)
			return n;
	}
}

static bool rx_busy(struct zc_tsock *sock)
{
	const struct shm_rx *rx = sock->rx_priv;

	return rx->out;
}

static bool rx_owns(struct zc_tsock *sock, const struct zc_buf *buf)
{
	return buf->recycle == rx_recycle && buf->owner == sock->rx_priv;
}

static void rx_kick(struct zc_tsock *sock)
{
	rx_flush_pending(sock->rx_priv);
}

static void rx_fini(struct zc_tsock *sock)
{
	struct shm_rx *rx = sock->rx_priv;

	sock->rx_priv = NULL;
	rx->sock = NULL;
	/* Buffers still held stay readable; the last release frees. */
	if (!rx->out)
		rx_free(rx);
}

const struct zc_rx_ops zc_rx_shm = {
	.name = "shm",
	.mode = ZC_RX_SHM,
	.init = rx_init,
	.recv = rx_recv,
	.busy = rx_busy,
	.owns = rx_owns,
	.kick = rx_kick,
	.fini = rx_fini,
};
