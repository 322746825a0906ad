/* SPDX-License-Identifier: MIT */
/*
 * Receive path "tcpmmap": TCP_ZEROCOPY_RECEIVE maps received pages into a
 * read-only window mmap()ed on the socket, so payload is never copied.
 *
 * Kernel rules this file relies on (Linux >= 5.11 for the copy buffer):
 *  - only whole pages of payload sitting in order-0, page-aligned frags are
 *    mapped; what cannot be mapped is reported in recv_skip_hint and must
 *    be read with recv(), or is copied into the copy buffer;
 *  - if everything queued fits the copy buffer the kernel copies it all, so
 *    the copy buffer stays below a page: whatever can be mapped is;
 *  - in one call the mapped bytes come first, then the copied ones, then
 *    the skip hint: handing them out in that order keeps the stream whole;
 *  - without TCP_RECEIVE_ZEROCOPY_FLAG_TLB_CLEAN_HINT the kernel zaps the
 *    range before mapping into it, so a released range needs no madvise():
 *    its pages are dropped when the range is reused (or at unmap);
 *  - the call never blocks; -EIO means nothing is queued and the peer is
 *    done (end of stream or reset);
 *  - a pending socket error is reported in zc.err (a negative errno) and
 *    thereby cleared.
 */
#include <errno.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "region.h"
#include "rxpool.h"
#include "transport.h"

/* Most of the window one call may map: a few held buffers still leave
 * room for full-sized calls. */
#define MM_CHUNK_DIV 4

/* A mapped buffer; indexed by its first page, which no other held buffer
 * can share. */
struct mm_ent {
	struct zc_buf buf;
	struct zc_seg seg;
	unsigned npages;
};

struct tcpmmap {
	struct zc_rx_pool copy; /* copy buffer, skipped bytes, fallback */
	struct zc_region *window;
	size_t page;
	unsigned npages;
	unsigned chunk;		/* most pages per call */
	unsigned cursor;	/* next-fit search starts here */
	unsigned held;		/* mapped buffers the application holds */
	bool orphaned;		/* the socket is gone: free at last release */
	int error;		/* socket error seen with data: report next */
	struct zc_buf *pending; /* copied bytes that follow a mapped buffer */
	uint8_t *used;		/* per page: held by a buffer */
	struct mm_ent *ents;
};

static void mm_free(struct tcpmmap *mm);

/* ---- the window --------------------------------------------------------- */

static int mm_window_init(struct zc_tsock *sock, struct tcpmmap *mm)
{
	/* As much address space as the copy pool has memory. */
	size_t len = zc_region_len(mm->copy.region);
	void *win;
	int ret;

	mm->npages = (unsigned)(len / mm->page);
	mm->chunk = mm->npages / MM_CHUNK_DIV ? mm->npages / MM_CHUNK_DIV : 1;
	mm->used = calloc(mm->npages, sizeof(*mm->used));
	mm->ents = calloc(mm->npages, sizeof(*mm->ents));
	if (!mm->used || !mm->ents)
		return -ENOMEM;
	win = mmap(NULL, len, PROT_READ, MAP_SHARED, sock->fd, 0);
	if (win == MAP_FAILED)
		return -errno;
	ret = zc_region_wrap(win, len, ZC_REGION_NOLOCK, &mm->window);
	if (ret)
		munmap(win, len);
	return ret;
}

/* The first free run of pages at or after the cursor, wrapping once.
 * memchr, not a loop per page: the run is up to a quarter of the window
 * (256 pages by default), looked up before every mapped receive. */
static bool mm_window_find(const struct tcpmmap *mm, unsigned *first,
			   unsigned *n)
{
	const uint8_t *free_page;
	unsigned p = mm->cursor, max;
	const uint8_t *end;

	free_page = memchr(mm->used + p, 0, mm->npages - p);
	if (!free_page)
		free_page = memchr(mm->used, 0, p);
	if (!free_page)
		return false;
	p = (unsigned)(free_page - mm->used);
	max = mm->npages - p < mm->chunk ? mm->npages - p : mm->chunk;
	end = memchr(free_page, 1, max);
	*first = p;
	*n = end ? (unsigned)(end - free_page) : max;
	return true;
}

/* Runs after the completion (zc_buf_release orders them).  The pages stay
 * mapped until the kernel zaps the range to reuse it. */
static void mm_recycle(struct zc_buf *buf)
{
	struct tcpmmap *mm = buf->owner;
	struct mm_ent *ent = (struct mm_ent *)buf;

	buf->state = ZC_BUF_FREE;
	memset(mm->used + (ent - mm->ents), 0, ent->npages);
	mm->held--;
	if (mm->orphaned && !mm->held)
		mm_free(mm);
}

