/* SPDX-License-Identifier: MIT */
/*
 * zcrx ring logic (see zcrx.h).
 *
 * Kernel rules this file relies on (io_uring/zcrx.c, Linux 6.15+):
 *  - a RECV_ZC CQE with res > 0 carries, in the 16 bytes after it, the
 *    offset of the data in the area with the area id in the bits from
 *    IORING_ZCRX_AREA_SHIFT up; res is the length;
 *  - res 0 without IORING_CQE_F_MORE is the end of the stream; a CQE
 *    without F_MORE ends the multishot request: -ENOSPC when the area had
 *    no free buffer (the refill ring was empty), and any CQE when the CQ
 *    overflowed; the request is armed again once buffers are back;
 *  - the refill ring is a single-producer ring: we write entries, then
 *    publish the tail with a store-release; the kernel reads the tail with
 *    an acquire, consumes entries and publishes its head with a release,
 *    which we read with an acquire before reusing entries;
 *  - an entry's off is the area offset with rq_area_token (the area id,
 *    shifted) in the high bits; its len is what the CQE said.
 */
#include <errno.h>

#include "zcrx.h"

static void decode_data(int32_t res, uint64_t zoff, unsigned nareas,
			uint64_t area_len, struct zc_zcrx_ev *ev, int *ret)
{
	uint64_t off = zoff & ~IORING_ZCRX_AREA_MASK;
	uint64_t area = zoff >> IORING_ZCRX_AREA_SHIFT;

	ev->kind = ZC_ZCRX_DATA;
	if (area >= nareas || off > area_len ||
	    (uint64_t)res > area_len - off) {
		/* Nothing to hand out: keep receiving, say it was wrong. */
		ev->kind = ev->more ? ZC_ZCRX_DATA : ZC_ZCRX_REARM;
		ev->len = 0;
		*ret = -EPROTO;
		return;
	}
	ev->area = (uint16_t)area;
	ev->off = off;
	ev->len = (uint32_t)res;
}

int zc_zcrx_decode(int32_t res, uint32_t flags, uint64_t zoff, unsigned nareas,
		   uint64_t area_len, struct zc_zcrx_ev *ev)
{
	int ret = 0;

	*ev = (struct zc_zcrx_ev){ .more = flags & IORING_CQE_F_MORE };
	if (res > 0) {
		decode_data(res, zoff, nareas, area_len, ev, &ret);
		return ret;
	}
	switch (res) {
	case 0:
		/* A 0 with F_MORE would be an empty frame: nothing to do. */
		ev->kind = ev->more ? ZC_ZCRX_DATA : ZC_ZCRX_EOF;
		break;
	case -ENOSPC:	 /* no free buffer in the area */
	case -ENOBUFS:	 /* the same, as some kernels say it */
	case -EOVERFLOW: /* the CQ was full */
	case -EAGAIN:
	case -EINTR:
		ev->kind = ZC_ZCRX_REARM;
		break;
	case -ECANCELED:
		ev->kind = ZC_ZCRX_STOP;
		break;
	default:
		ev->kind = ZC_ZCRX_ERROR;
		ev->err = res;
		break;
	}
	return 0;
}

/* ---- the refill ring -------------------------------------------------- */

uint64_t zc_zcrx_rq_region_size(uint32_t entries, uint64_t page)
{
	uint64_t size =
		page + (uint64_t)entries * sizeof(struct io_uring_zcrx_rqe);

	return (size + page - 1) / page * page;
}

static bool fits(uint64_t off, uint64_t len, uint64_t size)
{
	return off <= size && len <= size - off;
}

int zc_zcrx_rq_init(struct zc_zcrx_rq *rq, void *region, uint64_t region_size,
		    const struct io_uring_zcrx_offsets *o, uint32_t entries)
{
	char *base = region;

	if (!entries || (entries & (entries - 1)) ||
	    !fits(o->head, sizeof(uint32_t), region_size) ||
	    !fits(o->tail, sizeof(uint32_t), region_size) ||
	    !fits(o->rqes, (uint64_t)entries * sizeof(struct io_uring_zcrx_rqe),
		  region_size) ||
	    o->head % sizeof(uint32_t) || o->tail % sizeof(uint32_t) ||
	    o->rqes % sizeof(uint64_t))
		return -EINVAL;
	rq->khead = (uint32_t *)(base + o->head);
	rq->ktail = (uint32_t *)(base + o->tail);
	rq->rqes = (struct io_uring_zcrx_rqe *)(base + o->rqes);
	rq->entries = entries;
	rq->tail = __atomic_load_n(rq->ktail, __ATOMIC_RELAXED);
	return 0;
}

static uint32_t rq_space(const struct zc_zcrx_rq *rq)
{
	uint32_t head = __atomic_load_n(rq->khead, __ATOMIC_ACQUIRE);

	/* Unsigned arithmetic: both counters wrap at 2^32. */
	return rq->entries - (rq->tail - head);
}

uint32_t zc_zcrx_refill_flush(struct zc_zcrx_refill *r)
{
	struct zc_zcrx_rq *rq = &r->rq;
	uint32_t room = rq_space(rq), n = 0;

	/* A head the kernel moved past our tail would be its bug: room
	 * above entries means nothing sane, so publish nothing. */
	if (room > rq->entries)
		return 0;
	while (r->npend && n < room) {
		const struct zc_zcrx_ret *ret = &r->pend[r->phead];
		struct io_uring_zcrx_rqe *e =
			&rq->rqes[rq->tail & (rq->entries - 1)];

		e->off = (ret->off & ~IORING_ZCRX_AREA_MASK) | r->area_token;
		e->len = ret->len;
		e->__pad = 0;
		rq->tail++;
		r->phead = (r->phead + 1) % r->cap;
		r->npend--;
		n++;
	}
	if (n)
		__atomic_store_n(rq->ktail, rq->tail, __ATOMIC_RELEASE);
	return n;
}

int zc_zcrx_refill_give(struct zc_zcrx_refill *r, uint64_t off, uint32_t len)
{
	if (r->npend == r->cap)
		return -ENOSPC;
	r->pend[(r->phead + r->npend) % r->cap] =
		(struct zc_zcrx_ret){ off, len };
	r->npend++;
	zc_zcrx_refill_flush(r);
	return 0;
}
