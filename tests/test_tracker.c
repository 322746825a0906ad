/* SPDX-License-Identifier: MIT */
/* Completion-id tracker: dense ids, ranges, wrap-around, exactly once. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tracker.h"

#define NCOOKIES 8192

/* Each id's cookie points at its slot in seen[], so a completion can be
 * matched to its send and counted. */
struct seen {
	unsigned count[NCOOKIES];
	enum zc_track_how how[NCOOKIES];
	uint32_t id[NCOOKIES];
	unsigned calls;
	uint32_t last_id;
};

static struct seen *seen;

static int setup(void **state)
{
	(void)state;
	seen = calloc(1, sizeof(*seen));
	return seen ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	free(seen);
	return 0;
}

static void *cookie(unsigned i)
{
	return &seen->count[i];
}

static unsigned cookie_idx(void *c)
{
	return (unsigned)((unsigned *)c - seen->count);
}

static void record(void *c, uint32_t id, enum zc_track_how how, void *arg)
{
	unsigned i = cookie_idx(c);

	(void)arg;
	assert_true(i < NCOOKIES);
	seen->count[i]++;
	seen->how[i] = how;
	seen->id[i] = id;
	seen->calls++;
	seen->last_id = id;
}

static void init(struct zc_tracker *t, uint32_t initial, uint32_t max,
		 uint32_t first)
{
	assert_int_equal(zc_tracker_init(t, initial, max, first), 0);
	memset(seen, 0, sizeof(*seen));
}

/* Issue n ids with cookies start.., checking they are dense from first. */
static void issue_n(struct zc_tracker *t, unsigned start, unsigned n,
		    uint32_t first)
{
	for (unsigned i = 0; i < n; i++) {
		uint32_t id = 0;

		assert_int_equal(zc_tracker_issue(t, cookie(start + i), &id),
				 0);
		assert_int_equal(id, (uint32_t)(first + i));
	}
}

static void test_init_invalid(void **state)
{
	struct zc_tracker t;

	(void)state;
	assert_int_equal(zc_tracker_init(NULL, 1, 1, 0), -EINVAL);
	assert_int_equal(zc_tracker_init(&t, 0, 8, 0), -EINVAL);
	assert_int_equal(zc_tracker_init(&t, 9, 8, 0), -EINVAL);
}

static void test_exactly_once(void **state)
{
	struct zc_tracker t;

	(void)state;
	init(&t, 4, 64, 0);
	issue_n(&t, 0, 10, 0);
	assert_int_equal(zc_tracker_inflight(&t), 10);
	for (uint32_t id = 0; id < 10; id++) {
		assert_int_equal(
			zc_tracker_complete(&t, id, id, id & 1, record, NULL),
			1);
		assert_int_equal(seen->count[id], 1);
		assert_int_equal(seen->id[id], id);
		assert_int_equal(seen->how[id], (id & 1) ? ZC_TRACK_COPIED
							 : ZC_TRACK_ZEROCOPY);
	}
	assert_int_equal(seen->calls, 10);
	assert_int_equal(zc_tracker_inflight(&t), 0);
	/* Done ids are out of range now, and nothing runs again. */
	assert_int_equal(zc_tracker_complete(&t, 3, 3, false, record, NULL),
			 -ERANGE);
	assert_int_equal(zc_tracker_drain(&t, record, NULL), 0);
	assert_int_equal(seen->calls, 10);
	zc_tracker_fini(&t);
}

