/* SPDX-License-Identifier: MIT */
/*
 * Real faults under the copy and MSG_ZEROCOPY transports: optmem_max and
 * RLIMIT_MEMLOCK running out, the peer resetting, the socket killed with
 * ss -K, and closing while a peer that stopped reading holds the data.
 * In every case nothing is lost (what a send accepted arrives intact, or
 * the send reports an error) and every accepted send completes exactly
 * once.  (Random loss on a veth is in test_msgzc.)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "netutil.h"

#define CHILD_TIMEOUT_S 60
#define NOBODY 65534
/* A fault must stop the sender long before nu_send()'s 30 s deadline. */
#define PROMPT_MS 5000

/* Exactly-once delivery, in a form forked children can report: 0 or the
 * first broken rule. */
static int xfer_delivery(const struct nu_xfer *x)
{
	if (x->dup_callbacks)
		return 10;
	if (x->callbacks != x->accepted)
		return 11;
	/* (stats are taken before the close, which may complete more.) */
	if (x->stats.sends != x->accepted)
		return 12;
	if (x->stats.bad_notifications)
		return 13;
	return 0;
}

static void xfer_print(const char *what, const struct nu_xfer *x)
{
	printf("%s: accepted %llu callbacks %llu dup %llu zc %llu copied %llu "
	       "error %llu abandoned %llu nobufs %llu fallbacks %llu "
	       "send_error %d cb_error %d close %d\n",
	       what, (unsigned long long)x->accepted,
	       (unsigned long long)x->callbacks,
	       (unsigned long long)x->dup_callbacks,
	       (unsigned long long)x->results[ZC_RESULT_ZEROCOPY],
	       (unsigned long long)x->results[ZC_RESULT_COPIED],
	       (unsigned long long)x->results[ZC_RESULT_ERROR],
	       (unsigned long long)x->results[ZC_RESULT_ABANDONED],
	       (unsigned long long)x->whys[ZC_WHY_NOBUFS],
	       (unsigned long long)x->stats.fallbacks, x->send_error,
	       x->cb_error, x->close_ret);
}

/* A clean MSG_ZEROCOPY transfer on loopback that ran out of zero-copy
 * resources and fell back to copy (must_fall_back: at least once).  Runs
 * in a child: returns 0 or a code saying what went wrong. */
static int nobufs_transfer(const char *what, void (*drop)(void),
			   bool must_fall_back)
{
	struct nu_xfer x = { .tx = ZC_TX_MSGZC,
			     .msg_size = 65536,
			     .total = 16 << 20 };
	struct nu_rx_thread *rx;
	int snd, rcv, ret;

	if (nu_tcp_pair(AF_INET, &snd, &rcv))
		return 2;
	rx = nu_rx_start_tcp(rcv, x.total);
	if (!rx)
		return 3;
	if (drop)
		drop();
	ret = nu_send(snd, &x);
	if (nu_rx_join(rx, NULL) != (int64_t)x.total)
		return 4;
	xfer_print(what, &x);
	if (ret || x.send_error || x.close_ret)
		return 5;
	ret = xfer_delivery(&x);
	if (ret)
		return ret;
	if (x.results[ZC_RESULT_ZEROCOPY] + x.results[ZC_RESULT_COPIED] !=
	    x.accepted)
		return 6;
	if (x.stats.fallbacks != x.whys[ZC_WHY_NOBUFS])
		return 7;
	if (must_fall_back && !x.stats.fallbacks)
		return 8;
	return 0;
}

static long read_optmem(void)
{
	FILE *f = fopen("/proc/sys/net/core/optmem_max", "r");
	char line[32], *end;
	long v = -1;

	if (!f)
		return -1;
	if (fgets(line, sizeof(line), f)) {
		v = strtol(line, &end, 10);
		if (end == line || (*end && *end != '\n'))
			v = -1;
	}
	fclose(f);
	return v;
}

