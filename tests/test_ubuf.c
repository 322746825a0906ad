/* SPDX-License-Identifier: MIT */
/* zc_ubuf: refcounted and static completion objects, get/put/put_abort. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <zcopy/zcopy.h>

#include "ubuf.h"

/* What the callbacks saw; reset by each test. */
struct record {
	int completes;
	int aborts;
	bool last_ok;
	struct zc_buf *last_buf;
	struct zc_ubuf *last_ubuf;
};

static void rec_complete(struct zc_buf *buf, struct zc_ubuf *ubuf, bool ok)
{
	struct record *r = zc_ubuf_priv(ubuf);

	r->completes++;
	r->last_ok = ok;
	r->last_buf = buf;
	r->last_ubuf = ubuf;
}

static void rec_abort(struct zc_ubuf *ubuf)
{
	struct record *r = zc_ubuf_priv(ubuf);

	r->aborts++;
	r->last_ubuf = ubuf;
}

static const struct zc_ubuf_ops ops_full = {
	.complete = rec_complete,
	.abort = rec_abort,
};

static const struct zc_ubuf_ops ops_noabort = {
	.complete = rec_complete,
};

static const struct zc_ubuf_ops ops_nocomplete = {
	.abort = rec_abort,
};

static struct zc_ubuf *mk(const struct zc_ubuf_ops *ops, unsigned flags,
			  struct record *r)
{
	struct zc_ubuf *u = NULL;

	*r = (struct record){ 0 };
	assert_int_equal(zc_ubuf_create(ops, flags, r, &u), 0);
	assert_non_null(u);
	return u;
}

static void test_create_invalid(void **state)
{
	struct zc_ubuf *u = NULL;

	(void)state;
	assert_int_equal(zc_ubuf_create(NULL, 0, NULL, &u), -EINVAL);
	assert_int_equal(zc_ubuf_create(&ops_nocomplete, 0, NULL, &u), -EINVAL);
	assert_int_equal(zc_ubuf_create(&ops_full, 0, NULL, NULL), -EINVAL);
	assert_int_equal(zc_ubuf_create(&ops_full, ZC_F_ALL + 1, NULL, &u),
			 -EINVAL);
	assert_int_equal(zc_ubuf_create(&ops_full, 1u << 31, NULL, &u),
			 -EINVAL);
	assert_null(u);
}

static void test_accessors(void **state)
{
	struct record r;
	struct zc_ubuf *u = mk(&ops_full, ZC_F_REQUESTED | ZC_F_ENABLED, &r);

	(void)state;
	assert_ptr_equal(zc_ubuf_priv(u), &r);
	assert_int_equal(zc_ubuf_flags(u), ZC_F_REQUESTED | ZC_F_ENABLED);
	assert_int_equal(zc_ubuf_refs(u), 1);
	assert_null(zc_ubuf_priv(NULL));
	assert_int_equal(zc_ubuf_flags(NULL), 0);
	assert_int_equal(zc_ubuf_refs(NULL), 0);
	assert_int_equal(zc_ubuf_put(u, NULL, true), 0);
	assert_int_equal(zc_ubuf_destroy(u), 0);
}

static void test_all_flags_kept(void **state)
{
	struct record r;
	struct zc_ubuf *u = mk(&ops_full, ZC_F_ALL, &r);

	(void)state;
	assert_int_equal(zc_ubuf_flags(u), ZC_F_ALL);
	assert_int_equal(zc_ubuf_refs(u), 0);
	assert_int_equal(zc_ubuf_destroy(u), 0);
}

static void test_refcounted_completes_once(void **state)
{
	struct record r;
	struct zc_ubuf *u = mk(&ops_full, 0, &r);
	struct zc_buf *tag = (struct zc_buf *)&r; /* only compared */

	(void)state;
	assert_int_equal(zc_ubuf_get(u), 0);
	assert_int_equal(zc_ubuf_get(u), 0);
	assert_int_equal(zc_ubuf_refs(u), 3);
	assert_int_equal(zc_ubuf_put(u, NULL, true), 0);
	assert_int_equal(zc_ubuf_put(u, NULL, true), 0);
	assert_int_equal(r.completes, 0);
	assert_int_equal(zc_ubuf_refs(u), 1);
	assert_int_equal(zc_ubuf_put(u, tag, true), 0);
	assert_int_equal(r.completes, 1);
	assert_int_equal(r.aborts, 0);
	assert_true(r.last_ok);
	assert_ptr_equal(r.last_buf, tag);
	assert_ptr_equal(r.last_ubuf, u);
	assert_int_equal(zc_ubuf_refs(u), 0);
	/* Completed: no more references can be taken or dropped. */
	assert_int_equal(zc_ubuf_put(u, NULL, true), -EINVAL);
	assert_int_equal(zc_ubuf_put_abort(u), -EINVAL);
	assert_int_equal(zc_ubuf_get(u), -EINVAL);
	assert_int_equal(r.completes, 1);
	assert_int_equal(zc_ubuf_destroy(u), 0);
}

