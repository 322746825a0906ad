/* SPDX-License-Identifier: MIT */
/* zcopy probe: internal interfaces between its files. */
#ifndef ZC_TOOLS_PROBE_H
#define ZC_TOOLS_PROBE_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Where traffic goes: loopback, or a veth pair between two namespaces. */
struct probe_path {
	const char *name;    /* "lo" or "veth" */
	const char *ifname;  /* interface the receiver sees */
	int ns_fd[2];	     /* netns of sender, receiver; -1: ours */
	struct in_addr addr; /* receiver's address */
	unsigned mtu;	     /* MTU of ifname */
};

/* What one mechanism did.  err is a positive errno, 0 if it worked. */
struct probe_result {
	const char *name;
	const char *path;
	int err;
	const char *result; /* "zerocopy", "copied", "mixed", or NULL */
	uint64_t zerocopy;  /* reports (or bytes, for receive) zero-copy */
	uint64_t copied;    /* reports (or bytes) copied */
	const char *unit;   /* "reports" or "bytes" */
	char detail[96];
	const char *hint; /* one line on what to change, or NULL */
};

/* A connected pair on a path: fd[0] sends, fd[1] receives.  mss > 0 sets
 * TCP_MAXSEG on both ends before connecting. */
int probe_pair(const struct probe_path *path, int type, int mss, int fd[2]);
void probe_pair_close(int fd[2]);

/* Run in the receiver's (side 1) or sender's (side 0) namespace until
 * probe_ns_leave(*saved).  0 or -errno. */
int probe_ns_enter(const struct probe_path *path, int side, int *saved);
void probe_ns_leave(int saved);

/* Set up and remove the veth path (names unique per process). */
int probe_veth_setup(struct probe_path *path);
void probe_veth_teardown(struct probe_path *path);

void probe_result_init(struct probe_result *r, const char *name,
		       const struct probe_path *path);
/* One MSG_ZEROCOPY send of len bytes (retried while out of optmem), and
 * reaping its notifications into r.  Return 0 or a positive errno. */
int probe_msgzc_send(int fd, const void *buf, size_t len,
		     struct probe_result *r);
/* The notifications queued on fd now, counted into r. */
void probe_msgzc_reap(int fd, struct probe_result *r);
/* The largest datagram up to max that a connected UDP socket sends without
 * IP fragmentation (its path MTU less the headers); max if unknown. */
size_t probe_udp_len(int fd, size_t max);
/* Fill r->result from r->zerocopy and r->copied. */
void probe_verdict(struct probe_result *r);
/* The verdict, and the hint that goes with it. */
void probe_result_done(struct probe_result *r);
/* sends MSG_ZEROCOPY (or io_uring SEND_ZC) messages of len bytes on a
 * connected socket, and the kernel's notifications of them, into r. */
void probe_msgzc_on(int fd, size_t len, int sends, struct probe_result *r);
void probe_uring_send_zc_on(int fd, size_t len, int sends,
			    struct probe_result *r);

/* The probes: each fills *r (name, path, outcome). */
void probe_msgzc(const struct probe_path *path, int type,
		 struct probe_result *r);
void probe_lib_msgzc(const struct probe_path *path, int auto_mode,
		     struct probe_result *r);
void probe_uring_send_zc(const struct probe_path *path, bool fixed,
			 struct probe_result *r);
void probe_uring_buf_ring(const struct probe_path *path,
			  struct probe_result *r);
void probe_tcp_zc_receive(const struct probe_path *path, int mss,
			  struct probe_result *r);
void probe_zcrx(const struct probe_path *path, struct probe_result *r);
/* probe_dev.c: devmem receive and zcrx without a device, through the
 * library; what to change for a refusal of either (positive errno), or
 * NULL. */
void probe_devmem(const struct probe_path *path, struct probe_result *r);
void probe_zcrx_nodev(const struct probe_path *path, struct probe_result *r);
const char *probe_dev_hint(int err);

/* What the driver of an interface reports through the ethtool ioctl.
 * The ioctl has no header-split field: a driver without ring parameters
 * (lo, veth) has no header split; with them, ethtool -g tells. */
struct probe_nic {
	const char *ifname;
	const char *path;
	int rings_err;	     /* ETHTOOL_GRINGPARAM: 0 or positive errno */
	unsigned rx_max, rx; /* ring sizes when rings_err == 0 */
};
void probe_nic(const struct probe_path *path, struct probe_nic *n);

/* Limits that decide what works. */
struct probe_limits {
	char kernel[65];
	long optmem_max;		    /* -1: unreadable */
	long long memlock_cur, memlock_max; /* -1: unlimited */
	int uring_err;			    /* io_uring_setup: 0 or errno */
	long uring_disabled;		    /* sysctl, -1: absent */
	unsigned euid;
};

/* --to HOST[:PORT]: the route the kernel uses to a peer. */
enum { PROBE_TO_MSGZC, PROBE_TO_URING };
struct probe_to {
	const char *host; /* points into hostbuf */
	char hostbuf[256];
	uint16_t port;
	bool udp_sink;		  /* a UDP sink, not a zcopy bench server */
	char address[64];	  /* the peer's address, numeric */
	char source[64];	  /* the address the kernel sends from */
	char ifname[IF_NAMESIZE]; /* the interface of the route */
	char driver[32];	  /* its driver; "" for none (loopback) */
	int route_err;		  /* positive errno of the route lookup */
};
/* "HOST", "HOST:PORT", "[V6]:PORT", or a bare IPv6 address; to->port is
 * kept when none is given.  0, -EINVAL (host) or -ERANGE (port). */
int probe_to_parse(const char *arg, struct probe_to *to);
/* Run the mechanisms over the route to the peer; 0, or -errno when the
 * peer could not be reached or spoke nonsense (said on stderr). */
struct probe_report;
int probe_to_run(struct probe_to *to, int timeout_ms, struct probe_report *rep);

#define PROBE_MAX 40
struct probe_report {
	struct probe_limits limits;
	struct probe_result res[PROBE_MAX];
	int nres;
	struct probe_nic nic[4];
	int nnic;
	const struct probe_to *to; /* --to, or NULL */
};

/* probe_out.c */
void probe_print_table(const struct probe_report *rep);
/* "ENOBUFS" for ENOBUFS: errno names, not texts, in tables and JSON. */
const char *probe_errname(int err);
/* Percent of the bytes or reports that went zero-copy; -1 if none. */
double probe_share(const struct probe_result *r);
/* probe_json.c (built with jansson only) */
int probe_print_json(const struct probe_report *rep);

#endif
