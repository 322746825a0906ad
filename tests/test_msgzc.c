/* SPDX-License-Identifier: MIT */
/*
 * copy and MSG_ZEROCOPY transports against the real kernel: integrity
 * (memory is never released early), exactly-once completions, and that
 * the copied flag is what the kernel reported.
 */
#include <errno.h>
#include <time.h> /* before errqueue.h, which needs timespec */
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "netutil.h"

/* What the kernel itself says about one MSG_ZEROCOPY send on this path:
 * 1 copied, 0 zero-copy, negative errno if it could not tell. */
static int raw_msgzc_copied(int family, int type)
{
	char ctrl[128], data[16384] = { 0 };
	int one = 1, snd, rcv, ret = -EIO;
	struct pollfd pfd;
	struct msghdr msg = { .msg_control = ctrl,
			      .msg_controllen = sizeof(ctrl) };
	struct cmsghdr *cm;

	ret = type == SOCK_STREAM ? nu_tcp_pair(family, &snd, &rcv)
				  : nu_udp_pair(family, &snd, &rcv);
	if (ret)
		return ret;
	ret = -EIO;
	if (setsockopt(snd, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof(one)) ||
	    send(snd, data, type == SOCK_STREAM ? sizeof(data) : 8000,
		 MSG_ZEROCOPY) <= 0)
		goto out;
	pfd = (struct pollfd){ .fd = snd };
	if (poll(&pfd, 1, 2000) != 1 || recvmsg(snd, &msg, MSG_ERRQUEUE) < 0)
		goto out;
	cm = CMSG_FIRSTHDR(&msg);
	if (cm) {
		struct sock_extended_err *ee = (void *)CMSG_DATA(cm);

		if (ee->ee_origin == SO_EE_ORIGIN_ZEROCOPY)
			ret = ee->ee_code & SO_EE_CODE_ZEROCOPY_COPIED ? 1 : 0;
	}
out:
	close(snd);
	close(rcv);
	return ret;
}

/* Every accepted send completed exactly once, with a verdict that is
 * consistent with the transport and the kernel. */
static void check_accounting(const struct nu_xfer *x, int kernel_copied)
{
	assert_int_equal(x->dup_callbacks, 0);
	assert_int_equal(x->callbacks, x->accepted);
	assert_int_equal(x->stats.sends, x->accepted);
	assert_int_equal(x->stats.bytes, x->bytes_accepted);
	switch (x->tx) {
	case ZC_TX_COPY:
		assert_int_equal(x->whys[ZC_WHY_TRANSPORT], x->accepted);
		break;
	case ZC_TX_MSGZC:
		if (kernel_copied == 1)
			assert_int_equal(x->whys[ZC_WHY_KERNEL] +
						 x->whys[ZC_WHY_NOBUFS],
					 x->accepted);
		else if (kernel_copied == 0)
			assert_int_equal(x->results[ZC_RESULT_ZEROCOPY] +
						 x->whys[ZC_WHY_NOBUFS],
					 x->accepted);
		break;
	default:
		assert_int_equal(x->results[ZC_RESULT_ZEROCOPY] +
					 x->results[ZC_RESULT_COPIED],
				 x->accepted);
	}
	assert_int_equal(x->stats.bad_notifications, 0);
}

struct tcp_case {
	int family;
	enum zc_tx_mode tx;
	size_t size;
	bool nonblock;
	char name[64];
};

static void run_tcp(const struct tcp_case *c)
{
	struct nu_xfer x = { .tx = c->tx,
			     .msg_size = c->size,
			     .nonblock = c->nonblock };
	struct nu_rx_thread *rx;
	int snd, rcv;

	x.total = c->size * 64 < (8u << 20) ? 8u << 20 : c->size * 16;
	assert_int_equal(nu_tcp_pair(c->family, &snd, &rcv), 0);
	rx = nu_rx_start_tcp(rcv, x.total);
	assert_non_null(rx);
	assert_int_equal(nu_send(snd, &x), 0);
	assert_int_equal(nu_rx_join(rx, NULL), (int64_t)x.total);
	close(rcv);
	assert_int_equal(x.send_error, 0);
	assert_int_equal(x.close_ret, 0);
	assert_int_equal(x.accepted, x.total / c->size);
	check_accounting(&x, raw_msgzc_copied(c->family, SOCK_STREAM));
}

