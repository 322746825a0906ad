/* SPDX-License-Identifier: MIT */
/*
 * Bad input to zc_sock_attach() and zc_send(): each gets the error the
 * header documents, nothing crashes, a refused send never runs its
 * callback, and the socket keeps working afterwards (a refused send must
 * not leak its request slot: most tests allow one send in flight).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include "netutil.h"

#define WAIT_MS 5000

static unsigned ncb;
static struct zc_completion last;

static void count_cb(struct zc_sock *sock, const struct zc_completion *c,
		     void *arg)
{
	(void)sock;
	(void)arg;
	ncb++;
	last = *c;
}

/* A context with one attached socket and its peer's fd. */
struct bed {
	struct zc_ctx *ctx;
	struct zc_sock *sock;
	int rcv;
};

static void bed_open(struct bed *b, int family, int type,
		     const struct zc_sock_opts *o, bool nonblock)
{
	int snd;

	if (type == SOCK_STREAM)
		assert_int_equal(nu_tcp_pair(family, &snd, &b->rcv), 0);
	else
		assert_int_equal(nu_udp_pair(family, &snd, &b->rcv), 0);
	if (nonblock)
		assert_int_equal(nu_set_nonblock(snd), 0);
	assert_int_equal(zc_ctx_create(NULL, &b->ctx), 0);
	assert_int_equal(zc_sock_attach(b->ctx, snd, o, &b->sock), 0);
	ncb = 0;
}

static void bed_close(struct bed *b)
{
	if (b->sock)
		zc_sock_close(b->sock);
	zc_ctx_destroy(b->ctx);
	close(b->rcv);
}

/* Run the context until n callbacks have run in total. */
static void wait_callbacks(struct zc_ctx *ctx, unsigned n)
{
	int64_t end = nu_now_ms() + WAIT_MS;

	while (ncb < n && nu_now_ms() < end)
		zc_ctx_process(ctx, 50);
	assert_int_equal(ncb, n);
}

/* ---- zc_sock_attach ---------------------------------------------------- */

static int try_attach(int fd, const struct zc_sock_opts *o)
{
	bool was_open = fd >= 0 && fcntl(fd, F_GETFD) >= 0;
	struct zc_sock *sock = NULL;
	struct zc_ctx *ctx;
	int ret;

	assert_int_equal(zc_ctx_create(NULL, &ctx), 0);
	ret = zc_sock_attach(ctx, fd, o, &sock);
	zc_ctx_destroy(ctx);
	/* A refused attach leaves the caller's fd open. */
	if (ret && was_open)
		assert_true(fcntl(fd, F_GETFD) >= 0);
	return ret;
}

static void test_attach_bad_fd(void **state)
{
	int p[2];

	(void)state;
	assert_int_equal(try_attach(-1, NULL), -EBADF);
	/* A number nothing else will take meanwhile (the context's own
	 * epoll fd would reuse a low one). */
	assert_int_equal(pipe(p), 0);
	assert_int_equal(dup2(p[0], 900), 900);
	close(p[0]);
	close(p[1]);
	close(900);
	assert_int_equal(try_attach(900, NULL), -EBADF);
}

static void test_attach_not_socket(void **state)
{
	int p[2], f;

	(void)state;
	assert_int_equal(pipe(p), 0);
	assert_int_equal(try_attach(p[1], NULL), -ENOTSOCK);
	close(p[0]);
	close(p[1]);
	f = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	assert_true(f >= 0);
	assert_int_equal(try_attach(f, NULL), -ENOTSOCK);
	close(f);
}

static void test_attach_not_inet(void **state)
{
	static const int types[] = { SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET };
	int sv[2];

	(void)state;
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(socketpair(AF_UNIX, types[i], 0, sv), 0);
		assert_int_equal(try_attach(sv[0], NULL), -EAFNOSUPPORT);
		close(sv[0]);
		close(sv[1]);
	}
}