struct optmem_case {
	const char *ns;
	long optmem;
};

static int optmem_child(void *arg)
{
	const struct optmem_case *c = arg;

	if (nu_netns_enter(c->ns))
		return 20;
	/* /proc/sys/net shows the namespace of the reader. */
	if (read_optmem() != c->optmem)
		return 21;
	/* At 512 bytes nothing fits; at 1024 how many sends find room
	 * depends on how fast completions come back. */
	return nobufs_transfer("optmem", NULL, c->optmem < 1024);
}

/*
 * optmem_max is per namespace (Linux 6.9+).  At 512 bytes no MSG_ZEROCOPY
 * notification fits (every send falls back); at 1024 one does (usually a
 * mix of zero-copy sends and fallbacks, so the completion ids must stay in
 * step with the sends the kernel refused).  TCP itself needs no optmem.
 */
static void test_optmem_netns(void **state)
{
	static const long values[] = { 512, 1024 };
	long host = read_optmem();
	char ns[32];

	(void)state;
	for (unsigned i = 0; i < 2; i++) {
		struct optmem_case c = { ns, values[i] };
		int ret;

		print_message("case: optmem_max %ld\n", values[i]);
		ret = nu_netns_create_one(ns, sizeof(ns));
		if (ret == NU_SKIP)
			skip();
		assert_int_equal(ret, 0);
		ret = nu_sh(NU_IN_NS "sysctl -qw "
				     "net.core.optmem_max=%ld",
			    ns, values[i]);
		if (!ret)
			ret = nu_fork_run(optmem_child, &c, CHILD_TIMEOUT_S);
		else
			ret = -1;
		nu_netns_delete(ns);
		assert_int_equal(read_optmem(), host);
		if (ret == -1) {
			printf("skip: optmem_max is not per namespace here "
			       "(Linux 6.9+)\n");
			skip();
		}
		assert_int_equal(ret, 0);
	}
}

/* Without CAP_IPC_LOCK, MSG_ZEROCOPY pins count against RLIMIT_MEMLOCK.
 * 32 KiB is less than one 64 KiB send, so every zero-copy attempt fails
 * with ENOBUFS whatever the timing (128 KiB let a slow sender under ASan
 * see every completion in time and never hit the limit). */
static void drop_to_nobody(void)
{
	struct rlimit rl = { 32 << 10, 32 << 10 };

	if (setrlimit(RLIMIT_MEMLOCK, &rl) || setgroups(0, NULL) ||
	    setgid(NOBODY) || setuid(NOBODY))
		_exit(30);
}

static int memlock_child(void *arg)
{
	(void)arg;
	return nobufs_transfer("memlock", drop_to_nobody, true);
}

static void test_memlock(void **state)
{
	(void)state;
	if (geteuid() != 0) {
		/* Unprivileged runs have the limit anyway, but cannot be
		 * sure of its value. */
		printf("skip: dropping to nobody needs root\n");
		skip();
	}
	assert_int_equal(nu_fork_run(memlock_child, NULL, CHILD_TIMEOUT_S), 0);
}

/* ---- the connection dies mid-stream ------------------------------------ */

struct death_case {
	enum zc_tx_mode tx;
	bool nonblock;
	int (*fault)(int fd, void *arg);
	void *arg;
	const int *errs; /* errors zc_send may report, 0-terminated */
};

static bool err_in(int err, const int *errs)
{
	for (; *errs; errs++)
		if (err == *errs)
			return true;
	return false;
}

/* Send far more than the receiver takes before the fault; the sender
 * must stop with an error, soon, and account for every send. */
