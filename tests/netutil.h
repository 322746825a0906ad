/* SPDX-License-Identifier: MIT */
/*
 * Test bed for network tests: loopback socket pairs, network namespaces
 * joined by veth, and a pattern-checked transfer driven through zcopy.
 */
#ifndef ZC_TESTS_NETUTIL_H
#define ZC_TESTS_NETUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <zcopy/zcopy.h>

/* Exit code meson reads as "skipped". */
#define NU_SKIP 77

/* 1 in an AddressSanitizer build (gcc or clang): tests scale down there. */
#if defined(__SANITIZE_ADDRESS__)
#define NU_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NU_ASAN 1
#endif
#endif
#ifndef NU_ASAN
#define NU_ASAN 0
#endif

/* Two namespaces joined by a veth pair: 10.231.<id>.1 in a, .2 in b. */
struct nu_netns {
	char a[32], b[32];
	char addr_a[32], addr_b[32];
};

/* How nu_pair() connects; all zero: TCP over IPv4 loopback. */
struct nu_pair_opts {
	int family; /* AF_INET (also 0) or AF_INET6 */
	int type;   /* SOCK_STREAM (also 0) or SOCK_DGRAM */
	/* TCP: TCP_MAXSEG on both ends before the handshake, so the MSS
	 * each side advertises is this one (0: the route's). */
	int mss;
	/* Across a namespace pair (AF_INET only): the receiving end in
	 * ns->a, the sending end in ns->b.  NULL: loopback. */
	const struct nu_netns *ns;
	/* SO_SNDBUF on the sending end and SO_RCVBUF on the receiving end
	 * (0: the kernel's), set before the handshake: a peer that stops
	 * reading fills them quickly. */
	int sndbuf, rcvbuf;
};

/*
 * The one way network tests make a connected pair: *rcv is the accepted
 * (TCP) or bound (UDP, 8 MiB receive buffer, not connected) end, with a
 * 20 s receive timeout so that a lost sender cannot hang a test; *snd is
 * connected to it.  The calling thread ends in the namespace it started
 * in.  0 or -errno.
 */
int nu_pair(const struct nu_pair_opts *o, int *snd, int *rcv);
/* nu_pair() on loopback with the defaults. */
int nu_tcp_pair(int family, int *snd, int *rcv);
int nu_udp_pair(int family, int *snd, int *rcv);
/* An IPv4 TCP pair on loopback with the buffers of struct nu_pair_opts. */
int nu_tcp_pair_bufs(int sndbuf, int rcvbuf, int *snd, int *rcv);
/* An IPv4 TCP pair across the namespace pair (NULL: loopback).  0 or -1. */
int nu_netns_tcp_pair(const struct nu_netns *ns, int *snd, int *rcv);
int nu_set_nonblock(int fd);

/* Bytes in fd's send queue never sent (SIOCOUTQNSD), or -errno.  On
 * loopback TCP sends at once while the peer's window is open, so tens of
 * KiB here mean the peer has stopped taking data. */
int nu_notsent(int fd);

/* Returns 0, or NU_SKIP with a printed reason if namespaces are not
 * available (not root, no ip) or cannot be built. */
int nu_netns_create(struct nu_netns *ns, unsigned mtu);
void nu_netns_destroy(struct nu_netns *ns);
/* A single namespace with only lo up. */
int nu_netns_create_one(char *name, size_t len);
void nu_netns_delete(const char *name);
/* Move the calling process (or thread) into a namespace. */
int nu_netns_enter(const char *name);
/* Shell prefix running a command in the namespace named by the next %s.
 * nsenter only switches the network namespace, unlike `ip -n` and
 * `ip netns exec`, which also need / to be a mount point (not so in a
 * chroot). */
#define NU_IN_NS "nsenter --net=/run/netns/%s "

/* Run fn(arg) in a forked child killed after timeout_s seconds; returns
 * its exit code (fn's return value), or 128 + the signal that ended it.
 * The child has the default handlers for fatal signals: a crash ends it. */
int nu_fork_run(int (*fn)(void *arg), void *arg, unsigned timeout_s);
/* CLOCK_MONOTONIC in milliseconds. */
int64_t nu_now_ms(void);
/* Run a shell command; returns its exit status. */
int nu_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* TCP connection across the namespace pair: the receiver listens in
 * ns->a; the sender connects from ns->b.  Each end runs in a forked
 * child. */
int nu_tcp_listen(int family, const char *addr, int *port);

/* Stream pattern: byte at stream offset g.  The one pattern of the
 * network tests. */
