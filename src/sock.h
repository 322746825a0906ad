/* SPDX-License-Identifier: MIT */
/* Contexts, sockets and send requests: shared by the transports. */
#ifndef ZC_SRC_SOCK_H
#define ZC_SRC_SOCK_H

#include <sys/socket.h>

#include <zcopy/zcopy.h>

#include "buf.h"
#include "policy.h"
#include "tracker.h"
#include "ubuf.h"

struct zc_sock;
struct zc_req;
struct zc_uring;

/*
 * A send transport fills this table and owns its system calls.
 * push: hand as much of req to the kernel as it takes.  0: all of it is
 *       with the kernel; -EAGAIN: the socket is full, the rest stays
 *       queued; other negative errno: the request failed.
 * reap: collect completions (error queue, CQEs); returns callbacks run.
 * fini: optional; the socket is going: give up what the kernel still owes.
 */
struct zc_tx_ops {
	const char *name;
	enum zc_tx_mode mode;
	int (*init)(struct zc_sock *sock);
	int (*push)(struct zc_sock *sock, struct zc_req *req);
	int (*reap)(struct zc_sock *sock);
	void (*fini)(struct zc_sock *sock);
};

/* A receive path behind zc_recv(). */
struct zc_rx_ops {
	const char *name;
	enum zc_rx_mode mode;
	int (*init)(struct zc_sock *sock);
	ssize_t (*recv)(struct zc_sock *sock, struct zc_buf **out);
	/* True while the application holds received buffers. */
	bool (*busy)(struct zc_sock *sock);
	/* True if buf was handed out by this socket's receive path (held or
	 * already released); zc_sock_release() refuses the others. */
	bool (*owns)(struct zc_sock *sock, const struct zc_buf *buf);
	/* Optional: resume receiving after a pause (process() calls it for
	 * sockets queued with zc_sock_defer_flush). */
	void (*kick)(struct zc_sock *sock);
	void (*fini)(struct zc_sock *sock);
};

extern const struct zc_tx_ops zc_tx_copy;
extern const struct zc_tx_ops zc_tx_msgzc;
extern const struct zc_tx_ops zc_tx_uring;
extern const struct zc_tx_ops zc_tx_uring_fixed;
/* True for the io_uring send transports. */
bool zc_tx_is_uring(const struct zc_tx_ops *tx);
extern const struct zc_rx_ops zc_rx_copy;
extern const struct zc_rx_ops zc_rx_tcpmmap;

/*
 * Pool buffers for receive paths that copy (rx copy, and the fallbacks of
 * the zero-copy paths): rx_buf_count buffers of rx_buf_size bytes.
 */
struct zc_rx_pool {
	struct zc_region *region;
	struct zc_pool *pool;
};

int zc_rx_pool_init(struct zc_sock *sock, struct zc_rx_pool *rp);
void zc_rx_pool_fini(struct zc_rx_pool *rp);
bool zc_rx_pool_busy(const struct zc_rx_pool *rp);
bool zc_rx_pool_owns(const struct zc_rx_pool *rp, const struct zc_buf *buf);
/* One recv() of up to len bytes with flags (plus MSG_DONTWAIT on
 * non-blocking sockets), retried on EINTR.  Bytes read, 0 at end of
 * stream, or -errno. */
ssize_t zc_rx_recv_into(struct zc_sock *sock, void *dst, size_t len, int flags);
/* Count n bytes handed out by copy in the socket's statistics. */
void zc_rx_count_copied(struct zc_sock *sock, size_t n);
/* A pool buffer filled by one recv() of at most max bytes (0: the buffer
 * size).  Same returns as zc_recv(); -ENOBUFS when every buffer is held. */
ssize_t zc_rx_pool_recv(struct zc_sock *sock, struct zc_rx_pool *rp, size_t max,
			struct zc_buf **out);
/* TCP_ZEROCOPY_RECEIVE: map pages (on, the default) or copy everything
 * (off) from now on.  -EOPNOTSUPP unless the socket was attached with
 * ZC_RX_TCPMMAP (under ZC_RX_AUTO the policy decides every receive), or
 * the error of starting it. */
int zc_rx_tcpmmap_set_mapping(struct zc_sock *sock, bool on);
/* Set up the socket's receive path if zc_recv() has not yet. */
int zc_sock_rx_start(struct zc_sock *sock);
extern const struct zc_rx_ops zc_rx_uring;

/*
 * One send.  Lives in a per-socket array (no malloc per send); the buf
 * holds the caller's segments and the refcounted ubuf counts what is
 * still out: one reference while bytes remain unsent plus one per kernel
 * completion id.
 */
struct zc_req {
	struct zc_sock *sock;
	const struct zc_tx_ops *tx;
	zc_send_cb cb;
	void *arg;
	size_t sent;	    /* bytes handed to the kernel */
	int error;	    /* first error, negative errno */
	uint8_t why;	    /* enum zc_copy_why if copied */
	bool kernel_copied; /* a completion said "copied" */
	bool abandoned;	    /* teardown gave up on an id */
	bool notified;	    /* the kernel reported on a completion id */
	bool zc_ok;	    /* what the last ubuf put said */
	/* Free list, send queue, or the context's list of completions
	 * waiting for their callback. */
	struct zc_req *next;
	struct zc_buf buf;
	struct zc_ubuf ubuf;
	struct zc_seg segs[ZC_SEND_MAX_IOV];
};

