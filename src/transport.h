/* SPDX-License-Identifier: MIT */
/*
 * What a transport sees.  A transport is one way of moving bytes between a
 * socket and the kernel (plain copies, MSG_ZEROCOPY, io_uring, mapped
 * receive).  It fills an ops table and owns its system calls; it sees its
 * socket only through struct zc_tsock, its sends only as struct zc_req, and
 * the rest of zcopy only through the few services declared here.  The
 * socket layer (sock.c, send.c, recv.c, ctx.c) decides which transport
 * carries what; transports never look at contexts, policies or each other.
 */
#ifndef ZC_SRC_TRANSPORT_H
#define ZC_SRC_TRANSPORT_H

#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <zcopy/zcopy.h>

#include "buf.h"
#include "tracker.h"
#include "ubuf.h"

struct zc_uring;

/* The transport's view of a socket. */
struct zc_tsock {
	int fd;
	int domain; /* AF_INET, AF_INET6, or AF_UNIX (shm) */
	int type;   /* SOCK_STREAM or SOCK_DGRAM */
	bool nonblock;
	bool unconnected; /* UDP without a peer: sends name theirs */
	/* Set by a receive that left nothing queued (a stream read shorter
	 * than asked): the next one would only say -EAGAIN. */
	bool rx_drained;
	/* Bytes the last receive took from the kernel, set by the copying
	 * pool: a read that filled several buffers hands them out over
	 * several receives, the later ones taking nothing (0). */
	size_t rx_moved;
	/* Bytes copied by mapped receives that found a page or more queued
	 * and could map none of it (tcpmmap). */
	uint64_t rx_unmappable;
	struct zc_sock_opts opts;
	void *tx_priv;	       /* the send transport's state */
	void *rx_priv;	       /* the receive transport's state */
	void *file_priv;       /* the file mechanisms' state (pipe, buffer) */
	struct zc_tracker ids; /* MSG_ZEROCOPY completion ids */
	struct zc_stats stats;
};

/*
 * The source of a file send (zc_send_file): bytes [off, off + buf.len) of
 * fd.  The request's buf then has no segments, except under the map
 * mechanism, whose one segment points into the mapping.
 */
struct zc_file_src {
	int fd;
	off_t off;
	void *map; /* the map mechanism's mapping (page aligned), or NULL */
	size_t map_len;
	/* sendfile/splice unsupported for this file: go on by read (auto) */
	bool may_fall_back;
};

/*
 * One send.  Lives in a per-socket array (no malloc per send); the buf
 * holds the caller's segments and the refcounted ubuf counts what is
 * still out: one reference while bytes remain unsent plus one per kernel
 * completion id.
 */
struct zc_req {
	struct zc_tsock *sock;
	const struct zc_tx_ops *tx;
	zc_send_cb cb;
	void *arg;
	size_t sent;		  /* bytes handed to the kernel */
	int error;		  /* first error, negative errno */
	uint8_t why;		  /* enum zc_copy_why if copied */
	bool kernel_copied;	  /* a completion said "copied" */
	bool abandoned;		  /* teardown gave up on an id */
	bool notified;		  /* the kernel reported on a completion id */
	bool zc_ok;		  /* what the last ubuf put said */
	bool is_file;		  /* the bytes come from file, not segs */
	socklen_t destlen;	  /* 0: the socket's peer */
	struct sockaddr_in6 dest; /* or a sockaddr_in */
	struct zc_file_src file;
	/* Free list, send queue, or the context's list of completions
	 * waiting for their callback. */
	struct zc_req *next;
	struct zc_buf buf;
	struct zc_ubuf ubuf;
	struct zc_seg segs[ZC_SEND_MAX_IOV];
};

enum zc_tx_ops_flags {
	/* Requests wait for the ring's results, not for socket space. */
	ZC_TXO_RING = 1u << 0,
	/* A file mechanism: reads the file of a file request itself (the
	 * others send a file request's mapping, zc_file_map()). */
	ZC_TXO_FILE = 1u << 1,
};

/*
 * A send transport.
 * push: hand as much of req to the kernel as it takes.  0: all of it is
 *       with the kernel; -EAGAIN: the socket is full (or a result is
 *       awaited), the rest stays queued; other negative errno: failed.
 *       Never runs a completion callback (completions are queued).
 * reap: collect completions (error queue, CQEs).
 * fini: optional; the socket is going: give up what the kernel still owes.
 */
struct zc_tx_ops {
	const char *name;
	enum zc_tx_mode mode;
	unsigned flags; /* ZC_TXO_* */
	int (*init)(struct zc_tsock *sock);
	int (*push)(struct zc_tsock *sock, struct zc_req *req);
	void (*reap)(struct zc_tsock *sock);
	void (*fini)(struct zc_tsock *sock);
	/* Optional: device memory that sends must lie in (devmem). */
	struct zc_region *(*region)(struct zc_tsock *sock);
};

