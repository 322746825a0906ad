/* SPDX-License-Identifier: MIT */
/*
 * The event-loop API against the real kernel, case by case from the man
 * pages: zc_recv_start(3)/zc_recv_stop(3) per receive transport,
 * zc_sock_flush(3), zc_sock_shutdown(3), zc_sendto(3) and zc_recvfrom(3)
 * on unconnected UDP, and every error they document.
 *
 * Every wait is bounded: deadlines on the context fd, a writer thread
 * stuck behind a failed receiver is cut loose, and the case that streams
 * without a pause runs in a forked child with a watchdog.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include <zcopy/zcopy.h>

#include "netutil.h"

#define WAIT_MS 10000 /* longest wait for one expected event */
#define CHILD_S 60    /* watchdog of a forked case */

/* ---- driving the context ----------------------------------------------- */

/* Process until *done or the deadline, waiting on the context fd (never on
 * a socket's).  Returns the callbacks zc_ctx_process() reported. */
static int pump(struct zc_ctx *ctx, const bool *done, int ms)
{
	struct pollfd p = { .fd = zc_ctx_fd(ctx), .events = POLLIN };
	int64_t end = nu_now_ms() + ms;
	int total = 0;

	assert_true(p.fd >= 0);
	while (!*done && nu_now_ms() < end) {
		int n;

		poll(&p, 1, 50);
		n = zc_ctx_process(ctx, 0);
		assert_true(n >= 0);
		total += n;
	}
	return total;
}

/* A few rounds of processing, for "nothing more happens". */
static int settle(struct zc_ctx *ctx, int ms)
{
	bool never = false;

	return pump(ctx, &never, ms);
}

static bool ctx_readable(struct zc_ctx *ctx, int ms)
{
	struct pollfd p = { .fd = zc_ctx_fd(ctx), .events = POLLIN };

	return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

static void fill(uint8_t *p, size_t len, uint64_t off)
{
	for (size_t i = 0; i < len; i++)
		p[i] = nu_pattern(off + i);
}

/* Write len pattern bytes from stream offset off on a blocking fd. */
static int write_pattern(int fd, uint64_t off, size_t len)
{
	uint8_t chunk[16384];

	while (len) {
		size_t n = len < sizeof(chunk) ? len : sizeof(chunk);
		ssize_t w;

		fill(chunk, n, off);
		w = write(fd, chunk, n);
		if (w <= 0)
			return -1;
		off += (uint64_t)w;
		len -= (size_t)w;
	}
	return 0;
}

/* Read until EOF, checking the pattern; the byte count or -1. */
static int64_t read_pattern(int fd, uint64_t off)
{
	uint8_t chunk[16384];
	uint64_t start = off;

	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));

		if (n == 0)
			return (int64_t)(off - start);
		if (n < 0)
			return -1;
		for (ssize_t i = 0; i < n; i++)
			if (chunk[i] != nu_pattern(off + (uint64_t)i))
				return -1;
		off += (uint64_t)n;
	}
}

/* ---- a receive callback that checks what it gets ------------------------ */

#define MAX_HELD 1024

struct rxc {
	uint64_t got;	/* bytes, matched against the stream pattern */
	unsigned calls; /* data calls */
	unsigned eofs;
	unsigned errs;
	unsigned after_end; /* calls after EOF or an error */
	ssize_t err;
	bool ended;
	bool bad;  /* a byte that is not the pattern, or a bad argument */
	bool hold; /* keep buffers instead of releasing them */
	struct zc_buf *held[MAX_HELD];
	unsigned nheld;
	bool close_in_cb; /* try zc_sock_close() inside the callback */
	int close_ret;
	struct sockaddr_storage from;
	socklen_t fromlen;
	bool from_null;
};

static void rx_cb(struct zc_sock *sock, struct zc_buf *buf, ssize_t n,
		  const struct sockaddr *from, void *arg)
{
	struct rxc *r = arg;
	uint8_t tmp[65536];

	if (r->ended) {
		r->after_end++;
		return;
	}
	if (r->close_in_cb)
		r->close_ret = zc_sock_close(sock);
	if (n <= 0) {
		r->ended = true;
		if (n == 0)
			r->eofs++;
		else
			r->errs++;
		r->err = n;
		if (buf)
			r->bad = true;
		return;
	}
	r->calls++;
	if (!buf || zc_buf_len(buf) != (size_t)n)
		r->bad = true;
	for (size_t off = 0; buf && off < (size_t)n; off += sizeof(tmp)) {
		size_t len = (size_t)n - off < sizeof(tmp) ? (size_t)n - off
							   : sizeof(tmp);

		if (zc_buf_copy_out(buf, off, tmp, len) != (ssize_t)len)
			r->bad = true;
		for (size_t i = 0; i < len; i++)
			if (tmp[i] != nu_pattern(r->got + off + i))
				r->bad = true;
	}
	r->got += (uint64_t)n;
	if (from) {
		memcpy(&r->from, from,
		       from->sa_family == AF_INET6
			       ? sizeof(struct sockaddr_in6)
			       : sizeof(struct sockaddr_in));
		r->fromlen = 1;
	} else {
		r->from_null = true;
	}
	if (r->hold && r->nheld < MAX_HELD)
		r->held[r->nheld++] = buf;
	else if (zc_sock_release(sock, buf))
		r->bad = true;
}

/* Process until r has want bytes (or ended), at most WAIT_MS. */
static void pump_got(struct zc_ctx *ctx, const struct rxc *r, uint64_t want)
{
	int64_t end = nu_now_ms() + WAIT_MS;

	while (r->got < want && !r->ended && nu_now_ms() < end)
		settle(ctx, 10);
}

/* ---- fixtures ----------------------------------------------------------- */

struct tcp_fix {
	struct zc_ctx *ctx;
	struct zc_sock *sock; /* the attached end */
	int peer;	      /* the plain end */
};

/* A TCP pair on loopback: one end attached (non-blocking) with opts, the
 * other plain and blocking. */
static void tcp_fix_up(struct tcp_fix *f, const struct zc_sock_opts *opts)
{
	int a, b;

	assert_int_equal(nu_tcp_pair(AF_INET, &a, &b), 0);
	assert_int_equal(nu_set_nonblock(a), 0);
	assert_int_equal(zc_ctx_create(NULL, &f->ctx), 0);
	assert_int_equal(zc_sock_attach(f->ctx, a, opts, &f->sock), 0);
	f->peer = b;
}

static void tcp_fix_down(struct tcp_fix *f)
{
	zc_ctx_destroy(f->ctx);
	if (f->peer >= 0)
		close(f->peer);
}

/* ZC_RX_URING needs the context's ring; false (reason printed) if this
 * kernel or sandbox does not give one. */
static bool uring_usable(void)
{
	static int usable = -1;
	struct zc_sock *sock;
	struct zc_ctx *ctx;
	int a, b, ret;

	if (usable >= 0)
		return usable;
	assert_int_equal(nu_tcp_pair(AF_INET, &a, &b), 0);
	assert_int_equal(zc_ctx_create(NULL, &ctx), 0);
	assert_int_equal(
		zc_sock_attach(ctx, b,
			       &(struct zc_sock_opts){ .rx = ZC_RX_URING },
			       &sock),
		0);
	ret = zc_recv_start(sock, rx_cb, NULL);
	zc_ctx_destroy(ctx);
	close(a);
	usable = ret == 0;
	if (!usable)
		printf("io_uring receive not available: %s\n",
		       zc_strerror(ret));
	return usable;
}

/* The TCP fixture with receive transport rx (and the other options);
 * false if the case must skip. */
static bool rx_fix_up(struct tcp_fix *f, enum zc_rx_mode rx,
		      struct zc_sock_opts o)
{
	if (rx == ZC_RX_URING && !uring_usable())
		return false;
	o.rx = rx;
	tcp_fix_up(f, &o);
	return true;
}

