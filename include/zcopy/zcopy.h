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
 * Debug builds (meson buildtype debug, or -Dthread_check=enabled) check
 * it: a thread calling into a context while another thread is inside it
 * aborts with a message naming both.  Handing a context to another thread
 * between calls is fine.
 *
 * ABI (libzcopy.so.0; zcopy(3) has the details)
 *  - Within one soname a release only adds: functions (under a new symbol
 *    version node), enum values and flags (handle ones you do not know),
 *    and struct fields taken from the struct's reserved[] words.  Existing
 *    functions keep their signatures and meaning; public structs keep
 *    their size and the place of every field.  zc_copy_why and
 *    zc_tx_mode index arrays of ZC_STATS_SLOTS entries in zc_stats, so
 *    they grow up to that many values and no further.
 *  - Option structs (zc_ctx_opts, zc_sock_opts): zero-initialise them and
 *    set what you need.  A zero field means the default in every version,
 *    so such a struct stays valid.  Their reserved words must be zero
 *    (-EINVAL otherwise): an option of a newer header passed to an older
 *    library is refused, not ignored.
 *  - Output structs (zc_stats, zc_completion) are written whole by the
 *    library, flags and reserved words as zero.  A field added later comes
 *    out of the reserved space, so it reads 0 from an older library.
 *  - ZC_VERSION_* (zcopy/version.h) give the header's version,
 *    zc_version() that of the library in use.
 */
#ifndef ZCOPY_ZCOPY_H
#define ZCOPY_ZCOPY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <zcopy/version.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define ZC_API __attribute__((visibility("default")))
#else
#define ZC_API
#endif

/* The version of the library in use (which may be newer than the header
 * the program was compiled with, ZC_VERSION_NUMBER): MAJOR << 16 |
 * MINOR << 8 | PATCH. */
ZC_API unsigned zc_version(void);
/* The same as text, "MAJOR.MINOR.PATCH"; static. */
ZC_API const char *zc_version_string(void);

/* Text for a value returned by any zc_ function (negative errno), or for a
 * positive errno.  Never NULL; the string is static. */
ZC_API const char *zc_strerror(int err);

/* ------------------------------------------------------------------------ */
/* Zero-copy flags of zc_ubuf and zc_buf (the RFC's ubuf_info flags).       */

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
/* zc_ubuf: how a buffer's completion is delivered (the RFC's ubuf_info).   */

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
/* zc_buf: a message made of segments (the RFC's skb frags).                */

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
/* zc_region: memory registered once (the RFC's zctap area).                */

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

/* ------------------------------------------------------------------------ */
/* Contexts and sockets.                                                    */

struct zc_ctx;
struct zc_sock;

enum zc_ctx_flags {
	/* Never use io_uring in this context. */
	ZC_CTX_NO_URING = 1u << 0,
};

/* Options for zc_ctx_create(); zero fields take the defaults. */
struct zc_ctx_opts {
	unsigned flags;	       /* ZC_CTX_* */
	unsigned max_inflight; /* sends in flight per socket (256) */
	int close_timeout_ms;  /* drain bound on close (2000); <0: none */
	/* io_uring SQ size (128, max 32768); the CQ is twice that. */
	unsigned uring_entries;
	/* Must be zero: room for options of later versions, so that one this
	 * library does not know is refused (-EINVAL), not ignored. */
	uint64_t reserved[8];
};

/* A context: one per thread.  It owns an epoll set (zc_ctx_fd) covering
 * everything its sockets wait for (completions in flight, sends waiting for
 * socket space, the io_uring ring, and received data on sockets with a
 * receive callback, zc_recv_start()), and runs completion callbacks from
 * zc_ctx_process() only (and from close/destroy for the sockets they close;
 * never inside zc_send() or zc_recv()).
 * All calls on a context and its sockets must come from one thread at a
 * time. */
