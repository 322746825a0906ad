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

/* Linux 6.15: the rest of zcrx.  IORING_OP_RECV_ZC is number 58; its CQE
 * is followed (IORING_SETUP_CQE32) by a struct io_uring_zcrx_cqe whose off
 * carries the area id above IORING_ZCRX_AREA_SHIFT.  sqe->file_index is
 * the kernel's zcrx_ifq_idx. */
#ifndef IORING_ZCRX_AREA_MASK
#define IORING_ZCRX_AREA_MASK (~(((__u64)1 << IORING_ZCRX_AREA_SHIFT) - 1))

struct io_uring_zcrx_cqe {
	__u64 off;
	__u64 __pad;
};
#endif
#define ZC_IORING_OP_RECV_ZC 58
#ifndef IORING_MEM_REGION_TYPE_USER
#define IORING_MEM_REGION_TYPE_USER 1
#endif
#ifndef IORING_ZCRX_AREA_DMABUF
#define IORING_ZCRX_AREA_DMABUF 1
#endif

/* Linux 7.1: zcrx without a net device (everything is copied into the
 * area; the refill ring is consumed on ZCRX_CTRL_FLUSH_RQ), and per-ifq
 * copy-fallback counters (struct zcrx_stats at event_desc's stats_offset
 * in the refill region).  Older kernels refuse both with -EINVAL. */
#ifndef ZCRX_REG_NODEV
#define ZCRX_REG_NODEV 2
#endif
#define ZC_IORING_REGISTER_ZCRX_CTRL 36
#define ZC_ZCRX_CTRL_FLUSH_RQ 0
#define ZC_ZCRX_EVENT_DESC_FLAG_STATS 1

struct zc_zcrx_stats {
	__u64 copy_count; /* copy-fallback CQEs */
	__u64 copy_bytes; /* bytes the kernel copied */
};

struct zc_zcrx_event_desc {
	__u64 user_data;
	__u32 type_mask;
	__u32 flags;
	__u64 stats_offset; /* in the refill region */
	__u64 __resv2[9];
};

/* event_desc is the first of io_uring_zcrx_ifq_reg's __resv words (7.1),
 * right after rx_buf_len, whatever the installed headers call it. */
static inline void zc_zcrx_reg_set_event(struct io_uring_zcrx_ifq_reg *reg,
					 __u64 desc)
{
	char *p = (char *)&reg->rx_buf_len + sizeof(reg->rx_buf_len);

	__builtin_memcpy(p, &desc, sizeof(desc));
}

struct zc_zcrx_ctrl {
	__u32 zcrx_id;
	__u32 op;
	__u64 __resv[2];
	__u64 __body[6];
};

/* Linux 6.12: devmem TCP receive (SO_DEVMEM_*, MSG_SOCK_DEVMEM), 6.15:
 * transmit (SCM_DEVMEM_DMABUF with the tx binding's id).  asm-generic
 * values (x86, arm64, riscv). */
#ifndef SO_DEVMEM_LINEAR
#define SO_DEVMEM_LINEAR 78
#define SCM_DEVMEM_LINEAR SO_DEVMEM_LINEAR
#define SO_DEVMEM_DMABUF 79
#define SCM_DEVMEM_DMABUF SO_DEVMEM_DMABUF
#define SO_DEVMEM_DONTNEED 80

struct dmabuf_cmsg {
	__u64 frag_offset; /* in the dma-buf */
	__u32 frag_size;
	__u32 frag_token; /* for SO_DEVMEM_DONTNEED */
	__u32 dmabuf_id;
	__u32 flags;
};

struct dmabuf_token {
	__u32 token_start;
	__u32 token_count;
};
#endif
#ifndef MSG_SOCK_DEVMEM
#define MSG_SOCK_DEVMEM 0x2000000
#endif
/* SO_DEVMEM_DONTNEED takes at most this many ranges and frees at most this
 * many frags per call (net/core/sock.c); more ranges is -EINVAL. */
#define ZC_DEVMEM_DONTNEED_MAX_TOKENS 128
#define ZC_DEVMEM_DONTNEED_MAX_FRAGS 1024

/* The netdev generic netlink family (linux/netdev.h is not in 6.1's
 * headers): bind-rx 6.12, bind-tx 6.15. */
#define ZC_NETDEV_FAMILY_NAME "netdev"
#define ZC_NETDEV_CMD_BIND_RX 13
#define ZC_NETDEV_CMD_BIND_TX 15
#define ZC_NETDEV_A_DMABUF_IFINDEX 1
#define ZC_NETDEV_A_DMABUF_QUEUES 2
#define ZC_NETDEV_A_DMABUF_FD 3
#define ZC_NETDEV_A_DMABUF_ID 4
#define ZC_NETDEV_A_QUEUE_ID 1
#define ZC_NETDEV_A_QUEUE_TYPE 3
#define ZC_NETDEV_QUEUE_TYPE_RX 0

#endif
