/* SPDX-License-Identifier: MIT */
/*
 * echo_event: the echo server (echo.h) inside a libevent loop: an event on
 * zc_ctx_fd() (EV_READ | EV_PERSIST) calls zc_ctx_process(ctx, 0), beside
 * the loop's other events (here one on the listener).
 *
 *   echo_event [-a ADDR] [-p PORT] [-c CLIENTS]
 */
#include <event2/event.h>

#include "echo.h"

static int loop_error;

static void check_done(struct event_base *base, int ret)
{
	if (ret && !loop_error)
		loop_error = ret;
	if (loop_error || echo_done())
		event_base_loopbreak(base);
}

/* The context has work: completions, received data, sends to push. */
static void on_ctx(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	check_done(arg, echo_process());
}

static void on_listen(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	echo_accept();
	check_done(arg, echo_process());
}

int main(int argc, char **argv)
{
	struct event_base *base;
	struct event *ctx_ev, *listen_ev;

	if (echo_start(argc, argv, "echo_event"))
		return 2;
	base = event_base_new();
	if (!base)
		return echo_finish(-1);
	ctx_ev = event_new(base, echo_ctx_fd(), EV_READ | EV_PERSIST, on_ctx,
			   base);
	listen_ev = event_new(base, echo_listen_fd(), EV_READ | EV_PERSIST,
			      on_listen, base);
	event_add(ctx_ev, NULL);
	event_add(listen_ev, NULL);
	event_base_dispatch(base);
	event_free(ctx_ev);
	event_free(listen_ev);
	event_base_free(base);
	return echo_finish(loop_error);
}
