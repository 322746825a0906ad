/* SPDX-License-Identifier: MIT */
/*
 * zcopy bench streams: one thread, one zc_ctx and one socket each, so
 * streams never share a context and CPU time can be read per thread.  The
 * same code sends and receives at either end (-R only swaps the ends).
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#define SEND_WAIT_MS 100
#define RECV_WAIT_MS 50
#define READY_POLL_US 200
#define CLOSE_TIMEOUT_MS 5000
/* TCP receives into 256 KiB buffers, as the plain receiver of
 * bench/raw_send does: with the library's 64 KiB a busy stream takes four
 * calls where one would do. */
#define TCP_RX_BUF (256u << 10)
#define TCP_RX_BUFS 16

/* ---- sending ------------------------------------------------------------ */

static void on_sent(struct zc_sock *sock, const struct zc_completion *c,
		    void *arg)
{
	struct bench_stream *s = arg;
	struct zb_side *tx = &s->side;

	(void)sock;
	tx->completions++;
	if ((unsigned)c->tx < ZB_TX_SLOTS)
		tx->by_tx[c->tx]++;
	/* Accepted bytes reached the kernel whatever the outcome says. */
	tx->bytes += c->bytes;
	tx->packets++;
	/* Only this thread writes it: a plain store, no locked add. */
	atomic_store_explicit(&s->live_bytes, tx->bytes, memory_order_relaxed);
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
			tx->error = -c->error;
		break;
	case ZC_RESULT_ABANDONED:
		tx->abandoned++;
		break;
	}
}

/* The payload lives in a region so transports that want registered
 * memory can use it; every send reuses it, as iperf3 and neper do.  It
 * starts on a page, as bench/raw_send's does: 16 bytes in ran 0.95x as
 * fast at 64 KiB (36 interleaved rounds; the same at 128 KiB). */
static int payload_create(size_t len, struct zc_region **out)
{
	int ret = zc_region_create(len, 0, out);

	if (ret == -ENOMEM || ret == -EPERM)
		ret = zc_region_create(len, ZC_REGION_NOLOCK, out);
	if (!ret)
		memset(zc_region_base(*out), 0x5a, len);
	return ret;
}

/* The clock is read once per CLOCK_BYTES sent (each send when messages
 * are larger): at 4 KiB a read per send was 1.4% of the sender's time,
 * and the run overshoots its end by at most 64 KiB. */
#define CLOCK_BYTES (64u << 10)

static bool time_is_up(struct bench_stream *s, unsigned *left, unsigned every)
{
	if (atomic_load_explicit(s->stop, memory_order_relaxed))
		return true;
	if (*left && --*left)
		return false;
	*left = every;
	return bc_now_us() >= s->deadline_us;
}

static int send_until(struct bench_stream *s, struct zc_ctx *ctx,
		      struct zc_sock *sock, const struct iovec *iov)
{
	unsigned every = iov->iov_len >= CLOCK_BYTES
				 ? 1
				 : CLOCK_BYTES / (unsigned)iov->iov_len;
	unsigned left = 0;
	struct bc_pace pace;

	bc_pace_start(&pace, s->run->rate);
	if (pace.bits_per_s)
		every = 1; /* the pacer sleeps: the clock costs nothing */
	while (!time_is_up(s, &left, every)) {
		int ret;

		/* -b: the token bucket holds the message back until the
		 * rate allows it (sleeping, so completions wait meanwhile:
		 * they cost nothing at a paced rate). */
		if (pace.bits_per_s &&
		    !bc_pace_wait(&pace, iov->iov_len, s->deadline_us))
			break;
		for (;;) {
			ret = zc_send(sock, iov, 1, on_sent, s);
			if (ret != -EAGAIN)
				break;
			/* Too many sends in flight: completions make room. */
			ret = zc_ctx_process(ctx, SEND_WAIT_MS);
			if (ret < 0)
				return ret;
			if (atomic_load_explicit(s->stop, memory_order_relaxed))
				return 0;
		}
		if (ret)
			return ret;
		s->side.ops++;
		if (pace.bits_per_s)
			zc_ctx_process(ctx, 0);
	}
	return 0;
}

/* What auto measured and chose, for the report (zeros if pinned). */
static void send_auto(const struct zc_sock *sock, struct zb_auto *a)
{
	struct zc_stats st;

	if (zc_sock_stats(sock, &st) || st.policy_tx_why == ZC_PWHY_NONE)
		return;
	a->cost_copy = st.policy_tx_cost_copy;
	a->cost_zc = st.policy_tx_cost_zc;
	a->path = (uint8_t)st.policy_tx_using;
	a->why = (uint8_t)st.policy_tx_why;
}

