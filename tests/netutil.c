/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "netutil.h"

#define NU_RX_TIMEOUT_S 20
#define NU_SEND_DEADLINE_MS 30000

static int loopback(int family, struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_addr = in6addr_loopback;
		*len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		*len = sizeof(*s4);
	}
	return 0;
}

static void rx_timeout(int fd)
{
	struct timeval tv = { .tv_sec = NU_RX_TIMEOUT_S };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

/* A socket of the pair, in namespace ns (NULL: the caller's), with the
 * MSS set if asked. */
static int pair_socket(const struct nu_pair_opts *o, const char *ns)
{
	int fd, err;

	if (ns && nu_netns_enter(ns))
		return -1;
	fd = socket(o->family, o->type | SOCK_CLOEXEC, 0);
	if (fd >= 0 && o->mss &&
	    setsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &o->mss, sizeof(o->mss))) {
		err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

static int pair_connect(const struct nu_pair_opts *o, int *snd, int *rcv)
{
	struct sockaddr_storage ss;
	int big = 8 << 20, r, s = -1, err;
	socklen_t len;

	loopback(o->family, &ss, &len);
	if (o->ns)
		inet_pton(AF_INET, o->ns->addr_a,
			  &((struct sockaddr_in *)&ss)->sin_addr);
	r = pair_socket(o, o->ns ? o->ns->a : NULL);
	if (r < 0)
		return -errno;
	if (o->type == SOCK_DGRAM)
		setsockopt(r, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
	/* An accepted socket inherits the listener's buffers in time for
	 * the window it announces in the handshake. */
	if (o->rcvbuf)
		setsockopt(r, SOL_SOCKET, SO_RCVBUF, &o->rcvbuf,
			   sizeof(o->rcvbuf));
	if (bind(r, (struct sockaddr *)&ss, len) ||
	    (o->type == SOCK_STREAM && listen(r, 4)) ||
	    getsockname(r, (struct sockaddr *)&ss, &len))
		goto err;
	s = pair_socket(o, o->ns ? o->ns->b : NULL);
	if (s >= 0 && o->sndbuf)
		setsockopt(s, SOL_SOCKET, SO_SNDBUF, &o->sndbuf,
			   sizeof(o->sndbuf));
	if (s < 0 || connect(s, (struct sockaddr *)&ss, len))
		goto err;
	if (o->type == SOCK_STREAM) {
		int a = accept4(r, NULL, NULL, SOCK_CLOEXEC);

		if (a < 0)
			goto err;
		close(r);
		r = a;
	}
	rx_timeout(r);
	*snd = s;
	*rcv = r;
	return 0;
err:
	err = -errno;
	close(r);
	if (s >= 0)
		close(s);
	return err;
}

int nu_pair(const struct nu_pair_opts *opts, int *snd, int *rcv)
{
	struct nu_pair_opts o = *opts;
	int self = -1, ret;

	if (!o.family)
		o.family = AF_INET;
	if (!o.type)
		o.type = SOCK_STREAM;
	if (o.ns && o.family != AF_INET)
		return -EAFNOSUPPORT;
	if (o.ns) {
		self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
		if (self < 0)
			return -errno;
	}
	ret = pair_connect(&o, snd, rcv);
	if (self >= 0) {
		if (setns(self, CLONE_NEWNET) && !ret) {
			ret = -errno;
			close(*snd);
			close(*rcv);
		}
		close(self);
	}
	return ret;
}

int nu_tcp_pair(int family, int *snd, int *rcv)
{
	struct nu_pair_opts o = { .family = family, .type = SOCK_STREAM };

	return nu_pair(&o, snd, rcv);
}

int nu_udp_pair(int family, int *snd, int *rcv)
{
	struct nu_pair_opts o = { .family = family, .type = SOCK_DGRAM };

	return nu_pair(&o, snd, rcv);
}

int nu_notsent(int fd)
{
	int n;

	return ioctl(fd, SIOCOUTQNSD, &n) ? -errno : n;
}

int nu_set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fcntl(fd, F_SETFL, fl | O_NONBLOCK) ? -errno : 0;
}

int nu_sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	/* The test bed drives ip, nft, ss and sysctl: a shell is the point.
	 * Commands come from the tests themselves, never from outside. */
	st = system(cmd); /* NOLINT(cert-env33-c) */
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static int netns_usable(void)
{
	if (geteuid() != 0) {
		printf("skip: network namespaces need root\n");
		return NU_SKIP;
	}
	if (nu_sh("command -v ip >/dev/null")) {
		printf("skip: ip (iproute2) not installed\n");
		return NU_SKIP;
	}
	return 0;
}

static unsigned netns_seq;

int nu_netns_create_one(char *name, size_t len)
{
	int ret = netns_usable();

	if (ret)
		return ret;
	snprintf(name, len, "zc%d_%u", getpid(), netns_seq++);
	if (nu_sh("ip netns add %s", name)) {
		printf("skip: cannot add network namespace %s\n", name);
		return NU_SKIP;
	}
	if (nu_sh(NU_IN_NS "ip link set lo up", name)) {
		printf("skip: cannot enter network namespace %s\n", name);
		nu_netns_delete(name);
		return NU_SKIP;
	}
	return 0;
}

void nu_netns_delete(const char *name)
{
	nu_sh("ip netns del %s 2>/dev/null", name);
}

int nu_netns_create(struct nu_netns *ns, unsigned mtu)
{
	unsigned id = (unsigned)getpid() % 250 + 1;
	int ret;

	memset(ns, 0, sizeof(*ns));
	ret = nu_netns_create_one(ns->a, sizeof(ns->a));
	if (ret)
		return ret;
	ret = nu_netns_create_one(ns->b, sizeof(ns->b));
	if (ret) {
		nu_netns_delete(ns->a);
		return ret;
	}
	snprintf(ns->addr_a, sizeof(ns->addr_a), "10.231.%u.1", id);
	snprintf(ns->addr_b, sizeof(ns->addr_b), "10.231.%u.2", id);
	if (nu_sh("ip link add va%d netns %s type veth peer name vb%d netns %s"
		  " && " NU_IN_NS "ip addr add %s/24 dev va%d"
		  " && " NU_IN_NS "ip addr add %s/24 dev vb%d"
		  " && " NU_IN_NS "ip link set va%d mtu %u up"
		  " && " NU_IN_NS "ip link set vb%d mtu %u up",
		  getpid(), ns->a, getpid(), ns->b, ns->a, ns->addr_a, getpid(),
		  ns->b, ns->addr_b, getpid(), ns->a, getpid(), mtu, ns->b,
		  getpid(), mtu)) {
		printf("skip: cannot join %s and %s by veth\n", ns->a, ns->b);
		nu_netns_destroy(ns);
		return NU_SKIP;
	}
	return 0;
}

void nu_netns_destroy(struct nu_netns *ns)
{
	/* Deleting a namespace removes its end of the veth, and the peer. */
	nu_netns_delete(ns->a);
	nu_netns_delete(ns->b);
}

int nu_fork_run(int (*fn)(void *arg), void *arg, unsigned timeout_s)
{
	pid_t pid;
	int st;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return 128;
	if (!pid) {
		/* A hung child must not hang the test. */
		/* A crash ends the child: a test framework's handlers (cmocka
		 * catches SIGSEGV and goes on with the next test) must not
		 * run the parent's remaining tests in it. */
		static const int fatal[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE,
					     SIGABRT };

		for (unsigned i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
			signal(fatal[i], SIG_DFL);
		alarm(timeout_s);
		st = fn(arg);
		fflush(NULL);
		_exit(st);
	}
	if (waitpid(pid, &st, 0) != pid)
		return 128;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int nu_netns_enter(const char *name)
{
	char path[128];
	int fd, ret = 0;

	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (setns(fd, CLONE_NEWNET))
		ret = -errno;
	close(fd);
	return ret;
}

int nu_tcp_listen(int family, const char *addr, int *port)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	socklen_t len = sizeof(*s4);
	int fd;

	if (family != AF_INET)
		return -EAFNOSUPPORT;
	s4->sin_family = AF_INET;
	inet_pton(AF_INET, addr, &s4->sin_addr);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&ss, len) || listen(fd, 4) ||
	    getsockname(fd, (struct sockaddr *)&ss, &len)) {
		close(fd);
		return -errno;
	}
	*port = ntohs(s4->sin_port);
	return fd;
}

/* ---- pattern-checked transfer ----------------------------------------- */

struct nu_sender {
	struct nu_xfer *x;
	unsigned char *mem; /* slots * msg_size */
	uint8_t *done;	    /* per send: completions seen */
	bool *busy;	    /* per slot */
	size_t seg;	    /* datagram size for UDP, 0 for TCP */
};

void nu_pattern_fill(void *p, size_t len, uint64_t off)
{
	uint8_t *b = p;

	for (size_t i = 0; i < len; i++)
		b[i] = nu_pattern(off + i);
}

size_t nu_pattern_mismatch(const void *p, size_t len, uint64_t off)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < len; i++)
		if (b[i] != nu_pattern(off + i))
			break;
	return i;
}

