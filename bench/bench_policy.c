/* SPDX-License-Identifier: MIT */
/*
 * auto against plain send() (and forced MSG_ZEROCOPY, and zcopy's copy
 * transport to show the library's own cost) on loopback, TCP
 * and UDP, per send size.  The kernel copies every zero-copy send here, so
 * auto must cost (almost) nothing over send(): goal ratio >= 0.95 at every
 * size, while forced MSG_ZEROCOPY is up to 2x slower.
 *
 * Each round runs every method once per size, in rotating order, on its
 * own connection; the table gives medians over rounds and the throughput
 * ratio against send(); auto:cpu is send()'s sender CPU over auto's (the
 * library's cost, less sensitive to scheduling than time); auto/best is
 * auto against the faster of copy and MSG_ZEROCOPY in the same round
 * (goal >= 0.95).  Usage:
 * bench_policy [rounds] (default 7).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

#include <zcopy/zcopy.h>

#include "bench_util.h"

#define BYTES_PER_RUN (256u << 20)
#define PROCESS_EVERY 64
#define MAX_ROUNDS 64
#define UDP_BIG 64512 /* under the 65507-byte IPv4 datagram limit */

enum method { M_SEND, M_AUTO, M_MSGZC, M_COPY, M_COUNT };

struct lane {
	struct bench_pair pair;
	struct zc_ctx *ctx;
	struct zc_sock *sock; /* NULL for plain send() */
};

static const size_t tcp_sizes[] = { 4096, 16384, 65536, 262144, 1048576 };
static const size_t udp_sizes[] = { 4096, 16384, UDP_BIG };

static void lane_open(struct lane *l, int type, enum method m)
{
	static const enum zc_tx_mode modes[] = { [M_AUTO] = ZC_TX_AUTO,
						 [M_MSGZC] = ZC_TX_MSGZC,
						 [M_COPY] = ZC_TX_COPY };
	struct zc_sock_opts o = { .tx = modes[m], .flags = ZC_SOCK_KEEP_FD };
	int ret;

	bench_pair_open(&l->pair, type);
	l->ctx = NULL;
	l->sock = NULL;
	if (m == M_SEND)
		return;
	ret = zc_ctx_create(NULL, &l->ctx);
	if (!ret)
		ret = zc_sock_attach(l->ctx, l->pair.tx, &o, &l->sock);
	if (ret) {
		fprintf(stderr, "bench_policy: %s\n", zc_strerror(ret));
		exit(1);
	}
}

static void lane_close(struct lane *l)
{
	zc_ctx_destroy(l->ctx);
	bench_pair_close(&l->pair);
}

static void done(struct zc_sock *sock, const struct zc_completion *c, void *arg)
{
	(void)sock;
	(void)c;
	(void)arg;
}

static void run_send(int fd, const char *buf, size_t len, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		size_t off = 0;

		while (off < len) {
			ssize_t r = send(fd, buf + off, len - off, 0);

			if (r < 0 && errno != EINTR) {
				perror("send");
				exit(1);
			}
			off += r > 0 ? (size_t)r : 0;
		}
	}
}

/* As an event loop would: process completions now and then, and when
 * too many sends are in flight; wait for all of them at the end. */
static void run_zc(struct lane *l, char *buf, size_t len, unsigned n)
{
	struct iovec iov;
	struct zc_stats st;
	int ret;

	iov.iov_base = buf;
	iov.iov_len = len;

	for (unsigned i = 0; i < n; i++) {
		while ((ret = zc_send(l->sock, &iov, 1, done, NULL)) == -EAGAIN)
			zc_ctx_process(l->ctx, 1);
		if (ret) {
			fprintf(stderr, "zc_send: %s\n", zc_strerror(ret));
			exit(1);
		}
		if (i % PROCESS_EVERY == PROCESS_EVERY - 1)
			zc_ctx_process(l->ctx, 0);
	}
	for (zc_sock_stats(l->sock, &st); st.inflight;
	     zc_sock_stats(l->sock, &st))
		zc_ctx_process(l->ctx, 1);
}

/* Seconds for one run of method m; *cpu gets the sender's CPU seconds. */
static double run(struct lane *l, enum method m, char *buf, size_t len,
		  double *cpu)
{
	unsigned n = BYTES_PER_RUN / len;
	double c0 = bench_thread_cpu();
	uint64_t t0 = bc_now_ns();

	if (m == M_SEND)
		run_send(l->pair.tx, buf, len, n);
	else
		run_zc(l, buf, len, n);
	*cpu = bench_thread_cpu() - c0;
	return (double)(bc_now_ns() - t0) / 1e9;
}