/* A thread writing the stream pattern to a blocking fd. */
struct writer {
	pthread_t th;
	int fd;
	uint64_t off;
	size_t len;
	bool shut; /* shutdown(SHUT_WR) when done */
	int ret;
};

static void *writer_main(void *arg)
{
	struct writer *w = arg;

	w->ret = write_pattern(w->fd, w->off, w->len);
	if (w->shut)
		shutdown(w->fd, SHUT_WR);
	return NULL;
}

static void writer_start(struct writer *w)
{
	assert_int_equal(pthread_create(&w->th, NULL, writer_main, w), 0);
}

/* Join; a writer stuck because the receiver failed is cut loose first. */
static int writer_join(struct writer *w, bool ok)
{
	if (!ok)
		shutdown(w->fd, SHUT_RDWR);
	pthread_join(w->th, NULL);
	return w->ret;
}

/* Give back every buffer the collector holds. */
static void release_all(struct zc_sock *sock, struct rxc *r)
{
	for (unsigned i = 0; i < r->nheld; i++)
		assert_int_equal(zc_sock_release(sock, r->held[i]), 0);
	r->nheld = 0;
}

/* One named cmocka case per receive transport: test_NAME_copy(),
 * test_NAME_tcpmmap(), test_NAME_auto() and test_NAME_uring() run
 * NAME(ZC_RX_*). */
#define PER_RX_ONE(name, mode, rx)                     \
	static void test_##name##_##mode(void **state) \
	{                                              \
		(void)state;                           \
		name(rx);                              \
	}
#define PER_RX(name)                             \
	PER_RX_ONE(name, copy, ZC_RX_COPY)       \
	PER_RX_ONE(name, tcpmmap, ZC_RX_TCPMMAP) \
	PER_RX_ONE(name, auto, ZC_RX_AUTO)       \
	PER_RX_ONE(name, uring, ZC_RX_URING)

/* ---- zc_recv_start: a stream end to end, per transport ------------------- */

#define STREAM (4u << 20)

static void rx_stream(enum zc_rx_mode rx)
{
	struct writer w = { .off = 1000, .len = STREAM, .shut = true };
	struct rxc r = { 0 };
	struct tcp_fix f = { 0 };
	bool ok;

	if (!rx_fix_up(&f, rx, (struct zc_sock_opts){ 0 }))
		skip();
	assert_int_equal(zc_recv_start(f.sock, rx_cb, &r), 0);
	settle(f.ctx, 100);
	assert_int_equal(r.calls, 0);

	/* Data arrives: the context fd (not the socket's) says so. */
	assert_int_equal(write_pattern(f.peer, 0, 1000), 0);
	assert_true(ctx_readable(f.ctx, WAIT_MS));
	pump_got(f.ctx, &r, 1000);
	assert_int_equal(r.got, 1000);

	/* The rest, then end of stream: told once, as n == 0. */
	w.fd = f.peer;
	writer_start(&w);
	pump(f.ctx, &r.ended, 30000);
	ok = r.ended;
	assert_int_equal(writer_join(&w, ok), 0);
	assert_true(ok);
	assert_false(r.bad);
	assert_int_equal(r.got, 1000 + STREAM);
	assert_int_equal(r.eofs, 1);
	assert_int_equal(r.errs, 0);
	assert_true(r.from_null); /* TCP: no sender address */
	settle(f.ctx, 200);
	assert_int_equal(r.after_end, 0);
	tcp_fix_down(&f);
}

PER_RX(rx_stream)

/* ---- zc_recv_stop: delivery stops, the data stays queued ---------------- */

/* Read want bytes with zc_recv() (non-blocking socket), checking the
 * pattern from offset off. */
static void recv_pattern(struct zc_sock *sock, uint64_t off, size_t want)
{
	int64_t end = nu_now_ms() + WAIT_MS;
	size_t got = 0;
	uint8_t tmp[65536];

	while (got < want && nu_now_ms() < end) {
		struct zc_buf *buf;
		ssize_t n = zc_recv(sock, &buf);

		if (n == -EAGAIN) {
			usleep(1000);
			continue;
		}
		assert_true(n > 0);
		assert_true((size_t)n <= sizeof(tmp));
		assert_int_equal(zc_buf_copy_out(buf, 0, tmp, (size_t)n), n);
		for (ssize_t i = 0; i < n; i++)
			assert_int_equal(tmp[i], nu_pattern(off + got + i));
		got += (size_t)n;
		assert_int_equal(zc_sock_release(sock, buf), 0);
	}
	assert_int_equal(got, want);
}

static void rx_stop(enum zc_rx_mode rx)
{
	struct rxc r = { 0 };
	struct tcp_fix f = { 0 };

	if (!rx_fix_up(&f, rx, (struct zc_sock_opts){ 0 }))
		skip();
	assert_int_equal(zc_recv_stop(f.sock), -EINVAL); /* not started */
	assert_int_equal(zc_recv_start(f.sock, rx_cb, &r), 0);
	assert_int_equal(write_pattern(f.peer, 0, 1000), 0);
	pump_got(f.ctx, &r, 1000);
	assert_int_equal(r.got, 1000);

	assert_int_equal(zc_recv_stop(f.sock), 0);
	assert_int_equal(zc_recv_stop(f.sock), -EINVAL);
	assert_int_equal(write_pattern(f.peer, 1000, 3000), 0);
	settle(f.ctx, 300);
	assert_int_equal(r.got, 1000); /* nothing delivered */
	/* The data waited: zc_recv() has it. */
	recv_pattern(f.sock, 1000, 3000);

	/* Started again, delivery goes on where it stopped. */
	r.got = 4000;
	assert_int_equal(zc_recv_start(f.sock, rx_cb, &r), 0);
	assert_int_equal(write_pattern(f.peer, 4000, 500), 0);
	shutdown(f.peer, SHUT_WR);
	pump(f.ctx, &r.ended, WAIT_MS);
	assert_true(r.ended);
	assert_false(r.bad);
	assert_int_equal(r.got, 4500);
	assert_int_equal(r.eofs, 1);
	tcp_fix_down(&f);
}

PER_RX(rx_stop)

/* ---- read-ahead: one recv() fills several buffers ----------------------- */

#define AHEAD_BUF 4096u
#define AHEAD_LEN 65536u

/* Takes the first buffer, checks it, gives it back and stops delivery:
 * what that read filled beyond it waits in the library. */
static void ahead_cb(struct zc_sock *sock, struct zc_buf *buf, ssize_t n,
		     const struct sockaddr *from, void *arg)
{
	size_t *first = arg;
	uint8_t tmp[AHEAD_BUF];

	(void)from;
	assert_true(n > 0 && (size_t)n <= sizeof(tmp));
	assert_int_equal(zc_buf_copy_out(buf, 0, tmp, (size_t)n), n);
	for (ssize_t i = 0; i < n; i++)
		assert_int_equal(tmp[i], nu_pattern((uint64_t)i));
	*first = (size_t)n;
	assert_int_equal(zc_sock_release(sock, buf), 0);
	assert_int_equal(zc_recv_stop(sock), 0);
}

/* The first AHEAD_LEN bytes of the pattern queued, then one callback. */
static size_t ahead_first(struct tcp_fix *f)
{
	int64_t end = nu_now_ms() + WAIT_MS;
	size_t first = 0;

	assert_int_equal(write_pattern(f->peer, 0, AHEAD_LEN), 0);
	assert_int_equal(nu_wait_inq(zc_sock_fd(f->sock), AHEAD_LEN, WAIT_MS),
			 AHEAD_LEN);
	assert_int_equal(zc_recv_start(f->sock, ahead_cb, &first), 0);
	while (!first && nu_now_ms() < end)
		zc_ctx_process(f->ctx, 10);
	assert_int_equal(first, AHEAD_BUF);
	return first;
}

