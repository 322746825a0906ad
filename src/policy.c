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

/* ---- cost ---------------------------------------------------------------- */

void zc_cost_init(struct zc_costsel *s, enum zc_cost_path first)
{
	*s = (struct zc_costsel){ .cur = first, .every = ZC_COST_PROBE_MIN };
}

static enum zc_cost_path cost_other(const struct zc_costsel *s)
{
	return s->cur == ZC_PATH_COPY ? ZC_PATH_ZC : ZC_PATH_COPY;
}

enum zc_cost_path zc_cost_pick(const struct zc_costsel *s)
{
	if (s->blocked)
		return ZC_PATH_COPY;
	return s->probing ? cost_other(s) : s->cur;
}

bool zc_cost_sample(struct zc_costsel *s)
{
	uint32_t k = s->blocked ? ZC_COST_SAMPLE_BLOCKED : 1;

	if (!s->probing && !s->again && ++s->tick < ZC_COST_SAMPLE_EVERY * k &&
	    s->untimed < (uint64_t)ZC_COST_SAMPLE_BYTES * k)
		return false;
	s->tick = 0;
	s->untimed = 0;
	s->again = false;
	return true;
}

/* A window is full: its cost per MiB, smoothed for the path in use; a
 * probe's single window stands alone, so that a path that became cheaper
 * is seen at once. */
static void cost_window(struct zc_costsel *s, enum zc_cost_path path)
{
	struct zc_cost_meter *m = &s->m[path];
	uint64_t v = m->ns * (1u << 20) / m->bytes;

	if (m->ns_per_mib && path == s->cur)
		v = (m->ns_per_mib * 3 + v) / 4;
	m->ns_per_mib = v ? v : 1;
	m->bytes = 0;
	m->ns = 0;
	m->calls = 0;
}

/* Windows until the next probe: twice the last interval, or more if the
 * probe just made (bytes long) cost more than ZC_COST_PROBE_SHARE percent
 * of that many windows on the path in use. */
static uint32_t cost_next_every(const struct zc_costsel *s, uint64_t bytes)
{
	uint64_t cur = s->m[s->cur].ns_per_mib;
	uint64_t oth = s->m[cost_other(s)].ns_per_mib;
	uint64_t every = (uint64_t)s->every * 2;

	if (cur && oth > cur) {
		uint64_t extra =
			bytes * (oth - cur) / cur; /* in bytes of cur */
		uint64_t need =
			extra * 100 / ZC_COST_PROBE_SHARE / ZC_COST_WINDOW;

		if (need > every)
			every = need;
	}
	return every < ZC_COST_PROBE_MAX ? (uint32_t)every : ZC_COST_PROBE_MAX;
}

/* The other path was measured (a probe of bytes): it takes over only if
 * cheaper by the margin; otherwise it is measured again later and later. */
static void cost_decide(struct zc_costsel *s, uint64_t bytes)
{
	uint64_t cur = s->m[s->cur].ns_per_mib;
	uint64_t oth = s->m[cost_other(s)].ns_per_mib;

	s->probing = false;
	s->since = 0;
	if (cur && oth * 100 < cur * (100 - ZC_COST_MARGIN)) {
		s->cur = cost_other(s);
		s->switches++;
		s->every = ZC_COST_PROBE_MIN;
		return;
	}
	s->every = cost_next_every(s, bytes);
}

/* a costs more than b, measured, beyond the margin. */
static bool cost_above(uint64_t a, uint64_t b)
{
	return b && a * 100 > b * (100 + ZC_COST_MARGIN);
}

/* The path in use now costs more than the other did when last measured,
 * beyond the margin: measure the other again at once, rather than keep a
 * dearer path until the next scheduled probe. */
static bool cost_dearer(const struct zc_costsel *s)
{
	return cost_above(s->m[s->cur].ns_per_mib,
			  s->m[cost_other(s)].ns_per_mib);
}

/* The other path cost more than the one in use when last measured. */
static bool cost_dearer_other(const struct zc_costsel *s)
{
	return cost_above(s->m[cost_other(s)].ns_per_mib,
			  s->m[s->cur].ns_per_mib);
}

/* A probe is measured over ZC_COST_PROBE_WINDOWS windows at once. */
static bool cost_window_full(const struct zc_costsel *s, enum zc_cost_path path)
{
	const struct zc_cost_meter *m = &s->m[path];
	unsigned n = path == s->cur ? 1 : ZC_COST_PROBE_WINDOWS;

	return m->bytes >= (uint64_t)ZC_COST_WINDOW * n &&
	       m->calls >= ZC_COST_WINDOW_CALLS * n;
}

