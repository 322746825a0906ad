/* SPDX-License-Identifier: MIT */
/*
 * File mechanisms: the ways zc_send_file() moves a file range into a TCP
 * socket.  sendfile(2); splice(2) from the file into a pipe and from the
 * pipe into the socket; pread(2) into a buffer and send(2) from it (the
 * fallback, always copied).  The fourth, a mapping of the file sent by a
 * zero-copy transport, only maps here (zc_file_map): MSG_ZEROCOPY or
 * SEND_ZC send it like memory and the kernel reports on it as on memory.
 * Auto also copies a mapping by send(2) (fmap), to peers on this host.
 *
 * Only the head of a socket's send queue is ever pushed, so the bytes a
 * mechanism has read but not yet sent (in the pipe, in the buffer) belong
 * to one request: the socket's state remembers which.
 *
 * Kernel rules this file relies on:
 *  - sendfile() and splice() take explicit offsets (off_t *) and leave the
 *    file's own position alone; they return 0 at the end of the file, so
 *    0 before the range is sent means the file shrank;
 *  - sendfile() and splice() into a socket follow the socket's O_NONBLOCK
 *    only (no MSG_DONTWAIT), so a socket the library must not block on
 *    that is blocking is served by pread() + send(MSG_DONTWAIT) instead;
 *  - they take no MSG_NOSIGNAL: writing to a broken connection raises
 *    SIGPIPE in the caller, so the calls run with SIGPIPE blocked and a
 *    SIGPIPE they caused is taken back (sigtimedwait) before unblocking;
 *  - the kernel reports nothing on sendfile()/splice() copies (on a NIC
 *    with scatter-gather they send page-cache pages without a copy, on
 *    loopback the receiver copies), hence ZC_WHY_UNVERIFIED;
 *  - a kernel access to a mapping past the end of its file fails with
 *    EFAULT (MSG_ZEROCOPY's pinning, a copying sendmsg), never SIGBUS:
 *    only user-space reads raise that, and nothing here reads the mapping;
 *  - sendfile() on a file whose file system cannot splice fails with
 *    EINVAL before it moves a byte.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "policy.h"
#include "transport.h"
#include "uring.h"

/* One call's share: sendfile() moves at most 0x7ffff000 bytes anyway. */
#define ZC_FILE_CALL_MAX (1u << 30)
/* The pipe of the splice mechanism, and the buffer of the read one (only
 * the part a range needs is ever written); see bench/README.md ("File
 * sends"): 1 MiB sends moved a 1 GiB file 1.15x as fast as 256 KiB ones. */
#define ZC_FILE_PIPE_SIZE (1u << 20)
#define ZC_FILE_BUF_SIZE (1u << 20)

enum peer_where { PEER_UNKNOWN, PEER_HOST, PEER_AWAY };

struct file_tx {
	struct zc_req *owner; /* whose bytes are staged below */
	bool fd_nonblock;     /* the socket's own O_NONBLOCK */
	enum peer_where peer; /* for auto, once the socket is connected */
	int pipe[2];	      /* splice; -1 until needed */
	size_t pipe_size;
	size_t in_pipe; /* bytes read into the pipe, not yet sent */
	char *buf;	/* read; NULL until needed */
	size_t buf_pos, buf_fill;
	/* io_uring splice: the chain in flight and the results it left. */
	struct zc_uring *u;    /* NULL until needed */
	struct zc_tsock *sock; /* NULL once the socket is going */
	unsigned ring_busy;    /* SQEs of the chain still owed a CQE */
	bool poll_first;       /* the socket was full: wait for room first */
	bool have_fill, have_send;
	int fill_res, send_res;
	size_t fill_len; /* what the chain's file -> pipe splice asked */
};

static int file_state(struct zc_tsock *sock, struct file_tx **out)
{
	struct file_tx *ft = sock->file_priv;
	int fl;

	*out = ft;
	if (!ft) {
		fl = fcntl(sock->fd, F_GETFL);
		if (fl < 0)
			return -EBADF;
		ft = calloc(1, sizeof(*ft));
		if (!ft)
			return -ENOMEM;
		ft->pipe[0] = ft->pipe[1] = -1;
		ft->fd_nonblock = fl & O_NONBLOCK;
		sock->file_priv = ft;
	}
	*out = ft;
	return 0;
}

