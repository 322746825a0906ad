/* SPDX-License-Identifier: MIT */
/*
 * The auto policy.  Send: per send, zero-copy or copy, learnt from what the
 * kernel reports; the socket maps "zero-copy" to the best zero-copy
 * transport it has.  Receive: mapped or copied, from the measured share of
 * mapped bytes.  No system calls and no clocks: everything is counted in
 * sends, receives and bytes, so decisions are repeatable and unit-tested.
 *
 * Default threshold (ZC_POLICY_THRESHOLD), from bench/bench_threshold on
 * the 2-vCPU Linux 6.18 VM, loopback TCP, medians of 7 interleaved rounds,
 * microseconds per send:
 *
 *   size    send  msgzc  zc extra  memcpy
 *   1 KiB   1.36  2.52   1.16      0.07
 *   4 KiB   1.90  2.99   1.09      0.16
 *   16 KiB  5.04  12.47  7.43      0.83
 *   64 KiB  22.83 52.67  29.83     3.83
 *
 * On loopback zero-copy never pays (the kernel copies the pinned pages
 * after all), but at one or two pages "zc extra" is the fixed cost of a
 * zero-copy send: about 1.1 us (notification, reaping, pinning).  A real
 * NIC saves the payload copy, 0.06 us per KiB (memcpy slope).  Break-even:
 * 1.12 / 0.061 = about 18 KiB (17 to 30 KiB over four runs), in line with
 * the kernel's guidance that MSG_ZEROCOPY pays above about 10 KiB.  The
 * default is the power of two below that: 16 KiB.
 */
/*
 * Receive (ZC_RX_AUTO on TCP): the mapped share is the one signal.  It
 * says whether mapping is possible at all (this machine maps only with a
 * 4096-byte MSS and a MSG_ZEROCOPY sender; otherwise 0%).  Whether mapping
 * then pays could only be told with clocks, and here even that flips with
 * scheduling.  bench_tcpmmap -s 256 -n 9 [-a] [-p] (loopback, medians of
 * 9 interleaved pairs), ratio mapped / copy (data not read; every byte
 * read):
 *
 *   MSS 4108 + MSG_ZEROCOPY sender, ~100% mapped:
 *     run A   throughput 1.22x 1.07x   CPU per GB 1.67x 1.59x
 *     run B   throughput 1.37x 1.58x   CPU per GB 0.38x 0.46x
 *     auto    throughput 1.52x 1.30x   CPU per GB 0.30x 0.41x
 *   plain sender, default MSS, 0% mapped:
 *     tcpmmap throughput 0.91x 0.96x   CPU per GB 1.14x 1.10x
 *     auto    throughput 0.96x 1.03x   CPU per GB 1.03x 0.99x
 *
 * Copy costs 0.15 to 1.0 CPU s/GB from run to run (the most when sender
 * and receiver share one vCPU, taskset -c 0), mapping a steadier 0.17 to
 * 0.38.  Over 15 runs mapping never lost throughput beyond noise (0.89x
 * to 2.00x, median about 1.3x), so auto maps when the share allows; where
 * nothing maps it backs off and costs what copy does.  Pin ZC_RX_COPY to
 * save CPU on machines like run A, or to write into received buffers.
 *
 * Send: the best zero-copy transport is MSG_ZEROCOPY, also when the
 * context has an io_uring.  Both report "copied after all" the same way
 * (SO_EE_CODE_ZEROCOPY_COPIED, IORING_NOTIF_USAGE_ZC_COPIED) and both are
 * copied here, so the policy backs off after ZC_POLICY_PROBES sends
 * either way and the choice touches only those probes.  io_uring would add
 * a ring per context (which seccomp or sysctl may forbid) and, with one
 * SQE in flight per socket to keep the stream in order, a SEND_ZC that
 * does not complete at once holds the sends behind it until its result is
 * reaped; MSG_ZEROCOPY hands the bytes over inside zc_send().  io_uring's
 * own gain, sends from registered memory without pinning, needs the
 * application's regions: ZC_TX_URING_FIXED, chosen by the caller.
 */
#ifndef ZC_SRC_POLICY_H
#define ZC_SRC_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <zcopy/zcopy.h>

#define ZC_POLICY_THRESHOLD 16384 /* bytes; see above */
#define ZC_POLICY_COPIED_STREAK 4 /* copied-after-all in a row */
/* Sends tried zero-copy before the kernel's first verdict; more would all
 * pay for zero-copy on a path that may copy anyway. */
#define ZC_POLICY_PROBES ZC_POLICY_COPIED_STREAK
#define ZC_POLICY_BACKOFF_MIN 64 /* sends to copy before retrying */
#define ZC_POLICY_BACKOFF_MAX 65536
/* Receive: judge the mapped share over windows of this many bytes... */
#define ZC_POLICY_RX_WINDOW (256u << 10)
/* ...map while at least this percentage of a window was mapped... */
#define ZC_POLICY_RX_SHARE 75
/* ...else copy this many receives (doubling) before measuring again. */
#define ZC_POLICY_RX_BACKOFF_MIN 16
#define ZC_POLICY_RX_BACKOFF_MAX 16384

/* Exponential back-off counted in decisions. */
struct zc_backoff {
	uint64_t skip; /* decisions left before trying again */
	uint32_t len;  /* length of the next back-off */
	uint32_t min, max;
};

struct zc_policy {
	/* send */
	size_t threshold;
	enum zc_policy_state state;
	uint32_t copied_streak; /* completions copied after all, in a row */
	uint32_t probes;	/* zero-copy sends while probing */
	uint32_t waited;	/* copies since the last probe */
	struct zc_backoff tx_backoff;
	uint64_t zc;	       /* decisions: zero-copy */
	uint64_t copy_small;   /* decisions: copy, below the threshold */
	uint64_t copy_backoff; /* decisions: copy, backing off or waiting */
	uint64_t backoffs;
	uint64_t retries;
	/* receive */
	bool rx_measuring; /* false while copying to back off */
	uint64_t rx_base_mapped, rx_base_copied; /* window start */
	struct zc_backoff rx_backoff;
	uint64_t rx_map;
	uint64_t rx_copy;
	uint64_t rx_backoffs;
};

enum zc_policy_event {
	ZC_POL_ZEROCOPY, /* a completion said zero-copy worked */
	ZC_POL_COPIED,	 /* a completion said the kernel copied */
	ZC_POL_NOBUFS,	 /* zero-copy failed for lack of resources */
};

/* threshold 0 takes ZC_POLICY_THRESHOLD. */
void zc_policy_init(struct zc_policy *pol, size_t threshold);
/* Stop deciding sends: state is ZC_POLICY_PINNED (a transport is pinned)
 * or ZC_POLICY_NO_ZC (no zero-copy transport: every send is copied). */
void zc_policy_off(struct zc_policy *pol, enum zc_policy_state state);
/* True if a send of len bytes should try zero-copy. */
bool zc_policy_want_zc(struct zc_policy *pol, size_t len);
void zc_policy_note(struct zc_policy *pol, enum zc_policy_event ev);
/* True if the next receive should map pages.  mapped and copied are the
 * socket's running totals of bytes received each way. */
bool zc_policy_rx_want_map(struct zc_policy *pol, uint64_t mapped,
			   uint64_t copied);
/* Copy the policy's decisions and state into st. */
void zc_policy_stats(const struct zc_policy *pol, struct zc_stats *st);

#endif
