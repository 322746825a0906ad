/* SPDX-License-Identifier: MIT */
/*
 * zc_send_file() against the real kernel: every mechanism forced and auto,
 * files on tmpfs and on ext4, sizes 0, 1, 4 KiB - 1 and a 1 GiB sparse
 * file; the receiver checks every byte; every send completes exactly once
 * and says only what the kernel confirmed.  Files that shrink mid-send,
 * non-regular files, ranges past the end, order with memory sends, and a
 * peer reset (no SIGPIPE).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <cmocka.h>

#include "netutil.h"

#define TMPFS_MAGIC_ 0x01021994
#define EXT4_MAGIC_ 0xEF53
#define GIB ((uint64_t)1 << 30)
#define BLOCK 4096 /* the written blocks of a sparse file */
#define WAIT_MS 60000

/* ---- files -------------------------------------------------------------- */

/* Sparse files hold the pattern in three blocks (start, middle, end) and
 * zeros elsewhere; others hold the pattern throughout. */
struct layout {
	uint64_t size;
	bool sparse;
};

static bool in_block(const struct layout *l, uint64_t g)
{
	uint64_t mid = l->size / 2 & ~(uint64_t)(BLOCK - 1);

	return g < BLOCK || (g >= mid && g < mid + BLOCK) ||
	       g + BLOCK >= l->size;
}

static uint8_t file_byte(const struct layout *l, uint64_t g)
{
	return !l->sparse || in_block(l, g) ? nu_pattern(g) : 0;
}

static void write_block(int fd, uint64_t off, uint64_t end)
{
	uint8_t buf[BLOCK];
	size_t n = end - off < BLOCK ? (size_t)(end - off) : BLOCK;

	nu_pattern_fill(buf, n, off);
	assert_int_equal(pwrite(fd, buf, n, (off_t)off), (ssize_t)n);
}

/* A file of the layout in dir, unlinked, open read-write. */
static int make_file(const char *dir, const struct layout *l)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/zc_file.XXXXXX", dir);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(ftruncate(fd, (off_t)l->size), 0);
	if (!l->sparse) {
		for (uint64_t off = 0; off < l->size; off += BLOCK)
			write_block(fd, off, l->size);
		return fd;
	}
	write_block(fd, 0, l->size);
	write_block(fd, l->size / 2 & ~(uint64_t)(BLOCK - 1), l->size);
	write_block(fd, l->size - BLOCK, l->size);
	return fd;
}

/* ---- the receiver ------------------------------------------------------- */

struct rx {
	int fd;
	const struct layout *l;
	uint64_t got;
	int64_t bad; /* offset of the first wrong byte, or -1 */
	pthread_t th;
};

static bool all_zero(const uint8_t *p, size_t n)
{
	static const uint8_t zero[BLOCK];

	while (n) {
		size_t k = n < BLOCK ? n : BLOCK;

		if (memcmp(p, zero, k) != 0)
			return false;
		p += k;
		n -= k;
	}
	return true;
}

static void rx_check(struct rx *r, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n && r->bad < 0;) {
		uint64_t g = r->got + i;

		/* Holes of a sparse file a block at a time. */
		if (r->l->sparse && !in_block(r->l, g) && g % BLOCK == 0 &&
		    n - i >= BLOCK && !in_block(r->l, g + BLOCK - 1)) {
			if (!all_zero(p + i, BLOCK))
				r->bad = (int64_t)g;
			i += BLOCK;
			continue;
		}
		if (p[i] != file_byte(r->l, g))
			r->bad = (int64_t)g;
		i++;
	}
	r->got += n;
}

static void *rx_main(void *arg)
{
	struct rx *r = arg;
	size_t cap = 1 << 20;
	uint8_t *buf = malloc(cap);

	for (;;) {
		ssize_t n = recv(r->fd, buf, cap, 0);

		if (n <= 0)
			break;
		rx_check(r, buf, (size_t)n);
	}
	free(buf);
	return NULL;
}

static void rx_start(struct rx *r, int fd, const struct layout *l)
{
	*r = (struct rx){ .fd = fd, .l = l, .bad = -1 };
	assert_int_equal(pthread_create(&r->th, NULL, rx_main, r), 0);
}