enum zc_rx_flags {
	ZC_RXF_COPY = 1u << 0,	 /* copy this time, map nothing */
	ZC_RXF_NOWAIT = 1u << 1, /* never block (a receive callback) */
	/* The caller receives until drained (a receive callback): one
	 * stream recv() may fill several buffers. */
	ZC_RXF_BATCH = 1u << 2,
};

/* Where a datagram came from (len 0: not known, or a stream). */
struct zc_rx_from {
	struct sockaddr_storage addr;
	socklen_t len;
};

enum zc_rx_ops_flags {
	/* Data arrives through the ring, which calls zc_tsock_defer();
	 * others are woken by the socket's EPOLLIN. */
	ZC_RXO_RING = 1u << 0,
	/* Reports the sender's address (zc_rx_from). */
	ZC_RXO_FROM = 1u << 1,
};

/* Receive buffers of the copying transports (rx_buf_size, rx_buf_count). */
#define ZC_RX_BUF_SIZE 65536
#define ZC_RX_BUF_COUNT 64
/*
 * They start this far into a page, as malloc()'s do.  The kernel's copy of
 * page-aligned data (a loopback sender's page frags) into a page-aligned
 * buffer runs into 4 KiB aliasing: a plain recv() loop into a page-aligned
 * buffer ran at 0.89x the same loop 16 bytes off (64 bytes: 0.98x), its
 * sender's CPU per GB 1.12x, at 128 KiB.
 */
#define ZC_RX_SKEW 16

/* A receive transport, behind zc_recv(). */
struct zc_rx_ops {
	const char *name;
	enum zc_rx_mode mode;
	unsigned flags; /* ZC_RXO_* */
	int (*init)(struct zc_tsock *sock);
	/* Same returns as zc_recv(); flags ZC_RXF_*; from (may be NULL)
	 * gets the sender's address, if the transport can tell. */
	ssize_t (*recv)(struct zc_tsock *sock, struct zc_buf **out,
			unsigned flags, struct zc_rx_from *from);
	/* True while the application holds received buffers. */
	bool (*busy)(struct zc_tsock *sock);
	/* True if buf was handed out by this socket's receive path (held or
	 * already released); zc_sock_release() refuses the others. */
	bool (*owns)(struct zc_tsock *sock, const struct zc_buf *buf);
	/* Optional: resume receiving after a pause. */
	void (*kick)(struct zc_tsock *sock);
	/* Optional: the device memory received into (zcrx, devmem). */
	struct zc_region *(*region)(struct zc_tsock *sock);
	/* The socket is going; buffers the application still holds stay
	 * valid and free what is left when the last is released. */
	void (*fini)(struct zc_tsock *sock);
};

extern const struct zc_tx_ops zc_tx_copy;
extern const struct zc_tx_ops zc_tx_msgzc;
extern const struct zc_tx_ops zc_tx_uring;
extern const struct zc_tx_ops zc_tx_uring_fixed;
/* File mechanisms (transport_file.c): requests with is_file only. */
extern const struct zc_tx_ops zc_tx_sendfile;
extern const struct zc_tx_ops zc_tx_splice;
extern const struct zc_tx_ops zc_tx_fread; /* pread() + send() */
/* IORING_OP_SPLICE on the context's ring (flagged ZC_TXO_RING too). */
extern const struct zc_tx_ops zc_tx_uring_splice;
/* send() from the range's mapping (zc_file_map), by auto only. */
extern const struct zc_tx_ops zc_tx_fmap;
extern const struct zc_rx_ops zc_rx_copy;
extern const struct zc_rx_ops zc_rx_tcpmmap;
extern const struct zc_rx_ops zc_rx_uring;
extern const struct zc_rx_ops zc_rx_zcrx;
extern const struct zc_rx_ops zc_rx_devmem;
extern const struct zc_tx_ops zc_tx_devmem;
extern const struct zc_tx_ops zc_tx_shm;
extern const struct zc_rx_ops zc_rx_shm;

/* The shm socket's region (zc_sock_region). */
int zc_tx_shm_region(struct zc_tsock *sock, struct zc_region **out);

/* ---- the request API ---------------------------------------------------- */

static inline size_t zc_req_left(const struct zc_req *req)
{
	return req->buf.len - req->sent;
}

/* The result n of one send call in a push loop: 0 to go on (bytes went,
 * counted in req->sent, or EINTR), else what the push returns: -EAGAIN
 * when the socket is full, or the error. */
static inline int zc_req_advance(struct zc_req *req, ssize_t n)
{
	if (n > 0) {
		req->sent += (size_t)n;
		return 0;
	}
	if (n == 0 || errno == EAGAIN)
		return -EAGAIN;
	return errno == EINTR ? 0 : -errno;
}

