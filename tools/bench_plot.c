/* SPDX-License-Identifier: MIT */
/*
 * zcopy bench --plot: a gnuplot PNG people read.  Three panels over
 * message size on a log axis (throughput, sender CPU per GB, receiver CPU
 * per GB; CPU on a log axis too when it spans decades), each point a
 * median with a solid bar from the slowest to the fastest run, the modes
 * a little apart at each size, one colour per sending family (auto, copy,
 * MSG_ZEROCOPY, io_uring) with the receive mode as the dash, and open
 * markers where no byte went zero-copy.  Kernel and host in the title.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

/* Below this share a point is not called zero-copy (as the verdict). */
#define ZC_MIN_SHARE 0.01

/* A colour per sending family, a point shape per member of it. */
static const char *family_colour(unsigned tx)
{
	switch (tx) {
	case ZC_TX_AUTO:
		return "#000000";
	case ZC_TX_COPY:
		return "#1f77b4";
	case ZC_TX_MSGZC:
		return "#d62728";
	default: /* io_uring, registered buffers or not */
		return "#2ca02c";
	}
}

/* Open (no zero-copy) and filled point types: circle, square, triangle. */
static int point_type(unsigned tx, bool filled)
{
	int open = tx == ZC_TX_URING_FIXED ? 4 : tx == ZC_TX_URING ? 8 : 6;

	return filled ? open + 1 : open;
}

/* The receive mode is the dash: auto solid, copy dashed, uring dotted,
 * tcpmmap dash-dotted. */
static int dash_type(unsigned rx)
{
	return (int)rx % 5 + 1;
}

static bool mode_ran(const struct bench_sweep *sw, unsigned m)
{
	for (unsigned s = 0; s < sw->opts->nsizes; s++)
		if (sw->cells[s * sw->opts->nmodes + m].nruns)
			return true;
	return false;
}

/*
 * Each mode's points sit a little to the side of their size (a step of
 * octaves per mode, centred), so that bars at one size do not hide each
 * other: at most 30% of the narrowest gap between two sizes, at most
 * 2.5% of the axis per mode.
 */
static double dodge_step(const struct bench_opts *o, unsigned nran)
{
	double gap = 0, lo = o->sizes[0], hi = o->sizes[0];

	for (unsigned i = 0; i < o->nsizes; i++) {
		lo = fmin(lo, o->sizes[i]);
		hi = fmax(hi, o->sizes[i]);
		for (unsigned j = 0; j < o->nsizes; j++) {
			double d = log2((double)o->sizes[j] / o->sizes[i]);

			if (d > 0 && (!gap || d < gap))
				gap = d;
		}
	}
	if (!gap) /* one size: the axis is one octave wide */
		gap = 1;
	if (nran < 2)
		return 0;
	return fmin(0.3 * gap / nran, 0.025 * (log2(hi / lo) + 1));
}

/* A CPU figure for gnuplot: NaN (no point) where nothing moved. */
static double cpu_per_gb(const struct zb_side *side)
{
	return side->bytes ? (double)side->cpu_usec / (double)side->bytes * 1e3
			   : NAN;
}

/* $mN: size moved aside by shift octaves, median, min, max Gbit/s, sender
 * and receiver CPU s/GB (and their min and max), whether any byte went
 * zero-copy. */
static void plot_data(FILE *g, const struct bench_sweep *sw, unsigned m,
		      double shift)
{
	const struct bench_opts *o = sw->opts;

	fprintf(g, "$m%u << EOD\n", m);
	for (unsigned s = 0; s < o->nsizes; s++) {
		const struct bench_cell *c = &sw->cells[s * o->nmodes + m];
		double tx[BENCH_MAX_REPEAT], rx[BENCH_MAX_REPEAT];
		struct bench_summary su;

		if (c->error || !c->nruns)
			continue;
		bench_summarize(c, &su);
		for (unsigned i = 0; i < c->nruns; i++) {
			tx[i] = cpu_per_gb(&c->runs[i].tx);
			rx[i] = cpu_per_gb(&c->runs[i].rx);
		}
		bc_median(tx, c->nruns);
		bc_median(rx, c->nruns);
		fprintf(g,
			"%.1f %.4f %.4f %.4f %.5f %.5f %.5f %.5f %.5f %.5f "
			"%d\n",
			c->size * exp2(shift), su.gbps, su.gbps_min,
			su.gbps_max, su.tx_cpu_per_gb, tx[0], tx[c->nruns - 1],
			su.rx_cpu_per_gb, rx[0], rx[c->nruns - 1],
			su.zc_share >= ZC_MIN_SHARE);
	}
	fprintf(g, "EOD\n");
}