static void rx_join(struct rx *r)
{
	pthread_join(r->th, NULL);
	close(r->fd);
}

/* ---- the sender --------------------------------------------------------- */

struct mech {
	const char *name;
	enum zc_tx_mode tx, file_tx;
};

static const struct mech mechs[] = {
	{ "auto", ZC_TX_AUTO, ZC_TX_AUTO },
	{ "sendfile", ZC_TX_AUTO, ZC_TX_SENDFILE },
	{ "splice", ZC_TX_AUTO, ZC_TX_SPLICE },
	{ "read", ZC_TX_AUTO, ZC_TX_COPY },
	{ "msgzc", ZC_TX_AUTO, ZC_TX_MSGZC },
	{ "uring", ZC_TX_URING, ZC_TX_URING },
	{ "uring_splice", ZC_TX_AUTO, ZC_TX_URING_SPLICE },
};
#define NMECHS (sizeof(mechs) / sizeof(mechs[0]))

struct done {
	unsigned calls;
	struct zc_completion c;
};

static void done_cb(struct zc_sock *sock, const struct zc_completion *c,
		    void *arg)
{
	struct done *d = arg;

	(void)sock;
	d->calls++;
	d->c = *c;
}

struct bed {
	struct zc_ctx *ctx;
	struct zc_sock *sock;
	int snd, rcv;
};

/* A sender attached with the mechanism (skip where the kernel lacks it)
 * and the receiving fd; close_ms: the close timeout (0: the default).  po
 * may be NULL. */
static void bed_attach(struct bed *b, const struct mech *m,
		       const struct nu_pair_opts *po, int close_ms)
{
	struct zc_sock_opts o = { .tx = m->tx,
				  .file_tx = m->file_tx,
				  .close_timeout_ms = close_ms };
	struct nu_pair_opts def = { 0 };
	int ret;

	assert_int_equal(nu_pair(po ? po : &def, &b->snd, &b->rcv), 0);
	assert_int_equal(nu_set_nonblock(b->snd), 0);
	assert_int_equal(zc_ctx_create(NULL, &b->ctx), 0);
	ret = zc_sock_attach(b->ctx, b->snd, &o, &b->sock);
	if (ret && (m->tx == ZC_TX_URING || m->file_tx == ZC_TX_URING_SPLICE)) {
		printf("skip %s: no io_uring here (%s)\n", m->name,
		       zc_strerror(ret));
		zc_ctx_destroy(b->ctx);
		close(b->snd);
		close(b->rcv);
		skip();
	}
	assert_int_equal(ret, 0);
}

static void bed_open(struct bed *b, const struct mech *m,
		     const struct nu_pair_opts *po)
{
	bed_attach(b, m, po, 0);
}

static void wait_done(struct bed *b, const struct done *d, unsigned calls)
{
	int64_t end = nu_now_ms() + WAIT_MS;

	while (d->calls < calls && nu_now_ms() < end)
		assert_true(zc_ctx_process(b->ctx, 100) >= 0);
	assert_int_equal(d->calls, calls);
}

static void bed_close(struct bed *b)
{
	assert_int_equal(zc_sock_close(b->sock), 0);
	zc_ctx_destroy(b->ctx);
}

/* The completion says what the mechanism can know, nothing more. */
static void check_honest(const struct mech *m, const struct done *d,
			 uint64_t size)
{
	const struct zc_completion *c = &d->c;
	bool unverified = c->why == ZC_WHY_UNVERIFIED;

	assert_int_equal(d->calls, 1);
	assert_int_equal(c->bytes, size);
	assert_int_equal(c->error, 0);
	assert_int_equal(!!(c->flags & ZC_COMPL_UNVERIFIED), unverified);
	switch (m->file_tx) {
	case ZC_TX_SENDFILE:
	case ZC_TX_SPLICE:
	case ZC_TX_URING_SPLICE:
		assert_int_equal(c->result, ZC_RESULT_COPIED);
		assert_true(unverified);
		assert_int_equal(c->tx, m->file_tx);
		break;
	case ZC_TX_COPY:
		assert_int_equal(c->result, ZC_RESULT_COPIED);
		assert_int_equal(c->why, ZC_WHY_TRANSPORT);
		assert_int_equal(c->tx, ZC_TX_COPY);
		break;
	case ZC_TX_MSGZC:
	case ZC_TX_URING:
		/* Only the kernel's word: zero-copy, or copied after all. */
		assert_true(
			c->result == ZC_RESULT_ZEROCOPY ||
			(c->result == ZC_RESULT_COPIED &&
			 (c->why == ZC_WHY_KERNEL || c->why == ZC_WHY_NOBUFS)));
		assert_false(unverified);
		break;
	default: /* auto: sendfile, or read (small ranges, loopback) */
		assert_int_equal(c->result, ZC_RESULT_COPIED);
		assert_true(unverified || c->why == ZC_WHY_POLICY);
	}
}