static void test_abort_dense(void **state)
{
	struct zc_tracker t;
	uint32_t id = 0;

	(void)state;
	init(&t, 4, 64, 100);
	issue_n(&t, 0, 3, 100);
	/* Only the last id can be given back. */
	assert_int_equal(zc_tracker_abort(&t, 100), -EINVAL);
	assert_int_equal(zc_tracker_abort(&t, 101), -EINVAL);
	assert_int_equal(zc_tracker_abort(&t, 103), -EINVAL);
	assert_int_equal(zc_tracker_abort(&t, 102), 0);
	assert_int_equal(zc_tracker_inflight(&t), 2);
	/* The next send gets the aborted id again. */
	assert_int_equal(zc_tracker_issue(&t, cookie(5), &id), 0);
	assert_int_equal(id, 102);
	assert_int_equal(zc_tracker_abort(&t, 102), 0);
	assert_int_equal(zc_tracker_abort(&t, 101), 0);
	assert_int_equal(zc_tracker_abort(&t, 100), 0);
	assert_int_equal(zc_tracker_abort(&t, 99), -EINVAL);
	assert_int_equal(zc_tracker_inflight(&t), 0);
	assert_int_equal(zc_tracker_issue(&t, cookie(6), &id), 0);
	assert_int_equal(id, 100);
	/* A completed last id cannot be aborted. */
	assert_int_equal(zc_tracker_issue(&t, cookie(7), &id), 0);
	assert_int_equal(zc_tracker_complete(&t, 101, 101, false, record, NULL),
			 1);
	assert_int_equal(zc_tracker_abort(&t, 101), -EINVAL);
	/* The aborted ids never completed. */
	assert_int_equal(seen->calls, 1);
	assert_int_equal(seen->count[7], 1);
	assert_int_equal(zc_tracker_drain(&t, record, NULL), 1);
	assert_int_equal(seen->count[6], 1);
	assert_int_equal(seen->count[0] + seen->count[1] + seen->count[2] +
				 seen->count[5],
			 0);
	zc_tracker_fini(&t);
}

static void test_abort_after_hole(void **state)
{
	struct zc_tracker t;
	uint32_t id = 0;

	(void)state;
	init(&t, 4, 64, 0);
	issue_n(&t, 0, 3, 0);
	assert_int_equal(zc_tracker_complete(&t, 1, 1, false, record, NULL), 1);
	assert_int_equal(zc_tracker_abort(&t, 2), 0);
	assert_int_equal(zc_tracker_abort(&t, 1), -EINVAL);
	assert_int_equal(zc_tracker_issue(&t, cookie(3), &id), 0);
	assert_int_equal(id, 2);
	assert_int_equal(zc_tracker_complete(&t, 0, 2, false, record, NULL),
			 -EALREADY);
	assert_int_equal(zc_tracker_complete(&t, 0, 0, false, record, NULL), 1);
	assert_int_equal(zc_tracker_complete(&t, 2, 2, false, record, NULL), 1);
	assert_int_equal(zc_tracker_inflight(&t), 0);
	assert_int_equal(seen->count[2], 0);
	assert_int_equal(seen->count[3], 1);
	zc_tracker_fini(&t);
}

static void test_wrap_around(void **state)
{
	const uint32_t first = 0xFFFFFFF0u;
	struct zc_tracker t;

	(void)state;
	init(&t, 8, 64, first);
	issue_n(&t, 0, 40, first);
	/* One range across the wrap: 0xFFFFFFF8 .. 0x00000007. */
	assert_int_equal(
		zc_tracker_complete(&t, first + 8, 7u, true, record, NULL), 16);
	for (unsigned i = 8; i < 24; i++) {
		assert_int_equal(seen->count[i], 1);
		assert_int_equal(seen->id[i], first + i);
		assert_int_equal(seen->how[i], ZC_TRACK_COPIED);
	}
	assert_int_equal(
		zc_tracker_complete(&t, first, first + 7, false, record, NULL),
		8);
	assert_int_equal(zc_tracker_complete(&t, 8, 23, false, record, NULL),
			 16);
	assert_int_equal(zc_tracker_inflight(&t), 0);
	for (unsigned i = 0; i < 40; i++)
		assert_int_equal(seen->count[i], 1);
	zc_tracker_fini(&t);
}