/* The socket's TCP_INQ option: 1 on, 0 off. */
static int tcp_inq_on(int fd)
{
	socklen_t len = sizeof(int);
	int on = -1;

	assert_int_equal(getsockopt(fd, IPPROTO_TCP, TCP_INQ, &on, &len), 0);
	return on;
}

/* A receive callback reads four buffers at a time; the three it was not
 * handed come first to zc_recv(), in order, and closing with them unread
 * is no leak.  (test_tcpmmap: the same when mapping resumes meanwhile.) */
static void test_rx_ahead(void **state)
{
	struct zc_sock_opts o = { .rx_buf_size = AHEAD_BUF,
				  .rx_buf_count = 16 };
	struct tcp_fix f = { 0 };

	(void)state;
	o.rx = ZC_RX_COPY;
	tcp_fix_up(&f, &o);
	ahead_first(&f);
	/* One recv() took four buffers' worth: the kernel has the rest. */
	assert_int_equal(nu_inq(zc_sock_fd(f.sock)),
			 (int)(AHEAD_LEN - 4 * AHEAD_BUF));
	/* ...and asked what it left, switching TCP_INQ on. */
	assert_int_equal(tcp_inq_on(zc_sock_fd(f.sock)), 1);
	recv_pattern(f.sock, AHEAD_BUF, AHEAD_LEN - AHEAD_BUF);
	tcp_fix_down(&f);

	/* Closed with three buffers read ahead: not busy (the application
	 * holds none), and they are freed (ASan's leak check). */
	tcp_fix_up(&f, &o);
	ahead_first(&f);
	assert_int_equal(zc_sock_close(f.sock), 0);
	tcp_fix_down(&f);
}

/* One zc_recv() of the stream pattern from 0: a copying receive's buffer
 * starts 16 bytes into a page (zc_sock_attach(3), rx_buf_size).  The
 * bytes it returned. */
static size_t recv_skewed(struct zc_sock *sock)
{
	struct zc_buf *buf;
	struct zc_seg seg;
	uint8_t *data;
	ssize_t n = zc_recv(sock, &buf);

	assert_true(n > 0);
	assert_int_equal(zc_buf_seg(buf, 0, &seg), 0);
	assert_int_equal((uintptr_t)seg.base % (uintptr_t)sysconf(_SC_PAGESIZE),
			 16);
	data = malloc((size_t)n);
	assert_non_null(data);
	assert_int_equal(zc_buf_copy_out(buf, 0, data, (size_t)n), n);
	for (ssize_t i = 0; i < n; i++)
		assert_int_equal(data[i], nu_pattern((uint64_t)i));
	free(data);
	assert_int_equal(zc_sock_release(sock, buf), 0);
	return (size_t)n;
}

/* zc_recv() reads one buffer per call, however much is queued: the rest
 * stays in the kernel (zc_recv(3): one recv() into one pool buffer). */
static void test_rx_one_buffer(void **state)
{
	struct zc_sock_opts o = { .rx = ZC_RX_COPY,
				  .rx_buf_size = AHEAD_BUF,
				  .rx_buf_count = 16 };
	struct tcp_fix f = { 0 };

	(void)state;
	tcp_fix_up(&f, &o);
	assert_int_equal(write_pattern(f.peer, 0, AHEAD_LEN), 0);
	assert_int_equal(nu_wait_inq(zc_sock_fd(f.sock), AHEAD_LEN, WAIT_MS),
			 AHEAD_LEN);
	assert_int_equal(recv_skewed(f.sock), AHEAD_BUF);
	assert_int_equal(nu_inq(zc_sock_fd(f.sock)),
			 (int)(AHEAD_LEN - AHEAD_BUF));
	recv_pattern(f.sock, AHEAD_BUF, AHEAD_LEN - AHEAD_BUF);
	/* Only a callback's reads ask what is left: TCP_INQ stays off. */
	assert_int_equal(tcp_inq_on(zc_sock_fd(f.sock)), 0);
	tcp_fix_down(&f);
}

/* ---- a reset connection: one call with n < 0 ---------------------------- */

static void rx_reset(enum zc_rx_mode rx)
{
	struct linger lin = { .l_onoff = 1, .l_linger = 0 };
	struct rxc r = { 0 };
	struct tcp_fix f = { 0 };

	if (!rx_fix_up(&f, rx, (struct zc_sock_opts){ 0 }))
		skip();
	assert_int_equal(zc_recv_start(f.sock, rx_cb, &r), 0);
	assert_int_equal(write_pattern(f.peer, 0, 1000), 0);
	pump_got(f.ctx, &r, 1000);
	assert_int_equal(r.got, 1000);
	setsockopt(f.peer, SOL_SOCKET, SO_LINGER, &lin, sizeof(lin));
	close(f.peer);
	f.peer = -1;
	pump(f.ctx, &r.ended, WAIT_MS);
	assert_true(r.ended);
	assert_int_equal(r.errs, 1);
	assert_int_equal(r.eofs, 0);
	assert_int_equal(r.err, -ECONNRESET);
	settle(f.ctx, 200);
	assert_int_equal(r.after_end, 0);
	tcp_fix_down(&f);
}

PER_RX(rx_reset)

/* ---- held buffers: delivery pauses, and resumes on release -------------- */

#define HOLD_TOTAL (256u << 10)

static void rx_hold(enum zc_rx_mode rx)
{
	struct writer w = { .off = 0, .len = HOLD_TOTAL, .shut = true };
	struct rxc r = { .hold = true };
	struct tcp_fix f = { 0 };
	unsigned paused_calls;
	int64_t end;

	if (!rx_fix_up(&f, rx,
		       (struct zc_sock_opts){ .rx_buf_count = 4,
					      .rx_buf_size = 4096 }))
		skip();
	assert_int_equal(zc_recv_start(f.sock, rx_cb, &r), 0);
	w.fd = f.peer;
	writer_start(&w);

	/* Every buffer held: the callbacks stop though data is queued. */
	settle(f.ctx, 300);
	paused_calls = r.calls;
	assert_true(r.nheld > 0);
	assert_true(r.got < HOLD_TOTAL);
	settle(f.ctx, 200);
	assert_int_equal(r.calls, paused_calls);

	/* One buffer back: the context fd wakes and delivery resumes. */
	assert_int_equal(zc_sock_release(f.sock, r.held[--r.nheld]), 0);
	assert_true(ctx_readable(f.ctx, WAIT_MS));
	end = nu_now_ms() + WAIT_MS;
	while (r.calls == paused_calls && nu_now_ms() < end)
		settle(f.ctx, 20);
	assert_true(r.calls > paused_calls);

	/* Released one at a time, the whole stream comes through. */
	end = nu_now_ms() + 30000;
	while (!r.ended && nu_now_ms() < end) {
		if (r.nheld)
			assert_int_equal(
				zc_sock_release(f.sock, r.held[--r.nheld]), 0);
		settle(f.ctx, r.nheld ? 0 : 20);
	}
	assert_int_equal(writer_join(&w, r.ended), 0);
	release_all(f.sock, &r);
	assert_true(r.ended);
	assert_false(r.bad);
	assert_int_equal(r.got, HOLD_TOTAL);
	assert_int_equal(r.eofs, 1);
	tcp_fix_down(&f);
}

PER_RX(rx_hold)

/* ---- callbacks: where they run, what they may do ------------------------ */

