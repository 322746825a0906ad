/* SPDX-License-Identifier: MIT */
/*
 * zcopy bench output: medians per cell, then a table (with a verdict per
 * size), CSV, and interval lines as they come (JSON: bench_json.c; the
 * plot: bench_plot.c).  Rates are medians over the runs of a cell;
 * counts are totals over them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

const char *bench_size_str(uint32_t size, char *buf, size_t len)
{
	if (size >= (1u << 20) && !(size % (1u << 20)))
		snprintf(buf, len, "%uM", size >> 20);
	else if (size >= 1024 && !(size % 1024))
		snprintf(buf, len, "%uK", size >> 10);
	else
		snprintf(buf, len, "%u", size);
	return buf;
}

static double ratio(double num, double den)
{
	return den > 0 ? num / den : 0;
}

static double gbps(uint64_t bytes, double secs)
{
	return ratio((double)bytes * 8 / 1e9, secs);
}

/* The receiver's throughput by its own clock, first byte to last, as a
 * plain receiver measures it; the senders' time only when the receiver
 * has no span (a single read). */
double bench_run_gbps(const struct bench_run *r)
{
	return gbps(r->rx.bytes, r->rx_span_usec ? (double)r->rx_span_usec / 1e6
						 : r->elapsed);
}

double bench_stream_gbps(const struct bench_run *r, unsigned i)
{
	const struct zb_side *rx = &r->srx[i];

	return gbps(rx->bytes,
		    rx->span_usec ? (double)rx->span_usec / 1e6 : r->elapsed);
}

double bench_lost_share(const struct zb_side *tx, const struct zb_side *rx)
{
	if (!tx->bytes || rx->bytes >= tx->bytes)
		return 0;
	return (double)(tx->bytes - rx->bytes) / (double)tx->bytes;
}

void bench_side_add(struct zb_side *sum, const struct zb_side *one)
{
	uint64_t *to[] = { ZB_SIDE_FIELDS(sum) };
	const uint64_t *from[] = { ZB_SIDE_FIELDS(one) };
	uint64_t span = sum->span_usec > one->span_usec ? sum->span_usec
							: one->span_usec;

	for (size_t i = 0; i < sizeof(to) / sizeof(to[0]); i++)
		*to[i] += *from[i];
	/* Streams run side by side: the sum's span is the longest. */
	sum->span_usec = span;
	for (int t = 0; t < ZB_TX_SLOTS; t++)
		sum->by_tx[t] += one->by_tx[t];
	if (!sum->error)
		sum->error = one->error;
	if (!sum->pol.why)
		sum->pol = one->pol;
}

static double per_gb(uint64_t cpu_usec, uint64_t bytes)
{
	return ratio((double)cpu_usec / 1e6, (double)bytes / 1e9);
}

/* ns per MiB, as zc_stats gives costs, in CPU seconds per GB. */
static double cost_per_gb(uint64_t ns_per_mib)
{
	return (double)ns_per_mib / (double)(1u << 20);
}

/* Median of the runs that measured it. */
static double cost_median(const struct bench_cell *c, bool send, bool zc)
{
	double v[BENCH_MAX_REPEAT];
	unsigned n = 0;

	for (unsigned i = 0; i < c->nruns; i++) {
		const struct zb_auto *a =
			send ? &c->runs[i].tx.pol : &c->runs[i].rx.pol;
		uint64_t ns = zc ? a->cost_zc : a->cost_copy;

		if (ns)
			v[n++] = cost_per_gb(ns);
	}
	return n ? bc_median(v, n) : 0;
}

static void summarize_auto(const struct bench_cell *c, bool send,
			   struct bench_auto *a)
{
	const struct zb_auto *last;

	if (!c->nruns)
		return;
	last = send ? &c->runs[c->nruns - 1].tx.pol
		    : &c->runs[c->nruns - 1].rx.pol;
	a->cost_copy = cost_median(c, send, false);
	a->cost_zc = cost_median(c, send, true);
	a->path = last->path;
	a->why = last->why;
}

