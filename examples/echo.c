/* SPDX-License-Identifier: MIT */
/*
 * The echo server the examples share; each example plugs it into one event
 * loop (see echo.h).  Every byte received is sent back from the very buffer
 * it arrived in (no copy in user space), and that buffer is released when
 * the send completes.  At end of stream the server shuts down its side once
 * every echo has completed, then closes the socket, outside the callbacks
 * (zc_sock_close() refuses inside them).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "echo.h"

#define MAX_CONNS 1024

struct conn {
	struct zc_sock *sock;
	bool done; /* shut down: close once outside the callbacks */
};

struct server {
	struct zc_ctx *ctx;
	int lfd;	     /* TCP listener */
	struct zc_sock *udp; /* unconnected UDP socket */
	struct conn conns[MAX_CONNS];
	unsigned served, want;
	unsigned long long bytes, datagrams, zerocopy, copied;
	int error;
};

static struct server srv;
static struct in_addr listen_addr; /* -a; 127.0.0.1 by default */
static const char *prog = "echo";

/* The echo of one received buffer went out: give the buffer back. */
static void echoed(struct zc_sock *sock, const struct zc_completion *c,
		   void *arg)
{
	struct zc_buf *buf = arg;

	if (c->result == ZC_RESULT_ZEROCOPY)
		srv.zerocopy++;
	else if (c->result == ZC_RESULT_COPIED)
		srv.copied++;
	else if (!srv.error)
		srv.error = c->error;
	zc_sock_release(sock, buf);
}

static void shut_done(struct zc_sock *sock, int status, void *arg)
{
	struct conn *c = arg;

	(void)sock;
	if (status && !srv.error)
		srv.error = status;
	c->done = true;
}

static void tcp_data(struct zc_sock *sock, struct zc_buf *buf, ssize_t n,
		     const struct sockaddr *from, void *arg)
{
	struct conn *c = arg;
	int ret;

	(void)from;
	if (n <= 0) {
		/* The client is done sending: finish our echoes, then
		 * half-close so that it reads end of stream. */
		if (n < 0 && !srv.error)
			srv.error = (int)n;
		ret = zc_sock_shutdown(sock, shut_done, c);
		if (ret)
			c->done = true;
		return;
	}
	srv.bytes += (unsigned long long)n;
	ret = zc_send_buf(sock, buf, echoed, buf);
	if (ret) {
		fprintf(stderr, "%s: send: %s\n", prog, zc_strerror(ret));
		zc_sock_release(sock, buf);
	}
}

static void udp_data(struct zc_sock *sock, struct zc_buf *buf, ssize_t n,
		     const struct sockaddr *from, void *arg)
{
	struct iovec iov[1];
	int ret;

	(void)arg;
	if (n <= 0 || !from)
		return;
	srv.datagrams++;
	zc_buf_to_iov(buf, iov, 1);
	ret = zc_sendto(sock, iov, 1, from,
			from->sa_family == AF_INET
				? sizeof(struct sockaddr_in)
				: sizeof(struct sockaddr_in6),
			echoed, buf);
	if (ret)
		zc_sock_release(sock, buf);
}

static int accept_one(void)
{
	int fd = accept4(srv.lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	struct conn *c = NULL;
	int ret;

	if (fd < 0)
		return errno == EAGAIN ? 0 : -errno;
	for (unsigned i = 0; i < MAX_CONNS && !c; i++)
		if (!srv.conns[i].sock)
			c = &srv.conns[i];
	if (!c) {
		close(fd);
		return 0;
	}
	ret = zc_sock_attach(srv.ctx, fd, NULL, &c->sock);
	if (!ret)
		ret = zc_recv_start(c->sock, tcp_data, c);
	if (ret) {
		fprintf(stderr, "%s: %s\n", prog, zc_strerror(ret));
		if (c->sock)
			zc_sock_close(c->sock);
		else
			close(fd);
		c->sock = NULL;
	}
	return 1;
}

/* Sockets are closed outside callbacks: zc_sock_close() refuses there. */
static void reap_conns(void)
{
	for (unsigned i = 0; i < MAX_CONNS; i++) {
		struct conn *c = &srv.conns[i];

		if (!c->sock || !c->done)
			continue;
		zc_sock_close(c->sock);
		c->sock = NULL;
		c->done = false;
		srv.served++;
	}
}

static int listen_on(int type, int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port),
				 .sin_addr = listen_addr };
	int one = 1;
	int fd = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    (type == SOCK_STREAM && listen(fd, 128))) {
		int ret = -errno;

		close(fd);
		return ret;
	}
	return fd;
}

static int bound_port(int fd)
{
	struct sockaddr_in a = { 0 };
	socklen_t len = sizeof(a);

	if (getsockname(fd, (struct sockaddr *)&a, &len))
		return -1;
	return ntohs(a.sin_port);
}

static int setup(int port)
{
	int ufd, ret;

	ret = zc_ctx_create(NULL, &srv.ctx);
	if (ret)
		return ret;
	srv.lfd = listen_on(SOCK_STREAM, port);
	if (srv.lfd < 0)
		return srv.lfd;
	ufd = listen_on(SOCK_DGRAM, bound_port(srv.lfd));
	if (ufd < 0)
		return ufd;
	/* Room for bursts from many clients: a full receive buffer drops
	 * datagrams (UDP's rule, not zcopy's). */
	setsockopt(ufd, SOL_SOCKET, SO_RCVBUF, &(int){ 4 << 20 }, sizeof(int));
	ret = zc_sock_attach(srv.ctx, ufd, NULL, &srv.udp);
	if (ret)
		return ret;
	return zc_recv_start(srv.udp, udp_data, NULL);
}

void echo_accept(void)
{
	while (accept_one() > 0)
		;
}

int echo_process(void)
{
	int ret = zc_ctx_process(srv.ctx, 0);

	if (ret < 0)
		return ret;
	reap_conns();
	return 0;
}

bool echo_done(void)
{
	return srv.want && srv.served >= srv.want;
}

int echo_ctx_fd(void)
{
	return zc_ctx_fd(srv.ctx);
}

int echo_listen_fd(void)
{
	return srv.lfd;
}

/* A whole number in [0, max]: 0, or -EINVAL. */
static int number(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	return errno || end == s || *end || *out > max ? -EINVAL : 0;
}

int echo_start(int argc, char **argv, const char *name)
{
	unsigned long n;
	int port = 0, opt, ret;

	prog = name;
	listen_addr.s_addr = htonl(INADDR_LOOPBACK);
	while ((opt = getopt(argc, argv, "a:p:c:")) != -1) {
		if (opt == 'a' && inet_pton(AF_INET, optarg, &listen_addr) == 1)
			continue;
		if (opt == 'p' && !number(optarg, 65535, &n))
			port = (int)n;
		else if (opt == 'c' && !number(optarg, UINT_MAX, &n))
			srv.want = (unsigned)n;
		else
			return -EINVAL;
	}
	signal(SIGPIPE, SIG_IGN);
	ret = setup(port);
	if (ret) {
		fprintf(stderr, "%s: setup: %s\n", prog, zc_strerror(ret));
		return ret;
	}
	printf("port %d\n", bound_port(srv.lfd));
	fflush(stdout);
	return 0;
}

int echo_finish(int ret)
{
	printf("served %u clients, %llu bytes, %llu datagrams; echoes: "
	       "%llu zero-copy, %llu copied; error %d\n",
	       srv.served, srv.bytes, srv.datagrams, srv.zerocopy, srv.copied,
	       srv.error);
	zc_ctx_destroy(srv.ctx);
	close(srv.lfd);
	return ret || srv.error ? 1 : 0;
}
