/* SPDX-License-Identifier: MIT */
/*
 * The plain pair zcopy bench is measured against (bench/vs_plain.sh,
 * bench/compare.sh): a blocking send() loop and a blocking recv() loop,
 * no library in between, each in its own process, TCP or UDP.
 *
 *   raw_send recv [-u|-z] [-A CPU] [-B ADDR] [-l BUFLEN] PORT
 *	receive one run: a TCP connection until EOF, or UDP datagrams until
 *	the sender's end marker; says "listening PORT" on stderr once it
 *	listens (PORT 0: a free one), and prints the receiver's throughput
 *	from its first to its last byte and its CPU time (user + system)
 *	per 10^9 bytes: "rx_gbps=N bytes=N msgs=N cpu_s_per_gb=N"
 *   raw_send send [-u|-z] [-A CPU] [-b RATE] HOST PORT SIZE SECONDS
 *	send SIZE-byte messages for SECONDS; prints "tx_gbps=N
 *	cpu_s_per_gb=N"
 *
 * -A pins the process to a CPU, -b paces the sender (bits per second,
 * 1G = 10^9, as iperf3 reads it), -l is the receive buffer (256K).
 * -z (TCP, unpaced) makes the same loop through libzcopy's copy transport
 * (raw_zc.c), so a run with one end -z puts a difference between the
 * pair and zcopy bench on that end, without the tool around it.
 * Exit status 0, 1 on a failure, 2 on bad usage.
 */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "benchcore.h"
#include "raw_zc.h"

#define RECV_BUF ((size_t)256 << 10)
#define MAX_MSG (64u << 20)
#define MAX_SECONDS 3600

struct opts {
	bool udp;
	bool zc;
	int cpu;
	const char *bind;
	uint64_t buf_len;
	uint64_t rate;
};

static int usage(void)
{
	fprintf(stderr,
		"usage: raw_send recv [-u|-z] [-A CPU] [-B ADDR] [-l BUFLEN] "
		"PORT\n"
		"       raw_send send [-u|-z] [-A CPU] [-b RATE] HOST PORT "
		"SIZE SECONDS\n");
	return 2;
}

static int bad(const char *what, const char *arg)
{
	fprintf(stderr, "raw_send: %s: '%s'\n", what, arg);
	return 2;
}

