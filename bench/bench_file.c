/* SPDX-License-Identifier: MIT */
/*
 * File sends and receives: the numbers behind zc_send_file()'s auto
 * (src/policy.h, ZC_POLICY_FILE_READ_MAX) and behind the receive pattern
 * zc_recv(3) documents (and zcopy recv uses).
 *
 * send: one file, page cache warm, sent over loopback TCP in ranges of
 * SIZE bytes until VOLUME bytes went, by each mechanism forced (sendfile,
 * splice, read = pread + send, msgzc = the file mapped and sent with
 * MSG_ZEROCOPY, ur-splice = the library's io_uring splice, its workers
 * unpinned), by auto, by a raw sendfile() loop without the library
 * (raw-sf) and by a raw io_uring splice loop (raw-ur: IORING_OP_SPLICE
 * file -> pipe linked to pipe -> socket, liburing, one pair in flight,
 * its workers on the sender's CPU).
 * Timed to the last byte received; the sender thread's CPU and the whole
 * process's (both ends, and the io_uring workers that run the splices).
 *
 * recv: VOLUME bytes from a sendfile() sender written into a file by
 * recv() + write(), by splice() socket -> pipe -> file, and by zc_recv()
 * (auto) + write(); with xxhash, also recv() + XXH3 + write() and splice
 * followed by XXH3 over the file's pages (what a verifying receiver pays).
 *
 * Rounds interleave the methods in rotating order, each on its own
 * connection; the tables give median throughput and median sender (send)
 * or receiver (recv) thread CPU per GB; send also the process's CPU per
 * GB and auto's throughput over the fastest mechanism's (auto/best).
 *
 * push: one whole FILE to HOST:PORT by zc_send_file() (auto, or the
 * mechanism named), ranges of 16 MiB, 4 in flight, for
 * bench/compare_file.sh to set beside socat and iperf3 -F.
 *
 * Usage: bench_file send|recv [rounds (5)] [DIR (/dev/shm)] [MiB (512)]
 *        (BENCH_FILE_SIZES=65536,1048576 limits send to those sizes)
 *        bench_file push FILE HOST PORT [RANGE bytes (16 MiB)]
 *                        [auto|sendfile|splice|read]
 */
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef HAVE_XXHASH
#include <xxhash.h>
#endif

#include <liburing.h>
#include <zcopy/zcopy.h>

#include "bench_util.h"

#define MAX_ROUNDS 32
#define RX_BUF (1u << 20)
#define FILE_MAX ((size_t)1 << 30)

static void die(const char *what, int err)
{
	fprintf(stderr, "bench_file: %s: %s\n", what, zc_strerror(err));
	exit(1);
}

/* ---- send --------------------------------------------------------------- */

enum smethod {
	S_AUTO,
	S_SENDFILE,
	S_SPLICE,
	S_READ,
	S_MSGZC,
	S_USPLICE,
	S_RAW,
	S_URING,
	S_COUNT
};

static const char *const sname[] = { "auto",  "sendfile",  "splice", "read",
				     "msgzc", "ur-splice", "raw-sf", "raw-ur" };
static const enum zc_tx_mode smode[] = {
	[S_AUTO] = ZC_TX_AUTO,	   [S_SENDFILE] = ZC_TX_SENDFILE,
	[S_SPLICE] = ZC_TX_SPLICE, [S_READ] = ZC_TX_COPY,
	[S_MSGZC] = ZC_TX_MSGZC,   [S_USPLICE] = ZC_TX_URING_SPLICE,
};

static const size_t ssizes[] = {
	4096,	  16384,     65536,	 262144,   1 << 20,
	4u << 20, 16u << 20, 256u << 20, FILE_MAX,
};

struct sample {
	double wall; /* seconds to the last byte received */
	double cpu;  /* the measured thread's CPU seconds */
	double all;  /* the process's CPU seconds (send only) */
};

