/* SPDX-License-Identifier: MIT */
/*
 * devmem TCP logic without system calls: the control messages of a
 * recvmsg(MSG_SOCK_DEVMEM) and the batches of SO_DEVMEM_DONTNEED that
 * give frags back.  transport_devmem.c does the system calls;
 * tests/test_devmem.c and fuzz/fuzz_devmem.c feed these fabricated
 * control messages.
 */
#ifndef ZC_SRC_DEVMEM_H
#define ZC_SRC_DEVMEM_H

#include <stddef.h>
#include <stdint.h>

#include "compat.h"

enum zc_devmem_kind {
	ZC_DEVMEM_LINEAR, /* copied into the receive buffer (headers, or a
			   * packet that did not land in device memory) */
	ZC_DEVMEM_DMABUF, /* left in the dma-buf: off, token */
};

struct zc_devmem_frag {
	enum zc_devmem_kind kind;
	uint32_t len;
	uint64_t off;	/* DMABUF: offset in the dma-buf */
	uint32_t token; /* DMABUF: for SO_DEVMEM_DONTNEED */
};

/* What the kernel's messages must agree with. */
struct zc_devmem_expect {
	uint32_t dmabuf_id;   /* the binding's id */
	uint64_t dmabuf_size; /* bytes in the dma-buf */
	size_t received;      /* what recvmsg() returned */
};

/*
 * Parse the control messages [control, control + len) into frags, in
 * stream order.  Other control messages are skipped (*unknown counts
 * them).  Returns the number of frags, -E2BIG if more than max, or
 * -EPROTO if a message is truncated, a frag lies outside the dma-buf or
 * belongs to another binding, or the frags do not add up to received.
 * On -EPROTO the frags parsed so far (*nparsed) still hold tokens that
 * must be given back.
 */
int zc_devmem_parse(const void *control, size_t len,
		    const struct zc_devmem_expect *want,
		    struct zc_devmem_frag *out, unsigned max, unsigned *nparsed,
		    unsigned *unknown);

/*
 * The next SO_DEVMEM_DONTNEED call for tokens[0..n): runs of consecutive
 * tokens become one range; at most ZC_DEVMEM_DONTNEED_MAX_TOKENS ranges
 * and ZC_DEVMEM_DONTNEED_MAX_FRAGS frags (the kernel's limits: more
 * ranges is -EINVAL, frags past the limit are silently left).  Writes the
 * ranges to out (room for ZC_DEVMEM_DONTNEED_MAX_TOKENS) and their count
 * to *nout; returns how many tokens they cover.
 */
size_t zc_devmem_dontneed_batch(const uint32_t *tokens, size_t n,
				struct dmabuf_token *out, unsigned *nout);

#endif