static void print_row(const char *proto, size_t len, double *t[M_COUNT],
		      double *cpu[M_COUNT], unsigned rounds)
{
	double med[M_COUNT];

	/* Ratios per round (interleaved pairs), then their median; computed
	 * before the medians of t, which sort it. */
	double r_auto = bc_median_ratio(t[M_SEND], t[M_AUTO], rounds);
	double r_cpu = bc_median_ratio(cpu[M_SEND], cpu[M_AUTO], rounds);
	double r_msgzc = bc_median_ratio(t[M_SEND], t[M_MSGZC], rounds);
	double r_copy = bc_median_ratio(t[M_SEND], t[M_COPY], rounds);
	double best[MAX_ROUNDS];

	/* auto against the faster single transport of the same round. */
	for (unsigned r = 0; r < rounds; r++)
		best[r] = t[M_COPY][r] < t[M_MSGZC][r] ? t[M_COPY][r]
						       : t[M_MSGZC][r];

	for (int m = 0; m < M_COUNT; m++)
		med[m] = bc_median(t[m], rounds);
	printf("%-4s %8zu %10.0f %10.0f %10.0f %11.3f %9.3f %12.3f %11.3f "
	       "%10.3f\n",
	       proto, len, BYTES_PER_RUN / med[M_SEND] / 1e6,
	       BYTES_PER_RUN / med[M_AUTO] / 1e6,
	       BYTES_PER_RUN / med[M_MSGZC] / 1e6, r_auto, r_cpu, r_msgzc,
	       r_copy, bc_median_ratio(best, t[M_AUTO], rounds));
}

struct size_runs {
	struct lane *lanes;
	char *buf;
	size_t len;
	double **t, **cpu;
};

static int run_round(unsigned m, unsigned r, void *arg)
{
	struct size_runs *s = arg;

	s->t[m][r] = run(&s->lanes[m], m, s->buf, s->len, &s->cpu[m][r]);
	return 0;
}

static void bench_proto(int type, const size_t *sizes, size_t nsizes,
			int rounds, char *buf)
{
	const char *proto = type == SOCK_STREAM ? "tcp" : "udp";
	struct lane lanes[M_COUNT];
	double *t[M_COUNT], *cpu[M_COUNT];
	struct zc_stats st;

	for (int m = 0; m < M_COUNT; m++)
		lane_open(&lanes[m], type, m);
	for (int m = 0; m < M_COUNT; m++) {
		t[m] = calloc((size_t)rounds, sizeof(double));
		cpu[m] = calloc((size_t)rounds, sizeof(double));
	}
	for (size_t s = 0; s < nsizes; s++) {
		struct size_runs sr = {
			.lanes = lanes, .len = sizes[s], .t = t, .cpu = cpu
		};

		sr.buf = buf;
		bc_rounds(M_COUNT, (unsigned)rounds, run_round, &sr);
		print_row(proto, sizes[s], t, cpu, (unsigned)rounds);
	}
	zc_sock_stats(lanes[M_AUTO].sock, &st);
	printf("     auto on %s: %llu sends, %llu tried zero-copy, %llu "
	       "copied small, %llu copied backing off, %llu back-offs\n",
	       proto, (unsigned long long)st.sends,
	       (unsigned long long)st.policy_zc,
	       (unsigned long long)st.policy_copy_small,
	       (unsigned long long)st.policy_copy_backoff,
	       (unsigned long long)st.policy_backoffs);
	for (int m = 0; m < M_COUNT; m++) {
		lane_close(&lanes[m]);
		free(t[m]);
		free(cpu[m]);
	}
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? (int)bench_arg_long(argv[1], "rounds") : 7;
	char *buf = bench_alloc(tcp_sizes[4]);

	bc_pin(BENCH_CPU_TX);
	if (rounds < 5 || rounds > MAX_ROUNDS) {
		fprintf(stderr, "usage: bench_policy [rounds: 5..64]\n");
		return 2;
	}
	printf("loopback, %u MiB per run, median of %d interleaved rounds\n",
	       BYTES_PER_RUN >> 20, rounds);
	printf("%-4s %8s %10s %10s %10s %11s %9s %12s %11s %10s\n", "", "size",
	       "send MB/s", "auto MB/s", "msgzc MB/s", "auto/send", "auto:cpu",
	       "msgzc/send", "copy/send", "auto/best");
	bench_proto(SOCK_STREAM, tcp_sizes, 5, rounds, buf);
	bench_proto(SOCK_DGRAM, udp_sizes, 3, rounds, buf);

	return 0;
}
