/* SPDX-License-Identifier: MIT */
/*
 * Contexts and sockets: private to the socket layer (ctx.c, sock.c,
 * send.c, recv.c).  Transports see none of this: they get transport.h.
 */
#ifndef ZC_SRC_SOCK_H
#define ZC_SRC_SOCK_H

#include <stddef.h>
#ifdef ZC_THREAD_CHECK
#include <stdatomic.h>
#endif

#include <zcopy/zcopy.h>

#include "policy.h"
#include "transport.h"

struct zc_uring;

struct zc_ctx {
	int epfd;
	unsigned flags;
	unsigned max_inflight;
	int close_timeout_ms;
	struct zc_sock *socks; /* list of attached sockets */
	int ncb;	       /* callbacks run in this process() call */
	int depth;	       /* inside process() or close: no close */
	bool in_process;       /* inside zc_ctx_process() */
	/* Completed sends whose callbacks have not run yet (FIFO): callbacks
	 * run only from process() and close, never inside a push. */
	struct zc_req *done_head, *done_tail;
	/* Sockets with something for process() to act on (a transport
	 * result, received data): only these are touched per event. */
	struct zc_sock *flush_head;
	int wake_fd; /* eventfd in the epoll set: "process() has work" */
	bool woken;  /* wake_fd signalled since process() last ran */
	struct zc_uring *uring;
	/* Created on first use; uring_error says why it could not be. */
	int uring_error;
	unsigned uring_entries; /* SQ size asked for, 0: default */
	bool fd_exported;	/* zc_ctx_fd() was called */
#ifdef ZC_THREAD_CHECK
	_Atomic int owner;    /* thread inside a call on the context, or 0 */
	unsigned owner_depth; /* its nesting (callbacks calling in) */
#endif
	unsigned nsocks_ep; /* sockets now in the epoll set */
};

struct zc_sock {
	struct zc_tsock t; /* what the transports see */
	struct zc_ctx *ctx;
	struct zc_sock *next, *prev; /* in ctx->socks */
	bool dead;		     /* peer gone: fail new sends */
	bool closing;		     /* close began: refuse new sends */
	bool flush_queued;	     /* in ctx->flush_head */
	struct zc_sock *flush_next;
	uint64_t ino; /* socket inode: one attach per socket */
	int close_timeout_ms;
	size_t max_msg;		       /* UDP payload limit, SIZE_MAX for TCP */
	const struct zc_tx_ops *tx;    /* transport pinned by opts, or NULL */
	const struct zc_tx_ops *tx_zc; /* auto: its zero-copy transport */
	struct zc_policy policy;
	uint32_t ep_events; /* registered in ctx->epfd (0: not) */
	/* Send records, allocated in chunks as sends need them: an idle
	 * socket holds none (see send.c). */
	struct zc_req_chunk *chunks;
	unsigned nreqs, max_reqs;
	struct zc_req *free_reqs;
	struct zc_req *sendq_head, *sendq_tail;
	const struct zc_rx_ops *rx;
	bool rx_copy_only; /* tests: never map (ZC_RX_TCPMMAP) */
	/* Receive callback (zc_recv_start) and its state. */
	zc_recv_cb rx_cb;
	void *rx_arg;
	bool rx_ready; /* data may be queued: try to deliver */
	bool rx_hup;   /* the peer is done: read on to the end of stream */
	bool rx_ended; /* end of stream or an error was delivered */
	/* A TCP error read (and so cleared) from SO_ERROR by an event: the
	 * receive path reports it instead of end of stream. */
	int rx_error;
	/* zc_sock_flush/zc_sock_shutdown: one pending at a time. */
	zc_sock_cb drain_cb;
	void *drain_arg;
	bool shut_wr; /* zc_sock_shutdown: no new sends */
	/* A transport's doorbell in the epoll set (zc_tsock_watch). */
	bool watching;
	int watch_fd;
};

static inline struct zc_sock *zc_sock_of(struct zc_tsock *t)
{
	return (struct zc_sock *)((char *)t - offsetof(struct zc_sock, t));
}

/* ---- one thread at a time (thread.c) ------------------------------------ */

/*
 * ZC_CTX_GUARD(ctx) at the top of a public function: in builds with
 * ZC_THREAD_CHECK, entering marks the context as the calling thread's
 * until the function returns, and a second thread entering meanwhile
 * aborts with a diagnostic.  Elsewhere it costs nothing.
 */
#ifdef ZC_THREAD_CHECK
struct zc_ctx *zc_ctx_enter(struct zc_ctx *ctx);
void zc_ctx_leave(struct zc_ctx **ctx);
#define ZC_CTX_GUARD(c)                                          \
	struct zc_ctx *zc_guard_                                 \
		__attribute__((cleanup(zc_ctx_leave), unused)) = \
			zc_ctx_enter(c)
#else
#define ZC_CTX_GUARD(c) ((void)0)
#endif

