/* SPDX-License-Identifier: MIT */
/*
 * Mapped receive (ZC_RX_TCPMMAP) against recv() into a pool buffer
 * (ZC_RX_COPY), on loopback with TCP_MAXSEG 4108 and a MSG_ZEROCOPY sender
 * (the only setup where this machine maps pages), with the application
 * not touching the data and reading every byte.  Runs are interleaved,
 * the order alternating per pair; the table shows medians and ratios.
 * -a puts ZC_RX_AUTO in place of ZC_RX_TCPMMAP (what the policy costs or
 * gains); -p sends with plain send() at the default MSS (nothing can be
 * mapped); -c sets the size of each send in KiB (256).
 * -S sweeps what a mapped receive is made of instead: the window (64 KiB
 * receive buffers times a count; a TCP_ZEROCOPY_RECEIVE call maps at
 * most a quarter of it) and SO_RCVLOWAT (how much is queued when the
 * receiver wakes, so the pages per call), each against copy, data not
 * read, interleaved; the table gives the median ratios per setting.
 *
 * Receiver CPU is getrusage(RUSAGE_THREAD) of the receiving thread (user
 * + system), per GB received; throughput is bytes over the receiver's wall
 * time from the first byte to end of stream.
 *
 * usage: bench_tcpmmap [-s MiB per run] [-n pairs] [-l rx_lowat bytes]
 *                      [-c KiB per send] [-a] [-p] [-S]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <zcopy/zcopy.h>

#include "bench_util.h"

#define PAT_LEN (4u << 20)
#define MSS 4108
#define MAX_PAIRS 64

enum variant { MAP_IDLE, COPY_IDLE, MAP_TOUCH, COPY_TOUCH, NVARIANTS };

static const char *const variant_names[NVARIANTS] = {
	"data not read", "data not read", "every byte read", "every byte read"
};

struct run {
	double gbps;	   /* GB/s */
	double cpu_per_gb; /* receiver CPU seconds per GB */
	double mapped;	   /* share of bytes mapped */
	double per_recv;   /* bytes per receive */
};

static uint8_t *pat;
static uint64_t run_bytes = 256ull << 20;
static int lowat;
static size_t send_chunk = 256u << 10;
static enum zc_rx_mode mapped_rx = ZC_RX_TCPMMAP; /* -a: ZC_RX_AUTO */
static bool plain;				  /* -p: send(), default MSS */
static bool sweep;				  /* -S */
static unsigned rx_bufs;			  /* 0: the library's */
static volatile uint64_t sink;

static void send_done(struct zc_sock *sock, const struct zc_completion *c,
		      void *arg)
{
	(void)sock;
	(void)c;
	(void)arg;
}

/* The sender: zcopy's MSG_ZEROCOPY transport, as in the tests, or its
 * copy transport (-p). */
static void *sender_main(void *arg)
{
	struct zc_sock_opts o = { .tx = plain ? ZC_TX_COPY : ZC_TX_MSGZC };
	int fd = *(int *)arg;
	struct zc_sock *sock;
	struct zc_ctx *ctx;
	uint64_t sent = 0;

	if (zc_ctx_create(NULL, &ctx))
		return NULL;
	if (zc_sock_attach(ctx, fd, &o, &sock)) {
		zc_ctx_destroy(ctx);
		close(fd);
		return NULL;
	}
	while (sent < run_bytes) {
		uint64_t at = sent % PAT_LEN;
		struct iovec iov = { pat + at, send_chunk };
		int ret = zc_send(sock, &iov, 1, send_done, NULL);

		if (ret == -EAGAIN) {
			zc_ctx_process(ctx, 10);
			continue;
		}
		if (ret)
			break;
		sent += send_chunk;
		zc_ctx_process(ctx, 0);
	}
	zc_ctx_destroy(ctx); /* drains, closes: end of stream */
	return NULL;
}

static int tcp_pair(int *rx, int *tx)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	int mss = MSS, lfd = socket(AF_INET, SOCK_STREAM, 0);

	*tx = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0 || *tx < 0)
		return -1;
	if (!plain) {
		setsockopt(lfd, IPPROTO_TCP, TCP_MAXSEG, &mss, sizeof(mss));
		setsockopt(*tx, IPPROTO_TCP, TCP_MAXSEG, &mss, sizeof(mss));
	}
	if (bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) || listen(lfd, 1) ||
	    getsockname(lfd, (struct sockaddr *)&sin, &len) ||
	    connect(*tx, (struct sockaddr *)&sin, sizeof(sin)))
		return -1;
	*rx = accept(lfd, NULL, NULL);
	close(lfd);
	return *rx < 0 ? -1 : 0;
}

static uint64_t touch(const struct zc_buf *buf)
{
	struct zc_seg seg;
	uint64_t sum = 0;

	for (unsigned i = 0; zc_buf_seg(buf, i, &seg) == 0; i++) {
		const uint64_t *p = seg.base;
		size_t n = seg.len / sizeof(*p);

		for (size_t j = 0; j < n; j++)
			sum += p[j];
		for (size_t j = n * sizeof(*p); j < seg.len; j++)
			sum += ((const uint8_t *)seg.base)[j];
	}
	return sum;
}

