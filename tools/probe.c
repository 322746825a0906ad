/* SPDX-License-Identifier: MIT */
/*
 * zcopy probe: what zero-copy really does on this machine.  Every
 * mechanism is tried for real on loopback (and, with --netns, on a veth
 * pair between two namespaces created and removed here); the report says
 * whether it works (with the exact errno), whether the kernel copied after
 * all, and the limits that decide it.  --to HOST tries the real route to a
 * peer instead (probe_to.c).
 */
#include <errno.h>
#include <getopt.h>
#include <liburing.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "cli.h"
#include "probe.h"

#define LOOPBACK_MSS 4108 /* 4096 payload + 12 bytes of TCP timestamps */
#define TO_TIMEOUT_MS 5000
#define BENCH_PORT 5301 /* zcopy bench server's */

enum { OPT_TO = 256, OPT_UDP_SINK };

struct probe_opts {
	bool json;
	bool netns;
	const char *ifname;
	bool to_given;
	struct probe_to to;
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: zcopy probe [--json] [--netns] [--ifname IF]\n"
		"       zcopy probe --to HOST[:PORT] [--udp-sink] [--json]\n"
		"Try every zero-copy mechanism for real and report what "
		"works,\n"
		"whether the kernel copied after all, and the limits.\n\n"
		"  -j, --json        print JSON instead of a table\n"
		"  -n, --netns       also probe a veth pair between two new\n"
		"                    network namespaces (needs root)\n"
		"  -i, --ifname IF   also try zcrx and ring parameters on IF\n"
		"      --to HOST[:PORT]\n"
		"                    instead: send MSG_ZEROCOPY and SEND_ZC "
		"messages over the\n"
		"                    route to a zcopy bench server (port "
		"%d), and say what\n"
		"                    the kernel did, the interface and its "
		"driver\n"
		"      --udp-sink    with --to: PORT is any UDP sink, not a "
		"bench server\n"
		"  -h, --help        show this help\n\n"
		"Exit status: 0 probe done, 1 setup failed or peer "
		"unreachable, 2 bad usage.\n",
		BENCH_PORT);
}

static int parse_to(const char *arg, struct probe_opts *o)
{
	int ret = probe_to_parse(arg, &o->to);

	if (ret)
		fprintf(stderr, "zcopy probe: --to: bad %s: '%s'\n",
			ret == -ERANGE ? "port (1 to 65535)" : "host", arg);
	o->to_given = !ret;
	return ret;
}

/* --to probes one route, the others this machine's paths. */
static int check_to(const struct probe_opts *o)
{
	const char *with = o->netns ? "--netns" : o->ifname ? "--ifname" : NULL;

	if (o->to.udp_sink && !o->to_given) {
		fprintf(stderr, "zcopy probe: --udp-sink goes with --to: "
				"'--udp-sink'\n");
		return -1;
	}
	if (o->to_given && with) {
		fprintf(stderr,
			"zcopy probe: --to probes one route, not with "
			"--netns or --ifname: '%s'\n",
			with);
		return -1;
	}
	return 0;
}

static int parse(int argc, char **argv, struct probe_opts *o)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "netns", no_argument, NULL, 'n' },
		{ "ifname", required_argument, NULL, 'i' },
		{ "to", required_argument, NULL, OPT_TO },
		{ "udp-sink", no_argument, NULL, OPT_UDP_SINK },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 0; /* argv[0] is "probe"; getopt starts after it */
	while ((c = getopt_long(argc, argv, "jni:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			if (!ZC_CLI_HAVE_JSON) {
				fprintf(stderr, "zcopy probe: %s: '--json'\n",
					ZC_CLI_NO_JSON);
				return -1;
			}
			o->json = true;
			break;
		case 'n':
			o->netns = true;
			break;
		case 'i':
			o->ifname = optarg;
			break;
		case OPT_TO:
			if (parse_to(optarg, o))
				return -1;
			break;
		case OPT_UDP_SINK:
			o->to.udp_sink = true;
			break;
		case 'h':
			usage(stdout);
			exit(ZC_EXIT_OK);
		default:
			fprintf(stderr, "Try 'zcopy probe --help'.\n");
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "zcopy probe: unexpected argument '%s'\n",
			argv[optind]);
		return -1;
	}
	if (o->ifname && !if_nametoindex(o->ifname)) {
		fprintf(stderr, "zcopy probe: no such interface: '%s'\n",
			o->ifname);
		return -1;
	}
	return check_to(o);
}

