/* SPDX-License-Identifier: MIT */
/*
 * zcopy send FILE... HOST[:PORT]: files and directory trees to a zcopy
 * recv, through zc_send_file(), each file announced with its XXH3-128 so
 * the receiver can verify it before it keeps it.  See zcopy-send(1).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zcopy/zcopy.h>

#include "cli.h"
#include "xfer.h"

#define CHUNK (16u << 20) /* bytes per zc_send_file() */
#define CHUNKS 4	  /* in flight */

/* The chunks of the file being sent; in the sender, not on a stack, as
 * callbacks of chunks given up on may run from the socket's close. */
struct chunk_state {
	unsigned inflight;
	int error;
	uint64_t done;
};

struct entry {
	char *src;  /* path on this side */
	char *name; /* name on the wire */
	bool dir;
};

struct sender {
	const char *token;
	bool resume, json, quiet;
	int timeout_s;
	enum zc_tx_mode file_tx;
	struct entry *ents;
	size_t n, cap;
	uint64_t total;
	struct xf_conn *conn;
	struct zc_ctx *ctx;
	struct zc_sock *sock;
	struct xf_progress prog;
	struct xf_tally tally;
	struct chunk_state cs;
};

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "zcopy send: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'zcopy send --help'.\n");
	return ZC_EXIT_USAGE;
}

/* ---- the list of what to send ------------------------------------------ */

static int add_entry(struct sender *s, const char *src, const char *name,
		     bool dir)
{
	struct entry *e;

	if (!xf_path_ok(name, strlen(name))) {
		fprintf(stderr,
			"zcopy send: %s: name cannot be sent "
			"(too long or too deep)\n",
			src);
		return -ENAMETOOLONG;
	}
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		struct entry *p = realloc(s->ents, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		s->ents = p;
		s->cap = cap;
	}
	e = &s->ents[s->n];
	e->src = strdup(src);
	e->name = strdup(name);
	e->dir = dir;
	if (!e->src || !e->name)
		return -ENOMEM;
	s->n++;
	return 0;
}

static int walk(struct sender *s, const char *src, const char *name, int depth);

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in directory src, sorted (a stable order on the wire). */
static int dir_names(const char *src, char ***out, size_t *n)
{
	DIR *d = opendir(src);
	struct dirent *de;
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (*n == cap) {
			char **p = realloc(*out, (cap = cap ? 2 * cap : 32) *
							 sizeof(*p));

			if (!p)
				break;
			*out = p;
		}
		(*out)[(*n)++] = strdup(de->d_name);
	}
	closedir(d);
	if (*n)
		qsort(*out, *n, sizeof(**out), name_cmp);
	return 0;
}

static int walk_child(struct sender *s, const char *src, const char *name,
		      const char *child, int depth)
{
	char csrc[PATH_MAX], cname[XF_MAX_PATH + 2];

	if ((size_t)snprintf(csrc, sizeof(csrc), "%s/%s", src, child) >=
		    sizeof(csrc) ||
	    (size_t)snprintf(cname, sizeof(cname), "%s/%s", name, child) >=
		    sizeof(cname)) {
		fprintf(stderr, "zcopy send: %s/%s: name too long\n", src,
			child);
		return -ENAMETOOLONG;
	}
	return walk(s, csrc, cname, depth + 1);
}

static int walk_dir(struct sender *s, const char *src, const char *name,
		    int depth)
{
	char **names;
	size_t n;
	int ret = add_entry(s, src, name, true);

	if (!ret)
		ret = dir_names(src, &names, &n);
	if (ret) {
		fprintf(stderr, "zcopy send: %s: %s\n", src, strerror(-ret));
		return ret;
	}
	for (size_t i = 0; i < n; i++) {
		if (!ret)
			ret = walk_child(s, src, name, names[i], depth);
		free(names[i]);
	}
	free(names);
	return ret;
}

/* Directories and regular files below src; symbolic links and special
 * files inside a tree are skipped with a warning (named on the command
 * line, a link is followed). */
