/* SPDX-License-Identifier: MIT */
/*
 * The version of the library itself, as opposed to the header's macros a
 * program was compiled with, and the struct layouts this version promises
 * (see "ABI" in zcopy.h).
 */
#include <zcopy/zcopy.h>

#include <stddef.h>

#include "abi.h"

/* The reserved words end the struct (no field, no padding after them), and
 * on LP64 the struct has the size abi.h says. */
#define ZC_ABI_CHECK(type, size)                                               \
	_Static_assert(offsetof(struct type, reserved) +                       \
				       sizeof(((struct type *)0)->reserved) == \
			       sizeof(struct type),                            \
		       "reserved[] must end struct " #type);                   \
	_Static_assert(!ZC_ABI_LP64 || sizeof(struct type) == (size),          \
		       "struct " #type " grew: take fields from reserved[]")

ZC_ABI_CHECK(zc_ctx_opts, ZC_ABI_SIZEOF_CTX_OPTS);
ZC_ABI_CHECK(zc_sock_opts, ZC_ABI_SIZEOF_SOCK_OPTS);
ZC_ABI_CHECK(zc_stats, ZC_ABI_SIZEOF_STATS);
ZC_ABI_CHECK(zc_completion, ZC_ABI_SIZEOF_COMPLETION);
/* zc_stats has room for this many reasons and transports. */
_Static_assert(ZC_WHY_COUNT <= ZC_STATS_SLOTS &&
		       ZC_TX_ANY_COUNT <= ZC_STATS_SLOTS,
	       "zc_stats.copied_why and tx_by_mode are too small");

unsigned zc_version(void)
{
	return ZC_VERSION_NUMBER;
}

const char *zc_version_string(void)
{
	return ZC_VERSION_STRING;
}