static void fill_dgram(unsigned char *p, size_t len, uint64_t seq)
{
	memcpy(p, &seq, sizeof(seq));
	for (size_t i = sizeof(seq); i < len; i++)
		p[i] = nu_pattern(seq * 65536 + i);
}

static void fill_slot(struct nu_sender *s, unsigned char *p, uint64_t idx)
{
	size_t len = s->x->msg_size;

	if (!s->seg) {
		nu_pattern_fill(p, len, idx * len);
		return;
	}
	for (size_t off = 0; off < len; off += s->seg) {
		size_t n = len - off < s->seg ? len - off : s->seg;

		fill_dgram(p + off, n, idx * (len / s->seg + 1) + off / s->seg);
	}
}

static struct nu_sender *cur_sender;

static void send_done(struct zc_sock *sock, const struct zc_completion *c,
		      void *arg)
{
	struct nu_sender *s = cur_sender;
	struct nu_xfer *x = s->x;
	/* arg is the send's byte in done[]: its index is the send's. */
	uint64_t idx = (uint64_t)((uint8_t *)arg - s->done);
	unsigned slot = (unsigned)(idx % x->slots);

	(void)sock;
	x->callbacks++;
	if (s->done[idx]++) {
		x->dup_callbacks++;
		return;
	}
	x->results[c->result]++;
	if (c->result == ZC_RESULT_COPIED)
		x->whys[c->why]++;
	if (c->result == ZC_RESULT_ERROR && !x->cb_error)
		x->cb_error = c->error;
	/* The memory is ours again: prove nobody still reads it. */
	memset(s->mem + (size_t)slot * x->msg_size, NU_GARBAGE, x->msg_size);
	s->busy[slot] = false;
}

