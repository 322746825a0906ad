/* SPDX-License-Identifier: MIT */
/*
 * zcopy bench: throughput of every zcopy transport, iperf3 style.
 *   zcopy bench server            serve clients
 *   zcopy bench client HOST       run the sweep against a server
 *   zcopy bench                   both, on loopback (see DEFAULT_TIME_S)
 * Exit status: 0 success, 1 failure, 2 bad usage.
 */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"
#include "cli.h"

#define EXIT_USAGE 2
/* A run of a second, three per cell: long enough that a run is not one
 * scheduler hiccup, and three give a median and a range.  The no-argument
 * sweep (8 modes, 6 sizes) then takes about 2 1/2 minutes: 147 s measured
 * on a 2-vCPU VM (README, zcopy-bench(1)).  Shorter runs varied by 20 to
 * 45% from run to run here, runs of a second by under 10%. */
#define DEFAULT_TIME_S 1.0
#define DEFAULT_REPEAT 3
#define DEFAULT_TIMEOUT_MS 5000
#define MIN_INTERVAL_S 0.1
/* The largest UDP payload: 65535 less the IPv4 and UDP headers (IPv6 has
 * no header in its payload length: 65527). */
#define UDP_MAX_MSG 65507
#define UDP6_MAX_MSG 65527

enum {
	OPT_SERVER_CPU = 256,
	OPT_READ,
	OPT_CSV,
	OPT_PLOT,
	OPT_BUDGET,
	OPT_TIMEOUT,
};

static const struct option long_opts[] = {
	{ "port", required_argument, NULL, 'p' },
	{ "udp", no_argument, NULL, 'u' },
	{ "ipv4", no_argument, NULL, '4' },
	{ "ipv6", no_argument, NULL, '6' },
	{ "bind", required_argument, NULL, 'B' },
	{ "mode", required_argument, NULL, 'm' },
	{ "size", required_argument, NULL, 's' },
	{ "length", required_argument, NULL, 'l' }, /* iperf3's name */
	{ "time", required_argument, NULL, 't' },
	{ "repeat", required_argument, NULL, 'r' },
	{ "parallel", required_argument, NULL, 'P' },
	{ "reverse", no_argument, NULL, 'R' },
	{ "bitrate", required_argument, NULL, 'b' },
	{ "interval", required_argument, NULL, 'i' },
	{ "cpu", required_argument, NULL, 'A' },
	{ "affinity", required_argument, NULL, 'A' }, /* iperf3's name */
	{ "server-cpu", required_argument, NULL, OPT_SERVER_CPU },
	{ "read", no_argument, NULL, OPT_READ },
	{ "mss", required_argument, NULL, 'M' },
	{ "set-mss", required_argument, NULL, 'M' }, /* iperf3's name */
	{ "json", no_argument, NULL, 'J' },
	{ "csv", no_argument, NULL, OPT_CSV },
	{ "plot", required_argument, NULL, OPT_PLOT },
	{ "budget", required_argument, NULL, OPT_BUDGET },
	{ "once", no_argument, NULL, '1' },
	{ "one-off", no_argument, NULL, '1' }, /* iperf3's name */
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static const uint32_t tcp_sizes[] = {
	1024, 4096, 16384, 65536, 262144, 1048576
};
static const uint32_t udp_sizes[] = { 1024, 4096, 16384, 32768, 64512 };

static void usage(FILE *f)
{
	fprintf(f,
		"usage: zcopy bench [OPTIONS]              sweep on loopback "
		"(server + client)\n"
		"       zcopy bench server [OPTIONS]       serve clients\n"
		"       zcopy bench client HOST [OPTIONS]  measure against a "
		"server\n\n"
		"  -p, --port N          control port (%d)\n"
		"  -u, --udp             UDP instead of TCP\n"
		"  -4, --ipv4 / -6, --ipv6\n"
		"  -B, --bind ADDR       server: listen address\n"
		"  -m, --mode LIST       modes, comma separated: TX:RX, TX "
		"(TX:auto) or RX\n"
		"                        (msgzc:RX); TX: auto copy msgzc "
		"uring uring-fixed;\n"
		"                        RX: auto copy uring tcpmmap; "
		"default: every mode\n"
		"  -s, -l, --size, --length LIST\n"
		"                        message sizes, e.g. 4K,64K,1M\n"
		"  -t, --time SEC        seconds per run (%.0f)\n"
		"      --budget SEC      instead of -t: fit the whole sweep "
		"in SEC\n"
		"  -r, --repeat N        runs per mode and size (%d); medians "
		"are reported\n"
		"  -P, --parallel N      streams, one thread and context each "
		"(1)\n"
		"  -R, --reverse         the server sends, this end receives\n"
		"  -b, --bitrate RATE    pace each stream to RATE bits/s "
		"(1G = 10^9; 0: no limit)\n"
		"  -i, --interval SEC    interval lines every SEC seconds "
		"(0: none)\n"
		"  -A, --cpu, --affinity LIST\n"
		"                        pin this side's streams, e.g. 0,1 "
		"or 0-3\n"
		"      --server-cpu L    pin the server's streams (local "
		"sweep)\n"
		"      --read            the receiver reads every byte\n"
		"  -M, --mss, --set-mss N\n"
		"                        TCP_MAXSEG for the data connections\n"
		"  -J, --json | --csv    machine-readable output\n"
		"      --plot FILE       draw throughput and CPU/GB (PNG, "
		"gnuplot)\n"
		"  -1, --once, --one-off server: exit after one session\n"
		"      --timeout SEC     connect and control timeout (%d)\n"
		"  -q, --quiet           no progress line, no server log\n",
		BENCH_DEFAULT_PORT, DEFAULT_TIME_S, DEFAULT_REPEAT,
		DEFAULT_TIMEOUT_MS / 1000);
}

static int bad(const char *what, const char *arg)
{
	fprintf(stderr, "zcopy bench: %s: '%s'\n", what, arg);
	return -EINVAL;
}

/* A whole number within [min, max], K/M/G meaning binary multiples (the
 * bench core's parser, as raw_send reads its sizes). */
static int parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	return bc_parse_size(s, min, max, out);
}