static int send_stream(struct bench_stream *s)
{
	struct zc_sock_opts so = { .tx = s->run->tx,
				   .flags = ZC_SOCK_KEEP_FD,
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
	iov.iov_base = zc_region_base(payload);
	iov.iov_len = s->run->msg_size;
	s->start_us = bc_now_us();
	ret = send_until(s, ctx, sock, &iov);
	send_auto(sock, &s->side.pol);
	cret = zc_sock_close(sock);
	if (!ret && cret && !s->side.error)
		ret = cret;
	/* What TCP had to send again, the whole run (the fd is still
	 * ours: the socket was attached with ZC_SOCK_KEEP_FD). */
	if (s->run->proto == ZB_TCP)
		bc_tcp_retrans(s->fd, &s->side.retrans);
out:
	zc_ctx_destroy(ctx);
	if (payload)
		zc_region_destroy(payload);
	return ret;
}

void *bench_send_stream(void *arg)
{
	struct bench_stream *s = arg;
	uint64_t cpu0;
	int ret;

	ret = bc_pin(s->cpu);
	/* Best effort: without it only slower (a reference per call). */
	bc_own_files(s->fd);
	cpu0 = bc_thread_cpu_us();
	s->start_us = bc_now_us();
	if (!ret)
		ret = send_stream(s);
	if (ret && !s->side.error)
		s->side.error = -ret;
	if (s->side.error > 4095) /* not an errno the protocol carries */
		s->side.error = EIO;
	s->side.cpu_usec = bc_thread_cpu_us() - cpu0;
	s->end_us = bc_now_us();
	s->side.span_usec = (uint64_t)(s->end_us - s->start_us);
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

static int consume(struct bench_stream *r, struct zc_buf *buf, ssize_t n)
{
	uint16_t sum;
	int ret = 0;

	r->side.bytes += (uint64_t)n;
	r->side.ops++;
	r->side.packets++;
	bc_count_add(&r->count, (size_t)n);
	atomic_store_explicit(&r->live_bytes, r->side.bytes,
			      memory_order_relaxed);
	/* Reading every byte is what an application does with its data. */
	if (r->run->flags & ZB_RUN_READ)
		ret = zc_buf_csum(buf, &sum);
	zc_buf_release(buf);
	return ret;
}

static int recv_until(struct bench_stream *r, struct zc_ctx *ctx,
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

static int recv_stream(struct bench_stream *r)
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

	/* Block in the kernel as a plain recv() does: one call per wake-up,
	 * where a non-blocking receiver makes three (the data, EAGAIN, poll).
	 * io_uring receives wait for completions, which a shutdown does not
	 * always bring (UDP): that receiver polls and checks stop. */
	ret = r->run->rx == ZC_RX_URING ? 0 : bn_set_blocking(r->fd);
	if (!ret)
		ret = zc_ctx_create(NULL, &ctx);
	if (!ret)
		ret = zc_sock_attach(ctx, r->fd, &so, &sock);
	/* Set up, or failed: either way the peer may send now. */
	atomic_fetch_add(r->ready, 1);
	if (ret)
		goto out;
	ret = recv_until(r, ctx, sock);
	zc_sock_stats(sock, &st);
	r->side.rx_mapped = st.rx_bytes_mapped;
	r->side.rx_copied = st.rx_bytes_copied;
	if (st.policy_rx_why != ZC_PWHY_NONE)
		r->side.pol = (struct zb_auto){
			.cost_copy = st.policy_rx_cost_copy,
			.cost_zc = st.policy_rx_cost_map,
			.path = (uint8_t)st.policy_rx_using,
			.why = (uint8_t)st.policy_rx_why,
		};
	/* The counters of a transport and ours could disagree by a
	 * partial buffer; the report keeps the parts within the whole. */
	if (r->side.rx_mapped > r->side.bytes)
		r->side.rx_mapped = r->side.bytes;
	if (r->side.rx_copied > r->side.bytes - r->side.rx_mapped)
		r->side.rx_copied = r->side.bytes - r->side.rx_mapped;
out:
	zc_ctx_destroy(ctx);
	return ret;
}

void *bench_recv_stream(void *arg)
{
	struct bench_stream *r = arg;
	uint64_t cpu0;
	int ret;

	ret = bc_pin(r->cpu);
	bc_own_files(r->fd);
	cpu0 = bc_thread_cpu_us();
	r->start_us = bc_now_us();
	if (!ret)
		ret = recv_stream(r);
	else
		atomic_fetch_add(r->ready, 1);
	if (ret && !r->side.error)
		r->side.error = -ret;
	if (r->side.error > 4095)
		r->side.error = EIO;
	r->side.cpu_usec = bc_thread_cpu_us() - cpu0;
	r->end_us = bc_now_us();
	if (r->count.last_us > r->count.first_us)
		r->side.span_usec =
			(uint64_t)(r->count.last_us - r->count.first_us);
	return NULL;
}

/* ---- a run's streams ---------------------------------------------------- */

void bench_streams_init(struct bench_streams *s, const struct zb_run *run,
			bool send)
{
	memset(s, 0, sizeof(*s));
	s->run = run;
	s->send = send;
	for (unsigned i = 0; i < ZB_MAX_STREAMS; i++)
		s->fd[i] = -1;
}

int bench_streams_start(struct bench_streams *s, const struct bench_cpus *cpus,
			int64_t deadline_us)
{
	for (unsigned i = 0; i < s->n; i++) {
		struct bench_stream *st = &s->st[i];
		int ret;

		st->fd = s->fd[i];
		st->run = s->run;
		st->cpu = cpus && cpus->n ? cpus->cpu[i % cpus->n] : -1;
		st->deadline_us = deadline_us;
		st->stop = &s->stop;
		st->ready = &s->ready;
		ret = -pthread_create(
			&s->th[i], NULL,
			s->send ? bench_send_stream : bench_recv_stream, st);
		if (ret)
			return ret;
		s->nth++;
	}
	return 0;
}

void bench_streams_stop(struct bench_streams *s)
{
	atomic_store(&s->stop, true);
	/* A receiver blocked in zc_recv() returns when its socket is shut
	 * down for reading (an end of stream, TCP and UDP alike). */
	for (unsigned i = 0; i < s->nth && !s->send; i++)
		shutdown(s->fd[i], SHUT_RD);
}

/* Receivers: until every thread is set up to receive (or failed), at
 * most timeout_ms. */
static void wait_ready(const struct bench_streams *s, int timeout_ms)
{
	int64_t end = bc_now_us() + (int64_t)timeout_ms * 1000;

	/* Setting up takes a few milliseconds (a pool's memory): polling
	 * costs nothing that matters, once per run. */
	while (atomic_load(&s->ready) < s->nth && bc_now_us() < end)
		usleep(READY_POLL_US);
}

int bench_streams_go(struct bench_streams *s, int cfd,
		     const struct bench_cpus *cpus, int64_t duration_us,
		     int timeout_ms, int *err, int64_t *t0)
{
	int ret = s->send ? bn_recv_go(cfd, timeout_ms) : 0;

	if (ret)
		return ret;
	*t0 = bc_now_us();
	if (!*err)
		*err = bench_streams_start(s, cpus, *t0 + duration_us);
	if (*err)
		bench_streams_stop(s);
	if (s->send)
		return 0;
	wait_ready(s, timeout_ms);
	return bn_send_go(cfd, timeout_ms);
}

void bench_streams_join(struct bench_streams *s, int timeout_ms)
{
	struct timespec end;

	clock_gettime(CLOCK_REALTIME, &end);
	end.tv_sec += timeout_ms / 1000;
	end.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (end.tv_nsec >= 1000000000) {
		end.tv_sec++;
		end.tv_nsec -= 1000000000;
	}
	for (unsigned i = 0; i < s->nth; i++) {
		if (timeout_ms < 0 ||
		    pthread_timedjoin_np(s->th[i], NULL, &end)) {
			if (timeout_ms >= 0)
				bench_streams_stop(s);
			pthread_join(s->th[i], NULL);
		}
	}
	s->nth = 0;
}

uint64_t bench_streams_bytes(const struct bench_streams *s)
{
	uint64_t sum = 0;

	for (unsigned i = 0; i < s->n; i++)
		sum += atomic_load_explicit(&s->st[i].live_bytes,
					    memory_order_relaxed);
	return sum;
}

void bench_streams_close(struct bench_streams *s)
{
	for (unsigned i = 0; i < ZB_MAX_STREAMS; i++) {
		if (s->fd[i] >= 0)
			close(s->fd[i]);
		s->fd[i] = -1;
	}
}

uint64_t bench_streams_span(const struct bench_streams *s)
{
	int64_t first = 0, last = 0;

	for (unsigned i = 0; i < s->n; i++) {
		const struct bench_stream *st = &s->st[i];
		int64_t a = s->send ? st->start_us : st->count.first_us;
		int64_t b = s->send ? st->end_us : st->count.last_us;

		if (!a || b <= a)
			continue;
		if (!first || a < first)
			first = a;
		if (b > last)
			last = b;
	}
	return last > first ? (uint64_t)(last - first) : 0;
}