void zc_cost_note(struct zc_costsel *s, enum zc_cost_path path, uint64_t bytes,
		  uint64_t ns)
{
	struct zc_cost_meter *m = &s->m[path];
	uint64_t measured;

	m->bytes += bytes;
	m->ns += ns;
	m->calls++;
	if (!cost_window_full(s, path))
		return;
	measured = m->bytes;
	cost_window(s, path);
	if (s->blocked)
		return;
	if (path != s->cur) {
		if (s->probing)
			cost_decide(s, measured);
		return;
	}
	if (!s->m[cost_other(s)].ns_per_mib || ++s->since >= s->every ||
	    cost_dearer(s)) {
		s->probing = true;
		s->probes++;
	}
}

void zc_cost_block(struct zc_costsel *s, bool blocked)
{
	if (s->blocked == blocked)
		return;
	s->blocked = blocked;
	s->probing = false;
	s->m[ZC_PATH_ZC].bytes = 0;
	s->m[ZC_PATH_ZC].ns = 0;
	s->m[ZC_PATH_ZC].calls = 0;
	/* Blocked, copy is the path in use and measured as such.  Possible
	 * again: with copy's cost known, zero-copy is measured now and must
	 * win to take over (resuming it unmeasured kept a dearer path for
	 * good), unless it was dearer when last measured: then at the next
	 * scheduled probe (a window that mapped too little blocks the
	 * mapping path often, and measuring it at each retry was 2% of a
	 * 64 KiB stream mapped at 3x copy's cost); without copy's cost,
	 * zero-copy resumes and copy is measured next. */
	if (blocked || s->m[ZC_PATH_COPY].ns_per_mib) {
		s->cur = ZC_PATH_COPY;
		s->since = 0;
	} else {
		s->cur = ZC_PATH_ZC;
	}
	if (!blocked && s->cur == ZC_PATH_COPY && !cost_dearer_other(s)) {
		s->probing = true;
		s->probes++;
	}
}

/* ---- back-off ------------------------------------------------------------ */

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
	/* Zero-copy first on both sides: a send reaches the cost comparison
	 * only once the kernel confirmed zero-copy, and mapping first
	 * learns the mapped share; the other path is measured next. */
	zc_cost_init(&pol->tx_cost, ZC_PATH_ZC);
	zc_cost_init(&pol->rx_cost, ZC_PATH_ZC);
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
		/* It works; whether it pays is measured. */
		return zc_cost_pick(&pol->tx_cost) == ZC_PATH_ZC;
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

/* Bytes received since the last decision were received the way it said:
 * the mapped share is judged on the mapping path's receives only. */
static void rx_attribute(struct zc_policy *pol, uint64_t mapped,
			 uint64_t copied, uint64_t unmappable)
{
	if (pol->rx_last_map) {
		pol->rx_win_mapped += mapped - pol->rx_seen_mapped;
		pol->rx_win_copied += copied - pol->rx_seen_copied;
		pol->rx_win_unmappable += unmappable - pol->rx_seen_unmappable;
	}
	pol->rx_seen_mapped = mapped;
	pol->rx_seen_copied = copied;
	pol->rx_seen_unmappable = unmappable;
}

/* A window of mapping measured: mapping can work if enough of it was
 * mapped; otherwise it is ruled out for a back-off.  A socket that never
 * mapped a byte and keeps finding whole pages it cannot map (a plain
 * sender) is judged early; once anything mapped, stretches of copies (a
 * receiver ahead of its sender, a sender out of optmem) need the whole
 * window. */
static bool rx_window_ok(struct zc_policy *pol)
{
	uint64_t dm = pol->rx_win_mapped, dc = pol->rx_win_copied;
	bool early = !pol->rx_seen_mapped &&
		     pol->rx_win_unmappable >=
			     ZC_POLICY_RX_WINDOW / ZC_POLICY_RX_EARLY_DIV;

	if (!early && dm + dc < (uint64_t)ZC_POLICY_RX_WINDOW)
		return true;
	pol->rx_win_mapped = 0;
	pol->rx_win_copied = 0;
	pol->rx_win_unmappable = 0;
	if (dm * 100 >= (dm + dc) * ZC_POLICY_RX_SHARE) {
		backoff_reset(&pol->rx_backoff);
		return true;
	}
	pol->rx_measuring = false;
	zc_cost_block(&pol->rx_cost, true);
	backoff_start(&pol->rx_backoff);
	pol->rx_backoffs++;
	return false;
}