int64_t nu_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int send_one(struct nu_sender *s, struct zc_ctx *ctx,
		    struct zc_sock *sock, uint64_t idx, int64_t deadline)
{
	struct nu_xfer *x = s->x;
	unsigned slot = (unsigned)(idx % x->slots);
	struct iovec iov;
	int ret;

	while (s->busy[slot] && nu_now_ms() < deadline)
		zc_ctx_process(ctx, 100);
	if (s->busy[slot])
		return -ETIMEDOUT;
	iov.iov_base = s->mem + (size_t)slot * x->msg_size;
	iov.iov_len = x->msg_size;
	fill_slot(s, iov.iov_base, idx);
	s->busy[slot] = true;
	for (;;) {
		ret = zc_send(sock, &iov, 1, send_done, &s->done[idx]);
		if (ret != -EAGAIN || nu_now_ms() >= deadline)
			break;
		zc_ctx_process(ctx, 100);
	}
	if (ret) {
		s->busy[slot] = false;
		return ret;
	}
	x->accepted++;
	x->bytes_accepted += x->msg_size;
	return 0;
}

static int sender_init(struct nu_sender *s, struct nu_xfer *x, int fd)
{
	uint64_t nsends = x->total / x->msg_size;
	int type;
	socklen_t len = sizeof(type);

	getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len);
	memset(s, 0, sizeof(*s));
	s->x = x;
	if (!x->slots)
		x->slots = 8;
	if (type == SOCK_DGRAM)
		s->seg = x->gso ? x->gso : x->msg_size;
	s->mem = malloc((size_t)x->slots * x->msg_size);
	s->done = calloc(nsends ? nsends : 1, 1);
	s->busy = calloc(x->slots, sizeof(bool));
	if (!s->mem || !s->done || !s->busy)
		return -ENOMEM;
	return 0;
}

static void sender_free(struct nu_sender *s)
{
	free(s->mem);
	free(s->done);
	free(s->busy);
}

