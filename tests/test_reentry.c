/* SPDX-License-Identifier: MIT */
/*
 * Re-entry and honesty.  The application sends its next chunk from inside
 * each completion callback (every transport, on loopback and across veth),
 * keeps doing so while the socket is closed or its context destroyed,
 * attaches one socket twice, asks zc_strerror() for odd values, and must
 * be told the truth about sends a reset caught in flight.
 *
 * Each case runs in a forked child with a watchdog (nu_fork_run), so a
 * hang fails the case instead of stalling the suite.  Children print the
 * first rule they saw broken (on stdout, in order with the rest) and exit
 * non-zero; NU_SKIP means skipped, with the reason printed.
 *
 * Contract checked here (the library's promises):
 *  - every send zc_send() accepted (returned 0) gets exactly one callback;
 *    a negative return means no callback;
 *  - callbacks run only from zc_ctx_process() (and from close/destroy),
 *    never inside zc_send();
 *  - once close or destroy began, zc_send() from a callback returns
 *    -ESHUTDOWN; close returns within its timeout;
 *  - a socket is attached once: the fd again, or a dup() of it, is
 *    -EEXIST until zc_sock_close();
 *  - zc_strerror() returns static, non-empty text for any int;
 *  - sends a reset or ss -K caught in flight complete as ERROR with the
 *    socket's error (or ABANDONED at close), never ZEROCOPY or COPIED,
 *    and stats.last_error keeps that first fatal error.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "netutil.h"

/* Callback-driven transfer: 64 MiB (16 MiB under ASan, for time). */
#define CHAIN_TOTAL (NU_ASAN ? 16ull << 20 : 64ull << 20)
#define CHAIN_DEADLINE_MS 25000
/* Sends in flight at once: the slots primed before callbacks take over. */
#define SLOTS 4
#define SLOT_SIZE (1u << 20)
/* Ids a child may use; a library that keeps accepting sends during close
 * would otherwise loop for ever. */
#define MAX_SENDS 4096u
/* A send in flight with no wake-up for this long is a lost wake-up. */
#define STALL_MS 5000
/* No callback for this long: the peer that stopped reading holds all. */
#define QUIET_MS 300
#define FILL_DEADLINE_MS 10000
#define DRAIN_DEADLINE_MS 5000
#define CLOSE_TIMEOUT_MS 500
#define CLOSE_MARGIN_MS 3000
/* Socket buffers for the cases where the peer stops reading. */
#define SMALL_SNDBUF (256 << 10)
#define SMALL_RCVBUF (64 << 10)

#define WATCHDOG_CHAIN_S 40
#define WATCHDOG_S 20