static bool rx_decide(struct zc_policy *pol)
{
	if (!pol->rx_measuring) {
		if (backoff_tick(&pol->rx_backoff)) {
			/* Measure afresh: the copies since are no verdict. */
			pol->rx_measuring = true;
			zc_cost_block(&pol->rx_cost, false);
		}
		return false;
	}
	if (!rx_window_ok(pol))
		return false;
	return zc_cost_pick(&pol->rx_cost) == ZC_PATH_ZC;
}

bool zc_policy_rx_want_map(struct zc_policy *pol, uint64_t mapped,
			   uint64_t copied, uint64_t unmappable)
{
	rx_attribute(pol, mapped, copied, unmappable);
	pol->rx_last_map = rx_decide(pol);
	if (pol->rx_last_map)
		pol->rx_map++;
	else
		pol->rx_copy++;
	return pol->rx_last_map;
}

void zc_policy_rx_cost(struct zc_policy *pol, bool map, uint64_t bytes,
		       uint64_t ns)
{
	zc_cost_note(&pol->rx_cost, map ? ZC_PATH_ZC : ZC_PATH_COPY, bytes, ns);
}

void zc_policy_tx_cost(struct zc_policy *pol, bool zc, uint64_t bytes,
		       uint64_t ns)
{
	zc_cost_note(&pol->tx_cost, zc ? ZC_PATH_ZC : ZC_PATH_COPY, bytes, ns);
}

/* The cost comparison's word, where it decides. */
static int cost_why(const struct zc_costsel *c)
{
	if (c->probing)
		return ZC_PWHY_PROBING;
	if (!c->m[ZC_PATH_COPY].ns_per_mib || !c->m[ZC_PATH_ZC].ns_per_mib)
		return ZC_PWHY_MEASURING;
	return ZC_PWHY_CHEAPER;
}

static int rx_why(const struct zc_policy *pol)
{
	const struct zc_costsel *c = &pol->rx_cost;

	if (!pol->rx_map && !pol->rx_copy)
		return ZC_PWHY_NONE;
	if (c->blocked)
		return ZC_PWHY_KERNEL;
	return cost_why(c);
}

static int tx_why(const struct zc_policy *pol)
{
	uint64_t large = pol->zc + pol->copy_backoff;

	if (pol->state == ZC_POLICY_PINNED || (!large && !pol->copy_small))
		return ZC_PWHY_NONE;
	/* Most sends never reached a decision between paths. */
	if (pol->copy_small > large)
		return ZC_PWHY_SMALL;
	switch (pol->state) {
	case ZC_POLICY_ZEROCOPY:
		return cost_why(&pol->tx_cost);
	case ZC_POLICY_PROBING:
		return ZC_PWHY_PROBING; /* awaiting the kernel's verdict */
	default:
		return ZC_PWHY_KERNEL; /* copied after all, or no zero-copy */
	}
}

bool zc_policy_tx_zc(const struct zc_policy *pol)
{
	switch (tx_why(pol)) {
	case ZC_PWHY_NONE:
	case ZC_PWHY_SMALL:
	case ZC_PWHY_KERNEL:
		return false;
	default:
		return pol->state == ZC_POLICY_PROBING ||
		       zc_cost_pick(&pol->tx_cost) == ZC_PATH_ZC;
	}
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
	st->policy_rx_cost_copy = pol->rx_cost.m[ZC_PATH_COPY].ns_per_mib;
	st->policy_rx_cost_map = pol->rx_cost.m[ZC_PATH_ZC].ns_per_mib;
	st->policy_tx_cost_copy = pol->tx_cost.m[ZC_PATH_COPY].ns_per_mib;
	st->policy_tx_cost_zc = pol->tx_cost.m[ZC_PATH_ZC].ns_per_mib;
	st->policy_rx_probes = pol->rx_cost.probes;
	st->policy_rx_switches = pol->rx_cost.switches;
	st->policy_tx_probes = pol->tx_cost.probes;
	st->policy_tx_switches = pol->tx_cost.switches;
	st->policy_tx_why = tx_why(pol);
	st->policy_rx_why = rx_why(pol);
	if (st->policy_rx_why != ZC_PWHY_NONE)
		st->policy_rx_using = zc_cost_pick(&pol->rx_cost) == ZC_PATH_ZC
					      ? ZC_RX_TCPMMAP
					      : ZC_RX_COPY;
}

enum zc_tx_mode zc_policy_file_tx(size_t len)
{
	return len < ZC_POLICY_FILE_READ_MAX ? ZC_TX_COPY : ZC_TX_SENDFILE;
}
