/* SPDX-License-Identifier: MIT */
/*
 * The same-host channel (ZC_TX_SHM) against the sockets it replaces,
 * between two processes on one host, interleaved in one run:
 *
 *   tcp         loopback TCP, send() / recv()
 *   unix        AF_UNIX stream, send() / recv()
 *   shm-copy    zcopy shm, sends from ordinary memory (one copy)
 *   shm-region  zcopy shm, sends from a pool over zc_sock_region()
 *
 * For each message size, bulk streams with the receiver reading every
 * byte (a checksum) and without, reported as medians with the sender's
 * and the receiver's CPU per GB; then 64-byte messages: ping-pong round
 * trips and a one-way stream (messages per second).  The bound for what
 * a receiver that reads every byte can reach is measured in the same run:
 * one core checksumming a 1 MiB (cached) and a 64 MiB buffer.
 *
 * Sender on CPU 0, receiver on CPU 1; each run forks a fresh receiver.
 * Throughput is bytes over the receiver's time from the first byte to
 * end of stream; CPU is getrusage() of each process (user + system).
 *
 * usage: bench_shm [-n rounds] [-m MiB per run] [-S shm MiB] [-s KiB,...]
 *                  [-M mode,...] [-q]
 * -S sets shm_size (default: the library's, 4 MiB: what fits the caches
 * best here); -M runs only the bulk modes named (tcp, unix, shm-copy,
 * shm-region); -q skips the 64-byte runs.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <zcopy/zcopy.h>

#include "bench_util.h"

enum mode { M_TCP, M_UNIX, M_SHM_COPY, M_SHM_REGION, NMODES };

static const char *const mode_names[NMODES] = { "tcp", "unix", "shm-copy",
						"shm-region" };

#define MAX_ROUNDS 31
#define MAX_SIZES 8
#define SMALL 64
#define PP_ITERS 20000
#define SMALL_MSGS 400000u

static unsigned rounds = 5;
static uint64_t run_bytes = 1ull << 30;
static uint64_t shm_bytes; /* -S; 0: the library's default (4 MiB) */
static unsigned modes = (1u << NMODES) - 1; /* -M: bulk modes to run */
static bool small = true;		    /* -q: no 64-byte runs */

/* What the receiving child reports back (shared memory). */
struct report {
	uint64_t bytes;
	uint64_t t0, t1; /* first byte, end of stream (ns) */
	double cpu;	 /* seconds, the whole child */
	uint64_t sum;
	int err;
};

struct result {
	double gbps, tx_cpu_gb, rx_cpu_gb;
};

static volatile uint64_t sink;

/* ---- helpers ------------------------------------------------------------ */

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static double proc_cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
}

/* Reads every byte: the receiver's work when it uses the data. */
static uint64_t checksum(const void *p, size_t len)
{
	/* Walked by pointer: with an index, gcc -O3 warns of an overflow at
	 * an iteration no buffer can reach. */
	const uint64_t *w = p, *end4 = w + len / 32 * 4, *end = w + len / 8;
	const uint8_t *t = (const uint8_t *)end,
		      *tend = (const uint8_t *)p + len;
	uint64_t a = 0, b = 0, c = 0, d = 0;

	for (; w < end4; w += 4) {
		a += w[0];
		b += w[1];
		c += w[2];
		d += w[3];
	}
	for (; w < end; w++)
		a += *w;
	for (; t < tend; t++)
		a += *t;
	return a + b + c + d;
}

