/* SPDX-License-Identifier: MIT */
/*
 * io_uring transport against the real kernel: loopback, a network
 * namespace joined by veth (with nftables loss), seccomp, RLIMIT_MEMLOCK,
 * peer resets and receivers that hold every buffer.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <zcopy/zcopy.h>

#include "compat.h"
#include "netutil.h"
#include "sock.h"
#include "uring.h"

#define SLOTS 8
#define GARBAGE 0xee

/* ---- helpers ------------------------------------------------------------ */

/* Outside cmocka (forked children): print and fail the child. */
#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, \
				__LINE__, #cond);                              \
			return -1;                                             \
		}                                                              \
	} while (0)

/* The namespace pair of the running test; its teardown removes it. */
static struct nu_netns g_ns;
static bool g_ns_up;

/* Two namespaces joined by veth, the receiving one (a) dropping loss% of
 * the TCP packets it gets.  False (reason printed) if they cannot be
 * built. */
static bool netns_up(unsigned loss)
{
	if (nu_netns_create(&g_ns, 1500))
		return false;
	g_ns_up = true;
	return !loss || !nu_netns_loss(g_ns.a, loss);
}

static int netns_teardown(void **state)
{
	(void)state;
	if (g_ns_up)
		nu_netns_destroy(&g_ns);
	g_ns_up = false;
	return 0;
}

/* A connected TCP pair on loopback, or across the namespace pair: the
 * receiving end in ns->a, the sender in ns->b. */
static int tcp_pair(const struct nu_netns *ns, int *snd, int *rcv)
{
	struct nu_pair_opts o = { .ns = ns };

	return nu_pair(&o, snd, rcv) ? -1 : 0;
}

/* A receiver thread checking the stream pattern: nu_rx_start_tcp().  It
 * leaves the fd open; rcv_join() closes it and returns the bytes that
 * arrived intact (negative: corruption). */
static int64_t rcv_join(struct nu_rx_thread *t, int fd)
{
	int64_t got = nu_rx_join(t, NULL);

	close(fd);
	return got;
}

/* ---- a sender: pattern, overwrite on completion, exactly once ---------- */

struct xfer;

struct slot {
	uint8_t *mem;
	size_t len;
	bool busy;
	struct xfer *x;
};

struct xfer {
	enum zc_tx_mode tx;
	int niov;	   /* split each send into this many iovs */
	size_t size;	   /* bytes per send */
	uint64_t total;	   /* bytes to send */
	bool fixed_region; /* slots live in a registered region */
	bool peer_resets;  /* stop at the first send error */
	int sndbuf;	   /* SO_SNDBUF if not 0 */
	/* > 0: write a byte here each time every slot is busy and the
	 * peer has stopped taking data (nu_notsent()). */
	int stall_fd;
	unsigned uring_entries;
	unsigned ctx_flags;
	unsigned sock_flags; /* ZC_SOCK_* */
	/* out */
	uint64_t results[4];
	uint64_t copied_kernel;
	uint64_t twice; /* callbacks for a send not in flight */
	uint64_t accepted;
	int send_error;
	int reg_error;
	int close_ret;
	struct zc_stats st;
	struct slot slots[SLOTS];
};

static void xfer_cb(struct zc_sock *sock, const struct zc_completion *c,
		    void *arg)
{
	struct slot *s = arg;
	struct xfer *x = s->x;

	(void)sock;
	if (!s->busy)
		x->twice++;
	/* The memory is ours again: trash it so an early completion shows
	 * up as garbage at the receiver. */
	memset(s->mem, GARBAGE, s->len);
	s->busy = false;
	x->results[c->result]++;
	if (c->result == ZC_RESULT_COPIED && c->why == ZC_WHY_KERNEL)
		x->copied_kernel++;
}

static struct slot *xfer_free_slot(struct xfer *x)
{
	for (int i = 0; i < SLOTS; i++)
		if (!x->slots[i].busy)
			return &x->slots[i];
	return NULL;
}

/* Fill a slot with the pattern at off and send it; returns zc_send(). */
static int xfer_send_one(struct xfer *x, struct zc_sock *sock, struct slot *s,
			 uint64_t off)
{
	int ret;

	struct iovec iov[ZC_SEND_MAX_IOV];
	size_t len = x->size, part;
	int n = x->niov ? x->niov : 1;

	if (len > x->total - off)
		len = (size_t)(x->total - off);
	nu_pattern_fill(s->mem, len, off);
	part = len / (size_t)n;
	for (int i = 0; i < n; i++) {
		iov[i].iov_base = s->mem + part * (size_t)i;
		iov[i].iov_len = i == n - 1 ? len - part * (size_t)i : part;
	}
	s->len = len;
	s->busy = true;
	ret = zc_send(sock, iov, n, xfer_cb, s);
	if (ret)
		s->busy = false;
	return ret;
}