static void test_zerocopy_ok_is_and(void **state)
{
	struct record r;
	struct zc_ubuf *u = mk(&ops_full, 0, &r);

	(void)state;
	assert_int_equal(zc_ubuf_get(u), 0);
	assert_int_equal(zc_ubuf_get(u), 0);
	assert_int_equal(zc_ubuf_put(u, NULL, true), 0);
	assert_int_equal(zc_ubuf_put(u, NULL, false), 0);
	/* The last put says true, but one user was copied. */
	assert_int_equal(zc_ubuf_put(u, NULL, true), 0);
	assert_int_equal(r.completes, 1);
	assert_false(r.last_ok);
	assert_int_equal(zc_ubuf_destroy(u), 0);

	u = mk(&ops_full, 0, &r);
	assert_int_equal(zc_ubuf_put(u, NULL, false), 0);
	assert_int_equal(r.completes, 1);
	assert_false(r.last_ok);
	assert_int_equal(zc_ubuf_destroy(u), 0);
}

static void test_abort_last_runs_abort(void **state)
{
	struct record r;
	struct zc_ubuf *u = mk(&ops_full, 0, &r);

	(void)state;
	assert_int_equal(zc_ubuf_get(u), 0);
	assert_int_equal(zc_ubuf_put_abort(u), 0);
	assert_int_equal(r.aborts, 0);
	assert_int_equal(zc_ubuf_put_abort(u), 0);
	assert_int_equal(r.aborts, 1);
	assert_int_equal(r.completes, 0);
	assert_ptr_equal(r.last_ubuf, u);
	assert_int_equal(zc_ubuf_refs(u), 0);
	assert_int_equal(zc_ubuf_put_abort(u), -EINVAL);
	assert_int_equal(r.aborts, 1);
	assert_int_equal(zc_ubuf_destroy(u), 0);
}

static void test_abort_without_abort_op(void **state)
{
	struct record r;
	struct zc_ubuf *u = mk(&ops_noabort, 0, &r);

	(void)state;
	/* Nothing reached the kernel and nobody wants to hear: silence. */
	assert_int_equal(zc_ubuf_put_abort(u), 0);
	assert_int_equal(r.completes, 0);
	assert_int_equal(r.aborts, 0);
	assert_int_equal(zc_ubuf_refs(u), 0);
	assert_int_equal(zc_ubuf_destroy(u), 0);
}

static void test_abort_after_result_completes(void **state)
{
	struct record r;
	struct zc_ubuf *u = mk(&ops_full, 0, &r);

	(void)state;
	assert_int_equal(zc_ubuf_get(u), 0);
	assert_int_equal(zc_ubuf_get(u), 0);
	assert_int_equal(zc_ubuf_put(u, NULL, false), 0);
	assert_int_equal(zc_ubuf_put_abort(u), 0);
	assert_int_equal(r.completes, 0);
	/* An earlier put reported a result: the last abort completes with
	 * it, and no buffer. */
	assert_int_equal(zc_ubuf_put_abort(u), 0);
	assert_int_equal(r.completes, 1);
	assert_int_equal(r.aborts, 0);
	assert_false(r.last_ok);
	assert_null(r.last_buf);
	assert_int_equal(zc_ubuf_destroy(u), 0);

	u = mk(&ops_full, 0, &r);
	assert_int_equal(zc_ubuf_get(u), 0);
	assert_int_equal(zc_ubuf_put(u, NULL, true), 0);
	assert_int_equal(zc_ubuf_put_abort(u), 0);
	assert_int_equal(r.completes, 1);
	assert_true(r.last_ok);
	assert_int_equal(zc_ubuf_destroy(u), 0);
}

static void test_abort_then_put_completes(void **state)
{
	struct record r;
	struct zc_ubuf *u = mk(&ops_full, 0, &r);

	(void)state;
	assert_int_equal(zc_ubuf_get(u), 0);
	assert_int_equal(zc_ubuf_put_abort(u), 0);
	assert_int_equal(zc_ubuf_put(u, NULL, true), 0);
	assert_int_equal(r.completes, 1);
	assert_int_equal(r.aborts, 0);
	assert_true(r.last_ok);
	assert_int_equal(zc_ubuf_destroy(u), 0);
}

