/* SPDX-License-Identifier: MIT */
/*
 * zcopy bench output: medians per cell, then a table (with a verdict per
 * size), CSV or a gnuplot PNG (JSON: bench_json.c).  Rates are medians over the runs of
 * a cell; counts are totals over them.
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

const char *bench_size_str(uint32_t size, char *buf, size_t len)
{
	if (size >= (1u << 20) && !(size % (1u << 20)))
		snprintf(buf, len, "%uM", size >> 20);
	else if (size >= 1024 && !(size % 1024))
		snprintf(buf, len, "%uK", size >> 10);
	else
		snprintf(buf, len, "%u", size);
	return buf;
}

static double ratio(double num, double den)
{
	return den > 0 ? num / den : 0;
}

/* The receiver's throughput by its own clock, first byte to last, as a
 * plain receiver measures it; the sender's time only when the receiver
 * has no span (a single read). */
double bench_run_gbps(const struct bench_run *r)
{
	double secs = r->rx.elapsed_usec ? (double)r->rx.elapsed_usec / 1e6
					 : r->elapsed;

	return ratio((double)r->rx.bytes * 8 / 1e9, secs);
}

void bench_summarize(const struct bench_cell *c, struct bench_summary *s)
{
	double gbps[BENCH_MAX_REPEAT], tx[BENCH_MAX_REPEAT],
		rx[BENCH_MAX_REPEAT];
	uint64_t zc = 0, copied = 0, kcopied = 0, mapped = 0;
	uint64_t by_tx[ZC_TX_MODE_COUNT] = { 0 };

	memset(s, 0, sizeof(*s));
	for (unsigned i = 0; i < c->nruns; i++) {
		const struct bench_run *r = &c->runs[i];

		gbps[i] = bench_run_gbps(r);
		tx[i] = ratio((double)r->tx.cpu_usec / 1e6,
			      (double)r->tx.bytes / 1e9);
		rx[i] = ratio((double)r->rx.cpu_usec / 1e6,
			      (double)r->rx.bytes / 1e9);
		s->sent += r->tx.bytes;
		s->received += r->rx.bytes;
		s->sends += r->tx.sends;
		s->completions += r->tx.completions;
		s->fallbacks += r->tx.fallbacks;
		zc += r->tx.zc_bytes;
		copied += r->tx.copied_bytes;
		kcopied += r->tx.kernel_copied;
		mapped += r->rx.rx_mapped;
		for (int t = 0; t < ZC_TX_MODE_COUNT; t++)
			by_tx[t] += r->tx.by_tx[t];
	}
	s->tx_only = -1;
	for (int t = 0; t < ZC_TX_MODE_COUNT; t++)
		if (s->completions && by_tx[t] == s->completions)
			s->tx_only = t;
	s->gbps = bc_median(gbps, c->nruns);
	s->gbps_min = c->nruns ? gbps[0] : 0;
	s->gbps_max = c->nruns ? gbps[c->nruns - 1] : 0;
	s->tx_cpu_per_gb = bc_median(tx, c->nruns);
	s->rx_cpu_per_gb = bc_median(rx, c->nruns);
	s->zc_share = ratio((double)zc, (double)s->sent);
	s->copied_share = ratio((double)copied, (double)s->sent);
	s->kernel_copied_share = ratio((double)kcopied, (double)s->sent);
	s->rx_mapped_share = ratio((double)mapped, (double)s->received);
}

const char *bench_cell_error(const struct bench_cell *c, char *buf, size_t len)
{
	snprintf(buf, len, "%s: %s", c->unavailable ? "unavailable" : "failed",
		 zc_strerror(c->error));
	return buf;
}

static const struct bench_cell *cell_at(const struct bench_sweep *sw,
					unsigned size, unsigned mode)
{
	return &sw->cells[size * sw->opts->nmodes + mode];
}

/* The cell at (size, mode) with its summary in *s; NULL if it failed or
 * has no runs. */
static const struct bench_cell *cell_summary(const struct bench_sweep *sw,
					     unsigned size, unsigned mode,
					     struct bench_summary *s)
{
	const struct bench_cell *c = cell_at(sw, size, mode);

	if (c->error || !c->nruns)
		return NULL;
	bench_summarize(c, s);
	return c;
}

/* ---- table ---------------------------------------------------------------- */

