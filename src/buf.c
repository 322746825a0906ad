/* SPDX-License-Identifier: MIT */
/*
 * Buffers: a list of segments plus zero-copy flags.  Flags reach a buffer
 * only through zc_buf_attach() (from its ubuf) and zc_buf_add_region()
 * (unreadable memory), so no caller sets zero-copy state by hand.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "region.h"
#include "ubuf.h"

void zc_buf_init(struct zc_buf *buf, struct zc_seg *segs, unsigned max_segs,
		 void (*recycle)(struct zc_buf *buf), void *owner)
{
	memset(buf, 0, sizeof(*buf));
	buf->state = ZC_BUF_LIVE;
	buf->zerocopy_ok = true;
	buf->segs = segs;
	buf->max_segs = max_segs;
	buf->recycle = recycle;
	buf->owner = owner;
}

static void buf_put_regions(struct zc_buf *buf, unsigned from)
{
	for (unsigned i = from; i < buf->nsegs; i++)
		if (buf->segs[i].region)
			zc_region_unuse(buf->segs[i].region);
}

void zc_buf_reset(struct zc_buf *buf)
{
	buf_put_regions(buf, 0);
	buf->nsegs = 0;
	buf->len = 0;
	buf->flags = 0;
	buf->zerocopy_ok = true;
	buf->ubuf = NULL;
}

static void buf_heap_recycle(struct zc_buf *buf)
{
	buf->state = ZC_BUF_FREE;
	free(buf);
}

int zc_buf_create(unsigned max_segs, struct zc_buf **out)
{
	struct zc_buf *buf;

	if (!out || !max_segs || max_segs > ZC_BUF_MAX_SEGS)
		return -EINVAL;
	buf = malloc(sizeof(*buf) + max_segs * sizeof(struct zc_seg));
	if (!buf)
		return -ENOMEM;
	zc_buf_init(buf, (struct zc_seg *)(buf + 1), max_segs, buf_heap_recycle,
		    NULL);
	*out = buf;
	return 0;
}

static int buf_push(struct zc_buf *buf, void *base, size_t len,
		    struct zc_region *region, size_t off)
{
	if (buf->nsegs == buf->max_segs)
		return -ENOSPC;
	if (len > SIZE_MAX - buf->len)
		return -EOVERFLOW;
	buf->segs[buf->nsegs++] = (struct zc_seg){ base, len, region, off };
	buf->len += len;
	return 0;
}

int zc_buf_add(struct zc_buf *buf, void *base, size_t len)
{
	if (!buf || !base || !len)
		return -EINVAL;
	return buf_push(buf, base, len, NULL, 0);
}

int zc_buf_add_region(struct zc_buf *buf, struct zc_region *region, size_t off,
		      size_t len)
{
	int ret;

	if (!buf || !region || !len)
		return -EINVAL;
	if (off > region->len || len > region->len - off)
		return -ERANGE;
	ret = buf_push(buf, (char *)region->base + off, len, region, off);
	if (ret)
		return ret;
	zc_region_use(region);
	if (region->flags & ZC_REGION_UNREADABLE)
		buf->flags |= ZC_F_UNREADABLE;
	return 0;
}

int zc_buf_attach(struct zc_buf *buf, struct zc_ubuf *ubuf)
{
	int ret;

	if (!buf || !ubuf)
		return -EINVAL;
	if (buf->ubuf)
		return -EBUSY;
	ret = zc_ubuf_get(ubuf);
	if (ret)
		return ret;
	buf->ubuf = ubuf;
	buf->flags |= ubuf->flags;
	return 0;
}

struct zc_ubuf *zc_buf_ubuf(const struct zc_buf *buf)
{
	return buf ? buf->ubuf : NULL;
}

unsigned zc_buf_flags(const struct zc_buf *buf)
{
	return buf ? buf->flags : 0;
}

unsigned zc_buf_nsegs(const struct zc_buf *buf)
{
	return buf ? buf->nsegs : 0;
}

size_t zc_buf_len(const struct zc_buf *buf)
{
	return buf ? buf->len : 0;
}

int zc_buf_seg(const struct zc_buf *buf, unsigned i, struct zc_seg *out)
{
	if (!buf || !out)
		return -EINVAL;
	if (i >= buf->nsegs)
		return -ERANGE;
	*out = buf->segs[i];
	return 0;
}

int zc_buf_to_iov(const struct zc_buf *buf, struct iovec *iov, unsigned n)
{
	if (!buf || (!iov && n))
		return -EINVAL;
	if (n < buf->nsegs)
		return -ENOSPC;
	for (unsigned i = 0; i < buf->nsegs; i++) {
		iov[i].iov_base = buf->segs[i].base;
		iov[i].iov_len = buf->segs[i].len;
	}
	return (int)buf->nsegs;
}

int zc_buf_trim(struct zc_buf *buf, size_t len)
{
	size_t left = len;
	unsigned i;

	if (!buf || len > buf->len)
		return -EINVAL;
	for (i = 0; i < buf->nsegs && left; i++) {
		if (buf->segs[i].len > left)
			buf->segs[i].len = left;
		left -= buf->segs[i].len;
	}
	buf_put_regions(buf, i);
	buf->nsegs = i;
	buf->len = len;
	return 0;
}

static bool buf_readable(const struct zc_buf *buf)
{
	return !(buf->flags & ZC_F_UNREADABLE);
}

ssize_t zc_buf_copy_out(const struct zc_buf *buf, size_t off, void *dst,
			size_t len)
{
	size_t done = 0;

	if (!buf || (!dst && len))
		return -EINVAL;
	if (!buf_readable(buf))
		return -EACCES;
	for (unsigned i = 0; i < buf->nsegs && done < len; i++) {
		const struct zc_seg *seg = &buf->segs[i];
		size_t n;

		if (off >= seg->len) {
			off -= seg->len;
			continue;
		}
		n = seg->len - off;
		if (n > len - done)
			n = len - done;
		memcpy((char *)dst + done, (char *)seg->base + off, n);
		done += n;
		off = 0;
	}
	return (ssize_t)done;
}

/* One's complement sum; odd bytes carry across segment boundaries. */
int zc_buf_csum(const struct zc_buf *buf, uint16_t *out)
{
	uint64_t sum = 0;
	size_t pos = 0;

	if (!buf || !out)
		return -EINVAL;
	if (!buf_readable(buf))
		return -EACCES;
	for (unsigned i = 0; i < buf->nsegs; i++) {
		const unsigned char *p = buf->segs[i].base;

		for (size_t j = 0; j < buf->segs[i].len; j++, pos++)
			sum += (pos & 1) ? p[j] : (uint32_t)p[j] << 8;
	}
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	*out = (uint16_t)sum;
	return 0;
}

void zc_buf_set_zerocopy(struct zc_buf *buf, bool zerocopy_ok)
{
	if (buf)
		buf->zerocopy_ok = zerocopy_ok;
}

int zc_buf_release(struct zc_buf *buf)
{
	struct zc_ubuf *ubuf;

	if (!buf)
		return -EINVAL;
	if (buf->state != ZC_BUF_LIVE)
		return -EALREADY;
	/* Completion first, while the segments still point at live memory
	 * (the kernel's order too: the zero-copy state is cleared before an
	 * skb's frags are released). */
	ubuf = buf->ubuf;
	if (ubuf)
		zc_ubuf_put(ubuf, buf, buf->zerocopy_ok);
	buf_put_regions(buf, 0);
	buf->nsegs = 0;
	buf->recycle(buf);
	return 0;
}
