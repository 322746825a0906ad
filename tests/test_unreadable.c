/* SPDX-License-Identifier: MIT */
/*
 * Unreadable (device) memory stand-in: PROT_NONE pages.  Every core
 * operation must work without touching the bytes; a read would SIGSEGV
 * and fail the test.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include <zcopy/zcopy.h>

#define NPAGES 4

static size_t pg;

/* Pool completions may look at segment addresses only. */
struct addr_check {
	struct zc_region *region;
	int calls;
	int bad;
	bool last_ok;
};

static void addr_complete(struct zc_buf *buf, struct zc_ubuf *ubuf, bool ok)
{
	struct addr_check *ac = zc_ubuf_priv(ubuf);
	struct zc_seg s;

	ac->calls++;
	ac->last_ok = ok;
	if (!(zc_buf_flags(buf) & ZC_F_UNREADABLE))
		ac->bad++;
	for (unsigned i = 0; zc_buf_seg(buf, i, &s) == 0; i++) {
		uintptr_t lo = (uintptr_t)zc_region_base(ac->region);

		if (s.region != ac->region || (uintptr_t)s.base < lo ||
		    (uintptr_t)s.base + s.len > lo + zc_region_len(ac->region))
			ac->bad++;
	}
}

static const struct zc_ubuf_ops addr_ops = { .complete = addr_complete };

static void *map_none(size_t len)
{
	void *p =
		mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	assert_true(p != MAP_FAILED);
	return p;
}

/* add, add_region, attach, seg, to_iov, trim, copy_out, csum, release. */
static void exercise_buf(struct zc_region *r)
{
	struct addr_check ac = { r, 0, 0, true };
	char *base = zc_region_base(r);
	struct zc_ubuf *u = NULL;
	struct zc_buf *b = NULL;
	struct iovec iov[4];
	struct zc_seg s;
	char dst[16];
	uint16_t csum = 0x1234;

	assert_int_equal(zc_buf_create(4, &b), 0);
	assert_int_equal(zc_buf_add_region(b, r, 1, pg), 0);
	assert_true(zc_buf_flags(b) & ZC_F_UNREADABLE);
	assert_int_equal(zc_buf_add_region(b, r, 2 * pg, pg), 0);
	/* Plain add of the same memory; the buffer is unreadable already. */
	assert_int_equal(zc_buf_add(b, base + 3 * pg, pg), 0);
	assert_int_equal(zc_buf_len(b), 3 * pg);
	assert_int_equal(zc_ubuf_create(&addr_ops, 0, &ac, &u), 0);
	assert_int_equal(zc_buf_attach(b, u), 0);
	assert_true(zc_buf_flags(b) & ZC_F_UNREADABLE);
	assert_int_equal(zc_ubuf_put(u, NULL, true), 0);
	assert_int_equal(zc_buf_seg(b, 0, &s), 0);
	assert_ptr_equal(s.base, base + 1);
	assert_int_equal(s.off, 1);
	assert_int_equal(zc_buf_to_iov(b, iov, 4), 3);
	assert_ptr_equal(iov[2].iov_base, base + 3 * pg);
	assert_int_equal(zc_buf_copy_out(b, 0, dst, sizeof(dst)), -EACCES);
	assert_int_equal(zc_buf_copy_out(b, pg, dst, 1), -EACCES);
	assert_int_equal(zc_buf_csum(b, &csum), -EACCES);
	assert_int_equal(csum, 0x1234);
	assert_int_equal(zc_buf_trim(b, pg + 10), 0);
	assert_int_equal(zc_buf_nsegs(b), 2);
	/* Still unreadable after trimming: the flag never drops. */
	assert_int_equal(zc_buf_copy_out(b, 0, dst, 1), -EACCES);
	zc_buf_set_zerocopy(b, false);
	assert_int_equal(zc_buf_release(b), 0);
	assert_int_equal(ac.calls, 1);
	assert_int_equal(ac.bad, 0);
	assert_false(ac.last_ok);
	assert_int_equal(zc_ubuf_destroy(u), 0);
}