static int open_sock(const char *host, const char *port, bool udp, bool server)
{
	struct addrinfo hints = { .ai_socktype = udp ? SOCK_DGRAM : SOCK_STREAM,
				  .ai_flags = server ? AI_PASSIVE : 0 };
	struct addrinfo *ai;
	int fd, one = 1, ret;

	ret = getaddrinfo(host, port, &hints, &ai);
	if (ret) {
		fprintf(stderr, "raw_send: %s: %s\n", host ? host : "any",
			gai_strerror(ret));
		return -1;
	}
	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
	if (fd >= 0 && server)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd >= 0 && (server ? bind(fd, ai->ai_addr, ai->ai_addrlen) ||
					 (!udp && listen(fd, 1))
			       : connect(fd, ai->ai_addr, ai->ai_addrlen))) {
		perror(server ? "raw_send: bind" : "raw_send: connect");
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

static unsigned local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	memset(&ss, 0, sizeof(ss));
	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		return 0;
	return ss.ss_family == AF_INET6
		       ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
		       : ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

/* CPU seconds per 10^9 bytes. */
static double per_gb(uint64_t cpu_us, uint64_t bytes)
{
	return bytes ? (double)cpu_us / 1e6 / ((double)bytes / 1e9) : 0;
}

static int do_recv(const struct opts *o, const char *port)
{
	int lfd = open_sock(o->bind, port, o->udp, true), fd, ret;
	struct bc_count c = { 0 };
	uint64_t cpu;
	void *buf;

	if (lfd < 0)
		return 1;
	fprintf(stderr, "listening %u\n", local_port(lfd));
	fd = o->udp ? lfd : accept(lfd, NULL, NULL);
	if (fd < 0) {
		perror("raw_send: accept");
		return 1;
	}
	buf = o->zc ? NULL : malloc(o->buf_len);
	cpu = bc_thread_cpu_us();
	if (o->zc)
		ret = rz_recv(fd, o->buf_len, &c);
	else
		ret = buf ? bc_recv_plain(fd, buf, o->buf_len, 0, &c) : -ENOMEM;
	cpu = bc_thread_cpu_us() - cpu;
	free(buf);
	if (ret) {
		fprintf(stderr, "raw_send: recv: %s\n", strerror(-ret));
		return 1;
	}
	printf("rx_gbps=%.4f bytes=%llu msgs=%llu cpu_s_per_gb=%.4f\n",
	       bc_count_gbps(&c), (unsigned long long)c.bytes,
	       (unsigned long long)c.msgs, per_gb(cpu, c.bytes));
	return 0;
}

static int do_send(const struct opts *o, char **arg)
{
	int fd = open_sock(arg[0], arg[1], o->udp, false), ret;
	struct bc_count c = { 0 };
	struct bc_pace pace;
	uint64_t size, cpu;
	int64_t deadline;
	double secs;
	char *end;
	void *buf;

	if (fd < 0)
		return 1;
	if (bc_parse_size(arg[2], 1, MAX_MSG, &size))
		return bad("bad message size", arg[2]);
	secs = strtod(arg[3], &end);
	if (end == arg[3] || *end || !(secs > 0) || secs > MAX_SECONDS)
		return bad("bad duration", arg[3]);
	buf = bc_pages(size);
	if (!buf) {
		perror("raw_send: mmap");
		return 1;
	}
	bc_pace_start(&pace, o->rate);
	cpu = bc_thread_cpu_us();
	deadline = bc_now_us() + (int64_t)(secs * 1e6);
	if (o->zc)
		ret = rz_send(fd, buf, size, deadline, &c);
	else
		ret = bc_send_plain(fd, buf, size, deadline, &pace, &c);
	cpu = bc_thread_cpu_us() - cpu;
	if (o->udp)
		bc_send_end(fd);
	close(fd);
	if (ret) {
		fprintf(stderr, "raw_send: send: %s\n", strerror(-ret));
		return 1;
	}
	printf("tx_gbps=%.4f cpu_s_per_gb=%.4f\n", bc_count_gbps(&c),
	       per_gb(cpu, c.bytes));
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = { .cpu = -1, .buf_len = RECV_BUF };
	uint64_t v;
	int c;

	if (argc < 2)
		return usage();
	optind = 2;
	while ((c = getopt(argc, argv, "uzA:B:l:b:")) != -1) {
		switch (c) {
		case 'u':
			o.udp = true;
			break;
		case 'z':
			o.zc = true;
			break;
		case 'A':
			if (bc_parse_size(optarg, 0, CPU_SETSIZE - 1, &v))
				return bad("bad CPU", optarg);
			o.cpu = (int)v;
			break;
		case 'B':
			o.bind = optarg;
			break;
		case 'l':
			if (bc_parse_size(optarg, 1, MAX_MSG, &o.buf_len))
				return bad("bad buffer length", optarg);
			break;
		case 'b':
			if (bc_parse_rate(optarg, &o.rate))
				return bad("bad rate", optarg);
			break;
		default:
			return usage();
		}
	}
	if (o.zc && (o.udp || o.rate)) {
		fprintf(stderr, "raw_send: -z is for TCP, unpaced\n");
		return 2;
	}
	if (bc_pin(o.cpu)) {
		fprintf(stderr, "raw_send: cannot run on CPU %d\n", o.cpu);
		return 1;
	}
	if (!strcmp(argv[1], "recv") && argc - optind == 1)
		return do_recv(&o, argv[optind]);
	if (!strcmp(argv[1], "send") && argc - optind == 4)
		return do_send(&o, argv + optind);
	return usage();
}