/* ---- sizes × file systems × mechanisms ---------------------------------- */

struct xfer_case {
	const struct mech *m;
	const char *fs; /* "tmpfs" or "ext4" */
	struct layout l;
	char name[64];
};

static char ext4_dir[PATH_MAX];

/* The directory for fs, or NULL (and why) if there is none here. */
static const char *fs_dir(const char *fs)
{
	struct statfs sf;
	const char *dir = strcmp(fs, "tmpfs") ? ext4_dir : "/dev/shm";
	long want = strcmp(fs, "tmpfs") ? EXT4_MAGIC_ : TMPFS_MAGIC_;

	if (statfs(dir, &sf) || sf.f_type != want) {
		printf("skip: %s is not %s here\n", dir, fs);
		return NULL;
	}
	return dir;
}

static void test_xfer(void **state)
{
	const struct xfer_case *xc = *state;
	const char *dir = fs_dir(xc->fs);
	struct done d = { 0 };
	struct bed b;
	struct rx r;
	int fd;

	if (!dir)
		skip();
	fd = make_file(dir, &xc->l);
	bed_open(&b, xc->m, NULL);
	rx_start(&r, b.rcv, &xc->l);
	assert_int_equal(zc_send_file(b.sock, fd, 0, 0, done_cb, &d), 0);
	assert_int_equal(d.calls, 0); /* never inside the call */
	wait_done(&b, &d, 1);
	check_honest(xc->m, &d, xc->l.size);
	bed_close(&b);
	rx_join(&r);
	close(fd);
	assert_int_equal(r.bad, -1);
	assert_int_equal(r.got, xc->l.size);
	assert_int_equal(d.calls, 1); /* still once after close */
}

static const struct layout layouts[] = {
	{ 0, false }, { 1, false }, { 4095, false }, { GIB, true }
};
#define NXFER (NMECHS * 2 * 4)
static struct xfer_case xfer_cases[NXFER];

static unsigned xfer_cases_init(struct CMUnitTest *t)
{
	static const char *const fss[] = { "tmpfs", "ext4" };
	unsigned n = 0;

	for (unsigned f = 0; f < 2; f++)
		for (unsigned s = 0; s < 4; s++)
			for (unsigned m = 0; m < NMECHS; m++) {
				struct xfer_case *c = &xfer_cases[n];

				*c = (struct xfer_case){ .m = &mechs[m],
							 .fs = fss[f],
							 .l = layouts[s] };
				snprintf(c->name, sizeof(c->name),
					 "xfer_%s_%s_%s", fss[f],
					 s == 3	  ? "1GiB_sparse"
					 : s == 2 ? "4095"
					 : s	  ? "1"
						  : "0",
					 mechs[m].name);
				t[n++] = (struct CMUnitTest){ .name = c->name,
							      .test_func =
								      test_xfer,
							      .initial_state =
								      c };
			}
	return n;
}

/* ---- order with memory sends -------------------------------------------- */

/* memory [0, A), file range [A, A + F) of a file holding the pattern at
 * its own offsets, memory [A + F, A + F + B): one pattern stream, through
 * small buffers so that everything queues. */
