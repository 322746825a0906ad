/* SPDX-License-Identifier: MIT */
/* zc_region internals. */
#ifndef ZC_SRC_REGION_H
#define ZC_SRC_REGION_H

#include <zcopy/zcopy.h>

struct zc_region {
	void *base;
	size_t len;
	size_t map_len; /* bytes mmap()ed by us; 0 for wrapped memory */
	unsigned flags;
	bool locked;
	unsigned users; /* pools and buffer segments pointing into it */
	/* The context that registered it with its io_uring, NULL if none. */
	const void *pinned_by;
};

void zc_region_use(struct zc_region *region);
void zc_region_unuse(struct zc_region *region);
/* A region over a mapping the caller made (len bytes at base, page
 * aligned): zc_region_destroy() unmaps it.  Not locked. */
int zc_region_adopt(void *base, size_t len, struct zc_region **out);
/* True if [addr, addr+len) lies inside the region. */
bool zc_region_contains(const struct zc_region *region, const void *addr,
			size_t len);

#endif
