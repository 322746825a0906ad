/* SPDX-License-Identifier: MIT */
/*
 * The auto policy's decisions, driven by synthetic completion streams: a
 * simulated kernel answers each zero-copy send with a report that arrives
 * a few sends later (as reaping does), or with ENOBUFS at once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "policy.h"

#define BIG ((size_t)64 * 1024)
#define LAG_MAX 256

/* What the simulated kernel does with zero-copy send number i. */
enum sim_answer { ANS_ZEROCOPY, ANS_COPIED, ANS_NOBUFS };
typedef enum sim_answer (*sim_stream)(uint64_t i, const void *arg);

struct sim {
	struct zc_policy pol;
	unsigned lag; /* a report arrives this many sends after its send */
	struct {
		uint64_t at; /* send number it becomes visible at */
		enum zc_policy_event ev;
	} pending[LAG_MAX];
	unsigned head, count;
	uint64_t sends;
	uint64_t zc; /* sends that went zero-copy */
};

static void sim_init(struct sim *s, unsigned lag)
{
	*s = (struct sim){ .lag = lag };
	zc_policy_init(&s->pol, 0);
}

static void sim_deliver(struct sim *s)
{
	while (s->count && s->pending[s->head].at <= s->sends) {
		zc_policy_note(&s->pol, s->pending[s->head].ev);
		s->head = (s->head + 1) % LAG_MAX;
		s->count--;
	}
}

static void sim_report(struct sim *s, enum sim_answer a)
{
	unsigned slot = (s->head + s->count) % LAG_MAX;

	assert_true(s->count < LAG_MAX);
	s->pending[slot].at = s->sends + s->lag;
	s->pending[slot].ev =
		a == ANS_ZEROCOPY ? ZC_POL_ZEROCOPY : ZC_POL_COPIED;
	s->count++;
}

static void sim_send(struct sim *s, size_t len, sim_stream stream,
		     const void *arg)
{
	if (zc_policy_want_zc(&s->pol, len)) {
		enum sim_answer a = stream(s->sends, arg);

		s->zc++;
		/* ENOBUFS is the send's own return value: no delay. */
		if (a == ANS_NOBUFS)
			zc_policy_note(&s->pol, ZC_POL_NOBUFS);
		else
			sim_report(s, a);
	}
	s->sends++;
	sim_deliver(s);
}

static void sim_run(struct sim *s, uint64_t n, sim_stream stream,
		    const void *arg)
{
	for (uint64_t i = 0; i < n; i++)
		sim_send(s, BIG, stream, arg);
}

static enum sim_answer all_copied(uint64_t i, const void *arg)
{
	(void)i;
	(void)arg;
	return ANS_COPIED;
}

static enum sim_answer all_zerocopy(uint64_t i, const void *arg)
{
	(void)i;
	(void)arg;
	return ANS_ZEROCOPY;
}

/* Copied before send number *arg, zero-copy from then on. */
static enum sim_answer copied_then_zc(uint64_t i, const void *arg)
{
	return i < *(const uint64_t *)arg ? ANS_COPIED : ANS_ZEROCOPY;
}

/* Zero-copy, except ENOBUFS in [lo, hi). */
static enum sim_answer nobufs_burst(uint64_t i, const void *arg)
{
	const uint64_t *r = arg;

	return i >= r[0] && i < r[1] ? ANS_NOBUFS : ANS_ZEROCOPY;
}

static void test_threshold(void **state)
{
	struct zc_policy pol;

	(void)state;
	zc_policy_init(&pol, 0);
	assert_int_equal(pol.threshold, ZC_POLICY_THRESHOLD);
	assert_false(zc_policy_want_zc(&pol, ZC_POLICY_THRESHOLD - 1));
	assert_false(zc_policy_want_zc(&pol, 1));
	assert_true(zc_policy_want_zc(&pol, ZC_POLICY_THRESHOLD));
	assert_int_equal(pol.copy_small, 2);
	assert_int_equal(pol.zc, 1);

	zc_policy_init(&pol, 100);
	assert_false(zc_policy_want_zc(&pol, 99));
	assert_true(zc_policy_want_zc(&pol, 100));
}

/* Small sends never try zero-copy and never spend a back-off. */
static void test_small_sends(void **state)
{
	struct sim s;

	(void)state;
	sim_init(&s, 0);
	for (int i = 0; i < 10000; i++)
		sim_send(&s, 4096, all_zerocopy, NULL);
	assert_int_equal(s.zc, 0);
	assert_int_equal(s.pol.copy_small, 10000);
	assert_int_equal(s.pol.state, ZC_POLICY_PROBING);
}

/* All zero-copy: confirmed by the first report, then every large send. */
static void test_all_zerocopy(void **state)
{
	struct sim s;

	(void)state;
	sim_init(&s, 8);
	sim_run(&s, 100000, all_zerocopy, NULL);
	assert_int_equal(s.pol.state, ZC_POLICY_ZEROCOPY);
	assert_int_equal(s.pol.backoffs, 0);
	/* Only the sends made while the first probes were unanswered were
	 * copied. */
	assert_true(s.pol.copy_backoff <= 8);
	assert_int_equal(s.zc + s.pol.copy_backoff, 100000);
}

