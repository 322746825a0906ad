/* SPDX-License-Identifier: MIT */
/*
 * zcopy with many sockets in one context.
 *
 *   bench_scale mem N            resident memory per idle attached socket
 *   bench_scale ops N K          K send completions and K received buffers
 *                                on one busy socket among N idle ones (run
 *                                it under callgrind with two values of K:
 *                                the difference over the difference of K
 *                                is the instructions per operation)
 *   bench_scale tput N SIZE SECS ROUNDS
 *                                N busy connections echoed by a peer
 *                                process: zcopy (one context, receive
 *                                callbacks) against the same program
 *                                written with plain non-blocking
 *                                send()/recv() and epoll, interleaved
 *
 * Memory is measured as the growth of the resident set (/proc/self/statm)
 * across zc_sock_attach() of N sockets that already exist, so the kernel's
 * own socket memory is not counted.
 */
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <zcopy/zcopy.h>

#include "bench_util.h"

static void die(const char *what, int err)
{
	fprintf(stderr, "bench_scale: %s: %s\n", what, zc_strerror(err));
	exit(1);
}

/* The second field of /proc/self/statm ("size resident ...", in pages). */
static long rss_bytes(void)
{
	char line[128], *end;
	FILE *f = fopen("/proc/self/statm", "r");
	long rss;

	if (!f || !fgets(line, sizeof(line), f))
		die("statm", -EIO);
	fclose(f);
	/* size resident shared ...: the second field, in pages. */
	strtol(line, &end, 10);
	rss = strtol(end, NULL, 10);
	return rss * sysconf(_SC_PAGESIZE);
}

static void raise_nofile(unsigned n)
{
	struct rlimit rl;

	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur < n + 64)
		die("RLIMIT_NOFILE too low for that many sockets", -EMFILE);
}

/* ---- an echo peer in a child process ----------------------------------- */

struct echo {
	int fd;
	size_t npend;
	uint8_t buf[65536];
};

/* Write what is pending; watch for room only while some is left. */
static void echo_flush(int ep, struct echo *e)
{
	struct epoll_event ev = { EPOLLIN, { .ptr = e } };
	ssize_t n = e->npend ? write(e->fd, e->buf, e->npend) : 0;

	if (n > 0) {
		memmove(e->buf, e->buf + n, e->npend - (size_t)n);
		e->npend -= (size_t)n;
	}
	ev.events = e->npend ? EPOLLOUT : EPOLLIN;
	epoll_ctl(ep, EPOLL_CTL_MOD, e->fd, &ev);
}

static void echo_accept(int ep, int lfd)
{
	int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
	struct epoll_event ev = { EPOLLIN, { .ptr = NULL } };
	struct echo *e;

	if (fd < 0)
		return;
	e = calloc(1, sizeof(*e));
	e->fd = fd;
	ev.data.ptr = e;
	epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

static void echo_run(int lfd)
{
	struct epoll_event lev = { EPOLLIN, { .ptr = NULL } };
	int ep = epoll_create1(0);

	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev);
	for (;;) {
		struct epoll_event evs[256];
		int k = epoll_wait(ep, evs, 256, -1);

		for (int i = 0; i < k; i++) {
			struct echo *e = evs[i].data.ptr;
			ssize_t n;

			if (!e) {
				echo_accept(ep, lfd);
				continue;
			}
			if (!e->npend) {
				n = read(e->fd, e->buf, sizeof(e->buf));
				if (n == 0) {
					close(e->fd);
					free(e);
					continue;
				}
				e->npend = n > 0 ? (size_t)n : 0;
			}
			echo_flush(ep, e);
		}
	}
}

static pid_t echo_start(int *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	pid_t pid;

	if (bind(lfd, (struct sockaddr *)&a, len) || listen(lfd, 4096) ||
	    getsockname(lfd, (struct sockaddr *)&a, &len))
		die("listen", -errno);
	*port = ntohs(a.sin_port);
	pid = fork();
	if (pid == 0) {
		/* Connections the benchmark closed may still be written to. */
		signal(SIGPIPE, SIG_IGN);
		raise_nofile(0);
		echo_run(lfd);
	}
	close(lfd);
	return pid;
}

static int connect_to(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)))
		die("connect", -errno);
	return fd;
}

/* ---- mem ---------------------------------------------------------------- */