static void test_abort_across_wrap(void **state)
{
	struct zc_tracker t;
	uint32_t id = 1;

	(void)state;
	init(&t, 2, 8, 0xFFFFFFFFu);
	issue_n(&t, 0, 2, 0xFFFFFFFFu);
	assert_int_equal(zc_tracker_abort(&t, 0), 0);
	assert_int_equal(zc_tracker_abort(&t, 0xFFFFFFFFu), 0);
	assert_int_equal(zc_tracker_issue(&t, cookie(9), &id), 0);
	assert_int_equal(id, 0xFFFFFFFFu);
	zc_tracker_fini(&t);
}

static void test_coalesced_and_out_of_order(void **state)
{
	struct zc_tracker t;

	(void)state;
	init(&t, 4, 256, 1000);
	issue_n(&t, 0, 100, 1000);
	assert_int_equal(
		zc_tracker_complete(&t, 1050, 1099, false, record, NULL), 50);
	assert_int_equal(
		zc_tracker_complete(&t, 1010, 1019, true, record, NULL), 10);
	assert_int_equal(
		zc_tracker_complete(&t, 1000, 1009, false, record, NULL), 10);
	assert_int_equal(zc_tracker_inflight(&t), 30);
	/* A range over a done hole is refused as a whole. */
	assert_int_equal(
		zc_tracker_complete(&t, 1020, 1060, false, record, NULL),
		-EALREADY);
	assert_int_equal(zc_tracker_inflight(&t), 30);
	assert_int_equal(seen->count[20], 0);
	assert_int_equal(
		zc_tracker_complete(&t, 1020, 1049, false, record, NULL), 30);
	for (unsigned i = 0; i < 100; i++) {
		assert_int_equal(seen->count[i], 1);
		assert_int_equal(seen->how[i], i >= 10 && i < 20
						       ? ZC_TRACK_COPIED
						       : ZC_TRACK_ZEROCOPY);
	}
	assert_int_equal(zc_tracker_inflight(&t), 0);
	zc_tracker_fini(&t);
}

static void test_one_range_many(void **state)
{
	const uint32_t first = 0xFFFFF000u;
	struct zc_tracker t;

	(void)state;
	init(&t, 1, NCOOKIES, first);
	issue_n(&t, 0, 5000, first);
	assert_int_equal(zc_tracker_complete(&t, first, first + 4999, false,
					     record, NULL),
			 5000);
	for (unsigned i = 0; i < 5000; i++) {
		assert_int_equal(seen->count[i], 1);
		assert_int_equal(seen->id[i], first + i);
	}
	assert_int_equal(zc_tracker_inflight(&t), 0);
	zc_tracker_fini(&t);
}

static void test_growth_and_enobufs(void **state)
{
	struct zc_tracker t;
	uint32_t id = 0;

	(void)state;
	/* max 100 rounds to 128. */
	init(&t, 1, 100, 7);
	issue_n(&t, 0, 128, 7);
	assert_int_equal(t.mask + 1, 128);
	assert_int_equal(zc_tracker_issue(&t, cookie(200), &id), -ENOBUFS);
	assert_int_equal(zc_tracker_inflight(&t), 128);
	/* Completing a later id frees no span: the oldest is still live. */
	assert_int_equal(zc_tracker_complete(&t, 8, 8, false, record, NULL), 1);
	assert_int_equal(zc_tracker_issue(&t, cookie(200), &id), -ENOBUFS);
	/* Completing the oldest frees two (7 and the done 8). */
	assert_int_equal(zc_tracker_complete(&t, 7, 7, false, record, NULL), 1);
	issue_n(&t, 128, 2, 7 + 128);
	assert_int_equal(zc_tracker_issue(&t, cookie(200), &id), -ENOBUFS);
	assert_int_equal(zc_tracker_drain(&t, record, NULL), 128);
	for (unsigned i = 0; i < 130; i++)
		assert_int_equal(seen->count[i], 1);
	assert_int_equal(seen->count[200], 0);
	zc_tracker_fini(&t);
}

