/* SPDX-License-Identifier: MIT */
/* zc_buf: segments, attach, copy/checksum, and release ordering. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <cmocka.h>

#include <zcopy/zcopy.h>

struct record {
	int completes;
	bool last_ok;
	struct zc_buf *last_buf;
};

static void rec_complete(struct zc_buf *buf, struct zc_ubuf *ubuf, bool ok)
{
	struct record *r = zc_ubuf_priv(ubuf);

	r->completes++;
	r->last_ok = ok;
	r->last_buf = buf;
}

static const struct zc_ubuf_ops rec_ops = { .complete = rec_complete };

static struct zc_buf *mkbuf(unsigned max)
{
	struct zc_buf *b = NULL;

	assert_int_equal(zc_buf_create(max, &b), 0);
	assert_non_null(b);
	return b;
}

static void fill(unsigned char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(seed + i * 7 + (i >> 3));
}

/* RFC 1071 over one flat array: big-endian words, odd tail padded. */
static uint16_t ref_csum(const unsigned char *p, size_t n)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < n; i += 2) {
		sum += (uint32_t)p[i] << 8 | p[i + 1];
		sum = (sum & 0xffff) + (sum >> 16);
	}
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static void test_create(void **state)
{
	struct zc_buf *b = NULL;

	(void)state;
	assert_int_equal(zc_buf_create(0, &b), -EINVAL);
	assert_int_equal(zc_buf_create(ZC_BUF_MAX_SEGS + 1, &b), -EINVAL);
	assert_int_equal(zc_buf_create(1, NULL), -EINVAL);
	assert_null(b);
	b = mkbuf(ZC_BUF_MAX_SEGS);
	assert_int_equal(zc_buf_nsegs(b), 0);
	assert_int_equal(zc_buf_len(b), 0);
	assert_int_equal(zc_buf_flags(b), 0);
	assert_null(zc_buf_ubuf(b));
	assert_int_equal(zc_buf_release(b), 0);
}

static void test_add(void **state)
{
	char a[10], c[20];
	struct zc_buf *b = mkbuf(2);
	struct zc_seg s;

	(void)state;
	assert_int_equal(zc_buf_add(NULL, a, 1), -EINVAL);
	assert_int_equal(zc_buf_add(b, NULL, 1), -EINVAL);
	assert_int_equal(zc_buf_add(b, a, 0), -EINVAL);
	assert_int_equal(zc_buf_add(b, a, sizeof(a)), 0);
	assert_int_equal(zc_buf_add(b, c, sizeof(c)), 0);
	assert_int_equal(zc_buf_add(b, a, 1), -ENOSPC);
	assert_int_equal(zc_buf_nsegs(b), 2);
	assert_int_equal(zc_buf_len(b), 30);
	assert_int_equal(zc_buf_seg(b, 1, &s), 0);
	assert_ptr_equal(s.base, c);
	assert_int_equal(s.len, 20);
	assert_null(s.region);
	assert_int_equal(s.off, 0);
	assert_int_equal(zc_buf_seg(b, 2, &s), -ERANGE);
	assert_int_equal(zc_buf_seg(NULL, 0, &s), -EINVAL);
	assert_int_equal(zc_buf_seg(b, 0, NULL), -EINVAL);
	assert_int_equal(zc_buf_flags(b), 0);
	assert_int_equal(zc_buf_release(b), 0);
}

static void test_add_overflow(void **state)
{
	char a[1];
	struct zc_buf *b = mkbuf(3);

	(void)state;
	/* Lengths are never dereferenced by add: only the sum is checked. */
	assert_int_equal(zc_buf_add(b, a, SIZE_MAX - 5), 0);
	assert_int_equal(zc_buf_add(b, a, 6), -EOVERFLOW);
	assert_int_equal(zc_buf_nsegs(b), 1);
	assert_int_equal(zc_buf_len(b), SIZE_MAX - 5);
	assert_int_equal(zc_buf_add(b, a, 5), 0);
	assert_int_equal(zc_buf_len(b), SIZE_MAX);
	assert_int_equal(zc_buf_release(b), 0);
}

