/* SPDX-License-Identifier: MIT */
/*
 * zcopy relay, engine "splice": per direction a pipe, splice(2) from the
 * receiving socket into it and from it into the sending socket; the pages
 * move by reference, nothing is copied in user space.  An epoll set per
 * thread, level triggered; a socket is watched for reading while its
 * direction's pipe is empty and for writing while the pipe holds bytes
 * its peer could not take.
 *
 * Kernel rules this file relies on:
 *  - splice() between a socket and a pipe with SPLICE_F_NONBLOCK and
 *    non-blocking sockets never blocks (-EAGAIN);
 *  - splice() from a socket returns 0 at the end of its stream;
 *  - splice() into a broken connection raises SIGPIPE: the relay ignores
 *    it (relay.c) and sees EPIPE.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "relay.h"

#define PIPE_SIZE (1 << 20)

struct sp_pair;

/* One direction: bytes from src through pipe to dst. */
struct dir {
	int pipe[2];
	size_t in_pipe;
	bool eof;  /* src ended its stream */
	bool done; /* ...and it was passed on: shutdown(dst, SHUT_WR) */
	uint64_t bytes;
};

struct sp_pair {
	int fd[2];	 /* 0: client, 1: target */
	struct dir d[2]; /* d[i]: from fd[i] to fd[!i] */
	uint32_t ev[2];	 /* events registered per fd */
	bool in_ep[2];	 /* fd is in the epoll set */
	unsigned id;
	int64_t start_ms;
	bool connecting;
	bool dead, reset;	     /* ended: freed after the event batch */
	int err, err_side;	     /* what reset it */
	struct sp_pair *next, *prev; /* every pair of the worker */
	/* what data.ptr points at, to tell the two fds apart */
	struct sp_tag {
		struct sp_pair *p;
		int i;
	} tag[2];
};

