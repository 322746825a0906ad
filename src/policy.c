/* SPDX-License-Identifier: MIT */
/*
 * The auto policy.  Send side, per socket:
 *
 *   PROBING --ZEROCOPY report--> ZEROCOPY
 *   PROBING/ZEROCOPY --COPIED_STREAK copied reports or ENOBUFS--> BACKOFF
 *   BACKOFF --back-off length of eligible sends--> PROBING (length doubles)
 *
 * While probing only ZC_POLICY_PROBES sends go zero-copy until the kernel
 * says how they went, so a path that copies anyway (loopback, veth) costs
 * a handful of zero-copy sends per back-off, not a window of them.
 */
#include "policy.h"

static void backoff_init(struct zc_backoff *b, uint32_t min, uint32_t max)
{
	*b = (struct zc_backoff){ .len = min, .min = min, .max = max };
}

static void backoff_start(struct zc_backoff *b)
{
	b->skip = b->len;
	if (b->len < b->max)
		b->len *= 2;
}

/* One decision spent backing off; true when the back-off is over. */
static bool backoff_tick(struct zc_backoff *b)
{
	return b->skip && --b->skip == 0;
}

static void backoff_reset(struct zc_backoff *b)
{
	b->len = b->min;
}

void zc_policy_init(struct zc_policy *pol, size_t threshold)
{
	*pol = (struct zc_policy){
		.threshold = threshold ? threshold : ZC_POLICY_THRESHOLD,
		.state = ZC_POLICY_PROBING,
		.rx_measuring = true,
	};
	backoff_init(&pol->tx_backoff, ZC_POLICY_BACKOFF_MIN,
		     ZC_POLICY_BACKOFF_MAX);
	backoff_init(&pol->rx_backoff, ZC_POLICY_RX_BACKOFF_MIN,
		     ZC_POLICY_RX_BACKOFF_MAX);
}

void zc_policy_off(struct zc_policy *pol, enum zc_policy_state state)
{
	pol->state = state;
}

static void policy_probe(struct zc_policy *pol)
{
	pol->state = ZC_POLICY_PROBING;
	pol->probes = 0;
	pol->waited = 0;
	pol->copied_streak = 0;
}

/* Probes spent and no verdict yet: copy.  If the verdict never comes (the
 * probes failed, e.g. the peer reset), probe again after a while. */
static bool policy_probing(struct zc_policy *pol)
{
	if (pol->probes < ZC_POLICY_PROBES) {
		pol->probes++;
		return true;
	}
	if (++pol->waited >= pol->tx_backoff.min)
		policy_probe(pol);
	return false;
}

static bool policy_decide(struct zc_policy *pol)
{
	switch (pol->state) {
	case ZC_POLICY_ZEROCOPY:
		return true;
	case ZC_POLICY_PROBING:
		return policy_probing(pol);
	case ZC_POLICY_BACKOFF:
		if (backoff_tick(&pol->tx_backoff)) {
			pol->retries++;
			policy_probe(pol);
		}
		return false;
	default:
		return false;
	}
}

bool zc_policy_want_zc(struct zc_policy *pol, size_t len)
{
	if (len < pol->threshold) {
		pol->copy_small++;
		return false;
	}
	if (!policy_decide(pol)) {
		pol->copy_backoff++;
		return false;
	}
	pol->zc++;
	return true;
}

/* Stop asking for zero-copy for a while; each failed retry doubles it. */
static void policy_back_off(struct zc_policy *pol)
{
	pol->state = ZC_POLICY_BACKOFF;
	backoff_start(&pol->tx_backoff);
	pol->copied_streak = 0;
	pol->backoffs++;
}

void zc_policy_note(struct zc_policy *pol, enum zc_policy_event ev)
{
	/* Reports that arrive while backing off are about sends made before
	 * it: they were already counted. */
	if (pol->state != ZC_POLICY_PROBING && pol->state != ZC_POLICY_ZEROCOPY)
		return;
	switch (ev) {
	case ZC_POL_ZEROCOPY:
		pol->state = ZC_POLICY_ZEROCOPY;
		pol->copied_streak = 0;
		backoff_reset(&pol->tx_backoff);
		break;
	case ZC_POL_COPIED:
		if (++pol->copied_streak >= ZC_POLICY_COPIED_STREAK)
			policy_back_off(pol);
		break;
	case ZC_POL_NOBUFS:
		policy_back_off(pol);
		break;
	}
}

/* A full window measured: keep mapping if enough of it was mapped. */
static bool rx_window_ok(struct zc_policy *pol, uint64_t mapped,
			 uint64_t copied)
{
	uint64_t dm = mapped - pol->rx_base_mapped;
	uint64_t dc = copied - pol->rx_base_copied;

	if (dm + dc < (uint64_t)ZC_POLICY_RX_WINDOW)
		return true;
	pol->rx_base_mapped = mapped;
	pol->rx_base_copied = copied;
	if (dm * 100 >= (dm + dc) * ZC_POLICY_RX_SHARE) {
		backoff_reset(&pol->rx_backoff);
		return true;
	}
	pol->rx_measuring = false;
	backoff_start(&pol->rx_backoff);
	pol->rx_backoffs++;
	return false;
}

bool zc_policy_rx_want_map(struct zc_policy *pol, uint64_t mapped,
			   uint64_t copied)
{
	if (!pol->rx_measuring) {
		if (backoff_tick(&pol->rx_backoff)) {
			/* Measure afresh: the copies since are no verdict. */
			pol->rx_measuring = true;
			pol->rx_base_mapped = mapped;
			pol->rx_base_copied = copied;
		}
		pol->rx_copy++;
		return false;
	}
	if (!rx_window_ok(pol, mapped, copied)) {
		pol->rx_copy++;
		return false;
	}
	pol->rx_map++;
	return true;
}

void zc_policy_stats(const struct zc_policy *pol, struct zc_stats *st)
{
	st->policy_state = pol->state;
	st->policy_threshold = pol->threshold;
	st->policy_zc = pol->zc;
	st->policy_copy_small = pol->copy_small;
	st->policy_copy_backoff = pol->copy_backoff;
	st->policy_backoffs = pol->backoffs;
	st->policy_retries = pol->retries;
	st->policy_backoff_len = pol->tx_backoff.len;
	st->policy_rx_map = pol->rx_map;
	st->policy_rx_copy = pol->rx_copy;
	st->policy_rx_backoffs = pol->rx_backoffs;
}

enum zc_tx_mode zc_policy_file_tx(size_t len)
{
	return len < ZC_POLICY_FILE_READ_MAX ? ZC_TX_COPY : ZC_TX_SENDFILE;
}