static double process_cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void done_cb(struct zc_sock *sock, const struct zc_completion *c,
		    void *arg)
{
	(void)sock;
	if (c->result == ZC_RESULT_ERROR)
		die("completion", c->error);
	(*(unsigned *)arg)--;
}

static void run_zc(int fd, int file, enum zc_tx_mode mode, size_t size,
		   size_t n)
{
	struct zc_sock_opts o = { .file_tx = mode,
				  .max_inflight = 1024,
				  .flags = ZC_SOCK_KEEP_FD };
	struct zc_ctx *ctx;
	struct zc_sock *sock = NULL;
	unsigned inflight = 0;
	int ret = zc_ctx_create(NULL, &ctx);

	if (!ret)
		ret = zc_sock_attach(ctx, fd, &o, &sock);
	if (ret)
		die("attach", ret);
	for (size_t i = 0; i < n;) {
		ret = zc_send_file(sock, file, 0, size, done_cb, &inflight);
		if (ret == -EAGAIN) {
			zc_ctx_process(ctx, -1);
			continue;
		}
		if (ret)
			die("zc_send_file", ret);
		inflight++;
		i++;
	}
	while (inflight)
		zc_ctx_process(ctx, -1);
	zc_ctx_destroy(ctx);
}

static void run_raw(int fd, int file, size_t size, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		off_t off = 0;

		while ((size_t)off < size) {
			ssize_t r =
				sendfile(fd, file, &off, size - (size_t)off);

			if (r <= 0)
				die("sendfile", r ? errno : EIO);
		}
	}
}

/* One file -> pipe splice linked to the pipe -> socket splice of its
 * bytes; the second is cancelled when the first comes up short, and the
 * bytes it left in the pipe follow by a plain splice().  Bytes moved. */
static size_t uring_pair(struct io_uring *ring, const int pfd[2], int fd,
			 int file, off_t off, size_t len)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	struct io_uring_cqe *cqe;
	int res[2] = { 0, 0 };
	size_t out;

	io_uring_prep_splice(sqe, file, off, pfd[1], -1, (unsigned)len, 0);
	sqe->flags |= IOSQE_IO_LINK;
	sqe->user_data = 0;
	sqe = io_uring_get_sqe(ring);
	io_uring_prep_splice(sqe, pfd[0], -1, fd, -1, (unsigned)len, 0);
	sqe->user_data = 1;
	if (io_uring_submit_and_wait(ring, 2) < 0)
		die("io_uring_submit", errno);
	for (int i = 0; i < 2; i++) {
		if (io_uring_wait_cqe(ring, &cqe))
			die("io_uring_wait_cqe", EIO);
		res[cqe->user_data] = cqe->res;
		io_uring_cqe_seen(ring, cqe);
	}
	if (res[0] <= 0)
		die("uring splice", res[0] ? -res[0] : EIO);
	out = res[1] > 0 ? (size_t)res[1] : 0;
	while (out < (size_t)res[0]) {
		ssize_t n =
			splice(pfd[0], NULL, fd, NULL, (size_t)res[0] - out, 0);

		if (n <= 0)
			die("splice", n ? errno : EIO);
		out += (size_t)n;
	}
	return out;
}

static void run_uring(int fd, int file, size_t size, size_t n)
{
	struct io_uring ring;
	int pfd[2], psz;

	cpu_set_t cpus;

	if (io_uring_queue_init(8, &ring, 0) || pipe(pfd))
		die("io_uring/pipe", errno);
	/* The splices run in io_uring's workers: on the sender's CPU, like
	 * every other method's sending, or they would gain a CPU of their
	 * own on this 2-vCPU machine. */
	CPU_ZERO(&cpus);
	CPU_SET(BENCH_CPU_TX, &cpus);
	if (io_uring_register_iowq_aff(&ring, sizeof(cpus), &cpus))
		die("io_uring_register_iowq_aff", EINVAL);
	fcntl(pfd[1], F_SETPIPE_SZ, 1 << 20);
	psz = fcntl(pfd[1], F_GETPIPE_SZ);
	for (size_t i = 0; i < n; i++)
		for (size_t off = 0; off < size;)
			off += uring_pair(&ring, pfd, fd, file, (off_t)off,
					  size - off < (size_t)psz
						  ? size - off
						  : (size_t)psz);
	io_uring_queue_exit(&ring);
	close(pfd[0]);
	close(pfd[1]);
}

