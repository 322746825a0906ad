/* SPDX-License-Identifier: MIT */
/*
 * zcopy probe, receiving: io_uring provided buffer rings, the mapped share
 * of TCP_ZEROCOPY_RECEIVE, io_uring zcrx registration, and what the NIC
 * driver reports through the ethtool ioctl.
 */
#include <errno.h>
#include <liburing.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <linux/tcp.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "compat.h"
#include "benchcore.h"
#include "probe.h"

#define WAIT_MS 2000
#define BR_ENTRIES 8
#define BR_BUF 4096
#define BR_BGID 1
#define BR_SEND ((size_t)4 * BR_BUF)
#define BR_BUFS_LEN ((size_t)BR_ENTRIES * BR_BUF)
#define ZR_TOTAL (4u << 20)
#define ZR_CHUNK (256u << 10)
#define ZR_SEND 65536
#define ZCRX_AREA (1u << 20)
#define ZCRX_RQ 64

#define HINT_MAP                                                           \
	"pages map only with 4096-byte payloads per segment (MTU 4148 or " \
	"TCP_MAXSEG 4108) from a page-aligned zero-copy sender"

/* ---- io_uring provided buffer ring + multishot recv -------------------- */

struct buf_ring {
	struct io_uring_buf_ring *br;
	char *bufs;
};

static int buf_ring_setup(struct io_uring *ring, struct buf_ring *b)
{
	struct io_uring_buf_reg reg = { .ring_entries = BR_ENTRIES,
					.bgid = BR_BGID };
	int ret;

	b->br = bc_pages(BR_ENTRIES * sizeof(struct io_uring_buf));
	b->bufs = bc_pages(BR_BUFS_LEN);
	if (!b->br || !b->bufs)
		return ENOMEM;
	reg.ring_addr = (uintptr_t)b->br;
	ret = io_uring_register_buf_ring(ring, &reg, 0);
	if (ret)
		return -ret;
	io_uring_buf_ring_init(b->br);
	for (int i = 0; i < BR_ENTRIES; i++)
		io_uring_buf_ring_add(b->br, b->bufs + (size_t)i * BR_BUF,
				      BR_BUF, (unsigned short)i,
				      io_uring_buf_ring_mask(BR_ENTRIES), i);
	io_uring_buf_ring_advance(b->br, BR_ENTRIES);
	return 0;
}

/* Receive BR_SEND bytes through one multishot recv; count the CQEs. */
static int buf_ring_recv(struct io_uring *ring, int fd[2],
			 struct probe_result *r, unsigned *cqes)
{
	struct __kernel_timespec ts = { .tv_sec = WAIT_MS / 1000 };
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	char msg[BR_SEND] = { 0 };

