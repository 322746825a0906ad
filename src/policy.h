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
/* ...or over this fraction of one while the socket never mapped a byte
 * and whole pages came that could not be mapped (a plain sender: each
 * such receive costs a TCP_ZEROCOPY_RECEIVE for nothing)... */
#define ZC_POLICY_RX_EARLY_DIV 8
/* ...map while at least this percentage of a window was mapped... */
#define ZC_POLICY_RX_SHARE 75
/* ...else copy this many receives (doubling) before measuring again. */
#define ZC_POLICY_RX_BACKOFF_MIN 16
#define ZC_POLICY_RX_BACKOFF_MAX 16384
/* File sends (auto): below this many bytes pread + send, from it on
 * sendfile.  Measured on loopback, where the receiver's copy sets the
 * pace; see bench/README.md ("File sends"). */
#define ZC_POLICY_FILE_READ_MAX (2u << 20)

/*
 * Cost: CPU time per byte, measured by the socket layer in the calls that
 * move the bytes (a sample of them) and fed in here.  Two paths compete
 * (copy and zero-copy); the cheaper one is used, the other is measured
 * again now and then (a probe, at doubling intervals while the choice
 * holds), and a path takes over only when it is cheaper by a margin.
 */
#define ZC_COST_WINDOW (256u << 10) /* sampled bytes per measurement */
/* ...and at least this many timed calls: at 1 MiB messages a window of
 * bytes alone was one or two calls, and a probe that noisy switched
 * paths back and forth (21 switches in 1 s of zcopy bench at 64 KiB). */
#define ZC_COST_WINDOW_CALLS 16
/* A probe of the other path is this many windows, measured as one: a
 * single window was too noisy (bench_tcpmmap -a -c 4: the mapped path's
 * cost over one window ranged 0.3 to 2.2 ms/MiB, and auto mapped 45% of
 * the bytes where mapping cost 20% less than copying).  Every call of a
 * probe is timed, one in 16 on the path in use: a probe is still a small
 * share of the calls. */
#define ZC_COST_PROBE_WINDOWS 4
#define ZC_COST_MARGIN 10      /* percent cheaper to take over */
#define ZC_COST_PROBE_MIN 4    /* windows between re-measurements... */
#define ZC_COST_PROBE_MAX 2048 /* ...doubling up to this (512 MiB)... */
/* ...and at least as many as keep what a probe of a dearer path costs
 * beyond the path in use within this percentage of the windows between
 * probes.  Doubling alone to 256 windows kept mapping at 2.7x copy's cost
 * for 4% of a 64 KiB stream (a mapped probe is 16 calls per window, 4 MiB
 * there): 1.07x the receiver CPU of copying. */
#define ZC_COST_PROBE_SHARE 1
/* Time one call in this many, or the next one once this many bytes went
 * by untimed; every call while probing, so that a probe window is short.
 * A timed blocking call reads the thread's CPU clock twice, a system call
 * each on a VM: with 64 KiB here, 28 KiB receives were timed one in three
 * (callgrind: 0.59 reads per receive), a few percent of the receiver. */
#define ZC_COST_SAMPLE_EVERY 16
#define ZC_COST_SAMPLE_BYTES (1u << 20)
/* While the zero-copy path is blocked, copy's cost has nothing to be
 * compared with until the block ends: it is kept fresh at this fraction
 * of the rate.  (Auto receiving from a plain sender is blocked for good:
 * at 128 KiB its two clock reads per MiB were one system call in five.) */
#define ZC_COST_SAMPLE_BLOCKED 16

enum zc_cost_path { ZC_PATH_COPY = 0, ZC_PATH_ZC = 1 };

struct zc_cost_meter {
	uint64_t bytes, ns; /* the window being measured */
	uint32_t calls;
	uint64_t ns_per_mib; /* smoothed result, 0: not measured yet */
};

struct zc_costsel {
	struct zc_cost_meter m[2];
	uint8_t cur;	  /* enum zc_cost_path in use */
	bool probing;	  /* measuring the other path */
	bool blocked;	  /* the zero-copy path cannot work now */
	bool again;	  /* time the next call (zc_cost_sample_again) */
	uint32_t since;	  /* windows on cur since the last probe */
	uint32_t every;	  /* windows between probes */
	uint32_t tick;	  /* calls since the last sample */
	uint64_t untimed; /* bytes moved since the last sample */
	uint64_t probes;
	uint64_t switches;
};

void zc_cost_init(struct zc_costsel *s, enum zc_cost_path first);
/* The path for the next call. */
enum zc_cost_path zc_cost_pick(const struct zc_costsel *s);
/* True if the next call on the chosen path should be timed. */
bool zc_cost_sample(struct zc_costsel *s);
/* The call chosen for timing moved nothing (it handed out data an
 * earlier call read): time the next one instead. */
static inline void zc_cost_sample_again(struct zc_costsel *s)
{
	s->again = true;
}
/* An untimed call moved bytes (they count towards the next sample). */
static inline void zc_cost_untimed(struct zc_costsel *s, uint64_t bytes)
{
	s->untimed += bytes;
}
/* A timed call moved bytes on path in ns of CPU time. */
void zc_cost_note(struct zc_costsel *s, enum zc_cost_path path, uint64_t bytes,
		  uint64_t ns);
/* The zero-copy path cannot work (blocked: copy is the path in use) or
 * may again (unblocked: measured at once, taking over only if cheaper;
 * if copy's cost is still unknown, zero-copy resumes and copy is measured
 * after one window). */
void zc_cost_block(struct zc_costsel *s, bool blocked);

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
	struct zc_costsel tx_cost; /* while the kernel confirms zero-copy */
	/* receive */
	bool rx_measuring; /* false while mapping is ruled out */
	bool rx_last_map;  /* what the last decision said */
	uint64_t rx_seen_mapped, rx_seen_copied; /* totals at that decision */
	uint64_t rx_seen_unmappable;
	uint64_t rx_win_mapped, rx_win_copied; /* mapping path's window */
	uint64_t rx_win_unmappable;
	struct zc_costsel rx_cost;
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
 * socket's running totals of bytes received each way; unmappable, of the
 * bytes copied when whole pages were queued and none could be mapped. */
bool zc_policy_rx_want_map(struct zc_policy *pol, uint64_t mapped,
			   uint64_t copied, uint64_t unmappable);
/* Receive costs: a timed receive on the mapped path (map) or the copying
 * one moved bytes in ns of CPU time. */
void zc_policy_rx_cost(struct zc_policy *pol, bool map, uint64_t bytes,
		       uint64_t ns);
/* Send costs, the same for a timed send (zc: the zero-copy path, with the
 * time spent reaping its completions). */
void zc_policy_tx_cost(struct zc_policy *pol, bool zc, uint64_t bytes,
		       uint64_t ns);
/* The mechanism of an auto file send of len bytes (zc_send_file):
 * ZC_TX_COPY (pread + send) below ZC_POLICY_FILE_READ_MAX, else
 * ZC_TX_SENDFILE, which the file transport replaces by sends from a
 * mapping when the peer is on this host (zc_file_auto); see bench/README.md
 * ("File sends"). */
enum zc_tx_mode zc_policy_file_tx(size_t len);
/* True if auto's large sends go zero-copy now (the socket names the
 * transport in zc_stats.policy_tx_using). */
bool zc_policy_tx_zc(const struct zc_policy *pol);
/* Copy the policy's decisions and state into st. */
void zc_policy_stats(const struct zc_policy *pol, struct zc_stats *st);

#endif
