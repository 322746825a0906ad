/* SPDX-License-Identifier: MIT */
/* The version of the library itself, as opposed to the header's macros a
 * program was compiled with. */
#include <zcopy/zcopy.h>

unsigned zc_version(void)
{
	return ZC_VERSION_NUMBER;
}

const char *zc_version_string(void)
{
	return ZC_VERSION_STRING;
}