/* One cmocka test per case, named for it: tcp_ipv6_msgzc_65536_nonblock. */
static void test_tcp_integrity(void **state)
{
	run_tcp(*state);
}

#define TCP_CASES (2 * 3 * 3 * 2)
static struct tcp_case tcp_cases[TCP_CASES];

static void tcp_cases_init(struct CMUnitTest *t)
{
	static const size_t sizes[] = { 4096, 65536, 1 << 20 };
	static const enum zc_tx_mode modes[] = { ZC_TX_COPY, ZC_TX_MSGZC,
						 ZC_TX_AUTO };
	static const int fams[] = { AF_INET, AF_INET6 };
	unsigned n = 0;

	for (unsigned f = 0; f < 2; f++)
		for (unsigned m = 0; m < 3; m++)
			for (unsigned s = 0; s < 3; s++)
				for (int nb = 0; nb < 2; nb++) {
					struct tcp_case *c = &tcp_cases[n];

					*c = (struct tcp_case){
						.family = fams[f],
						.tx = modes[m],
						.size = sizes[s],
						.nonblock = nb
					};
					snprintf(c->name, sizeof(c->name),
						 "tcp_%s_%s_%zu_%s",
						 f ? "ipv6" : "ipv4",
						 zc_tx_mode_name(modes[m]),
						 sizes[s],
						 nb ? "nonblock" : "blocking");
					t[n++] = (struct CMUnitTest){
						.name = c->name,
						.test_func = test_tcp_integrity,
						.initial_state = c
					};
				}
}

static void run_udp(int family, enum zc_tx_mode tx, size_t size, unsigned gso)
{
	struct nu_xfer x = {
		.tx = tx, .msg_size = size, .gso = gso, .nonblock = true
	};
	size_t dgram = gso ? gso : size;
	unsigned per_send = (unsigned)(size / dgram);
	struct nu_rx_thread *rx;
	struct nu_udp_rx urx;
	unsigned count;
	int snd, rcv;

	print_message("case: udp %s %s %zu bytes, gso %u\n",
		      family == AF_INET6 ? "ipv6" : "ipv4", zc_tx_mode_name(tx),
		      size, gso);
	x.total = size * 96;
	count = 96 * per_send;
	assert_int_equal(nu_udp_pair(family, &snd, &rcv), 0);
	rx = nu_rx_start_udp(rcv, dgram, count);
	assert_non_null(rx);
	assert_int_equal(nu_send(snd, &x), 0);
	nu_rx_join(rx, &urx);
	close(rcv);
	assert_int_equal(x.send_error, 0);
	assert_int_equal(x.accepted, 96);
	assert_int_equal(urx.bad, 0);
	/* Loopback with an 8 MiB receive buffer drops nothing. */
	assert_int_equal(urx.got, count);
	check_accounting(&x, raw_msgzc_copied(family, SOCK_DGRAM));
}

static void test_udp_integrity(void **state)
{
	static const size_t sizes[] = { 4096, 32768, 65000 };

	(void)state;
	for (int f = 0; f < 2; f++)
		for (unsigned s = 0; s < 3; s++) {
			int fam = f ? AF_INET6 : AF_INET;

			run_udp(fam, ZC_TX_COPY, sizes[s], 0);
			run_udp(fam, ZC_TX_MSGZC, sizes[s], 0);
		}
}

static void test_udp_gso(void **state)
{
	(void)state;
	run_udp(AF_INET, ZC_TX_MSGZC, (size_t)1400 * 40, 1400);
	run_udp(AF_INET6, ZC_TX_MSGZC, (size_t)1200 * 50, 1200);
	run_udp(AF_INET, ZC_TX_COPY, (size_t)1400 * 40, 1400);
}

/* SO_ZEROCOPY set on a listener is inherited by accepted sockets, and can
 * also be set on an already connected socket. */