static int parse_seconds(const char *s, double max, double *out)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || *end || !(v > 0) || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_sizes(char *list, struct bench_opts *o)
{
	o->nsizes = 0;
	for (char *t = strtok(list, ","); t; t = strtok(NULL, ",")) {
		uint64_t v;

		if (o->nsizes == BENCH_MAX_SIZES ||
		    parse_uint(t, 1, ZB_MAX_MSG, &v))
			return bad("bad message size", t);
		o->size_args[o->nsizes] = t;
		o->sizes[o->nsizes++] = (uint32_t)v;
	}
	return o->nsizes ? 0 : bad("no message size", "");
}

static int parse_cpus(char *list, struct bench_cpus *c)
{
	c->n = 0;
	for (char *t = strtok(list, ","); t; t = strtok(NULL, ",")) {
		uint64_t lo, hi;
		char *dash = strchr(t, '-');

		if (dash)
			*dash = '\0';
		if (parse_uint(t, 0, CPU_SETSIZE - 1, &lo) ||
		    parse_uint(dash ? dash + 1 : t, lo, CPU_SETSIZE - 1, &hi))
			return bad("bad CPU list", t);
		for (uint64_t i = lo; i <= hi; i++) {
			if (c->n == BENCH_MAX_CPUS)
				return bad("too many CPUs", t);
			c->cpu[c->n++] = (int)i;
		}
	}
	return c->n ? 0 : bad("empty CPU list", "");
}

static int tx_by_name(const char *name)
{
	for (int i = 0; i < ZC_TX_MODE_COUNT; i++)
		if (!strcmp(name, zc_tx_mode_name(i)))
			return i;
	return -1;
}

static int rx_by_name(const char *name)
{
	for (int i = 0; i < ZC_RX_MODE_COUNT; i++)
		if (!strcmp(name, zc_rx_mode_name(i)))
			return i;
	return -1;
}

static bool device_mode(int tx, int rx);