/* More than a loopback socket holds unsent while the peer's window is
 * open (it sends at once): the peer has stopped taking data. */
#define STALLED_NOTSENT (32 << 10)

/* Every slot is busy (completions just processed).  If the peer has
 * stopped taking data too, the sends not in the socket are stuck behind
 * it: say so on x->stall_fd. */
static void xfer_tell_stall(struct xfer *x, int fd)
{
	if (x->stall_fd > 0 && nu_notsent(fd) >= STALLED_NOTSENT &&
	    write(x->stall_fd, "s", 1) < 0 && errno != EAGAIN)
		x->stall_fd = 0;
}

/* Push x->total bytes through a zcopy socket on fd. */
static int xfer_run(struct xfer *x, int fd)
{
	struct zc_ctx_opts co = { .flags = x->ctx_flags,
				  .uring_entries = x->uring_entries };
	struct zc_sock_opts so = { .tx = x->tx, .flags = x->sock_flags };
	struct zc_region *region = NULL;
	struct zc_sock *sock;
	struct zc_ctx *ctx;
	uint64_t off = 0;
	int64_t deadline = nu_now_ms() + 60000;

	CHECK(!zc_ctx_create(&co, &ctx));
	CHECK(!zc_region_create(x->size * SLOTS, ZC_REGION_NOLOCK, &region));
	if (x->fixed_region)
		x->reg_error = zc_ctx_register_region(ctx, region);
	for (int i = 0; i < SLOTS; i++) {
		x->slots[i].mem =
			(uint8_t *)zc_region_base(region) + x->size * (size_t)i;
		x->slots[i].x = x;
	}
	if (x->sndbuf)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &x->sndbuf,
			   sizeof(x->sndbuf));
	CHECK(!zc_sock_attach(ctx, fd, &so, &sock));
	while (off < x->total && nu_now_ms() < deadline) {
		struct slot *s = xfer_free_slot(x);

		if (!s) {
			xfer_tell_stall(x, fd);
			zc_ctx_process(ctx, 100);
			continue;
		}
		x->send_error = xfer_send_one(x, sock, s, off);
		if (x->send_error == -EAGAIN) {
			zc_ctx_process(ctx, 100);
			continue;
		}
		if (x->send_error)
			break;
		x->accepted++;
		off += s->len;
	}
	zc_sock_stats(sock, &x->st);
	while (x->st.inflight && nu_now_ms() < deadline) {
		zc_ctx_process(ctx, 100);
		zc_sock_stats(sock, &x->st);
	}
	x->close_ret = zc_sock_close(sock);
	if (x->fixed_region && !x->reg_error)
		CHECK(!zc_ctx_unregister_region(ctx, region));
	zc_ctx_destroy(ctx);
	CHECK(!zc_region_destroy(region));
	return off == x->total || x->peer_resets ? 0 : -1;
}

/* Run x over a fresh pair (in ns when not NULL) and check the stream:
 * every byte arrived intact and in order, every accepted send completed
 * exactly once and none failed. */
static int xfer_verify(struct xfer *x, const struct nu_netns *ns)
{
	struct nu_rx_thread *r;
	int snd = -1, rcvfd = -1;

	CHECK(!tcp_pair(ns, &snd, &rcvfd));
	r = nu_rx_start_tcp(rcvfd, x->total);
	CHECK(r);
	CHECK(!xfer_run(x, snd));
	/* (netutil names the first wrong byte.) */
	CHECK(rcv_join(r, rcvfd) == (int64_t)x->total);
	CHECK(!x->twice);
	CHECK(x->st.completions == x->accepted);
	CHECK(x->results[ZC_RESULT_ZEROCOPY] + x->results[ZC_RESULT_COPIED] ==
	      x->accepted);
	CHECK(x->close_ret == 0);
	return 0;
}

static void xfer_check(struct xfer *x, const struct nu_netns *ns)
{
	assert_int_equal(xfer_verify(x, ns), 0);
	assert_int_equal(x->st.uring_error, 0);
	assert_int_equal(x->st.tx_by_mode[x->tx], x->accepted);
	/* Kernel copies are reported as such, and nothing fell back. */
	assert_int_equal(x->copied_kernel, x->results[ZC_RESULT_COPIED]);
	assert_int_equal(x->st.fallbacks, 0);
}

/* ---- send integrity ------------------------------------------------------ */

static void test_send_zc_lo(void **state)
{
	struct xfer x = { .tx = ZC_TX_URING, .size = 65536, .total = 8 << 20 };

	(void)state;
	xfer_check(&x, NULL);
	assert_int_equal(x.st.fixed_sends, 0);
}

static void test_sendmsg_zc_lo(void **state)
{
	struct xfer x = {
		.tx = ZC_TX_URING, .niov = 3, .size = 100000, .total = 8 << 20
	};

	(void)state;
	xfer_check(&x, NULL);
}

