/* SPDX-License-Identifier: MIT */
/* zcopy bench: what its parts share (options, results, helpers). */
#ifndef ZC_TOOLS_BENCH_H
#define ZC_TOOLS_BENCH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <zcopy/zcopy.h>

#include "bench_proto.h"
#include "benchcore.h"

#define BENCH_MAX_MODES 32
#define BENCH_MAX_SIZES 32
#define BENCH_MAX_REPEAT 50
#define BENCH_MAX_CPUS 64
#define BENCH_MAX_INTERVALS 3600
#define BENCH_DEFAULT_PORT 5301

enum bench_role { BENCH_LOCAL, BENCH_SERVER, BENCH_CLIENT };

/* One thing to measure: a sender mode and a receiver mode, named TX:RX. */
struct bench_mode {
	uint8_t tx; /* enum zc_tx_mode */
	uint8_t rx; /* enum zc_rx_mode */
	char name[32];
};

struct bench_cpus {
	int cpu[BENCH_MAX_CPUS];
	unsigned n; /* 0: no pinning */
};

struct bench_opts {
	enum bench_role role;
	const char *host; /* client: server to connect to */
	const char *bind; /* server: address to listen on, NULL: any */
	uint16_t port;
	int family; /* AF_UNSPEC, AF_INET or AF_INET6 */
	bool udp;
	bool reverse;	 /* -R: the server sends */
	uint64_t rate;	 /* -b: bits per second per stream, 0: no limit */
	double interval; /* -i: seconds between interval lines, 0: none */
	struct bench_mode modes[BENCH_MAX_MODES];
	unsigned nmodes;
	uint32_t sizes[BENCH_MAX_SIZES];
	const char *size_args[BENCH_MAX_SIZES]; /* as given; NULL: default */
	unsigned nsizes;
	double duration; /* seconds per run; 0: fit the sweep in budget */
	double budget;	 /* --budget: seconds for the whole sweep, or 0 */
	unsigned repeat;
	unsigned streams;
	struct bench_cpus cpus;	       /* this side's streams */
	struct bench_cpus server_cpus; /* local mode: the server's streams */
	bool read;		       /* receiver reads every byte */
	unsigned mss;
	bool json, csv, quiet, once;
	const char *plot;
	int timeout_ms; /* control messages and connects */
};

/* The sums over a run's streams are kept in the same shape as one
 * stream's figures (struct zb_side, bench_proto.h). */

/* Interval samples of one run (-i): the end of each interval in seconds
 * from the start, and per interval and stream the bytes this end moved
 * and, sending TCP, the retransmits (-1: not known here). */
struct bench_intervals {
	unsigned n, streams;
	double *end;	  /* [n] */
	uint64_t *bytes;  /* [n * streams] */
	int64_t *retrans; /* [n * streams] */
};

struct bench_run {
	struct zb_side tx, rx;	   /* sums over the streams */
	struct zb_side *stx, *srx; /* per stream (one block, stx first) */
	unsigned streams;
	uint64_t rx_span_usec; /* receivers: first byte of any to last */
	double elapsed;	       /* seconds: the senders' run */
	struct bench_intervals iv;
};

/* One (mode, size) cell of the sweep. */
struct bench_cell {
	const struct bench_mode *mode;
	uint32_t size;
	struct bench_run runs[BENCH_MAX_REPEAT];
	unsigned nruns;
	int error;	  /* negative errno; the cell is not measured */
	bool unavailable; /* the error says the mode cannot run here */
};

/* What auto did at one end over a cell's runs: the median cost of each
 * path in CPU seconds per GB (0: never measured), and the path in use
 * and why at the end of the last run (why 0: that end was not auto). */
struct bench_auto {
	double cost_copy, cost_zc;
	int path; /* enum zc_tx_mode (sender) or zc_rx_mode (receiver) */
	int why;  /* enum zc_policy_why */
};

/* Medians (and totals) over a cell's runs. */
struct bench_summary {
	double gbps, gbps_min, gbps_max;
	double tx_cpu_per_gb, rx_cpu_per_gb; /* CPU seconds per GB */
	uint64_t sent, received, sends, completions, fallbacks, retrans;
	uint64_t tx_packets, rx_packets;
	double zc_share, copied_share, kernel_copied_share, rx_mapped_share;
	double lost_share; /* UDP: datagrams sent but not received */
	int tx_only; /* enum zc_tx_mode that carried every send; -1: several */
	struct bench_auto tx_auto, rx_auto;
};