static int walk(struct sender *s, const char *src, const char *name, int depth)
{
	struct stat st;

	if ((depth ? lstat(src, &st) : stat(src, &st))) {
		fprintf(stderr, "zcopy send: %s: %s\n", src, strerror(errno));
		return -errno;
	}
	if (S_ISDIR(st.st_mode))
		return walk_dir(s, src, name, depth);
	if (!S_ISREG(st.st_mode)) {
		fprintf(stderr,
			"zcopy send: skipping %s: not a regular file or "
			"directory\n",
			src);
		return depth ? 0 : -EINVAL;
	}
	s->total += (uint64_t)st.st_size;
	return add_entry(s, src, name, false);
}

/* The name a command-line argument has on the wire: its last component
 * ("." and ".." resolved). */
static int top_name(const char *arg, char *out, size_t len)
{
	char buf[PATH_MAX], *base;

	if (!realpath(arg, buf))
		return -errno;
	base = basename(buf);
	if (!strcmp(base, "/") || !*base)
		return -EINVAL;
	snprintf(out, len, "%s", base);
	return 0;
}

/* ---- the session -------------------------------------------------------- */

static int try_connect(const struct addrinfo *ai, int timeout_ms)
{
	int fd = socket(ai->ai_family,
			ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	socklen_t l = sizeof(int);
	int err = 0;

	if (fd < 0)
		return -errno;
	if (!connect(fd, ai->ai_addr, ai->ai_addrlen))
		return fd;
	err = errno;
	if (err == EINPROGRESS) {
		err = xf_wait(fd, POLLOUT, timeout_ms) == 1 ? 0 : ETIMEDOUT;
		if (!err && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l))
			err = errno;
	}
	if (!err)
		return fd;
	close(fd);
	return -err;
}

/* HOST, HOST:PORT, [V6]:PORT or V6 alone into host and port. */
static void split_target(const char *target, char *host, size_t hlen,
			 char *port, size_t plen)
{
	const char *colon = strrchr(target, ':');

	snprintf(port, plen, "%d", XF_PORT);
	if (target[0] == '[' && strchr(target, ']')) {
		const char *end = strchr(target, ']');

		snprintf(host, hlen, "%.*s", (int)(end - target - 1),
			 target + 1);
		if (end[1] == ':')
			snprintf(port, plen, "%s", end + 2);
		return;
	}
	if (colon && colon == strchr(target, ':')) {
		snprintf(host, hlen, "%.*s", (int)(colon - target), target);
		snprintf(port, plen, "%s", colon + 1);
		return;
	}
	snprintf(host, hlen, "%s", target);
}

static int connect_to(const char *target, int timeout_s)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
	char host[256], port[16];
	int fd = -ETIMEDOUT, ret;

	split_target(target, host, sizeof(host), port, sizeof(port));
	ret = getaddrinfo(host, port, &hints, &res);
	if (ret) {
		fprintf(stderr,
			"zcopy send: cannot connect to %s port %s: %s\n", host,
			port, gai_strerror(ret));
		return -EHOSTUNREACH;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = try_connect(ai, timeout_s * 1000);
		if (fd >= 0)
			break;
	}
	freeaddrinfo(res);
	if (fd < 0)
		fprintf(stderr,
			"zcopy send: cannot connect to %s port %s: %s\n", host,
			port, strerror(-fd));
	return fd;
}

/* ---- sending one file ---------------------------------------------------- */

static void chunk_done(struct zc_sock *sock, const struct zc_completion *c,
		       void *arg)
{
	struct chunk_state *cs = arg;

	(void)sock;
	cs->inflight--;
	cs->done += c->bytes;
	if (c->result == ZC_RESULT_ERROR || c->result == ZC_RESULT_ABANDONED)
		if (!cs->error)
			cs->error = c->error ? c->error : -EIO;
}

/* Wait for completions; -ETIMEDOUT if none came for the timeout. */
static int chunk_wait(struct sender *s, struct chunk_state *cs,
		      const char *name)
{
	int64_t quiet_since = xf_now_ms();
	uint64_t before = cs->done;

	while (cs->inflight) {
		int n = zc_ctx_process(s->ctx, 100);

		if (n < 0)
			return n;
		if (cs->done != before) {
			xf_progress_add(&s->prog, cs->done - before, name);
			return 0;
		}
		if (xf_now_ms() - quiet_since > (int64_t)s->timeout_s * 1000)
			return -ETIMEDOUT;
	}
	return 0;
}