static int add_mode(struct bench_opts *o, int tx, int rx)
{
	struct bench_mode *m = &o->modes[o->nmodes];

	if (o->nmodes == BENCH_MAX_MODES)
		return bad("too many modes", "");
	if (device_mode(tx, rx))
		return bad("device modes need an interface and a queue (see "
			   "zcopy probe -i IF)",
			   device_mode(tx, ZC_RX_AUTO) ? zc_tx_mode_name(tx)
						       : zc_rx_mode_name(rx));
	m->tx = (uint8_t)tx;
	m->rx = (uint8_t)rx;
	/* Always both: a row says what sent and what received. */
	snprintf(m->name, sizeof(m->name), "%s:%s", zc_tx_mode_name(tx),
		 zc_rx_mode_name(rx));
	o->nmodes++;
	return 0;
}

/* Device modes (zcrx, devmem) need an interface and a queue the bench
 * does not know: `zcopy probe -i IF` says whether they could work. */
static bool device_mode(int tx, int rx)
{
	return tx == ZC_TX_DEVMEM || rx == ZC_RX_ZCRX || rx == ZC_RX_DEVMEM;
}

/*
 * auto:auto (what an application gets by default), every other sending
 * mode with a copying receiver (so the rows compare senders, not what the
 * receiver made of them), then every other receiving mode with a
 * MSG_ZEROCOPY sender (page-aligned data, what TCP_ZEROCOPY_RECEIVE needs
 * to map pages).  Straight from the enums: new modes appear by
 * themselves, but for device modes and the same-host channel.
 */
static int default_modes(struct bench_opts *o)
{
	int ret = 0;

	o->nmodes = 0;
	for (int tx = 0; tx < ZC_TX_MODE_COUNT && !ret; tx++)
		if (!device_mode(tx, ZC_RX_AUTO) && tx != ZC_TX_SHM)
			ret = add_mode(o, tx,
				       tx == ZC_TX_AUTO ? ZC_RX_AUTO
							: ZC_RX_COPY);
	for (int rx = 0; rx < ZC_RX_MODE_COUNT && !ret; rx++)
		if (rx != ZC_RX_COPY && !device_mode(ZC_TX_MSGZC, rx) &&
		    rx != ZC_RX_SHM)
			ret = add_mode(o, ZC_TX_MSGZC, rx);
	return ret;
}

/* Append the mode names of one direction to buf[*n..len). */
static void mode_names(char *buf, size_t len, size_t *n, bool tx)
{
	int count = tx ? ZC_TX_MODE_COUNT : ZC_RX_MODE_COUNT;

	for (int i = 0; i < count && *n < len; i++)
		*n += (size_t)snprintf(buf + *n, len - *n, "%s%s", i ? " " : "",
				       tx ? zc_tx_mode_name(i)
					  : zc_rx_mode_name(i));
}

/* "unknown receive mode (auto copy ...)": what, and the names there are. */
static int bad_mode(const char *what, bool tx, bool rx, const char *word)
{
	char buf[256];
	size_t n = (size_t)snprintf(buf, sizeof(buf), "%s (%s", what,
				    tx && rx ? "send: " : "");

	if (tx)
		mode_names(buf, sizeof(buf), &n, true);
	if (tx && rx && n < sizeof(buf))
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "; receive: ");
	if (rx)
		mode_names(buf, sizeof(buf), &n, false);
	if (n < sizeof(buf))
		snprintf(buf + n, sizeof(buf) - n, ")");
	return bad(buf, word);
}

/* "msgzc", "msgzc:tcpmmap" or a receive-only name such as "tcpmmap".  An
 * error names the word that is wrong, not the whole item. */