/* Every report "copied" (loopback, veth): a few probes per back-off, and
 * the back-off doubles up to its maximum. */
static void test_all_copied(void **state)
{
	struct sim s;

	(void)state;
	sim_init(&s, 0);
	sim_run(&s, 1000000, all_copied, NULL);
	/* 64 + 128 + ... + 65536 = 131008 sends, then 65536 per round. */
	assert_int_equal(s.pol.tx_backoff.len, ZC_POLICY_BACKOFF_MAX);
	assert_true(s.pol.backoffs >= 11 && s.pol.backoffs <= 25);
	assert_int_equal(s.pol.retries + 1, s.pol.backoffs);
	assert_int_equal(s.zc, s.pol.backoffs * ZC_POLICY_PROBES);
	/* Under 0.02% of sends paid for zero-copy. */
	assert_true(s.zc * 5000 < 1000000);
}

/* Exact back-off lengths with immediate reports. */
static void test_backoff_doubles(void **state)
{
	uint64_t expect = ZC_POLICY_BACKOFF_MIN;
	struct sim s;

	(void)state;
	sim_init(&s, 0);
	for (int round = 0; round < 14; round++) {
		uint64_t copies = s.pol.copy_backoff;

		/* The probes go zero-copy, and are all copied... */
		sim_run(&s, ZC_POLICY_PROBES, all_copied, NULL);
		assert_int_equal(s.pol.state, ZC_POLICY_BACKOFF);
		assert_int_equal(s.pol.tx_backoff.skip, expect);
		/* ...then exactly the back-off is copied. */
		sim_run(&s, expect, all_copied, NULL);
		assert_int_equal(s.pol.state, ZC_POLICY_PROBING);
		assert_int_equal(s.pol.copy_backoff - copies, expect);
		if (expect < ZC_POLICY_BACKOFF_MAX)
			expect *= 2;
	}
	assert_int_equal(expect, ZC_POLICY_BACKOFF_MAX);
}

/* The path changes (route to a real NIC): noticed at the next retry. */
static void test_switch_to_zerocopy(void **state)
{
	uint64_t when = 50000;
	struct sim s;

	(void)state;
	sim_init(&s, 4);
	sim_run(&s, when, copied_then_zc, &when);
	assert_int_equal(s.pol.state, ZC_POLICY_BACKOFF);
	/* The next retry comes within the current back-off length. */
	sim_run(&s, s.pol.tx_backoff.skip + ZC_POLICY_PROBES + 4,
		copied_then_zc, &when);
	assert_int_equal(s.pol.state, ZC_POLICY_ZEROCOPY);
	assert_int_equal(s.pol.tx_backoff.len, ZC_POLICY_BACKOFF_MIN);
}

/* And back: a few copied reports in a row stop zero-copy again. */
static void test_switch_to_copied(void **state)
{
	struct sim s;

	(void)state;
	sim_init(&s, 0);
	sim_run(&s, 1000, all_zerocopy, NULL);
	assert_int_equal(s.pol.state, ZC_POLICY_ZEROCOPY);
	sim_run(&s, ZC_POLICY_COPIED_STREAK - 1, all_copied, NULL);
	assert_int_equal(s.pol.state, ZC_POLICY_ZEROCOPY);
	sim_run(&s, 1, all_copied, NULL);
	assert_int_equal(s.pol.state, ZC_POLICY_BACKOFF);
	assert_int_equal(s.pol.backoffs, 1);
	assert_int_equal(s.pol.tx_backoff.skip, ZC_POLICY_BACKOFF_MIN);
}

/* Mixed reports: one zero-copy among copies keeps zero-copy going. */
static enum sim_answer every_third_zc(uint64_t i, const void *arg)
{
	(void)arg;
	return i % 3 == 0 ? ANS_ZEROCOPY : ANS_COPIED;
}

static void test_mixed(void **state)
{
	struct sim s;

	(void)state;
	sim_init(&s, 0);
	sim_run(&s, 10000, every_third_zc, NULL);
	assert_int_equal(s.pol.backoffs, 0);
	assert_int_equal(s.pol.state, ZC_POLICY_ZEROCOPY);
}

/* An ENOBUFS burst: one back-off (not one per error), then recovery with
 * the back-off length reset by the first zero-copy report. */
