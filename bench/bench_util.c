/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h> /* before errqueue.h, which needs timespec */
#include <linux/errqueue.h>
#include <unistd.h>

#include "bench_util.h"

#define DRAIN_BUF ((size_t)1 << 20)
#define SOCKBUF (4 * 1024 * 1024)

static void die(const char *what)
{
	perror(what);
	exit(1);
}

void bench_pin(int cpu)
{
	cpu_set_t set;

	if (cpu < 0 || cpu >= sysconf(_SC_NPROCESSORS_ONLN))
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	/* Best effort: a run without pinning is noisier, not wrong. */
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void *drain(void *arg)
{
	struct bench_pair *p = arg;
	char *buf = malloc(DRAIN_BUF);

	bench_pin(BENCH_CPU_RX);
	if (!buf)
		return NULL;
	for (;;) {
		ssize_t n = recv(p->rx, buf, DRAIN_BUF, 0);

		if (n == 0 || (n < 0 && errno != EINTR))
			break;
	}
	free(buf);
	return NULL;
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
	if (pthread_create(&p->drain, NULL, drain, p))
		die("pthread_create");
	return 0;
}

void bench_pair_close(struct bench_pair *p)
{
	shutdown(p->rx, SHUT_RDWR);
	pthread_join(p->drain, NULL);
	close(p->tx);
	close(p->rx);
}

void bench_pair_finish(struct bench_pair *p)
{
	shutdown(p->tx, SHUT_WR);
	pthread_join(p->drain, NULL);
	close(p->tx);
	close(p->rx);
}

uint64_t bench_reap_msgzc(int fd, uint64_t *ids)
{
	char ctrl[CMSG_SPACE(sizeof(struct sock_extended_err) +
			     sizeof(struct sockaddr_in6))];
	uint64_t copied = 0;

	for (;;) {
		struct msghdr msg = { .msg_control = ctrl,
				      .msg_controllen = sizeof(ctrl) };
		struct cmsghdr *cm;

		if (recvmsg(fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
			return copied;
		for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
			struct sock_extended_err *ee = (void *)CMSG_DATA(cm);
			uint64_t n;

			if (ee->ee_origin != SO_EE_ORIGIN_ZEROCOPY)
				continue;
			n = (uint64_t)(ee->ee_data - ee->ee_info) + 1;
			*ids += n;
			if (ee->ee_code & SO_EE_CODE_ZEROCOPY_COPIED)
				copied += n;
		}
	}
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

double bench_thread_cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_THREAD, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double bench_median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void *bench_alloc(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		die("mmap");
	memset(p, 0x5a, len);
	return p;
}