static void test_sozerocopy_inherited(void **state)
{
	int one = 1, val = 0, lfd, cfd, afd;
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);

	(void)state;
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(
		setsockopt(lfd, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof(one)), 0);
	assert_int_equal(bind(lfd, (void *)&sa, len), 0);
	assert_int_equal(listen(lfd, 1), 0);
	assert_int_equal(getsockname(lfd, (void *)&sa, &len), 0);
	cfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(connect(cfd, (void *)&sa, len), 0);
	afd = accept(lfd, NULL, NULL);
	len = sizeof(val);
	assert_int_equal(getsockopt(afd, SOL_SOCKET, SO_ZEROCOPY, &val, &len),
			 0);
	assert_int_equal(val, 1);
	/* After connect: allowed. */
	assert_int_equal(
		setsockopt(cfd, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof(one)), 0);
	close(afd);
	close(cfd);
	close(lfd);
}

/* The same transfer across a veth pair between two namespaces: the pair
 * is made here, then the receiver and the sender each run in a forked
 * child (a hung one is killed, so the namespaces are always removed). */
#define VETH_CHILD_TIMEOUT_S 60

struct veth_run {
	int snd, rcv;
	struct nu_xfer x;
};

static int veth_receiver(void *arg)
{
	struct veth_run *v = arg;

	close(v->snd);
	return nu_recv_tcp(v->rcv, v->x.total) == (int64_t)v->x.total ? 0 : 5;
}

static int veth_sender(void *arg)
{
	struct veth_run *v = arg;
	struct nu_xfer *x = &v->x;

	close(v->rcv);
	if (nu_send(v->snd, x) || x->send_error || x->dup_callbacks ||
	    x->callbacks != x->accepted || x->close_ret)
		return 4;
	if (x->tx == ZC_TX_MSGZC &&
	    x->results[ZC_RESULT_ZEROCOPY] + x->results[ZC_RESULT_COPIED] !=
		    x->accepted)
		return 5;
	return 0;
}

static void run_veth(enum zc_tx_mode tx, size_t size, unsigned loss)
{
	struct veth_run v = { .x = { .tx = tx,
				     .msg_size = size,
				     .total = 16 << 20,
				     .nonblock = true } };
	struct nu_netns ns;
	struct nu_pair_opts po = { .ns = &ns };
	int ret, st_rx, st_tx;
	pid_t rx;

	print_message("case: veth %s %zu bytes, %u%% loss\n",
		      zc_tx_mode_name(tx), size, loss);
	if (nu_netns_create(&ns, 1500))
		skip();
	if (loss && nu_netns_loss(ns.a, loss)) {
		nu_netns_destroy(&ns);
		skip();
	}
	ret = nu_pair(&po, &v.snd, &v.rcv);
	if (ret) {
		nu_netns_destroy(&ns);
		fail_msg("no connection from %s to %s: %s", ns.b, ns.a,
			 strerror(-ret));
	}
	fflush(NULL);
	rx = fork();
	if (!rx) {
		alarm(VETH_CHILD_TIMEOUT_S);
		_exit(veth_receiver(&v));
	}
	st_tx = nu_fork_run(veth_sender, &v, VETH_CHILD_TIMEOUT_S);
	close(v.snd);
	close(v.rcv);
	if (rx < 0 || waitpid(rx, &st_rx, 0) != rx)
		st_rx = -1;
	nu_netns_destroy(&ns);
	assert_int_equal(st_tx, 0);
	assert_true(WIFEXITED(st_rx));
	assert_int_equal(WEXITSTATUS(st_rx), 0);
}

static void test_veth_integrity(void **state)
{
	(void)state;
	run_veth(ZC_TX_MSGZC, 65536, 0);
	run_veth(ZC_TX_MSGZC, 1 << 20, 0);
	run_veth(ZC_TX_COPY, 65536, 0);
	run_veth(ZC_TX_AUTO, 262144, 0);
}

/* 5% random loss on the receiving side of the veth: TCP recovers, the
 * data arrives intact and every completion is delivered. */
static void test_veth_loss(void **state)
{
	(void)state;
	run_veth(ZC_TX_MSGZC, 65536, 5);
}

int main(void)
{
	struct CMUnitTest tests[TCP_CASES + 5] = {
		[TCP_CASES] = cmocka_unit_test(test_udp_integrity),
		cmocka_unit_test(test_udp_gso),
		cmocka_unit_test(test_sozerocopy_inherited),
		cmocka_unit_test(test_veth_integrity),
		cmocka_unit_test(test_veth_loss),
	};

	tcp_cases_init(tests);
	return _cmocka_run_group_tests("test_msgzc", tests,
				       sizeof(tests) / sizeof(tests[0]), NULL,
				       NULL);
}
