/* SPDX-License-Identifier: MIT */
/*
 * zcrx ring logic (src/zcrx.c) against fabricated completions and a fake
 * kernel that consumes the refill ring as io_uring does: acquire the
 * tail, read entries, release the head.  No io_uring, no root.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "zcrx.h"

#define PAGE ((uint64_t)4096)
#define AREA_LEN (64u * PAGE)
#define AREA_ID 3u
#define TOKEN ((uint64_t)AREA_ID << IORING_ZCRX_AREA_SHIFT)

/* ---- decoding ------------------------------------------------------------ */

static uint64_t zoff(uint64_t area, uint64_t off)
{
	return area << IORING_ZCRX_AREA_SHIFT | off;
}

static void test_decode_data(void **state)
{
	struct zc_zcrx_ev ev;

	(void)state;
	assert_int_equal(zc_zcrx_decode(1500, IORING_CQE_F_MORE,
					zoff(1, 2 * PAGE + 64), 2, AREA_LEN,
					&ev),
			 0);
	assert_int_equal(ev.kind, ZC_ZCRX_DATA);
	assert_true(ev.more);
	assert_int_equal(ev.area, 1);
	assert_int_equal(ev.off, 2 * PAGE + 64);
	assert_int_equal(ev.len, 1500);
	/* The last byte of the area is fine; one more is not. */
	assert_int_equal(zc_zcrx_decode(PAGE, IORING_CQE_F_MORE,
					zoff(0, AREA_LEN - PAGE), 1, AREA_LEN,
					&ev),
			 0);
	assert_int_equal(ev.len, PAGE);
	/* Without F_MORE: data, and the request ended (CQ overflow). */
	assert_int_equal(zc_zcrx_decode(10, 0, zoff(0, 0), 1, AREA_LEN, &ev),
			 0);
	assert_int_equal(ev.kind, ZC_ZCRX_DATA);
	assert_false(ev.more);
}

static void test_decode_bad(void **state)
{
	struct zc_zcrx_ev ev;

	(void)state;
	/* An area that does not exist. */
	assert_int_equal(zc_zcrx_decode(100, IORING_CQE_F_MORE, zoff(2, 0), 2,
					AREA_LEN, &ev),
			 -EPROTO);
	assert_int_equal(ev.len, 0);
	assert_int_equal(ev.kind, ZC_ZCRX_DATA);
	/* Past the end of the area, and an offset beyond it. */
	assert_int_equal(zc_zcrx_decode(PAGE + 1, IORING_CQE_F_MORE,
					zoff(0, AREA_LEN - PAGE), 1, AREA_LEN,
					&ev),
			 -EPROTO);
	assert_int_equal(
		zc_zcrx_decode(1, 0, zoff(0, AREA_LEN + 1), 1, AREA_LEN, &ev),
		-EPROTO);
	/* Bad and final: nothing to hand out, but arm again. */
	assert_int_equal(ev.kind, ZC_ZCRX_REARM);
	assert_int_equal(ev.len, 0);
	/* The highest area id the encoding allows. */
	assert_int_equal(
		zc_zcrx_decode(1, 0, zoff(0xffff, 0), 1, AREA_LEN, &ev),
		-EPROTO);
}

static void test_decode_ends(void **state)
{
	struct zc_zcrx_ev ev;

	(void)state;
	assert_int_equal(zc_zcrx_decode(0, 0, 0, 1, AREA_LEN, &ev), 0);
	assert_int_equal(ev.kind, ZC_ZCRX_EOF);
	assert_int_equal(zc_zcrx_decode(-ENOSPC, 0, 0, 1, AREA_LEN, &ev), 0);
	assert_int_equal(ev.kind, ZC_ZCRX_REARM);
	assert_int_equal(zc_zcrx_decode(-EOVERFLOW, 0, 0, 1, AREA_LEN, &ev), 0);
	assert_int_equal(ev.kind, ZC_ZCRX_REARM);
	assert_int_equal(zc_zcrx_decode(-ECANCELED, 0, 0, 1, AREA_LEN, &ev), 0);
	assert_int_equal(ev.kind, ZC_ZCRX_STOP);
	assert_int_equal(zc_zcrx_decode(-ECONNRESET, 0, 0, 1, AREA_LEN, &ev),
			 0);
	assert_int_equal(ev.kind, ZC_ZCRX_ERROR);
	assert_int_equal(ev.err, -ECONNRESET);
	/* An empty frame with F_MORE: nothing, still armed. */
	assert_int_equal(
		zc_zcrx_decode(0, IORING_CQE_F_MORE, 0, 1, AREA_LEN, &ev), 0);
	assert_int_equal(ev.kind, ZC_ZCRX_DATA);
	assert_int_equal(ev.len, 0);
	assert_true(ev.more);
}

