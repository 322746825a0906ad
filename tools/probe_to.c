/* SPDX-License-Identifier: MIT */
/*
 * zcopy probe --to HOST[:PORT]: zero-copy over the route the kernel really
 * uses to HOST.  A few MSG_ZEROCOPY and io_uring SEND_ZC messages go over
 * a data stream of a `zcopy bench server` (its protocol: RUN, READY, the
 * cookie, DONE, its report of what it received), or as datagrams to any
 * UDP sink the user names (--udp-sink); the kernel's own notifications
 * say whether it sent them from our pages or copied them.  The outgoing
 * interface is the kernel's route to the peer (RTM_GETROUTE), its driver
 * what the ethtool ioctl says (else the device's driver in sysfs).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <libgen.h>
#include <linux/ethtool.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"
#include "probe.h"

#define TO_SENDS 16
#define TO_TCP_LEN 65536
#define TO_UDP_LEN 16384
#define TO_RUN_MS 5000 /* the server's limit for one probe run */
#define NL_BUF 4096

/* ---- the route ------------------------------------------------------------ */

static size_t addr_len(const struct sockaddr_storage *ss, const void **bytes)
{
	if (ss->ss_family == AF_INET6) {
		*bytes = &((const struct sockaddr_in6 *)ss)->sin6_addr;
		return 16;
	}
	*bytes = &((const struct sockaddr_in *)ss)->sin_addr;
	return 4;
}

static int nl_ask(int nl, const struct sockaddr_storage *dst)
{
	struct {
		struct nlmsghdr nh;
		struct rtmsg rt;
		char attrs[64];
	} req;
	const void *bytes;
	size_t len = addr_len(dst, &bytes);
	struct rtattr *rta;

	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(req.rt));
	req.nh.nlmsg_type = RTM_GETROUTE;
	req.nh.nlmsg_flags = NLM_F_REQUEST;
	req.rt.rtm_family = (unsigned char)dst->ss_family;
	req.rt.rtm_dst_len = (unsigned char)(len * 8);
	rta = (struct rtattr *)((char *)&req + NLMSG_ALIGN(req.nh.nlmsg_len));
	rta->rta_type = RTA_DST;
	rta->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(rta), bytes, len);
	req.nh.nlmsg_len =
		NLMSG_ALIGN(req.nh.nlmsg_len) + RTA_ALIGN(rta->rta_len);
	return send(nl, &req, req.nh.nlmsg_len, 0) < 0 ? -errno : 0;
}

/* The index of the interface in the kernel's answer, or -errno. */
static int nl_oif(const char *buf, ssize_t n)
{
	for (const struct nlmsghdr *nh = (const void *)buf; NLMSG_OK(nh, n);
	     nh = NLMSG_NEXT(nh, n)) {
		const struct rtmsg *rt = NLMSG_DATA(nh);
		int len = (int)RTM_PAYLOAD(nh);

		if (nh->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = NLMSG_DATA(nh);

			return e->error ? e->error : -ENOENT;
		}
		if (nh->nlmsg_type != RTM_NEWROUTE)
			continue;
		for (const struct rtattr *a = RTM_RTA(rt); RTA_OK(a, len);
		     a = RTA_NEXT(a, len)) {
			int oif;

			if (a->rta_type != RTA_OIF)
				continue;
			memcpy(&oif, RTA_DATA(a), sizeof(oif));
			return oif;
		}
	}
	return -ENOENT;
}

/* The interface the kernel routes dst through.  0 or -errno. */
static int route_ifname(const struct sockaddr_storage *dst, char *ifname)
{
	char buf[NL_BUF];
	ssize_t n;
	int nl, ret;

	nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (nl < 0)
		return -errno;
	ret = nl_ask(nl, dst);
	if (!ret) {
		n = recv(nl, buf, sizeof(buf), 0);
		ret = n < 0 ? -errno : nl_oif(buf, n);
	}
	close(nl);
	if (ret < 0)
		return ret;
	return if_indextoname((unsigned)ret, ifname) ? 0 : -errno;
}

/* The driver of ifname: the ethtool ioctl's answer (veth, virtio_net,
 * mlx5_core...), else the device's driver in sysfs; "" if it has none
 * (loopback). */
static void iface_driver(const char *ifname, char *buf, size_t len)
{
	struct ethtool_drvinfo di = { .cmd = ETHTOOL_GDRVINFO };
	struct ifreq ifr = { .ifr_data = (void *)&di };
	char path[128], link[256];
	ssize_t n;
	int fd;

	buf[0] = '\0';
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && !ioctl(fd, SIOCETHTOOL, &ifr) && di.driver[0]) {
		size_t dl = strnlen(di.driver, sizeof(di.driver));

		if (dl >= len)
			dl = len - 1;
		memcpy(buf, di.driver, dl);
		buf[dl] = '\0';
		close(fd);
		return;
	}
	if (fd >= 0)
		close(fd);
	snprintf(path, sizeof(path), "/sys/class/net/%s/device/driver", ifname);
	n = readlink(path, link, sizeof(link) - 1);
	if (n > 0) {
		link[n] = '\0';
		snprintf(buf, len, "%s", basename(link));
	}
}