/* The verdict at one size, for the table and for JSON. */
enum bench_decision {
	BENCH_NO_MODE,	    /* nothing ran */
	BENCH_ONLY_MODE,    /* one mode ran */
	BENCH_WITHIN_NOISE, /* no winner: ranges overlap, or all alike */
	BENCH_WINNER,	    /* best's slowest run beat all others' fastest */
};

struct bench_judgement {
	enum bench_decision decision;
	unsigned ran;		       /* modes that ran */
	const struct bench_cell *best; /* highest median */
	/* Highest median among the modes that behave otherwise than best. */
	const struct bench_cell *next;
	double best_gbps, next_gbps; /* their medians */
	double best_min;	     /* best's slowest run */
	double next_max; /* fastest run of any mode that behaves otherwise */
	/* Per mode: the first mode that behaves alike (itself if none),
	 * -1 if it did not run; and the transport of all its sends, -1 if
	 * several. */
	int group[BENCH_MAX_MODES];
	int tx_only[BENCH_MAX_MODES];
};

struct bench_sweep {
	const struct bench_opts *opts;
	struct bench_cell *cells; /* size-major: cells[size * nmodes + mode] */
	unsigned ncells;
	double duration; /* seconds per run actually used */
};

/* ---- bench_net.c: sockets and control messages, all with timeouts ---- */
/*
 * bn_ functions return 0 or a negative errno; a host name the resolver
 * cannot resolve gives bn_gai_error(EAI_...), below errno's range, so
 * that bn_strerror() can print the resolver's own words (gai_strerror).
 */
#define BN_EGAI_BASE 8192
#define BN_EGAI_MIN (-1000) /* glibc's EAI_ codes are above this */
int bn_gai_error(int eai);
int bn_listen(const char *addr, uint16_t port, int family, int type, int *out);
int bn_connect(const char *host, uint16_t port, int family, int type,
	       int timeout_ms, int *out);
/* Connect to the peer of cfd on another port (setting TCP_MAXSEG first). */
int bn_connect_like(int cfd, uint16_t port, int type, unsigned mss,
		    int timeout_ms, int *out);
int bn_accept(int lfd, int timeout_ms, int *out);
/* A socket of type bound to the local address of cfd, any port. */
int bn_listen_like(int cfd, int type, int *out);
int bn_wait_readable(int fd, int timeout_ms);
int bn_read_full(int fd, void *buf, size_t len, int timeout_ms);
/* Read and drop whatever comes until the peer hangs up. */
int bn_wait_eof(int fd, int timeout_ms);
int bn_write_full(int fd, const void *buf, size_t len, int timeout_ms);
int bn_msg_send(int fd, const struct zb_msg *msg, int timeout_ms);
int bn_msg_recv(int fd, struct zb_msg *msg, int timeout_ms);
/* GO, the receiving end's word that its receivers wait (ZB_GO);
 * bn_recv_go() waits up to twice the timeout and a second. */
int bn_send_go(int fd, int timeout_ms);
int bn_recv_go(int fd, int timeout_ms);
uint16_t bn_local_port(int fd);
int bn_peer_host(int fd, char *buf, size_t len);
int bn_set_mss(int fd, unsigned mss);
/* Clear O_NONBLOCK: calls then wait in the kernel as plain ones do. */
int bn_set_blocking(int fd);
/* Text for a control-connection error: what went wrong with the peer. */
const char *bn_strerror(int err);

/* ---- bench_worker.c: one thread and one context per stream ----------- */
/*
 * A stream's end: a sender (sends for the run's duration, paced if the
 * run says so) or a receiver (blocks in zc_recv() as a plain receiver
 * blocks in recv(), until the end of the stream).  The socket stays its
 * owner's: the owner closes it after the join, and ends a receive that
 * must stop (UDP, a dead peer) by shutting it down for reading.
 */
struct bench_stream {
	int fd; /* blocking while a receiver runs (but io_uring's) */
	const struct zb_run *run;
	int cpu;		     /* -1: not pinned */
	int64_t deadline_us;	     /* sender */
	atomic_bool *stop;	     /* sender: abort; receiver: stop now */
	atomic_uint *ready;	     /* receiver: counts it once set up */
	_Atomic uint64_t live_bytes; /* so far, for intervals and progress */
	struct bc_count count;	     /* receiver: its first and last byte */
	int64_t start_us, end_us;
	struct zb_side side;
};

void *bench_send_stream(void *arg);
void *bench_recv_stream(void *arg);

