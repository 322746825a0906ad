/* SPDX-License-Identifier: MIT */
/*
 * Contexts: one epoll set per thread.  Sockets are registered edge
 * triggered, so a socket that stays in error or hung up does not make
 * zc_ctx_process() spin; each event is drained completely instead.
 *
 * Completion callbacks run only here (and in close): transports finish a
 * send by queueing it on the context, so no callback ever runs while a
 * push is half done, and a callback that sends again cannot recurse.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "region.h"
#include "sock.h"
#include "uring.h"
#include "util.h"

#define ZC_DEFAULT_INFLIGHT 256
#define ZC_DEFAULT_CLOSE_MS 2000
#define ZC_EVENTS_PER_WAIT 64
/* Callbacks per process() call: a callback that sends again on a socket
 * that completes at once would otherwise keep process() busy for as long
 * as the socket has room.  The rest wait for the next call. */
#define ZC_CB_PER_PROCESS 4096
/* Rounds of flushing sockets and running callbacks per call, for the
 * same reason. */
#define ZC_ROUNDS_PER_PROCESS 64

static int ctx_wake_fd(struct zc_ctx *ctx)
{
	/* The data pointer is the context: process() tells it apart. */
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET,
				  .data.ptr = ctx };

	ctx->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (ctx->wake_fd < 0)
		return -errno;
	if (epoll_ctl(ctx->epfd, EPOLL_CTL_ADD, ctx->wake_fd, &ev))
		return -errno;
	return 0;
}

static void ctx_free(struct zc_ctx *ctx)
{
	if (ctx->wake_fd >= 0)
		close(ctx->wake_fd);
	if (ctx->epfd >= 0)
		close(ctx->epfd);
	free(ctx);
}

int zc_ctx_create(const struct zc_ctx_opts *opts, struct zc_ctx **out)
{
	struct zc_ctx_opts o = { 0 };
	struct zc_ctx *ctx;
	int ret;

	if (!out)
		return -EINVAL;
	if (opts)
		o = *opts;
	if (o.flags & ~ZC_CTX_NO_URING || o.max_inflight > 65536 ||
	    o.uring_entries > 32768)
		return -EINVAL;
	if (!zc_reserved_zero(o.reserved, ZC_ARRAY_SIZE(o.reserved)))
		return -EINVAL;
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	ctx->wake_fd = -1;
	ctx->epfd = epoll_create1(EPOLL_CLOEXEC);
	ret = ctx->epfd < 0 ? -errno : ctx_wake_fd(ctx);
	if (ret) {
		ctx_free(ctx);
		return ret;
	}
	ctx->flags = o.flags;
	ctx->uring_entries = o.uring_entries;
	ctx->max_inflight =
		o.max_inflight ? o.max_inflight : ZC_DEFAULT_INFLIGHT;
	ctx->close_timeout_ms =
		o.close_timeout_ms ? o.close_timeout_ms : ZC_DEFAULT_CLOSE_MS;
	*out = ctx;
	return 0;
}

/* ---- the context's io_uring ------------------------------------------- */

/*
 * Created on first use, so contexts that never use it pay nothing, and so
 * that a kernel or container without io_uring costs one failed system
 * call, remembered in uring_error.
 */
int zc_ctx_uring(struct zc_ctx *ctx, struct zc_uring **out)
{
	if (!ctx->uring && !ctx->uring_error) {
		ctx->uring_error = ctx->flags & ZC_CTX_NO_URING
					   ? -EOPNOTSUPP
					   : zc_uring_create(ctx->uring_entries,
							     &ctx->uring);
		if (!ctx->uring_error && ctx->fd_exported)
			ctx->uring_error = zc_ctx_uring_arm(ctx);
		if (ctx->uring_error) {
			zc_uring_free(ctx->uring);
			ctx->uring = NULL;
		}
	}
	*out = ctx->uring;
	return ctx->uring_error;
}

/* The ring signals an eventfd in the epoll set only once something waits
 * on the context fd: each signal costs the kernel a wake-up. */
static int ctx_uring_arm_slow(struct zc_ctx *ctx)
{
	/* The data pointer is the ring: process() tells it from sockets. */
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET,
				  .data.ptr = ctx->uring };
	int efd;

	efd = zc_uring_eventfd(ctx->uring);
	if (efd < 0)
		return efd;
	if (epoll_ctl(ctx->epfd, EPOLL_CTL_ADD, efd, &ev))
		return -errno;
	return 0;
}