static const char *const why_names[] = {
	[ZC_PWHY_NONE] = "-",	       [ZC_PWHY_MEASURING] = "measuring",
	[ZC_PWHY_CHEAPER] = "cheaper", [ZC_PWHY_KERNEL] = "kernel",
	[ZC_PWHY_PROBING] = "probing", [ZC_PWHY_SMALL] = "small",
};

const char *bench_why_name(int why)
{
	if (why < 0 || why >= (int)(sizeof(why_names) / sizeof(why_names[0])))
		return "?";
	return why_names[why];
}

const char *bench_auto_path(const struct bench_auto *a, bool send)
{
	const char *name = NULL;

	if (a->why)
		name = send ? zc_tx_mode_name((enum zc_tx_mode)a->path)
			    : zc_rx_mode_name((enum zc_rx_mode)a->path);
	return name ? name : "-";
}

void bench_summarize(const struct bench_cell *c, struct bench_summary *s)
{
	double rate[BENCH_MAX_REPEAT], tx[BENCH_MAX_REPEAT],
		rx[BENCH_MAX_REPEAT];
	uint64_t zc = 0, copied = 0, kcopied = 0, mapped = 0;
	uint64_t by_tx[ZB_TX_SLOTS] = { 0 };

	memset(s, 0, sizeof(*s));
	for (unsigned i = 0; i < c->nruns; i++) {
		const struct bench_run *r = &c->runs[i];

		rate[i] = bench_run_gbps(r);
		tx[i] = per_gb(r->tx.cpu_usec, r->tx.bytes);
		rx[i] = per_gb(r->rx.cpu_usec, r->rx.bytes);
		s->sent += r->tx.bytes;
		s->received += r->rx.bytes;
		s->sends += r->tx.ops;
		s->completions += r->tx.completions;
		s->fallbacks += r->tx.fallbacks;
		s->retrans += r->tx.retrans;
		s->tx_packets += r->tx.packets;
		s->rx_packets += r->rx.packets;
		zc += r->tx.zc_bytes;
		copied += r->tx.copied_bytes;
		kcopied += r->tx.kernel_copied;
		mapped += r->rx.rx_mapped;
		for (int t = 0; t < ZB_TX_SLOTS; t++)
			by_tx[t] += r->tx.by_tx[t];
	}
	s->tx_only = -1;
	for (int t = 0; t < ZB_TX_SLOTS; t++)
		if (s->completions && by_tx[t] == s->completions)
			s->tx_only = t;
	s->gbps = bc_median(rate, c->nruns);
	s->gbps_min = c->nruns ? rate[0] : 0;
	s->gbps_max = c->nruns ? rate[c->nruns - 1] : 0;
	s->tx_cpu_per_gb = bc_median(tx, c->nruns);
	s->rx_cpu_per_gb = bc_median(rx, c->nruns);
	s->zc_share = ratio((double)zc, (double)s->sent);
	s->copied_share = ratio((double)copied, (double)s->sent);
	s->kernel_copied_share = ratio((double)kcopied, (double)s->sent);
	s->rx_mapped_share = ratio((double)mapped, (double)s->received);
	summarize_auto(c, true, &s->tx_auto);
	summarize_auto(c, false, &s->rx_auto);
	s->lost_share =
		s->sent > s->received
			? (double)(s->sent - s->received) / (double)s->sent
			: 0;
}

const char *bench_cell_error(const struct bench_cell *c, char *buf, size_t len)
{
	snprintf(buf, len, "%s: %s", c->unavailable ? "unavailable" : "failed",
		 zc_strerror(c->error));
	return buf;
}

static const struct bench_cell *cell_at(const struct bench_sweep *sw,
					unsigned size, unsigned mode)
{
	return &sw->cells[size * sw->opts->nmodes + mode];
}

/* The cell at (size, mode) with its summary in *s; NULL if it failed or
 * has no runs. */
static const struct bench_cell *cell_summary(const struct bench_sweep *sw,
					     unsigned size, unsigned mode,
					     struct bench_summary *s)
{
	const struct bench_cell *c = cell_at(sw, size, mode);

	if (c->error || !c->nruns)
		return NULL;
	bench_summarize(c, s);
	return c;
}