/*
 * One panel: per mode a solid bar from the slowest to the fastest run
 * (columns col + 1, col + 2) with an open point at the median (col), the
 * line through the medians in the mode's dash, and a filled point over
 * the open one where some bytes went zero-copy.  The key shows the line
 * with its point.
 */
static void plot_panel(FILE *g, const struct bench_sweep *sw, int col,
		       bool keys)
{
	const char *sep = "plot ";

	for (unsigned m = 0; m < sw->opts->nmodes; m++) {
		const struct bench_mode *md = &sw->opts->modes[m];
		const char *lc = family_colour(md->tx);
		int pt = point_type(md->tx, false);

		if (!mode_ran(sw, m))
			continue;
		fprintf(g,
			"%s$m%u using 1:%d:%d:%d with yerrorbars lw 1.5 dt 1 "
			"lc rgb '%s' pt %d ps 1.3 notitle, \\\n",
			sep, m, col, col + 1, col + 2, lc, pt);
		fprintf(g,
			"  $m%u using 1:%d with linespoints lw 2 dt %d "
			"lc rgb '%s' pt %d ps 1.3 ",
			m, col, dash_type(md->rx), lc, pt);
		if (keys)
			fprintf(g, "title '%s'", md->name);
		else
			fprintf(g, "notitle");
		sep = ", \\\n  ";
		fprintf(g,
			"%s$m%u using 1:($11 > 0 ? $%d : 1/0) with points "
			"lc rgb '%s' pt %d ps 1.3 notitle",
			sep, m, col, lc, point_type(md->tx, true));
	}
	if (keys)
		fprintf(g,
			"%sNaN with points lc rgb 'gray40' pt 6 ps 1.3 "
			"title 'open: no byte sent zero-copy', \\\n"
			"  NaN with points lc rgb 'gray40' pt 7 ps 1.3 "
			"title 'filled: some sent zero-copy'",
			sep);
	fprintf(g, "\n");
}

/* What a panel shows of one run. */
enum plot_metric { PLOT_GBPS, PLOT_TX_CPU, PLOT_RX_CPU };

static double run_value(const struct bench_run *r, enum plot_metric what)
{
	switch (what) {
	case PLOT_GBPS:
		return bench_run_gbps(r);
	case PLOT_TX_CPU:
		return cpu_per_gb(&r->tx);
	default:
		return cpu_per_gb(&r->rx);
	}
}

/*
 * A panel's y axis, fitted to its bars with a little room beyond the
 * highest (gnuplot's own range ends on the highest bar, or rounds a log
 * axis out to whole decades, mostly empty).  CPU figures on a log axis
 * where they span more than a decade (small messages cost many times
 * what large ones do), labelled at 1, 2 and 5 times a power of ten;
 * throughput and narrower CPU figures linear from 0.
 */
static void y_axis(FILE *g, const struct bench_sweep *sw, enum plot_metric what)
{
	double lo = INFINITY, hi = 0;
	const char *sep = "";

	for (unsigned i = 0; i < sw->ncells; i++) {
		const struct bench_cell *c = &sw->cells[i];

		for (unsigned r = 0; !c->error && r < c->nruns; r++) {
			double v = run_value(&c->runs[r], what);

			if (v > 0) {
				lo = fmin(lo, v);
				hi = fmax(hi, v);
			}
		}
	}
	if (what == PLOT_GBPS || !hi || hi <= 10 * lo) {
		fprintf(g,
			"unset logscale y\nset ytics autofreq\nset ylabel "
			"'%s'\n",
			what == PLOT_GBPS ? "Gbit/s" : "CPU seconds per GB");
		/* Nothing ran: gnuplot's range. */
		if (hi)
			fprintf(g, "set yrange [0:%g]\n", hi * 1.08);
		else
			fprintf(g, "set yrange [0:*]\n");
		return;
	}
	lo /= 1.5;
	hi *= 1.5;
	fprintf(g,
		"set logscale y\nset ylabel 'CPU seconds per GB (log scale)'\n"
		"set yrange [%g:%g]\nset ytics (",
		lo, hi);
	for (int e = (int)floor(log10(lo)); e <= (int)ceil(log10(hi)); e++)
		for (int k = 1; k <= 5; k += k == 1 ? 1 : 3) {
			double v = k * exp10(e);

			if (v >= lo && v <= hi) {
				fprintf(g, "%s%g", sep, v);
				sep = ", ";
			}
		}
	fprintf(g, ")\n");
}

