/* SPDX-License-Identifier: MIT */
/*
 * Transport "zcrx": io_uring zero-copy receive.  The NIC writes payload
 * straight into an area of this process (or a dma-buf); each RECV_ZC
 * completion says where, the application holds the buffer, and releasing
 * it returns the buffer to the kernel through the refill ring.
 *
 * Kernel rules this file relies on (Linux 6.15+):
 *  - zcrx needs a ring with IORING_SETUP_DEFER_TASKRUN, SINGLE_ISSUER and
 *    CQE32; the context's ring has 16-byte CQEs, so each zcrx socket has
 *    a ring of its own, used by the thread that attached it;
 *  - IORING_REGISTER_ZCRX_IFQ takes one RX queue of one interface, an
 *    area (user memory, or a dma-buf with IORING_ZCRX_AREA_DMABUF) and a
 *    region for the refill ring; it fails with -EOPNOTSUPP without queue
 *    management (lo, veth), -EINVAL with header split off or hds-thresh
 *    not 0 (and for flags the kernel does not know), -ERANGE for a queue
 *    that does not exist, -EEXIST/-EBUSY when XDP or another memory
 *    provider holds the queue, -EPERM without CAP_NET_ADMIN;
 *  - one memory provider per queue: a second socket on the same queue is
 *    refused (-EBUSY/-EEXIST) while the first holds it;
 *  - closing the ring unregisters the queue; area pages the kernel still
 *    references stay pinned until it lets go;
 *  - the flow must be steered to the queue (ethtool -N); data that
 *    arrives on another queue is not seen by this request.
 * zcrx.c has the rules of completions and of the refill ring.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "compat.h"
#include "dmabuf.h"
#include "region.h"
#include "transport.h"
#include "util.h"
#include "zcrx.h"

#define ZCRX_AREA_DEFAULT (4u << 20)
#define ZCRX_RQ_MAX 32768
#define ZCRX_RING_ENTRIES 256
#define ZCRX_RECV_DATA 1 /* user_data of the RECV_ZC request */

struct zcrx_ent {
	struct zc_buf buf;
	struct zc_seg seg;
	uint64_t off;
	uint32_t len;
	struct zcrx_ent *next_free;
};

struct zcrx_rx {
	struct zc_tsock *sock; /* NULL once the socket is gone */
	struct io_uring ring;
	bool ring_ok;
	bool nodev;
	struct zc_region *area; /* user memory, or the dma-buf stand-in */
	struct zc_dmabuf dmabuf;
	size_t page;
	void *rq_mem;
	size_t rq_len;
	struct zc_zcrx_refill refill;
	uint32_t zcrx_id;
	/* Copy counters of the kernel (7.1+), in the refill region. */
	const struct zc_zcrx_stats *kstats;
	uint64_t kcopied; /* of kstats->copy_bytes, counted already */
	struct zcrx_ent *ents, *free;
	unsigned nents;
	struct zc_zcrx_ret *ready; /* FIFO of frags to hand out */
	unsigned rhead, nready;
	unsigned out;
	bool armed, eof;
	int error;
	struct zc_ubuf ubuf;
};

/* ---- setup ------------------------------------------------------------- */

static int zcrx_ring(struct zcrx_rx *rx)
{
	struct io_uring_params p = {
		.flags = IORING_SETUP_DEFER_TASKRUN |
			 IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_CQE32 |
			 IORING_SETUP_SUBMIT_ALL,
	};
	int ret = io_uring_queue_init_params(ZCRX_RING_ENTRIES, &rx->ring, &p);

	/* A kernel without these flags (before 6.1) has no zcrx either. */
	if (ret == -EINVAL)
		return -EOPNOTSUPP;
	rx->ring_ok = !ret;
	return ret;
}

static int zcrx_area(struct zc_tsock *sock, struct zcrx_rx *rx,
		     struct io_uring_zcrx_area_reg *a)
{
	size_t len = sock->opts.rx_buf_size && sock->opts.rx_buf_count
			     ? sock->opts.rx_buf_size * sock->opts.rx_buf_count
			     : ZCRX_AREA_DEFAULT;
	int ret;

	if (sock->opts.flags & ZC_SOCK_DMABUF) {
		ret = zc_dmabuf_open(sock->opts.dmabuf_fd, 0, &rx->dmabuf);
		if (ret)
			return ret;
		rx->area = rx->dmabuf.standin;
		*a = (struct io_uring_zcrx_area_reg){
			.len = rx->dmabuf.size,
			.flags = IORING_ZCRX_AREA_DMABUF,
			.dmabuf_fd = (uint32_t)rx->dmabuf.fd,
		};
		return 0;
	}
	/* The kernel pins the area itself: no mlock here. */
	ret = zc_region_create(len, ZC_REGION_NOLOCK, &rx->area);
	if (ret)
		return ret;
	*a = (struct io_uring_zcrx_area_reg){
		.addr = (uintptr_t)rx->area->base,
		.len = rx->area->len,
	};
	return 0;
}