ZC_API int zc_ctx_create(const struct zc_ctx_opts *opts, struct zc_ctx **out);
/* Close every socket (draining as zc_sock_close does), then free. */
ZC_API void zc_ctx_destroy(struct zc_ctx *ctx);
/* A file descriptor that is readable when zc_ctx_process() has work.
 * Asking for it makes the context's io_uring (if any) signal it, which
 * costs a little per completion: blocking zc_ctx_process() calls alone do
 * not need it.  Negative errno if that cannot be set up. */
ZC_API int zc_ctx_fd(struct zc_ctx *ctx);
/* Reap completions, push queued sends, deliver received data to receive
 * callbacks, run due flush/shutdown callbacks.  Waits up to timeout_ms (0:
 * do not wait, -1: forever) for the first event.  Returns the number of
 * callbacks run (of every kind), or a negative errno. */
ZC_API int zc_ctx_process(struct zc_ctx *ctx, int timeout_ms);

/* How sends go out. */
enum zc_tx_mode {
	/* The policy picks per send and learns: copy, or MSG_ZEROCOPY (also
	 * when the context has an io_uring: no ring needed; pin ZC_TX_URING*
	 * for SEND_ZC).  tx_by_mode says which carried each send. */
	ZC_TX_AUTO = 0,
	ZC_TX_COPY,	   /* send()/sendmsg(): always copied */
	ZC_TX_MSGZC,	   /* MSG_ZEROCOPY */
	ZC_TX_URING,	   /* io_uring SEND_ZC / SENDMSG_ZC */
	ZC_TX_URING_FIXED, /* io_uring SEND_ZC from registered regions */
	/* devmem TCP: payload sent from a dma-buf bound to the interface
	 * (ifindex; dmabuf_fd with ZC_SOCK_DMABUF); zc_send()'s memory
	 * lies in zc_sock_dev_region().  Linux 6.15+, CAP_NET_ADMIN, a NIC
	 * with netmem TX. */
	ZC_TX_DEVMEM,
	/* Same-host channel over an AF_UNIX stream socket: memory shared
	 * once at attach, sends from zc_sock_region() pass descriptors only;
	 * with ZC_RX_SHM on both ends (see zc_sock_attach(3)).  Never
	 * picked by auto. */
	ZC_TX_SHM,
	ZC_TX_MODE_COUNT, /* the transports a socket can be attached with */
	/* Mechanisms of file sends only (zc_send_file(), the file_tx option),
	 * numbered after the socket transports so that ZC_TX_MODE_COUNT still
	 * counts those.  The kernel reports nothing about their copies. */
	ZC_TX_SENDFILE = ZC_TX_MODE_COUNT, /* sendfile(2) */
	ZC_TX_SPLICE, /* splice(2) file -> pipe -> socket */
	/* io_uring SPLICE, file -> pipe -> socket as two linked SQEs on the
	 * context's ring; only when asked for (auto never picks it). */
	ZC_TX_URING_SPLICE,
};

/* Values zc_completion.tx and zc_stats.tx_by_mode may take: socket
 * transports and file mechanisms. */
#define ZC_TX_ANY_COUNT (ZC_TX_URING_SPLICE + 1)

/* How zc_recv() receives. */
enum zc_rx_mode {
	/* TCP: ZC_RX_TCPMMAP while the policy sees most bytes mapped (at
	 * least 75% of each 256 KiB window), else recv() with doubling
	 * back-offs before it tries again: buffers may be read-only mapped
	 * pages, use ZC_RX_COPY to write into them.  UDP: ZC_RX_COPY. */
	ZC_RX_AUTO = 0,
	ZC_RX_COPY,    /* recv() into pool buffers */
	ZC_RX_URING,   /* io_uring multishot recv into a provided buffer ring */
	ZC_RX_TCPMMAP, /* TCP_ZEROCOPY_RECEIVE: pages mapped, not copied;
			* what cannot be mapped is copied (TCP only) */
	/* io_uring zero-copy receive: the NIC writes payload into an area of
	 * this process (ifindex, rx_queue).  Linux 6.15+, CAP_NET_ADMIN, a
	 * NIC with header split, flow steering to rx_queue (TCP only). */
	ZC_RX_ZCRX,
	/* devmem TCP: payload stays in a dma-buf bound to rx_queue and is
	 * ZC_F_UNREADABLE; headers and stray packets come copied (TCP only).
	 * Linux 6.12+, CAP_NET_ADMIN, the same NIC features as zcrx. */
	ZC_RX_DEVMEM,
	/* The shared-region channel (with ZC_TX_SHM): buffers point into
	 * the peer's region, mapped read-only. */
	ZC_RX_SHM,
	ZC_RX_MODE_COUNT
};

