/* SPDX-License-Identifier: MIT */
/*
 * The shared-region channel (ZC_TX_SHM/ZC_RX_SHM) between two processes:
 * every byte checked at the receiver while the sender overwrites each
 * buffer with garbage the moment its completion runs; exactly-once
 * completions; peers killed on either side; peers that never answer or
 * answer something else; a hand-made peer that writes garbage descriptors
 * or returns; back-pressure when the receiver holds everything.  Every
 * child process and every test runs under a watchdog (alarm).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <zcopy/zcopy.h>

#include "netutil.h"
#include "shm_proto.h"

#define CHILD_TIMEOUT_S 60
#define TEST_TIMEOUT_S 90
#define SLOTS 4
#define AREA (4u << 20)
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* ---- processes ---------------------------------------------------------- */

/* Run fn(fd, arg) in a child that holds only its end of the pair. */
static pid_t child_start(int sv[2], int (*fn)(int fd, void *arg), void *arg)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		alarm(CHILD_TIMEOUT_S);
		close(sv[0]);
		_exit(fn(sv[1], arg));
	}
	close(sv[1]);
	return pid;
}

static int child_wait(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) != pid)
		return 128;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void pair(int sv[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
			 0);
}

static int shm_attach(struct zc_ctx *ctx, int fd, int tmo_ms,
		      struct zc_sock **out)
{
	struct zc_sock_opts o = { .tx = ZC_TX_SHM,
				  .rx = ZC_RX_SHM,
				  .close_timeout_ms = tmo_ms };

	return zc_sock_attach(ctx, fd, &o, out);
}

/* ---- the receiving side ------------------------------------------------- */

struct rx_check {
	uint64_t expect; /* bytes; 0: until end of stream */
	bool nonblock;	 /* hold everything until the sender stalls */
	int ready_fd;	 /* written once after ready_after bytes, or -1 */
	uint64_t ready_after;
	bool hold_after_ready; /* then keep every buffer, receive on */
};

static bool buf_ok(const struct zc_buf *buf, uint64_t at)
{
	struct zc_seg seg;

	if (zc_buf_seg(buf, 0, &seg))
		return false;
	for (size_t i = 0; i < seg.len; i++)
		if (((uint8_t *)seg.base)[i] != nu_pattern(at + i))
			return false;
	return true;
}

/* Nothing new for a while: the sender is stalled by what we hold. */
static bool rx_quiet(struct zc_sock *sock, int ms)
{
	struct pollfd p = { .fd = zc_sock_fd(sock), .events = POLLIN };

	(void)poll(&p, 1, ms);
	return true;
}

struct held {
	struct zc_buf *buf[ZC_SHM_RING];
	uint64_t at[ZC_SHM_RING];
	unsigned n;
};

/* Check every held buffer again (nothing overwrote it) and release it. */
static int held_release(struct zc_sock *sock, struct held *h)
{
	int bad = 0;

	for (unsigned i = 0; i < h->n; i++) {
		bad |= !buf_ok(h->buf[i], h->at[i]);
		bad |= zc_sock_release(sock, h->buf[i]) != 0;
	}
	h->n = 0;
	return bad;
}

/* Receive with holds: keep buffers until the stream stalls (nonblocking),
 * then check them again and release them all. */
static int rx_hold_loop(struct zc_sock *sock, uint64_t *got)
{
	struct held h = { .n = 0 };
	int stalls = 0, bad = 0;

	for (;;) {
		struct zc_buf *buf;
		ssize_t n = zc_recv(sock, &buf);

		if (n == -EAGAIN || n == -ENOBUFS) {
			rx_quiet(sock, 200);
			n = zc_recv(sock, &buf);
			if (n == -EAGAIN || n == -ENOBUFS) {
				stalls += h.n > 0;
				bad |= held_release(sock, &h);
				continue;
			}
		}
		if (n <= 0)
			break;
		bad |= !buf_ok(buf, *got);
		h.buf[h.n] = buf;
		h.at[h.n++] = *got;
		*got += (uint64_t)n;
	}
	bad |= held_release(sock, &h);
	return bad ? 1 : stalls ? 0 : 4;
}

static int rx_plain_loop(struct zc_sock *sock, struct rx_check *rc,
			 uint64_t *got)
{
	struct zc_buf *hold[ZC_SHM_RING];
	unsigned nhold = 0;
	int bad = 0;

	for (;;) {
		struct zc_buf *buf;
		ssize_t n = zc_recv(sock, &buf);

		if (n <= 0) {
			bad |= n < 0 ? 3 : 0;
			break;
		}
		bad |= buf_ok(buf, *got) ? 0 : 1;
		*got += (uint64_t)n;
		if (rc->ready_fd >= 0 && *got >= rc->ready_after) {
			(void)!write(rc->ready_fd, "r", 1);
			close(rc->ready_fd);
			rc->ready_fd = -1;
		}
		if (rc->hold_after_ready && rc->ready_fd < 0 &&
		    nhold < ZC_SHM_RING)
			hold[nhold++] = buf;
		else
			zc_sock_release(sock, buf);
	}
	for (unsigned i = 0; i < nhold; i++)
		zc_sock_release(sock, hold[i]);
	return bad;
}

/* Exit code: 0 all bytes right, 1 corrupt, 2 wrong total, 3 receive
 * error, 4 never stalled (hold mode), 5 setup failed. */
