/* SPDX-License-Identifier: MIT */
/* Error text in zcopy's terms; falls back to the C library's wording. */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include <zcopy/zcopy.h>

struct zc_errmsg {
	int err;
	const char *msg;
};

static const struct zc_errmsg zc_errmsgs[] = {
	{ EINVAL, "invalid argument (NULL pointer, zero length, bad flag or "
		  "unknown option)" },
	{ EACCES, "buffer holds unreadable (device) memory: zcopy will not "
		  "read, copy or checksum it" },
	{ EALREADY, "already done: buffer released twice or completion "
		    "reported twice" },
	{ ERANGE, "outside the valid range (region bounds or completion ids "
		  "not in flight)" },
	{ ENOSPC, "no room left in the buffer or array" },
	{ ENOBUFS, "out of zero-copy resources (optmem_max, locked pages or "
		   "pool buffers); the send can be copied instead" },
	{ ENOMEM, "out of memory, or RLIMIT_MEMLOCK too low to pin a region" },
	{ EPERM, "not permitted (RLIMIT_MEMLOCK, seccomp or a sysctl forbids "
		 "it)" },
	{ EBUSY, "still in use: release buffers, pools or sends first" },
	{ EOVERFLOW, "value too large (length or reference count overflow)" },
	{ EMSGSIZE, "message too long for one datagram (UDP payload limit is "
		    "65507 bytes for IPv4, 65527 for IPv6)" },
	{ ENOTSOCK, "file descriptor is not a socket" },
	{ EBADF, "bad file descriptor (closed or never opened)" },
	{ ENOTCONN, "socket is not connected" },
	{ EAFNOSUPPORT, "address family not supported (IPv4 and IPv6 "
			"sockets only)" },
	{ EFAULT, "send memory is not mapped (bad iovec address): nothing "
		  "was sent" },
	{ EPIPE, "connection is closed: no more data can be sent on it" },
	{ ECONNRESET, "peer reset the connection: sends not yet confirmed "
		      "are lost" },
	{ ECONNABORTED, "connection aborted locally (e.g. killed with "
			"ss -K): sends not yet confirmed are lost" },
	{ ECONNREFUSED, "peer refused: nothing listens there (UDP: an ICMP "
			"unreachable reported by a later send)" },
	{ EPROTONOSUPPORT, "socket type not supported (TCP and UDP only)" },
	{ EOPNOTSUPP, "operation not supported by this kernel, device or "
		      "socket" },
	{ E2BIG, "too many segments or iovecs in one send" },
	{ EAGAIN, "try again: no data yet, or too many sends in flight "
		  "(process completions first)" },
	{ ECANCELED, "cancelled: the socket closed before the data reached "
		     "the kernel" },
	{ ETIMEDOUT, "timed out waiting for completions" },
	{ EXDEV, "object belongs to another context or socket" },
	{ ESHUTDOWN, "socket is closing or shut down for sending: no new "
		     "sends are accepted" },
	{ EDESTADDRREQ, "unconnected UDP socket: name the destination "
			"(zc_sendto)" },
	{ EISCONN, "stream socket is connected: it takes no destination "
		   "address" },
	{ EEXIST, "already exists: the socket is attached already (in this or "
		  "another context)" },
	{ ENOSYS, "system call not available (io_uring disabled, blocked by "
		  "seccomp or kernel too old)" },
};

const char *zc_strerror(int err)
{
	const char *msg;

	/* -INT_MIN does not exist; no errno is that large anyway. */
	if (err == INT_MIN)
		return "unknown error";
	if (err < 0)
		err = -err;
	if (err == 0)
		return "success";
	for (size_t i = 0; i < sizeof(zc_errmsgs) / sizeof(zc_errmsgs[0]); i++)
		if (zc_errmsgs[i].err == err)
			return zc_errmsgs[i].msg;
	/* The C library's text, but only its static table: strerror() may
	 * return a buffer that the next call overwrites. */
	msg = strerrordesc_np(err);
	return msg ? msg : "unknown error";
}
