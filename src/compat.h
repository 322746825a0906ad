/* SPDX-License-Identifier: MIT */
/*
 * Kernel constants newer than the system headers (Debian 12: liburing 2.3,
 * linux-libc-dev 6.1).  Only #ifndef blocks: the values are the kernel's ABI
 * and never change, so defining them is safe when the headers lack them.
 */
#ifndef ZC_SRC_COMPAT_H
#define ZC_SRC_COMPAT_H

#include <liburing.h>

/* Linux 6.2: ask SEND_ZC to say in its notification whether it copied. */
#ifndef IORING_SEND_ZC_REPORT_USAGE
#define IORING_SEND_ZC_REPORT_USAGE (1U << 3)
#endif

/* Linux 6.2: notification cqe.res bit set when the data was copied. */
#ifndef IORING_NOTIF_USAGE_ZC_COPIED
#define IORING_NOTIF_USAGE_ZC_COPIED (1U << 31)
#endif

#endif