static int parse_mode(char *item, struct bench_opts *o)
{
	char *colon = strchr(item, ':');
	int tx, rx = ZC_RX_AUTO;

	if (colon)
		*colon = '\0';
	tx = tx_by_name(item);
	if (colon) {
		if (tx < 0)
			return bad_mode("unknown send mode", true, false, item);
		rx = rx_by_name(colon + 1);
		if (rx < 0)
			return bad_mode("unknown receive mode", false, true,
					colon + 1);
	} else if (tx < 0) {
		rx = rx_by_name(item);
		if (rx < 0)
			return bad_mode("unknown mode", true, true, item);
		tx = ZC_TX_MSGZC;
	}
	/* The bench runs over TCP; the same-host channel has its own. */
	if (tx == ZC_TX_SHM || rx == ZC_RX_SHM)
		return bad("shm runs over an AF_UNIX socket pair, not TCP: "
			   "bench/bench_shm measures it",
			   item);
	return add_mode(o, tx, rx);
}

static int parse_modes(char *list, struct bench_opts *o)
{
	int ret = 0;

	if (!strcmp(list, "all"))
		return default_modes(o);
	o->nmodes = 0;
	for (char *t = strtok(list, ","); t && !ret; t = strtok(NULL, ","))
		ret = parse_mode(t, o);
	return ret ? ret : o->nmodes ? 0 : bad("no mode", "");
}

/* -b: bits per second per stream, as iperf3 reads them (1G = 10^9). */
static int parse_rate(const char *arg, struct bench_opts *o)
{
	if (bc_parse_rate(arg, &o->rate) || o->rate > ZB_MAX_RATE)
		return bad("bad bitrate (bits per second, e.g. 100M or 1G)",
			   arg);
	return 0;
}

/* -i: 0 turns interval lines off, as in iperf3. */
static int parse_interval(const char *arg, struct bench_opts *o)
{
	char *end;
	double v = strtod(arg, &end);

	if (end == arg || *end || !(v >= 0) || (v > 0 && v < MIN_INTERVAL_S) ||
	    v > ZB_MAX_DURATION_MS / 1000.0)
		return bad("bad interval (0, or 0.1 to 3600 seconds)", arg);
	o->interval = v;
	return 0;
}

/* Options of what is measured. */
static int parse_run_opt(int c, char *arg, struct bench_opts *o)
{
	uint64_t v;

	switch (c) {
	case 'm':
		return parse_modes(arg, o);
	case 's':
	case 'l':
		return parse_sizes(arg, o);
	case 't':
		return parse_seconds(arg, ZB_MAX_DURATION_MS / 1000.0,
				     &o->duration)
			       ? bad("bad duration", arg)
			       : 0;
	case OPT_BUDGET:
		return parse_seconds(arg, 86400, &o->budget)
			       ? bad("bad budget", arg)
			       : 0;
	case 'r':
		if (parse_uint(arg, 1, BENCH_MAX_REPEAT, &v))
			return bad("bad repeat count", arg);
		o->repeat = (unsigned)v;
		return 0;
	case 'P':
		if (parse_uint(arg, 1, ZB_MAX_STREAMS, &v))
			return bad("bad stream count", arg);
		o->streams = (unsigned)v;
		return 0;
	case 'R':
		o->reverse = true;
		return 0;
	case 'b':
		return parse_rate(arg, o);
	case 'i':
		return parse_interval(arg, o);
	case 'A':
		return parse_cpus(arg, &o->cpus);
	case OPT_SERVER_CPU:
		return parse_cpus(arg, &o->server_cpus);
	case OPT_READ:
		o->read = true;
		return 0;
	case 'M':
		if (parse_uint(arg, 88, 65535, &v))
			return bad("bad MSS", arg);
		o->mss = (unsigned)v;
		return 0;
	default:
		return 1; /* not one of these */
	}
}