/* Outside cmocka (forked children): print and fail the child. */
#define CHECK(cond)                                                   \
	do {                                                          \
		if (!(cond)) {                                        \
			printf("%s:%d: CHECK(%s) failed\n", __FILE__, \
			       __LINE__, #cond);                      \
			return 1;                                     \
		}                                                     \
	} while (0)

static const size_t mixed_sizes[] = { 1, 4095, 4096, 65536, 200000, 1 << 20 };
static const size_t large_sizes[] = { 65536, 262144, 1 << 20 };

/* How a case ends the connection or the socket. */
enum how {
	HOW_NONE,
	HOW_CLOSE_SOCK,	 /* zc_sock_close() */
	HOW_DESTROY_CTX, /* zc_ctx_destroy() with the socket attached */
	HOW_PEER_RESET,	 /* the receiver closes with SO_LINGER {1, 0} */
	HOW_SS_KILL,	 /* ss -K on the sender's connection */
};

struct rcase {
	int (*child)(void *arg);
	enum zc_tx_mode tx;
	enum how how;
	bool veth;	   /* across the namespace pair, not loopback */
	bool strict_ctx;   /* callbacks only from zc_ctx_process() */
	uint64_t total;	   /* bytes, 0: CHAIN_TOTAL */
	unsigned watchdog; /* seconds, 0: WATCHDOG_S */
	int value;	   /* strerror cases */
};

/* The namespace pair of a veth case: the parent builds and removes it. */
static struct nu_netns g_ns;

/* ---- a sender driven by its completion callbacks ------------------------ */

struct chain;

/* One send id: its slot, and what its callbacks said. */
struct ch_send {
	struct chain *ch;
	unsigned slot;
	uint8_t calls;
	bool at_fault; /* accepted, not completed when the fault struck */
	bool in_close; /* completed while close/destroy ran */
	enum zc_result result;
	int error;
};

struct ch_slot {
	unsigned char *mem;
	size_t len;
	bool busy;
};

struct chain {
	/* in */
	enum zc_tx_mode tx;
	uint64_t total; /* stream bytes to send */
	const size_t *sizes;
	unsigned nsizes;
	bool cb_sends; /* each callback sends the next chunk */
	bool fixed;    /* slots in a region registered with the context */
	int close_timeout_ms;
	unsigned max_inflight;
	/* state */
	struct zc_ctx *ctx;
	struct zc_sock *sock;
	struct zc_region *region;
	int cfd; /* zc_ctx_fd() */
	struct ch_slot slots[SLOTS];
	struct ch_send *sends;
	unsigned nsends; /* ids handed out */
	uint64_t off;	 /* stream offset of the next chunk */
	unsigned size_i;
	bool in_lib; /* inside zc_ctx_process(), close or destroy */
	unsigned in_cb;
	bool closing;
	bool capped; /* MAX_SENDS reached */
	/* out */
	uint64_t accepted;
	uint64_t completed; /* first callbacks */
	uint64_t callbacks; /* all callbacks, duplicates too */
	uint64_t dups;
	uint64_t results[4];
	uint64_t cb_sent;	 /* sends accepted inside a callback */
	uint64_t cb_deferred;	 /* -EAGAIN inside a callback */
	uint64_t cb_outside;	 /* callbacks not from zc_ctx_process() */
	uint64_t close_cbs;	 /* callbacks while close ran */
	uint64_t close_refused;	 /* -ESHUTDOWN to their sends */
	uint64_t close_accepted; /* sends accepted while close ran */
	int close_bad;		 /* first other return during close */
	int send_error;		 /* first error zc_send() returned */
	int cb_error;		 /* first error a completion reported */
	int close_ret;
	struct zc_stats st;
};

static int ch_cb_send(struct chain *ch, unsigned slot);

static void ch_cb(struct zc_sock *sock, const struct zc_completion *c,
		  void *arg)
{
	struct ch_send *s = arg;
	struct chain *ch = s->ch;
	struct ch_slot *slot = &ch->slots[s->slot];

	(void)sock;
	ch->callbacks++;
	if (!ch->in_lib || ch->in_cb)
		ch->cb_outside++;
	if (s->calls++) {
		ch->dups++;
		return;
	}
	ch->completed++;
	ch->results[c->result]++;
	s->result = c->result;
	s->error = c->error;
	s->in_close = ch->closing;
	if (c->result == ZC_RESULT_ERROR && !ch->cb_error)
		ch->cb_error = c->error;
	/* The memory is ours again: prove nobody still reads it. */
	memset(slot->mem, NU_GARBAGE, slot->len);
	slot->busy = false;
	if (ch->closing)
		ch->close_cbs++;
	if (!ch->cb_sends)
		return;
	ch->in_cb++;
	ch_cb_send(ch, s->slot);
	ch->in_cb--;
}

/* Fill a free slot with the next chunk and send it.  The state moves on
 * before zc_send(), whose callback may run at once (and send the chunk
 * after this one); a refusal puts it back, as nothing ran then. */
static int ch_send(struct chain *ch, unsigned slot)
{
	struct ch_slot *s = &ch->slots[slot];
	size_t len = ch->sizes[ch->size_i % ch->nsizes];
	uint64_t off = ch->off;
	unsigned id = ch->nsends;
	struct iovec iov;
	int ret;

	if (id >= MAX_SENDS) {
		if (!ch->capped)
			printf("the test's cap of %u sends reached: "
			       "-ENOSPC from here on\n",
			       MAX_SENDS);
		ch->capped = true;
		return -ENOSPC;
	}
	if (len > ch->total - off)
		len = (size_t)(ch->total - off);
	for (size_t i = 0; i < len; i++)
		s->mem[i] = nu_pattern(off + i);
	s->len = len;
	s->busy = true;
	ch->sends[id] = (struct ch_send){ .ch = ch, .slot = slot };
	ch->nsends++;
	ch->off += len;
	ch->size_i++;
	ch->accepted++;
	if (ch->closing)
		ch->close_accepted++;
	iov = (struct iovec){ s->mem, len };
	ret = zc_send(ch->sock, &iov, 1, ch_cb, &ch->sends[id]);
	if (ret) {
		s->busy = false;
		ch->nsends--;
		ch->off = off;
		ch->size_i--;
		ch->accepted--;
		if (ch->closing)
			ch->close_accepted--;
	}
	return ret;
}

static int ch_cb_send(struct chain *ch, unsigned slot)
{
	int ret;

	if (ch->off >= ch->total)
		return 0;
	ret = ch_send(ch, slot);
	if (!ret) {
		ch->cb_sent++;
		return 0;
	}
	if (ch->closing) {
		if (ret == -ESHUTDOWN)
			ch->close_refused++;
		else if (!ch->close_bad)
			ch->close_bad = ret;
		return ret;
	}
	/* The slot stays free: the main loop sends it later. */
	if (ret == -EAGAIN)
		ch->cb_deferred++;
	else if (!ch->send_error)
		ch->send_error = ret;
	return ret;
}

/* Send on every free slot (priming, and sends a callback deferred). */
static int ch_refill(struct chain *ch)
{
	for (unsigned i = 0; i < SLOTS && ch->off < ch->total; i++) {
		int ret;

		if (ch->slots[i].busy)
			continue;
		ret = ch_send(ch, i);
		if (ret == -EAGAIN)
			return 0;
		if (ret) {
			if (!ch->send_error)
				ch->send_error = ret;
			return ret;
		}
	}
	return 0;
}

/* Wait on the context fd, then run what is due.  Callbacks run, or
 * -ETIME if the fd stayed quiet for timeout_ms. */
static int ch_process(struct chain *ch, int timeout_ms)
{
	struct pollfd p = { .fd = ch->cfd, .events = POLLIN };
	int ret;

	ret = poll(&p, 1, timeout_ms);
	if (ret < 0)
		return errno == EINTR ? 0 : -errno;
	if (!ret)
		return -ETIME;
	ch->in_lib = true;
	ret = zc_ctx_process(ch->ctx, 0);
	ch->in_lib = false;
	return ret;
}

static bool ch_is_uring(const struct chain *ch)
{
	return ch->tx == ZC_TX_URING || ch->tx == ZC_TX_URING_FIXED;
}

static int ch_setup_ctx(struct chain *ch)
{
	struct zc_ctx_opts co = { .close_timeout_ms = ch->close_timeout_ms };
	int ret;

	ret = zc_ctx_create(&co, &ch->ctx);
	if (ret)
		return ret;
	ret = zc_region_create((size_t)SLOTS * SLOT_SIZE, ZC_REGION_NOLOCK,
			       &ch->region);
	if (ret)
		return ret;
	for (unsigned i = 0; i < SLOTS; i++)
		ch->slots[i].mem = (unsigned char *)zc_region_base(ch->region) +
				   (size_t)i * SLOT_SIZE;
	if (!ch->fixed)
		return 0;
	ret = zc_ctx_register_region(ch->ctx, ch->region);
	if (ret) {
		printf("skip: cannot register a fixed buffer region: %s\n",
		       zc_strerror(ret));
		return NU_SKIP;
	}
	return 0;
}

/* Context, slots and the socket on fd.  0, NU_SKIP (reason printed) or a
 * negative errno; ch_fini() cleans up in every case. */
static int ch_start(struct chain *ch, int fd)
{
	struct zc_sock_opts so = { .tx = ch->tx,
				   .close_timeout_ms = ch->close_timeout_ms,
				   .max_inflight = ch->max_inflight };
	int ret;

	ch->sends = calloc(MAX_SENDS, sizeof(*ch->sends));
	if (!ch->sends)
		return -ENOMEM;
	ret = ch_setup_ctx(ch);
	if (ret)
		return ret;
	ret = zc_sock_attach(ch->ctx, fd, &so, &ch->sock);
	if (ret == -EOPNOTSUPP || ret == -ENOSYS || ret == -EPERM) {
		printf("skip: transport %s is not available: %s\n",
		       zc_tx_mode_name(ch->tx), zc_strerror(ret));
		return NU_SKIP;
	}
	if (ret)
		return ret;
	ch->cfd = zc_ctx_fd(ch->ctx);
	if (ch->cfd < 0)
		return ch->cfd;
	zc_sock_stats(ch->sock, &ch->st);
	if (ch_is_uring(ch) && ch->st.uring_error) {
		printf("skip: io_uring is not available: %s\n",
		       zc_strerror(ch->st.uring_error));
		return NU_SKIP;
	}
	return 0;
}

static int ch_close(struct chain *ch)
{
	int ret;

	ch->in_lib = true;
	ret = zc_sock_close(ch->sock);
	ch->in_lib = false;
	ch->sock = NULL;
	return ret;
}

static void ch_fini(struct chain *ch)
{
	if (ch->sock)
		ch_close(ch);
	zc_ctx_destroy(ch->ctx);
	if (ch->region)
		zc_region_destroy(ch->region);
	free(ch->sends);
}

static void ch_print(const char *what, const struct chain *ch)
{
	printf("%s %s: accepted %llu (from callbacks %llu, deferred %llu) "
	       "callbacks %llu dup %llu outside-process %llu | zc %llu "
	       "copied %llu error %llu abandoned %llu | send_error %d "
	       "cb_error %d close %d\n",
	       what, zc_tx_mode_name(ch->tx), (unsigned long long)ch->accepted,
	       (unsigned long long)ch->cb_sent,
	       (unsigned long long)ch->cb_deferred,
	       (unsigned long long)ch->callbacks, (unsigned long long)ch->dups,
	       (unsigned long long)ch->cb_outside,
	       (unsigned long long)ch->results[ZC_RESULT_ZEROCOPY],
	       (unsigned long long)ch->results[ZC_RESULT_COPIED],
	       (unsigned long long)ch->results[ZC_RESULT_ERROR],
	       (unsigned long long)ch->results[ZC_RESULT_ABANDONED],
	       ch->send_error, ch->cb_error, ch->close_ret);
}

/* Every id handed out was called back exactly once. */
static int ch_exactly_once(const struct chain *ch)
{
	unsigned missing = 0;

	for (unsigned i = 0; i < ch->nsends; i++)
		missing += ch->sends[i].calls != 1;
	if (missing)
		printf("%u of %u sends not called back exactly once\n", missing,
		       ch->nsends);
	CHECK(!missing);
	CHECK(!ch->dups);
	CHECK(ch->callbacks == ch->accepted);
	return 0;
}

/* Send until every byte is accepted and every callback ran.  0, or -1
 * with the reason printed. */
static int ch_pump(struct chain *ch, int64_t deadline)
{
	while (ch->off < ch->total || ch->completed < ch->accepted) {
		int ret;

		if (ch_refill(ch) || ch->send_error) {
			printf("zc_send: %d (%s)\n", ch->send_error,
			       zc_strerror(ch->send_error));
			return -1;
		}
		if (ch->off >= ch->total && ch->completed >= ch->accepted)
			break;
		if (nu_now_ms() > deadline) {
			printf("deadline: %llu of %llu bytes sent\n",
			       (unsigned long long)ch->off,
			       (unsigned long long)ch->total);
			return -1;
		}
		ret = ch_process(ch, STALL_MS);
		if (ret == -ETIME) {
			printf("stalled: no wake-up in %d ms with %llu "
			       "sends in flight\n",
			       STALL_MS,
			       (unsigned long long)(ch->accepted -
						    ch->completed));
			return -1;
		}
		if (ret < 0) {
			printf("zc_ctx_process: %d\n", ret);
			return -1;
		}
	}
	return 0;
}

/* Send from callbacks until the peer, which never reads, holds all it
 * will take and our send queue holds the rest: nothing completes for
 * QUIET_MS while sends are in flight and both ends have data queued. */
static int ch_fill(struct chain *ch, int snd, int peer)
{
	int64_t deadline = nu_now_ms() + FILL_DEADLINE_MS;

	while (nu_now_ms() < deadline) {
		int ret;

		if (ch_refill(ch) || ch->send_error) {
			printf("zc_send: %d\n", ch->send_error);
			return -1;
		}
		ret = ch_process(ch, QUIET_MS);
		if (ret != -ETIME && ret < 0)
			return -1;
		if (ret == -ETIME && ch->completed &&
		    ch->completed < ch->accepted && nu_outq(snd) > 0 &&
		    nu_inq(peer) > 0)
			return 0;
	}
	printf("never filled: completed %llu of %llu, outq %d, peer inq %d\n",
	       (unsigned long long)ch->completed,
	       (unsigned long long)ch->accepted, nu_outq(snd), nu_inq(peer));
	return -1;
}

/* ---- 1. the next chunk from the completion callback --------------------- */

static int chain_check(const struct rcase *c, struct chain *ch, int64_t got)
{
	CHECK(ch_exactly_once(ch) == 0);
	CHECK(got == (int64_t)ch->total);
	CHECK(ch->results[ZC_RESULT_ZEROCOPY] + ch->results[ZC_RESULT_COPIED] ==
	      ch->accepted);
	CHECK(ch->close_ret == 0);
	/* The callbacks really did the sending. */
	CHECK(ch->cb_sent > 0);
	if (ch->fixed)
		CHECK(ch->st.fixed_sends > 0);
	if (c->strict_ctx)
		CHECK(ch->cb_outside == 0);
	return 0;
}

static int chain_child(void *arg)
{
	const struct rcase *c = arg;
	struct chain ch = { .tx = c->tx,
			    .total = c->total ? c->total : CHAIN_TOTAL,
			    .sizes = mixed_sizes,
			    .nsizes = sizeof(mixed_sizes) / sizeof(size_t),
			    .cb_sends = true,
			    .fixed = c->tx == ZC_TX_URING_FIXED };
	struct nu_rx_thread *rx;
	int snd, rcv, ret;
	int64_t got;

	CHECK(!nu_netns_tcp_pair(c->veth ? &g_ns : NULL, &snd, &rcv));
	CHECK(!nu_set_nonblock(snd));
	ret = ch_start(&ch, snd);
	if (ret) {
		ch_fini(&ch);
		return ret == NU_SKIP ? NU_SKIP : 1;
	}
	rx = nu_rx_start_tcp(rcv, ch.total);
	CHECK(rx);
	ret = ch_pump(&ch, nu_now_ms() + CHAIN_DEADLINE_MS);
	zc_sock_stats(ch.sock, &ch.st);
	ch.close_ret = ch_close(&ch);
	got = nu_rx_join(rx, NULL);
	close(rcv);
	ch_print(c->veth ? "veth" : "loopback", &ch);
	printf("received %lld of %llu bytes, fixed sends %llu\n",
	       (long long)got, (unsigned long long)ch.total,
	       (unsigned long long)ch.st.fixed_sends);
	if (!ret)
		ret = chain_check(c, &ch, got);
	ch_fini(&ch);
	return ret ? 1 : 0;
}

/* ---- 2. close while callbacks keep sending ------------------------------ */

static int close_check(const struct rcase *c, const struct chain *ch,
		       int64_t took)
{
	if (ch->close_bad)
		printf("zc_send in close returned %d (%s)\n", ch->close_bad,
		       zc_strerror(ch->close_bad));
	CHECK(took < CLOSE_TIMEOUT_MS + CLOSE_MARGIN_MS);
	CHECK(ch_exactly_once(ch) == 0);
	/* Something was in flight, so close ran callbacks, and each one's
	 * send was refused with -ESHUTDOWN. */
	CHECK(ch->close_cbs > 0);
	CHECK(ch->close_accepted == 0);
	CHECK(ch->close_bad == 0);
	CHECK(ch->close_refused == ch->close_cbs);
	if (c->how == HOW_CLOSE_SOCK)
		CHECK(ch->close_ret == -ETIMEDOUT);
	return 0;
}

static int close_child(void *arg)
{
	const struct rcase *c = arg;
	struct chain ch = { .tx = c->tx,
			    .total = UINT64_MAX,
			    .sizes = mixed_sizes,
			    .nsizes = sizeof(mixed_sizes) / sizeof(size_t),
			    .cb_sends = true,
			    .fixed = c->tx == ZC_TX_URING_FIXED,
			    .close_timeout_ms = CLOSE_TIMEOUT_MS };
	int snd, rcv, ret;
	int64_t t0, took;

	CHECK(!nu_tcp_pair_bufs(SMALL_SNDBUF, SMALL_RCVBUF, &snd, &rcv));
	CHECK(!nu_set_nonblock(snd));
	ret = ch_start(&ch, snd);
	if (!ret)
		ret = ch_fill(&ch, snd, rcv);
	if (ret) {
		ch_fini(&ch);
		return ret == NU_SKIP ? NU_SKIP : 1;
	}
	printf("filled: %llu sends in flight, outq %d, peer inq %d\n",
	       (unsigned long long)(ch.accepted - ch.completed), nu_outq(snd),
	       nu_inq(rcv));
	ch.closing = true;
	ch.in_lib = true;
	t0 = nu_now_ms();
	if (c->how == HOW_CLOSE_SOCK) {
		ch.close_ret = zc_sock_close(ch.sock);
	} else {
		zc_ctx_destroy(ch.ctx);
		ch.ctx = NULL;
	}
	took = nu_now_ms() - t0;
	ch.in_lib = false;
	ch.sock = NULL;
	close(rcv);
	ch_print(c->how == HOW_CLOSE_SOCK ? "sock close" : "ctx destroy", &ch);
	printf("close took %lld ms: %llu callbacks, %llu sends refused "
	       "(-ESHUTDOWN), %llu accepted, other %d\n",
	       (long long)took, (unsigned long long)ch.close_cbs,
	       (unsigned long long)ch.close_refused,
	       (unsigned long long)ch.close_accepted, ch.close_bad);
	ret = close_check(c, &ch, took);
	ch_fini(&ch);
	return ret;
}

/* ---- 5. honesty on resets ----------------------------------------------- */

/* What the sends in flight at the fault said: claims of success, errors
 * other than the socket's, and the socket's error. */
struct fault_tally {
	unsigned at_fault;
	unsigned claimed; /* ZEROCOPY or COPIED */
	unsigned right;	  /* ERROR with the socket's error */
	unsigned abandoned;
	unsigned cancelled; /* ERROR -ECANCELED while close ran */
	unsigned wrong;	    /* ERROR with another error */
	int wrong_error;
};

static void fault_tally(const struct chain *ch, int want, struct fault_tally *t)
{
	memset(t, 0, sizeof(*t));
	for (unsigned i = 0; i < ch->nsends; i++) {
		const struct ch_send *s = &ch->sends[i];

		if (!s->at_fault)
			continue;
		t->at_fault++;
		if (s->result == ZC_RESULT_ZEROCOPY ||
		    s->result == ZC_RESULT_COPIED) {
			t->claimed++;
		} else if (s->result == ZC_RESULT_ABANDONED) {
			t->abandoned++;
		} else if (s->error == want) {
			t->right++;
		} else if (s->error == -ECANCELED && s->in_close) {
			t->cancelled++;
		} else {
			t->wrong++;
			t->wrong_error = s->error;
		}
	}
}

static int fault_inject(const struct rcase *c, int snd, int rcv)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	if (c->how == HOW_SS_KILL)
		return nu_ss_kill(snd);
	if (setsockopt(rcv, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)))
		return -1;
	return close(rcv);
}

