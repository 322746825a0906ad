/* SPDX-License-Identifier: MIT */
/*
 * Kernel interfaces newer than Debian 12's headers (linux-libc-dev 6.1,
 * liburing 2.3).  Values are the kernel's ABI; each block only applies
 * when the installed headers lack it.
 */
#ifndef ZC_SRC_COMPAT_H
#define ZC_SRC_COMPAT_H

#include <linux/types.h>
#include <liburing.h>

/* Linux 6.2: SEND_ZC notifications say whether the kernel copied. */
#ifndef IORING_SEND_ZC_REPORT_USAGE
#define IORING_SEND_ZC_REPORT_USAGE (1U << 3)
#endif
#ifndef IORING_NOTIF_USAGE_ZC_COPIED
#define IORING_NOTIF_USAGE_ZC_COPIED (1U << 31)
#endif

/* Linux 6.15: io_uring zero-copy receive (zcrx).  Needs a ring with
 * IORING_SETUP_DEFER_TASKRUN and IORING_SETUP_CQE32, CAP_NET_ADMIN and a
 * NIC with header split and queue management. */
#ifndef IORING_ZCRX_AREA_SHIFT
#define IORING_ZCRX_AREA_SHIFT 48
#define IORING_REGISTER_ZCRX_IFQ 32

struct io_uring_region_desc {
	__u64 user_addr;
	__u64 size;
	__u32 flags;
	__u32 id;
	__u64 mmap_offset;
	__u64 __resv[4];
};

struct io_uring_zcrx_area_reg {
	__u64 addr;
	__u64 len;
	__u64 rq_area_token;
	__u32 flags;
	__u32 dmabuf_fd;
	__u64 __resv2[2];
};

struct io_uring_zcrx_offsets {
	__u32 head;
	__u32 tail;
	__u32 rqes;
	__u32 __resv2;
	__u64 __resv[2];
};

struct io_uring_zcrx_ifq_reg {
	__u32 if_idx;
	__u32 if_rxq;
	__u32 rq_entries;
	__u32 flags;
	__u64 area_ptr;	  /* struct io_uring_zcrx_area_reg * */
	__u64 region_ptr; /* struct io_uring_region_desc * */
	struct io_uring_zcrx_offsets offsets;
	__u32 zcrx_id;
	__u32 rx_buf_len;
	__u64 __resv[3];
};

struct io_uring_zcrx_rqe {
	__u64 off;
	__u32 len;
	__u32 __pad;
};
#endif

#endif