static int parse_opt(int c, char *arg, struct bench_opts *o)
{
	uint64_t v;
	double d;
	int ret = parse_run_opt(c, arg, o);

	if (ret <= 0)
		return ret;
	switch (c) {
	case 'p':
		/* 0: the server picks a free port and says which. */
		if (parse_uint(arg, 0, 65535, &v))
			return bad("bad port", arg);
		o->port = (uint16_t)v;
		return 0;
	case 'u':
		o->udp = true;
		return 0;
	case '4':
		o->family = AF_INET;
		return 0;
	case '6':
		o->family = AF_INET6;
		return 0;
	case 'B':
		o->bind = arg;
		return 0;
	case 'J':
		if (!ZC_CLI_HAVE_JSON)
			return bad(ZC_CLI_NO_JSON, "--json");
		o->json = true;
		return 0;
	case OPT_CSV:
		o->csv = true;
		return 0;
	case OPT_PLOT:
		o->plot = arg;
		return 0;
	case '1':
		o->once = true;
		return 0;
	case OPT_TIMEOUT:
		if (parse_seconds(arg, 3600, &d))
			return bad("bad timeout", arg);
		o->timeout_ms = (int)(d * 1000);
		return 0;
	case 'q':
		o->quiet = true;
		return 0;
	default:
		return -EINVAL;
	}
}

static int parse_role(int argc, char **argv, struct bench_opts *o)
{
	int left = argc - optind;

	if (!left)
		return 0;
	if (!strcmp(argv[optind], "server") && left == 1) {
		o->role = BENCH_SERVER;
		return 0;
	}
	if (!strcmp(argv[optind], "client") && left == 2) {
		o->role = BENCH_CLIENT;
		o->host = argv[optind + 1];
		return 0;
	}
	return bad("unexpected arguments (see --help)", argv[optind]);
}

/* "0-3,6": the CPUs of set, for messages. */
static const char *cpu_set_str(const cpu_set_t *set, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (int i = 0; i < CPU_SETSIZE && n < len; i++) {
		int j = i;

		if (!CPU_ISSET(i, set))
			continue;
		while (j + 1 < CPU_SETSIZE && CPU_ISSET(j + 1, set))
			j++;
		n += (size_t)snprintf(buf + n, len - n,
				      j > i ? "%s%d-%d" : "%s%d", n ? "," : "",
				      i, j);
		i = j;
	}
	return buf;
}

/* Every CPU of the list exists here and this process may run on it. */
static int check_cpus(const struct bench_cpus *c, const char *opt)
{
	cpu_set_t set;
	char what[160], usable[96], word[16];

	if (!c->n || sched_getaffinity(0, sizeof(set), &set))
		return 0;
	for (unsigned i = 0; i < c->n; i++) {
		if (CPU_ISSET(c->cpu[i], &set))
			continue;
		snprintf(what, sizeof(what),
			 "%s: no such CPU here (this process may use %s)", opt,
			 cpu_set_str(&set, usable, sizeof(usable)));
		snprintf(word, sizeof(word), "%d", c->cpu[i]);
		return bad(what, word);
	}
	return 0;
}

/* An executable file called name in a directory of $PATH. */
static bool on_path(const char *name)
{
	const char *path = getenv("PATH");
	char file[PATH_MAX];

	for (const char *p = path ? path : ""; p && *p;) {
		const char *end = strchr(p, ':');
		int len = end ? (int)(end - p) : (int)strlen(p);
		struct stat st;

		snprintf(file, sizeof(file), "%.*s/%s", len ? len : 1,
			 len ? p : ".", name);
		if (!stat(file, &st) && S_ISREG(st.st_mode) &&
		    !access(file, X_OK))
			return true;
		p = end ? end + 1 : NULL;
	}
	return false;
}

/* --plot: gnuplot is there and the file can be written, before any run. */
static int check_plot(const char *path)
{
	char copy[PATH_MAX];
	const char *dir;
	struct stat st;

	if (strchr(path, '\''))
		return bad("--plot: the file name must not contain a quote",
			   path);
	if (!stat(path, &st) && S_ISDIR(st.st_mode))
		return bad("--plot: is a directory, not a file", path);
	snprintf(copy, sizeof(copy), "%s", path);
	dir = dirname(copy);
	if (stat(dir, &st)) {
		char what[96];

		snprintf(what, sizeof(what), "--plot: %s",
			 errno == ENOENT ? "no such directory"
					 : "cannot reach directory");
		return bad(what, dir);
	}
	if (!S_ISDIR(st.st_mode))
		return bad("--plot: not a directory", dir);
	if (access(dir, W_OK | X_OK))
		return bad("--plot: cannot write in directory", dir);
	if (!on_path("gnuplot"))
		return bad("--plot: not found on PATH (apt-get install "
			   "gnuplot-nox)",
			   "gnuplot");
	return 0;
}