static void test_bad_ranges(void **state)
{
	struct zc_tracker t;

	(void)state;
	init(&t, 4, 64, 0xFFFFFFFCu);
	assert_int_equal(zc_tracker_complete(&t, 0, 0, false, record, NULL),
			 -ERANGE);
	issue_n(&t, 0, 8, 0xFFFFFFFCu);
	/* ids in flight: 0xFFFFFFFC .. 3 */
	assert_int_equal(zc_tracker_complete(&t, 4, 4, false, record, NULL),
			 -ERANGE);
	assert_int_equal(
		zc_tracker_complete(&t, 0xFFFFFFFBu, 0, false, record, NULL),
		-ERANGE);
	assert_int_equal(zc_tracker_complete(&t, 2, 4, false, record, NULL),
			 -ERANGE);
	assert_int_equal(
		zc_tracker_complete(&t, 0xFFFFFFFBu, 5, false, record, NULL),
		-ERANGE);
	assert_int_equal(zc_tracker_complete(&t, 100, 200, false, record, NULL),
			 -ERANGE);
	assert_int_equal(
		zc_tracker_complete(&t, 3, 0xFFFFFFFCu, false, record, NULL),
		-EINVAL);
	assert_int_equal(zc_tracker_complete(&t, 1, 0, false, record, NULL),
			 -EINVAL);
	assert_int_equal(zc_tracker_complete(&t, 5, 1, false, record, NULL),
			 -ERANGE);
	/* None of that completed anything. */
	assert_int_equal(seen->calls, 0);
	assert_int_equal(zc_tracker_inflight(&t), 8);
	assert_int_equal(zc_tracker_complete(&t, 0, 0, false, record, NULL), 1);
	assert_int_equal(zc_tracker_complete(&t, 0, 0, false, record, NULL),
			 -EALREADY);
	assert_int_equal(
		zc_tracker_complete(&t, 0xFFFFFFFFu, 1, false, record, NULL),
		-EALREADY);
	assert_int_equal(seen->calls, 1);
	assert_int_equal(zc_tracker_inflight(&t), 7);
	zc_tracker_fini(&t);
}

static void test_drain(void **state)
{
	struct zc_tracker t;

	(void)state;
	init(&t, 2, 64, 0xFFFFFFFEu);
	issue_n(&t, 0, 10, 0xFFFFFFFEu);
	assert_int_equal(zc_tracker_complete(&t, 0, 2, false, record, NULL), 3);
	assert_int_equal(zc_tracker_drain(&t, record, NULL), 7);
	for (unsigned i = 0; i < 10; i++) {
		assert_int_equal(seen->count[i], 1);
		if (i < 2 || i > 4)
			assert_int_equal(seen->how[i], ZC_TRACK_ABANDONED);
		else
			assert_int_equal(seen->how[i], ZC_TRACK_ZEROCOPY);
	}
	assert_int_equal(zc_tracker_inflight(&t), 0);
	assert_int_equal(zc_tracker_complete(&t, 5, 5, false, record, NULL),
			 -ERANGE);
	assert_int_equal(zc_tracker_abort(&t, 7), -EINVAL);
	assert_int_equal(zc_tracker_drain(&t, record, NULL), 0);
	/* Numbering goes on after a drain. */
	issue_n(&t, 10, 1, 8);
	zc_tracker_fini(&t);
}

/* A completion callback that sends again: issues `per` new ids. */
struct reissue {
	struct zc_tracker *t;
	unsigned per;
	unsigned next_cookie;
	int fails;
};

static void reissue_cb(void *c, uint32_t id, enum zc_track_how how, void *arg)
{
	struct reissue *ri = arg;

	record(c, id, how, NULL);
	for (unsigned i = 0; i < ri->per; i++) {
		uint32_t nid;

		if (zc_tracker_issue(ri->t, cookie(ri->next_cookie), &nid))
			ri->fails++;
		else
			ri->next_cookie++;
	}
}

