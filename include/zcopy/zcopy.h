/* SPDX-License-Identifier: MIT */
/*
 * zcopy: one API for zero-copy network I/O on Linux.
 *
 * Conventions
 *  - Every type is opaque; every function has the zc_ prefix.
 *  - Functions that can fail return 0 (or a count) on success and a negative
 *    errno value on failure.  zc_strerror() explains the value in zcopy's
 *    terms.
 *  - Long-lived handles: zc_ctx (one per thread), zc_sock, zc_region,
 *    zc_pool.  Short-lived requests: a send, completed exactly once through
 *    its callback; a received zc_buf, given back with zc_buf_release().
 *
 * Threading: a zc_ctx and everything created from it (sockets, buffers they
 * hand out) belong to one thread at a time.  Core objects that are not tied
 * to a context (zc_buf, zc_ubuf, zc_region, zc_pool) are not thread-safe
 * either; serialise access to each object.  Different objects may be used
 * from different threads concurrently.
 */
#ifndef ZCOPY_ZCOPY_H
#define ZCOPY_ZCOPY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define ZC_API __attribute__((visibility("default")))
#else
#define ZC_API
#endif

#define ZC_VERSION_MAJOR 0
#define ZC_VERSION_MINOR 1
#define ZC_VERSION_PATCH 0

/* Text for a value returned by any zc_ function (negative errno), or for a
 * positive errno.  Never NULL; the string is static. */
ZC_API const char *zc_strerror(int err);

/* ------------------------------------------------------------------------ */
/* Zero-copy flags, shared by zc_ubuf and zc_buf (the seed's zc_flags).     */

enum zc_flags {
	/* The caller asked for zero-copy. */
	ZC_F_REQUESTED = 1u << 0,
	/* The memory is the caller's and the kernel may reference it until the
	 * completion: it must not be reused before then. */
	ZC_F_ENABLED = 1u << 1,
	/* Device memory: zcopy never reads, copies or checksums it. */
	ZC_F_UNREADABLE = 1u << 2,
	/* No reference count: the ubuf completes on every release (memory
	 * registered once, e.g. a pool over a region). */
	ZC_F_STATIC = 1u << 3,
};

#define ZC_F_ALL (ZC_F_REQUESTED | ZC_F_ENABLED | ZC_F_UNREADABLE | ZC_F_STATIC)

struct zc_buf;
struct zc_ubuf;
struct zc_region;
struct zc_pool;

/* ------------------------------------------------------------------------ */
/* zc_ubuf: how a buffer's completion is delivered (the seed's ubuf_info).  */

struct zc_ubuf_ops {
	/* Required.  The buffer is done: for a refcounted ubuf when its last
	 * reference is put, for a ZC_F_STATIC ubuf on every put.  buf may be
	 * NULL when no buffer is involved; when not NULL its segments are still
	 * valid.  zerocopy_ok is false if any user of the ubuf was copied. */
	void (*complete)(struct zc_buf *buf, struct zc_ubuf *ubuf,
			 bool zerocopy_ok);
	/* Optional.  The last reference went away through zc_ubuf_put_abort():
	 * nothing reached the kernel, so nothing is reported.  Implementations
	 * that hand out completion ids give the id back here. */
	void (*abort)(struct zc_ubuf *ubuf);
};

/* A ubuf with the given ops and flags (ZC_F_*).  Without ZC_F_STATIC the
 * ubuf starts with one reference, owned by the caller.  -EINVAL if ops or
 * ops->complete is NULL or flags has unknown bits. */
ZC_API int zc_ubuf_create(const struct zc_ubuf_ops *ops, unsigned flags,
			  void *priv, struct zc_ubuf **out);
/* Free a ubuf.  -EBUSY if a refcounted ubuf still has references. */
ZC_API int zc_ubuf_destroy(struct zc_ubuf *ubuf);
ZC_API void *zc_ubuf_priv(const struct zc_ubuf *ubuf);
ZC_API unsigned zc_ubuf_flags(const struct zc_ubuf *ubuf);
/* Current reference count (0 for static ubufs). */
ZC_API unsigned zc_ubuf_refs(const struct zc_ubuf *ubuf);

/* Take a reference.  No-op for static ubufs.  -EOVERFLOW at UINT32_MAX,
 * -EINVAL on a refcounted ubuf that already completed (count 0). */
ZC_API int zc_ubuf_get(struct zc_ubuf *ubuf);
/* Drop a reference on behalf of buf (may be NULL); runs ops->complete when
 * it was the last one (static: every time).  -EINVAL if no reference is
 * held. */
ZC_API int zc_ubuf_put(struct zc_ubuf *ubuf, struct zc_buf *buf,
		       bool zerocopy_ok);
/* Drop a reference taken for a send that never reached the kernel.  The
 * last such put runs ops->abort (if any) instead of ops->complete, unless
 * an earlier put already reported a result. */
ZC_API int zc_ubuf_put_abort(struct zc_ubuf *ubuf);

/* ------------------------------------------------------------------------ */
/* zc_buf: a message made of segments (the seed's skb frags).               */

struct zc_seg {
	void *base; /* address; inside region when region != NULL */
	size_t len;
	struct zc_region *region; /* NULL for plain memory */
	size_t off;		  /* offset in region */
};

/* An empty heap buffer with room for max_segs segments (1..ZC_BUF_MAX_SEGS).
 * Free it with zc_buf_release(). */
