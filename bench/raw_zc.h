/* SPDX-License-Identifier: MIT */
/*
 * The two ends of raw_send -z: the same loops through libzcopy's copy
 * transport (zc_send(), a blocking zc_recv()), so either end of the plain
 * pair can be swapped for the library and the difference put on one end.
 */
#ifndef ZC_BENCH_RAW_ZC_H
#define ZC_BENCH_RAW_ZC_H

#include <stddef.h>
#include <stdint.h>

#include "benchcore.h"

/* zc_recv() on the blocking stream fd into buf_len-byte buffers until
 * the peer's end; 0 or -errno. */
int rz_recv(int fd, size_t buf_len, struct bc_count *c);
/* zc_send() of len bytes from buf until deadline_us, then close the
 * library's socket (the fd stays open); 0 or -errno. */
int rz_send(int fd, const void *buf, size_t len, int64_t deadline_us,
	    struct bc_count *c);

#endif