/* The number at the start of FILE (a sysctl), or -1 if there is none. */
static long read_long(const char *file)
{
	FILE *f = fopen(file, "r");
	char line[32];
	char *end;
	long v = -1;

	if (!f)
		return -1;
	if (fgets(line, sizeof(line), f)) {
		errno = 0;
		v = strtol(line, &end, 10);
		if (end == line || errno)
			v = -1;
	}
	fclose(f);
	return v;
}

static long long rlim_value(rlim_t v)
{
	return v == RLIM_INFINITY ? -1 : (long long)v;
}

static void probe_limits(struct probe_limits *l)
{
	struct io_uring ring;
	struct utsname u;
	struct rlimit rl;

	if (!uname(&u))
		snprintf(l->kernel, sizeof(l->kernel), "%s", u.release);
	l->optmem_max = read_long("/proc/sys/net/core/optmem_max");
	l->memlock_cur = l->memlock_max = -1;
	if (!getrlimit(RLIMIT_MEMLOCK, &rl)) {
		l->memlock_cur = rlim_value(rl.rlim_cur);
		l->memlock_max = rlim_value(rl.rlim_max);
	}
	l->uring_disabled = read_long("/proc/sys/kernel/io_uring_disabled");
	l->uring_err = -io_uring_queue_init(1, &ring, 0);
	if (!l->uring_err)
		io_uring_queue_exit(&ring);
	l->euid = (unsigned)geteuid();
}

static struct probe_result *next(struct probe_report *rep)
{
	return &rep->res[rep->nres++];
}

/* zcrx and the ethtool view of the path's interface. */
static void probe_iface(struct probe_report *rep, const struct probe_path *path)
{
	probe_zcrx(path, next(rep));
	probe_devmem(path, next(rep));
	probe_nic(path, &rep->nic[rep->nnic++]);
}

static void probe_path_all(struct probe_report *rep,
			   const struct probe_path *path)
{
	probe_msgzc(path, SOCK_STREAM, next(rep));
	probe_msgzc(path, SOCK_DGRAM, next(rep));
	probe_lib_msgzc(path, false, next(rep));
	probe_lib_msgzc(path, true, next(rep));
	probe_uring_send_zc(path, false, next(rep));
	probe_uring_send_zc(path, true, next(rep));
	probe_uring_buf_ring(path, next(rep));
	probe_tcp_zc_receive(path, LOOPBACK_MSS, next(rep));
	probe_tcp_zc_receive(path, 0, next(rep));
	probe_iface(rep, path);
}

static int probe_run(struct probe_opts *o, struct probe_report *rep)
{
	struct probe_path lo = { .name = "lo",
				 .ifname = "lo",
				 .ns_fd = { -1, -1 },
				 .addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct probe_path veth;
	int ret;

	probe_limits(&rep->limits);
	if (o->to_given) {
		rep->to = &o->to;
		return probe_to_run(&o->to, TO_TIMEOUT_MS, rep);
	}
	probe_path_all(rep, &lo);
	probe_zcrx_nodev(&lo, next(rep));
	if (o->ifname) {
		struct probe_path nic = { .name = o->ifname,
					  .ifname = o->ifname,
					  .ns_fd = { -1, -1 } };

		probe_iface(rep, &nic);
	}
	if (!o->netns)
		return 0;
	ret = probe_veth_setup(&veth);
	if (ret) {
		fprintf(stderr,
			"zcopy probe: cannot set up the veth namespaces "
			"(needs root and ip(8)): %s\n",
			strerror(-ret));
		return ret;
	}
	probe_path_all(rep, &veth);
	probe_veth_teardown(&veth);
	return 0;
}

int zc_cmd_probe(int argc, char **argv)
{
	struct probe_opts o = { .to.port = BENCH_PORT };
	struct probe_report *rep;
	int ret;

	if (parse(argc, argv, &o))
		return ZC_EXIT_USAGE;
	rep = calloc(1, sizeof(*rep));
	if (!rep) {
		fprintf(stderr, "zcopy probe: out of memory\n");
		return ZC_EXIT_FAIL;
	}
	ret = probe_run(&o, rep);
	if (!ret && o.json)
		ret = probe_print_json(rep);
	else if (!ret)
		probe_print_table(rep);
	free(rep);
	return ret ? ZC_EXIT_FAIL : ZC_EXIT_OK;
}
