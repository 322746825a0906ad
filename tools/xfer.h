/* SPDX-License-Identifier: MIT */
/*
 * zcopy send / zcopy recv: what the two sides share.  The protocol is in
 * xfer_proto.h; here are the connection with its timeouts, the XXH3
 * helpers, the progress line and the summary.
 */
#ifndef ZC_TOOLS_XFER_H
#define ZC_TOOLS_XFER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "xfer_proto.h"

#define XF_TIMEOUT_S 30 /* default: a peer quiet this long is gone */
#define XF_IO_BUF (1u << 20)

/* One side of a session.  fd is non-blocking; every wait is bounded by
 * timeout_ms. */
struct xf_conn {
	int fd;
	int timeout_ms;
	size_t have; /* bytes in buf not yet decoded */
	uint8_t buf[2 * XF_MAX_LEN];
};

void xf_conn_init(struct xf_conn *c, int fd, int timeout_s);
/* 0, or -ETIMEDOUT, -EPIPE, ... */
int xf_send_msg(struct xf_conn *c, const struct xf_msg *m);
/* The next message: 0, -ETIMEDOUT, -ECONNRESET (the peer closed), or a
 * decode error (-EPROTO, -EPROTONOSUPPORT, -EBADMSG; -EXDEV: a refused
 * name, in m->entry.path). */
int xf_recv_msg(struct xf_conn *c, struct xf_msg *m);
/* Raw bytes (file content) after a message: what was read ahead first,
 * then the socket.  > 0 bytes, 0 at end of stream, -ETIMEDOUT, -errno. */
ssize_t xf_recv_raw(struct xf_conn *c, void *dst, size_t max);
/* Send a STATUS or ERROR with code and its text (or text_or_null). */
int xf_send_status(struct xf_conn *c, uint8_t type, unsigned code,
		   const char *text);
/* Wait up to ms for events on fd: 1 ready, 0 timed out, -errno. */
int xf_wait(int fd, short events, int ms);

/* XXH3-128 of a file's content: 0, or -errno (-ENODATA if it ended
 * early). */
int xf_hash_fd(int fd, uint64_t size, uint8_t out[XF_HASH_LEN]);
/* Streaming XXH3-128 (opaque state). */
struct xf_hasher;
struct xf_hasher *xf_hasher_new(void);
void xf_hasher_update(struct xf_hasher *h, const void *p, size_t n);
void xf_hasher_final(struct xf_hasher *h, uint8_t out[XF_HASH_LEN]);
void xf_hasher_free(struct xf_hasher *h);

/* The progress line on a terminal (stderr): bytes, rate, time left. */
struct xf_progress {
	bool on;
	uint64_t total, done;
	int64_t start_ms, last_ms;
};

void xf_progress_init(struct xf_progress *p, uint64_t total, bool on);
void xf_progress_add(struct xf_progress *p, uint64_t n, const char *name);
void xf_progress_end(struct xf_progress *p);
int64_t xf_now_ms(void);

/* "1.5 GiB" */
void xf_human(char *buf, size_t len, double bytes);

/* What a session did, for the summary line and --json. */
struct xf_tally {
	uint32_t files, dirs, skipped, failed;
	uint64_t bytes;
	int64_t ms;
};

/* One failure for the report (the JSON "failures" array). */
void xf_fail_note(const char *name, const char *why);
void xf_summary(FILE *f, const char *who, const struct xf_tally *t, bool json);

#endif
