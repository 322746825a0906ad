/* SPDX-License-Identifier: MIT */
/*
 * zcopy bench --plot: a gnuplot PNG people read.  Three panels over
 * message size on a log axis (throughput, sender CPU per GB, receiver CPU
 * per GB), each point a median with a bar from the slowest to the fastest
 * run, one colour per sending family (auto, copy, MSG_ZEROCOPY, io_uring)
 * with the receive mode as the dash, and open markers where no byte went
 * zero-copy.  Kernel and host are in the title.
 */
#include <errno.h>
#include <fcntl.h>
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

/* $mN: size, median, min, max Gbit/s, sender and receiver CPU s/GB (and
 * their min and max), whether any byte went zero-copy. */
static void plot_data(FILE *g, const struct bench_sweep *sw, unsigned m)
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
			const struct bench_run *r = &c->runs[i];

			tx[i] = r->tx.bytes ? (double)r->tx.cpu_usec /
						      (double)r->tx.bytes * 1e3
					    : 0;
			rx[i] = r->rx.bytes ? (double)r->rx.cpu_usec /
						      (double)r->rx.bytes * 1e3
					    : 0;
		}
		bc_median(tx, c->nruns);
		bc_median(rx, c->nruns);
		fprintf(g,
			"%u %.4f %.4f %.4f %.5f %.5f %.5f %.5f %.5f %.5f %d\n",
			c->size, su.gbps, su.gbps_min, su.gbps_max,
			su.tx_cpu_per_gb, tx[0], tx[c->nruns - 1],
			su.rx_cpu_per_gb, rx[0], rx[c->nruns - 1],
			su.zc_share >= ZC_MIN_SHARE);
	}
	fprintf(g, "EOD\n");
}

/* One panel: the median (column col) with its min-max bar (col + 1,
 * col + 2) per mode, as lines with bars and open points, then filled
 * points over the open ones where some bytes went zero-copy. */
static void plot_panel(FILE *g, const struct bench_sweep *sw, int col,
		       bool keys)
{
	const char *sep = "plot ";

	for (unsigned m = 0; m < sw->opts->nmodes; m++) {
		const struct bench_mode *md = &sw->opts->modes[m];
		const char *lc = family_colour(md->tx);

		if (!mode_ran(sw, m))
			continue;
		fprintf(g,
			"%s$m%u using 1:%d:%d:%d with yerrorlines lw 2 "
			"lc rgb '%s' dt %d pt %d ps 1.3 ",
			sep, m, col, col + 1, col + 2, lc, dash_type(md->rx),
			point_type(md->tx, false));
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

/* s for a gnuplot double-quoted string: no quote, no backslash. */
static const char *plain(const char *s, char *buf, size_t len)
{
	size_t i;

	for (i = 0; s[i] && i + 1 < len; i++)
		buf[i] = (char)(s[i] == '"' || s[i] == '\\' ? '?' : s[i]);
	buf[i] = '\0';
	return buf;
}

static void plot_script(FILE *g, const struct bench_sweep *sw, const char *path)
{
	const struct bench_opts *o = sw->opts;
	char sz[16], host[72] = "?", peer[72], kernel[72] = "?";
	struct utsname u;

	if (!uname(&u)) {
		plain(u.nodename, host, sizeof(host));
		plain(u.release, kernel, sizeof(kernel));
	}
	plain(o->host, peer, sizeof(peer));
	fprintf(g,
		"set terminal pngcairo size 1200,1100 font 'sans,10'\n"
		"set output '%s'\n",
		path);
	for (unsigned m = 0; m < o->nmodes; m++)
		plot_data(g, sw, m);
	/* Names from the command line and the host are data, not gnuplot:
	 * they go through gnuplot's single-quoted strings, which take
	 * nothing but a doubled quote specially ('' in the file name is
	 * refused before any run). */
	fprintf(g,
		"set multiplot layout 3,1 title \"zcopy bench on %s (Linux "
		"%s): %s to %s, %s%s\\n%u stream(s); each point the median "
		"of %u runs of %.2f s, its bar the slowest to the fastest "
		"run\" font ',12'\n",
		host, kernel, o->udp ? "UDP" : "TCP", peer,
		o->reverse ? "the server sends (-R)" : "this host sends",
		o->rate ? ", paced (-b)" : "", o->streams, o->repeat,
		sw->duration);
	/* One right margin for every panel, so their axes line up; the key
	 * of the first stands in it. */
	fprintf(g, "set logscale x 2\nset grid\nset rmargin at screen 0.78\n"
		   "set key at screen 0.995, screen 0.92 right top\n"
		   "set xlabel 'message size (bytes, log scale)'\nset xtics (");
	for (unsigned s = 0; s < o->nsizes; s++)
		fprintf(g, "%s'%s' %u", s ? ", " : "",
			bench_size_str(o->sizes[s], sz, sizeof(sz)),
			o->sizes[s]);
	/* Half a step of margin each side: one size alone is still a range. */
	fprintf(g,
		")\nset xrange [%g:%g]\nset yrange [0:*]\n"
		"set title 'throughput (receiver)'\nset ylabel 'Gbit/s'\n",
		o->sizes[0] / 1.4142, o->sizes[o->nsizes - 1] * 1.4142);
	plot_panel(g, sw, 2, true);
	fprintf(g, "set title 'sender CPU per GB'\n"
		   "set ylabel 'CPU s per GB'\n");
	plot_panel(g, sw, 5, false);
	fprintf(g, "set title 'receiver CPU per GB'\n");
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