static void sockaddr_str(const struct sockaddr_storage *ss, char *buf,
			 size_t len)
{
	if (getnameinfo((const struct sockaddr *)ss, sizeof(*ss), buf,
			(socklen_t)len, NULL, 0, NI_NUMERICHOST))
		snprintf(buf, len, "?");
}

/* Where a connected socket's traffic goes: its peer, its source address,
 * the interface of the route and that interface's driver. */
static void route_of(int fd, struct probe_to *to)
{
	struct sockaddr_storage peer, self;
	socklen_t plen = sizeof(peer), slen = sizeof(self);

	memset(&peer, 0, sizeof(peer));
	memset(&self, 0, sizeof(self));
	if (getpeername(fd, (struct sockaddr *)&peer, &plen) ||
	    getsockname(fd, (struct sockaddr *)&self, &slen)) {
		to->route_err = errno;
		return;
	}
	sockaddr_str(&peer, to->address, sizeof(to->address));
	sockaddr_str(&self, to->source, sizeof(to->source));
	to->route_err = -route_ifname(&peer, to->ifname);
	if (!to->route_err)
		iface_driver(to->ifname, to->driver, sizeof(to->driver));
}

/* ---- the mechanisms on one connected socket -------------------------------- */

static void mechanism(int fd, int kind, bool udp, size_t len,
		      struct probe_result *r)
{
	r->err = -bn_set_blocking(fd);
	if (r->err)
		return;
	if (udp)
		len = probe_udp_len(fd, len);
	if (kind == PROBE_TO_URING)
		probe_uring_send_zc_on(fd, len, TO_SENDS, r);
	else
		probe_msgzc_on(fd, len, TO_SENDS, r);
}

static const char *const kind_names[][2] = {
	[PROBE_TO_MSGZC] = { "msgzc-tcp", "msgzc-udp" },
	[PROBE_TO_URING] = { "uring-send-zc", "uring-send-zc-udp" },
};

static void result_init(struct probe_result *r, const struct probe_to *to,
			int kind, bool udp)
{
	*r = (struct probe_result){ .name = kind_names[kind][udp],
				    .path = to->ifname[0] ? to->ifname : "?",
				    .unit = "reports" };
}

/* ---- a zcopy bench server ------------------------------------------------- */

/* RUN -> READY: the port (and cookie) of a data stream. */
static int bench_start(int cfd, bool udp, size_t len, struct zb_ready *ready,
		       int timeout_ms)
{
	struct zb_msg m = { .type = ZB_RUN };
	int ret;

	m.run = (struct zb_run){ .proto = udp ? ZB_UDP : ZB_TCP,
				 .tx = ZC_TX_MSGZC,
				 .rx = ZC_RX_COPY,
				 .streams = 1,
				 .msg_size = (uint32_t)len,
				 .duration_ms = TO_RUN_MS };
	ret = bn_msg_send(cfd, &m, timeout_ms);
	if (!ret || ret == -EPIPE)
		ret = bn_msg_recv(cfd, &m, timeout_ms);
	if (!ret && m.type == ZB_BUSY)
		return -EBUSY;
	if (!ret && m.type == ZB_ERROR)
		return -m.error;
	if (!ret && m.type != ZB_READY)
		return -EBADMSG;
	if (!ret)
		*ready = m.ready;
	return ret;
}

/* DONE -> STREAM, RESULT: what the server received. */
static int bench_finish(int cfd, uint64_t *received, int timeout_ms)
{
	struct zb_msg m = { .type = ZB_DONE };
	int ret = bn_msg_send(cfd, &m, timeout_ms);

	if (!ret)
		ret = bn_msg_recv(cfd, &m, 2 * TO_RUN_MS);
	if (!ret && m.type != ZB_STREAM)
		ret = -EBADMSG;
	if (ret)
		return ret;
	*received = m.stream.side.bytes;
	ret = bn_msg_recv(cfd, &m, timeout_ms);
	return !ret && m.type != ZB_RESULT ? -EBADMSG : ret;
}

/* One mechanism over one data stream of the server.  Returns a negative
 * errno when the session cannot go on; the mechanism's own errors are in
 * r. */
