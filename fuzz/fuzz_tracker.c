/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the completion-id tracker.  The input is a small
 * header (capacity, first id near the 2^32 wrap) and a stream of
 * operations: issue N, abort, complete [lo, hi] relative to the oldest
 * live id, drain.  Every result is checked against a plain model that
 * numbers ids 0, 1, 2, ... (no wrap) and keeps one state byte per id.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "tracker.h"

#define MODEL_CAP (1u << 12) /* ids one input may issue: 4x max */

enum { ID_NONE, ID_LIVE, ID_DONE };

struct model {
	struct zc_tracker t;
	uint32_t first_id;
	uint32_t max;  /* effective capacity (power of two) */
	uint64_t head; /* oldest live id, or next */
	uint64_t next;
	uint64_t hwm; /* highest next so far: state[] to clear */
	uint64_t live;
	/* The range a complete() call may report, and its next id. */
	uint64_t want_hi, want_next;
	enum zc_track_how want_how;
	unsigned reissue; /* ids each callback issues */
	bool in_drain;
	bool stop; /* MODEL_CAP reached */
};

static uint8_t state[MODEL_CAP];
static uint8_t times[MODEL_CAP];

static uint32_t pow2(uint32_t v)
{
	uint32_t p = 1;

	while (p < v)
		p <<= 1;
	return p;
}

static void model_advance(struct model *m)
{
	while (m->head < m->next && state[m->head] != ID_LIVE)
		m->head++;
}

/* Model id for a tracker id, or UINT64_MAX if never issued. */
static uint64_t model_id(const struct model *m, uint32_t id)
{
	uint64_t o = (uint32_t)(id - m->first_id);

	return o < m->next ? o : UINT64_MAX;
}

static void issue_one(struct model *m)
{
	uint32_t id = 0;
	int want, ret;

	if (m->next >= MODEL_CAP) {
		m->stop = true;
		return;
	}
	want = m->next - m->head >= m->max ? -ENOBUFS : 0;
	/* The cookie points at the id's state byte: never NULL. */
	ret = zc_tracker_issue(&m->t, &state[m->next], &id);
	CHECK(ret == want);
	if (ret)
		return;
	CHECK(id == (uint32_t)(m->first_id + m->next));
	state[m->next] = ID_LIVE;
	m->next++;
	m->live++;
	if (m->next > m->hwm)
		m->hwm = m->next;
}

static void on_done(void *cookie, uint32_t id, enum zc_track_how how, void *arg)
{
	struct model *m = arg;
	uint64_t o = (uint64_t)((uint8_t *)cookie - state);

	CHECK(o < m->next);
	CHECK(id == (uint32_t)(m->first_id + o));
	CHECK(state[o] == ID_LIVE);
	CHECK(how == m->want_how);
	if (!m->in_drain) {
		/* Ascending, each id of [lo, hi] once. */
		CHECK(o == m->want_next && o <= m->want_hi);
		m->want_next++;
	} else {
		CHECK(o >= m->want_next && o < m->want_hi);
		m->want_next = o + 1;
	}
	state[o] = ID_DONE;
	CHECK(++times[o] == 1);
	m->live--;
	model_advance(m);
	for (unsigned i = 0; i < m->reissue; i++)
		issue_one(m);
}

static void op_abort(struct model *m, uint32_t id)
{
	uint64_t o = model_id(m, id);
	bool ok = o != UINT64_MAX && o + 1 == m->next && state[o] == ID_LIVE;
	int ret = zc_tracker_abort(&m->t, id);

	CHECK(ret == (ok ? 0 : -EINVAL));
	if (!ok)
		return;
	state[o] = ID_NONE;
	m->next--;
	m->live--;
	model_advance(m);
}

static int want_complete(const struct model *m, uint64_t lo, uint64_t hi)
{
	if (lo == UINT64_MAX || hi == UINT64_MAX || lo < m->head ||
	    hi < m->head)
		return -ERANGE;
	if (lo > hi)
		return -EINVAL;
	for (uint64_t o = lo; o <= hi; o++)
		if (state[o] != ID_LIVE)
			return -EALREADY;
	return (int)(hi - lo + 1);
}