/* The bytes of fd in chunks of CHUNK, CHUNKS in flight. */
static int send_data(struct sender *s, int fd, uint64_t size, const char *name)
{
	struct chunk_state *cs = &s->cs;
	uint64_t off = 0;
	int ret = 0;

	*cs = (struct chunk_state){ 0 };
	while ((off < size || cs->inflight) && !ret && !cs->error) {
		size_t len = size - off < CHUNK ? (size_t)(size - off) : CHUNK;

		if (off == size || cs->inflight == CHUNKS) {
			ret = chunk_wait(s, cs, name);
			continue;
		}
		ret = zc_send_file(s->sock, fd, (off_t)off, len, chunk_done,
				   cs);
		if (ret == -EAGAIN) {
			ret = chunk_wait(s, cs, name);
			continue;
		}
		if (!ret) {
			cs->inflight++;
			off += len;
		}
	}
	return ret ? ret : cs->error;
}

static void fail(struct sender *s, const char *name, const char *why)
{
	if (s->prog.on)
		fputc('\n', stderr);
	fprintf(stderr, "zcopy send: %s: %s\n", name, why);
	xf_fail_note(name, why);
	s->tally.failed++;
}

/* The receiver's STATUS for name; other messages end the session. */
static int expect_status(struct sender *s, struct xf_msg *m, const char *name)
{
	int ret = xf_recv_msg(s->conn, m);

	if (ret) {
		fprintf(stderr,
			"zcopy send: %s: no answer from the receiver: %s\n",
			name, ret == -ETIMEDOUT ? "timed out" : strerror(-ret));
		return ret;
	}
	if (m->type == XF_ERROR) {
		fprintf(stderr,
			"zcopy send: the receiver ended the session: %s (%s)\n",
			xf_code_name(m->status.code), m->status.text);
		return -ECONNABORTED;
	}
	if (m->type != XF_STATUS) {
		fprintf(stderr,
			"zcopy send: unexpected message from the receiver\n");
		return -EPROTO;
	}
	return 0;
}

static void entry_msg(struct xf_msg *m, const struct entry *e, mode_t mode)
{
	m->type = e->dir ? XF_DIR : XF_FILE;
	m->entry.mode = mode & 07777;
	m->entry.path_len = (uint16_t)strlen(e->name);
	memcpy(m->entry.path, e->name, m->entry.path_len);
}

/* A refusal or failure the receiver reported: noted, the session goes on. */
static void refused(struct sender *s, const struct entry *e,
		    const struct xf_msg *m)
{
	char why[XF_MAX_TEXT + 128];

	snprintf(why, sizeof(why), "refused by the receiver: %s%s%s",
		 xf_code_name(m->status.code), m->status.text_len ? ": " : "",
		 m->status.text);
	fail(s, e->name, why);
}

static int send_dir(struct sender *s, const struct entry *e)
{
	struct xf_msg m = { 0 };
	struct stat st;
	int ret;

	if (stat(e->src, &st)) {
		fail(s, e->name, strerror(errno));
		return 0;
	}
	entry_msg(&m, e, st.st_mode);
	ret = xf_send_msg(s->conn, &m);
	if (!ret)
		ret = expect_status(s, &m, e->name);
	if (ret)
		return ret;
	if (m.status.code == XS_DONE)
		s->tally.dirs++;
	else
		refused(s, e, &m);
	return 0;
}

/* After FILE: the answer, the bytes if asked, the verdict. */
static int file_exchange(struct sender *s, const struct entry *e, int fd,
			 struct xf_msg *m)
{
	uint64_t size = m->entry.size;
	int ret = xf_send_msg(s->conn, m);

	if (!ret)
		ret = expect_status(s, m, e->name);
	if (ret)
		return ret;
	if (m->status.code == XS_SKIP) {
		s->tally.skipped++;
		xf_progress_add(&s->prog, size, e->name);
		return 0;
	}
	if (m->status.code != XS_SEND) {
		refused(s, e, m);
		return 0;
	}
	ret = send_data(s, fd, size, e->name);
	if (ret) {
		fprintf(stderr, "zcopy send: %s: sending failed: %s\n", e->name,
			ret == -ETIMEDOUT ? "timed out" : zc_strerror(ret));
		return ret;
	}
	ret = expect_status(s, m, e->name);
	if (ret)
		return ret;
	if (m->status.code != XS_DONE) {
		refused(s, e, m);
		return 0;
	}
	s->tally.files++;
	s->tally.bytes += size;
	return 0;
}