/* UDP: a message is one datagram, so no larger than UDP allows. */
static int check_udp_sizes(const struct bench_opts *o)
{
	uint32_t max = o->family == AF_INET6 ? UDP6_MAX_MSG : UDP_MAX_MSG;
	char what[96];

	for (unsigned i = 0; o->udp && i < o->nsizes; i++) {
		if (o->sizes[i] <= max)
			continue;
		snprintf(what, sizeof(what),
			 "message size too large for UDP (at most %u bytes)",
			 max);
		return bad(what, o->size_args[i] ? o->size_args[i] : "");
	}
	return 0;
}

/* Checks of the whole command line, before anything runs. */
static int check_args(const struct bench_opts *o)
{
	int ret = check_udp_sizes(o);

	if (!ret)
		ret = check_cpus(&o->cpus, "--cpu");
	/* The receivers of a remote server run there: its business. */
	if (!ret && o->role == BENCH_LOCAL)
		ret = check_cpus(&o->server_cpus, "--server-cpu");
	if (!ret && o->plot)
		ret = check_plot(o->plot);
	return ret;
}

static int defaults(struct bench_opts *o)
{
	const uint32_t *sz = o->udp ? udp_sizes : tcp_sizes;
	unsigned n = o->udp ? sizeof(udp_sizes) / sizeof(udp_sizes[0])
			    : sizeof(tcp_sizes) / sizeof(tcp_sizes[0]);

	if (!o->nsizes) {
		memcpy(o->sizes, sz, n * sizeof(*sz));
		o->nsizes = n;
	}
	if (o->json + o->csv > 1)
		return bad("choose one of", "--json --csv");
	if (o->duration > 0 && o->budget > 0)
		return bad("choose one of", "--time --budget");
	if (!o->budget && !o->duration)
		o->duration = DEFAULT_TIME_S;
	if (o->role == BENCH_SERVER)
		o->server_cpus = o->cpus;
	else if (!o->port)
		return bad("port 0 is only for the server", "0");
	if (o->role == BENCH_LOCAL)
		o->host = o->family == AF_INET6 ? "::1" : "127.0.0.1";
	if (!o->nmodes && default_modes(o))
		return -EINVAL;
	return check_args(o);
}

