/* SPDX-License-Identifier: MIT */
/*
 * ZC_RX_TCPMMAP against the real kernel: loopback with TCP_MAXSEG 4108 and
 * a MSG_ZEROCOPY sender (pages mapped), a plain sender (copied), veth with
 * MTU 4148 between two namespaces, held and out-of-order releases, a full
 * window, a reset mid-stream and bad input.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <zcopy/zcopy.h>

#include "netutil.h"
#include "sock.h"

/* The stream is nu_pattern(offset % PAT_LEN): senders send straight from
 * one PAT_LEN table (zero-copy needs memory that stays put), receivers
 * compare with memcmp. */
#define PAT_LEN (4u << 20)
#define MSS_MAPPABLE 4108 /* 4096 payload + 12 bytes of timestamps */
/*
 * The share of a mappable stream that must be mapped.  On a quiet machine
 * lo with MSS 4108 maps 99.5-100%; under ASan and parallel tests the
 * sender now and then splits a segment off a page boundary and that
 * window is copied (98.9% seen, 1 run in 5, with the old 99% bar).  95%
 * is four times that dip below 99% and still fails any real regression:
 * mapping off or broken gives 0%, a window handled wrong costs far more.
 */
#define MAPPED_MIN_PCT 95
#define SEND_CHUNK (256u << 10)
#define STREAM_LEN (64ull << 20)

static uint8_t *pat;

/* ---- the byte stream ---------------------------------------------------- */

static bool pat_ok(const uint8_t *p, uint64_t off, size_t len)
{
	while (len) {
		size_t at = off % PAT_LEN, n = PAT_LEN - at;

		if (n > len)
			n = len;
		if (memcmp(p, pat + at, n) != 0)
			return false;
		p += n;
		off += n;
		len -= n;
	}
	return true;
}

static bool buf_ok(const struct zc_buf *buf, uint64_t off)
{
	struct zc_seg seg;

	for (unsigned i = 0; zc_buf_seg(buf, i, &seg) == 0; i++) {
		if (!pat_ok(seg.base, off, seg.len))
			return false;
		off += seg.len;
	}
	return true;
}

static int setup_pattern(void **state)
{
	(void)state;
	pat = mmap(NULL, PAT_LEN, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (pat == MAP_FAILED)
		return -1;
	nu_pattern_fill(pat, PAT_LEN, 0);
	return 0;
}

static int teardown_pattern(void **state)
{
	(void)state;
	munmap(pat, PAT_LEN);
	return 0;
}

/* ---- sender: zcopy's own transports in a thread ------------------------- */

struct sender {
	int fd;
	enum zc_tx_mode tx;
	uint64_t total;
	bool reset; /* end with a reset instead of a FIN */
	uint64_t sent;
	int error;
	pthread_t thread;
};

static void send_done(struct zc_sock *sock, const struct zc_completion *c,
		      void *arg)
{
	(void)sock;
	(void)c;
	(void)arg;
}

static void send_stream(struct sender *s, struct zc_sock *sock,
			struct zc_ctx *ctx)
{
	while (s->sent < s->total) {
		uint64_t at = s->sent % PAT_LEN;
		size_t len = SEND_CHUNK;
		struct iovec iov;
		int ret;

		if (len > PAT_LEN - at)
			len = PAT_LEN - at;
		if (len > s->total - s->sent)
			len = (size_t)(s->total - s->sent);
		iov = (struct iovec){ pat + at, len };
		ret = zc_send(sock, &iov, 1, send_done, NULL);
		if (ret == -EAGAIN) {
			zc_ctx_process(ctx, 10);
			continue;
		}
		if (ret) {
			s->error = ret;
			return;
		}
		s->sent += len;
		zc_ctx_process(ctx, 0);
	}
}

static void *sender_main(void *arg)
{
	struct sender *s = arg;
	struct zc_sock_opts o = { .tx = s->tx };
	struct linger lg = { 1, 0 };
	struct zc_sock *sock;
	struct zc_ctx *ctx;

	/* A resetting sender queues what the peer does not take and gives
	 * up on it soon. */
	if (s->reset) {
		fcntl(s->fd, F_SETFL, O_NONBLOCK);
		o.close_timeout_ms = 100;
	}
	s->error = zc_ctx_create(NULL, &ctx);
	if (s->error)
		return NULL;
	s->error = zc_sock_attach(ctx, s->fd, &o, &sock);
	if (!s->error) {
		send_stream(s, sock, ctx);
		if (s->reset)
			setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &lg,
				   sizeof(lg));
		zc_sock_close(sock);
	}
	zc_ctx_destroy(ctx);
	return NULL;
}