static void test_rx_args(void **state)
{
	struct rxc r = { .close_in_cb = true };
	struct tcp_fix f = { 0 };

	(void)state;
	tcp_fix_up(&f, NULL);
	assert_int_equal(zc_recv_start(NULL, rx_cb, &r), -EINVAL);
	assert_int_equal(zc_recv_start(f.sock, NULL, &r), -EINVAL);
	assert_int_equal(zc_recv_stop(NULL), -EINVAL);
	assert_int_equal(zc_recv_start(f.sock, rx_cb, &r), 0);
	/* A later start replaces the callback's argument. */
	assert_int_equal(zc_recv_start(f.sock, rx_cb, &r), 0);
	assert_int_equal(write_pattern(f.peer, 0, 100), 0);
	pump_got(f.ctx, &r, 100);
	assert_int_equal(r.got, 100);
	/* zc_sock_close() refuses inside a callback. */
	assert_int_equal(r.close_ret, -EBUSY);
	tcp_fix_down(&f);
}

/* ---- zc_ctx_process() stays bounded under a stream that never pauses ---- */

static void *blast_main(void *arg)
{
	static const uint8_t chunk[65536];
	struct writer *w = arg;
	int64_t end = nu_now_ms() + 1500;

	while (nu_now_ms() < end)
		if (write(w->fd, chunk, sizeof(chunk)) <= 0)
			break;
	shutdown(w->fd, SHUT_WR);
	return NULL;
}

static void release_cb(struct zc_sock *sock, struct zc_buf *buf, ssize_t n,
		       const struct sockaddr *from, void *arg)
{
	bool *ended = arg;

	(void)from;
	if (n > 0)
		zc_sock_release(sock, buf);
	else
		*ended = true;
}

static int bounded_child(void *arg)
{
	struct zc_sock_opts o = { .rx = ZC_RX_COPY, .rx_buf_size = 4096 };
	struct writer w = { 0 };
	bool ended = false;
	struct zc_sock *sock;
	struct zc_ctx *ctx;
	int a, b, most = 0;
	int64_t end;

	(void)arg;
	if (nu_tcp_pair(AF_INET, &a, &b) || nu_set_nonblock(b) ||
	    zc_ctx_create(NULL, &ctx) || zc_sock_attach(ctx, b, &o, &sock) ||
	    zc_recv_start(sock, release_cb, &ended))
		return 2;
	w.fd = a;
	if (pthread_create(&w.th, NULL, blast_main, &w))
		return 2;
	end = nu_now_ms() + 20000;
	while (!ended && nu_now_ms() < end) {
		int n = zc_ctx_process(ctx, 100);

		if (n > most)
			most = n;
	}
	pthread_join(w.th, NULL);
	zc_ctx_destroy(ctx);
	close(a);
	printf("most callbacks in one zc_ctx_process(): %d\n", most);
	return ended && most <= 4096 ? 0 : 1;
}

static void test_rx_bounded(void **state)
{
	(void)state;
	assert_int_equal(nu_fork_run(bounded_child, NULL, CHILD_S), 0);
}

/* ---- zc_sock_flush ------------------------------------------------------ */

#define NSENDS 32
#define SEND_LEN 65536

static uint8_t g_data[NSENDS * SEND_LEN]; /* the pattern, sent in slices */

struct drain {
	bool done;
	int status;
	unsigned calls;
	unsigned sends_done_then; /* send callbacks run before it */
	bool in_close;		  /* ran inside zc_sock_close/destroy */
};

static unsigned g_sends_done;
static bool g_closing;	 /* a close or destroy is running */
static int g_flush_ret;	 /* zc_sock_flush() inside a send callback */
static bool g_try_flush; /* ... tried from every send callback */

static void drain_cb(struct zc_sock *sock, int status, void *arg)
{
	struct drain *d = arg;

	(void)sock;
	d->done = true;
	d->status = status;
	d->calls++;
	d->sends_done_then = g_sends_done;
	d->in_close = g_closing;
}

static void sent_cb(struct zc_sock *sock, const struct zc_completion *c,
		    void *arg)
{
	static struct drain late;

	(void)c;
	(void)arg;
	g_sends_done++;
	if (g_try_flush)
		g_flush_ret = zc_sock_flush(sock, drain_cb, &late);
}

/* n sends of SEND_LEN: the stream pattern from 0. */
static void send_slices(struct zc_sock *sock, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		struct iovec iov = { g_data + (size_t)i * SEND_LEN, SEND_LEN };

		assert_int_equal(zc_send(sock, &iov, 1, sent_cb, NULL), 0);
	}
}

struct reader {
	pthread_t th;
	int fd;
	int64_t got;  /* bytes until EOF, -1 on a wrong byte */
	size_t reply; /* then write this much pattern back and half-close */
};

static void *reader_main(void *arg)
{
	struct reader *rd = arg;

	rd->got = read_pattern(rd->fd, 0);
	if (rd->reply) {
		write_pattern(rd->fd, 0, rd->reply);
		shutdown(rd->fd, SHUT_WR);
	}
	return NULL;
}

static void setup_sends(void)
{
	fill(g_data, sizeof(g_data), 0);
	g_sends_done = 0;
	g_closing = false;
	g_try_flush = false;
	g_flush_ret = 0;
}

/* zc_ctx_fd(3): readable while process() has work, and no longer once it
 * ran (a process() that only runs callbacks must still consume the
 * wake-up), also when the callbacks queue more sends. */
static void test_ctx_fd_quiet_after_process(void **state)
{
	static char data[4096];
	struct iovec iov = { data, sizeof(data) };
	struct tcp_fix f = { 0 };
	char sink[sizeof(data)];
	int calls = 0;

	(void)state;
	tcp_fix_up(&f, &(struct zc_sock_opts){ .tx = ZC_TX_COPY });
	assert_false(ctx_readable(f.ctx, 0));
	for (int round = 1; round <= 3; round++) {
		assert_int_equal(zc_send(f.sock, &iov, 1, nu_count_cb, &calls),
				 0);
		assert_true(ctx_readable(f.ctx, WAIT_MS));
		assert_int_equal(zc_ctx_process(f.ctx, 0), 1);
		assert_int_equal(calls, round);
		assert_false(ctx_readable(f.ctx, 0));
		assert_int_equal(recv(f.peer, sink, sizeof(sink), MSG_WAITALL),
				 (ssize_t)sizeof(sink));
	}
	/* Nothing queued: process() waits, then returns no callbacks. */
	assert_int_equal(zc_ctx_process(f.ctx, 10), 0);
	tcp_fix_down(&f);
}

static void test_flush(void **state)
{
	struct tcp_fix f = { 0 };
	struct drain d = { 0 }, d2 = { 0 }, d3 = { 0 };
	struct reader rd = { 0 };
	int counted;

	(void)state;
	setup_sends();
	tcp_fix_up(&f, &(struct zc_sock_opts){ .tx = ZC_TX_COPY });
	assert_int_equal(zc_sock_flush(NULL, drain_cb, &d), -EINVAL);
	assert_int_equal(zc_sock_flush(f.sock, NULL, &d), -EINVAL);
	assert_int_equal(zc_sock_shutdown(NULL, drain_cb, &d), -EINVAL);
	assert_int_equal(zc_sock_shutdown(f.sock, NULL, &d), -EINVAL);

	/* The peer does not read yet: most of it waits in the send queue. */
	send_slices(f.sock, NSENDS);
	assert_int_equal(zc_sock_flush(f.sock, drain_cb, &d), 0);
	assert_false(d.done); /* never inside the call */
	assert_int_equal(zc_sock_flush(f.sock, drain_cb, &d2), -EBUSY);
	assert_int_equal(zc_sock_shutdown(f.sock, drain_cb, &d2), -EBUSY);

	rd.fd = f.peer;
	assert_int_equal(pthread_create(&rd.th, NULL, reader_main, &rd), 0);
	counted = pump(f.ctx, &d.done, 30000);
	assert_true(d.done);
	assert_int_equal(d.status, 0);
	/* After every completion, and only then. */
	assert_int_equal(d.sends_done_then, NSENDS);
	assert_int_equal(d.calls, 1);

	/* Nothing in flight: the callback still waits for process(), and
	 * the context fd says so. */
	assert_int_equal(zc_sock_flush(f.sock, drain_cb, &d3), 0);
	assert_false(d3.done);
	assert_true(ctx_readable(f.ctx, WAIT_MS));
	counted += pump(f.ctx, &d3.done, WAIT_MS);
	assert_true(d3.done);
	assert_int_equal(d3.status, 0);
	settle(f.ctx, 100);
	assert_int_equal(d.calls, 1);
	assert_int_equal(d3.calls, 1);
	assert_false(d2.done);
	/* zc_ctx_process() counted the send and the flush callbacks. */
	assert_int_equal(counted, NSENDS + 2);

	assert_int_equal(zc_sock_close(f.sock), 0);
	pthread_join(rd.th, NULL);
	assert_int_equal(rd.got, (int64_t)NSENDS * SEND_LEN);
	f.sock = NULL;
	tcp_fix_down(&f);
}