static void test_nobufs_burst(void **state)
{
	uint64_t burst[2] = { 1000, 1500 };
	struct sim s;

	(void)state;
	sim_init(&s, 2);
	sim_run(&s, 1000, nobufs_burst, burst);
	assert_int_equal(s.pol.state, ZC_POLICY_ZEROCOPY);
	sim_run(&s, 1, nobufs_burst, burst);
	assert_int_equal(s.pol.state, ZC_POLICY_BACKOFF);
	assert_int_equal(s.pol.backoffs, 1);
	assert_int_equal(s.pol.tx_backoff.skip, ZC_POLICY_BACKOFF_MIN);
	/* Still in the burst: each retry's first probe fails again. */
	sim_run(&s, 499, nobufs_burst, burst);
	assert_true(s.pol.backoffs >= 2);
	assert_true(s.pol.tx_backoff.len > ZC_POLICY_BACKOFF_MIN);
	/* After the burst: back to zero-copy, back-off length reset. */
	sim_run(&s, 2000, nobufs_burst, burst);
	assert_int_equal(s.pol.state, ZC_POLICY_ZEROCOPY);
	assert_int_equal(s.pol.tx_backoff.len, ZC_POLICY_BACKOFF_MIN);
}

/* Reports about sends made before a back-off change nothing. */
static void test_stale_reports(void **state)
{
	struct zc_policy pol;

	(void)state;
	zc_policy_init(&pol, 0);
	zc_policy_note(&pol, ZC_POL_NOBUFS);
	assert_int_equal(pol.state, ZC_POLICY_BACKOFF);
	for (int i = 0; i < 100; i++) {
		zc_policy_note(&pol, ZC_POL_COPIED);
		zc_policy_note(&pol, ZC_POL_NOBUFS);
		zc_policy_note(&pol, ZC_POL_ZEROCOPY);
	}
	assert_int_equal(pol.state, ZC_POLICY_BACKOFF);
	assert_int_equal(pol.backoffs, 1);
	assert_int_equal(pol.tx_backoff.skip, ZC_POLICY_BACKOFF_MIN);
}

/* Probes that never get a report (the sends failed): probe again. */
static void test_lost_probes(void **state)
{
	struct zc_policy pol;
	int zc = 0;

	(void)state;
	zc_policy_init(&pol, 0);
	for (int i = 0; i < ZC_POLICY_PROBES + ZC_POLICY_BACKOFF_MIN; i++)
		zc += zc_policy_want_zc(&pol, BIG);
	assert_int_equal(zc, ZC_POLICY_PROBES);
	assert_true(zc_policy_want_zc(&pol, BIG));
}

static void test_off(void **state)
{
	struct zc_policy pol;
	struct zc_stats st = { 0 };

	(void)state;
	zc_policy_init(&pol, 0);
	zc_policy_off(&pol, ZC_POLICY_NO_ZC);
	for (int i = 0; i < 1000; i++)
		assert_false(zc_policy_want_zc(&pol, BIG));
	zc_policy_note(&pol, ZC_POL_ZEROCOPY);
	assert_false(zc_policy_want_zc(&pol, BIG));
	zc_policy_stats(&pol, &st);
	assert_int_equal(st.policy_state, ZC_POLICY_NO_ZC);
	assert_int_equal(st.policy_copy_backoff, 1001);
	assert_int_equal(st.policy_zc, 0);
}

static void test_stats(void **state)
{
	struct zc_stats st = { 0 };
	struct sim s;

	(void)state;
	sim_init(&s, 0);
	sim_send(&s, 100, all_copied, NULL);
	sim_run(&s, 10000, all_copied, NULL);
	assert_true(zc_policy_rx_want_map(&s.pol, 0, 0, 0));
	zc_policy_stats(&s.pol, &st);
	assert_int_equal(st.policy_state, s.pol.state);
	assert_int_equal(st.policy_threshold, ZC_POLICY_THRESHOLD);
	assert_int_equal(st.policy_zc, s.zc);
	assert_int_equal(st.policy_copy_small, 1);
	assert_int_equal(st.policy_zc + st.policy_copy_backoff, 10000);
	assert_int_equal(st.policy_backoffs, s.pol.backoffs);
	assert_int_equal(st.policy_retries, s.pol.retries);
	assert_int_equal(st.policy_backoff_len, s.pol.tx_backoff.len);
	assert_int_equal(st.policy_rx_map, 1);
	assert_int_equal(st.policy_rx_copy, 0);
}

