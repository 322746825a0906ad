/* SPDX-License-Identifier: MIT */
/*
 * echo_uv: the echo server (echo.h) inside a libuv loop.  A zcopy context
 * is one file descriptor to the loop: a uv_poll_t on zc_ctx_fd() that
 * calls zc_ctx_process(ctx, 0) when it is readable, beside the loop's own
 * handles (here a second uv_poll_t on the listener).
 *
 *   echo_uv [-a ADDR] [-p PORT] [-c CLIENTS]
 */
#include <uv.h>

#include "echo.h"

static int loop_error;

static void check_done(uv_loop_t *loop, int ret)
{
	if (ret && !loop_error)
		loop_error = ret;
	if (loop_error || echo_done())
		uv_stop(loop);
}

/* The context has work: completions, received data, sends to push. */
static void on_ctx(uv_poll_t *h, int status, int events)
{
	(void)events;
	check_done(h->loop, status < 0 ? status : echo_process());
}

static void on_listen(uv_poll_t *h, int status, int events)
{
	(void)events;
	if (status == 0)
		echo_accept();
	check_done(h->loop, status < 0 ? status : echo_process());
}

int main(int argc, char **argv)
{
	uv_poll_t ctx_poll, listen_poll;
	uv_loop_t *loop = uv_default_loop();

	if (echo_start(argc, argv, "echo_uv"))
		return 2;
	uv_poll_init(loop, &ctx_poll, echo_ctx_fd());
	uv_poll_start(&ctx_poll, UV_READABLE, on_ctx);
	uv_poll_init(loop, &listen_poll, echo_listen_fd());
	uv_poll_start(&listen_poll, UV_READABLE, on_listen);
	uv_run(loop, UV_RUN_DEFAULT);
	uv_poll_stop(&ctx_poll);
	uv_poll_stop(&listen_poll);
	uv_close((uv_handle_t *)&ctx_poll, NULL);
	uv_close((uv_handle_t *)&listen_poll, NULL);
	uv_run(loop, UV_RUN_NOWAIT);
	uv_loop_close(loop);
	return echo_finish(loop_error);
}
