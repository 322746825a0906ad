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
 *   bench_scale tput N SIZE SECS ROUNDS [zcopy|plain|zcopy-fd]
 *                                N busy connections echoed by a peer
 *                                process: zcopy (one context, receive
 *                                callbacks) against the same program
 *                                written with plain non-blocking
 *                                send()/recv() and epoll, interleaved;
 *                                zcopy-fd: zcopy in the application's
 *                                epoll loop (zc_ctx_fd)
 *                                (each round timed for SECS, then drained
 *                                to the last byte; an echo that stops for
 *                                2 s fails the run: exit status 1); with
 *                                a program's name, only that one (to
 *                                profile it: perf, strace -c, callgrind
 *                                --toggle-collect=tput_loop)
 *
 * Memory is measured as the growth of the resident set (/proc/self/statm)
 * across zc_sock_attach() of N sockets that already exist, so the kernel's
 * own socket memory is not counted.
 */
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
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
	uint32_t events; /* what the epoll set watches for */
	size_t npend;
	uint8_t buf[65536];
};

static void echo_close(struct echo *e)
{
	close(e->fd); /* leaves the epoll set with it */
	free(e);
}

static void echo_watch(int ep, struct echo *e, uint32_t events)
{
	struct epoll_event ev = { events, { .ptr = e } };

	if (e->events == events)
		return;
	e->events = events;
	epoll_ctl(ep, EPOLL_CTL_MOD, e->fd, &ev);
}

/* Read when nothing is pending, write what is; watch for room only while
 * some is left.  A connection that fails or ends is closed (one the
 * benchmark reset would otherwise be reported ready for ever). */
static void echo_serve(int ep, struct echo *e)
{
	ssize_t n;

	if (!e->npend) {
		n = read(e->fd, e->buf, sizeof(e->buf));
		if (n == 0 || (n < 0 && errno != EAGAIN))
			goto gone;
		if (n < 0)
			return;
		e->npend = (size_t)n;
	}
	n = write(e->fd, e->buf, e->npend);
	if (n < 0 && errno != EAGAIN)
		goto gone;
	if (n > 0) {
		memmove(e->buf, e->buf + n, e->npend - (size_t)n);
		e->npend -= (size_t)n;
	}
	echo_watch(ep, e, e->npend ? EPOLLOUT : EPOLLIN);
	return;
gone:
	echo_close(e);
}

