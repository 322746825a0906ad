/* SPDX-License-Identifier: MIT */
/*
 * zcopy bench streams: one thread, one zc_ctx and one socket each, so
 * streams never share a context and CPU time can be read per thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

#define SEND_WAIT_MS 100
#define RECV_WAIT_MS 50
#define CLOSE_TIMEOUT_MS 5000
/* TCP receives into 256 KiB buffers, as the plain receiver of
 * bench/raw_send does: with the library's 64 KiB a busy stream takes four
 * calls where one would do. */
#define TCP_RX_BUF (256u << 10)
#define TCP_RX_BUFS 16

void bench_tx_add(struct bench_tx *sum, const struct bench_tx *one)
{
	sum->bytes += one->bytes;
	sum->sends += one->sends;
	sum->completions += one->completions;
	sum->zc_bytes += one->zc_bytes;
	sum->copied_bytes += one->copied_bytes;
	sum->kernel_copied += one->kernel_copied;
	sum->fallbacks += one->fallbacks;
	sum->errors += one->errors;
	sum->abandoned += one->abandoned;
	for (int t = 0; t < ZC_TX_MODE_COUNT; t++)
		sum->by_tx[t] += one->by_tx[t];
	sum->cpu_usec += one->cpu_usec;
	if (!sum->error)
		sum->error = one->error;
}

uint64_t bench_rx_span(const struct bench_receiver *r, unsigned n)
{
	int64_t first = 0, last = 0;

	for (unsigned i = 0; i < n; i++) {
		if (!r[i].count.first_us)
			continue;
		if (!first || r[i].count.first_us < first)
			first = r[i].count.first_us;
		if (r[i].count.last_us > last)
			last = r[i].count.last_us;
	}
	return last > first ? (uint64_t)(last - first) : 0;
}

void bench_rx_add(struct zb_result *sum, const struct zb_result *one)
{
	sum->bytes += one->bytes;
	sum->recvs += one->recvs;
	sum->rx_mapped += one->rx_mapped;
	sum->rx_copied += one->rx_copied;
	sum->cpu_usec += one->cpu_usec;
	if (!sum->error)
		sum->error = one->error;
}

/* ---- sending ------------------------------------------------------------ */

static void on_sent(struct zc_sock *sock, const struct zc_completion *c,
		    void *arg)
{
	struct bench_sender *s = arg;
	struct bench_tx *tx = &s->tx;

	(void)sock;
	tx->completions++;
	if ((unsigned)c->tx < ZC_TX_MODE_COUNT)
		tx->by_tx[c->tx]++;
	/* Accepted bytes reached the kernel whatever the outcome says. */
	tx->bytes += c->bytes;
	atomic_fetch_add_explicit(s->progress, c->bytes, memory_order_relaxed);
	switch (c->result) {
	case ZC_RESULT_ZEROCOPY:
		tx->zc_bytes += c->bytes;
		break;
	case ZC_RESULT_COPIED:
		tx->copied_bytes += c->bytes;
		if (c->why == ZC_WHY_KERNEL)
			tx->kernel_copied += c->bytes;
		if (c->why == ZC_WHY_NOBUFS)
			tx->fallbacks++;
		break;
	case ZC_RESULT_ERROR:
		tx->errors++;
		if (!tx->error)
			tx->error = c->error;
		break;
	case ZC_RESULT_ABANDONED:
		tx->abandoned++;
		break;
	}
}

/* The payload lives in a region so transports that want registered
 * memory can use it; every send reuses it, as iperf3 and neper do. */
static int payload_create(size_t len, struct zc_region **out)
{
	int ret = zc_region_create(len, 0, out);

	if (ret == -ENOMEM || ret == -EPERM)
		ret = zc_region_create(len, ZC_REGION_NOLOCK, out);
	if (!ret)
		memset(zc_region_base(*out), 0x5a, len);
	return ret;
}

