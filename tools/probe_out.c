/* SPDX-License-Identifier: MIT */
/* zcopy probe: the report as a table (JSON: probe_json.c). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "probe.h"

const char *probe_errname(int err)
{
	const char *name = strerrorname_np(err);

	return name ? name : "unknown";
}

double probe_share(const struct probe_result *r)
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
	       l->uring_err ? probe_errname(l->uring_err) : "available");
	if (l->uring_disabled >= 0)
		printf(" (io_uring_disabled=%ld)", l->uring_disabled);
	printf("\n\n");
}

static void print_result(const struct probe_result *r)
{
	double s = probe_share(r);

	printf("%-24s %-6s ", r->name, r->path);
	if (r->err) {
		printf("no: %s (%s)\n", probe_errname(r->err),
		       strerror(r->err));
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
				 probe_errname(n->rings_err));
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
