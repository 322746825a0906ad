/* SPDX-License-Identifier: MIT */
/* Shared by the benchmarks: loopback pairs with a draining receiver,
 * clocks and medians. */
#ifndef ZC_BENCH_UTIL_H
#define ZC_BENCH_UTIL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

/* A connected loopback pair (TCP or UDP); a thread drains rx. */
struct bench_pair {
	int tx, rx;
	int type;
	pthread_t drain;
};

int bench_pair_open(struct bench_pair *p, int type);
void bench_pair_close(struct bench_pair *p);
/* End the stream and wait until the receiver has read every byte (a run
 * timed to the last byte received), then close. */
void bench_pair_finish(struct bench_pair *p);
/* Reap MSG_ZEROCOPY notifications on fd; returns how many reports said
 * "copied" (ranges count once per id). */
uint64_t bench_reap_msgzc(int fd, uint64_t *ids);
uint64_t bench_now_ns(void);
/* CPU seconds (user + system) the calling thread used so far; on loopback
 * that includes the receive path run in the sender's softirq context. */
double bench_thread_cpu(void);
/* Pin the calling thread to one CPU: the sender runs on BENCH_CPU_TX and
 * the draining receiver on BENCH_CPU_RX, so the scheduler does not move
 * them around between A and B runs. */
#define BENCH_CPU_TX 0
#define BENCH_CPU_RX 1
void bench_pin(int cpu);
/* Median of v[0..n) (sorts v). */
double bench_median(double *v, int n);
/* A whole decimal number from the command line; exits with usage status 2
 * when s is not one (atoi() would read "x" as 0). */
long bench_arg_long(const char *s, const char *what);
/* The same for a real number such as 0.5 (atof() would read "x" as 0). */
double bench_arg_double(const char *s, const char *what);
/* Page-aligned, zero-filled memory; exits on failure. */
void *bench_alloc(size_t len);

#endif