static void test_fixed_lo(void **state)
{
	struct xfer x = { .tx = ZC_TX_URING_FIXED,
			  .size = 262144,
			  .total = 16 << 20,
			  .fixed_region = true };

	(void)state;
	xfer_check(&x, NULL);
	assert_int_equal(x.reg_error, 0);
	assert_true(x.st.fixed_sends >= x.accepted);
}

/* A tiny ring: SQ full, CQ overflowing, results and notifications pile. */
static void test_small_ring_lo(void **state)
{
	struct xfer x = { .tx = ZC_TX_URING,
			  .size = 4096,
			  .total = 2 << 20,
			  .uring_entries = 1 };

	(void)state;
	xfer_check(&x, NULL);
}

static void test_veth(void **state)
{
	static const struct xfer kinds[] = {
		{ .tx = ZC_TX_URING, .size = 65536, .total = 8 << 20 },
		{ .tx = ZC_TX_URING_FIXED,
		  .size = 131072,
		  .total = 8 << 20,
		  .fixed_region = true },
		{ .tx = ZC_TX_URING,
		  .niov = 4,
		  .size = 50000,
		  .total = 8 << 20 },
	};

	(void)state;
	if (!netns_up(0))
		skip();
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		struct xfer x = kinds[i];

		print_message("case: veth %s %zu bytes, %d iovs\n",
			      zc_tx_mode_name(x.tx), x.size,
			      x.niov ? x.niov : 1);
		xfer_check(&x, &g_ns);
	}
}

static void test_veth_loss(void **state)
{
	struct xfer x = { .tx = ZC_TX_URING_FIXED,
			  .size = 65536,
			  .total = 4 << 20,
			  .fixed_region = true };

	(void)state;
	if (!netns_up(5))
		skip();
	xfer_check(&x, &g_ns);
}

/* ---- what the kernel says about copies, and the eventfd ---------------- */

/* One raw SEND_ZC with REPORT_USAGE: 1 if the kernel said it copied. */
static int raw_copied(int fd)
{
	static char buf[65536];
	struct io_uring_cqe *cqe;
	struct io_uring ring;
	int copied = -1;

	if (io_uring_queue_init(8, &ring, 0))
		return -1;
	io_uring_prep_send_zc(io_uring_get_sqe(&ring), fd, buf, sizeof(buf), 0,
			      IORING_SEND_ZC_REPORT_USAGE);
	io_uring_submit(&ring);
	while (copied < 0 && !io_uring_wait_cqe(&ring, &cqe)) {
		if (cqe->flags & IORING_CQE_F_NOTIF)
			copied = !!((uint32_t)cqe->res &
				    IORING_NOTIF_USAGE_ZC_COPIED);
		else if (!(cqe->flags & IORING_CQE_F_MORE))
			copied = -2;
		io_uring_cqe_seen(&ring, cqe);
	}
	io_uring_queue_exit(&ring);
	return copied;
}

static void test_copied_matches_kernel(void **state)
{
	struct xfer x = { .tx = ZC_TX_URING, .size = 65536, .total = 1 << 20 };
	int snd, rcvfd, raw;

	(void)state;
	assert_int_equal(tcp_pair(NULL, &snd, &rcvfd), 0);
	raw = raw_copied(snd);
	close(snd);
	close(rcvfd);
	assert_true(raw == 0 || raw == 1);
	xfer_check(&x, NULL);
	/* Same kind of socket, same answer, for every send. */
	assert_int_equal(x.results[raw ? ZC_RESULT_COPIED : ZC_RESULT_ZEROCOPY],
			 x.accepted);
}

/* With DEFER_TASKRUN nothing completes until we enter the kernel; the
 * context fd must still wake us when the kernel has work for us. */
static void test_eventfd_wakes(void **state)
{
	size_t len = 16 << 20;
	char *big = calloc(1, len);
	struct zc_sock_opts so = { .tx = ZC_TX_URING };
	struct zc_sock *sock;
	struct zc_ctx *ctx;
	struct nu_rx_thread *r;
	int snd, rcvfd, done = 0, wakeups = 0;
	int64_t deadline;

	(void)state;
	nu_pattern_fill(big, len, 0);
	assert_int_equal(tcp_pair(NULL, &snd, &rcvfd), 0);
	assert_int_equal(zc_ctx_create(NULL, &ctx), 0);
	assert_int_equal(zc_sock_attach(ctx, snd, &so, &sock), 0);
	printf("ring flags %#x (DEFER_TASKRUN %s)\n", ctx->uring->setup_flags,
	       ctx->uring->setup_flags & IORING_SETUP_DEFER_TASKRUN ? "yes"
								    : "no");
	/* Larger than the socket buffers: it cannot complete at once. */
	assert_int_equal(zc_send(sock, &(struct iovec){ big, len }, 1,
				 nu_count_cb, &done),
			 0);
	assert_int_equal(done, 0);
	r = nu_rx_start_tcp(rcvfd, len);
	assert_non_null(r);
	deadline = nu_now_ms() + 20000;
	while (!done && nu_now_ms() < deadline) {
		struct pollfd p = { .fd = zc_ctx_fd(ctx), .events = POLLIN };

		/* Only wait on the fd: a lost wake-up shows as a timeout. */
		assert_int_equal(poll(&p, 1, 5000), 1);
		wakeups++;
		zc_ctx_process(ctx, 0);
	}
	assert_int_equal(done, 1);
	assert_int_equal(zc_sock_close(sock), 0);
	assert_int_equal(rcv_join(r, rcvfd), len);
	printf("%d wake-ups\n", wakeups);
	zc_ctx_destroy(ctx);
	free(big);
}

