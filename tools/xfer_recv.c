/* SPDX-License-Identifier: MIT */
/*
 * zcopy recv [DIR]: the receiving side of zcopy send.  Safe by default:
 * nothing is written before the sender showed the token; names stay
 * inside DIR (openat2 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS, or a walk
 * with O_NOFOLLOW where the kernel lacks openat2); existing files are
 * kept unless --force; every file is written under a temporary name,
 * verified against the XXH3-128 the sender announced, fsync'ed, and only
 * then renamed into place.  See zcopy-recv(1).
 *
 * The bytes are received with recv() into a buffer, hashed there and
 * written with write(): bench/bench_file recv measured that a receiver
 * that must read the data anyway does no better with splice() into the
 * file and a second pass to hash it (bench/README.md, "Receiving into a
 * file").
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/openat2.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cli.h"
#include "xfer.h"

struct receiver {
	const char *dir;
	const char *token;
	char token_buf[33];
	bool force, json, quiet, resume;
	int timeout_s;
	const char *listen_addr;
	const char *port;
	int root;
	struct xf_conn *conn;
	char *buf;
	struct xf_progress prog;
	struct xf_tally tally;
};

/* The temporary file being written, removed if a signal ends us. */
static volatile sig_atomic_t tmp_dirfd = -1;
static char tmp_name[64];