static struct sample send_once(enum smethod m, int file, size_t size,
			       size_t volume)
{
	size_t n = volume / size ? volume / size : 1;
	struct bench_pair p;
	struct sample s;
	uint64_t t0;
	int one = 1;

	bench_pair_open(&p, SOCK_STREAM);
	setsockopt(p.tx, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	s.all = process_cpu();
	s.cpu = bench_thread_cpu();
	t0 = bc_now_ns();
	if (m == S_RAW)
		run_raw(p.tx, file, size, n);
	else if (m == S_URING)
		run_uring(p.tx, file, size, n);
	else
		run_zc(p.tx, file, smode[m], size, n);
	bench_pair_finish(&p); /* to the last byte */
	s.wall = (double)(bc_now_ns() - t0) / 1e9;
	s.cpu = bench_thread_cpu() - s.cpu;
	s.all = process_cpu() - s.all;
	s.wall = s.wall > 0 ? s.wall : 1e-9;
	/* per GB */
	s.cpu = s.cpu / ((double)(n * size) / 1e9);
	s.all = s.all / ((double)(n * size) / 1e9);
	s.wall = (double)(n * size) / s.wall / 1e6; /* MB/s */
	return s;
}

static int make_file(const char *dir, size_t len)
{
	char path[4096];
	size_t chunk = 1 << 20;
	char *buf = malloc(chunk);
	int fd;

	snprintf(path, sizeof(path), "%s/bench_file.XXXXXX", dir);
	fd = mkstemp(path);
	if (fd < 0 || !buf)
		die("mkstemp", errno);
	unlink(path);
	for (size_t i = 0; i < chunk; i++)
		buf[i] = (char)(i * 7 + (i >> 12));
	for (size_t off = 0; off < len; off += chunk)
		if (pwrite(fd, buf, chunk, (off_t)off) != (ssize_t)chunk)
			die("pwrite", errno);
	free(buf);
	return fd;
}

/* BENCH_FILE_SIZES="65536,1048576" runs only those sizes. */
static bool size_wanted(size_t size)
{
	const char *list = getenv("BENCH_FILE_SIZES");
	char *end;

	if (!list || !*list)
		return true;
	while (*list) {
		if (strtoull(list, &end, 10) == size)
			return true;
		if (end == list)
			return false;
		list = *end == ',' ? end + 1 : end;
	}
	return false;
}

/* One size's medians, a line per method, and auto over the fastest
 * library mechanism (the raw loops are references, not candidates). */
static void send_report(size_t size, double tp[][MAX_ROUNDS],
			double cpu[][MAX_ROUNDS], double all[][MAX_ROUNDS],
			int rounds)
{
	double med[S_COUNT];
	int best = S_SENDFILE;

	for (int m = 0; m < S_COUNT; m++) {
		med[m] = bc_median(tp[m], rounds);
		printf("%10zu %9s %8.0f %8.3f %8.3f\n", size, sname[m], med[m],
		       bc_median(cpu[m], rounds), bc_median(all[m], rounds));
		if (m >= S_SENDFILE && m <= S_USPLICE && med[m] > med[best])
			best = m;
	}
	printf("%10zu auto/best %.2f (best: %s)\n", size,
	       med[S_AUTO] / med[best], sname[best]);
	fflush(stdout);
}

static void bench_send(int rounds, const char *dir, size_t volume)
{
	int file = make_file(dir, FILE_MAX);

	printf("send: loopback TCP, page cache warm, %zu MiB per run (at "
	       "least one range), %d interleaved rounds, medians.\n"
	       "%10s %9s %8s %8s %8s\n",
	       volume >> 20, rounds, "size", "method", "MB/s", "tx s/GB",
	       "all s/GB");
	for (size_t i = 0; i < sizeof(ssizes) / sizeof(ssizes[0]); i++) {
		double tp[S_COUNT][MAX_ROUNDS], cpu[S_COUNT][MAX_ROUNDS],
			all[S_COUNT][MAX_ROUNDS];

		if (!size_wanted(ssizes[i]))
			continue;
		for (int r = 0; r < rounds; r++)
			for (int k = 0; k < S_COUNT; k++) {
				int m = (r + k) % S_COUNT;
				struct sample s =
					send_once(m, file, ssizes[i], volume);

				tp[m][r] = s.wall;
				cpu[m][r] = s.cpu;
				all[m][r] = s.all;
			}
		send_report(ssizes[i], tp, cpu, all, rounds);
	}
	close(file);
}

/* ---- receive ------------------------------------------------------------ */

enum rmethod {
	R_RECV_WRITE,
	R_SPLICE,
	R_ZC_RECV,
#ifdef HAVE_XXHASH
	R_RECV_HASH,
	R_SPLICE_HASH,
#endif
	R_COUNT
};

static const char *const rname[] = { "recv+write", "splice", "zc_recv+write",
#ifdef HAVE_XXHASH
				     "recv+xxh3", "splice+xxh3"
#endif
};

static void write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n <= 0)
			die("write", n ? errno : EIO);
		p += n;
		len -= (size_t)n;
	}
}

