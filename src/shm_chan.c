/* SPDX-License-Identifier: MIT */
/*
 * The shared-region channel: setup (memfd, hello exchange, the peer's
 * mapping) and the ring operations.  Every word in our file is written by
 * us only; every word of the peer's is read once into a local and judged
 * by shm_proto.c before use.
 *
 * Kernel rules this file relies on:
 *  - a memfd sealed with F_SEAL_SHRINK can never become shorter, so a
 *    mapping within its size can never raise SIGBUS, whatever the peer
 *    does; F_GET_SEALS tells us the peer's file is sealed so;
 *  - a mapping keeps its memfd alive after the descriptor is closed and
 *    after the process that made it exits;
 *  - SCM_RIGHTS descriptors ride on the first byte of the message that
 *    carried them; MSG_CTRUNC means some were dropped;
 *  - an AF_UNIX stream socket reads end of stream once the peer shut
 *    down its sending side or closed (also by dying), and polls POLLHUP
 *    once the peer's end is closed;
 *  - a write to an eventfd wakes every epoll and poll waiter on it.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "region.h"
#include "shm_chan.h"

#define CHAN_SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)
#define HELLO_FDS 2

static uint32_t load(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

/* p is written by the builtin, which clang-tidy does not see.
 * NOLINTNEXTLINE(readability-non-const-parameter) */
static void store(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static void fence(void)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- our file ----------------------------------------------------------- */

static int chan_map_own(struct zc_shm_chan *c, int memfd)
{
	size_t rlen = c->region_len;
	void *p, *r;
	int ret;

	c->map_len = ZC_SHM_HDR_LEN + (size_t)c->copy_len;
	p = mmap(NULL, c->map_len, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_POPULATE, memfd, 0);
	if (p == MAP_FAILED)
		return -errno;
	c->map = p;
	r = mmap(NULL, rlen, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
		 memfd, (off_t)c->map_len);
	if (r == MAP_FAILED)
		return -errno;
	ret = zc_region_adopt(r, rlen, &c->region);
	if (ret) {
		munmap(r, rlen);
		return ret;
	}
	c->ctrl = (struct zc_shm_ctrl *)c->map;
	c->dring = (struct zc_shm_desc *)(c->map + ZC_SHM_DESC_OFF);
	c->rring = (struct zc_shm_ret *)(c->map + ZC_SHM_RET_OFF);
	c->copy = c->map + ZC_SHM_HDR_LEN;
	/* The first descriptor must wake us. */
	c->ctrl->rx_armed = 1;
	return 0;
}

/* A sealed memfd with our header, rings, copy area and region. */
static int chan_create_own(struct zc_shm_chan *c, int *memfd)
{
	off_t len = ZC_SHM_HDR_LEN + (off_t)c->copy_len + c->region_len;

	*memfd = memfd_create("zcopy-shm", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (*memfd < 0)
		return -errno;
	if (ftruncate(*memfd, len) || fcntl(*memfd, F_ADD_SEALS, CHAN_SEALS))
		return -errno;
	c->bell = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c->bell < 0)
		return -errno;
	return chan_map_own(c, *memfd);
}

/* ---- the hello exchange ------------------------------------------------- */

static void hello_fill(const struct zc_shm_chan *c, struct zc_shm_hello *h)
{
	*h = (struct zc_shm_hello){
		.magic = ZC_SHM_MAGIC,
		.version = ZC_SHM_VERSION,
		.len = sizeof(*h),
		.ring = ZC_SHM_RING,
		.hdr_len = ZC_SHM_HDR_LEN,
		.copy_len = c->copy_len,
		.region_len = c->region_len,
		.file_len =
			ZC_SHM_HDR_LEN + (uint64_t)c->copy_len + c->region_len,
	};
}

/* Wait for events on the socket until deadline: -ETIMEDOUT after it. */
static int hello_poll(int fd, short events, int64_t deadline)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = events };
		int64_t left = deadline - now_ms();
		int n;

		if (left <= 0)
			return -ETIMEDOUT;
		n = poll(&p, 1, (int)left);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

