/* SPDX-License-Identifier: MIT */
/* zcopy relay LISTEN TARGET: the command line, listeners, threads and
 * counters; the engines are relay_zc.c and relay_splice.c. */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli.h"
#include "relay.h"

#define RELAY_MAX_THREADS 64

static volatile int stop;
static pthread_mutex_t count_lock = PTHREAD_MUTEX_INITIALIZER;
static struct relay_count totals;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* ---- services of the engines --------------------------------------------- */

void relay_pair_done(const struct relay_opts *o, unsigned id,
		     const struct relay_count *c, int64_t ms, const char *how)
{
	pthread_mutex_lock(&count_lock);
	totals.conns++;
	totals.up += c->up;
	totals.down += c->down;
	totals.resets += !strcmp(how, "reset");
	totals.failed_connects += !strcmp(how, "connect failed");
	if (o->json)
		printf("{\"connection\": %u, \"up_bytes\": %llu, "
		       "\"down_bytes\": %llu, \"ms\": %lld, \"end\": \"%s\"}\n",
		       id, (unsigned long long)c->up,
		       (unsigned long long)c->down, (long long)ms, how);
	else if (o->verbose)
		fprintf(stderr,
			"zcopy relay: connection %u: %llu bytes up, %llu down, "
			"%.3f s, %s%s%s%s%s\n",
			id, (unsigned long long)c->up,
			(unsigned long long)c->down, (double)ms / 1000, how,
			c->err ? " (" : "", c->err ? strerror(-c->err) : "",
			c->err ? (c->side ? " on the target side"
					  : " on the "
					    "client side")
			       : "",
			c->err ? ")" : "");
	fflush(o->json ? stdout : stderr);
	pthread_mutex_unlock(&count_lock);
}

int relay_connect(const struct relay_opts *o)
{
	int fd = socket(o->target.ss_family,
			SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)&o->target, o->target_len) &&
	    errno != EINPROGRESS) {
		int err = errno;

		close(fd);
		return -err;
	}
	return fd;
}

int relay_connected(int fd)
{
	socklen_t len = sizeof(int);
	int err = 0;

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len))
		return -errno;
	return -err;
}

void relay_reset_close(int fd)
{
	struct linger l = { 1, 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	close(fd);
}

/* ---- listeners and threads ------------------------------------------------ */

/* [ADDR:]PORT, or [V6]:PORT. */
static int parse_hostport(const char *s, bool passive, struct addrinfo **out)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = passive ? AI_PASSIVE : 0 };
	char host[256] = "", port[16] = "";
	const char *colon = strrchr(s, ':');

	if (s[0] == '[' && strchr(s, ']') && strchr(s, ']')[1] == ':') {
		const char *end = strchr(s, ']');

		snprintf(host, sizeof(host), "%.*s", (int)(end - s - 1), s + 1);
		snprintf(port, sizeof(port), "%s", end + 2);
	} else if (colon) {
		snprintf(host, sizeof(host), "%.*s", (int)(colon - s), s);
		snprintf(port, sizeof(port), "%s", colon + 1);
	} else if (passive) {
		snprintf(port, sizeof(port), "%s", s);
	} else {
		return EAI_NONAME;
	}
	return getaddrinfo(*host ? host : NULL, port, &hints, out);
}

/* A listener on addr; port 0 on the first one picks the port the others
 * share (SO_REUSEPORT: the kernel spreads connections over them). */