/* ---- table ---------------------------------------------------------------- */

#define ROW_FMT "%6s  %-16s %8s %15s %8s %8s %10s %10s %9s %8s\n"

static void print_header(const struct bench_sweep *sw)
{
	const struct bench_opts *o = sw->opts;

	printf("zcopy bench: %s to %s, %s, %u stream%s, %.2f s x %u runs per "
	       "cell (medians), receiver %s the data%s\n\n",
	       o->udp ? "UDP" : "TCP", o->host,
	       o->reverse ? "the server sends (-R)" : "this end sends",
	       o->streams, o->streams > 1 ? "s" : "", sw->duration, o->repeat,
	       o->read ? "reads" : "does not read",
	       o->rate ? ", paced (-b)" : "");
	printf("%6s  %-16s %8s %15s %17s %10s %10s %9s\n", "", "", "Gbit/s", "",
	       "CPU s/GB", "sent", "copied", "received");
	printf(ROW_FMT, "size", "TX:RX", "median", "(min-max)", "sender",
	       "receiver", "zero-copy", "after all", "mapped",
	       o->udp ? "lost" : "retrans");
}

static void fmt(char *buf, size_t len, const char *f, double v)
{
	snprintf(buf, len, f, v);
}

/* The last column: TCP retransmits (all runs), or the share of UDP
 * datagrams that never arrived. */
static void loss_col(const struct bench_opts *o, uint64_t retrans, double lost,
		     char *buf, size_t len)
{
	if (o->udp)
		fmt(buf, len, "%.2f%%", 100 * lost);
	else
		snprintf(buf, len, "%llu", (unsigned long long)retrans);
}

/* -P N: a line per stream under the cell's row, medians over the runs. */
static void print_streams(const struct bench_opts *o,
			  const struct bench_cell *c)
{
	for (unsigned i = 0; i < o->streams; i++) {
		double rate[BENCH_MAX_REPEAT], tx[BENCH_MAX_REPEAT],
			rx[BENCH_MAX_REPEAT];
		struct zb_side stx = { 0 }, srx = { 0 };
		char name[24], v[5][24];
		unsigned n = 0;

		for (unsigned k = 0; k < c->nruns; k++) {
			const struct bench_run *r = &c->runs[k];

			if (i >= r->streams)
				continue;
			rate[n] = bench_stream_gbps(r, i);
			tx[n] = per_gb(r->stx[i].cpu_usec, r->stx[i].bytes);
			rx[n] = per_gb(r->srx[i].cpu_usec, r->srx[i].bytes);
			bench_side_add(&stx, &r->stx[i]);
			bench_side_add(&srx, &r->srx[i]);
			n++;
		}
		snprintf(name, sizeof(name), "  stream %u", i + 1);
		fmt(v[0], sizeof(v[0]), "%.2f", bc_median(rate, n));
		snprintf(v[1], sizeof(v[1]), "(%.2f-%.2f)", n ? rate[0] : 0,
			 n ? rate[n - 1] : 0);
		fmt(v[2], sizeof(v[2]), "%.3f", bc_median(tx, n));
		fmt(v[3], sizeof(v[3]), "%.3f", bc_median(rx, n));
		loss_col(o, stx.retrans, bench_lost_share(&stx, &srx), v[4],
			 sizeof(v[4]));
		printf(ROW_FMT, "", name, v[0], v[1], v[2], v[3], "", "", "",
		       v[4]);
	}
}

/* " copy 0.281 mapped 1.502": the costs measured, in CPU s/GB. */
static void auto_costs(const struct bench_auto *a, const char *zc, char *buf,
		       size_t len)
{
	int n = 0;

	buf[0] = 0;
	if (a->cost_copy > 0)
		n = snprintf(buf, len, " copy %.3f", a->cost_copy);
	if (a->cost_zc > 0 && n >= 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, " %s %.3f", zc, a->cost_zc);
}

static void print_auto_end(const char *end, const struct bench_auto *a,
			   bool send)
{
	char costs[64];

	auto_costs(a, send ? "zc" : "mapped", costs, sizeof(costs));
	printf("  %s %s (%s)%s%s", end, bench_auto_path(a, send),
	       bench_why_name(a->why), *costs ? ", s/GB" : "", costs);
}

