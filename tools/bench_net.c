/* SPDX-License-Identifier: MIT */
/*
 * Sockets and control messages for zcopy bench.  Every wait has a
 * deadline, so a dead or silent peer becomes an error, never a hang.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

int bn_gai_error(int eai)
{
	return -BN_EGAI_BASE + eai;
}

const char *bn_strerror(int err)
{
	if (err < -BN_EGAI_BASE && err >= -BN_EGAI_BASE + BN_EGAI_MIN)
		return gai_strerror(err + BN_EGAI_BASE);
	switch (err < 0 ? -err : err) {
	case EPIPE:
		return "the peer closed the control connection";
	case ETIMEDOUT:
		return "timed out waiting for the peer";
	case EPROTO:
		return "the peer is not a zcopy bench peer (bad magic)";
	case EPROTONOSUPPORT:
		return "the peer speaks another bench protocol version";
	case EBADMSG:
		return "malformed or unexpected control message";
	case ECONNREFUSED:
		return "connection refused (is `zcopy bench server` running?)";
	case EBUSY:
		return "server busy: it is running another client's session; "
		       "try again later";
	default:
		return zc_strerror(err);
	}
}

/* Wait for events on fd until deadline; -ETIMEDOUT past it. */
static int wait_fd(int fd, short events, int64_t deadline_us)
{
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = events };
		int64_t left = deadline_us - bc_now_us();
		int n;

		if (left <= 0)
			return -ETIMEDOUT;
		n = poll(&pfd, 1, (int)((left + 999) / 1000));
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

static int64_t deadline(int timeout_ms)
{
	return bc_now_us() + (int64_t)timeout_ms * 1000;
}

int bn_wait_readable(int fd, int timeout_ms)
{
	return wait_fd(fd, POLLIN, deadline(timeout_ms));
}

int bn_wait_eof(int fd, int timeout_ms)
{
	int64_t end = deadline(timeout_ms);
	char buf[256];

	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		int ret;

		if (n == 0)
			return 0;
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return errno == ECONNRESET ? 0 : -errno;
		if (n < 0) {
			ret = wait_fd(fd, POLLIN, end);
			if (ret)
				return ret;
		}
	}
}

int bn_read_full(int fd, void *buf, size_t len, int timeout_ms)
{
	int64_t end = deadline(timeout_ms);
	size_t got = 0;

	while (got < len) {
		ssize_t n =
			recv(fd, (char *)buf + got, len - got, MSG_DONTWAIT);
		int ret;

		if (n > 0) {
			got += (size_t)n;
			continue;
		}
		if (n == 0)
			return -EPIPE;
		if (errno == ECONNRESET)
			return -EPIPE;
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
		ret = wait_fd(fd, POLLIN, end);
		if (ret)
			return ret;
	}
	return 0;
}

int bn_write_full(int fd, const void *buf, size_t len, int timeout_ms)
{
	int64_t end = deadline(timeout_ms);
	size_t put = 0;

	while (put < len) {
		ssize_t n = send(fd, (const char *)buf + put, len - put,
				 MSG_DONTWAIT | MSG_NOSIGNAL);
		int ret;

		if (n >= 0) {
			put += (size_t)n;
			continue;
		}
		if (errno == ECONNRESET)
			return -EPIPE;
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
		ret = wait_fd(fd, POLLOUT, end);
		if (ret)
			return ret;
	}
	return 0;
}

int bn_msg_send(int fd, const struct zb_msg *msg, int timeout_ms)
{
	uint8_t buf[ZB_MAX_LEN];
	size_t len = zb_encode(msg, buf);

	if (!len)
		return -EINVAL;
	return bn_write_full(fd, buf, len, timeout_ms);
}

int bn_msg_recv(int fd, struct zb_msg *msg, int timeout_ms)
{
	uint8_t buf[ZB_MAX_LEN];
	size_t need;
	int ret;

	ret = bn_read_full(fd, buf, ZB_HDR_LEN, timeout_ms);
	if (ret)
		return ret;
	ret = zb_decode(buf, ZB_HDR_LEN, msg, &need);
	if (ret != -EAGAIN)
		return ret;
	/* The decoder bounds need by ZB_MAX_LEN before asking for more. */
	ret = bn_read_full(fd, buf + ZB_HDR_LEN, need - ZB_HDR_LEN, timeout_ms);
	if (ret)
		return ret;
	return zb_decode(buf, need, msg, &need);
}

int bn_send_go(int fd, int timeout_ms)
{
	struct zb_msg m = { .type = ZB_GO };

	return bn_msg_send(fd, &m, timeout_ms);
}

/* The peer may wait out the streams' connections and its receivers'
 * set-up first, each bounded by the timeout. */
int bn_recv_go(int fd, int timeout_ms)
{
	struct zb_msg m;
	int ret = bn_msg_recv(fd, &m, 2 * timeout_ms + 1000);

	return !ret && m.type != ZB_GO ? -EBADMSG : ret;
}

