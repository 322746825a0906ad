/* SPDX-License-Identifier: MIT */
/*
 * zcopy probe, device transports through the library: zcrx without an
 * interface (Linux 7.1+) and devmem TCP receive on a path's interface;
 * and, for every refusal of zcrx or devmem, the setting to change.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <unistd.h>

#include <zcopy/zcopy.h>

#include "probe.h"

const char *probe_dev_hint(int err)
{
	switch (err) {
	case 0:
		return NULL;
	case EOPNOTSUPP:
		return "no queue management on this interface (lo, veth and "
		       "most virtual NICs): zcrx and devmem need a NIC whose "
		       "driver supports it, Linux 6.15+ (devmem RX 6.12+)";
	case EINVAL:
		return "header split is off or hds-thresh is not 0: "
		       "ethtool -G IF tcp-data-split on hds-thresh 0";
	case ERANGE:
		return "no such RX queue: see ethtool -l IF, and steer the "
		       "flow there with ethtool -N IF flow-type tcp4 ... "
		       "action QUEUE";
	case EBUSY:
	case EEXIST:
		return "the queue is taken: detach XDP (ip link set IF xdp "
		       "off) or close the other zcrx/devmem user of the queue";
	case ENODATA:
		return "the driver gives no DMA device for the queue";
	case EPERM:
		return "needs CAP_NET_ADMIN (and io_uring allowed by "
		       "kernel.io_uring_disabled)";
	case ENODEV:
		return "no /dev/udmabuf to make a dma-buf (modprobe udmabuf), "
		       "or give one with ZC_SOCK_DMABUF";
	default:
		return NULL;
	}
}

/* Attach a device mode on a pair of the path; the library's verdict. */
static int dev_attach(const struct probe_path *path,
		      const struct zc_sock_opts *o)
{
	struct zc_ctx *ctx = NULL;
	struct zc_sock *s = NULL;
	int fd[2], saved, ret;

	ret = probe_pair(path, SOCK_STREAM, 0, fd);
	if (ret)
		return ret;
	ret = zc_ctx_create(NULL, &ctx);
	if (!ret) {
		/* The interface is looked up in the receiver's namespace. */
		ret = probe_ns_enter(path, 1, &saved);
		if (!ret) {
			ret = zc_sock_attach(ctx, fd[1], o, &s);
			probe_ns_leave(saved);
		}
		if (!ret) {
			zc_sock_close(s);
			fd[1] = -1;
		}
		zc_ctx_destroy(ctx);
	}
	probe_pair_close(fd);
	return ret;
}

void probe_devmem(const struct probe_path *path, struct probe_result *r)
{
	struct zc_sock_opts o = { .rx = ZC_RX_DEVMEM };
	int saved;

	probe_result_init(r, "devmem-rx", path);
	snprintf(r->detail, sizeof(r->detail),
		 "bind a udmabuf to rx queue 0 of %s", path->ifname);
	r->err = -probe_ns_enter(path, 1, &saved);
	if (r->err)
		return;
	o.ifindex = if_nametoindex(path->ifname);
	probe_ns_leave(saved);
	r->err = o.ifindex ? -dev_attach(path, &o) : ENODEV;
	r->hint = probe_dev_hint(r->err);
}

void probe_zcrx_nodev(const struct probe_path *path, struct probe_result *r)
{
	struct zc_sock_opts o = { .rx = ZC_RX_ZCRX,
				  .flags = ZC_SOCK_ZCRX_NODEV };

	probe_result_init(r, "zcrx-nodev", path);
	snprintf(r->detail, sizeof(r->detail),
		 "zcrx without a device (the kernel copies)");
	r->err = -dev_attach(path, &o);
	if (r->err == EOPNOTSUPP)
		r->hint = "zcrx without a device (ZCRX_REG_NODEV) needs Linux "
			  "7.1+";
	else
		r->hint = probe_dev_hint(r->err);
}
