/* SPDX-License-Identifier: MIT */
/* zcopy send/recv protocol: strict encoder and decoder, no I/O. */
#include <errno.h>
#include <string.h>

#include "wire.h"
#include "xfer_proto.h"

#define XF_MAGIC0 'Z'
#define XF_MAGIC1 'F'
#define XF_HELLO_BASE 14
#define XF_TEXT_BASE 4
#define XF_DIR_BASE 6
#define XF_FILE_BASE (4 + 8 + XF_HASH_LEN + 2)
#define XF_SUMMARY_LEN 20

/* ---- validation --------------------------------------------------------- */

bool xf_path_ok(const char *path, size_t len)
{
	size_t start = 0, depth = 0;

	if (!len || len > XF_MAX_PATH || path[0] == '/' || memchr(path, 0, len))
		return false;
	while (start <= len) {
		const char *s = path + start;
		const char *slash = memchr(s, '/', len - start);
		size_t n = slash ? (size_t)(slash - s) : len - start;

		if (!n || n > XF_MAX_COMPONENT || ++depth > XF_MAX_DEPTH)
			return false; /* "//", a trailing "/", too long */
		if ((n == 1 && s[0] == '.') ||
		    (n == 2 && s[0] == '.' && s[1] == '.'))
			return false;
		start += n + 1;
	}
	return true;
}

/* Printable ASCII: tokens (no space either) and texts shown to people. */
static bool printable(const char *s, size_t n, bool space)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch > 0x7e || ch < (space ? 0x20 : 0x21))
			return false;
	}
	return true;
}

static bool hello_ok(const struct xf_hello *h)
{
	return !(h->flags & ~XF_HELLO_RESUME) && h->token_len >= 1 &&
	       h->token_len <= XF_MAX_TOKEN &&
	       printable(h->token, h->token_len, false);
}

static bool entry_ok(const struct xf_entry *e, bool file)
{
	return !(e->mode & ~07777u) && (!file || e->size <= XF_MAX_SIZE) &&
	       xf_path_ok(e->path, e->path_len);
}

static bool status_ok(const struct xf_status *s)
{
	return s->code < XS_CODE_END && s->text_len <= XF_MAX_TEXT &&
	       printable(s->text, s->text_len, true);
}

static bool msg_ok(const struct xf_msg *m)
{
	switch (m->type) {
	case XF_HELLO:
		return hello_ok(&m->hello);
	case XF_DIR:
	case XF_FILE:
		return entry_ok(&m->entry, m->type == XF_FILE);
	case XF_STATUS:
	case XF_ERROR:
		return status_ok(&m->status);
	case XF_WELCOME:
	case XF_END:
	case XF_SUMMARY:
		return true;
	default:
		return false;
	}
}

/* Payload length a message has (its variable part from its fields). */
static long payload_len(const struct xf_msg *m)
{
	switch (m->type) {
	case XF_HELLO:
		return XF_HELLO_BASE + (long)m->hello.token_len;
	case XF_DIR:
		return XF_DIR_BASE + (long)m->entry.path_len;
	case XF_FILE:
		return XF_FILE_BASE + (long)m->entry.path_len;
	case XF_STATUS:
	case XF_ERROR:
		return XF_TEXT_BASE + (long)m->status.text_len;
	case XF_SUMMARY:
		return XF_SUMMARY_LEN;
	case XF_WELCOME:
	case XF_END:
		return 0;
	default:
		return -1;
	}
}

/* ---- decode ------------------------------------------------------------- */

static void read_payload(struct wire_cur *c, struct xf_msg *m)
{
	switch (m->type) {
	case XF_HELLO:
		m->hello.flags = (uint8_t)wire_get(c, 1);
		m->hello.token_len = (uint8_t)wire_get(c, 1);
		m->hello.entries = (uint32_t)wire_get(c, 4);
		m->hello.total_bytes = wire_get(c, 8);
		if (m->hello.token_len <= XF_MAX_TOKEN)
			memcpy(m->hello.token, c->r,
			       m->hello.token_len < c->left ? m->hello.token_len
							    : c->left);
		break;
	case XF_DIR:
	case XF_FILE:
		m->entry.mode = (uint32_t)wire_get(c, 4);
		if (m->type == XF_FILE) {
			m->entry.size = wire_get(c, 8);
			for (unsigned i = 0; i < XF_HASH_LEN; i++)
				m->entry.hash[i] = (uint8_t)wire_get(c, 1);
		}
		m->entry.path_len = (uint16_t)wire_get(c, 2);
		wire_get_bytes(c, m->entry.path,
			       m->entry.path_len <= XF_MAX_PATH
				       ? m->entry.path_len
				       : 0);
		break;
	case XF_STATUS:
	case XF_ERROR:
		m->status.code = (uint16_t)wire_get(c, 2);
		m->status.text_len = (uint16_t)wire_get(c, 2);
		wire_get_bytes(c, m->status.text,
			       m->status.text_len <= XF_MAX_TEXT
				       ? m->status.text_len
				       : 0);
		break;
	case XF_SUMMARY:
		m->summary.done = (uint32_t)wire_get(c, 4);
		m->summary.skipped = (uint32_t)wire_get(c, 4);
		m->summary.failed = (uint32_t)wire_get(c, 4);
		m->summary.bytes = wire_get(c, 8);
		break;
	default:
		break;
	}
}

