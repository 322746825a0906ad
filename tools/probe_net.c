/* SPDX-License-Identifier: MIT */
/* zcopy probe: paths (loopback, veth between two namespaces), connected
 * pairs on them. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "probe.h"

#define VETH_MTU 4148 /* 4096 payload + IPv4, TCP and timestamp headers */

int probe_ns_enter(const struct probe_path *path, int side, int *saved)
{
	*saved = -1;
	if (path->ns_fd[side] < 0)
		return 0;
	*saved = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (*saved < 0)
		return -errno;
	if (setns(path->ns_fd[side], CLONE_NEWNET)) {
		int err = -errno;

		close(*saved);
		*saved = -1;
		return err;
	}
	return 0;
}

void probe_ns_leave(int saved)
{
	if (saved < 0)
		return;
	/* Cannot fail for our own namespace, which the fd keeps alive. */
	setns(saved, CLONE_NEWNET);
	close(saved);
}

/* A socket in one side's namespace, with TCP_MAXSEG set if mss > 0. */
static int side_socket(const struct probe_path *path, int side, int type,
		       int mss)
{
	int saved, fd;
	int err = probe_ns_enter(path, side, &saved);

	if (err)
		return err;
	fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
	err = fd < 0 ? -errno : 0;
	probe_ns_leave(saved);
	if (err)
		return err;
	if (mss > 0 &&
	    setsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &mss, sizeof(mss))) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

static int pair_connect(int l, int type, int fd[2])
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);

	if (getsockname(l, (struct sockaddr *)&a, &len))
		return -errno;
	if (type == SOCK_STREAM && listen(l, 1))
		return -errno;
	if (connect(fd[0], (struct sockaddr *)&a, sizeof(a)))
		return -errno;
	if (type == SOCK_DGRAM) {
		fd[1] = l;
		return 0;
	}
	fd[1] = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	close(l);
	return fd[1] < 0 ? -errno : 0;
}

int probe_pair(const struct probe_path *path, int type, int mss, int fd[2])
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr = path->addr };
	int l, ret;

	fd[0] = fd[1] = -1;
	l = side_socket(path, 1, type, mss);
	if (l < 0)
		return l;
	if (bind(l, (struct sockaddr *)&a, sizeof(a))) {
		ret = -errno;
		goto err;
	}
	fd[0] = side_socket(path, 0, type, mss);
	if (fd[0] < 0) {
		ret = fd[0];
		goto err;
	}
	ret = pair_connect(l, type, fd);
	if (!ret)
		return 0;
	if (fd[1] == l)
		l = -1;
err:
	if (l >= 0 && l != fd[1])
		close(l);
	probe_pair_close(fd);
	return ret;
}

/* Fragments of a datagram delivered on this host keep the send's
 * completion until the receiving CPU frees them, which Linux 6.18 may put
 * off until that CPU next handles network traffic: a probe that sends
 * fragments can wait for its last completion for ever. */
size_t probe_udp_len(int fd, size_t max)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len = sizeof(ss);
	int mtu, v6, hdr;

	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		return max;
	v6 = ss.ss_family == AF_INET6;
	hdr = (v6 ? 40 : 20) + 8;
	len = sizeof(mtu);
	if (getsockopt(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP,
		       v6 ? IPV6_MTU : IP_MTU, &mtu, &len) ||
	    mtu <= hdr)
		return max;
	return (size_t)(mtu - hdr) < max ? (size_t)(mtu - hdr) : max;
}

void probe_pair_close(int fd[2])
{
	for (int i = 0; i < 2; i++) {
		if (fd[i] >= 0)
			close(fd[i]);
		fd[i] = -1;
	}
}

void probe_result_init(struct probe_result *r, const char *name,
		       const struct probe_path *path)
{
	*r = (struct probe_result){ .name = name,
				    .path = path->name,
				    .unit = "reports" };
}