static void sender_start(struct sender *s, int fd, enum zc_tx_mode tx,
			 uint64_t total, bool reset)
{
	*s = (struct sender){
		.fd = fd, .tx = tx, .total = total, .reset = reset
	};
	assert_int_equal(pthread_create(&s->thread, NULL, sender_main, s), 0);
}

static void sender_join(struct sender *s)
{
	pthread_join(s->thread, NULL);
}

/* ---- connections ------------------------------------------------------- */

/* A loopback connection: *rx accepted (the receiver), *tx the client,
 * TCP_MAXSEG mss on both (0: loopback's own). */
static void tcp_pair(int mss, int *rx, int *tx)
{
	struct nu_pair_opts o = { .mss = mss };

	assert_int_equal(nu_pair(&o, tx, rx), 0);
}

/* ---- receiver ----------------------------------------------------------- */

#define HOLD_MAX 64

struct receiver {
	struct zc_ctx *ctx;
	struct zc_sock *sock;
	uint64_t off;  /* bytes received so far */
	uint64_t bad;  /* buffers whose bytes were wrong */
	ssize_t end;   /* last zc_recv() result: 0 or -errno */
	unsigned hold; /* keep up to this many buffers */
	unsigned nheld;
	unsigned enobufs; /* -ENOBUFS seen (all buffers held) */
	struct zc_buf *held[HOLD_MAX];
	uint64_t held_off[HOLD_MAX];
	unsigned seed;
};

static int rx_open(struct receiver *r, int fd, const struct zc_sock_opts *opts)
{
	struct zc_sock_opts o = { .rx = ZC_RX_TCPMMAP };
	int ret;

	memset(r, 0, sizeof(*r));
	r->seed = 1;
	if (opts)
		o = *opts;
	ret = zc_ctx_create(NULL, &r->ctx);
	if (ret)
		return ret;
	ret = zc_sock_attach(r->ctx, fd, &o, &r->sock);
	if (ret)
		zc_ctx_destroy(r->ctx);
	return ret;
}

/* Verify when giving back, not when receiving: held mapped pages must not
 * change while more data arrives. */
static void rx_release(struct receiver *r, unsigned i)
{
	struct zc_buf *buf = r->held[i];

	if (!buf_ok(buf, r->held_off[i]))
		r->bad++;
	if (zc_sock_release(r->sock, buf))
		r->bad++;
	r->held[i] = r->held[--r->nheld];
	r->held_off[i] = r->held_off[r->nheld];
}

/* Out of order: a random held buffer goes back first. */
static void rx_release_some(struct receiver *r)
{
	rx_release(r, (unsigned)rand_r(&r->seed) % r->nheld);
}

static void rx_keep(struct receiver *r, struct zc_buf *buf)
{
	r->held[r->nheld] = buf;
	r->held_off[r->nheld++] = r->off;
	while (r->nheld && r->nheld >= r->hold)
		rx_release_some(r);
}

/* Receive to the end of the stream (or an error). */
static void rx_run(struct receiver *r)
{
	for (;;) {
		struct zc_buf *buf;
		ssize_t n = zc_recv(r->sock, &buf);

		if (n == -ENOBUFS && r->nheld) {
			r->enobufs++;
			rx_release_some(r);
			continue;
		}
		if (n <= 0) {
			r->end = n;
			break;
		}
		if ((size_t)n != zc_buf_len(buf))
			r->bad++;
		rx_keep(r, buf);
		r->off += (uint64_t)n;
	}
	while (r->nheld)
		rx_release_some(r);
}