/* The msghdr for the unsent part of req (with its destination, if any);
 * iov has ZC_SEND_MAX_IOV entries. */
void zc_req_msghdr(const struct zc_req *req, struct msghdr *msg,
		   struct iovec *iov);
/* One send()/sendmsg() of the unsent part of req with flags; what the
 * system call returns (errno set on -1). */
ssize_t zc_req_sendmsg(struct zc_tsock *sock, const struct zc_req *req,
		       int flags);
/* Send the rest of req with plain sendmsg(): the copy transport, and every
 * transport's fallback. */
int zc_copy_push(struct zc_tsock *sock, struct zc_req *req, int flags);
/* The copy transport's first send() of a new request (req->sent is 0):
 * what the system call returns (errno set on -1). */
ssize_t zc_copy_send_once(struct zc_tsock *sock, const struct zc_req *req);
/* One sendmsg() of what is left of req with flags, for zc_msgzc_push():
 * what the system call returns (errno set on -1). */
typedef ssize_t (*zc_msgzc_send_fn)(struct zc_tsock *sock,
				    const struct zc_req *req, int flags);
/* Push req with MSG_ZEROCOPY through send (NULL: zc_req_sendmsg), each
 * call taking a completion id; out of optmem or locked pages the rest
 * goes by copy if copy_ok, else the error stays.  Returns as push. */
int zc_msgzc_push(struct zc_tsock *sock, struct zc_req *req,
		  zc_msgzc_send_fn send, bool copy_ok);
/* Collect MSG_ZEROCOPY completions from the error queue into sock->ids. */
void zc_msgzc_reap(struct zc_tsock *sock);
/* Zero-copy ran out of optmem or locked pages: the rest of req goes by
 * copy; returns what zc_copy_push() does. */
int zc_req_fall_back(struct zc_req *req);
/* The kernel reported on one completion id of req (zc_track_fn). */
void zc_req_id_done(void *cookie, uint32_t id, enum zc_track_how how,
		    void *arg);

/* ---- file sends (transport_file.c) --------------------------------------- */

/* Check that [off, off + *len) of fd can be sent (*len 0: to the end of
 * the file): 0, -EBADF (not open), -ESPIPE (pipe, socket, character
 * device), -EINVAL (other non-regular files, the range past the end),
 * -EOVERFLOW.  Whether fd is open for reading is left to the mechanism. */
int zc_file_check(int fd, off_t off, size_t *len);
/* The mechanism of an auto send of len bytes on sock: under
 * ZC_POLICY_FILE_READ_MAX zc_tx_fread; from it on zc_tx_fmap to a peer on
 * this host (loopback, where the receiver copies and a copy just made is
 * the faster source), zc_tx_sendfile to others. */
const struct zc_tx_ops *zc_file_auto(struct zc_tsock *sock, size_t len);
/* Map req's file range and make it req's one segment, for a zero-copy
 * transport to send (the map mechanism).  0 or negative errno. */
int zc_file_map(struct zc_req *req);
/* The request is done with its file: unmap what zc_file_map() mapped. */
void zc_file_release(struct zc_req *req);
/* err from pushing a file request, in file terms: a fault on a mapping
 * whose file shrank is -ENODATA. */
int zc_file_error(struct zc_req *req, int err);
/* The socket is going: free the file mechanisms' state. */
void zc_file_fini(struct zc_tsock *sock);

/* ---- services of the socket layer --------------------------------------- */

/* A socket-level error (ICMP, reset) seen by the transport. */
void zc_tsock_error(struct zc_tsock *t, int err);
/* A result for t came outside a push (an io_uring send result, data or a
 * stopped receive): process() will push its queue and resume or deliver
 * its receives.  Touches only this socket, never a scan of all. */
void zc_tsock_defer(struct zc_tsock *t);
/* The context's io_uring, created on first use; the error if it cannot be
 * had. */
int zc_tsock_uring(struct zc_tsock *t, struct zc_uring **out);
/* Reap the context's ring: every socket's CQEs, not only this one's. */
void zc_tsock_uring_reap(struct zc_tsock *t);
/* Watch fd (a doorbell the peer writes) in the context's epoll set for
 * this socket, and the socket itself for hang-ups, until the socket goes:
 * a readable fd runs the send transport's reap and the socket's work (its
 * queue, the receive callback) from zc_ctx_process(); close waits on it
 * too.  The fd must stay open as long as the socket. */
int zc_tsock_watch(struct zc_tsock *t, int fd);

/* Count n bytes handed out by copy in the socket's statistics. */
static inline void zc_tsock_count_copied(struct zc_tsock *sock, size_t n)
{
	sock->stats.rx_bytes += n;
	sock->stats.rx_bytes_copied += n;
}

#endif
