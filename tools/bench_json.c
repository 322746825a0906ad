/* SPDX-License-Identifier: MIT */
/* zcopy bench: the sweep as JSON (jansson; built only with it). */
#include <errno.h>
#include <stdio.h>
#include <sys/utsname.h>

#include <jansson.h>

#include "bench.h"

static json_t *run_json(const struct bench_run *r)
{
	return json_pack(
		"{s:f, s:f, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
		"s:I, s:I, s:I, s:f, s:f}",
		"elapsed_s", r->elapsed, "gbps", bench_run_gbps(r),
		"bytes_sent", (json_int_t)r->tx.bytes, "bytes_received",
		(json_int_t)r->rx.bytes, "sends", (json_int_t)r->tx.sends,
		"completions", (json_int_t)r->tx.completions, "zerocopy_bytes",
		(json_int_t)r->tx.zc_bytes, "copied_bytes",
		(json_int_t)r->tx.copied_bytes, "copied_after_all_bytes",
		(json_int_t)r->tx.kernel_copied, "fallbacks",
		(json_int_t)r->tx.fallbacks, "send_errors",
		(json_int_t)r->tx.errors, "abandoned",
		(json_int_t)r->tx.abandoned, "recvs", (json_int_t)r->rx.recvs,
		"rx_mapped_bytes", (json_int_t)r->rx.rx_mapped,
		"rx_copied_bytes", (json_int_t)r->rx.rx_copied, "tx_cpu_s",
		(double)r->tx.cpu_usec / 1e6, "rx_cpu_s",
		(double)r->rx.cpu_usec / 1e6);
}

static json_t *cell_json(const struct bench_cell *c)
{
	struct bench_summary s;
	json_t *runs = json_array(), *sends_by = json_object();
	uint64_t by_tx[ZC_TX_MODE_COUNT] = { 0 };
	char err[160];

	for (unsigned i = 0; i < c->nruns; i++)
		json_array_append_new(runs, run_json(&c->runs[i]));
	bench_summarize(c, &s);
	for (int t = 0; t < ZC_TX_MODE_COUNT; t++)
		for (unsigned i = 0; i < c->nruns; i++)
			by_tx[t] += c->runs[i].tx.by_tx[t];
	for (int t = 0; t < ZC_TX_MODE_COUNT; t++)
		if (by_tx[t])
			json_object_set_new(sends_by, zc_tx_mode_name(t),
					    json_integer((json_int_t)by_tx[t]));
	return json_pack(
		"{s:i, s:s, s:s, s:s, s:b, s:s?, s:f, s:f, s:f, "
		"s:{s:f, s:f, s:f, s:i}, s:o, s:f, s:f, "
		"s:I, s:I, s:f, s:f, s:f, s:f, s:o}",
		"size", (int)c->size, "mode", c->mode->name, "tx",
		zc_tx_mode_name(c->mode->tx), "rx",
		zc_rx_mode_name(c->mode->rx), "available", !c->unavailable,
		"error",
		c->error ? bench_cell_error(c, err, sizeof(err)) : NULL, "gbps",
		s.gbps, "gbps_min", s.gbps_min, "gbps_max", s.gbps_max,
		"spread", "min", s.gbps_min, "max", s.gbps_max, "median",
		s.gbps, "runs", (int)c->nruns, "sends_by_transport", sends_by,
		"tx_cpu_s_per_gb", s.tx_cpu_per_gb, "rx_cpu_s_per_gb",
		s.rx_cpu_per_gb, "bytes_sent", (json_int_t)s.sent,
		"bytes_received", (json_int_t)s.received, "zerocopy_share",
		s.zc_share, "copied_share", s.copied_share,
		"copied_after_all_share", s.kernel_copied_share,
		"rx_mapped_share", s.rx_mapped_share, "runs", runs);
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
		json_array_append_new(cells, cell_json(&sw->cells[i]));
	for (unsigned s = 0; s < o->nsizes; s++)
		json_array_append_new(verdicts, verdict_json(sw, s));
	root = json_pack("{s:s, s:s, s:s, s:s, s:i, s:f, s:i, s:b, s:o, s:o}",
			 "zcopy_version", zc_version_string(), "kernel",
			 u.release, "protocol", o->udp ? "udp" : "tcp", "host",
			 o->host, "streams", (int)o->streams, "run_seconds",
			 sw->duration, "repeat", (int)o->repeat, "read",
			 o->read, "cells", cells, "verdicts", verdicts);
	if (!root)
		return -ENOMEM;
	ret = json_dumpf(root, stdout, JSON_INDENT(2));
	putchar('\n');
	json_decref(root);
	return ret ? -EIO : 0;
}