static struct zc_stats rx_close(struct receiver *r)
{
	struct zc_stats st;

	zc_sock_stats(r->sock, &st);
	assert_int_equal(zc_sock_close(r->sock), 0);
	zc_ctx_destroy(r->ctx);
	return st;
}

static void print_share(const char *what, const struct zc_stats *st)
{
	print_message("%s: %llu bytes, %llu mapped (%.2f%%), %llu copied\n",
		      what, (unsigned long long)st->rx_bytes,
		      (unsigned long long)st->rx_bytes_mapped,
		      st->rx_bytes ? 100.0 * (double)st->rx_bytes_mapped /
					     (double)st->rx_bytes
				   : 0.0,
		      (unsigned long long)st->rx_bytes_copied);
}

/* One loopback stream through ZC_RX_TCPMMAP; checks every byte. */
static struct zc_stats stream(int mss, enum zc_tx_mode tx, unsigned hold,
			      const struct zc_sock_opts *opts, bool mapping)
{
	struct receiver r;
	struct sender s;
	struct zc_stats st;
	int rfd, tfd;

	tcp_pair(mss, &rfd, &tfd);
	assert_int_equal(rx_open(&r, rfd, opts), 0);
	r.hold = hold;
	if (!mapping)
		assert_int_equal(zc_rx_tcpmmap_set_mapping(r.sock, false), 0);
	sender_start(&s, tfd, tx, STREAM_LEN, false);
	rx_run(&r);
	sender_join(&s);
	assert_int_equal(s.error, 0);
	assert_int_equal(r.end, 0);
	assert_int_equal(r.bad, 0);
	assert_true(r.off == STREAM_LEN);
	st = rx_close(&r);
	assert_true(st.rx_bytes == STREAM_LEN);
	assert_true(st.rx_bytes_mapped + st.rx_bytes_copied == st.rx_bytes);
	return st;
}

/* ---- tests -------------------------------------------------------------- */

static void test_mapped_loopback(void **state)
{
	struct zc_stats st;

	(void)state;
	st = stream(MSS_MAPPABLE, ZC_TX_MSGZC, 0, NULL, true);
	print_share("msgzc sender, mss 4108", &st);
	assert_true(st.rx_bytes_mapped * 100 >= st.rx_bytes * MAPPED_MIN_PCT);
}

static void test_plain_sender(void **state)
{
	struct zc_stats st;

	(void)state;
	st = stream(0, ZC_TX_COPY, 0, NULL, true);
	print_share("plain sender", &st);
	assert_true(st.rx_bytes_mapped == 0);
}

static void test_mapping_off(void **state)
{
	struct zc_stats st;

	(void)state;
	st = stream(MSS_MAPPABLE, ZC_TX_MSGZC, 0, NULL, false);
	print_share("mapping off", &st);
	assert_true(st.rx_bytes_mapped == 0);
}

/* A receive callback under copying reads four 4 KiB buffers at once and
 * is handed the first; mapping resumes and zc_recv() must hand out the
 * three read ahead before anything it maps or copies from the kernel. */
static void ahead_cb(struct zc_sock *sock, struct zc_buf *buf, ssize_t n,
		     const struct sockaddr *from, void *arg)
{
	struct receiver *r = arg;

	(void)from;
	assert_true(n > 0 && buf_ok(buf, 0));
	r->off = (uint64_t)n;
	assert_int_equal(zc_sock_release(sock, buf), 0);
	assert_int_equal(zc_recv_stop(sock), 0);
}

