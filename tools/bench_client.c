/* SPDX-License-Identifier: MIT */
/*
 * zcopy bench client: runs the sweep over one control connection.  Modes
 * are interleaved within each size, and their order rotates from one
 * round to the next, so the machine's noise hits every mode alike.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"

#define MONITOR_MS 200
#define RESULT_WAIT_MS 20000 /* the server drains TCP for up to 10 s */
#define CHECK_US 50000	     /* availability check: one short run */
#define DRAIN_MS 10000	     /* -R, TCP: EOF after the report, at most */
#define UDP_GRACE_US 100000  /* -R, UDP: datagrams still on their way */
#define CLOSE_WAIT_MS 10000  /* senders close within this */
#define MIN_RUN_S 0.1
#define MAX_RUN_S 10.0

struct crun {
	const struct bench_opts *opts;
	int cfd;
	bool reverse;
	struct zb_run req;
	struct zb_ready ready;
	struct bench_streams streams;
	struct zb_side peer[ZB_MAX_STREAMS]; /* the server's end */
	struct zb_result result;
	int64_t t0;
	/* -i: samples so far */
	struct bench_run *out;
	const struct bench_cell *cell;
	unsigned run_index;
	int64_t next_iv_us;
	uint64_t iv_bytes[ZB_MAX_STREAMS];
	uint64_t iv_retrans[ZB_MAX_STREAMS];
	unsigned iv_max;
};

/* What the progress line needs to know about the sweep. */
struct progress {
	bool on;
	unsigned done, total;
	int64_t start_us;
	const char *mode;
	uint32_t size;
	unsigned rep, repeat;
	double run_s; /* planned seconds per run */
};

static void progress_show(const struct progress *p, const struct crun *r)
{
	double el = (double)(bc_now_us() - r->t0) / 1e6;
	uint64_t bytes = bench_streams_bytes(&r->streams);
	double spent = (double)(bc_now_us() - p->start_us) / 1e6;
	/* Until a run is done, the plan is the best guess. */
	double left = p->done ? spent / p->done * (p->total - p->done)
			      : p->total * p->run_s;
	char sz[16];

	if (!p->on)
		return;
	if (!p->total) {
		fprintf(stderr, "\r\033[K[check] %6s %s",
			bench_size_str(p->size, sz, sizeof(sz)), p->mode);
		fflush(stderr);
		return;
	}
	fprintf(stderr,
		"\r\033[K[%3u/%u] %6s %-16s run %u/%u %8.2f Gbit/s  %d:%02d "
		"left",
		p->done + 1, p->total, bench_size_str(p->size, sz, sizeof(sz)),
		p->mode, p->rep + 1, p->repeat,
		el > 0 ? (double)bytes * 8 / el / 1e9 : 0.0, (int)left / 60,
		(int)left % 60);
	fflush(stderr);
}

static int open_stream(struct crun *r, unsigned i, int *fd)
{
	bool udp = r->req.proto == ZB_UDP;
	uint16_t port = r->ready.ports[udp ? i : 0];
	int ret;

	ret = bn_connect_like(r->cfd, port, udp ? SOCK_DGRAM : SOCK_STREAM,
			      r->req.mss, r->opts->timeout_ms, fd);
	if (ret)
		return ret;
	/* The cookie tells the server this stream belongs to the run. */
	ret = bn_write_full(*fd, &r->ready.cookie, sizeof(r->ready.cookie),
			    r->opts->timeout_ms);
	if (ret) {
		close(*fd);
		*fd = -1;
	}
	return ret;
}

/* The streams connected, then their threads around GO (a stream that
 * failed is the run's error, *err). */
static int start_streams(struct crun *r, double duration, int *err)
{
	int ret;

	*err = 0;
	for (unsigned i = 0; i < r->req.streams && !*err; i++) {
		*err = open_stream(r, i, &r->streams.fd[i]);
		if (!*err)
			r->streams.n++;
	}
	ret = bench_streams_go(&r->streams, r->cfd, &r->opts->cpus,
			       (int64_t)(duration * 1e6), r->opts->timeout_ms,
			       err, &r->t0);
	r->next_iv_us = r->t0 + (int64_t)(r->opts->interval * 1e6);
	return ret;
}

/* ---- intervals (-i) ------------------------------------------------------ */