	io_uring_prep_recv_multishot(sqe, fd[1], NULL, 0, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = BR_BGID;
	if (io_uring_submit(ring) < 0 || send(fd[0], msg, sizeof(msg), 0) < 0)
		return errno;
	while (r->copied < BR_SEND) {
		struct io_uring_cqe *cqe;
		int ret = io_uring_wait_cqe_timeout(ring, &cqe, &ts);

		if (ret)
			return -ret;
		ret = cqe->res;
		if (ret > 0 && (cqe->flags & IORING_CQE_F_BUFFER)) {
			r->copied += (uint64_t)ret;
			(*cqes)++;
		}
		io_uring_cqe_seen(ring, cqe);
		if (ret <= 0)
			return ret < 0 ? -ret : EPIPE;
	}
	return 0;
}

void probe_uring_buf_ring(const struct probe_path *path, struct probe_result *r)
{
	struct buf_ring b = { 0 };
	struct io_uring ring;
	unsigned cqes = 0;
	int fd[2] = { -1, -1 };

	probe_result_init(r, "uring-buf-ring", path);
	r->unit = "bytes";
	r->err = -io_uring_queue_init(8, &ring, 0);
	if (r->err)
		goto out;
	r->err = buf_ring_setup(&ring, &b);
	if (!r->err)
		r->err = -probe_pair(path, SOCK_STREAM, 0, fd);
	if (!r->err)
		r->err = buf_ring_recv(&ring, fd, r, &cqes);
	/* Closing the socket ends the multishot recv before the ring goes. */
	probe_pair_close(fd);
	io_uring_queue_exit(&ring);
	snprintf(r->detail, sizeof(r->detail),
		 "multishot recv into %d provided %d KiB buffers: %u CQEs",
		 BR_ENTRIES, BR_BUF / 1024, cqes);
out:
	bc_free_pages(b.br, BR_ENTRIES * sizeof(struct io_uring_buf));
	bc_free_pages(b.bufs, BR_BUFS_LEN);
	probe_verdict(r);
}

/* ---- TCP_ZEROCOPY_RECEIVE ---------------------------------------------- */

/* Sends ZR_TOTAL bytes with MSG_ZEROCOPY from page-aligned memory: the
 * kind of sender whose pages the receiver can map. */
struct zr_sender {
	int fd;
	int err;
	pthread_t thread;
};

static void *zr_send_main(void *arg)
{
	struct zr_sender *s = arg;
	struct probe_result scratch = { 0 };
	void *buf = bc_pages(ZR_SEND);
	int one = 1;

	if (!buf)
		s->err = ENOMEM;
	else if (setsockopt(s->fd, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof(one)))
		s->err = errno;
	for (unsigned sent = 0; sent < ZR_TOTAL && !s->err; sent += ZR_SEND)
		s->err = probe_msgzc_send(s->fd, buf, ZR_SEND, &scratch);
	bc_free_pages(buf, ZR_SEND);
	return NULL;
}

/* One step: map what the kernel can map, copy what it says to skip. */
static int zr_step(int fd, void *map, char *copy, struct probe_result *r)
{
	struct tcp_zerocopy_receive zc = { .address = (uintptr_t)map,
					   .length = ZR_CHUNK };
	socklen_t len = sizeof(zc);
	ssize_t n;

	if (getsockopt(fd, IPPROTO_TCP, TCP_ZEROCOPY_RECEIVE, &zc, &len))
		return errno;
	r->zerocopy += zc.length;
	if (zc.recv_skip_hint) {
		n = recv(fd, copy,
			 zc.recv_skip_hint < ZR_CHUNK ? zc.recv_skip_hint
						      : ZR_CHUNK,
			 0);
		if (n <= 0)
			return n ? errno : EPIPE;
		r->copied += (uint64_t)n;
	} else if (!zc.length &&
		   poll(&(struct pollfd){ .fd = fd, .events = POLLIN }, 1,
			WAIT_MS) <= 0) {
		return ETIMEDOUT;
	}
	return 0;
}

static int zr_receive(int fd, struct probe_result *r)
{
	void *map = mmap(NULL, ZR_CHUNK, PROT_READ, MAP_SHARED, fd, 0);
	char *copy = malloc(ZR_CHUNK);
	int err = 0;

	if (map == MAP_FAILED)
		err = errno;
	else if (!copy)
		err = ENOMEM;
	while (!err && r->zerocopy + r->copied < ZR_TOTAL)
		err = zr_step(fd, map, copy, r);
	if (map != MAP_FAILED)
		munmap(map, ZR_CHUNK);
	free(copy);
	return err;
}

static int zr_mss(int fd)
{
	socklen_t len = sizeof(int);
	int mss = 0;

	getsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &mss, &len);
	return mss;
}

/* Room for everything the sender sends: when the receive queue outgrows
 * its buffer the kernel collapses it into copied, unmappable skbs, which
 * would make the share depend on scheduling.  Forcing it needs
 * CAP_NET_ADMIN; without it the share may then dip a little. */
static void zr_room(int fd)
{
	int size = ZR_TOTAL * 4;

	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size));
}

void probe_tcp_zc_receive(const struct probe_path *path, int mss,
			  struct probe_result *r)
{
	struct zr_sender s = { .fd = -1 };
	int fd[2];

