/* SPDX-License-Identifier: MIT */
/* zcopy probe: the report as JSON (jansson; built only with it). */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "probe.h"

static json_t *json_errno(int err)
{
	return err ? json_string(probe_errname(err)) : json_null();
}

static json_t *json_opt_string(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *json_limit(long long v)
{
	return v < 0 ? json_null() : json_integer(v);
}

static json_t *json_limits(const struct probe_limits *l)
{
	return json_pack("{s:s, s:i, s:o, s:o, s:o, s:{s:b, s:o, s:o}}",
			 "kernel", l->kernel, "euid", (json_int_t)l->euid,
			 "optmem_max", json_limit(l->optmem_max),
			 "memlock_soft", json_limit(l->memlock_cur),
			 "memlock_hard", json_limit(l->memlock_max), "io_uring",
			 "available", !l->uring_err, "errno",
			 json_errno(l->uring_err), "io_uring_disabled",
			 json_limit(l->uring_disabled));
}

static json_t *json_result(const struct probe_result *r)
{
	double s = probe_share(r);

	return json_pack(
		"{s:s, s:s, s:b, s:o, s:o, s:o, s:I, s:I, s:s, s:o, s:s, s:o}",
		"name", r->name, "path", r->path, "works", !r->err, "errno",
		json_errno(r->err), "error",
		json_opt_string(r->err ? strerror(r->err) : NULL), "result",
		json_opt_string(r->result), "zerocopy", (json_int_t)r->zerocopy,
		"copied", (json_int_t)r->copied, "unit", r->unit, "share",
		s >= 0 ? json_real(s) : json_null(), "detail", r->detail,
		"hint", json_opt_string(r->hint));
}

static json_t *json_nic(const struct probe_nic *n)
{
	return json_pack("{s:s, s:s, s:{s:b, s:o}, s:s}", "name", n->ifname,
			 "path", n->path, "rings", "supported", !n->rings_err,
			 "errno", json_errno(n->rings_err), "header_split",
			 n->rings_err ? "unsupported" : "unknown");
}

/* --to: the peer and the route to it; null without --to. */
static json_t *json_to(const struct probe_to *to)
{
	if (!to)
		return json_null();
	return json_pack(
		"{s:s, s:i, s:s, s:o, s:o, s:o, s:o, s:o}", "host", to->host,
		"port", (int)to->port, "peer",
		to->udp_sink ? "udp_sink" : "zcopy_bench_server", "address",
		json_opt_string(to->address[0] ? to->address : NULL), "source",
		json_opt_string(to->source[0] ? to->source : NULL), "interface",
		json_opt_string(to->route_err ? NULL : to->ifname), "driver",
		json_opt_string(to->driver[0] ? to->driver : NULL),
		"route_errno", json_errno(to->route_err));
}

int probe_print_json(const struct probe_report *rep)
{
	json_t *mech = json_array(), *nics = json_array(), *root;
	int ret;

	for (int i = 0; i < rep->nres; i++)
		json_array_append_new(mech, json_result(&rep->res[i]));
	for (int i = 0; i < rep->nnic; i++)
		json_array_append_new(nics, json_nic(&rep->nic[i]));
	root = json_pack("{s:o, s:o, s:o, s:o}", "limits",
			 json_limits(&rep->limits), "mechanisms", mech,
			 "interfaces", nics, "to", json_to(rep->to));
	if (!root) {
		fprintf(stderr, "zcopy probe: cannot build the JSON report\n");
		return -ENOMEM;
	}
	ret = json_dumpf(root, stdout, JSON_INDENT(2)) ? -EIO : 0;
	putchar('\n');
	json_decref(root);
	return ret;
}