static int send_until(struct bench_sender *s, struct zc_ctx *ctx,
		      struct zc_sock *sock, const struct iovec *iov)
{
	while (!atomic_load_explicit(s->abort, memory_order_relaxed) &&
	       bc_now_us() < s->deadline_us) {
		int ret = zc_send(sock, iov, 1, on_sent, s);

		if (!ret) {
			s->tx.sends++;
			continue;
		}
		if (ret != -EAGAIN)
			return ret;
		/* Too many sends in flight: completions make room. */
		ret = zc_ctx_process(ctx, SEND_WAIT_MS);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static int send_stream(struct bench_sender *s)
{
	struct zc_sock_opts so = { .tx = s->run->tx,
				   .close_timeout_ms = CLOSE_TIMEOUT_MS };
	struct zc_region *payload = NULL;
	struct zc_ctx *ctx = NULL;
	struct zc_sock *sock = NULL;
	struct iovec iov;
	int ret, cret;

	ret = zc_ctx_create(NULL, &ctx);
	if (!ret)
		ret = payload_create(s->run->msg_size, &payload);
	if (!ret)
		ret = zc_sock_attach(ctx, s->fd, &so, &sock);
	if (ret)
		goto out;
	s->fd = -1; /* the socket owns it now */
	iov.iov_base = zc_region_base(payload);
	iov.iov_len = s->run->msg_size;
	ret = send_until(s, ctx, sock, &iov);
	cret = zc_sock_close(sock);
	if (!ret && cret && !s->tx.error)
		ret = cret;
out:
	zc_ctx_destroy(ctx);
	if (payload)
		zc_region_destroy(payload);
	return ret;
}

void *bench_send_stream(void *arg)
{
	struct bench_sender *s = arg;
	uint64_t cpu0;
	int ret;

	ret = bc_pin(s->cpu);
	cpu0 = bc_thread_cpu_us();
	if (!ret)
		ret = send_stream(s);
	if (ret && !s->tx.error)
		s->tx.error = ret;
	if (s->fd >= 0)
		close(s->fd);
	s->tx.cpu_usec = bc_thread_cpu_us() - cpu0;
	s->end_us = bc_now_us();
	return NULL;
}

/* ---- receiving ---------------------------------------------------------- */

/* Nothing to read yet: wait for the socket or for the context (a
 * transport that receives through io_uring wakes the context). */
static void recv_wait(struct zc_sock *sock, struct zc_ctx *ctx)
{
	struct pollfd pfd[2] = { { .fd = zc_sock_fd(sock), .events = POLLIN },
				 { .fd = zc_ctx_fd(ctx), .events = POLLIN } };

	if (poll(pfd, 2, RECV_WAIT_MS) > 0 && pfd[1].revents)
		zc_ctx_process(ctx, 0);
}

static int consume(struct bench_receiver *r, struct zc_buf *buf, ssize_t n)
{
	uint16_t sum;
	int ret = 0;

	r->rx.bytes += (uint64_t)n;
	r->rx.recvs++;
	bc_count_add(&r->count, (size_t)n);
	/* Reading every byte is what an application does with its data. */
	if (r->run->flags & ZB_RUN_READ)
		ret = zc_buf_csum(buf, &sum);
	zc_buf_release(buf);
	return ret;
}

static int recv_until(struct bench_receiver *r, struct zc_ctx *ctx,
		      struct zc_sock *sock)
{
	for (;;) {
		struct zc_buf *buf;
		ssize_t n = zc_recv(sock, &buf);
		int ret;

		if (n > 0) {
			ret = consume(r, buf, n);
			if (ret)
				return ret;
			continue;
		}
		if (n == 0)
			return 0;
		if (n != -EAGAIN)
			return (int)n;
		/* Blocking, zc_recv() comes back empty only when told to
		 * stop; a transport that does not block waits here. */
		if (atomic_load(r->stop))
			return 0;
		recv_wait(sock, ctx);
	}
}

/* Block in the kernel as a plain recv() does: one call per wake-up, where
 * a non-blocking receiver makes three (the data, EAGAIN, poll). */
static int set_blocking(int fd)
{
	int flags = fcntl(fd, F_GETFL);

	if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK))
		return -errno;
	return 0;
}

static int recv_stream(struct bench_receiver *r)
{
	bool tcp = r->run->proto == ZB_TCP;
	struct zc_sock_opts so = { .tx = ZC_TX_COPY,
				   .rx = r->run->rx,
				   .flags = ZC_SOCK_KEEP_FD,
				   .rx_buf_size = tcp ? TCP_RX_BUF : 0,
				   .rx_buf_count = tcp ? TCP_RX_BUFS : 0 };
	struct zc_ctx *ctx = NULL;
	struct zc_sock *sock = NULL;
	struct zc_stats st;
	int ret;

	/* io_uring receives wait for completions, which a shutdown does not
	 * always bring (UDP): that receiver polls and checks stop. */
	ret = r->run->rx == ZC_RX_URING ? 0 : set_blocking(r->fd);
	if (!ret)
		ret = zc_ctx_create(NULL, &ctx);
	if (!ret)
		ret = zc_sock_attach(ctx, r->fd, &so, &sock);
	if (ret)
		goto out;
	ret = recv_until(r, ctx, sock);
	zc_sock_stats(sock, &st);
	r->rx.rx_mapped = st.rx_bytes_mapped;
	r->rx.rx_copied = st.rx_bytes_copied;
out:
	zc_ctx_destroy(ctx);
	return ret;
}

void *bench_recv_stream(void *arg)
{
	struct bench_receiver *r = arg;
	uint64_t cpu0;
	int ret;

	ret = bc_pin(r->cpu);
	cpu0 = bc_thread_cpu_us();
	if (!ret)
		ret = recv_stream(r);
	if (ret && !r->rx.error)
		r->rx.error = -ret;
	r->rx.cpu_usec = bc_thread_cpu_us() - cpu0;
	return NULL;
}