static void print_header(const struct bench_sweep *sw)
{
	const struct bench_opts *o = sw->opts;

	printf("zcopy bench: %s to %s, %u stream%s, %.2f s x %u runs per "
	       "cell (medians), receiver %s the data\n\n",
	       o->udp ? "UDP" : "TCP", o->host, o->streams,
	       o->streams > 1 ? "s" : "", sw->duration, o->repeat,
	       o->read ? "reads" : "does not read");
	printf("%6s  %-16s %8s %15s %9s %9s %11s %6s %7s %6s %6s\n", "size",
	       "mode", "Gbit/s", "(min-max)", "tx s/GB", "rx s/GB", "sends",
	       "zc%", "copied%", "fallbk", "mapd%");
}

static void print_row(const struct bench_cell *c)
{
	struct bench_summary s;
	char sz[16], err[160], range[32];

	bench_size_str(c->size, sz, sizeof(sz));
	if (c->error) {
		printf("%6s  %-16s %s\n", sz, c->mode->name,
		       bench_cell_error(c, err, sizeof(err)));
		return;
	}
	bench_summarize(c, &s);
	snprintf(range, sizeof(range), "(%.2f-%.2f)", s.gbps_min, s.gbps_max);
	printf("%6s  %-16s %8.2f %15s %9.3f %9.3f %11llu %5.1f%% %6.1f%% "
	       "%6llu %5.1f%%\n",
	       sz, c->mode->name, s.gbps, range, s.tx_cpu_per_gb,
	       s.rx_cpu_per_gb, (unsigned long long)s.sends, 100 * s.zc_share,
	       100 * s.kernel_copied_share, (unsigned long long)s.fallbacks,
	       100 * s.rx_mapped_share);
}

/* Below this share a mode is not called zero-copy: a few stray mapped
 * pages are not a result. */
#define ZC_MIN_SHARE 0.01

/* Whether zero-copy really happened at this size, for sending and for
 * receiving separately (they are different mechanisms): the text for it. */
static const char *zc_outcome(const struct bench_sweep *sw, unsigned size,
			      char *buf, size_t len)
{
	const char *tx_mode = NULL, *rx_mode = NULL;
	double tx_best = 0, rx_best = 0;
	bool tried = false;
	struct bench_summary s;
	char tx[96], rx[96];

	for (unsigned m = 0; m < sw->opts->nmodes; m++) {
		const struct bench_cell *c = cell_summary(sw, size, m, &s);

		if (!c)
			continue;
		tried |= s.kernel_copied_share > 0;
		if (s.zc_share > tx_best) {
			tx_best = s.zc_share;
			tx_mode = c->mode->name;
		}
		if (s.rx_mapped_share > rx_best) {
			rx_best = s.rx_mapped_share;
			rx_mode = c->mode->name;
		}
	}
	if (tx_best >= ZC_MIN_SHARE)
		snprintf(tx, sizeof(tx), "zero-copy send happened (%s: %.0f%%)",
			 tx_mode, 100 * tx_best);
	else
		snprintf(tx, sizeof(tx), "%s",
			 tried ? "no zero-copy send: the kernel copied every "
				 "one after all"
			       : "no zero-copy send was attempted");
	if (rx_best >= ZC_MIN_SHARE)
		snprintf(rx, sizeof(rx), "; receive mapped %.0f%% (%s)",
			 100 * rx_best, rx_mode);
	else
		rx[0] = 0;
	snprintf(buf, len, "%s%s", tx, rx);
	return buf;
}

/* Receive modes that do the same here: on UDP, auto receives by copy. */
static bool same_rx(const struct bench_sweep *sw, uint8_t a, uint8_t b)
{
	bool copying_a = a == ZC_RX_AUTO || a == ZC_RX_COPY;
	bool copying_b = b == ZC_RX_AUTO || b == ZC_RX_COPY;

	return a == b || (sw->opts->udp && copying_a && copying_b);
}

/* Two cells behave the same when one transport carried every send of
 * both and they receive alike: auto below its zero-copy threshold sends
 * exactly as copy does.  Their difference in speed can only be noise. */
