/* SPDX-License-Identifier: MIT */
/*
 * zcopy relay, engine "zc": one zcopy context per thread.  Each side of a
 * pair receives with zc_recv_start() into its socket's buffers; a buffer
 * is sent on the other side with zc_send_buf() and released in that
 * send's completion, so the bytes are never copied in user space and a
 * side whose peer does not read holds its buffers and stops receiving
 * (back-pressure for free: zc_recv pauses while every buffer is held).
 *
 * A buffer of one side in flight on the other keeps the first side busy
 * (zc_sock_close() refuses, -EBUSY), so a pair ends in two steps: receiving
 * stops (and on a reset both connections are aborted, connect(AF_UNSPEC),
 * which fails what is queued and sends RST), then, once every buffer is
 * back, both sockets close.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <zcopy/zcopy.h>

#include "relay.h"

#define RX_BUFS 32  /* receive buffers per socket, 64 KiB each */
#define END_MS 3000 /* bound on waiting for a dying pair's buffers */

struct pair;

struct side {
	struct pair *p;
	struct zc_sock *zs;
	int fd;
	bool eof;	/* end of stream received */
	bool shut;	/* end of stream passed on (shutdown done) */
	uint64_t bytes; /* received on this side and sent on */
};

/* A buffer of one side in flight on the other. */
struct fwd {
	struct side *src;
	struct zc_buf *buf;
	struct fwd *next;
};

struct pair {
	struct side s[2]; /* 0: client, 1: target */
	unsigned id;
	int64_t start_ms;
	bool dead, reset, connecting, stopped;
	int err, err_side; /* what reset it, on which side */
	int64_t end_by;	   /* give up waiting for buffers then */
	struct fwd fwds[2 * RX_BUFS];
	struct fwd *free_fwd;
	unsigned nfree;
	struct pair *next, *prev; /* every pair of the worker */
	struct pair *next_dead;	  /* in worker.dead */
	struct worker *w;
};

