/* SPDX-License-Identifier: MIT */
/*
 * devmem TCP control messages and token batches (see devmem.h).
 *
 * Kernel rules this file relies on (net/ipv4/tcp.c tcp_recvmsg_dmabuf,
 * net/core/sock.c sock_devmem_dontneed; Linux 6.12+):
 *  - with MSG_SOCK_DEVMEM each frag of the message comes as one
 *    SOL_SOCKET control message carrying a struct dmabuf_cmsg:
 *    SCM_DEVMEM_LINEAR for bytes copied into the iov (frag_size only),
 *    SCM_DEVMEM_DMABUF for bytes left in the dma-buf (frag_offset,
 *    frag_size, frag_token, dmabuf_id); their sizes add up to the return;
 *  - every DMABUF frag holds a token until SO_DEVMEM_DONTNEED gives it
 *    back; the option takes an array of {token_start, token_count}
 *    ranges, at most 128 of them (else -EINVAL), and frees at most 1024
 *    frags per call, returning how many it freed;
 *  - when the control buffer is too small the kernel sets MSG_CTRUNC and
 *    the frags whose messages were cut are lost to the application until
 *    the socket closes, so the caller sizes it for a full message.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>

#include "devmem.h"

/* The header of the control message at control + pos; -EPROTO if it or
 * its payload runs past the end. */
static int cmsg_at(const char *control, size_t len, size_t pos,
		   struct cmsghdr *h)
{
	if (len - pos < sizeof(*h))
		return -EPROTO;
	memcpy(h, control + pos, sizeof(*h));
	if (h->cmsg_len < sizeof(*h) || h->cmsg_len > len - pos)
		return -EPROTO;
	return 0;
}

static int frag_from(const struct cmsghdr *h, const char *payload,
		     const struct zc_devmem_expect *want,
		     struct zc_devmem_frag *f)
{
	struct dmabuf_cmsg dc;

	*f = (struct zc_devmem_frag){ .kind = ZC_DEVMEM_LINEAR };
	if (h->cmsg_len < CMSG_LEN(sizeof(dc)))
		return -EPROTO;
	memcpy(&dc, payload, sizeof(dc));
	f->len = dc.frag_size;
	if (h->cmsg_type == SCM_DEVMEM_LINEAR)
		return 0;
	f->kind = ZC_DEVMEM_DMABUF;
	f->off = dc.frag_offset;
	f->token = dc.frag_token;
	if (dc.dmabuf_id != want->dmabuf_id ||
	    dc.frag_offset > want->dmabuf_size ||
	    dc.frag_size > want->dmabuf_size - dc.frag_offset)
		return -EPROTO;
	return 1; /* holds a token */
}

static bool is_devmem(const struct cmsghdr *h)
{
	return h->cmsg_level == SOL_SOCKET &&
	       (h->cmsg_type == SCM_DEVMEM_LINEAR ||
		h->cmsg_type == SCM_DEVMEM_DMABUF);
}

int zc_devmem_parse(const void *control, size_t len,
		    const struct zc_devmem_expect *want,
		    struct zc_devmem_frag *out, unsigned max, unsigned *nparsed,
		    unsigned *unknown)
{
	const char *c = control;
	uint64_t total = 0;
	unsigned n = 0;
	size_t pos = 0;
	int ret = 0;

	*unknown = 0;
	while (pos < len && !ret) {
		struct cmsghdr h;

		ret = cmsg_at(c, len, pos, &h);
		if (ret)
			break;
		if (!is_devmem(&h)) {
			(*unknown)++;
		} else if (n == max) {
			ret = -E2BIG;
		} else {
			ret = frag_from(&h, c + pos + CMSG_LEN(0), want,
					&out[n]);
			/* A frag with a token counts even if it is wrong:
			 * its token must still go back. */
			if (ret >= 0 || out[n].kind == ZC_DEVMEM_DMABUF)
				total += out[n++].len;
			ret = ret > 0 ? 0 : ret;
		}
		/* The next header is aligned; the last may end unpadded. */
		pos += CMSG_ALIGN(h.cmsg_len);
	}
	*nparsed = n;
	if (!ret && total != want->received)
		ret = -EPROTO;
	return ret ? ret : (int)n;
}

size_t zc_devmem_dontneed_batch(const uint32_t *tokens, size_t n,
				struct dmabuf_token *out, unsigned *nout)
{
	unsigned ranges = 0, frags = 0;
	size_t i = 0;

	while (i < n && frags < ZC_DEVMEM_DONTNEED_MAX_FRAGS) {
		struct dmabuf_token *last = ranges ? &out[ranges - 1] : NULL;

		if (last &&
		    tokens[i] == last->token_start + last->token_count &&
		    last->token_count < UINT32_MAX) {
			last->token_count++;
		} else if (ranges < ZC_DEVMEM_DONTNEED_MAX_TOKENS) {
			out[ranges++] = (struct dmabuf_token){ tokens[i], 1 };
		} else {
			break;
		}
		frags++;
		i++;
	}
	*nout = ranges;
	return i;
}
