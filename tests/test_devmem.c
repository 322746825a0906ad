/* SPDX-License-Identifier: MIT */
/*
 * devmem TCP control messages and SO_DEVMEM_DONTNEED batches
 * (src/devmem.c) with fabricated control messages: linear, dma-buf,
 * truncated, unknown, and the kernel's token and frag limits.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "devmem.h"

#define DMABUF_ID 7
#define DMABUF_SIZE (1u << 20)

/* A control buffer built as the kernel's put_cmsg() does. */
struct ctl {
	char buf[4096];
	size_t len;
};

static void put(struct ctl *c, int level, int type, const void *data,
		size_t len)
{
	struct cmsghdr h = { .cmsg_len = CMSG_LEN(len),
			     .cmsg_level = level,
			     .cmsg_type = type };

	assert_true(c->len + CMSG_SPACE(len) <= sizeof(c->buf));
	memcpy(c->buf + c->len, &h, sizeof(h));
	memcpy(c->buf + c->len + CMSG_LEN(0), data, len);
	c->len += CMSG_SPACE(len);
}

static void put_frag(struct ctl *c, int type, uint64_t off, uint32_t size,
		     uint32_t token, uint32_t id)
{
	struct dmabuf_cmsg d = { .frag_offset = off,
				 .frag_size = size,
				 .frag_token = token,
				 .dmabuf_id = id };

	put(c, SOL_SOCKET, type, &d, sizeof(d));
}

static struct zc_devmem_expect want_n(size_t n)
{
	return (struct zc_devmem_expect){ DMABUF_ID, DMABUF_SIZE, n };
}

static void test_parse_mixed(void **state)
{
	struct zc_devmem_expect w = want_n(66 + 4096 + 1000);
	struct zc_devmem_frag f[8];
	struct ctl c = { .len = 0 };
	unsigned n, unknown;
	int one = 1;

	(void)state;
	put_frag(&c, SCM_DEVMEM_LINEAR, 0, 66, 0, 0);
	put(&c, SOL_IP, 1 /* IP_TOS */, &one, sizeof(one));
	put_frag(&c, SCM_DEVMEM_DMABUF, 8192, 4096, 41, DMABUF_ID);
	put_frag(&c, SCM_DEVMEM_DMABUF, 12288, 1000, 42, DMABUF_ID);
	assert_int_equal(zc_devmem_parse(c.buf, c.len, &w, f, 8, &n, &unknown),
			 3);
	assert_int_equal(n, 3);
	assert_int_equal(unknown, 1);
	assert_int_equal(f[0].kind, ZC_DEVMEM_LINEAR);
	assert_int_equal(f[0].len, 66);
	assert_int_equal(f[1].kind, ZC_DEVMEM_DMABUF);
	assert_int_equal(f[1].off, 8192);
	assert_int_equal(f[1].token, 41);
	assert_int_equal(f[2].len, 1000);
	assert_int_equal(f[2].token, 42);
}

static void test_parse_empty_and_linear(void **state)
{
	struct zc_devmem_expect w = want_n(0);
	struct zc_devmem_frag f[2];
	struct ctl c = { .len = 0 };
	unsigned n, unknown;

	(void)state;
	assert_int_equal(zc_devmem_parse(c.buf, 0, &w, f, 2, &n, &unknown), 0);
	/* No control messages but bytes received: they must be accounted. */
	w.received = 10;
	assert_int_equal(zc_devmem_parse(c.buf, 0, &w, f, 2, &n, &unknown),
			 -EPROTO);
	put_frag(&c, SCM_DEVMEM_LINEAR, 0, 10, 0, 0);
	assert_int_equal(zc_devmem_parse(c.buf, c.len, &w, f, 2, &n, &unknown),
			 1);
	assert_int_equal(f[0].kind, ZC_DEVMEM_LINEAR);
}

static void test_parse_truncated(void **state)
{
	struct zc_devmem_expect w = want_n(4096 + 4096);
	struct zc_devmem_frag f[4];
	struct ctl c = { .len = 0 };
	unsigned n, unknown;

	(void)state;
	put_frag(&c, SCM_DEVMEM_DMABUF, 0, 4096, 1, DMABUF_ID);
	put_frag(&c, SCM_DEVMEM_DMABUF, 4096, 4096, 2, DMABUF_ID);
	/* Cut inside the second message's payload. */
	for (size_t cut = c.len - 1;
	     cut > CMSG_SPACE(sizeof(struct dmabuf_cmsg)); cut--) {
		assert_int_equal(
			zc_devmem_parse(c.buf, cut, &w, f, 4, &n, &unknown),
			-EPROTO);
		/* The first frag's token is still there to give back. */
		assert_int_equal(n, 1);
		assert_int_equal(f[0].token, 1);
	}
	/* A header shorter than struct cmsghdr. */
	assert_int_equal(zc_devmem_parse(c.buf, 5, &w, f, 4, &n, &unknown),
			 -EPROTO);
	assert_int_equal(n, 0);
}

static void test_parse_short_payload(void **state)
{
	struct zc_devmem_expect w = want_n(1);
	struct zc_devmem_frag f[2];
	struct ctl c = { .len = 0 };
	uint32_t small = 1;
	unsigned n, unknown;

	(void)state;
	/* A devmem message with a payload too small for a dmabuf_cmsg. */
	put(&c, SOL_SOCKET, SCM_DEVMEM_DMABUF, &small, sizeof(small));
	assert_int_equal(zc_devmem_parse(c.buf, c.len, &w, f, 2, &n, &unknown),
			 -EPROTO);
	assert_int_equal(n, 0);
	/* cmsg_len claiming less than its own header. */
	c.len = 0;
	put_frag(&c, SCM_DEVMEM_LINEAR, 0, 1, 0, 0);
	((struct cmsghdr *)c.buf)->cmsg_len = 4;
	assert_int_equal(zc_devmem_parse(c.buf, c.len, &w, f, 2, &n, &unknown),
			 -EPROTO);
}