static void pipe_close(struct file_tx *ft)
{
	if (ft->pipe[0] >= 0) {
		close(ft->pipe[0]);
		close(ft->pipe[1]);
	}
	ft->pipe[0] = ft->pipe[1] = -1;
	ft->in_pipe = 0;
}

/* Bytes staged for an earlier request (one that failed) are not req's:
 * drop them. */
static void file_own(struct file_tx *ft, struct zc_req *req)
{
	if (ft->owner == req)
		return;
	ft->owner = req;
	ft->buf_pos = ft->buf_fill = 0;
	if (ft->in_pipe)
		pipe_close(ft);
}

static void usplice_stop(struct file_tx *ft);

void zc_file_fini(struct zc_tsock *sock)
{
	struct file_tx *ft = sock->file_priv;

	if (!ft)
		return;
	usplice_stop(ft);
	pipe_close(ft);
	free(ft->buf);
	free(ft);
	sock->file_priv = NULL;
}

static off_t req_file_pos(const struct zc_req *req, size_t staged)
{
	return req->file.off + (off_t)(req->sent + staged);
}

static size_t call_len(size_t left, size_t max)
{
	return left < max ? left : max;
}

/* ---- SIGPIPE ------------------------------------------------------------ */

struct sigpipe_guard {
	sigset_t old;
	bool epipe;
};

static void sigpipe_block(struct sigpipe_guard *g)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, &g->old);
	g->epipe = false;
}

static void sigpipe_restore(struct sigpipe_guard *g)
{
	static const struct timespec now = { 0 };
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	/* Ours, unless the caller had SIGPIPE blocked already. */
	if (g->epipe && !sigismember(&g->old, SIGPIPE))
		while (sigtimedwait(&set, NULL, &now) < 0 && errno == EINTR)
			;
	pthread_sigmask(SIG_SETMASK, &g->old, NULL);
}

/* ---- pread() + send() ----------------------------------------------- */

/* The next bytes of the range: those the splice mechanism left in its
 * pipe first (it hands over when it must not block), then the file's. */
static ssize_t buf_read(struct file_tx *ft, const struct zc_req *req)
{
	size_t want = call_len(zc_req_left(req), ZC_FILE_BUF_SIZE);
	ssize_t n;

	if (ft->in_pipe) {
		n = read(ft->pipe[0], ft->buf, call_len(want, ft->in_pipe));
		if (n > 0)
			ft->in_pipe -= (size_t)n;
		return n;
	}
	return pread(req->file.fd, ft->buf, want, req_file_pos(req, 0));
}

static int buf_fill(struct file_tx *ft, const struct zc_req *req)
{
	ssize_t n;

	if (!ft->buf) {
		ft->buf = malloc(ZC_FILE_BUF_SIZE);
		if (!ft->buf)
			return -ENOMEM;
	}
	do
		n = buf_read(ft, req);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -ENODATA; /* the file ended before the range did */
	ft->buf_pos = 0;
	ft->buf_fill = (size_t)n;
	return 0;
}

static int fread_push(struct zc_tsock *sock, struct zc_req *req)
{
	int flags = MSG_NOSIGNAL | (sock->nonblock ? MSG_DONTWAIT : 0);
	struct file_tx *ft;
	int ret = file_state(sock, &ft);

	if (ret)
		return ret;
	file_own(ft, req);
	while (zc_req_left(req)) {
		ssize_t n;

		if (ft->buf_pos == ft->buf_fill) {
			ret = buf_fill(ft, req);
			if (ret)
				return ret;
		}
		n = send(sock->fd, ft->buf + ft->buf_pos,
			 ft->buf_fill - ft->buf_pos, flags);
		if (n > 0)
			ft->buf_pos += (size_t)n;
		ret = zc_req_advance(req, n);
		if (ret)
			return ret;
	}
	return 0;
}

