/* SPDX-License-Identifier: MIT */
/*
 * The library's cost over the bare system call, per mechanism: zcopy's
 * copy transport against a raw send() loop, and zcopy's msgzc transport
 * against a raw MSG_ZEROCOPY loop, TCP over loopback, 4 KiB to 1 MiB.
 *
 * Every method sends from a ring of SLOTS buffers and reuses a buffer only
 * once the kernel is done with it (for MSG_ZEROCOPY: its notification), as
 * a real program must.  Rounds interleave the four methods in rotating
 * order, each on its own connection; the table gives median throughput
 * and the median of per-round ratios (zcopy / raw of the same mechanism).
 * Goal: ratio >= 0.95.
 *
 * Usage: bench_send [rounds (default 7)] [MiB per run (default 256)]
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <zcopy/zcopy.h>

#include "bench_util.h"

/* Enough buffers for 4 MiB in flight: fewer stall MSG_ZEROCOPY on ACKs. */
#define SLOTS 1024
#define INFLIGHT_BYTES (4u << 20)
#define MAX_ROUNDS 64

enum method { M_RAW_SEND, M_ZC_COPY, M_RAW_MSGZC, M_ZC_MSGZC, M_COUNT };

static const size_t sizes[] = { 4096, 16384, 65536, 262144, 1048576 };

struct run {
	int fd;
	char *mem; /* SLOTS * len */
	size_t len;
	unsigned n;
	unsigned slots;
	/* raw MSG_ZEROCOPY */
	uint64_t ids_issued;
	struct bc_zc_count ids_done;
	uint64_t slot_id[SLOTS];
	/* zcopy */
	struct zc_ctx *ctx;
	struct zc_sock *sock;
	bool busy[SLOTS];
};

static void die(const char *what, int err)
{
	fprintf(stderr, "bench_send: %s: %s\n", what, zc_strerror(err));
	exit(1);
}

static void send_all(int fd, const char *p, size_t len, int flags,
		     uint64_t *ids)
{
	while (len) {
		ssize_t r = send(fd, p, len, flags);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			/* Out of optmem: copy this part, as zcopy does. */
			if (errno == ENOBUFS && (flags & MSG_ZEROCOPY)) {
				flags = 0;
				ids = NULL;
				continue;
			}
			die("send", errno);
		}
		p += r;
		len -= (size_t)r;
		if (ids)
			(*ids)++;
	}
}

static void run_raw_send(struct run *r)
{
	for (unsigned i = 0; i < r->n; i++)
		send_all(r->fd, r->mem + (i % r->slots) * r->len, r->len, 0,
			 NULL);
}

/* Wait until the kernel reported at least `upto` ids. */
static void raw_wait(struct run *r, uint64_t upto)
{
	struct pollfd pfd = { .fd = r->fd };

	bc_reap_msgzc(r->fd, &r->ids_done);
	while (bc_zc_ids(&r->ids_done) < upto) {
		poll(&pfd, 1, 1000);
		bc_reap_msgzc(r->fd, &r->ids_done);
	}
}

static void run_raw_msgzc(struct run *r)
{
	for (unsigned i = 0; i < r->n; i++) {
		unsigned s = i % r->slots;

		if (r->slot_id[s] > bc_zc_ids(&r->ids_done))
			raw_wait(r, r->slot_id[s]);
		send_all(r->fd, r->mem + s * r->len, r->len, MSG_ZEROCOPY,
			 &r->ids_issued);
		r->slot_id[s] = r->ids_issued;
	}
	raw_wait(r, r->ids_issued);
}

static void zc_done(struct zc_sock *sock, const struct zc_completion *c,
		    void *arg)
{
	(void)sock;
	(void)c;
	*(bool *)arg = false;
}

static void run_zc(struct run *r)
{
	for (unsigned i = 0; i < r->n; i++) {
		unsigned s = i % r->slots;
		struct iovec iov = { r->mem + s * r->len, r->len };
		int ret;

		while (r->busy[s])
			zc_ctx_process(r->ctx, -1);
		r->busy[s] = true;
		ret = zc_send(r->sock, &iov, 1, zc_done, &r->busy[s]);
		if (ret)
			die("zc_send", ret);
	}
	for (unsigned s = 0; s < r->slots; s++)
		while (r->busy[s])
			zc_ctx_process(r->ctx, -1);
}

struct sample {
	double wall; /* seconds */
	double cpu;  /* sender thread CPU seconds, user + system */
};