static int rx_child(int fd, void *arg)
{
	struct rx_check *rc = arg;
	struct zc_sock *sock;
	struct zc_ctx *ctx;
	uint64_t got = 0;
	int ret;

	if (rc->nonblock)
		nu_set_nonblock(fd);
	if (zc_ctx_create(NULL, &ctx) || shm_attach(ctx, fd, 0, &sock))
		return 5;
	if (rc->nonblock)
		ret = rx_hold_loop(sock, &got);
	else
		ret = rx_plain_loop(sock, rc, &got);
	zc_ctx_destroy(ctx);
	if (!ret && rc->expect && got != rc->expect)
		ret = 2;
	return ret;
}

/* ---- the sending side --------------------------------------------------- */

struct tx_run {
	size_t size;
	unsigned count;
	bool region;
	uint64_t shm_size; /* 0: the default */
	/* Optional: bytes completed without error, in memory shared with the
	 * parent; a stop hook asked before each send. */
	volatile uint64_t *acked;
	bool (*stop)(struct tx_run *r);
	void *arg;
	/* out */
	uint64_t accepted, callbacks, dups;
	uint64_t results[4], shm_copy;
	int first_error;
	struct zc_stats st;
};

struct tx_slot {
	struct tx_run *run;
	bool busy;
	uint8_t *mem;
	struct zc_buf *buf; /* region: a pool buffer */
};

static void tx_done(struct zc_sock *sock, const struct zc_completion *c,
		    void *arg)
{
	struct tx_slot *s = arg;
	struct tx_run *r = s->run;

	(void)sock;
	r->callbacks++;
	if (!s->busy) {
		r->dups++;
		return;
	}
	s->busy = false;
	r->results[c->result]++;
	r->shm_copy += c->why == ZC_WHY_SHM_COPY;
	if (c->result == ZC_RESULT_ERROR && !r->first_error)
		r->first_error = c->error;
	if (r->acked && c->result != ZC_RESULT_ERROR)
		*r->acked += r->size;
	/* Overwrite at once: a receiver still reading it would see this. */
	memset(s->mem, NU_GARBAGE, r->size);
	if (s->buf) {
		zc_buf_release(s->buf);
		s->buf = NULL;
	}
}

static struct tx_slot *tx_free_slot(struct tx_slot *slots)
{
	for (int i = 0; i < SLOTS; i++)
		if (!slots[i].busy)
			return &slots[i];
	return NULL;
}

static int tx_fill(struct tx_slot *s, struct zc_pool *pool, uint64_t at)
{
	struct zc_seg seg;

	if (pool) {
		if (zc_pool_get(pool, &s->buf))
			return -ENOBUFS;
		zc_buf_trim(s->buf, s->run->size);
		zc_buf_seg(s->buf, 0, &seg);
		s->mem = seg.base;
	}
	for (size_t i = 0; i < s->run->size; i++)
		s->mem[i] = nu_pattern(at + i);
	return 0;
}

static int tx_one(struct zc_sock *sock, struct tx_slot *s)
{
	struct iovec iov = { s->mem, s->run->size };
	int ret;

	s->busy = true;
	if (s->buf)
		ret = zc_send_buf(sock, s->buf, tx_done, s);
	else
		ret = zc_send(sock, &iov, 1, tx_done, s);
	if (ret) {
		s->busy = false;
		if (s->buf)
			zc_buf_release(s->buf);
		s->buf = NULL;
	}
	return ret;
}

static void tx_slots_init(struct tx_run *r, struct tx_slot *slots)
{
	for (int i = 0; i < SLOTS; i++) {
		slots[i] = (struct tx_slot){ .run = r };
		if (!r->region)
			slots[i].mem = malloc(r->size);
	}
}

static void tx_loop(struct zc_ctx *ctx, struct zc_sock *sock, struct tx_run *r,
		    struct tx_slot *slots, struct zc_pool *pool)
{
	uint64_t at = 0;

	while (r->accepted < r->count && !(r->stop && r->stop(r))) {
		struct tx_slot *s = tx_free_slot(slots);
		int ret;

		if (!s || tx_fill(s, pool, at)) {
			zc_ctx_process(ctx, 100);
			continue;
		}
		ret = tx_one(sock, s);
		if (ret && ret != -EAGAIN) {
			r->first_error = ret;
			break;
		}
		if (ret) {
			zc_ctx_process(ctx, 100);
			continue;
		}
		r->accepted++;
		at += r->size;
	}
	for (int i = 0; i < 600 && r->callbacks < r->accepted; i++)
		zc_ctx_process(ctx, 100);
}

/* Send r->count messages of r->size bytes on fd, close; 0 or -errno.
 * No cmocka asserts: children run it too. */
static int tx_run(int fd, struct tx_run *r)
{
	struct zc_sock_opts o = { .tx = ZC_TX_SHM,
				  .rx = ZC_RX_SHM,
				  .shm_size = r->shm_size };
	struct tx_slot slots[SLOTS];
	struct zc_pool *pool = NULL;
	struct zc_region *region;
	struct zc_sock *sock;
	struct zc_ctx *ctx;
	int ret;

	ret = zc_ctx_create(NULL, &ctx);
	if (!ret)
		ret = zc_sock_attach(ctx, fd, &o, &sock);
	if (ret)
		return ret;
	tx_slots_init(r, slots);
	if (r->region &&
	    (zc_sock_region(sock, &region) ||
	     zc_pool_create(region, r->size < 4096 ? 4096 : r->size, NULL, NULL,
			    &pool)))
		return -EIO;
	tx_loop(ctx, sock, r, slots, pool);
	zc_sock_stats(sock, &r->st);
	if (pool && zc_pool_destroy(pool))
		ret = -EBUSY;
	zc_sock_close(sock);
	zc_ctx_destroy(ctx);
	for (int i = 0; i < SLOTS && !r->region; i++)
		free(slots[i].mem);
	return ret;
}

/* ---- integrity ---------------------------------------------------------- */