static int intervals_alloc(struct crun *r, double duration)
{
	struct bench_intervals *iv = &r->out->iv;
	unsigned n = r->req.streams;

	if (r->opts->interval <= 0 || !n)
		return 0;
	r->iv_max = (unsigned)(duration / r->opts->interval) + 2;
	if (r->iv_max > BENCH_MAX_INTERVALS)
		r->iv_max = BENCH_MAX_INTERVALS;
	iv->streams = n;
	iv->end = calloc(r->iv_max, sizeof(*iv->end));
	iv->bytes = calloc((size_t)r->iv_max * n, sizeof(*iv->bytes));
	iv->retrans = calloc((size_t)r->iv_max * n, sizeof(*iv->retrans));
	return iv->end && iv->bytes && iv->retrans ? 0 : -ENOMEM;
}

/* Record one interval ending now (or at end_us), with the bytes each
 * stream moved since the last and, sending TCP, its retransmits. */
static void interval_record(struct crun *r, int64_t end_us, const bool final)
{
	struct bench_intervals *iv = &r->out->iv;
	bool retrans = !r->reverse && r->req.proto == ZB_TCP;
	unsigned k = iv->n;

	if (!iv->end || k == r->iv_max)
		return;
	iv->end[k] = (double)(end_us - r->t0) / 1e6;
	for (unsigned i = 0; i < iv->streams; i++) {
		const struct bench_stream *st = &r->streams.st[i];
		uint64_t b = final ? st->side.bytes
				   : atomic_load_explicit(&st->live_bytes,
							  memory_order_relaxed);
		uint64_t t = r->iv_retrans[i];
		size_t at = (size_t)k * iv->streams + i;

		iv->bytes[at] = b >= r->iv_bytes[i] ? b - r->iv_bytes[i] : 0;
		r->iv_bytes[i] = b;
		iv->retrans[at] = -1;
		if (!retrans || i >= r->streams.n)
			continue;
		if (final)
			t = st->side.retrans;
		else
			bc_tcp_retrans(r->streams.fd[i], &t);
		iv->retrans[at] =
			(int64_t)(t >= r->iv_retrans[i] ? t - r->iv_retrans[i]
							: 0);
		r->iv_retrans[i] = t;
	}
	iv->n++;
	if (!r->opts->json && !r->opts->csv)
		bench_print_interval(r->opts, r->out, k);
}

static void interval_tick(struct crun *r)
{
	if (r->opts->interval <= 0)
		return;
	while (bc_now_us() >= r->next_iv_us) {
		if (!r->out->iv.n && !r->opts->json && !r->opts->csv)
			bench_print_interval_head(r->opts, r->cell,
						  r->run_index);
		interval_record(r, bc_now_us(), false);
		r->next_iv_us += (int64_t)(r->opts->interval * 1e6);
	}
}

/* The last, partial interval, up to when this end's streams were done. */
static void interval_last(struct crun *r)
{
	int64_t end = r->t0 + (int64_t)bench_streams_span(&r->streams);
	const struct bench_intervals *iv = &r->out->iv;
	double last = iv->n ? iv->end[iv->n - 1] : 0;

	if (r->opts->interval <= 0)
		return;
	for (unsigned i = 0; i < r->streams.n; i++) {
		int64_t e = r->reverse ? r->streams.st[i].count.last_us
				       : r->streams.st[i].end_us;

		if (e > end)
			end = e;
	}
	if ((double)(end - r->t0) / 1e6 - last < 0.001)
		return;
	if (!iv->n && !r->opts->json && !r->opts->csv)
		bench_print_interval_head(r->opts, r->cell, r->run_index);
	interval_record(r, end, true);
}

/* ---- the run --------------------------------------------------------------- */

/* Until the senders' deadline, or (-R) until the server's report comes:
 * show progress and intervals, and notice a server that died. */
static int monitor(struct crun *r, const struct progress *p, int64_t end)
{
	while (bc_now_us() < end) {
		struct pollfd pfd = { .fd = r->cfd, .events = POLLIN };
		int64_t wake = bc_now_us() + (int64_t)MONITOR_MS * 1000;
		int ms;

		if (r->opts->interval > 0 && r->next_iv_us < wake)
			wake = r->next_iv_us;
		if (wake > end)
			wake = end;
		ms = (int)((wake - bc_now_us() + 999) / 1000);
		progress_show(p, r);
		if (poll(&pfd, 1, ms < 0 ? 0 : ms) > 0) {
			struct zb_msg m;
			int ret;

			/* -R: the report is the end of the run. */
			if (r->reverse)
				return 0;
			ret = bn_msg_recv(r->cfd, &m, r->opts->timeout_ms);
			bench_streams_stop(&r->streams);
			return ret ? ret : -EBADMSG;
		}
		interval_tick(r);
	}
	return r->reverse ? -ETIMEDOUT : 0;
}