/* Small socket buffers, so that sends wait in zcopy's queue. */
static void small_bufs(int a, int b)
{
	int small = 4096;

	setsockopt(a, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	setsockopt(b, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
}

static void test_flush_reset(void **state)
{
	struct linger lin = { .l_onoff = 1, .l_linger = 0 };
	struct drain d = { 0 };
	struct zc_stats st;
	struct tcp_fix f = { 0 };

	(void)state;
	setup_sends();
	tcp_fix_up(&f, &(struct zc_sock_opts){ .tx = ZC_TX_COPY });
	small_bufs(zc_sock_fd(f.sock), f.peer);
	send_slices(f.sock, 8);
	assert_int_equal(zc_sock_flush(f.sock, drain_cb, &d), 0);
	settle(f.ctx, 50);
	assert_false(d.done);
	/* The peer resets the connection with most of it unsent. */
	setsockopt(f.peer, SOL_SOCKET, SO_LINGER, &lin, sizeof(lin));
	close(f.peer);
	f.peer = -1;
	pump(f.ctx, &d.done, WAIT_MS);
	assert_true(d.done);
	assert_int_equal(zc_sock_stats(f.sock, &st), 0);
	assert_true(d.status == -ECONNRESET || d.status == -EPIPE);
	assert_int_equal(d.status, st.last_error);
	assert_int_equal(d.sends_done_then, 8);
	assert_true(st.errors > 0);
	tcp_fix_down(&f);
}

/* ---- a copy send's ways through zc_send ------------------------------- */

struct copied {
	unsigned calls;
	size_t bytes;
	bool bad;	    /* not ZC_RESULT_COPIED by the copy transport */
	uint8_t *overwrite; /* scribbled over by the callback */
	size_t len;
};

static void copied_cb(struct zc_sock *sock, const struct zc_completion *c,
		      void *arg)
{
	struct copied *k = arg;

	(void)sock;
	k->calls++;
	k->bytes += c->bytes;
	k->bad |= c->result != ZC_RESULT_COPIED || c->tx != ZC_TX_COPY ||
		  c->why != ZC_WHY_TRANSPORT || c->error;
	/* The bytes are the kernel's now: reusing the memory is allowed. */
	memset(k->overwrite, 0xee, k->len);
}

/* Plain send() on fd until the socket is full; the bytes it took. */
static size_t fill_socket(int fd, uint64_t off)
{
	uint8_t chunk[4096];
	size_t total = 0;

	for (;;) {
		ssize_t n;

		fill(chunk, sizeof(chunk), off + total);
		n = send(fd, chunk, sizeof(chunk), MSG_DONTWAIT);
		if (n <= 0)
			return total;
		total += (size_t)n;
	}
}

/* Process until *calls reaches want or WAIT_MS passed. */
static void wait_calls(struct zc_ctx *ctx, const unsigned *calls, unsigned want)
{
	for (int i = 0; i < WAIT_MS / 10 && *calls < want; i++)
		zc_ctx_process(ctx, 10);
}

/* One zc_send() of len pattern bytes at stream offset *off. */
static void send_copied(struct zc_sock *sock, struct copied *k, size_t *off,
			size_t len)
{
	struct iovec iov = { g_data + *off, len };

	fill(iov.iov_base, len, *off);
	k->overwrite = iov.iov_base;
	k->len = len;
	assert_int_equal(zc_send(sock, &iov, 1, copied_cb, k), 0);
	assert_int_equal(k->calls, 0); /* never inside the call */
	*off += len;
}

/* zc_send(3) on a copying socket: taken whole at once; taken in part, the
 * rest queued; refused by a full socket with nothing queued ahead, all of
 * it queued; refused after a reset, with no callback.  The callback
 * scribbles over the caller's memory (free once it runs) and the peer
 * still reads the stream intact; each send completes once, whole. */
static void test_send_copy_paths(void **state)
{
	struct copied whole = { 0 }, part = { 0 }, full = { 0 }, late = { 0 };
	struct linger lin = { .l_onoff = 1, .l_linger = 0 };
	struct iovec iov = { g_data, 100 };
	struct reader rd = { 0 };
	struct tcp_fix f = { 0 };
	struct zc_stats st;
	unsigned refused = 0;
	size_t off = 0;
	int fd;

	(void)state;
	setup_sends();
	tcp_fix_up(&f, &(struct zc_sock_opts){ .tx = ZC_TX_COPY });
	fd = zc_sock_fd(f.sock);
	small_bufs(fd, f.peer);

	send_copied(f.sock, &whole, &off, 1000);
	assert_int_equal(zc_sock_stats(f.sock, &st), 0);
	assert_int_equal(st.queued_waits, 0);
	wait_calls(f.ctx, &whole.calls, 1);

	send_copied(f.sock, &part, &off, (size_t)4 * SEND_LEN);
	assert_int_equal(zc_sock_stats(f.sock, &st), 0);
	assert_int_equal(st.queued_waits, 1);
	rd.fd = f.peer;
	assert_int_equal(pthread_create(&rd.th, NULL, reader_main, &rd), 0);
	wait_calls(f.ctx, &part.calls, 1);

	/* The reader is slower than a loop of plain sends: fill the socket,
	 * then send with nothing queued. */
	off += fill_socket(fd, off);
	send_copied(f.sock, &full, &off, SEND_LEN);
	wait_calls(f.ctx, &full.calls, 1);
	assert_int_equal(zc_sock_stats(f.sock, &st), 0);
	assert_int_equal(st.queued_waits, 2);

	assert_int_equal(whole.calls + part.calls + full.calls, 3);
	assert_int_equal(whole.bytes, whole.len);
	assert_int_equal(part.bytes, part.len);
	assert_int_equal(full.bytes, full.len);
	assert_false(whole.bad || part.bad || full.bad);
	shutdown(fd, SHUT_WR);
	pthread_join(rd.th, NULL);
	assert_int_equal(rd.got, (int64_t)off);

	/* The peer resets: sends fail at once and never call back. */
	setsockopt(f.peer, SOL_SOCKET, SO_LINGER, &lin, sizeof(lin));
	close(f.peer);
	f.peer = -1;
	late.overwrite = g_data;
	late.len = iov.iov_len;
	for (int i = 0; i < 100 && !refused; i++) {
		int ret = zc_send(f.sock, &iov, 1, copied_cb, &late);

		if (ret) {
			assert_true(ret == -ECONNRESET || ret == -EPIPE);
			refused++;
		}
	}
	assert_int_equal(refused, 1);
	settle(f.ctx, 50);
	assert_int_equal(zc_sock_stats(f.sock, &st), 0);
	assert_int_equal(st.completions, 3 + late.calls);
	assert_int_equal(st.inflight, 0);
	tcp_fix_down(&f);
}

/* ---- zc_sock_shutdown --------------------------------------------------- */

static void test_shutdown(void **state)
{
	struct reader rd = { .reply = 5000 };
	struct iovec iov = { g_data, 100 };
	struct drain d = { 0 }, d2 = { 0 };
	struct rxc r = { 0 };
	struct tcp_fix f = { 0 };

	(void)state;
	setup_sends();
	tcp_fix_up(&f, NULL);
	assert_int_equal(zc_recv_start(f.sock, rx_cb, &r), 0);
	rd.fd = f.peer;
	assert_int_equal(pthread_create(&rd.th, NULL, reader_main, &rd), 0);
	send_slices(f.sock, 16);
	assert_int_equal(zc_sock_shutdown(f.sock, drain_cb, &d), 0);
	assert_false(d.done);
	/* No new sends from now on; one drain at a time. */
	assert_int_equal(zc_send(f.sock, &iov, 1, sent_cb, NULL), -ESHUTDOWN);
	assert_int_equal(zc_sock_flush(f.sock, drain_cb, &d2), -EBUSY);
	assert_int_equal(zc_sock_shutdown(f.sock, drain_cb, &d2), -EBUSY);
	pump(f.ctx, &d.done, 30000);
	assert_true(d.done);
	assert_int_equal(d.status, 0);
	assert_int_equal(d.sends_done_then, 16);
	assert_int_equal(zc_send(f.sock, &iov, 1, sent_cb, NULL), -ESHUTDOWN);

	/* The peer read everything, then end of stream; it answers, and
	 * receiving still works here. */
	pump(f.ctx, &r.ended, WAIT_MS);
	pthread_join(rd.th, NULL);
	assert_int_equal(rd.got, 16 * SEND_LEN);
	assert_true(r.ended);
	assert_false(r.bad);
	assert_int_equal(r.got, 5000);
	assert_int_equal(r.eofs, 1);
	assert_false(d2.done);
	tcp_fix_down(&f);
}

/* ---- a drain pending at close: -ECANCELED inside the close -------------- */

static void cancel(bool shut, bool destroy)
{
	struct drain d = { 0 };
	struct tcp_fix f = { 0 };
	int ret;

	setup_sends();
	tcp_fix_up(&f, &(struct zc_sock_opts){ .tx = ZC_TX_COPY,
					       .close_timeout_ms = -1 });
	small_bufs(zc_sock_fd(f.sock), f.peer);
	send_slices(f.sock, 8);
	ret = shut ? zc_sock_shutdown(f.sock, drain_cb, &d)
		   : zc_sock_flush(f.sock, drain_cb, &d);
	assert_int_equal(ret, 0);
	settle(f.ctx, 50);
	assert_false(d.done);
	/* Send callbacks run by the close may not start a drain. */
	g_try_flush = true;
	g_flush_ret = 0;
	g_closing = true;
	if (destroy) {
		zc_ctx_destroy(f.ctx);
		f.ctx = NULL;
	} else {
		/* Sends were cancelled: the close says so. */
		assert_int_equal(zc_sock_close(f.sock), -ETIMEDOUT);
	}
	g_closing = false;
	assert_true(d.done);
	assert_int_equal(d.calls, 1);
	assert_int_equal(d.status, -ECANCELED);
	assert_true(d.in_close);
	assert_int_equal(g_sends_done, 8);
	assert_int_equal(g_flush_ret, -ESHUTDOWN);
	tcp_fix_down(&f);
}

static void test_flush_cancel_close(void **state)
{
	(void)state;
	cancel(false, false);
}

static void test_shutdown_cancel_close(void **state)
{
	(void)state;
	cancel(true, false);
}

static void test_shutdown_cancel_destroy(void **state)
{
	(void)state;
	cancel(true, true);
}

/* ---- unconnected UDP: zc_sendto, zc_recvfrom, the sender's address ------ */

static socklen_t addr_len(int family)
{
	return family == AF_INET6 ? sizeof(struct sockaddr_in6)
				  : sizeof(struct sockaddr_in);
}

/* An unconnected, non-blocking UDP socket bound to loopback; its address
 * in *ss. */
static int udp_bound(int family, struct sockaddr_storage *ss)
{
	socklen_t len = addr_len(family);
	int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	assert_true(fd >= 0);
	memset(ss, 0, sizeof(*ss));
	ss->ss_family = (sa_family_t)family;
	if (family == AF_INET6)
		((struct sockaddr_in6 *)ss)->sin6_addr = in6addr_loopback;
	else
		((struct sockaddr_in *)ss)->sin_addr.s_addr =
			htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)ss, len), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)ss, &len), 0);
	return fd;
}