static void on_signal(int sig)
{
	if (tmp_dirfd >= 0)
		unlinkat(tmp_dirfd, tmp_name, 0);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* ---- names beneath the target directory --------------------------------- */

/* Without openat2 (before Linux 5.6): component by component, never
 * following a link.  Names on the wire have no "." or ".." (xf_path_ok). */
static int walk_nofollow(int root, const char *rel)
{
	char copy[XF_MAX_PATH + 1], *save, *comp;
	int fd = dup(root);

	snprintf(copy, sizeof(copy), "%s", rel);
	for (comp = strtok_r(copy, "/", &save); comp && fd >= 0;
	     comp = strtok_r(NULL, "/", &save)) {
		int next =
			openat(fd, comp,
			       O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

		close(fd);
		fd = next;
	}
	return fd >= 0 ? fd : -errno;
}

/* The directory rel ("" for the root itself), inside root, reached
 * through no symbolic link. */
static int open_beneath(int root, const char *rel)
{
	struct open_how how = {
		.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
			   RESOLVE_NO_MAGICLINKS,
	};
	long fd;

	if (!*rel)
		return dup(root);
	fd = syscall(SYS_openat2, root, rel, &how, sizeof(how));
	if (fd >= 0)
		return (int)fd;
	if (errno != ENOSYS)
		return -errno;
	return walk_nofollow(root, rel);
}

/* Open the parent of path; *leaf points at its last component. */
static int open_parent(int root, const char *path, const char **leaf)
{
	char parent[XF_MAX_PATH + 1];
	const char *slash = strrchr(path, '/');

	if (!slash) {
		*leaf = path;
		return open_beneath(root, "");
	}
	snprintf(parent, sizeof(parent), "%.*s", (int)(slash - path), path);
	*leaf = slash + 1;
	return open_beneath(root, parent);
}

/* A failure to reach a name, as a STATUS code. */
static unsigned parent_code(int err)
{
	return err == -ELOOP || err == -EXDEV || err == -ENOTDIR ? XS_BADNAME
								 : XS_IO;
}

/* ---- the session -------------------------------------------------------- */

static int status(struct receiver *r, unsigned code, const char *text)
{
	return xf_send_status(r->conn, XF_STATUS, code, text);
}

/* A per-entry refusal or failure: told to both sides, the session goes
 * on. */
static int refuse(struct receiver *r, const char *name, unsigned code,
		  const char *text)
{
	char why[XF_MAX_TEXT + 64];

	snprintf(why, sizeof(why), "%s%s%s", xf_code_name(code),
		 *text ? ": " : "", text);
	if (r->prog.on)
		fputc('\n', stderr);
	fprintf(stderr, "zcopy recv: %s: %s\n", name, why);
	xf_fail_note(name, why);
	r->tally.failed++;
	return status(r, code, text);
}

static int do_dir(struct receiver *r, const struct xf_entry *e)
{
	const char *leaf;
	struct stat st;
	int pfd = open_parent(r->root, e->path, &leaf), ret;

	if (pfd < 0)
		return refuse(r, e->path, parent_code(pfd), strerror(-pfd));
	ret = mkdirat(pfd, leaf, (e->mode & 07777) | 0700) ? -errno : 0;
	if (ret == -EEXIST && !fstatat(pfd, leaf, &st, AT_SYMLINK_NOFOLLOW) &&
	    S_ISDIR(st.st_mode))
		ret = 0;
	close(pfd);
	if (ret == -EEXIST)
		return refuse(r, e->path, XS_EXISTS, "not a directory");
	if (ret)
		return refuse(r, e->path, XS_IO, strerror(-ret));
	r->tally.dirs++;
	return status(r, XS_DONE, "");
}

/* Already there with this size and content (what --resume skips). */
static bool same_file(int pfd, const char *leaf, const struct xf_entry *e)
{
	uint8_t h[XF_HASH_LEN];
	struct stat st;
	int fd = openat(pfd, leaf, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	bool same;

	if (fd < 0)
		return false;
	same = !fstat(fd, &st) && S_ISREG(st.st_mode) &&
	       (uint64_t)st.st_size == e->size && !xf_hash_fd(fd, e->size, h) &&
	       !memcmp(h, e->hash, sizeof(h));
	close(fd);
	return same;
}

/* May e be written over what is at leaf?  XS_SEND, or another code. */
static unsigned may_write(struct receiver *r, int pfd, const char *leaf,
			  const struct xf_entry *e)
{
	struct statvfs vfs;
	struct stat st;

	if (!fstatat(pfd, leaf, &st, AT_SYMLINK_NOFOLLOW)) {
		if (r->resume && same_file(pfd, leaf, e))
			return XS_SKIP;
		if (!r->force || S_ISDIR(st.st_mode))
			return XS_EXISTS;
	}
	if (!fstatvfs(pfd, &vfs) &&
	    (uint64_t)vfs.f_bavail * vfs.f_frsize < e->size)
		return XS_IO;
	return XS_SEND;
}

static int tmp_open(int pfd)
{
	uint32_t rnd = 0;
	int fd;

	for (int tries = 0; tries < 16; tries++) {
		if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
			rnd ^= (uint32_t)xf_now_ms() * 2654435761u;
		snprintf(tmp_name, sizeof(tmp_name), ".zcopy-%08x.part", rnd);
		fd = openat(pfd, tmp_name,
			    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
				    O_CLOEXEC,
			    0600);
		if (fd >= 0 || errno != EEXIST)
			break;
	}
	if (fd >= 0)
		tmp_dirfd = pfd;
	return fd >= 0 ? fd : -errno;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w ? -errno : -EIO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* The size bytes of the file from the connection, into fd (or, once
 * writing failed, nowhere: the stream must be read to stay in step).
 * 0 with *werr the write error, or a connection error (fatal). */
static int recv_content(struct receiver *r, int fd, const struct xf_entry *e,
			uint8_t hash[XF_HASH_LEN], int *werr)
{
	struct xf_hasher *h = xf_hasher_new();
	uint64_t left = e->size;

	*werr = h ? 0 : -ENOMEM;
	while (left) {
		ssize_t n = xf_recv_raw(r->conn, r->buf,
					left < XF_IO_BUF ? (size_t)left
							 : XF_IO_BUF);

		if (n <= 0) {
			xf_hasher_free(h);
			return n ? (int)n : -ECONNRESET;
		}
		if (h)
			xf_hasher_update(h, r->buf, (size_t)n);
		if (!*werr)
			*werr = write_all(fd, r->buf, (size_t)n);
		left -= (uint64_t)n;
		xf_progress_add(&r->prog, (uint64_t)n, e->path);
	}
	if (h)
		xf_hasher_final(h, hash);
	xf_hasher_free(h);
	if (!*werr && fsync(fd))
		*werr = -errno;
	return 0;
}

/* Verified: give the temporary file its mode and its name. */
static int put_in_place(struct receiver *r, int pfd, int fd, const char *leaf,
			const struct xf_entry *e)
{
	if (fchmod(fd, e->mode & 07777))
		return -errno;
	if (renameat2(pfd, tmp_name, pfd, leaf,
		      r->force ? 0 : RENAME_NOREPLACE))
		return -errno;
	tmp_dirfd = -1;
	fsync(pfd);
	return 0;
}

/* After STATUS(send): receive, verify, keep or drop.  A negative return
 * ends the session (the connection failed). */
static int take_file(struct receiver *r, int pfd, const char *leaf,
		     const struct xf_entry *e)
{
	uint8_t hash[XF_HASH_LEN];
	int fd = tmp_open(pfd), werr, ret;

	ret = recv_content(r, fd, e, hash, &werr);
	if (fd < 0)
		werr = fd;
	if (!ret && !werr && memcmp(hash, e->hash, sizeof(hash)) != 0)
		werr = -EBADMSG;
	if (!ret && !werr)
		werr = put_in_place(r, pfd, fd, leaf, e);
	if (fd >= 0)
		close(fd);
	if (tmp_dirfd >= 0) {
		unlinkat(pfd, tmp_name, 0);
		tmp_dirfd = -1;
	}
	if (ret)
		return ret;
	if (werr == -EBADMSG)
		return refuse(r, e->path, XS_MISMATCH, "");
	if (werr == -EEXIST)
		return refuse(r, e->path, XS_EXISTS, "");
	if (werr)
		return refuse(r, e->path, XS_IO, strerror(-werr));
	r->tally.files++;
	r->tally.bytes += e->size;
	return status(r, XS_DONE, "");
}

static int do_file(struct receiver *r, const struct xf_entry *e)
{
	const char *leaf;
	int pfd = open_parent(r->root, e->path, &leaf), ret;
	unsigned code;

	if (pfd < 0)
		return refuse(r, e->path, parent_code(pfd), strerror(-pfd));
	code = may_write(r, pfd, leaf, e);
	if (code == XS_SKIP) {
		r->tally.skipped++;
		xf_progress_add(&r->prog, e->size, e->path);
		ret = status(r, XS_SKIP, "");
	} else if (code != XS_SEND) {
		ret = refuse(r, e->path, code,
			     code == XS_IO ? "not enough space" : "");
	} else {
		ret = status(r, XS_SEND, "");
		if (!ret)
			ret = take_file(r, pfd, leaf, e);
	}
	close(pfd);
	return ret;
}

/* Equal tokens, in time that does not depend on where they differ. */
static bool token_equal(const char *want, const char *got, size_t got_len)
{
	size_t n = strlen(want);
	unsigned diff = n != got_len;

	for (size_t i = 0; i < got_len; i++)
		diff |= (unsigned char)got[i] ^
			(unsigned char)want[i < n ? i : 0];
	return !diff;
}

static int hello(struct receiver *r)
{
	struct xf_msg m;
	int ret = xf_recv_msg(r->conn, &m);

	if (ret || m.type != XF_HELLO) {
		fprintf(stderr,
			"zcopy recv: no valid hello from the sender: %s\n",
			ret == -ETIMEDOUT ? "timed out"
			: ret		  ? strerror(-ret)
					  : "unexpected message");
		xf_send_status(r->conn, XF_ERROR, XS_PROTOCOL,
			       "expected HELLO");
		return ret ? ret : -EPROTO;
	}
	if (!token_equal(r->token, m.hello.token, m.hello.token_len)) {
		fprintf(stderr, "zcopy recv: refused the sender: wrong token; "
				"nothing written\n");
		xf_send_status(r->conn, XF_ERROR, XS_TOKEN, "");
		return -EACCES;
	}
	r->resume = m.hello.flags & XF_HELLO_RESUME;
	xf_progress_init(&r->prog, m.hello.total_bytes,
			 !r->quiet && !r->json && isatty(STDERR_FILENO));
	m = (struct xf_msg){ .type = XF_WELCOME };
	return xf_send_msg(r->conn, &m);
}

static int summary_msg(struct receiver *r)
{
	struct xf_msg m = { .type = XF_SUMMARY };

	m.summary = (struct xf_summary){ .done = r->tally.files,
					 .skipped = r->tally.skipped,
					 .failed = r->tally.failed,
					 .bytes = r->tally.bytes };
	return xf_send_msg(r->conn, &m);
}

/* A name that would leave the directory: the session ends, nothing of it
 * was written. */
static int bad_name(struct receiver *r, const struct xf_entry *e)
{
	char shown[96];
	size_t n = 0;

	for (size_t i = 0; i < e->path_len && n + 5 < sizeof(shown); i++) {
		unsigned char ch = (unsigned char)e->path[i];

		if (ch >= 0x20 && ch < 0x7f)
			shown[n++] = (char)ch;
		else
			n += (size_t)snprintf(shown + n, sizeof(shown) - n,
					      "\\x%02x", ch);
	}
	shown[n] = '\0';
	fprintf(stderr,
		"zcopy recv: refused the name '%s': it leaves the target "
		"directory (absolute, '..', '.' or empty component); session "
		"ended\n",
		shown);
	xf_fail_note(shown, "name leaves the target directory");
	r->tally.failed++;
	xf_send_status(r->conn, XF_ERROR, XS_BADNAME, shown);
	return -EXDEV;
}

static int session(struct receiver *r)
{
	struct xf_msg m;
	int ret = hello(r);

	while (!ret) {
		ret = xf_recv_msg(r->conn, &m);
		if (ret == -EXDEV)
			return bad_name(r, &m.entry);
		if (ret)
			break;
		if (m.type == XF_END)
			return summary_msg(r);
		if (m.type == XF_DIR)
			ret = do_dir(r, &m.entry);
		else if (m.type == XF_FILE)
			ret = do_file(r, &m.entry);
		else
			ret = -EPROTO;
	}
	if (ret == -EACCES)
		return ret;
	fprintf(stderr, "zcopy recv: session ended: %s\n",
		ret == -ETIMEDOUT    ? "the sender went quiet (timed out)"
		: ret == -ECONNRESET ? "the sender went away"
		: ret == -EPROTO || ret == -EBADMSG
			? "malformed or unexpected message"
			: strerror(-ret));
	if (ret != -ECONNRESET)
		xf_send_status(r->conn, XF_ERROR,
			       ret == -ETIMEDOUT ? XS_TIMEOUT : XS_PROTOCOL,
			       "");
	return ret;
}

/* ---- listening ---------------------------------------------------------- */

static int listen_on(struct receiver *r)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE,
				  .ai_family = r->listen_addr ? AF_UNSPEC
							      : AF_INET6 },
			*res;
	int fd, one = 1, zero = 0, ret;

	ret = getaddrinfo(r->listen_addr, r->port, &hints, &res);
	if (ret && !r->listen_addr) { /* no IPv6 here */
		hints.ai_family = AF_INET;
		ret = getaddrinfo(NULL, r->port, &hints, &res);
	}
	if (ret) {
		fprintf(stderr, "zcopy recv: cannot listen on %s port %s: %s\n",
			r->listen_addr ? r->listen_addr : "*", r->port,
			gai_strerror(ret));
		return -EINVAL;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (res->ai_family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero,
				   sizeof(zero));
		if (bind(fd, res->ai_addr, res->ai_addrlen) || listen(fd, 1)) {
			ret = errno;
			close(fd);
			fd = -ret;
		}
	} else {
		fd = -errno;
	}
	freeaddrinfo(res);
	if (fd < 0)
		fprintf(stderr, "zcopy recv: cannot listen on %s port %s: %s\n",
			r->listen_addr ? r->listen_addr : "*", r->port,
			strerror(-fd));
	return fd;
}

static void say_ready(const struct receiver *r, int lfd, bool generated)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char host[NI_MAXHOST] = "?", port[NI_MAXSERV] = "?";

	getsockname(lfd, (struct sockaddr *)&ss, &len);
	getnameinfo((struct sockaddr *)&ss, len, host, sizeof(host), port,
		    sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV);
	fprintf(stderr, "zcopy recv: listening on %s port %s, saving into %s\n",
		host, port, r->dir);
	if (generated)
		fprintf(stderr,
			"zcopy recv: token: %s  (zcopy send --token %s "
			"FILE... HOST:%s)\n",
			r->token, r->token, port);
	fflush(stderr);
}

static int accept_one(int lfd)
{
	int fd;

	do
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	if (fd < 0)
		fprintf(stderr, "zcopy recv: accept: %s\n", strerror(errno));
	return fd;
}

/* ---- the command line --------------------------------------------------- */

static void help(void)
{
	printf("Usage: zcopy recv [options] [DIR]\n"
	       "Receive files and directory trees from one 'zcopy send' "
	       "into DIR (.), then exit.\nEach file is verified (XXH3-128) "
	       "before it is renamed into place.\n\n"
	       "  -p, --port PORT     TCP port (%d; 0: any, printed)\n"
	       "  -l, --listen ADDR   address to listen on (all)\n"
	       "  -t, --token TOKEN   what the sender must show (or "
	       "ZCOPY_TOKEN; default: a new one, printed)\n"
	       "  -f, --force         overwrite existing files\n"
	       "  -T, --timeout SEC   give up on a sender quiet this long "
	       "(%d)\n"
	       "  -j, --json          summary as JSON on stdout\n"
	       "  -q, --quiet         no progress line, no summary\n"
	       "  -h, --help\n"
	       "Exit status: 0 all received and verified, 1 anything refused "
	       "or failed, 2 bad usage.\n",
	       XF_PORT, XF_TIMEOUT_S);
}

static int usage_error(const char *what, const char *arg)
{
	fprintf(stderr, "zcopy recv: %s: '%s'\nTry 'zcopy recv --help'.\n",
		what, arg);
	return ZC_EXIT_USAGE;
}

static int parse_args(struct receiver *r, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "listen", required_argument, NULL, 'l' },
		{ "token", required_argument, NULL, 't' },
		{ "force", no_argument, NULL, 'f' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "p:l:t:fT:jqh", lo, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (strtol(optarg, &end, 10) > 65535 || *end ||
			    end == optarg || *optarg == '-')
				return usage_error("--port: not a port",
						   optarg);
			r->port = optarg;
			break;
		case 'l':
			r->listen_addr = optarg;
			break;
		case 't':
			r->token = optarg;
			break;
		case 'f':
			r->force = true;
			break;
		case 'T':
			r->timeout_s = (int)strtol(optarg, &end, 10);
			if (*end || r->timeout_s < 1 || r->timeout_s > 86400)
				return usage_error("--timeout: not 1..86400 "
						   "seconds",
						   optarg);
			break;
		case 'j':
			r->json = true;
			break;
		case 'q':
			r->quiet = true;
			break;
		case 'h':
			help();
			return -1;
		default:
			fprintf(stderr, "Try 'zcopy recv --help'.\n");
			return ZC_EXIT_USAGE;
		}
	}
	if (argc - optind > 1)
		return usage_error("unexpected argument", argv[optind + 1]);
	r->dir = optind < argc ? argv[optind] : ".";
	return 0;
}