static void bench_mem(unsigned n)
{
	/* One handle per socket: zc_sock pointers, not structs. */
	int *fds = calloc(n, sizeof(*fds));
	struct zc_ctx *ctx;
	struct zc_sock *s;
	int port, ret;
	long before, after;
	pid_t peer;

	raise_nofile(n);
	peer = echo_start(&port);
	for (unsigned i = 0; i < n; i++)
		fds[i] = connect_to(port);
	ret = zc_ctx_create(NULL, &ctx);
	if (ret)
		die("context", ret);
	before = rss_bytes();
	for (unsigned i = 0; i < n; i++) {
		ret = zc_sock_attach(ctx, fds[i], NULL, &s);
		if (ret)
			die("attach", ret);
	}
	after = rss_bytes();
	printf("%u idle attached sockets: resident set +%ld KiB, %.0f bytes "
	       "per socket\n",
	       n, (after - before) / 1024, (double)(after - before) / n);
	zc_ctx_destroy(ctx);
	kill(peer, SIGKILL);
	waitpid(peer, NULL, 0);
	free(fds);
}

/* ---- ops ---------------------------------------------------------------- */

struct busy {
	struct zc_sock *sock;
	uint64_t sends_done, bufs;
};

static void ops_sent(struct zc_sock *sock, const struct zc_completion *c,
		     void *arg)
{
	(void)sock;
	(void)c;
	((struct busy *)arg)->sends_done++;
}

static void ops_received(struct zc_sock *sock, struct zc_buf *buf, ssize_t n,
			 const struct sockaddr *from, void *arg)
{
	(void)from;
	if (n > 0) {
		((struct busy *)arg)->bufs++;
		zc_sock_release(sock, buf);
	}
}

static void bench_ops(unsigned n, uint64_t k)
{
	static char msg[1024];
	struct iovec iov = { msg, sizeof(msg) };
	struct zc_ctx *ctx;
	struct busy b = { 0 };
	struct zc_sock *s;
	int port, ret;
	pid_t peer;

	raise_nofile(n);
	peer = echo_start(&port);
	ret = zc_ctx_create(NULL, &ctx);
	if (ret)
		die("context", ret);
	for (unsigned i = 0; i < n; i++) {
		ret = zc_sock_attach(ctx, connect_to(port), NULL, &s);
		if (ret)
			die("attach", ret);
		/* Idle, but watched for data like the busy one. */
		zc_recv_start(s, ops_received, &b);
	}
	ret = zc_sock_attach(ctx, connect_to(port), NULL, &b.sock);
	if (!ret)
		ret = zc_recv_start(b.sock, ops_received, &b);
	if (ret)
		die("attach", ret);
	/* One 1 KiB send in flight, echoed back as (usually) one buffer. */
	for (uint64_t i = 0; i < k; i++) {
		uint64_t bufs = b.bufs;

		ret = zc_send(b.sock, &iov, 1, ops_sent, &b);
		if (ret)
			die("send", ret);
		while (b.sends_done <= i || b.bufs == bufs)
			if (zc_ctx_process(ctx, -1) < 0)
				die("process", -EIO);
	}
	printf("%u idle sockets: %llu sends completed, %llu buffers "
	       "received\n",
	       n, (unsigned long long)b.sends_done, (unsigned long long)b.bufs);
	zc_ctx_destroy(ctx);
	kill(peer, SIGKILL);
	waitpid(peer, NULL, 0);
}

/* ---- tput --------------------------------------------------------------- */

struct tconn {
	struct zc_sock *sock;
	int fd;
	uint64_t inflight; /* bytes sent, not yet echoed back */
	unsigned sends;	   /* zcopy: sends not completed */
};

struct tput {
	struct tconn *c;
	unsigned n;
	size_t size;
	uint64_t echoed;
	char *msg;
	char *rbuf;
};

/* Keep two messages per connection in the echo loop. */
#define TPUT_WINDOW 2

static void tput_sent(struct zc_sock *sock, const struct zc_completion *c,
		      void *arg)
{
	(void)sock;
	(void)c;
	((struct tconn *)arg)->sends--;
}

static struct tput *tput_g;

static void tput_top_up(struct tput *t, struct tconn *c)
{
	struct iovec iov = { t->msg, t->size };

	while (c->inflight < TPUT_WINDOW * t->size && c->sends < TPUT_WINDOW &&
	       !zc_send(c->sock, &iov, 1, tput_sent, c)) {
		c->inflight += t->size;
		c->sends++;
	}
}

static void tput_received(struct zc_sock *sock, struct zc_buf *buf, ssize_t n,
			  const struct sockaddr *from, void *arg)
{
	struct tconn *c = arg;

	(void)from;
	if (n <= 0)
		return;
	c->inflight -= (uint64_t)n;
	tput_g->echoed += (uint64_t)n;
	zc_sock_release(sock, buf);
	tput_top_up(tput_g, c);
}