/* Mark what is in flight; it must all have left the kernel's hands. */
static unsigned fault_mark(struct chain *ch)
{
	unsigned n = 0;

	for (unsigned i = 0; i < ch->nsends; i++)
		if (!ch->sends[i].calls) {
			ch->sends[i].at_fault = true;
			n++;
		}
	return n;
}

/* After the fault: wait (bounded) for the sends caught by it. */
static void fault_drain(struct chain *ch)
{
	int64_t deadline = nu_now_ms() + DRAIN_DEADLINE_MS;

	while (ch->completed < ch->accepted && nu_now_ms() < deadline)
		ch_process(ch, 500);
}

static int reset_check(const struct chain *ch, const struct fault_tally *t,
		       int want, const int *late, int strays)
{
	CHECK(ch_exactly_once(ch) == 0);
	CHECK(t->at_fault > 0);
	/* Nothing in flight at the fault may claim it was delivered. */
	CHECK(t->claimed == 0);
	CHECK(t->wrong == 0);
	CHECK(t->right > 0);
	/* Sends after the fault are refused, without callbacks. */
	CHECK(late[0] < 0 && late[1] < 0);
	CHECK(strays == 0);
	/* The first fatal error, not the -EPIPE of later sends. */
	CHECK(ch->st.last_error == want);
	return 0;
}