const struct zc_tx_ops zc_tx_fread = {
	.name = "read",
	.flags = ZC_TXO_FILE,
	.mode = ZC_TX_COPY,
	.push = fread_push,
};

/* ---- sendfile() --------------------------------------------------------- */

/* The file cannot be spliced (sendfile's EINVAL before any byte, or no
 * such call): under auto the rest goes by read. */
static bool file_unsupported(const struct zc_req *req, int err)
{
	return req->file.may_fall_back &&
	       (err == EINVAL || err == ENOSYS || err == EOPNOTSUPP);
}

static int fall_back_read(struct zc_tsock *sock, struct zc_req *req)
{
	req->tx = &zc_tx_fread;
	req->why = ZC_WHY_POLICY;
	return fread_push(sock, req);
}

/* The socket must not block now but would (pread() + send() can say
 * MSG_DONTWAIT), or the read mechanism has bytes of the request staged
 * already: those go first. */
static bool go_by_read(const struct zc_tsock *sock, const struct file_tx *ft)
{
	return (sock->nonblock && !ft->fd_nonblock) ||
	       ft->buf_pos < ft->buf_fill;
}

static int sendfile_loop(struct zc_tsock *sock, struct zc_req *req,
			 struct file_tx *ft, struct sigpipe_guard *g)
{
	(void)ft;
	while (zc_req_left(req)) {
		off_t off = req_file_pos(req, 0);
		ssize_t n =
			sendfile(sock->fd, req->file.fd, &off,
				 call_len(zc_req_left(req), ZC_FILE_CALL_MAX));

		if (n > 0) {
			req->sent += (size_t)n;
			continue;
		}
		if (n == 0)
			return -ENODATA;
		if (errno == EAGAIN)
			return -EAGAIN;
		if (errno == EINTR)
			continue;
		g->epipe = errno == EPIPE;
		return -errno;
	}
	return 0;
}

typedef int (*file_loop_fn)(struct zc_tsock *sock, struct zc_req *req,
			    struct file_tx *ft, struct sigpipe_guard *g);

/* sendfile and splice: their loop with SIGPIPE held back, by read when
 * they must not block or the file cannot be spliced (auto). */
static int guarded_push(struct zc_tsock *sock, struct zc_req *req,
			file_loop_fn loop)
{
	struct sigpipe_guard g;
	struct file_tx *ft;
	int ret = file_state(sock, &ft);

	if (ret)
		return ret;
	file_own(ft, req);
	if (go_by_read(sock, ft))
		return fread_push(sock, req); /* takes a pipe's bytes first */
	sigpipe_block(&g);
	ret = loop(sock, req, ft, &g);
	sigpipe_restore(&g);
	if (ret < 0 && file_unsupported(req, -ret))
		return fall_back_read(sock, req);
	return ret;
}

static int sendfile_push(struct zc_tsock *sock, struct zc_req *req)
{
	return guarded_push(sock, req, sendfile_loop);
}

const struct zc_tx_ops zc_tx_sendfile = {
	.name = "sendfile",
	.flags = ZC_TXO_FILE,
	.mode = ZC_TX_SENDFILE,
	.push = sendfile_push,
};

/* ---- splice(): file -> pipe -> socket ----------------------------------- */

static int pipe_open(struct file_tx *ft)
{
	int sz;

	if (ft->pipe[0] >= 0)
		return 0;
	if (pipe2(ft->pipe, O_CLOEXEC))
		return -errno;
	/* A larger pipe moves more per call; the default (64 KiB) stays
	 * if /proc/sys/fs/pipe-max-size forbids it. */
	sz = fcntl(ft->pipe[1], F_SETPIPE_SZ, (int)ZC_FILE_PIPE_SIZE);
	if (sz < 0)
		sz = fcntl(ft->pipe[1], F_GETPIPE_SZ);
	ft->pipe_size = sz > 0 ? (size_t)sz : 65536;
	return 0;
}

