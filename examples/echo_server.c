/* SPDX-License-Identifier: MIT */
/*
 * echo_server: the echo server (echo.h) on one thread, with one epoll set
 * that watches only the zcopy context's fd and the listener.
 *
 *   echo_server [-a ADDR] [-p PORT] [-c CLIENTS]
 */
#include <sys/epoll.h>
#include <unistd.h>

#include "echo.h"

static int serve(void)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int ep = epoll_create1(EPOLL_CLOEXEC);
	int ret = 0;

	/* The one fd of the context, plus the listener. */
	ev.data.fd = echo_ctx_fd();
	epoll_ctl(ep, EPOLL_CTL_ADD, ev.data.fd, &ev);
	ev.data.fd = echo_listen_fd();
	epoll_ctl(ep, EPOLL_CTL_ADD, ev.data.fd, &ev);
	while (!echo_done() && !ret) {
		struct epoll_event out[8];
		int n = epoll_wait(ep, out, 8, 1000);

		for (int i = 0; i < n; i++)
			if (out[i].data.fd == echo_listen_fd())
				echo_accept();
		ret = echo_process();
	}
	close(ep);
	return ret;
}

int main(int argc, char **argv)
{
	if (echo_start(argc, argv, "echo_server"))
		return 2;
	return echo_finish(serve());
}