static void test_add_region(void **state)
{
	struct zc_region *r = NULL;
	struct zc_buf *b = mkbuf(4);
	struct zc_seg s;

	(void)state;
	assert_int_equal(zc_region_create(8192, ZC_REGION_NOLOCK, &r), 0);
	assert_int_equal(zc_buf_add_region(NULL, r, 0, 1), -EINVAL);
	assert_int_equal(zc_buf_add_region(b, NULL, 0, 1), -EINVAL);
	assert_int_equal(zc_buf_add_region(b, r, 0, 0), -EINVAL);
	assert_int_equal(zc_buf_add_region(b, r, 8192, 1), -ERANGE);
	assert_int_equal(zc_buf_add_region(b, r, 8193, 1), -ERANGE);
	assert_int_equal(zc_buf_add_region(b, r, 100, 8093), -ERANGE);
	assert_int_equal(zc_buf_add_region(b, r, 1, SIZE_MAX), -ERANGE);
	assert_int_equal(zc_buf_add_region(b, r, 100, 8092), 0);
	assert_int_equal(zc_buf_add_region(b, r, 0, 4), 0);
	assert_int_equal(zc_buf_seg(b, 0, &s), 0);
	assert_ptr_equal(s.base, (char *)zc_region_base(r) + 100);
	assert_int_equal(s.len, 8092);
	assert_ptr_equal(s.region, r);
	assert_int_equal(s.off, 100);
	assert_int_equal(zc_buf_len(b), 8096);
	assert_int_equal(zc_buf_flags(b) & ZC_F_UNREADABLE, 0);
	/* Buffer segments keep the region alive. */
	assert_int_equal(zc_region_destroy(r), -EBUSY);
	assert_int_equal(zc_buf_release(b), 0);
	assert_int_equal(zc_region_destroy(r), 0);
}

static void test_add_region_unreadable(void **state)
{
	static char mem[4096];
	struct zc_region *r = NULL;
	struct zc_buf *b = mkbuf(2);

	(void)state;
	assert_int_equal(
		zc_region_wrap(mem, sizeof(mem), ZC_REGION_UNREADABLE, &r), 0);
	assert_int_equal(zc_buf_add(b, mem, 10), 0);
	assert_int_equal(zc_buf_flags(b), 0);
	assert_int_equal(zc_buf_add_region(b, r, 0, 10), 0);
	assert_int_equal(zc_buf_flags(b), ZC_F_UNREADABLE);
	assert_int_equal(zc_buf_release(b), 0);
	assert_int_equal(zc_region_destroy(r), 0);
}

static void test_attach(void **state)
{
	struct record rec = { 0 };
	struct zc_ubuf *u = NULL, *u2 = NULL;
	struct zc_buf *b = mkbuf(1);

	(void)state;
	assert_int_equal(zc_ubuf_create(&rec_ops, ZC_F_REQUESTED | ZC_F_ENABLED,
					&rec, &u),
			 0);
	assert_int_equal(zc_ubuf_create(&rec_ops, 0, &rec, &u2), 0);
	assert_int_equal(zc_buf_attach(NULL, u), -EINVAL);
	assert_int_equal(zc_buf_attach(b, NULL), -EINVAL);
	assert_int_equal(zc_buf_attach(b, u), 0);
	assert_ptr_equal(zc_buf_ubuf(b), u);
	assert_int_equal(zc_ubuf_refs(u), 2);
	assert_int_equal(zc_buf_flags(b), ZC_F_REQUESTED | ZC_F_ENABLED);
	/* Exactly one attach: a second one changes nothing. */
	assert_int_equal(zc_buf_attach(b, u2), -EBUSY);
	assert_int_equal(zc_buf_attach(b, u), -EBUSY);
	assert_ptr_equal(zc_buf_ubuf(b), u);
	assert_int_equal(zc_ubuf_refs(u), 2);
	assert_int_equal(zc_ubuf_refs(u2), 1);
	/* The caller's reference goes first; the buffer's completes. */
	assert_int_equal(zc_ubuf_put(u, NULL, true), 0);
	assert_int_equal(rec.completes, 0);
	assert_int_equal(zc_buf_release(b), 0);
	assert_int_equal(rec.completes, 1);
	assert_true(rec.last_ok);
	assert_int_equal(zc_ubuf_destroy(u), 0);
	assert_int_equal(zc_ubuf_put(u2, NULL, true), 0);
	assert_int_equal(zc_ubuf_destroy(u2), 0);
}

