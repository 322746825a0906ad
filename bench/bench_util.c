/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench_util.h"

#define SOCKBUF (4 * 1024 * 1024)

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static int bound_socket(int type, struct sockaddr_in *addr)
{
	socklen_t len = sizeof(*addr);
	int size = SOCKBUF;
	int fd = socket(AF_INET, type, 0);

	if (fd < 0)
		die("socket");
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	*addr = (struct sockaddr_in){ .sin_family = AF_INET,
				      .sin_addr.s_addr =
					      htonl(INADDR_LOOPBACK) };
	if (bind(fd, (struct sockaddr *)addr, sizeof(*addr)) ||
	    getsockname(fd, (struct sockaddr *)addr, &len))
		die("bind");
	return fd;
}

int bench_pair_open(struct bench_pair *p, int type)
{
	struct sockaddr_in a, b;
	int l = bound_socket(type, &a);

	p->type = type;
	p->tx = bound_socket(type, &b);
	if (type == SOCK_STREAM) {
		if (listen(l, 1) ||
		    connect(p->tx, (struct sockaddr *)&a, sizeof(a)))
			die("connect");
		p->rx = accept(l, NULL, NULL);
		if (p->rx < 0)
			die("accept");
		close(l);
	} else {
		p->rx = l;
		if (connect(p->tx, (struct sockaddr *)&a, sizeof(a)) ||
		    connect(p->rx, (struct sockaddr *)&b, sizeof(b)))
			die("connect");
	}
	p->drain = (struct bc_drain){ 0 };
	errno = -bc_drain_start(&p->drain, p->rx, BENCH_CPU_RX);
	if (errno)
		die("pthread_create");
	return 0;
}

void bench_pair_close(struct bench_pair *p)
{
	bc_drain_stop(&p->drain);
	close(p->tx);
	close(p->rx);
}

void bench_pair_finish(struct bench_pair *p)
{
	if (p->type == SOCK_STREAM)
		shutdown(p->tx, SHUT_WR);
	else
		bc_send_end(p->tx);
	bc_drain_join(&p->drain);
	close(p->tx);
	close(p->rx);
}

double bench_thread_cpu(void)
{
	return (double)bc_thread_cpu_us() / 1e6;
}

/* Exit with usage status 2 unless strto*() took all of s (ending at end)
 * without setting errno. */
static void arg_check(const char *s, const char *end, const char *what)
{
	if (errno || end == s || *end) {
		fprintf(stderr, "bad %s: %s\n", what, s);
		exit(2);
	}
}

long bench_arg_long(const char *s, const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	arg_check(s, end, what);
	return v;
}

double bench_arg_double(const char *s, const char *what)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	arg_check(s, end, what);
	return v;
}

void *bench_alloc(size_t len)
{
	void *p = bc_pages(len);

	if (!p)
		die("mmap");
	return p;
}