static bool same_behaviour(const struct bench_sweep *sw,
			   const struct bench_cell *a,
			   const struct bench_summary *sa,
			   const struct bench_cell *b,
			   const struct bench_summary *sb)
{
	return sa->tx_only >= 0 && sa->tx_only == sb->tx_only &&
	       same_rx(sw, a->mode->rx, b->mode->rx);
}

void bench_judge(const struct bench_sweep *sw, unsigned size,
		 struct bench_judgement *j)
{
	unsigned nmodes = sw->opts->nmodes;
	struct bench_summary s[BENCH_MAX_MODES];
	const struct bench_cell *c[BENCH_MAX_MODES];
	double others_max = 0;
	int best = -1, next = -1;
	bool few_runs = false;

	memset(j, 0, sizeof(*j));
	for (unsigned m = 0; m < nmodes; m++) {
		c[m] = cell_summary(sw, size, m, &s[m]);
		j->group[m] = -1;
		j->tx_only[m] = c[m] ? s[m].tx_only : -1;
		if (!c[m])
			continue;
		j->ran++;
		if (best < 0 || s[m].gbps > s[best].gbps)
			best = (int)m;
	}
	/* Behaviour groups: each cell joins the first like it. */
	for (unsigned m = 0; m < nmodes; m++) {
		for (unsigned k = 0; c[m] && k <= m && j->group[m] < 0; k++)
			if (k == m || (c[k] && same_behaviour(sw, c[k], &s[k],
							      c[m], &s[m])))
				j->group[m] = (int)k;
	}
	if (best < 0)
		return;
	j->best = c[best];
	j->best_gbps = s[best].gbps;
	j->best_min = s[best].gbps_min;
	/* The competition: every cell that behaves otherwise than the best. */
	for (unsigned m = 0; m < nmodes; m++) {
		if (!c[m] || j->group[m] == j->group[best])
			continue;
		if (next < 0 || s[m].gbps > s[next].gbps)
			next = (int)m;
		if (s[m].gbps_max > others_max)
			others_max = s[m].gbps_max;
		few_runs |= c[m]->nruns < 2;
	}
	if (j->ran == 1) {
		j->decision = BENCH_ONLY_MODE;
		return;
	}
	j->decision = BENCH_WITHIN_NOISE;
	if (next < 0)
		return; /* every mode behaved the same */
	j->next = c[next];
	j->next_gbps = s[next].gbps;
	j->next_max = others_max;
	few_runs |= c[best]->nruns < 2;
	/* The winner's slowest run beats every other mode's fastest one. */
	if (!few_runs && s[best].gbps_min > others_max)
		j->decision = BENCH_WINNER;
}

/* "; same behaviour: auto = copy (every send by copy)" for each group of
 * more than one mode. */
static void groups_str(const struct bench_sweep *sw,
		       const struct bench_judgement *j, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (unsigned g = 0; g < sw->opts->nmodes && n < len; g++) {
		const char *sep = "";
		int members = 0;

		for (unsigned m = 0; m < sw->opts->nmodes; m++)
			members += j->group[m] == (int)g;
		if (members < 2)
			continue;
		n += (size_t)snprintf(buf + n, len - n, "; same behaviour: ");
		for (unsigned m = 0; m < sw->opts->nmodes && n < len; m++) {
			if (j->group[m] != (int)g)
				continue;
			n += (size_t)snprintf(buf + n, len - n, "%s%s", sep,
					      sw->opts->modes[m].name);
			sep = " = ";
		}
		if (n < len)
			n += (size_t)snprintf(buf + n, len - n,
					      " (every send by %s)",
					      zc_tx_mode_name(j->tx_only[g]));
	}
}

