/* SPDX-License-Identifier: MIT */
/*
 * zcopy probe, sending: MSG_ZEROCOPY by raw system calls and through
 * libzcopy, io_uring SEND_ZC with and without fixed buffers.  Each sends a
 * few 64 KiB messages and counts what the kernel's completions say.
 */
#include <errno.h>
#include <liburing.h>
#include <poll.h>
#include <stdio.h>
#include <sys/socket.h>

#include <zcopy/zcopy.h>

#include "compat.h"
#include "benchcore.h"
#include "probe.h"

#define SENDS 16
#define AUTO_SENDS 64
#define TCP_LEN 65536
#define UDP_LEN 16384
#define WAIT_MS 5000 /* for completions: a loaded machine is slow */

#define HINT_COPIED                                                  \
	"loopback and veth always copy: zero-copy needs a real NIC " \
	"(zcopy's auto policy copies here)"
#define HINT_NOBUFS "out of optmem: raise net.core.optmem_max"
#define HINT_MEMLOCK "raise RLIMIT_MEMLOCK (ulimit -l) to pin buffers"
#define HINT_URING                                                  \
	"io_uring is off: sysctl kernel.io_uring_disabled=0, or a " \
	"seccomp filter blocks it"

static const char *hint_for(int err)
{
	switch (err) {
	case ENOBUFS:
		return HINT_NOBUFS;
	case ENOMEM:
		return HINT_MEMLOCK;
	case EPERM:
	case ENOSYS:
		return HINT_URING;
	default:
		return NULL;
	}
}

void probe_result_done(struct probe_result *r)
{
	probe_verdict(r);
	if (r->err)
		r->hint = hint_for(r->err);
	else if (r->copied)
		r->hint = HINT_COPIED;
}

/* ---- MSG_ZEROCOPY by raw system calls ---------------------------------- */

void probe_msgzc_reap(int fd, struct probe_result *r)
{
	struct bc_zc_count c = { 0 };

	bc_reap_msgzc(fd, &c);
	r->zerocopy += c.zerocopy;
	r->copied += c.copied;
}

/* WAIT_MS from now, by the clock: a poll() that returns at once (an
 * error pending on the socket) must not use the wait up in a moment. */
static uint64_t wait_deadline(void)
{
	return bc_now_ns() + (uint64_t)WAIT_MS * 1000000;
}

static void reap_all(int fd, uint64_t issued, struct probe_result *r)
{
	uint64_t deadline = wait_deadline();

	probe_msgzc_reap(fd, r);
	while (r->zerocopy + r->copied < issued && bc_now_ns() < deadline) {
		poll(&(struct pollfd){ .fd = fd }, 1, 10);
		probe_msgzc_reap(fd, r);
	}
	if (r->zerocopy + r->copied < issued && !r->err)
		r->err = ETIMEDOUT;
}

int probe_msgzc_send(int fd, const void *buf, size_t len,
		     struct probe_result *r)
{
	for (int tries = 0; tries < 100; tries++) {
		if (send(fd, buf, len, MSG_ZEROCOPY) >= 0)
			return 0;
		if (errno != ENOBUFS && errno != EINTR)
			return errno;
		/* Out of optmem until notifications are reaped. */
		poll(&(struct pollfd){ .fd = fd }, 1, 10);
		probe_msgzc_reap(fd, r);
	}
	return ENOBUFS;
}

static void sends_detail(struct probe_result *r, int sends, size_t len)
{
	if (len % 1024)
		snprintf(r->detail, sizeof(r->detail), "%d sends of %zu bytes",
			 sends, len);
	else
		snprintf(r->detail, sizeof(r->detail), "%d sends of %zu KiB",
			 sends, len / 1024);
}

void probe_msgzc_on(int fd, size_t len, int sends, struct probe_result *r)
{
	void *buf = bc_pages(len);
	uint64_t issued = 0;
	int one = 1;

	if (!buf) {
		r->err = ENOMEM;
		return;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof(one)))
		r->err = errno;
	for (int i = 0; i < sends && !r->err; i++) {
		r->err = probe_msgzc_send(fd, buf, len, r);
		issued += !r->err;
	}
	reap_all(fd, issued, r);
	bc_free_pages(buf, len);
	sends_detail(r, sends, len);
}