struct sp_worker {
	const struct relay_opts *o;
	int ep, lfd;
	unsigned next_id;
	unsigned ndead;
	struct sp_pair *all;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Events of this batch may still name p: it is freed after them. */
static void pair_end(struct sp_worker *w, struct sp_pair *p, bool reset)
{
	if (p->dead)
		return;
	p->dead = true;
	p->reset = reset;
	w->ndead++;
}

static void pair_free(struct sp_worker *w, struct sp_pair *p)
{
	struct relay_count c = { .up = p->d[0].bytes,
				 .down = p->d[1].bytes,
				 .err = p->err,
				 .side = p->err_side };
	bool reset = p->reset;

	if (p->prev)
		p->prev->next = p->next;
	else
		w->all = p->next;
	if (p->next)
		p->next->prev = p->prev;

	for (int i = 0; i < 2; i++) {
		if (p->fd[i] >= 0) {
			if (reset)
				relay_reset_close(p->fd[i]);
			else
				close(p->fd[i]);
		}
		if (p->d[i].pipe[0] >= 0) {
			close(p->d[i].pipe[0]);
			close(p->d[i].pipe[1]);
		}
	}
	relay_pair_done(w->o, p->id, &c, now_ms() - p->start_ms,
			p->connecting ? "connect failed"
			: reset	      ? "reset"
				      : "closed");
	free(p);
}

/* Watch each fd for what its directions wait for. */
static int pair_watch(struct sp_worker *w, struct sp_pair *p)
{
	for (int i = 0; i < 2; i++) {
		const struct dir *in = &p->d[i], *out = &p->d[!i];
		uint32_t ev = 0;

		if (!in->eof && !in->in_pipe)
			ev |= EPOLLIN;
		if (out->in_pipe)
			ev |= EPOLLOUT;
		if (ev == p->ev[i] && p->in_ep[i])
			continue;
		if (epoll_ctl(w->ep,
			      p->in_ep[i] ? EPOLL_CTL_MOD : EPOLL_CTL_ADD,
			      p->fd[i],
			      &(struct epoll_event){ .events = ev,
						     .data.ptr = &p->tag[i] }))
			return -errno;
		p->ev[i] = ev;
		p->in_ep[i] = true;
	}
	return 0;
}

/* Move what can move in direction i.  0, or -errno (reset the pair). */
static int pump_dir(struct sp_pair *p, int i, int *side);

static int pump(struct sp_pair *p, int i)
{
	int side = i, ret = pump_dir(p, i, &side);

	if (ret && !p->err) {
		p->err = ret;
		p->err_side = side;
	}
	return ret;
}

static int pump_dir(struct sp_pair *p, int i, int *side)
{
	struct dir *d = &p->d[i];
	int src = p->fd[i], dst = p->fd[!i];

	for (;;) {
		ssize_t n;

		if (!d->in_pipe && !d->eof) {
			*side = i; /* reading */
			n = splice(src, NULL, d->pipe[1], NULL, PIPE_SIZE,
				   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
			if (n < 0)
				return errno == EAGAIN ? 0 : -errno;
			if (n == 0)
				d->eof = true;
			d->in_pipe = (size_t)n;
		}
		if (!d->in_pipe)
			break;
		*side = !i; /* now writing */
		n = splice(d->pipe[0], NULL, dst, NULL, d->in_pipe,
			   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n < 0)
			return errno == EAGAIN ? 0 : -errno;
		d->in_pipe -= (size_t)n;
		d->bytes += (uint64_t)n;
	}
	if (d->eof && !d->done) {
		d->done = true;
		*side = !i;
		if (shutdown(dst, SHUT_WR) && errno != ENOTCONN)
			return -errno;
	}
	return 0;
}

static void on_event(struct sp_worker *w, struct sp_tag *t, uint32_t ev)
{
	struct sp_pair *p = t->p;
	int ret = 0;

	(void)ev;
	if (p->dead)
		return;
	if (p->connecting) {
		ret = relay_connected(p->fd[1]);
		if (ret) {
			pair_end(w, p, true);
			return;
		}
		p->connecting = false;
		epoll_ctl(w->ep, EPOLL_CTL_DEL, p->fd[1], NULL);
		p->ev[1] = 0;
		p->in_ep[1] = false;
	}
	for (int i = 0; i < 2 && !ret; i++)
		ret = pump(p, i);
	if (!ret && p->d[0].done && p->d[1].done) {
		pair_end(w, p, false);
		return;
	}
	if (!ret)
		ret = pair_watch(w, p);
	if (ret)
		pair_end(w, p, true);
}

static struct sp_pair *pair_new(struct sp_worker *w, int cfd, int tfd)
{
	struct sp_pair *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	*p = (struct sp_pair){ .fd = { cfd, tfd },
			       .id = w->next_id++,
			       .start_ms = now_ms(),
			       .connecting = true,
			       .next = w->all };
	if (w->all)
		w->all->prev = p;
	w->all = p;
	for (int i = 0; i < 2; i++) {
		p->tag[i] = (struct sp_tag){ p, i };
		p->d[i].pipe[0] = p->d[i].pipe[1] = -1;
		if (pipe2(p->d[i].pipe, O_CLOEXEC | O_NONBLOCK)) {
			pair_end(w, p, true);
			return NULL; /* freed after the batch */
		}
		fcntl(p->d[i].pipe[1], F_SETPIPE_SZ, PIPE_SIZE);
	}
	return p;
}

static void accept_all(struct sp_worker *w)
{
	for (;;) {
		int cfd = accept4(w->lfd, NULL, NULL,
				  SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct sp_pair *p;
		int tfd;

		if (cfd < 0)
			return;
		tfd = relay_connect(w->o);
		if (tfd < 0) {
			struct relay_count c = { .failed_connects = 1 };

			relay_reset_close(cfd);
			relay_pair_done(w->o, w->next_id++, &c, 0,
					"connect failed");
			continue;
		}
		p = pair_new(w, cfd, tfd);
		if (!p)
			continue;
		/* Connected when the target side is writable. */
		p->ev[1] = EPOLLOUT;
		if (epoll_ctl(w->ep, EPOLL_CTL_ADD, tfd,
			      &(struct epoll_event){ .events = EPOLLOUT,
						     .data.ptr = &p->tag[1] }))
			pair_end(w, p, true);
	}
}

/* Free the pairs that ended (all: every pair, reset). */
static void free_dead(struct sp_worker *w, bool all)
{
	struct sp_pair *p = w->all, *next;

	for (; p && (all || w->ndead); p = next) {
		next = p->next;
		if (all)
			pair_end(w, p, true);
		if (p->dead) {
			w->ndead--;
			pair_free(w, p);
		}
	}
}

int relay_run_splice(const struct relay_opts *o, int lfd,
		     const volatile int *stop)
{
	struct sp_worker w = { .o = o, .lfd = lfd };
	struct epoll_event evs[64];

	w.ep = epoll_create1(EPOLL_CLOEXEC);
	if (w.ep < 0 || epoll_ctl(w.ep, EPOLL_CTL_ADD, lfd,
				  &(struct epoll_event){ .events = EPOLLIN,
							 .data.ptr = NULL }))
		return -errno;
	while (!*stop) {
		int n = epoll_wait(w.ep, evs, 64, 200);

		for (int i = 0; i < n; i++) {
			if (!evs[i].data.ptr)
				accept_all(&w);
			else
				on_event(&w, evs[i].data.ptr, evs[i].events);
		}
		free_dead(&w, false);
	}
	free_dead(&w, true);
	close(w.ep);
	return 0;
}