static int reset_child(void *arg)
{
	const struct rcase *c = arg;
	struct chain ch = { .tx = c->tx,
			    .total = 1ull << 30,
			    .sizes = large_sizes,
			    .nsizes = sizeof(large_sizes) / sizeof(size_t),
			    .cb_sends = true,
			    .close_timeout_ms = CLOSE_TIMEOUT_MS };
	int want = c->how == HOW_SS_KILL ? -ECONNABORTED : -ECONNRESET;
	char byte = 'x';
	struct iovec iov = { &byte, 1 };
	struct fault_tally t;
	int snd, rcv, ret, outq, strays = 0, late[2];

	CHECK(!nu_tcp_pair_bufs(SMALL_SNDBUF, SMALL_RCVBUF, &snd, &rcv));
	CHECK(!nu_set_nonblock(snd));
	ret = ch_start(&ch, snd);
	if (!ret)
		ret = ch_fill(&ch, snd, rcv);
	if (ret) {
		ch_fini(&ch);
		return ret == NU_SKIP ? NU_SKIP : 1;
	}
	/* From here on the callbacks only count. */
	ch.cb_sends = false;
	outq = nu_outq(snd);
	printf("in flight at the fault: %u sends, outq %d, peer inq %d\n",
	       fault_mark(&ch), outq, nu_inq(rcv));
	CHECK(outq > 0);
	CHECK(!fault_inject(c, snd, rcv));
	fault_drain(&ch);
	for (int i = 0; i < 2; i++)
		late[i] = zc_send(ch.sock, &iov, 1, nu_count_cb, &strays);
	ch_process(&ch, 100);
	zc_sock_stats(ch.sock, &ch.st);
	ch.closing = true;
	ch.close_ret = ch_close(&ch);
	if (c->how == HOW_SS_KILL)
		close(rcv);
	fault_tally(&ch, want, &t);
	ch_print(c->how == HOW_SS_KILL ? "ss -K" : "peer reset", &ch);
	printf("at the fault %u: claimed zc/copied %u, error %s %u, abandoned "
	       "%u, cancelled in close %u, other errors %u (%d); later sends "
	       "%d %d; last_error %d (%s)\n",
	       t.at_fault, t.claimed, zc_strerror(want), t.right, t.abandoned,
	       t.cancelled, t.wrong, t.wrong_error, late[0], late[1],
	       ch.st.last_error, zc_strerror(ch.st.last_error));
	ret = reset_check(&ch, &t, want, late, strays);
	ch_fini(&ch);
	return ret;
}