/* ---- ctx.c -------------------------------------------------------------- */

/* Signal the context fd: process() has work (no-op until zc_ctx_fd() was
 * asked for, or when already signalled). */
void zc_ctx_wake(struct zc_ctx *ctx);
/* A send is complete: its callback runs from process() (or close). */
void zc_ctx_queue_done(struct zc_ctx *ctx, struct zc_req *req);
/* Run the callbacks of completed sends: all of them (sock NULL) or one
 * socket's; at most max callbacks.  Returns the number run. */
int zc_ctx_run_done(struct zc_ctx *ctx, struct zc_sock *sock, int max);
/* The context's ring, created on first use (the first error is kept). */
int zc_ctx_uring(struct zc_ctx *ctx, struct zc_uring **out);
/* Make the ring signal the context fd; no-op without a ring. */
int zc_ctx_uring_arm(struct zc_ctx *ctx);
/* The ring's eventfd, or -1 without a ring or not armed. */
int zc_ctx_uring_fd(const struct zc_ctx *ctx);

/* ---- sock.c ------------------------------------------------------------- */

/* Tear a socket down as zc_sock_close() does, even from teardown. */
int zc_sock_destroy(struct zc_sock *sock);
/* Join or leave the context's epoll set as the socket's needs changed. */
void zc_sock_ep_update(struct zc_sock *sock);
/* Handle epoll events for a socket. */
void zc_sock_event(struct zc_sock *sock, uint32_t events);
/* Act on what the transports reported for sock (zc_tsock_defer). */
void zc_sock_run(struct zc_sock *sock);

/* ---- send.c ------------------------------------------------------------- */

struct zc_req_chunk;
/* At most n sends in flight; records are allocated on demand. */
void zc_sock_init_reqs(struct zc_sock *sock, unsigned n);
void zc_sock_free_reqs(struct zc_sock *sock);
/* Push queued sends until the socket is full. */
void zc_sock_push_queued(struct zc_sock *sock);
/* True while a queued copy send waits for room in the socket. */
bool zc_sock_waits_for_space(const struct zc_sock *sock);
/* Collect the kernel's completions for the socket's sends. */
void zc_sock_reap(struct zc_sock *sock);
/* Close: cancel what is queued and give up on what the kernel owes. */
void zc_sock_cancel_sends(struct zc_sock *sock);
/* 0 if sock takes a new send with callback cb now (a free record is
 * ready), else the error zc_send() returns. */
int zc_sock_send_check(struct zc_sock *sock, zc_send_cb cb);
/* Accept req, the socket's first free record, filled by the caller, and
 * send it by tx (why: enum zc_copy_why if tx copies, else 0).  Returns
 * what zc_send() does. */
int zc_sock_submit(struct zc_sock *sock, struct zc_req *req,
		   const struct zc_tx_ops *tx, uint8_t why, zc_send_cb cb,
		   void *arg);
/* Run req's callback and recycle it. */
void zc_req_deliver(struct zc_req *req);
/* Choose and start the send transport for the socket's options. */
int zc_sock_tx_setup(struct zc_sock *sock);
/* Run a pending flush/shutdown callback once nothing is in flight. */
void zc_sock_drained(struct zc_sock *sock);

/* ---- send_file.c -------------------------------------------------------- */

/* The file_tx option fits the socket's options: 0 or -EINVAL. */
int zc_sock_file_opts_check(const struct zc_sock_opts *o);
/* At attach: the ring a file_tx of ZC_TX_URING_SPLICE needs. */
int zc_sock_file_setup(struct zc_sock *sock);

/* ---- recv.c ------------------------------------------------------------- */

/* Set up the socket's receive path if zc_recv() has not yet. */
int zc_sock_rx_start(struct zc_sock *sock);
void zc_sock_rx_fini(struct zc_sock *sock);
bool zc_sock_rx_busy(struct zc_sock *sock);
/* Hand received data to the receive callback (from process() only).
 * Returns the callbacks run. */
int zc_sock_rx_deliver(struct zc_sock *sock);
/* True when the socket's fd must report EPOLLIN to the context. */
bool zc_sock_rx_wants_epollin(const struct zc_sock *sock);
/* ---- devsock.c ---------------------------------------------------------- */

/* ZC_RX_ZCRX or ZC_RX_DEVMEM: set up at attach, refusals reported there. */
bool zc_rx_mode_is_dev(enum zc_rx_mode mode);
/* The options of device transports make sense together: 0 or -EINVAL. */
int zc_sock_dev_opts_check(const struct zc_sock_opts *o);

/* TCP_ZEROCOPY_RECEIVE sockets (ZC_RX_TCPMMAP): map pages (on, the
 * default) or copy everything (off) from now on.  -EOPNOTSUPP for other
 * receive modes (under ZC_RX_AUTO the policy decides every receive). */
int zc_rx_tcpmmap_set_mapping(struct zc_sock *sock, bool on);

#endif
