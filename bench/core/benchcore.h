/* SPDX-License-Identifier: MIT */
/*
 * The bench core: what `zcopy bench`, `zcopy probe` and the programs in
 * bench/ share, so that they pin, time, read the error queue and run
 * plain loops one way.  Plain system calls only: no libzcopy here, so
 * that the baselines it runs owe nothing to the library they measure.
 */
#ifndef ZC_BENCHCORE_H
#define ZC_BENCHCORE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- clocks (CLOCK_MONOTONIC) and CPU time ------------------------------ */
int64_t bc_now_us(void);
uint64_t bc_now_ns(void);
/* CPU time (user + system) of the calling thread so far, microseconds.
 * On loopback it includes the receive path the kernel runs in the
 * sender's softirq context. */
uint64_t bc_thread_cpu_us(void);

/* ---- pinning ------------------------------------------------------------- */
/* Pin the calling thread to one CPU; cpu < 0 leaves it alone.  0 or
 * -errno. */
int bc_pin(int cpu);
/* Give the calling thread a file table of its own that holds only stdin,
 * stdout, stderr and keep (unshare(CLONE_FILES), then close_range() on
 * the rest of the copy, so that no other socket's end waits on this
 * thread).  In a process of several threads the kernel takes and drops a
 * reference on the file at every socket call; with a table of one owner
 * it borrows the file, as for a single-threaded program.  Descriptors the
 * thread opens later are its own.  0 or -errno. */
int bc_own_files(int keep);

/* ---- statistics ---------------------------------------------------------- */
/* Median of v[0..n) (sorts v); 0 when n is 0. */
double bc_median(double *v, unsigned n);
/* Median over i of num[i] / den[i]: the ratio of interleaved pairs, which
 * cancels the noise the two runs of a pair share. */
double bc_median_ratio(const double *num, const double *den, unsigned n);

/* ---- interleaved rounds -------------------------------------------------- */
/* Call run(method, round, arg) for every method in every round, the order
 * rotating by one from round to round, so that a slow spell of the
 * machine hits every method alike.  Stops at, and returns, the first
 * non-zero return of run. */
int bc_rounds(unsigned methods, unsigned rounds,
	      int (*run)(unsigned method, unsigned round, void *arg),
	      void *arg);

/* ---- MSG_ZEROCOPY error queue -------------------------------------------- */
struct bc_zc_count {
	uint64_t zerocopy; /* send ids the kernel sent from the pages */
	uint64_t copied;   /* ids it copied after all (..._ZEROCOPY_COPIED) */
	uint64_t other;	   /* other error-queue messages, skipped */
};
/* Read every notification queued on fd now, without waiting; a range
 * [lo, hi] counts hi - lo + 1 ids.  Returns the messages read. */
unsigned bc_reap_msgzc(int fd, struct bc_zc_count *c);
/* Send ids reported so far, whatever the outcome. */
static inline uint64_t bc_zc_ids(const struct bc_zc_count *c)
{
	return c->zerocopy + c->copied;
}

/* ---- TCP_INFO ------------------------------------------------------------ */
/* The connection's retransmitted segments so far (tcpi_total_retrans).
 * 0 or -errno (not TCP, or the socket is gone). */
int bc_tcp_retrans(int fd, uint64_t *out);

/* ---- memory -------------------------------------------------------------- */
/* len bytes of page-aligned memory, populated and filled with 0x5a (a
 * payload); NULL with errno set on failure. */
void *bc_pages(size_t len);
void bc_free_pages(void *p, size_t len);

/* ---- pacing: a token bucket ---------------------------------------------- */
struct bc_pace {
	uint64_t bits_per_s; /* 0: no limit */
	int64_t start_us;
	uint64_t bytes; /* accounted so far */
};
void bc_pace_start(struct bc_pace *p, uint64_t bits_per_s);
/* Sleep until len more bytes keep the average at or below the rate since
 * the start (a burst of at most one message), then account for them.
 * Returns at once without a limit, or when deadline_us (0: none) comes
 * first: true if the bytes may go. */
bool bc_pace_wait(struct bc_pace *p, size_t len, int64_t deadline_us);

/* ---- runners: plain blocking loops --------------------------------------- */
struct bc_count {
	uint64_t bytes, msgs;
	int64_t first_us, last_us; /* first and last byte seen; 0: none */
};
/* Count n bytes, one message, now. */
void bc_count_add(struct bc_count *c, size_t n);
/* Throughput of c over its first to last byte, Gbit/s (0 if under two
 * reads' worth: no interval). */
double bc_count_gbps(const struct bc_count *c);
/* send() len bytes from buf until deadline_us, paced by pace (NULL: as
 * fast as the socket takes them); a datagram socket sends one datagram
 * per message.  0 or -errno. */
int bc_send_plain(int fd, const void *buf, size_t len, int64_t deadline_us,
		  struct bc_pace *pace, struct bc_count *c);
/* For datagram sockets: tell bc_recv_plain() the stream is over (a few
 * empty datagrams, in case one is lost). */
void bc_send_end(int fd);
/* One blocking recv() into buf per message until EOF (stream) or an empty
 * datagram.  A datagram receiver also ends after idle_ms without data
 * once data came (the end marker may be lost; 0: 1 s), and with
 * -ETIMEDOUT after BC_FIRST_WAIT_MS without any (SO_RCVTIMEO, no poll()
 * per datagram).  0 or -errno. */
#define BC_FIRST_WAIT_MS 10000
int bc_recv_plain(int fd, void *buf, size_t len, int idle_ms,
		  struct bc_count *c);

/* A thread that receives and drops what comes on fd (bc_recv_plain), on
 * CPU cpu (-1: anywhere). */
struct bc_drain {
	int fd;
	int cpu;
	size_t buf_len; /* 0: 1 MiB */
	struct bc_count count;
	int error; /* of bc_recv_plain */
	pthread_t th;
};
int bc_drain_start(struct bc_drain *d, int fd, int cpu);
/* Wait for the drain to see the end of the stream. */
void bc_drain_join(struct bc_drain *d);
/* Shut the socket down for reading and join: the drain ends now. */
void bc_drain_stop(struct bc_drain *d);

/* ---- parsing ------------------------------------------------------------- */
/* "65536", "64K", "1M", "1G" (binary multiples, as message sizes are
 * written) within [min, max].  0 or -EINVAL. */
int bc_parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *out);
/* A rate in bits per second: "100M", "1G", "2.5G", "800k" (decimal
 * multiples, as iperf3 reads -b).  0 or -EINVAL. */
int bc_parse_rate(const char *s, uint64_t *bits_per_s);

#endif