/* ---- receive through the buffer ring -------------------------------------- */

struct sender {
	int fd;
	uint64_t total;
	size_t chunk;
	pthread_t th;
};

static void *sender_main(void *arg)
{
	struct sender *s = arg;
	uint8_t *b = malloc(s->chunk);
	uint64_t off = 0;

	while (off < s->total) {
		size_t n = s->chunk;
		ssize_t w;

		if (n > s->total - off)
			n = (size_t)(s->total - off);
		nu_pattern_fill(b, n, off);
		w = send(s->fd, b, n, MSG_NOSIGNAL);
		if (w <= 0)
			break;
		off += (uint64_t)w;
		/* Partial writes resend the rest from the pattern. */
	}
	free(b);
	close(s->fd);
	return NULL;
}

struct rx_check {
	uint64_t done_bytes; /* seen by the rx_done completion */
	uint64_t done_bad;   /* completions without valid segments */
};

static void rx_done_cb(struct zc_buf *buf, struct zc_ubuf *ubuf, bool ok)
{
	struct rx_check *rc = zc_ubuf_priv(ubuf);
	struct zc_seg seg;

	(void)ok;
	/* The segments are still valid here: read them.  No copying
	 * receive's buffer starts on a page boundary (zc_sock_attach(3)). */
	if (!buf || zc_buf_seg(buf, 0, &seg) || !seg.region || !seg.len ||
	    !zc_buf_len(buf) ||
	    (uintptr_t)seg.base % (uintptr_t)sysconf(_SC_PAGESIZE) == 0)
		rc->done_bad++;
	else
		rc->done_bytes += zc_buf_len(buf);
}

static const struct zc_ubuf_ops rx_done_ops = { .complete = rx_done_cb };

/* Buffers one receive test may hold at once (its rx_buf_count). */
#define RX_HOLD_MAX 64

struct rx_run {
	/* in */
	size_t buf_size;
	unsigned buf_count;
	unsigned uring_entries;
	uint64_t total;
	size_t chunk;
	bool nonblock;
	bool hold_random; /* hold buffers for random times */
	bool hold_all;	  /* take every buffer, then give them back */
	unsigned ctx_flags;
	unsigned sock_flags; /* ZC_SOCK_* */
	unsigned seed;	     /* rand_r(): the same choices every run */
	/* out */
	uint64_t got;
	uint64_t bad_at;
	uint64_t enobufs;
	struct rx_check rc;
	struct zc_stats st;
};

static int rx_verify_buf(struct rx_run *x, struct zc_buf *buf)
{
	struct zc_seg seg;

	CHECK(!zc_buf_seg(buf, 0, &seg));
	CHECK(zc_buf_nsegs(buf) == 1);
	if (!x->bad_at) {
		size_t i = nu_pattern_mismatch(seg.base, seg.len, x->got);

		if (i < seg.len)
			x->bad_at = x->got + i + 1;
	}
	x->got += seg.len;
	return 0;
}

/* Give back every held buffer, or (seed not NULL) about a third. */
static void rx_release_some(struct zc_sock *sock, struct zc_buf **held,
			    unsigned *nheld, unsigned *seed)
{
	for (unsigned i = 0; i < *nheld;) {
		if (!seed || rand_r(seed) % 3 == 0) {
			zc_sock_release(sock, held[i]);
			held[i] = held[--*nheld];
		} else {
			i++;
		}
	}
}