static void test_order(void **state)
{
	const struct mech *m = *state;
	const size_t A = 100000, F = 3 << 20, B = 70000;
	struct layout l = { A + F + B, false };
	struct nu_pair_opts po = { .sndbuf = 65536, .rcvbuf = 65536 };
	uint8_t *mem = malloc(A + F + B);
	struct iovec a = { mem, A }, bb = { mem + A + F, B };
	struct done d[3] = { { 0 } };
	struct bed b;
	struct rx r;
	int fd = make_file("/dev/shm", &l);

	nu_pattern_fill(mem, A + F + B, 0);
	bed_open(&b, m, &po);
	assert_int_equal(zc_send(b.sock, &a, 1, done_cb, &d[0]), 0);
	assert_int_equal(zc_send_file(b.sock, fd, A, F, done_cb, &d[1]), 0);
	assert_int_equal(zc_send(b.sock, &bb, 1, done_cb, &d[2]), 0);
	rx_start(&r, b.rcv, &l);
	for (int i = 0; i < 3; i++)
		wait_done(&b, &d[i], 1);
	assert_int_equal(d[1].c.bytes, F);
	assert_int_equal(d[1].c.result == ZC_RESULT_ERROR, false);
	bed_close(&b);
	rx_join(&r);
	close(fd);
	free(mem);
	assert_int_equal(r.bad, -1);
	assert_int_equal(r.got, A + F + B);
}

/* ---- a file that shrinks mid-send --------------------------------------- */

static void test_truncated(void **state)
{
	const struct mech *m = *state;
	struct layout l = { 32 << 20, false };
	struct nu_pair_opts po = { .sndbuf = 65536, .rcvbuf = 65536 };
	struct zc_stats st;
	struct done d = { 0 };
	struct bed b;
	struct rx r;
	int fd = make_file("/dev/shm", &l);

	bed_open(&b, m, &po);
	assert_int_equal(zc_send_file(b.sock, fd, 0, 0, done_cb, &d), 0);
	/* Nobody reads: the send waits in the queue, part of it sent. */
	zc_ctx_process(b.ctx, 0);
	assert_int_equal(d.calls, 0);
	assert_int_equal(zc_sock_stats(b.sock, &st), 0);
	assert_int_equal(st.inflight, 1);
	assert_int_equal(ftruncate(fd, 0), 0);
	rx_start(&r, b.rcv, &l);
	wait_done(&b, &d, 1);
	assert_int_equal(d.c.result, ZC_RESULT_ERROR);
	assert_int_equal(d.c.error, -ENODATA);
	assert_true(d.c.bytes < l.size);
	bed_close(&b);
	rx_join(&r);
	close(fd);
	/* What was sent is the file as it was, and nothing else. */
	assert_int_equal(r.bad, -1);
	assert_int_equal(r.got, d.c.bytes);
}

/* ---- close while the file is in flight --------------------------------- */

/* Nobody reads: close gives up after its timeout.  The send completes
 * once, not as a success, and counts exactly the bytes the receiver then
 * gets (io_uring splice: the chain cancelled, its CQEs awaited). */
static void test_close_inflight(void **state)
{
	const struct mech *m = *state;
	struct layout l = { 16 << 20, false };
	struct nu_pair_opts po = { .sndbuf = 65536, .rcvbuf = 65536 };
	struct done d = { 0 };
	struct bed b;
	struct rx r;
	int fd = make_file("/dev/shm", &l);

	bed_attach(&b, m, &po, 100);
	assert_int_equal(zc_send_file(b.sock, fd, 0, 0, done_cb, &d), 0);
	zc_ctx_process(b.ctx, 0);
	assert_int_equal(d.calls, 0);
	zc_sock_close(b.sock); /* -ETIMEDOUT: it gave the send up */
	assert_int_equal(d.calls, 1);
	assert_true(d.c.result == ZC_RESULT_ERROR ||
		    d.c.result == ZC_RESULT_ABANDONED);
	assert_true(d.c.bytes < l.size);
	zc_ctx_destroy(b.ctx);
	rx_start(&r, b.rcv, &l);
	rx_join(&r);
	close(fd);
	assert_int_equal(d.calls, 1);
	assert_int_equal(r.bad, -1);
	if (d.c.result == ZC_RESULT_ERROR)
		assert_int_equal(r.got, d.c.bytes);
}

/* ---- io_uring splice on a blocking socket ------------------------------- */

/* The splice into a full blocking socket waits in an io-wq worker, never
 * in the caller; close cancels it there, and the counts stay exact. */