static void test_attach_completed_ubuf(void **state)
{
	struct record rec = { 0 };
	struct zc_ubuf *u = NULL;
	struct zc_buf *b = mkbuf(1);

	(void)state;
	assert_int_equal(zc_ubuf_create(&rec_ops, 0, &rec, &u), 0);
	assert_int_equal(zc_ubuf_put(u, NULL, true), 0);
	assert_int_equal(zc_buf_attach(b, u), -EINVAL);
	assert_null(zc_buf_ubuf(b));
	assert_int_equal(zc_buf_flags(b), 0);
	assert_int_equal(zc_buf_release(b), 0);
	assert_int_equal(rec.completes, 1);
	assert_int_equal(zc_ubuf_destroy(u), 0);
}

static void test_attach_static_flags(void **state)
{
	struct record rec = { 0 };
	struct zc_ubuf *u = NULL;
	struct zc_buf *b = mkbuf(1);
	char a[4];

	(void)state;
	assert_int_equal(zc_ubuf_create(&rec_ops, ZC_F_STATIC | ZC_F_UNREADABLE,
					&rec, &u),
			 0);
	assert_int_equal(zc_buf_add(b, a, sizeof(a)), 0);
	assert_int_equal(zc_buf_attach(b, u), 0);
	assert_int_equal(zc_buf_flags(b), ZC_F_STATIC | ZC_F_UNREADABLE);
	assert_int_equal(zc_ubuf_refs(u), 0);
	/* The ubuf's unreadable flag is honoured like a region's. */
	assert_int_equal(zc_buf_copy_out(b, 0, a, 1), -EACCES);
	zc_buf_set_zerocopy(b, false);
	assert_int_equal(zc_buf_release(b), 0);
	assert_int_equal(rec.completes, 1);
	assert_false(rec.last_ok);
	assert_int_equal(zc_ubuf_destroy(u), 0);
}

static void test_to_iov(void **state)
{
	char a[3], c[5];
	struct iovec iov[3];
	struct zc_buf *b = mkbuf(2);

	(void)state;
	assert_int_equal(zc_buf_to_iov(b, NULL, 0), 0);
	assert_int_equal(zc_buf_add(b, a, sizeof(a)), 0);
	assert_int_equal(zc_buf_add(b, c, sizeof(c)), 0);
	assert_int_equal(zc_buf_to_iov(NULL, iov, 3), -EINVAL);
	assert_int_equal(zc_buf_to_iov(b, NULL, 3), -EINVAL);
	assert_int_equal(zc_buf_to_iov(b, iov, 1), -ENOSPC);
	assert_int_equal(zc_buf_to_iov(b, NULL, 0), -ENOSPC);
	memset(iov, 0xa5, sizeof(iov));
	assert_int_equal(zc_buf_to_iov(b, iov, 3), 2);
	assert_ptr_equal(iov[0].iov_base, a);
	assert_int_equal(iov[0].iov_len, 3);
	assert_ptr_equal(iov[1].iov_base, c);
	assert_int_equal(iov[1].iov_len, 5);
	/* Entries past the used ones are left alone. */
	assert_int_equal(iov[2].iov_len, (size_t)0xa5a5a5a5a5a5a5a5ull);
	assert_int_equal(zc_buf_release(b), 0);
}

