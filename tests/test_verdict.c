/* SPDX-License-Identifier: MIT */
/*
 * zcopy bench's verdict (tools/bench_report.c) on made-up runs: a winner
 * only when its slowest run beats every other mode's fastest, modes that
 * sent alike do not compete, and a single run decides nothing.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "bench.h"

#define GB 1000000000ull

static struct bench_opts opts;
static struct bench_cell cells[BENCH_MAX_MODES];
static struct bench_sweep sweep = { .opts = &opts, .cells = cells };

/* A mode whose runs went at the given rates (Gbit/s, one second each),
 * every send carried by transport tx_by. */
static void add(const char *name, int tx, int tx_by, const double *gbps,
		unsigned n)
{
	unsigned m = opts.nmodes++;
	struct bench_cell *c = &cells[m];

	opts.modes[m] = (struct bench_mode){ .tx = (uint8_t)tx };
	snprintf(opts.modes[m].name, sizeof(opts.modes[m].name), "%s", name);
	memset(c, 0, sizeof(*c));
	c->mode = &opts.modes[m];
	c->size = 65536;
	for (unsigned i = 0; i < n; i++) {
		struct bench_run *r = &c->runs[i];

		r->elapsed = 1;
		r->rx.bytes = (uint64_t)(gbps[i] * GB / 8);
		r->tx.bytes = r->rx.bytes;
		r->tx.ops = r->tx.completions = 100;
		r->tx.by_tx[tx_by] = 100;
	}
	c->nruns = n;
	sweep.ncells = opts.nmodes;
}

static int reset(void **state)
{
	(void)state;
	memset(&opts, 0, sizeof(opts));
	opts.sizes[0] = 65536;
	opts.nsizes = 1;
	opts.host = "test";
	sweep.ncells = 0;
	return 0;
}

static void judge(struct bench_judgement *j, char *text, size_t len)
{
	bench_judge(&sweep, 0, j);
	bench_verdict(&sweep, 0, text, len);
}

/* copy and msgzc, n runs each at the given rates, judged. */
static void copy_vs_msgzc(const double *copy, const double *msgzc, unsigned n,
			  struct bench_judgement *j, char *v, size_t len)
{
	add("copy", ZC_TX_COPY, ZC_TX_COPY, copy, n);
	add("msgzc", ZC_TX_MSGZC, ZC_TX_MSGZC, msgzc, n);
	judge(j, v, len);
}

static void test_overlap_is_noise(void **state)
{
	static const double copy[] = { 10, 11, 12 }, msgzc[] = { 11.5, 12, 13 };
	struct bench_judgement j;
	char v[512];

	(void)state;
	copy_vs_msgzc(copy, msgzc, 3, &j, v, sizeof(v));
	assert_int_equal(j.decision, BENCH_WITHIN_NOISE);
	assert_string_equal(j.best->mode->name, "msgzc");
	assert_string_equal(j.next->mode->name, "copy");
	assert_non_null(strstr(v, "no difference within noise"));
}

static void test_clear_winner(void **state)
{
	static const double copy[] = { 10, 11, 11.9 }, msgzc[] = { 12, 13, 14 };
	struct bench_judgement j;
	char v[512];

	(void)state;
	copy_vs_msgzc(copy, msgzc, 3, &j, v, sizeof(v));
	assert_int_equal(j.decision, BENCH_WINNER);
	assert_string_equal(j.best->mode->name, "msgzc");
	assert_true(j.best_min > j.next_max);
	assert_non_null(strstr(v, "msgzc won"));
}

/* Every other mode counts, not only the runner-up by median. */
static void test_third_mode_overlaps(void **state)
{
	static const double a[] = { 20, 21, 22 }, b[] = { 10, 11, 12 },
			    c[] = { 5, 6, 20.5 };
	struct bench_judgement j;
	char v[512];

	(void)state;
	add("uring", ZC_TX_URING, ZC_TX_URING, a, 3);
	add("copy", ZC_TX_COPY, ZC_TX_COPY, b, 3);
	add("msgzc", ZC_TX_MSGZC, ZC_TX_MSGZC, c, 3);
	judge(&j, v, sizeof(v));
	assert_int_equal(j.decision, BENCH_WITHIN_NOISE);
}

/* auto that copied every send behaves as copy: however far apart their
 * numbers, they do not compete, and the rest is judged without them. */
static void test_same_behaviour(void **state)
{
	static const double aut[] = { 20, 21, 22 }, copy[] = { 10, 11, 12 },
			    msgzc[] = { 2, 3, 4 };
	struct bench_judgement j;
	char v[512];

	(void)state;
	add("auto", ZC_TX_AUTO, ZC_TX_COPY, aut, 3);
	copy_vs_msgzc(copy, msgzc, 3, &j, v, sizeof(v));
	assert_int_equal(j.group[1], 0);
	assert_int_equal(j.group[2], 2);
	assert_int_equal(j.decision, BENCH_WINNER);
	assert_string_equal(j.best->mode->name, "auto");
	assert_string_equal(j.next->mode->name, "msgzc");
	assert_non_null(strstr(v, "same behaviour: auto = copy (every send "
				  "by copy)"));

	/* The same mode twice: nothing to compare. */
	reset(state);
	add("copy", ZC_TX_COPY, ZC_TX_COPY, aut, 3);
	add("copy", ZC_TX_COPY, ZC_TX_COPY, copy, 3);
	judge(&j, v, sizeof(v));
	assert_int_equal(j.decision, BENCH_WITHIN_NOISE);
	assert_null(j.next);
	assert_non_null(strstr(v, "within noise"));
}

static void test_one_run_decides_nothing(void **state)
{
	static const double copy[] = { 10 }, msgzc[] = { 20 };
	struct bench_judgement j;
	char v[512];

	(void)state;
	copy_vs_msgzc(copy, msgzc, 1, &j, v, sizeof(v));
	assert_int_equal(j.decision, BENCH_WITHIN_NOISE);
	assert_non_null(strstr(v, "one run is no range"));
}

static void test_only_and_none(void **state)
{
	static const double copy[] = { 10, 11 };
	struct bench_judgement j;
	char v[512];

	(void)state;
	add("copy", ZC_TX_COPY, ZC_TX_COPY, copy, 2);
	add("uring", ZC_TX_URING, ZC_TX_URING, copy, 0);
	cells[1].error = -EOPNOTSUPP;
	cells[1].unavailable = true;
	judge(&j, v, sizeof(v));
	assert_int_equal(j.decision, BENCH_ONLY_MODE);
	assert_non_null(strstr(v, "copy was the only mode"));
	cells[0].error = -EIO;
	judge(&j, v, sizeof(v));
	assert_int_equal(j.decision, BENCH_NO_MODE);
	assert_string_equal(v, "no mode ran");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_overlap_is_noise, reset),
		cmocka_unit_test_setup(test_clear_winner, reset),
		cmocka_unit_test_setup(test_third_mode_overlaps, reset),
		cmocka_unit_test_setup(test_same_behaviour, reset),
		cmocka_unit_test_setup(test_one_run_decides_nothing, reset),
		cmocka_unit_test_setup(test_only_and_none, reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