static void tcp_pair(int sv[2])
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) ||
	    listen(l, 1) || getsockname(l, (struct sockaddr *)&a, &len))
		die("listen");
	sv[0] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sv[0] < 0 || connect(sv[0], (struct sockaddr *)&a, sizeof(a)))
		die("connect");
	sv[1] = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	if (sv[1] < 0)
		die("accept");
	setsockopt(sv[0], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(sv[1], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	close(l);
}

static void make_pair(enum mode m, int sv[2])
{
	if (m == M_TCP)
		tcp_pair(sv);
	else if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		die("socketpair");
}

static struct zc_sock *shm_attach(struct zc_ctx **ctx, int fd)
{
	struct zc_sock_opts o = { .tx = ZC_TX_SHM,
				  .rx = ZC_RX_SHM,
				  .shm_size = shm_bytes };
	struct zc_sock *sock;
	int ret;

	ret = zc_ctx_create(NULL, ctx);
	if (!ret)
		ret = zc_sock_attach(*ctx, fd, &o, &sock);
	if (ret) {
		fprintf(stderr, "shm attach: %s\n", zc_strerror(ret));
		exit(1);
	}
	return sock;
}

/* ---- receivers (in the child) ------------------------------------------- */

/* The first byte: the clocks start (setup is not counted). */
static void rx_first(struct report *r)
{
	r->t0 = bc_now_ns();
	r->cpu = proc_cpu();
}

static void rx_sock(int fd, bool read, struct report *r)
{
	size_t len = 4u << 20;
	uint8_t *buf = bench_alloc(len);
	ssize_t n;

	while ((n = recv(fd, buf, len, 0)) > 0) {
		if (!r->bytes)
			rx_first(r);
		r->bytes += (uint64_t)n;
		if (read)
			r->sum += checksum(buf, (size_t)n);
	}
	r->err = n < 0 ? -errno : 0;
}

static void rx_shm(int fd, bool read, struct report *r)
{
	struct zc_ctx *ctx;
	struct zc_sock *sock = shm_attach(&ctx, fd);
	struct zc_buf *buf;
	ssize_t n;

	while ((n = zc_recv(sock, &buf)) > 0) {
		struct zc_seg seg;

		if (!r->bytes)
			rx_first(r);
		r->bytes += (uint64_t)n;
		if (read && !zc_buf_seg(buf, 0, &seg))
			r->sum += checksum(seg.base, seg.len);
		zc_sock_release(sock, buf);
	}
	r->err = (int)n;
	zc_ctx_destroy(ctx);
}

static void rx_child(enum mode m, int fd, bool read, struct report *r)
{
	if (m == M_TCP || m == M_UNIX)
		rx_sock(fd, read, r);
	else
		rx_shm(fd, read, r);
	r->t1 = bc_now_ns();
	r->cpu = proc_cpu() - r->cpu;
}

/* ---- senders (in the parent) -------------------------------------------- */

static double tx_cpu0;

/* Setup done: the sender's CPU counts from here. */
static void tx_mark(void)
{
	tx_cpu0 = bench_thread_cpu();
}

static void tx_sock(int fd, size_t msg, uint64_t total)
{
	uint8_t *buf = bench_alloc(msg);

	memset(buf, 0x5a, msg);
	for (uint64_t sent = 0; sent < total;) {
		ssize_t n = send(fd, buf, msg, MSG_NOSIGNAL);

		if (n <= 0)
			die("send");
		sent += (uint64_t)n;
	}
	munmap(buf, msg);
}

static void nop_done(struct zc_sock *sock, const struct zc_completion *c,
		     void *arg)
{
	(void)sock;
	(void)c;
	(void)arg;
}

static void tx_shm_copy(int fd, size_t msg, uint64_t total)
{
	struct zc_ctx *ctx;
	struct zc_sock *sock = shm_attach(&ctx, fd);
	uint8_t *buf = bench_alloc(msg);
	struct iovec iov = { buf, msg };

	memset(buf, 0x5a, msg);
	tx_mark();
	for (uint64_t sent = 0; sent < total;) {
		int ret = zc_send(sock, &iov, 1, nop_done, NULL);

		if (ret == -EAGAIN) {
			zc_ctx_process(ctx, -1);
			continue;
		}
		if (ret)
			die("zc_send");
		sent += msg;
	}
	zc_sock_close(sock);
	zc_ctx_destroy(ctx);
	munmap(buf, msg);
}

static void region_done(struct zc_sock *sock, const struct zc_completion *c,
			void *arg)
{
	(void)sock;
	(void)c;
	zc_buf_release(arg);
}

static void tx_shm_region(int fd, size_t msg, uint64_t total)
{
	struct zc_ctx *ctx;
	struct zc_sock *sock = shm_attach(&ctx, fd);
	struct zc_region *region;
	struct zc_pool *pool;

	if (zc_sock_region(sock, &region) ||
	    zc_pool_create(region, msg, NULL, NULL, &pool))
		die("region pool");
	memset(zc_region_base(region), 0x5a, zc_region_len(region));
	tx_mark();
	for (uint64_t sent = 0; sent < total;) {
		struct zc_buf *buf;
		int ret;

		if (zc_pool_get(pool, &buf)) {
			zc_ctx_process(ctx, -1);
			continue;
		}
		ret = zc_send_buf(sock, buf, region_done, buf);
		if (ret == -EAGAIN) { /* every send record in use */
			zc_buf_release(buf);
			zc_ctx_process(ctx, -1);
			continue;
		}
		if (ret)
			die("zc_send_buf");
		sent += msg;
	}
	while (zc_pool_avail(pool) < zc_pool_count(pool))
		zc_ctx_process(ctx, -1);
	zc_pool_destroy(pool);
	zc_sock_close(sock);
	zc_ctx_destroy(ctx);
}

static void tx_run(enum mode m, int fd, size_t msg, uint64_t total)
{
	switch (m) {
	case M_TCP:
	case M_UNIX:
		tx_sock(fd, msg, total);
		break;
	case M_SHM_COPY:
		tx_shm_copy(fd, msg, total);
		return; /* zc_sock_close() closed fd */
	default:
		tx_shm_region(fd, msg, total);
		return;
	}
	close(fd);
}

/* ---- one bulk run ------------------------------------------------------- */

/* fn(fd, ...) in a child on the receiver's CPU, holding only its end. */
static pid_t fork_peer(int sv[2],
		       void (*fn)(enum mode m, int fd, bool read,
				  struct report *r),
		       enum mode m, bool read, struct report *r)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		die("fork");
	if (!pid) {
		close(sv[0]);
		bc_pin(BENCH_CPU_RX);
		fn(m, sv[1], read, r);
		_exit(r && r->err ? 1 : 0);
	}
	close(sv[1]);
	bc_pin(BENCH_CPU_TX);
	return pid;
}