static void echo_accept(int ep, int lfd)
{
	int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
	struct echo *e;
	struct epoll_event ev = { EPOLLIN, { .ptr = NULL } };

	if (fd < 0)
		return;
	e = calloc(1, sizeof(*e));
	if (!e)
		die("echo peer", -ENOMEM);
	e->fd = fd;
	e->events = EPOLLIN;
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
			if (evs[i].data.ptr)
				echo_serve(ep, evs[i].data.ptr);
			else
				echo_accept(ep, lfd);
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
		/* Gone with the benchmark, however it ends. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		signal(SIGPIPE, SIG_IGN);
		raise_nofile(0);
		bc_pin(BENCH_CPU_RX);
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

/* No echo at all for this long is a stall: the benchmark fails rather
 * than report a low figure. */
#define TPUT_STALL_NS (2 * 1000000000ull)
/* Keep two messages per connection in the echo loop. */
#define TPUT_WINDOW 2
#define TPUT_MAX_ROUNDS 64

struct tput;

struct tconn {
	struct tput *t;
	struct zc_sock *sock;
	int fd;
	uint64_t inflight; /* bytes sent, not yet echoed back */
	unsigned sends;	   /* zcopy: sends not completed */
};

/* zcopy waiting in zc_ctx_process(), plain, and zcopy in an application's
 * own epoll loop (zc_ctx_fd(), then zc_ctx_process(ctx, 0)). */
enum { TPUT_ZCOPY, TPUT_PLAIN, TPUT_ZCOPY_FD, TPUT_PROGS };

struct tput {
	struct tconn *c;
	unsigned n;
	size_t size;
	bool draining;	   /* the timed part is over: send no more */
	uint64_t echoed;   /* bytes echoed back so far */
	uint64_t inflight; /* the sum over the connections */
	char *msg;
	char *rbuf;
	int port;
	double secs;
	const char *only; /* one program's name, to profile it alone */
	/* Per program and round: bytes/s, and CPU seconds of this process
	 * per GB echoed. */
	double rate[TPUT_PROGS][TPUT_MAX_ROUNDS];
	double cpu[TPUT_PROGS][TPUT_MAX_ROUNDS];
};

static const char *const tput_name[TPUT_PROGS] = { "zcopy", "plain",
						   "zcopy-fd" };

/* One turn of a program's loop: wait (up to 100 ms) and handle what came.
 * 0 or a negative errno. */
typedef int (*tput_step)(struct tput *t, void *loop);

static double process_cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void tput_stall(const struct tput *t, unsigned prog, unsigned round)
{
	unsigned busy = 0;

	for (unsigned i = 0; i < t->n; i++)
		busy += t->c[i].inflight != 0;
	fprintf(stderr,
		"bench_scale: %s stalled in round %u (%s): nothing echoed "
		"for %.0f s, %u connections with %llu bytes in flight\n",
		tput_name[prog], round, t->draining ? "draining" : "timed",
		(double)TPUT_STALL_NS / 1e9, busy,
		(unsigned long long)t->inflight);
	exit(1);
}

/* Run for secs, then stop sending and wait for every byte in flight to
 * come back, so that no round leaves data behind for the next one.  Each
 * wait is bounded: no echo for TPUT_STALL_NS is an error.  Not inlined:
 * callgrind --toggle-collect=tput_loop counts the loop alone. */
__attribute__((noinline)) static void tput_loop(struct tput *t, unsigned prog,
						unsigned round, tput_step step,
						void *loop)
{
	uint64_t t0 = bc_now_ns(), now, last = t0, seen = 0;
	double cpu0 = process_cpu(), el;
	int ret;

	while (!t->draining || t->inflight) {
		ret = step(t, loop);
		if (ret < 0)
			die(tput_name[prog], ret);
		now = bc_now_ns();
		if (t->echoed != seen) {
			seen = t->echoed;
			last = now;
		} else if (now - last > TPUT_STALL_NS) {
			tput_stall(t, prog, round);
		}
		el = (double)(now - t0) / 1e9;
		if (!t->draining && el >= t->secs) {
			t->draining = true;
			t->rate[prog][round] = (double)t->echoed / el;
			t->cpu[prog][round] = (process_cpu() - cpu0) /
					      ((double)t->echoed / 1e9);
		}
	}
}

static void tput_reset(struct tput *t)
{
	t->echoed = 0;
	t->inflight = 0;
	t->draining = false;
	for (unsigned i = 0; i < t->n; i++)
		t->c[i] = (struct tconn){ .t = t, .fd = -1 };
}

/* Echoed bytes came back on c. */
static void tput_echoed(struct tconn *c, size_t n)
{
	c->inflight -= n;
	c->t->inflight -= n;
	c->t->echoed += n;
}

/* zcopy: the default context, receive callbacks, sends topped up from the
 * callbacks (an echo or a completion may each open the window). */
static void tput_sent(struct zc_sock *sock, const struct zc_completion *c,
		      void *arg);

static void tput_top_up(struct tconn *c)
{
	struct tput *t = c->t;
	struct iovec iov = { t->msg, t->size };

	while (!t->draining && c->inflight < TPUT_WINDOW * t->size &&
	       c->sends < TPUT_WINDOW &&
	       !zc_send(c->sock, &iov, 1, tput_sent, c)) {
		c->inflight += t->size;
		t->inflight += t->size;
		c->sends++;
	}
}

static void tput_sent(struct zc_sock *sock, const struct zc_completion *c,
		      void *arg)
{
	struct tconn *tc = arg;

	(void)sock;
	(void)c;
	tc->sends--;
	tput_top_up(tc);
}

static void tput_received(struct zc_sock *sock, struct zc_buf *buf, ssize_t n,
			  const struct sockaddr *from, void *arg)
{
	struct tconn *c = arg;

	(void)from;
	if (n <= 0)
		return;
	tput_echoed(c, (size_t)n);
	zc_sock_release(sock, buf);
	tput_top_up(c);
}

struct zloop {
	struct zc_ctx *ctx;
	int ep; /* the application's epoll set, holding zc_ctx_fd() */
};

static int zcopy_step(struct tput *t, void *loop)
{
	struct zloop *z = loop;
	struct epoll_event ev;
	int ret;

	(void)t;
	if (z->ep < 0) {
		ret = zc_ctx_process(z->ctx, 100);
		return ret < 0 ? ret : 0;
	}
	ret = epoll_wait(z->ep, &ev, 1, 100);
	if (ret < 0)
		return errno == EINTR ? 0 : -errno;
	ret = zc_ctx_process(z->ctx, 0);
	return ret < 0 ? ret : 0;
}

static void run_zcopy(struct tput *t, unsigned prog, unsigned round)
{
	struct zloop z = { .ep = -1 };
	int ret;

	ret = zc_ctx_create(NULL, &z.ctx);
	if (ret)
		die("context", ret);
	tput_reset(t);
	for (unsigned i = 0; i < t->n; i++) {
		struct tconn *c = &t->c[i];

		ret = zc_sock_attach(z.ctx, connect_to(t->port), NULL,
				     &c->sock);
		if (!ret)
			ret = zc_recv_start(c->sock, tput_received, c);
		if (ret)
			die("attach", ret);
	}
	if (prog == TPUT_ZCOPY_FD) {
		struct epoll_event ev = { EPOLLIN, { .ptr = NULL } };
		int fd = zc_ctx_fd(z.ctx);

		z.ep = epoll_create1(0);
		if (fd < 0 || z.ep < 0 ||
		    epoll_ctl(z.ep, EPOLL_CTL_ADD, fd, &ev))
			die("context fd", fd < 0 ? fd : -errno);
	}
	for (unsigned i = 0; i < t->n; i++)
		tput_top_up(&t->c[i]);
	tput_loop(t, prog, round, zcopy_step, &z);
	zc_ctx_destroy(z.ctx);
	if (z.ep >= 0)
		close(z.ep);
}

/* plain: non-blocking send()/recv(), a level-triggered epoll set watching
 * for input only (a send that finds the socket full is retried when an
 * echo comes back, which it must since some of the window is in flight). */
static void plain_send(struct tconn *c)
{
	struct tput *t = c->t;

	while (!t->draining && c->inflight < TPUT_WINDOW * t->size) {
		ssize_t n = send(c->fd, t->msg, t->size, MSG_DONTWAIT);

		if (n <= 0)
			break;
		c->inflight += (uint64_t)n;
		t->inflight += (uint64_t)n;
	}
}

static int plain_step(struct tput *t, void *loop)
{
	struct epoll_event evs[256];
	int k = epoll_wait(*(int *)loop, evs, 256, 100);

	if (k < 0)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < k; i++) {
		struct tconn *c = evs[i].data.ptr;
		ssize_t n = recv(c->fd, t->rbuf, 1 << 20, MSG_DONTWAIT);

		if (n > 0) {
			tput_echoed(c, (size_t)n);
			plain_send(c);
		} else if (n == 0 || errno != EAGAIN) {
			return n ? -errno : -ECONNRESET;
		}
	}
	return 0;
}

