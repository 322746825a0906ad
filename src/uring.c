/* SPDX-License-Identifier: MIT */
/*
 * The context's io_uring.  Created lazily so contexts that never use it pay
 * nothing, and so that a kernel or container without io_uring costs one
 * failed system call, remembered in ctx->uring_error.
 *
 * Kernel rules this file relies on:
 *  - DEFER_TASKRUN (6.1) posts completions only when the issuer enters the
 *    kernel for events; the registered eventfd is still signalled when such
 *    work is queued, so the context fd wakes the application and
 *    zc_uring_submit() then enters the kernel to run it.  The eventfd is
 *    never read: it is registered edge-triggered, so every signal re-arms
 *    the context fd whatever its counter says, and a read would cost a
 *    system call per wake-up;
 *  - a CQE with IORING_CQE_F_MORE means more CQEs follow for the same
 *    user_data, without it the request is finished;
 *  - on CQ overflow the kernel keeps CQEs on a backlog and sets
 *    IORING_SQ_CQ_OVERFLOW; io_uring_peek_cqe() flushes it, so draining
 *    with it loses nothing.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "region.h"
#include "uring.h"

#define ZC_URING_ENTRIES 128
#define ZC_URING_SLOTS 256
#define ZC_URING_FIXED_MAX 64
#define ZC_URING_NO_SLOT UINT32_MAX

/* Best first: single issuer + deferred task work (6.1), then cooperative
 * task work (5.19), then whatever the kernel has. */
static const unsigned uring_setup_tries[] = {
	IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
	IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG,
	0,
};

static int uring_setup(struct zc_uring *u, unsigned entries)
{
	int ret = -EINVAL;

	for (size_t i = 0; i < sizeof(uring_setup_tries) / sizeof(unsigned);
	     i++) {
		struct io_uring_params p = { .flags = uring_setup_tries[i] };

		ret = io_uring_queue_init_params(entries, &u->ring, &p);
		if (!ret) {
			u->setup_flags = uring_setup_tries[i];
			return 0;
		}
		if (ret != -EINVAL)
			break;
	}
	return ret;
}

/*
 * The eventfd costs the kernel a signal and an epoll callback per batch of
 * completions (about 5% of a 4 KiB SEND_ZC here), so the context asks for
 * it only once something waits on its fd.
 */
int zc_uring_eventfd(struct zc_uring *u)
{
	int ret;

	if (u->efd >= 0)
		return u->efd;
	u->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (u->efd < 0)
		return -errno;
	ret = io_uring_register_eventfd(&u->ring, u->efd);
	if (ret) {
		close(u->efd);
		u->efd = -1;
		return ret;
	}
	/* Work queued before now signalled nothing: wake the waiter once so
	 * that it reaps it. */
	eventfd_write(u->efd, 1);
	return u->efd;
}

int zc_uring_create(unsigned entries, struct zc_uring **out)
{
	struct zc_uring *u;
	int ret;

	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->efd = -1;
	u->free_slot = ZC_URING_NO_SLOT;
	ret = uring_setup(u, entries ? entries : ZC_URING_ENTRIES);
	if (ret) {
		free(u);
		return ret;
	}
	*out = u;
	return 0;
}

void zc_uring_free(struct zc_uring *u)
{
	if (!u)
		return;
	if (u->efd >= 0)
		close(u->efd);
	/* Sends whose notifications never came keep their pages pinned in
	 * the kernel until it lets go; nothing here reads them again. */
	io_uring_queue_exit(&u->ring);
	free(u->fixed);
	free(u->slots);
	free(u);
}

/* ---- slots: user_data is index + 1; 0 marks CQEs nobody waits for ----- */

static int slot_grow(struct zc_uring *u)
{
	uint32_t n = u->nslots ? u->nslots * 2 : ZC_URING_SLOTS;
	struct zc_uring_slot *s;

	if (n <= u->nslots || n > UINT32_MAX / 2)
		return -ENOMEM;
	s = realloc(u->slots, n * sizeof(*s));
	if (!s)
		return -ENOMEM;
	for (uint32_t i = u->nslots; i < n; i++)
		s[i] = (struct zc_uring_slot){
			.next_free = i + 1 < n ? i + 1 : ZC_URING_NO_SLOT
		};
	u->free_slot = u->nslots;
	u->slots = s;
	u->nslots = n;
	return 0;
}

static void slot_free(struct zc_uring *u, uint32_t idx)
{
	u->slots[idx].owner = NULL;
	u->slots[idx].group = NULL;
	u->slots[idx].next_free = u->free_slot;
	u->free_slot = idx;
	u->live--;
}

struct io_uring_sqe *zc_uring_sqe(struct zc_uring *u, zc_uring_fn fn,
				  void *owner, void *group)
{
	struct io_uring_sqe *sqe;
	uint32_t idx;

	if (fn && u->free_slot == ZC_URING_NO_SLOT && slot_grow(u))
		return NULL;
	sqe = io_uring_get_sqe(&u->ring);
	if (!sqe) {
		/* SQ full: hand the queued ones over and try again. */
		io_uring_submit(&u->ring);
		sqe = io_uring_get_sqe(&u->ring);
		if (!sqe)
			return NULL;
	}
	if (!fn) {
		io_uring_sqe_set_data64(sqe, 0);
		return sqe;
	}
	idx = u->free_slot;
	u->free_slot = u->slots[idx].next_free;
	u->slots[idx] = (struct zc_uring_slot){ fn, owner, group, 0 };
	u->live++;
	io_uring_sqe_set_data64(sqe, (uint64_t)idx + 1);
	return sqe;
}