static void test_uring_splice_blocking(void **state)
{
	struct zc_sock_opts o = { .file_tx = ZC_TX_URING_SPLICE,
				  .close_timeout_ms = 100 };
	struct nu_pair_opts po = { .sndbuf = 65536, .rcvbuf = 65536 };
	struct layout l = { 16 << 20, false };
	struct done d[2] = { { 0 } };
	struct zc_ctx *ctx;
	struct zc_sock *sock;
	struct rx r;
	int snd, rcv, fd = make_file("/dev/shm", &l);

	(void)state;
	assert_int_equal(nu_pair(&po, &snd, &rcv), 0);
	assert_int_equal(zc_ctx_create(NULL, &ctx), 0);
	if (zc_sock_attach(ctx, snd, &o, &sock)) {
		printf("skip: no io_uring here\n");
		zc_ctx_destroy(ctx);
		close(snd);
		close(rcv);
		skip();
	}
	assert_int_equal(zc_send_file(sock, fd, 0, 4 << 20, done_cb, &d[0]), 0);
	assert_int_equal(zc_send_file(sock, fd, 0, 0, done_cb, &d[1]), 0);
	for (int64_t end = nu_now_ms() + 300; nu_now_ms() < end;)
		assert_true(zc_ctx_process(ctx, 10) >= 0);
	assert_int_equal(d[0].calls + d[1].calls, 0); /* nobody reads */
	zc_sock_close(sock);
	assert_int_equal(d[0].calls + d[1].calls, 2);
	assert_int_equal(d[0].c.result, ZC_RESULT_ERROR);
	assert_int_equal(d[0].c.error, -ECANCELED);
	assert_int_equal(d[1].c.bytes, 0);
	zc_ctx_destroy(ctx);
	rx_start(&r, rcv, &l);
	rx_join(&r);
	close(fd);
	assert_int_equal(r.bad, -1);
	assert_int_equal(r.got, d[0].c.bytes);
}

/* The same socket read, closed at once: close's drain reaps the ring
 * itself (no zc_ctx_process()), every byte goes, completed once. */
static void test_uring_splice_blocking_xfer(void **state)
{
	struct zc_sock_opts o = { .file_tx = ZC_TX_URING_SPLICE,
				  .close_timeout_ms = WAIT_MS };
	struct layout l = { 32 << 20, false };
	struct done d = { 0 };
	struct zc_ctx *ctx;
	struct zc_sock *sock;
	struct rx r;
	int snd, rcv, fd = make_file("/dev/shm", &l);

	(void)state;
	assert_int_equal(nu_tcp_pair(AF_INET, &snd, &rcv), 0);
	assert_int_equal(zc_ctx_create(NULL, &ctx), 0);
	if (zc_sock_attach(ctx, snd, &o, &sock)) {
		printf("skip: no io_uring here\n");
		zc_ctx_destroy(ctx);
		close(snd);
		close(rcv);
		skip();
	}
	rx_start(&r, rcv, &l);
	assert_int_equal(zc_send_file(sock, fd, 0, 0, done_cb, &d), 0);
	assert_int_equal(zc_sock_close(sock), 0);
	assert_int_equal(d.calls, 1);
	zc_ctx_destroy(ctx);
	rx_join(&r);
	close(fd);
	check_honest(&mechs[NMECHS - 1], &d, l.size); /* uring_splice */
	assert_int_equal(r.bad, -1);
	assert_int_equal(r.got, l.size);
}

/* ---- io_uring splice without a ring -------------------------------------- */

/* Refused at attach like the pinned io_uring transports; with
 * ZC_SOCK_FALLBACK spliced by splice(2), uring_error saying why. */
