/* SPDX-License-Identifier: MIT */
/*
 * The baseline for bench/compare.sh: a bare send() loop over TCP, no
 * library in between, and a receiver that recv()s and drops the data.
 *   raw_send server PORT
 *   raw_send client HOST PORT SIZE SECONDS    prints "gbps=N"
 */
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RECV_BUF ((size_t)256 << 10)

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int open_sock(const char *host, const char *port, int server)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = server ? AI_PASSIVE : 0 };
	struct addrinfo *ai;
	int fd, one = 1;

	if (getaddrinfo(host, port, &hints, &ai))
		return -1;
	fd = socket(ai->ai_family, SOCK_STREAM, 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd >= 0 &&
	    (server ? bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 8)
		    : connect(fd, ai->ai_addr, ai->ai_addrlen))) {
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

static int serve(const char *port)
{
	int lfd = open_sock("127.0.0.1", port, 1);
	char *buf;

	if (lfd < 0)
		return 1;
	buf = malloc(RECV_BUF);
	if (!buf) {
		close(lfd);
		return 1;
	}
	for (;;) {
		int fd = accept(lfd, NULL, NULL);

		while (fd >= 0 && recv(fd, buf, RECV_BUF, 0) > 0)
			;
		if (fd >= 0)
			close(fd);
	}
}

static int send_loop(const char *host, const char *port, size_t size,
		     double secs)
{
	int fd = open_sock(host, port, 0);
	double t0 = now(), end = t0 + secs;
	unsigned long long bytes = 0;
	char *buf;

	if (fd < 0)
		return 1;
	buf = malloc(size);
	if (!buf) {
		close(fd);
		return 1;
	}
	memset(buf, 0x5a, size);
	while (now() < end) {
		ssize_t n = send(fd, buf, size, 0);

		if (n < 0)
			break;
		bytes += (unsigned long long)n;
	}
	free(buf);
	close(fd);
	if (now() < end)
		return 1;
	printf("gbps=%.4f\n", (double)bytes * 8 / (now() - t0) / 1e9);
	return 0;
}

/* A number of seconds, or -1 if s is not one. */
static double seconds(const char *s)
{
	char *end;
	double v = strtod(s, &end);

	return end == s || *end || !(v > 0) ? -1 : v;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "server"))
		return serve(argv[2]);
	if (argc == 6 && !strcmp(argv[1], "client") && seconds(argv[5]) > 0)
		return send_loop(argv[2], argv[3], strtoul(argv[4], NULL, 0),
				 seconds(argv[5]));
	fprintf(stderr, "usage: raw_send server PORT | raw_send client HOST "
			"PORT SIZE SECONDS\n");
	return 2;
}