static int receive(struct zc_sock *sock, bool read_all, struct run *r)
{
	struct zc_stats st;
	uint64_t got = 0, sum = 0, calls = 0;
	uint64_t t0 = 0;
	double c0 = 0;
	ssize_t n;

	for (;;) {
		struct zc_buf *buf;

		n = zc_recv(sock, &buf);
		if (n <= 0)
			break;
		if (!got) {
			t0 = bc_now_ns();
			c0 = bench_thread_cpu();
		}
		got += (uint64_t)n;
		calls++;
		if (read_all)
			sum += touch(buf);
		zc_buf_release(buf);
	}
	r->gbps = (double)got / (double)(bc_now_ns() - t0); /* B/ns */
	r->cpu_per_gb = (bench_thread_cpu() - c0) / ((double)got / 1e9);
	sink += sum;
	r->per_recv = calls ? (double)got / (double)calls : 0;
	zc_sock_stats(sock, &st);
	r->mapped = st.rx_bytes
			    ? (double)st.rx_bytes_mapped / (double)st.rx_bytes
			    : 0;
	return n == 0 && got == run_bytes ? 0 : -1;
}

#define RX_BUF (64u << 10) /* -S: receive buffer size (the default) */

static int one_run(enum variant v, struct run *r)
{
	struct zc_sock_opts o = { .rx = (v == MAP_IDLE || v == MAP_TOUCH)
						? mapped_rx
						: ZC_RX_COPY,
				  .rx_lowat = lowat,
				  .rx_buf_size = rx_bufs ? RX_BUF : 0,
				  .rx_buf_count = rx_bufs };
	struct zc_sock *sock;
	struct zc_ctx *ctx;
	pthread_t th;
	int rfd, tfd, ret;

	if (tcp_pair(&rfd, &tfd) || zc_ctx_create(NULL, &ctx))
		return -1;
	ret = zc_sock_attach(ctx, rfd, &o, &sock);
	if (ret)
		return ret;
	pthread_create(&th, NULL, sender_main, &tfd);
	ret = receive(sock, v == MAP_TOUCH || v == COPY_TOUCH, r);
	pthread_join(th, NULL);
	zc_ctx_destroy(ctx);
	return ret;
}

struct table {
	double gbps[NVARIANTS][MAX_PAIRS];
	double cpu[NVARIANTS][MAX_PAIRS];
	double mapped[NVARIANTS][MAX_PAIRS];
	/* per pair: mapped / copy, for the idle and the touching pair */
	double tput_ratio[2][MAX_PAIRS];
	double cpu_ratio[2][MAX_PAIRS];
};

static void print_table(struct table *t, int pairs)
{
	const char *name = zc_rx_mode_name(mapped_rx);

	printf("\n%-26s %10s %12s %8s\n", "receiver", "GB/s", "CPU s/GB",
	       "mapped");
	for (int v = 0; v < NVARIANTS; v++)
		printf("%-8s %-17s %10.2f %12.3f %7.1f%%\n",
		       v % 2 ? "copy" : name, variant_names[v],
		       bc_median(t->gbps[v], pairs),
		       bc_median(t->cpu[v], pairs),
		       100 * bc_median(t->mapped[v], pairs));
	printf("\nmedian of per-pair ratios, %s / copy:\n", name);
	for (int k = 0; k < 2; k++)
		printf("  %-22s throughput x%.2f, CPU per GB x%.2f\n",
		       k ? "every byte read:" : "data not read:",
		       bc_median(t->tput_ratio[k], pairs),
		       bc_median(t->cpu_ratio[k], pairs));
}

/* -S: windows (64 KiB buffers) and SO_RCVLOWAT values swept. */
static const unsigned sweep_bufs[] = { 4, 16, 64, 256 };
static const int sweep_lowat[] = { 0, 64 << 10, 256 << 10 };
#define NBUFS (sizeof(sweep_bufs) / sizeof(sweep_bufs[0]))
#define NLOWAT (sizeof(sweep_lowat) / sizeof(sweep_lowat[0]))

struct cfg_runs {
	double cpu[2][MAX_PAIRS], gbps[2][MAX_PAIRS], per_recv[MAX_PAIRS];
	double cpu_ratio[MAX_PAIRS], tput_ratio[MAX_PAIRS];
	double mapped[MAX_PAIRS];
};

/* One pair (mapped, copy; the order alternating) at one setting. */
static int sweep_pair(struct cfg_runs *c, int i)
{
	struct run r[2];

	for (int k = 0; k < 2; k++) {
		int v = (i % 2) ? k ^ 1 : k; /* 0: MAP_IDLE, 1: COPY_IDLE */

		if (one_run(v ? COPY_IDLE : MAP_IDLE, &r[v]))
			return -1;
	}
	for (int v = 0; v < 2; v++) {
		c->cpu[v][i] = r[v].cpu_per_gb;
		c->gbps[v][i] = r[v].gbps;
	}
	c->per_recv[i] = r[0].per_recv;
	c->mapped[i] = r[0].mapped;
	c->cpu_ratio[i] = r[0].cpu_per_gb / r[1].cpu_per_gb;
	c->tput_ratio[i] = r[0].gbps / r[1].gbps;
	return 0;
}

