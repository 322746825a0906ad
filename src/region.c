/* SPDX-License-Identifier: MIT */
/*
 * Regions: memory pinned once at setup (as the kernel's zero-copy receive
 * areas are), so that no send or receive pays for pinning.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "region.h"

#define ZC_REGION_FLAGS \
	(ZC_REGION_HUGEPAGE | ZC_REGION_NOLOCK | ZC_REGION_UNREADABLE)

static size_t region_round(size_t len, unsigned flags)
{
	size_t align = (flags & ZC_REGION_HUGEPAGE)
			       ? 2u << 20
			       : (size_t)sysconf(_SC_PAGESIZE);

	if (len > SIZE_MAX - align)
		return 0;
	return (len + align - 1) & ~(align - 1);
}

static void *region_map(size_t len, unsigned flags)
{
	int prot = (flags & ZC_REGION_UNREADABLE) ? PROT_NONE
						  : PROT_READ | PROT_WRITE;
	int mflags = MAP_PRIVATE | MAP_ANONYMOUS;
	void *p;

	if (flags & ZC_REGION_HUGEPAGE)
		mflags |= MAP_HUGETLB;
	p = mmap(NULL, len, prot, mflags, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

static struct zc_region *region_alloc(void *base, size_t len, unsigned flags)
{
	struct zc_region *region = calloc(1, sizeof(*region));

	if (!region)
		return NULL;
	region->base = base;
	region->len = len;
	region->flags = flags;
	return region;
}

int zc_region_create(size_t len, unsigned flags, struct zc_region **out)
{
	/* Device memory stand-ins are never touched, so never locked. */
	bool lock = !(flags & (ZC_REGION_NOLOCK | ZC_REGION_UNREADABLE));
	struct zc_region *region;
	size_t map_len;
	void *base;
	int ret;

	if (!out || !len || (flags & ~ZC_REGION_FLAGS))
		return -EINVAL;
	map_len = region_round(len, flags);
	if (!map_len)
		return -EOVERFLOW;
	base = region_map(map_len, flags);
	if (!base)
		return -errno;
	if (lock && mlock(base, map_len)) {
		ret = -errno;
		goto err_unmap;
	}
	region = region_alloc(base, map_len, flags);
	if (!region) {
		ret = -ENOMEM;
		goto err_unlock;
	}
	region->map_len = map_len;
	region->locked = lock;
	*out = region;
	return 0;

err_unlock:
	if (lock)
		munlock(base, map_len);
err_unmap:
	munmap(base, map_len);
	return ret;
}

int zc_region_wrap(void *addr, size_t len, unsigned flags,
		   struct zc_region **out)
{
	struct zc_region *region;

	if (!out || !addr || !len || (flags & ~ZC_REGION_FLAGS) ||
	    (flags & ZC_REGION_HUGEPAGE))
		return -EINVAL;
	if ((uintptr_t)addr > UINTPTR_MAX - len)
		return -EOVERFLOW;
	region = region_alloc(addr, len, flags | ZC_REGION_NOLOCK);
	if (!region)
		return -ENOMEM;
	*out = region;
	return 0;
}

int zc_region_adopt(void *base, size_t len, struct zc_region **out)
{
	struct zc_region *region = region_alloc(base, len, ZC_REGION_NOLOCK);

	if (!region)
		return -ENOMEM;
	region->map_len = len;
	*out = region;
	return 0;
}

int zc_region_destroy(struct zc_region *region)
{
	if (!region)
		return -EINVAL;
	if (region->users || region->pinned_by)
		return -EBUSY;
	if (region->map_len) {
		if (region->locked)
			munlock(region->base, region->map_len);
		munmap(region->base, region->map_len);
	}
	free(region);
	return 0;
}

void *zc_region_base(const struct zc_region *region)
{
	return region ? region->base : NULL;
}

size_t zc_region_len(const struct zc_region *region)
{
	return region ? region->len : 0;
}

unsigned zc_region_flags(const struct zc_region *region)
{
	return region ? region->flags : 0;
}

void zc_region_use(struct zc_region *region)
{
	region->users++;
}

void zc_region_unuse(struct zc_region *region)
{
	region->users--;
}

bool zc_region_contains(const struct zc_region *region, const void *addr,
			size_t len)
{
	uintptr_t lo = (uintptr_t)region->base, p = (uintptr_t)addr;

	return p >= lo && p - lo <= region->len &&
	       len <= region->len - (p - lo);
}