enum zc_sock_flags {
	/* zc_sock_close() leaves the file descriptor open. */
	ZC_SOCK_KEEP_FD = 1u << 0,
	/* A pinned io_uring transport (ZC_TX_URING, ZC_TX_URING_FIXED,
	 * ZC_RX_URING) that cannot have its ring falls back (sends: to
	 * MSG_ZEROCOPY, else copy; receives: to copy) instead of failing
	 * the attach (or the first zc_recv()); zc_stats.uring_error says
	 * why. */
	ZC_SOCK_FALLBACK = 1u << 1,
	/* dmabuf_fd is set: bind the application's dma-buf (devmem); else
	 * zcopy makes one with udmabuf (ZC_RX_DEVMEM only). */
	ZC_SOCK_DMABUF = 1u << 2,
	/* ZC_RX_ZCRX without an interface (Linux 7.1+): the kernel copies
	 * everything into the area; for tests of the zcrx path. */
	ZC_SOCK_ZCRX_NODEV = 1u << 3,
};

/* Options for zc_sock_attach(); zero fields take the defaults. */
struct zc_sock_opts {
	enum zc_tx_mode tx;
	enum zc_rx_mode rx;
	unsigned flags;	       /* ZC_SOCK_* */
	unsigned max_inflight; /* 0: the context's */
	int close_timeout_ms;  /* 0: the context's; <0: do not wait */
	size_t zc_threshold;   /* auto: smallest send worth zero-copy */
	unsigned udp_gso_size; /* UDP: set UDP_SEGMENT to this size */
	size_t rx_buf_size;    /* receive buffer size (65536) */
	unsigned rx_buf_count; /* receive buffers (64; uring: max 32768) */
	/* SO_RCVLOWAT: blocking zc_recv() and readiness wait until this many
	 * bytes are queued (or the peer is done).  Larger values let
	 * ZC_RX_TCPMMAP map more pages per call; only for bulk streams, as a
	 * shorter message then waits for more data.  0: the kernel's (1). */
	int rx_lowat;
	/* Runs when a received buffer is released, before its memory is
	 * reused, with the buffer's segments still valid (NULL: nothing). */
	const struct zc_ubuf_ops *rx_done;
	void *rx_done_arg; /* zc_ubuf_priv() of the ubuf rx_done gets */
	/* ZC_RX_ZCRX, ZC_RX_DEVMEM, ZC_TX_DEVMEM: the interface (if_nametoindex)
	 * and the hardware RX queue the flow is steered to (ethtool -N). */
	unsigned ifindex;
	unsigned rx_queue;
	int dmabuf_fd;		  /* with ZC_SOCK_DMABUF: the dma-buf to bind */
	unsigned zcrx_rq_entries; /* zcrx refill ring (0: rx_buf_count) */
	/* ZC_TX_SHM: bytes of the region zc_sock_region() gives out, a
	 * multiple of 4096 up to 1 GiB (0: 4 MiB); copied sends use a second
	 * area of the same size.  Must be 0 for other modes. */
	uint64_t shm_size;
	/* How zc_send_file() sends: ZC_TX_AUTO (measured: see
	 * zc_send_file(3)), ZC_TX_SENDFILE, ZC_TX_SPLICE,
	 * ZC_TX_URING_SPLICE (needs the context's io_uring, like the pinned
	 * io_uring transports), ZC_TX_COPY (pread and send), ZC_TX_MSGZC or
	 * ZC_TX_URING (the file mapped and sent by that zero-copy transport,
	 * which the socket must have). */
	enum zc_tx_mode file_tx;
	unsigned reserved32; /* must be zero */
	/* Must be zero: room for options of later versions, so that one this
	 * library does not know is refused (-EINVAL), not ignored. */
	uint64_t reserved[4];
};