static unsigned count_for(size_t size)
{
	unsigned n = (unsigned)((24u << 20) / size);

	return n < 8 ? 8 : n > 3000 ? 3000 : n;
}

/* Send r in this process to a receiver child checking rc; every send
 * accepted, completed once, without error, every byte right. */
static void run_checked(struct tx_run *r, struct rx_check *rc)
{
	pid_t pid;
	int sv[2];

	pair(sv);
	pid = child_start(sv, rx_child, rc);
	assert_int_equal(tx_run(sv[0], r), 0);
	assert_int_equal(child_wait(pid), 0);
	assert_int_equal(r->first_error, 0);
	assert_int_equal(r->accepted, r->count);
	assert_int_equal(r->callbacks, r->accepted);
	assert_int_equal(r->dups, 0);
}

static void stream_n(size_t size, unsigned count, bool region)
{
	struct tx_run r = { .size = size, .count = count, .region = region };
	struct rx_check rc = { .expect = (uint64_t)r.count * size,
			       .ready_fd = -1 };

	run_checked(&r, &rc);
	if (region) {
		assert_int_equal(r.results[ZC_RESULT_ZEROCOPY], r.count);
		assert_int_equal(r.st.copied_why[ZC_WHY_SHM_COPY], 0);
	} else {
		assert_int_equal(r.results[ZC_RESULT_COPIED], r.count);
		assert_int_equal(r.shm_copy, r.count);
	}
	assert_int_equal(r.st.tx_by_mode[ZC_TX_SHM], r.count);
}

static void stream_one(size_t size, bool region)
{
	stream_n(size, count_for(size), region);
}

static const size_t sizes[] = { 1, 63, 4096, 65536, 1u << 20, 4u << 20 };

static void test_integrity_copied(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEM(sizes); i++)
		stream_one(sizes[i], false);
}

static void test_integrity_region(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEM(sizes); i++)
		stream_one(sizes[i], true);
}

/* Many small messages: both rings wrap around many times. */
static void test_ring_wrap(void **state)
{
	(void)state;
	stream_n(7, 20000, false);
	stream_n(100, 5000, true);
}

/* A sender with a copy area of four pages against a receiver with the
 * default: large sends go in 4 KiB chunks, the area wraps hundreds of
 * times per send, and each end uses the other's sizes. */
static void test_small_area(void **state)
{
	struct tx_run r = { .size = 1u << 20, .count = 24, .shm_size = 16384 };
	struct rx_check rc = { .expect = 24u << 20, .ready_fd = -1 };

	(void)state;
	run_checked(&r, &rc);
	assert_int_equal(r.results[ZC_RESULT_COPIED], 24);
	r = (struct tx_run){
		.size = 16384, .count = 500, .region = true, .shm_size = 16384
	};
	rc = (struct rx_check){ .expect = (uint64_t)16384 * 500,
				.ready_fd = -1 };
	run_checked(&r, &rc);
	assert_int_equal(r.results[ZC_RESULT_ZEROCOPY], 500);
}

/* ---- attach rules ------------------------------------------------------- */

static void test_attach_rules(void **state)
{
	struct zc_sock_opts o = { .tx = ZC_TX_SHM, .rx = ZC_RX_SHM };
	struct zc_region *region;
	struct zc_sock *sock;
	struct zc_ctx *ctx;
	int sv[2], snd, rcv, d[2];

	(void)state;
	assert_int_equal(zc_ctx_create(NULL, &ctx), 0);
	pair(sv);
	/* One shm mode without the other. */
	o.rx = ZC_RX_AUTO;
	assert_int_equal(zc_sock_attach(ctx, sv[0], &o, &sock), -EINVAL);
	o = (struct zc_sock_opts){ .tx = ZC_TX_COPY, .rx = ZC_RX_SHM };
	assert_int_equal(zc_sock_attach(ctx, sv[0], &o, &sock), -EINVAL);
	/* AF_UNIX without shm, shm over TCP, a size for another mode. */
	o = (struct zc_sock_opts){ .tx = ZC_TX_COPY };
	assert_int_equal(zc_sock_attach(ctx, sv[0], &o, &sock), -EAFNOSUPPORT);
	assert_int_equal(zc_sock_attach(ctx, sv[0], NULL, &sock),
			 -EAFNOSUPPORT);
	o = (struct zc_sock_opts){ .shm_size = 1u << 20 };
	assert_int_equal(zc_sock_attach(ctx, sv[0], &o, &sock), -EINVAL);
	assert_int_equal(nu_tcp_pair(AF_INET, &snd, &rcv), 0);
	o = (struct zc_sock_opts){ .tx = ZC_TX_SHM, .rx = ZC_RX_SHM };
	assert_int_equal(zc_sock_attach(ctx, snd, &o, &sock), -EAFNOSUPPORT);
	/* A datagram socket pair. */
	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM, 0, d), 0);
	assert_int_equal(zc_sock_attach(ctx, d[0], &o, &sock), -EAFNOSUPPORT);
	/* A size that is not whole pages, or too large. */
	o.shm_size = 5000;
	assert_int_equal(zc_sock_attach(ctx, sv[0], &o, &sock), -EINVAL);
	o.shm_size = 2ull << 30;
	assert_int_equal(zc_sock_attach(ctx, sv[0], &o, &sock), -EINVAL);
	/* Not a shm socket: no region. */
	assert_int_equal(zc_sock_attach(ctx, rcv, NULL, &sock), 0);
	assert_int_equal(zc_sock_region(sock, &region), -EOPNOTSUPP);
	assert_int_equal(zc_sock_region(NULL, &region), -EINVAL);
	assert_string_equal(zc_tx_mode_name(ZC_TX_SHM), "shm");
	assert_string_equal(zc_rx_mode_name(ZC_RX_SHM), "shm");
	assert_string_equal(zc_why_name(ZC_WHY_SHM_COPY), "shm-copy");
	zc_ctx_destroy(ctx);
	close(snd);
	close(sv[0]);
	close(sv[1]);
	close(d[0]);
	close(d[1]);
}