int xf_decode(const uint8_t *buf, size_t len, struct xf_msg *msg, size_t *used)
{
	struct wire_cur c;
	uint32_t plen;

	*used = XF_HDR_LEN;
	if (len >= 1 && buf[0] != XF_MAGIC0)
		return -EPROTO;
	if (len >= 2 && buf[1] != XF_MAGIC1)
		return -EPROTO;
	if (len >= 3 && buf[2] != XF_VERSION)
		return -EPROTONOSUPPORT;
	if (len < XF_HDR_LEN)
		return -EAGAIN;
	plen = (uint32_t)buf[4] << 24 | (uint32_t)buf[5] << 16 |
	       (uint32_t)buf[6] << 8 | buf[7];
	if (buf[3] == 0 || buf[3] >= XF_TYPE_END ||
	    plen > XF_MAX_LEN - XF_HDR_LEN)
		return -EBADMSG;
	*used = XF_HDR_LEN + plen;
	if (len < *used)
		return -EAGAIN;
	memset(msg, 0, sizeof(*msg));
	msg->type = buf[3];
	c = (struct wire_cur){ .r = buf + XF_HDR_LEN, .left = plen };
	read_payload(&c, msg);
	if (payload_len(msg) != (long)plen)
		return -EBADMSG;
	if (msg_ok(msg))
		return 0;
	/* Well formed but for a name that would leave the directory: said
	 * apart, so the receiver can name what it refused. */
	if ((msg->type == XF_DIR || msg->type == XF_FILE) &&
	    msg->entry.path_len <= XF_MAX_PATH &&
	    !(msg->entry.mode & ~07777u) && msg->entry.size <= XF_MAX_SIZE)
		return -EXDEV;
	return -EBADMSG;
}

/* ---- encode ------------------------------------------------------------- */

static void write_payload(struct wire_cur *c, const struct xf_msg *m)
{
	switch (m->type) {
	case XF_HELLO:
		wire_put(c, m->hello.flags, 1);
		wire_put(c, m->hello.token_len, 1);
		wire_put(c, m->hello.entries, 4);
		wire_put(c, m->hello.total_bytes, 8);
		wire_put_bytes(c, m->hello.token, m->hello.token_len);
		break;
	case XF_DIR:
	case XF_FILE:
		wire_put(c, m->entry.mode, 4);
		if (m->type == XF_FILE) {
			wire_put(c, m->entry.size, 8);
			wire_put_bytes(c, m->entry.hash, XF_HASH_LEN);
		}
		wire_put(c, m->entry.path_len, 2);
		wire_put_bytes(c, m->entry.path, m->entry.path_len);
		break;
	case XF_STATUS:
	case XF_ERROR:
		wire_put(c, m->status.code, 2);
		wire_put(c, m->status.text_len, 2);
		wire_put_bytes(c, m->status.text, m->status.text_len);
		break;
	case XF_SUMMARY:
		wire_put(c, m->summary.done, 4);
		wire_put(c, m->summary.skipped, 4);
		wire_put(c, m->summary.failed, 4);
		wire_put(c, m->summary.bytes, 8);
		break;
	default:
		break;
	}
}

size_t xf_encode(const struct xf_msg *msg, uint8_t *buf)
{
	long plen = payload_len(msg);
	struct wire_cur c = { .p = buf };

	if (plen < 0 || (size_t)plen > XF_MAX_LEN - XF_HDR_LEN || !msg_ok(msg))
		return 0;
	buf[0] = XF_MAGIC0;
	buf[1] = XF_MAGIC1;
	buf[2] = XF_VERSION;
	buf[3] = msg->type;
	c.p = buf + 4;
	wire_put(&c, (uint64_t)plen, 4);
	write_payload(&c, msg);
	return XF_HDR_LEN + (size_t)plen;
}

const char *xf_code_name(unsigned code)
{
	static const char *const names[] = {
		[XS_SEND] = "send",
		[XS_SKIP] = "already there (skipped)",
		[XS_DONE] = "done",
		[XS_EXISTS] = "exists (use --force to overwrite)",
		[XS_BADNAME] = "name refused: it leaves the target directory",
		[XS_MISMATCH] = ("corrupted in transit: content does not "
				 "match its XXH3 (not kept)"),
		[XS_IO] = "receiver could not write it",
		[XS_TOKEN] = "wrong token",
		[XS_PROTOCOL] = "protocol error",
		[XS_LIMIT] = "over a limit of the receiver",
		[XS_TIMEOUT] = "timed out",
	};

	return code < XS_CODE_END ? names[code] : "unknown code";
}
