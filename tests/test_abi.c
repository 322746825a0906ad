/* SPDX-License-Identifier: MIT */
/*
 * The ABI: the version the library reports, reserved option words that
 * must be zero, reserved output space the library zeroes, and the struct
 * sizes src/version.c asserts.  Sockets are UDP on loopback (no root).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "abi.h"
#include "netutil.h"
#include "util.h"

#define WAIT_MS 5000

static void test_version(void **state)
{
	char text[32];

	(void)state;
	assert_int_equal(zc_version(), ZC_VERSION_NUMBER);
	assert_int_equal(zc_version(), (ZC_VERSION_MAJOR << 16) |
					       (ZC_VERSION_MINOR << 8) |
					       ZC_VERSION_PATCH);
	snprintf(text, sizeof(text), "%d.%d.%d", ZC_VERSION_MAJOR,
		 ZC_VERSION_MINOR, ZC_VERSION_PATCH);
	assert_string_equal(zc_version_string(), text);
	assert_string_equal(zc_version_string(), ZC_VERSION_STRING);
}

static void test_sizes(void **state)
{
	(void)state;
	if (!ZC_ABI_LP64)
		skip();
	assert_int_equal(sizeof(struct zc_ctx_opts), ZC_ABI_SIZEOF_CTX_OPTS);
	assert_int_equal(sizeof(struct zc_sock_opts), ZC_ABI_SIZEOF_SOCK_OPTS);
	assert_int_equal(sizeof(struct zc_stats), ZC_ABI_SIZEOF_STATS);
	assert_int_equal(sizeof(struct zc_completion),
			 ZC_ABI_SIZEOF_COMPLETION);
}

static void test_ctx_reserved(void **state)
{
	struct zc_ctx_opts o = { 0 };
	struct zc_ctx *ctx = NULL;

	(void)state;
	for (size_t i = 0; i < ZC_ARRAY_SIZE(o.reserved); i++) {
		o.reserved[i] = 1;
		assert_int_equal(zc_ctx_create(&o, &ctx), -EINVAL);
		assert_null(ctx);
		o.reserved[i] = 0;
	}
	/* Zero-initialised options are valid, and mean the defaults. */
	assert_int_equal(zc_ctx_create(&o, &ctx), 0);
	zc_ctx_destroy(ctx);
}

/* A context and a UDP socket pair on loopback, the sender not attached. */
struct bed {
	struct zc_ctx *ctx;
	int snd, rcv;
};

static void bed_open(struct bed *b)
{
	if (nu_udp_pair(AF_INET, &b->snd, &b->rcv))
		skip();
	assert_int_equal(zc_ctx_create(NULL, &b->ctx), 0);
}

static void bed_close(struct bed *b)
{
	zc_ctx_destroy(b->ctx);
	close(b->rcv);
}

static void test_sock_reserved(void **state)
{
	struct zc_sock_opts o = { 0 };
	struct zc_sock *sock = NULL;
	struct bed b;

	(void)state;
	bed_open(&b);
	for (size_t i = 0; i < ZC_ARRAY_SIZE(o.reserved); i++) {
		o.reserved[i] = UINT64_MAX;
		assert_int_equal(zc_sock_attach(b.ctx, b.snd, &o, &sock),
				 -EINVAL);
		assert_null(sock);
		o.reserved[i] = 0;
	}
	assert_int_equal(zc_sock_attach(b.ctx, b.snd, &o, &sock), 0);
	assert_int_equal(zc_sock_close(sock), 0);
	bed_close(&b);
}

static bool all_zero(const void *p, size_t n)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < n; i++)
		if (c[i])
			return false;
	return true;
}

static void sent(struct zc_sock *sock, const struct zc_completion *c, void *arg)
{
	(void)sock;
	/* Filled by the library: the flags and reserved words are zero. */
	assert_int_equal(c->result, ZC_RESULT_COPIED);
	assert_int_equal(c->flags, 0);
	assert_true(all_zero(c->reserved, sizeof(c->reserved)));
	(*(int *)arg)++;
}

/* zc_sock_stats() writes the whole struct, the reserved words as zero;
 * so does every completion with its flags and reserved words. */
static void test_output_reserved(void **state)
{
	struct zc_sock_opts o = { .tx = ZC_TX_COPY };
	char data[64] = "zcopy";
	struct iovec iov = { data, sizeof(data) };
	struct zc_sock *sock;
	struct zc_stats st;
	int64_t end;
	struct bed b;
	int done = 0;

	(void)state;
	bed_open(&b);
	assert_int_equal(zc_sock_attach(b.ctx, b.snd, &o, &sock), 0);
	assert_int_equal(zc_send(sock, &iov, 1, sent, &done), 0);
	end = nu_now_ms() + WAIT_MS;
	while (!done && nu_now_ms() < end)
		assert_true(zc_ctx_process(b.ctx, 50) >= 0);
	assert_int_equal(done, 1);
	memset(&st, 0xa5, sizeof(st));
	assert_int_equal(zc_sock_stats(sock, &st), 0);
	assert_int_equal(st.sends, 1);
	assert_int_equal(st.completions, 1);
	assert_true(all_zero(st.reserved, sizeof(st.reserved)));
	assert_int_equal(zc_sock_close(sock), 0);
	bed_close(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_version),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_ctx_reserved),
		cmocka_unit_test(test_sock_reserved),
		cmocka_unit_test(test_output_reserved),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