/* Take over a connected TCP socket, or a UDP socket, connected or not
 * (IPv4 or IPv6, blocking or not; unconnected UDP sends with zc_sendto()),
 * or, with ZC_TX_SHM and ZC_RX_SHM together, a connected AF_UNIX stream
 * socket whose other end attaches the same way: attach then waits for the
 * peer's handshake (up to the close timeout, 2 s if none).
 * Errors: -EBADF, -ENOTSOCK, -EPROTONOSUPPORT (not TCP/UDP),
 * -EAFNOSUPPORT (not IPv4/IPv6; AF_UNIX without shm, shm on another
 * family), -ENOTCONN, -EINVAL (bad options, one shm mode without the
 * other), shm: -ETIMEDOUT (no answer), -EPROTO (the peer answered
 * something else), -ECONNRESET (the peer closed),
 * -EEXIST (the socket is attached already, in any context, through this or
 * another fd), or the error of enabling the chosen transport (e.g.
 * -EOPNOTSUPP). */
ZC_API int zc_sock_attach(struct zc_ctx *ctx, int fd,
			  const struct zc_sock_opts *opts,
			  struct zc_sock **out);
/* Send what is queued, wait for the kernel's completions up to the close
 * timeout, complete the rest as ZC_RESULT_ABANDONED (the kernel may still
 * read that memory), close the fd (unless ZC_SOCK_KEEP_FD) and free.
 * Returns 0, or -ETIMEDOUT if anything was abandoned or cancelled. */
ZC_API int zc_sock_close(struct zc_sock *sock);
ZC_API int zc_sock_fd(const struct zc_sock *sock);
/* ZC_TX_SHM: the region shared with the peer.  Sends whose segments lie
 * in it (a zc_pool over it) pass descriptors only and complete as
 * ZC_RESULT_ZEROCOPY once the receiver released them; the memory must
 * stay untouched until then.  Owned by the socket: destroy pools over it
 * before zc_sock_close(), else the region is left to the application to
 * zc_region_destroy().  -EINVAL (NULL), -EOPNOTSUPP (not a shm socket). */
ZC_API int zc_sock_region(struct zc_sock *sock, struct zc_region **out);

/* Runs once, from zc_ctx_process(): status 0, or the connection's first
 * error (negative errno) if it failed. */
typedef void (*zc_sock_cb)(struct zc_sock *sock, int status, void *arg);
/* Call cb once every send accepted so far has completed (its callback
 * has run): back-pressure without counting.  -EBUSY while an earlier
 * zc_sock_flush() or zc_sock_shutdown() is pending. */
ZC_API int zc_sock_flush(struct zc_sock *sock, zc_sock_cb cb, void *arg);
/* End the stream: refuse new sends (-ESHUTDOWN), let the accepted ones
 * complete, then shutdown(SHUT_WR) (TCP: the peer reads end of stream)
 * and call cb with 0 or the error.  Receiving goes on.  -EBUSY as
 * zc_sock_flush(). */
ZC_API int zc_sock_shutdown(struct zc_sock *sock, zc_sock_cb cb, void *arg);

enum zc_result {
	ZC_RESULT_ZEROCOPY, /* the kernel sent from the caller's pages */
	/* The data was copied, or (why ZC_WHY_UNVERIFIED) zero-copy was not
	 * confirmed; see why. */
	ZC_RESULT_COPIED,
	/* Failed; see error.  Also a zero-copy send the kernel reported on
	 * after the TCP connection failed: it may not have arrived. */
	ZC_RESULT_ERROR,
	ZC_RESULT_ABANDONED, /* socket closed before the kernel confirmed */
};