/* ---- a negative return means no callback -------------------------------- */

struct tag {
	int ret; /* what zc_send returned */
	int calls;
};

static void tag_cb(struct zc_sock *sock, const struct zc_completion *c,
		   void *arg)
{
	(void)sock;
	(void)c;
	((struct tag *)arg)->calls++;
}

#define NTAGS 9
#define BIG (4u << 20)

static void neg_sends(struct zc_sock *sock, unsigned char *big, struct tag *t)
{
	struct iovec many[ZC_SEND_MAX_IOV + 1];
	struct iovec iov = { big, BIG };

	for (int i = 0; i <= ZC_SEND_MAX_IOV; i++)
		many[i] = (struct iovec){ big + i, 1 };
	t[0].ret = zc_send(sock, NULL, 1, tag_cb, &t[0]);
	t[1].ret = zc_send(sock, &(struct iovec){ big, 0 }, 1, tag_cb, &t[1]);
	t[2].ret = zc_send(sock, &iov, 0, tag_cb, &t[2]);
	t[3].ret = zc_send(sock, many, ZC_SEND_MAX_IOV + 1, tag_cb, &t[3]);
	t[4].ret = zc_send(sock, &iov, 1, NULL, &t[4]);
	t[5].ret = zc_send(sock, &iov, 1, tag_cb, &t[5]);
	t[6].ret = zc_send(sock, &iov, 1, tag_cb, &t[6]);
	t[7].ret = zc_send(sock, &iov, 1, tag_cb, &t[7]);
}