int nu_send(int fd, struct nu_xfer *x)
{
	struct zc_sock_opts o = { .tx = x->tx,
				  .udp_gso_size = x->gso,
				  .close_timeout_ms = x->close_timeout_ms };
	int64_t deadline = nu_now_ms() + NU_SEND_DEADLINE_MS;
	uint64_t nsends = x->total / x->msg_size;
	struct nu_sender s;
	struct zc_ctx *ctx;
	struct zc_sock *sock;
	int ret;

	if (x->nonblock)
		nu_set_nonblock(fd);
	ret = sender_init(&s, x, fd);
	if (ret)
		goto out_free;
	ret = zc_ctx_create(NULL, &ctx);
	if (ret)
		goto out_free;
	ret = zc_sock_attach(ctx, fd, &o, &sock);
	if (ret)
		goto out_ctx;
	cur_sender = &s;
	for (uint64_t i = 0; i < nsends; i++) {
		ret = send_one(&s, ctx, sock, i, deadline);
		if (ret) {
			x->send_error = ret;
			break;
		}
	}
	zc_sock_stats(sock, &x->stats);
	if (!x->leave_attached)
		x->close_ret = zc_sock_close(sock);
	ret = 0;
out_ctx:
	zc_ctx_destroy(ctx);
out_free:
	cur_sender = NULL;
	sender_free(&s);
	return ret;
}

/* Receive stream bytes [got, expect) and check them. */
static int64_t recv_tcp_from(int fd, uint64_t got, uint64_t expect)
{
	static __thread unsigned char buf[1 << 18];

	while (got < expect) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		size_t i;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		i = nu_pattern_mismatch(buf, (size_t)n, got);
		if (i < (size_t)n) {
			fprintf(stderr,
				"corrupt byte at %" PRIu64 ": %#x != %#x\n",
				got + i, buf[i], nu_pattern(got + i));
			return -EBADMSG;
		}
		got += (uint64_t)n;
	}
	return (int64_t)got;
}

int64_t nu_recv_tcp(int fd, uint64_t expect)
{
	return recv_tcp_from(fd, 0, expect);
}

static bool dgram_ok(const unsigned char *p, size_t n)
{
	uint64_t seq;

	if (n < sizeof(seq))
		return false;
	memcpy(&seq, p, sizeof(seq));
	for (size_t i = sizeof(seq); i < n; i++)
		if (p[i] != nu_pattern(seq * 65536 + i))
			return false;
	return true;
}

void nu_recv_udp(int fd, size_t msg_size, unsigned count, int timeout_ms,
		 struct nu_udp_rx *rx)
{
	static __thread unsigned char buf[65536];
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	memset(rx, 0, sizeof(*rx));
	while (rx->got < count && poll(&pfd, 1, timeout_ms) > 0) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n < 0)
			continue;
		rx->got++;
		rx->bytes += (uint64_t)n;
		if ((size_t)n != msg_size || !dgram_ok(buf, (size_t)n))
			rx->bad++;
	}
}

struct nu_rx_thread {
	pthread_t tid;
	int fd;
	bool udp;
	uint64_t expect;
	int (*fault)(int fd, void *arg);
	void *fault_arg;
	size_t msg_size;
	unsigned count;
	int64_t result;
	struct nu_udp_rx udp_rx;
};

static void *rx_main(void *arg)
{
	struct nu_rx_thread *t = arg;

	if (t->udp) {
		nu_recv_udp(t->fd, t->msg_size, t->count, 2000, &t->udp_rx);
		t->result = t->udp_rx.bad ? -EBADMSG : (int64_t)t->udp_rx.got;
	} else {
		t->result = nu_recv_tcp(t->fd, t->expect);
	}
	if (t->fault && t->result >= 0) {
		if (t->fault(t->fd, t->fault_arg))
			return NULL;
		t->result =
			recv_tcp_from(t->fd, (uint64_t)t->result, UINT64_MAX);
	}
	/* Stop the sender at once rather than at its deadline. */
	if (t->result < 0)
		shutdown(t->fd, SHUT_RDWR);
	return NULL;
}

static struct nu_rx_thread *rx_start(struct nu_rx_thread *t)
{
	if (pthread_create(&t->tid, NULL, rx_main, t)) {
		free(t);
		return NULL;
	}
	return t;
}

struct nu_rx_thread *nu_rx_start_tcp(int fd, uint64_t expect)
{
	struct nu_rx_thread *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->fd = fd;
	t->expect = expect;
	return rx_start(t);
}