static int rx_run(struct rx_run *x)
{
	struct zc_ctx_opts co = { .uring_entries = x->uring_entries,
				  .flags = x->ctx_flags };
	struct zc_sock_opts so = { .rx = ZC_RX_URING,
				   .flags = x->sock_flags,
				   .rx_buf_size = x->buf_size,
				   .rx_buf_count = x->buf_count,
				   .rx_done = &rx_done_ops,
				   .rx_done_arg = &x->rc };
	struct sender s = { .total = x->total, .chunk = x->chunk };
	struct zc_buf *held[RX_HOLD_MAX];
	int64_t deadline = nu_now_ms() + 30000;
	struct zc_sock *sock;
	struct zc_ctx *ctx;
	unsigned nheld = 0;
	int rfd = -1;

	CHECK(x->buf_count <= RX_HOLD_MAX);
	CHECK(!tcp_pair(NULL, &s.fd, &rfd));
	if (x->nonblock)
		fcntl(rfd, F_SETFL, O_NONBLOCK);
	CHECK(!zc_ctx_create(&co, &ctx));
	CHECK(!zc_sock_attach(ctx, rfd, &so, &sock));
	pthread_create(&s.th, NULL, sender_main, &s);
	while (nu_now_ms() < deadline) {
		struct zc_buf *buf;
		ssize_t n = zc_recv(sock, &buf);

		if (n == 0)
			break;
		if (n == -ENOBUFS) {
			struct pollfd p = { .fd = rfd, .events = POLLIN };

			CHECK(nheld == x->buf_count);
			x->enobufs++;
			/* Keep holding every buffer until the kernel has more
			 * for a ring that has none: bytes waiting in the socket
			 * or the end of the stream.  Receiving must pause and
			 * resume from there. */
			CHECK(poll(&p, 1, 5000) == 1);
			rx_release_some(sock, held, &nheld, NULL);
			continue;
		}
		if (n == -EAGAIN) {
			struct pollfd p = { .fd = zc_ctx_fd(ctx),
					    .events = POLLIN };

			CHECK(x->nonblock);
			CHECK(poll(&p, 1, 5000) == 1);
			zc_ctx_process(ctx, 0);
			continue;
		}
		CHECK(n > 0);
		CHECK(!rx_verify_buf(x, buf));
		held[nheld++] = buf;
		/* Not a wait for anything: holding a quarter of the buffers
		 * for up to 2 ms is the workload, so that the ring runs low
		 * at varying points while the sender keeps going. */
		if (x->hold_random && rand_r(&x->seed) % 4 == 0)
			usleep((useconds_t)(rand_r(&x->seed) % 2000));
		if (!x->hold_all)
			rx_release_some(sock, held, &nheld,
					x->hold_random ? &x->seed : NULL);
	}
	rx_release_some(sock, held, &nheld, NULL);
	pthread_join(s.th, NULL);
	zc_sock_stats(sock, &x->st);
	CHECK(!zc_sock_close(sock));
	zc_ctx_destroy(ctx);
	return 0;
}

static void rx_check(struct rx_run *x)
{
	assert_int_equal(rx_run(x), 0);
	assert_int_equal(x->bad_at, 0);
	assert_int_equal(x->got, x->total);
	/* Each release ran the completion once, segments still valid. */
	assert_int_equal(x->rc.done_bad, 0);
	assert_int_equal(x->rc.done_bytes, x->total);
	assert_int_equal(x->st.rx_bytes, x->total);
}

static void test_rx_ring(void **state)
{
	struct rx_run x = { .buf_size = 16384,
			    .buf_count = 16,
			    .total = 16 << 20,
			    .chunk = 100000 };

	(void)state;
	rx_check(&x);
	assert_int_equal(x.st.uring_error, 0);
}

static void test_rx_ring_hold_random(void **state)
{
	struct rx_run x = { .buf_size = 4096,
			    .buf_count = 16,
			    .total = 4 << 20,
			    .chunk = 65536,
			    .hold_random = true,
			    .seed = 42 };

	(void)state;
	rx_check(&x);
}

/* Flow control: the application takes every buffer; receiving pauses
 * and resumes, nothing lost (blocking and non-blocking sockets). */
static void test_rx_hold_all(void **state)
{
	for (int nb = 0; nb < 2; nb++) {
		struct rx_run x = { .buf_size = 4096,
				    .buf_count = 8,
				    .total = 2 << 20,
				    .chunk = 65536,
				    .hold_all = true,
				    .nonblock = nb };

		(void)state;
		print_message("case: %s socket\n",
			      nb ? "non-blocking" : "blocking");
		rx_check(&x);
		assert_true(x.enobufs > 0);
	}
}

/* A CQ of 2 entries: multishot receives end on overflow and re-arm. */
static void test_rx_cq_overflow(void **state)
{
	struct rx_run x = { .buf_size = 1024,
			    .buf_count = 64,
			    .uring_entries = 1,
			    .total = 2 << 20,
			    .chunk = 262144 };

	(void)state;
	rx_check(&x);
}

/* ---- faults ---------------------------------------------------------------- */

/* Run fn in a child (its own ring, limits and filters); its exit status. */
static int in_child(int (*fn)(void))
{
	int st;
	pid_t pid = fork();

	if (pid == 0) {
		int ret = fn();

		fflush(NULL);
		_exit(ret ? 1 : 0);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int block_io_uring(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof(f) / sizeof(f[0]), f };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -errno;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) ? -errno : 0;
}

/* A pinned io_uring transport without a ring fails with the ring's error,
 * on attach (send) or on the first receive. */