static void test_static_completes_every_put(void **state)
{
	struct record r;
	struct zc_ubuf *u = mk(&ops_full, ZC_F_STATIC, &r);
	struct zc_buf *tag = (struct zc_buf *)&r;

	(void)state;
	assert_int_equal(zc_ubuf_refs(u), 0);
	assert_int_equal(zc_ubuf_get(u), 0);
	assert_int_equal(zc_ubuf_refs(u), 0);
	assert_int_equal(zc_ubuf_put(u, tag, true), 0);
	assert_int_equal(r.completes, 1);
	assert_true(r.last_ok);
	assert_ptr_equal(r.last_buf, tag);
	/* Each put reports its own result: no AND across puts. */
	assert_int_equal(zc_ubuf_put(u, NULL, false), 0);
	assert_int_equal(r.completes, 2);
	assert_false(r.last_ok);
	assert_int_equal(zc_ubuf_put(u, NULL, true), 0);
	assert_int_equal(r.completes, 3);
	assert_true(r.last_ok);
	assert_int_equal(zc_ubuf_refs(u), 0);
	assert_int_equal(zc_ubuf_destroy(u), 0);
}

static void test_static_put_abort(void **state)
{
	struct record r;
	struct zc_ubuf *u = mk(&ops_full, ZC_F_STATIC, &r);

	(void)state;
	assert_int_equal(zc_ubuf_put_abort(u), 0);
	assert_int_equal(zc_ubuf_put_abort(u), 0);
	assert_int_equal(r.aborts, 2);
	assert_int_equal(r.completes, 0);
	assert_int_equal(zc_ubuf_destroy(u), 0);

	u = mk(&ops_noabort, ZC_F_STATIC, &r);
	assert_int_equal(zc_ubuf_put_abort(u), 0);
	assert_int_equal(r.aborts, 0);
	assert_int_equal(r.completes, 0);
	assert_int_equal(zc_ubuf_destroy(u), 0);
}

static void test_get_overflow(void **state)
{
	struct record r;
	struct zc_ubuf *u = mk(&ops_full, 0, &r);

	(void)state;
	/* Counting to 2^32 takes too long; start near the top. */
	u->refcnt = UINT32_MAX - 1;
	assert_int_equal(zc_ubuf_get(u), 0);
	assert_int_equal(zc_ubuf_refs(u), UINT32_MAX);
	assert_int_equal(zc_ubuf_get(u), -EOVERFLOW);
	assert_int_equal(zc_ubuf_refs(u), UINT32_MAX);
	assert_int_equal(zc_ubuf_destroy(u), -EBUSY);
	u->refcnt = 1;
	assert_int_equal(zc_ubuf_put(u, NULL, true), 0);
	assert_int_equal(r.completes, 1);
	assert_int_equal(zc_ubuf_destroy(u), 0);
}

static void test_destroy_busy(void **state)
{
	struct record r;
	struct zc_ubuf *u = mk(&ops_full, 0, &r);

	(void)state;
	assert_int_equal(zc_ubuf_destroy(u), -EBUSY);
	assert_int_equal(zc_ubuf_get(u), 0);
	assert_int_equal(zc_ubuf_put(u, NULL, true), 0);
	assert_int_equal(zc_ubuf_destroy(u), -EBUSY);
	assert_int_equal(zc_ubuf_put(u, NULL, true), 0);
	assert_int_equal(zc_ubuf_destroy(u), 0);
	assert_int_equal(r.completes, 1);
}

static void test_null_args(void **state)
{
	struct zc_ubuf embedded;
	struct record r = { 0 };

	(void)state;
	assert_int_equal(zc_ubuf_get(NULL), -EINVAL);
	assert_int_equal(zc_ubuf_put(NULL, NULL, true), -EINVAL);
	assert_int_equal(zc_ubuf_put_abort(NULL), -EINVAL);
	assert_int_equal(zc_ubuf_destroy(NULL), -EINVAL);
	/* Embedded ubufs belong to their container: destroy refuses. */
	zc_ubuf_init(&embedded, &ops_full, ZC_F_STATIC, &r);
	assert_int_equal(zc_ubuf_destroy(&embedded), -EINVAL);
}

static void test_embedded_init(void **state)
{
	struct zc_ubuf e;
	struct record r = { 0 };

	(void)state;
	zc_ubuf_init(&e, &ops_full, ZC_F_REQUESTED, &r);
	assert_int_equal(zc_ubuf_refs(&e), 1);
	assert_int_equal(zc_ubuf_flags(&e), ZC_F_REQUESTED);
	assert_int_equal(zc_ubuf_put(&e, NULL, true), 0);
	assert_int_equal(r.completes, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_invalid),
		cmocka_unit_test(test_accessors),
		cmocka_unit_test(test_all_flags_kept),
		cmocka_unit_test(test_refcounted_completes_once),
		cmocka_unit_test(test_zerocopy_ok_is_and),
		cmocka_unit_test(test_abort_last_runs_abort),
		cmocka_unit_test(test_abort_without_abort_op),
		cmocka_unit_test(test_abort_after_result_completes),
		cmocka_unit_test(test_abort_then_put_completes),
		cmocka_unit_test(test_static_completes_every_put),
		cmocka_unit_test(test_static_put_abort),
		cmocka_unit_test(test_get_overflow),
		cmocka_unit_test(test_destroy_busy),
		cmocka_unit_test(test_null_args),
		cmocka_unit_test(test_embedded_init),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