static struct zc_buf *mm_hand_out(struct zc_tsock *sock, struct tcpmmap *mm,
				  unsigned first, size_t len)
{
	struct mm_ent *ent = &mm->ents[first];

	ent->npages = (unsigned)(len / mm->page);
	zc_buf_init(&ent->buf, &ent->seg, 1, mm_recycle, mm);
	/* Cannot fail: the range lies inside the window. */
	zc_buf_add_region(&ent->buf, mm->window, first * mm->page, len);
	memset(mm->used + first, 1, ent->npages);
	mm->cursor = (first + ent->npages) % mm->npages;
	mm->held++;
	sock->stats.rx_bytes += len;
	sock->stats.rx_bytes_mapped += len;
	return &ent->buf;
}

/* ---- receiving ---------------------------------------------------------- */

static ssize_t mm_hand_copy(struct zc_tsock *sock, struct zc_buf *buf,
			    struct zc_buf **out)
{
	size_t n = zc_buf_len(buf);

	zc_tsock_count_copied(sock, n);
	*out = buf;
	return (ssize_t)n;
}

/* On failure nothing was consumed and the kernel wrote nothing back. */
static int mm_zerocopy(struct zc_tsock *sock, struct tcp_zerocopy_receive *zc)
{
	socklen_t len = sizeof(*zc);

	if (!getsockopt(sock->fd, IPPROTO_TCP, TCP_ZEROCOPY_RECEIVE, zc, &len))
		return 0;
	zc->length = 0;
	zc->recv_skip_hint = 0;
	zc->copybuf_len = 0;
	zc->err = 0;
	return -errno;
}

/* Copy buffer first, then recv() what the kernel said to skip, into the
 * same pool buffer.  Those bytes are already queued: never wait. */
static size_t mm_fill_copy(struct zc_tsock *sock, struct tcpmmap *mm,
			   const struct tcp_zerocopy_receive *zc,
			   struct zc_buf *copy)
{
	size_t done = zc->copybuf_len > 0 ? (size_t)zc->copybuf_len : 0;
	size_t room = zc_buf_len(copy) - done;
	size_t want = zc->recv_skip_hint < room ? zc->recv_skip_hint : room;
	ssize_t n;

	if (!want)
		return done;
	n = zc_rx_recv_into(sock, (char *)copy->segs[0].base + done, want,
			    MSG_DONTWAIT);
	if (n > 0)
		return done + (size_t)n;
	/* recv() consumed the socket error: report it after the data. */
	if (n < 0 && n != -EAGAIN)
		mm->error = (int)n;
	return done;
}

/* zc->inq is what the call left queued, the skip hint included: once
 * mm_fill_copy() read all of it the queue is empty, and the receive that
 * would find so (a TCP_ZEROCOPY_RECEIVE and a MSG_PEEK recv(), both
 * empty) is saved, as a short recv() saves it on the copying path.  Not
 * with an error to report: the next receive says it. */
static void mm_note_drained(struct zc_tsock *sock, const struct tcpmmap *mm,
			    int ret, const struct tcp_zerocopy_receive *zc,
			    size_t copied)
{
	size_t skipped = copied;

	if (ret || zc->err || mm->error || (!zc->length && !copied))
		return;
	if (zc->copybuf_len > 0)
		skipped -= (size_t)zc->copybuf_len;
	if (zc->inq <= skipped)
		sock->rx_drained = true;
}

/* Nothing came: an error, bytes to skip without a copy buffer, or
 * nothing queued (-EAGAIN; -EIO also says the peer is done). */
static ssize_t mm_nothing(struct zc_tsock *sock, struct tcpmmap *mm, int ret,
			  const struct tcp_zerocopy_receive *zc,
			  struct zc_buf **out)
{
	int err = mm->error;

	mm->error = 0;
	if (err)
		return err;
	if (zc->err)
		return zc->err;
	if (ret && ret != -EIO)
		return ret;
	if (zc->recv_skip_hint)
		return zc_rx_pool_recv(sock, &mm->copy, zc->recv_skip_hint,
				       ZC_RXF_NOWAIT, out);
	return -EAGAIN;
}

/* One TCP_ZEROCOPY_RECEIVE into the free run [first, first + n). */
static ssize_t mm_receive_at(struct zc_tsock *sock, struct tcpmmap *mm,
			     unsigned first, unsigned n, struct zc_buf **out)
{
	struct tcp_zerocopy_receive zc = {
		.address = (uintptr_t)mm->window->base + first * mm->page,
		.length = (uint32_t)(n * mm->page),
	};
	struct zc_buf *copy = NULL;
	size_t copied = 0;
	int ret;

	if (!zc_pool_get(mm->copy.pool, &copy)) {
		size_t len = zc_buf_len(copy);

		zc.copybuf_address = (uintptr_t)copy->segs[0].base;
		zc.copybuf_len = (int32_t)(len < mm->page ? len : mm->page - 1);
	}
	ret = mm_zerocopy(sock, &zc);
	if (copy)
		copied = mm_fill_copy(sock, mm, &zc, copy);
	mm_note_drained(sock, mm, ret, &zc, copied);
	if (copied)
		zc_buf_trim(copy, copied);
	else if (copy)
		zc_rx_pool_unused(copy);
	if (!zc.length && !copied)
		return mm_nothing(sock, mm, ret, &zc, out);
	if (zc.err)
		mm->error = zc.err;
	if (!zc.length) {
		if (zc.recv_skip_hint >= mm->page)
			sock->rx_unmappable += copied;
		return mm_hand_copy(sock, copy, out);
	}
	if (copied)
		mm->pending = copy;
	*out = mm_hand_out(sock, mm, first, zc.length);
	return zc.length;
}