static uint32_t zcrx_rq_entries(const struct zc_tsock *sock, unsigned nents)
{
	uint32_t n =
		sock->opts.zcrx_rq_entries ? sock->opts.zcrx_rq_entries : nents;

	n = zc_roundup_pow2(n);
	return n > ZCRX_RQ_MAX ? ZCRX_RQ_MAX : n;
}

static int zcrx_register(struct zcrx_rx *rx, struct io_uring_zcrx_ifq_reg *reg,
			 bool stats)
{
	struct zc_zcrx_event_desc ev = {
		.flags = ZC_ZCRX_EVENT_DESC_FLAG_STATS,
		.stats_offset = rx->rq_len - rx->page,
	};
	int ret;

	zc_zcrx_reg_set_event(reg, stats ? (uintptr_t)&ev : 0);
	ret = (int)syscall(__NR_io_uring_register, rx->ring.ring_fd,
			   IORING_REGISTER_ZCRX_IFQ, reg, 1);
	return ret < 0 ? -errno : 0;
}

/* Register the queue; with the kernel's copy counters where it has them
 * (7.1+: older kernels refuse the word with -EINVAL, so ask again
 * without). */
static int zcrx_ifq(struct zc_tsock *sock, struct zcrx_rx *rx,
		    struct io_uring_zcrx_area_reg *a, uint32_t entries)
{
	struct io_uring_region_desc rd = {
		.user_addr = (uintptr_t)rx->rq_mem,
		.size = rx->rq_len - rx->page,
		.flags = IORING_MEM_REGION_TYPE_USER,
	};
	struct io_uring_zcrx_ifq_reg reg = {
		.if_idx = rx->nodev ? 0 : sock->opts.ifindex,
		.if_rxq = rx->nodev ? 0 : sock->opts.rx_queue,
		.rq_entries = entries,
		.flags = rx->nodev ? ZCRX_REG_NODEV : 0,
		.area_ptr = (uintptr_t)a,
		.region_ptr = (uintptr_t)&rd,
	};
	struct io_uring_zcrx_ifq_reg again = reg;
	int ret;

	rd.size = rx->rq_len; /* room for the counters after the ring */
	ret = zcrx_register(rx, &reg, true);
	if (ret == -EINVAL) {
		rd.size = rx->rq_len - rx->page;
		reg = again;
		ret = zcrx_register(rx, &reg, false);
	} else if (!ret) {
		rx->kstats = (const void *)((char *)rx->rq_mem + rx->rq_len -
					    rx->page);
	}
	/* 6.15 to 7.0 do not know NODEV: say "not supported". */
	if (ret == -EINVAL && rx->nodev)
		return -EOPNOTSUPP;
	if (ret)
		return ret;
	rx->zcrx_id = reg.zcrx_id;
	rx->refill.area_token = a->rq_area_token;
	return zc_zcrx_rq_init(&rx->refill.rq, rx->rq_mem, rx->rq_len,
			       &reg.offsets, reg.rq_entries);
}

static int zcrx_bufs(struct zc_tsock *sock, struct zcrx_rx *rx)
{
	const struct zc_ubuf_ops *ops = sock->opts.rx_done;

	if (ops && !ops->complete)
		return -EINVAL;
	rx->nents = (unsigned)(rx->area->len / rx->page);
	rx->ents = calloc(rx->nents, sizeof(*rx->ents));
	rx->ready = calloc(rx->nents, sizeof(*rx->ready));
	rx->refill.pend = calloc(rx->nents, sizeof(*rx->refill.pend));
	if (!rx->ents || !rx->ready || !rx->refill.pend)
		return -ENOMEM;
	rx->refill.cap = rx->nents;
	zc_ubuf_init(&rx->ubuf, ops ? ops : &zc_ubuf_nop_ops, ZC_F_STATIC,
		     sock->opts.rx_done_arg);
	return 0;
}

static void zcrx_free(struct zcrx_rx *rx)
{
	if (rx->ring_ok)
		io_uring_queue_exit(&rx->ring);
	if (rx->rq_mem)
		munmap(rx->rq_mem, rx->rq_len);
	if (rx->area && rx->area != rx->dmabuf.standin)
		zc_region_destroy(rx->area);
	zc_dmabuf_close(&rx->dmabuf);
	free(rx->refill.pend);
	free(rx->ready);
	free(rx->ents);
	free(rx);
}

static void zcrx_recycle(struct zc_buf *buf);