void bench_verdict(const struct bench_sweep *sw, unsigned size, char *buf,
		   size_t len)
{
	struct bench_judgement j;
	char zc[200], groups[256];

	bench_judge(sw, size, &j);
	zc_outcome(sw, size, zc, sizeof(zc));
	groups_str(sw, &j, groups, sizeof(groups));
	switch (j.decision) {
	case BENCH_NO_MODE:
		snprintf(buf, len, "no mode ran");
		break;
	case BENCH_ONLY_MODE:
		snprintf(buf, len, "%s was the only mode (%.2f Gbit/s); %s",
			 j.best->mode->name, j.best_gbps, zc);
		break;
	case BENCH_WINNER:
		snprintf(buf, len,
			 "%s won (%.2f Gbit/s, %.2fx %s; its slowest run "
			 "%.2f beat every other mode's fastest %.2f)%s; %s",
			 j.best->mode->name, j.best_gbps,
			 ratio(j.best_gbps, j.next_gbps), j.next->mode->name,
			 j.best_min, j.next_max, groups, zc);
		break;
	case BENCH_WITHIN_NOISE:
		if (j.next)
			snprintf(buf, len,
				 "no difference within noise (%s %.2f, %s "
				 "%.2f Gbit/s: their ranges overlap%s)%s; %s",
				 j.best->mode->name, j.best_gbps,
				 j.next->mode->name, j.next_gbps,
				 j.best->nruns < 2 || j.next->nruns < 2
					 ? ", one run is no range"
					 : "",
				 groups, zc);
		else
			snprintf(buf, len,
				 "no difference within noise: every mode "
				 "behaved the same%s; %s",
				 groups, zc);
		break;
	}
}

void bench_print_table(const struct bench_sweep *sw)
{
	const struct bench_opts *o = sw->opts;
	char sz[16], v[512];

	print_header(sw);
	for (unsigned s = 0; s < o->nsizes; s++)
		for (unsigned m = 0; m < o->nmodes; m++)
			print_row(cell_at(sw, s, m));
	printf("\nverdict:\n");
	for (unsigned s = 0; s < o->nsizes; s++) {
		bench_verdict(sw, s, v, sizeof(v));
		printf("%6s  %s\n", bench_size_str(o->sizes[s], sz, sizeof(sz)),
		       v);
	}
	printf("\nA mode wins only if its slowest run beat every other mode's "
	       "fastest run;\nmodes whose sends all took one transport "
	       "behave the same and do not compete.\n"
	       "tx/rx s/GB: CPU seconds per GB (getrusage, both ends); "
	       "zc%%: bytes sent zero-copy;\ncopied%%: bytes the kernel "
	       "copied after all; mapd%%: bytes received by page mapping\n");
}

/* ---- CSV ------------------------------------------------------------------ */

void bench_print_csv(const struct bench_sweep *sw)
{
	char err[160];

	printf("size,mode,tx,rx,available,gbps,gbps_min,gbps_max,"
	       "tx_cpu_s_per_gb,rx_cpu_s_per_gb,bytes_sent,bytes_received,"
	       "sends,completions,zerocopy_share,copied_after_all_share,"
	       "fallbacks,rx_mapped_share,error\n");
	for (unsigned i = 0; i < sw->ncells; i++) {
		const struct bench_cell *c = &sw->cells[i];
		struct bench_summary s;

		bench_summarize(c, &s);
		printf("%u,%s,%s,%s,%d,%.4f,%.4f,%.4f,%.5f,%.5f,%llu,%llu,"
		       "%llu,%llu,%.4f,%.4f,%llu,%.4f,\"%s\"\n",
		       c->size, c->mode->name, zc_tx_mode_name(c->mode->tx),
		       zc_rx_mode_name(c->mode->rx), !c->unavailable, s.gbps,
		       s.gbps_min, s.gbps_max, s.tx_cpu_per_gb, s.rx_cpu_per_gb,
		       (unsigned long long)s.sent,
		       (unsigned long long)s.received,
		       (unsigned long long)s.sends,
		       (unsigned long long)s.completions, s.zc_share,
		       s.kernel_copied_share, (unsigned long long)s.fallbacks,
		       s.rx_mapped_share,
		       c->error ? bench_cell_error(c, err, sizeof(err)) : "");
	}
}

/* ---- plot ----------------------------------------------------------------- */

static void plot_data(FILE *g, const struct bench_sweep *sw, unsigned m)
{
	const struct bench_opts *o = sw->opts;

	fprintf(g, "$m%u << EOD\n", m);
	for (unsigned s = 0; s < o->nsizes; s++) {
		struct bench_summary su;
		const struct bench_cell *c = cell_summary(sw, s, m, &su);

		if (!c)
			continue;
		fprintf(g, "%u %.4f %.5f %.5f\n", c->size, su.gbps,
			su.tx_cpu_per_gb, su.rx_cpu_per_gb);
	}
	fprintf(g, "EOD\n");
}

static bool mode_ran(const struct bench_sweep *sw, unsigned m)
{
	for (unsigned s = 0; s < sw->opts->nsizes; s++)
		if (cell_at(sw, s, m)->nruns)
			return true;
	return false;
}