static void run_stream(enum mode m, size_t msg, bool read, uint64_t total,
		       struct report *r, struct result *res)
{
	int sv[2], st;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	make_pair(m, sv);
	pid = fork_peer(sv, rx_child, m, read, r);
	tx_mark();
	tx_run(m, sv[0], msg, total);
	res->tx_cpu_gb = bench_thread_cpu() - tx_cpu0;
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) ||
	    r->bytes != total) {
		fprintf(stderr, "%s: receiver failed (%llu of %llu bytes)\n",
			mode_names[m], (unsigned long long)r->bytes,
			(unsigned long long)total);
		exit(1);
	}
	res->gbps = (double)r->bytes / (double)(r->t1 - r->t0);
	res->tx_cpu_gb /= (double)r->bytes / 1e9;
	res->rx_cpu_gb = r->cpu / ((double)r->bytes / 1e9);
}

/* ---- 64-byte messages: ping-pong ---------------------------------------- */

static void pp_sock_echo(int fd)
{
	char b[SMALL];
	size_t got = 0;
	ssize_t n;

	while ((n = recv(fd, b + got, SMALL - got, 0)) > 0) {
		got += (size_t)n;
		if (got < SMALL)
			continue;
		got = 0;
		if (send(fd, b, SMALL, MSG_NOSIGNAL) != SMALL)
			break;
	}
}

static void pp_sock_once(int fd, char *b)
{
	size_t got = 0;

	if (send(fd, b, SMALL, MSG_NOSIGNAL) != SMALL)
		die("send");
	while (got < SMALL) {
		ssize_t n = recv(fd, b + got, SMALL - got, 0);

		if (n <= 0)
			die("recv");
		got += (size_t)n;
	}
}

/* Send one 64-byte message by copy; recycle completions now and then. */
static void shm_send_small(struct zc_ctx *ctx, struct zc_sock *sock,
			   const void *p)
{
	struct iovec iov = { (void *)p, SMALL };
	int ret;

	while ((ret = zc_send(sock, &iov, 1, nop_done, NULL)) == -EAGAIN)
		zc_ctx_process(ctx, -1);
	if (ret)
		die("zc_send");
}

static void pp_shm_echo(int fd)
{
	struct zc_ctx *ctx;
	struct zc_sock *sock = shm_attach(&ctx, fd);
	struct zc_buf *buf;
	struct zc_seg seg;

	while (zc_recv(sock, &buf) > 0) {
		zc_buf_seg(buf, 0, &seg);
		shm_send_small(ctx, sock, seg.base);
		zc_sock_release(sock, buf);
	}
	zc_ctx_destroy(ctx);
}