static int uring_refused(enum zc_tx_mode tx, unsigned ctx_flags, int err)
{
	struct zc_ctx_opts co = { .flags = ctx_flags };
	struct zc_sock_opts txo = { .tx = tx };
	struct zc_sock_opts rxo = { .rx = ZC_RX_URING };
	struct zc_sock *sock = NULL;
	struct zc_buf *buf;
	struct zc_ctx *ctx;
	int a, b, ret = 0;

	CHECK(!zc_ctx_create(&co, &ctx));
	CHECK(!tcp_pair(NULL, &a, &b));
	if (zc_sock_attach(ctx, a, &txo, &sock) != err)
		ret = -1;
	CHECK(!zc_sock_attach(ctx, b, &rxo, &sock));
	if (zc_recv(sock, &buf) != err)
		ret = -1;
	zc_ctx_destroy(ctx);
	close(a);
	return ret;
}

/* With ZC_SOCK_FALLBACK the same workloads pass without io_uring; stats
 * and text say why. */
static int seccomp_child(void)
{
	struct xfer x = { .tx = ZC_TX_URING_FIXED,
			  .size = 65536,
			  .total = 4 << 20,
			  .fixed_region = true,
			  .sock_flags = ZC_SOCK_FALLBACK };
	struct rx_run r = { .buf_size = 4096,
			    .buf_count = 8,
			    .total = 1 << 20,
			    .chunk = 65536,
			    .hold_all = true,
			    .sock_flags = ZC_SOCK_FALLBACK };

	CHECK(!block_io_uring());
	CHECK(!uring_refused(ZC_TX_URING_FIXED, 0, -EPERM));
	CHECK(!xfer_verify(&x, NULL));
	CHECK(x.reg_error == -EPERM);
	CHECK(x.st.uring_error == -EPERM);
	CHECK(x.st.tx_by_mode[ZC_TX_MSGZC] == x.accepted);
	printf("seccomp: uring_error %d: %s\n", x.st.uring_error,
	       zc_strerror(x.st.uring_error));
	CHECK(strstr(zc_strerror(x.st.uring_error), "seccomp"));
	CHECK(!rx_run(&r));
	CHECK(r.got == r.total && !r.bad_at && r.enobufs > 0);
	CHECK(r.st.uring_error == -EPERM);
	CHECK(r.rc.done_bytes == r.total);
	return 0;
}

static void test_seccomp_fallback(void **state)
{
	(void)state;
	assert_int_equal(in_child(seccomp_child), 0);
}

static int no_uring_child(void)
{
	struct xfer x = { .tx = ZC_TX_URING,
			  .size = 65536,
			  .total = 1 << 20,
			  .ctx_flags = ZC_CTX_NO_URING,
			  .sock_flags = ZC_SOCK_FALLBACK };

	CHECK(!uring_refused(ZC_TX_URING, ZC_CTX_NO_URING, -EOPNOTSUPP));
	CHECK(!xfer_verify(&x, NULL));
	CHECK(x.st.uring_error == -EOPNOTSUPP);
	CHECK(x.st.tx_by_mode[ZC_TX_MSGZC] == x.accepted);
	return 0;
}

static void test_no_uring_flag(void **state)
{
	(void)state;
	assert_int_equal(no_uring_child(), 0);
}

static int drop_ipc_lock(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		return -errno;
	d[0].effective &= ~(1u << CAP_IPC_LOCK);
	d[0].permitted &= ~(1u << CAP_IPC_LOCK);
	return syscall(SYS_capset, &h, d) ? -errno : 0;
}

/* RLIMIT_MEMLOCK of 64 KiB without CAP_IPC_LOCK: pinning fails cleanly
 * and the sends still go, by copy where zero-copy ran out. */
static int memlock_child(void)
{
	struct rlimit rl = { 65536, 65536 };
	struct xfer x = { .tx = ZC_TX_URING_FIXED,
			  .size = 262144,
			  .total = 4 << 20,
			  .fixed_region = true };
	struct zc_region *region;
	int ret;

	CHECK(!drop_ipc_lock());
	CHECK(!setrlimit(RLIMIT_MEMLOCK, &rl));
	ret = zc_region_create(4 << 20, 0, &region);
	/* ASan's mlock() interceptor does nothing and succeeds. */
	if (!ret && NU_ASAN)
		zc_region_destroy(region);
	else
		CHECK(ret == -ENOMEM || ret == -EPERM);
	CHECK(!xfer_verify(&x, NULL));
	printf("memlock: register %d (%s); fallbacks %llu of %llu sends\n",
	       x.reg_error, zc_strerror(x.reg_error),
	       (unsigned long long)x.st.fallbacks,
	       (unsigned long long)x.accepted);
	CHECK(x.reg_error == -ENOMEM);
	CHECK(x.st.uring_error == 0);
	CHECK(x.st.fixed_sends == 0);
	/* Notification pages are charged too: 256 KiB sends run out. */
	CHECK(x.st.fallbacks > 0);
	CHECK(x.st.copied_why[ZC_WHY_NOBUFS] == x.st.fallbacks);
	return 0;
}