int zc_ctx_uring_arm(struct zc_ctx *ctx)
{
	if (!ctx->uring || ctx->uring->efd >= 0)
		return 0;
	return ctx_uring_arm_slow(ctx);
}

int zc_ctx_uring_fd(const struct zc_ctx *ctx)
{
	return ctx->uring ? ctx->uring->efd : -1;
}

static void ctx_uring_destroy(struct zc_ctx *ctx)
{
	struct zc_uring *u = ctx->uring;

	if (!u)
		return;
	for (unsigned i = 0; i < u->nfixed; i++)
		if (u->fixed[i])
			u->fixed[i]->pinned_by = NULL;
	zc_uring_free(u);
	ctx->uring = NULL;
}

int zc_ctx_register_region(struct zc_ctx *ctx, struct zc_region *region)
{
	ZC_CTX_GUARD(ctx);
	struct zc_uring *u;
	int ret;

	if (!ctx || !region)
		return -EINVAL;
	if (region->pinned_by)
		return -EBUSY;
	if (region->flags & ZC_REGION_UNREADABLE)
		return -EACCES;
	ret = zc_ctx_uring(ctx, &u);
	if (!ret)
		ret = zc_uring_fixed_add(u, region);
	if (!ret)
		region->pinned_by = ctx;
	return ret;
}

int zc_ctx_unregister_region(struct zc_ctx *ctx, struct zc_region *region)
{
	ZC_CTX_GUARD(ctx);
	int ret;

	if (!ctx || !region || !region->pinned_by)
		return -EINVAL;
	if (region->pinned_by != (const void *)ctx || !ctx->uring)
		return -EXDEV;
	ret = zc_uring_fixed_del(ctx->uring, region);
	if (!ret)
		region->pinned_by = NULL;
	return ret;
}

void zc_ctx_destroy(struct zc_ctx *ctx)
{
	if (!ctx)
		return;
#ifdef ZC_THREAD_CHECK
	zc_ctx_enter(ctx); /* the check only: the context goes */
#endif
	/* Callbacks that run while one socket drains must not start sends
	 * on the others, which would then be cut off. */
	for (struct zc_sock *s = ctx->socks; s; s = s->next)
		s->closing = true;
	while (ctx->socks)
		zc_sock_destroy(ctx->socks);
	ctx_uring_destroy(ctx);
	ctx_free(ctx);
}

int zc_ctx_fd(struct zc_ctx *ctx)
{
	ZC_CTX_GUARD(ctx);
	int ret;

	if (!ctx)
		return -EINVAL;
	/* The application will wait on it: the ring must signal it, and so
	 * must completions queued outside process(). */
	ctx->fd_exported = true;
	ret = zc_ctx_uring_arm(ctx);
	if (ret)
		return ret;
	if (ctx->done_head || ctx->flush_head)
		zc_ctx_wake(ctx);
	return ctx->epfd;
}

void zc_ctx_wake(struct zc_ctx *ctx)
{
	/* One write per batch: the eventfd is edge triggered and never
	 * read, so each write wakes a waiter whatever its counter says. */
	if (!ctx->fd_exported || ctx->woken)
		return;
	ctx->woken = true;
	eventfd_write(ctx->wake_fd, 1);
}

/* ---- completions waiting for their callback ---------------------------- */

void zc_ctx_queue_done(struct zc_ctx *ctx, struct zc_req *req)
{
	req->next = NULL;
	if (ctx->done_tail)
		ctx->done_tail->next = req;
	else
		ctx->done_head = req;
	ctx->done_tail = req;
	if (!ctx->in_process)
		zc_ctx_wake(ctx);
}

/* The first queued completion of sock (any when sock is NULL), unlinked. */
static struct zc_req *done_pop(struct zc_ctx *ctx, const struct zc_sock *sock)
{
	struct zc_req *prev = NULL, *req = ctx->done_head;

	while (req && sock && req->sock != &sock->t) {
		prev = req;
		req = req->next;
	}
	if (!req)
		return NULL;
	if (prev)
		prev->next = req->next;
	else
		ctx->done_head = req->next;
	if (ctx->done_tail == req)
		ctx->done_tail = prev;
	return req;
}

int zc_ctx_run_done(struct zc_ctx *ctx, struct zc_sock *sock, int max)
{
	struct zc_req *req;
	int n = 0;

	while (n < max && (req = done_pop(ctx, sock))) {
		zc_req_deliver(req);
		n++;
	}
	return n;
}