/* Why auto sends as it does: small sends, the kernel's verdict, costs. */
static void test_tx_why(void **state)
{
	struct zc_stats st = { 0 };
	struct sim s;

	(void)state;
	sim_init(&s, 0);
	zc_policy_stats(&s.pol, &st);
	assert_int_equal(st.policy_tx_why, ZC_PWHY_NONE);
	for (int i = 0; i < 10; i++)
		sim_send(&s, 100, all_copied, NULL);
	zc_policy_stats(&s.pol, &st);
	assert_int_equal(st.policy_tx_why, ZC_PWHY_SMALL);
	assert_false(zc_policy_tx_zc(&s.pol));
	sim_run(&s, 1000, all_copied, NULL);
	zc_policy_stats(&s.pol, &st);
	assert_int_equal(st.policy_tx_why, ZC_PWHY_KERNEL);
	assert_false(zc_policy_tx_zc(&s.pol));

	sim_init(&s, 0);
	sim_run(&s, 10, all_zerocopy, NULL);
	zc_policy_stats(&s.pol, &st);
	assert_int_equal(st.policy_tx_why, ZC_PWHY_MEASURING);
	assert_true(zc_policy_tx_zc(&s.pol));
	/* Zero-copy measured 4x dearer than copying: copy, for that. */
	for (unsigned i = 0; i < ZC_COST_WINDOW_CALLS; i++)
		zc_policy_tx_cost(&s.pol, true, ZC_COST_WINDOW, 4000000);
	/* A probe: ZC_COST_PROBE_WINDOWS windows' worth. */
	for (unsigned i = 0; i < ZC_COST_WINDOW_CALLS * ZC_COST_PROBE_WINDOWS;
	     i++)
		zc_policy_tx_cost(&s.pol, false, ZC_COST_WINDOW, 1000000);
	zc_policy_stats(&s.pol, &st);
	assert_int_equal(st.policy_tx_why, ZC_PWHY_CHEAPER);
	assert_false(zc_policy_tx_zc(&s.pol));

	zc_policy_off(&s.pol, ZC_POLICY_PINNED);
	zc_policy_stats(&s.pol, &st);
	assert_int_equal(st.policy_tx_why, ZC_PWHY_NONE);
}

/* ---- receive ----------------------------------------------------------- */

/* A receive path driven by the policy: each receive of len bytes is
 * mapped if the policy says so and the "kernel" maps share% of it.  A
 * mapped receive that mapped nothing found whole pages it could not map,
 * unless the receiver is ahead (less than a page queued each time). */
struct rx_sim {
	struct zc_policy pol;
	uint64_t mapped, copied, unmappable;
	uint64_t maps, copies;
	bool ahead;
};

static void rx_run(struct rx_sim *r, int n, uint64_t len, unsigned share)
{
	for (int i = 0; i < n; i++) {
		if (zc_policy_rx_want_map(&r->pol, r->mapped, r->copied,
					  r->unmappable)) {
			r->maps++;
			r->mapped += len * share / 100;
			r->copied += len - len * share / 100;
			if (!(len * share / 100) && !r->ahead)
				r->unmappable += len;
		} else {
			r->copies++;
			r->copied += len;
		}
	}
}

static void rx_init(struct rx_sim *r)
{
	*r = (struct rx_sim){ 0 };
	zc_policy_init(&r->pol, 0);
}

static void test_rx_all_mapped(void **state)
{
	struct rx_sim r;

	(void)state;
	rx_init(&r);
	rx_run(&r, 10000, 65536, 100);
	assert_int_equal(r.copies, 0);
	assert_int_equal(r.pol.rx_map, 10000);
	assert_int_equal(r.pol.rx_backoffs, 0);
}

static void test_rx_all_copied(void **state)
{
	struct rx_sim r;

	(void)state;
	rx_init(&r);
	rx_run(&r, 100000, 65536, 0);
	assert_true(r.pol.rx_backoffs >= 8);
	assert_int_equal(r.pol.rx_backoff.len, ZC_POLICY_RX_BACKOFF_MAX);
	/* Each measurement costs one window of tries. */
	assert_true(r.maps <=
		    r.pol.rx_backoffs * (ZC_POLICY_RX_WINDOW / 65536 + 1));
	assert_int_equal(r.pol.rx_map + r.pol.rx_copy, 100000);
}

/* The share at the line: 75% maps, 74% copies. */
static void test_rx_share_boundary(void **state)
{
	struct rx_sim r;

	(void)state;
	rx_init(&r);
	rx_run(&r, 1000, 65536, ZC_POLICY_RX_SHARE);
	assert_int_equal(r.pol.rx_backoffs, 0);
	rx_init(&r);
	rx_run(&r, 1000, 65536, ZC_POLICY_RX_SHARE - 1);
	assert_true(r.pol.rx_backoffs > 0);
}

/* Mapped share changes: copy while it is low, map again once high. */
static void test_rx_switch(void **state)
{
	struct rx_sim r;
	uint64_t maps;

	(void)state;
	rx_init(&r);
	rx_run(&r, 5000, 65536, 0);
	assert_false(r.pol.rx_measuring && r.pol.rx_backoffs == 0);
	/* Within one back-off plus one window, mapping resumes for good. */
	rx_run(&r, ZC_POLICY_RX_BACKOFF_MAX + 16, 65536, 100);
	maps = r.maps;
	rx_run(&r, 1000, 65536, 100);
	assert_int_equal(r.maps - maps, 1000);
	assert_int_equal(r.pol.rx_backoff.len, ZC_POLICY_RX_BACKOFF_MIN);
}

/* Small receives of a receiver ahead of its sender: no verdict until a
 * whole window has been seen... */