static int run_sweep(int pairs)
{
	static struct cfg_runs c[NBUFS][NLOWAT];

	/* Rounds outermost: every setting sees the same spells of noise. */
	for (int i = 0; i < pairs; i++)
		for (unsigned b = 0; b < NBUFS; b++)
			for (unsigned l = 0; l < NLOWAT; l++) {
				rx_bufs = sweep_bufs[b];
				lowat = sweep_lowat[l];
				if (sweep_pair(&c[b][l], i))
					return -1;
			}
	printf("\n%8s %8s %7s %10s %8s %9s %9s %8s %8s\n", "window", "per call",
	       "lowat", "KiB/recv", "mapped", "map s/GB", "copy s/GB", "CPU x",
	       "GB/s x");
	for (unsigned b = 0; b < NBUFS; b++)
		for (unsigned l = 0; l < NLOWAT; l++) {
			struct cfg_runs *r = &c[b][l];

			printf("%6uKi %6uKi %6dKi %10.1f %7.1f%% %9.3f %9.3f "
			       "%8.2f %8.2f\n",
			       sweep_bufs[b] * (RX_BUF >> 10),
			       sweep_bufs[b] * (RX_BUF >> 10) / 4,
			       sweep_lowat[l] >> 10,
			       bc_median(r->per_recv, pairs) / 1024,
			       100 * bc_median(r->mapped, pairs),
			       bc_median(r->cpu[0], pairs),
			       bc_median(r->cpu[1], pairs),
			       bc_median(r->cpu_ratio, pairs),
			       bc_median(r->tput_ratio, pairs));
		}
	printf("\nCPU x, GB/s x: medians of per-pair ratios mapped / copy "
	       "(data not read).\n");
	return 0;
}

static int parse_args(int argc, char **argv, int *pairs)
{
	int opt;

	while ((opt = getopt(argc, argv, "s:n:l:c:apS")) != -1) {
		switch (opt) {
		case 's':
			run_bytes = strtoull(optarg, NULL, 0) << 20;
			break;
		case 'n':
			*pairs = (int)bench_arg_long(optarg, "-n");
			break;
		case 'l':
			lowat = (int)bench_arg_long(optarg, "-l");
			break;
		case 'c':
			send_chunk = strtoull(optarg, NULL, 0) << 10;
			break;
		case 'a':
			mapped_rx = ZC_RX_AUTO;
			break;
		case 'p':
			plain = true;
			break;
		case 'S':
			sweep = true;
			break;
		default:
			return -1;
		}
	}
	if (!send_chunk || PAT_LEN % send_chunk)
		return -1;
	run_bytes -= run_bytes % send_chunk;
	return run_bytes && *pairs > 0 && *pairs <= MAX_PAIRS ? 0 : -1;
}

int main(int argc, char **argv)
{
	static struct table t;
	int pairs = 7;

	if (parse_args(argc, argv, &pairs)) {
		fprintf(stderr,
			"usage: %s [-s MiB] [-n pairs (1..%d)] "
			"[-l rx_lowat] [-c KiB per send] [-a] [-p] [-S]\n",
			argv[0], MAX_PAIRS);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	pat = bench_alloc(PAT_LEN);
	printf("bench_tcpmmap: loopback, %s, %zu KiB sends, %llu MiB per run, "
	       "%d interleaved pairs, rx_lowat %d\n",
	       plain ? "send() sender, default MSS"
		     : "MSG_ZEROCOPY sender, TCP_MAXSEG 4108",
	       send_chunk >> 10, (unsigned long long)(run_bytes >> 20), pairs,
	       lowat);
	if (sweep)
		return run_sweep(pairs) ? 1 : 0;
	for (int i = 0; i < pairs; i++) {
		for (int k = 0; k < NVARIANTS; k++) {
			/* Alternate which of A and B goes first. */
			int v = (i % 2) ? k ^ 1 : k;
			struct run r;

			if (one_run((enum variant)v, &r)) {
				fprintf(stderr, "run %s failed\n",
					variant_names[v]);
				return 1;
			}
			t.gbps[v][i] = r.gbps;
			t.cpu[v][i] = r.cpu_per_gb;
			t.mapped[v][i] = r.mapped;
		}
		for (int k = 0; k < 2; k++) {
			int m = k ? MAP_TOUCH : MAP_IDLE;

			t.tput_ratio[k][i] = t.gbps[m][i] / t.gbps[m + 1][i];
			t.cpu_ratio[k][i] = t.cpu[m][i] / t.cpu[m + 1][i];
		}
	}
	print_table(&t, pairs);
	return 0;
}