/* Under a row with an auto end: what auto measured and chose there. */
static void print_auto(const struct bench_summary *s)
{
	if (!s->tx_auto.why && !s->rx_auto.why)
		return;
	printf("%6s  %-16s", "", "  auto:");
	if (s->tx_auto.why)
		print_auto_end("sender", &s->tx_auto, true);
	if (s->rx_auto.why)
		print_auto_end("receiver", &s->rx_auto, false);
	printf("\n");
}

static void print_row(const struct bench_opts *o, const struct bench_cell *c)
{
	struct bench_summary s;
	char sz[16], err[160], v[9][24];

	bench_size_str(c->size, sz, sizeof(sz));
	if (c->error) {
		printf("%6s  %-16s %s\n", sz, c->mode->name,
		       bench_cell_error(c, err, sizeof(err)));
		return;
	}
	bench_summarize(c, &s);
	fmt(v[0], sizeof(v[0]), "%.2f", s.gbps);
	snprintf(v[1], sizeof(v[1]), "(%.2f-%.2f)", s.gbps_min, s.gbps_max);
	fmt(v[2], sizeof(v[2]), "%.3f", s.tx_cpu_per_gb);
	fmt(v[3], sizeof(v[3]), "%.3f", s.rx_cpu_per_gb);
	fmt(v[4], sizeof(v[4]), "%.1f%%", 100 * s.zc_share);
	fmt(v[5], sizeof(v[5]), "%.1f%%", 100 * s.kernel_copied_share);
	fmt(v[6], sizeof(v[6]), "%.1f%%", 100 * s.rx_mapped_share);
	loss_col(o, s.retrans, s.lost_share, v[7], sizeof(v[7]));
	printf(ROW_FMT, sz, c->mode->name, v[0], v[1], v[2], v[3], v[4], v[5],
	       v[6], v[7]);
	print_auto(&s);
	if (o->streams > 1)
		print_streams(o, c);
}

/* Below this share a mode is not called zero-copy: a few stray mapped
 * pages are not a result. */
#define ZC_MIN_SHARE 0.01

/* Whether zero-copy really happened at this size, for sending and for
 * receiving separately (they are different mechanisms): the text for it. */
static const char *zc_outcome(const struct bench_sweep *sw, unsigned size,
			      char *buf, size_t len)
{
	const char *tx_mode = NULL, *rx_mode = NULL;
	double tx_best = 0, rx_best = 0;
	bool tried = false;
	struct bench_summary s;
	char tx[96], rx[96];

	for (unsigned m = 0; m < sw->opts->nmodes; m++) {
		const struct bench_cell *c = cell_summary(sw, size, m, &s);

		if (!c)
			continue;
		tried |= s.kernel_copied_share > 0;
		if (s.zc_share > tx_best) {
			tx_best = s.zc_share;
			tx_mode = c->mode->name;
		}
		if (s.rx_mapped_share > rx_best) {
			rx_best = s.rx_mapped_share;
			rx_mode = c->mode->name;
		}
	}
	if (tx_best >= ZC_MIN_SHARE)
		snprintf(tx, sizeof(tx), "zero-copy send happened (%s: %.0f%%)",
			 tx_mode, 100 * tx_best);
	else
		snprintf(tx, sizeof(tx), "%s",
			 tried ? "no zero-copy send: the kernel copied every "
				 "one after all"
			       : "no zero-copy send was attempted");
	if (rx_best >= ZC_MIN_SHARE)
		snprintf(rx, sizeof(rx), "; receive mapped %.0f%% (%s)",
			 100 * rx_best, rx_mode);
	else
		rx[0] = 0;
	snprintf(buf, len, "%s%s", tx, rx);
	return buf;
}

/* Receive modes that do the same here: on UDP, auto receives by copy. */
static bool same_rx(const struct bench_sweep *sw, uint8_t a, uint8_t b)
{
	bool copying_a = a == ZC_RX_AUTO || a == ZC_RX_COPY;
	bool copying_b = b == ZC_RX_AUTO || b == ZC_RX_COPY;

	return a == b || (sw->opts->udp && copying_a && copying_b);
}