static void pp_shm_client(int fd, unsigned iters)
{
	struct zc_ctx *ctx;
	struct zc_sock *sock = shm_attach(&ctx, fd);
	char msg[SMALL] = { 0 };
	struct zc_buf *buf;
	size_t got;

	for (unsigned i = 0; i < iters; i++) {
		shm_send_small(ctx, sock, msg);
		for (got = 0; got < SMALL; got += (size_t)zc_buf_len(buf)) {
			if (zc_recv(sock, &buf) <= 0)
				die("zc_recv");
			zc_sock_release(sock, buf);
		}
	}
	zc_sock_close(sock);
	zc_ctx_destroy(ctx);
}

static void pp_client(enum mode m, int fd, unsigned iters)
{
	char b[SMALL] = { 0 };

	if (m == M_SHM_COPY) {
		pp_shm_client(fd, iters);
		return;
	}
	for (unsigned i = 0; i < iters; i++)
		pp_sock_once(fd, b);
	close(fd);
}

static void pp_echo(enum mode m, int fd, bool read, struct report *r)
{
	(void)read;
	(void)r;
	if (m == M_SHM_COPY)
		pp_shm_echo(fd);
	else
		pp_sock_echo(fd);
}

/* Round trip in microseconds. */
static double run_pingpong(enum mode m)
{
	uint64_t t0;
	int sv[2], st;
	pid_t pid;

	make_pair(m, sv);
	pid = fork_peer(sv, pp_echo, m, false, NULL);
	t0 = bc_now_ns();
	pp_client(m, sv[0], PP_ITERS);
	t0 = bc_now_ns() - t0;
	waitpid(pid, &st, 0);
	return (double)t0 / PP_ITERS / 1e3;
}

/* ---- the memory bound --------------------------------------------------- */

/* GB/s one core checksums a buffer of len bytes at (cached or not). */
static double run_membw(size_t len)
{
	uint8_t *p = bench_alloc(len);
	uint64_t reps = (2ull << 30) / len, t0, sum = 0;

	memset(p, 1, len);
	bc_pin(BENCH_CPU_RX);
	sum += checksum(p, len); /* warm */
	t0 = bc_now_ns();
	for (uint64_t i = 0; i < reps; i++) {
		/* The buffer may have changed: no hoisting the sum. */
		__asm__ volatile("" : : "r"(p) : "memory");
		sum += checksum(p, len);
	}
	t0 = bc_now_ns() - t0;
	sink = sum;
	munmap(p, len);
	return (double)(reps * len) / (double)t0;
}

/* ---- the interleaved rounds --------------------------------------------- */

struct bulk {
	double gbps[NMODES][MAX_ROUNDS];
	double tx[NMODES][MAX_ROUNDS], rx[NMODES][MAX_ROUNDS];
};

static struct report *report;
static double bw_1m[MAX_ROUNDS * MAX_SIZES], bw_64m[MAX_ROUNDS * MAX_SIZES];
static int nbw;

static void bulk_rounds(size_t msg, bool read, struct bulk *b)
{
	for (unsigned r = 0; r < rounds; r++) {
		/* A different mode goes first each round. */
		for (int k = 0; k < NMODES; k++) {
			enum mode m = (enum mode)((k + r) % NMODES);
			struct result res;

			if (!(modes & (1u << m)))
				continue;
			run_stream(m, msg, read, run_bytes, report, &res);
			b->gbps[m][r] = res.gbps;
			b->tx[m][r] = res.tx_cpu_gb;
			b->rx[m][r] = res.rx_cpu_gb;
		}
		if (read) {
			bw_1m[nbw] = run_membw(1u << 20);
			bw_64m[nbw++] = run_membw(64u << 20);
		}
	}
}

static void bulk_print(size_t msg, bool read, struct bulk *b)
{
	double tcp = bc_median(b->gbps[M_TCP], (int)rounds);

	for (int m = 0; m < NMODES; m++) {
		double g = bc_median(b->gbps[m], (int)rounds);

		if (!(modes & (1u << m)))
			continue;
		printf("%7zu KiB  %-4s  %-10s  %7.2f  %6.2fx  %8.3f  %8.3f\n",
		       msg >> 10, read ? "yes" : "no", mode_names[m], g,
		       g / tcp, bc_median(b->tx[m], (int)rounds),
		       bc_median(b->rx[m], (int)rounds));
	}
}

