/* SPDX-License-Identifier: MIT */
/*
 * An io_uring shared by the sockets of one context (the context creates it
 * on first use).  Each submission carries a slot index as
 * user_data; the slot says which handler gets the CQEs, so a socket that
 * goes away can orphan its slots while the kernel still owes CQEs for them.
 */
#ifndef ZC_SRC_URING_H
#define ZC_SRC_URING_H

#include <stdbool.h>
#include <stdint.h>

#include "compat.h"

struct zc_region;

typedef void (*zc_uring_fn)(void *owner, const struct io_uring_cqe *cqe);

struct zc_uring_slot {
	zc_uring_fn fn;
	void *owner; /* NULL once orphaned: CQEs are dropped */
	void *group; /* what zc_uring_orphan() matches (the socket) */
	uint32_t next_free;
};

struct zc_uring {
	struct io_uring ring;
	unsigned setup_flags; /* IORING_SETUP_* the kernel accepted */
	int efd;	      /* eventfd registered with the ring */
	struct zc_uring_slot *slots;
	uint32_t nslots;
	uint32_t free_slot; /* head of the free list, UINT32_MAX if none */
	uint32_t live;	    /* slots still owed a CQE */
	struct zc_region **fixed; /* registered regions by buffer index */
	unsigned nfixed;
	uint16_t next_bgid; /* next provided-buffer group id */
};

/* A ring with the best flags the kernel accepts (entries 0: default). */
int zc_uring_create(unsigned entries, struct zc_uring **out);
void zc_uring_free(struct zc_uring *u);
/* Make the ring signal an eventfd from now on; returns it (created once),
 * or a negative errno. */
int zc_uring_eventfd(struct zc_uring *u);
/* An SQE whose CQEs go to fn(owner) (fn NULL: CQEs are dropped); NULL
 * without memory for a slot or room in the SQ. */
struct io_uring_sqe *zc_uring_sqe(struct zc_uring *u, zc_uring_fn fn,
				  void *owner, void *group);
/* Submit what is queued, run deferred completions and dispatch every CQE.
 * Safe to call from a CQE handler. */
void zc_uring_submit(struct zc_uring *u);
/* Cancel every request on fd; their last CQEs still come. */
void zc_uring_cancel_fd(struct zc_uring *u, int fd);
/* Forget owner for every slot of group; fn(owner) runs once per slot so
 * the caller can drop what the slot held. */
void zc_uring_orphan(struct zc_uring *u, void *group, void (*fn)(void *owner));
/* The fixed-buffer index covering [addr, addr+len), or -1. */
int zc_uring_fixed_find(const struct zc_uring *u, const void *addr, size_t len);

/* Register region as a fixed buffer (pins its pages), or drop it. */
int zc_uring_fixed_add(struct zc_uring *u, struct zc_region *region);
int zc_uring_fixed_del(struct zc_uring *u, struct zc_region *region);

/* Wait up to timeout_ms (-1: no limit) for a CQE, then dispatch. */
int zc_uring_wait_timeout(struct zc_uring *u, int timeout_ms);

#endif
