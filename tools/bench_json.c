/* SPDX-License-Identifier: MIT */
/* zcopy bench: the sweep as JSON (jansson; built only with it). */
#include <errno.h>
#include <stdio.h>
#include <sys/utsname.h>

#include <jansson.h>

#include "bench.h"

/* A count that only TCP has (retransmits) or only UDP (loss): null for
 * the other. */
static json_t *tcp_only(const struct bench_opts *o, uint64_t v)
{
	return o->udp ? json_null() : json_integer((json_int_t)v);
}

static json_t *udp_only(const struct bench_opts *o, double v)
{
	return o->udp ? json_real(v) : json_null();
}

static json_t *stream_json(const struct bench_opts *o,
			   const struct bench_run *r, unsigned i)
{
	const struct zb_side *tx = &r->stx[i], *rx = &r->srx[i];

	return json_pack("{s:i, s:I, s:I, s:f, s:o, s:o, s:f, s:f, s:I, s:I}",
			 "stream", (int)i + 1, "bytes_sent",
			 (json_int_t)tx->bytes, "bytes_received",
			 (json_int_t)rx->bytes, "gbps", bench_stream_gbps(r, i),
			 "retransmits", tcp_only(o, tx->retrans), "lost_share",
			 udp_only(o, bench_lost_share(tx, rx)), "tx_cpu_s",
			 (double)tx->cpu_usec / 1e6, "rx_cpu_s",
			 (double)rx->cpu_usec / 1e6, "sends",
			 (json_int_t)tx->ops, "recvs", (json_int_t)rx->ops);
}

/* iperf3's shape: per interval its streams and their sum, with start,
 * end, seconds, bytes, bits_per_second and (sending TCP) retransmits. */
static json_t *interval_part(double start, double end, uint64_t bytes,
			     int64_t retrans, int stream)
{
	json_t *j =
		json_pack("{s:f, s:f, s:f, s:I, s:f, s:o}", "start", start,
			  "end", end, "seconds", end - start, "bytes",
			  (json_int_t)bytes, "bits_per_second",
			  end > start ? (double)bytes * 8 / (end - start) : 0.0,
			  "retransmits",
			  retrans >= 0 ? json_integer(retrans) : json_null());

	if (j && stream)
		json_object_set_new(j, "stream", json_integer(stream));
	return j;
}

static json_t *intervals_json(const struct bench_run *r)
{
	const struct bench_intervals *iv = &r->iv;
	json_t *all = json_array();

	for (unsigned k = 0; k < iv->n; k++) {
		double start = k ? iv->end[k - 1] : 0, end = iv->end[k];
		json_t *streams = json_array();
		uint64_t bytes = 0;
		int64_t retrans = -1;

		for (unsigned i = 0; i < iv->streams; i++) {
			size_t at = (size_t)k * iv->streams + i;

			bytes += iv->bytes[at];
			if (iv->retrans[at] >= 0)
				retrans = (retrans < 0 ? 0 : retrans) +
					  iv->retrans[at];
			json_array_append_new(
				streams,
				interval_part(start, end, iv->bytes[at],
					      iv->retrans[at], (int)i + 1));
		}
		json_array_append_new(
			all, json_pack("{s:o, s:o}", "streams", streams, "sum",
				       interval_part(start, end, bytes, retrans,
						     0)));
	}
	return all;
}

static json_t *run_json(const struct bench_opts *o, const struct bench_run *r)
{
	json_t *streams = json_array();
	json_t *j;

	for (unsigned i = 0; i < r->streams; i++)
		json_array_append_new(streams, stream_json(o, r, i));
	j = json_pack(
		"{s:f, s:f, s:f, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
		"s:I, s:I, s:I, s:I, s:f, s:f}",
		"elapsed_s", r->elapsed, "receiver_s",
		(double)r->rx_span_usec / 1e6, "gbps", bench_run_gbps(r),
		"bytes_sent", (json_int_t)r->tx.bytes, "bytes_received",
		(json_int_t)r->rx.bytes, "sends", (json_int_t)r->tx.ops,
		"completions", (json_int_t)r->tx.completions, "zerocopy_bytes",
		(json_int_t)r->tx.zc_bytes, "copied_bytes",
		(json_int_t)r->tx.copied_bytes, "copied_after_all_bytes",
		(json_int_t)r->tx.kernel_copied, "fallbacks",
		(json_int_t)r->tx.fallbacks, "send_errors",
		(json_int_t)r->tx.errors, "abandoned",
		(json_int_t)r->tx.abandoned, "recvs", (json_int_t)r->rx.ops,
		"rx_mapped_bytes", (json_int_t)r->rx.rx_mapped,
		"rx_copied_bytes", (json_int_t)r->rx.rx_copied, "tx_cpu_s",
		(double)r->tx.cpu_usec / 1e6, "rx_cpu_s",
		(double)r->rx.cpu_usec / 1e6);
	if (!j)
		return NULL;
	json_object_set_new(j, "retransmits", tcp_only(o, r->tx.retrans));
	json_object_set_new(j, "lost_share",
			    udp_only(o, bench_lost_share(&r->tx, &r->rx)));
	json_object_set_new(j, "datagrams_sent",
			    o->udp ? json_integer((json_int_t)r->tx.packets)
				   : json_null());
	json_object_set_new(j, "datagrams_received",
			    o->udp ? json_integer((json_int_t)r->rx.packets)
				   : json_null());
	json_object_set_new(j, "streams", streams);
	json_object_set_new(j, "intervals", intervals_json(r));
	return j;
}