static void small_rounds(void)
{
	double rtt[NMODES][MAX_ROUNDS], rate[NMODES][MAX_ROUNDS];
	static const enum mode pp[] = { M_TCP, M_UNIX, M_SHM_COPY };

	for (unsigned r = 0; r < rounds; r++) {
		for (int k = 0; k < NMODES; k++) {
			enum mode m = (enum mode)((k + r) % NMODES);
			struct result res;

			run_stream(m, SMALL, false,
				   (uint64_t)SMALL_MSGS * SMALL, report, &res);
			rate[m][r] = res.gbps * 1e9 / SMALL;
		}
		for (int k = 0; k < 3; k++)
			rtt[pp[(k + r) % 3]][r] = run_pingpong(pp[(k + r) % 3]);
	}
	printf("\n64-byte messages      rtt us   x tcp   msgs/s (M)   x tcp\n");
	for (int m = 0; m < NMODES; m++) {
		double mr = bc_median(rate[m], (int)rounds) / 1e6;
		double mt = bc_median(rate[M_TCP], (int)rounds) / 1e6;

		if (m == M_SHM_REGION)
			printf("  %-18s  %6s  %6s  %11.2f  %6.2fx\n",
			       mode_names[m], "-", "-", mr, mr / mt);
		else
			printf("  %-18s  %6.2f  %5.2fx  %11.2f  %6.2fx\n",
			       m == M_SHM_COPY ? "shm" : mode_names[m],
			       bc_median(rtt[m], (int)rounds),
			       bc_median(rtt[m], (int)rounds) /
				       bc_median(rtt[M_TCP], (int)rounds),
			       mr, mr / mt);
	}
}

static int parse_sizes(char *s, size_t *sizes)
{
	int n = 0;

	for (char *t = strtok(s, ","); t && n < MAX_SIZES;
	     t = strtok(NULL, ","))
		sizes[n++] = (size_t)strtoul(t, NULL, 10) << 10;
	return n;
}

static void usage(void)
{
	fprintf(stderr, "usage: bench_shm [-n rounds] [-m MiB per run] "
			"[-S shm MiB] [-s KiB,KiB,...] [-M mode,...] [-q]\n");
	exit(2);
}

static unsigned parse_modes(char *s)
{
	unsigned mask = 0;

	for (char *t = strtok(s, ","); t; t = strtok(NULL, ",")) {
		int m = 0;

		while (m < NMODES && strcmp(t, mode_names[m]) != 0)
			m++;
		if (m == NMODES)
			usage();
		mask |= 1u << m;
	}
	return mask;
}

int main(int argc, char **argv)
{
	size_t sizes[MAX_SIZES] = { 64u << 10, 1u << 20 };
	int nsizes = 2, opt;

	while ((opt = getopt(argc, argv, "n:m:S:s:M:q")) != -1) {
		if (opt == 'n')
			rounds = (unsigned)strtoul(optarg, NULL, 10);
		else if (opt == 'm')
			run_bytes = strtoull(optarg, NULL, 10) << 20;
		else if (opt == 'S')
			shm_bytes = strtoull(optarg, NULL, 10) << 20;
		else if (opt == 's')
			nsizes = parse_sizes(optarg, sizes);
		else if (opt == 'M')
			modes = parse_modes(optarg);
		else if (opt == 'q')
			small = false;
		else
			usage();
	}
	if (!rounds || rounds > MAX_ROUNDS || !run_bytes || !nsizes)
		usage();
	signal(SIGPIPE, SIG_IGN);
	report = mmap(NULL, sizeof(*report), PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (report == MAP_FAILED)
		die("mmap");
	printf("%u rounds, %llu MiB per run, shm region %llu MiB; medians\n",
	       rounds, (unsigned long long)(run_bytes >> 20),
	       shm_bytes ? (unsigned long long)(shm_bytes >> 20) : 4ull);
	printf("    size    read  mode           GB/s   x tcp  tx s/GB  rx "
	       "s/GB\n");
	for (int i = 0; i < nsizes; i++) {
		for (int read = 1; read >= 0; read--) {
			static struct bulk b;

			bulk_rounds(sizes[i], read, &b);
			bulk_print(sizes[i], read, &b);
		}
	}
	printf("\none core checksumming: 1 MiB %.2f GB/s, 64 MiB %.2f GB/s\n",
	       bc_median(bw_1m, nbw), bc_median(bw_64m, nbw));
	if (small)
		small_rounds();
	return 0;
}