void probe_verdict(struct probe_result *r)
{
	if (r->err || (!r->zerocopy && !r->copied))
		r->result = NULL;
	else if (!r->copied)
		r->result = "zerocopy";
	else if (!r->zerocopy)
		r->result = "copied";
	else
		r->result = "mixed";
}

/* ---- the veth path ----------------------------------------------------- */

/* Run ip(8) with ARGV, a NULL-terminated list starting with "ip", in the
 * network namespace NSFD (-1: ours); 0 if it exited 0.  An array, not
 * varargs: a bare NULL sentinel in a variadic call is not portable (it may
 * be an int 0).  setns() rather than `ip -n`, which also needs / to be a
 * mount point (not so in a chroot). */
static int run_ip_argv(int nsfd, const char *const *argv)
{
	int status;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid) {
		if (nsfd >= 0 && setns(nsfd, CLONE_NEWNET))
			_exit(126);
		execvp("ip", (char *const *)argv);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	return WIFEXITED(status) && !WEXITSTATUS(status) ? 0 : -EIO;
}

#define run_ip_in(nsfd, ...) \
	run_ip_argv(nsfd, (const char *const[]){ "ip", __VA_ARGS__, NULL })
#define run_ip(...) run_ip_in(-1, __VA_ARGS__)

static char veth_ns[2][32], veth_if[2][16];

static int veth_links(const struct probe_path *path)
{
	static const char *const addr[2] = { "10.201.0.1/24", "10.201.0.2/24" };
	char mtu[16];
	int ret;

	snprintf(mtu, sizeof(mtu), "%d", VETH_MTU);
	ret = run_ip("link", "add", veth_if[0], "netns", veth_ns[0], "type",
		     "veth", "peer", "name", veth_if[1], "netns", veth_ns[1]);
	for (int i = 0; i < 2 && !ret; i++) {
		ret = run_ip_in(path->ns_fd[i], "addr", "add", addr[i], "dev",
				veth_if[i]);
		if (!ret)
			ret = run_ip_in(path->ns_fd[i], "link", "set",
					veth_if[i], "mtu", mtu, "up");
	}
	return ret;
}

static int veth_open_ns(struct probe_path *path)
{
	for (int i = 0; i < 2; i++) {
		char file[96];

		snprintf(file, sizeof(file), "/run/netns/%s", veth_ns[i]);
		path->ns_fd[i] = open(file, O_RDONLY | O_CLOEXEC);
		if (path->ns_fd[i] < 0)
			return -errno;
	}
	return 0;
}

int probe_veth_setup(struct probe_path *path)
{
	int ret = 0;

	for (int i = 0; i < 2; i++) {
		snprintf(veth_ns[i], sizeof(veth_ns[i]), "zcopy-probe-%d-%c",
			 (int)getpid(), 'a' + i);
		snprintf(veth_if[i], sizeof(veth_if[i]), "zcp%d%c",
			 (int)getpid(), 'a' + i);
	}
	*path = (struct probe_path){ .name = "veth",
				     .ifname = veth_if[1],
				     .ns_fd = { -1, -1 },
				     .mtu = VETH_MTU };
	inet_pton(AF_INET, "10.201.0.2", &path->addr);
	for (int i = 0; i < 2 && !ret; i++)
		ret = run_ip("netns", "add", veth_ns[i]);
	if (!ret)
		ret = veth_open_ns(path);
	if (!ret)
		ret = veth_links(path);
	if (ret)
		probe_veth_teardown(path);
	return ret;
}

void probe_veth_teardown(struct probe_path *path)
{
	for (int i = 0; i < 2; i++) {
		if (path->ns_fd[i] >= 0)
			close(path->ns_fd[i]);
		path->ns_fd[i] = -1;
		/* Deleting a namespace deletes its end of the veth pair. */
		if (veth_ns[i][0])
			run_ip("netns", "delete", veth_ns[i]);
		veth_ns[i][0] = '\0';
	}
}