static void zcrx_ents_init(struct zcrx_rx *rx)
{
	for (unsigned i = rx->nents; i-- > 0;) {
		struct zcrx_ent *e = &rx->ents[i];

		zc_buf_init(&e->buf, &e->seg, 1, zcrx_recycle, rx);
		e->buf.state = ZC_BUF_FREE;
		e->next_free = rx->free;
		rx->free = e;
	}
}

static int zcrx_setup(struct zc_tsock *sock, struct zcrx_rx *rx)
{
	struct io_uring_zcrx_area_reg a;
	uint32_t entries;
	int ret;

	rx->page = (size_t)sysconf(_SC_PAGESIZE);
	ret = zcrx_ring(rx);
	if (!ret)
		ret = zcrx_area(sock, rx, &a);
	if (!ret)
		ret = zcrx_bufs(sock, rx);
	if (ret)
		return ret;
	entries = zcrx_rq_entries(sock, rx->nents);
	/* The refill ring, then one page for the kernel's counters. */
	rx->rq_len = zc_zcrx_rq_region_size(entries, rx->page) + rx->page;
	rx->rq_mem = mmap(NULL, rx->rq_len, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (rx->rq_mem == MAP_FAILED) {
		rx->rq_mem = NULL;
		return -errno;
	}
	ret = zcrx_ifq(sock, rx, &a, entries);
	if (!ret)
		zcrx_ents_init(rx);
	return ret;
}

/* ---- receiving --------------------------------------------------------- */

static void zcrx_arm(struct zcrx_rx *rx)
{
	struct io_uring_sqe *sqe;

	if (rx->armed || rx->eof || rx->error || !rx->sock ||
	    rx->out + rx->nready == rx->nents)
		return;
	sqe = io_uring_get_sqe(&rx->ring);
	if (!sqe)
		return; /* tried again on the next receive */
	io_uring_prep_rw(ZC_IORING_OP_RECV_ZC, sqe, rx->sock->fd, NULL, 0, 0);
	sqe->ioprio |= IORING_RECV_MULTISHOT;
	sqe->file_index = rx->zcrx_id; /* the kernel's zcrx_ifq_idx */
	io_uring_sqe_set_data64(sqe, ZCRX_RECV_DATA);
	rx->armed = true;
}

static void zcrx_flush_rq(struct zcrx_rx *rx)
{
	struct zc_zcrx_ctrl c = { .zcrx_id = rx->zcrx_id,
				  .op = ZC_ZCRX_CTRL_FLUSH_RQ };

	zc_zcrx_refill_flush(&rx->refill);
	/* Without a device the kernel takes returns only when asked. */
	if (rx->nodev)
		syscall(__NR_io_uring_register, rx->ring.ring_fd,
			ZC_IORING_REGISTER_ZCRX_CTRL, &c, 1);
}

static void zcrx_cqe(struct zcrx_rx *rx, const struct io_uring_cqe *cqe)
{
	const struct io_uring_zcrx_cqe *z = (const void *)(cqe + 1);
	struct zc_zcrx_ev ev;

	if (cqe->user_data != ZCRX_RECV_DATA)
		return;
	if (zc_zcrx_decode(cqe->res, cqe->flags, z->off, 1, rx->area->len,
			   &ev) &&
	    rx->sock)
		rx->sock->stats.bad_notifications++;
	if (!ev.more)
		rx->armed = false;
	if (ev.kind == ZC_ZCRX_DATA && ev.len && rx->nready < rx->nents) {
		rx->ready[(rx->rhead + rx->nready) % rx->nents] =
			(struct zc_zcrx_ret){ ev.off, ev.len };
		rx->nready++;
	} else if (ev.kind == ZC_ZCRX_EOF) {
		rx->eof = true;
	} else if (ev.kind == ZC_ZCRX_ERROR) {
		rx->error = ev.err;
	}
}

/* Enter the kernel (deferred task work runs only then) and take every
 * completion. */
static void zcrx_reap(struct zcrx_rx *rx, bool wait)
{
	struct io_uring_cqe *cqe;
	int ret;

	zcrx_flush_rq(rx);
	zcrx_arm(rx);
	do {
		ret = wait ? io_uring_submit_and_wait(&rx->ring, 1)
			   : io_uring_submit_and_get_events(&rx->ring);
	} while (ret == -EINTR);
	while (!io_uring_peek_cqe(&rx->ring, &cqe)) {
		zcrx_cqe(rx, cqe);
		io_uring_cqe_seen(&rx->ring, cqe);
	}
}

static void zcrx_count(struct zc_tsock *sock, struct zcrx_rx *rx, uint32_t n)
{
	uint64_t copied = 0;

	sock->stats.rx_bytes += n;
	if (rx->nodev) {
		copied = n; /* the kernel copies everything without a NIC */
	} else if (rx->kstats) {
		uint64_t k = __atomic_load_n(&rx->kstats->copy_bytes,
					     __ATOMIC_ACQUIRE);

		copied = k - rx->kcopied < n ? k - rx->kcopied : n;
		rx->kcopied += copied;
		sock->stats.rx_bytes_zerocopy += n - copied;
	} else {
		sock->stats.rx_bytes_unverified += n;
	}
	sock->stats.rx_bytes_copied += copied;
}

static ssize_t zcrx_hand_out(struct zc_tsock *sock, struct zcrx_rx *rx,
			     struct zc_buf **out)
{
	struct zc_zcrx_ret r = rx->ready[rx->rhead];
	struct zcrx_ent *e = rx->free;

	rx->rhead = (rx->rhead + 1) % rx->nents;
	rx->nready--;
	rx->free = e->next_free;
	e->off = r.off;
	e->len = r.len;
	zc_buf_reset(&e->buf);
	e->buf.state = ZC_BUF_LIVE;
	/* Cannot fail: one segment, inside the area (zc_zcrx_decode). */
	zc_buf_add_region(&e->buf, rx->area, (size_t)r.off, r.len);
	zc_buf_attach(&e->buf, &rx->ubuf);
	rx->out++;
	zcrx_count(sock, rx, r.len);
	*out = &e->buf;
	return r.len;
}

static ssize_t zcrx_recv(struct zc_tsock *sock, struct zc_buf **out,
			 unsigned flags, struct zc_rx_from *from)
{
	struct zcrx_rx *rx = sock->rx_priv;
	bool wait = false;
	int err;

	(void)from;
	for (;;) {
		zcrx_reap(rx, wait);
		if (rx->nready && rx->free)
			return zcrx_hand_out(sock, rx, out);
		if (rx->error) {
			err = rx->error;
			rx->error = 0;
			zc_tsock_error(sock, err);
			return err;
		}
		if (rx->eof)
			return 0;
		if (!rx->armed)
			return -ENOBUFS; /* the application holds the area */
		if (sock->nonblock || (flags & ZC_RXF_NOWAIT))
			return -EAGAIN;
		wait = true;
	}
}

/* Runs after the buffer's completion (zc_buf_release orders them). */
static void zcrx_recycle(struct zc_buf *buf)
{
	struct zcrx_rx *rx = buf->owner;
	struct zcrx_ent *e = (struct zcrx_ent *)buf;

	buf->state = ZC_BUF_FREE;
	rx->out--;
	if (!rx->sock) {
		if (!rx->out)
			zcrx_free(rx);
		return;
	}
	e->next_free = rx->free;
	rx->free = e;
	/* Cannot fail: at most nents buffers are ever out. */
	zc_zcrx_refill_give(&rx->refill, e->off, e->len);
}

static int zcrx_init(struct zc_tsock *sock)
{
	struct zcrx_rx *rx;
	int ret;

	if (sock->type != SOCK_STREAM)
		return -EPROTONOSUPPORT;
	rx = calloc(1, sizeof(*rx));
	if (!rx)
		return -ENOMEM;
	rx->nodev = sock->opts.flags & ZC_SOCK_ZCRX_NODEV;
	rx->dmabuf.fd = -1;
	ret = !rx->nodev && !sock->opts.ifindex ? -EINVAL
						: zcrx_setup(sock, rx);
	if (ret) {
		zcrx_free(rx);
		return ret;
	}
	rx->sock = sock;
	sock->rx_priv = rx;
	zcrx_arm(rx);
	io_uring_submit(&rx->ring);
	return 0;
}

static bool zcrx_busy(struct zc_tsock *sock)
{
	struct zcrx_rx *rx = sock->rx_priv;

	return rx->out;
}

static bool zcrx_owns(struct zc_tsock *sock, const struct zc_buf *buf)
{
	return buf->recycle == zcrx_recycle && buf->owner == sock->rx_priv;
}

static struct zc_region *zcrx_region(struct zc_tsock *sock)
{
	struct zcrx_rx *rx = sock->rx_priv;

	return rx->area;
}

static void zcrx_fini(struct zc_tsock *sock)
{
	struct zcrx_rx *rx = sock->rx_priv;

	sock->rx_priv = NULL;
	rx->sock = NULL;
	/* Closing the ring cancels the request and unregisters the queue. */
	if (rx->ring_ok)
		io_uring_queue_exit(&rx->ring);
	rx->ring_ok = false;
	/* Buffers still held are freed with the last one released. */
	if (!rx->out)
		zcrx_free(rx);
}

const struct zc_rx_ops zc_rx_zcrx = {
	.name = "zcrx",
	.mode = ZC_RX_ZCRX,
	.init = zcrx_init,
	.recv = zcrx_recv,
	.busy = zcrx_busy,
	.owns = zcrx_owns,
	.region = zcrx_region,
	.fini = zcrx_fini,
};