static void run_plain(struct tput *t, unsigned round)
{
	int ep = epoll_create1(0);

	if (ep < 0)
		die("epoll", -errno);
	tput_reset(t);
	for (unsigned i = 0; i < t->n; i++) {
		struct tconn *c = &t->c[i];
		struct epoll_event ev = { EPOLLIN, { .ptr = c } };

		c->fd = connect_to(t->port);
		if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev))
			die("epoll_ctl", -errno);
		plain_send(c);
	}
	tput_loop(t, TPUT_PLAIN, round, plain_step, &ep);
	for (unsigned i = 0; i < t->n; i++)
		close(t->c[i].fd);
	close(ep);
}

static int tput_run(unsigned prog, unsigned round, void *arg)
{
	struct tput *t = arg;

	if (t->only && strcmp(t->only, tput_name[prog]) != 0)
		return 0;
	if (prog == TPUT_PLAIN)
		run_plain(t, round);
	else
		run_zcopy(t, prog, round);
	/* Messages echoed, drain included: what tput_loop() handled, to
	 * divide its instruction count by (callgrind --toggle-collect). */
	printf("round %u %s: %.1f MB/s, %.2f CPU s/GB (%llu messages in "
	       "all)\n",
	       round, tput_name[prog], t->rate[prog][round] / 1e6,
	       t->cpu[prog][round], (unsigned long long)(t->echoed / t->size));
	return 0;
}