static void test_memlock(void **state)
{
	(void)state;
	assert_int_equal(in_child(memlock_child), 0);
}

/* The receiver's fault, after 1 MiB: stop reading, wait until the sender
 * says it has sends stuck behind the full socket, then reset. */
static int reset_when_stalled(int fd, void *arg)
{
	const int *stall = arg; /* read end, non-blocking */
	struct pollfd p = { .fd = *stall, .events = POLLIN };
	struct linger lg = { 1, 0 };
	char b[64];

	/* Earlier words came while this end was still reading. */
	while (read(*stall, b, sizeof(b)) > 0)
		;
	if (poll(&p, 1, 20000) != 1)
		fprintf(stderr, "the sender never stalled\n");
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
	return 1;
}

static void test_peer_reset(void **state)
{
	struct xfer x = { .tx = ZC_TX_URING,
			  .size = 65536,
			  .total = 256 << 20,
			  .peer_resets = true,
			  .sndbuf = 65536 };
	struct nu_rx_thread *r;
	int snd = -1, rcvfd = -1, stall[2];

	(void)state;
	assert_int_equal(pipe2(stall, O_NONBLOCK | O_CLOEXEC), 0);
	x.stall_fd = stall[1];
	assert_int_equal(tcp_pair(NULL, &snd, &rcvfd), 0);
	r = nu_rx_start_tcp_fault(rcvfd, 1 << 20, reset_when_stalled,
				  &stall[0]);
	assert_non_null(r);
	assert_int_equal(xfer_run(&x, snd), 0);
	/* Bytes before the reset were intact (else a negative count). */
	assert_true(nu_rx_join(r, NULL) >= 1 << 20);
	close(stall[0]);
	close(stall[1]);
	printf("reset: error %d, results zc %llu copied %llu error %llu "
	       "abandoned %llu\n",
	       x.send_error, (unsigned long long)x.results[0],
	       (unsigned long long)x.results[1],
	       (unsigned long long)x.results[2],
	       (unsigned long long)x.results[3]);
	assert_true(x.send_error == -ECONNRESET || x.send_error == -EPIPE);
	assert_int_equal(x.twice, 0);
	assert_int_equal(x.st.completions, x.accepted);
	assert_int_equal(x.st.inflight, 0);
	/* Sends queued behind a full socket fail with the reset. */
	assert_true(x.results[ZC_RESULT_ERROR] > 0);
}

/* ---- bad input -------------------------------------------------------------- */

static void recv_one(struct zc_sock *sock, int peer, struct zc_buf **buf)
{
	assert_int_equal(send(peer, "hello", 5, 0), 5);
	assert_int_equal(zc_recv(sock, buf), 5);
}

static void test_bad_release(void **state)
{
	struct zc_sock_opts so = { .rx = ZC_RX_URING,
				   .rx_buf_count = 4,
				   .rx_buf_size = 4096 };
	struct zc_sock *a, *b, *c;
	struct zc_ctx *ctx1, *ctx2;
	struct zc_buf *buf, *heap, *bufb, *bufc;
	struct zc_seg seg;
	int pa = -1, ra = -1, pb = -1, rb = -1, pc = -1, rc = -1;

	(void)state;
	assert_int_equal(zc_ctx_create(NULL, &ctx1), 0);
	assert_int_equal(zc_ctx_create(NULL, &ctx2), 0);
	assert_int_equal(tcp_pair(NULL, &pa, &ra), 0);
	assert_int_equal(tcp_pair(NULL, &pb, &rb), 0);
	assert_int_equal(tcp_pair(NULL, &pc, &rc), 0);
	assert_int_equal(zc_sock_attach(ctx1, ra, &so, &a), 0);
	assert_int_equal(zc_sock_attach(ctx1, rb, &so, &b), 0);
	assert_int_equal(zc_sock_attach(ctx2, rc, &so, &c), 0);
	recv_one(b, pb, &bufb);
	recv_one(c, pc, &bufc);
	recv_one(a, pa, &buf);
	/* Another socket of the context, another context: not theirs. */
	assert_int_equal(zc_sock_release(b, buf), -EXDEV);
	assert_int_equal(zc_sock_release(c, buf), -EXDEV);
	assert_int_equal(zc_buf_len(buf), 5);
	assert_int_equal(zc_sock_close(a), -EBUSY); /* a buffer is out */
	assert_int_equal(zc_sock_release(a, buf), 0);
	assert_int_equal(zc_sock_release(a, buf), -EALREADY);
	assert_int_equal(zc_buf_release(buf), -EALREADY);
	assert_int_equal(zc_buf_create(1, &heap), 0);
	assert_int_equal(zc_sock_release(a, heap), -EXDEV);
	assert_int_equal(zc_buf_release(heap), 0);
	assert_int_equal(zc_sock_release(NULL, heap), -EINVAL);
	/* Teardown with buffers out: they stay valid until released. */
	zc_ctx_destroy(ctx1);
	zc_ctx_destroy(ctx2);
	assert_int_equal(zc_buf_seg(bufb, 0, &seg), 0);
	assert_memory_equal(seg.base, "hello", 5);
	assert_int_equal(zc_buf_release(bufb), 0);
	assert_int_equal(zc_buf_release(bufc), 0);
	close(pa);
	close(pb);
	close(pc);
}