static int send_file_entry(struct sender *s, const struct entry *e)
{
	struct xf_msg m = { 0 };
	struct stat st;
	int fd, ret;

	fd = open(e->src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fstat(fd, &st)) {
		fail(s, e->name, strerror(errno));
		if (fd >= 0)
			close(fd);
		return 0;
	}
	entry_msg(&m, e, st.st_mode);
	m.entry.size = (uint64_t)st.st_size;
	ret = xf_hash_fd(fd, m.entry.size, m.entry.hash);
	if (ret) {
		fail(s, e->name,
		     ret == -ENODATA ? "file shrank while read"
				     : strerror(-ret));
		close(fd);
		return 0;
	}
	ret = file_exchange(s, e, fd, &m);
	close(fd);
	return ret;
}

/* ---- start and end ------------------------------------------------------ */

static int hello(struct sender *s)
{
	struct xf_msg m = { .type = XF_HELLO };
	size_t n = strlen(s->token);
	int ret;

	m.hello.flags = s->resume ? XF_HELLO_RESUME : 0;
	m.hello.token_len = (uint8_t)n;
	m.hello.entries = (uint32_t)s->n;
	m.hello.total_bytes = s->total;
	memcpy(m.hello.token, s->token, n);
	ret = xf_send_msg(s->conn, &m);
	if (!ret)
		ret = xf_recv_msg(s->conn, &m);
	if (ret) {
		fprintf(stderr,
			"zcopy send: no welcome from the receiver: %s\n",
			ret == -ETIMEDOUT ? "timed out"
			: ret == -EPROTO  ? "not a zcopy recv"
					  : strerror(-ret));
		return ret;
	}
	if (m.type == XF_ERROR) {
		fprintf(stderr, "zcopy send: the receiver refused: %s%s%s\n",
			xf_code_name(m.status.code),
			m.status.text_len ? ": " : "", m.status.text);
		return -EACCES;
	}
	return m.type == XF_WELCOME ? 0 : -EPROTO;
}

static int finish(struct sender *s)
{
	struct xf_msg m = { .type = XF_END };
	int ret = xf_send_msg(s->conn, &m);

	if (!ret)
		ret = xf_recv_msg(s->conn, &m);
	if (!ret && m.type != XF_SUMMARY)
		ret = -EPROTO;
	if (ret)
		fprintf(stderr,
			"zcopy send: no summary from the receiver: %s\n",
			strerror(-ret));
	return ret;
}

static int session(struct sender *s, int fd)
{
	struct zc_sock_opts o = { .file_tx = s->file_tx };
	struct xf_conn *conn = malloc(sizeof(*conn));
	int ret = conn ? zc_ctx_create(NULL, &s->ctx) : -ENOMEM;

	if (!ret)
		ret = zc_sock_attach(s->ctx, fd, &o, &s->sock);
	if (ret) {
		fprintf(stderr, "zcopy send: %s\n", zc_strerror(ret));
		free(conn);
		close(fd);
		zc_ctx_destroy(s->ctx);
		return ret;
	}
	xf_conn_init(conn, fd, s->timeout_s);
	s->conn = conn;
	ret = hello(s);
	xf_progress_init(&s->prog, s->total,
			 !s->quiet && !s->json && isatty(STDERR_FILENO));
	for (size_t i = 0; i < s->n && !ret; i++)
		ret = s->ents[i].dir ? send_dir(s, &s->ents[i])
				     : send_file_entry(s, &s->ents[i]);
	if (!ret)
		ret = finish(s);
	xf_progress_end(&s->prog);
	zc_sock_close(s->sock);
	zc_ctx_destroy(s->ctx);
	free(conn);
	return ret;
}