static inline uint8_t nu_pattern(uint64_t g)
{
	return (uint8_t)((g >> 12) * 131 + g * 7 + (g >> 20));
}

/* p[0..len) = the pattern from stream offset off on. */
void nu_pattern_fill(void *p, size_t len, uint64_t off);
/* Index of the first byte of p[0..len) that is not the pattern from
 * offset off on, or len if all are. */
size_t nu_pattern_mismatch(const void *p, size_t len, uint64_t off);

#define NU_GARBAGE 0xa5

struct nu_xfer {
	/* in */
	enum zc_tx_mode tx;
	size_t msg_size;
	uint64_t total; /* bytes to send */
	unsigned slots; /* buffers in rotation (<= 64) */
	bool nonblock;
	unsigned gso; /* UDP_SEGMENT size */
	int close_timeout_ms;
	/* Leave the socket attached: zc_ctx_destroy() closes it. */
	bool leave_attached;
	/* out */
	uint64_t accepted; /* sends accepted by zc_send */
	uint64_t bytes_accepted;
	uint64_t callbacks;	/* completion callbacks seen */
	uint64_t dup_callbacks; /* a callback for a send already completed */
	uint64_t results[4];	/* by enum zc_result */
	uint64_t whys[ZC_WHY_COUNT];
	int send_error; /* first error zc_send returned */
	int cb_error;	/* first error a completion reported */
	int close_ret;
	struct zc_stats stats;
};

/* Send x->total bytes in x->msg_size sends through zcopy on fd.  Each
 * slot is filled with the pattern, and overwritten with NU_GARBAGE the
 * moment its completion arrives, so memory released early shows up as
 * corrupt data at the receiver.  Closes fd through zc_sock_close().
 * Returns 0 or a negative errno from setup. */
int nu_send(int fd, struct nu_xfer *x);

/* Receive a TCP stream and check it against the pattern.  Returns the
 * number of bytes received, or -EBADMSG at the first wrong byte. */
int64_t nu_recv_tcp(int fd, uint64_t expect);

/* Datagram checks: each datagram carries its sequence number and the
 * pattern after it. */
struct nu_udp_rx {
	unsigned got;
	unsigned bad;
	uint64_t bytes;
};
void nu_recv_udp(int fd, size_t msg_size, unsigned count, int timeout_ms,
		 struct nu_udp_rx *rx);

/* Receiver running in a thread: TCP until EOF/expect or UDP. */
struct nu_rx_thread;
struct nu_rx_thread *nu_rx_start_tcp(int fd, uint64_t expect);
struct nu_rx_thread *nu_rx_start_udp(int fd, size_t msg_size, unsigned count);
/* Receive and check a TCP stream; after at least `after` bytes call
 * fault(fd, arg), then receive until EOF or error, unless fault returned
 * nonzero (it closed fd).  The result is the bytes received. */
struct nu_rx_thread *nu_rx_start_tcp_fault(int fd, uint64_t after,
					   int (*fault)(int fd, void *arg),
					   void *arg);
/* Joins; returns bytes received (TCP) or datagrams (UDP), -EBADMSG on
 * corruption. */
int64_t nu_rx_join(struct nu_rx_thread *t, struct nu_udp_rx *udp);

/* A TCP connection to addr:port (IPv4); returns the fd or -errno. */
int nu_tcp_connect(const char *addr, int port);

/* Drop percent% of the TCP packets arriving in namespace ns (nftables
 * numgen), a fault real enough for retransmissions.  The rule goes with
 * the namespace.  Returns 0, or NU_SKIP with a printed reason (no nft, no
 * nf_tables). */
int nu_netns_loss(const char *ns, unsigned percent);

/* ss -K on the IPv4 loopback connection of fd (its own ports only):
 * the kernel aborts it (ECONNABORTED).  Returns ss's exit status. */
int nu_ss_kill(int fd);
/* True if ss -K works here (root, CONFIG_INET_DIAG_DESTROY); otherwise
 * prints why not. */
bool nu_ss_kill_works(void);

/* Bytes in fd's send queue not yet acknowledged (SIOCOUTQ), and bytes in
 * its receive queue not yet read (SIOCINQ); -errno on failure. */
int nu_outq(int fd);
int nu_inq(int fd);
/* Wait until at least bytes are queued for reading on fd, or timeout_ms
 * went by; what is queued then (SIOCINQ), or -errno. */
int nu_wait_inq(int fd, int bytes, int timeout_ms);

/* A send callback that counts its calls into the int at arg. */
void nu_count_cb(struct zc_sock *sock, const struct zc_completion *c,
		 void *arg);

#endif
