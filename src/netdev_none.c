/* SPDX-License-Identifier: MIT */
/* Built without libmnl: devmem cannot bind a dma-buf, so it is refused. */
#include <errno.h>

#include "dmabuf.h"

int zc_netdev_bind_rx(unsigned ifindex, unsigned queue, int dmabuf_fd,
		      struct zc_netdev_bind *b)
{
	(void)ifindex;
	(void)queue;
	(void)dmabuf_fd;
	(void)b;
	return -EOPNOTSUPP;
}

int zc_netdev_bind_tx(unsigned ifindex, int dmabuf_fd, struct zc_netdev_bind *b)
{
	(void)ifindex;
	(void)dmabuf_fd;
	(void)b;
	return -EOPNOTSUPP;
}

void zc_netdev_unbind(struct zc_netdev_bind *b)
{
	(void)b;
}