struct worker {
	const struct relay_opts *o;
	struct zc_ctx *ctx;
	int ep, lfd, ctxfd;
	struct pair *all;
	struct pair *dead; /* killed, not yet freed */
	unsigned next_id;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- ending a pair ------------------------------------------------------- */

/* Ended after zc_ctx_process() returns: sockets cannot close inside the
 * callbacks that find them finished. */
static void pair_kill(struct pair *p, bool reset)
{
	if (p->dead)
		return;
	if (reset && !p->err)
		p->err = -ECONNABORTED; /* unless a caller says better */
	p->dead = true;
	p->reset = reset;
	p->next_dead = p->w->dead;
	p->w->dead = p;
}

static void side_close(struct side *s, bool reset)
{
	if (s->zs) {
		if (reset) {
			/* RST to its peer: close right away, give up on what
			 * is queued. */
			struct linger l = { 1, 0 };

			setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
		}
		zc_sock_close(s->zs);
	} else if (s->fd >= 0) {
		if (reset)
			relay_reset_close(s->fd);
		else
			close(s->fd);
	}
	s->zs = NULL;
	s->fd = -1;
}

static void pair_unlink(struct pair *p)
{
	if (p->prev)
		p->prev->next = p->next;
	else
		p->w->all = p->next;
	if (p->next)
		p->next->prev = p->prev;
}

/* A reset for err on side s. */
static void pair_fail(struct pair *p, const struct side *s, int err)
{
	if (!p->dead && !p->err) {
		p->err = err;
		p->err_side = s == &p->s[1];
	}
	pair_kill(p, true);
}

static void pair_free(struct pair *p)
{
	struct relay_count c = { .up = p->s[0].bytes,
				 .down = p->s[1].bytes,
				 .err = p->reset ? p->err : 0,
				 .side = p->err_side };

	pair_unlink(p);
	side_close(&p->s[0], p->reset);
	side_close(&p->s[1], p->reset);
	relay_pair_done(p->w->o, p->id, &c, now_ms() - p->start_ms,
			p->connecting ? "connect failed"
			: p->reset    ? "reset"
				      : "closed");
	free(p);
}

/* First step of the end: stop receiving; on a reset abort both
 * connections (RST), which fails their queued sends. */
static void pair_stop(struct pair *p)
{
	static const struct sockaddr unspec = { .sa_family = AF_UNSPEC };

	p->stopped = true;
	p->end_by = now_ms() + END_MS;
	for (int i = 0; i < 2; i++) {
		struct side *s = &p->s[i];

		if (s->zs)
			zc_recv_stop(s->zs);
		/* On failure the connection is gone already. */
		if (p->reset && s->zs &&
		    connect(s->fd, &unspec, sizeof(unspec)))
			continue;
	}
}

static void reap_dead(struct worker *w)
{
	struct pair *p = w->dead, *keep = NULL;

	w->dead = NULL;
	while (p) {
		struct pair *next = p->next_dead;

		if (!p->stopped)
			pair_stop(p);
		/* Every buffer back: both sockets can close. */
		if (p->nfree == 2 * RX_BUFS || now_ms() > p->end_by) {
			pair_free(p);
		} else {
			p->next_dead = keep;
			keep = p;
		}
		p = next;
	}
	/* Still waiting for buffers: back on the list (which closing may
	 * have added to meanwhile). */
	while (keep) {
		p = keep;
		keep = p->next_dead;
		p->next_dead = w->dead;
		w->dead = p;
	}
}

/* ---- moving bytes -------------------------------------------------------- */

static void shut_done(struct zc_sock *sock, int status, void *arg)
{
	struct side *dst = arg;
	struct pair *p = dst->p;

	(void)sock;
	dst->shut = true;
	if (status)
		pair_fail(p, dst, status);
	else if (p->s[0].shut && p->s[1].shut)
		pair_kill(p, false); /* both streams ended cleanly */
}

static void sent(struct zc_sock *sock, const struct zc_completion *c, void *arg)
{
	struct fwd *f = arg;
	struct pair *p = f->src->p;

	(void)sock;
	if (f->src->zs)
		zc_sock_release(f->src->zs, f->buf);
	f->next = p->free_fwd;
	p->free_fwd = f;
	p->nfree++;
	if (c->result == ZC_RESULT_ERROR || c->result == ZC_RESULT_ABANDONED)
		pair_fail(p, &p->s[f->src == &p->s[0]],
			  c->error ? c->error : -ECANCELED);
}

static void forward(struct side *src, struct side *dst, struct zc_buf *buf,
		    ssize_t n)
{
	struct pair *p = src->p;
	struct fwd *f = p->free_fwd;
	int ret = -ENOBUFS;

	if (f && dst->zs && !p->dead) {
		p->free_fwd = f->next;
		p->nfree--;
		*f = (struct fwd){ .src = src, .buf = buf };
		ret = zc_send_buf(dst->zs, buf, sent, f);
		if (ret) {
			f->next = p->free_fwd;
			p->free_fwd = f;
			p->nfree++;
		}
	}
	if (ret) {
		zc_sock_release(src->zs, buf);
		pair_fail(p, dst, ret);
		return;
	}
	src->bytes += (uint64_t)n;
}

static void received(struct zc_sock *sock, struct zc_buf *buf, ssize_t n,
		     const struct sockaddr *from, void *arg)
{
	struct side *src = arg;
	struct pair *p = src->p;
	struct side *dst = &p->s[src == &p->s[0]];

	(void)sock;
	(void)from;
	if (n > 0) {
		forward(src, dst, buf, n);
		return;
	}
	if (n < 0) { /* reset or error: pass it on */
		pair_fail(p, src, (int)n);
		return;
	}
	src->eof = true; /* half-close: after what is in flight */
	if (dst->zs && zc_sock_shutdown(dst->zs, shut_done, dst))
		pair_fail(p, dst, -EPIPE);
}

/* ---- new pairs ------------------------------------------------------------ */

static int side_attach(struct worker *w, struct side *s)
{
	struct zc_sock_opts o = { .rx_buf_count = RX_BUFS };
	int ret = zc_sock_attach(w->ctx, s->fd, &o, &s->zs);

	if (!ret)
		ret = zc_recv_start(s->zs, received, s);
	return ret;
}

/* The target answered: both sides join the context. */
static void pair_start(struct worker *w, struct pair *p)
{
	epoll_ctl(w->ep, EPOLL_CTL_DEL, p->s[1].fd, NULL);
	if (relay_connected(p->s[1].fd)) {
		pair_kill(p, true);
		return;
	}
	p->connecting = false;
	if (side_attach(w, &p->s[0]) || side_attach(w, &p->s[1]))
		pair_kill(p, true);
}

static struct pair *pair_new(struct worker *w, int cfd)
{
	struct pair *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->w = w;
	p->id = w->next_id++;
	p->start_ms = now_ms();
	p->connecting = true;
	for (int i = 0; i < 2; i++)
		p->s[i] = (struct side){ .p = p, .fd = -1 };
	p->s[0].fd = cfd;
	for (unsigned i = 0; i < 2 * RX_BUFS; i++) {
		p->fwds[i].next = p->free_fwd;
		p->free_fwd = &p->fwds[i];
	}
	p->nfree = 2 * RX_BUFS;
	p->next = w->all;
	if (w->all)
		w->all->prev = p;
	w->all = p;
	return p;
}

static void accept_all(struct worker *w)
{
	for (;;) {
		int cfd = accept4(w->lfd, NULL, NULL,
				  SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct pair *p;
		int tfd;

		if (cfd < 0)
			return;
		p = pair_new(w, cfd);
		tfd = p ? relay_connect(w->o) : -ENOMEM;
		if (tfd < 0) {
			if (p) {
				pair_kill(p, true);
				continue;
			}
			relay_reset_close(cfd);
			continue;
		}
		p->s[1].fd = tfd;
		if (epoll_ctl(w->ep, EPOLL_CTL_ADD, tfd,
			      &(struct epoll_event){ .events = EPOLLOUT,
						     .data.ptr = p }))
			pair_kill(p, true);
	}
}

/* ---- the worker ------------------------------------------------------------ */

static int worker_init(struct worker *w, const struct relay_opts *o, int lfd)
{
	int ret;

	*w = (struct worker){ .o = o, .lfd = lfd, .ep = -1 };
	ret = zc_ctx_create(NULL, &w->ctx);
	if (ret)
		return ret;
	w->ctxfd = zc_ctx_fd(w->ctx);
	w->ep = epoll_create1(EPOLL_CLOEXEC);
	if (w->ctxfd < 0 || w->ep < 0)
		return w->ctxfd < 0 ? w->ctxfd : -errno;
	/* The listener and the context are told apart by data.ptr. */
	if (epoll_ctl(w->ep, EPOLL_CTL_ADD, lfd,
		      &(struct epoll_event){ .events = EPOLLIN,
					     .data.ptr = &w->lfd }) ||
	    epoll_ctl(w->ep, EPOLL_CTL_ADD, w->ctxfd,
		      &(struct epoll_event){ .events = EPOLLIN,
					     .data.ptr = &w->ctxfd }))
		return -errno;
	return 0;
}

/* Stop: every pair is reset and ended as above, then the context goes. */
static void worker_end(struct worker *w)
{
	int64_t end_by = now_ms() + END_MS + 1000;

	for (struct pair *p = w->all; p; p = p->next)
		pair_kill(p, true);
	while (w->all && now_ms() < end_by) {
		zc_ctx_process(w->ctx, 50);
		reap_dead(w);
	}
	/* A pair still here holds buffers of sockets the context would
	 * free first: leave it to the process's exit. */
	if (!w->all)
		zc_ctx_destroy(w->ctx);
	if (w->ep >= 0)
		close(w->ep);
}

int relay_run_zc(const struct relay_opts *o, int lfd, const volatile int *stop)
{
	struct epoll_event evs[64];
	struct worker w;
	int ret = worker_init(&w, o, lfd);

	while (!ret && !*stop) {
		int n = epoll_wait(w.ep, evs, 64, 200);

		for (int i = 0; i < n; i++) {
			void *ptr = evs[i].data.ptr;

			if (ptr == &w.lfd)
				accept_all(&w);
			else if (ptr != &w.ctxfd)
				pair_start(&w, ptr);
		}
		/* Always: completions may be queued without an event. */
		zc_ctx_process(w.ctx, 0);
		reap_dead(&w);
	}
	worker_end(&w);
	return ret;
}