static void help(void)
{
	printf("Usage: zcopy send [options] FILE... HOST[:PORT]\n"
	       "Send files and directory trees (recursively) to 'zcopy recv' "
	       "on HOST\n(port %d by default), each verified there with "
	       "XXH3-128 before it is kept.\n\n"
	       "  -t, --token TOKEN   the receiver's token (or ZCOPY_TOKEN)\n"
	       "  -r, --resume        skip files already there with the same "
	       "content\n"
	       "  -m, --mechanism M   auto, sendfile, splice, uring-splice, "
	       "copy or msgzc (zc_send_file)\n"
	       "  -T, --timeout SEC   give up on a peer quiet this long (%d)\n"
	       "  -j, --json          summary as JSON on stdout\n"
	       "  -q, --quiet         no progress line, no summary\n"
	       "  -h, --help\n"
	       "Exit status: 0 all sent and verified, 1 anything refused or "
	       "failed, 2 bad usage.\n",
	       XF_PORT, XF_TIMEOUT_S);
}

static int parse_mechanism(const char *m, enum zc_tx_mode *out)
{
	static const struct {
		const char *name;
		enum zc_tx_mode mode;
	} tab[] = { { "auto", ZC_TX_AUTO },
		    { "sendfile", ZC_TX_SENDFILE },
		    { "splice", ZC_TX_SPLICE },
		    { "uring-splice", ZC_TX_URING_SPLICE },
		    { "copy", ZC_TX_COPY },
		    { "msgzc", ZC_TX_MSGZC } };

	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (!strcmp(m, tab[i].name)) {
			*out = tab[i].mode;
			return 0;
		}
	return -EINVAL;
}

static int parse_args(struct sender *s, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "token", required_argument, NULL, 't' },
		{ "resume", no_argument, NULL, 'r' },
		{ "mechanism", required_argument, NULL, 'm' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "t:rm:T:jqh", lo, NULL)) != -1) {
		switch (c) {
		case 't':
			s->token = optarg;
			break;
		case 'r':
			s->resume = true;
			break;
		case 'm':
			if (parse_mechanism(optarg, &s->file_tx))
				return usage_error("unknown mechanism: '%s'",
						   optarg);
			break;
		case 'T':
			s->timeout_s = (int)strtol(optarg, &end, 10);
			if (*end || s->timeout_s < 1 || s->timeout_s > 86400)
				return usage_error("--timeout: not 1..86400 "
						   "seconds: '%s'",
						   optarg);
			break;
		case 'j':
			s->json = true;
			break;
		case 'q':
			s->quiet = true;
			break;
		case 'h':
			help();
			return -1;
		default:
			fprintf(stderr, "Try 'zcopy send --help'.\n");
			return ZC_EXIT_USAGE;
		}
	}
	if (argc - optind < 2)
		return usage_error("%s", "needs FILE... and HOST[:PORT]");
	if (!s->token)
		s->token = getenv("ZCOPY_TOKEN");
	if (!s->token || !*s->token)
		return usage_error("%s", "no token: give --token or set "
					 "ZCOPY_TOKEN (zcopy recv prints one)");
	if (strlen(s->token) > XF_MAX_TOKEN)
		return usage_error("%s", "token longer than 128 bytes");
	return 0;
}

static int collect(struct sender *s, int argc, char **argv)
{
	for (int i = optind; i < argc - 1; i++) {
		char name[NAME_MAX + 1];
		int ret = top_name(argv[i], name, sizeof(name));

		if (ret) {
			fprintf(stderr, "zcopy send: %s: %s\n", argv[i],
				ret == -EINVAL ? "cannot send the root"
					       : strerror(-ret));
			return ret;
		}
		ret = walk(s, argv[i], name, 0);
		if (ret)
			return ret;
	}
	return 0;
}

int zc_cmd_send(int argc, char **argv)
{
	struct sender s = { .timeout_s = XF_TIMEOUT_S };
	int64_t start = xf_now_ms();
	int ret = parse_args(&s, argc, argv), fd;

	if (ret)
		return ret < 0 ? ZC_EXIT_OK : ret;
	ret = collect(&s, argc, argv);
	if (!ret) {
		fd = connect_to(argv[argc - 1], s.timeout_s);
		ret = fd < 0 ? fd : session(&s, fd);
		s.tally.ms = xf_now_ms() - start;
		if (fd >= 0 && (!s.quiet || s.json))
			xf_summary(s.json ? stdout : stderr, "send", &s.tally,
				   s.json);
	}
	for (size_t i = 0; i < s.n; i++) {
		free(s.ents[i].src);
		free(s.ents[i].name);
	}
	free(s.ents);
	return ret || s.tally.failed ? ZC_EXIT_FAIL : ZC_EXIT_OK;
}