static void test_rx_window(void **state)
{
	struct rx_sim r;

	(void)state;
	rx_init(&r);
	r.ahead = true;
	rx_run(&r, ZC_POLICY_RX_WINDOW / 1024, 1024, 0);
	assert_int_equal(r.copies, 0);
	rx_run(&r, 1, 1024, 0);
	assert_int_equal(r.copies, 1);
	assert_int_equal(r.pol.rx_backoffs, 1);
}

/* ...but a socket that never mapped and finds whole pages it cannot map
 * is judged over an eighth of one (a plain sender); once anything mapped,
 * a stretch of such copies needs the whole window. */
static void test_rx_window_early(void **state)
{
	const int early = ZC_POLICY_RX_WINDOW / ZC_POLICY_RX_EARLY_DIV / 4096;
	struct rx_sim r;

	(void)state;
	rx_init(&r);
	rx_run(&r, early, 4096, 0);
	assert_int_equal(r.copies, 0);
	rx_run(&r, 1, 4096, 0);
	assert_int_equal(r.copies, 1);
	assert_int_equal(r.pol.rx_backoffs, 1);
	rx_init(&r);
	rx_run(&r, 2, 4096, 100);
	rx_run(&r, ZC_POLICY_RX_WINDOW / 4096 - 4, 4096, 0);
	assert_int_equal(r.copies, 0);
	assert_int_equal(r.pol.rx_backoffs, 0);
}

/* Every state has a name for the CLI; out of range gives NULL. */
/* ---- cost: the cheaper path, with hysteresis and re-probes ------------ */

/* One full window on path at cost ns per MiB. */
static void cost_window(struct zc_costsel *s, enum zc_cost_path path,
			uint64_t ns_per_mib)
{
	for (unsigned i = 0; i < ZC_COST_WINDOW_CALLS; i++)
		zc_cost_note(s, path, ZC_COST_WINDOW / ZC_COST_WINDOW_CALLS,
			     ns_per_mib * ZC_COST_WINDOW / (1u << 20) /
				     ZC_COST_WINDOW_CALLS);
}

/* Drive the selector: each window goes to the path it picks, at that
 * path's cost.  Returns the windows spent on each path in w[]. */
static void cost_run(struct zc_costsel *s, const uint64_t cost[2],
		     unsigned windows, unsigned w[2])
{
	w[0] = w[1] = 0;
	for (unsigned i = 0; i < windows; i++) {
		enum zc_cost_path p = zc_cost_pick(s);

		cost_window(s, p, cost[p]);
		w[p]++;
	}
}

static void test_cost_cheaper_wins(void **state)
{
	const uint64_t cost[2] = {
		[ZC_PATH_COPY] = 100000, [ZC_PATH_ZC] = 300000
	};
	struct zc_costsel s;
	unsigned w[2];

	(void)state;
	zc_cost_init(&s, ZC_PATH_ZC);
	/* One window of the first path, then the other is measured (a
	 * probe of ZC_COST_PROBE_WINDOWS windows). */
	cost_run(&s, cost, 1 + ZC_COST_PROBE_WINDOWS, w);
	assert_int_equal(zc_cost_pick(&s), ZC_PATH_COPY);
	assert_int_equal(s.switches, 1);
	/* From then on the cheaper path carries almost everything: re-probes
	 * at doubling intervals. */
	cost_run(&s, cost, 1000, w);
	assert_int_equal(zc_cost_pick(&s), ZC_PATH_COPY);
	assert_true(w[ZC_PATH_ZC] <= 8 * ZC_COST_PROBE_WINDOWS);
	assert_int_equal(s.switches, 1);
}

static void test_cost_tie_stays(void **state)
{
	/* 5% apart: inside the margin, whichever path is in use stays. */
	const uint64_t cost[2] = {
		[ZC_PATH_COPY] = 100000, [ZC_PATH_ZC] = 105000
	};
	struct zc_costsel s;
	unsigned w[2];

	(void)state;
	zc_cost_init(&s, ZC_PATH_ZC);
	cost_run(&s, cost, 500, w);
	assert_int_equal(zc_cost_pick(&s), ZC_PATH_ZC);
	assert_int_equal(s.switches, 0);
	assert_true(s.probes > 0);
}

/* A path at 3x the other's cost is re-probed so seldom that its probes
 * cost at most ZC_COST_PROBE_SHARE percent more than never probing
 * (doubling alone, to 256 windows, was 3% here). */
static void test_cost_dear_probes_rare(void **state)
{
	const uint64_t cost[2] = {
		[ZC_PATH_COPY] = 100000, [ZC_PATH_ZC] = 300000
	};
	const unsigned windows = 20000;
	struct zc_costsel s;
	uint64_t extra, budget;
	unsigned w[2];

	(void)state;
	zc_cost_init(&s, ZC_PATH_ZC);
	cost_run(&s, cost, 1 + ZC_COST_PROBE_WINDOWS, w);
	assert_int_equal(zc_cost_pick(&s), ZC_PATH_COPY);
	cost_run(&s, cost, windows, w);
	assert_true(w[ZC_PATH_ZC] > 0); /* still measured now and then */
	extra = (uint64_t)w[ZC_PATH_ZC] *
		(cost[ZC_PATH_ZC] - cost[ZC_PATH_COPY]);
	/* The first re-probe comes after ZC_COST_PROBE_MIN windows. */
	budget =
		(uint64_t)windows * cost[ZC_PATH_COPY] * ZC_COST_PROBE_SHARE /
			100 +
		ZC_COST_PROBE_WINDOWS * (cost[ZC_PATH_ZC] - cost[ZC_PATH_COPY]);
	assert_true(extra <= budget);
	assert_int_equal(s.switches, 1);
}

