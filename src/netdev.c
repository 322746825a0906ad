/* SPDX-License-Identifier: MIT */
/*
 * The netdev generic netlink family through libmnl: bind a dma-buf to an
 * RX queue (bind-rx) or to an interface for transmit (bind-tx).
 *
 * Kernel rules this file relies on (net/core/netdev-genl.c):
 *  - the family is resolved by name through the generic netlink
 *    controller; its commands need CAP_NET_ADMIN (-EPERM);
 *  - bind-rx takes the ifindex, the dma-buf fd and nested queue
 *    attributes (id, type rx); bind-tx the ifindex and the fd; both
 *    answer with the binding's id;
 *  - a binding lives until the netlink socket that made it is closed.
 */
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "compat.h"
#include "dmabuf.h"

struct nl_req {
	struct mnl_socket *nl;
	char *buf;
	unsigned seq;
	uint16_t family;
	uint32_t id; /* answer: family id, or the binding's id */
};

static int family_attr(const struct nlattr *a, void *data)
{
	struct nl_req *r = data;

	if (mnl_attr_get_type(a) == CTRL_ATTR_FAMILY_ID &&
	    !mnl_attr_validate(a, MNL_TYPE_U16))
		r->id = mnl_attr_get_u16(a);
	return MNL_CB_OK;
}

static int bind_attr(const struct nlattr *a, void *data)
{
	struct nl_req *r = data;

	if (mnl_attr_get_type(a) == ZC_NETDEV_A_DMABUF_ID &&
	    !mnl_attr_validate(a, MNL_TYPE_U32))
		r->id = mnl_attr_get_u32(a);
	return MNL_CB_OK;
}

static int family_cb(const struct nlmsghdr *nlh, void *data)
{
	return mnl_attr_parse(nlh, sizeof(struct genlmsghdr), family_attr,
			      data);
}

static int bind_cb(const struct nlmsghdr *nlh, void *data)
{
	return mnl_attr_parse(nlh, sizeof(struct genlmsghdr), bind_attr, data);
}

static struct nlmsghdr *msg_start(struct nl_req *r, uint16_t type, uint8_t cmd)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(r->buf);
	struct genlmsghdr *g;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = ++r->seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = cmd;
	g->version = 1;
	return nlh;
}

/* Send and read answers until the ack; the kernel's error as -errno. */
static int msg_run(struct nl_req *r, struct nlmsghdr *nlh, mnl_cb_t cb)
{
	unsigned port = mnl_socket_get_portid(r->nl);
	int ret;

	if (mnl_socket_sendto(r->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(r->nl, r->buf,
						MNL_SOCKET_BUFFER_SIZE);

		if (n < 0)
			return -errno;
		ret = mnl_cb_run(r->buf, (size_t)n, nlh->nlmsg_seq, port, cb,
				 r);
		if (ret == MNL_CB_ERROR)
			return -errno;
		if (ret == MNL_CB_STOP)
			return 0;
	}
}

static int nl_open(struct nl_req *r)
{
	struct nlmsghdr *nlh;
	int ret;

	*r = (struct nl_req){ .seq = (unsigned)time(NULL) };
	r->buf = malloc(MNL_SOCKET_BUFFER_SIZE);
	if (!r->buf)
		return -ENOMEM;
	r->nl = mnl_socket_open2(NETLINK_GENERIC, SOCK_CLOEXEC);
	if (!r->nl || mnl_socket_bind(r->nl, 0, MNL_SOCKET_AUTOPID) < 0)
		return -errno;
	nlh = msg_start(r, GENL_ID_CTRL, CTRL_CMD_GETFAMILY);
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, ZC_NETDEV_FAMILY_NAME);
	ret = msg_run(r, nlh, family_cb);
	/* No such family: a kernel without netdev netlink (before 6.5). */
	if (ret == -ENOENT || (!ret && !r->id))
		return -EOPNOTSUPP;
	r->family = (uint16_t)r->id;
	r->id = 0;
	return ret;
}

static void nl_done(struct nl_req *r, int ret, struct zc_netdev_bind *b)
{
	free(r->buf);
	if (ret) {
		if (r->nl)
			mnl_socket_close(r->nl);
		return;
	}
	b->nl = r->nl;
	b->id = r->id;
}

int zc_netdev_bind_rx(unsigned ifindex, unsigned queue, int dmabuf_fd,
		      struct zc_netdev_bind *b)
{
	struct nl_req r;
	int ret = nl_open(&r);

	if (!ret) {
		struct nlmsghdr *nlh =
			msg_start(&r, r.family, ZC_NETDEV_CMD_BIND_RX);
		struct nlattr *q;

		mnl_attr_put_u32(nlh, ZC_NETDEV_A_DMABUF_IFINDEX, ifindex);
		mnl_attr_put_u32(nlh, ZC_NETDEV_A_DMABUF_FD,
				 (uint32_t)dmabuf_fd);
		q = mnl_attr_nest_start(nlh, ZC_NETDEV_A_DMABUF_QUEUES);
		mnl_attr_put_u32(nlh, ZC_NETDEV_A_QUEUE_ID, queue);
		mnl_attr_put_u32(nlh, ZC_NETDEV_A_QUEUE_TYPE,
				 ZC_NETDEV_QUEUE_TYPE_RX);
		mnl_attr_nest_end(nlh, q);
		ret = msg_run(&r, nlh, bind_cb);
	}
	nl_done(&r, ret, b);
	return ret;
}

int zc_netdev_bind_tx(unsigned ifindex, int dmabuf_fd, struct zc_netdev_bind *b)
{
	struct nl_req r;
	int ret = nl_open(&r);

	if (!ret) {
		struct nlmsghdr *nlh =
			msg_start(&r, r.family, ZC_NETDEV_CMD_BIND_TX);

		mnl_attr_put_u32(nlh, ZC_NETDEV_A_DMABUF_IFINDEX, ifindex);
		mnl_attr_put_u32(nlh, ZC_NETDEV_A_DMABUF_FD,
				 (uint32_t)dmabuf_fd);
		ret = msg_run(&r, nlh, bind_cb);
	}
	nl_done(&r, ret, b);
	return ret;
}

void zc_netdev_unbind(struct zc_netdev_bind *b)
{
	if (b->nl)
		mnl_socket_close(b->nl);
	*b = (struct zc_netdev_bind){ 0 };
}
