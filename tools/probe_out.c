/* SPDX-License-Identifier: MIT */
/* zcopy probe: the report as a table or as JSON (jansson). */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "probe.h"

static const char *errname(int err)
{
	const char *name = strerrorname_np(err);

	return name ? name : "unknown";
}

/* Percent of the bytes or reports that went zero-copy; -1 if none. */
static double share(const struct probe_result *r)
{
	uint64_t all = r->zerocopy + r->copied;

	return all ? 100.0 * (double)r->zerocopy / (double)all : -1;
}

static void print_memlock(const char *what, long long v)
{
	if (v < 0)
		printf("%s unlimited", what);
	else
		printf("%s %lld KiB", what, v / 1024);
}

static void print_limits(const struct probe_limits *l)
{
	printf("kernel %s, euid %u, optmem_max %ld, ", l->kernel, l->euid,
	       l->optmem_max);
	print_memlock("RLIMIT_MEMLOCK", l->memlock_cur);
	print_memlock(" (hard", l->memlock_max);
	printf("), io_uring %s",
	       l->uring_err ? errname(l->uring_err) : "available");
	if (l->uring_disabled >= 0)
		printf(" (io_uring_disabled=%ld)", l->uring_disabled);
	printf("\n\n");
}

static void print_result(const struct probe_result *r)
{
	double s = share(r);

	printf("%-24s %-6s ", r->name, r->path);
	if (r->err) {
		printf("no: %s (%s)\n", errname(r->err), strerror(r->err));
		return;
	}
	printf("%-5s %-9s ", "yes", r->result ? r->result : "-");
	if (s >= 0)
		printf("%5.1f%% ", s);
	else
		printf("%6s ", "-");
	printf("%s\n", r->detail);
}

static void print_hints(const struct probe_report *rep)
{
	bool any = false;

	for (int i = 0; i < rep->nres; i++) {
		const char *h = rep->res[i].hint;
		bool seen = false;

		for (int j = 0; j < i && !seen; j++)
			seen = rep->res[j].hint == h;
		if (!h || seen)
			continue;
		if (!any)
			printf("\nhints:\n");
		any = true;
		printf("  - %s\n    (", h);
		for (int j = i; j < rep->nres; j++)
			if (rep->res[j].hint == h)
				printf("%s%s/%s", j == i ? "" : ", ",
				       rep->res[j].name, rep->res[j].path);
		printf(")\n");
	}
}

static void print_nics(const struct probe_report *rep)
{
	printf("\n%-16s %-6s %-28s %s\n", "interface", "path",
	       "ring params (ethtool ioctl)", "header split");
	for (int i = 0; i < rep->nnic; i++) {
		const struct probe_nic *n = &rep->nic[i];
		char rings[40];

		if (n->rings_err)
			snprintf(rings, sizeof(rings), "no: %s",
				 errname(n->rings_err));
		else
			snprintf(rings, sizeof(rings), "rx %u of max %u", n->rx,
				 n->rx_max);
		printf("%-16s %-6s %-28s %s\n", n->ifname, n->path, rings,
		       n->rings_err ? "unsupported" : "see ethtool -g");
	}
}

void probe_print_table(const struct probe_report *rep)
{
	print_limits(&rep->limits);
	printf("%-24s %-6s %-5s %-9s %6s %s\n", "mechanism", "path", "works",
	       "result", "zc", "detail");
	for (int i = 0; i < rep->nres; i++)
		print_result(&rep->res[i]);
	print_nics(rep);
	print_hints(rep);
}

/* ---- JSON -------------------------------------------------------------- */

static json_t *json_errno(int err)
{
	return err ? json_string(errname(err)) : json_null();
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
	double s = share(r);

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

int probe_print_json(const struct probe_report *rep)
{
	json_t *mech = json_array(), *nics = json_array(), *root;
	int ret;

	for (int i = 0; i < rep->nres; i++)
		json_array_append_new(mech, json_result(&rep->res[i]));
	for (int i = 0; i < rep->nnic; i++)
		json_array_append_new(nics, json_nic(&rep->nic[i]));
	root = json_pack("{s:o, s:o, s:o}", "limits", json_limits(&rep->limits),
			 "mechanisms", mech, "interfaces", nics);
	if (!root) {
		fprintf(stderr, "zcopy probe: cannot build the JSON report\n");
		return -ENOMEM;
	}
	ret = json_dumpf(root, stdout, JSON_INDENT(2)) ? -EIO : 0;
	putchar('\n');
	json_decref(root);
	return ret;
}
