/* SPDX-License-Identifier: MIT */
/* zc_region and zc_pool: mapping, locking, use counts and recycling. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <zcopy/zcopy.h>

#include "pool.h"

#define HUGE_SZ (2u << 20)

static size_t page_size(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}

static void test_create_rounds(void **state)
{
	struct zc_region *r = NULL;
	size_t pg = page_size();
	unsigned char *p;

	(void)state;
	assert_int_equal(zc_region_create(1, 0, &r), 0);
	assert_non_null(r);
	p = zc_region_base(r);
	assert_int_equal((uintptr_t)p % pg, 0);
	assert_int_equal(zc_region_len(r), pg);
	assert_int_equal(zc_region_flags(r), 0);
	/* Writable and readable over the whole rounded length. */
	memset(p, 0x5a, pg);
	assert_int_equal(p[pg - 1], 0x5a);
	assert_int_equal(zc_region_destroy(r), 0);

	assert_int_equal(zc_region_create(pg + 1, ZC_REGION_NOLOCK, &r), 0);
	assert_int_equal(zc_region_len(r), 2 * pg);
	assert_int_equal(zc_region_flags(r), ZC_REGION_NOLOCK);
	assert_int_equal(zc_region_destroy(r), 0);

	assert_int_equal(zc_region_create(3 * pg, 0, &r), 0);
	assert_int_equal(zc_region_len(r), 3 * pg);
	assert_int_equal(zc_region_destroy(r), 0);
}

static void test_create_invalid(void **state)
{
	struct zc_region *r = NULL;

	(void)state;
	assert_int_equal(zc_region_create(0, 0, &r), -EINVAL);
	assert_int_equal(zc_region_create(1, 0, NULL), -EINVAL);
	assert_int_equal(zc_region_create(1, 1u << 3, &r), -EINVAL);
	assert_int_equal(zc_region_create(SIZE_MAX, 0, &r), -EOVERFLOW);
	assert_null(r);
	assert_int_equal(zc_region_destroy(NULL), -EINVAL);
	assert_null(zc_region_base(NULL));
	assert_int_equal(zc_region_len(NULL), 0);
	assert_int_equal(zc_region_flags(NULL), 0);
}

/* AddressSanitizer turns mlock() into a no-op: a real one faults the
 * untouched page in. */