enum zc_copy_why {
	ZC_WHY_NONE = 0,
	ZC_WHY_KERNEL,	  /* zero-copy was asked for; the kernel copied */
	ZC_WHY_TRANSPORT, /* the copy transport was chosen for the socket */
	ZC_WHY_POLICY,	  /* auto chose to copy (small send, backing off) */
	ZC_WHY_NOBUFS,	  /* zero-copy ran out of optmem/locked pages */
	/* shm: the memory was not in the channel's region (zc_sock_region),
	 * so it was copied once into the channel */
	ZC_WHY_SHM_COPY,
	/* The mechanism (sendfile, splice) reports nothing: the kernel may
	 * have sent from the page cache without a copy, or not.  Neither is
	 * claimed; ZC_COMPL_UNVERIFIED is set too. */
	ZC_WHY_UNVERIFIED,
	ZC_WHY_COUNT
};

/* zc_completion.flags */
enum zc_completion_flags {
	/* Whether the kernel copied is not known (ZC_WHY_UNVERIFIED). */
	ZC_COMPL_UNVERIFIED = 1u << 0,
};

struct zc_completion {
	enum zc_result result;
	enum zc_copy_why why; /* for ZC_RESULT_COPIED */
	int error;	      /* negative errno for ZC_RESULT_ERROR */
	size_t bytes;	      /* bytes the kernel accepted */
	/* Transport that carried (most of) it: copy, msgzc, uring,
	 * uring-fixed, devmem or shm, never auto; file sends also sendfile
	 * or splice. */
	enum zc_tx_mode tx;
	unsigned flags;	      /* ZC_COMPL_*; ignore flags you do not know */
	uint32_t reserved[4]; /* zero: room for later fields */
};

/* Runs exactly once per accepted send: after it returns the memory may be
 * reused (for ZC_RESULT_ABANDONED: only once the process no longer needs
 * to care what the kernel reads). */
typedef void (*zc_send_cb)(struct zc_sock *sock, const struct zc_completion *c,
			   void *arg);

#define ZC_SEND_MAX_IOV 16

/* Send iov[0..iovcnt) as one message.  Returns 0 once the send is accepted:
 * every byte goes out in order (queued while the socket is full), and cb
 * runs exactly once, from a later zc_ctx_process() (or from the close of
 * the socket), never inside zc_send().  The memory must stay untouched
 * until then.  On a negative return nothing was sent and cb
 * never runs.  Errors: -EINVAL (NULL cb, bad iov, zero length), -E2BIG
 * (more than ZC_SEND_MAX_IOV entries), -EOVERFLOW (length overflows),
 * -EMSGSIZE (UDP datagram too large), -EAGAIN (too many sends in flight),
 * -ESHUTDOWN (the socket is closing: a callback run by its close),
 * -EPIPE/-ECONNRESET and other socket errors (UDP: -ECONNREFUSED once an
 * earlier datagram met a closed port). */
ZC_API int zc_send(struct zc_sock *sock, const struct iovec *iov, int iovcnt,
		   zc_send_cb cb, void *arg);
/* As zc_send(), to the address dest (destlen bytes): for unconnected UDP
 * sockets (on a connected one it overrides the peer for this datagram).
 * zc_send() on an unconnected socket fails with -EDESTADDRREQ.  Errors as
 * zc_send(), and -EINVAL (dest NULL, destlen wrong for its family),
 * -EAFNOSUPPORT (family differs from the socket's), -EISCONN (TCP). */
ZC_API int zc_sendto(struct zc_sock *sock, const struct iovec *iov, int iovcnt,
		     const struct sockaddr *dest, socklen_t destlen,
		     zc_send_cb cb, void *arg);
/* Same, for the segments of buf (which stays the caller's). */
ZC_API int zc_send_buf(struct zc_sock *sock, struct zc_buf *buf, zc_send_cb cb,
		       void *arg);