static void run_death(const struct death_case *c, const char *what)
{
	struct nu_xfer x = { .tx = c->tx,
			     .msg_size = 65536,
			     .total = 1ull << 30,
			     .nonblock = c->nonblock,
			     .close_timeout_ms = 10000 };
	struct nu_rx_thread *rx;
	int64_t t0, took, got;
	int snd, rcv;

	print_message("case: %s %s %s\n", what, zc_tx_mode_name(c->tx),
		      c->nonblock ? "non-blocking" : "blocking");
	assert_int_equal(nu_tcp_pair(AF_INET, &snd, &rcv), 0);
	if (c->arg)
		*(int *)c->arg = snd;
	rx = nu_rx_start_tcp_fault(rcv, 4 << 20, c->fault, c->arg);
	assert_non_null(rx);
	t0 = nu_now_ms();
	assert_int_equal(nu_send(snd, &x), 0);
	took = nu_now_ms() - t0;
	got = nu_rx_join(rx, NULL);
	xfer_print(what, &x);
	printf("%s: %s %s received %lld, sender took %lld ms\n", what,
	       zc_tx_mode_name(c->tx),
	       c->nonblock ? "non-blocking" : "blocking", (long long)got,
	       (long long)took);
	/* The receiver saw only correct bytes, at least up to the fault. */
	assert_true(got >= 4 << 20);
	assert_true(err_in(x.send_error, c->errs));
	assert_true(x.bytes_accepted < x.total);
	assert_true(took < PROMPT_MS);
	assert_int_equal(xfer_delivery(&x), 0);
	/* The reset freed everything the kernel held: nothing abandoned. */
	assert_int_equal(x.results[ZC_RESULT_ABANDONED], 0);
	assert_int_equal(x.close_ret, 0);
}

static void run_death_all(struct death_case *c, const char *what)
{
	static const enum zc_tx_mode modes[] = { ZC_TX_COPY, ZC_TX_MSGZC };

	for (unsigned m = 0; m < 2; m++)
		for (int nb = 0; nb < 2; nb++) {
			c->tx = modes[m];
			c->nonblock = nb;
			run_death(c, what);
		}
}

/* Close with SO_LINGER {1, 0}: the kernel answers with a reset. */
static int reset_fault(int fd, void *arg)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	(void)arg;
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
	return 1;
}

static void test_peer_reset(void **state)
{
	static const int errs[] = { -ECONNRESET, -EPIPE, 0 };
	struct death_case c = { .fault = reset_fault, .errs = errs };

	(void)state;
	run_death_all(&c, "reset");
}

/* ss -K on the sender's end of the connection (fd in *arg). */
static int kill_fault(int fd, void *arg)
{
	(void)fd;
	nu_ss_kill(*(int *)arg);
	return 0;
}

static void test_ss_kill(void **state)
{
	static const int errs[] = { -ECONNABORTED, -EPIPE, 0 };
	int snd = -1;
	struct death_case c = { .fault = kill_fault,
				.arg = &snd,
				.errs = errs };

	(void)state;
	if (!nu_ss_kill_works())
		skip();
	run_death_all(&c, "ss -K");
}

/* ---- closing while the peer does not read ------------------------------ */

/*
 * The peer never reads: the kernel buffers fill (zero window) and the rest
 * waits in zcopy's send queue.  Closing with a 300 ms bound must give up:
 * MSG_ZEROCOPY sends whose data the kernel still holds unacknowledged
 * complete as ABANDONED, sends never handed over as ERROR -ECANCELED.
 * The copy transport has nothing to abandon (the kernel took copies).
 */