static void test_trim(void **state)
{
	char a[10], c[10], d[10];
	struct zc_region *r = NULL;
	struct zc_buf *b = mkbuf(4);
	struct zc_seg s;

	(void)state;
	assert_int_equal(zc_region_create(4096, ZC_REGION_NOLOCK, &r), 0);
	assert_int_equal(zc_buf_add(b, a, 10), 0);
	assert_int_equal(zc_buf_add(b, c, 10), 0);
	assert_int_equal(zc_buf_add_region(b, r, 0, 10), 0);
	assert_int_equal(zc_buf_add(b, d, 10), 0);
	assert_int_equal(zc_buf_trim(NULL, 0), -EINVAL);
	assert_int_equal(zc_buf_trim(b, 41), -EINVAL);
	assert_int_equal(zc_buf_trim(b, 40), 0);
	assert_int_equal(zc_buf_nsegs(b), 4);
	assert_int_equal(zc_buf_trim(b, 25), 0);
	assert_int_equal(zc_buf_nsegs(b), 3);
	assert_int_equal(zc_buf_len(b), 25);
	assert_int_equal(zc_buf_seg(b, 2, &s), 0);
	assert_int_equal(s.len, 5);
	assert_ptr_equal(s.region, r);
	/* Dropping the region segment lets the region go. */
	assert_int_equal(zc_buf_trim(b, 20), 0);
	assert_int_equal(zc_buf_nsegs(b), 2);
	assert_int_equal(zc_buf_len(b), 20);
	assert_int_equal(zc_buf_seg(b, 2, &s), -ERANGE);
	assert_int_equal(zc_region_destroy(r), 0);
	assert_int_equal(zc_buf_trim(b, 3), 0);
	assert_int_equal(zc_buf_nsegs(b), 1);
	assert_int_equal(zc_buf_seg(b, 0, &s), 0);
	assert_int_equal(s.len, 3);
	assert_int_equal(zc_buf_trim(b, 0), 0);
	assert_int_equal(zc_buf_nsegs(b), 0);
	assert_int_equal(zc_buf_len(b), 0);
	assert_int_equal(zc_buf_release(b), 0);
}

static void test_copy_out(void **state)
{
	unsigned char a[7], c[1], d[300], flat[308], out[400];
	struct zc_buf *b = mkbuf(3);

	(void)state;
	fill(a, sizeof(a), 1);
	fill(c, sizeof(c), 2);
	fill(d, sizeof(d), 3);
	memcpy(flat, a, 7);
	memcpy(flat + 7, c, 1);
	memcpy(flat + 8, d, 300);
	assert_int_equal(zc_buf_add(b, a, sizeof(a)), 0);
	assert_int_equal(zc_buf_add(b, c, sizeof(c)), 0);
	assert_int_equal(zc_buf_add(b, d, sizeof(d)), 0);
	/* Every offset and length, including spans across segments. */
	for (size_t off = 0; off <= 310; off += 3) {
		for (size_t len = 0; len <= 320; len += 11) {
			size_t want = off >= 308 ? 0 : 308 - off;

			if (want > len)
				want = len;
			memset(out, 0, sizeof(out));
			assert_int_equal(zc_buf_copy_out(b, off, out, len),
					 want);
			assert_memory_equal(out, flat + (off < 308 ? off : 0),
					    want);
			assert_int_equal(out[want], 0);
		}
	}
	assert_int_equal(zc_buf_copy_out(NULL, 0, out, 1), -EINVAL);
	assert_int_equal(zc_buf_copy_out(b, 0, NULL, 1), -EINVAL);
	assert_int_equal(zc_buf_copy_out(b, 0, NULL, 0), 0);
	assert_int_equal(zc_buf_release(b), 0);
}

static void csum_case(const size_t *lens, unsigned n)
{
	unsigned char flat[2048];
	size_t total = 0;
	struct zc_buf *b = mkbuf(n ? n : 1);
	uint16_t got = 0xdead;

	fill(flat, sizeof(flat), (unsigned)lens[0]);
	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(zc_buf_add(b, flat + total, lens[i]), 0);
		total += lens[i];
	}
	assert_int_equal(zc_buf_csum(b, &got), 0);
	assert_int_equal(got, ref_csum(flat, total));
	assert_int_equal(zc_buf_release(b), 0);
}