static void test_read_ahead_then_map(void **state)
{
	struct zc_sock_opts o = { .rx = ZC_RX_TCPMMAP,
				  .rx_buf_size = 4096,
				  .rx_buf_count = 16 };
	const size_t len = 65536, ahead = 16384; /* four 4 KiB buffers */
	int64_t end = nu_now_ms() + 10000;
	struct receiver r;
	int rfd, tfd;

	(void)state;
	tcp_pair(MSS_MAPPABLE, &rfd, &tfd);
	assert_int_equal(rx_open(&r, rfd, &o), 0);
	assert_int_equal(zc_rx_tcpmmap_set_mapping(r.sock, false), 0);
	assert_true(write(tfd, pat, len) == (ssize_t)len);
	shutdown(tfd, SHUT_WR);
	assert_int_equal(nu_wait_inq(rfd, (int)len, 10000), (int)len);
	assert_int_equal(zc_recv_start(r.sock, ahead_cb, &r), 0);
	while (!r.off && nu_now_ms() < end)
		zc_ctx_process(r.ctx, 10);
	assert_true(r.off == 4096);
	assert_int_equal(nu_inq(rfd), (int)(len - ahead));
	assert_int_equal(zc_rx_tcpmmap_set_mapping(r.sock, true), 0);
	rx_run(&r);
	assert_int_equal(r.end, 0);
	assert_int_equal(r.bad, 0);
	assert_true(r.off == len);
	rx_close(&r);
	close(tfd);
}

/* Hold up to 48 buffers, give them back in random order, verify each at
 * release; the window (1 MiB) and pool fill up, nothing is lost. */
static void test_hold_out_of_order(void **state)
{
	struct zc_sock_opts o = { .rx = ZC_RX_TCPMMAP,
				  .rx_buf_size = 65536,
				  .rx_buf_count = 16 };
	struct zc_stats st;

	(void)state;
	st = stream(MSS_MAPPABLE, ZC_TX_MSGZC, 48, &o, true);
	print_share("held, out of order", &st);
	assert_true(st.rx_bytes_mapped > 0);
}

/* Pool buffers smaller than a page bound the copy buffer. */
static void test_small_buffers(void **state)
{
	struct zc_sock_opts o = { .rx = ZC_RX_TCPMMAP,
				  .rx_buf_size = 1000,
				  .rx_buf_count = 300 };
	struct zc_stats st;

	(void)state;
	st = stream(0, ZC_TX_COPY, 0, &o, true);
	print_share("1000-byte pool buffers", &st);
	assert_true(st.rx_bytes_mapped == 0);
}

/* Hold everything until the window and the pool are full: zc_recv()
 * copies once the window is held, then says -ENOBUFS, and loses nothing. */
static void test_window_full(void **state)
{
	struct zc_sock_opts o = { .rx = ZC_RX_TCPMMAP,
				  .rx_buf_size = 16384,
				  .rx_buf_count = 4 };
	struct receiver r;
	struct sender s;
	struct zc_stats st;
	struct zc_buf *buf;
	int rfd, tfd;
	ssize_t n = 0;

	(void)state;
	tcp_pair(MSS_MAPPABLE, &rfd, &tfd);
	assert_int_equal(rx_open(&r, rfd, &o), 0);
	sender_start(&s, tfd, ZC_TX_MSGZC, 4u << 20, false);
	r.hold = HOLD_MAX;
	while (r.nheld < HOLD_MAX) {
		n = zc_recv(r.sock, &buf);
		if (n == -ENOBUFS)
			break;
		assert_true(n > 0);
		rx_keep(&r, buf);
		r.off += (uint64_t)n;
	}
	assert_int_equal(n, -ENOBUFS);
	assert_int_equal(zc_sock_close(r.sock), -EBUSY);
	zc_sock_stats(r.sock, &st);
	print_share("window full", &st);
	assert_true(st.rx_bytes_mapped > 0);
	assert_true(st.rx_bytes_copied > 0);
	rx_run(&r);
	sender_join(&s);
	assert_int_equal(r.end, 0);
	assert_int_equal(r.bad, 0);
	assert_true(r.off == 4u << 20);
	rx_close(&r);
}

