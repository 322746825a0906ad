/* SPDX-License-Identifier: MIT */
#include "policy.h"

void zc_policy_init(struct zc_policy *pol, size_t threshold)
{
	*pol = (struct zc_policy){
		.threshold = threshold ? threshold : ZC_POLICY_THRESHOLD,
		.backoff = ZC_POLICY_BACKOFF_MIN,
	};
}

bool zc_policy_want_zc(struct zc_policy *pol, size_t len)
{
	if (len < pol->threshold || pol->skip) {
		if (len >= pol->threshold)
			pol->skip--;
		pol->decisions_copy++;
		return false;
	}
	pol->decisions_zc++;
	return true;
}

/* Stop asking for zero-copy for a while; each failed retry doubles it. */
static void policy_back_off(struct zc_policy *pol)
{
	pol->skip = pol->backoff;
	if (pol->backoff < ZC_POLICY_BACKOFF_MAX)
		pol->backoff *= 2;
	pol->copied_streak = 0;
	pol->backoffs++;
}

void zc_policy_note(struct zc_policy *pol, enum zc_policy_event ev)
{
	switch (ev) {
	case ZC_POL_ZEROCOPY:
		pol->copied_streak = 0;
		pol->backoff = ZC_POLICY_BACKOFF_MIN;
		break;
	case ZC_POL_COPIED:
		if (++pol->copied_streak >= ZC_POLICY_COPIED_STREAK &&
		    !pol->skip)
			policy_back_off(pol);
		break;
	case ZC_POL_NOBUFS:
		if (!pol->skip)
			policy_back_off(pol);
		break;
	}
}