static void test_csum(void **state)
{
	static const size_t c1[] = { 1 }, c2[] = { 2 }, c3[] = { 1, 1, 1 },
			    c4[] = { 3, 5, 7, 1 }, c5[] = { 1000, 1, 999 },
			    c6[] = { 2047 }, c7[] = { 2, 4, 6 };
	unsigned char ff[4] = { 0xff, 0xff, 0xff, 0xff };
	unsigned char x[3] = { 0x12, 0x34, 0x56 };
	struct zc_buf *b;
	uint16_t got;

	(void)state;
	csum_case(c1, 1);
	csum_case(c2, 1);
	csum_case(c3, 3);
	csum_case(c4, 4);
	csum_case(c5, 3);
	csum_case(c6, 1);
	csum_case(c7, 3);

	/* Known values: 0x1234 + 0x5600, and the empty buffer. */
	b = mkbuf(2);
	assert_int_equal(zc_buf_csum(b, &got), 0);
	assert_int_equal(got, 0);
	assert_int_equal(zc_buf_add(b, x, 1), 0);
	assert_int_equal(zc_buf_add(b, x + 1, 2), 0);
	assert_int_equal(zc_buf_csum(b, &got), 0);
	assert_int_equal(got, 0x6834);
	assert_int_equal(zc_buf_csum(NULL, &got), -EINVAL);
	assert_int_equal(zc_buf_csum(b, NULL), -EINVAL);
	assert_int_equal(zc_buf_release(b), 0);

	/* Carries fold: 0xffff + 0xffff = 0x1fffe -> 0xffff. */
	b = mkbuf(1);
	assert_int_equal(zc_buf_add(b, ff, 4), 0);
	assert_int_equal(zc_buf_csum(b, &got), 0);
	assert_int_equal(got, 0xffff);
	assert_int_equal(zc_buf_release(b), 0);
}

static void test_set_zerocopy(void **state)
{
	struct record rec = { 0 };
	struct zc_ubuf *u = NULL;
	struct zc_buf *b = mkbuf(1);

	(void)state;
	zc_buf_set_zerocopy(NULL, false); /* must not crash */
	assert_int_equal(zc_ubuf_create(&rec_ops, 0, &rec, &u), 0);
	assert_int_equal(zc_buf_attach(b, u), 0);
	assert_int_equal(zc_ubuf_put(u, NULL, true), 0);
	zc_buf_set_zerocopy(b, false);
	zc_buf_set_zerocopy(b, true);
	zc_buf_set_zerocopy(b, false);
	assert_int_equal(zc_buf_release(b), 0);
	assert_int_equal(rec.completes, 1);
	assert_false(rec.last_ok);
	assert_int_equal(zc_ubuf_destroy(u), 0);
}

/* What the completion of a pool buffer saw while it ran. */
struct order_check {
	struct zc_pool *pool;
	unsigned avail_before;
	unsigned avail_seen;
	unsigned char bytes[64];
	size_t seen_len;
	struct zc_region *seen_region;
	int calls;
};

static void order_complete(struct zc_buf *buf, struct zc_ubuf *ubuf, bool ok)
{
	struct order_check *oc = zc_ubuf_priv(ubuf);
	struct zc_seg s;

	(void)ok;
	oc->calls++;
	oc->avail_seen = zc_pool_avail(oc->pool);
	oc->seen_len = zc_buf_len(buf);
	if (zc_buf_seg(buf, 0, &s) == 0) {
		oc->seen_region = s.region;
		memcpy(oc->bytes, s.base, s.len < 64 ? s.len : 64);
	}
}

static const struct zc_ubuf_ops order_ops = { .complete = order_complete };

