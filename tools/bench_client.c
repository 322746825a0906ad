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
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"

#define MONITOR_MS 200
#define RESULT_WAIT_MS 20000 /* the server drains TCP for up to 10 s */
#define CHECK_US 50000	     /* availability check: one short run */
#define MIN_RUN_S 0.1
#define MAX_RUN_S 10.0

struct crun {
	const struct bench_opts *opts;
	int cfd;
	struct zb_run req;
	struct zb_ready ready;
	struct bench_sender snd[ZB_MAX_STREAMS];
	pthread_t th[ZB_MAX_STREAMS];
	unsigned nth;
	atomic_bool abort;
	_Atomic uint64_t progress;
	int64_t t0;
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
	uint64_t bytes = atomic_load(&r->progress);
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
		"\r\033[K[%3u/%u] %6s %-14s run %u/%u %8.2f Gbit/s  %d:%02d "
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
	if (ret)
		close(*fd);
	return ret;
}

static int start_senders(struct crun *r, double duration)
{
	const struct bench_cpus *cpus = &r->opts->cpus;
	int ret;

	r->t0 = bc_now_us();
	for (unsigned i = 0; i < r->req.streams; i++) {
		struct bench_sender *s = &r->snd[i];

		ret = open_stream(r, i, &s->fd);
		if (ret)
			return ret;
		s->run = &r->req;
		s->cpu = cpus->n ? cpus->cpu[i % cpus->n] : -1;
		s->deadline_us = r->t0 + (int64_t)(duration * 1e6);
		s->abort = &r->abort;
		s->progress = &r->progress;
		ret = -pthread_create(&r->th[i], NULL, bench_send_stream, s);
		if (ret) {
			close(s->fd);
			return ret;
		}
		r->nth++;
	}
	return 0;
}

/* While the senders run: show progress, and notice a server that died
 * (the control connection has nothing to say before DONE). */
static int monitor(struct crun *r, const struct progress *p)
{
	int64_t end = r->snd[0].deadline_us;

	while (bc_now_us() < end) {
		struct pollfd pfd = { .fd = r->cfd, .events = POLLIN };

		progress_show(p, r);
		if (poll(&pfd, 1, MONITOR_MS) > 0) {
			struct zb_msg m;
			int ret = bn_msg_recv(r->cfd, &m, r->opts->timeout_ms);

			atomic_store(&r->abort, true);
			return ret ? ret : -EBADMSG;
		}
	}
	return 0;
}

static void join_senders(struct crun *r, struct bench_run *out)
{
	int64_t last = r->t0;

	for (unsigned i = 0; i < r->nth; i++) {
		pthread_join(r->th[i], NULL);
		bench_tx_add(&out->tx, &r->snd[i].tx);
		if (r->snd[i].end_us > last)
			last = r->snd[i].end_us;
	}
	r->nth = 0;
	out->elapsed = (double)(last - r->t0) / 1e6;
}

static int finish(struct crun *r, struct bench_run *out)
{
	struct zb_msg m = { .type = ZB_DONE };
	int ret;

	m.done.bytes = out->tx.bytes;
	m.done.sends = out->tx.sends;
	m.done.error = out->tx.error < 0 ? -out->tx.error : 0;
	if (m.done.error > 4095)
		m.done.error = EIO;
	ret = bn_msg_send(r->cfd, &m, r->opts->timeout_ms);
	if (!ret)
		ret = bn_msg_recv(r->cfd, &m, RESULT_WAIT_MS);
	if (!ret && m.type == ZB_ERROR)
		return -EBADMSG;
	if (!ret && m.type != ZB_RESULT)
		ret = -EBADMSG;
	if (!ret)
		out->rx = m.result;
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

/* The run's error: a side that cannot do the mode explains why the
 * other side failed (a receiver that gives up breaks the sender's pipe). */
static int run_error(const struct bench_run *r)
{
	int rx = -r->rx.error;

	if (unavailable(rx) || !r->tx.error)
		return rx;
	return r->tx.error;
}

/*
 * One run.  Returns a negative errno when the control connection failed
 * (fatal for the sweep); a problem of the mode itself goes in *cell_err.
 */
static int run_once(const struct bench_opts *o, int cfd,
		    const struct bench_mode *mode, uint32_t size,
		    double duration, const struct progress *p,
		    struct bench_run *out, int *cell_err)
{
	struct crun r = { .opts = o, .cfd = cfd };
	int ret, err;

	r.req = (struct zb_run){
		.proto = o->udp ? ZB_UDP : ZB_TCP,
		.tx = mode->tx,
		.rx = mode->rx,
		.flags = o->read ? ZB_RUN_READ : 0,
		.streams = (uint16_t)o->streams,
		.mss = (uint16_t)o->mss,
		.msg_size = size,
		.duration_ms = (uint32_t)(duration * 1000) + 1,
	};
	memset(out, 0, sizeof(*out));
	*cell_err = 0;
	ret = start(&r, cell_err);
	if (ret || *cell_err)
		return ret;
	err = start_senders(&r, duration);
	ret = err ? 0 : monitor(&r, p);
	if (ret || err)
		atomic_store(&r.abort, true);
	join_senders(&r, out);
	if (err && !out->tx.error)
		out->tx.error = err;
	if (!ret)
		ret = finish(&r, out);
	if (!ret)
		*cell_err = run_error(out);
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

		p->mode = o->modes[m].name;
		p->size = o->sizes[0];
		ret = run_once(o, cfd, &o->modes[m], o->sizes[0],
			       CHECK_US / 1e6, p, &run, &err);
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

	ret = run_once(o, cfd, c->mode, c->size, duration, p, run, &err);
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
