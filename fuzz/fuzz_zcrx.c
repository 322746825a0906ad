/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the zcrx ring logic.  The input is a stream of
 * operations: a fabricated RECV_ZC completion (res, flags, off word),
 * an application release of one buffer handed out earlier, and a kernel
 * that consumes some refill entries.  Checks: decoded data always lies
 * in an area that exists; the kernel gets back exactly the buffers
 * released, in release order, each once, with the area token.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "zcrx.h"

#define NAREAS 2
#define AREA_LEN (1u << 20)
#define ENTRIES 8
#define CAP 64
#define TOKEN ((uint64_t)1 << IORING_ZCRX_AREA_SHIFT)

struct held {
	uint64_t off;
	uint32_t len;
};

struct state {
	uint32_t words[256]; /* the refill region */
	struct zc_zcrx_refill r;
	struct zc_zcrx_ret pend[CAP];
	uint32_t khead;
	struct held held[CAP];
	unsigned nheld;
	struct zc_zcrx_ret sent[CAP]; /* released, not yet seen by the kernel */
	unsigned s_head, s_n;
};

static void consume(struct state *s, unsigned max)
{
	uint32_t tail = __atomic_load_n(s->r.rq.ktail, __ATOMIC_ACQUIRE);

	while (s->khead != tail && max--) {
		const struct io_uring_zcrx_rqe *e =
			&s->r.rq.rqes[s->khead & (ENTRIES - 1)];
		const struct zc_zcrx_ret *w = &s->sent[s->s_head];

		if (!s->s_n || (e->off & IORING_ZCRX_AREA_MASK) != TOKEN ||
		    (e->off & ~IORING_ZCRX_AREA_MASK) != w->off ||
		    e->len != w->len)
			abort();
		s->s_head = (s->s_head + 1) % CAP;
		s->s_n--;
		s->khead++;
	}
	__atomic_store_n(s->r.rq.khead, s->khead, __ATOMIC_RELEASE);
}

static void cqe(struct state *s, const uint8_t *p)
{
	struct zc_zcrx_ev ev;
	int32_t res;
	uint32_t flags;
	uint64_t zoff;

	memcpy(&res, p, 4);
	memcpy(&flags, p + 4, 4);
	memcpy(&zoff, p + 8, 8);
	if (zc_zcrx_decode(res, flags, zoff, NAREAS, AREA_LEN, &ev) ||
	    ev.kind != ZC_ZCRX_DATA || !ev.len)
		return;
	if (ev.area >= NAREAS || ev.off + ev.len > AREA_LEN || res <= 0)
		abort();
	if (s->nheld < CAP)
		s->held[s->nheld++] = (struct held){ ev.off, ev.len };
}

static void release(struct state *s, uint8_t pick)
{
	struct held h;
	unsigned i;

	if (!s->nheld)
		return;
	i = pick % s->nheld;
	h = s->held[i];
	s->held[i] = s->held[--s->nheld];
	if (zc_zcrx_refill_give(&s->r, h.off, h.len))
		abort(); /* never more out than CAP */
	s->sent[(s->s_head + s->s_n) % CAP] =
		(struct zc_zcrx_ret){ h.off, h.len };
	s->s_n++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct io_uring_zcrx_offsets o = { .head = 0,
							.tail = 64,
							.rqes = 128 };
	struct state *s = calloc(1, sizeof(*s));

	if (!s)
		return 0;
	if (zc_zcrx_rq_init(&s->r.rq, s->words, sizeof(s->words), &o, ENTRIES))
		abort();
	s->r.area_token = TOKEN;
	s->r.pend = s->pend;
	s->r.cap = CAP;
	while (size) {
		uint8_t op = data[0] % 4;

		data++;
		size--;
		if (op == 0 && size >= 16) {
			cqe(s, data);
			data += 16;
			size -= 16;
		} else if (op == 1 && size) {
			release(s, data[0]);
			data++;
			size--;
		} else if (op == 2 && size) {
			consume(s, data[0] % 5);
			data++;
			size--;
		} else {
			zc_zcrx_refill_flush(&s->r);
		}
	}
	free(s);
	return 0;
}