static int hello_send(const struct zc_shm_chan *c, int memfd, int64_t deadline)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * HELLO_FDS)];
		struct cmsghdr align;
	} ctl = { 0 };
	struct zc_shm_hello h;
	struct iovec iov = { &h, sizeof(h) };
	struct msghdr msg = { .msg_iov = &iov,
			      .msg_iovlen = 1,
			      .msg_control = ctl.buf,
			      .msg_controllen = sizeof(ctl.buf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	int fds[HELLO_FDS] = { memfd, c->bell };

	hello_fill(c, &h);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(fds));
	memcpy(CMSG_DATA(cm), fds, sizeof(fds));
	for (;;) {
		ssize_t n = sendmsg(c->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
		int ret;

		if (n == (ssize_t)sizeof(h))
			return 0;
		if (n >= 0)
			return -EPROTO; /* a stream never sends part of it */
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
		ret = hello_poll(c->fd, POLLOUT, deadline);
		if (ret)
			return ret;
	}
}

/* Keep the descriptors of one message: exactly HELLO_FDS, once. */
static int hello_take_fds(struct msghdr *msg, int *fds, int *nfds)
{
	int ret = msg->msg_flags & MSG_CTRUNC ? -EPROTO : 0;

	for (struct cmsghdr *cm = CMSG_FIRSTHDR(msg); cm;
	     cm = CMSG_NXTHDR(msg, cm)) {
		size_t n;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int),
			       sizeof(fd));
			if (*nfds < HELLO_FDS) {
				fds[(*nfds)++] = fd;
				continue;
			}
			close(fd);
			ret = -EPROTO;
		}
	}
	return ret;
}

static ssize_t hello_recv_some(int fd, void *p, size_t len, int *fds, int *nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * (HELLO_FDS + 2))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { p, len };
	struct msghdr msg = { .msg_iov = &iov,
			      .msg_iovlen = 1,
			      .msg_control = ctl.buf,
			      .msg_controllen = sizeof(ctl.buf) };
	ssize_t n = recvmsg(fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	int ret;

	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? -EAGAIN : -errno;
	ret = hello_take_fds(&msg, fds, nfds);
	if (ret)
		return ret;
	return n ? n : -ECONNRESET;
}

static int hello_recv(int fd, struct zc_shm_hello *h, int *fds,
		      int64_t deadline)
{
	size_t got = 0;
	int nfds = 0;

	while (got < sizeof(*h)) {
		ssize_t n = hello_recv_some(fd, (char *)h + got,
					    sizeof(*h) - got, fds, &nfds);

		if (n == -EAGAIN) {
			n = hello_poll(fd, POLLIN, deadline);
		} else if (n > 0) {
			/* The descriptors come with the first bytes. */
			if (nfds != HELLO_FDS)
				n = -EPROTO;
			else
				got += (size_t)n, n = 0;
		}
		if (n < 0)
			return (int)n;
	}
	return 0;
}

/* ---- the peer's file ---------------------------------------------------- */

/* The peer's memfd is as long as it says and can never shrink. */
static int peer_file_check(int memfd, const struct zc_shm_hello *h)
{
	struct stat st;
	int seals;

	if (zc_shm_hello_check(h))
		return -EPROTO;
	if (fstat(memfd, &st) || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size != h->file_len)
		return -EPROTO;
	seals = fcntl(memfd, F_GET_SEALS);
	if (seals < 0 || (seals & CHAN_SEALS) != CHAN_SEALS)
		return -EPROTO;
	return 0;
}

/* An eventfd (an anonymous inode) that a write can never block on. */
static int peer_bell_check(int fd)
{
	struct stat st;
	int fl;

	if (fstat(fd, &st) || (st.st_mode & S_IFMT))
		return -EPROTO;
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 ||
	    (!(fl & O_NONBLOCK) && fcntl(fd, F_SETFL, fl | O_NONBLOCK)))
		return -EPROTO;
	return 0;
}

static int chan_map_peer(struct zc_shm_chan *c, const struct zc_shm_hello *h,
			 int memfd)
{
	void *p;
	int ret = peer_file_check(memfd, h);

	if (ret)
		return ret;
	p = mmap(NULL, h->file_len, PROT_READ, MAP_SHARED | MAP_POPULATE, memfd,
		 0);
	if (p == MAP_FAILED)
		return -errno;
	c->pmap = p;
	c->pmap_len = h->file_len;
	c->pctrl = (const struct zc_shm_ctrl *)c->pmap;
	c->pdring = (const struct zc_shm_desc *)(c->pmap + ZC_SHM_DESC_OFF);
	c->prring = (const struct zc_shm_ret *)(c->pmap + ZC_SHM_RET_OFF);
	c->pdata = c->pmap + ZC_SHM_HDR_LEN;
	c->pdata_len = h->copy_len + h->region_len;
	return 0;
}

