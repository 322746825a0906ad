/* SPDX-License-Identifier: MIT */
/*
 * The shared-region channel's wire format and the checks applied to what
 * the peer writes.  Pure: no system calls, no clocks, so the checks can be
 * fuzzed on their own (fuzz/fuzz_shm.c).
 *
 * Each end owns one sealed memfd, mapped read-write by its owner and
 * read-only by the peer.  Every word in it is written by the owner only:
 *
 *   0                 control words (struct zc_shm_ctrl)
 *   ZC_SHM_DESC_OFF   descriptor ring: what the owner sends
 *   ZC_SHM_RET_OFF    return ring: the peer's buffers the owner released
 *   ZC_SHM_HDR_LEN    data: the copy area, then the region the
 *                     application may build pools on
 *
 * Ring positions are free-running u32 counters; an entry sits at
 * position & (ZC_SHM_RING - 1).  The consumer's position lives in the
 * consumer's own file, so a peer can lie about it but never write ours.
 */
#ifndef ZC_SRC_SHM_PROTO_H
#define ZC_SRC_SHM_PROTO_H

#include <stdbool.h>
#include <stdint.h>

#define ZC_SHM_MAGIC 0x4853435au /* "ZCSH" */
#define ZC_SHM_VERSION 1
#define ZC_SHM_RING 256u /* entries of each ring */
#define ZC_SHM_DESC_OFF 4096u
#define ZC_SHM_RET_OFF 8192u
#define ZC_SHM_HDR_LEN 16384u
#define ZC_SHM_AREA_MAX (1u << 30) /* copy area, region: each at most */
#define ZC_SHM_PAGE 4096u

/* Sent once each way over the socket at attach, with two descriptors:
 * the owner's memfd and the eventfd the peer rings to wake the owner. */
struct zc_shm_hello {
	uint32_t magic;
	uint16_t version;
	uint16_t len; /* sizeof(struct zc_shm_hello) */
	uint32_t ring;
	uint32_t hdr_len;
	uint64_t copy_len;
	uint64_t region_len;
	uint64_t file_len; /* hdr_len + copy_len + region_len */
	uint64_t reserved[2];
};

/* Descriptor flags (echoed back in the return entry). */
#define ZC_SHM_D_COPY 1u /* in the copy area: the token is the sender's */
#define ZC_SHM_D_ALL ZC_SHM_D_COPY

/* One buffer sent: bytes [off, off + len) of the sender's data. */
struct zc_shm_desc {
	uint32_t off;
	uint32_t len;
	uint32_t token; /* the sender's; the receiver only echoes it */
	uint32_t flags;
};

/* One buffer released by the receiver. */
struct zc_shm_ret {
	uint32_t token;
	uint32_t flags;
};

/*
 * Control words, each on its own cache line: the peer reads a line only
 * when it needs that word, and a word written per message (a position)
 * does not drag the ones that change rarely (the armed flags) along.
 * After publishing, a producer rings the peer's eventfd only if the peer
 * set rx_armed (descriptors) or tx_armed (returns), so a busy peer costs
 * no system call.
 */
struct zc_shm_ctrl {
	_Alignas(64) uint32_t d_head;	/* descriptors published */
	_Alignas(64) uint32_t d_tail;	/* peer's descriptors consumed */
	_Alignas(64) uint32_t r_head;	/* returns published */
	_Alignas(64) uint32_t r_tail;	/* peer's returns consumed */
	_Alignas(64) uint32_t rx_armed; /* ring me for descriptors */
	_Alignas(64) uint32_t tx_armed; /* ring me for returns */
};

/* 0 if hello describes a layout this version speaks, else -EPROTO. */
int zc_shm_hello_check(const struct zc_shm_hello *h);
/* Entries between a ring's tail and head: -EPROTO if more than the ring
 * holds (a peer wrote a position it cannot have). */
int zc_shm_ring_count(uint32_t head, uint32_t tail, uint32_t *n);
/* 0 if d names bytes inside a data area of data_len bytes and only known
 * flags; -EPROTO otherwise.  Check a private copy: the peer may rewrite
 * the shared one at any time. */
int zc_shm_desc_check(const struct zc_shm_desc *d, uint64_t data_len);
/*
 * Whether a producer that just moved its head must ring the consumer:
 * the consumer asked (armed) and has consumed up to the previous ring
 * (*rung), so that a consumer already woken is not woken again for the
 * same batch.  Updates *rung when it says yes.
 */
bool zc_shm_should_ring(uint32_t armed, uint32_t consumer_pos, uint32_t head,
			uint32_t *rung);

/*
 * The sender's copy area: a byte ring of chunks allocated in order and
 * released in any order (the receiver frees buffers as it likes); space
 * comes back once the oldest chunk is free.  Each chunk has a token that
 * the return entry must name; unknown or repeated tokens are refused.
 */
struct zc_shm_chunk {
	uint32_t off, len;
	uint32_t token;
	bool live;
};

struct zc_shm_arena {
	uint32_t size;
	uint32_t head, tail;  /* byte offsets: next free, oldest live */
	uint32_t first, next; /* tokens [first, next) not yet reclaimed */
	uint32_t live;
	struct zc_shm_chunk chunks[ZC_SHM_RING];
};

void zc_shm_arena_init(struct zc_shm_arena *a, uint32_t size);
/* Up to want bytes of contiguous space, at least min(want, minlen) (an
 * empty area smaller than that gives all it has): the bytes got, 0 when
 * there is no room. */
uint32_t zc_shm_arena_alloc(struct zc_shm_arena *a, uint32_t want,
			    uint32_t minlen, uint32_t *off, uint32_t *token);
/* Release a chunk: -EPROTO if token is not a live chunk. */
int zc_shm_arena_free(struct zc_shm_arena *a, uint32_t token);

#endif