/* One panel: column col against size, one line per mode that ran (and
 * a dashed one for column col + 1, the receiver's, if with_rx). */
static void plot_panel(FILE *g, const struct bench_sweep *sw, int col,
		       bool with_rx)
{
	const char *sep = "plot ";

	for (unsigned m = 0; m < sw->opts->nmodes; m++) {
		if (!mode_ran(sw, m))
			continue;
		fprintf(g,
			"%s$m%u using 1:%d with linespoints lw 2 lc %u "
			"title '%s%s'",
			sep, m, col, m + 1, sw->opts->modes[m].name,
			with_rx ? " (tx)" : "");
		sep = ", \\\n  ";
		if (with_rx)
			fprintf(g,
				"%s$m%u using 1:%d with linespoints lw 1 "
				"lc %u dt 2 title '%s (rx)'",
				sep, m, col + 1, m + 1,
				sw->opts->modes[m].name);
	}
	fprintf(g, "\n");
}

static void plot_script(FILE *g, const struct bench_sweep *sw, const char *path)
{
	const struct bench_opts *o = sw->opts;
	char sz[16];

	fprintf(g,
		"set terminal pngcairo size 1000,900 font 'sans,10'\n"
		"set output '%s'\n",
		path);
	for (unsigned m = 0; m < o->nmodes; m++)
		plot_data(g, sw, m);
	fprintf(g,
		"set multiplot layout 2,1 title 'zcopy bench: %s to %s, "
		"%u stream(s), medians of %u runs'\n"
		"set logscale x 2\nset grid\nset key outside right\n"
		"set xlabel 'message size (bytes)'\nset xtics (",
		o->udp ? "UDP" : "TCP", o->host, o->streams, o->repeat);
	for (unsigned s = 0; s < o->nsizes; s++)
		fprintf(g, "%s'%s' %u", s ? ", " : "",
			bench_size_str(o->sizes[s], sz, sizeof(sz)),
			o->sizes[s]);
	/* Half a step of margin each side: one size alone is still a range. */
	fprintf(g,
		")\nset xrange [%g:%g]\nset yrange [0:*]\n"
		"set title 'throughput'\nset ylabel 'Gbit/s'\n",
		o->sizes[0] / 1.4142, o->sizes[o->nsizes - 1] * 1.4142);
	plot_panel(g, sw, 2, false);
	fprintf(g, "set title 'CPU seconds per GB (sender solid, receiver "
		   "dashed)'\nset ylabel 'CPU s/GB'\n");
	plot_panel(g, sw, 3, true);
	fprintf(g, "unset multiplot\n");
}

/*
 * gnuplot, found on PATH, reading its script from the returned stream: no
 * shell needed.  NULL with errno set on failure.
 */
static FILE *gnuplot_start(pid_t *pid)
{
	static char *const argv[] = { "gnuplot", NULL };
	posix_spawn_file_actions_t fa;
	int fds[2], ret;
	FILE *g;

	if (pipe2(fds, O_CLOEXEC))
		return NULL;
	ret = posix_spawn_file_actions_init(&fa);
	if (ret)
		goto close_pipe;
	ret = posix_spawn_file_actions_adddup2(&fa, fds[0], STDIN_FILENO);
	if (!ret)
		ret = posix_spawnp(pid, "gnuplot", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (ret)
		goto close_pipe;
	close(fds[0]);
	g = fdopen(fds[1], "w");
	if (!g) {
		ret = errno;
		/* gnuplot sees the end of its input and exits. */
		close(fds[1]);
		waitpid(*pid, NULL, 0);
		errno = ret;
	}
	return g;
close_pipe:
	close(fds[0]);
	close(fds[1]);
	errno = ret;
	return NULL;
}

int bench_plot(const struct bench_sweep *sw, const char *path)
{
	FILE *g;
	pid_t pid;
	int st;

	if (strchr(path, '\''))
		return -EINVAL;
	g = gnuplot_start(&pid);
	if (!g)
		return -errno;
	plot_script(g, sw, path);
	fclose(g);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (!WIFEXITED(st) || WEXITSTATUS(st) == 127)
		return -ENOENT;
	return WEXITSTATUS(st) ? -EIO : 0;
}