/* Two cells behave the same when one transport carried every send of
 * both and they receive alike: auto below its zero-copy threshold sends
 * exactly as copy does.  Their difference in speed can only be noise. */
static bool same_behaviour(const struct bench_sweep *sw,
			   const struct bench_cell *a,
			   const struct bench_summary *sa,
			   const struct bench_cell *b,
			   const struct bench_summary *sb)
{
	return sa->tx_only >= 0 && sa->tx_only == sb->tx_only &&
	       same_rx(sw, a->mode->rx, b->mode->rx);
}

void bench_judge(const struct bench_sweep *sw, unsigned size,
		 struct bench_judgement *j)
{
	unsigned nmodes = sw->opts->nmodes;
	struct bench_summary s[BENCH_MAX_MODES];
	const struct bench_cell *c[BENCH_MAX_MODES];
	double others_max = 0;
	int best = -1, next = -1;
	bool few_runs = false;

	memset(j, 0, sizeof(*j));
	for (unsigned m = 0; m < nmodes; m++) {
		c[m] = cell_summary(sw, size, m, &s[m]);
		j->group[m] = -1;
		j->tx_only[m] = c[m] ? s[m].tx_only : -1;
		if (!c[m])
			continue;
		j->ran++;
		if (best < 0 || s[m].gbps > s[best].gbps)
			best = (int)m;
	}
	/* Behaviour groups: each cell joins the first like it. */
	for (unsigned m = 0; m < nmodes; m++) {
		for (unsigned k = 0; c[m] && k <= m && j->group[m] < 0; k++)
			if (k == m || (c[k] && same_behaviour(sw, c[k], &s[k],
							      c[m], &s[m])))
				j->group[m] = (int)k;
	}
	if (best < 0)
		return;
	j->best = c[best];
	j->best_gbps = s[best].gbps;
	j->best_min = s[best].gbps_min;
	/* The competition: every cell that behaves otherwise than the best. */
	for (unsigned m = 0; m < nmodes; m++) {
		if (!c[m] || j->group[m] == j->group[best])
			continue;
		if (next < 0 || s[m].gbps > s[next].gbps)
			next = (int)m;
		if (s[m].gbps_max > others_max)
			others_max = s[m].gbps_max;
		few_runs |= c[m]->nruns < 2;
	}
	if (j->ran == 1) {
		j->decision = BENCH_ONLY_MODE;
		return;
	}
	j->decision = BENCH_WITHIN_NOISE;
	if (next < 0)
		return; /* every mode behaved the same */
	j->next = c[next];
	j->next_gbps = s[next].gbps;
	j->next_max = others_max;
	few_runs |= c[best]->nruns < 2;
	/* The winner's slowest run beats every other mode's fastest one. */
	if (!few_runs && s[best].gbps_min > others_max)
		j->decision = BENCH_WINNER;
}

/* "; same behaviour: auto = copy (every send by copy)" for each group of
 * more than one mode. */
static void groups_str(const struct bench_sweep *sw,
		       const struct bench_judgement *j, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (unsigned g = 0; g < sw->opts->nmodes && n < len; g++) {
		const char *sep = "";
		int members = 0;

		for (unsigned m = 0; m < sw->opts->nmodes; m++)
			members += j->group[m] == (int)g;
		if (members < 2)
			continue;
		n += (size_t)snprintf(buf + n, len - n, "; same behaviour: ");
		for (unsigned m = 0; m < sw->opts->nmodes && n < len; m++) {
			if (j->group[m] != (int)g)
				continue;
			n += (size_t)snprintf(buf + n, len - n, "%s%s", sep,
					      sw->opts->modes[m].name);
			sep = " = ";
		}
		if (n < len)
			n += (size_t)snprintf(buf + n, len - n,
					      " (every send by %s)",
					      zc_tx_mode_name(j->tx_only[g]));
	}
}

