/* SPDX-License-Identifier: MIT */
/*
 * zcopy bench server: one client session at a time (as iperf3), each run
 * on fresh data sockets.  A peer that sends anything but well-formed
 * messages in order gets an ERROR and is dropped; the server goes on.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#define SESSION_IDLE_MS 30000 /* between runs of one session */
#define ACCEPT_POLL_MS 1000
#define UDP_GRACE_US 100000 /* datagrams still on their way after DONE */
#define DRAIN_MS 10000	    /* TCP: EOF after DONE, at most */
#define BUSY_LINGER_MS 1000 /* a turned-away client reads BUSY and closes */

struct run {
	const struct bench_opts *opts;
	int cfd;
	struct zb_run req;
	int fds[ZB_MAX_STREAMS]; /* listener (TCP) or data sockets (UDP) */
	unsigned nfds;
	int data[ZB_MAX_STREAMS]; /* accepted TCP streams */
	uint64_t cookie;
	struct bench_receiver rcv[ZB_MAX_STREAMS];
	pthread_t th[ZB_MAX_STREAMS];
	unsigned nth;
	atomic_bool stop;
	uint64_t span_us; /* the receivers' first to last byte */
};

static void say(const struct bench_opts *o, int cfd, const char *what)
{
	char peer[128];

	if (o->quiet)
		return;
	bn_peer_host(cfd, peer, sizeof(peer));
	fprintf(stderr, "zcopy bench server: %s: %s\n", peer, what);
}

static int send_error(int cfd, int err, int timeout_ms)
{
	struct zb_msg m = { .type = ZB_ERROR, .error = err < 0 ? -err : err };

	return bn_msg_send(cfd, &m, timeout_ms);
}

static int open_sockets(struct run *r)
{
	bool udp = r->req.proto == ZB_UDP;
	int ret;

	r->nfds = udp ? r->req.streams : 1;
	for (unsigned i = 0; i < r->nfds; i++) {
		r->fds[i] = -1;
		ret = bn_listen_like(r->cfd, udp ? SOCK_DGRAM : SOCK_STREAM,
				     &r->fds[i]);
		if (!ret && !udp)
			ret = bn_set_mss(r->fds[i], r->req.mss);
		if (ret)
			return ret;
	}
	return 0;
}

static int send_ready(struct run *r)
{
	struct zb_msg m = { .type = ZB_READY };

	if (getrandom(&r->cookie, sizeof(r->cookie), 0) != sizeof(r->cookie))
		return -EIO;
	m.ready.cookie = r->cookie;
	m.ready.nports = (uint16_t)r->nfds;
	for (unsigned i = 0; i < r->nfds; i++)
		m.ready.ports[i] = bn_local_port(r->fds[i]);
	return bn_msg_send(r->cfd, &m, r->opts->timeout_ms);
}

/* A TCP stream counts once it has shown the run's cookie. */
static int accept_tcp(struct run *r, unsigned i)
{
	int64_t end = bc_now_us() + (int64_t)r->opts->timeout_ms * 1000;

	for (;;) {
		int left = (int)((end - bc_now_us()) / 1000);
		uint64_t cookie;
		int fd, ret;

		/* Strangers on the data port do not extend the wait. */
		if (left <= 0)
			return -ETIMEDOUT;
		ret = bn_accept(r->fds[0], left, &fd);
		if (ret)
			return ret;
		ret = bn_read_full(fd, &cookie, sizeof(cookie),
				   r->opts->timeout_ms);
		if (!ret && cookie == r->cookie) {
			r->data[i] = fd;
			return 0;
		}
		close(fd);
	}
}

/* A UDP socket is the stream's once a datagram with the cookie came:
 * connect it to that sender. */
static int accept_udp(struct run *r, unsigned i)
{
	int64_t end = bc_now_us() + (int64_t)r->opts->timeout_ms * 1000;

	for (;;) {
		struct pollfd pfd = { .fd = r->fds[i], .events = POLLIN };
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		uint64_t cookie;
		int64_t left = end - bc_now_us();
		ssize_t n;

		if (left <= 0 || poll(&pfd, 1, (int)(left / 1000) + 1) <= 0)
			return -ETIMEDOUT;
		n = recvfrom(r->fds[i], &cookie, sizeof(cookie), MSG_DONTWAIT,
			     (struct sockaddr *)&ss, &len);
		if (n == sizeof(cookie) && cookie == r->cookie)
			return connect(r->fds[i], (struct sockaddr *)&ss, len)
				       ? -errno
				       : 0;
	}
}

