/* SPDX-License-Identifier: MIT */
/* zc_ubuf internals: embeddable so transports keep one per request. */
#ifndef ZC_SRC_UBUF_H
#define ZC_SRC_UBUF_H

#include <zcopy/zcopy.h>

struct zc_ubuf {
	const struct zc_ubuf_ops *ops;
	void *priv;
	uint32_t refcnt;
	uint16_t flags;
	bool zerocopy_ok; /* AND of every result put so far */
	bool reported;	  /* some put carried a result */
	bool heap;	  /* allocated by zc_ubuf_create() */
};

/* Completes nothing: for static ubufs whose only job is recycling. */
extern const struct zc_ubuf_ops zc_ubuf_nop_ops;

/* Set up an embedded ubuf; same rules as zc_ubuf_create(). */
void zc_ubuf_init(struct zc_ubuf *ubuf, const struct zc_ubuf_ops *ops,
		  unsigned flags, void *priv);

#endif