/* The data streams of one run at one end, and their threads. */
struct bench_streams {
	const struct zb_run *run;
	bool send; /* this end sends */
	unsigned n;
	int fd[ZB_MAX_STREAMS]; /* -1 or owned: closed by bench_streams_close */
	struct bench_stream st[ZB_MAX_STREAMS];
	pthread_t th[ZB_MAX_STREAMS];
	unsigned nth;
	atomic_bool stop;
	atomic_uint ready; /* receivers set up (or failed) */
};
/* Bytes moved so far by all streams (for the progress line). */
uint64_t bench_streams_bytes(const struct bench_streams *s);
void bench_streams_init(struct bench_streams *s, const struct zb_run *run,
			bool send);
/* Start a thread for each of the n fds (set in s->fd), stream i pinned to
 * cpus[i % n]; a sender sends until deadline_us. */
int bench_streams_start(struct bench_streams *s, const struct bench_cpus *cpus,
			int64_t deadline_us);
/* Stop every stream now: senders abort, receivers return (their sockets
 * shut down for reading). */
void bench_streams_stop(struct bench_streams *s);
/*
 * Start the streams' threads (unless *err: a stream failed) around GO on
 * the control connection cfd: senders wait for the peer's GO, then start;
 * receivers start and say GO once set up (or failed), at most timeout_ms
 * later.  GO goes both ways even after a stream error, so the protocol
 * stays in step.  *t0 is when the senders' run of duration_us starts (or
 * the receivers').  A negative errno only when the control connection
 * failed; a thread that cannot start is the run's error (*err).
 */
int bench_streams_go(struct bench_streams *s, int cfd,
		     const struct bench_cpus *cpus, int64_t duration_us,
		     int timeout_ms, int *err, int64_t *t0);
/* Join the threads; those not done within timeout_ms (-1: no limit) are
 * stopped first. */
void bench_streams_join(struct bench_streams *s, int timeout_ms);
/* Close the sockets (a TCP peer sees the end of the stream). */
void bench_streams_close(struct bench_streams *s);
/* This end's span: receivers' first byte to last, or senders' first send
 * to last completion, in microseconds. */
uint64_t bench_streams_span(const struct bench_streams *s);

/* ---- bench_server.c ---------------------------------------------------- */
/* Serve sessions on a listening control socket (one, if opts->once). */
int bench_serve(const struct bench_opts *opts, int lfd);

/* ---- bench_client.c ---------------------------------------------------- */
/* Run the whole sweep over the control connection cfd. */
int bench_client(const struct bench_opts *opts, int cfd,
		 struct bench_sweep *sweep);
void bench_run_free(struct bench_run *r);

/* ---- bench_report.c ---------------------------------------------------- */
void bench_summarize(const struct bench_cell *cell, struct bench_summary *s);
void bench_side_add(struct zb_side *sum, const struct zb_side *one);
/* The receiver's throughput, by its own clock (first to last byte). */
double bench_run_gbps(const struct bench_run *r);
/* Stream i's receiver throughput, likewise. */
double bench_stream_gbps(const struct bench_run *r, unsigned i);
/* UDP: the share of sent bytes (datagrams) the receiver did not get. */
double bench_lost_share(const struct zb_side *tx, const struct zb_side *rx);
/* "cheaper", "small", ...: an enum zc_policy_why for people. */
const char *bench_why_name(int why);
/* The path auto used at one end: a transport's name, or "-". */
const char *bench_auto_path(const struct bench_auto *a, bool send);
/* "unavailable: why" or "failed: why" for a cell that did not run. */
const char *bench_cell_error(const struct bench_cell *c, char *buf, size_t len);
/* Judge the modes at one size (index into opts->sizes): a winner only if
 * its slowest run beat the fastest run of every mode that behaves
 * otherwise (at least two runs each); modes whose sends all took one
 * transport, receiving alike, behave the same and do not compete. */
void bench_judge(const struct bench_sweep *sw, unsigned size,
		 struct bench_judgement *j);
/* The judgement as text, with whether zero-copy really happened. */
void bench_verdict(const struct bench_sweep *sw, unsigned size, char *buf,
		   size_t len);
void bench_print_table(const struct bench_sweep *sweep);
void bench_print_csv(const struct bench_sweep *sweep);
/* Interval lines (-i), iperf3's layout, printed as they come: a heading
 * per run, then interval k of run r (a line per stream, and a sum). */
void bench_print_interval_head(const struct bench_opts *o,
			       const struct bench_cell *c, unsigned run);
void bench_print_interval(const struct bench_opts *o, const struct bench_run *r,
			  unsigned k);
int bench_plot(const struct bench_sweep *sweep, const char *path);
/* "64K", "1M": sizes as people write them. */
const char *bench_size_str(uint32_t size, char *buf, size_t len);

/* ---- bench_json.c (built with jansson only) ----------------------------- */
int bench_print_json(const struct bench_sweep *sweep);

#endif