static ssize_t mm_receive(struct zc_tsock *sock, struct tcpmmap *mm,
			  struct zc_buf **out)
{
	unsigned first, n;

	/* Every page is held: copy rather than touch held pages. */
	if (!mm_window_find(mm, &first, &n))
		return zc_rx_pool_recv(sock, &mm->copy, 0, ZC_RXF_NOWAIT, out);
	return mm_receive_at(sock, mm, first, n, out);
}

/* Nothing was queued.  recv() tells whether the stream ended, also after
 * a reset whose error was already read (zc_ctx_process reads SO_ERROR):
 * 1 if data came in meanwhile, 0 at end of stream, or -errno. */
static ssize_t mm_peek(struct zc_tsock *sock)
{
	char byte;

	return zc_rx_recv_into(sock, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
}

static int mm_wait(struct zc_tsock *sock)
{
	struct pollfd pfd = { .fd = sock->fd, .events = POLLIN };

	if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
		return -errno;
	return 0;
}

static ssize_t mm_recv(struct zc_tsock *sock, struct zc_buf **out,
		       unsigned flags, struct zc_rx_from *from)
{
	struct tcpmmap *mm = sock->rx_priv;
	ssize_t ret;

	(void)from; /* a stream: no sender address */
	if (mm->pending) {
		struct zc_buf *buf = mm->pending;

		mm->pending = NULL;
		return mm_hand_copy(sock, buf, out);
	}
	/* The socket layer (the policy, under auto) chose to copy; or a
	 * copy read filled buffers still to hand out, which come first. */
	if (flags & ZC_RXF_COPY || zc_rx_pool_stashed(&mm->copy))
		return zc_rx_pool_recv(sock, &mm->copy, 0, flags, out);
	/* The kernel call never blocks: blocking sockets wait in poll(),
	 * which honours SO_RCVLOWAT. */
	for (;;) {
		ret = mm_receive(sock, mm, out);
		if (ret != -EAGAIN)
			return ret;
		ret = mm_peek(sock);
		if (ret > 0)
			continue;
		if (ret != -EAGAIN || sock->nonblock || (flags & ZC_RXF_NOWAIT))
			return ret;
		ret = mm_wait(sock);
		if (ret)
			return ret;
	}
}

/* ---- setup and teardown ------------------------------------------------- */

static void mm_free(struct tcpmmap *mm)
{
	if (mm->pending)
		zc_buf_release(mm->pending);
	if (mm->window) {
		munmap(mm->window->base, mm->window->len);
		zc_region_destroy(mm->window);
	}
	zc_rx_pool_fini(&mm->copy);
	free(mm->used);
	free(mm->ents);
	free(mm);
}

static int mm_init(struct zc_tsock *sock)
{
	struct tcpmmap *mm;
	int ret;

	if (sock->type != SOCK_STREAM)
		return -EPROTONOSUPPORT;
	mm = calloc(1, sizeof(*mm));
	if (!mm)
		return -ENOMEM;
	mm->page = (size_t)sysconf(_SC_PAGESIZE);
	ret = zc_rx_pool_init(sock, &mm->copy);
	if (!ret)
		ret = mm_window_init(sock, mm);
	if (ret) {
		mm_free(mm);
		return ret;
	}
	sock->rx_priv = mm;
	return 0;
}

static bool mm_busy(struct zc_tsock *sock)
{
	struct tcpmmap *mm = sock->rx_priv;
	unsigned out =
		zc_pool_count(mm->copy.pool) - zc_pool_avail(mm->copy.pool);

	return mm->held || out > (mm->pending ? 1u : 0u);
}

static bool mm_owns(struct zc_tsock *sock, const struct zc_buf *buf)
{
	struct tcpmmap *mm = sock->rx_priv;

	return buf->owner == mm || zc_rx_pool_owns(&mm->copy, buf);
}

static void mm_fini(struct zc_tsock *sock)
{
	struct tcpmmap *mm = sock->rx_priv;

	sock->rx_priv = NULL;
	if (mm->pending) {
		zc_rx_pool_unused(mm->pending);
		mm->pending = NULL;
	}
	/* Copied buffers still held free their pool with the last one. */
	zc_rx_pool_fini(&mm->copy);
	/* Mapped buffers still held keep the window mapped, readable and
	 * releasable; the last release frees it. */
	if (mm->held)
		mm->orphaned = true;
	else
		mm_free(mm);
}

const struct zc_rx_ops zc_rx_tcpmmap = {
	.name = "tcpmmap",
	.mode = ZC_RX_TCPMMAP,
	.init = mm_init,
	.recv = mm_recv,
	.busy = mm_busy,
	.owns = mm_owns,
	.fini = mm_fini,
};
