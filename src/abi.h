/* SPDX-License-Identifier: MIT */
/*
 * The sizes of the public structs programs allocate or read, on LP64
 * (x86_64, aarch64, ...).  They are part of the ABI: a field added later
 * takes words from its struct's reserved[] array, and the size stays.
 * src/version.c asserts them when the library is built, tests/test_abi.c
 * checks them again.
 */
#ifndef ZC_SRC_ABI_H
#define ZC_SRC_ABI_H

#define ZC_ABI_LP64 (__SIZEOF_POINTER__ == 8 && __SIZEOF_LONG__ == 8)

#define ZC_ABI_SIZEOF_CTX_OPTS 80
#define ZC_ABI_SIZEOF_SOCK_OPTS 136
#define ZC_ABI_SIZEOF_STATS 552
#define ZC_ABI_SIZEOF_COMPLETION 48

#endif
