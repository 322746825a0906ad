/* SPDX-License-Identifier: MIT */
/*
 * The shared-region channel's checks and its copy-area allocator: what the
 * peer wrote is judged here, without system calls (fuzz/fuzz_shm.c).
 */
#include <errno.h>
#include <string.h>

#include "shm_proto.h"

static bool area_ok(uint64_t len)
{
	return len % ZC_SHM_PAGE == 0 && len <= ZC_SHM_AREA_MAX;
}

int zc_shm_hello_check(const struct zc_shm_hello *h)
{
	if (h->magic != ZC_SHM_MAGIC || h->version != ZC_SHM_VERSION ||
	    h->len != sizeof(*h) || h->ring != ZC_SHM_RING ||
	    h->hdr_len != ZC_SHM_HDR_LEN)
		return -EPROTO;
	if (!area_ok(h->copy_len) || !area_ok(h->region_len) || !h->copy_len ||
	    !h->region_len)
		return -EPROTO;
	if (h->file_len != h->hdr_len + h->copy_len + h->region_len)
		return -EPROTO;
	if (h->reserved[0] || h->reserved[1])
		return -EPROTO;
	return 0;
}

int zc_shm_ring_count(uint32_t head, uint32_t tail, uint32_t *n)
{
	uint32_t used = head - tail;

	if (used > ZC_SHM_RING)
		return -EPROTO;
	*n = used;
	return 0;
}

int zc_shm_desc_check(const struct zc_shm_desc *d, uint64_t data_len)
{
	if (!d->len || (d->flags & ~ZC_SHM_D_ALL))
		return -EPROTO;
	if (d->off > data_len || d->len > data_len - d->off)
		return -EPROTO;
	return 0;
}

bool zc_shm_should_ring(uint32_t armed, uint32_t consumer_pos, uint32_t head,
			uint32_t *rung)
{
	if (!armed || (int32_t)(consumer_pos - *rung) < 0)
		return false;
	*rung = head;
	return true;
}

/* ---- the copy area ------------------------------------------------------ */

void zc_shm_arena_init(struct zc_shm_arena *a, uint32_t size)
{
	memset(a, 0, sizeof(*a));
	a->size = size;
}

static struct zc_shm_chunk *arena_chunk(struct zc_shm_arena *a, uint32_t tok)
{
	return &a->chunks[tok % ZC_SHM_RING];
}

/* Where the next chunk goes and how long it may be. */
static uint32_t arena_fit(const struct zc_shm_arena *a, uint32_t want,
			  uint32_t minlen, uint32_t *off)
{
	uint32_t end = 0, start = 0, need = want < minlen ? want : minlen;

	if (a->head > a->tail) {
		end = a->size - a->head;
		start = a->tail;
	} else if (a->head < a->tail) {
		end = a->tail - a->head;
	}
	if (end >= want || (end >= need && end >= start)) {
		*off = a->head;
		return end < want ? end : want;
	}
	if (start >= need) {
		*off = 0;
		return start < want ? start : want;
	}
	return 0;
}

uint32_t zc_shm_arena_alloc(struct zc_shm_arena *a, uint32_t want,
			    uint32_t minlen, uint32_t *off, uint32_t *token)
{
	struct zc_shm_chunk *c;
	uint32_t got;

	if (!want || a->next - a->first >= ZC_SHM_RING)
		return 0;
	if (!a->live) {
		a->head = 0;
		a->tail = 0;
		got = want < a->size ? want : a->size;
		*off = 0;
	} else {
		got = arena_fit(a, want, minlen, off);
		if (!got)
			return 0;
	}
	c = arena_chunk(a, a->next);
	*c = (struct zc_shm_chunk){
		.off = *off, .len = got, .token = a->next, .live = true
	};
	*token = a->next++;
	a->head = *off + got;
	a->live++;
	return got;
}

int zc_shm_arena_free(struct zc_shm_arena *a, uint32_t token)
{
	struct zc_shm_chunk *c = arena_chunk(a, token);

	if (token - a->first >= a->next - a->first || !c->live ||
	    c->token != token)
		return -EPROTO;
	c->live = false;
	a->live--;
	while (a->first != a->next && !arena_chunk(a, a->first)->live)
		a->first++;
	a->tail = a->first != a->next ? arena_chunk(a, a->first)->off : a->head;
	return 0;
}
