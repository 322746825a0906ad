/* SPDX-License-Identifier: MIT */
/*
 * zcopy's io_uring modes against the bare mechanisms they wrap, on
 * loopback TCP: raw send(), a raw liburing SEND_ZC loop (plain and fixed
 * buffer) and zcopy "uring" / "uring-fixed".  Every loop has the same
 * shape: 8 buffers, one send in flight per socket, a buffer reused only
 * after its notification.  Runs are interleaved (each round runs every
 * mode once, in rotating order); the table shows medians and ratios.
 *
 * usage: bench_uring [rounds (7)] [MiB per run (64)]
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <liburing.h>
#include <zcopy/zcopy.h>

#include "bench_util.h"
#include "compat.h"

#define SLOTS 8
#define MAX_ROUNDS 31

enum mode { M_SEND, M_RAW_ZC, M_RAW_FIXED, M_ZC_URING, M_ZC_FIXED, M_COUNT };

static const char *const mode_names[M_COUNT] = {
	"send()",      "raw SEND_ZC",	    "raw SEND_ZC fixed",
	"zcopy uring", "zcopy uring-fixed",
};

struct run {
	int fd;
	size_t size;
	uint64_t total;
	uint8_t *mem; /* SLOTS * size bytes */
	bool busy[SLOTS];
};

static int free_slot(const struct run *r)
{
	for (int i = 0; i < SLOTS; i++)
		if (!r->busy[i])
			return i;
	return -1;
}

/* ---- raw send() --------------------------------------------------------- */

static int run_send(struct run *r)
{
	for (uint64_t off = 0; off < r->total;) {
		ssize_t n = send(r->fd, r->mem, r->size, 0);

		if (n < 0)
			return -errno;
		off += (uint64_t)n;
	}
	return 0;
}

/* ---- raw liburing SEND_ZC ------------------------------------------------ */

static void raw_reap(struct io_uring *ring, struct run *r, int *res)
{
	struct io_uring_cqe *cqe;
	unsigned head, n = 0;

	io_uring_for_each_cqe(ring, head, cqe)
	{
		/* The slot is free after its notification, or after a
		 * result that promises none. */
		if (!(cqe->flags & IORING_CQE_F_MORE))
			r->busy[cqe->user_data] = false;
		if (!(cqe->flags & IORING_CQE_F_NOTIF))
			*res = cqe->res;
		n++;
	}
	io_uring_cq_advance(ring, n);
}

static int run_raw(struct run *r, bool fixed)
{
	struct io_uring_params p = { .flags = IORING_SETUP_SINGLE_ISSUER |
					      IORING_SETUP_DEFER_TASKRUN };
	struct iovec iov = { r->mem, r->size * SLOTS };
	struct io_uring ring;
	uint64_t off = 0;
	int ret;

	ret = io_uring_queue_init_params(128, &ring, &p);
	if (ret)
		return ret;
	if (fixed && (ret = io_uring_register_buffers(&ring, &iov, 1)))
		return ret;
	while (off < r->total) {
		int slot = free_slot(r);
		size_t done = 0;

		if (slot < 0) {
			io_uring_submit_and_wait(&ring, 1);
			raw_reap(&ring, r, &ret);
			continue;
		}
		r->busy[slot] = true;
		/* One send in flight: a short send resubmits the rest. */
		while (done < r->size) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
			uint8_t *b = r->mem + (size_t)slot * r->size + done;
			int res = 0;

			io_uring_prep_send_zc(sqe, r->fd, b, r->size - done,
					      MSG_NOSIGNAL,
					      IORING_SEND_ZC_REPORT_USAGE);
			if (fixed) {
				sqe->ioprio |= IORING_RECVSEND_FIXED_BUF;
				sqe->buf_index = 0;
			}
			io_uring_sqe_set_data64(sqe, (uint64_t)slot);
			io_uring_submit_and_wait(&ring, 1);
			raw_reap(&ring, r, &res);
			while (!res) {
				io_uring_submit_and_wait(&ring, 1);
				raw_reap(&ring, r, &res);
			}
			if (res < 0 && res != -EAGAIN)
				return res;
			if (res > 0)
				done += (size_t)res;
		}
		off += r->size;
	}
	while (memchr(r->busy, 1, SLOTS)) {
		io_uring_submit_and_wait(&ring, 1);
		raw_reap(&ring, r, &ret);
	}
	io_uring_queue_exit(&ring);
	return 0;
}

/* ---- zcopy ---------------------------------------------------------------- */

static void zc_done(struct zc_sock *sock, const struct zc_completion *c,
		    void *arg)
{
	(void)sock;
	(void)c;
	*(bool *)arg = false;
}