static void test_bad_region(void **state)
{
	struct zc_sock_opts so = { .tx = ZC_TX_URING_FIXED };
	struct zc_region *big, *reg, *unreadable;
	struct zc_ctx *ctx1, *ctx2;
	struct zc_sock *sock;
	struct zc_stats st;
	struct nu_rx_thread *r;
	int done = 0, snd = -1, rcvfd = -1;
	char *base;

	(void)state;
	assert_int_equal(zc_ctx_create(NULL, &ctx1), 0);
	assert_int_equal(zc_ctx_create(NULL, &ctx2), 0);
	assert_int_equal(zc_region_create(131072, ZC_REGION_NOLOCK, &big), 0);
	base = zc_region_base(big);
	nu_pattern_fill(base, 131072, 0);
	/* The first half only: sends can straddle its end. */
	assert_int_equal(zc_region_wrap(base, 65536, 0, &reg), 0);
	assert_int_equal(zc_ctx_register_region(NULL, reg), -EINVAL);
	assert_int_equal(zc_ctx_register_region(ctx1, reg), 0);
	assert_int_equal(zc_ctx_register_region(ctx1, reg), -EBUSY);
	assert_int_equal(zc_ctx_register_region(ctx2, reg), -EBUSY);
	assert_int_equal(zc_ctx_unregister_region(ctx2, reg), -EXDEV);
	assert_int_equal(zc_region_destroy(reg), -EBUSY);
	assert_int_equal(
		zc_region_create(4096, ZC_REGION_UNREADABLE, &unreadable), 0);
	assert_int_equal(zc_ctx_register_region(ctx1, unreadable), -EACCES);
	assert_int_equal(zc_region_destroy(unreadable), 0);

	assert_int_equal(tcp_pair(NULL, &snd, &rcvfd), 0);
	r = nu_rx_start_tcp(rcvfd, 98304);
	assert_non_null(r);
	assert_int_equal(zc_sock_attach(ctx1, snd, &so, &sock), 0);
	/* Inside: a fixed send.  Straddling the end: a plain one. */
	assert_int_equal(zc_send(sock, &(struct iovec){ base, 32768 }, 1,
				 nu_count_cb, &done),
			 0);
	assert_int_equal(zc_send(sock, &(struct iovec){ base + 32768, 65536 },
				 1, nu_count_cb, &done),
			 0);
	while (done < 2)
		zc_ctx_process(ctx1, 1000);
	zc_sock_stats(sock, &st);
	assert_int_equal(st.fixed_sends, 1);
	assert_int_equal(st.completions, 2);
	assert_int_equal(zc_sock_close(sock), 0);
	assert_int_equal(rcv_join(r, rcvfd), 98304);

	assert_int_equal(zc_ctx_unregister_region(ctx1, reg), 0);
	assert_int_equal(zc_ctx_unregister_region(ctx1, reg), -EINVAL);
	assert_int_equal(zc_region_destroy(reg), 0);
	zc_ctx_destroy(ctx1);
	zc_ctx_destroy(ctx2);
	assert_int_equal(zc_region_destroy(big), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_send_zc_lo),
		cmocka_unit_test(test_sendmsg_zc_lo),
		cmocka_unit_test(test_fixed_lo),
		cmocka_unit_test(test_small_ring_lo),
		cmocka_unit_test(test_copied_matches_kernel),
		cmocka_unit_test(test_eventfd_wakes),
		cmocka_unit_test_teardown(test_veth, netns_teardown),
		cmocka_unit_test_teardown(test_veth_loss, netns_teardown),
		cmocka_unit_test(test_rx_ring),
		cmocka_unit_test(test_rx_ring_hold_random),
		cmocka_unit_test(test_rx_hold_all),
		cmocka_unit_test(test_rx_cq_overflow),
		cmocka_unit_test(test_seccomp_fallback),
		cmocka_unit_test(test_no_uring_flag),
		cmocka_unit_test(test_memlock),
		cmocka_unit_test(test_peer_reset),
		cmocka_unit_test(test_bad_release),
		cmocka_unit_test(test_bad_region),
	};

	/* Resets and closed peers must not kill the test. */
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