/* Medians over the rounds, and of the per-round ratios to plain, which
 * cancel the noise the runs of a round share. */
static void tput_summary(struct tput *t, unsigned rounds)
{
	double *pr = t->rate[TPUT_PLAIN], *pc = t->cpu[TPUT_PLAIN];
	double rate[TPUT_PROGS], cpu[TPUT_PROGS];

	/* Before the medians, which sort their arrays. */
	for (unsigned i = 0; i < TPUT_PROGS; i++) {
		rate[i] = bc_median_ratio(t->rate[i], pr, rounds);
		cpu[i] = bc_median_ratio(t->cpu[i], pc, rounds);
	}
	printf("%u connections, %zu-byte messages, %u rounds of %.1f s, "
	       "medians:\n",
	       t->n, t->size, rounds, t->secs);
	for (unsigned i = 0; i < TPUT_PROGS; i++)
		printf("  %-8s %8.1f MB/s  ratio %.3f   CPU %.2f s/GB  "
		       "ratio %.3f\n",
		       tput_name[i], bc_median(t->rate[i], rounds) / 1e6,
		       rate[i], bc_median(t->cpu[i], rounds), cpu[i]);
}

static void bench_tput(unsigned n, size_t size, double secs, unsigned rounds,
		       const char *only)
{
	struct tput *t = calloc(1, sizeof(*t));
	pid_t peer;

	if (!t)
		die("tput", -ENOMEM);
	if (rounds > TPUT_MAX_ROUNDS)
		rounds = TPUT_MAX_ROUNDS;
	*t = (struct tput){ .n = n, .size = size, .secs = secs, .only = only };
	raise_nofile(n);
	t->c = calloc(n, sizeof(*t->c));
	t->msg = calloc(1, size);
	t->rbuf = malloc(1 << 20);
	if (!t->c || !t->msg || !t->rbuf)
		die("tput", -ENOMEM);
	peer = echo_start(&t->port);
	bc_pin(BENCH_CPU_TX);
	bc_rounds(TPUT_PROGS, rounds, tput_run, t);
	if (!only)
		tput_summary(t, rounds);
	kill(peer, SIGKILL);
	waitpid(peer, NULL, 0);
	free(t->c);
	free(t->msg);
	free(t->rbuf);
	free(t);
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

/* The program named on the command line; exits with status 2 if none. */
static const char *tput_only(const char *s)
{
	for (unsigned i = 0; i < TPUT_PROGS; i++)
		if (!strcmp(s, tput_name[i]))
			return s;
	fprintf(stderr, "not zcopy, plain or zcopy-fd: %s\n", s);
	exit(2);
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
		/* A round at a time, also when the run is cut short. */
		setvbuf(stdout, NULL, _IOLBF, 0);
		bench_tput((unsigned)bench_arg_long(argv[2], "N"),
			   (size_t)bench_arg_long(argv[3], "SIZE"),
			   seconds(argv[4]),
			   (unsigned)bench_arg_long(argv[5], "ROUNDS"),
			   argc > 6 ? tput_only(argv[6]) : NULL);
		return 0;
	}
	fprintf(stderr, "usage: bench_scale mem N | ops N K | "
			"tput N SIZE SECS ROUNDS [zcopy|plain|zcopy-fd]\n");
	return 2;
}
