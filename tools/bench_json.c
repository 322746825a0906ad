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
	json_t *runs = json_array();
	char err[160];

	for (unsigned i = 0; i < c->nruns; i++)
		json_array_append_new(runs, run_json(&c->runs[i]));
	bench_summarize(c, &s);
	return json_pack(
		"{s:i, s:s, s:s, s:s, s:b, s:s?, s:f, s:f, s:f, s:f, s:f, "
		"s:I, s:I, s:f, s:f, s:f, s:f, s:o}",
		"size", (int)c->size, "mode", c->mode->name, "tx",
		zc_tx_mode_name(c->mode->tx), "rx",
		zc_rx_mode_name(c->mode->rx), "available", !c->unavailable,
		"error",
		c->error ? bench_cell_error(c, err, sizeof(err)) : NULL, "gbps",
		s.gbps, "gbps_min", s.gbps_min, "gbps_max", s.gbps_max,
		"tx_cpu_s_per_gb", s.tx_cpu_per_gb, "rx_cpu_s_per_gb",
		s.rx_cpu_per_gb, "bytes_sent", (json_int_t)s.sent,
		"bytes_received", (json_int_t)s.received, "zerocopy_share",
		s.zc_share, "copied_share", s.copied_share,
		"copied_after_all_share", s.kernel_copied_share,
		"rx_mapped_share", s.rx_mapped_share, "runs", runs);
}

int bench_print_json(const struct bench_sweep *sw)
{
	const struct bench_opts *o = sw->opts;
	json_t *cells = json_array(), *verdicts = json_array(), *root;
	struct utsname u;
	char v[256];
	int ret;

	uname(&u);
	for (unsigned i = 0; i < sw->ncells; i++)
		json_array_append_new(cells, cell_json(&sw->cells[i]));
	for (unsigned s = 0; s < o->nsizes; s++) {
		bench_verdict(sw, s, v, sizeof(v));
		json_array_append_new(verdicts, json_pack("{s:i, s:s}", "size",
							  (int)o->sizes[s],
							  "verdict", v));
	}
	root = json_pack("{s:s, s:s, s:s, s:s, s:i, s:f, s:i, s:b, s:o, s:o}",
			 "zcopy_version", "0.1.0", "kernel", u.release,
			 "protocol", o->udp ? "udp" : "tcp", "host", o->host,
			 "streams", (int)o->streams, "run_seconds",
			 sw->duration, "repeat", (int)o->repeat, "read",
			 o->read, "cells", cells, "verdicts", verdicts);
	if (!root)
		return -ENOMEM;
	ret = json_dumpf(root, stdout, JSON_INDENT(2));
	putchar('\n');
	json_decref(root);
	return ret ? -EIO : 0;
}
