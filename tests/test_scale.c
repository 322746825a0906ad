/* SPDX-License-Identifier: MIT */
/*
 * Many connections in one context: N loopback TCP connections attached to
 * one context (or spread over threads, one context each), a mix of idle,
 * light and busy streams.  A peer process echoes every stream back and
 * half-closes after it.  Every byte that comes back is checked against the
 * stream's pattern, every send completes exactly once, and every stream
 * ends with the peer's half-close.  (The peer lives in its own process so
 * that each side stays within RLIMIT_NOFILE.)
 *
 *   test_scale [connections] [threads]   (0 or nothing: 10000, or 1000
 *                                          under ASan; 1 thread)
 */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_util.h"
#include "netutil.h"

#define MSG 16384
#define BUSY_SENDS 16 /* busy: 256 KiB in 16 KiB sends */
#define DEADLINE_MS 120000

struct conn;

struct send_rec {
	struct conn *c;
	uint8_t *buf;
	bool done;
};

struct conn {
	struct worker *w;
	unsigned id;
	struct zc_sock *s;
	unsigned nsends, next_send;
	size_t msg;
	uint64_t sent, received;
	unsigned completed;
	bool eof, shut;
	struct send_rec *recs;
};

struct worker {
	struct conn *conns;
	unsigned n;
	struct zc_ctx *ctx;
	unsigned eofs, bad, dups, errors;
	int port;
	int ret;
};

static uint8_t conn_byte(const struct conn *c, uint64_t off)
{
	return nu_pattern(off + (uint64_t)c->id * 7919);
}

static void send_next(struct conn *c);

static void shut_done(struct zc_sock *sock, int status, void *arg)
{
	struct conn *c = arg;

	(void)sock;
	if (status)
		c->w->errors++;
}

static void sent(struct zc_sock *sock, const struct zc_completion *c, void *arg)
{
	struct send_rec *r = arg;

	(void)sock;
	if (r->done)
		r->c->w->dups++;
	r->done = true;
	if (c->result == ZC_RESULT_ERROR || c->result == ZC_RESULT_ABANDONED)
		r->c->w->errors++;
	memset(r->buf, NU_GARBAGE, r->c->msg);
	free(r->buf);
	r->c->completed++;
	send_next(r->c);
}

/* The next send of c, from its callback or the start; half-close after
 * the last. */
static void send_next(struct conn *c)
{
	struct send_rec *r;
	struct iovec iov;

	if (c->next_send == c->nsends) {
		if (!c->shut && c->completed == c->nsends) {
			c->shut = true;
			if (zc_sock_shutdown(c->s, shut_done, c))
				c->w->errors++;
		}
		return;
	}
	r = &c->recs[c->next_send++];
	r->c = c;
	r->buf = malloc(c->msg);
	for (size_t i = 0; i < c->msg; i++)
		r->buf[i] = conn_byte(c, c->sent + i);
	iov = (struct iovec){ r->buf, c->msg };
	if (zc_send(c->s, &iov, 1, sent, r)) {
		c->w->errors++;
		return;
	}
	c->sent += c->msg;
}

static void received(struct zc_sock *sock, struct zc_buf *buf, ssize_t n,
		     const struct sockaddr *from, void *arg)
{
	struct conn *c = arg;
	uint8_t tmp[4096];

	(void)from;
	if (n <= 0) {
		c->eof = true;
		c->w->eofs++;
		if (n < 0)
			c->w->errors++;
		return;
	}
	for (size_t off = 0; off < (size_t)n; off += sizeof(tmp)) {
		size_t len = (size_t)n - off < sizeof(tmp) ? (size_t)n - off
							   : sizeof(tmp);

		zc_buf_copy_out(buf, off, tmp, len);
		for (size_t i = 0; i < len; i++)
			if (tmp[i] != conn_byte(c, c->received + off + i))
				c->w->bad++;
	}
	c->received += (uint64_t)n;
	zc_sock_release(sock, buf);
}

/* 1 in 10 busy, 4 in 10 one small message, the rest idle. */
static void conn_plan(struct conn *c)
{
	switch (c->id % 10) {
	case 0:
		c->nsends = BUSY_SENDS;
		c->msg = MSG;
		break;
	case 1 ... 4:
		c->nsends = 1;
		c->msg = 100;
		break;
	default:
		c->nsends = 0;
		c->msg = 0;
		break;
	}
	c->recs = calloc(c->nsends ? c->nsends : 1, sizeof(*c->recs));
}

static int conn_open(struct worker *w, struct conn *c)
{
	int fd = nu_tcp_connect("127.0.0.1", w->port), ret;

	if (fd < 0)
		return fd;
	nu_set_nonblock(fd);
	ret = zc_sock_attach(w->ctx, fd, NULL, &c->s);
	if (!ret)
		ret = zc_recv_start(c->s, received, c);
	return ret;
}

static bool worker_done(const struct worker *w)
{
	if (w->eofs < w->n)
		return false;
	for (unsigned i = 0; i < w->n; i++)
		if (w->conns[i].completed < w->conns[i].nsends)
			return false;
	return true;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	int64_t deadline;
	int ret;

	w->ret = -1;
	if (zc_ctx_create(NULL, &w->ctx))
		return NULL;
	for (unsigned i = 0; i < w->n; i++) {
		struct conn *c = &w->conns[i];

		ret = conn_open(w, c);
		if (ret) {
			fprintf(stderr, "conn %u: %s\n", c->id,
				zc_strerror(ret));
			return NULL;
		}
	}
	for (unsigned i = 0; i < w->n; i++)
		send_next(&w->conns[i]);
	deadline = nu_now_ms() + DEADLINE_MS;
	while (!worker_done(w) && nu_now_ms() < deadline)
		if (zc_ctx_process(w->ctx, 100) < 0)
			break;
	w->ret = worker_done(w) ? 0 : -ETIMEDOUT;
	zc_ctx_destroy(w->ctx);
	return NULL;
}

