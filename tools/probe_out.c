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

/* The path column: as wide as its longest entry (an interface name, with
 * --to), at least 6. */
static int path_width(const struct probe_report *rep)
{
	int w = 6;

	for (int i = 0; i < rep->nres; i++)
		if ((int)strlen(rep->res[i].path) > w)
			w = (int)strlen(rep->res[i].path);
	return w;
}

static void print_result(const struct probe_result *r, int pw)
{
	double s = probe_share(r);

	printf("%-24s %-*s ", r->name, pw, r->path);
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

/* --to: where the messages went. */
static void print_route(const struct probe_to *to)
{
	printf("to %s port %u (%s, address %s), from %s\n", to->host, to->port,
	       to->udp_sink ? "a UDP sink" : "a zcopy bench server",
	       to->address[0] ? to->address : "?",
	       to->source[0] ? to->source : "?");
	if (to->route_err)
		printf("route: unknown (%s)\n", probe_errname(to->route_err));
	else
		printf("route: via %s, driver %s\n", to->ifname,
		       to->driver[0] ? to->driver
				     : "none (a virtual device: loopback)");
	printf("\n");
}

void probe_print_table(const struct probe_report *rep)
{
	int pw = path_width(rep);

	print_limits(&rep->limits);
	if (rep->to)
		print_route(rep->to);
	printf("%-24s %-*s %-5s %-9s %6s %s\n", "mechanism", pw, "path",
	       "works", "result", "zc", "detail");
	for (int i = 0; i < rep->nres; i++)
		print_result(&rep->res[i], pw);
	if (rep->nnic)
		print_nics(rep);
	print_hints(rep);
}