static void rx_recv(int sock, int file, bool hash)
{
	char *buf = malloc(RX_BUF);
#ifdef HAVE_XXHASH
	XXH3_state_t *st = XXH3_createState();

	XXH3_128bits_reset(st);
#endif
	(void)hash;
	for (;;) {
		ssize_t n = recv(sock, buf, RX_BUF, 0);

		if (n <= 0)
			break;
#ifdef HAVE_XXHASH
		if (hash)
			XXH3_128bits_update(st, buf, (size_t)n);
#endif
		write_all(file, buf, (size_t)n);
	}
#ifdef HAVE_XXHASH
	XXH3_freeState(st);
#endif
	free(buf);
}

static void rx_zc(int sock, int file)
{
	struct zc_sock_opts o = { .flags = ZC_SOCK_KEEP_FD };
	struct zc_ctx *ctx;
	struct zc_sock *zs = NULL;
	int ret = zc_ctx_create(NULL, &ctx);

	if (!ret)
		ret = zc_sock_attach(ctx, sock, &o, &zs);
	if (ret)
		die("attach", ret);
	for (;;) {
		struct zc_buf *b;
		ssize_t n = zc_recv(zs, &b);
		struct zc_seg seg;

		if (n <= 0)
			break;
		for (unsigned i = 0; !zc_buf_seg(b, i, &seg); i++)
			write_all(file, seg.base, seg.len);
		zc_sock_release(zs, b);
	}
	zc_ctx_destroy(ctx);
}

static void rx_splice(int sock, int file, bool hash)
{
	int pfd[2];
	off_t done = 0;

	if (pipe(pfd))
		die("pipe", errno);
	fcntl(pfd[1], F_SETPIPE_SZ, 1 << 20);
	for (;;) {
		ssize_t n = splice(sock, NULL, pfd[1], NULL, 1 << 20,
				   SPLICE_F_MOVE);

		if (n <= 0)
			break;
		while (n > 0) {
			ssize_t w = splice(pfd[0], NULL, file, NULL, (size_t)n,
					   SPLICE_F_MOVE);

			if (w <= 0)
				die("splice", w ? errno : EIO);
			n -= w;
			done += w;
		}
	}
	close(pfd[0]);
	close(pfd[1]);
#ifdef HAVE_XXHASH
	if (hash && done) {
		void *p = mmap(NULL, (size_t)done, PROT_READ, MAP_SHARED, file,
			       0);

		if (p == MAP_FAILED)
			die("mmap", errno);
		volatile XXH128_hash_t h = XXH3_128bits(p, (size_t)done);
		(void)h;
		munmap(p, (size_t)done);
	}
#endif
	(void)hash;
}

