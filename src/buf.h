/* SPDX-License-Identifier: MIT */
/* zc_buf internals, shared with pools and transports. */
#ifndef ZC_SRC_BUF_H
#define ZC_SRC_BUF_H

#include <zcopy/zcopy.h>

enum zc_buf_state {
	ZC_BUF_LIVE = 0x5a43424c, /* "ZCBL": handed out */
	ZC_BUF_FREE = 0x5a434246, /* "ZCBF": back with its owner */
};

struct zc_buf {
	uint32_t state;
	uint16_t flags;
	bool zerocopy_ok;
	unsigned nsegs;
	unsigned max_segs;
	size_t len;
	struct zc_ubuf *ubuf;
	struct zc_seg *segs;
	/* Gives the memory back once the completion has run. */
	void (*recycle)(struct zc_buf *buf);
	void *owner;
};

/* Set up a buffer over caller-provided segment storage. */
void zc_buf_init(struct zc_buf *buf, struct zc_seg *segs, unsigned max_segs,
		 void (*recycle)(struct zc_buf *buf), void *owner);
/* Drop segments, ubuf and flags so the buffer can be filled again. */
void zc_buf_reset(struct zc_buf *buf);

#endif
