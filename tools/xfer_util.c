/* SPDX-License-Identifier: MIT */
/* zcopy send / zcopy recv: connection, hashing, progress, summary. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "xfer.h"

int64_t xf_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the connection ----------------------------------------------------- */

void xf_conn_init(struct xf_conn *c, int fd, int timeout_s)
{
	c->fd = fd;
	c->timeout_ms = timeout_s * 1000;
	c->have = 0;
}

int xf_wait(int fd, short events, int ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	int n;

	do
		n = poll(&p, 1, ms);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

static int send_all(struct xf_conn *c, const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);
		int w;

		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN)
			return -errno;
		w = xf_wait(c->fd, POLLOUT, c->timeout_ms);
		if (w <= 0)
			return w ? w : -ETIMEDOUT;
	}
	return 0;
}

int xf_send_msg(struct xf_conn *c, const struct xf_msg *m)
{
	uint8_t out[XF_MAX_LEN];
	size_t len = xf_encode(m, out);

	return len ? send_all(c, out, len) : -EINVAL;
}

int xf_send_status(struct xf_conn *c, uint8_t type, unsigned code,
		   const char *text)
{
	struct xf_msg m = { .type = type };
	size_t n = strlen(text);

	m.status.code = (uint16_t)code;
	m.status.text_len = (uint16_t)(n < XF_MAX_TEXT ? n : XF_MAX_TEXT);
	memcpy(m.status.text, text, m.status.text_len);
	/* Only printable ASCII goes on the wire. */
	for (unsigned i = 0; i < m.status.text_len; i++)
		if (m.status.text[i] < 0x20 || m.status.text[i] > 0x7e)
			m.status.text[i] = '?';
	return xf_send_msg(c, &m);
}

/* Read what is there (waiting up to the timeout): > 0, 0 EOF, -errno. */
static ssize_t read_some(struct xf_conn *c, void *dst, size_t max)
{
	for (;;) {
		ssize_t n = recv(c->fd, dst, max, 0);
		int w;

		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -errno;
		w = xf_wait(c->fd, POLLIN, c->timeout_ms);
		if (w <= 0)
			return w ? w : -ETIMEDOUT;
	}
}

int xf_recv_msg(struct xf_conn *c, struct xf_msg *m)
{
	for (;;) {
		size_t used;
		ssize_t n;
		int ret = xf_decode(c->buf, c->have, m, &used);

		if (!ret || ret == -EXDEV) {
			c->have -= used;
			memmove(c->buf, c->buf + used, c->have);
			return ret;
		}
		if (ret != -EAGAIN)
			return ret;
		n = read_some(c, c->buf + c->have, sizeof(c->buf) - c->have);
		if (n <= 0)
			return n ? (int)n : -ECONNRESET;
		c->have += (size_t)n;
	}
}

ssize_t xf_recv_raw(struct xf_conn *c, void *dst, size_t max)
{
	if (c->have) {
		size_t n = c->have < max ? c->have : max;

		memcpy(dst, c->buf, n);
		c->have -= n;
		memmove(c->buf, c->buf + n, c->have);
		return (ssize_t)n;
	}
	return read_some(c, dst, max);
}

/* ---- XXH3-128 ----------------------------------------------------------- */

struct xf_hasher {
	XXH3_state_t *st;
};

struct xf_hasher *xf_hasher_new(void)
{
	struct xf_hasher *h = malloc(sizeof(*h));

	if (!h)
		return NULL;
	h->st = XXH3_createState();
	if (!h->st) {
		free(h);
		return NULL;
	}
	XXH3_128bits_reset(h->st);
	return h;
}

void xf_hasher_update(struct xf_hasher *h, const void *p, size_t n)
{
	XXH3_128bits_update(h->st, p, n);
}

void xf_hasher_final(struct xf_hasher *h, uint8_t out[XF_HASH_LEN])
{
	XXH128_canonical_t c;

	XXH128_canonicalFromHash(&c, XXH3_128bits_digest(h->st));
	memcpy(out, c.digest, XF_HASH_LEN);
}

void xf_hasher_free(struct xf_hasher *h)
{
	if (!h)
		return;
	XXH3_freeState(h->st);
	free(h);
}