/* The server's end of every stream, then the run. */
static int read_report(struct crun *r, int timeout_ms)
{
	struct zb_msg m;
	int ret;

	for (unsigned i = 0; i < r->req.streams; i++) {
		ret = bn_msg_recv(r->cfd, &m, timeout_ms);
		if (!ret && m.type == ZB_ERROR)
			return -EBADMSG;
		if (!ret && (m.type != ZB_STREAM || m.stream.index != i))
			ret = -EBADMSG;
		if (ret)
			return ret;
		r->peer[i] = m.stream.side;
	}
	ret = bn_msg_recv(r->cfd, &m, timeout_ms);
	if (!ret && (m.type != ZB_RESULT || m.result.streams != r->req.streams))
		ret = -EBADMSG;
	if (!ret)
		r->result = m.result;
	return ret;
}

static int send_done(struct crun *r)
{
	struct zb_msg m = { .type = ZB_DONE };

	for (unsigned i = 0; i < r->streams.n; i++) {
		const struct zb_side *s = &r->streams.st[i].side;

		m.done.bytes += s->bytes;
		m.done.sends += s->ops;
		if (!m.done.error)
			m.done.error = s->error;
	}
	return bn_msg_send(r->cfd, &m, r->opts->timeout_ms);
}

/* The client sent: its senders are done by their deadline; closing their
 * sockets ends the server's TCP streams; DONE asks for the report. */
static int finish_send(struct crun *r)
{
	int ret;

	bench_streams_join(&r->streams, CLOSE_WAIT_MS);
	interval_last(r);
	bench_streams_close(&r->streams);
	ret = send_done(r);
	return ret ? ret : read_report(r, RESULT_WAIT_MS);
}

/* -R: the report came; the client's receivers end at EOF (TCP) or when
 * what is on its way has arrived (UDP). */
static int finish_recv(struct crun *r)
{
	int ret = read_report(r, r->opts->timeout_ms);

	if (ret || r->req.proto == ZB_UDP) {
		if (!ret)
			usleep(UDP_GRACE_US);
		bench_streams_stop(&r->streams);
	}
	bench_streams_join(&r->streams, DRAIN_MS);
	interval_last(r);
	bench_streams_close(&r->streams);
	return ret;
}

/* RUN -> READY; an ERROR reply is the mode's problem: *cell_err.  A busy
 * server says BUSY (to the first RUN) and hangs up: -EBUSY. */
static int start(struct crun *r, int *cell_err)
{
	struct zb_msg m = { .type = ZB_RUN, .run = r->req };
	int ret;

	ret = bn_msg_send(r->cfd, &m, r->opts->timeout_ms);
	/* Even if it hung up already, BUSY may wait to be read. */
	if (!ret || ret == -EPIPE)
		ret = bn_msg_recv(r->cfd, &m, r->opts->timeout_ms);
	if (!ret && m.type == ZB_BUSY)
		return -EBUSY;
	if (ret)
		return ret;
	if (m.type == ZB_ERROR) {
		*cell_err = -m.error;
		return 0;
	}
	if (m.type != ZB_READY ||
	    m.ready.nports != (r->req.proto == ZB_UDP ? r->req.streams : 1))
		return -EBADMSG;
	r->ready = m.ready;
	return 0;
}

/* Errors that say the mode (or size) cannot run here at all. */
static bool unavailable(int err)
{
	return err == -EOPNOTSUPP || err == -ENOSYS ||
	       err == -EPROTONOSUPPORT || err == -EMSGSIZE;
}

/* The run's error (negative): a side that cannot do the mode explains why
 * the other side failed (a receiver that gives up breaks the sender's
 * pipe). */
static int run_error(const struct bench_run *r, int server_err)
{
	int rx = -r->rx.error, tx = -r->tx.error;

	if (unavailable(rx) || !tx)
		return rx ? rx : -server_err;
	return tx;
}

