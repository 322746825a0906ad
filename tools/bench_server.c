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
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"

#define SESSION_IDLE_MS 30000 /* between runs of one session */
#define ACCEPT_POLL_MS 1000
#define UDP_GRACE_US 100000 /* datagrams still on their way after DONE */
#define DRAIN_MS 10000	    /* TCP: EOF after DONE, at most */
#define BUSY_LINGER_MS 1000 /* a turned-away client reads BUSY and closes */
#define CLOSE_WAIT_MS 10000 /* reverse: senders close within this */

struct run {
	const struct bench_opts *opts;
	int cfd;
	struct zb_run req;
	int lfds[ZB_MAX_STREAMS]; /* listener (TCP) or data sockets (UDP) */
	unsigned nlfds;
	uint64_t cookie;
	struct bench_streams streams;
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

	if (m.error > 4095)
		m.error = EIO;
	return bn_msg_send(cfd, &m, timeout_ms);
}

static int open_sockets(struct run *r)
{
	bool udp = r->req.proto == ZB_UDP;
	int ret;

	r->nlfds = udp ? r->req.streams : 1;
	for (unsigned i = 0; i < r->nlfds; i++) {
		ret = bn_listen_like(r->cfd, udp ? SOCK_DGRAM : SOCK_STREAM,
				     &r->lfds[i]);
		if (!ret && !udp)
			ret = bn_set_mss(r->lfds[i], r->req.mss);
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
	m.ready.nports = (uint16_t)r->nlfds;
	for (unsigned i = 0; i < r->nlfds; i++)
		m.ready.ports[i] = bn_local_port(r->lfds[i]);
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
		ret = bn_accept(r->lfds[0], left, &fd);
		if (ret)
			return ret;
		ret = bn_read_full(fd, &cookie, sizeof(cookie),
				   r->opts->timeout_ms);
		if (!ret && cookie == r->cookie) {
			r->streams.fd[i] = fd;
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
		struct pollfd pfd = { .fd = r->lfds[i], .events = POLLIN };
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		uint64_t cookie;
		int64_t left = end - bc_now_us();
		ssize_t n;

		if (left <= 0 || poll(&pfd, 1, (int)(left / 1000) + 1) <= 0)
			return -ETIMEDOUT;
		n = recvfrom(r->lfds[i], &cookie, sizeof(cookie), MSG_DONTWAIT,
			     (struct sockaddr *)&ss, &len);
		if (n != sizeof(cookie) || cookie != r->cookie)
			continue;
		if (connect(r->lfds[i], (struct sockaddr *)&ss, len))
			return -errno;
		r->streams.fd[i] = r->lfds[i];
		r->lfds[i] = -1; /* the streams own it now */
		return 0;
	}
}

static int accept_streams(struct run *r)
{
	bool udp = r->req.proto == ZB_UDP;
	int ret = 0;

	for (unsigned i = 0; i < r->req.streams && !ret; i++) {
		ret = udp ? accept_udp(r, i) : accept_tcp(r, i);
		if (!ret)
			r->streams.n++;
	}
	return ret;
}

/* Every stream connected, then their threads around GO: receivers, or
 * senders that send for the run's duration (-R).  A stream that never
 * came is the run's error (*err), not the session's. */
static int start_streams(struct run *r, int *err)
{
	int64_t t0;

	*err = accept_streams(r);
	return bench_streams_go(&r->streams, r->cfd, &r->opts->server_cpus,
				(int64_t)r->req.duration_ms * 1000,
				r->opts->timeout_ms, err, &t0);
}

static void run_close(struct run *r)
{
	bench_streams_stop(&r->streams);
	bench_streams_join(&r->streams, -1);
	bench_streams_close(&r->streams);
	for (unsigned i = 0; i < r->nlfds; i++)
		if (r->lfds[i] >= 0)
			close(r->lfds[i]);
	r->nlfds = 0;
}

/* This end of every stream (STREAM each), then the run (RESULT). */
static int send_report(struct run *r, int err)
{
	struct zb_msg m = { .type = ZB_STREAM };
	int ret = 0;

	for (unsigned i = 0; i < r->req.streams && !ret; i++) {
		m.stream.index = (uint16_t)i;
		m.stream.side = r->streams.st[i].side;
		ret = bn_msg_send(r->cfd, &m, r->opts->timeout_ms);
	}
	if (ret)
		return ret;
	m = (struct zb_msg){ .type = ZB_RESULT };
	m.result.streams = r->req.streams;
	m.result.span_usec = bench_streams_span(&r->streams);
	m.result.error = err < 0 ? -err : err;
	if (m.result.error > 4095)
		m.result.error = EIO;
	return bn_msg_send(r->cfd, &m, r->opts->timeout_ms);
}

/* The client sends: receive until its DONE, then until every stream
 * ended (TCP: EOF; UDP: what is still on its way). */
static int receive_run(struct run *r)
{
	int wait_ms =
		(int)r->req.duration_ms + 2 * r->opts->timeout_ms + DRAIN_MS;
	struct zb_msg m;
	int ret;

	ret = bn_msg_recv(r->cfd, &m, wait_ms);
	if (!ret && m.type != ZB_DONE)
		ret = -EBADMSG;
	if (ret)
		return ret;
	if (r->req.proto == ZB_UDP) {
		usleep(UDP_GRACE_US);
		bench_streams_stop(&r->streams);
	}
	bench_streams_join(&r->streams, DRAIN_MS);
	return 0;
}

/* -R: the server sends until the run's end.  The client says nothing
 * meanwhile; a message or a hang-up from it stops the senders. */
static int send_run(struct run *r)
{
	int64_t end = bc_now_us() + (int64_t)r->req.duration_ms * 1000;
	int ret = 0;

	while (bc_now_us() < end) {
		struct pollfd pfd = { .fd = r->cfd, .events = POLLIN };
		int left = (int)((end - bc_now_us()) / 1000) + 1;

		if (poll(&pfd, 1, left) > 0) {
			struct zb_msg m;

			ret = bn_msg_recv(r->cfd, &m, r->opts->timeout_ms);
			ret = ret ? ret : -EBADMSG;
			break;
		}
	}
	if (ret)
		bench_streams_stop(&r->streams);
	bench_streams_join(&r->streams, CLOSE_WAIT_MS);
	/* A TCP receiver sees the end of its stream. */
	bench_streams_close(&r->streams);
	return ret;
}

/* One run: data sockets, READY, the data, the report.  Returns an error
 * only when the session cannot go on. */
static int serve_run(const struct bench_opts *o, int cfd,
		     const struct zb_run *req)
{
	bool reverse = req->flags & ZB_RUN_REVERSE;
	struct run *r;
	int ret, err;

	if (req->rx >= ZC_RX_MODE_COUNT || req->tx >= ZC_TX_MODE_COUNT)
		return send_error(cfd, EOPNOTSUPP, o->timeout_ms);
	r = calloc(1, sizeof(*r));
	if (!r)
		return send_error(cfd, ENOMEM, o->timeout_ms);
	r->opts = o;
	r->cfd = cfd;
	r->req = *req;
	for (unsigned i = 0; i < ZB_MAX_STREAMS; i++)
		r->lfds[i] = -1;
	bench_streams_init(&r->streams, &r->req, reverse);
	ret = open_sockets(r);
	if (ret) {
		run_close(r);
		free(r);
		return send_error(cfd, ret, o->timeout_ms);
	}
	ret = send_ready(r);
	if (ret)
		goto out;
	/* After a stream error the report still follows (after the
	 * client's DONE, if it sends). */
	ret = start_streams(r, &err);
	if (ret)
		goto out;
	if (reverse)
		ret = err ? 0 : send_run(r);
	else
		ret = receive_run(r);
	if (!ret)
		ret = send_report(r, err);
out:
	run_close(r);
	free(r);
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