struct zc_ctx {
	int epfd;
	unsigned flags;
	unsigned max_inflight;
	int close_timeout_ms;
	struct zc_sock *socks; /* list of attached sockets */
	int ncb;	       /* callbacks run in this process() call */
	int depth;	       /* inside process(): no close/destroy */
	/* Completed sends whose callbacks have not run yet (FIFO): callbacks
	 * run only from process() and close, never inside a push. */
	struct zc_req *done_head, *done_tail;
	/* Sockets with transport results to act on (an io_uring send's
	 * result came): flushed by process(), no scan of every socket. */
	struct zc_sock *flush_head;
	int wake_fd;	 /* eventfd in the epoll set: "process() has work" */
	bool woken;	 /* wake_fd signalled since process() last ran */
	bool in_process; /* inside zc_ctx_process() */
	struct zc_uring *uring;
	/* Created on first use; uring_error says why it could not be. */
	int uring_error;
	unsigned uring_entries; /* SQ size asked for, 0: default */
	bool fd_exported;	/* zc_ctx_fd() was called */
	unsigned nsocks_ep;	/* sockets now in the epoll set */
};

struct zc_sock {
	struct zc_ctx *ctx;
	struct zc_sock *next; /* in ctx->socks */
	int fd;
	int domain; /* AF_INET or AF_INET6 */
	int type;   /* SOCK_STREAM or SOCK_DGRAM */
	bool nonblock;
	bool dead;	   /* peer gone: fail new sends */
	bool closing;	   /* close began: refuse new sends */
	bool flush_queued; /* in ctx->flush_head */
	struct zc_sock *flush_next;
	uint64_t ino; /* socket inode: one attach per socket */
	unsigned flags;
	int close_timeout_ms;
	size_t max_msg; /* UDP payload limit, SIZE_MAX for TCP */
	struct zc_sock_opts opts;
	const struct zc_tx_ops *tx;    /* transport pinned by opts, or NULL */
	const struct zc_tx_ops *tx_zc; /* auto: best zero-copy transport */
	void *tx_priv;
	struct zc_policy policy;
	struct zc_tracker ids; /* MSG_ZEROCOPY completion ids */
	uint32_t ep_events;    /* registered in ctx->epfd (0: not) */
	bool zerocopy_on;      /* SO_ZEROCOPY set */
	struct zc_req *reqs;
	unsigned nreqs;
	struct zc_req *free_reqs;
	struct zc_req *sendq_head, *sendq_tail;
	const struct zc_rx_ops *rx;
	void *rx_priv;
	struct zc_stats stats;
};

/* Tear a socket down as zc_sock_close() does, even from teardown. */
int zc_sock_destroy(struct zc_sock *sock);
/* Join or leave the context's epoll set as the socket's needs changed. */
void zc_sock_ep_update(struct zc_sock *sock);
/* Handle epoll events for a socket. */
void zc_sock_event(struct zc_sock *sock, uint32_t events);

/* Push queued sends until the socket is full. */
void zc_sock_flush(struct zc_sock *sock);
/* A transport result for sock arrived (outside a push): flush it from
 * process(). */
void zc_sock_defer_flush(struct zc_sock *sock);
/* Signal the context fd: process() has work (no-op until zc_ctx_fd() was
 * asked for, or when already signalled). */
void zc_ctx_wake(struct zc_ctx *ctx);
/* A send is complete: its callback runs from process() (or close). */
void zc_ctx_queue_done(struct zc_ctx *ctx, struct zc_req *req);
/* Run req's callback and recycle it. */
void zc_req_deliver(struct zc_req *req);
/* Run the callbacks of completed sends: all of them (sock NULL) or one
 * socket's; at most max callbacks.  Returns the number run. */
int zc_ctx_run_done(struct zc_ctx *ctx, struct zc_sock *sock, int max);
/* Give one kernel completion id's result to its request. */
void zc_req_id_done(void *cookie, uint32_t id, enum zc_track_how how,
		    void *arg);
/* Note a socket-level error (ICMP, reset) seen while reaping. */
void zc_sock_note_error(struct zc_sock *sock, int err);
/* Build the msghdr for the unsent part of req; iov has ZC_SEND_MAX_IOV
 * entries. */
void zc_req_msghdr(const struct zc_req *req, struct msghdr *msg,
		   struct iovec *iov);
/* One send()/sendmsg() of the unsent part of req with flags; what the
 * system call returns (errno set on -1). */
ssize_t zc_req_sendmsg(struct zc_sock *sock, const struct zc_req *req,
		       int flags);
/* Send the rest of req with plain sendmsg(); used by every transport as
 * its fallback. */
int zc_copy_push(struct zc_sock *sock, struct zc_req *req, int flags);
/* Zero-copy ran out of optmem or locked pages: the rest of req goes by
 * copy; returns what zc_copy_push() does. */
int zc_req_fall_back(struct zc_sock *sock, struct zc_req *req);

/* Receive hook for ZC_RX_AUTO: the mapped receive path (tcpmmap) asks
 * before each receive and copies when this says false; it must count its
 * bytes in stats.rx_bytes_mapped / rx_bytes_copied, which the policy
 * measures. */
bool zc_sock_rx_want_map(struct zc_sock *sock);

static inline size_t zc_req_left(const struct zc_req *req)
{
	return req->buf.len - req->sent;
}

#endif
