/* SPDX-License-Identifier: MIT */
/*
 * Received buffers outlive their context: the application may still hold
 * buffers when zc_ctx_destroy() runs; they stay readable and are given
 * back afterwards with zc_buf_release(), which frees what is left of the
 * receive path (pool, region, mapping window).  Run under ASan with leak
 * detection, a leak here fails the suite.
 */
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "netutil.h"

#define TOTAL (1u << 20)
#define HOLD 8

/* Send TOTAL pattern bytes with MSG_ZEROCOPY from page-aligned memory, so
 * the receiver's kernel can map them; the memory stays until exit. */
static void send_pattern(int fd)
{
	uint8_t *mem = mmap(NULL, TOTAL, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int one = 1;
	size_t off = 0;

	assert_true(mem != MAP_FAILED);
	for (size_t i = 0; i < TOTAL; i++)
		mem[i] = nu_pattern(i);
	setsockopt(fd, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof(one));
	while (off < TOTAL) {
		ssize_t n = send(fd, mem + off, TOTAL - off, MSG_ZEROCOPY);

		if (n < 0 && errno == ENOBUFS)
			n = send(fd, mem + off, TOTAL - off, 0);
		assert_true(n > 0);
		off += (size_t)n;
	}
}

static bool buf_matches(const struct zc_buf *buf, uint64_t off)
{
	size_t len = zc_buf_len(buf);
	uint8_t *copy = malloc(len);
	bool ok = copy && zc_buf_copy_out(buf, 0, copy, len) == (ssize_t)len;

	for (size_t i = 0; ok && i < len; i++)
		ok = copy[i] == nu_pattern(off + i);
	free(copy);
	return ok;
}

static void hold_then_destroy(enum zc_rx_mode rx, const char *name)
{
	struct zc_sock_opts so = { .rx = rx, .rx_buf_count = 16 };
	struct zc_buf *held[HOLD];
	uint64_t at[HOLD], off = 0;
	struct zc_sock *sock;
	struct zc_stats st;
	struct zc_ctx *ctx;
	int snd, rcv;

	assert_int_equal(nu_tcp_pair(AF_INET, &snd, &rcv), 0);
	send_pattern(snd);
	assert_int_equal(zc_ctx_create(NULL, &ctx), 0);
	assert_int_equal(zc_sock_attach(ctx, rcv, &so, &sock), 0);
	for (int i = 0; i < HOLD; i++) {
		ssize_t n = zc_recv(sock, &held[i]);

		assert_true(n > 0);
		at[i] = off;
		off += (uint64_t)n;
	}
	assert_int_equal(zc_sock_stats(sock, &st), 0);
	printf("%s: holding %d buffers, %llu bytes (%llu mapped)\n", name, HOLD,
	       (unsigned long long)off, (unsigned long long)st.rx_bytes_mapped);
	/* Not refused, unlike zc_sock_close(): the context goes. */
	zc_ctx_destroy(ctx);
	for (int i = 0; i < HOLD; i++) {
		assert_true(buf_matches(held[i], at[i]));
		assert_int_equal(zc_buf_release(held[i]), 0);
	}
	close(snd);
}

static void test_copy(void **state)
{
	(void)state;
	hold_then_destroy(ZC_RX_COPY, "copy");
}

static void test_tcpmmap(void **state)
{
	(void)state;
	hold_then_destroy(ZC_RX_TCPMMAP, "tcpmmap");
}

static void test_auto(void **state)
{
	(void)state;
	hold_then_destroy(ZC_RX_AUTO, "auto");
}

static void test_uring(void **state)
{
	(void)state;
	hold_then_destroy(ZC_RX_URING, "uring");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_copy),
		cmocka_unit_test(test_tcpmmap),
		cmocka_unit_test(test_auto),
		cmocka_unit_test(test_uring),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