static void run_stalled(enum zc_tx_mode tx, bool leave_attached)
{
	struct nu_xfer x = { .tx = tx,
			     .msg_size = 1 << 20,
			     .total = 32 << 20,
			     .slots = 32,
			     .nonblock = true,
			     .close_timeout_ms = 300,
			     .leave_attached = leave_attached };
	int64_t t0, took;
	int snd, rcv;

	print_message("case: %s, %s\n", zc_tx_mode_name(tx),
		      leave_attached ? "ctx destroy" : "sock close");
	assert_int_equal(nu_tcp_pair(AF_INET, &snd, &rcv), 0);
	t0 = nu_now_ms();
	assert_int_equal(nu_send(snd, &x), 0);
	took = nu_now_ms() - t0;
	close(rcv);
	xfer_print(leave_attached ? "ctx destroy" : "sock close", &x);
	assert_true(took < 3000);
	assert_int_equal(x.send_error, 0);
	assert_int_equal(x.accepted, 32);
	assert_int_equal(xfer_delivery(&x), 0);
	assert_true(x.results[ZC_RESULT_ERROR] > 0);
	assert_int_equal(x.cb_error, -ECANCELED);
	if (tx == ZC_TX_MSGZC)
		assert_true(x.results[ZC_RESULT_ABANDONED] > 0);
	else
		assert_int_equal(x.results[ZC_RESULT_ABANDONED], 0);
	if (!leave_attached)
		assert_int_equal(x.close_ret, -ETIMEDOUT);
}

static void test_close_stalled(void **state)
{
	(void)state;
	run_stalled(ZC_TX_MSGZC, false);
	run_stalled(ZC_TX_COPY, false);
}

/* zc_ctx_destroy() with the socket still attached does the same (and,
 * under ASan, leaks nothing). */
static void test_ctx_destroy_stalled(void **state)
{
	(void)state;
	run_stalled(ZC_TX_MSGZC, true);
	run_stalled(ZC_TX_COPY, true);
}

/* A receive callback is told of a reset as an error, not as the clean end
 * of the stream (the reset's SO_ERROR is read, and cleared, on EPOLLERR). */
struct rx_end {
	ssize_t last;
	unsigned ends;
	uint64_t bytes;
};

static void rx_end_cb(struct zc_sock *sock, struct zc_buf *buf, ssize_t n,
		      const struct sockaddr *from, void *arg)
{
	struct rx_end *e = arg;

	(void)from;
	if (n > 0) {
		e->bytes += (uint64_t)n;
		zc_sock_release(sock, buf);
		return;
	}
	e->last = n;
	e->ends++;
}

static void test_recv_cb_reset(void **state)
{
	static const enum zc_rx_mode modes[] = { ZC_RX_AUTO, ZC_RX_COPY,
						 ZC_RX_TCPMMAP };
	char data[1000] = { 0 };

	(void)state;
	for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
		struct zc_sock_opts o = { .rx = modes[m] };
		struct rx_end e = { 0 };
		struct linger lg = { 1, 0 };
		struct zc_ctx *ctx;
		struct zc_sock *sock;
		int64_t end = nu_now_ms() + PROMPT_MS;
		int snd, rcv;

		assert_int_equal(nu_tcp_pair(AF_INET, &snd, &rcv), 0);
		assert_int_equal(nu_set_nonblock(rcv), 0);
		assert_int_equal(zc_ctx_create(NULL, &ctx), 0);
		assert_int_equal(zc_sock_attach(ctx, rcv, &o, &sock), 0);
		assert_int_equal(zc_recv_start(sock, rx_end_cb, &e), 0);
		assert_int_equal(send(snd, data, sizeof(data), 0),
				 (ssize_t)sizeof(data));
		while (e.bytes < sizeof(data) && nu_now_ms() < end)
			zc_ctx_process(ctx, 100);
		setsockopt(snd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(snd); /* RST */
		while (!e.ends && nu_now_ms() < end)
			zc_ctx_process(ctx, 100);
		assert_int_equal(e.ends, 1);
		assert_int_equal(e.last, -ECONNRESET);
		zc_ctx_destroy(ctx);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_optmem_netns),
		cmocka_unit_test(test_memlock),
		cmocka_unit_test(test_peer_reset),
		cmocka_unit_test(test_ss_kill),
		cmocka_unit_test(test_close_stalled),
		cmocka_unit_test(test_ctx_destroy_stalled),
		cmocka_unit_test(test_recv_cb_reset),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