static bool mlock_is_real(void)
{
	size_t pg = page_size();
	unsigned char vec = 0;
	void *p = mmap(NULL, pg, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	assert_true(p != MAP_FAILED);
	assert_int_equal(mlock(p, pg), 0);
	assert_int_equal(mincore(p, pg, &vec), 0);
	munmap(p, pg);
	return vec & 1;
}

static void skip_without_mlock(void)
{
	if (!mlock_is_real()) {
		print_message("mlock() is a no-op here (sanitizer); "
			      "skipping\n");
		skip();
	}
}

/* Locked unless NOLOCK: mincore says every page is resident. */
static void test_create_locked(void **state)
{
	struct zc_region *r = NULL;
	size_t pg = page_size(), n = 16;
	unsigned char vec[16];

	(void)state;
	skip_without_mlock();
	assert_int_equal(zc_region_create(n * pg, 0, &r), 0);
	assert_int_equal(mincore(zc_region_base(r), n * pg, vec), 0);
	for (size_t i = 0; i < n; i++)
		assert_true(vec[i] & 1);
	assert_int_equal(zc_region_destroy(r), 0);
}

static void test_hugepage(void **state)
{
	struct zc_region *r = NULL;
	int ret;

	(void)state;
	ret = zc_region_create(1, ZC_REGION_HUGEPAGE | ZC_REGION_NOLOCK, &r);
	if (ret) {
		/* Documented: -ENOMEM when no huge pages are available. */
		assert_int_equal(ret, -ENOMEM);
		assert_null(r);
		return;
	}
	assert_int_equal((uintptr_t)zc_region_base(r) % HUGE_SZ, 0);
	assert_int_equal(zc_region_len(r), HUGE_SZ);
	assert_int_equal(zc_region_destroy(r), 0);
}

static void test_wrap(void **state)
{
	static char mem[100];
	struct zc_region *r = NULL;

	(void)state;
	assert_int_equal(zc_region_wrap(NULL, 1, 0, &r), -EINVAL);
	assert_int_equal(zc_region_wrap(mem, 0, 0, &r), -EINVAL);
	assert_int_equal(zc_region_wrap(mem, 1, 0, NULL), -EINVAL);
	assert_int_equal(zc_region_wrap(mem, 1, ZC_REGION_HUGEPAGE, &r),
			 -EINVAL);
	assert_int_equal(zc_region_wrap(mem, 1, 1u << 5, &r), -EINVAL);
	/* An address 20 bytes cannot follow: only an integer can make it. */
	/* NOLINTNEXTLINE(performance-no-int-to-ptr) */
	assert_int_equal(zc_region_wrap((void *)(UINTPTR_MAX - 10), 20, 0, &r),
			 -EOVERFLOW);
	assert_null(r);
	/* Wrapped memory is used as is: no rounding, never locked. */
	assert_int_equal(zc_region_wrap(mem + 3, 50, 0, &r), 0);
	assert_ptr_equal(zc_region_base(r), mem + 3);
	assert_int_equal(zc_region_len(r), 50);
	assert_true(zc_region_flags(r) & ZC_REGION_NOLOCK);
	assert_int_equal(zc_region_destroy(r), 0);
	/* zcopy does not own it: still ours after destroy. */
	mem[3] = 1;
}

static void test_destroy_busy(void **state)
{
	struct zc_region *r = NULL;
	struct zc_pool *p = NULL;
	struct zc_buf *b = NULL;

	(void)state;
	assert_int_equal(zc_region_create(8192, ZC_REGION_NOLOCK, &r), 0);
	assert_int_equal(zc_pool_create(r, 4096, NULL, NULL, &p), 0);
	assert_int_equal(zc_region_destroy(r), -EBUSY);
	assert_int_equal(zc_pool_destroy(p), 0);
	assert_int_equal(zc_buf_create(2, &b), 0);
	assert_int_equal(zc_buf_add_region(b, r, 0, 10), 0);
	assert_int_equal(zc_buf_add_region(b, r, 10, 10), 0);
	assert_int_equal(zc_region_destroy(r), -EBUSY);
	assert_int_equal(zc_buf_trim(b, 10), 0);
	assert_int_equal(zc_region_destroy(r), -EBUSY);
	assert_int_equal(zc_buf_release(b), 0);
	assert_int_equal(zc_region_destroy(r), 0);
}

struct pool_rec {
	int completes;
	struct zc_buf *last;
	void *priv_seen;
};

static void pool_complete(struct zc_buf *buf, struct zc_ubuf *ubuf, bool ok)
{
	struct pool_rec *pr = zc_ubuf_priv(ubuf);

	(void)ok;
	pr->completes++;
	pr->last = buf;
	pr->priv_seen = pr;
	assert_true(zc_ubuf_flags(ubuf) & ZC_F_STATIC);
}

static const struct zc_ubuf_ops pool_ops = { .complete = pool_complete };
static const struct zc_ubuf_ops bad_ops = { .complete = NULL };

static void test_pool_create_invalid(void **state)
{
	struct zc_region *r = NULL;
	struct zc_pool *p = NULL;

	(void)state;
	assert_int_equal(zc_region_create(4096, ZC_REGION_NOLOCK, &r), 0);
	assert_int_equal(zc_pool_create(NULL, 64, NULL, NULL, &p), -EINVAL);
	assert_int_equal(zc_pool_create(r, 0, NULL, NULL, &p), -EINVAL);
	assert_int_equal(zc_pool_create(r, 4097, NULL, NULL, &p), -EINVAL);
	assert_int_equal(zc_pool_create(r, 64, &bad_ops, NULL, &p), -EINVAL);
	assert_int_equal(zc_pool_create(r, 64, NULL, NULL, NULL), -EINVAL);
	assert_null(p);
	/* Nothing was taken: the region goes. */
	assert_int_equal(zc_region_destroy(r), 0);
	assert_int_equal(zc_pool_get(NULL, NULL), -EINVAL);
	assert_int_equal(zc_pool_destroy(NULL), -EINVAL);
	assert_int_equal(zc_pool_avail(NULL), 0);
	assert_int_equal(zc_pool_count(NULL), 0);
	assert_int_equal(zc_pool_buf_size(NULL), 0);
}

static void test_pool_get_until_empty(void **state)
{
	struct pool_rec pr = { 0 };
	struct zc_region *r = NULL;
	struct zc_pool *p = NULL;
	struct zc_buf *b[4] = { NULL }, *extra = NULL;
	struct zc_seg s;

	(void)state;
	/* 4096 / 1000: four buffers, the tail is unused. */
	assert_int_equal(zc_region_create(4096, ZC_REGION_NOLOCK, &r), 0);
	assert_int_equal(zc_pool_create(r, 1000, &pool_ops, &pr, &p), 0);
	assert_int_equal(zc_pool_get(p, NULL), -EINVAL);
	assert_int_equal(zc_pool_count(p), 4);
	assert_int_equal(zc_pool_avail(p), 4);
	assert_int_equal(zc_pool_buf_size(p), 1000);
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(zc_pool_get(p, &b[i]), 0);
		assert_int_equal(zc_pool_avail(p), 3 - i);
		assert_int_equal(zc_buf_nsegs(b[i]), 1);
		assert_int_equal(zc_buf_len(b[i]), 1000);
		assert_int_equal(zc_buf_seg(b[i], 0, &s), 0);
		assert_ptr_equal(s.region, r);
		assert_ptr_equal(s.base, (char *)zc_region_base(r) + s.off);
		assert_int_equal(s.off % 1000, 0);
		assert_true(s.off + 1000 <= 4096);
		assert_int_equal(zc_buf_flags(b[i]), ZC_F_STATIC);
		assert_non_null(zc_buf_ubuf(b[i]));
		/* Pool buffers have their one completion already. */
		assert_int_equal(zc_buf_attach(b[i], zc_buf_ubuf(b[0])),
				 -EBUSY);
		memset(s.base, (int)i, s.len);
	}
	/* Every buffer is distinct memory. */
	for (unsigned i = 0; i < 4; i++)
		for (unsigned j = i + 1; j < 4; j++)
			assert_ptr_not_equal(b[i], b[j]);
	assert_int_equal(zc_pool_get(p, &extra), -ENOBUFS);
	assert_null(extra);
	assert_int_equal(zc_pool_destroy(p), -EBUSY);
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(zc_buf_release(b[i]), 0);
		assert_int_equal(pr.completes, (int)i + 1);
		assert_ptr_equal(pr.last, b[i]);
		assert_ptr_equal(pr.priv_seen, &pr);
	}
	assert_int_equal(zc_pool_avail(p), 4);
	assert_int_equal(zc_pool_destroy(p), 0);
	assert_int_equal(zc_region_destroy(r), 0);
}