/* ---- the peer: echo every stream, half-close after it ------------------ */

struct echo {
	int fd;
	uint8_t *pend; /* bytes read, not yet written back */
	size_t npend;
	bool eof;
};

#define ECHO_BUF 65536

/* Move what can be moved; 1 when the stream is done. */
static int echo_step(struct echo *e)
{
	for (;;) {
		ssize_t n;

		while (e->npend) {
			n = write(e->fd, e->pend, e->npend);
			if (n < 0)
				return errno == EAGAIN ? 0 : 1;
			memmove(e->pend, e->pend + n, e->npend - (size_t)n);
			e->npend -= (size_t)n;
		}
		if (e->eof) {
			shutdown(e->fd, SHUT_WR);
			return 1;
		}
		if (!e->pend)
			e->pend = malloc(ECHO_BUF);
		n = read(e->fd, e->pend, ECHO_BUF);
		if (n < 0)
			return errno == EAGAIN ? 0 : 1;
		if (n == 0)
			e->eof = true;
		e->npend = (size_t)n;
	}
}

static void echo_peer(int lfd, unsigned n)
{
	struct epoll_event lev = { EPOLLIN, { .ptr = NULL } };
	int ep = epoll_create1(0);
	unsigned done = 0;

	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev);
	while (done < n) {
		struct epoll_event evs[256];
		int k = epoll_wait(ep, evs, 256, 100);

		for (int fd;
		     (fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0;) {
			struct echo *e = calloc(1, sizeof(*e));
			struct epoll_event ev = { EPOLLIN | EPOLLOUT | EPOLLET,
						  { .ptr = e } };

			e->fd = fd;
			epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
		}
		for (int i = 0; i < k; i++) {
			struct echo *e = evs[i].data.ptr;

			if (e && e->fd >= 0 && echo_step(e)) {
				close(e->fd);
				free(e->pend);
				e->fd = -1;
				done++;
			}
		}
	}
	_exit(0);
}

static pid_t echo_start(unsigned n, int *port)
{
	int lfd = nu_tcp_listen(AF_INET, "127.0.0.1", port);
	pid_t pid;

	if (lfd < 0)
		return lfd;
	listen(lfd, 4096);
	nu_set_nonblock(lfd);
	pid = fork();
	if (pid == 0) {
		alarm(DEADLINE_MS / 1000 + 30);
		echo_peer(lfd, n);
	}
	close(lfd);
	return pid;
}

static int raise_nofile(unsigned conns)
{
	struct rlimit rl = { conns + 256, conns + 256 };

	return setrlimit(RLIMIT_NOFILE, &rl) ? -errno : 0;
}

int main(int argc, char **argv)
{
#if NU_ASAN
	unsigned n = 1000;
#else
	unsigned n = 10000;
#endif
	unsigned nthreads = 1, failed = 0;
	int port, st;
	struct worker *ws;
	pid_t peer;
	pthread_t *th;
	int64_t t0;

	if (argc > 1) {
		long v = bench_arg_long(argv[1], "connections");

		if (v > 0) /* 0: the default */
			n = (unsigned)v;
	}
	if (argc > 2)
		nthreads = (unsigned)bench_arg_long(argv[2], "threads");
	if (raise_nofile(n)) {
		printf("skip: cannot raise RLIMIT_NOFILE to %u (%s)\n", n + 256,
		       strerror(errno));
		return NU_SKIP;
	}
	peer = echo_start(n, &port);
	if (peer < 0)
		return 1;
	ws = calloc(nthreads, sizeof(*ws));
	th = calloc(nthreads, sizeof(*th));
	for (unsigned t = 0; t < nthreads; t++) {
		ws[t].n = n / nthreads + (t < n % nthreads);
		/* More threads than connections leave some with none. */
		ws[t].conns =
			ws[t].n ? calloc(ws[t].n, sizeof(struct conn)) : NULL;
		for (unsigned i = 0; i < ws[t].n; i++) {
			ws[t].conns[i].w = &ws[t];
			ws[t].conns[i].id = i * nthreads + t;
			conn_plan(&ws[t].conns[i]);
		}
	}
	for (unsigned t = 0; t < nthreads; t++)
		ws[t].port = port;
	t0 = nu_now_ms();
	for (unsigned t = 0; t < nthreads; t++)
		pthread_create(&th[t], NULL, worker_main, &ws[t]);
	for (unsigned t = 0; t < nthreads; t++) {
		struct worker *w = &ws[t];

		pthread_join(th[t], NULL);
		printf("thread %u: %u connections, %u ends of stream, %u bad "
		       "bytes, %u duplicate completions, %u errors: %s\n",
		       t, w->n, w->eofs, w->bad, w->dups, w->errors,
		       w->ret ? "FAIL" : "ok");
		failed += w->ret || w->bad || w->dups || w->errors;
	}
	printf("%u connections over %u thread(s): %lld ms\n", n, nthreads,
	       (long long)(nu_now_ms() - t0));
	kill(peer, SIGKILL);
	waitpid(peer, &st, 0);
	for (unsigned t = 0; t < nthreads; t++) {
		for (unsigned i = 0; i < ws[t].n; i++)
			free(ws[t].conns[i].recs);
		free(ws[t].conns);
	}
	free(ws);
	free(th);
	return failed ? 1 : 0;
}