static struct sample run_method(enum method m, char *mem, size_t len,
				size_t bytes)
{
	static const enum zc_tx_mode tx[] = {
		[M_ZC_COPY] = ZC_TX_COPY, [M_ZC_MSGZC] = ZC_TX_MSGZC
	};
	struct run r = { .len = len, .n = (unsigned)(bytes / len) };
	struct zc_sock_opts o = { .tx = tx[m], .max_inflight = SLOTS };
	struct bench_pair p;
	struct sample out;
	uint64_t t0;
	int one = 1, ret;

	r.mem = mem;
	r.slots = INFLIGHT_BYTES / len < 16 ? 16 : INFLIGHT_BYTES / len;
	bench_pair_open(&p, SOCK_STREAM);
	r.fd = p.tx;
	setsockopt(r.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (m == M_RAW_MSGZC &&
	    setsockopt(r.fd, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof(one)))
		die("SO_ZEROCOPY", errno);
	if (m == M_ZC_COPY || m == M_ZC_MSGZC) {
		o.flags = ZC_SOCK_KEEP_FD;
		ret = zc_ctx_create(NULL, &r.ctx);
		if (!ret)
			ret = zc_sock_attach(r.ctx, r.fd, &o, &r.sock);
		if (ret)
			die("attach", ret);
	}
	out.cpu = bench_thread_cpu();
	t0 = bc_now_ns();
	if (m == M_RAW_SEND)
		run_raw_send(&r);
	else if (m == M_RAW_MSGZC)
		run_raw_msgzc(&r);
	else
		run_zc(&r);
	t0 = bc_now_ns() - t0;
	out.cpu = bench_thread_cpu() - out.cpu;
	out.wall = (double)t0 / 1e9;
	zc_ctx_destroy(r.ctx);
	bench_pair_close(&p);
	return out;
}

struct size_runs {
	size_t len, bytes;
	char *mem;
	double wall[M_COUNT][MAX_ROUNDS], cpu[M_COUNT][MAX_ROUNDS];
};

static int run_round(unsigned m, unsigned r, void *arg)
{
	struct size_runs *s = arg;
	struct sample sm = run_method(m, s->mem, s->len, s->bytes);

	s->wall[m][r] = sm.wall;
	s->cpu[m][r] = sm.cpu;
	return 0;
}

static void bench_size(size_t len, int rounds, size_t bytes, char *mem)
{
	static struct size_runs s;
	double med[M_COUNT];
	unsigned n = (unsigned)rounds;

	s.len = len;
	s.bytes = bytes;
	s.mem = mem;
	bc_rounds(M_COUNT, n, run_round, &s);
	/* Throughput ratio zcopy/raw, and CPU ratio raw/zcopy (both > 1 when
	 * zcopy does better), per round, then medians. */
	printf("%8zu %9.3f %9.3f %9.3f %9.3f", len,
	       bc_median_ratio(s.wall[M_RAW_SEND], s.wall[M_ZC_COPY], n),
	       bc_median_ratio(s.cpu[M_RAW_SEND], s.cpu[M_ZC_COPY], n),
	       bc_median_ratio(s.wall[M_RAW_MSGZC], s.wall[M_ZC_MSGZC], n),
	       bc_median_ratio(s.cpu[M_RAW_MSGZC], s.cpu[M_ZC_MSGZC], n));
	for (int m = 0; m < M_COUNT; m++)
		med[m] = (double)bytes / bc_median(s.wall[m], n) / 1e6;
	printf("   %7.0f %7.0f %7.0f %7.0f\n", med[M_RAW_SEND], med[M_ZC_COPY],
	       med[M_RAW_MSGZC], med[M_ZC_MSGZC]);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? (int)bench_arg_long(argv[1], "rounds") : 7;
	size_t mib = argc > 2 ? strtoul(argv[2], NULL, 10) : 256;
	char *mem =
		bench_alloc(INFLIGHT_BYTES < 16 * sizes[4] ? 16 * sizes[4]
							   : INFLIGHT_BYTES);

	bc_pin(BENCH_CPU_TX);
	if (rounds < 1 || rounds > MAX_ROUNDS || mib < 1 || mib > 65536) {
		fprintf(stderr, "usage: bench_send [rounds 1..64] [MiB]\n");
		return 2;
	}
	printf("TCP loopback, %zu MiB per run, %d interleaved rounds.  Ratios, "
	       "medians of per-round pairs against the raw loop of the same "
	       "mechanism:\n tput = zcopy/raw throughput, cpu = raw/zcopy "
	       "sender CPU (>= 0.95: overhead under 5%%)\n",
	       mib, rounds);
	printf("%8s %9s %9s %9s %9s   %7s %7s %7s %7s  (MB/s)\n", "size",
	       "copy:tput", "copy:cpu", "msgzc:tput", "msgzc:cpu", "send()",
	       "zc-copy", "MSG_ZC", "zc-msgzc");
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		bench_size(sizes[i], rounds, mib << 20, mem);
	return 0;
}
