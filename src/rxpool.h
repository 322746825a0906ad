/* SPDX-License-Identifier: MIT */
/*
 * Receive buffers for the paths that copy (the copy transport, and the
 * fallbacks of the zero-copy ones): rx_buf_count buffers of rx_buf_size
 * bytes in a region, handed out by recv().
 */
#ifndef ZC_SRC_RXPOOL_H
#define ZC_SRC_RXPOOL_H

#include "transport.h"

/* Pool buffers one stream recv() may fill under ZC_RXF_BATCH: a read as
 * large as an application's own 256 KiB recv() takes fewer calls, and
 * gives the peer fewer window updates to process, than a 64 KiB buffer
 * per call (1,000 echoed connections: 0.7x a plain epoll loop, 1.0x). */
#define ZC_RX_SCATTER 4

struct zc_rx_pool {
	struct zc_region *region;
	struct zc_pool *pool;
	/* Buffers such a recv() filled after the one it handed out, in
	 * stream order: the next receives hand them out, before any read. */
	struct zc_buf *stash[ZC_RX_SCATTER - 1];
	unsigned stash_head, stash_len;
	bool stash_drained; /* that recv() left nothing queued */
	/* TCP_INQ is on: a stream recv() says what it left queued.  Only a
	 * receive callback's reads ask, so it is switched on at the first. */
	bool inq;
	bool inq_tried;
};

/* The memory of count copying receive buffers of size bytes, buffer 0
 * ZC_RX_SKEW bytes in; -EOVERFLOW if it cannot be sized. */
int zc_rx_region_create(size_t size, unsigned count, struct zc_region **out);
int zc_rx_pool_init(struct zc_tsock *sock, struct zc_rx_pool *rp);
/* Free the pool, or, while the application holds buffers, leave it to
 * free itself when the last one is released. */
void zc_rx_pool_fini(struct zc_rx_pool *rp);
/* True while the application holds buffers (the stash is not its). */
bool zc_rx_pool_busy(const struct zc_rx_pool *rp);
/* Received data waits in the stash: the next receive must come here. */
bool zc_rx_pool_stashed(const struct zc_rx_pool *rp);
bool zc_rx_pool_owns(const struct zc_rx_pool *rp, const struct zc_buf *buf);
/* A pool buffer filled by one recv() of at most max bytes (0: the buffer
 * size; under ZC_RXF_BATCH, up to ZC_RX_SCATTER buffers), or the next
 * stashed one; rx_flags ZC_RXF_*.  Same returns as zc_recv(); -ENOBUFS
 * when every buffer is held. */
ssize_t zc_rx_pool_recv(struct zc_tsock *sock, struct zc_rx_pool *rp,
			size_t max, unsigned rx_flags, struct zc_buf **out);
/* The same with the sender's address in from (NULL: not wanted). */
ssize_t zc_rx_pool_recvfrom(struct zc_tsock *sock, struct zc_rx_pool *rp,
			    unsigned rx_flags, struct zc_buf **out,
			    struct zc_rx_from *from);
/* Give back a pool buffer that was never handed out, without running the
 * application's completion. */
void zc_rx_pool_unused(struct zc_buf *buf);
/* One recv() of up to len bytes with flags (plus MSG_DONTWAIT on
 * non-blocking sockets), retried on EINTR.  Bytes read, 0 at end of
 * stream, or -errno. */
ssize_t zc_rx_recv_into(struct zc_tsock *sock, void *dst, size_t len,
			int flags);

#endif