/* Every socket's completions, in order: the hot path of process(). */
static int ctx_run_all(struct zc_ctx *ctx, int max)
{
	struct zc_req *req;
	int n = 0;

	while (n < max && (req = ctx->done_head)) {
		ctx->done_head = req->next;
		if (!ctx->done_head)
			ctx->done_tail = NULL;
		zc_req_deliver(req);
		n++;
	}
	return n;
}

/* ---- process ------------------------------------------------------------ */

/* Sockets whose transport results came (an io_uring send's result, a
 * receive to re-arm): only these are touched, however many are attached.
 * One round runs the sockets queued when it began: a socket queued again
 * by its own callbacks (a receive callback releasing its buffer) waits
 * for the next round, so the round limit bounds the call. */
static void ctx_flush_socks(struct zc_ctx *ctx)
{
	struct zc_sock *s, *round = ctx->flush_head;

	ctx->flush_head = NULL;
	while ((s = round)) {
		round = s->flush_next;
		s->flush_queued = false;
		zc_sock_run(s);
	}
}

/*
 * A socket is in the epoll set only while it needs waking for something
 * other than the ring (MSG_ZEROCOPY ids, or a copy waiting for space; see
 * zc_sock_ep_update).  When none is, and the context has a ring, a
 * blocking process() can wait in the ring itself: one system call instead
 * of epoll_wait() plus entering the ring for the completions.
 */
static bool ctx_ring_only(const struct zc_ctx *ctx)
{
	return ctx->uring && !ctx->nsocks_ep;
}

static int ctx_wait_epoll(struct zc_ctx *ctx, int timeout_ms)
{
	struct epoll_event evs[ZC_EVENTS_PER_WAIT];
	int n;

	/* Sockets and the ring together: the ring must wake epoll. */
	n = zc_ctx_uring_arm(ctx);
	if (n)
		return n;
	n = epoll_wait(ctx->epfd, evs, ZC_EVENTS_PER_WAIT, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n; i++) {
		void *p = evs[i].data.ptr;

		if (p == ctx)
			continue; /* a wake-up: the work is in the lists */
		if (ctx->uring && p == ctx->uring)
			zc_uring_submit(ctx->uring); /* handlers queue work */
		else
			zc_sock_event(p, evs[i].events);
	}
	return 0;
}

/* Work is queued and nothing but the wake-up eventfd is in the epoll set,
 * and no wake-up is waiting there to be consumed: epoll_wait() could only
 * say "nothing", so a process() call that only runs callbacks (a copy
 * send's completion) makes no system call. */
static bool ctx_nothing_to_wait(const struct zc_ctx *ctx, bool woken)
{
	return !woken && !ctx->nsocks_ep && !ctx->uring;
}

static int ctx_wait(struct zc_ctx *ctx, int timeout_ms)
{
	if (timeout_ms && ctx_ring_only(ctx))
		return zc_uring_wait_timeout(ctx->uring, timeout_ms);
	return ctx_wait_epoll(ctx, timeout_ms);
}

static bool ctx_pending(const struct zc_ctx *ctx)
{
	return ctx->done_head || ctx->flush_head;
}

/* Act on the sockets queued and run the callbacks, in rounds, since
 * callbacks queue more; what is left past the limits waits for the next
 * call, which the context fd announces. */
static void ctx_run(struct zc_ctx *ctx)
{
	for (int round = 0; round < ZC_ROUNDS_PER_PROCESS; round++) {
		if (ctx->flush_head)
			ctx_flush_socks(ctx);
		ctx->ncb += ctx_run_all(ctx, ZC_CB_PER_PROCESS - ctx->ncb);
		if (!ctx_pending(ctx))
			return;
		if (ctx->ncb >= ZC_CB_PER_PROCESS)
			break;
	}
	zc_ctx_wake(ctx);
}

int zc_ctx_process(struct zc_ctx *ctx, int timeout_ms)
{
	ZC_CTX_GUARD(ctx);
	bool woken;
	int ret = 0;

	if (!ctx)
		return -EINVAL;
	if (ctx->depth)
		return -EBUSY;
	woken = ctx->woken;
	ctx->ncb = 0;
	ctx->woken = false;
	ctx->depth++;
	ctx->in_process = true;
	if (!ctx_pending(ctx))
		ret = ctx_wait(ctx, timeout_ms);
	else if (!ctx_nothing_to_wait(ctx, woken))
		ret = ctx_wait(ctx, 0);
	if (ctx_pending(ctx))
		ctx_run(ctx);
	ctx->in_process = false;
	ctx->depth--;
	return ret ? ret : ctx->ncb;
}
