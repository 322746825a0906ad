/* SPDX-License-Identifier: MIT */
/* Shared by the fuzz targets: a failed check against the model aborts, so
 * libFuzzer keeps the input. */
#ifndef ZC_FUZZ_CHECK_H
#define ZC_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond)                                                        \
	do {                                                               \
		if (!(cond)) {                                             \
			fprintf(stderr, "%s:%d: mismatch: %s\n", __FILE__, \
				__LINE__, #cond);                          \
			abort();                                           \
		}                                                          \
	} while (0)

#endif