/* The run's figures: per stream from both ends, and their sums. */
static int collect(struct crun *r, struct bench_run *out)
{
	struct zb_side *mine, *theirs, tx = { 0 }, rx = { 0 };
	unsigned n = r->req.streams;

	/* One block: the senders' ends, then the receivers'. */
	out->stx = n ? calloc(2 * (size_t)n, sizeof(*out->stx)) : NULL;
	if (!out->stx)
		return -ENOMEM;
	out->srx = out->stx + n;
	out->streams = n;
	mine = r->reverse ? out->srx : out->stx;
	theirs = r->reverse ? out->stx : out->srx;
	for (unsigned i = 0; i < n; i++) {
		mine[i] = r->streams.st[i].side;
		theirs[i] = r->peer[i];
		bench_side_add(&tx, &out->stx[i]);
		bench_side_add(&rx, &out->srx[i]);
	}
	out->tx = tx;
	out->rx = rx;
	out->rx_span_usec = r->reverse ? bench_streams_span(&r->streams)
				       : r->result.span_usec;
	out->elapsed = (double)(r->reverse ? r->result.span_usec
					   : bench_streams_span(&r->streams)) /
		       1e6;
	return 0;
}

/*
 * One run.  Returns a negative errno when the control connection failed
 * (fatal for the sweep); a problem of the mode itself goes in *cell_err.
 */
static int run_once(const struct bench_opts *o, int cfd,
		    const struct bench_cell *cell, double duration,
		    const struct progress *p, struct bench_run *out,
		    int *cell_err)
{
	struct crun *r = calloc(1, sizeof(*r));
	int64_t end;
	int ret, err;

	memset(out, 0, sizeof(*out));
	*cell_err = 0;
	if (!r)
		return -ENOMEM;
	r->opts = o;
	r->cfd = cfd;
	r->reverse = o->reverse;
	r->out = out;
	r->cell = cell;
	r->run_index = cell->nruns;
	r->req = (struct zb_run){
		.proto = o->udp ? ZB_UDP : ZB_TCP,
		.tx = cell->mode->tx,
		.rx = cell->mode->rx,
		.flags = (o->read ? ZB_RUN_READ : 0) |
			 (o->reverse ? ZB_RUN_REVERSE : 0),
		.streams = (uint16_t)o->streams,
		.mss = (uint16_t)o->mss,
		.msg_size = cell->size,
		.duration_ms = (uint32_t)(duration * 1000) + 1,
		.rate = o->rate,
	};
	bench_streams_init(&r->streams, &r->req, !o->reverse);
	ret = start(r, cell_err);
	if (ret || *cell_err)
		goto out;
	ret = intervals_alloc(r, duration);
	if (ret)
		goto out;
	ret = start_streams(r, duration, &err);
	if (ret)
		goto out;
	end = r->t0 + (int64_t)(duration * 1e6);
	if (r->reverse)
		end += (int64_t)(o->timeout_ms + CLOSE_WAIT_MS) * 1000;
	ret = err && !r->reverse ? 0 : monitor(r, p, end);
	if (!ret)
		ret = r->reverse ? finish_recv(r) : finish_send(r);
	if (!ret)
		ret = collect(r, out);
	if (!ret) {
		if (err && !out->tx.error && !out->rx.error)
			out->tx.error = -err;
		*cell_err = run_error(out, r->result.error);
	}
out:
	bench_streams_stop(&r->streams);
	bench_streams_join(&r->streams, -1);
	bench_streams_close(&r->streams);
	free(r);
	return ret;
}

static void cell_fail(struct bench_cell *c, int err)
{
	c->error = err;
	c->unavailable = unavailable(err);
}

/* A short run of every mode: which ones work at all, before spending
 * the budget. */
static int check_modes(const struct bench_opts *o, int cfd,
		       struct bench_sweep *sw, struct progress *p)
{
	for (unsigned m = 0; m < o->nmodes; m++) {
		struct bench_run run;
		int ret, err;

		const struct bench_cell *c = &sw->cells[m];
		struct bench_opts quiet = *o;

		p->mode = o->modes[m].name;
		p->size = o->sizes[0];
		quiet.interval = 0; /* no interval lines for the check */
		ret = run_once(&quiet, cfd, c, CHECK_US / 1e6, p, &run, &err);
		bench_run_free(&run);
		if (ret)
			return ret;
		if (err && unavailable(err) && err != -EMSGSIZE)
			for (unsigned s = 0; s < o->nsizes; s++)
				cell_fail(&sw->cells[s * o->nmodes + m], err);
	}
	return 0;
}