struct nu_rx_thread *nu_rx_start_tcp_fault(int fd, uint64_t after,
					   int (*fault)(int fd, void *arg),
					   void *arg)
{
	struct nu_rx_thread *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->fd = fd;
	t->expect = after;
	t->fault = fault;
	t->fault_arg = arg;
	return rx_start(t);
}

struct nu_rx_thread *nu_rx_start_udp(int fd, size_t msg_size, unsigned count)
{
	struct nu_rx_thread *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->fd = fd;
	t->udp = true;
	t->msg_size = msg_size;
	t->count = count;
	return rx_start(t);
}

int64_t nu_rx_join(struct nu_rx_thread *t, struct nu_udp_rx *udp)
{
	int64_t ret;

	pthread_join(t->tid, NULL);
	ret = t->result;
	if (udp)
		*udp = t->udp_rx;
	free(t);
	return ret;
}

int nu_tcp_connect(const char *addr, int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)port) };
	int fd;

	inet_pton(AF_INET, addr, &sa.sin_addr);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -errno;
	}
	return fd;
}

/* ---- faults -------------------------------------------------------------- */

int nu_netns_loss(const char *ns, unsigned percent)
{
	if (nu_sh("command -v nft >/dev/null")) {
		printf("skip: nft (nftables) not installed\n");
		return NU_SKIP;
	}
	if (nu_sh(NU_IN_NS
		  "nft -f - <<'EOF'\n"
		  "table inet zcloss {\n"
		  " chain in { type filter hook input priority 0;\n"
		  "  meta l4proto tcp numgen random mod 100 < %u drop; }\n"
		  "}\nEOF",
		  ns, percent)) {
		printf("skip: cannot add an nftables drop rule in %s\n", ns);
		return NU_SKIP;
	}
	return 0;
}

int nu_tcp_pair_bufs(int sndbuf, int rcvbuf, int *snd, int *rcv)
{
	struct nu_pair_opts o = { .sndbuf = sndbuf, .rcvbuf = rcvbuf };

	return nu_pair(&o, snd, rcv);
}

int nu_netns_tcp_pair(const struct nu_netns *ns, int *snd, int *rcv)
{
	struct nu_pair_opts o = { .ns = ns };

	return nu_pair(&o, snd, rcv) ? -1 : 0;
}

/* ---- killing and inspecting sockets ------------------------------------ */

int nu_ss_kill(int fd)
{
	struct sockaddr_in me = { 0 }, peer = { 0 };
	socklen_t len = sizeof(me);

	if (getsockname(fd, (struct sockaddr *)&me, &len))
		return -1;
	len = sizeof(peer);
	if (getpeername(fd, (struct sockaddr *)&peer, &len))
		return -1;
	return nu_sh("ss -K src 127.0.0.1 sport = :%u dport = :%u "
		     ">/dev/null 2>&1",
		     ntohs(me.sin_port), ntohs(peer.sin_port));
}

bool nu_ss_kill_works(void)
{
	int snd = -1, rcv = -1, err = 0;
	socklen_t len = sizeof(err);

	if (nu_sh("command -v ss >/dev/null")) {
		printf("skip: ss (iproute2) not installed\n");
		return false;
	}
	if (nu_tcp_pair(AF_INET, &snd, &rcv))
		return false;
	nu_ss_kill(snd);
	getsockopt(snd, SOL_SOCKET, SO_ERROR, &err, &len);
	close(snd);
	close(rcv);
	if (err != ECONNABORTED)
		printf("skip: ss -K cannot kill sockets here (needs root and "
		       "CONFIG_INET_DIAG_DESTROY)\n");
	return err == ECONNABORTED;
}

int nu_outq(int fd)
{
	int n = 0;

	return ioctl(fd, SIOCOUTQ, &n) ? -errno : n;
}

int nu_inq(int fd)
{
	int n = 0;

	return ioctl(fd, SIOCINQ, &n) ? -errno : n;
}

int nu_wait_inq(int fd, int bytes, int timeout_ms)
{
	int64_t end = nu_now_ms() + timeout_ms;
	int n;

	while ((n = nu_inq(fd)) >= 0 && n < bytes && nu_now_ms() < end)
		usleep(1000);
	return n;
}

void nu_count_cb(struct zc_sock *sock, const struct zc_completion *c, void *arg)
{
	(void)sock;
	(void)c;
	(*(int *)arg)++;
}