static bool same_addr(const struct sockaddr_storage *a,
		      const struct sockaddr_storage *b)
{
	return a->ss_family == b->ss_family &&
	       !memcmp(a, b, addr_len(a->ss_family));
}

static void sent_count(struct zc_sock *sock, const struct zc_completion *c,
		       void *arg)
{
	(void)sock;
	if (c->result == ZC_RESULT_COPIED || c->result == ZC_RESULT_ZEROCOPY)
		++*(unsigned *)arg;
}

/* zc_recvfrom() until a datagram comes (at most WAIT_MS). */
static ssize_t recvfrom_wait(struct zc_ctx *ctx, struct zc_sock *sock,
			     struct zc_buf **buf, struct sockaddr *from,
			     socklen_t *fromlen)
{
	int64_t end = nu_now_ms() + WAIT_MS;
	socklen_t len = *fromlen;
	ssize_t n;

	do {
		*fromlen = len;
		n = zc_recvfrom(sock, buf, from, fromlen);
		if (n == -EAGAIN)
			settle(ctx, 5);
	} while (n == -EAGAIN && nu_now_ms() < end);
	return n;
}

static void udp_family(int family)
{
	struct sockaddr_storage srv_addr, cli_addr, from;
	struct zc_sock *srv, *cli;
	struct rxc r = { 0 };
	unsigned sent = 0;
	struct zc_ctx *ctx;
	struct zc_buf *buf;
	struct iovec iov = { g_data, 1000 };
	socklen_t fromlen;
	uint8_t tmp[700];
	ssize_t n;

	fill(g_data, 1000, 0);
	assert_int_equal(zc_ctx_create(NULL, &ctx), 0);
	/* Unconnected UDP sockets attach. */
	assert_int_equal(
		zc_sock_attach(ctx, udp_bound(family, &srv_addr), NULL, &srv),
		0);
	assert_int_equal(
		zc_sock_attach(ctx, udp_bound(family, &cli_addr), NULL, &cli),
		0);
	/* Without a peer, zc_send() cannot know where to. */
	assert_int_equal(zc_send(cli, &iov, 1, sent_count, &sent),
			 -EDESTADDRREQ);

	/* The server's callback learns who sent each datagram. */
	assert_int_equal(zc_recv_start(srv, rx_cb, &r), 0);
	assert_int_equal(zc_sendto(cli, &iov, 1, (struct sockaddr *)&srv_addr,
				   addr_len(family), sent_count, &sent),
			 0);
	pump_got(ctx, &r, 1000);
	assert_int_equal(r.got, 1000);
	assert_int_equal(r.calls, 1);
	assert_false(r.bad);
	assert_false(r.from_null);
	assert_true(same_addr(&r.from, &cli_addr));

	/* It answers there; the client's zc_recvfrom() names the server. */
	iov.iov_len = 700;
	assert_int_equal(zc_sendto(srv, &iov, 1, (struct sockaddr *)&r.from,
				   addr_len(family), sent_count, &sent),
			 0);
	memset(&from, 0, sizeof(from));
	fromlen = sizeof(from);
	n = recvfrom_wait(ctx, cli, &buf, (struct sockaddr *)&from, &fromlen);
	assert_int_equal(n, 700);
	assert_int_equal(fromlen, addr_len(family));
	assert_true(same_addr(&from, &srv_addr));
	assert_int_equal(zc_buf_copy_out(buf, 0, tmp, 700), 700);
	assert_memory_equal(tmp, g_data, 700);
	assert_int_equal(zc_sock_release(cli, buf), 0);

	/* A short address buffer: cut, and the full length reported. */
	assert_int_equal(zc_sendto(srv, &iov, 1, (struct sockaddr *)&r.from,
				   addr_len(family), sent_count, &sent),
			 0);
	memset(&from, 0xee, sizeof(from));
	fromlen = 4;
	n = recvfrom_wait(ctx, cli, &buf, (struct sockaddr *)&from, &fromlen);
	assert_int_equal(n, 700);
	assert_int_equal(fromlen, addr_len(family));
	assert_memory_equal(&from, &srv_addr, 4);
	assert_int_equal(((uint8_t *)&from)[4], 0xee);
	assert_int_equal(zc_sock_release(cli, buf), 0);

	/* No address wanted: from NULL, the length still reported. */
	assert_int_equal(zc_sendto(srv, &iov, 1, (struct sockaddr *)&r.from,
				   addr_len(family), sent_count, &sent),
			 0);
	fromlen = 0;
	n = recvfrom_wait(ctx, cli, &buf, NULL, &fromlen);
	assert_int_equal(n, 700);
	assert_int_equal(fromlen, addr_len(family));
	assert_int_equal(zc_sock_release(cli, buf), 0);
	assert_int_equal(zc_recvfrom(cli, &buf, (struct sockaddr *)&from, NULL),
			 -EINVAL);
	assert_int_equal(zc_recvfrom(NULL, &buf, NULL, NULL), -EINVAL);
	assert_int_equal(zc_recvfrom(cli, NULL, NULL, NULL), -EINVAL);
	settle(ctx, 20);
	assert_int_equal(sent, 4);
	zc_ctx_destroy(ctx);
}