static void test_parse_wrong_binding(void **state)
{
	struct zc_devmem_expect w = want_n(200);
	struct zc_devmem_frag f[4];
	struct ctl c = { .len = 0 };
	unsigned n, unknown;

	(void)state;
	put_frag(&c, SCM_DEVMEM_DMABUF, 0, 100, 5, DMABUF_ID);
	put_frag(&c, SCM_DEVMEM_DMABUF, 0, 100, 6, DMABUF_ID + 1);
	assert_int_equal(zc_devmem_parse(c.buf, c.len, &w, f, 4, &n, &unknown),
			 -EPROTO);
	/* Both tokens are kept so both go back. */
	assert_int_equal(n, 2);
	assert_int_equal(f[1].token, 6);
	/* Outside the dma-buf. */
	c.len = 0;
	put_frag(&c, SCM_DEVMEM_DMABUF, DMABUF_SIZE - 50, 100, 8, DMABUF_ID);
	w.received = 100;
	assert_int_equal(zc_devmem_parse(c.buf, c.len, &w, f, 4, &n, &unknown),
			 -EPROTO);
	assert_int_equal(n, 1);
	c.len = 0;
	put_frag(&c, SCM_DEVMEM_DMABUF, UINT64_MAX, 100, 8, DMABUF_ID);
	assert_int_equal(zc_devmem_parse(c.buf, c.len, &w, f, 4, &n, &unknown),
			 -EPROTO);
}

static void test_parse_too_many(void **state)
{
	struct zc_devmem_expect w = want_n(3);
	struct zc_devmem_frag f[2];
	struct ctl c = { .len = 0 };
	unsigned n, unknown;

	(void)state;
	for (unsigned i = 0; i < 3; i++)
		put_frag(&c, SCM_DEVMEM_DMABUF, i, 1, i, DMABUF_ID);
	assert_int_equal(zc_devmem_parse(c.buf, c.len, &w, f, 2, &n, &unknown),
			 -E2BIG);
	assert_int_equal(n, 2);
}

/* ---- SO_DEVMEM_DONTNEED batches ------------------------------------------ */

static uint32_t toks[5000];

static void test_batch_coalesce(void **state)
{
	static const uint32_t t[] = { 4, 5, 6, 9, 10, 2, 3, 3 };
	struct dmabuf_token out[ZC_DEVMEM_DONTNEED_MAX_TOKENS];
	unsigned nout;

	(void)state;
	assert_int_equal(zc_devmem_dontneed_batch(t, 8, out, &nout), 8);
	assert_int_equal(nout, 4);
	assert_int_equal(out[0].token_start, 4);
	assert_int_equal(out[0].token_count, 3);
	assert_int_equal(out[1].token_start, 9);
	assert_int_equal(out[1].token_count, 2);
	assert_int_equal(out[2].token_start, 2);
	assert_int_equal(out[2].token_count, 2);
	/* A repeated token is its own range (the kernel ignores it). */
	assert_int_equal(out[3].token_start, 3);
	assert_int_equal(zc_devmem_dontneed_batch(t, 0, out, &nout), 0);
	assert_int_equal(nout, 0);
}

/* Scattered tokens: 128 ranges per call, the rest in the next. */
static void test_batch_token_limit(void **state)
{
	struct dmabuf_token out[ZC_DEVMEM_DONTNEED_MAX_TOKENS];
	size_t done = 0, calls = 0;
	unsigned nout;

	(void)state;
	for (unsigned i = 0; i < 300; i++)
		toks[i] = i * 2;
	while (done < 300) {
		size_t k = zc_devmem_dontneed_batch(toks + done, 300 - done,
						    out, &nout);

		assert_true(nout <= ZC_DEVMEM_DONTNEED_MAX_TOKENS);
		assert_int_equal(k, nout);
		assert_int_equal(out[0].token_start, toks[done]);
		done += k;
		calls++;
	}
	assert_int_equal(calls, 3);
}

/* Consecutive tokens: one range, but at most 1024 frags per call. */
static void test_batch_frag_limit(void **state)
{
	struct dmabuf_token out[ZC_DEVMEM_DONTNEED_MAX_TOKENS];
	unsigned nout;
	size_t k;

	(void)state;
	for (unsigned i = 0; i < 5000; i++)
		toks[i] = 1000 + i;
	k = zc_devmem_dontneed_batch(toks, 5000, out, &nout);
	assert_int_equal(k, ZC_DEVMEM_DONTNEED_MAX_FRAGS);
	assert_int_equal(nout, 1);
	assert_int_equal(out[0].token_count, ZC_DEVMEM_DONTNEED_MAX_FRAGS);
	k = zc_devmem_dontneed_batch(toks + k, 5000 - k, out, &nout);
	assert_int_equal(out[0].token_start, 1000 + 1024);
	assert_int_equal(k, 1024);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_mixed),
		cmocka_unit_test(test_parse_empty_and_linear),
		cmocka_unit_test(test_parse_truncated),
		cmocka_unit_test(test_parse_short_payload),
		cmocka_unit_test(test_parse_wrong_binding),
		cmocka_unit_test(test_parse_too_many),
		cmocka_unit_test(test_batch_coalesce),
		cmocka_unit_test(test_batch_token_limit),
		cmocka_unit_test(test_batch_frag_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