/* The sender resets the connection while the receiver has not read
 * anything: the bytes queued before the reset come out intact, then
 * zc_recv() reports the reset. */
static void test_reset(void **state)
{
	struct zc_stats st;
	struct receiver r;
	struct sender s;
	struct pollfd pfd;
	int rfd, tfd;

	(void)state;
	tcp_pair(MSS_MAPPABLE, &rfd, &tfd);
	assert_int_equal(rx_open(&r, rfd, NULL), 0);
	sender_start(&s, tfd, ZC_TX_MSGZC, 16u << 20, true);
	pfd = (struct pollfd){ .fd = rfd }; /* wakes on error or hang-up */
	assert_int_equal(poll(&pfd, 1, 10000), 1);
	r.hold = 8;
	rx_run(&r);
	sender_join(&s);
	zc_sock_stats(r.sock, &st);
	print_message("reset after %llu bytes: %s\n", (unsigned long long)r.off,
		      zc_strerror((int)r.end));
	print_share("reset", &st);
	assert_int_equal(r.end, -ECONNRESET);
	assert_int_equal(r.bad, 0);
	assert_true(r.off > 0 && r.off <= 16u << 20);
	rx_close(&r);
}

/* A reset with nothing queued: whoever reads the socket's error first
 * (the context or the receive path), a blocking zc_recv() must end
 * instead of waiting forever. */
static void test_reset_seen_by_ctx(void **state)
{
	struct linger lg = { 1, 0 };
	struct receiver r;
	struct zc_buf *buf;
	int rfd, tfd;
	ssize_t ret;

	(void)state;
	tcp_pair(MSS_MAPPABLE, &rfd, &tfd);
	assert_int_equal(rx_open(&r, rfd, NULL), 0);
	assert_int_equal(zc_sock_rx_start(r.sock), 0);
	setsockopt(tfd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(tfd);
	assert_true(zc_ctx_process(r.ctx, 100) >= 0);
	ret = zc_recv(r.sock, &buf);
	assert_true(ret == 0 || ret == -ECONNRESET);
	rx_close(&r);
}

static void test_bad_input(void **state)
{
	struct receiver r, other;
	struct zc_buf *buf, *obuf, *heap;
	int rfd, tfd, rfd2, tfd2;
	char byte = 1;

	(void)state;
	tcp_pair(0, &rfd, &tfd);
	tcp_pair(0, &rfd2, &tfd2);
	assert_int_equal(rx_open(&r, rfd, NULL), 0);
	assert_int_equal(rx_open(&other, rfd2, NULL), 0);
	assert_int_equal(write(tfd, &byte, 1), 1);
	assert_int_equal(write(tfd2, &byte, 1), 1);
	assert_int_equal(zc_recv(r.sock, &buf), 1);
	assert_int_equal(zc_recv(other.sock, &obuf), 1);

	/* Foreign buffers: another socket's, a heap buffer. */
	assert_int_equal(zc_sock_release(r.sock, obuf), -EXDEV);
	assert_int_equal(zc_buf_create(1, &heap), 0);
	assert_int_equal(zc_sock_release(r.sock, heap), -EXDEV);
	assert_int_equal(zc_buf_release(heap), 0);
	assert_int_equal(zc_sock_release(r.sock, NULL), -EINVAL);

	/* Twice. */
	assert_int_equal(zc_sock_release(r.sock, buf), 0);
	assert_int_equal(zc_sock_release(r.sock, buf), -EALREADY);
	assert_int_equal(zc_buf_release(buf), -EALREADY);
	assert_int_equal(zc_sock_release(other.sock, obuf), 0);

	rx_close(&r);
	rx_close(&other);
	close(tfd);
	close(tfd2);
}

static void test_nonblock(void **state)
{
	struct pollfd pfd;
	struct receiver r;
	struct zc_buf *buf;
	int rfd, tfd;

	(void)state;
	tcp_pair(MSS_MAPPABLE, &rfd, &tfd);
	assert_int_equal(fcntl(rfd, F_SETFL, O_NONBLOCK), 0);
	assert_int_equal(rx_open(&r, rfd, NULL), 0);
	assert_int_equal(zc_recv(r.sock, &buf), -EAGAIN);
	close(tfd);
	/* Wait for the FIN itself, not for a while. */
	pfd = (struct pollfd){ .fd = rfd, .events = POLLIN | POLLRDHUP };
	assert_int_equal(poll(&pfd, 1, 5000), 1);
	assert_int_equal(zc_recv(r.sock, &buf), 0);
	rx_close(&r);
}

static void test_udp(void **state)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct zc_sock_opts o = { .rx = ZC_RX_TCPMMAP };
	struct zc_sock *sock;
	struct zc_ctx *ctx;
	struct zc_buf *buf;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	(void)state;
	assert_true(fd >= 0);
	sin.sin_port = htons(9); /* connect() only sets the peer */
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(zc_ctx_create(NULL, &ctx), 0);
	assert_int_equal(zc_sock_attach(ctx, fd, &o, &sock), 0);
	assert_int_equal(zc_recv(sock, &buf), -EPROTONOSUPPORT);
	assert_int_equal(zc_rx_tcpmmap_set_mapping(sock, false),
			 -EPROTONOSUPPORT);
	zc_ctx_destroy(ctx);
}