/* IPv4 sockets that are neither TCP nor UDP. */
static void test_attach_not_tcp_udp(void **state)
{
	static const struct {
		int type, proto;
		const char *name;
	} socks[] = {
		{ SOCK_RAW, IPPROTO_UDP, "raw" },
		{ SOCK_STREAM, IPPROTO_MPTCP, "MPTCP" },
		{ SOCK_STREAM, IPPROTO_SCTP, "SCTP" },
	};
	unsigned tried = 0;

	(void)state;
	for (unsigned i = 0; i < sizeof(socks) / sizeof(socks[0]); i++) {
		int fd = socket(AF_INET, socks[i].type, socks[i].proto);

		if (fd < 0) {
			printf("skip %s: %s\n", socks[i].name, strerror(errno));
			continue;
		}
		assert_int_equal(try_attach(fd, NULL), -EPROTONOSUPPORT);
		close(fd);
		tried++;
	}
	if (!tried)
		skip();
}

static void test_attach_not_connected(void **state)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct zc_sock_opts keep = { .flags = ZC_SOCK_KEEP_FD };
	int tcp, udp, lis;

	(void)state;
	tcp = socket(AF_INET, SOCK_STREAM, 0);
	udp = socket(AF_INET6, SOCK_DGRAM, 0);
	lis = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(tcp >= 0 && udp >= 0 && lis >= 0);
	assert_int_equal(bind(lis, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lis, 1), 0);
	assert_int_equal(try_attach(tcp, NULL), -ENOTCONN);
	assert_int_equal(try_attach(lis, NULL), -ENOTCONN);
	/* Unconnected UDP is a server's socket: accepted. */
	assert_int_equal(try_attach(udp, &keep), 0);
	close(tcp);
	close(udp);
	close(lis);
}

static void dest_cb(struct zc_sock *sock, const struct zc_completion *c,
		    void *arg)
{
	(void)sock;
	*(int *)arg = c->result == ZC_RESULT_ERROR ? c->error : 1;
}

/* Unconnected UDP: zc_send has no destination, zc_sendto names one and
 * checks it; TCP takes none. */
static void test_sendto_bad_dest(void **state)
{
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sockaddr_in6 to6 = { .sin6_family = AF_INET6 };
	socklen_t len = sizeof(to);
	struct iovec iov = { "ping", 4 };
	struct zc_sock *sock, *tcps;
	struct zc_ctx *ctx;
	int udp, rcv, tcp, trcv, done = 0;
	char buf[8];

	(void)state;
	udp = socket(AF_INET, SOCK_DGRAM, 0);
	rcv = socket(AF_INET, SOCK_DGRAM, 0);
	assert_int_equal(bind(rcv, (struct sockaddr *)&to, sizeof(to)), 0);
	assert_int_equal(getsockname(rcv, (struct sockaddr *)&to, &len), 0);
	assert_int_equal(zc_ctx_create(NULL, &ctx), 0);
	assert_int_equal(zc_sock_attach(ctx, udp, NULL, &sock), 0);
	assert_int_equal(zc_send(sock, &iov, 1, dest_cb, &done), -EDESTADDRREQ);
	assert_int_equal(zc_sendto(sock, &iov, 1, NULL, 0, dest_cb, &done),
			 -EINVAL);
	assert_int_equal(zc_sendto(sock, &iov, 1, (struct sockaddr *)&to,
				   sizeof(to) - 1, dest_cb, &done),
			 -EINVAL);
	assert_int_equal(zc_sendto(sock, &iov, 1, (struct sockaddr *)&to6,
				   sizeof(to6), dest_cb, &done),
			 -EAFNOSUPPORT);
	assert_int_equal(zc_sendto(sock, &iov, 1, (struct sockaddr *)&to,
				   sizeof(to), dest_cb, &done),
			 0);
	while (!done)
		assert_true(zc_ctx_process(ctx, 1000) >= 0);
	assert_int_equal(done, 1);
	assert_int_equal(recv(rcv, buf, sizeof(buf), 0), 4);
	assert_int_equal(nu_tcp_pair(AF_INET, &tcp, &trcv), 0);
	assert_int_equal(zc_sock_attach(ctx, tcp, NULL, &tcps), 0);
	assert_int_equal(zc_sendto(tcps, &iov, 1, (struct sockaddr *)&to,
				   sizeof(to), dest_cb, &done),
			 -EISCONN);
	zc_ctx_destroy(ctx);
	close(rcv);
	close(trcv);
}