static double run_zcopy(struct tput *t, int port, double secs)
{
	struct zc_ctx *ctx;
	double t0, el;
	int ret;

	ret = zc_ctx_create(NULL, &ctx);
	if (ret)
		die("context", ret);
	tput_g = t;
	t->echoed = 0;
	for (unsigned i = 0; i < t->n; i++) {
		struct tconn *c = &t->c[i];

		*c = (struct tconn){ 0 };
		ret = zc_sock_attach(ctx, connect_to(port), NULL, &c->sock);
		if (!ret)
			ret = zc_recv_start(c->sock, tput_received, c);
		if (ret)
			die("attach", ret);
	}
	for (unsigned i = 0; i < t->n; i++)
		tput_top_up(t, &t->c[i]);
	t0 = (double)bc_now_ns() / 1e9;
	while ((el = (double)bc_now_ns() / 1e9 - t0) < secs) {
		ret = zc_ctx_process(ctx, 100);
		if (ret < 0)
			die("process", ret);
		/* Completions may have freed a send slot. */
		for (unsigned i = 0; i < t->n && ret; i++)
			tput_top_up(t, &t->c[i]);
	}
	zc_ctx_destroy(ctx);
	return (double)t->echoed / el;
}

static void plain_send(struct tput *t, struct tconn *c)
{
	while (c->inflight < TPUT_WINDOW * t->size) {
		ssize_t n = send(c->fd, t->msg, t->size, MSG_DONTWAIT);

		if (n <= 0)
			break;
		c->inflight += (uint64_t)n;
	}
}

static double run_plain(struct tput *t, int port, double secs)
{
	int ep = epoll_create1(0);
	double t0, el;

	t->echoed = 0;
	for (unsigned i = 0; i < t->n; i++) {
		struct tconn *c = &t->c[i];
		struct epoll_event ev = { EPOLLIN, { .ptr = c } };

		*c = (struct tconn){ .fd = connect_to(port) };
		epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
		plain_send(t, c);
	}
	t0 = (double)bc_now_ns() / 1e9;
	while ((el = (double)bc_now_ns() / 1e9 - t0) < secs) {
		struct epoll_event evs[256];
		int k = epoll_wait(ep, evs, 256, 100);

		for (int i = 0; i < k; i++) {
			struct tconn *c = evs[i].data.ptr;
			ssize_t n = recv(c->fd, t->rbuf, 1 << 20, MSG_DONTWAIT);

			if (n > 0) {
				c->inflight -= (uint64_t)n;
				t->echoed += (uint64_t)n;
				plain_send(t, c);
			}
		}
	}
	for (unsigned i = 0; i < t->n; i++)
		close(t->c[i].fd);
	close(ep);
	return (double)t->echoed / el;
}

static void bench_tput(unsigned n, size_t size, double secs, unsigned rounds)
{
	struct tput t = { .n = n, .size = size };
	double z[64], p[64], r[64];
	int port;
	pid_t peer;

	if (rounds > 64)
		rounds = 64;
	raise_nofile(n);
	t.c = calloc(n, sizeof(*t.c));
	t.msg = calloc(1, size);
	t.rbuf = malloc(1 << 20);
	peer = echo_start(&port);
	for (unsigned i = 0; i < rounds; i++) {
		/* Interleaved, alternating which goes first. */
		if (i % 2) {
			p[i] = run_plain(&t, port, secs);
			z[i] = run_zcopy(&t, port, secs);
		} else {
			z[i] = run_zcopy(&t, port, secs);
			p[i] = run_plain(&t, port, secs);
		}
		r[i] = z[i] / p[i];
		printf("round %u: zcopy %.1f MB/s, plain %.1f MB/s, ratio "
		       "%.3f\n",
		       i, z[i] / 1e6, p[i] / 1e6, r[i]);
	}
	printf("%u connections, %zu-byte messages: zcopy %.1f MB/s, plain "
	       "epoll %.1f MB/s (medians), median ratio %.3f\n",
	       n, size, bc_median(z, rounds) / 1e6, bc_median(p, rounds) / 1e6,
	       bc_median(r, rounds));
	kill(peer, SIGKILL);
	waitpid(peer, NULL, 0);
	free(t.c);
	free(t.msg);
	free(t.rbuf);
}

/* Seconds from the command line; exits with status 2 if s is not. */
static double seconds(const char *s)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || *end || !(v > 0)) {
		fprintf(stderr, "bad SECS: %s\n", s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && !strcmp(argv[1], "mem")) {
		bench_mem((unsigned)bench_arg_long(argv[2], "N"));
		return 0;
	}
	if (argc >= 4 && !strcmp(argv[1], "ops")) {
		bench_ops((unsigned)bench_arg_long(argv[2], "N"),
			  (uint64_t)bench_arg_long(argv[3], "K"));
		return 0;
	}
	if (argc >= 6 && !strcmp(argv[1], "tput")) {
		bench_tput((unsigned)bench_arg_long(argv[2], "N"),
			   (size_t)bench_arg_long(argv[3], "SIZE"),
			   seconds(argv[4]),
			   (unsigned)bench_arg_long(argv[5], "ROUNDS"));
		return 0;
	}
	fprintf(stderr, "usage: bench_scale mem N | ops N K | "
			"tput N SIZE SECS ROUNDS\n");
	return 2;
}
