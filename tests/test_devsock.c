/* SPDX-License-Identifier: MIT */
/*
 * zcrx and devmem on this machine's kernel: every refusal is the
 * documented one (lo, veth in a namespace made here, no udmabuf, no
 * CAP_NET_ADMIN as nobody), a refused socket falls back under
 * ZC_SOCK_FALLBACK and says why, and where the kernel allows it (zcrx
 * without a device, Linux 7.1+) data goes through end to end.
 */
#include <errno.h>
#include <net/if.h>
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <cmocka.h>

#include "netutil.h"

enum dev_case { ZCRX, ZCRX_NODEV, DEVMEM_RX, DEVMEM_RX_FD, DEVMEM_TX, NCASES };

static const char *const case_names[] = { "zcrx", "zcrx-nodev", "devmem-rx",
					  "devmem-rx-fd", "devmem-tx" };

static int fake_dmabuf(void)
{
	/* Not a dma-buf: the kernel refuses the queue before it looks. */
	int fd = memfd_create("zcopy-test", MFD_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 1 << 20), 0);
	return fd;
}

static struct zc_sock_opts dev_opts(enum dev_case c, unsigned ifindex)
{
	struct zc_sock_opts o = { .ifindex = ifindex };

	switch (c) {
	case ZCRX:
		o.rx = ZC_RX_ZCRX;
		break;
	case ZCRX_NODEV:
		o.rx = ZC_RX_ZCRX;
		o.flags = ZC_SOCK_ZCRX_NODEV;
		o.ifindex = 0;
		break;
	case DEVMEM_RX:
		o.rx = ZC_RX_DEVMEM;
		break;
	case DEVMEM_RX_FD:
		o.rx = ZC_RX_DEVMEM;
		o.flags = ZC_SOCK_DMABUF;
		o.dmabuf_fd = fake_dmabuf();
		break;
	default:
		o.tx = ZC_TX_DEVMEM;
		o.flags = ZC_SOCK_DMABUF;
		o.dmabuf_fd = fake_dmabuf();
		break;
	}
	return o;
}

/* Attach case c on a fresh loopback pair; the error (0: attached). */
static int try_attach(enum dev_case c, unsigned ifindex, unsigned extra,
		      struct zc_stats *st)
{
	struct zc_sock_opts o = dev_opts(c, ifindex);
	struct zc_ctx *ctx = NULL;
	struct zc_sock *s = NULL;
	int a, b, ret;

	o.flags |= extra;
	assert_int_equal(zc_ctx_create(NULL, &ctx), 0);
	assert_int_equal(nu_tcp_pair(AF_INET, &a, &b), 0);
	ret = zc_sock_attach(ctx, b, &o, &s);
	if (!ret) {
		if (st)
			assert_int_equal(zc_sock_stats(s, st), 0);
		zc_sock_close(s);
	} else {
		close(b);
	}
	close(a);
	if (o.flags & ZC_SOCK_DMABUF)
		close(o.dmabuf_fd);
	zc_ctx_destroy(ctx);
	return ret;
}

static bool have_udmabuf(void)
{
	return access("/dev/udmabuf", F_OK) == 0;
}

/* What each case must say on an interface without queue management. */
static int want_noqm(enum dev_case c)
{
	if (c == DEVMEM_RX && !have_udmabuf())
		return -ENODEV; /* no dma-buf to bind at all */
	return -EOPNOTSUPP;
}

static void check_noqm(unsigned ifindex, const char *where)
{
	for (int c = 0; c < NCASES; c++) {
		int ret = try_attach(c, ifindex, 0, NULL);

		printf("%s %s: %s\n", case_names[c], where, zc_strerror(ret));
		assert_int_equal(ret, want_noqm(c));
	}
}

static void test_lo_refused(void **state)
{
	(void)state;
	if (geteuid())
		skip(); /* as nobody: test_nobody */
	check_noqm(if_nametoindex("lo"), "on lo");
}