/* Read the next part of the range into the (empty) pipe. */
static int pipe_fill(struct file_tx *ft, const struct zc_req *req)
{
	loff_t off = req_file_pos(req, 0);
	ssize_t n;

	do
		n = splice(req->file.fd, &off, ft->pipe[1], NULL,
			   call_len(zc_req_left(req), ft->pipe_size),
			   SPLICE_F_MOVE);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -ENODATA;
	ft->in_pipe = (size_t)n;
	return 0;
}

static int splice_loop(struct zc_tsock *sock, struct zc_req *req,
		       struct file_tx *ft, struct sigpipe_guard *g)
{
	int ret = pipe_open(ft);

	if (ret)
		return ret;
	while (zc_req_left(req)) {
		unsigned flags = SPLICE_F_MOVE;
		ssize_t n;

		if (!ft->in_pipe) {
			ret = pipe_fill(ft, req);
			if (ret)
				return ret;
		}
		if (zc_req_left(req) > ft->in_pipe)
			flags |= SPLICE_F_MORE;
		n = splice(ft->pipe[0], NULL, sock->fd, NULL, ft->in_pipe,
			   flags);
		if (n > 0) {
			req->sent += (size_t)n;
			ft->in_pipe -= (size_t)n;
			continue;
		}
		if (n == 0 || errno == EAGAIN)
			return -EAGAIN;
		if (errno == EINTR)
			continue;
		g->epipe = errno == EPIPE;
		return -errno;
	}
	return 0;
}

static int splice_push(struct zc_tsock *sock, struct zc_req *req)
{
	return guarded_push(sock, req, splice_loop);
}

const struct zc_tx_ops zc_tx_splice = {
	.name = "splice",
	.flags = ZC_TXO_FILE,
	.mode = ZC_TX_SPLICE,
	.push = splice_push,
};

/* ---- io_uring splice: file -> pipe -> socket, linked ------------------- */

/*
 * Each push hands the ring one chain and returns; its CQEs only record
 * results (the socket layer may be anywhere then), the next push applies
 * them.  A chain is "file -> pipe" linked to "pipe -> socket" when the pipe
 * is empty, else "pipe -> socket" alone, after a POLLOUT poll if the socket
 * said -EAGAIN (IORING_OP_SPLICE runs in io-wq and follows the socket's
 * O_NONBLOCK; it does not wait for room).  A file -> pipe splice shorter
 * than asked breaks the link: the second ends -ECANCELED and what the
 * pipe got goes with the next chain.  The socket side raises no SIGPIPE
 * in the application: io-wq workers run with every signal blocked, so the
 * kernel's signal stays pending on the worker (tests/test_file.c, reset).
 */

/* Longest wait at close for the CQEs of a cancelled chain. */
#define ZC_USPLICE_CANCEL_MS 1000

static void usplice_cqe_done(struct file_tx *ft)
{
	/* The whole chain is back: the request may go on. */
	if (!--ft->ring_busy && ft->sock)
		zc_tsock_defer(ft->sock);
}

static void usplice_fill_cqe(void *owner, const struct io_uring_cqe *cqe)
{
	struct file_tx *ft = owner;

	ft->fill_res = cqe->res;
	ft->have_fill = true;
	usplice_cqe_done(ft);
}

static void usplice_send_cqe(void *owner, const struct io_uring_cqe *cqe)
{
	struct file_tx *ft = owner;

	ft->send_res = cqe->res;
	ft->have_send = true;
	usplice_cqe_done(ft);
}

/* A poll's mask says nothing the splice after it will not: a failed poll
 * cancels that splice. */
static void usplice_poll_cqe(void *owner, const struct io_uring_cqe *cqe)
{
	(void)cqe;
	usplice_cqe_done(owner);
}

/* The file -> pipe result of the last chain.  0 or negative errno. */
static int usplice_fill_result(struct file_tx *ft)
{
	int res = ft->fill_res;

	ft->have_fill = false;
	if (res > 0) {
		ft->in_pipe += (size_t)res;
		return 0;
	}
	if (res == 0)
		return -ENODATA; /* the file ended before the range did */
	return res == -EINTR || res == -EAGAIN ? 0 : res;
}