static void test_udp_v4(void **state)
{
	(void)state;
	udp_family(AF_INET);
}

static void test_udp_v6(void **state)
{
	(void)state;
	udp_family(AF_INET6);
}

/* Every error of zc_sendto(). */
static void test_sendto_errors(void **state)
{
	struct sockaddr_storage a4, a6;
	struct zc_sock *s4, *s6;
	struct tcp_fix f = { 0 };
	struct iovec iov = { g_data, 10 };
	unsigned sent = 0;

	(void)state;
	tcp_fix_up(&f, NULL);
	assert_int_equal(
		zc_sock_attach(f.ctx, udp_bound(AF_INET, &a4), NULL, &s4), 0);
	assert_int_equal(
		zc_sock_attach(f.ctx, udp_bound(AF_INET6, &a6), NULL, &s6), 0);
	assert_int_equal(zc_sendto(NULL, &iov, 1, (struct sockaddr *)&a4,
				   sizeof(struct sockaddr_in), sent_count,
				   &sent),
			 -EINVAL);
	assert_int_equal(zc_sendto(s4, &iov, 1, NULL, 0, sent_count, &sent),
			 -EINVAL);
	assert_int_equal(zc_sendto(s4, &iov, 1, (struct sockaddr *)&a4,
				   sizeof(struct sockaddr_in) - 1, sent_count,
				   &sent),
			 -EINVAL);
	assert_int_equal(zc_sendto(s6, &iov, 1, (struct sockaddr *)&a6,
				   sizeof(struct sockaddr_in), sent_count,
				   &sent),
			 -EINVAL);
	assert_int_equal(zc_sendto(s4, &iov, 1, (struct sockaddr *)&a6,
				   sizeof(struct sockaddr_in6), sent_count,
				   &sent),
			 -EAFNOSUPPORT);
	assert_int_equal(zc_sendto(s6, &iov, 1, (struct sockaddr *)&a4,
				   sizeof(struct sockaddr_in), sent_count,
				   &sent),
			 -EAFNOSUPPORT);
	assert_int_equal(zc_sendto(f.sock, &iov, 1, (struct sockaddr *)&a4,
				   sizeof(struct sockaddr_in), sent_count,
				   &sent),
			 -EISCONN);
	/* The errors of zc_send() too. */
	assert_int_equal(zc_sendto(s4, &iov, 1, (struct sockaddr *)&a4,
				   sizeof(struct sockaddr_in), NULL, NULL),
			 -EINVAL);
	assert_int_equal(zc_sendto(s4, &iov, 0, (struct sockaddr *)&a4,
				   sizeof(struct sockaddr_in), sent_count,
				   &sent),
			 -EINVAL);
	iov.iov_len = 70000;
	assert_int_equal(zc_sendto(s4, &iov, 1, (struct sockaddr *)&a4,
				   sizeof(struct sockaddr_in), sent_count,
				   &sent),
			 -EMSGSIZE);
	settle(f.ctx, 20);
	assert_int_equal(sent, 0);
	tcp_fix_down(&f);
}

/* zc_recvfrom() on TCP: the data, and no address. */
static void test_recvfrom_tcp(void **state)
{
	struct sockaddr_storage from;
	socklen_t fromlen = sizeof(from);
	struct tcp_fix f = { 0 };
	struct zc_buf *buf;
	int64_t end = nu_now_ms() + WAIT_MS;
	ssize_t n;

	(void)state;
	tcp_fix_up(&f, NULL);
	assert_int_equal(write_pattern(f.peer, 0, 10), 0);
	do {
		fromlen = sizeof(from);
		n = zc_recvfrom(f.sock, &buf, (struct sockaddr *)&from,
				&fromlen);
		if (n == -EAGAIN)
			usleep(1000);
	} while (n == -EAGAIN && nu_now_ms() < end);
	assert_int_equal(n, 10);
	assert_int_equal(fromlen, 0);
	assert_int_equal(zc_sock_release(f.sock, buf), 0);
	tcp_fix_down(&f);
}

/* Which sockets attach: unconnected UDP yes, unconnected TCP no. */
static void test_attach_unconnected(void **state)
{
	struct sockaddr_storage ss;
	struct zc_sock *sock;
	struct zc_ctx *ctx;
	int fd, l;

	(void)state;
	assert_int_equal(zc_ctx_create(NULL, &ctx), 0);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(zc_sock_attach(ctx, fd, NULL, &sock), -ENOTCONN);
	close(fd);
	l = nu_tcp_listen(AF_INET, "127.0.0.1", &(int){ 0 });
	assert_true(l >= 0);
	assert_int_equal(zc_sock_attach(ctx, l, NULL, &sock), -ENOTCONN);
	close(l);
	/* Unbound, even: a UDP client that only sends. */
	fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_int_equal(zc_sock_attach(ctx, fd, NULL, &sock), 0);
	fd = udp_bound(AF_INET, &ss);
	assert_int_equal(zc_sock_attach(ctx, fd, NULL, &sock), 0);
	zc_ctx_destroy(ctx);
}

/* An empty datagram is no end of stream: UDP has none. */
static void test_udp_empty_datagram(void **state)
{
	struct sockaddr_storage srv_addr, cli_addr;
	struct zc_sock *srv;
	struct rxc r = { 0 };
	struct zc_ctx *ctx;
	int cli;

	(void)state;
	fill(g_data, 100, 0);
	assert_int_equal(zc_ctx_create(NULL, &ctx), 0);
	assert_int_equal(
		zc_sock_attach(ctx, udp_bound(AF_INET, &srv_addr), NULL, &srv),
		0);
	assert_int_equal(zc_recv_start(srv, rx_cb, &r), 0);
	cli = udp_bound(AF_INET, &cli_addr);
	assert_int_equal(sendto(cli, g_data, 0, 0, (struct sockaddr *)&srv_addr,
				sizeof(struct sockaddr_in)),
			 0);
	assert_int_equal(sendto(cli, g_data, 100, 0,
				(struct sockaddr *)&srv_addr,
				sizeof(struct sockaddr_in)),
			 100);
	pump_got(ctx, &r, 100);
	assert_false(r.ended);
	assert_int_equal(r.got, 100);
	assert_int_equal(r.calls, 1);
	assert_true(same_addr(&r.from, &cli_addr));
	close(cli);
	zc_ctx_destroy(ctx);
}

