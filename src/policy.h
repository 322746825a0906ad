/* SPDX-License-Identifier: MIT */
/*
 * The auto policy: per send, zero-copy or copy, learnt from what the kernel
 * reports.  Counted in sends, not time, so its decisions are repeatable.
 */
#ifndef ZC_SRC_POLICY_H
#define ZC_SRC_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ZC_POLICY_THRESHOLD 16384 /* bytes; see README "policy" */
#define ZC_POLICY_COPIED_STREAK 4 /* copied-after-all in a row */
#define ZC_POLICY_BACKOFF_MIN 64  /* sends to copy before retrying */
#define ZC_POLICY_BACKOFF_MAX 65536

struct zc_policy {
	size_t threshold;
	uint32_t copied_streak; /* completions copied after all, in a row */
	uint32_t backoff;	/* current back-off length, in sends */
	uint64_t skip;		/* sends left to copy before retrying */
	uint64_t decisions_zc;
	uint64_t decisions_copy;
	uint64_t backoffs;
};

enum zc_policy_event {
	ZC_POL_ZEROCOPY, /* a completion said zero-copy worked */
	ZC_POL_COPIED,	 /* a completion said the kernel copied */
	ZC_POL_NOBUFS,	 /* zero-copy failed for lack of resources */
};

void zc_policy_init(struct zc_policy *pol, size_t threshold);
/* True if a send of len bytes should try zero-copy. */
bool zc_policy_want_zc(struct zc_policy *pol, size_t len);
void zc_policy_note(struct zc_policy *pol, enum zc_policy_event ev);

#endif