	probe_result_init(
		r, mss ? "tcp-zc-receive-mss4108" : "tcp-zc-receive-default",
		path);
	r->unit = "bytes";
	r->err = -probe_pair(path, SOCK_STREAM, mss, fd);
	if (r->err)
		goto out;
	zr_room(fd[1]);
	s.fd = fd[0];
	r->err = pthread_create(&s.thread, NULL, zr_send_main, &s);
	if (!r->err) {
		r->err = zr_receive(fd[1], r);
		/* Unblock the sender if the receiver gave up. */
		shutdown(fd[1], SHUT_RDWR);
		pthread_join(s.thread, NULL);
		if (!r->err)
			r->err = s.err;
	}
	snprintf(r->detail, sizeof(r->detail),
		 "MSS %d, %u MiB from a MSG_ZEROCOPY sender", zr_mss(fd[1]),
		 ZR_TOTAL >> 20);
	probe_pair_close(fd);
out:
	probe_verdict(r);
	if (!r->err && r->copied > r->zerocopy)
		r->hint = HINT_MAP;
}

/* ---- io_uring zero-copy receive (zcrx) --------------------------------- */

static int zcrx_register(int ring_fd, unsigned ifindex, void *area)
{
	struct io_uring_zcrx_area_reg area_reg = { .addr = (uintptr_t)area,
						   .len = ZCRX_AREA };
	struct io_uring_region_desc rd = { .size = (__u64)getpagesize() };
	struct io_uring_zcrx_ifq_reg reg = {
		.if_idx = ifindex,
		.if_rxq = 0,
		.rq_entries = ZCRX_RQ,
		.area_ptr = (uintptr_t)&area_reg,
		.region_ptr = (uintptr_t)&rd,
	};

	if (syscall(__NR_io_uring_register, ring_fd, IORING_REGISTER_ZCRX_IFQ,
		    &reg, 1) < 0)
		return errno;
	return 0;
}

static int zcrx_try(unsigned ifindex)
{
	struct io_uring_params p = { .flags = IORING_SETUP_DEFER_TASKRUN |
					      IORING_SETUP_SINGLE_ISSUER |
					      IORING_SETUP_CQE32 };
	void *area = bc_pages(ZCRX_AREA);
	struct io_uring ring;
	int err;

	if (!area)
		return ENOMEM;
	err = -io_uring_queue_init_params(8, &ring, &p);
	if (!err) {
		/* On success the ring's teardown unregisters the queue. */
		err = zcrx_register(ring.ring_fd, ifindex, area);
		io_uring_queue_exit(&ring);
	}
	bc_free_pages(area, ZCRX_AREA);
	return err;
}

void probe_zcrx(const struct probe_path *path, struct probe_result *r)
{
	unsigned ifindex;
	int saved;

	probe_result_init(r, "zcrx", path);
	snprintf(r->detail, sizeof(r->detail), "register rx queue 0 of %s",
		 path->ifname);
	r->err = -probe_ns_enter(path, 1, &saved);
	if (r->err)
		return;
	ifindex = if_nametoindex(path->ifname);
	r->err = ifindex ? zcrx_try(ifindex) : errno;
	probe_ns_leave(saved);
	r->hint = probe_dev_hint(r->err);
}

/* ---- the NIC: ring parameters through the ethtool ioctl ---------------- */

void probe_nic(const struct probe_path *path, struct probe_nic *n)
{
	struct ethtool_ringparam rp = { .cmd = ETHTOOL_GRINGPARAM };
	struct ifreq ifr = { .ifr_data = (void *)&rp };
	int saved, fd;

	*n = (struct probe_nic){ .ifname = path->ifname, .path = path->name };
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", path->ifname);
	n->rings_err = -probe_ns_enter(path, 1, &saved);
	if (n->rings_err)
		return;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	n->rings_err = fd < 0 ? errno : 0;
	probe_ns_leave(saved);
	if (fd < 0)
		return;
	n->rings_err = ioctl(fd, SIOCETHTOOL, &ifr) ? errno : 0;
	n->rx_max = rp.rx_max_pending;
	n->rx = rp.rx_pending;
	close(fd);
}