/* zc_pool_peek: the memory of the buffers zc_pool_get() hands out next,
 * in its order, none taken; a released buffer is the next again. */
static void test_pool_peek(void **state)
{
	struct zc_region *r = NULL;
	struct zc_pool *p = NULL;
	struct zc_buf *b[4];
	struct iovec iov[8];
	void *base[4];
	struct zc_seg s;

	(void)state;
	assert_int_equal(zc_region_create(4096, ZC_REGION_NOLOCK, &r), 0);
	assert_int_equal(zc_pool_create(r, 1000, NULL, NULL, &p), 0);
	assert_int_equal(zc_pool_peek(p, iov, 8), 4); /* only four free */
	assert_int_equal(zc_pool_avail(p), 4);
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(iov[i].iov_len, 1000);
		assert_int_equal(zc_pool_get(p, &b[i]), 0);
		assert_int_equal(zc_buf_seg(b[i], 0, &s), 0);
		assert_ptr_equal(s.base, iov[i].iov_base);
		base[i] = s.base;
	}
	assert_int_equal(zc_pool_peek(p, iov, 8), 0);
	assert_int_equal(zc_buf_release(b[2]), 0);
	assert_int_equal(zc_pool_peek(p, iov, 2), 1);
	assert_ptr_equal(iov[0].iov_base, base[2]);
	assert_int_equal(zc_buf_release(b[0]), 0);
	assert_int_equal(zc_buf_release(b[1]), 0);
	assert_int_equal(zc_buf_release(b[3]), 0);
	assert_int_equal(zc_pool_destroy(p), 0);
	assert_int_equal(zc_region_destroy(r), 0);
}

static void test_pool_recycle(void **state)
{
	struct pool_rec pr = { 0 };
	struct zc_region *r = NULL;
	struct zc_pool *p = NULL;
	struct zc_buf *b = NULL, *b2 = NULL;
	struct zc_seg s, s2;

	(void)state;
	assert_int_equal(zc_region_create(4096, 0, &r), 0);
	assert_int_equal(zc_pool_create(r, 2048, &pool_ops, &pr, &p), 0);
	for (int round = 0; round < 100; round++) {
		assert_int_equal(zc_pool_get(p, &b), 0);
		assert_int_equal(zc_buf_seg(b, 0, &s), 0);
		/* A trimmed, copied buffer comes back whole and fresh. */
		assert_int_equal(zc_buf_len(b), 2048);
		assert_int_equal(zc_buf_trim(b, (size_t)round + 1), 0);
		zc_buf_set_zerocopy(b, false);
		assert_int_equal(zc_buf_release(b), 0);
		assert_int_equal(zc_buf_release(b), -EALREADY);
		assert_int_equal(zc_pool_avail(p), 2);
		assert_int_equal(zc_pool_get(p, &b2), 0);
		assert_ptr_equal(b2, b);
		assert_int_equal(zc_buf_seg(b2, 0, &s2), 0);
		assert_ptr_equal(s2.base, s.base);
		assert_int_equal(zc_buf_len(b2), 2048);
		assert_int_equal(zc_buf_release(b2), 0);
	}
	assert_int_equal(pr.completes, 200);
	/* Trimmed to nothing: the region use still balances. */
	assert_int_equal(zc_pool_get(p, &b), 0);
	assert_int_equal(zc_buf_trim(b, 0), 0);
	assert_int_equal(zc_buf_release(b), 0);
	assert_int_equal(zc_pool_destroy(p), 0);
	assert_int_equal(zc_region_destroy(r), 0);
}