static void op_complete(struct model *m, uint32_t lo, uint32_t hi, bool copied)
{
	uint64_t olo = model_id(m, lo), ohi = model_id(m, hi);
	int want = want_complete(m, olo, ohi);
	int ret;

	m->want_hi = ohi;
	m->want_next = olo;
	m->want_how = copied ? ZC_TRACK_COPIED : ZC_TRACK_ZEROCOPY;
	ret = zc_tracker_complete(&m->t, lo, hi, copied, on_done, m);
	CHECK(ret == want);
	if (ret > 0)
		CHECK(m->want_next == ohi + 1);
	else
		CHECK(m->want_next == olo); /* nothing completed */
}

static void op_drain(struct model *m)
{
	uint64_t live = m->live, end = m->next;
	int ret;

	m->in_drain = true;
	m->want_next = m->head;
	m->want_hi = end;
	m->want_how = ZC_TRACK_ABANDONED;
	ret = zc_tracker_drain(&m->t, on_done, m);
	m->in_drain = false;
	CHECK(ret >= 0 && (uint64_t)ret == live);
	/* Only ids issued by the callbacks are left. */
	for (uint64_t o = 0; o < end; o++)
		CHECK(state[o] != ID_LIVE);
}

struct input {
	const uint8_t *p;
	size_t n;
};

static uint8_t take(struct input *in)
{
	uint8_t b = 0;

	if (in->n) {
		b = *in->p++;
		in->n--;
	}
	return b;
}

static uint16_t take16(struct input *in)
{
	uint16_t lo = take(in);

	return (uint16_t)(lo | take(in) << 8);
}

/* Tracker id of the model's oldest live id plus rel. */
static uint32_t rel_id(const struct model *m, int rel)
{
	return (uint32_t)(m->first_id + m->head + (uint32_t)rel);
}

static void step_complete(struct model *m, struct input *in, uint8_t arg)
{
	int span = (int)m->max + 128;
	int lo_rel = (int)(take16(in) % (unsigned)span) - 64;
	int hi_rel = (arg & 2) ? lo_rel + take(in) % 32
			       : (int)(take16(in) % (unsigned)span) - 64;
	uint32_t lo = rel_id(m, lo_rel), hi = rel_id(m, hi_rel);

	if (arg & 4) /* far away: the other half of the id space */
		lo ^= 0x80000000u;
	m->reissue = (arg >> 3) & 3;
	op_complete(m, lo, hi, arg & 1);
	m->reissue = 0;
}

static void step(struct model *m, struct input *in)
{
	uint8_t b = take(in), arg = b >> 2;
	unsigned n;

	switch (b & 3) {
	case 0: /* issue 1..64, or a burst up to ~1000 */
		n = arg == 63 ? 1u + take(in) * 4u : 1u + arg;
		for (unsigned i = 0; i < n && !m->stop; i++)
			issue_one(m);
		break;
	case 1: /* abort the last id, or one near it */
		op_abort(m, (uint32_t)(m->first_id + m->next - 1 +
				       ((arg & 1) ? 0 : (int8_t)take(in))));
		break;
	case 2:
		step_complete(m, in, arg);
		break;
	default:
		if (arg & 0x38) { /* complete the oldest few exactly */
			n = take(in) % 64;
			m->reissue = arg & 3;
			op_complete(m, rel_id(m, 0), rel_id(m, (int)n),
				    arg & 4);
			m->reissue = 0;
		} else {
			m->reissue = arg & 3;
			op_drain(m);
			m->reissue = 0;
		}
		break;
	}
	CHECK(zc_tracker_inflight(&m->t) == m->live);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	struct model m = { 0 };
	uint32_t max = 64 + take16(&in) % 961, initial = 1u << (take(&in) % 7);

	m.first_id = 0xFFFFFC00u + (uint32_t)take(&in) * 8;
	m.max = pow2(max);
	CHECK(zc_tracker_init(&m.t, initial, max, m.first_id) == 0);
	while (in.n && !m.stop)
		step(&m, &in);
	op_drain(&m);
	CHECK(m.live == 0 && zc_tracker_inflight(&m.t) == 0);
	for (uint64_t o = 0; o < m.next; o++) {
		CHECK(times[o] <= 1);
		CHECK(state[o] != ID_LIVE);
	}
	zc_tracker_fini(&m.t);
	memset(state, 0, m.hwm);
	memset(times, 0, m.hwm);
	return 0;
}
