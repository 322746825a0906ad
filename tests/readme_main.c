/* SPDX-License-Identifier: MIT */
/*
 * Runs the README's example, send_once() (extracted from README.md into
 * readme.c at build time), as an application would: linked against the
 * shared library, on a connected loopback TCP socket.  Every byte must
 * arrive and it must return 0; on something that is not a socket it must
 * return the library's real error, not a made-up one.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Above the auto policy's zero-copy threshold. */
#define LEN ((size_t)256 * 1024)

int send_once(int connected_fd, void *data, size_t len);

struct peer {
	int fd;
	unsigned char *got;
	size_t n;
};

/* The receiving end: read until the example closes its socket. */
static void *receive(void *arg)
{
	struct peer *p = arg;
	ssize_t r;

	while (p->n < LEN &&
	       (r = recv(p->fd, p->got + p->n, LEN - p->n, 0)) > 0)
		p->n += (size_t)r;
	return NULL;
}

static int tcp_pair(int *client, int *server)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int lfd = socket(AF_INET, SOCK_STREAM, 0);

	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, len) ||
	    listen(lfd, 1) || getsockname(lfd, (struct sockaddr *)&sa, &len))
		return -errno;
	*client = socket(AF_INET, SOCK_STREAM, 0);
	if (*client < 0 || connect(*client, (struct sockaddr *)&sa, len))
		return -errno;
	*server = accept(lfd, NULL, NULL);
	close(lfd);
	return *server < 0 ? -errno : 0;
}

int main(void)
{
	static unsigned char data[LEN], got[LEN];
	struct peer p = { .got = got };
	pthread_t th;
	int cfd = -1, pfd[2], ret;

	for (size_t i = 0; i < LEN; i++)
		data[i] = (unsigned char)(i * 7 + i / 4096);
	ret = tcp_pair(&cfd, &p.fd);
	if (ret) {
		fprintf(stderr, "readme: loopback pair: %s\n", strerror(-ret));
		return 1;
	}
	if (pthread_create(&th, NULL, receive, &p))
		return 1;
	ret = send_once(cfd, data, LEN); /* closes cfd */
	pthread_join(th, NULL);
	close(p.fd);
	if (ret || p.n != LEN || memcmp(data, got, LEN) != 0) {
		fprintf(stderr,
			"readme: send_once returned %d, %zu of %zu "
			"bytes arrived%s\n",
			ret, p.n, LEN, p.n == LEN ? " but differ" : "");
		return 1;
	}

	/* A pipe is no socket: the example passes the library's -ENOTSOCK
	 * through. */
	if (pipe(pfd))
		return 1;
	ret = send_once(pfd[1], data, 1);
	close(pfd[0]);
	close(pfd[1]);
	if (ret != -ENOTSOCK) {
		fprintf(stderr,
			"readme: on a pipe send_once returned %d, "
			"want %d (-ENOTSOCK)\n",
			ret, -ENOTSOCK);
		return 1;
	}
	printf("readme: the example sent %zu bytes and reports real errors\n",
	       LEN);
	return 0;
}
