/* SPDX-License-Identifier: MIT */
/*
 * Device memory for zcrx and devmem: a dma-buf, the application's or one
 * zcopy makes with udmabuf over a memfd, and the netdev netlink family
 * that binds it to an interface (netdev.c with libmnl; netdev_none.c
 * refuses without it).
 */
#ifndef ZC_SRC_DMABUF_H
#define ZC_SRC_DMABUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <zcopy/zcopy.h>

struct zc_dmabuf {
	int fd;
	bool owned; /* made here: close it */
	size_t size;
	/* An address range as large as the dma-buf, mapped PROT_NONE: its
	 * offsets are dma-buf offsets, and nothing reads it. */
	struct zc_region *standin;
};

/* The application's dma-buf (fd, with its size), or with fd < 0 a new
 * udmabuf of at least size bytes: -ENODEV without /dev/udmabuf (modprobe
 * udmabuf), -EACCES if it cannot be opened. */
int zc_dmabuf_open(int fd, size_t size, struct zc_dmabuf *d);
void zc_dmabuf_close(struct zc_dmabuf *d);

/* A binding of a dma-buf to an interface; it lasts as long as its
 * netlink socket stays open. */
struct zc_netdev_bind {
	void *nl; /* struct mnl_socket * */
	uint32_t id;
};

/* bind-rx of dmabuf_fd to RX queue of ifindex, bind-tx to ifindex.  The
 * kernel's error: -EOPNOTSUPP (no queue management or netmem TX: lo,
 * veth; or zcopy built without libmnl), -EINVAL (header split off or
 * hds-thresh not 0), -ERANGE (no such queue), -EBUSY, -EEXIST (XDP or
 * another memory provider on the queue), -EPERM (needs CAP_NET_ADMIN),
 * -ENODEV (no such interface). */
int zc_netdev_bind_rx(unsigned ifindex, unsigned queue, int dmabuf_fd,
		      struct zc_netdev_bind *b);
int zc_netdev_bind_tx(unsigned ifindex, int dmabuf_fd,
		      struct zc_netdev_bind *b);
void zc_netdev_unbind(struct zc_netdev_bind *b);

#endif
