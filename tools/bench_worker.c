/* SPDX-License-Identifier: MIT */
/*
 * zcopy bench streams: one thread, one zc_ctx and one socket each, so
 * streams never share a context and CPU time can be read per thread.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

#define SEND_WAIT_MS 100
#define RECV_WAIT_MS 50
#define CLOSE_TIMEOUT_MS 5000

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

void bench_rx_add(struct zb_result *sum, const struct zb_result *one)
{
	sum->bytes += one->bytes;
	sum->recvs += one->recvs;
	sum->rx_mapped += one->rx_mapped;
	sum->rx_copied += one->rx_copied;
	sum->cpu_usec += one->cpu_usec;
	if (one->elapsed_usec > sum->elapsed_usec)
		sum->elapsed_usec = one->elapsed_usec;
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
		if (atomic_load(r->stop))
			return 0;
		recv_wait(sock, ctx);
	}
}

static int recv_stream(struct bench_receiver *r)
{
	struct zc_sock_opts so = { .tx = ZC_TX_COPY, .rx = r->run->rx };
	struct zc_ctx *ctx = NULL;
	struct zc_sock *sock = NULL;
	struct zc_stats st;
	int ret;

	ret = zc_ctx_create(NULL, &ctx);
	if (!ret)
		ret = zc_sock_attach(ctx, r->fd, &so, &sock);
	if (ret)
		goto out;
	r->fd = -1;
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
	int64_t t0 = bc_now_us();
	uint64_t cpu0;
	int ret;

	ret = bc_pin(r->cpu);
	cpu0 = bc_thread_cpu_us();
	if (!ret)
		ret = recv_stream(r);
	if (ret && !r->rx.error)
		r->rx.error = -ret;
	if (r->fd >= 0)
		close(r->fd);
	r->rx.cpu_usec = bc_thread_cpu_us() - cpu0;
	r->rx.elapsed_usec = (uint64_t)(bc_now_us() - t0);
	return NULL;
}
