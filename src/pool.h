/* SPDX-License-Identifier: MIT */
/* Pools: internal extensions of the public zc_pool API. */
#ifndef ZC_SRC_POOL_H
#define ZC_SRC_POOL_H

#include <sys/uio.h>

#include <zcopy/zcopy.h>

/* zc_pool_create() with buffer 0 first bytes into region (the rest of
 * the region is cut into buffers as far as whole ones fit). */
int zc_pool_create_at(struct zc_region *region, size_t first, size_t buf_size,
		      const struct zc_ubuf_ops *ops, void *priv,
		      struct zc_pool **out);

/* The owner is done with pool (and with region, which it created for the
 * pool alone): free both now if no buffer is out, else when the last one
 * is released.  Buffers still out stay valid until then. */
void zc_pool_orphan(struct zc_pool *pool, struct zc_region *region);

/* The memory of the next n buffers zc_pool_get() will hand out, in that
 * order, without taking them: a read may scatter into buffers it turns
 * out not to need, at no cost for those.  How many (fewer are free). */
unsigned zc_pool_peek(const struct zc_pool *pool, struct iovec *iov,
		      unsigned n);

#endif
