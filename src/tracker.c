/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tracker.h"
#include "util.h"

int zc_tracker_init(struct zc_tracker *t, uint32_t initial, uint32_t max,
		    uint32_t first_id)
{
	uint32_t cap;

	if (!t || !initial || initial > max)
		return -EINVAL;
	cap = zc_roundup_pow2(initial);
	memset(t, 0, sizeof(*t));
	t->ring = calloc(cap, sizeof(*t->ring));
	if (!t->ring)
		return -ENOMEM;
	t->mask = cap - 1;
	t->max = zc_roundup_pow2(max);
	t->head = first_id;
	t->next = first_id;
	return 0;
}

void zc_tracker_fini(struct zc_tracker *t)
{
	free(t->ring);
	t->ring = NULL;
}

static uint32_t tracker_span(const struct zc_tracker *t)
{
	return t->next - t->head;
}

/* Double the ring, keeping every id at ring[id & mask]. */
static int tracker_grow(struct zc_tracker *t)
{
	uint32_t cap = (t->mask + 1) * 2;
	struct zc_track_ent *ring;

	if (t->mask + 1 >= t->max)
		return -ENOBUFS;
	ring = calloc(cap, sizeof(*ring));
	if (!ring)
		return -ENOMEM;
	for (uint32_t id = t->head; id != t->next; id++)
		ring[id & (cap - 1)] = t->ring[id & t->mask];
	free(t->ring);
	t->ring = ring;
	t->mask = cap - 1;
	return 0;
}

int zc_tracker_issue(struct zc_tracker *t, void *cookie, uint32_t *id)
{
	struct zc_track_ent *ent;
	int ret;

	if (tracker_span(t) > t->mask) {
		ret = tracker_grow(t);
		if (ret)
			return ret;
	}
	ent = &t->ring[t->next & t->mask];
	ent->cookie = cookie;
	ent->live = true;
	t->inflight++;
	*id = t->next++;
	return 0;
}

static void tracker_advance(struct zc_tracker *t)
{
	while (t->head != t->next && !t->ring[t->head & t->mask].live)
		t->head++;
}

int zc_tracker_abort(struct zc_tracker *t, uint32_t id)
{
	if (!tracker_span(t) || id != t->next - 1 ||
	    !t->ring[id & t->mask].live)
		return -EINVAL;
	t->ring[id & t->mask].live = false;
	t->inflight--;
	t->next--;
	tracker_advance(t);
	return 0;
}

/* End live id: free its slot and move head before the callback, so that
 * an id the callback issues is limited by the oldest live id, not a stale
 * one.  Re-reads the ring: an earlier callback may have grown it. */
static void tracker_end(struct zc_tracker *t, uint32_t id,
			enum zc_track_how how, zc_track_fn fn, void *arg)
{
	struct zc_track_ent *ent = &t->ring[id & t->mask];
	void *cookie = ent->cookie;

	ent->live = false;
	t->inflight--;
	tracker_advance(t);
	fn(cookie, id, how, arg);
}

static int tracker_check(const struct zc_tracker *t, uint32_t lo, uint32_t hi)
{
	uint32_t span = tracker_span(t);
	uint32_t rlo = lo - t->head, rhi = hi - t->head;

	if (rlo >= span && rhi >= span)
		return -ERANGE;
	if (rlo > rhi)
		return rhi < span && rlo < span ? -EINVAL : -ERANGE;
	if (rhi >= span)
		return -ERANGE;
	for (uint32_t id = lo;; id++) {
		if (!t->ring[id & t->mask].live)
			return -EALREADY;
		if (id == hi)
			break;
	}
	return 0;
}

int zc_tracker_complete(struct zc_tracker *t, uint32_t lo, uint32_t hi,
			bool copied, zc_track_fn fn, void *arg)
{
	enum zc_track_how how = copied ? ZC_TRACK_COPIED : ZC_TRACK_ZEROCOPY;
	uint32_t n = 0;
	int ret;

	ret = tracker_check(t, lo, hi);
	if (ret)
		return ret;
	for (uint32_t id = lo;; id++) {
		tracker_end(t, id, how, fn, arg);
		n++;
		if (id == hi)
			break;
	}
	return n > INT32_MAX ? INT32_MAX : (int)n;
}

int zc_tracker_drain(struct zc_tracker *t, zc_track_fn fn, void *arg)
{
	/* Ids a callback issues while draining are new sends: not drained,
	 * or a callback that always sends again would never let us stop.
	 * Walk by head, which always names a live id (or next): a slot
	 * behind head may already hold an id issued by a callback. */
	uint32_t end = t->next;
	int n = 0;

	while (t->head != end) {
		tracker_end(t, t->head, ZC_TRACK_ABANDONED, fn, arg);
		n++;
	}
	return n;
}
