/* SPDX-License-Identifier: MIT */
/*
 * The auto policy on real loopback sockets: the kernel copies every
 * zero-copy send here, so auto must stop asking after a few, and every
 * decision must show in zc_sock_stats().
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include <zcopy/zcopy.h>

#include "netutil.h"
#include "policy.h"

#define BIG 65536
#define SENDS 400

struct pair {
	int fd[2];
	pthread_t drain;
};

static void *drain(void *arg)
{
	struct pair *p = arg;
	static __thread char buf[BIG];

	while (recv(p->fd[1], buf, sizeof(buf), 0) > 0)
		;
	return NULL;
}

static void pair_open(struct pair *p, int type)
{
	struct nu_pair_opts o = { .type = type };

	assert_int_equal(nu_pair(&o, &p->fd[0], &p->fd[1]), 0);
	assert_int_equal(pthread_create(&p->drain, NULL, drain, p), 0);
}

static void pair_close(struct pair *p)
{
	shutdown(p->fd[1], SHUT_RDWR);
	pthread_join(p->drain, NULL);
	close(p->fd[1]);
}

/* Send n messages of len bytes, processing completions as we go. */
static void send_n(struct zc_ctx *ctx, struct zc_sock *sock, size_t len, int n,
		   int *completed)
{
	static char buf[BIG];
	struct iovec iov = { .iov_base = buf, .iov_len = len };

	for (int i = 0; i < n; i++) {
		int ret;

		while ((ret = zc_send(sock, &iov, 1, nu_count_cb, completed)) ==
		       -EAGAIN)
			zc_ctx_process(ctx, 10);
		assert_int_equal(ret, 0);
		zc_ctx_process(ctx, 0);
	}
}

static void wait_idle(struct zc_ctx *ctx, struct zc_sock *sock,
		      struct zc_stats *st)
{
	for (int i = 0; i < 200; i++) {
		zc_sock_stats(sock, st);
		if (!st->inflight)
			return;
		zc_ctx_process(ctx, 10);
	}
	fail_msg("completions did not arrive");
}

/* ring: the context has an io_uring, with a region registered. */
static void auto_backs_off(int type, size_t len, bool ring)
{
	struct zc_sock_opts o = { .tx = ZC_TX_AUTO };
	struct zc_region *reg = NULL;
	struct zc_sock *sock;
	struct zc_ctx *ctx;
	struct zc_stats st;
	struct pair p;
	int completed = 0;

	assert_int_equal(zc_ctx_create(NULL, &ctx), 0);
	if (ring) {
		int ret;

		assert_int_equal(zc_region_create(BIG, 0, &reg), 0);
		ret = zc_ctx_register_region(ctx, reg);
		if (ret) {
			print_message("skip: no io_uring: %s\n",
				      zc_strerror(ret));
			zc_ctx_destroy(ctx);
			zc_region_destroy(reg);
			skip();
		}
	}
	pair_open(&p, type);
	assert_int_equal(zc_sock_attach(ctx, p.fd[0], &o, &sock), 0);
	send_n(ctx, sock, 100, 10, &completed);
	send_n(ctx, sock, len, SENDS, &completed);
	wait_idle(ctx, sock, &st);

	assert_int_equal(completed, SENDS + 10);
	assert_int_equal(st.policy_copy_small, 10);
	assert_int_equal(st.policy_zc + st.policy_copy_backoff, SENDS);
	assert_true(st.policy_backoffs >= 1);
	/* A few probes per back-off, nothing more. */
	assert_true(st.policy_zc <=
		    ZC_POLICY_PROBES * (st.policy_backoffs + 1));
	/* Each probe was copied by the kernel; the rest by the policy. */
	assert_int_equal(st.copied_why[ZC_WHY_KERNEL], st.policy_zc);
	assert_int_equal(st.copied_why[ZC_WHY_POLICY],
			 SENDS + 10 - st.policy_zc);
	/* The zero-copy transport auto tried is MSG_ZEROCOPY, ring or not. */
	assert_int_equal(st.tx_by_mode[ZC_TX_MSGZC], st.policy_zc);
	assert_int_equal(st.tx_by_mode[ZC_TX_URING] +
				 st.tx_by_mode[ZC_TX_URING_FIXED],
			 0);
	assert_int_equal(st.uring_error, 0);
	assert_int_equal(st.zerocopy, 0);
	assert_true(st.policy_state == ZC_POLICY_BACKOFF ||
		    st.policy_state == ZC_POLICY_PROBING);
	assert_int_equal(st.policy_threshold, ZC_POLICY_THRESHOLD);

	zc_ctx_destroy(ctx);
	if (reg)
		zc_region_destroy(reg);
	pair_close(&p);
}

static void test_auto_tcp(void **state)
{
	(void)state;
	auto_backs_off(SOCK_STREAM, BIG, false);
}

static void test_auto_udp(void **state)
{
	(void)state;
	auto_backs_off(SOCK_DGRAM, 32768, false);
}

static void test_auto_tcp_ring(void **state)
{
	(void)state;
	auto_backs_off(SOCK_STREAM, BIG, true);
}

/* n sends of BIG bytes over a fresh TCP pair with options o; *st: the
 * statistics once every send has completed. */
static void send_tcp(const struct zc_sock_opts *o, int n, struct zc_stats *st)
{
	struct zc_sock *sock;
	struct zc_ctx *ctx;
	struct pair p;
	int completed = 0;

	pair_open(&p, SOCK_STREAM);
	assert_int_equal(zc_ctx_create(NULL, &ctx), 0);
	assert_int_equal(zc_sock_attach(ctx, p.fd[0], o, &sock), 0);
	send_n(ctx, sock, BIG, n, &completed);
	wait_idle(ctx, sock, st);
	zc_ctx_destroy(ctx);
	pair_close(&p);
}

/* A transport pinned by option: the policy makes no decisions. */
static void test_pinned(void **state)
{
	struct zc_sock_opts o = { .tx = ZC_TX_COPY };
	struct zc_stats st;

	(void)state;
	send_tcp(&o, 50, &st);
	assert_int_equal(st.policy_state, ZC_POLICY_PINNED);
	assert_int_equal(st.policy_zc + st.policy_copy_small +
				 st.policy_copy_backoff,
			 0);
	assert_int_equal(st.copied_why[ZC_WHY_TRANSPORT], 50);
}

/* A threshold set by option. */
static void test_threshold_opt(void **state)
{
	struct zc_sock_opts o = { .tx = ZC_TX_AUTO, .zc_threshold = 1 << 20 };
	struct zc_stats st;

	(void)state;
	send_tcp(&o, 20, &st);
	assert_int_equal(st.policy_threshold, 1 << 20);
	assert_int_equal(st.policy_copy_small, 20);
	assert_int_equal(st.policy_zc, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_auto_tcp),
		cmocka_unit_test(test_auto_udp),
		cmocka_unit_test(test_auto_tcp_ring),
		cmocka_unit_test(test_pinned),
		cmocka_unit_test(test_threshold_opt),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