void probe_msgzc(const struct probe_path *path, int type,
		 struct probe_result *r)
{
	struct bc_drain d = { 0 };
	size_t len = TCP_LEN;
	int fd[2];

	probe_result_init(r, type == SOCK_STREAM ? "msgzc-tcp" : "msgzc-udp",
			  path);
	r->err = -probe_pair(path, type, 0, fd);
	if (r->err)
		return;
	if (type == SOCK_DGRAM)
		len = probe_udp_len(fd[0], UDP_LEN);
	r->err = -bc_drain_start(&d, fd[1], -1);
	if (!r->err) {
		probe_msgzc_on(fd[0], len, SENDS, r);
		bc_drain_stop(&d);
	}
	probe_pair_close(fd);
	probe_result_done(r);
}

/* ---- MSG_ZEROCOPY and the auto policy through libzcopy ----------------- */

static void lib_done(struct zc_sock *sock, const struct zc_completion *c,
		     void *arg)
{
	struct probe_result *r = arg;

	(void)sock;
	if (c->result == ZC_RESULT_ZEROCOPY)
		r->zerocopy++;
	else if (c->result == ZC_RESULT_COPIED && c->why == ZC_WHY_KERNEL)
		r->copied++;
	else if (c->result == ZC_RESULT_ERROR && !r->err)
		r->err = -c->error;
}

static int lib_send(struct zc_ctx *ctx, struct zc_sock *sock, void *buf,
		    struct probe_result *r)
{
	struct iovec iov = { .iov_base = buf, .iov_len = TCP_LEN };
	int ret;

	while ((ret = zc_send(sock, &iov, 1, lib_done, r)) == -EAGAIN)
		zc_ctx_process(ctx, 10);
	zc_ctx_process(ctx, 0);
	return ret;
}

/* Wait for the completions, then describe what the socket did. */
static void lib_detail(struct zc_ctx *ctx, struct zc_sock *sock, int sends,
		       struct probe_result *r)
{
	struct zc_stats st;

	uint64_t deadline = wait_deadline();

	zc_sock_stats(sock, &st);
	while (st.inflight && bc_now_ns() < deadline) {
		zc_ctx_process(ctx, 10);
		zc_sock_stats(sock, &st);
	}
	if (st.policy_state == ZC_POLICY_PINNED)
		snprintf(r->detail, sizeof(r->detail),
			 "%d sends of 64 KiB via zc_send()", sends);
	else
		snprintf(r->detail, sizeof(r->detail),
			 "policy %s: %llu of %d sends tried zero-copy, "
			 "%llu back-offs",
			 zc_policy_state_name(st.policy_state),
			 (unsigned long long)st.policy_zc, sends,
			 (unsigned long long)st.policy_backoffs);
}

static void lib_run(struct zc_ctx *ctx, int fd, bool auto_mode,
		    struct probe_result *r)
{
	struct zc_sock_opts o = { .tx = auto_mode ? ZC_TX_AUTO : ZC_TX_MSGZC,
				  .flags = ZC_SOCK_KEEP_FD };
	int sends = auto_mode ? AUTO_SENDS : SENDS;
	void *buf = bc_pages(TCP_LEN);
	struct zc_sock *sock;
	int ret = -ENOMEM;

	if (buf)
		ret = zc_sock_attach(ctx, fd, &o, &sock);
	if (ret) {
		r->err = -ret;
		goto out;
	}
	for (int i = 0; i < sends && !ret; i++)
		ret = lib_send(ctx, sock, buf, r);
	lib_detail(ctx, sock, sends, r);
	zc_sock_close(sock);
	if (ret && !r->err)
		r->err = -ret;
out:
	bc_free_pages(buf, TCP_LEN);
}

void probe_lib_msgzc(const struct probe_path *path, int auto_mode,
		     struct probe_result *r)
{
	struct zc_ctx *ctx;
	struct bc_drain d = { 0 };
	int fd[2];