/* Send bytes [offset, offset + len) of the regular file file_fd (len 0: to
 * the end of the file) on a TCP socket, in stream order with the socket's
 * other sends, by the mechanism of the file_tx option.  Completes exactly
 * once as zc_send() does; until then file_fd must stay open and the range
 * unchanged.  The file's own offset is not used or moved.  Errors as
 * zc_send(), and -EINVAL (offset or the range past the end of the file, a
 * directory or other non-regular file), -ESPIPE (a pipe, FIFO, socket or
 * character device), -EBADF (file_fd not open for reading), -EOPNOTSUPP
 * (UDP, or a file_tx transport the socket lacks).  A file that shrinks
 * under the send completes as ZC_RESULT_ERROR with -ENODATA. */
ZC_API int zc_send_file(struct zc_sock *sock, int file_fd, off_t offset,
			size_t len, zc_send_cb cb, void *arg);

/* Receive the next data (ZC_RX_AUTO on TCP: mapped or copied as for
 * ZC_RX_TCPMMAP, the policy choosing; zc_stats.policy_rx_* count its
 * decisions).  Returns the byte count with *out set to a buffer
 * to give back with zc_sock_release() (or zc_buf_release()), 0 at end of
 * stream, -EAGAIN when nothing is ready (non-blocking sockets), or a
 * negative errno: -ENOBUFS when the application holds every receive buffer
 * (release some; no data is lost), -EPROTONOSUPPORT for ZC_RX_TCPMMAP on a
 * UDP socket.
 * ZC_RX_TCPMMAP: buffers may be pages mapped read-only from the kernel
 * (stats.rx_bytes_mapped counts them): writing to them faults.
 * ZC_RX_URING: the buffer points into a region the kernel received into
 * (no copy in user space); releasing it hands it back to the kernel, and a
 * receive paused because every buffer was held resumes.  Without io_uring it
 * receives by copy (zc_stats.uring_error says why). */
ZC_API ssize_t zc_recv(struct zc_sock *sock, struct zc_buf **out);
/* As zc_recv(), and the sender's address in *from (*fromlen: its size on
 * entry, the address length on return; from may be NULL).  For UDP; on
 * TCP *fromlen is set to 0.  -EOPNOTSUPP with ZC_RX_URING on UDP. */
ZC_API ssize_t zc_recvfrom(struct zc_sock *sock, struct zc_buf **out,
			   struct sockaddr *from, socklen_t *fromlen);

/* Received data, handed out by zc_ctx_process(): n > 0 bytes in buf (give
 * it back with zc_sock_release()), n == 0 at end of stream, n < 0 an error
 * (buf NULL for both; no more calls follow).  from is the sender on UDP
 * sockets (NULL on TCP). */
typedef void (*zc_recv_cb)(struct zc_sock *sock, struct zc_buf *buf, ssize_t n,
			   const struct sockaddr *from, void *arg);
/* Deliver received data to cb from zc_ctx_process(): the context fd
 * becomes readable when data arrives, whatever the receive transport.
 * Replaces an earlier callback.  Errors: -EINVAL, or the error of setting
 * up the receive path. */
ZC_API int zc_recv_start(struct zc_sock *sock, zc_recv_cb cb, void *arg);
/* Stop delivering (data stays queued in the kernel); -EINVAL if not
 * started. */
ZC_API int zc_recv_stop(struct zc_sock *sock);

/* Give back a buffer zc_recv() returned on this socket: as
 * zc_buf_release(), after checking that the buffer is the socket's.
 * Errors: -EINVAL (NULL), -EXDEV (the buffer came from another socket,
 * context or pool), -EALREADY (released already). */
ZC_API int zc_sock_release(struct zc_sock *sock, struct zc_buf *buf);

/* What the auto policy does on a socket now (zc_stats.policy_state). */
enum zc_policy_state {
	ZC_POLICY_PINNED = 0, /* a transport is pinned: no policy */
	ZC_POLICY_PROBING,    /* a few sends try zero-copy; await verdict */
	ZC_POLICY_ZEROCOPY,   /* the kernel confirmed: large sends zero-copy */
	ZC_POLICY_BACKOFF,    /* the kernel copied or ran out: copy a while */
	ZC_POLICY_NO_ZC,      /* no zero-copy transport here: always copy */
};

