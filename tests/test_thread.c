/* SPDX-License-Identifier: MIT */
/*
 * One thread at a time: in builds with the thread check (debug builds),
 * a second thread calling into a context while another is inside it
 * aborts with a diagnostic naming both threads; handing a context from one
 * thread to another between calls is fine.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "netutil.h"

struct pair {
	struct zc_ctx *ctx;
	struct zc_sock *sock;
	int peer;
	int inside[2]; /* pipe: the callback says "I am inside" */
	int go_on[2];  /* pipe: the callback may return */
};

static void send_done(struct zc_sock *sock, const struct zc_completion *c,
		      void *arg)
{
	struct pair *p = arg;
	char b = 0;

	(void)sock;
	(void)c;
	/* Inside zc_ctx_process(): let the other thread in, wait for it. */
	if (write(p->inside[1], &b, 1) != 1 || read(p->go_on[0], &b, 1) != 1)
		abort();
}

static void pair_init(struct pair *p)
{
	int snd;

	assert_int_equal(nu_tcp_pair(AF_INET, &snd, &p->peer), 0);
	assert_int_equal(pipe(p->inside), 0);
	assert_int_equal(pipe(p->go_on), 0);
	assert_int_equal(zc_ctx_create(NULL, &p->ctx), 0);
	assert_int_equal(zc_sock_attach(p->ctx, snd, NULL, &p->sock), 0);
}

static void *process_main(void *arg)
{
	struct pair *p = arg;

	zc_ctx_process(p->ctx, 5000);
	return NULL;
}

/* The child: thread A sits in a callback inside zc_ctx_process(); the main
 * thread then sends on the same context. */
static int concurrent_child(void *arg)
{
	struct iovec iov = { "x", 1 };
	struct pair p;
	pthread_t th;
	char b;

	(void)arg;
	pair_init(&p);
	if (zc_send(p.sock, &iov, 1, send_done, &p))
		return 2;
	pthread_create(&th, NULL, process_main, &p);
	if (read(p.inside[0], &b, 1) != 1)
		return 3;
	zc_send(p.sock, &iov, 1, send_done, &p); /* must abort */
	return 0;
}

static void test_concurrent_use_aborts(void **state)
{
	int err[2], st;
	char msg[512] = "";
	pid_t pid;
	ssize_t n;

	(void)state;
#ifndef ZC_THREAD_CHECK
	printf("skip: this build has no thread check (debug builds do)\n");
	skip();
#endif
	assert_int_equal(pipe(err), 0);
	pid = fork();
	if (pid == 0) {
		dup2(err[1], 2);
		alarm(20);
		_exit(concurrent_child(NULL));
	}
	close(err[1]);
	n = read(err[0], msg, sizeof(msg) - 1);
	msg[n > 0 ? n : 0] = 0;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	printf("child: %s", msg);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
	assert_non_null(strstr(msg, "is inside it"));
	assert_non_null(strstr(msg, "one thread at a time"));
}

static void *close_main(void *arg)
{
	struct pair *p = arg;

	/* The other thread's turn: it may use the context now. */
	assert_int_equal(zc_ctx_process(p->ctx, 0) >= 0, 1);
	return NULL;
}

static void hand_over_done(struct zc_sock *sock, const struct zc_completion *c,
			   void *arg)
{
	(void)sock;
	(void)c;
	(void)arg;
}

static void test_hand_over(void **state)
{
	struct iovec iov = { "y", 1 };
	struct pair p;
	pthread_t th;

	(void)state;
	pair_init(&p);
	assert_int_equal(zc_send(p.sock, &iov, 1, hand_over_done, NULL), 0);
	pthread_create(&th, NULL, close_main, &p);
	pthread_join(th, NULL);
	assert_int_equal(zc_ctx_process(p.ctx, 0) >= 0, 1);
	zc_ctx_destroy(p.ctx);
	close(p.peer);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_concurrent_use_aborts),
		cmocka_unit_test(test_hand_over),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