	probe_result_init(r, auto_mode ? "zcopy-auto-tcp" : "zcopy-msgzc-tcp",
			  path);
	r->err = -probe_pair(path, SOCK_STREAM, 0, fd);
	if (r->err)
		return;
	r->err = -zc_ctx_create(NULL, &ctx);
	if (!r->err && !(r->err = -bc_drain_start(&d, fd[1], -1))) {
		lib_run(ctx, fd[0], auto_mode, r);
		zc_ctx_destroy(ctx);
		bc_drain_stop(&d);
	}
	probe_pair_close(fd);
	probe_result_done(r);
}

/* ---- io_uring SEND_ZC -------------------------------------------------- */

/* One send: its result CQE, then (if IORING_CQE_F_MORE) its notification
 * saying whether the kernel copied.  Returns a positive errno or 0. */
static int uring_reap_send(struct io_uring *ring, struct probe_result *r)
{
	struct __kernel_timespec ts = { .tv_sec = WAIT_MS / 1000 };
	bool result = false, more = false, notif = false;
	int err = 0;

	while (!result || (more && !notif)) {
		struct io_uring_cqe *cqe;
		int ret = io_uring_wait_cqe_timeout(ring, &cqe, &ts);

		if (ret)
			return -ret;
		if (cqe->flags & IORING_CQE_F_NOTIF) {
			notif = true;
			if (cqe->res & IORING_NOTIF_USAGE_ZC_COPIED)
				r->copied++;
			else
				r->zerocopy++;
		} else {
			result = true;
			more = cqe->flags & IORING_CQE_F_MORE;
			if (cqe->res < 0)
				err = -cqe->res;
		}
		io_uring_cqe_seen(ring, cqe);
	}
	return err;
}

static int uring_send(struct io_uring *ring, int fd, void *buf, size_t len,
		      bool fixed, struct probe_result *r)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	int ret;

	if (fixed)
		io_uring_prep_send_zc_fixed(sqe, fd, buf, len, MSG_WAITALL,
					    IORING_SEND_ZC_REPORT_USAGE, 0);
	else
		io_uring_prep_send_zc(sqe, fd, buf, len, MSG_WAITALL,
				      IORING_SEND_ZC_REPORT_USAGE);
	ret = io_uring_submit(ring);
	if (ret < 0)
		return -ret;
	return uring_reap_send(ring, r);
}

static void uring_run(struct io_uring *ring, int fd, size_t len, int sends,
		      bool fixed, struct probe_result *r)
{
	struct iovec iov = { .iov_len = len };

	iov.iov_base = bc_pages(len);
	if (!iov.iov_base) {
		r->err = ENOMEM;
		return;
	}
	if (fixed)
		r->err = -io_uring_register_buffers(ring, &iov, 1);
	for (int i = 0; i < sends && !r->err; i++)
		r->err = uring_send(ring, fd, iov.iov_base, len, fixed, r);
	bc_free_pages(iov.iov_base, len);
}

void probe_uring_send_zc_on(int fd, size_t len, int sends,
			    struct probe_result *r)
{
	struct io_uring ring;

	sends_detail(r, sends, len);
	r->err = -io_uring_queue_init(8, &ring, 0);
	if (r->err)
		return;
	uring_run(&ring, fd, len, sends, false, r);
	io_uring_queue_exit(&ring);
}

void probe_uring_send_zc(const struct probe_path *path, bool fixed,
			 struct probe_result *r)
{
	struct io_uring ring;
	struct bc_drain d = { 0 };
	int fd[2];

	probe_result_init(r, fixed ? "uring-send-zc-fixed" : "uring-send-zc",
			  path);
	snprintf(r->detail, sizeof(r->detail), "%d sends of 64 KiB%s", SENDS,
		 fixed ? " from a registered buffer" : "");
	r->err = -io_uring_queue_init(8, &ring, 0);
	if (r->err)
		goto out;
	r->err = -probe_pair(path, SOCK_STREAM, 0, fd);
	if (!r->err && !(r->err = -bc_drain_start(&d, fd[1], -1))) {
		uring_run(&ring, fd[0], TCP_LEN, SENDS, fixed, r);
		bc_drain_stop(&d);
	}
	probe_pair_close(fd);
	io_uring_queue_exit(&ring);
out:
	probe_result_done(r);
}
