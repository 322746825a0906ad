/* SPDX-License-Identifier: MIT */
/* The bench core: clocks, pinning, statistics, the MSG_ZEROCOPY error
 * queue, TCP_INFO, pacing and plain blocking loops.  See benchcore.h. */
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h> /* before errqueue.h, which needs timespec */
#include <linux/errqueue.h>
#include <unistd.h>

#include "benchcore.h"

#define DRAIN_BUF ((size_t)1 << 20)
#define IDLE_MS 1000
#define END_MARKERS 4

/* ---- clocks --------------------------------------------------------------- */

uint64_t bc_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int64_t bc_now_us(void)
{
	return (int64_t)(bc_now_ns() / 1000);
}

uint64_t bc_thread_cpu_us(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_THREAD, &ru))
		return 0;
	return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 +
	       (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

/* ---- pinning -------------------------------------------------------------- */

int bc_pin(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return 0;
	if (cpu >= CPU_SETSIZE)
		return -EINVAL;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return -pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

int bc_own_files(int keep)
{
	if (keep < 3 || unshare(CLONE_FILES))
		return keep < 3 ? -EINVAL : -errno;
	if (keep > 3 && close_range(3, (unsigned)keep - 1, 0))
		return -errno;
	return close_range((unsigned)keep + 1, ~0u, 0) ? -errno : 0;
}

/* ---- statistics ----------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double bc_median(double *v, unsigned n)
{
	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double bc_median_ratio(const double *num, const double *den, unsigned n)
{
	double *r = malloc((n ? n : 1) * sizeof(*r));
	double m;

	if (!r)
		return NAN;
	for (unsigned i = 0; i < n; i++)
		r[i] = den[i] > 0 ? num[i] / den[i] : 0;
	m = bc_median(r, n);
	free(r);
	return m;
}

int bc_rounds(unsigned methods, unsigned rounds,
	      int (*run)(unsigned method, unsigned round, void *arg), void *arg)
{
	for (unsigned r = 0; r < rounds; r++) {
		for (unsigned k = 0; k < methods; k++) {
			int ret = run((k + r) % methods, r, arg);

			if (ret)
				return ret;
		}
	}
	return 0;
}

/* ---- MSG_ZEROCOPY error queue --------------------------------------------- */

unsigned bc_reap_msgzc(int fd, struct bc_zc_count *c)
{
	char ctrl[CMSG_SPACE(sizeof(struct sock_extended_err) +
			     sizeof(struct sockaddr_in6))];
	unsigned msgs = 0;

	for (;;) {
		struct msghdr msg = { .msg_control = ctrl,
				      .msg_controllen = sizeof(ctrl) };
		struct cmsghdr *cm;

		if (recvmsg(fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
			return msgs;
		msgs++;
		for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
			struct sock_extended_err ee;
			uint64_t n;

			if (cm->cmsg_len < CMSG_LEN(sizeof(ee)))
				continue;
			memcpy(&ee, CMSG_DATA(cm), sizeof(ee));
			if (ee.ee_origin != SO_EE_ORIGIN_ZEROCOPY) {
				c->other++;
				continue;
			}
			n = (uint64_t)(ee.ee_data - ee.ee_info) + 1;
			if (ee.ee_code & SO_EE_CODE_ZEROCOPY_COPIED)
				c->copied += n;
			else
				c->zerocopy += n;
		}
	}
}

/* ---- TCP_INFO ------------------------------------------------------------- */

int bc_tcp_retrans(int fd, uint64_t *out)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len))
		return -errno;
	*out = ti.tcpi_total_retrans;
	return 0;
}

/* ---- memory --------------------------------------------------------------- */

void *bc_pages(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	memset(p, 0x5a, len);
	return p;
}

void bc_free_pages(void *p, size_t len)
{
	if (p)
		munmap(p, len);
}

/* ---- pacing --------------------------------------------------------------- */

void bc_pace_start(struct bc_pace *p, uint64_t bits_per_s)
{
	*p = (struct bc_pace){ .bits_per_s = bits_per_s,
			       .start_us = bc_now_us() };
}

bool bc_pace_wait(struct bc_pace *p, size_t len, int64_t deadline_us)
{
	int64_t due;

	if (!p || !p->bits_per_s)
		return true;
	/* The time by which the bytes so far have had their share: the
	 * next message goes then (a burst of one message at most). */
	due = p->start_us +
	      (int64_t)((double)p->bytes * 8e6 / (double)p->bits_per_s);
	if (deadline_us && due >= deadline_us)
		return false;
	for (int64_t now = bc_now_us(); now < due; now = bc_now_us()) {
		int64_t left = due - now;
		struct timespec ts = { .tv_sec = left / 1000000,
				       .tv_nsec = (left % 1000000) * 1000 };

		nanosleep(&ts, NULL);
	}
	p->bytes += len;
	return true;
}

/* ---- runners -------------------------------------------------------------- */

double bc_count_gbps(const struct bc_count *c)
{
	int64_t us = c->last_us - c->first_us;

	return us > 0 && c->msgs > 1 ? (double)c->bytes * 8 / (double)us / 1e3
				     : 0;
}

static bool is_dgram(int fd)
{
	int type = 0;
	socklen_t len = sizeof(type);

	getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len);
	return type == SOCK_DGRAM;
}