static int neg_check(const struct tag *t)
{
	static const int want[] = { -EINVAL, -EINVAL, -EINVAL, -E2BIG,
				    -EINVAL, 0,	      0,       -EAGAIN };

	printf("returned:");
	for (int i = 0; i < NTAGS; i++)
		printf(" %d", t[i].ret);
	printf("; callbacks:");
	for (int i = 0; i < NTAGS; i++)
		printf(" %d", t[i].calls);
	printf("\n");
	for (int i = 0; i < 8; i++) {
		if (t[i].ret != want[i])
			printf("send %d returned %d, want %d\n", i, t[i].ret,
			       want[i]);
		CHECK(t[i].ret == want[i]);
	}
	for (int i = 0; i < NTAGS; i++) {
		if (t[i].calls != (t[i].ret ? 0 : 1))
			printf("send %d returned %d: %d callbacks\n", i,
			       t[i].ret, t[i].calls);
		CHECK(t[i].calls == (t[i].ret ? 0 : 1));
	}
	return 0;
}

/* The body of neg_child(); big (BIG bytes of zeros) is the caller's. */
static int neg_run(const struct rcase *c, unsigned char *big)
{
	/* Two sends larger than both socket buffers fill max_inflight. */
	struct chain ch = { .tx = c->tx,
			    .close_timeout_ms = CLOSE_TIMEOUT_MS,
			    .max_inflight = 2 };
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	struct tag t[NTAGS] = { 0 };
	int64_t deadline;
	int snd, rcv, ret;

	CHECK(!nu_tcp_pair_bufs(SMALL_SNDBUF, SMALL_RCVBUF, &snd, &rcv));
	CHECK(!nu_set_nonblock(snd));
	ret = ch_start(&ch, snd);
	if (ret) {
		ch_fini(&ch);
		return ret == NU_SKIP ? NU_SKIP : 1;
	}
	neg_sends(ch.sock, big, t);
	/* The peer resets: the two accepted sends end, the next fails. */
	setsockopt(rcv, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(rcv);
	deadline = nu_now_ms() + DRAIN_DEADLINE_MS;
	while ((!t[5].calls || !t[6].calls) && nu_now_ms() < deadline)
		ch_process(&ch, 500);
	t[8].ret =
		zc_send(ch.sock, &(struct iovec){ big, 100 }, 1, tag_cb, &t[8]);
	ch_process(&ch, 100);
	ch_close(&ch);
	ch_fini(&ch);
	return neg_check(t);
}

static int neg_child(void *arg)
{
	unsigned char *big = calloc(1, BIG);
	int ret;

	CHECK(big);
	ret = neg_run(arg, big);
	free(big);
	return ret;
}

/* ---- 3. a socket is attached once ---------------------------------------- */

/* Attach fd to ctx; want is what zc_sock_attach() must return.  A socket
 * attached against the rule is closed at once (it shares the fd). */
static int attach_expect(struct zc_ctx *ctx, int fd, int want, const char *what,
			 struct zc_sock **out)
{
	struct zc_sock_opts o = { .flags = ZC_SOCK_KEEP_FD };
	struct zc_sock *sock = NULL;
	int ret = zc_sock_attach(ctx, fd, &o, &sock);

	printf("%s: %d (%s)", what, ret, ret ? zc_strerror(ret) : "attached");
	if (ret != want)
		printf(": WRONG, want %d", want);
	printf("\n");
	if (!ret && want) {
		zc_sock_close(sock);
		sock = NULL;
	}
	if (out)
		*out = sock;
	else if (sock)
		zc_sock_close(sock);
	return ret != want;
}

/* A byte through a socket, to show a re-attached socket works. */
static int attach_works(struct zc_ctx *ctx, struct zc_sock *sock, int peer)
{
	struct iovec iov = { "z", 1 };
	int64_t deadline = nu_now_ms() + DRAIN_DEADLINE_MS;
	char got = 0;
	int done = 0;

	CHECK(!zc_send(sock, &iov, 1, nu_count_cb, &done));
	while (!done && nu_now_ms() < deadline)
		zc_ctx_process(ctx, 100);
	CHECK(done == 1);
	CHECK(recv(peer, &got, 1, 0) == 1 && got == 'z');
	return 0;
}

static int attach_child(void *arg)
{
	struct zc_ctx *ctx1, *ctx2;
	struct zc_sock *sock;
	int snd, rcv, d, bad = 0;

	(void)arg;
	CHECK(!nu_tcp_pair(AF_INET, &snd, &rcv));
	CHECK((d = dup(snd)) >= 0);
	CHECK(!zc_ctx_create(NULL, &ctx1));
	CHECK(!zc_ctx_create(NULL, &ctx2));
	CHECK(!attach_expect(ctx1, snd, 0, "first attach", &sock));
	bad += attach_expect(ctx1, snd, -EEXIST, "same fd, same ctx", NULL);
	bad += attach_expect(ctx2, snd, -EEXIST, "same fd, other ctx", NULL);
	bad += attach_expect(ctx1, d, -EEXIST, "dup, same ctx", NULL);
	bad += attach_expect(ctx2, d, -EEXIST, "dup, other ctx", NULL);
	CHECK(!zc_sock_close(sock));
	/* Closed (the fd kept): free to attach again, anywhere. */
	CHECK(!attach_expect(ctx2, snd, 0, "after close, other ctx", &sock));
	CHECK(!attach_works(ctx2, sock, rcv));
	bad += attach_expect(ctx1, d, -EEXIST, "dup, again", NULL);
	CHECK(!zc_sock_close(sock));
	CHECK(!attach_expect(ctx1, d, 0, "dup after close", &sock));
	/* Destroying the context lets go of it too. */
	zc_ctx_destroy(ctx1);
	CHECK(!attach_expect(ctx2, snd, 0, "after ctx destroy", &sock));
	CHECK(!attach_works(ctx2, sock, rcv));
	zc_ctx_destroy(ctx2);
	close(d);
	close(snd);
	close(rcv);
	CHECK(!bad);
	return 0;
}

/* ---- 4. zc_strerror ------------------------------------------------------ */

static int strerror_extremes_child(void *arg)
{
	static const int values[] = { INT_MIN, INT_MIN + 1, INT_MAX, -INT_MAX };

	(void)arg;
	for (unsigned i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		const char *s = zc_strerror(values[i]);

		printf("zc_strerror(%d) = \"%s\"\n", values[i], s ? s : "NULL");
		CHECK(s && *s);
	}
	return 0;
}

/* The checks of strerror_static_child(): copy is what first said. */
static int strerror_stays(int value, const char *first, const char *copy)
{
	const char *again = zc_strerror(value);

	CHECK(again && !strcmp(again, copy));
	CHECK(zc_strerror(-4093));
	CHECK(zc_strerror(value == 4094 ? 4092 : 4094));
	if (strcmp(first, copy) != 0)
		printf("zc_strerror(%d) was \"%s\", now \"%s\"\n", value, copy,
		       first);
	CHECK(!strcmp(first, copy));
	CHECK(!strcmp(again, copy));
	printf("zc_strerror(%d) = \"%s\"\n", value, copy);
	return 0;
}

/* A value zcopy has no text for: the string stays what it was after
 * other unknown values are explained. */
static int strerror_static_child(void *arg)
{
	const struct rcase *c = arg;
	const char *first = zc_strerror(c->value);
	char *copy;
	int ret;

	CHECK(first && *first);
	copy = strdup(first);
	CHECK(copy);
	ret = strerror_stays(c->value, first, copy);
	free(copy);
	return ret;
}

static int strerror_all_child(void *arg)
{
	(void)arg;
	/* Each string is read before the next call: whether it lasts is
	 * the strerror_unknown_static cases' business. */
	for (int v = -4095; v <= 4095; v++) {
		const char *s = zc_strerror(v);

		if (!s || !*s)
			printf("zc_strerror(%d): %s\n", v,
			       s ? "empty" : "NULL");
		CHECK(s && *s);
	}
	/* Known values: zcopy's own words, the same for either sign. */
	CHECK(zc_strerror(-ECONNRESET) == zc_strerror(ECONNRESET));
	CHECK(strstr(zc_strerror(-ECONNABORTED), "ss -K"));
	CHECK(!strcmp(zc_strerror(0), "success"));
	return 0;
}

/* ---- the cases ----------------------------------------------------------- */

static void run_case(void **state)
{
	const struct rcase *c = *state;
	int ret;

	if (c->how == HOW_SS_KILL && !nu_ss_kill_works())
		skip();
	if (c->veth) {
		ret = nu_netns_create(&g_ns, 1500);
		if (ret == NU_SKIP)
			skip();
		assert_int_equal(ret, 0);
	}
	ret = nu_fork_run(c->child, (void *)c,
			  c->watchdog ? c->watchdog : WATCHDOG_S);
	if (c->veth)
		nu_netns_destroy(&g_ns);
	if (ret == NU_SKIP)
		skip();
	if (ret > 128)
		print_message("child killed by signal %d%s\n", ret - 128,
			      ret - 128 == SIGALRM ? " (watchdog: it hung)"
						   : "");
	assert_int_equal(ret, 0);
}

#define CASE(n, ...)                                             \
	{                                                        \
		.name = n, .test_func = run_case,                \
		.initial_state = &(struct rcase){ __VA_ARGS__ }, \
	}
#define ALL_TX(M)                                                             \
	M("copy", ZC_TX_COPY), M("msgzc", ZC_TX_MSGZC),                       \
		M("uring", ZC_TX_URING), M("uring_fixed", ZC_TX_URING_FIXED), \
		M("auto", ZC_TX_AUTO)
#define CB_SEND(n, t)                                                       \
	CASE("cb_send_" n "_lo", .child = chain_child, .tx = (t),           \
	     .watchdog = WATCHDOG_CHAIN_S),                                 \
		CASE("cb_send_" n "_veth", .child = chain_child, .tx = (t), \
		     .veth = true, .watchdog = WATCHDOG_CHAIN_S)
#define CB_ONLY_IN_PROCESS(n, t)                                       \
	CASE("cb_only_in_process_" n, .child = chain_child, .tx = (t), \
	     .strict_ctx = true, .total = 4 << 20)
#define CLOSE(n, t)                                                       \
	CASE("close_sock_cb_sending_" n, .child = close_child, .tx = (t), \
	     .how = HOW_CLOSE_SOCK),                                      \
		CASE("destroy_ctx_cb_sending_" n, .child = close_child,   \
		     .tx = (t), .how = HOW_DESTROY_CTX)
#define NEG(n, t) CASE("neg_return_no_cb_" n, .child = neg_child, .tx = (t))
#define RESET(n, t)                                                            \
	CASE("reset_honest_" n "_peer_reset", .child = reset_child, .tx = (t), \
	     .how = HOW_PEER_RESET),                                           \
		CASE("reset_honest_" n "_ss_kill", .child = reset_child,       \
		     .tx = (t), .how = HOW_SS_KILL)

int main(int argc, char **argv)
{
	/* Loopback needs nothing special; the veth and ss -K cases skip,
	 * saying why, without root. */
	const struct CMUnitTest tests[] = {
		CASE("strerror_int_extremes", .child = strerror_extremes_child),
		CASE("strerror_unknown_static_ehwpoison",
		     .child = strerror_static_child, .value = -EHWPOISON),
		CASE("strerror_unknown_static_enokey",
		     .child = strerror_static_child, .value = -ENOKEY),
		CASE("strerror_unknown_static_4095",
		     .child = strerror_static_child, .value = 4095),
		CASE("strerror_unknown_static_minus_4095",
		     .child = strerror_static_child, .value = -4095),
		CASE("strerror_all_values", .child = strerror_all_child),
		CASE("attach_twice", .child = attach_child),
		ALL_TX(NEG),
		ALL_TX(CB_SEND),
		ALL_TX(CB_ONLY_IN_PROCESS),
		ALL_TX(CLOSE),
		RESET("msgzc", ZC_TX_MSGZC),
		RESET("uring", ZC_TX_URING),
	};

	/* Resets and closed peers must not kill the test. */
	signal(SIGPIPE, SIG_IGN);
	/* Children report on stdout, line by line, in order with cmocka. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* One case by name (a glob): test_reentry 'cb_send_*_lo'. */
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