/* Unreadable plain memory marked through the ubuf alone. */
static void exercise_attach_only(char *mem)
{
	struct addr_check ac = { NULL, 0, 0, true };
	struct zc_ubuf *u = NULL;
	struct zc_buf *b = NULL;
	char dst[4];
	uint16_t csum;

	assert_int_equal(zc_ubuf_create(&addr_ops, ZC_F_UNREADABLE, &ac, &u),
			 0);
	assert_int_equal(zc_buf_create(1, &b), 0);
	assert_int_equal(zc_buf_add(b, mem, pg), 0);
	assert_int_equal(zc_buf_attach(b, u), 0);
	assert_int_equal(zc_buf_copy_out(b, 0, dst, sizeof(dst)), -EACCES);
	assert_int_equal(zc_buf_csum(b, &csum), -EACCES);
	assert_int_equal(zc_ubuf_put(u, NULL, true), 0);
	assert_int_equal(zc_buf_release(b), 0);
	assert_int_equal(ac.calls, 1);
	/* No region: every segment counts as "bad" once, but no read. */
	assert_int_equal(ac.bad, 1);
	assert_int_equal(zc_ubuf_destroy(u), 0);
}

static void exercise_pool(struct zc_region *r)
{
	struct addr_check ac = { r, 0, 0, true };
	struct zc_pool *p = NULL;
	struct zc_buf *b[NPAGES] = { NULL }, *x = NULL;
	char dst[8];
	uint16_t csum;

	assert_int_equal(zc_pool_create(r, pg, &addr_ops, &ac, &p), 0);
	for (unsigned round = 0; round < 3; round++) {
		for (unsigned i = 0; i < NPAGES; i++) {
			assert_int_equal(zc_pool_get(p, &b[i]), 0);
			assert_int_equal(zc_buf_flags(b[i]),
					 ZC_F_STATIC | ZC_F_UNREADABLE);
			assert_int_equal(zc_buf_copy_out(b[i], 0, dst, 8),
					 -EACCES);
			assert_int_equal(zc_buf_csum(b[i], &csum), -EACCES);
			assert_int_equal(zc_buf_trim(b[i], 100 + i), 0);
		}
		assert_int_equal(zc_pool_get(p, &x), -ENOBUFS);
		assert_int_equal(zc_region_destroy(r), -EBUSY);
		for (unsigned i = 0; i < NPAGES; i++)
			assert_int_equal(zc_buf_release(b[i]), 0);
		assert_int_equal(zc_buf_release(b[0]), -EALREADY);
	}
	assert_int_equal(ac.calls, 3 * NPAGES);
	assert_int_equal(ac.bad, 0);
	assert_int_equal(zc_pool_destroy(p), 0);
}

static void test_wrapped_prot_none(void **state)
{
	char *mem = map_none(NPAGES * pg);
	struct zc_region *r = NULL;

	(void)state;
	assert_int_equal(
		zc_region_wrap(mem, NPAGES * pg, ZC_REGION_UNREADABLE, &r), 0);
	assert_true(zc_region_flags(r) & ZC_REGION_UNREADABLE);
	exercise_buf(r);
	exercise_pool(r);
	exercise_attach_only(mem);
	assert_int_equal(zc_region_destroy(r), 0);
	assert_int_equal(munmap(mem, NPAGES * pg), 0);
}

static void test_created_unreadable(void **state)
{
	struct zc_region *r = NULL;
	unsigned char vec[NPAGES];

	(void)state;
	assert_int_equal(
		zc_region_create(NPAGES * pg, ZC_REGION_UNREADABLE, &r), 0);
	assert_int_equal(zc_region_len(r), NPAGES * pg);
	assert_int_equal(zc_region_flags(r), ZC_REGION_UNREADABLE);
	/* Never touched, so never faulted in (and not locked). */
	assert_int_equal(mincore(zc_region_base(r), NPAGES * pg, vec), 0);
	for (unsigned i = 0; i < NPAGES; i++)
		assert_int_equal(vec[i] & 1, 0);
	exercise_buf(r);
	exercise_pool(r);
	assert_int_equal(mincore(zc_region_base(r), NPAGES * pg, vec), 0);
	for (unsigned i = 0; i < NPAGES; i++)
		assert_int_equal(vec[i] & 1, 0);
	assert_int_equal(zc_region_destroy(r), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wrapped_prot_none),
		cmocka_unit_test(test_created_unreadable),
	};

	pg = (size_t)sysconf(_SC_PAGESIZE);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
