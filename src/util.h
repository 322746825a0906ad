/* SPDX-License-Identifier: MIT */
/* Small helpers shared by the library's files. */
#ifndef ZC_SRC_UTIL_H
#define ZC_SRC_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define ZC_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The smallest power of two >= v (1 for 0), at most 2^31. */
static inline uint32_t zc_roundup_pow2(uint32_t v)
{
	uint32_t p = 1;

	while (p < v && p < (1u << 31))
		p <<= 1;
	return p;
}

/* True if the n words at r are all zero, as the reserved words of the
 * option structs must be: an option of a later version, set by a program
 * built against its header, lands there and is refused, not ignored. */
static inline bool zc_reserved_zero(const uint64_t *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (r[i])
			return false;
	return true;
}

/*
 * A clock for the cost of a call: the thread's CPU time when the call may
 * wait (its waiting is no cost), else the monotonic clock, which is read in
 * user space (tens of nanoseconds; the thread CPU clock is a system call,
 * about a microsecond on a virtual machine) and equals CPU time for a call
 * that does not block.
 */
static inline uint64_t zc_cost_clock(bool may_block)
{
	struct timespec ts;

	clock_gettime(may_block ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC,
		      &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#endif