/* A loopback TCP pair without a draining thread: *tx, *rx. */
static void tcp_pair(int *tx, int *rx)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM, 0);

	*tx = socket(AF_INET, SOCK_STREAM, 0);
	if (l < 0 || *tx < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) ||
	    getsockname(l, (struct sockaddr *)&a, &len) || listen(l, 1) ||
	    connect(*tx, (struct sockaddr *)&a, sizeof(a)))
		die("loopback pair", errno);
	*rx = accept(l, NULL, NULL);
	if (*rx < 0)
		die("accept", errno);
	close(l);
}

struct tx_arg {
	int sock, file;
	size_t volume;
};

/* The sender of the receive runs: sendfile() of the source file. */
static void *tx_thread(void *arg)
{
	struct tx_arg *t = arg;
	size_t left = t->volume;

	bc_pin(BENCH_CPU_RX);
	while (left) {
		size_t part = left < FILE_MAX ? left : FILE_MAX;
		off_t off = 0;

		while ((size_t)off < part) {
			ssize_t r = sendfile(t->sock, t->file, &off,
					     part - (size_t)off);

			if (r <= 0)
				die("sendfile", r ? errno : EIO);
		}
		left -= part;
	}
	shutdown(t->sock, SHUT_WR);
	return NULL;
}

static void rx_run(enum rmethod m, int sock, int file)
{
	switch (m) {
	case R_RECV_WRITE:
		rx_recv(sock, file, false);
		break;
	case R_SPLICE:
		rx_splice(sock, file, false);
		break;
	case R_ZC_RECV:
		rx_zc(sock, file);
		break;
#ifdef HAVE_XXHASH
	case R_RECV_HASH:
		rx_recv(sock, file, true);
		break;
	case R_SPLICE_HASH:
		rx_splice(sock, file, true);
		break;
#endif
	default:
		break;
	}
}

static struct sample recv_once(enum rmethod m, const char *dir, int src,
			       size_t volume)
{
	struct tx_arg t = { .file = src, .volume = volume };
	struct sample s;
	char path[4096];
	pthread_t th;
	uint64_t t0;
	int rx, file;

	snprintf(path, sizeof(path), "%s/bench_rx.XXXXXX", dir);
	file = mkstemp(path);
	if (file < 0)
		die("mkstemp", errno);
	unlink(path);
	tcp_pair(&t.sock, &rx);
	s.cpu = bench_thread_cpu();
	t0 = bc_now_ns();
	if (pthread_create(&th, NULL, tx_thread, &t))
		die("pthread_create", errno);
	rx_run(m, rx, file);
	pthread_join(th, NULL);
	s.wall = (double)(bc_now_ns() - t0) / 1e9;
	s.cpu = (bench_thread_cpu() - s.cpu) / ((double)volume / 1e9);
	s.wall = (double)volume / s.wall / 1e6;
	close(rx);
	close(t.sock);
	close(file);
	return s;
}