#define ZC_BUF_MAX_SEGS 1024
ZC_API int zc_buf_create(unsigned max_segs, struct zc_buf **out);
/* Append memory.  -EINVAL for len 0 or a NULL base, -ENOSPC when full,
 * -EOVERFLOW if the total length would overflow. */
ZC_API int zc_buf_add(struct zc_buf *buf, void *base, size_t len);
/* Append part of a region.  -ERANGE if [off, off+len) is outside it.  A
 * segment of an unreadable region makes the buffer ZC_F_UNREADABLE. */
ZC_API int zc_buf_add_region(struct zc_buf *buf, struct zc_region *region,
			     size_t off, size_t len);
/* The one way to give a buffer its completion: takes a reference on ubuf
 * and copies the ubuf's flags into the buffer.  -EBUSY if a ubuf is
 * already attached. */
ZC_API int zc_buf_attach(struct zc_buf *buf, struct zc_ubuf *ubuf);
ZC_API struct zc_ubuf *zc_buf_ubuf(const struct zc_buf *buf);
ZC_API unsigned zc_buf_flags(const struct zc_buf *buf);
ZC_API unsigned zc_buf_nsegs(const struct zc_buf *buf);
ZC_API size_t zc_buf_len(const struct zc_buf *buf);
/* Segment i.  -ERANGE past the end. */
ZC_API int zc_buf_seg(const struct zc_buf *buf, unsigned i, struct zc_seg *out);
/* Fill iov[0..n) with the segments (no data is read).  Returns the number
 * of entries used, or -ENOSPC if n is too small. */
ZC_API int zc_buf_to_iov(const struct zc_buf *buf, struct iovec *iov,
			 unsigned n);
/* Shorten the buffer to len bytes, dropping trailing segments.  -EINVAL if
 * len is larger than the buffer. */
ZC_API int zc_buf_trim(struct zc_buf *buf, size_t len);
/* Copy len bytes from offset off into dst.  Returns the bytes copied
 * (fewer at the end of the buffer), -EACCES for unreadable buffers. */
ZC_API ssize_t zc_buf_copy_out(const struct zc_buf *buf, size_t off, void *dst,
			       size_t len);
/* Internet checksum (RFC 1071) of the payload, folded, not complemented.
 * -EACCES for unreadable buffers. */
ZC_API int zc_buf_csum(const struct zc_buf *buf, uint16_t *out);
/* Record the outcome of the buffer's transmission: false if any part was
 * copied.  Passed to the ubuf on release. */
ZC_API void zc_buf_set_zerocopy(struct zc_buf *buf, bool zerocopy_ok);
/* Done with the buffer: the completion runs first, with the segments still
 * valid, then the memory goes back (heap buffers are freed, pool buffers
 * return to their pool).  -EALREADY if a pool buffer is already back in its
 * pool, -EINVAL for NULL. */
ZC_API int zc_buf_release(struct zc_buf *buf);

/* ------------------------------------------------------------------------ */
/* zc_region: memory registered once (the seed's zctap area).               */

enum zc_region_flags {
	/* Back the region with huge pages (MAP_HUGETLB); -ENOMEM if none. */
	ZC_REGION_HUGEPAGE = 1u << 0,
	/* Do not mlock() the region. */
	ZC_REGION_NOLOCK = 1u << 1,
	/* Device memory stand-in: mapped PROT_NONE by zc_region_create(); a
	 * wrapped region is only marked.  Never read by zcopy. */
	ZC_REGION_UNREADABLE = 1u << 2,
};

/* Map len bytes (rounded up to the page size), page aligned, locked unless
 * ZC_REGION_NOLOCK.  mlock failures (RLIMIT_MEMLOCK) return -ENOMEM or
 * -EPERM with nothing left mapped. */
ZC_API int zc_region_create(size_t len, unsigned flags, struct zc_region **out);
/* Describe application memory as a region; zcopy does not own it. */
ZC_API int zc_region_wrap(void *addr, size_t len, unsigned flags,
			  struct zc_region **out);
/* -EBUSY while pools or buffers still use the region. */
ZC_API int zc_region_destroy(struct zc_region *region);
ZC_API void *zc_region_base(const struct zc_region *region);
ZC_API size_t zc_region_len(const struct zc_region *region);
ZC_API unsigned zc_region_flags(const struct zc_region *region);

/* A pool of fixed-size buffers carved out of a region, with one static ubuf
 * (no refcounts).  Releasing a pool buffer runs ops->complete (if ops is not
 * NULL) and then puts the buffer back in the pool.  buf_size must divide
 * into at least one buffer; -EINVAL otherwise. */
ZC_API int zc_pool_create(struct zc_region *region, size_t buf_size,
			  const struct zc_ubuf_ops *ops, void *priv,
			  struct zc_pool **out);
/* A buffer of buf_size bytes (trim it to the length used).  -ENOBUFS when
 * every buffer is out. */
ZC_API int zc_pool_get(struct zc_pool *pool, struct zc_buf **out);
ZC_API unsigned zc_pool_avail(const struct zc_pool *pool);
ZC_API unsigned zc_pool_count(const struct zc_pool *pool);
ZC_API size_t zc_pool_buf_size(const struct zc_pool *pool);
/* -EBUSY while buffers are out. */
ZC_API int zc_pool_destroy(struct zc_pool *pool);

#ifdef __cplusplus
}
#endif

#endif