static void test_attach_bad_opts(void **state)
{
	const struct zc_sock_opts bad[] = {
		{ .tx = ZC_TX_MODE_COUNT },
		{ .tx = (enum zc_tx_mode) - 1 },
		{ .rx = ZC_RX_MODE_COUNT },
		{ .flags = ZC_SOCK_FALLBACK << 1 },
		{ .flags = 1u << 31 },
		{ .max_inflight = 65537 },
		{ .rx_lowat = -1 },
		{ .udp_gso_size = 1400 }, /* on TCP */
	};
	struct zc_sock_opts gso = { .udp_gso_size = 70000 };
	struct zc_sock_opts ok = { .tx = ZC_TX_COPY };
	struct zc_sock *sock = NULL;
	struct zc_ctx *ctx;
	int tcp, udp, rcv;

	(void)state;
	assert_int_equal(nu_tcp_pair(AF_INET, &tcp, &rcv), 0);
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(try_attach(tcp, &bad[i]), -EINVAL);
	close(rcv);
	assert_int_equal(nu_udp_pair(AF_INET, &udp, &rcv), 0);
	assert_int_equal(try_attach(udp, &gso), -EINVAL);
	close(rcv);
	assert_int_equal(zc_ctx_create(NULL, &ctx), 0);
	assert_int_equal(zc_sock_attach(NULL, tcp, &ok, &sock), -EINVAL);
	assert_int_equal(zc_sock_attach(ctx, tcp, &ok, NULL), -EINVAL);
	assert_null(sock);
	/* After all that the socket attaches fine. */
	assert_int_equal(zc_sock_attach(ctx, tcp, &ok, &sock), 0);
	assert_int_equal(zc_sock_close(sock), 0);
	zc_ctx_destroy(ctx);
	close(udp);
}

/* ---- zc_send: arguments ------------------------------------------------ */

static void test_send_bad_args(void **state)
{
	static char data[64];
	struct zc_sock_opts o = { .tx = ZC_TX_COPY, .max_inflight = 1 };
	struct iovec one = { data, sizeof(data) };
	struct iovec zeros[3] = { { data, 0 }, { NULL, 0 }, { data, 0 } };
	struct iovec many[ZC_SEND_MAX_IOV + 1];
	struct iovec huge = { data, (size_t)SSIZE_MAX + 1 };
	struct iovec sum[2] = { { data, SSIZE_MAX }, { data, 1 } };
	struct iovec wrap[3] = { { data, SSIZE_MAX },
				 { data, SSIZE_MAX },
				 { data, 2 } };
	struct iovec null_base = { NULL, 16 };
	struct zc_stats st;
	struct bed b;

	(void)state;
	for (unsigned i = 0; i < ZC_SEND_MAX_IOV + 1; i++)
		many[i] = (struct iovec){ data, 1 };
	bed_open(&b, AF_INET, SOCK_STREAM, &o, false);
	assert_int_equal(zc_send(NULL, &one, 1, count_cb, NULL), -EINVAL);
	assert_int_equal(zc_send(b.sock, &one, 1, NULL, NULL), -EINVAL);
	assert_int_equal(zc_send(b.sock, NULL, 1, count_cb, NULL), -EINVAL);
	assert_int_equal(zc_send(b.sock, &one, 0, count_cb, NULL), -EINVAL);
	assert_int_equal(zc_send(b.sock, &one, -1, count_cb, NULL), -EINVAL);
	assert_int_equal(zc_send(b.sock, zeros, 3, count_cb, NULL), -EINVAL);
	assert_int_equal(zc_send(b.sock, &null_base, 1, count_cb, NULL),
			 -EINVAL);
	assert_int_equal(
		zc_send(b.sock, many, ZC_SEND_MAX_IOV + 1, count_cb, NULL),
		-E2BIG);
	assert_int_equal(zc_send(b.sock, &huge, 1, count_cb, NULL), -EOVERFLOW);
	assert_int_equal(zc_send(b.sock, sum, 2, count_cb, NULL), -EOVERFLOW);
	assert_int_equal(zc_send(b.sock, wrap, 3, count_cb, NULL), -EOVERFLOW);
	assert_int_equal(ncb, 0);
	assert_int_equal(zc_sock_stats(b.sock, &st), 0);
	assert_int_equal(st.sends, 0);
	/* The one request slot is still free; 16 entries are fine. */
	assert_int_equal(zc_send(b.sock, many, ZC_SEND_MAX_IOV, count_cb, NULL),
			 0);
	wait_callbacks(b.ctx, 1);
	assert_int_equal(last.result, ZC_RESULT_COPIED);
	assert_int_equal(last.bytes, ZC_SEND_MAX_IOV);
	bed_close(&b);
}