/* The pipe -> socket result of the last chain; short_fill: its file ->
 * pipe splice was short or failed, which cancels this one. */
static int usplice_send_result(struct file_tx *ft, struct zc_req *req,
			       bool short_fill)
{
	int res = ft->send_res;

	ft->have_send = false;
	ft->poll_first = false;
	if (res > 0) {
		req->sent += (size_t)res;
		ft->in_pipe -= (size_t)res;
		return 0;
	}
	if (res == 0 || res == -EAGAIN) {
		ft->poll_first = true;
		return 0;
	}
	if (res == -EINTR || (res == -ECANCELED && short_fill))
		return 0;
	return res;
}

/* Apply what the last chain's CQEs said.  0: go on. */
static int usplice_results(struct file_tx *ft, struct zc_req *req)
{
	bool short_fill = false;
	int ret = 0;

	if (ft->have_fill) {
		short_fill =
			ft->fill_res < 0 || (size_t)ft->fill_res < ft->fill_len;
		ret = usplice_fill_result(ft);
	}
	if (ft->have_send) {
		int err = usplice_send_result(ft, req, short_fill);

		if (!ret)
			ret = err;
	}
	return ret;
}

/* The SQE of one link of the chain (link: more follow). */
static struct io_uring_sqe *usplice_sqe(struct file_tx *ft, zc_uring_fn fn)
{
	struct io_uring_sqe *sqe = zc_uring_sqe(ft->u, fn, ft, ft);

	if (sqe)
		ft->ring_busy++;
	return sqe;
}

/* Queue the first link of a chain, if the pipe or the socket needs one. */
static int usplice_head(struct file_tx *ft, struct zc_tsock *sock,
			const struct zc_req *req, struct io_uring_sqe **head)
{
	*head = NULL;
	if (!ft->in_pipe) {
		ft->fill_len = call_len(zc_req_left(req), ft->pipe_size);
		*head = usplice_sqe(ft, usplice_fill_cqe);
		if (!*head)
			return -ENOMEM;
		io_uring_prep_splice(*head, req->file.fd, req_file_pos(req, 0),
				     ft->pipe[1], -1, (unsigned)ft->fill_len,
				     SPLICE_F_MOVE);
	} else if (ft->poll_first) {
		*head = usplice_sqe(ft, usplice_poll_cqe);
		if (!*head)
			return -ENOMEM;
		io_uring_prep_poll_add(*head, sock->fd, POLLOUT);
	}
	return 0;
}

/* Hand the ring the next chain for req. */
static int usplice_submit(struct file_tx *ft, struct zc_tsock *sock,
			  const struct zc_req *req)
{
	unsigned flags = SPLICE_F_MOVE;
	struct io_uring_sqe *head, *sqe;
	size_t len;
	int ret;

	/* Room for the whole chain: a link must not be cut by a full SQ. */
	if (io_uring_sq_space_left(&ft->u->ring) < 2)
		zc_uring_submit(ft->u);
	ret = usplice_head(ft, sock, req, &head);
	if (ret)
		return ret;
	len = ft->in_pipe ? ft->in_pipe : ft->fill_len;
	if (zc_req_left(req) > len)
		flags |= SPLICE_F_MORE;
	sqe = usplice_sqe(ft, usplice_send_cqe);
	if (sqe) {
		if (head)
			head->flags |= IOSQE_IO_LINK;
		io_uring_prep_splice(sqe, ft->pipe[0], -1, sock->fd, -1,
				     (unsigned)len, flags);
	} else if (!head) {
		return -ENOMEM;
	} /* else the head goes alone: the next chain sends what it read */
	zc_uring_submit(ft->u);
	return 0;
}