static int listener(const struct sockaddr *addr, socklen_t len)
{
	int fd = socket(addr->sa_family,
			SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (bind(fd, addr, len) || listen(fd, 1024)) {
		int err = errno;

		close(fd);
		return -err;
	}
	return fd;
}

struct thread_arg {
	const struct relay_opts *o;
	int lfd;
	int ret;
	pthread_t th;
};

static void *thread_main(void *arg)
{
	struct thread_arg *t = arg;

	t->ret = t->o->engine == RELAY_ZC
			 ? relay_run_zc(t->o, t->lfd, &stop)
			 : relay_run_splice(t->o, t->lfd, &stop);
	if (t->ret) {
		fprintf(stderr, "zcopy relay: a worker failed: %s\n",
			strerror(-t->ret));
		stop = 1;
	}
	return NULL;
}

/* Listeners for every thread on the same address and port; prints it. */
static int open_listeners(const struct relay_opts *o, const char *listen_arg,
			  struct thread_arg *t)
{
	struct sockaddr_storage ss;
	struct addrinfo *ai;
	socklen_t len;
	int ret = parse_hostport(listen_arg, true, &ai);

	if (ret) {
		fprintf(stderr, "zcopy relay: cannot listen on '%s': %s\n",
			listen_arg, gai_strerror(ret));
		return -EINVAL;
	}
	memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
	len = ai->ai_addrlen;
	freeaddrinfo(ai);
	for (int i = 0; i < o->threads; i++) {
		t[i].o = o;
		t[i].lfd = listener((struct sockaddr *)&ss, len);
		if (t[i].lfd < 0) {
			fprintf(stderr,
				"zcopy relay: cannot listen on '%s': %s\n",
				listen_arg, strerror(-t[i].lfd));
			while (i--)
				close(t[i].lfd);
			return -EINVAL;
		}
		/* The others take the port the first one got. */
		getsockname(t[i].lfd, (struct sockaddr *)&ss, &len);
	}
	fprintf(stderr,
		"zcopy relay: listening on port %u, to %s, engine %s, %d "
		"threads\n",
		ntohs(ss.ss_family == AF_INET6
			      ? ((struct sockaddr_in6 *)&ss)->sin6_port
			      : ((struct sockaddr_in *)&ss)->sin_port),
		o->target_name, o->engine == RELAY_ZC ? "zc" : "splice",
		o->threads);
	fflush(stderr);
	return 0;
}

/* ---- the command line ------------------------------------------------------- */

static void help(void)
{
	printf("Usage: zcopy relay [options] [ADDR:]PORT HOST:PORT\n"
	       "Accept TCP connections on PORT and relay each to HOST:PORT, "
	       "both ways,\nwithout copying the bytes in user space.\n\n"
	       "  -e, --engine E      splice (default) or zc (zcopy buffers)\n"
	       "  -t, --threads N     worker threads, one context each (CPUs)\n"
	       "  -v, --verbose       a line per connection when it ends\n"
	       "  -j, --json          a JSON line per connection on stdout\n"
	       "  -h, --help\n"
	       "Runs until SIGINT or SIGTERM, then prints the totals.\n"
	       "Exit status: 0 stopped by a signal, 1 runtime failure, 2 bad "
	       "usage.\n");
}

static int usage(const char *what, const char *arg)
{
	fprintf(stderr, "zcopy relay: %s: '%s'\nTry 'zcopy relay --help'.\n",
		what, arg);
	return ZC_EXIT_USAGE;
}

static int parse_target(struct relay_opts *o, const char *arg)
{
	struct addrinfo *ai;
	int ret = parse_hostport(arg, false, &ai);

	if (ret) {
		fprintf(stderr, "zcopy relay: bad target '%s': %s\n", arg,
			gai_strerror(ret));
		return ZC_EXIT_USAGE;
	}
	memcpy(&o->target, ai->ai_addr, ai->ai_addrlen);
	o->target_len = ai->ai_addrlen;
	freeaddrinfo(ai);
	snprintf(o->target_name, sizeof(o->target_name), "%s", arg);
	return 0;
}

static int parse_args(struct relay_opts *o, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "engine", required_argument, NULL, 'e' },
		{ "threads", required_argument, NULL, 't' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "e:t:vjh", lo, NULL)) != -1) {
		switch (c) {
		case 'e':
			if (!strcmp(optarg, "zc"))
				o->engine = RELAY_ZC;
			else if (!strcmp(optarg, "splice"))
				o->engine = RELAY_SPLICE;
			else
				return usage("unknown engine (zc, splice)",
					     optarg);
			break;
		case 't':
			o->threads = (int)strtol(optarg, &end, 10);
			if (*end || o->threads < 1 ||
			    o->threads > RELAY_MAX_THREADS)
				return usage("--threads: not 1..64", optarg);
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'j':
			o->json = true;
			break;
		case 'h':
			help();
			return -1;
		default:
			fprintf(stderr, "Try 'zcopy relay --help'.\n");
			return ZC_EXIT_USAGE;
		}
	}
	if (argc - optind != 2)
		return usage("needs LISTEN and TARGET",
			     argc > optind ? argv[optind] : "");
	return parse_target(o, argv[optind + 1]);
}

int zc_cmd_relay(int argc, char **argv)
{
	struct relay_opts o = { .engine = RELAY_SPLICE };
	struct thread_arg t[RELAY_MAX_THREADS];
	int ret = parse_args(&o, argc, argv);

	if (ret)
		return ret < 0 ? ZC_EXIT_OK : ret;
	if (!o.threads)
		o.threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (o.threads < 1 || o.threads > RELAY_MAX_THREADS)
		o.threads = 1;
	if (open_listeners(&o, argv[optind], t))
		return ZC_EXIT_USAGE;
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	for (int i = 0; i < o.threads; i++)
		pthread_create(&t[i].th, NULL, thread_main, &t[i]);
	ret = 0;
	for (int i = 0; i < o.threads; i++) {
		pthread_join(t[i].th, NULL);
		close(t[i].lfd);
		ret |= t[i].ret;
	}
	fprintf(stderr,
		"zcopy relay: %llu connections (%llu reset, %llu could not "
		"reach the target), %llu bytes up, %llu down\n",
		(unsigned long long)totals.conns,
		(unsigned long long)totals.resets,
		(unsigned long long)totals.failed_connects,
		(unsigned long long)totals.up, (unsigned long long)totals.down);
	return ret ? ZC_EXIT_FAIL : ZC_EXIT_OK;
}