static void test_issue_in_callback_grows(void **state)
{
	struct zc_tracker t;
	struct reissue ri = { &t, 3, 64, 0 };

	(void)state;
	init(&t, 2, 4096, 0xFFFFFFF0u);
	issue_n(&t, 0, 40, 0xFFFFFFF0u);
	/* 40 completions issue 120 ids, growing the ring mid-loop. */
	assert_int_equal(zc_tracker_complete(&t, 0xFFFFFFF0u, 0xFFFFFFF0u + 39,
					     false, &reissue_cb, &ri),
			 40);
	assert_int_equal(ri.fails, 0);
	assert_true(t.mask + 1 >= 128);
	for (unsigned i = 0; i < 40; i++) {
		assert_int_equal(seen->count[i], 1);
		assert_int_equal(seen->id[i], 0xFFFFFFF0u + i);
	}
	assert_int_equal(zc_tracker_inflight(&t), 120);
	/* The new ids kept their cookies across the growth. */
	assert_int_equal(zc_tracker_complete(&t, 0xFFFFFFF0u + 40,
					     0xFFFFFFF0u + 159, true, record,
					     NULL),
			 120);
	for (unsigned i = 64; i < 184; i++) {
		assert_int_equal(seen->count[i], 1);
		assert_int_equal(seen->id[i], 0xFFFFFFF0u + 40 + (i - 64));
	}
	zc_tracker_fini(&t);
}

static void test_issue_in_callback_at_max(void **state)
{
	struct zc_tracker t;
	struct reissue ri = { &t, 1, 64, 0 };

	(void)state;
	/* Full at max: each completed oldest id makes room for one more. */
	init(&t, 8, 8, 0);
	issue_n(&t, 0, 8, 0);
	assert_int_equal(zc_tracker_complete(&t, 0, 7, false, &reissue_cb, &ri),
			 8);
	assert_int_equal(ri.fails, 0);
	assert_int_equal(zc_tracker_inflight(&t), 8);
	assert_int_equal(zc_tracker_drain(&t, record, NULL), 8);
	for (unsigned i = 64; i < 72; i++)
		assert_int_equal(seen->id[i], 8 + (i - 64));
	zc_tracker_fini(&t);
}

static void test_issue_in_drain(void **state)
{
	struct zc_tracker t;
	struct reissue ri = { &t, 2, 64, 0 };

	(void)state;
	/* At max while draining: each drained id makes room again. */
	init(&t, 2, 16, 0xFFFFFFFAu);
	issue_n(&t, 0, 8, 0xFFFFFFFAu);
	assert_int_equal(zc_tracker_complete(&t, 0xFFFFFFFBu, 0xFFFFFFFBu,
					     false, record, NULL),
			 1);
	assert_int_equal(zc_tracker_drain(&t, &reissue_cb, &ri), 7);
	assert_int_equal(ri.fails, 0);
	/* The 14 ids sent while draining are still live, in order. */
	assert_int_equal(zc_tracker_inflight(&t), 14);
	assert_int_equal(zc_tracker_complete(&t, 2, 15, false, record, NULL),
			 14);
	for (unsigned i = 0; i < 8; i++)
		assert_int_equal(seen->count[i], 1);
	for (unsigned i = 64; i < 78; i++) {
		assert_int_equal(seen->count[i], 1);
		assert_int_equal(seen->how[i], ZC_TRACK_ZEROCOPY);
	}
	zc_tracker_fini(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_invalid),
		cmocka_unit_test(test_exactly_once),
		cmocka_unit_test(test_abort_dense),
		cmocka_unit_test(test_abort_after_hole),
		cmocka_unit_test(test_wrap_around),
		cmocka_unit_test(test_abort_across_wrap),
		cmocka_unit_test(test_coalesced_and_out_of_order),
		cmocka_unit_test(test_one_range_many),
		cmocka_unit_test(test_growth_and_enobufs),
		cmocka_unit_test(test_bad_ranges),
		cmocka_unit_test(test_drain),
		cmocka_unit_test(test_issue_in_callback_grows),
		cmocka_unit_test(test_issue_in_callback_at_max),
		cmocka_unit_test(test_issue_in_drain),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