static int usplice_push(struct zc_tsock *sock, struct zc_req *req)
{
	struct file_tx *ft;
	int ret = file_state(sock, &ft);

	if (ret)
		return ret;
	if (!ft->u) {
		ret = zc_tsock_uring(sock, &ft->u);
		if (ret)
			return ret;
		ft->sock = sock;
	}
	/* Close's drain, or a context that does not wait on the ring's
	 * eventfd, come here without reaping it. */
	if (ft->ring_busy)
		zc_uring_submit(ft->u);
	if (ft->ring_busy)
		return -EAGAIN;
	file_own(ft, req);
	ret = pipe_open(ft);
	while (!ret && !ft->ring_busy) {
		ret = usplice_results(ft, req);
		if (ret || !zc_req_left(req))
			break;
		ret = usplice_submit(ft, sock, req);
	}
	if (ret && ret != -EAGAIN)
		pipe_close(ft); /* the pipe's bytes were req's: drop them */
	return ret ? ret : ft->ring_busy ? -EAGAIN : 0;
}

/* The socket is going and a chain may be in the kernel: cancel it and
 * wait (bounded) for its CQEs.  The request, completed -ECANCELED by now
 * but not yet delivered, counts what the last splice still moved; if the
 * CQEs do not come its bytes may still go out: abandoned, as close says. */
static void usplice_stop(struct file_tx *ft)
{
	struct zc_uring *u = ft->u;
	struct zc_req *req = ft->owner;

	ft->sock = NULL;
	if (!u || !ft->ring_busy || !req)
		return;
	zc_uring_cancel_fd(u, ft->pipe[1]);
	zc_uring_cancel_fd(u, req->sock->fd); /* poll, pipe -> socket */
	for (int ms = 0; ft->ring_busy && ms < ZC_USPLICE_CANCEL_MS; ms += 10)
		zc_uring_wait_timeout(u, 10);
	if (ft->have_send && ft->send_res > 0)
		req->sent += (size_t)ft->send_res;
	if (ft->ring_busy) {
		req->abandoned = true;
		zc_uring_orphan(u, ft, NULL);
	}
}

const struct zc_tx_ops zc_tx_uring_splice = {
	.name = "uring-splice",
	.flags = ZC_TXO_FILE | ZC_TXO_RING,
	.mode = ZC_TX_URING_SPLICE,
	.push = usplice_push,
};

/* ---- send() from a mapping ---------------------------------------------- */

/* The mapped range copied by send(): one copy on the sender instead of
 * pread's two, and skbs as freshly written for a receiver on this host.
 * At most ZC_FILE_BUF_SIZE per call: each call ends by pushing what it
 * queued, where one huge send() would hold its bytes back until the
 * socket buffer is full, and the receiver would wait. */
static int fmap_push(struct zc_tsock *sock, struct zc_req *req)
{
	int flags = MSG_NOSIGNAL | (sock->nonblock ? MSG_DONTWAIT : 0);
	const char *p = (const char *)req->file.map +
			(req->file.map_len - req->buf.len);

	while (zc_req_left(req)) {
		ssize_t n = send(sock->fd, p + req->sent,
				 call_len(zc_req_left(req), ZC_FILE_BUF_SIZE),
				 flags);
		int ret = zc_req_advance(req, n);

		if (ret)
			return ret;
	}
	return 0;
}

const struct zc_tx_ops zc_tx_fmap = {
	.name = "map-copy",
	.mode = ZC_TX_COPY,
	.push = fmap_push,
};

/* ---- auto --------------------------------------------------------------- */

/* ss as an IPv6 address (IPv4 mapped); false for other families. */
static bool addr6(const struct sockaddr_storage *ss, struct in6_addr *out)
{
	if (ss->ss_family == AF_INET6) {
		*out = ((const struct sockaddr_in6 *)ss)->sin6_addr;
		return true;
	}
	if (ss->ss_family != AF_INET)
		return false;
	memset(out, 0, sizeof(*out));
	out->s6_addr[10] = out->s6_addr[11] = 0xff;
	memcpy(&out->s6_addr[12], &((const struct sockaddr_in *)ss)->sin_addr,
	       4);
	return true;
}

static bool loop4(const struct in6_addr *a)
{
	return IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127;
}

/* Whether the connection stays on this host: the kernel routes one to
 * the host's own address over loopback, where both ends have that address
 * (::1 too), or both are in 127.0.0.0/8.  1, 0 or -errno (not connected). */
