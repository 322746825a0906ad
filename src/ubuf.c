/* SPDX-License-Identifier: MIT */
/*
 * Generic completion objects.  As in the kernel's ubuf_info since the
 * "generic zcopy" rework, the meaning of get/put belongs to the
 * implementation: a refcounted ubuf completes once,
 * when its last user is done; a static one completes on every put.
 */
#include <errno.h>
#include <stdlib.h>

#include "ubuf.h"

static void ubuf_complete_nop(struct zc_buf *buf, struct zc_ubuf *ubuf, bool ok)
{
	(void)buf;
	(void)ubuf;
	(void)ok;
}

const struct zc_ubuf_ops zc_ubuf_nop_ops = {
	.complete = ubuf_complete_nop,
};

void zc_ubuf_init(struct zc_ubuf *ubuf, const struct zc_ubuf_ops *ops,
		  unsigned flags, void *priv)
{
	ubuf->ops = ops;
	ubuf->priv = priv;
	ubuf->flags = (uint16_t)flags;
	ubuf->refcnt = (flags & ZC_F_STATIC) ? 0 : 1;
	ubuf->zerocopy_ok = true;
	ubuf->reported = false;
	ubuf->heap = false;
}

int zc_ubuf_create(const struct zc_ubuf_ops *ops, unsigned flags, void *priv,
		   struct zc_ubuf **out)
{
	struct zc_ubuf *ubuf;

	if (!ops || !ops->complete || !out || (flags & ~ZC_F_ALL))
		return -EINVAL;
	ubuf = malloc(sizeof(*ubuf));
	if (!ubuf)
		return -ENOMEM;
	zc_ubuf_init(ubuf, ops, flags, priv);
	ubuf->heap = true;
	*out = ubuf;
	return 0;
}

int zc_ubuf_destroy(struct zc_ubuf *ubuf)
{
	if (!ubuf || !ubuf->heap)
		return -EINVAL;
	if (ubuf->refcnt)
		return -EBUSY;
	free(ubuf);
	return 0;
}

void *zc_ubuf_priv(const struct zc_ubuf *ubuf)
{
	return ubuf ? ubuf->priv : NULL;
}

unsigned zc_ubuf_flags(const struct zc_ubuf *ubuf)
{
	return ubuf ? ubuf->flags : 0;
}

unsigned zc_ubuf_refs(const struct zc_ubuf *ubuf)
{
	return ubuf ? ubuf->refcnt : 0;
}

static bool ubuf_static(const struct zc_ubuf *ubuf)
{
	return ubuf->flags & ZC_F_STATIC;
}

int zc_ubuf_get(struct zc_ubuf *ubuf)
{
	if (!ubuf)
		return -EINVAL;
	if (ubuf_static(ubuf))
		return 0;
	if (!ubuf->refcnt)
		return -EINVAL;
	if (ubuf->refcnt == UINT32_MAX)
		return -EOVERFLOW;
	ubuf->refcnt++;
	return 0;
}

int zc_ubuf_put(struct zc_ubuf *ubuf, struct zc_buf *buf, bool zerocopy_ok)
{
	if (!ubuf)
		return -EINVAL;
	if (ubuf_static(ubuf)) {
		ubuf->ops->complete(buf, ubuf, zerocopy_ok);
		return 0;
	}
	if (!ubuf->refcnt)
		return -EINVAL;
	ubuf->zerocopy_ok &= zerocopy_ok;
	ubuf->reported = true;
	if (--ubuf->refcnt == 0)
		ubuf->ops->complete(buf, ubuf, ubuf->zerocopy_ok);
	return 0;
}

int zc_ubuf_put_abort(struct zc_ubuf *ubuf)
{
	if (!ubuf)
		return -EINVAL;
	if (ubuf_static(ubuf)) {
		if (ubuf->ops->abort)
			ubuf->ops->abort(ubuf);
		return 0;
	}
	if (!ubuf->refcnt)
		return -EINVAL;
	if (--ubuf->refcnt)
		return 0;
	if (ubuf->reported)
		ubuf->ops->complete(NULL, ubuf, ubuf->zerocopy_ok);
	else if (ubuf->ops->abort)
		ubuf->ops->abort(ubuf);
	return 0;
}