static void test_uring_splice_no_ring(void **state)
{
	struct zc_ctx_opts co = { .flags = ZC_CTX_NO_URING };
	struct zc_sock_opts o = { .file_tx = ZC_TX_URING_SPLICE };
	struct layout l = { 100000, false };
	struct done d = { 0 };
	struct zc_stats st;
	struct zc_ctx *ctx;
	struct zc_sock *sock;
	struct rx r;
	int snd, rcv, fd = make_file("/dev/shm", &l);

	(void)state;
	assert_int_equal(nu_tcp_pair(AF_INET, &snd, &rcv), 0);
	assert_int_equal(zc_ctx_create(&co, &ctx), 0);
	assert_int_equal(zc_sock_attach(ctx, snd, &o, &sock), -EOPNOTSUPP);
	o.flags = ZC_SOCK_FALLBACK;
	assert_int_equal(zc_sock_attach(ctx, snd, &o, &sock), 0);
	rx_start(&r, rcv, &l);
	assert_int_equal(zc_send_file(sock, fd, 0, 0, done_cb, &d), 0);
	while (!d.calls)
		assert_true(zc_ctx_process(ctx, 100) >= 0);
	assert_int_equal(zc_sock_stats(sock, &st), 0);
	assert_int_equal(st.uring_error, -EOPNOTSUPP);
	assert_int_equal(d.c.tx, ZC_TX_SPLICE);
	assert_int_equal(d.c.result, ZC_RESULT_COPIED);
	assert_int_equal(zc_sock_close(sock), 0);
	zc_ctx_destroy(ctx);
	rx_join(&r);
	close(fd);
	assert_int_equal(r.bad, -1);
	assert_int_equal(r.got, l.size);
}

/* ---- what is not a file range ------------------------------------------- */

static void test_bad_files(void **state)
{
	struct layout l = { 10000, false };
	char dir[] = "/tmp/zc_file_dirXXXXXX", fifo[PATH_MAX];
	struct done d = { 0 };
	struct bed b;
	int fd, dfd, ffd;

	(void)state;
	fd = make_file("/dev/shm", &l);
	bed_open(&b, &mechs[0], NULL);
	assert_non_null(mkdtemp(dir));
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	ffd = open(fifo, O_RDWR);
	assert_true(dfd >= 0 && ffd >= 0);
	assert_int_equal(zc_send_file(b.sock, dfd, 0, 0, done_cb, &d), -EINVAL);
	assert_int_equal(zc_send_file(b.sock, ffd, 0, 0, done_cb, &d), -ESPIPE);
	assert_int_equal(zc_send_file(b.sock, -1, 0, 0, done_cb, &d), -EBADF);
	assert_int_equal(zc_send_file(b.sock, fd, -1, 0, done_cb, &d), -EINVAL);
	assert_int_equal(zc_send_file(b.sock, fd, 10001, 0, done_cb, &d),
			 -EINVAL);
	assert_int_equal(zc_send_file(b.sock, fd, 5000, 5001, done_cb, &d),
			 -EINVAL);
	assert_int_equal(zc_send_file(b.sock, fd, 0, 0, NULL, &d), -EINVAL);
	assert_int_equal(zc_send_file(NULL, fd, 0, 0, done_cb, &d), -EINVAL);
	assert_int_equal(d.calls, 0);
	/* The end of the file is a valid empty range. */
	assert_int_equal(zc_send_file(b.sock, fd, 10000, 0, done_cb, &d), 0);
	wait_done(&b, &d, 1);
	assert_int_equal(d.c.bytes, 0);
	assert_int_not_equal(d.c.result, ZC_RESULT_ERROR);
	bed_close(&b);
	close(b.rcv);
	close(ffd);
	close(dfd);
	close(fd);
	unlink(fifo);
	rmdir(dir);
}

static void test_write_only(void **state)
{
	char path[] = "/dev/shm/zc_file_woXXXXXX";
	struct done d = { 0 };
	struct bed b;
	int fd = mkstemp(path), wo;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "abc", 3), 3);
	wo = open(path, O_WRONLY);
	unlink(path);
	bed_open(&b, &mechs[0], NULL);
	assert_int_equal(zc_send_file(b.sock, wo, 0, 0, done_cb, &d), -EBADF);
	/* Large enough for auto to map it on loopback: refused the same. */
	assert_int_equal(ftruncate(fd, 4 << 20), 0);
	assert_int_equal(zc_send_file(b.sock, wo, 0, 0, done_cb, &d), -EBADF);
	zc_ctx_process(b.ctx, 0);
	assert_int_equal(d.calls, 0);
	bed_close(&b);
	close(b.rcv);
	close(wo);
	close(fd);
}

