/* SPDX-License-Identifier: MIT */
/* Pools: internal extensions of the public zc_pool API. */
#ifndef ZC_SRC_POOL_H
#define ZC_SRC_POOL_H

#include <zcopy/zcopy.h>

/* The owner is done with pool (and with region, which it created for the
 * pool alone): free both now if no buffer is out, else when the last one
 * is released.  Buffers still out stay valid until then. */
void zc_pool_orphan(struct zc_pool *pool, struct zc_region *region);

#endif