/* Per stream over the cell's runs: the median of its throughput and its
 * retransmits (or loss) over all runs. */
static json_t *cell_streams_json(const struct bench_opts *o,
				 const struct bench_cell *c)
{
	json_t *all = json_array();

	for (unsigned i = 0; i < o->streams; i++) {
		double rate[BENCH_MAX_REPEAT];
		struct zb_side tx = { 0 }, rx = { 0 };
		unsigned n = 0;

		for (unsigned k = 0; k < c->nruns; k++) {
			if (i >= c->runs[k].streams)
				continue;
			rate[n++] = bench_stream_gbps(&c->runs[k], i);
			bench_side_add(&tx, &c->runs[k].stx[i]);
			bench_side_add(&rx, &c->runs[k].srx[i]);
		}
		json_array_append_new(
			all,
			json_pack("{s:i, s:f, s:o, s:o}", "stream", (int)i + 1,
				  "gbps", bc_median(rate, n), "retransmits",
				  tcp_only(o, tx.retrans), "lost_share",
				  udp_only(o, bench_lost_share(&tx, &rx))));
	}
	return all;
}

/* What auto did at one end; null where that end was pinned. */
static json_t *auto_json(const struct bench_auto *a, bool send)
{
	if (!a->why)
		return json_null();
	return json_pack(
		"{s:s, s:s, s:f, s:f}", "using", bench_auto_path(a, send),
		"why", bench_why_name(a->why), "cost_copy_s_per_gb",
		a->cost_copy,
		send ? "cost_zc_s_per_gb" : "cost_mapped_s_per_gb", a->cost_zc);
}

static json_t *cell_json(const struct bench_opts *o, const struct bench_cell *c)
{
	struct bench_summary s;
	json_t *runs = json_array(), *sends_by = json_object(), *j;
	uint64_t by_tx[ZB_TX_SLOTS] = { 0 };
	char err[160];

	for (unsigned i = 0; i < c->nruns; i++)
		json_array_append_new(runs, run_json(o, &c->runs[i]));
	bench_summarize(c, &s);
	for (int t = 0; t < ZB_TX_SLOTS; t++)
		for (unsigned i = 0; i < c->nruns; i++)
			by_tx[t] += c->runs[i].tx.by_tx[t];
	for (int t = 0; t < ZC_TX_MODE_COUNT && t < ZB_TX_SLOTS; t++)
		if (by_tx[t])
			json_object_set_new(sends_by, zc_tx_mode_name(t),
					    json_integer((json_int_t)by_tx[t]));
	j = json_pack("{s:i, s:s, s:s, s:s, s:b, s:s?, s:f, s:f, s:f, "
		      "s:{s:f, s:f, s:f, s:i}, s:o, s:f, s:f, "
		      "s:I, s:I, s:f, s:f, s:f, s:f, s:o}",
		      "size", (int)c->size, "mode", c->mode->name, "tx",
		      zc_tx_mode_name(c->mode->tx), "rx",
		      zc_rx_mode_name(c->mode->rx), "available",
		      !c->unavailable, "error",
		      c->error ? bench_cell_error(c, err, sizeof(err)) : NULL,
		      "gbps", s.gbps, "gbps_min", s.gbps_min, "gbps_max",
		      s.gbps_max, "spread", "min", s.gbps_min, "max",
		      s.gbps_max, "median", s.gbps, "runs", (int)c->nruns,
		      "sends_by_transport", sends_by, "tx_cpu_s_per_gb",
		      s.tx_cpu_per_gb, "rx_cpu_s_per_gb", s.rx_cpu_per_gb,
		      "bytes_sent", (json_int_t)s.sent, "bytes_received",
		      (json_int_t)s.received, "zerocopy_share", s.zc_share,
		      "copied_share", s.copied_share, "copied_after_all_share",
		      s.kernel_copied_share, "rx_mapped_share",
		      s.rx_mapped_share, "runs", runs);
	if (!j)
		return NULL;
	json_object_set_new(j, "retransmits", tcp_only(o, s.retrans));
	json_object_set_new(j, "lost_share", udp_only(o, s.lost_share));
	json_object_set_new(j, "streams", cell_streams_json(o, c));
	json_object_set_new(j, "auto",
			    json_pack("{s:o, s:o}", "sender",
				      auto_json(&s.tx_auto, true), "receiver",
				      auto_json(&s.rx_auto, false)));
	return j;
}