static int veth_child(void *arg)
{
	const char *ns = arg;
	char ifname[32];

	if (nu_netns_enter(ns))
		return 2;
	snprintf(ifname, sizeof(ifname), "va%d", (int)getppid());
	check_noqm(if_nametoindex(ifname), "on veth");
	return 0;
}

static void test_veth_refused(void **state)
{
	struct nu_netns ns;
	int ret;

	(void)state;
	ret = nu_netns_create(&ns, 1500);
	if (ret)
		skip();
	ret = nu_fork_run(veth_child, ns.a, 30);
	nu_netns_destroy(&ns);
	assert_int_equal(ret, 0);
}

static int nobody_child(void *arg)
{
	const struct passwd *pw = arg;

	if (setgid(pw->pw_gid) || setuid(pw->pw_uid))
		return 2;
	/* Refused for want of CAP_NET_ADMIN before the kernel looks at
	 * the interface. */
	assert_int_equal(try_attach(ZCRX, if_nametoindex("lo"), 0, NULL),
			 -EPERM);
	assert_int_equal(
		try_attach(DEVMEM_RX_FD, if_nametoindex("lo"), 0, NULL),
		-EPERM);
	return 0;
}

static void test_nobody(void **state)
{
	struct passwd *pw = getpwnam("nobody");

	(void)state;
	if (geteuid() || !pw) {
		printf("skip: needs root and a user nobody\n");
		skip();
	}
	assert_int_equal(nu_fork_run(nobody_child, pw, 30), 0);
}

static void test_missing_udmabuf(void **state)
{
	(void)state;
	if (have_udmabuf()) {
		printf("skip: /dev/udmabuf exists here\n");
		skip();
	}
	/* Checked before any privilege: the same for every user. */
	assert_int_equal(try_attach(DEVMEM_RX, if_nametoindex("lo"), 0, NULL),
			 -ENODEV);
}

/* Options that cannot work are refused before the kernel is asked. */
static void test_bad_options(void **state)
{
	struct zc_ctx *ctx = NULL;
	struct zc_sock *s = NULL;
	struct zc_sock_opts o = { .rx = ZC_RX_ZCRX };
	int a, b;

	(void)state;
	assert_int_equal(zc_ctx_create(NULL, &ctx), 0);
	assert_int_equal(nu_tcp_pair(AF_INET, &a, &b), 0);
	/* zcrx needs an interface, or NODEV. */
	assert_int_equal(zc_sock_attach(ctx, b, &o, &s), -EINVAL);
	o = (struct zc_sock_opts){ .ifindex = 1 };
	assert_int_equal(zc_sock_attach(ctx, b, &o, &s), -EINVAL);
	o = (struct zc_sock_opts){ .rx = ZC_RX_DEVMEM,
				   .ifindex = 1,
				   .dmabuf_fd = 3 };
	assert_int_equal(zc_sock_attach(ctx, b, &o, &s), -EINVAL);
	o = (struct zc_sock_opts){ .rx = ZC_RX_COPY,
				   .flags = ZC_SOCK_ZCRX_NODEV };
	assert_int_equal(zc_sock_attach(ctx, b, &o, &s), -EINVAL);
	o = (struct zc_sock_opts){ .flags = ZC_SOCK_DMABUF, .dmabuf_fd = 3 };
	assert_int_equal(zc_sock_attach(ctx, b, &o, &s), -EINVAL);
	/* devmem TX binds the application's dma-buf only. */
	o = (struct zc_sock_opts){ .tx = ZC_TX_DEVMEM, .ifindex = 1 };
	assert_int_equal(zc_sock_attach(ctx, b, &o, &s), -EINVAL);
	close(a);
	close(b);
	/* TCP only. */
	assert_int_equal(nu_udp_pair(AF_INET, &a, &b), 0);
	o = (struct zc_sock_opts){ .rx = ZC_RX_ZCRX, .ifindex = 1 };
	assert_int_equal(zc_sock_attach(ctx, b, &o, &s), -EPROTONOSUPPORT);
	close(a);
	close(b);
	zc_ctx_destroy(ctx);
}