void zc_uring_orphan(struct zc_uring *u, void *group, void (*fn)(void *owner))
{
	/* Index every time: fn may run callbacks that grow the table. */
	for (uint32_t i = 0; i < u->nslots; i++) {
		void *owner = u->slots[i].owner;

		if (!owner || u->slots[i].group != group)
			continue;
		u->slots[i].owner = NULL;
		if (fn)
			fn(owner);
	}
}

void zc_uring_cancel_fd(struct zc_uring *u, int fd)
{
	struct io_uring_sqe *sqe = zc_uring_sqe(u, NULL, NULL, NULL);

	if (!sqe)
		return;
	io_uring_prep_cancel_fd(sqe, fd, IORING_ASYNC_CANCEL_ALL);
	zc_uring_submit(u);
}

/* ---- completions ------------------------------------------------------ */

static void uring_dispatch(struct zc_uring *u, const struct io_uring_cqe *cqe)
{
	uint32_t idx = (uint32_t)(cqe->user_data - 1);
	zc_uring_fn fn;
	void *owner;

	if (!cqe->user_data || idx >= u->nslots)
		return;
	fn = u->slots[idx].fn;
	owner = u->slots[idx].owner;
	/* Free first: the handler may submit and reuse the slot. */
	if (!(cqe->flags & IORING_CQE_F_MORE))
		slot_free(u, idx);
	if (owner)
		fn(owner, cqe);
}

static void uring_drain_cq(struct zc_uring *u)
{
	struct io_uring_cqe *cqe;

	/* One at a time, consumed before the handler runs, so a handler that
	 * reaps again (a callback sending) never sees a CQE twice. */
	while (!io_uring_peek_cqe(&u->ring, &cqe)) {
		struct io_uring_cqe c = *cqe;

		io_uring_cqe_seen(&u->ring, cqe);
		uring_dispatch(u, &c);
	}
}

void zc_uring_submit(struct zc_uring *u)
{
	int ret;

	do {
		ret = io_uring_submit_and_get_events(&u->ring);
	} while (ret == -EINTR);
	uring_drain_cq(u);
	/* -EBUSY/-EAGAIN: the kernel wanted the CQ drained first. */
	if (ret < 0 && io_uring_sq_ready(&u->ring)) {
		io_uring_submit_and_get_events(&u->ring);
		uring_drain_cq(u);
	}
}

int zc_uring_wait_timeout(struct zc_uring *u, int timeout_ms)
{
	struct __kernel_timespec ts = {
		.tv_sec = timeout_ms / 1000,
		.tv_nsec = (long long)(timeout_ms % 1000) * 1000000,
	};
	struct io_uring_cqe *cqe;
	int ret;

	ret = io_uring_submit_and_wait_timeout(
		&u->ring, &cqe, 1, timeout_ms < 0 ? NULL : &ts, NULL);
	uring_drain_cq(u);
	return ret < 0 && ret != -EINTR && ret != -ETIME ? ret : 0;
}

/* ---- registered regions (fixed buffers) ------------------------------- */

static int fixed_init(struct zc_uring *u)
{
	int ret;

	/* An array of region pointers: sizeof(A *) is meant here, it is not
	 * a mistaken sizeof(A). NOLINTNEXTLINE(bugprone-sizeof-expression) */
	u->fixed = calloc(ZC_URING_FIXED_MAX, sizeof(*u->fixed));
	if (!u->fixed)
		return -ENOMEM;
	/* An empty table: regions come and go one slot at a time. */
	ret = io_uring_register_buffers_sparse(&u->ring, ZC_URING_FIXED_MAX);
	if (ret) {
		free(u->fixed);
		u->fixed = NULL;
		return ret;
	}
	u->nfixed = ZC_URING_FIXED_MAX;
	return 0;
}

static int fixed_free_index(const struct zc_uring *u)
{
	for (unsigned i = 0; i < u->nfixed; i++)
		if (!u->fixed[i])
			return (int)i;
	return -ENOSPC;
}

static int fixed_update(struct zc_uring *u, unsigned idx, void *base,
			size_t len)
{
	struct iovec iov = { .iov_base = base, .iov_len = len };
	__u64 tag = 0;
	int ret;

	ret = io_uring_register_buffers_update_tag(&u->ring, idx, &iov, &tag,
						   1);
	return ret < 0 ? ret : 0;
}

int zc_uring_fixed_add(struct zc_uring *u, struct zc_region *region)
{
	int idx, ret;

	if (!u->fixed) {
		ret = fixed_init(u);
		if (ret)
			return ret;
	}
	idx = fixed_free_index(u);
	if (idx < 0)
		return idx;
	/* Pins the pages now, charged to RLIMIT_MEMLOCK without
	 * CAP_IPC_LOCK: -ENOMEM when the limit is too low. */
	ret = fixed_update(u, (unsigned)idx, region->base, region->len);
	if (ret)
		return ret;
	u->fixed[idx] = region;
	return 0;
}

int zc_uring_fixed_del(struct zc_uring *u, struct zc_region *region)
{
	int ret;

	for (unsigned i = 0; i < u->nfixed; i++) {
		if (u->fixed[i] != region)
			continue;
		/* Sends still using it keep the kernel's reference. */
		ret = fixed_update(u, i, NULL, 0);
		if (!ret)
			u->fixed[i] = NULL;
		return ret;
	}
	return -EINVAL;
}

int zc_uring_fixed_find(const struct zc_uring *u, const void *addr, size_t len)
{
	for (unsigned i = 0; i < u->nfixed; i++)
		if (u->fixed[i] && zc_region_contains(u->fixed[i], addr, len))
			return (int)i;
	return -1;
}