static void test_unconnected(void **state)
{
	struct zc_sock_opts o = { .rx = ZC_RX_TCPMMAP };
	struct zc_sock *sock;
	struct zc_ctx *ctx;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(zc_ctx_create(NULL, &ctx), 0);
	assert_int_equal(zc_sock_attach(ctx, fd, &o, &sock), -ENOTCONN);
	zc_ctx_destroy(ctx);
	close(fd);
}

/* Only ZC_RX_TCPMMAP sockets take the switch: under ZC_RX_AUTO the policy
 * holds it. */
static void test_hook_on_copy_socket(void **state)
{
	static const enum zc_rx_mode modes[] = { ZC_RX_COPY, ZC_RX_AUTO };

	(void)state;
	for (unsigned i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		struct zc_sock_opts o = { .rx = modes[i] };
		struct receiver r;
		int rfd, tfd;

		print_message("case: rx %s\n", zc_rx_mode_name(modes[i]));
		tcp_pair(0, &rfd, &tfd);
		assert_int_equal(rx_open(&r, rfd, &o), 0);
		assert_int_equal(zc_rx_tcpmmap_set_mapping(r.sock, false),
				 -EOPNOTSUPP);
		rx_close(&r);
		close(tfd);
	}
}

/* ---- ZC_RX_AUTO: tcpmmap with the policy deciding per receive ---------- */

static const struct zc_sock_opts auto_opts = { .rx = ZC_RX_AUTO };

static void print_policy(const struct zc_stats *st)
{
	print_message("policy: %llu receives mapped, %llu copied, %llu "
		      "back-offs; CPU ns/MiB copy %llu map %llu; using %s "
		      "(why %d), %llu probes, %llu switches\n",
		      (unsigned long long)st->policy_rx_map,
		      (unsigned long long)st->policy_rx_copy,
		      (unsigned long long)st->policy_rx_backoffs,
		      (unsigned long long)st->policy_rx_cost_copy,
		      (unsigned long long)st->policy_rx_cost_map,
		      zc_rx_mode_name(st->policy_rx_using), st->policy_rx_why,
		      (unsigned long long)st->policy_rx_probes,
		      (unsigned long long)st->policy_rx_switches);
}

/* A plain sender: nothing can be mapped.  Auto measures one window, then
 * copies, measuring again after ever longer back-offs. */