/* Refused and ZC_SOCK_FALLBACK: the socket copies, says why, and data
 * arrives intact. */
static void fallback_xfer(enum dev_case c)
{
	struct zc_sock_opts o = dev_opts(c, if_nametoindex("lo"));
	struct zc_ctx *ctx = NULL;
	struct zc_sock *s = NULL;
	struct zc_region *r = NULL;
	struct zc_stats st;
	char msg[3000], got[3000];
	size_t have = 0;
	int a, b;

	o.flags |= ZC_SOCK_FALLBACK;
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (char)nu_pattern(i);
	assert_int_equal(zc_ctx_create(NULL, &ctx), 0);
	assert_int_equal(nu_tcp_pair(AF_INET, &a, &b), 0);
	assert_int_equal(zc_sock_attach(ctx, b, &o, &s), 0);
	assert_int_equal(zc_sock_dev_region(s, &r), -EOPNOTSUPP);
	assert_int_equal(zc_sock_stats(s, &st), 0);
	if (o.tx == ZC_TX_DEVMEM) {
		assert_int_not_equal(st.tx_error, 0);
		assert_int_equal(st.rx_error, 0);
		assert_int_equal(write(a, msg, sizeof(msg)), sizeof(msg));
	} else {
		assert_int_equal(st.rx_error, want_noqm(c) == -ENODEV
						      ? -ENODEV
						      : -EOPNOTSUPP);
		assert_int_equal(write(a, msg, sizeof(msg)), sizeof(msg));
	}
	while (have < sizeof(msg)) {
		struct zc_buf *buf = NULL;
		ssize_t n = zc_recv(s, &buf);

		assert_true(n > 0);
		assert_int_equal(zc_buf_copy_out(buf, 0, got + have, (size_t)n),
				 n);
		have += (size_t)n;
		assert_int_equal(zc_sock_release(s, buf), 0);
	}
	assert_memory_equal(got, msg, sizeof(msg));
	assert_int_equal(zc_sock_stats(s, &st), 0);
	assert_int_equal(st.rx_bytes_zerocopy + st.rx_bytes_unverified, 0);
	assert_int_equal(zc_sock_close(s), 0);
	close(a);
	if (o.flags & ZC_SOCK_DMABUF)
		close(o.dmabuf_fd);
	zc_ctx_destroy(ctx);
}

static void test_fallback(void **state)
{
	(void)state;
	if (geteuid())
		skip();
	fallback_xfer(ZCRX);
	fallback_xfer(DEVMEM_RX);
	fallback_xfer(DEVMEM_RX_FD);
	fallback_xfer(DEVMEM_TX);
}

/* ZC_RX_AUTO never tries a device transport. */
static void test_auto_unchanged(void **state)
{
	struct zc_stats st;

	(void)state;
	memset(&st, 0xff, sizeof(st));
	{
		struct zc_ctx *ctx = NULL;
		struct zc_sock *s = NULL;
		int a, b;

		assert_int_equal(zc_ctx_create(NULL, &ctx), 0);
		assert_int_equal(nu_tcp_pair(AF_INET, &a, &b), 0);
		assert_int_equal(zc_sock_attach(ctx, b, NULL, &s), 0);
		assert_int_equal(zc_sock_stats(s, &st), 0);
		assert_int_equal(st.rx_error, 0);
		assert_int_equal(st.tx_error, 0);
		zc_sock_close(s);
		close(a);
		zc_ctx_destroy(ctx);
	}
}

/* zcrx without a device (Linux 7.1+): the whole path with the kernel
 * copying into the area; every byte checked. */