static const char *const decision_names[] = {
	[BENCH_NO_MODE] = "none",
	[BENCH_ONLY_MODE] = "only_mode",
	[BENCH_WITHIN_NOISE] = "within_noise",
	[BENCH_WINNER] = "winner",
};

/* Groups of more than one mode that behave the same: their names. */
static json_t *groups_json(const struct bench_sweep *sw,
			   const struct bench_judgement *j)
{
	json_t *groups = json_array();

	for (unsigned g = 0; g < sw->opts->nmodes; g++) {
		json_t *names = json_array();

		for (unsigned m = 0; m < sw->opts->nmodes; m++)
			if (j->group[m] == (int)g)
				json_array_append_new(
					names,
					json_string(sw->opts->modes[m].name));
		if (json_array_size(names) < 2) {
			json_decref(names);
			continue;
		}
		json_array_append_new(
			groups,
			json_pack("{s:o, s:s}", "modes", names, "every_send_by",
				  zc_tx_mode_name(j->tx_only[g])));
	}
	return groups;
}

/* The verdict at one size, for machines: the decision and its numbers. */
static json_t *verdict_json(const struct bench_sweep *sw, unsigned size)
{
	struct bench_judgement j;
	char v[512];

	bench_judge(sw, size, &j);
	bench_verdict(sw, size, v, sizeof(v));
	return json_pack(
		"{s:i, s:s, s:s, s:s, s:s?, s:s?, s:o, s:o, s:o, s:o, s:o}",
		"size", (int)sw->opts->sizes[size], "verdict", v, "decision",
		decision_names[j.decision], "rule",
		"a mode wins only if its slowest run beat the fastest run of "
		"every mode that behaves otherwise",
		"winner",
		j.decision == BENCH_WINNER ? j.best->mode->name : NULL,
		"fastest_median", j.best ? j.best->mode->name : NULL,
		"runner_up",
		j.next ? json_string(j.next->mode->name) : json_null(), "ratio",
		j.next ? json_real(j.next_gbps > 0 ? j.best_gbps / j.next_gbps
						   : 0)
		       : json_null(),
		"best_min_gbps", j.best ? json_real(j.best_min) : json_null(),
		"others_max_gbps", j.next ? json_real(j.next_max) : json_null(),
		"same_behaviour", groups_json(sw, &j));
}

int bench_print_json(const struct bench_sweep *sw)
{
	const struct bench_opts *o = sw->opts;
	json_t *cells = json_array(), *verdicts = json_array(), *root;
	struct utsname u;
	int ret;

	uname(&u);
	for (unsigned i = 0; i < sw->ncells; i++)
		json_array_append_new(cells, cell_json(o, &sw->cells[i]));
	for (unsigned s = 0; s < o->nsizes; s++)
		json_array_append_new(verdicts, verdict_json(sw, s));
	root = json_pack(
		"{s:s, s:s, s:s, s:s, s:s, s:i, s:f, s:i, s:b, s:b, "
		"s:o, s:o, s:o, s:o}",
		"zcopy_version", zc_version_string(), "kernel", u.release,
		"hostname", u.nodename, "protocol", o->udp ? "udp" : "tcp",
		"host", o->host, "streams", (int)o->streams, "run_seconds",
		sw->duration, "repeat", (int)o->repeat, "read", o->read,
		"reverse", o->reverse, "bitrate_bps",
		o->rate ? json_integer((json_int_t)o->rate) : json_null(),
		"interval_s",
		o->interval > 0 ? json_real(o->interval) : json_null(), "cells",
		cells, "verdicts", verdicts);
	if (!root)
		return -ENOMEM;
	ret = json_dumpf(root, stdout, JSON_INDENT(2));
	putchar('\n');
	json_decref(root);
	return ret ? -EIO : 0;
}