static void test_auto_plain_sender(void **state)
{
	struct zc_stats st;

	(void)state;
	st = stream(0, ZC_TX_COPY, 0, &auto_opts, true);
	print_share("auto, plain sender", &st);
	print_policy(&st);
	assert_true(st.rx_bytes_mapped == 0);
	assert_true(st.rx_bytes_copied == STREAM_LEN);
	assert_true(st.policy_rx_map > 0);
	assert_true(st.policy_rx_backoffs >= 2);
	/* Most receives skip TCP_ZEROCOPY_RECEIVE altogether. */
	assert_true(st.policy_rx_copy > 4 * st.policy_rx_map);
}

/* MSS 4108 and a MSG_ZEROCOPY sender: mapping works, so auto measures
 * both paths and keeps the cheaper one.  A window can still come out
 * mostly copied (the receiver ran ahead of the sender: 1 window in ~10
 * runs on a loaded machine) and back off once; that is the rule working,
 * so back-offs are printed, not asserted. */
static void test_auto_mappable(void **state)
{
	struct zc_stats st;

	(void)state;
	st = stream(MSS_MAPPABLE, ZC_TX_MSGZC, 0, &auto_opts, true);
	print_share("auto, msgzc sender, mss 4108", &st);
	print_policy(&st);
	/* Both paths work here (nothing is ruled out: the share is high),
	 * both were measured, and auto ends on the one its own counters call
	 * cheaper (or the one in use, when the other is not cheaper by the
	 * margin).  Every byte arrived intact (stream() checked it). */
	assert_true(st.policy_rx_map > 0);
	assert_true(st.rx_bytes_mapped > 0);
	assert_true(st.policy_rx_cost_copy > 0 && st.policy_rx_cost_map > 0);
	assert_true(st.policy_rx_probes > 0);
	/* While probing, the other path is measured again: no verdict. */
	if (st.policy_rx_why == ZC_PWHY_PROBING)
		return;
	assert_int_equal(st.policy_rx_why, ZC_PWHY_CHEAPER);
	if (st.policy_rx_using == ZC_RX_COPY)
		assert_true(st.policy_rx_cost_copy * 100 <
			    st.policy_rx_cost_map * (100 + ZC_COST_MARGIN));
	else
		assert_true(st.policy_rx_cost_map * 100 <
			    st.policy_rx_cost_copy * (100 + ZC_COST_MARGIN));
}

/* UDP: nothing to map; auto copies and the policy is not asked. */
static void test_auto_udp(void **state)
{
	static const char msg[] = "datagram";
	struct sockaddr_storage peer;
	socklen_t len = sizeof(peer);
	struct zc_sock *sock;
	struct zc_ctx *ctx;
	struct zc_stats st;
	struct zc_buf *buf;
	char got[sizeof(msg)];
	int snd, rcv;

	(void)state;
	assert_int_equal(nu_udp_pair(AF_INET, &snd, &rcv), 0);
	/* zc_sock_attach() takes connected sockets only. */
	assert_int_equal(getsockname(snd, (struct sockaddr *)&peer, &len), 0);
	assert_int_equal(connect(rcv, (struct sockaddr *)&peer, len), 0);
	assert_int_equal(zc_ctx_create(NULL, &ctx), 0);
	assert_int_equal(zc_sock_attach(ctx, rcv, &auto_opts, &sock), 0);
	for (int i = 0; i < 8; i++) {
		assert_int_equal(send(snd, msg, sizeof(msg), 0), sizeof(msg));
		assert_int_equal(zc_recv(sock, &buf), sizeof(msg));
		assert_int_equal(zc_buf_copy_out(buf, 0, got, sizeof(got)),
				 sizeof(got));
		assert_memory_equal(got, msg, sizeof(msg));
		assert_int_equal(zc_sock_release(sock, buf), 0);
	}
	assert_int_equal(zc_rx_tcpmmap_set_mapping(sock, false), -EOPNOTSUPP);
	zc_sock_stats(sock, &st);
	assert_true(st.rx_bytes_copied == 8 * sizeof(msg));
	assert_true(st.rx_bytes_mapped == 0);
	assert_true(st.policy_rx_map + st.policy_rx_copy == 0);
	zc_ctx_destroy(ctx);
	close(snd);
}