static int start_receivers(struct run *r)
{
	const struct bench_cpus *cpus = &r->opts->server_cpus;
	bool udp = r->req.proto == ZB_UDP;
	int ret;

	for (unsigned i = 0; i < r->req.streams; i++) {
		struct bench_receiver *rc = &r->rcv[i];

		ret = udp ? accept_udp(r, i) : accept_tcp(r, i);
		if (ret)
			return ret;
		/* The run keeps the socket: it closes it after the join,
		 * and may shut it down under the receiver before. */
		rc->fd = udp ? r->fds[i] : r->data[i];
		rc->run = &r->req;
		rc->cpu = cpus->n ? cpus->cpu[i % cpus->n] : -1;
		rc->stop = &r->stop;
		ret = -pthread_create(&r->th[i], NULL, bench_recv_stream, rc);
		if (ret)
			return ret;
		r->nth++;
	}
	return 0;
}

/* A receiver blocked in zc_recv() returns when its socket is shut down
 * for reading (end of stream, TCP and UDP alike). */
static void stop_receivers(struct run *r)
{
	atomic_store(&r->stop, true);
	for (unsigned i = 0; i < r->nth; i++)
		shutdown(r->rcv[i].fd, SHUT_RD);
}

/* Join the receivers; TCP ones end at EOF, but not later than DRAIN_MS. */
static void join_receivers(struct run *r, bool wait_eof)
{
	struct timespec end;

	if (!wait_eof) {
		usleep(UDP_GRACE_US);
		stop_receivers(r);
	}
	clock_gettime(CLOCK_REALTIME, &end);
	end.tv_sec += DRAIN_MS / 1000;
	for (unsigned i = 0; i < r->nth; i++) {
		if (pthread_timedjoin_np(r->th[i], NULL, &end)) {
			stop_receivers(r);
			pthread_join(r->th[i], NULL);
		}
	}
	r->span_us = bench_rx_span(r->rcv, r->nth);
	r->nth = 0;
}

static void run_close(struct run *r)
{
	stop_receivers(r);
	join_receivers(r, true);
	for (unsigned i = 0; i < r->nfds; i++)
		if (r->fds[i] >= 0)
			close(r->fds[i]);
	for (unsigned i = 0; i < ZB_MAX_STREAMS; i++)
		if (r->data[i] >= 0)
			close(r->data[i]);
}

static int send_result(struct run *r, int err)
{
	struct zb_msg m = { .type = ZB_RESULT };
	struct zb_result *res = &m.result;

	for (unsigned i = 0; i < r->req.streams; i++)
		bench_rx_add(res, &r->rcv[i].rx);
	res->elapsed_usec = r->span_us;
	/* Keep the shares sane whatever a transport's counters say. */
	if (res->rx_mapped > res->bytes)
		res->rx_mapped = res->bytes;
	if (res->rx_copied > res->bytes - res->rx_mapped)
		res->rx_copied = res->bytes - res->rx_mapped;
	if (err && !res->error)
		res->error = -err;
	if (res->error > 4095)
		res->error = EIO;
	return bn_msg_send(r->cfd, &m, r->opts->timeout_ms);
}

/* One run: data sockets, READY, receive until DONE, RESULT.  Returns an
 * error only when the session cannot go on. */
