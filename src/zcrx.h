/* SPDX-License-Identifier: MIT */
/*
 * The io_uring zero-copy receive (zcrx) ring logic, without system calls:
 * decoding RECV_ZC completions and giving buffers back through the refill
 * ring.  transport_zcrx.c does the system calls; tests/test_zcrx.c and
 * fuzz/fuzz_zcrx.c drive this with fabricated completions and a fake
 * kernel consumer.
 */
#ifndef ZC_SRC_ZCRX_H
#define ZC_SRC_ZCRX_H

#include <stdbool.h>
#include <stdint.h>

#include "compat.h"

enum zc_zcrx_kind {
	ZC_ZCRX_DATA,  /* len bytes at off in area */
	ZC_ZCRX_EOF,   /* the peer is done */
	ZC_ZCRX_REARM, /* stopped for lack of buffers: arm again later */
	ZC_ZCRX_STOP,  /* cancelled: the socket is going */
	ZC_ZCRX_ERROR, /* the connection failed: err */
};

/* One RECV_ZC completion, decoded. */
struct zc_zcrx_ev {
	enum zc_zcrx_kind kind;
	bool more; /* the multishot request is still armed */
	uint16_t area;
	uint64_t off; /* in the area */
	uint32_t len;
	int err; /* negative errno for ZC_ZCRX_ERROR */
};

/*
 * Decode a completion: res and flags of the CQE, zoff the off word of the
 * io_uring_zcrx_cqe after it; the registration has nareas areas of
 * area_len bytes each.  0, or -EPROTO if the kernel's words make no sense
 * (an area that does not exist, bytes beyond its end): nothing to hand
 * out, and ev says whether to re-arm.
 */
int zc_zcrx_decode(int32_t res, uint32_t flags, uint64_t zoff, unsigned nareas,
		   uint64_t area_len, struct zc_zcrx_ev *ev);

/* The refill ring in the region the kernel described by its offsets. */
struct zc_zcrx_rq {
	uint32_t *khead; /* the kernel's: read with acquire */
	uint32_t *ktail; /* ours: written with release */
	struct io_uring_zcrx_rqe *rqes;
	uint32_t entries; /* a power of two */
	uint32_t tail;	  /* next entry we fill */
};

/* Bytes of the refill region for entries: the head and tail words take
 * the first page. */
uint64_t zc_zcrx_rq_region_size(uint32_t entries, uint64_t page);
/* -EINVAL if the kernel's offsets do not fit in region_size bytes or
 * entries is not a power of two. */
int zc_zcrx_rq_init(struct zc_zcrx_rq *rq, void *region, uint64_t region_size,
		    const struct io_uring_zcrx_offsets *o, uint32_t entries);

/* A buffer the application gave back, waiting for room in the ring. */
struct zc_zcrx_ret {
	uint64_t off;
	uint32_t len;
};

/*
 * Buffers go back in the order the application releases them, through a
 * FIFO of returns that waits while the ring is full (the kernel consumes
 * entries only when it needs buffers).
 */
struct zc_zcrx_refill {
	struct zc_zcrx_rq rq;
	uint64_t area_token; /* rq_area_token: the area id, shifted */
	struct zc_zcrx_ret *pend;
	uint32_t cap; /* entries of pend: every buffer the area has */
	uint32_t phead, npend;
};

/* Queue buffer [off, off + len) of the area for the kernel and publish
 * as many queued ones as fit.  -ENOSPC only if more buffers come back
 * than the area has (a bug in the caller). */
int zc_zcrx_refill_give(struct zc_zcrx_refill *r, uint64_t off, uint32_t len);
/* Publish queued returns as room allows (one release store of the
 * tail); returns how many went in. */
uint32_t zc_zcrx_refill_flush(struct zc_zcrx_refill *r);

#endif