static int peer_on_host(int fd)
{
	struct sockaddr_storage me = { 0 }, peer = { 0 };
	socklen_t ml = sizeof(me), pl = sizeof(peer);
	struct in6_addr a, b;

	if (getsockname(fd, (struct sockaddr *)&me, &ml) ||
	    getpeername(fd, (struct sockaddr *)&peer, &pl))
		return -errno;
	if (!addr6(&me, &a) || !addr6(&peer, &b))
		return 0;
	return !memcmp(&a, &b, sizeof(a)) || (loop4(&a) && loop4(&b));
}

/* On loopback the receiver copies every byte whatever the sender does;
 * it copies faster from skbs the sender has just written than from cold
 * page-cache pages (sendfile, splice), so a copying send moves large
 * ranges faster there: from the mapping, one copy fewer than pread, once
 * a range is large enough to pay for mapping it (bench/README.md, "File
 * sends"). */
const struct zc_tx_ops *zc_file_auto(struct zc_tsock *sock, size_t len)
{
	bool large = zc_policy_file_tx(len) != ZC_TX_COPY;
	struct file_tx *ft;
	int on_host;

	if (file_state(sock, &ft))
		return large ? &zc_tx_sendfile : &zc_tx_fread;
	if (ft->peer == PEER_UNKNOWN) {
		on_host = peer_on_host(sock->fd);
		if (on_host >= 0)
			ft->peer = on_host ? PEER_HOST : PEER_AWAY;
	}
	if (!large)
		return &zc_tx_fread;
	return ft->peer == PEER_HOST ? &zc_tx_fmap : &zc_tx_sendfile;
}

/* ---- checks, mapping, errors -------------------------------------------- */

static int file_type_check(const struct stat *st)
{
	if (S_ISREG(st->st_mode))
		return 0;
	if (S_ISFIFO(st->st_mode) || S_ISSOCK(st->st_mode) ||
	    S_ISCHR(st->st_mode))
		return -ESPIPE;
	return -EINVAL; /* a directory, a block device */
}

int zc_file_check(int fd, off_t off, size_t *len)
{
	struct stat st;
	int ret;

	/* One system call per send: a file not open for reading is told by
	 * the mechanism's first call (-EBADF, the send refused). */
	if (fd < 0)
		return -EBADF;
	if (fstat(fd, &st))
		return -errno;
	ret = file_type_check(&st);
	if (ret)
		return ret;
	if (off < 0 || off > st.st_size)
		return -EINVAL;
	if (!*len)
		*len = (size_t)(st.st_size - off);
	else if (*len > (size_t)(st.st_size - off))
		return -EINVAL;
	return *len > SSIZE_MAX ? -EOVERFLOW : 0;
}

int zc_file_map(struct zc_req *req)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	off_t base = req->file.off & ~(off_t)(page - 1);
	size_t skip = (size_t)(req->file.off - base);
	size_t len = req->buf.len;
	void *p;
	int ret;

	if (!len)
		return 0;
	/* Only what fstat said is there (zc_file_check): a mapping past the
	 * end of the file would fault on the first page. */
	p = mmap(NULL, skip + len, PROT_READ, MAP_SHARED, req->file.fd, base);
	if (p == MAP_FAILED)
		return errno == EACCES ? -EBADF : -errno; /* not readable */
	req->buf.len = 0;
	ret = zc_buf_add(&req->buf, (char *)p + skip, len);
	if (ret) {
		munmap(p, skip + len);
		return ret;
	}
	req->file.map = p;
	req->file.map_len = skip + len;
	return 0;
}

void zc_file_release(struct zc_req *req)
{
	if (req->file.map)
		munmap(req->file.map, req->file.map_len);
	req->file.map = NULL;
	req->is_file = false;
}

int zc_file_error(struct zc_req *req, int err)
{
	struct stat st;

	if (err != -EFAULT || !req->file.map)
		return err;
	/* The mapping faulted: the file shrank under it. */
	if (!fstat(req->file.fd, &st) &&
	    st.st_size < req->file.off + (off_t)req->buf.len)
		return -ENODATA;
	return err;
}