static int run_zcopy(struct run *r, enum zc_tx_mode tx)
{
	struct zc_sock_opts so = { .tx = tx, .flags = ZC_SOCK_KEEP_FD };
	struct zc_region *region = NULL;
	struct zc_stats st;
	struct zc_sock *sock;
	struct zc_ctx *ctx;
	uint64_t off = 0;
	int ret;

	ret = zc_ctx_create(NULL, &ctx);
	if (ret)
		return ret;
	if (tx == ZC_TX_URING_FIXED) {
		ret = zc_region_wrap(r->mem, r->size * SLOTS, 0, &region);
		if (!ret)
			ret = zc_ctx_register_region(ctx, region);
		if (ret)
			return ret;
	}
	ret = zc_sock_attach(ctx, r->fd, &so, &sock);
	if (ret)
		return ret;
	while (off < r->total) {
		int slot = free_slot(r);

		if (slot < 0) {
			zc_ctx_process(ctx, -1);
			continue;
		}
		r->busy[slot] = true;
		ret = zc_send(sock,
			      &(struct iovec){ r->mem + (size_t)slot * r->size,
					       r->size },
			      1, zc_done, &r->busy[slot]);
		if (ret == -EAGAIN) {
			r->busy[slot] = false;
			zc_ctx_process(ctx, -1);
			continue;
		}
		if (ret)
			return ret;
		off += r->size;
	}
	do {
		zc_sock_stats(sock, &st);
		if (st.inflight)
			zc_ctx_process(ctx, -1);
	} while (st.inflight);
	zc_sock_close(sock);
	if (region) {
		zc_ctx_unregister_region(ctx, region);
		zc_region_destroy(region);
	}
	zc_ctx_destroy(ctx);
	return st.uring_error;
}

/* One timed run: a fresh connection, r.total bytes, wait for the drain. */
static double run_one(enum mode m, size_t size, uint64_t total, uint8_t *mem)
{
	struct run r = { .size = size, .total = total };
	struct bench_pair p;
	uint64_t t0, t1;
	int ret = 0;

	r.mem = mem;
	bench_pair_open(&p, SOCK_STREAM);
	/* Fixed-buffer notifications wait for the ACK: without NODELAY,
	 * Nagle and delayed ACKs stall small sends for 40 ms each. */
	setsockopt(p.tx, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
	r.fd = p.tx;
	t0 = bc_now_ns();
	switch (m) {
	case M_SEND:
		ret = run_send(&r);
		break;
	case M_RAW_ZC:
	case M_RAW_FIXED:
		ret = run_raw(&r, m == M_RAW_FIXED);
		break;
	case M_ZC_URING:
	case M_ZC_FIXED:
		ret = run_zcopy(&r, m == M_ZC_URING ? ZC_TX_URING
						    : ZC_TX_URING_FIXED);
		break;
	default:
		break;
	}
	bench_pair_finish(&p);
	t1 = bc_now_ns();
	if (ret) {
		fprintf(stderr, "%s: %s\n", mode_names[m], zc_strerror(ret));
		return -1;
	}
	return (double)total / (double)(t1 - t0); /* B/ns = GB/s */
}

struct size_runs {
	size_t size;
	uint64_t total;
	uint8_t *mem;
	double v[M_COUNT][MAX_ROUNDS];
};

static int run_round(unsigned m, unsigned r, void *arg)
{
	struct size_runs *s = arg;

	s->v[m][r] = run_one((enum mode)m, s->size, s->total, s->mem);
	return 0;
}

int main(int argc, char **argv)
{
	static const size_t sizes[] = { 4096, 65536, 262144, 1 << 20 };
	int rounds = argc > 1 ? (int)bench_arg_long(argv[1], "rounds") : 7;
	uint64_t total = (argc > 2 ? strtoull(argv[2], NULL, 10) : 64) << 20;
	uint8_t *mem;

	if (rounds < 1 || rounds > MAX_ROUNDS)
		rounds = 7;
	bc_pin(BENCH_CPU_TX);
	mem = bench_alloc(SLOTS << 20);
	printf("loopback TCP, %d interleaved rounds, %llu MiB per run, "
	       "GB/s medians\n\n",
	       rounds, (unsigned long long)(total >> 20));
	printf("%8s %9s %9s %9s %9s %9s | %11s %11s %11s\n", "size", "send()",
	       "rawZC", "rawZCfix", "zc-uring", "zc-fixed", "uring/raw",
	       "fixed/raw", "rawZC/send");
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		struct size_runs sr = { .size = sizes[s],
					.total = total,
					.mem = mem };
		double med[M_COUNT];

		bc_rounds(M_COUNT, (unsigned)rounds, run_round, &sr);
		for (int m = 0; m < M_COUNT; m++)
			med[m] = bc_median(sr.v[m], (unsigned)rounds);
		printf("%7zuK %9.2f %9.2f %9.2f %9.2f %9.2f | %10.3fx "
		       "%10.3fx %10.3fx\n",
		       sizes[s] >> 10, med[M_SEND], med[M_RAW_ZC],
		       med[M_RAW_FIXED], med[M_ZC_URING], med[M_ZC_FIXED],
		       med[M_ZC_URING] / med[M_RAW_ZC],
		       med[M_ZC_FIXED] / med[M_RAW_FIXED],
		       med[M_RAW_ZC] / med[M_SEND]);
	}
	return 0;
}