static int chan_handshake(struct zc_shm_chan *c, int memfd, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;
	int fds[HELLO_FDS] = { -1, -1 };
	struct zc_shm_hello h;
	int ret;

	ret = hello_send(c, memfd, deadline);
	if (!ret)
		ret = hello_recv(c->fd, &h, fds, deadline);
	if (!ret)
		ret = chan_map_peer(c, &h, fds[0]);
	if (!ret)
		ret = peer_bell_check(fds[1]);
	close_fd(&fds[0]);
	if (!ret)
		c->pbell = fds[1];
	else
		close_fd(&fds[1]);
	return ret;
}

static void chan_free(struct zc_shm_chan *c)
{
	if (c->region && zc_region_destroy(c->region))
		c->region = NULL; /* the application's now (pools on it) */
	if (c->map)
		munmap(c->map, c->map_len);
	if (c->pmap)
		munmap((void *)c->pmap, c->pmap_len);
	close_fd(&c->bell);
	close_fd(&c->pbell);
	free(c);
}

int zc_shm_chan_open(int fd, uint32_t region_len, int timeout_ms,
		     struct zc_shm_chan **out)
{
	struct zc_shm_chan *c = calloc(1, sizeof(*c));
	int memfd = -1, ret;

	if (!c)
		return -ENOMEM;
	c->refs = 1;
	c->fd = fd;
	c->bell = -1;
	c->pbell = -1;
	c->copy_len = region_len;
	c->region_len = region_len;
	ret = chan_create_own(c, &memfd);
	if (!ret)
		ret = chan_handshake(c, memfd, timeout_ms);
	close_fd(&memfd);
	if (ret) {
		chan_free(c);
		return ret;
	}
	*out = c;
	return 0;
}

void zc_shm_chan_put(struct zc_shm_chan *c)
{
	if (c && !--c->refs)
		chan_free(c);
}

/* ---- ringing ------------------------------------------------------------ */

static void ring(const struct zc_shm_chan *c)
{
	/* Cannot block (checked at setup); a full counter means the peer
	 * will wake anyway. */
	if (eventfd_write(c->pbell, 1))
		return;
}

void zc_shm_bell_drain(const struct zc_shm_chan *c)
{
	eventfd_t v;

	(void)eventfd_read(c->bell, &v);
}

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

bool zc_shm_rx_spin(struct zc_shm_chan *c, unsigned us)
{
	int64_t end = 0;

	for (unsigned i = 0;; i++) {
		uint32_t n;

		if (zc_shm_rx_avail(c, &n) || n)
			return true;
		if (i % 64)
			continue;
		if (!end)
			end = now_us() + us;
		else if (now_us() >= end)
			return false;
		cpu_relax();
	}
}

void zc_shm_wait(const struct zc_shm_chan *c)
{
	struct pollfd p[2] = { { .fd = c->bell, .events = POLLIN },
			       { .fd = c->fd, .events = POLLIN | POLLRDHUP } };

	poll(p, 2, -1);
}

int zc_shm_peer_ended(const struct zc_shm_chan *c)
{
	char b;
	ssize_t n = recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);

	if (n > 0)
		return -EPROTO; /* the channel carries nothing on the socket */
	if (n == 0)
		return 1;
	return errno == EAGAIN || errno == EINTR ? 0 : 1;
}

bool zc_shm_peer_gone(const struct zc_shm_chan *c)
{
	struct pollfd p = { .fd = c->fd };

	return poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLERR));
}

/* ---- sending ------------------------------------------------------------ */

int zc_shm_tx_room(struct zc_shm_chan *c, uint32_t pending, uint32_t *room)
{
	uint32_t head = c->ctrl->d_head + pending, used;

	if (head - c->d_tail_seen >= ZC_SHM_RING) {
		uint32_t tail = load(&c->pctrl->d_tail);

		if (zc_shm_ring_count(head, tail, &used))
			return -EPROTO;
		c->d_tail_seen = tail;
	}
	*room = ZC_SHM_RING - (head - c->d_tail_seen);
	return 0;
}