static void test_pool_default_ops(void **state)
{
	struct zc_region *r = NULL;
	struct zc_pool *p = NULL;
	struct zc_buf *b = NULL;

	(void)state;
	assert_int_equal(zc_region_create(4096, ZC_REGION_NOLOCK, &r), 0);
	assert_int_equal(zc_pool_create(r, 4096, NULL, NULL, &p), 0);
	assert_int_equal(zc_pool_count(p), 1);
	assert_int_equal(zc_pool_get(p, &b), 0);
	assert_int_equal(zc_pool_get(p, &b), -ENOBUFS);
	assert_int_equal(zc_buf_release(b), 0);
	assert_int_equal(zc_pool_destroy(p), 0);
	assert_int_equal(zc_region_destroy(r), 0);
}

/* True if some mapping of exactly len bytes exists in this process. */
static int have_mapping_of(size_t len)
{
	char line[512];
	FILE *f = fopen("/proc/self/maps", "r");
	int found = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		/* "lo-hi perms ...", in hex */
		char *end;
		unsigned long lo = strtoul(line, &end, 16), hi;

		if (*end != '-')
			continue;
		hi = strtoul(end + 1, &end, 16);
		if (*end == ' ' && hi - lo == len)
			found = 1;
	}
	fclose(f);
	return found;
}

/* Child of test_memlock: exit 0 pass, 77 skip, 1 fail (message on
 * stderr).  cmocka asserts are not used across fork. */
static int memlock_child(rlim_t limit)
{
	/* An unusual size, so the maps check cannot confuse it. */
	size_t len = 37 * page_size();
	struct rlimit rl = { limit, limit };
	struct zc_region *r = NULL;
	int ret;

	if (setrlimit(RLIMIT_MEMLOCK, &rl)) {
		perror("setrlimit");
		return 1;
	}
	/* Root bypasses RLIMIT_MEMLOCK through CAP_IPC_LOCK; setuid drops
	 * every capability. */
	if (geteuid() == 0 && (setgid(65534) || setuid(65534))) {
		fprintf(stderr, "cannot drop root: %s\n", strerror(errno));
		return 77;
	}
	if (have_mapping_of(len) != 0) {
		fprintf(stderr, "maps check unusable\n");
		return 77;
	}
	ret = zc_region_create(len, 0, &r);
	if (ret != -ENOMEM && ret != -EPERM) {
		fprintf(stderr, "limit %lu: got %d, want -ENOMEM/-EPERM\n",
			(unsigned long)limit, ret);
		return 1;
	}
	if (r || have_mapping_of(len)) {
		fprintf(stderr, "limit %lu: region left behind\n",
			(unsigned long)limit);
		return 1;
	}
	/* NOLOCK still works under the same limit. */
	ret = zc_region_create(len, ZC_REGION_NOLOCK, &r);
	if (ret || zc_region_destroy(r)) {
		fprintf(stderr, "NOLOCK failed: %d\n", ret);
		return 1;
	}
	return 0;
}

static void run_memlock(rlim_t limit)
{
	int status = 0;
	pid_t pid;

	skip_without_mlock();
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(memlock_child(limit));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == 77) {
		print_message("cannot drop CAP_IPC_LOCK here; skipping\n");
		skip();
	}
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_memlock_low(void **state)
{
	(void)state;
	run_memlock(page_size());
}

static void test_memlock_zero(void **state)
{
	(void)state;
	run_memlock(0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_rounds),
		cmocka_unit_test(test_create_invalid),
		cmocka_unit_test(test_create_locked),
		cmocka_unit_test(test_hugepage),
		cmocka_unit_test(test_wrap),
		cmocka_unit_test(test_destroy_busy),
		cmocka_unit_test(test_pool_create_invalid),
		cmocka_unit_test(test_pool_get_until_empty),
		cmocka_unit_test(test_pool_peek),
		cmocka_unit_test(test_pool_recycle),
		cmocka_unit_test(test_pool_default_ops),
		cmocka_unit_test(test_memlock_low),
		cmocka_unit_test(test_memlock_zero),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
