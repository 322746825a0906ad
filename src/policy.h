/* SPDX-License-Identifier: MIT */
/*
 * The auto policy.  Send: per send, zero-copy or copy, learnt from what the
 * kernel reports; the socket maps "zero-copy" to the best zero-copy
 * transport it has.  Receive: mapped or copied, from the measured share of
 * mapped bytes.  No system calls and no clocks: everything is counted in
 * sends, receives and bytes, so decisions are repeatable and unit-tested.
 *
 * The measurements behind the defaults (the 16 KiB threshold, mapping by
 * the mapped share, MSG_ZEROCOPY as auto's zero-copy transport) are in
 * bench/README.md, with the commands that give them.
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
/* File sends (auto): below this many bytes pread + send, from it on
 * sendfile.  Measured on loopback, where the receiver's copy sets the
 * pace; see bench/README.md ("File sends"). */
#define ZC_POLICY_FILE_READ_MAX (2u << 20)

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
/* The mechanism of an auto file send of len bytes (zc_send_file):
 * ZC_TX_COPY (pread + send) below ZC_POLICY_FILE_READ_MAX, else
 * ZC_TX_SENDFILE; see bench/README.md ("File sends"). */
enum zc_tx_mode zc_policy_file_tx(size_t len);
/* Copy the policy's decisions and state into st. */
void zc_policy_stats(const struct zc_policy *pol, struct zc_stats *st);

#endif