/* ---- a hand-made peer --------------------------------------------------- */

/* The wire format done by hand, so tests can get it wrong on purpose. */
struct fake {
	int memfd, bell;
	uint8_t *map;
	size_t len;
	struct zc_shm_hello hello;
	struct zc_shm_ctrl *ctrl;
	struct zc_shm_desc *dring;
	struct zc_shm_ret *rring;
	uint8_t *data;
	/* The real end's file, read-only. */
	const uint8_t *peer;
	size_t peer_len;
	int peer_bell;
};

static void fake_create(struct fake *f, unsigned seals)
{
	f->hello = (struct zc_shm_hello){
		.magic = ZC_SHM_MAGIC,
		.version = ZC_SHM_VERSION,
		.len = sizeof(f->hello),
		.ring = ZC_SHM_RING,
		.hdr_len = ZC_SHM_HDR_LEN,
		.copy_len = AREA,
		.region_len = AREA,
		.file_len = ZC_SHM_HDR_LEN + 2ull * AREA,
	};
	f->len = f->hello.file_len;
	f->memfd = memfd_create("fake", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	assert_true(f->memfd >= 0);
	assert_int_equal(ftruncate(f->memfd, (off_t)f->len), 0);
	if (seals)
		assert_int_equal(fcntl(f->memfd, F_ADD_SEALS, seals), 0);
	f->map = mmap(NULL, f->len, PROT_READ | PROT_WRITE, MAP_SHARED,
		      f->memfd, 0);
	assert_true(f->map != MAP_FAILED);
	f->ctrl = (struct zc_shm_ctrl *)f->map;
	f->dring = (struct zc_shm_desc *)(f->map + ZC_SHM_DESC_OFF);
	f->rring = (struct zc_shm_ret *)(f->map + ZC_SHM_RET_OFF);
	f->data = f->map + ZC_SHM_HDR_LEN;
	f->bell = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	f->peer_bell = -1;
}

static void fake_send(int fd, const struct fake *f, int nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * 2)];
		struct cmsghdr align;
	} ctl = { 0 };
	struct iovec iov = { (void *)&f->hello, sizeof(f->hello) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	int fds[2] = { f->memfd, f->bell };

	if (nfds) {
		struct cmsghdr *cm;

		msg.msg_control = ctl.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
	}
	assert_int_equal(sendmsg(fd, &msg, 0), sizeof(f->hello));
}

/* Read the real end's hello and map its file. */
static void fake_recv(int fd, struct fake *f)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * 2)];
		struct cmsghdr align;
	} ctl;
	struct zc_shm_hello h;
	struct iovec iov = { &h, sizeof(h) };
	struct msghdr msg = { .msg_iov = &iov,
			      .msg_iovlen = 1,
			      .msg_control = ctl.buf,
			      .msg_controllen = sizeof(ctl.buf) };
	struct cmsghdr *cm;
	int fds[2] = { -1, -1 };

	assert_int_equal(recvmsg(fd, &msg, MSG_CMSG_CLOEXEC), sizeof(h));
	/* One SCM_RIGHTS message with both descriptors: memfd, doorbell. */
	cm = CMSG_FIRSTHDR(&msg);
	if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
	    cm->cmsg_len == CMSG_LEN(sizeof(fds)))
		memcpy(fds, CMSG_DATA(cm), sizeof(fds));
	assert_true(fds[0] >= 0 && fds[1] >= 0);
	f->peer_len = h.file_len;
	f->peer = mmap(NULL, f->peer_len, PROT_READ, MAP_SHARED, fds[0], 0);
	assert_true(f->peer != MAP_FAILED);
	close(fds[0]);
	f->peer_bell = fds[1];
}

static void fake_free(struct fake *f)
{
	munmap(f->map, f->len);
	if (f->peer)
		munmap((void *)f->peer, f->peer_len);
	close(f->memfd);
	close(f->bell);
	if (f->peer_bell >= 0)
		close(f->peer_bell);
}

