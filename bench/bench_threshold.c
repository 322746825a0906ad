/* SPDX-License-Identifier: MIT */
/*
 * Where zero-copy starts to pay, for ZC_POLICY_THRESHOLD.  Zero-copy saves
 * the copy of the payload into the socket buffer and pays a fixed cost per
 * send (the completion notification and reaping it, page pinning).  On a
 * real NIC it pays above size = fixed cost / copy cost per byte.
 *
 * Measured here, loopback TCP, interleaved rounds, medians:
 *  - send() and MSG_ZEROCOPY per size.  On loopback the kernel copies
 *    anyway (and copies the pinned pages once more on delivery), so at
 *    sizes of one or two pages their difference is the fixed cost;
 *  - memcpy of the same payload, hot in cache as a just-written payload
 *    is: the copy a NIC would save.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "bench_util.h"

#define ROUNDS 7
#define BYTES_PER_RUN (16u << 20)
#define AREA (8u << 20)

enum method { M_SEND, M_MSGZC, M_MEMCPY, M_COUNT };

static const size_t sizes[] = { 1024,  2048,  4096,  8192,
				16384, 32768, 65536, 131072 };
#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))

static void send_all(int fd, const char *buf, size_t len, int flags)
{
	while (len) {
		ssize_t n = send(fd, buf, len, flags);

		if (n < 0 && errno != EINTR && errno != ENOBUFS) {
			perror("send");
			exit(1);
		}
		if (n < 0) {
			/* ENOBUFS: out of optmem; notifications free it. */
			poll(&(struct pollfd){ .fd = fd }, 1, 1);
			continue;
		}
		buf += n;
		len -= (size_t)n;
	}
}

static void run_msgzc(int fd, const char *buf, size_t len, unsigned iters)
{
	struct bc_zc_count done = { 0 };
	uint64_t issued = 0;

	for (unsigned i = 0; i < iters; i++) {
		send_all(fd, buf, len, MSG_ZEROCOPY);
		issued++;
		if (i % 32 == 31)
			bc_reap_msgzc(fd, &done);
	}
	while (bc_zc_ids(&done) < issued) {
		poll(&(struct pollfd){ .fd = fd }, 1, 10);
		bc_reap_msgzc(fd, &done);
	}
}

static double run(enum method m, int fd, char *buf, char *area, size_t len)
{
	unsigned iters = BYTES_PER_RUN / len;
	uint64_t t0 = bc_now_ns();

	switch (m) {
	case M_SEND:
		for (unsigned i = 0; i < iters; i++)
			send_all(fd, buf, len, 0);
		break;
	case M_MSGZC:
		run_msgzc(fd, buf, len, iters);
		break;
	default:
		for (unsigned i = 0; i < iters; i++)
			memcpy(area + (size_t)i * len % (AREA - len), buf, len);
		break;
	}
	return (double)(bc_now_ns() - t0) / iters / 1000.0;
}

/* Fixed cost: msgzc - send at sizes of at most two pages.  Copy cost:
 * memcpy slope over the larger sizes. */
static void report(double t[NSIZES][M_COUNT][ROUNDS])
{
	double med[NSIZES][M_COUNT], fixed[NSIZES];
	/* The slope is taken from the middle size to the largest. */
	const size_t mid = NSIZES / 2, last = NSIZES - 1;
	size_t nfixed = 0;
	double fix, slope;

	printf("loopback TCP, microseconds per send, median of %d rounds\n",
	       ROUNDS);
	printf("%8s %8s %8s %9s %8s\n", "size", "send", "msgzc", "zc extra",
	       "memcpy");
	for (size_t s = 0; s < NSIZES; s++) {
		for (int m = 0; m < M_COUNT; m++)
			med[s][m] = bc_median(t[s][m], ROUNDS);
		if (sizes[s] <= 8192)
			fixed[nfixed++] = med[s][M_MSGZC] - med[s][M_SEND];
		printf("%7zuK %8.2f %8.2f %9.2f %8.2f\n", sizes[s] / 1024,
		       med[s][M_SEND], med[s][M_MSGZC],
		       med[s][M_MSGZC] - med[s][M_SEND], med[s][M_MEMCPY]);
	}
	fix = bc_median(fixed, nfixed);
	slope = (med[last][M_MEMCPY] - med[mid][M_MEMCPY]) /
		((double)(sizes[last] - sizes[mid]) / 1024);
	printf("fixed zero-copy cost per send: %.2f us\n", fix);
	printf("copy cost: %.3f us per KiB\n", slope);
	printf("break-even on a real NIC: about %.0f KiB\n", fix / slope);
}

int main(void)
{
	static double t[NSIZES][M_COUNT][ROUNDS];
	struct bench_pair p;
	char *buf = bench_alloc(sizes[NSIZES - 1]);
	char *area = bench_alloc(AREA);
	int one = 1;

	bench_pair_open(&p, SOCK_STREAM);
	if (setsockopt(p.tx, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof(one))) {
		perror("SO_ZEROCOPY");
		return 1;
	}
	for (int r = 0; r < ROUNDS; r++)
		for (size_t s = 0; s < NSIZES; s++)
			for (int m = 0; m < M_COUNT; m++)
				t[s][m][r] = run(m, p.tx, buf, area, sizes[s]);
	bench_pair_close(&p);

	report(t);
	return 0;
}
