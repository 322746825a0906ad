/* SPDX-License-Identifier: MIT */
/*
 * Misuse detection: a context and its sockets belong to one thread at a
 * time.  Two threads inside one context would corrupt its lists without a
 * trace, so debug builds catch it at the door and abort with a message
 * that names both threads.
 */
#ifdef ZC_THREAD_CHECK
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "sock.h"

static int thread_id(void)
{
	static _Thread_local int tid;

	if (!tid)
		tid = (int)gettid();
	return tid;
}

static void thread_misuse(const struct zc_ctx *ctx, int inside, int me)
{
	fprintf(stderr,
		"zcopy: context %p used by thread %d while thread %d is inside "
		"it; a context and its sockets belong to one thread at a time "
		"(see zcopy(3))\n",
		(const void *)ctx, me, inside);
	abort();
}

struct zc_ctx *zc_ctx_enter(struct zc_ctx *ctx)
{
	int me, cur = 0;

	if (!ctx)
		return NULL;
	me = thread_id();
	if (!atomic_compare_exchange_strong(&ctx->owner, &cur, me) && cur != me)
		thread_misuse(ctx, cur, me);
	ctx->owner_depth++;
	return ctx;
}

void zc_ctx_leave(struct zc_ctx **pctx)
{
	struct zc_ctx *ctx = *pctx;

	if (ctx && !--ctx->owner_depth)
		atomic_store(&ctx->owner, 0);
}
#endif