static int parse_args(int argc, char **argv, struct bench_opts *o)
{
	int c, ret;

	*o = (struct bench_opts){ .port = BENCH_DEFAULT_PORT,
				  .family = AF_UNSPEC,
				  .repeat = DEFAULT_REPEAT,
				  .streams = 1,
				  .timeout_ms = DEFAULT_TIMEOUT_MS };
	optind = 0; /* the dispatcher may have run getopt already */
	while ((c = getopt_long(argc, argv, "p:u46B:m:s:l:t:r:P:Rb:i:A:M:J1qh",
				long_opts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			exit(0);
		}
		ret = parse_opt(c, optarg, o);
		if (ret)
			return ret;
	}
	ret = parse_role(argc, argv, o);
	return ret ? ret : defaults(o);
}

/* ---- running ------------------------------------------------------------ */

static int report(const struct bench_sweep *sw)
{
	const struct bench_opts *o = sw->opts;
	bool ran = false;
	int ret = 0;

	if (o->json)
		ret = bench_print_json(sw);
	else if (o->csv)
		bench_print_csv(sw);
	else
		bench_print_table(sw);
	fflush(stdout);
	if (o->plot) {
		int pret = bench_plot(sw, o->plot);

		if (pret)
			fprintf(stderr, "zcopy bench: cannot draw %s: %s\n",
				o->plot,
				pret == -ENOENT ? "gnuplot not found (apt-get "
						  "install gnuplot-nox)"
						: zc_strerror(pret));
		else if (!o->quiet)
			fprintf(stderr, "zcopy bench: plot written to %s\n",
				o->plot);
		ret = ret ? ret : pret;
	}
	for (unsigned i = 0; i < sw->ncells; i++) {
		if (sw->cells[i].error && !sw->cells[i].unavailable)
			ret = ret ? ret : sw->cells[i].error;
		ran |= sw->cells[i].nruns > 0;
	}
	/* Nothing measured is no success, even if each mode had a reason. */
	if (!ran) {
		fprintf(stderr, "zcopy bench: no mode could run here\n");
		ret = ret ? ret : -EOPNOTSUPP;
	}
	return ret;
}

static int run_client(const struct bench_opts *o, int cfd)
{
	struct bench_sweep sw = { .opts = o, .ncells = o->nsizes * o->nmodes };
	int ret;

	sw.cells = calloc(sw.ncells, sizeof(*sw.cells));
	if (!sw.cells)
		return -ENOMEM;
	for (unsigned s = 0; s < o->nsizes; s++)
		for (unsigned m = 0; m < o->nmodes; m++) {
			sw.cells[s * o->nmodes + m].mode = &o->modes[m];
			sw.cells[s * o->nmodes + m].size = o->sizes[s];
		}
	ret = bench_client(o, cfd, &sw);
	if (!ret)
		ret = report(&sw);
	for (unsigned i = 0; i < sw.ncells; i++)
		for (unsigned k = 0; k < sw.cells[i].nruns; k++)
			bench_run_free(&sw.cells[i].runs[k]);
	free(sw.cells);
	return ret;
}

static int client(const struct bench_opts *o, uint16_t port)
{
	int cfd, ret;

	ret = bn_connect(o->host, port, o->family, SOCK_STREAM, o->timeout_ms,
			 &cfd);
	if (ret) {
		fprintf(stderr,
			"zcopy bench: cannot connect to %s port %u: %s\n",
			o->host, port, bn_strerror(ret));
		return ret;
	}
	ret = run_client(o, cfd);
	close(cfd);
	return ret;
}

static int server(const struct bench_opts *o)
{
	int lfd, ret;

	ret = bn_listen(o->bind, o->port, o->family, SOCK_STREAM, &lfd);
	if (ret) {
		fprintf(stderr, "zcopy bench: cannot listen on port %u: %s\n",
			o->port, bn_strerror(ret));
		return ret;
	}
	ret = bench_serve(o, lfd);
	close(lfd);
	return ret;
}

struct local_server {
	struct bench_opts opts;
	int lfd;
};

static void *local_serve(void *arg)
{
	struct local_server *ls = arg;

	bench_serve(&ls->opts, ls->lfd);
	return NULL;
}

/* No arguments: a server thread on a loopback port of its own, and the
 * client against it, through the same protocol as over the network. */
static int local(const struct bench_opts *o)
{
	struct local_server ls = { .opts = *o };
	pthread_t th;
	int ret;

	ls.opts.role = BENCH_SERVER;
	ls.opts.once = true;
	ls.opts.quiet = true;
	ret = bn_listen(o->host, 0, o->family, SOCK_STREAM, &ls.lfd);
	if (ret) {
		fprintf(stderr, "zcopy bench: cannot listen on %s: %s\n",
			o->host, bn_strerror(ret));
		return ret;
	}
	ret = -pthread_create(&th, NULL, local_serve, &ls);
	if (!ret) {
		ret = client(o, bn_local_port(ls.lfd));
		/* Wakes the server if the client never got to it. */
		shutdown(ls.lfd, SHUT_RDWR);
		pthread_join(th, NULL);
	}
	close(ls.lfd);
	return ret;
}

int zc_cmd_bench(int argc, char **argv)
{
	struct bench_opts o;
	int ret;

	if (parse_args(argc, argv, &o)) {
		fprintf(stderr, "zcopy bench: see 'zcopy bench --help'\n");
		return EXIT_USAGE;
	}
	switch (o.role) {
	case BENCH_SERVER:
		ret = server(&o);
		break;
	case BENCH_CLIENT:
		ret = client(&o, o.port);
		break;
	default:
		ret = local(&o);
		break;
	}
	return ret ? 1 : 0;
}
