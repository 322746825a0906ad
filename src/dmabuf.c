/* SPDX-License-Identifier: MIT */
/*
 * dma-bufs for device transports.
 *
 * Kernel rules this file relies on:
 *  - /dev/udmabuf (UDMABUF_CREATE) turns a memfd sealed against shrinking
 *    into a dma-buf of host pages; the memfd may be closed afterwards;
 *  - a dma-buf fd reports its size through lseek(fd, 0, SEEK_END).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/udmabuf.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dmabuf.h"

static int udmabuf_make(size_t size, int *out)
{
	struct udmabuf_create c = { .flags = UDMABUF_FLAGS_CLOEXEC,
				    .size = size };
	int dev, memfd, fd, err;

	dev = open("/dev/udmabuf", O_RDWR | O_CLOEXEC);
	if (dev < 0)
		return errno == ENOENT ? -ENODEV : -errno;
	memfd = memfd_create("zcopy-dmabuf", MFD_ALLOW_SEALING | MFD_CLOEXEC);
	err = memfd < 0 ? -errno : 0;
	if (!err && (ftruncate(memfd, (off_t)size) ||
		     fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK)))
		err = -errno;
	if (!err) {
		c.memfd = (uint32_t)memfd;
		fd = ioctl(dev, UDMABUF_CREATE, &c);
		err = fd < 0 ? -errno : 0;
	}
	if (memfd >= 0)
		close(memfd);
	close(dev);
	if (!err)
		*out = fd;
	return err;
}

int zc_dmabuf_open(int fd, size_t size, struct zc_dmabuf *d)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	off_t end;
	int ret;

	*d = (struct zc_dmabuf){ .fd = -1 };
	if (fd < 0) {
		size = (size + page - 1) / page * page;
		ret = udmabuf_make(size, &d->fd);
		if (ret)
			return ret;
		d->owned = true;
	} else {
		end = lseek(fd, 0, SEEK_END);
		if (end <= 0)
			return end < 0 ? -errno : -EINVAL;
		d->fd = fd;
		size = (size_t)end;
	}
	d->size = size;
	ret = zc_region_create(size, ZC_REGION_UNREADABLE, &d->standin);
	if (ret)
		zc_dmabuf_close(d);
	return ret;
}

void zc_dmabuf_close(struct zc_dmabuf *d)
{
	if (d->standin)
		zc_region_destroy(d->standin);
	if (d->owned && d->fd >= 0)
		close(d->fd);
	*d = (struct zc_dmabuf){ .fd = -1 };
}
