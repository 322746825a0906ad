/* SPDX-License-Identifier: MIT */
/*
 * A bounded big-endian cursor for the tools' wire protocols (zcopy bench's
 * control messages, zcopy send/recv): reads never pass the end of what
 * arrived; writers size their buffer before writing.
 */
#ifndef ZC_TOOLS_WIRE_H
#define ZC_TOOLS_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct wire_cur {
	uint8_t *p;	  /* writing */
	const uint8_t *r; /* reading */
	size_t left;	  /* bytes left to read */
};

static inline void wire_put(struct wire_cur *c, uint64_t v, unsigned bytes)
{
	for (unsigned i = bytes; i-- > 0;)
		*c->p++ = (uint8_t)(v >> (8 * i));
}

static inline void wire_put_bytes(struct wire_cur *c, const void *src, size_t n)
{
	memcpy(c->p, src, n);
	c->p += n;
}

/* Past the end, the missing bytes read as zero. */
static inline uint64_t wire_get(struct wire_cur *c, unsigned bytes)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < bytes && c->left; i++, c->left--)
		v = v << 8 | *c->r++;
	return v;
}

/* Up to n bytes into dst, NUL-terminated (dst has room for n + 1). */
static inline void wire_get_bytes(struct wire_cur *c, char *dst, size_t n)
{
	n = n < c->left ? n : c->left;
	memcpy(dst, c->r, n);
	dst[n] = '\0';
	c->r += n;
	c->left -= n;
}

#endif