/* Why auto receives the way it does now (zc_stats.policy_rx_why). */
enum zc_policy_why {
	ZC_PWHY_NONE = 0,  /* not auto, or nothing received yet */
	ZC_PWHY_MEASURING, /* the other path's cost is not known yet */
	ZC_PWHY_CHEAPER,   /* measured cheaper than the other path */
	ZC_PWHY_KERNEL,	   /* the kernel cannot do the other (nothing maps) */
	ZC_PWHY_PROBING,   /* measuring the other path again, for a window */
	ZC_PWHY_SMALL,	   /* send: below the zero-copy threshold */
};

/* Register region with the context's io_uring as a fixed buffer, pinning
 * its pages once: sends of ZC_TX_URING_FIXED sockets that lie inside it
 * then skip per-send pinning.  Errors: -EINVAL (NULL), -EBUSY (registered
 * already, here or in another context), -EACCES (unreadable region),
 * -ENOSPC (64 regions registered), -ENOMEM (RLIMIT_MEMLOCK too low, without
 * CAP_IPC_LOCK), or why the context has no io_uring (-EOPNOTSUPP under
 * ZC_CTX_NO_URING, -ENOSYS/-EPERM when blocked).  Linux 5.19+. */
ZC_API int zc_ctx_register_region(struct zc_ctx *ctx, struct zc_region *region);
/* Undo zc_ctx_register_region(); sends in flight keep their pages until
 * they complete.  -EINVAL if not registered, -EXDEV if registered with
 * another context. */
ZC_API int zc_ctx_unregister_region(struct zc_ctx *ctx,
				    struct zc_region *region);

/* Entries of the per-reason and per-transport arrays of zc_stats. */
#define ZC_STATS_SLOTS 12

