/* SPDX-License-Identifier: MIT */
/*
 * Completion ids: dense u32 ids issued per send, completed by kernel
 * reports of ranges [lo, hi] that may coalesce many sends, arrive out of
 * order and wrap past 2^32.  Each id completes exactly once.
 */
#ifndef ZC_SRC_TRACKER_H
#define ZC_SRC_TRACKER_H

#include <stdbool.h>
#include <stdint.h>

enum zc_track_how {
	ZC_TRACK_ZEROCOPY,  /* kernel used the pages */
	ZC_TRACK_COPIED,    /* kernel copied after all */
	ZC_TRACK_ABANDONED, /* never confirmed (teardown) */
};

typedef void (*zc_track_fn)(void *cookie, uint32_t id, enum zc_track_how how,
			    void *arg);

struct zc_track_ent {
	void *cookie;
	bool live;
};

struct zc_tracker {
	struct zc_track_ent *ring; /* indexed by id & mask */
	uint32_t mask;
	uint32_t max;	   /* capacity limit (power of two) */
	uint32_t head;	   /* oldest id that may still be live */
	uint32_t next;	   /* next id to issue */
	uint32_t inflight; /* live ids */
};

/* Capacities are rounded up to powers of two; the ring starts at initial
 * entries and doubles up to max.  first_id is where numbering starts (the
 * kernel starts every socket at 0). */
int zc_tracker_init(struct zc_tracker *t, uint32_t initial, uint32_t max,
		    uint32_t first_id);
void zc_tracker_fini(struct zc_tracker *t);
/* Issue the next id for cookie.  -ENOBUFS when the span of ids between the
 * oldest live one and the next would exceed max. */
int zc_tracker_issue(struct zc_tracker *t, void *cookie, uint32_t *id);
/* Give back the last id issued (the send never reached the kernel), so ids
 * stay dense.  -EINVAL for any other id. */
int zc_tracker_abort(struct zc_tracker *t, uint32_t id);
/* Complete every id in [lo, hi] (inclusive, modulo 2^32).  Returns the
 * number completed.  Nothing is completed if the range is bad: -ERANGE if
 * it reaches outside the ids in flight (unknown or long done), -EALREADY if
 * an id in it already completed, -EINVAL if it is inverted.
 * fn may issue new ids (the ring may grow under it); it must not complete,
 * abort or drain on the same tracker. */
int zc_tracker_complete(struct zc_tracker *t, uint32_t lo, uint32_t hi,
			bool copied, zc_track_fn fn, void *arg);
/* Complete everything still live as ZC_TRACK_ABANDONED; returns the count.
 * Ids that fn issues meanwhile stay live. */
int zc_tracker_drain(struct zc_tracker *t, zc_track_fn fn, void *arg);

static inline uint32_t zc_tracker_inflight(const struct zc_tracker *t)
{
	return t->inflight;
}

/* True if issuing one more id would fail. */
static inline bool zc_tracker_full(const struct zc_tracker *t)
{
	return t->next - t->head >= t->max;
}

#endif