/* The token: given, from ZCOPY_TOKEN, or made here (true). */
static bool pick_token(struct receiver *r)
{
	uint8_t rnd[12];

	if (!r->token)
		r->token = getenv("ZCOPY_TOKEN");
	if (r->token && *r->token)
		return false;
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		for (size_t i = 0; i < sizeof(rnd); i++)
			rnd[i] = (uint8_t)(xf_now_ms() * 2654435761u >> i);
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(r->token_buf + 2 * i, 3, "%02x", rnd[i]);
	r->token = r->token_buf;
	return true;
}

static bool token_valid(const char *t)
{
	size_t n = strlen(t);

	if (n > XF_MAX_TOKEN)
		return false;
	for (size_t i = 0; i < n; i++)
		if (t[i] < 0x21 || t[i] > 0x7e)
			return false;
	return true;
}

static int serve(struct receiver *r, bool generated)
{
	int lfd = listen_on(r), fd, ret;
	struct xf_conn *conn;

	if (lfd < 0)
		return lfd;
	say_ready(r, lfd, generated);
	fd = accept_one(lfd);
	close(lfd);
	if (fd < 0)
		return fd;
	conn = malloc(sizeof(*conn));
	r->buf = malloc(XF_IO_BUF);
	if (!conn || !r->buf) {
		free(conn);
		close(fd);
		return -ENOMEM;
	}
	xf_conn_init(conn, fd, r->timeout_s);
	r->conn = conn;
	r->tally.ms = -xf_now_ms(); /* the session's time, not the wait */
	ret = session(r);
	r->tally.ms += xf_now_ms();
	xf_progress_end(&r->prog);
	close(fd);
	free(conn);
	free(r->buf);
	return ret;
}

int zc_cmd_recv(int argc, char **argv)
{
	struct receiver r = { .timeout_s = XF_TIMEOUT_S, .root = -1 };
	char portbuf[8];
	bool generated;
	int ret = parse_args(&r, argc, argv);

	if (ret)
		return ret < 0 ? ZC_EXIT_OK : ret;
	generated = pick_token(&r);
	if (!token_valid(r.token))
		return usage_error("token: 1..128 printable characters, no "
				   "spaces",
				   r.token);
	snprintf(portbuf, sizeof(portbuf), "%d", XF_PORT);
	if (!r.port)
		r.port = portbuf;
	r.root = open(r.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (r.root < 0) {
		fprintf(stderr, "zcopy recv: %s: %s\n", r.dir, strerror(errno));
		return ZC_EXIT_FAIL;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	ret = serve(&r, generated);
	if (!r.quiet || r.json)
		xf_summary(r.json ? stdout : stderr, "recv", &r.tally, r.json);
	close(r.root);
	return ret || r.tally.failed ? ZC_EXIT_FAIL : ZC_EXIT_OK;
}