/* ---- the refill ring and a fake kernel ------------------------------------ */

struct fake {
	void *region;
	uint64_t size;
	struct io_uring_zcrx_offsets o;
	uint32_t entries;
	uint32_t head; /* the kernel's consumer index */
	struct zc_zcrx_refill r;
	/* What the kernel saw, in order. */
	struct zc_zcrx_ret got[1024];
	unsigned ngot;
	unsigned bad;
};

static struct fake *fake_new(uint32_t entries, uint32_t cap, uint32_t start)
{
	struct fake *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->entries = entries;
	f->size = zc_zcrx_rq_region_size(entries, PAGE);
	assert_int_equal(f->size % PAGE, 0);
	assert_true(f->size >= PAGE + (uint64_t)entries * 16);
	f->region = aligned_alloc(PAGE, f->size);
	assert_non_null(f->region);
	memset(f->region, 0xa5, f->size);
	/* Layout as the kernel gives it: head and tail on their own cache
	 * lines, entries after the first page's header. */
	f->o = (struct io_uring_zcrx_offsets){ .head = 0,
					       .tail = 64,
					       .rqes = 128 };
	/* Counters that start near the wrap. */
	f->head = start;
	memcpy((char *)f->region + f->o.head, &start, 4);
	memcpy((char *)f->region + f->o.tail, &start, 4);
	assert_int_equal(
		zc_zcrx_rq_init(&f->r.rq, f->region, f->size, &f->o, entries),
		0);
	f->r.area_token = TOKEN;
	f->r.cap = cap;
	f->r.pend = calloc(cap, sizeof(*f->r.pend));
	assert_non_null(f->r.pend);
	return f;
}

static void fake_free(struct fake *f)
{
	free(f->r.pend);
	free(f->region);
	free(f);
}

/* The kernel takes up to max entries, as io_zcrx_ring_refill does. */
static unsigned fake_consume(struct fake *f, unsigned max)
{
	uint32_t *kh = (uint32_t *)((char *)f->region + f->o.head);
	uint32_t *kt = (uint32_t *)((char *)f->region + f->o.tail);
	uint32_t tail = __atomic_load_n(kt, __ATOMIC_ACQUIRE);
	const struct io_uring_zcrx_rqe *rqes =
		(const void *)((char *)f->region + f->o.rqes);
	unsigned n = 0;

	while (f->head != tail && n < max) {
		const struct io_uring_zcrx_rqe *e =
			&rqes[f->head & (f->entries - 1)];

		if ((e->off & IORING_ZCRX_AREA_MASK) != TOKEN || e->__pad)
			f->bad++;
		f->got[f->ngot++] =
			(struct zc_zcrx_ret){ e->off & ~IORING_ZCRX_AREA_MASK,
					      e->len };
		f->head++;
		n++;
	}
	__atomic_store_n(kh, f->head, __ATOMIC_RELEASE);
	return n;
}

static void test_rq_init_checks(void **state)
{
	struct fake *f = fake_new(16, 16, 0);
	struct io_uring_zcrx_offsets o = f->o;
	struct zc_zcrx_rq rq;

	(void)state;
	assert_int_equal(zc_zcrx_rq_init(&rq, f->region, f->size, &o, 12),
			 -EINVAL);
	assert_int_equal(zc_zcrx_rq_init(&rq, f->region, f->size, &o, 0),
			 -EINVAL);
	o.rqes = (uint32_t)f->size - 8;
	assert_int_equal(zc_zcrx_rq_init(&rq, f->region, f->size, &o, 16),
			 -EINVAL);
	o = f->o;
	o.tail = (uint32_t)f->size;
	assert_int_equal(zc_zcrx_rq_init(&rq, f->region, f->size, &o, 16),
			 -EINVAL);
	o = f->o;
	o.head = 2;
	assert_int_equal(zc_zcrx_rq_init(&rq, f->region, f->size, &o, 16),
			 -EINVAL);
	fake_free(f);
}