/* ---- zc_send: the kernel refuses --------------------------------------- */

/* 1 GiB of address space nothing is mapped at (PROT_NONE). */
static void *unmapped(size_t len)
{
	void *p = mmap(NULL, len, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	assert_true(p != MAP_FAILED);
	return p;
}

/* What the receiver got after the sender closed: exactly want bytes of
 * byte value c (TCP: one stream to its end; UDP: one datagram, then
 * nothing more queued). */
static void expect_only(int rcv, int type, size_t want, int c)
{
	static unsigned char buf[1 << 17];
	struct pollfd pfd = { .fd = rcv, .events = POLLIN };
	size_t got = 0;
	ssize_t n;

	/* TCP ends with the FIN; a datagram socket has no end, so stop at
	 * the first one instead of waiting for silence. */
	while ((type == SOCK_STREAM || !got) && poll(&pfd, 1, WAIT_MS) > 0) {
		n = recv(rcv, buf, sizeof(buf), MSG_DONTWAIT);
		if (n <= 0)
			break;
		for (ssize_t i = 0; i < n; i++)
			assert_int_equal(buf[i], c);
		got += (size_t)n;
	}
	/* A datagram the refused send let out would have come first; one
	 * more after the good one would be queued by now. */
	if (type == SOCK_DGRAM)
		assert_true(recv(rcv, buf, sizeof(buf), MSG_DONTWAIT) < 0);
	assert_int_equal(got, want);
}

static const char *type_name(int type)
{
	return type == SOCK_STREAM ? "tcp" : "udp";
}

static void run_efault(int type, enum zc_tx_mode tx)
{
	size_t big = type == SOCK_STREAM ? 1ul << 30 : 60000;
	struct zc_sock_opts o = { .tx = tx, .max_inflight = 1 };
	void *hole = unmapped(big);
	struct iovec bad = { hole, big };
	static char good[4096];
	struct iovec ok = { good, sizeof(good) };
	struct zc_stats st;
	struct bed b;

	print_message("case: %s %s\n", type_name(type), zc_tx_mode_name(tx));
	memset(good, 'g', sizeof(good));
	bed_open(&b, AF_INET, type, &o, type == SOCK_DGRAM);
	assert_int_equal(zc_send(b.sock, &bad, 1, count_cb, NULL), -EFAULT);
	assert_int_equal(ncb, 0);
	/* Nothing went out, no completion id was used: the next send
	 * completes normally. */
	assert_int_equal(zc_send(b.sock, &ok, 1, count_cb, NULL), 0);
	wait_callbacks(b.ctx, 1);
	assert_true(last.result == ZC_RESULT_COPIED ||
		    last.result == ZC_RESULT_ZEROCOPY);
	assert_int_equal(last.bytes, sizeof(good));
	assert_int_equal(zc_sock_stats(b.sock, &st), 0);
	assert_int_equal(st.sends, 1);
	assert_int_equal(st.bad_notifications, 0);
	assert_int_equal(zc_sock_close(b.sock), 0);
	b.sock = NULL;
	expect_only(b.rcv, type, sizeof(good), 'g');
	bed_close(&b);
	munmap(hole, big);
}

static void test_send_efault(void **state)
{
	(void)state;
	run_efault(SOCK_STREAM, ZC_TX_COPY);
	run_efault(SOCK_STREAM, ZC_TX_MSGZC);
	run_efault(SOCK_DGRAM, ZC_TX_COPY);
	run_efault(SOCK_DGRAM, ZC_TX_MSGZC);
}

/* The largest UDP payload goes out whole; one byte more is refused. */
static void run_udp_limit(int family, enum zc_tx_mode tx, size_t max)
{
	static char data[65536];
	struct zc_sock_opts o = { .tx = tx, .max_inflight = 1 };
	struct iovec at = { data, max };
	struct iovec over[2] = { { data, max - 100 }, { data, 101 } };
	struct bed b;

	print_message("case: %s %s, %zu bytes\n",
		      family == AF_INET6 ? "ipv6" : "ipv4", zc_tx_mode_name(tx),
		      max);
	memset(data, 'u', sizeof(data));
	bed_open(&b, family, SOCK_DGRAM, &o, true);
	at.iov_len = max + 1;
	assert_int_equal(zc_send(b.sock, &at, 1, count_cb, NULL), -EMSGSIZE);
	assert_int_equal(zc_send(b.sock, over, 2, count_cb, NULL), -EMSGSIZE);
	assert_int_equal(ncb, 0);
	at.iov_len = max;
	assert_int_equal(zc_send(b.sock, &at, 1, count_cb, NULL), 0);
	wait_callbacks(b.ctx, 1);
	assert_int_equal(last.bytes, max);
	assert_int_equal(zc_sock_close(b.sock), 0);
	b.sock = NULL;
	expect_only(b.rcv, SOCK_DGRAM, max, 'u');
	bed_close(&b);
}

static void test_udp_too_big(void **state)
{
	(void)state;
	run_udp_limit(AF_INET, ZC_TX_COPY, 65507);
	run_udp_limit(AF_INET, ZC_TX_MSGZC, 65507);
	run_udp_limit(AF_INET6, ZC_TX_COPY, 65527);
	run_udp_limit(AF_INET6, ZC_TX_MSGZC, 65527);
}

/* Send until zc_send() fails; the failure must come within WAIT_MS. */
static int send_until_error(struct bed *b, const struct iovec *iov,
			    unsigned *accepted)
{
	int64_t end = nu_now_ms() + WAIT_MS;
	int ret = 0;

	while (!ret && nu_now_ms() < end) {
		ret = zc_send(b->sock, iov, 1, count_cb, NULL);
		if (!ret)
			++*accepted;
		zc_ctx_process(b->ctx, 10);
	}
	return ret;
}

static void run_peer_gone(int type, enum zc_tx_mode tx)
{
	static char data[65536];
	struct zc_sock_opts o = { .tx = tx };
	struct iovec iov = { data, type == SOCK_STREAM ? sizeof(data) : 1000 };
	unsigned accepted = 0, before;
	struct zc_stats st;
	struct bed b;
	int ret;

	print_message("case: %s %s\n", type_name(type), zc_tx_mode_name(tx));
	bed_open(&b, AF_INET, type, &o, true);
	close(b.rcv);
	b.rcv = -1;
	ret = send_until_error(&b, &iov, &accepted);
	printf("peer gone (%s, %s): %d (%s) after %u sends\n", type_name(type),
	       zc_tx_mode_name(tx), ret, zc_strerror(ret), accepted);
	if (type == SOCK_STREAM) {
		assert_true(ret == -EPIPE || ret == -ECONNRESET);
		/* The socket stays failed, without callbacks. */
		before = ncb;
		ret = zc_send(b.sock, &iov, 1, count_cb, NULL);
		assert_true(ret == -EPIPE || ret == -ECONNRESET);
		assert_int_equal(ncb, before);
	} else {
		/* ICMP port unreachable, reported by a later send. */
		assert_int_equal(ret, -ECONNREFUSED);
	}
	assert_int_equal(zc_sock_stats(b.sock, &st), 0);
	assert_int_equal(st.sends, accepted);
	zc_sock_close(b.sock);
	b.sock = NULL;
	assert_int_equal(ncb, accepted);
	bed_close(&b);
}

static void test_send_peer_gone(void **state)
{
	(void)state;
	run_peer_gone(SOCK_STREAM, ZC_TX_COPY);
	run_peer_gone(SOCK_STREAM, ZC_TX_MSGZC);
	run_peer_gone(SOCK_DGRAM, ZC_TX_COPY);
	run_peer_gone(SOCK_DGRAM, ZC_TX_MSGZC);
}

/* Read whatever the peer has queued, without waiting. */
static void drain(int fd)
{
	static char buf[1 << 18];

	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
}

/* max_inflight 4, the peer not reading: once the kernel buffers are full
 * the fifth unfinished send is refused with -EAGAIN; reading and
 * processing make room again. */
static void test_too_many_inflight(void **state)
{
	static char data[1 << 20];
	struct zc_sock_opts o = { .tx = ZC_TX_COPY, .max_inflight = 4 };
	struct iovec iov = { data, sizeof(data) };
	unsigned accepted = 0, i;
	struct zc_stats st;
	int64_t end;
	struct bed b;
	int ret = 0;

	(void)state;
	bed_open(&b, AF_INET, SOCK_STREAM, &o, true);
	for (i = 0; i < 256 && !ret; i++) {
		ret = zc_send(b.sock, &iov, 1, count_cb, NULL);
		accepted += !ret;
	}
	assert_int_equal(ret, -EAGAIN);
	assert_int_equal(zc_sock_stats(b.sock, &st), 0);
	assert_int_equal(st.inflight, 4);
	assert_int_equal(ncb, accepted - 4);
	end = nu_now_ms() + WAIT_MS;
	do {
		drain(b.rcv);
		zc_ctx_process(b.ctx, 10);
		ret = zc_send(b.sock, &iov, 1, count_cb, NULL);
	} while (ret == -EAGAIN && nu_now_ms() < end);
	assert_int_equal(ret, 0);
	accepted++;
	end = nu_now_ms() + WAIT_MS;
	while (ncb < accepted && nu_now_ms() < end) {
		drain(b.rcv);
		zc_ctx_process(b.ctx, 10);
	}
	assert_int_equal(ncb, accepted);
	bed_close(&b);
}

/* ---- calls from inside a callback -------------------------------------- */

static struct zc_ctx *cb_ctx;
static int cb_close_ret, cb_process_ret;

static void reenter_cb(struct zc_sock *sock, const struct zc_completion *c,
		       void *arg)
{
	count_cb(sock, c, arg);
	cb_close_ret = zc_sock_close(sock);
	cb_process_ret = zc_ctx_process(cb_ctx, 0);
}

/* Copy completes inside zc_send(), MSG_ZEROCOPY inside zc_ctx_process():
 * both refuse to close the socket or re-enter the context. */
static void run_reenter(enum zc_tx_mode tx)
{
	static char data[4096];
	struct zc_sock_opts o = { .tx = tx };
	struct iovec iov = { data, sizeof(data) };
	struct bed b;

	print_message("case: %s\n", zc_tx_mode_name(tx));
	bed_open(&b, AF_INET, SOCK_STREAM, &o, true);
	cb_ctx = b.ctx;
	cb_close_ret = cb_process_ret = 0;
	assert_int_equal(zc_send(b.sock, &iov, 1, reenter_cb, NULL), 0);
	wait_callbacks(b.ctx, 1);
	assert_int_equal(cb_close_ret, -EBUSY);
	assert_int_equal(cb_process_ret, -EBUSY);
	/* The socket is still there and still works. */
	assert_int_equal(zc_send(b.sock, &iov, 1, count_cb, NULL), 0);
	wait_callbacks(b.ctx, 2);
	assert_int_equal(zc_sock_close(b.sock), 0);
	b.sock = NULL;
	expect_only(b.rcv, SOCK_STREAM, 2 * sizeof(data), 0);
	bed_close(&b);
}

static void test_reenter_from_callback(void **state)
{
	(void)state;
	run_reenter(ZC_TX_COPY);
	run_reenter(ZC_TX_MSGZC);
}

/* ---- zc_strerror ------------------------------------------------------- */

static void test_strerror(void **state)
{
	static const int errs[] = {
		EBADF,	ENOTSOCK,   EAFNOSUPPORT, EPROTONOSUPPORT, ENOTCONN,
		EINVAL, E2BIG,	    EOVERFLOW,	  EFAULT,	   EMSGSIZE,
		EPIPE,	ECONNRESET, ECONNABORTED, ECONNREFUSED,	   EAGAIN,
		EBUSY,	ECANCELED,  ETIMEDOUT,	  ENOBUFS,
	};

	(void)state;
	for (unsigned i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		const char *s = zc_strerror(-errs[i]);

		assert_non_null(s);
		assert_true(strlen(s) > 0);
		/* zcopy's own words, not the C library's. */
		if (!strcmp(s, strerror(errs[i])))
			fail_msg("zc_strerror(-%d) is generic: %s", errs[i], s);
		assert_string_equal(s, zc_strerror(errs[i]));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_attach_bad_fd),
		cmocka_unit_test(test_attach_not_socket),
		cmocka_unit_test(test_attach_not_inet),
		cmocka_unit_test(test_attach_not_tcp_udp),
		cmocka_unit_test(test_attach_not_connected),
		cmocka_unit_test(test_sendto_bad_dest),
		cmocka_unit_test(test_attach_bad_opts),
		cmocka_unit_test(test_send_bad_args),
		cmocka_unit_test(test_send_efault),
		cmocka_unit_test(test_udp_too_big),
		cmocka_unit_test(test_send_peer_gone),
		cmocka_unit_test(test_too_many_inflight),
		cmocka_unit_test(test_reenter_from_callback),
		cmocka_unit_test(test_strerror),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