static int resolve(const char *host, uint16_t port, int family, int type,
		   bool passive, struct addrinfo **out)
{
	struct addrinfo hints = { .ai_family = family,
				  .ai_socktype = type,
				  .ai_flags = passive ? AI_PASSIVE : 0 };
	char serv[8];
	int ret;

	snprintf(serv, sizeof(serv), "%u", port);
	ret = getaddrinfo(host, serv, &hints, out);
	if (ret == EAI_SYSTEM)
		return -errno;
	return ret ? bn_gai_error(ret) : 0;
}

int bn_listen(const char *addr, uint16_t port, int family, int type, int *out)
{
	struct addrinfo *ai;
	int fd, one = 1, ret;

	/* Without an address, listen on IPv6 "any", which takes IPv4 too. */
	if (!addr && family == AF_UNSPEC)
		addr = "::";
	ret = resolve(addr, port, family, type, true, &ai);
	if (ret)
		return ret;
	fd = socket(ai->ai_family, type | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ret = -errno;
		goto out;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) ||
	    (type == SOCK_STREAM && listen(fd, ZB_MAX_STREAMS * 2))) {
		ret = -errno;
		close(fd);
		goto out;
	}
	*out = fd;
out:
	freeaddrinfo(ai);
	return ret;
}

static int connect_addr(const struct sockaddr *sa, socklen_t salen, int type,
			unsigned mss, int timeout_ms, int *out)
{
	socklen_t len = sizeof(int);
	int fd, err = 0, ret;

	fd = socket(sa->sa_family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	ret = type == SOCK_STREAM ? bn_set_mss(fd, mss) : 0;
	if (ret)
		goto fail;
	if (!connect(fd, sa, salen))
		goto done;
	if (errno != EINPROGRESS) {
		ret = -errno;
		goto fail;
	}
	ret = wait_fd(fd, POLLOUT, deadline(timeout_ms));
	if (ret)
		goto fail;
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
	if (err) {
		ret = -err;
		goto fail;
	}
done:
	*out = fd;
	return 0;
fail:
	close(fd);
	return ret;
}

int bn_connect(const char *host, uint16_t port, int family, int type,
	       int timeout_ms, int *out)
{
	struct addrinfo *ai, *p;
	int ret;

	ret = resolve(host, port, family, type, false, &ai);
	if (ret)
		return ret;
	for (p = ai; p; p = p->ai_next) {
		ret = connect_addr(p->ai_addr, p->ai_addrlen, type, 0,
				   timeout_ms, out);
		if (!ret)
			break;
	}
	freeaddrinfo(ai);
	return ret;
}

int bn_accept(int lfd, int timeout_ms, int *out)
{
	int64_t end = deadline(timeout_ms);

	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		int ret;

		if (fd >= 0) {
			*out = fd;
			return 0;
		}
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			return -errno;
		ret = wait_fd(lfd, POLLIN, end);
		if (ret)
			return ret;
	}
}

/*
 * The addresses below are zeroed although getsockname() and getpeername()
 * fill them on success: glibc passes them through a transparent union,
 * which hides that write from clang's analyser (and it does not see an
 * = { 0 } initialiser through the sockaddr_in/in6 casts either).
 */
uint16_t bn_local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	memset(&ss, 0, sizeof(ss));
	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		return 0;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

int bn_peer_host(int fd, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t slen = sizeof(ss);
	char host[NI_MAXHOST], serv[NI_MAXSERV];

	if (getpeername(fd, (struct sockaddr *)&ss, &slen) ||
	    getnameinfo((struct sockaddr *)&ss, slen, host, sizeof(host), serv,
			sizeof(serv), NI_NUMERICHOST | NI_NUMERICSERV)) {
		snprintf(buf, len, "?");
		return -ENOTCONN;
	}
	snprintf(buf, len, "%s port %s", host, serv);
	return 0;
}

int bn_set_mss(int fd, unsigned mss)
{
	int v = (int)mss;

	if (!mss)
		return 0;
	return setsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &v, sizeof(v)) ? -errno
								      : 0;
}

int bn_set_blocking(int fd)
{
	int flags = fcntl(fd, F_GETFL);

	if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK))
		return -errno;
	return 0;
}

int bn_listen_like(int cfd, int type, int *out)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int fd;

	memset(&ss, 0, sizeof(ss));
	if (getsockname(cfd, (struct sockaddr *)&ss, &len))
		return -errno;
	if (ss.ss_family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_port = 0;
	else
		((struct sockaddr_in6 *)&ss)->sin6_port = 0;
	fd = socket(ss.ss_family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&ss, len) ||
	    (type == SOCK_STREAM && listen(fd, ZB_MAX_STREAMS * 2))) {
		int ret = -errno;

		close(fd);
		return ret;
	}
	*out = fd;
	return 0;
}

int bn_connect_like(int cfd, uint16_t port, int type, unsigned mss,
		    int timeout_ms, int *out)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	memset(&ss, 0, sizeof(ss));
	if (getpeername(cfd, (struct sockaddr *)&ss, &len))
		return -errno;
	if (ss.ss_family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(port);
	return connect_addr((struct sockaddr *)&ss, len, type, mss, timeout_ms,
			    out);
}
