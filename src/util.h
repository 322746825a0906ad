/* SPDX-License-Identifier: MIT */
/* Small helpers shared by the library's files. */
#ifndef ZC_SRC_UTIL_H
#define ZC_SRC_UTIL_H

#include <stdint.h>

/* The smallest power of two >= v (1 for 0), at most 2^31. */
static inline uint32_t zc_roundup_pow2(uint32_t v)
{
	uint32_t p = 1;

	while (p < v && p < (1u << 31))
		p <<= 1;
	return p;
}

#endif
