/* SPDX-License-Identifier: MIT */
/*
 * Pools: fixed-size buffers in a region, one static ubuf for all of them
 * (no refcounts, like memory registered once with the kernel), recycled
 * when released.
 */
#include <errno.h>
#include <stdlib.h>

#include "buf.h"
#include "pool.h"
#include "region.h"
#include "ubuf.h"

struct zc_pool_ent {
	struct zc_buf buf;
	struct zc_seg seg;
};

struct zc_pool {
	struct zc_region *region;
	size_t first; /* offset of buffer 0 in the region */
	size_t buf_size;
	unsigned count;
	unsigned nfree;
	unsigned *free; /* stack of free entry indexes */
	struct zc_pool_ent *ents;
	struct zc_ubuf ubuf; /* static: shared by every buffer */
	/* Orphaned by its owner: freed (with this region) by the last
	 * release. */
	struct zc_region *orphan_region;
	bool orphaned;
};

static void pool_free(struct zc_pool *pool);

/* Runs after the ubuf's completion (zc_buf_release orders them). */
static void pool_recycle(struct zc_buf *buf)
{
	struct zc_pool *pool = buf->owner;
	struct zc_pool_ent *ent = (struct zc_pool_ent *)buf;

	buf->state = ZC_BUF_FREE;
	pool->free[pool->nfree++] = (unsigned)(ent - pool->ents);
	if (pool->orphaned && pool->nfree == pool->count) {
		struct zc_region *region = pool->orphan_region;

		zc_pool_destroy(pool);
		if (region)
			zc_region_destroy(region);
	}
}

static void pool_free(struct zc_pool *pool)
{
	free(pool->free);
	free(pool->ents);
	free(pool);
}

int zc_pool_create_at(struct zc_region *region, size_t first, size_t buf_size,
		      const struct zc_ubuf_ops *ops, void *priv,
		      struct zc_pool **out)
{
	unsigned flags = ZC_F_STATIC;
	struct zc_pool *pool;
	size_t count;

	if (!region || !out || !buf_size || first > region->len ||
	    buf_size > region->len - first || (ops && !ops->complete))
		return -EINVAL;
	count = (region->len - first) / buf_size;
	if (count > UINT32_MAX)
		return -E2BIG;
	pool = calloc(1, sizeof(*pool));
	if (!pool)
		return -ENOMEM;
	pool->ents = calloc(count, sizeof(*pool->ents));
	pool->free = calloc(count, sizeof(*pool->free));
	if (!pool->ents || !pool->free) {
		pool_free(pool);
		return -ENOMEM;
	}
	pool->region = region;
	pool->first = first;
	pool->buf_size = buf_size;
	pool->count = (unsigned)count;
	if (region->flags & ZC_REGION_UNREADABLE)
		flags |= ZC_F_UNREADABLE;
	zc_ubuf_init(&pool->ubuf, ops ? ops : &zc_ubuf_nop_ops, flags, priv);
	for (unsigned i = 0; i < pool->count; i++) {
		struct zc_pool_ent *ent = &pool->ents[i];

		zc_buf_init(&ent->buf, &ent->seg, 1, pool_recycle, pool);
		ent->buf.state = ZC_BUF_FREE;
		/* Hand out low addresses first: easier to follow in tests. */
		pool->free[i] = pool->count - 1 - i;
	}
	pool->nfree = pool->count;
	zc_region_use(region);
	*out = pool;
	return 0;
}

/*
 * A free buffer (no segments, no ubuf: released) made what
 * zc_buf_add_region() of its slot and zc_buf_attach() of the pool's ubuf
 * would make it, without their checks, which a slot of the pool always
 * passes: a receive gets and releases one per call, and every instruction
 * between two recv()s is time a loopback sender waits for.
 */
static void pool_hand_out(struct zc_pool *pool, struct zc_buf *buf, size_t off)
{
	struct zc_region *region = pool->region;

	buf->state = ZC_BUF_LIVE;
	buf->segs[0] = (struct zc_seg){ (char *)region->base + off,
					pool->buf_size, region, off };
	buf->nsegs = 1;
	buf->len = pool->buf_size;
	buf->zerocopy_ok = true;
	/* The ubuf's flags carry ZC_F_UNREADABLE for an unreadable region. */
	buf->flags = pool->ubuf.flags;
	buf->ubuf = &pool->ubuf;
	zc_region_use(region);
}

int zc_pool_create(struct zc_region *region, size_t buf_size,
		   const struct zc_ubuf_ops *ops, void *priv,
		   struct zc_pool **out)
{
	return zc_pool_create_at(region, 0, buf_size, ops, priv, out);
}

/* Where slot idx starts in the region. */
static size_t pool_off(const struct zc_pool *pool, unsigned idx)
{
	return pool->first + (size_t)idx * pool->buf_size;
}

int zc_pool_get(struct zc_pool *pool, struct zc_buf **out)
{
	struct zc_buf *buf;
	unsigned idx;

	if (!pool || !out)
		return -EINVAL;
	if (!pool->nfree)
		return -ENOBUFS;
	idx = pool->free[--pool->nfree];
	buf = &pool->ents[idx].buf;
	pool_hand_out(pool, buf, pool_off(pool, idx));
	*out = buf;
	return 0;
}

unsigned zc_pool_peek(const struct zc_pool *pool, struct iovec *iov, unsigned n)
{
	unsigned k;

	for (k = 0; k < n && k < pool->nfree; k++) {
		unsigned idx = pool->free[pool->nfree - 1 - k];

		iov[k].iov_base =
			(char *)pool->region->base + pool_off(pool, idx);
		iov[k].iov_len = pool->buf_size;
	}
	return k;
}

unsigned zc_pool_avail(const struct zc_pool *pool)
{
	return pool ? pool->nfree : 0;
}

unsigned zc_pool_count(const struct zc_pool *pool)
{
	return pool ? pool->count : 0;
}

size_t zc_pool_buf_size(const struct zc_pool *pool)
{
	return pool ? pool->buf_size : 0;
}

int zc_pool_destroy(struct zc_pool *pool)
{
	if (!pool)
		return -EINVAL;
	if (pool->nfree != pool->count)
		return -EBUSY;
	zc_region_unuse(pool->region);
	pool_free(pool);
	return 0;
}

void zc_pool_orphan(struct zc_pool *pool, struct zc_region *region)
{
	pool->orphaned = true;
	pool->orphan_region = region;
	if (pool->nfree == pool->count) {
		zc_pool_destroy(pool);
		if (region)
			zc_region_destroy(region);
	}
}
