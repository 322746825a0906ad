/* SPDX-License-Identifier: MIT */
/*
 * zcopy relay: a TCP proxy.  Worker threads each accept on their own
 * SO_REUSEPORT listener, connect to the target and move bytes between the
 * two connections of every pair, by one of two engines:
 *   zc      zcopy: each side's received buffers (zc_recv_start) are sent on
 *           the other side as they are (zc_send_buf) and released in the
 *           send's completion: no copy in user space, one context per
 *           thread;
 *   splice  splice(2) socket -> pipe -> socket, per direction.
 * Half-close passes through (end of stream on one side: shutdown of the
 * other once everything before it went out), a reset passes through as a
 * reset, and each pair keeps its counters.  See zcopy-relay(1).
 */
#ifndef ZC_TOOLS_RELAY_H
#define ZC_TOOLS_RELAY_H

#include <netdb.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

enum relay_engine { RELAY_ZC, RELAY_SPLICE };

struct relay_opts {
	enum relay_engine engine;
	int threads;
	bool verbose, json;
	int connect_timeout_s;
	struct sockaddr_storage target;
	socklen_t target_len;
	char target_name[300];
};

/* One pair's record, printed when it ends (-v) and summed at exit. */
struct relay_count {
	uint64_t up, down; /* client -> target, target -> client */
	uint64_t conns, resets, failed_connects;
	int err;  /* what ended a reset pair (negative errno), or 0 */
	int side; /* on which side: 0 client, 1 target */
};

/* The pair ended: report it (-v, --json), add it to the totals.  how:
 * "closed" (both sides ended their streams), "reset", "connect failed". */
void relay_pair_done(const struct relay_opts *o, unsigned id,
		     const struct relay_count *c, int64_t ms, const char *how);

/* A connected, non-blocking socket to the target, or -errno (in
 * progress: the caller waits for EPOLLOUT, then relay_connected()). */
int relay_connect(const struct relay_opts *o);
/* 0 once the connect finished well, else -errno. */
int relay_connected(int fd);
/* Propagate a reset: close fd so that its peer sees RST. */
void relay_reset_close(int fd);

/* The engines: run until *stop, serving lfd.  0 or -errno. */
struct relay_worker;
int relay_run_zc(const struct relay_opts *o, int lfd, const volatile int *stop);
int relay_run_splice(const struct relay_opts *o, int lfd,
		     const volatile int *stop);

#endif