static void test_nodev_end_to_end(void **state)
{
	struct zc_sock_opts o = dev_opts(ZCRX_NODEV, 0);
	struct zc_ctx *ctx = NULL;
	struct zc_sock *s = NULL;
	struct zc_buf *held[8];
	struct zc_stats st;
	struct utsname u;
	uint64_t total = 4u << 20, got = 0;
	unsigned nheld = 0;
	char *msg;
	int a, b, ret;

	(void)state;
	uname(&u);
	assert_int_equal(zc_ctx_create(NULL, &ctx), 0);
	assert_int_equal(nu_tcp_pair(AF_INET, &a, &b), 0);
	ret = zc_sock_attach(ctx, b, &o, &s);
	if (ret == -EOPNOTSUPP || ret == -EPERM) {
		printf("skip: zcrx without a device (ZCRX_REG_NODEV) needs "
		       "Linux 7.1+ and CAP_NET_ADMIN; kernel %s says %s\n",
		       u.release, zc_strerror(ret));
		close(a);
		close(b);
		zc_ctx_destroy(ctx);
		skip();
	}
	assert_int_equal(ret, 0);
	msg = malloc(total);
	assert_non_null(msg);
	for (uint64_t i = 0; i < total; i++)
		msg[i] = (char)nu_pattern(i);
	assert_int_equal(nu_set_nonblock(a), 0);
	for (uint64_t sent = 0; got < total;) {
		struct zc_buf *buf = NULL;
		ssize_t n;

		if (sent < total) {
			n = write(a, msg + sent, total - sent);
			if (n > 0)
				sent += (uint64_t)n;
		}
		n = zc_recv(s, &buf);
		if (n == -EAGAIN || n == -ENOBUFS) {
			/* Give buffers back out of order. */
			while (nheld)
				assert_int_equal(
					zc_sock_release(s, held[--nheld]), 0);
			continue;
		}
		assert_true(n > 0);
		for (unsigned i = 0; i < zc_buf_nsegs(buf); i++) {
			struct zc_seg sg;

			assert_int_equal(zc_buf_seg(buf, i, &sg), 0);
			for (size_t k = 0; k < sg.len; k++, got++)
				assert_int_equal((uint8_t)((char *)sg.base)[k],
						 nu_pattern(got));
		}
		held[nheld++] = buf;
		if (nheld < 8)
			continue;
		/* Out of order: odd ones first, then even ones. */
		for (unsigned i = 1; i < 16; i += 2)
			assert_int_equal(zc_sock_release(s, held[i % 8]), 0);
		nheld = 0;
	}
	while (nheld)
		assert_int_equal(zc_sock_release(s, held[--nheld]), 0);
	assert_int_equal(zc_sock_stats(s, &st), 0);
	/* Without a device the kernel copies, and zcopy says so. */
	assert_int_equal(st.rx_bytes_copied, total);
	assert_int_equal(st.rx_bytes_zerocopy, 0);
	free(msg);
	zc_sock_close(s);
	close(a);
	zc_ctx_destroy(ctx);
}

/* A udmabuf dma-buf, where the module is loaded: devmem then reaches the
 * kernel's interface checks with zcopy's own dma-buf. */
static void test_udmabuf_reaches_kernel(void **state)
{
	(void)state;
	if (!have_udmabuf()) {
		printf("skip: no /dev/udmabuf (modprobe udmabuf; no module "
		       "loading here)\n");
		skip();
	}
	assert_int_equal(try_attach(DEVMEM_RX, if_nametoindex("lo"), 0, NULL),
			 geteuid() ? -EPERM : -EOPNOTSUPP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_options),
		cmocka_unit_test(test_auto_unchanged),
		cmocka_unit_test(test_lo_refused),
		cmocka_unit_test(test_veth_refused),
		cmocka_unit_test(test_nobody),
		cmocka_unit_test(test_missing_udmabuf),
		cmocka_unit_test(test_fallback),
		cmocka_unit_test(test_nodev_end_to_end),
		cmocka_unit_test(test_udmabuf_reaches_kernel),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