void bench_verdict(const struct bench_sweep *sw, unsigned size, char *buf,
		   size_t len)
{
	struct bench_judgement j;
	char zc[200], groups[256];

	bench_judge(sw, size, &j);
	zc_outcome(sw, size, zc, sizeof(zc));
	groups_str(sw, &j, groups, sizeof(groups));
	switch (j.decision) {
	case BENCH_NO_MODE:
		snprintf(buf, len, "no mode ran");
		break;
	case BENCH_ONLY_MODE:
		snprintf(buf, len, "%s was the only mode (%.2f Gbit/s); %s",
			 j.best->mode->name, j.best_gbps, zc);
		break;
	case BENCH_WINNER:
		snprintf(buf, len,
			 "%s won (%.2f Gbit/s, %.2fx %s; its slowest run "
			 "%.2f beat every other mode's fastest %.2f)%s; %s",
			 j.best->mode->name, j.best_gbps,
			 ratio(j.best_gbps, j.next_gbps), j.next->mode->name,
			 j.best_min, j.next_max, groups, zc);
		break;
	case BENCH_WITHIN_NOISE:
		if (j.next)
			snprintf(buf, len,
				 "no difference within noise (%s %.2f, %s "
				 "%.2f Gbit/s: their ranges overlap%s)%s; %s",
				 j.best->mode->name, j.best_gbps,
				 j.next->mode->name, j.next_gbps,
				 j.best->nruns < 2 || j.next->nruns < 2
					 ? ", one run is no range"
					 : "",
				 groups, zc);
		else
			snprintf(buf, len,
				 "no difference within noise: every mode "
				 "behaved the same%s; %s",
				 groups, zc);
		break;
	}
}

void bench_print_table(const struct bench_sweep *sw)
{
	const struct bench_opts *o = sw->opts;
	char sz[16], v[512];

	print_header(sw);
	for (unsigned s = 0; s < o->nsizes; s++)
		for (unsigned m = 0; m < o->nmodes; m++)
			print_row(o, cell_at(sw, s, m));
	printf("\nverdict:\n");
	for (unsigned s = 0; s < o->nsizes; s++) {
		bench_verdict(sw, s, v, sizeof(v));
		printf("%6s  %s\n", bench_size_str(o->sizes[s], sz, sizeof(sz)),
		       v);
	}
	printf("\nA mode wins only if its slowest run beat every other mode's "
	       "fastest run;\nmodes whose sends all took one transport "
	       "behave the same and do not compete.\n"
	       "Gbit/s: what the receiver got, by its clock (first byte to "
	       "last).  CPU s/GB: CPU\nseconds per GB of each end "
	       "(getrusage per stream thread).  sent zero-copy: bytes\nthe "
	       "kernel sent from the application's pages; copied after all: "
	       "bytes sent\nwith zero-copy asked that the kernel copied; "
	       "received mapped: bytes received\nby page mapping.  %s\n"
	       "auto: under a row with an auto end, the path it used at the "
	       "end of the last run\nand why (cheaper: measured; small: "
	       "below the zero-copy threshold; kernel:\ncopied after all or "
	       "too little mapped; measuring, probing), and the median\nCPU "
	       "s/GB it measured on each path (copy; zc: sent zero-copy; "
	       "mapped).\n",
	       o->udp ? "lost: datagrams sent that never arrived."
		      : "retrans: TCP segments sent again, all runs "
			"(tcpi_total_retrans).");
}

/* ---- CSV ------------------------------------------------------------------ */