/* ---- pinned io_uring transports: the ring's error, or ZC_SOCK_FALLBACK -- */

static void test_uring_pinned(void **state)
{
	struct zc_ctx_opts co = { .flags = ZC_CTX_NO_URING };
	struct sockaddr_storage a, b;
	struct zc_sock *sock, *peer;
	struct zc_stats st;
	struct zc_ctx *ctx;
	struct rxc r = { 0 };
	struct iovec iov = { g_data, 100 };
	unsigned sent = 0;
	int fd;

	(void)state;
	fill(g_data, 100, 0);
	assert_int_equal(zc_ctx_create(&co, &ctx), 0);
	fd = udp_bound(AF_INET, &a);
	assert_int_equal(
		zc_sock_attach(ctx, fd,
			       &(struct zc_sock_opts){ .tx = ZC_TX_URING },
			       &sock),
		-EOPNOTSUPP);
	assert_int_equal(zc_sock_attach(ctx, fd,
					&(struct zc_sock_opts){
						.tx = ZC_TX_URING_FIXED },
					&sock),
			 -EOPNOTSUPP);
	assert_int_equal(
		zc_sock_attach(ctx, fd,
			       &(struct zc_sock_opts){ .rx = ZC_RX_URING },
			       &sock),
		0);
	assert_int_equal(zc_recv_start(sock, rx_cb, &r), -EOPNOTSUPP);
	assert_int_equal(zc_sock_close(sock), 0);

	/* With ZC_SOCK_FALLBACK: copy, and uring_error says why. */
	fd = udp_bound(AF_INET, &a);
	assert_int_equal(zc_sock_attach(ctx, fd,
					&(struct zc_sock_opts){
						.tx = ZC_TX_URING,
						.rx = ZC_RX_URING,
						.flags = ZC_SOCK_FALLBACK },
					&sock),
			 0);
	assert_int_equal(zc_recv_start(sock, rx_cb, &r), 0);
	assert_int_equal(
		zc_sock_attach(ctx, udp_bound(AF_INET, &b), NULL, &peer), 0);
	assert_int_equal(zc_sendto(peer, &iov, 1, (struct sockaddr *)&a,
				   sizeof(struct sockaddr_in), sent_count,
				   &sent),
			 0);
	pump_got(ctx, &r, 100);
	assert_int_equal(r.got, 100);
	assert_true(same_addr(&r.from, &b));
	assert_int_equal(zc_sendto(sock, &iov, 1, (struct sockaddr *)&b,
				   sizeof(struct sockaddr_in), sent_count,
				   &sent),
			 0);
	settle(ctx, 20);
	assert_int_equal(sent, 2);
	assert_int_equal(zc_sock_stats(sock, &st), 0);
	assert_int_equal(st.uring_error, -EOPNOTSUPP);
	assert_int_equal(st.tx_by_mode[ZC_TX_URING], 0);
	zc_ctx_destroy(ctx);
}

/* ZC_RX_URING reports no sender address: refused on unconnected UDP. */
static void test_uring_udp_from(void **state)
{
	struct sockaddr_storage a;
	struct zc_sock *sock;
	struct zc_ctx *ctx;
	struct zc_buf *buf;
	struct rxc r = { 0 };
	socklen_t len = sizeof(a);
	int s, d;

	(void)state;
	if (!uring_usable())
		skip();
	assert_int_equal(zc_ctx_create(NULL, &ctx), 0);
	assert_int_equal(
		zc_sock_attach(ctx, udp_bound(AF_INET, &a),
			       &(struct zc_sock_opts){ .rx = ZC_RX_URING },
			       &sock),
		0);
	assert_int_equal(zc_recv_start(sock, rx_cb, &r), -EOPNOTSUPP);
	assert_int_equal(zc_recvfrom(sock, &buf, (struct sockaddr *)&a, &len),
			 -EOPNOTSUPP);
	/* Connected: the peer is known, the callback works. */
	assert_int_equal(nu_udp_pair(AF_INET, &s, &d), 0);
	len = sizeof(a);
	assert_int_equal(getsockname(s, (struct sockaddr *)&a, &len), 0);
	assert_int_equal(connect(d, (struct sockaddr *)&a, len), 0);
	assert_int_equal(
		zc_sock_attach(ctx, d,
			       &(struct zc_sock_opts){ .rx = ZC_RX_URING },
			       &sock),
		0);
	assert_int_equal(zc_recv_start(sock, rx_cb, &r), 0);
	fill(g_data, 300, 0);
	/* An empty datagram first: no end of stream. */
	assert_int_equal(send(s, g_data, 0, 0), 0);
	assert_int_equal(send(s, g_data, 300, 0), 300);
	pump_got(ctx, &r, 300);
	assert_int_equal(r.got, 300);
	assert_false(r.ended);
	assert_true(r.from_null);
	assert_false(r.bad);
	len = sizeof(a);
	assert_int_equal(zc_recvfrom(sock, &buf, (struct sockaddr *)&a, &len),
			 -EOPNOTSUPP);
	close(s);
	zc_ctx_destroy(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rx_stream_copy),
		cmocka_unit_test(test_rx_stream_tcpmmap),
		cmocka_unit_test(test_rx_stream_auto),
		cmocka_unit_test(test_rx_stream_uring),
		cmocka_unit_test(test_rx_stop_copy),
		cmocka_unit_test(test_rx_stop_tcpmmap),
		cmocka_unit_test(test_rx_stop_auto),
		cmocka_unit_test(test_rx_stop_uring),
		cmocka_unit_test(test_rx_ahead),
		cmocka_unit_test(test_rx_one_buffer),
		cmocka_unit_test(test_rx_reset_copy),
		cmocka_unit_test(test_rx_reset_tcpmmap),
		cmocka_unit_test(test_rx_reset_auto),
		cmocka_unit_test(test_rx_reset_uring),
		cmocka_unit_test(test_rx_hold_copy),
		cmocka_unit_test(test_rx_hold_tcpmmap),
		cmocka_unit_test(test_rx_hold_auto),
		cmocka_unit_test(test_rx_hold_uring),
		cmocka_unit_test(test_rx_args),
		cmocka_unit_test(test_rx_bounded),
		cmocka_unit_test(test_ctx_fd_quiet_after_process),
		cmocka_unit_test(test_send_copy_paths),
		cmocka_unit_test(test_flush),
		cmocka_unit_test(test_flush_reset),
		cmocka_unit_test(test_shutdown),
		cmocka_unit_test(test_flush_cancel_close),
		cmocka_unit_test(test_shutdown_cancel_close),
		cmocka_unit_test(test_shutdown_cancel_destroy),
		cmocka_unit_test(test_udp_v4),
		cmocka_unit_test(test_udp_v6),
		cmocka_unit_test(test_sendto_errors),
		cmocka_unit_test(test_recvfrom_tcp),
		cmocka_unit_test(test_attach_unconnected),
		cmocka_unit_test(test_udp_empty_datagram),
		cmocka_unit_test(test_uring_pinned),
		cmocka_unit_test(test_uring_udp_from),
	};

	/* A peer gone mid-send must fail the send, not kill the test. */
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IONBF, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