static double run_seconds(const struct bench_opts *o,
			  const struct bench_sweep *sw, int64_t start_us)
{
	double left = o->budget - (double)(bc_now_us() - start_us) / 1e6;
	unsigned runs = 0;
	double d;

	if (o->duration > 0)
		return o->duration;
	for (unsigned i = 0; i < sw->ncells; i++)
		runs += sw->cells[i].error ? 0 : o->repeat;
	/* About a tenth of each run goes to setup and draining. */
	d = runs ? left / runs * 0.9 : MIN_RUN_S;
	return d < MIN_RUN_S ? MIN_RUN_S : d > MAX_RUN_S ? MAX_RUN_S : d;
}

static int run_cell(const struct bench_opts *o, int cfd, struct bench_cell *c,
		    double duration, const struct progress *p)
{
	struct bench_run *run = &c->runs[c->nruns];
	int ret, err;

	ret = run_once(o, cfd, c, duration, p, run, &err);
	if (ret || err)
		bench_run_free(run);
	if (ret)
		return ret;
	if (err)
		cell_fail(c, err);
	else
		c->nruns++;
	return 0;
}

static unsigned runs_left(const struct bench_sweep *sw, unsigned repeat)
{
	unsigned n = 0;

	for (unsigned i = 0; i < sw->ncells; i++)
		n += sw->cells[i].error ? 0 : repeat - sw->cells[i].nruns;
	return n;
}

struct size_sweep {
	const struct bench_opts *opts;
	int cfd;
	struct bench_sweep *sw;
	unsigned size;
	struct progress *p;
};

/* One run of one mode at the size (bc_rounds interleaves them). */
static int sweep_one(unsigned m, unsigned rep, void *arg)
{
	struct size_sweep *ss = arg;
	struct bench_cell *c = &ss->sw->cells[ss->size * ss->opts->nmodes + m];
	int ret;

	if (c->error)
		return 0;
	ss->p->mode = c->mode->name;
	ss->p->size = c->size;
	ss->p->rep = rep;
	ret = run_cell(ss->opts, ss->cfd, c, ss->sw->duration, ss->p);
	if (!ret)
		ss->p->done++;
	return ret;
}

void bench_run_free(struct bench_run *r)
{
	free(r->stx); /* srx is in the same block */
	free(r->iv.end);
	free(r->iv.bytes);
	free(r->iv.retrans);
	r->stx = r->srx = NULL;
	r->iv = (struct bench_intervals){ 0 };
}

static int sweep_size(const struct bench_opts *o, int cfd,
		      struct bench_sweep *sw, unsigned s, struct progress *p)
{
	struct size_sweep ss = {
		.opts = o, .cfd = cfd, .sw = sw, .size = s, .p = p
	};

	return bc_rounds(o->nmodes, o->repeat, sweep_one, &ss);
}

int bench_client(const struct bench_opts *o, int cfd, struct bench_sweep *sw)
{
	struct progress p = { .on = !o->quiet && isatty(STDERR_FILENO),
			      .repeat = o->repeat,
			      .start_us = bc_now_us() };
	struct zb_msg bye = { .type = ZB_BYE };
	char sz[16];
	int ret;

	ret = check_modes(o, cfd, sw, &p);
	if (ret)
		goto out;
	sw->duration = run_seconds(o, sw, p.start_us);
	p.total = runs_left(sw, o->repeat);
	p.run_s = sw->duration;
	p.start_us = bc_now_us();
	for (unsigned s = 0; s < o->nsizes && !ret; s++)
		ret = sweep_size(o, cfd, sw, s, &p);
	/* The server hangs up after BYE once it takes clients again: a
	 * client started after this one finds it free. */
	if (!ret && !bn_msg_send(cfd, &bye, o->timeout_ms))
		bn_wait_eof(cfd, o->timeout_ms);
out:
	if (p.on)
		fprintf(stderr, "\r\033[K");
	if (ret == -EBUSY)
		fprintf(stderr, "zcopy bench: %s: %s\n", o->host,
			bn_strerror(ret));
	else if (ret)
		fprintf(stderr, "zcopy bench: %s: during %s %s: %s\n", o->host,
			p.mode, bench_size_str(p.size, sz, sizeof(sz)),
			bn_strerror(ret));
	return ret;
}