void zc_shm_tx_write(struct zc_shm_chan *c, uint32_t pending,
		     const struct zc_shm_desc *d)
{
	c->dring[(c->ctrl->d_head + pending) % ZC_SHM_RING] = *d;
}

void zc_shm_tx_publish(struct zc_shm_chan *c, uint32_t n)
{
	uint32_t head = c->ctrl->d_head + n;

	store(&c->ctrl->d_head, head);
	fence();
	if (load(&c->pctrl->rx_armed) &&
	    zc_shm_should_ring(1, load(&c->pctrl->d_tail), head, &c->d_rung))
		ring(c);
}

void zc_shm_tx_arm(struct zc_shm_chan *c, bool on)
{
	if (c->ctrl->tx_armed == (uint32_t)on)
		return;
	store(&c->ctrl->tx_armed, on);
	fence();
}

int zc_shm_ret_avail(struct zc_shm_chan *c, uint32_t *n, uint32_t *head)
{
	*head = load(&c->pctrl->r_head);
	return zc_shm_ring_count(*head, c->ctrl->r_tail, n);
}

void zc_shm_ret_read(const struct zc_shm_chan *c, uint32_t i,
		     struct zc_shm_ret *r)
{
	const struct zc_shm_ret *p =
		&c->prring[(c->ctrl->r_tail + i) % ZC_SHM_RING];

	r->token = __atomic_load_n(&p->token, __ATOMIC_RELAXED);
	r->flags = __atomic_load_n(&p->flags, __ATOMIC_RELAXED);
}

bool zc_shm_ret_done(struct zc_shm_chan *c, uint32_t head)
{
	store(&c->ctrl->r_tail, head);
	fence();
	return load(&c->pctrl->r_head) != head;
}

/* ---- receiving ---------------------------------------------------------- */

int zc_shm_rx_avail(struct zc_shm_chan *c, uint32_t *n)
{
	uint32_t head;

	if (c->d_head_seen != c->ctrl->d_tail) {
		*n = c->d_head_seen - c->ctrl->d_tail;
		return 0;
	}
	head = load(&c->pctrl->d_head);
	if (zc_shm_ring_count(head, c->ctrl->d_tail, n))
		return -EPROTO;
	c->d_head_seen = head;
	return 0;
}

int zc_shm_rx_read(const struct zc_shm_chan *c, struct zc_shm_desc *d)
{
	const struct zc_shm_desc *p = &c->pdring[c->ctrl->d_tail % ZC_SHM_RING];

	d->off = __atomic_load_n(&p->off, __ATOMIC_RELAXED);
	d->len = __atomic_load_n(&p->len, __ATOMIC_RELAXED);
	d->token = __atomic_load_n(&p->token, __ATOMIC_RELAXED);
	d->flags = __atomic_load_n(&p->flags, __ATOMIC_RELAXED);
	return zc_shm_desc_check(d, c->pdata_len);
}

void zc_shm_rx_next(struct zc_shm_chan *c)
{
	store(&c->ctrl->d_tail, c->ctrl->d_tail + 1);
	/* Busy: the peer need not ring until we run dry again. */
	if (c->ctrl->rx_armed)
		store(&c->ctrl->rx_armed, 0);
}

bool zc_shm_rx_arm(struct zc_shm_chan *c)
{
	uint32_t n;

	if (!c->ctrl->rx_armed)
		store(&c->ctrl->rx_armed, 1);
	fence();
	return zc_shm_rx_avail(c, &n) || n;
}

int zc_shm_ret_push(struct zc_shm_chan *c, const struct zc_shm_ret *r)
{
	uint32_t head = c->ctrl->r_head, used;

	if (head - c->r_tail_seen >= ZC_SHM_RING) {
		uint32_t tail = load(&c->pctrl->r_tail);

		if (zc_shm_ring_count(head, tail, &used) || used == ZC_SHM_RING)
			return -EAGAIN;
		c->r_tail_seen = tail;
	}
	c->rring[head % ZC_SHM_RING] = *r;
	store(&c->ctrl->r_head, ++head);
	fence();
	if (load(&c->pctrl->tx_armed) &&
	    zc_shm_should_ring(1, load(&c->pctrl->r_tail), head, &c->r_rung))
		ring(c);
	return 0;
}