/* ---- veth: two namespaces, MTU 4148 ------------------------------------ */

#define VETH_MTU 4148

/* Child: receive on fd (in the first namespace), verify, report the
 * statistics. */
static int veth_receiver(int fd, int out)
{
	struct receiver r;
	struct zc_stats st;

	if (rx_open(&r, fd, NULL))
		return 4;
	r.hold = 4;
	rx_run(&r);
	zc_sock_stats(r.sock, &st);
	if (write(out, &st, sizeof(st)) != sizeof(st))
		return 5;
	if (r.end || r.bad || r.off != STREAM_LEN)
		return 6;
	zc_sock_close(r.sock);
	zc_ctx_destroy(r.ctx);
	return 0;
}

/* Child: a MSG_ZEROCOPY sender on fd (in the second namespace). */
static int veth_sender(int fd)
{
	struct sender s = { .fd = fd, .tx = ZC_TX_MSGZC, .total = STREAM_LEN };

	sender_main(&s);
	return s.error || s.sent != STREAM_LEN ? 4 : 0;
}

static int wait_child(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* No cmocka assertions here: the namespaces must go whatever happens. */
static int veth_check(const struct nu_netns *ns)
{
	struct nu_pair_opts o = { .ns = ns };
	struct zc_stats st = { 0 };
	int p[2], ret = 0, rfd, tfd;
	pid_t rx, tx;

	if (nu_pair(&o, &tfd, &rfd))
		return -1;
	if (pipe(p)) {
		close(rfd);
		close(tfd);
		return -errno;
	}
	fflush(NULL);
	rx = fork();
	if (!rx) {
		close(p[0]);
		close(tfd);
		_exit(veth_receiver(rfd, p[1]));
	}
	close(p[1]);
	close(rfd);
	tx = rx < 0 ? -1 : fork();
	if (!tx) {
		close(p[0]);
		_exit(veth_sender(tfd));
	}
	close(tfd);
	if (tx < 0 || wait_child(tx)) {
		print_message("veth sender failed\n");
		if (rx > 0)
			kill(rx, SIGKILL);
		ret = -1;
	}
	if (read(p[0], &st, sizeof(st)) != sizeof(st))
		ret = -1;
	close(p[0]);
	if (rx < 0 || wait_child(rx)) {
		print_message("veth receiver failed\n");
		ret = -1;
	}
	print_share("veth mtu 4148, msgzc sender", &st);
	/* veth with MTU 4148 maps 99.7-100% on a quiet machine and dips
	 * like loopback under load (98.9% seen): the same bar. */
	if (st.rx_bytes_mapped * 100 < st.rx_bytes * MAPPED_MIN_PCT)
		ret = -1;
	return ret;
}

static void test_veth(void **state)
{
	struct nu_netns ns;
	int ret;

	(void)state;
	if (nu_netns_create(&ns, VETH_MTU))
		skip();
	ret = veth_check(&ns);
	nu_netns_destroy(&ns);
	assert_int_equal(ret, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mapped_loopback),
		cmocka_unit_test(test_plain_sender),
		cmocka_unit_test(test_mapping_off),
		cmocka_unit_test(test_read_ahead_then_map),
		cmocka_unit_test(test_hold_out_of_order),
		cmocka_unit_test(test_window_full),
		cmocka_unit_test(test_small_buffers),
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_reset_seen_by_ctx),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_nonblock),
		cmocka_unit_test(test_udp),
		cmocka_unit_test(test_unconnected),
		cmocka_unit_test(test_hook_on_copy_socket),
		cmocka_unit_test(test_auto_plain_sender),
		cmocka_unit_test(test_auto_mappable),
		cmocka_unit_test(test_auto_udp),
		cmocka_unit_test(test_veth),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, setup_pattern, teardown_pattern);
}