static void test_bad_opts(void **state)
{
	struct zc_sock_opts o = { 0 };
	struct zc_ctx *ctx;
	struct zc_sock *sock;
	int snd, rcv;
	const struct {
		enum zc_tx_mode tx, file_tx;
	} bad[] = {
		{ ZC_TX_AUTO, ZC_TX_URING },	   { ZC_TX_COPY, ZC_TX_MSGZC },
		{ ZC_TX_AUTO, ZC_TX_URING_FIXED }, { ZC_TX_AUTO, 99 },
		{ ZC_TX_SENDFILE, ZC_TX_AUTO },
	};

	(void)state;
	assert_int_equal(nu_tcp_pair(AF_INET, &snd, &rcv), 0);
	assert_int_equal(zc_ctx_create(NULL, &ctx), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		o.tx = bad[i].tx;
		o.file_tx = bad[i].file_tx;
		assert_int_equal(zc_sock_attach(ctx, snd, &o, &sock), -EINVAL);
	}
	o = (struct zc_sock_opts){ .reserved32 = 1 };
	assert_int_equal(zc_sock_attach(ctx, snd, &o, &sock), -EINVAL);
	zc_ctx_destroy(ctx);
	close(snd);
	close(rcv);
}

static void test_udp(void **state)
{
	struct layout l = { 100, false };
	struct zc_ctx *ctx;
	struct zc_sock *sock;
	struct done d = { 0 };
	int snd, rcv, fd = make_file("/dev/shm", &l);

	(void)state;
	assert_int_equal(nu_udp_pair(AF_INET, &snd, &rcv), 0);
	assert_int_equal(zc_ctx_create(NULL, &ctx), 0);
	assert_int_equal(zc_sock_attach(ctx, snd, NULL, &sock), 0);
	assert_int_equal(zc_send_file(sock, fd, 0, 0, done_cb, &d),
			 -EOPNOTSUPP);
	zc_ctx_destroy(ctx);
	close(rcv);
	close(fd);
}

/* ---- a peer reset while the file is queued: an error, not SIGPIPE ------- */