/* A real end attached against a fake that already sent its hello. */
static void fake_pair(struct fake *f, int sv[2], struct zc_ctx **ctx,
		      struct zc_sock **sock)
{
	pair(sv);
	fake_create(f, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
	fake_send(sv[1], f, 2);
	assert_int_equal(zc_ctx_create(NULL, ctx), 0);
	assert_int_equal(shm_attach(*ctx, sv[0], 500, sock), 0);
	fake_recv(sv[1], f);
}

/* ---- handshakes that go wrong ------------------------------------------- */

/* Attach against a peer that does what setup() says; the result, and
 * the time it took in *ms. */
static int attach_against(void (*setup)(int fd), int64_t *ms)
{
	struct zc_sock *sock;
	struct zc_ctx *ctx;
	int64_t t0;
	int sv[2], ret;

	pair(sv);
	if (setup)
		setup(sv[1]);
	assert_int_equal(zc_ctx_create(NULL, &ctx), 0);
	t0 = nu_now_ms();
	ret = shm_attach(ctx, sv[0], 300, &sock);
	*ms = nu_now_ms() - t0;
	if (!ret)
		zc_sock_close(sock);
	zc_ctx_destroy(ctx);
	close(sv[0]);
	close(sv[1]);
	return ret;
}

static void say_magic(int fd)
{
	struct fake f;

	fake_create(&f, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
	f.hello.magic ^= 1;
	fake_send(fd, &f, 2);
	fake_free(&f);
}

static void say_version(int fd)
{
	struct fake f;

	fake_create(&f, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
	f.hello.version = ZC_SHM_VERSION + 1;
	fake_send(fd, &f, 2);
	fake_free(&f);
}

static void say_unsealed(int fd)
{
	struct fake f;

	fake_create(&f, 0);
	fake_send(fd, &f, 2);
	fake_free(&f);
}

static void say_short_file(int fd)
{
	struct fake f;

	fake_create(&f, 0);
	assert_int_equal(ftruncate(f.memfd, (off_t)f.len - 4096), 0);
	assert_int_equal(fcntl(f.memfd, F_ADD_SEALS,
			       F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL),
			 0);
	fake_send(fd, &f, 2);
	fake_free(&f);
}

static void say_no_fds(int fd)
{
	struct fake f;

	fake_create(&f, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
	fake_send(fd, &f, 0);
	fake_free(&f);
}

static void say_text(int fd)
{
	static const char text[] = "GET / HTTP/1.0\r\n\r\n and some more bytes";

	assert_int_equal(write(fd, text, sizeof(text)), sizeof(text));
}

static void hang_up(int fd)
{
	shutdown(fd, SHUT_WR);
}

static void test_handshake_errors(void **state)
{
	int64_t ms;

	(void)state;
	/* Silence: the timeout, and no longer. */
	assert_int_equal(attach_against(NULL, &ms), -ETIMEDOUT);
	assert_true(ms >= 250 && ms < 2000);
	assert_int_equal(attach_against(say_magic, &ms), -EPROTO);
	assert_int_equal(attach_against(say_version, &ms), -EPROTO);
	assert_int_equal(attach_against(say_unsealed, &ms), -EPROTO);
	assert_int_equal(attach_against(say_short_file, &ms), -EPROTO);
	assert_int_equal(attach_against(say_no_fds, &ms), -EPROTO);
	assert_int_equal(attach_against(say_text, &ms), -EPROTO);
	assert_int_equal(attach_against(hang_up, &ms), -ECONNRESET);
}

/* ---- a sender that writes garbage --------------------------------------- */

static void fake_publish(struct fake *f, struct zc_shm_desc d)
{
	f->dring[f->ctrl->d_head % ZC_SHM_RING] = d;
	__atomic_store_n(&f->ctrl->d_head, f->ctrl->d_head + 1,
			 __ATOMIC_RELEASE);
}

/* One good buffer, then bad, checked by what zc_recv() says. */
static void garbage_case(struct zc_shm_desc bad, uint32_t head_jump)
{
	struct zc_sock *sock;
	struct zc_ctx *ctx;
	struct zc_buf *buf;
	struct fake f;
	int sv[2];

	fake_pair(&f, sv, &ctx, &sock);
	nu_set_nonblock(sv[0]);
	for (unsigned i = 0; i < 100; i++)
		f.data[i] = nu_pattern(i);
	fake_publish(&f, (struct zc_shm_desc){ 0, 100, 42, ZC_SHM_D_COPY });
	assert_int_equal(zc_recv(sock, &buf), 100);
	assert_true(buf_ok(buf, 0));
	assert_int_equal(zc_sock_release(sock, buf), 0);
	/* Our token came back on the real end's return ring. */
	assert_int_equal(((const struct zc_shm_ctrl *)f.peer)->r_head, 1);
	assert_int_equal(
		((const struct zc_shm_ret *)(f.peer + ZC_SHM_RET_OFF))[0].token,
		42);
	if (head_jump)
		f.ctrl->d_head += head_jump;
	else
		fake_publish(&f, bad);
	assert_int_equal(zc_recv(sock, &buf), -EPROTO);
	assert_int_equal(zc_recv(sock, &buf), -EPROTO);
	zc_ctx_destroy(ctx);
	fake_free(&f);
	close(sv[1]);
}

static void test_garbage_descriptors(void **state)
{
	uint32_t end = 2 * AREA;

	(void)state;
	garbage_case((struct zc_shm_desc){ end, 1, 0, 0 }, 0);
	garbage_case((struct zc_shm_desc){ end - 10, 11, 0, 0 }, 0);
	garbage_case((struct zc_shm_desc){ 0xfffffff0u, 0x20, 0, 0 }, 0);
	garbage_case((struct zc_shm_desc){ 16, 0xffffffffu, 0, 0 }, 0);
	garbage_case((struct zc_shm_desc){ 0, 0, 0, 0 }, 0);
	garbage_case((struct zc_shm_desc){ 0, 10, 0, 0x80 }, 0);
	garbage_case((struct zc_shm_desc){ 0 }, ZC_SHM_RING + 1);
	garbage_case((struct zc_shm_desc){ 0 }, 0x80000000u);
}

/* The last byte of the peer's data is fine; one more is not. */
static void test_descriptor_edges(void **state)
{
	struct zc_sock *sock;
	struct zc_ctx *ctx;
	struct zc_buf *buf;
	struct zc_seg seg;
	struct fake f;
	int sv[2];

	(void)state;
	fake_pair(&f, sv, &ctx, &sock);
	f.data[2 * AREA - 1] = 0x77;
	fake_publish(&f, (struct zc_shm_desc){ 2 * AREA - 1, 1, 1, 0 });
	assert_int_equal(zc_recv(sock, &buf), 1);
	assert_int_equal(zc_buf_seg(buf, 0, &seg), 0);
	assert_int_equal(*(uint8_t *)seg.base, 0x77);
	assert_int_equal(zc_sock_release(sock, buf), 0);
	zc_ctx_destroy(ctx);
	fake_free(&f);
	close(sv[1]);
}

/* ---- a receiver that returns garbage ------------------------------------ */

struct counts {
	unsigned calls;
	struct zc_completion last;
};

static void count_cb(struct zc_sock *sock, const struct zc_completion *c,
		     void *arg)
{
	struct counts *n = arg;

	(void)sock;
	n->calls++;
	n->last = *c;
}

static void fake_return(struct fake *f, uint32_t token, uint32_t flags)
{
	f->rring[f->ctrl->r_head % ZC_SHM_RING] =
		(struct zc_shm_ret){ token, flags };
	__atomic_store_n(&f->ctrl->r_head, f->ctrl->r_head + 1,
			 __ATOMIC_RELEASE);
	eventfd_write(f->peer_bell, 1);
}

/* The real end's descriptor i (from its file). */
static struct zc_shm_desc fake_desc(const struct fake *f, uint32_t i)
{
	return ((const struct zc_shm_desc *)(f->peer + ZC_SHM_DESC_OFF))[i];
}

static struct zc_buf *send_region(struct zc_sock *sock, struct zc_pool *pool,
				  struct counts *n)
{
	struct zc_buf *buf;

	assert_int_equal(zc_pool_get(pool, &buf), 0);
	assert_int_equal(zc_send_buf(sock, buf, count_cb, n), 0);
	return buf;
}

static void settle(struct zc_ctx *ctx)
{
	for (int i = 0; i < 5; i++)
		zc_ctx_process(ctx, 20);
}

static void test_garbage_returns(void **state)
{
	struct counts zc = { 0 }, cp = { 0 }, late = { 0 };
	struct iovec iov = { "hello", 5 };
	struct zc_region *region;
	struct zc_buf *b1, *b2;
	struct zc_pool *pool;
	struct zc_sock *sock;
	struct zc_stats st;
	struct zc_ctx *ctx;
	struct fake f;
	int sv[2];

	(void)state;
	fake_pair(&f, sv, &ctx, &sock);
	assert_int_equal(zc_sock_region(sock, &region), 0);
	assert_int_equal(zc_pool_create(region, 65536, NULL, NULL, &pool), 0);
	b1 = send_region(sock, pool, &zc);
	assert_int_equal(zc_send(sock, &iov, 1, count_cb, &cp), 0);
	settle(ctx);
	assert_int_equal(cp.calls, 1); /* copied: done at once */
	assert_int_equal(cp.last.why, ZC_WHY_SHM_COPY);
	assert_int_equal(zc.calls, 0); /* waits for its buffer */
	/* Tokens never issued, a bad flag: ignored and counted. */
	fake_return(&f, fake_desc(&f, 0).token + 999, 0);
	fake_return(&f, fake_desc(&f, 1).token + 999, ZC_SHM_D_COPY);
	fake_return(&f, fake_desc(&f, 0).token, 0x10);
	settle(ctx);
	assert_int_equal(zc.calls, 0);
	/* The real one, then again. */
	fake_return(&f, fake_desc(&f, 0).token, 0);
	fake_return(&f, fake_desc(&f, 0).token, 0);
	settle(ctx);
	assert_int_equal(zc.calls, 1);
	assert_int_equal(zc.last.result, ZC_RESULT_ZEROCOPY);
	zc_sock_stats(sock, &st);
	assert_int_equal(st.bad_notifications, 4);
	/* A return ring position it cannot have: the channel is broken,
	 * the send in flight fails once, new sends are refused. */
	b2 = send_region(sock, pool, &late);
	f.ctrl->r_head += 5000;
	eventfd_write(f.peer_bell, 1);
	settle(ctx);
	assert_int_equal(late.calls, 1);
	assert_int_equal(late.last.result, ZC_RESULT_ERROR);
	assert_int_equal(late.last.error, -EPROTO);
	assert_int_equal(zc_send(sock, &iov, 1, count_cb, &cp), -EPROTO);
	zc_buf_release(b1);
	zc_buf_release(b2);
	assert_int_equal(zc_pool_destroy(pool), 0);
	zc_ctx_destroy(ctx);
	fake_free(&f);
	close(sv[1]);
}

/* ---- peers that die ----------------------------------------------------- */

static int tx_child(int fd, void *arg)
{
	struct tx_run *r = arg;

	return tx_run(fd, r) ? 5 : 0;
}

/* The sender dies mid-stream: the receiver gets every byte the sender
 * saw completed, all of them right, then end of stream; a buffer held
 * across the death stays readable. */
static void test_sender_killed(void **state)
{
	volatile uint64_t *acked = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
					MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct tx_run r = { .size = 65536,
			    .count = UINT32_MAX,
			    .acked = acked };
	struct zc_buf *buf, *held = NULL;
	uint64_t got = 0, held_at = 0, acked_at_death = 0;
	struct zc_sock *sock;
	struct zc_ctx *ctx;
	ssize_t n;
	pid_t pid;
	int sv[2];

	(void)state;
	pair(sv);
	pid = child_start(sv, tx_child, &r);
	assert_int_equal(zc_ctx_create(NULL, &ctx), 0);
	assert_int_equal(shm_attach(ctx, sv[0], 0, &sock), 0);
	while ((n = zc_recv(sock, &buf)) > 0) {
		assert_true(buf_ok(buf, got));
		if (!held && got >= (8u << 20)) {
			held = buf;
			held_at = got;
			kill(pid, SIGKILL);
			assert_int_equal(child_wait(pid), 128 + SIGKILL);
			acked_at_death = *acked;
		} else {
			zc_sock_release(sock, buf);
		}
		got += (uint64_t)n;
	}
	assert_int_equal(n, 0);
	assert_non_null(held);
	assert_true(got >= acked_at_death);
	assert_true(buf_ok(held, held_at));
	/* Held across the context's end too: still readable, and its
	 * release frees what is left of the channel (ASan: no leak). */
	zc_ctx_destroy(ctx);
	assert_true(buf_ok(held, held_at));
	assert_int_equal(zc_buf_release(held), 0);
	munmap((void *)acked, 4096);
}

static bool kill_when_ready(struct tx_run *r)
{
	int *p = r->arg; /* ready pipe, child pid */
	struct pollfd pfd = { .fd = p[0], .events = POLLIN };

	if (p[1] <= 0 || poll(&pfd, 1, 0) <= 0)
		return false;
	/* Let sends pile up on the held buffers, then kill. */
	for (int i = 0; i < 4; i++)
		usleep(20000);
	kill(p[1], SIGKILL);
	assert_int_equal(child_wait(p[1]), 128 + SIGKILL);
	p[1] = 0;
	return true;
}

/* The receiver dies holding buffers: every send completes exactly once,
 * those it held as errors; nothing hangs. */
static void test_receiver_killed(void **state)
{
	int ready[2], p[2];
	struct rx_check rc = { .ready_after = 1u << 20,
			       .hold_after_ready = true };
	struct tx_run r = { .size = 65536,
			    .count = UINT32_MAX,
			    .region = true,
			    .stop = kill_when_ready,
			    .arg = p };
	int64_t t0 = nu_now_ms();
	int sv[2];

	(void)state;
	assert_int_equal(pipe(ready), 0);
	rc.ready_fd = ready[1];
	pair(sv);
	p[0] = ready[0];
	p[1] = child_start(sv, rx_child, &rc);
	close(ready[1]);
	assert_int_equal(tx_run(sv[0], &r), 0);
	assert_true(nu_now_ms() - t0 < 30000);
	assert_int_equal(r.callbacks, r.accepted);
	assert_int_equal(r.dups, 0);
	assert_true(r.results[ZC_RESULT_ZEROCOPY] > 0);
	assert_true(r.results[ZC_RESULT_ERROR] > 0);
	assert_int_equal(r.first_error, -EPIPE);
	close(ready[0]);
}

/* ---- back-pressure ------------------------------------------------------ */

/* The receiver keeps every buffer until the sender stalls, checks them
 * again, then releases them all: sends wait (queued), never overwrite. */
static void hold_case(size_t size, unsigned count, bool region)
{
	struct tx_run r = { .size = size, .count = count, .region = region };
	struct rx_check rc = { .expect = (uint64_t)size * count,
			       .nonblock = true,
			       .ready_fd = -1 };

	run_checked(&r, &rc);
	/* Copied sends found no room and waited in the queue; region sends
	 * waited for their pool buffers to come back. */
	if (!region)
		assert_true(r.st.queued_waits > 0);
	else
		assert_int_equal(r.results[ZC_RESULT_ZEROCOPY], count);
}

static void test_full_area(void **state)
{
	(void)state;
	hold_case(256u << 10, 64, false); /* the copy area fills */
}

static void test_full_ring(void **state)
{
	(void)state;
	hold_case(64, 1000, false); /* every descriptor slot taken */
}

static void test_full_region(void **state)
{
	(void)state;
	hold_case(65536, 256, true); /* every pool buffer in flight */
}

/* ---- the receive callback and the context fd ---------------------------- */

struct cb_rx {
	uint64_t got;
	bool done, bad;
	ssize_t end;
};

static void rx_cb(struct zc_sock *sock, struct zc_buf *buf, ssize_t n,
		  const struct sockaddr *from, void *arg)
{
	struct cb_rx *c = arg;

	(void)from;
	if (n <= 0) {
		c->done = true;
		c->end = n;
		return;
	}
	c->bad |= !buf_ok(buf, c->got);
	c->got += (uint64_t)n;
	zc_sock_release(sock, buf);
}

/* Data arrives through zc_ctx_process() only; the context fd must wake
 * us for it: a poll that times out is a lost wake-up. */
static int rx_cb_child(int fd, void *arg)
{
	struct cb_rx c = { 0 };
	struct zc_sock *sock;
	struct zc_ctx *ctx;
	int efd;

	(void)arg;
	if (zc_ctx_create(NULL, &ctx) || shm_attach(ctx, fd, 0, &sock) ||
	    zc_recv_start(sock, rx_cb, &c))
		return 5;
	efd = zc_ctx_fd(ctx);
	while (!c.done) {
		struct pollfd p = { .fd = efd, .events = POLLIN };

		if (poll(&p, 1, 10000) == 0)
			return 6;
		zc_ctx_process(ctx, 0);
	}
	zc_ctx_destroy(ctx);
	if (c.bad)
		return 1;
	return c.end == 0 && c.got == 300ull * 65536 ? 0 : 2;
}

static void test_recv_callback(void **state)
{
	struct tx_run r = { .size = 65536, .count = 300 };
	pid_t pid;
	int sv[2];

	(void)state;
	pair(sv);
	pid = child_start(sv, rx_cb_child, NULL);
	assert_int_equal(tx_run(sv[0], &r), 0);
	assert_int_equal(child_wait(pid), 0);
}

/* ---- one send from both kinds of memory, then shutdown ------------------ */

static void shut_cb(struct zc_sock *sock, int status, void *arg)
{
	(void)sock;
	*(int *)arg = status;
}

/* Region memory and ordinary memory in one send: one copy for the part
 * outside the region, completed once as copied when the receiver has
 * released the region part; then zc_sock_shutdown() ends the stream the
 * receiver reads to the end, the socket still open. */
static void test_mixed_then_shutdown(void **state)
{
	const size_t plain_len = (size_t)2 * 65536;
	struct rx_check rc = { .expect = (uint64_t)3 * 65536, .ready_fd = -1 };
	struct counts n = { 0 };
	uint8_t *plain = malloc(plain_len);
	struct zc_region *region;
	struct zc_sock *sock;
	struct zc_pool *pool;
	struct zc_ctx *ctx;
	struct zc_buf *buf;
	struct zc_seg seg;
	struct iovec iov[2];
	int sv[2], status = 1;
	pid_t pid;

	(void)state;
	pair(sv);
	pid = child_start(sv, rx_child, &rc);
	assert_int_equal(zc_ctx_create(NULL, &ctx), 0);
	assert_int_equal(shm_attach(ctx, sv[0], 0, &sock), 0);
	assert_int_equal(zc_sock_region(sock, &region), 0);
	assert_int_equal(zc_pool_create(region, 65536, NULL, NULL, &pool), 0);
	assert_int_equal(zc_pool_get(pool, &buf), 0);
	assert_int_equal(zc_buf_seg(buf, 0, &seg), 0);
	for (size_t i = 0; i < 65536; i++)
		((uint8_t *)seg.base)[i] = nu_pattern(i);
	for (size_t i = 0; i < plain_len; i++)
		plain[i] = nu_pattern(65536 + i);
	iov[0] = (struct iovec){ seg.base, 65536 };
	iov[1] = (struct iovec){ plain, plain_len };
	assert_int_equal(zc_send(sock, iov, 2, count_cb, &n), 0);
	assert_int_equal(zc_sock_shutdown(sock, shut_cb, &status), 0);
	for (int i = 0; i < 100 && status == 1; i++)
		zc_ctx_process(ctx, 100);
	assert_int_equal(status, 0);
	assert_int_equal(n.calls, 1);
	assert_int_equal(n.last.result, ZC_RESULT_COPIED);
	assert_int_equal(n.last.why, ZC_WHY_SHM_COPY);
	assert_int_equal(n.last.bytes, 3 * 65536);
	assert_int_equal(child_wait(pid), 0);
	zc_buf_release(buf);
	assert_int_equal(zc_pool_destroy(pool), 0);
	assert_int_equal(zc_sock_close(sock), 0);
	zc_ctx_destroy(ctx);
	free(plain);
}

/* ---- the pure checks ---------------------------------------------------- */

static void test_proto_checks(void **state)
{
	struct zc_shm_arena a;
	uint32_t n, off, tok, rung = 0;

	(void)state;
	assert_int_equal(zc_shm_ring_count(5, UINT32_MAX - 2, &n), 0);
	assert_int_equal(n, 8);
	assert_int_equal(zc_shm_ring_count(0, 1, &n), -EPROTO);
	assert_int_equal(zc_shm_ring_count(ZC_SHM_RING, 0, &n), 0);
	assert_int_equal(zc_shm_ring_count(ZC_SHM_RING + 1, 0, &n), -EPROTO);
	/* Ring only when armed and past the last ring. */
	assert_false(zc_shm_should_ring(0, 0, 1, &rung));
	assert_true(zc_shm_should_ring(1, 0, 1, &rung));
	assert_false(zc_shm_should_ring(1, 0, 2, &rung));
	assert_true(zc_shm_should_ring(1, 1, 3, &rung));
	/* The arena: in order, freed out of order, never over live data. */
	zc_shm_arena_init(&a, 16384);
	assert_int_equal(zc_shm_arena_alloc(&a, 8192, 4096, &off, &tok), 8192);
	assert_int_equal(off, 0);
	assert_int_equal(zc_shm_arena_alloc(&a, 8192, 4096, &off, &tok), 8192);
	assert_int_equal(off, 8192);
	assert_int_equal(zc_shm_arena_alloc(&a, 100, 100, &off, &n), 0);
	assert_int_equal(zc_shm_arena_free(&a, tok), 0); /* the second */
	assert_int_equal(zc_shm_arena_free(&a, tok), -EPROTO);
	assert_int_equal(zc_shm_arena_alloc(&a, 100, 100, &off, &n), 0);
	assert_int_equal(zc_shm_arena_free(&a, tok - 1), 0);
	assert_int_equal(zc_shm_arena_alloc(&a, 100, 100, &off, &n), 100);
	assert_int_equal(zc_shm_arena_free(&a, n + 1), -EPROTO);
}

static int watchdog(void **state)
{
	(void)state;
	alarm(TEST_TIMEOUT_S);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_proto_checks, watchdog),
		cmocka_unit_test_setup(test_attach_rules, watchdog),
		cmocka_unit_test_setup(test_handshake_errors, watchdog),
		cmocka_unit_test_setup(test_integrity_copied, watchdog),
		cmocka_unit_test_setup(test_integrity_region, watchdog),
		cmocka_unit_test_setup(test_ring_wrap, watchdog),
		cmocka_unit_test_setup(test_small_area, watchdog),
		cmocka_unit_test_setup(test_garbage_descriptors, watchdog),
		cmocka_unit_test_setup(test_descriptor_edges, watchdog),
		cmocka_unit_test_setup(test_garbage_returns, watchdog),
		cmocka_unit_test_setup(test_sender_killed, watchdog),
		cmocka_unit_test_setup(test_receiver_killed, watchdog),
		cmocka_unit_test_setup(test_full_area, watchdog),
		cmocka_unit_test_setup(test_full_ring, watchdog),
		cmocka_unit_test_setup(test_full_region, watchdog),
		cmocka_unit_test_setup(test_recv_callback, watchdog),
		cmocka_unit_test_setup(test_mixed_then_shutdown, watchdog),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
