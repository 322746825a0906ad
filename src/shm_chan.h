/* SPDX-License-Identifier: MIT */
/*
 * The shared-region channel between two processes on one host: each end's
 * sealed memfd (its descriptor ring, return ring, copy area and region),
 * the peer's mapped read-only, and one eventfd per direction.  Used by
 * transport_shm.c only; the checks of what the peer writes are in
 * shm_proto.c.
 */
#ifndef ZC_SRC_SHM_CHAN_H
#define ZC_SRC_SHM_CHAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shm_proto.h"

struct zc_region;

struct zc_shm_chan {
	unsigned refs; /* the send side, the receive side */
	int fd;	       /* the socket (not owned) */
	int bell;      /* my eventfd: the peer rings it */
	int pbell;     /* the peer's */
	/* Mine, read-write: header, rings, copy area; the region apart. */
	uint8_t *map;
	size_t map_len;
	struct zc_shm_ctrl *ctrl;
	struct zc_shm_desc *dring;
	struct zc_shm_ret *rring;
	uint8_t *copy;
	uint32_t copy_len, region_len;
	struct zc_region *region;
	/* The peer's, read-only. */
	const uint8_t *pmap;
	size_t pmap_len;
	const struct zc_shm_ctrl *pctrl;
	const struct zc_shm_desc *pdring;
	const struct zc_shm_ret *prring;
	const uint8_t *pdata;
	uint64_t pdata_len;
	uint32_t d_rung, r_rung; /* zc_shm_should_ring() */
	/* The peer's positions as last read (and checked): read again only
	 * when they say there is nothing (no room, no data), so a busy
	 * channel does not pull the peer's cache lines per message. */
	uint32_t d_tail_seen, d_head_seen, r_tail_seen;
};

/* Set up both ends over the connected AF_UNIX stream socket fd: create
 * ours with a region of region_len bytes, exchange hellos, map the peer's.
 * -ETIMEDOUT if the peer says nothing within timeout_ms, -EPROTO if it
 * says something else, -ECONNRESET if it closed. */
int zc_shm_chan_open(int fd, uint32_t region_len, int timeout_ms,
		     struct zc_shm_chan **out);
/* Drop a reference; the last one unmaps and closes everything.  The
 * region is destroyed with it unless the application still uses it. */
void zc_shm_chan_put(struct zc_shm_chan *c);

/* ---- sending: descriptors out, returns in ------------------------------- */

/* Free descriptor slots, pending ones written but not yet published. */
int zc_shm_tx_room(struct zc_shm_chan *c, uint32_t pending, uint32_t *room);
void zc_shm_tx_write(struct zc_shm_chan *c, uint32_t pending,
		     const struct zc_shm_desc *d);
/* Publish n written descriptors and ring the peer if it waits. */
void zc_shm_tx_publish(struct zc_shm_chan *c, uint32_t n);
/* Ask the peer to ring us for returns (on), or stop asking. */
void zc_shm_tx_arm(struct zc_shm_chan *c, bool on);
/* Returns waiting: their count and the position to consume up to. */
int zc_shm_ret_avail(struct zc_shm_chan *c, uint32_t *n, uint32_t *head);
void zc_shm_ret_read(const struct zc_shm_chan *c, uint32_t i,
		     struct zc_shm_ret *r);
/* Consumed up to head; true if more came meanwhile. */
bool zc_shm_ret_done(struct zc_shm_chan *c, uint32_t head);

/* ---- receiving: descriptors in, returns out ----------------------------- */

int zc_shm_rx_avail(struct zc_shm_chan *c, uint32_t *n);
/* The next descriptor, checked (a private copy); -EPROTO if bad. */
int zc_shm_rx_read(const struct zc_shm_chan *c, struct zc_shm_desc *d);
void zc_shm_rx_next(struct zc_shm_chan *c);
/* Ask to be rung for descriptors; true if some came meanwhile. */
bool zc_shm_rx_arm(struct zc_shm_chan *c);
/* Hand a buffer back; -EAGAIN if the return ring is full. */
int zc_shm_ret_push(struct zc_shm_chan *c, const struct zc_shm_ret *r);

/* ---- the peer and the doorbell ------------------------------------------ */

/* 0: the peer may still send; 1: it ended its stream (shutdown, close or
 * death); -EPROTO: it wrote bytes into the socket. */
int zc_shm_peer_ended(const struct zc_shm_chan *c);
/* True once the peer closed its end (or died). */
bool zc_shm_peer_gone(const struct zc_shm_chan *c);
/* Forget the rings seen so far (before waiting on the doorbell). */
void zc_shm_bell_drain(const struct zc_shm_chan *c);
/* Look at the descriptor ring for up to us microseconds without asking
 * to be rung; true if something came. */
bool zc_shm_rx_spin(struct zc_shm_chan *c, unsigned us);
/* Block until the doorbell rings or the socket has news. */
void zc_shm_wait(const struct zc_shm_chan *c);

#endif