/* Zero-copy at 3x copy's cost: settled on copy with the longest probe
 * interval. */
static void cost_settle_on_copy(struct zc_costsel *s, uint64_t cost[2])
{
	unsigned w[2];

	cost[ZC_PATH_COPY] = 100000;
	cost[ZC_PATH_ZC] = 300000;
	zc_cost_init(s, ZC_PATH_ZC);
	cost_run(s, cost, 4 * ZC_COST_PROBE_MAX, w);
	assert_int_equal(zc_cost_pick(s), ZC_PATH_COPY);
}

/* Windows run at these costs until zero-copy is in use, not probing
 * (2 * ZC_COST_PROBE_MAX if never). */
static unsigned cost_windows_to_zc(struct zc_costsel *s, const uint64_t cost[2])
{
	unsigned w[2], n;

	for (n = 0; n < 2 * ZC_COST_PROBE_MAX; n++) {
		cost_run(s, cost, 1, w);
		if (zc_cost_pick(s) == ZC_PATH_ZC && !s->probing)
			break;
	}
	return n;
}

static void test_cost_reprobe_finds_cheaper(void **state)
{
	uint64_t cost[2];
	struct zc_costsel s;
	unsigned n;

	(void)state;
	cost_settle_on_copy(&s, cost);
	/* Zero-copy becomes 3x cheaper (a route to a real NIC). */
	cost[ZC_PATH_ZC] = 30000;
	n = cost_windows_to_zc(&s, cost);
	/* Found within one probe interval and one probe. */
	assert_true(n <= ZC_COST_PROBE_MAX + ZC_COST_PROBE_WINDOWS);
	assert_int_equal(zc_cost_pick(&s), ZC_PATH_ZC);
}

/* The path in use grows dearer than the other's last measure: the other
 * is measured again at once, not at the next scheduled probe. */
static void test_cost_dearer_reprobes(void **state)
{
	uint64_t cost[2];
	struct zc_costsel s;
	unsigned n;

	(void)state;
	cost_settle_on_copy(&s, cost);
	/* Copy becomes 4x dearer (the machine got busy, say). */
	cost[ZC_PATH_COPY] = 400000;
	n = cost_windows_to_zc(&s, cost);
	/* The smoothed cost crosses within a few windows, then one probe. */
	assert_true(n <= 8 + ZC_COST_PROBE_WINDOWS);
	assert_int_equal(zc_cost_pick(&s), ZC_PATH_ZC);
	/* Not probing: the path in use is within the margin of the other. */
	assert_true(s.m[s.cur].ns_per_mib * 100 <=
		    s.m[!s.cur].ns_per_mib * (100 + ZC_COST_MARGIN));
}

static void test_cost_blocked_never_chosen(void **state)
{
	const uint64_t cost[2] = {
		[ZC_PATH_COPY] = 900000, [ZC_PATH_ZC] = 1000
	};
	struct zc_costsel s;
	unsigned w[2];

	(void)state;
	zc_cost_init(&s, ZC_PATH_ZC);
	zc_cost_block(&s, true);
	/* However cheap it looked, a path the kernel cannot serve is never
	 * picked, not even to measure it. */
	cost_run(&s, cost, 1000, w);
	assert_int_equal(w[ZC_PATH_ZC], 0);
	/* Possible again: measured at once, then chosen. */
	zc_cost_block(&s, false);
	cost_run(&s, cost, 2, w);
	assert_int_equal(zc_cost_pick(&s), ZC_PATH_ZC);
}

/* Blocked while zero-copy was in use (a receive window that mapped too
 * little): copy carries on as the path in use, and once zero-copy may
 * work again it is measured first, not resumed: dearer, it stays out. */
static void test_cost_block_then_measured(void **state)
{
	uint64_t cost[2] = { [ZC_PATH_COPY] = 300000, [ZC_PATH_ZC] = 100000 };
	struct zc_costsel s;
	unsigned w[2];

	(void)state;
	zc_cost_init(&s, ZC_PATH_ZC);
	/* zero-copy, then copy measured */
	cost_run(&s, cost, 1 + ZC_COST_PROBE_WINDOWS, w);
	assert_int_equal(zc_cost_pick(&s), ZC_PATH_ZC);
	/* Zero-copy becomes the dearer one, and is blocked. */
	cost[ZC_PATH_COPY] = 100000;
	cost[ZC_PATH_ZC] = 300000;
	zc_cost_block(&s, true);
	cost_run(&s, cost, 10, w);
	assert_int_equal(w[ZC_PATH_ZC], 0);
	zc_cost_block(&s, false);
	assert_int_equal(zc_cost_pick(&s), ZC_PATH_ZC);
	cost_run(&s, cost, ZC_COST_PROBE_WINDOWS, w);
	assert_int_equal(zc_cost_pick(&s), ZC_PATH_COPY);
	cost_run(&s, cost, 100, w);
	assert_true(w[ZC_PATH_ZC] <= 3 * ZC_COST_PROBE_WINDOWS);
	assert_int_equal(s.switches, 0);
}