void bc_count_add(struct bc_count *c, size_t n)
{
	int64_t now = bc_now_us();

	if (!c->first_us)
		c->first_us = now;
	c->last_us = now;
	c->bytes += n;
	c->msgs++;
}

int bc_send_plain(int fd, const void *buf, size_t len, int64_t deadline_us,
		  struct bc_pace *pace, struct bc_count *c)
{
	bool dgram = is_dgram(fd);

	while (bc_now_us() < deadline_us &&
	       bc_pace_wait(pace, len, deadline_us)) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n >= 0) {
			bc_count_add(c, (size_t)n);
			continue;
		}
		/* A datagram sender goes on whatever the receiver did: its
		 * ICMP errors and a full queue lose that datagram only. */
		if (errno == EINTR ||
		    (dgram && (errno == ECONNREFUSED || errno == ENOBUFS)))
			continue;
		return -errno;
	}
	return 0;
}

void bc_send_end(int fd)
{
	for (int i = 0; i < END_MARKERS; i++)
		send(fd, "", 0, MSG_NOSIGNAL | MSG_DONTWAIT);
}

static int set_rcvtimeo(int fd, int ms)
{
	struct timeval tv = { .tv_sec = ms / 1000,
			      .tv_usec = (suseconds_t)(ms % 1000) * 1000 };

	return setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ? -errno
									: 0;
}

/* One blocking recv() per message, as a plain receiver does: a datagram
 * receiver's wait is bounded by SO_RCVTIMEO, not by a poll() per
 * datagram. */
int bc_recv_plain(int fd, void *buf, size_t len, int idle_ms,
		  struct bc_count *c)
{
	bool dgram = is_dgram(fd);
	int ret;

	if (idle_ms <= 0)
		idle_ms = IDLE_MS;
	if (dgram) {
		ret = set_rcvtimeo(fd, c->msgs ? idle_ms : BC_FIRST_WAIT_MS);
		if (ret)
			return ret;
	}
	for (;;) {
		ssize_t n = recv(fd, buf, len, 0);

		if (n > 0) {
			if (dgram && !c->msgs) {
				ret = set_rcvtimeo(fd, idle_ms);
				if (ret)
					return ret;
			}
			bc_count_add(c, (size_t)n);
			continue;
		}
		if (n == 0)
			return 0;
		if (errno == EINTR || (dgram && errno == ECONNREFUSED))
			continue;
		if (dgram && (errno == EAGAIN || errno == EWOULDBLOCK))
			return c->msgs ? 0 : -ETIMEDOUT;
		/* Shut down under a stream receiver, or reset. */
		return errno == ECONNRESET || errno == ENOTCONN ? 0 : -errno;
	}
}

static void *drain_main(void *arg)
{
	struct bc_drain *d = arg;
	size_t len = d->buf_len ? d->buf_len : DRAIN_BUF;
	void *buf = malloc(len);

	bc_pin(d->cpu);
	if (!buf) {
		d->error = -ENOMEM;
		return NULL;
	}
	d->error = bc_recv_plain(d->fd, buf, len, 0, &d->count);
	free(buf);
	return NULL;
}

int bc_drain_start(struct bc_drain *d, int fd, int cpu)
{
	d->fd = fd;
	d->cpu = cpu;
	d->count = (struct bc_count){ 0 };
	d->error = 0;
	return -pthread_create(&d->th, NULL, drain_main, d);
}

void bc_drain_join(struct bc_drain *d)
{
	pthread_join(d->th, NULL);
}

void bc_drain_stop(struct bc_drain *d)
{
	shutdown(d->fd, SHUT_RDWR);
	pthread_join(d->th, NULL);
}

/* ---- parsing -------------------------------------------------------------- */

/* The multiplier of suffix *end (k, M, G; base 1000 or 1024), 1 for none,
 * 0 for anything else. */
static uint64_t multiplier(const char **end, uint64_t base)
{
	switch (**end) {
	case '\0':
		return 1;
	case 'k':
	case 'K':
		(*end)++;
		return base;
	case 'm':
	case 'M':
		(*end)++;
		return base * base;
	case 'g':
	case 'G':
		(*end)++;
		return base * base * base;
	default:
		return 0;
	}
}

int bc_parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	const char *end;
	char *e;
	unsigned long long v;
	uint64_t mul;

	errno = 0;
	v = strtoull(s, &e, 10);
	end = e;
	if (errno || end == s || *s == '-' || *s == '+' || *s == ' ')
		return -EINVAL;
	mul = multiplier(&end, 1024);
	if (!mul || *end || (v && v > UINT64_MAX / mul))
		return -EINVAL;
	v *= mul;
	if (v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int bc_parse_rate(const char *s, uint64_t *bits_per_s)
{
	const char *end;
	char *e;
	double v;
	uint64_t mul;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtod(s, &e);
	end = e;
	if (errno || end == s || !isfinite(v) || v < 0)
		return -EINVAL;
	mul = multiplier(&end, 1000);
	if (!mul || *end)
		return -EINVAL;
	v *= (double)mul;
	if (v > 1e15) /* a petabit per second is not a pacing rate */
		return -EINVAL;
	*bits_per_s = (uint64_t)v;
	return 0;
}