void bench_print_csv(const struct bench_sweep *sw)
{
	char err[160];

	printf("size,mode,tx,rx,available,gbps,gbps_min,gbps_max,"
	       "tx_cpu_s_per_gb,rx_cpu_s_per_gb,bytes_sent,bytes_received,"
	       "sends,completions,zerocopy_share,copied_after_all_share,"
	       "fallbacks,rx_mapped_share,error,retransmits,lost_share,"
	       "reverse,tx_auto,tx_auto_why,tx_cost_copy,tx_cost_zc,rx_auto,"
	       "rx_auto_why,rx_cost_copy,rx_cost_mapped\n");
	for (unsigned i = 0; i < sw->ncells; i++) {
		const struct bench_cell *c = &sw->cells[i];
		struct bench_summary s;

		bench_summarize(c, &s);
		printf("%u,%s,%s,%s,%d,%.4f,%.4f,%.4f,%.5f,%.5f,%llu,%llu,"
		       "%llu,%llu,%.4f,%.4f,%llu,%.4f,\"%s\",",
		       c->size, c->mode->name, zc_tx_mode_name(c->mode->tx),
		       zc_rx_mode_name(c->mode->rx), !c->unavailable, s.gbps,
		       s.gbps_min, s.gbps_max, s.tx_cpu_per_gb, s.rx_cpu_per_gb,
		       (unsigned long long)s.sent,
		       (unsigned long long)s.received,
		       (unsigned long long)s.sends,
		       (unsigned long long)s.completions, s.zc_share,
		       s.kernel_copied_share, (unsigned long long)s.fallbacks,
		       s.rx_mapped_share,
		       c->error ? bench_cell_error(c, err, sizeof(err)) : "");
		if (sw->opts->udp)
			printf(",%.4f,", s.lost_share);
		else
			printf("%llu,,", (unsigned long long)s.retrans);
		printf("%d,%s,%s,%.5f,%.5f,%s,%s,%.5f,%.5f\n",
		       sw->opts->reverse, bench_auto_path(&s.tx_auto, true),
		       bench_why_name(s.tx_auto.why), s.tx_auto.cost_copy,
		       s.tx_auto.cost_zc, bench_auto_path(&s.rx_auto, false),
		       bench_why_name(s.rx_auto.why), s.rx_auto.cost_copy,
		       s.rx_auto.cost_zc);
	}
}

/* ---- interval lines (-i) --------------------------------------------------- */

/* "1.23 GBytes", "456.7 MBytes": iperf3's Transfer column. */
static const char *transfer_str(uint64_t bytes, char *buf, size_t len)
{
	if (bytes >= (1ull << 30))
		snprintf(buf, len, "%.2f GBytes", (double)bytes / (1 << 30));
	else
		snprintf(buf, len, "%.1f MBytes", (double)bytes / (1 << 20));
	return buf;
}

void bench_print_interval_head(const struct bench_opts *o,
			       const struct bench_cell *c, unsigned run)
{
	char sz[16];

	printf("[%s %s, run %u of %u: %s sends]\n",
	       bench_size_str(c->size, sz, sizeof(sz)), c->mode->name, run + 1,
	       o->repeat, o->reverse ? "the server" : "this end");
	printf("[ ID] Interval           Transfer     Bitrate         %s\n",
	       !o->reverse && !o->udp ? "Retr" : "");
}

static void interval_line(const char *id, double start, double end,
			  uint64_t bytes, int64_t retrans)
{
	char t[32];

	printf("[%s] %6.2f-%-6.2f sec  %12s  %6.2f Gbits/sec", id, start, end,
	       transfer_str(bytes, t, sizeof(t)), gbps(bytes, end - start));
	if (retrans >= 0)
		printf("  %4lld", (long long)retrans);
	printf("\n");
}

void bench_print_interval(const struct bench_opts *o, const struct bench_run *r,
			  unsigned k)
{
	const struct bench_intervals *iv = &r->iv;
	double start = k ? iv->end[k - 1] : 0, end = iv->end[k];
	uint64_t bytes = 0;
	int64_t retrans = -1;
	char id[16];

	for (unsigned i = 0; i < iv->streams; i++) {
		size_t at = (size_t)k * iv->streams + i;

		bytes += iv->bytes[at];
		if (iv->retrans[at] >= 0)
			retrans = (retrans < 0 ? 0 : retrans) + iv->retrans[at];
		if (iv->streams == 1)
			break;
		snprintf(id, sizeof(id), "%3u", i + 1);
		interval_line(id, start, end, iv->bytes[at], iv->retrans[at]);
	}
	interval_line(iv->streams == 1 ? "  1" : "SUM", start, end, bytes,
		      retrans);
	(void)o;
	fflush(stdout);
}