static void bench_recv(int rounds, const char *dir, size_t volume)
{
	size_t src_len = volume < FILE_MAX ? volume : FILE_MAX;
	int src = make_file("/dev/shm", src_len);
	double tp[R_COUNT][MAX_ROUNDS], cpu[R_COUNT][MAX_ROUNDS];

	for (int r = 0; r < rounds; r++)
		for (int k = 0; k < R_COUNT; k++) {
			int m = (r + k) % R_COUNT;
			struct sample s = recv_once(m, dir, src, volume);

			tp[m][r] = s.wall;
			cpu[m][r] = s.cpu;
		}
	printf("recv: loopback TCP into a file in %s, %zu MiB per run, %d "
	       "interleaved rounds, medians\n%14s %8s %10s\n",
	       dir, volume >> 20, rounds, "method", "MB/s", "rx CPU s/GB");
	for (int m = 0; m < R_COUNT; m++)
		printf("%14s %8.0f %10.3f\n", rname[m],
		       bc_median(tp[m], rounds), bc_median(cpu[m], rounds));
	close(src);
}

/* ---- push: one file to a peer ---------------------------------------- */

#define PUSH_RANGE (16u << 20)
#define PUSH_INFLIGHT 4

static enum zc_tx_mode push_mode(const char *name)
{
	for (int m = S_AUTO; m <= S_READ; m++)
		if (!strcmp(name, sname[m]))
			return smode[m];
	fprintf(stderr, "bench_file: no mechanism %s\n", name);
	exit(2);
}

static int push(const char *path, const char *host, const char *port,
		size_t range, enum zc_tx_mode mode)
{
	struct zc_sock_opts o = { .file_tx = mode };
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;
	struct stat st;
	int file = open(path, O_RDONLY), fd;
	unsigned inflight = 0;
	struct zc_ctx *ctx;
	struct zc_sock *sock = NULL;
	off_t off = 0;
	int ret;

	if (file < 0 || fstat(file, &st))
		die(path, errno);
	if (getaddrinfo(host, port, &hints, &ai))
		die("getaddrinfo", EHOSTUNREACH);
	fd = socket(ai->ai_family, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen))
		die("connect", errno);
	freeaddrinfo(ai);
	ret = zc_ctx_create(NULL, &ctx);
	if (!ret)
		ret = zc_sock_attach(ctx, fd, &o, &sock);
	if (ret)
		die("attach", ret);
	while (off < st.st_size || inflight) {
		size_t len = (size_t)(st.st_size - off) < range
				     ? (size_t)(st.st_size - off)
				     : range;

		if (off == st.st_size || inflight == PUSH_INFLIGHT) {
			zc_ctx_process(ctx, -1);
			continue;
		}
		ret = zc_send_file(sock, file, off, len, done_cb, &inflight);
		if (ret)
			die("zc_send_file", ret);
		inflight++;
		off += (off_t)len;
	}
	zc_ctx_destroy(ctx);
	close(file);
	return 0;
}

int main(int argc, char **argv)
{
	int rounds;
	const char *dir;
	size_t mib;

	if (argc >= 5 && argc <= 7 && !strcmp(argv[1], "push"))
		return push(argv[2], argv[3], argv[4],
			    argc >= 6 ? (size_t)bench_arg_long(argv[5], "range")
				      : PUSH_RANGE,
			    argc == 7 ? push_mode(argv[6]) : ZC_TX_AUTO);
	rounds = argc > 2 ? (int)bench_arg_long(argv[2], "rounds") : 5;
	dir = argc > 3 ? argv[3] : "/dev/shm";
	mib = argc > 4 ? (size_t)bench_arg_long(argv[4], "MiB") : 512;
	if (argc < 2 || rounds < 1 || rounds > MAX_ROUNDS || mib < 1 ||
	    (strcmp(argv[1], "send") != 0 && strcmp(argv[1], "recv") != 0)) {
		fprintf(stderr, "usage: bench_file send|recv [rounds 1..32] "
				"[DIR] [MiB]\n");
		return 2;
	}
	bc_pin(BENCH_CPU_TX);
	if (!strcmp(argv[1], "send"))
		bench_send(rounds, dir, mib << 20);
	else
		bench_recv(rounds, dir, mib << 20);
	return 0;
}
