/* SPDX-License-Identifier: MIT */
/*
 * Built instead of probe_json.c and bench_json.c when jansson is missing
 * (meson -Djson=disabled or not found): the option parsers refuse --json
 * first, so these only keep the link whole.
 */
#include <errno.h>

#include "bench.h"
#include "probe.h"

int probe_print_json(const struct probe_report *rep)
{
	(void)rep;
	return -EOPNOTSUPP;
}

int bench_print_json(const struct bench_sweep *sweep)
{
	(void)sweep;
	return -EOPNOTSUPP;
}