/* Blocked and possible again while zero-copy was the dearer path when
 * last measured: copy goes on and zero-copy waits for its scheduled
 * probe, which still comes. */
static void test_cost_unblock_dearer_waits(void **state)
{
	uint64_t cost[2];
	struct zc_costsel s;
	unsigned w[2];

	(void)state;
	cost_settle_on_copy(&s, cost);
	zc_cost_block(&s, true);
	zc_cost_block(&s, false);
	assert_int_equal(zc_cost_pick(&s), ZC_PATH_COPY);
	assert_false(s.probing);
	cost_run(&s, cost, ZC_COST_PROBE_MAX + ZC_COST_PROBE_WINDOWS, w);
	assert_true(w[ZC_PATH_ZC] > 0);
	assert_int_equal(zc_cost_pick(&s), ZC_PATH_COPY);
}

/* Blocked before copy was ever measured: zero-copy resumes once it may,
 * and copy is measured after one window; the cheaper one stays. */
static void test_cost_block_copy_unknown(void **state)
{
	const uint64_t cost[2] = {
		[ZC_PATH_COPY] = 300000, [ZC_PATH_ZC] = 100000
	};
	struct zc_costsel s;
	unsigned w[2];

	(void)state;
	zc_cost_init(&s, ZC_PATH_ZC);
	zc_cost_block(&s, true);
	zc_cost_block(&s, false);
	assert_int_equal(zc_cost_pick(&s), ZC_PATH_ZC);
	cost_run(&s, cost, 1, w);
	assert_int_equal(zc_cost_pick(&s), ZC_PATH_COPY); /* measured now */
	cost_run(&s, cost, 100, w);
	assert_int_equal(zc_cost_pick(&s), ZC_PATH_ZC);
	assert_true(w[ZC_PATH_COPY] <= 5 * ZC_COST_PROBE_WINDOWS);
}

/* A window is a number of calls too: one large call is no measurement. */
static void test_cost_window_calls(void **state)
{
	struct zc_costsel s;

	(void)state;
	zc_cost_init(&s, ZC_PATH_ZC);
	for (unsigned i = 0; i + 1 < ZC_COST_WINDOW_CALLS; i++)
		zc_cost_note(&s, ZC_PATH_ZC, 4ull * ZC_COST_WINDOW, 1000);
	assert_int_equal(s.m[ZC_PATH_ZC].ns_per_mib, 0);
	assert_false(s.probing);
	zc_cost_note(&s, ZC_PATH_ZC, 4ull * ZC_COST_WINDOW, 1000);
	assert_true(s.m[ZC_PATH_ZC].ns_per_mib > 0);
	assert_true(s.probing);
}

/* calls calls of bytes each: how many zc_cost_sample() chose to time
 * (the others counted as untimed). */
static unsigned sample_calls(struct zc_costsel *s, unsigned calls,
			     uint64_t bytes)
{
	unsigned timed = 0;

	for (unsigned i = 0; i < calls; i++) {
		if (zc_cost_sample(s))
			timed++;
		else
			zc_cost_untimed(s, bytes);
	}
	return timed;
}

static void test_cost_sampling(void **state)
{
	struct zc_costsel s;

	(void)state;
	zc_cost_init(&s, ZC_PATH_ZC);
	/* Small calls: one in ZC_COST_SAMPLE_EVERY is timed. */
	assert_int_equal(sample_calls(&s, 1600, 100),
			 1600 / ZC_COST_SAMPLE_EVERY);
	/* Large calls: each one once enough bytes went by untimed. */
	assert_true(sample_calls(&s, 100, ZC_COST_SAMPLE_BYTES) >= 49);
}

/* Blocked, copy's cost is sampled at 1/ZC_COST_SAMPLE_BLOCKED of the
 * rate, by calls and by bytes; unblocked, at the usual rate again. */