/* s for a gnuplot double-quoted string: no quote, no backslash. */
static const char *plain(const char *s, char *buf, size_t len)
{
	size_t i;

	for (i = 0; s[i] && i + 1 < len; i++)
		buf[i] = (char)(s[i] == '"' || s[i] == '\\' ? '?' : s[i]);
	buf[i] = '\0';
	return buf;
}

/* Data blocks for the modes that ran, each moved aside by its step;
 * returns how far the outermost points moved (octaves). */
static double plot_all_data(FILE *g, const struct bench_sweep *sw)
{
	const struct bench_opts *o = sw->opts;
	unsigned nran = 0, k = 0;
	double step, first;

	for (unsigned m = 0; m < o->nmodes; m++)
		nran += mode_ran(sw, m);
	step = dodge_step(o, nran);
	first = nran ? -(double)(nran - 1) * step / 2 : 0;
	for (unsigned m = 0; m < o->nmodes; m++)
		if (mode_ran(sw, m))
			plot_data(g, sw, m, first + step * k++);
	return -first;
}

/* The x axis: log 2, a tic at each size as people write it, half an
 * octave of margin beyond the outermost points. */
static void size_axis(FILE *g, const struct bench_opts *o, double spread)
{
	double lo = o->sizes[0], hi = o->sizes[0];
	char sz[16];

	fprintf(g, "set logscale x 2\n"
		   "set xlabel 'message size (bytes, log scale)'\nset xtics (");
	for (unsigned s = 0; s < o->nsizes; s++) {
		fprintf(g, "%s'%s' %u", s ? ", " : "",
			bench_size_str(o->sizes[s], sz, sizeof(sz)),
			o->sizes[s]);
		lo = fmin(lo, o->sizes[s]);
		hi = fmax(hi, o->sizes[s]);
	}
	fprintf(g, ")\nset xrange [%g:%g]\n", lo / exp2(spread + 0.5),
		hi * exp2(spread + 0.5));
}

static void plot_script(FILE *g, const struct bench_sweep *sw, const char *path)
{
	const struct bench_opts *o = sw->opts;
	char host[72] = "?", peer[72], kernel[72] = "?";
	struct utsname u;
	double spread;

	if (!uname(&u)) {
		plain(u.nodename, host, sizeof(host));
		plain(u.release, kernel, sizeof(kernel));
	}
	plain(o->host, peer, sizeof(peer));
	fprintf(g,
		"set terminal pngcairo size 1200,1100 font 'sans,10'\n"
		"set output '%s'\n",
		path);
	spread = plot_all_data(g, sw);
	/* Names from the command line and the host are data, not gnuplot:
	 * they go through gnuplot's single-quoted strings, which take
	 * nothing but a doubled quote specially ('' in the file name is
	 * refused before any run). */
	fprintf(g,
		"set multiplot layout 3,1 title \"zcopy bench on %s (Linux "
		"%s): %s to %s, %s%s, %u stream%s\\neach point the median "
		"of %u runs of %.2f s, its bar the slowest to the fastest "
		"run; modes drawn a little apart at each size\" font ',12'\n",
		host, kernel, o->udp ? "UDP" : "TCP", peer,
		o->reverse ? "the server sends (-R)" : "this host sends",
		o->rate ? ", paced (-b)" : "", o->streams,
		o->streams == 1 ? "" : "s", o->repeat, sw->duration);
	/* One right margin for every panel, so their axes line up; the key
	 * of the first stands in it. */
	fprintf(g, "set grid\nset rmargin at screen 0.78\n"
		   "set key at screen 0.995, screen 0.92 right top "
		   "title 'TX:RX (colour: TX, dash: RX)'\n");
	size_axis(g, o, spread);
	y_axis(g, sw, PLOT_GBPS);
	fprintf(g, "set title 'throughput (receiver)'\n");
	plot_panel(g, sw, 2, true);
	fprintf(g, "unset key\nset title 'sender CPU per GB'\n");
	y_axis(g, sw, PLOT_TX_CPU);
	plot_panel(g, sw, 5, false);
	fprintf(g, "set title 'receiver CPU per GB'\n");
	y_axis(g, sw, PLOT_RX_CPU);
	plot_panel(g, sw, 8, false);
	fprintf(g, "unset multiplot\n");
}

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