static int serve_run(const struct bench_opts *o, int cfd,
		     const struct zb_run *req)
{
	struct run r = { .opts = o, .cfd = cfd, .req = *req };
	int wait_ms = (int)req->duration_ms + 2 * o->timeout_ms + DRAIN_MS;
	struct zb_msg m;
	int ret, err;

	memset(r.data, -1, sizeof(r.data));
	if (req->rx >= ZC_RX_MODE_COUNT)
		return send_error(cfd, EOPNOTSUPP, o->timeout_ms);
	ret = open_sockets(&r);
	if (ret) {
		run_close(&r);
		return send_error(cfd, ret, o->timeout_ms);
	}
	ret = send_ready(&r);
	if (ret)
		goto out;
	/* A stream that never came is the run's error, not the session's:
	 * the client still sends DONE. */
	err = start_receivers(&r);
	ret = bn_msg_recv(cfd, &m, wait_ms);
	if (!ret && m.type != ZB_DONE)
		ret = -EBADMSG;
	if (ret)
		goto out;
	join_receivers(&r, req->proto == ZB_TCP);
	ret = send_result(&r, err);
out:
	run_close(&r);
	return ret;
}

static int serve_session(const struct bench_opts *o, int cfd)
{
	for (;;) {
		struct zb_msg m;
		int ret;

		/* Idle between runs is fine; a message, once started, must
		 * arrive within the timeout. */
		ret = bn_wait_readable(cfd, SESSION_IDLE_MS);
		if (!ret)
			ret = bn_msg_recv(cfd, &m, o->timeout_ms);

		if (ret == -EPIPE || (!ret && m.type == ZB_BYE))
			return 0;
		if (!ret && m.type != ZB_RUN)
			ret = -EBADMSG;
		if (!ret)
			ret = serve_run(o, cfd, &m.run);
		if (ret) {
			send_error(cfd, ret, o->timeout_ms);
			return ret;
		}
	}
}

/* While a session runs, later clients hear BUSY instead of waiting. */
struct doorman {
	const struct bench_opts *opts;
	int lfd;
	int wake[2]; /* wake[1] closed: the session is over */
	pthread_t th;
};

/* BUSY, then wait (bounded) for the client to hang up: closing with its
 * RUN unread would reset the connection, and a reset can beat BUSY. */
static void turn_away(const struct bench_opts *o, int fd)
{
	struct zb_msg m = { .type = ZB_BUSY };

	say(o, fd, "turned away: busy with another session");
	if (bn_msg_send(fd, &m, o->timeout_ms))
		return;
	shutdown(fd, SHUT_WR);
	bn_wait_eof(fd, BUSY_LINGER_MS);
}

static void *doorman_run(void *arg)
{
	struct doorman *d = arg;

	for (;;) {
		struct pollfd p[2] = { { .fd = d->lfd, .events = POLLIN },
				       { .fd = d->wake[0], .events = POLLIN } };
		int fd, ret;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents)
			break;
		ret = bn_accept(d->lfd, 0, &fd);
		if (ret == -ETIMEDOUT)
			continue; /* the client gave up already */
		if (ret)
			break;
		turn_away(d->opts, fd);
		close(fd);
	}
	return NULL;
}

/* One session on cfd, with a doorman on lfd meanwhile.  The doorman stops
 * before cfd closes: a client that saw the session end finds the server
 * free. */
static int serve_one(const struct bench_opts *o, int lfd, int cfd)
{
	struct doorman d = { .opts = o, .lfd = lfd, .wake = { -1, -1 } };
	bool door = false;
	int ret;

	say(o, cfd, "session started");
	if (!pipe2(d.wake, O_CLOEXEC)) {
		door = !pthread_create(&d.th, NULL, doorman_run, &d);
		if (!door) {
			close(d.wake[0]);
			close(d.wake[1]);
		}
	}
	ret = serve_session(o, cfd);
	if (door) {
		close(d.wake[1]); /* the doorman's poll sees the hang-up */
		pthread_join(d.th, NULL);
		close(d.wake[0]);
	}
	say(o, cfd, ret ? bn_strerror(ret) : "session ended");
	close(cfd);
	return ret;
}

int bench_serve(const struct bench_opts *o, int lfd)
{
	if (!o->quiet)
		fprintf(stderr, "zcopy bench server: listening on port %u\n",
			bn_local_port(lfd));
	for (;;) {
		int cfd, ret;

		ret = bn_accept(lfd, ACCEPT_POLL_MS, &cfd);
		if (ret == -ETIMEDOUT)
			continue;
		if (ret)
			return ret;
		ret = serve_one(o, lfd, cfd);
		if (o->once)
			return ret;
	}
}
