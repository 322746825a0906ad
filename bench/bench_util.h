/* SPDX-License-Identifier: MIT */
/* What the benchmarks share beyond the bench core (benchcore.h): a
 * loopback pair with a draining receiver, and command-line helpers. */
#ifndef ZC_BENCH_UTIL_H
#define ZC_BENCH_UTIL_H

#include <stddef.h>

#include "benchcore.h"

/* The sender runs on BENCH_CPU_TX and the draining receiver on
 * BENCH_CPU_RX, so the scheduler does not move them around between A and
 * B runs. */
#define BENCH_CPU_TX 0
#define BENCH_CPU_RX 1

/* A connected loopback pair (TCP or UDP); a thread drains rx. */
struct bench_pair {
	int tx, rx;
	int type;
	struct bc_drain drain;
};

int bench_pair_open(struct bench_pair *p, int type);
void bench_pair_close(struct bench_pair *p);
/* End the stream and wait until the receiver has read every byte (a run
 * timed to the last byte received), then close. */
void bench_pair_finish(struct bench_pair *p);
/* Seconds of CPU (user + system) the calling thread used so far. */
double bench_thread_cpu(void);
/* A whole decimal number from the command line; exits with usage status 2
 * when s is not one (atoi() would read "x" as 0). */
long bench_arg_long(const char *s, const char *what);
/* The same for a real number such as 0.5 (atof() would read "x" as 0). */
double bench_arg_double(const char *s, const char *what);
/* Page-aligned memory filled with 0x5a (bc_pages); exits on failure. */
void *bench_alloc(size_t len);

#endif