/* Released out of order: the kernel gets them in release order with the
 * area token on each. */
static void test_refill_out_of_order(void **state)
{
	static const unsigned order[] = { 5, 0, 3, 1, 4, 2 };
	struct fake *f = fake_new(8, 8, 0);

	(void)state;
	for (unsigned i = 0; i < 6; i++)
		assert_int_equal(zc_zcrx_refill_give(&f->r, order[i] * PAGE,
						     100 + order[i]),
				 0);
	assert_int_equal(f->r.npend, 0);
	assert_int_equal(fake_consume(f, 100), 6);
	for (unsigned i = 0; i < 6; i++) {
		assert_int_equal(f->got[i].off, order[i] * PAGE);
		assert_int_equal(f->got[i].len, 100 + order[i]);
	}
	assert_int_equal(f->bad, 0);
	fake_free(f);
}

/* A full ring keeps returns queued until the kernel makes room; the
 * counters wrap at 2^32. */
static void test_refill_full_and_wrap(void **state)
{
	struct fake *f = fake_new(4, 64, UINT32_MAX - 5);
	unsigned next = 0, want = 0;

	(void)state;
	for (unsigned round = 0; round < 10; round++) {
		for (unsigned i = 0; i < 6; i++, next++)
			assert_int_equal(
				zc_zcrx_refill_give(&f->r, next * PAGE, 7), 0);
		/* Only 4 fit; the rest wait. */
		assert_true(f->r.npend >= 2);
		while (f->r.npend || f->head != f->r.rq.tail) {
			fake_consume(f, 3);
			zc_zcrx_refill_flush(&f->r);
		}
	}
	assert_int_equal(f->ngot, 60);
	for (unsigned i = 0; i < f->ngot; i++, want++)
		assert_int_equal(f->got[i].off, want * PAGE);
	assert_int_equal(f->bad, 0);
	/* Nothing to publish: the tail stays. */
	assert_int_equal(zc_zcrx_refill_flush(&f->r), 0);
	fake_free(f);
}

/* More returns than buffers exist is refused, never overwritten. */
static void test_refill_overcommit(void **state)
{
	struct fake *f = fake_new(2, 3, 0);

	(void)state;
	for (unsigned i = 0; i < 5; i++)
		assert_int_equal(zc_zcrx_refill_give(&f->r, i * PAGE, 1), 0);
	assert_int_equal(f->r.npend, 3);
	assert_int_equal(zc_zcrx_refill_give(&f->r, 9 * PAGE, 1), -ENOSPC);
	fake_consume(f, 2);
	assert_int_equal(zc_zcrx_refill_flush(&f->r), 2);
	assert_int_equal(zc_zcrx_refill_give(&f->r, 9 * PAGE, 1), 0);
	fake_consume(f, 10);
	zc_zcrx_refill_flush(&f->r);
	fake_consume(f, 10);
	assert_int_equal(f->ngot, 6);
	assert_int_equal(f->got[5].off, 9 * PAGE);
	fake_free(f);
}

/* A kernel head that ran past our tail publishes nothing. */
static void test_refill_bad_head(void **state)
{
	struct fake *f = fake_new(4, 4, 0);
	uint32_t bogus = 100;

	(void)state;
	memcpy((char *)f->region + f->o.head, &bogus, 4);
	assert_int_equal(zc_zcrx_refill_give(&f->r, 0, 1), 0);
	assert_int_equal(f->r.npend, 1);
	assert_int_equal(f->r.rq.tail, 0);
	fake_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_data),
		cmocka_unit_test(test_decode_bad),
		cmocka_unit_test(test_decode_ends),
		cmocka_unit_test(test_rq_init_checks),
		cmocka_unit_test(test_refill_out_of_order),
		cmocka_unit_test(test_refill_full_and_wrap),
		cmocka_unit_test(test_refill_overcommit),
		cmocka_unit_test(test_refill_bad_head),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
