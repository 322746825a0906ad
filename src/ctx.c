/* SPDX-License-Identifier: MIT */
/*
 * Contexts: one epoll set per thread.  Sockets are registered edge
 * triggered, so a socket that stays in error or hung up does not make
 * zc_ctx_process() spin; each event is drained completely instead.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "sock.h"
#include "uring.h"

#define ZC_DEFAULT_INFLIGHT 256
#define ZC_DEFAULT_CLOSE_MS 2000
#define ZC_EVENTS_PER_WAIT 64

int zc_ctx_create(const struct zc_ctx_opts *opts, struct zc_ctx **out)
{
	struct zc_ctx_opts o = { 0 };
	struct zc_ctx *ctx;

	if (!out)
		return -EINVAL;
	if (opts)
		o = *opts;
	if (o.flags & ~ZC_CTX_NO_URING || o.max_inflight > 65536 ||
	    o.uring_entries > 32768)
		return -EINVAL;
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	ctx->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (ctx->epfd < 0) {
		int ret = -errno;

		free(ctx);
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

void zc_ctx_destroy(struct zc_ctx *ctx)
{
	if (!ctx)
		return;
	while (ctx->socks)
		zc_sock_destroy(ctx->socks);
	zc_uring_destroy(ctx);
	close(ctx->epfd);
	free(ctx);
}

int zc_ctx_fd(struct zc_ctx *ctx)
{
	int ret;

	if (!ctx)
		return -EINVAL;
	/* The application will wait on it: the ring must signal it. */
	ctx->fd_exported = true;
	ret = zc_uring_arm(ctx);
	return ret ? ret : ctx->epfd;
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

static int ctx_process_ring(struct zc_ctx *ctx, int timeout_ms)
{
	int ret;

	ctx->ncb = 0;
	ctx->depth++;
	ret = zc_uring_wait_timeout(ctx->uring, timeout_ms);
	zc_uring_flush_socks(ctx);
	ctx->depth--;
	return ret ? ret : ctx->ncb;
}

int zc_ctx_process(struct zc_ctx *ctx, int timeout_ms)
{
	struct epoll_event evs[ZC_EVENTS_PER_WAIT];
	int n;

	if (!ctx)
		return -EINVAL;
	if (ctx->depth)
		return -EBUSY;
	if (timeout_ms && ctx_ring_only(ctx))
		return ctx_process_ring(ctx, timeout_ms);
	/* Sockets and the ring together: the ring must wake epoll. */
	n = zc_uring_arm(ctx);
	if (n)
		return n;
	n = epoll_wait(ctx->epfd, evs, ZC_EVENTS_PER_WAIT, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	ctx->ncb = 0;
	ctx->depth++;
	for (int i = 0; i < n; i++) {
		if (ctx->uring && evs[i].data.ptr == ctx->uring)
			zc_uring_event(ctx);
		else
			zc_sock_event(evs[i].data.ptr, evs[i].events);
	}
	ctx->depth--;
	return ctx->ncb;
}