static void test_release_pool_order(void **state)
{
	struct order_check oc = { 0 };
	struct zc_region *r = NULL;
	struct zc_buf *b = NULL;
	struct zc_seg s;

	(void)state;
	assert_int_equal(zc_region_create(4096, ZC_REGION_NOLOCK, &r), 0);
	assert_int_equal(zc_pool_create(r, 1024, &order_ops, &oc, &oc.pool), 0);
	assert_int_equal(zc_pool_get(oc.pool, &b), 0);
	assert_int_equal(zc_pool_avail(oc.pool), 3);
	assert_int_equal(zc_buf_seg(b, 0, &s), 0);
	fill(s.base, 64, 42);
	assert_int_equal(zc_buf_trim(b, 64), 0);
	assert_int_equal(zc_buf_release(b), 0);
	assert_int_equal(oc.calls, 1);
	/* The completion ran before the buffer went back to the pool ... */
	assert_int_equal(oc.avail_seen, 3);
	assert_int_equal(zc_pool_avail(oc.pool), 4);
	/* ... and saw its segment and bytes. */
	assert_int_equal(oc.seen_len, 64);
	assert_ptr_equal(oc.seen_region, r);
	assert_memory_equal(oc.bytes, s.base, 64);
	assert_int_equal(zc_buf_release(b), -EALREADY);
	assert_int_equal(oc.calls, 1);
	assert_int_equal(zc_pool_avail(oc.pool), 4);
	assert_int_equal(zc_pool_destroy(oc.pool), 0);
	assert_int_equal(zc_region_destroy(r), 0);
}

/* A heap buffer's completion sees its segments and bytes too. */
static unsigned char heap_seen[16];
static int heap_calls;

static void heap_complete(struct zc_buf *buf, struct zc_ubuf *ubuf, bool ok)
{
	(void)ubuf;
	(void)ok;
	heap_calls++;
	assert_int_equal(zc_buf_nsegs(buf), 2);
	assert_int_equal(zc_buf_copy_out(buf, 0, heap_seen, 16), 16);
}

static const struct zc_ubuf_ops heap_ops = { .complete = heap_complete };

static void test_release_heap_order(void **state)
{
	unsigned char *mem = malloc(16);
	struct zc_ubuf *u = NULL;
	struct zc_buf *b = mkbuf(2);

	(void)state;
	assert_non_null(mem);
	fill(mem, 16, 9);
	assert_int_equal(zc_ubuf_create(&heap_ops, ZC_F_STATIC, NULL, &u), 0);
	assert_int_equal(zc_buf_add(b, mem, 8), 0);
	assert_int_equal(zc_buf_add(b, mem + 8, 8), 0);
	assert_int_equal(zc_buf_attach(b, u), 0);
	heap_calls = 0;
	assert_int_equal(zc_buf_release(b), 0);
	assert_int_equal(heap_calls, 1);
	assert_memory_equal(heap_seen, mem, 16);
	assert_int_equal(zc_ubuf_destroy(u), 0);
	free(mem);
}

static void test_release_null(void **state)
{
	(void)state;
	assert_int_equal(zc_buf_release(NULL), -EINVAL);
	assert_null(zc_buf_ubuf(NULL));
	assert_int_equal(zc_buf_flags(NULL), 0);
	assert_int_equal(zc_buf_nsegs(NULL), 0);
	assert_int_equal(zc_buf_len(NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create),
		cmocka_unit_test(test_add),
		cmocka_unit_test(test_add_overflow),
		cmocka_unit_test(test_add_region),
		cmocka_unit_test(test_add_region_unreadable),
		cmocka_unit_test(test_attach),
		cmocka_unit_test(test_attach_completed_ubuf),
		cmocka_unit_test(test_attach_static_flags),
		cmocka_unit_test(test_to_iov),
		cmocka_unit_test(test_trim),
		cmocka_unit_test(test_copy_out),
		cmocka_unit_test(test_csum),
		cmocka_unit_test(test_set_zerocopy),
		cmocka_unit_test(test_release_pool_order),
		cmocka_unit_test(test_release_heap_order),
		cmocka_unit_test(test_release_null),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
