/* SPDX-License-Identifier: MIT */
/*
 * Transport "msgzc": SO_ZEROCOPY + MSG_ZEROCOPY for TCP, UDP and UDP GSO.
 *
 * Kernel rules this file relies on:
 *  - every sendmsg(MSG_ZEROCOPY) that returns > 0 consumed exactly one
 *    completion id (a partial TCP send too); a failed one consumed none;
 *  - without SO_ZEROCOPY the flag is ignored: data is copied and no
 *    notification ever comes, so init must succeed before we use it;
 *  - ENOBUFS/ENOMEM mean optmem_max or RLIMIT_MEMLOCK ran out: nothing of
 *    that call was sent, so the bytes can go by copy instead;
 *  - notifications are ranges [ee_info, ee_data] on the error queue, may
 *    coalesce many sends and arrive out of order.
 */
#include <errno.h>
#include <time.h> /* before errqueue.h, which needs timespec */
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "transport.h"

static int msgzc_init(struct zc_tsock *sock)
{
	int one = 1;

	if (setsockopt(sock->fd, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof(one)))
		return -errno;
	return 0;
}

int zc_msgzc_push(struct zc_tsock *sock, struct zc_req *req,
		  zc_msgzc_send_fn send, bool copy_ok)
{
	int flags = MSG_ZEROCOPY | MSG_NOSIGNAL;

	if (sock->nonblock)
		flags |= MSG_DONTWAIT;
	while (zc_req_left(req)) {
		uint32_t id;
		ssize_t n;

		/* The kernel issues the id, so we must have room first; the
		 * completions that make room wake the context. */
		if (zc_tracker_full(&sock->ids))
			return -EAGAIN;
		n = send ? send(sock, req, flags)
			 : zc_req_sendmsg(sock, req, flags);
		if (n > 0) {
			zc_tracker_issue(&sock->ids, req, &id);
			zc_ubuf_get(&req->ubuf);
			req->sent += (size_t)n;
			continue;
		}
		if (n == 0 || errno == EAGAIN)
			return -EAGAIN;
		if (copy_ok && (errno == ENOBUFS || errno == ENOMEM))
			return zc_req_fall_back(req);
		if (errno != EINTR)
			return -errno;
	}
	return 0;
}

static void msgzc_handle(struct zc_tsock *sock,
			 const struct sock_extended_err *ee)
{
	int ret;

	if (ee->ee_origin != SO_EE_ORIGIN_ZEROCOPY) {
		if (ee->ee_errno)
			zc_tsock_error(sock, -(int)ee->ee_errno);
		return;
	}
	ret = zc_tracker_complete(&sock->ids, ee->ee_info, ee->ee_data,
				  ee->ee_code & SO_EE_CODE_ZEROCOPY_COPIED,
				  zc_req_id_done, sock);
	if (ret < 0)
		sock->stats.bad_notifications++;
}

static bool msgzc_is_recverr(const struct cmsghdr *cm)
{
	return (cm->cmsg_level == SOL_IP && cm->cmsg_type == IP_RECVERR) ||
	       (cm->cmsg_level == SOL_IPV6 && cm->cmsg_type == IPV6_RECVERR);
}

static int msgzc_push(struct zc_tsock *sock, struct zc_req *req)
{
	return zc_msgzc_push(sock, req, NULL, true);
}

void zc_msgzc_reap(struct zc_tsock *sock)
{
	char ctrl[CMSG_SPACE(sizeof(struct sock_extended_err) +
			     sizeof(struct sockaddr_in6))];
	for (;;) {
		struct msghdr msg = { .msg_control = ctrl,
				      .msg_controllen = sizeof(ctrl) };
		struct cmsghdr *cm;

		if (recvmsg(sock->fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm))
			if (msgzc_is_recverr(cm))
				msgzc_handle(sock, (const void *)CMSG_DATA(cm));
	}
}

const struct zc_tx_ops zc_tx_msgzc = {
	.name = "msgzc",
	.mode = ZC_TX_MSGZC,
	.init = msgzc_init,
	.push = msgzc_push,
	.reap = zc_msgzc_reap,
};