static void test_cost_sampling_blocked(void **state)
{
	const unsigned n = 16 * ZC_COST_SAMPLE_EVERY * ZC_COST_SAMPLE_BLOCKED;
	struct zc_costsel s;
	unsigned timed;

	(void)state;
	zc_cost_init(&s, ZC_PATH_COPY);
	zc_cost_block(&s, true);
	assert_int_equal(sample_calls(&s, n, 100),
			 n / (ZC_COST_SAMPLE_EVERY * ZC_COST_SAMPLE_BLOCKED));
	/* Large calls: one per ZC_COST_SAMPLE_BLOCKED MiB. */
	timed = sample_calls(&s, 8 * ZC_COST_SAMPLE_BLOCKED,
			     ZC_COST_SAMPLE_BYTES);
	assert_true(timed >= 7 && timed <= 9);
	zc_cost_block(&s, false);
	s.probing = false; /* the rate on the path in use */
	assert_int_equal(sample_calls(&s, 1600, 100),
			 1600 / ZC_COST_SAMPLE_EVERY);
}

/* A copying receive that fills four buffers per read hands out three
 * without one: a sample that lands there is taken again on the next call,
 * so a read every fourth call is still timed at the usual rate, whatever
 * the phase (sampling every 16th call alone would never see it). */
static void test_cost_sample_again(void **state)
{
	struct zc_costsel s;
	unsigned reads = 0;

	(void)state;
	zc_cost_init(&s, ZC_PATH_COPY);
	for (int i = 1; i <= 1600; i++) {
		bool read = i % 4 == 1; /* never a multiple of 16 */

		if (!zc_cost_sample(&s)) {
			if (read)
				zc_cost_untimed(&s, 100);
		} else if (read) {
			reads++;
		} else {
			zc_cost_sample_again(&s);
		}
	}
	/* The first sample moves to call 17, and every one after it. */
	assert_int_equal(reads, 1600 / ZC_COST_SAMPLE_EVERY - 1);
}

/* Receive: where mapping works but costs more, auto copies; where nothing
 * maps, mapping is ruled out whatever it cost. */
static void test_rx_cost(void **state)
{
	struct zc_policy pol;
	uint64_t mapped = 0, copied = 0;
	unsigned maps = 0;

	(void)state;
	zc_policy_init(&pol, 0);
	for (int i = 0; i < 4000; i++) {
		bool map = zc_policy_rx_want_map(&pol, mapped, copied, 0);

		/* 64 KiB receives, all mapped when mapping; costs: map
		 * 3x copy. */
		if (map) {
			mapped += 65536;
			maps++;
		} else {
			copied += 65536;
		}
		zc_policy_rx_cost(&pol, map, 65536, map ? 30000 : 10000);
	}
	assert_false(zc_policy_rx_want_map(&pol, mapped, copied, 0));
	assert_true(maps < 400);
	assert_int_equal(pol.rx_backoffs, 0);
}

static void test_state_names(void **state)
{
	static const char *const want[] = { "pinned", "probing", "zerocopy",
					    "backoff", "no-zc" };

	(void)state;
	assert_int_equal(ZC_POLICY_NO_ZC + 1, sizeof(want) / sizeof(want[0]));
	for (int i = ZC_POLICY_PINNED; i <= ZC_POLICY_NO_ZC; i++)
		assert_string_equal(zc_policy_state_name(i), want[i]);
	assert_null(zc_policy_state_name(ZC_POLICY_NO_ZC + 1));
	assert_null(zc_policy_state_name((enum zc_policy_state) - 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_threshold),
		cmocka_unit_test(test_small_sends),
		cmocka_unit_test(test_all_zerocopy),
		cmocka_unit_test(test_all_copied),
		cmocka_unit_test(test_backoff_doubles),
		cmocka_unit_test(test_switch_to_zerocopy),
		cmocka_unit_test(test_switch_to_copied),
		cmocka_unit_test(test_mixed),
		cmocka_unit_test(test_nobufs_burst),
		cmocka_unit_test(test_stale_reports),
		cmocka_unit_test(test_lost_probes),
		cmocka_unit_test(test_off),
		cmocka_unit_test(test_stats),
		cmocka_unit_test(test_tx_why),
		cmocka_unit_test(test_rx_all_mapped),
		cmocka_unit_test(test_rx_all_copied),
		cmocka_unit_test(test_rx_share_boundary),
		cmocka_unit_test(test_rx_switch),
		cmocka_unit_test(test_rx_window),
		cmocka_unit_test(test_rx_window_early),
		cmocka_unit_test(test_cost_cheaper_wins),
		cmocka_unit_test(test_cost_tie_stays),
		cmocka_unit_test(test_cost_dear_probes_rare),
		cmocka_unit_test(test_cost_unblock_dearer_waits),
		cmocka_unit_test(test_cost_reprobe_finds_cheaper),
		cmocka_unit_test(test_cost_dearer_reprobes),
		cmocka_unit_test(test_cost_blocked_never_chosen),
		cmocka_unit_test(test_cost_block_then_measured),
		cmocka_unit_test(test_cost_block_copy_unknown),
		cmocka_unit_test(test_cost_window_calls),
		cmocka_unit_test(test_cost_sampling),
		cmocka_unit_test(test_cost_sampling_blocked),
		cmocka_unit_test(test_cost_sample_again),
		cmocka_unit_test(test_rx_cost),
		cmocka_unit_test(test_state_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