static int reset_child(void *arg)
{
	const struct mech *m = arg;
	struct layout l = { 16 << 20, false };
	struct nu_pair_opts po = { .sndbuf = 65536, .rcvbuf = 65536 };
	struct linger lg = { 1, 0 };
	struct done d = { 0 };
	struct bed b;
	int fd = make_file("/dev/shm", &l);

	bed_open(&b, m, &po);
	if (zc_send_file(b.sock, fd, 0, 0, done_cb, &d))
		return 10;
	zc_ctx_process(b.ctx, 0);
	setsockopt(b.rcv, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(b.rcv); /* RST */
	wait_done(&b, &d, 1);
	if (d.c.result != ZC_RESULT_ERROR || d.c.bytes >= l.size)
		return 11;
	zc_sock_close(b.sock);
	zc_ctx_destroy(b.ctx);
	return 0;
}

static void test_reset(void **state)
{
	/* Default SIGPIPE disposition in the child: a leak kills it. */
	assert_int_equal(nu_fork_run(reset_child, *state, 60), 0);
}

/* The kernel says EPIPE (our own end shut for writing, behind the
 * library's back): the mechanism's system call, or io_uring's worker,
 * raises SIGPIPE, which must not reach the process. */
static int epipe_child(void *arg)
{
	const struct mech *m = arg;
	struct layout l = { 4 << 20, false };
	struct done d = { 0 };
	struct bed b;
	int ret, fd = make_file("/dev/shm", &l);

	bed_open(&b, m, NULL);
	if (shutdown(b.snd, SHUT_WR))
		return 10;
	ret = zc_send_file(b.sock, fd, 0, 0, done_cb, &d);
	/* Refused when the first call failed (nothing sent), else the
	 * completion says it; io_uring's only submits in the call. */
	if (ret == 0) {
		wait_done(&b, &d, 1);
		if (d.c.result != ZC_RESULT_ERROR || d.c.error != -EPIPE)
			return 11;
	} else if (ret != -EPIPE || m->file_tx == ZC_TX_URING_SPLICE) {
		return 12;
	}
	zc_sock_close(b.sock);
	zc_ctx_destroy(b.ctx);
	return 0;
}

static void test_epipe(void **state)
{
	/* Default SIGPIPE disposition in the child: a leak kills it. */
	assert_int_equal(nu_fork_run(epipe_child, *state, 60), 0);
}

/* ---- what auto picks ----------------------------------------------------- */

/* A 4 MiB range (above ZC_POLICY_FILE_READ_MAX) by auto over po: checked
 * bytes, one completion, by the mechanism expected. */
static void auto_case(const struct nu_pair_opts *po, enum zc_tx_mode want)
{
	const struct layout l = { 4u << 20, false };
	int fd = make_file("/dev/shm", &l);
	struct done d = { 0 };
	struct bed b;
	struct rx r;

	bed_open(&b, &mechs[0], po);
	rx_start(&r, b.rcv, &l);
	assert_int_equal(zc_send_file(b.sock, fd, 0, 0, done_cb, &d), 0);
	wait_done(&b, &d, 1);
	bed_close(&b);
	rx_join(&r);
	close(fd);
	assert_int_equal(r.bad, -1);
	assert_int_equal(r.got, l.size);
	check_honest(&mechs[0], &d, l.size);
	assert_int_equal(d.c.tx, want);
}

/* On loopback (IPv4, IPv6) the receiver copies anyway: pread + send,
 * the faster source (bench/README.md); to a peer elsewhere (here across
 * veth, another namespace's address) sendfile. */
static void test_auto_where(void **state)
{
	struct nu_pair_opts v6 = { .family = AF_INET6 };
	struct nu_netns ns;
	struct nu_pair_opts away = { .ns = &ns };

	(void)state;
	auto_case(NULL, ZC_TX_COPY);
	auto_case(&v6, ZC_TX_COPY);
	if (nu_netns_create(&ns, 1500))
		skip();
	auto_case(&away, ZC_TX_SENDFILE);
	nu_netns_destroy(&ns);
}

#define PER_MECH 5
static struct CMUnitTest *per_mech_cases(struct CMUnitTest *t)
{
	static char names[NMECHS * PER_MECH][48];
	static const struct {
		const char *what;
		void (*fn)(void **state);
	} kinds[PER_MECH] = { { "order", test_order },
			      { "truncated", test_truncated },
			      { "reset", test_reset },
			      { "close", test_close_inflight },
			      { "epipe", test_epipe } };
	unsigned n = 0;

	for (unsigned k = 0; k < PER_MECH; k++)
		for (unsigned m = 0; m < NMECHS; m++, n++) {
			snprintf(names[n], sizeof(names[n]), "%s_%s",
				 kinds[k].what, mechs[m].name);
			t[n] = (struct CMUnitTest){
				.name = names[n],
				.test_func = kinds[k].fn,
				.initial_state = (void *)&mechs[m],
			};
		}
	return t + n;
}

int main(int argc, char **argv)
{
	static struct CMUnitTest tests[NXFER + NMECHS * PER_MECH + 10];
	struct CMUnitTest *t = tests;
	char *slash;
	ssize_t n;

	(void)argc;
	(void)argv;
	/* The ext4 case uses the build directory (where this test lives). */
	n = readlink("/proc/self/exe", ext4_dir, sizeof(ext4_dir) - 1);
	ext4_dir[n > 0 ? n : 0] = '\0';
	slash = strrchr(ext4_dir, '/');
	if (slash)
		*slash = '\0';
	t = per_mech_cases(t);
	*t++ = (struct CMUnitTest)cmocka_unit_test(test_bad_files);
	*t++ = (struct CMUnitTest)cmocka_unit_test(test_write_only);
	*t++ = (struct CMUnitTest)cmocka_unit_test(test_bad_opts);
	*t++ = (struct CMUnitTest)cmocka_unit_test(test_udp);
	*t++ = (struct CMUnitTest)cmocka_unit_test(test_uring_splice_no_ring);
	*t++ = (struct CMUnitTest)cmocka_unit_test(test_uring_splice_blocking);
	*t++ = (struct CMUnitTest)cmocka_unit_test(
		test_uring_splice_blocking_xfer);
	*t++ = (struct CMUnitTest)cmocka_unit_test(test_auto_where);
	t += xfer_cases_init(t);
	return _cmocka_run_group_tests("test_file", tests, (size_t)(t - tests),
				       NULL, NULL);
}