int xf_hash_fd(int fd, uint64_t size, uint8_t out[XF_HASH_LEN])
{
	struct xf_hasher *h = xf_hasher_new();
	char *buf = malloc(XF_IO_BUF);
	uint64_t off = 0;
	int ret = 0;

	/* pread, not a mapping: a file that shrinks meanwhile must not
	 * raise SIGBUS here either. */
	while (h && buf && off < size) {
		size_t want = size - off < XF_IO_BUF ? (size_t)(size - off)
						     : XF_IO_BUF;
		ssize_t n = pread(fd, buf, want, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = n ? -errno : -ENODATA;
			break;
		}
		xf_hasher_update(h, buf, (size_t)n);
		off += (uint64_t)n;
	}
	if (!h || !buf)
		ret = -ENOMEM;
	if (!ret)
		xf_hasher_final(h, out);
	xf_hasher_free(h);
	free(buf);
	return ret;
}

/* ---- progress and summary ----------------------------------------------- */

void xf_human(char *buf, size_t len, double bytes)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	unsigned u = 0;

	while (bytes >= 1024 && u < 4) {
		bytes /= 1024;
		u++;
	}
	snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", bytes, unit[u]);
}

void xf_progress_init(struct xf_progress *p, uint64_t total, bool on)
{
	*p = (struct xf_progress){ .on = on, .total = total };
	p->start_ms = p->last_ms = xf_now_ms();
}

static void progress_draw(const struct xf_progress *p, const char *name)
{
	double s = (double)(xf_now_ms() - p->start_ms) / 1000;
	double rate = s > 0 ? (double)p->done / s : 0;
	double left = rate > 0 ? (double)(p->total - p->done) / rate : 0;
	char done[32], total[32], r[32];

	xf_human(done, sizeof(done), (double)p->done);
	xf_human(total, sizeof(total), (double)p->total);
	xf_human(r, sizeof(r), rate);
	fprintf(stderr,
		"\r%10s / %-10s %3.0f%% %10s/s  %3d:%02d left  %-.30s\033[K",
		done, total,
		p->total ? 100.0 * (double)p->done / (double)p->total : 100.0,
		r, (int)left / 60, (int)left % 60, name ? name : "");
}

void xf_progress_add(struct xf_progress *p, uint64_t n, const char *name)
{
	int64_t now = xf_now_ms();

	p->done += n;
	if (!p->on || now - p->last_ms < 100)
		return;
	p->last_ms = now;
	progress_draw(p, name);
}

void xf_progress_end(struct xf_progress *p)
{
	if (!p->on)
		return;
	progress_draw(p, NULL);
	fputc('\n', stderr);
}

#define XF_MAX_NOTES 64

static struct {
	char *name, *why;
} notes[XF_MAX_NOTES];
static unsigned nnotes, nlost;

void xf_fail_note(const char *name, const char *why)
{
	if (nnotes == XF_MAX_NOTES) {
		nlost++;
		return;
	}
	notes[nnotes].name = strdup(name);
	notes[nnotes].why = strdup(why);
	nnotes++;
}

/* A JSON string: quotes, backslashes and control bytes escaped. */
static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

static void summary_json(FILE *f, const char *who, const struct xf_tally *t)
{
	double s = (double)t->ms / 1000;

	fprintf(f,
		"{\"command\": \"%s\", \"files\": %u, \"directories\": %u, "
		"\"skipped\": %u, \"failed\": %u, \"bytes\": %llu, "
		"\"seconds\": %.3f, \"bytes_per_second\": %.0f, "
		"\"failures\": [",
		who, t->files, t->dirs, t->skipped, t->failed,
		(unsigned long long)t->bytes, s,
		s > 0 ? (double)t->bytes / s : 0.0);
	for (unsigned i = 0; i < nnotes; i++) {
		fprintf(f, "%s{\"name\": ", i ? ", " : "");
		json_str(f, notes[i].name);
		fprintf(f, ", \"reason\": ");
		json_str(f, notes[i].why);
		fputc('}', f);
	}
	fprintf(f, "], \"failures_not_listed\": %u}\n", nlost);
}

void xf_summary(FILE *f, const char *who, const struct xf_tally *t, bool json)
{
	double s = (double)t->ms / 1000;
	char b[32], r[32];

	if (json) {
		summary_json(f, who, t);
		return;
	}
	xf_human(b, sizeof(b), (double)t->bytes);
	xf_human(r, sizeof(r), s > 0 ? (double)t->bytes / s : 0);
	fprintf(f,
		"zcopy %s: %u files, %u directories, %s in %.2f s (%s/s); "
		"%u skipped, %u failed\n",
		who, t->files, t->dirs, b, s, r, t->skipped, t->failed);
}