struct zc_stats {
	uint64_t sends;	      /* accepted sends */
	uint64_t bytes;	      /* bytes of accepted sends */
	uint64_t completions; /* callbacks run */
	uint64_t zerocopy;    /* completed as ZC_RESULT_ZEROCOPY */
	uint64_t copied;      /* completed as ZC_RESULT_COPIED */
	/* Copied, by reason (enum zc_copy_why); room for ZC_STATS_SLOTS
	 * reasons, so the array keeps its size as reasons are added. */
	uint64_t copied_why[ZC_STATS_SLOTS];
	uint64_t fallbacks;    /* sends moved to copy after an error */
	uint64_t errors;       /* completed as ZC_RESULT_ERROR */
	uint64_t abandoned;    /* completed as ZC_RESULT_ABANDONED */
	uint64_t inflight;     /* accepted, not yet completed */
	uint64_t queued_waits; /* times a send waited for socket space */
	/* Sends per transport (enum zc_tx_mode), room as above. */
	uint64_t tx_by_mode[ZC_STATS_SLOTS];
	uint64_t rx_bytes;	    /* bytes handed out by zc_recv() */
	uint64_t rx_bytes_mapped;   /* of which mapped, not copied */
	uint64_t rx_bytes_copied;   /* of which copied */
	uint64_t bad_notifications; /* kernel reports of unknown ids */
	int last_error; /* last socket error seen (negative errno) */
	/* The auto policy's decisions (sends with ZC_TX_AUTO, receives with
	 * ZC_RX_AUTO); zero when a transport is pinned by option. */
	enum zc_policy_state policy_state;
	uint64_t policy_threshold;    /* smallest send tried zero-copy */
	uint64_t policy_zc;	      /* sends it let try zero-copy */
	uint64_t policy_copy_small;   /* sends it copied: below threshold */
	uint64_t policy_copy_backoff; /* copied: backing off or waiting */
	uint64_t policy_backoffs;     /* times it stopped trying zero-copy */
	uint64_t policy_retries;      /* times it tried zero-copy again */
	uint64_t policy_backoff_len;  /* length of the next back-off, sends */
	uint64_t policy_rx_map;	      /* receives it let map pages */
	uint64_t policy_rx_copy;      /* receives it copied */
	uint64_t policy_rx_backoffs;  /* times it stopped mapping */
	/* Why io_uring was not used (negative errno, see zc_strerror); 0 if
	 * it was, or was not asked for. */
	int uring_error;
	/* io_uring sends from registered regions (fixed buffers). */
	uint64_t fixed_sends;
	/* What auto measured: CPU nanoseconds per MiB moved on each path, in
	 * the calls that moved it (0: not measured yet).  Receive: copied
	 * (recv) or mapped (TCP_ZEROCOPY_RECEIVE); send: copied or
	 * zero-copy (only measured once the kernel confirmed zero-copy). */
	uint64_t policy_rx_cost_copy;
	uint64_t policy_rx_cost_map;
	uint64_t policy_tx_cost_copy;
	uint64_t policy_tx_cost_zc;
	uint64_t policy_rx_probes; /* windows spent measuring the other path */
	uint64_t policy_rx_switches; /* times a cheaper path took over */
	uint64_t policy_tx_probes;
	uint64_t policy_tx_switches;
	/* The receive path auto uses now (ZC_RX_COPY or ZC_RX_TCPMMAP) and
	 * why (enum zc_policy_why). */
	enum zc_rx_mode policy_rx_using;
	int policy_rx_why;
	/* Why the pinned device transport (ZC_RX_ZCRX, ZC_RX_DEVMEM;
	 * ZC_TX_DEVMEM) was refused (negative errno): set when
	 * ZC_SOCK_FALLBACK moved the socket to another transport. */
	int rx_error;
	int tx_error;
	/* Of rx_bytes: received without a copy, as the kernel confirmed
	 * (devmem payload; zcrx on kernels with copy counters, the rest of
	 * which count as rx_bytes_copied). */
	uint64_t rx_bytes_zerocopy;
	/* Of rx_bytes: received by zcrx on a kernel that does not say
	 * whether it copied (before Linux 7.1): not verified. */
	uint64_t rx_bytes_unverified;
	/* The transport auto sends with now (ZC_TX_COPY or its zero-copy
	 * transport) and why (enum zc_policy_why); ZC_TX_AUTO and
	 * ZC_PWHY_NONE when a transport is pinned or nothing was sent. */
	enum zc_tx_mode policy_tx_using;
	int policy_tx_why;
	/* Zeroed by the library.  Later fields come out of this space, so
	 * the struct keeps its size and a program built against an older
	 * header is never written past its end. */
	uint64_t reserved[5];
};

ZC_API int zc_sock_stats(const struct zc_sock *sock, struct zc_stats *out);
/* The device memory of a ZC_RX_ZCRX, ZC_RX_DEVMEM or ZC_TX_DEVMEM socket
 * as a region: the zcrx area, or a stand-in for the dma-buf
 * (ZC_REGION_UNREADABLE: never touch it) whose offsets are dma-buf
 * offsets.  ZC_TX_DEVMEM sends must lie inside it.  -EINVAL (NULL),
 * -EOPNOTSUPP (another mode, or the socket fell back), or the error of
 * setting up the receive path. */
ZC_API int zc_sock_dev_region(struct zc_sock *sock, struct zc_region **out);
/* "auto", "copy", "msgzc", "uring", "uring-fixed", "devmem", "shm";
 * receive:
 * "auto", "copy", "uring", "tcpmmap", "zcrx", "devmem", "shm"; NULL if out of
 * range. */
ZC_API const char *zc_tx_mode_name(enum zc_tx_mode mode);
ZC_API const char *zc_rx_mode_name(enum zc_rx_mode mode);
ZC_API const char *zc_result_name(enum zc_result result);
ZC_API const char *zc_why_name(enum zc_copy_why why);
/* "pinned", "probing", "zerocopy", "backoff", "no-zc": for logs and the
 * CLI's view of zc_stats.policy_state; NULL if out of range. */
ZC_API const char *zc_policy_state_name(enum zc_policy_state state);

#ifdef __cplusplus
}
#endif

#endif