static int bench_mechanism(int cfd, struct probe_to *to, int kind, bool udp,
			   int timeout_ms, struct probe_result *r)
{
	size_t len = udp ? TO_UDP_LEN : TO_TCP_LEN;
	uint64_t received = 0;
	struct zb_ready ready = { 0 };
	int fd = -1, ret, gret;

	ret = bench_start(cfd, udp, len, &ready, timeout_ms);
	if (ret == -EOPNOTSUPP || ret == -EPROTONOSUPPORT) {
		result_init(r, to, kind, udp);
		r->err = -ret;
		return 0;
	}
	if (ret)
		return ret;
	ret = bn_connect_like(cfd, ready.ports[0],
			      udp ? SOCK_DGRAM : SOCK_STREAM, 0, timeout_ms,
			      &fd);
	if (!ret) {
		ret = bn_write_full(fd, &ready.cookie, sizeof(ready.cookie),
				    timeout_ms);
		if (!to->ifname[0])
			route_of(fd, to);
		result_init(r, to, kind, udp);
	}
	/* The server says GO once its receiver waits (or it gave up on the
	 * stream); without GO the session cannot go on. */
	gret = bn_recv_go(cfd, timeout_ms);
	if (!ret && !gret)
		mechanism(fd, kind, udp, len, r);
	if (fd >= 0)
		close(fd);
	if (gret)
		return gret;
	if (ret) {
		result_init(r, to, kind, udp);
		r->err = -ret;
	}
	/* The server reports after DONE whatever happened on the data. */
	ret = bench_finish(cfd, &received, timeout_ms);
	if (!ret)
		snprintf(r->detail + strlen(r->detail),
			 sizeof(r->detail) - strlen(r->detail),
			 "; the server received %llu bytes",
			 (unsigned long long)received);
	return ret;
}

static int probe_bench_server(struct probe_to *to, int timeout_ms,
			      struct probe_report *rep)
{
	static const struct {
		int kind;
		bool udp;
	} runs[] = { { PROBE_TO_MSGZC, false },
		     { PROBE_TO_MSGZC, true },
		     { PROBE_TO_URING, false } };
	struct zb_msg bye = { .type = ZB_BYE };
	int cfd, ret = 0;

	ret = bn_connect(to->host, to->port, AF_UNSPEC, SOCK_STREAM, timeout_ms,
			 &cfd);
	if (ret) {
		fprintf(stderr,
			"zcopy probe: cannot connect to %s port %u: %s\n",
			to->host, to->port, bn_strerror(ret));
		return ret;
	}
	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]) && !ret; i++)
		ret = bench_mechanism(cfd, to, runs[i].kind, runs[i].udp,
				      timeout_ms, &rep->res[rep->nres++]);
	if (!ret && !bn_msg_send(cfd, &bye, timeout_ms))
		bn_wait_eof(cfd, timeout_ms);
	if (ret)
		fprintf(stderr, "zcopy probe: %s port %u: %s\n", to->host,
			to->port, bn_strerror(ret));
	close(cfd);
	return ret;
}

/* ---- any UDP sink ----------------------------------------------------------- */

static int probe_udp_sink(struct probe_to *to, int timeout_ms,
			  struct probe_report *rep)
{
	for (int kind = PROBE_TO_MSGZC; kind <= PROBE_TO_URING; kind++) {
		struct probe_result *r = &rep->res[rep->nres++];
		int fd, ret;

		ret = bn_connect(to->host, to->port, AF_UNSPEC, SOCK_DGRAM,
				 timeout_ms, &fd);
		if (ret) {
			fprintf(stderr, "zcopy probe: %s port %u: %s\n",
				to->host, to->port, bn_strerror(ret));
			return ret;
		}
		if (!to->ifname[0])
			route_of(fd, to);
		result_init(r, to, kind, true);
		mechanism(fd, kind, true, TO_UDP_LEN, r);
		close(fd);
	}
	return 0;
}

int probe_to_run(struct probe_to *to, int timeout_ms, struct probe_report *rep)
{
	int first = rep->nres, ret;

	ret = to->udp_sink ? probe_udp_sink(to, timeout_ms, rep)
			   : probe_bench_server(to, timeout_ms, rep);
	for (int i = first; i < rep->nres; i++)
		probe_result_done(&rep->res[i]);
	return ret;
}

int probe_to_parse(const char *arg, struct probe_to *to)
{
	const char *colon = strrchr(arg, ':');
	const char *host = arg;
	size_t hlen = strlen(arg);
	uint64_t port = to->port;

	/* "[v6]:port", "[v6]", "v4-or-name:port", "name", or a bare IPv6
	 * address (several colons, no port). */
	if (arg[0] == '[') {
		const char *close_br = strchr(arg, ']');

		if (!close_br || (close_br[1] && close_br[1] != ':'))
			return -EINVAL;
		host = arg + 1;
		hlen = (size_t)(close_br - host);
		colon = close_br[1] ? close_br + 1 : NULL;
	} else if (colon && strchr(arg, ':') != colon) {
		colon = NULL;
	} else if (colon) {
		hlen = (size_t)(colon - arg);
	}
	if (!hlen || hlen >= sizeof(to->hostbuf))
		return -EINVAL;
	if (colon && (!colon[1] ||
		      strspn(colon + 1, "0123456789") != strlen(colon + 1) ||
		      bc_parse_size(colon + 1, 1, 65535, &port)))
		return -ERANGE;
	memcpy(to->hostbuf, host, hlen);
	to->hostbuf[hlen] = '\0';
	to->host = to->hostbuf;
	to->port = (uint16_t)port;
	return 0;
}
