/* SPDX-License-Identifier: MIT */
/*
 * zcopy bench control protocol, version 4.  Parsed from untrusted bytes,
 * so it is small and strict: an 8-byte header (magic "ZB", version, type,
 * payload length, big endian) and a fixed payload layout per type.
 * Anything else is rejected.  No system calls here, so it can be fuzzed.
 *
 * Session: client RUN -> server READY (or ERROR); the client connects the
 * data streams; the receiving end says GO once its receivers wait for
 * data (or failed), and data flows; then the server reports its end of every
 * stream (STREAM, one per stream, in order) and the run (RESULT); repeat;
 * BYE or EOF ends the session.  Who sends the data is the run's choice:
 *   client sends (default): the client sends DONE when its senders are
 *     done, the server answers with its receivers' STREAMs and RESULT;
 *   server sends (ZB_RUN_REVERSE, -R): the server reports its senders'
 *     STREAMs and RESULT as soon as they are done, unasked.
 * A server busy with another session answers a new connection with BUSY
 * and closes it.
 *
 * Version 2 (reverse runs, pacing, a report per stream with
 * retransmits) changed RUN and RESULT and added STREAM: a version-1 peer
 * is told "the peer speaks another bench protocol version" at once.
 * Version 3 added what auto measured and chose to STREAM (struct
 * zb_auto).  Version 4 added GO: a sender that starts before its
 * receiver reads finds the receive queue full, and TCP sizes the receive
 * buffer from that start (on loopback a median of 10 MB in ten runs,
 * against a plain receiver's 3 MB), which changes the whole run.
 */
#ifndef ZC_TOOLS_BENCH_PROTO_H
#define ZC_TOOLS_BENCH_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define ZB_VERSION 4
#define ZB_HDR_LEN 8
#define ZB_MAX_STREAMS 64
#define ZB_MAX_MSG (64u << 20)
#define ZB_MAX_DURATION_MS 3600000u
#define ZB_MAX_RATE 1000000000000000ull /* bits per second: 1 Pbit/s */
#define ZB_TX_SLOTS 8			/* completions per transport */
#define ZB_STREAM_LEN (2 + 8 * (15 + ZB_TX_SLOTS) + 4 + ZB_AUTO_LEN)
#define ZB_AUTO_LEN (8 + 8 + 1 + 1)
#define ZB_AUTO_WHY_MAX 15 /* enum zc_policy_why fits below */
#define ZB_MAX_LEN (ZB_HDR_LEN + ZB_STREAM_LEN)

enum zb_type {
	ZB_RUN = 1,
	ZB_READY,
	ZB_ERROR,
	ZB_DONE,
	ZB_RESULT,
	ZB_BYE,
	ZB_BUSY, /* server: another session is running; then it closes */
	ZB_STREAM,
	ZB_GO, /* the receiving end: my receivers wait, send now */
	ZB_TYPE_END
};

enum zb_proto { ZB_TCP = 0, ZB_UDP = 1 };

enum zb_run_flags {
	ZB_RUN_READ = 1u << 0,	  /* the receiver reads every byte */
	ZB_RUN_REVERSE = 1u << 1, /* the server sends, the client receives */
};
#define ZB_RUN_FLAGS (ZB_RUN_READ | ZB_RUN_REVERSE)

struct zb_run {
	uint8_t proto; /* enum zb_proto */
	uint8_t tx;    /* enum zc_tx_mode of the sender */
	uint8_t rx;    /* enum zc_rx_mode of the receiver */
	uint8_t flags; /* ZB_RUN_* */
	uint16_t streams;
	uint16_t mss; /* TCP_MAXSEG for data sockets, 0: default */
	uint32_t msg_size;
	uint32_t duration_ms;
	uint64_t rate; /* bits per second per stream, 0: no limit */
};

struct zb_ready {
	uint64_t cookie; /* the client sends it first on every data socket */
	uint16_t nports; /* 1 for TCP (one listener), streams for UDP */
	uint16_t ports[ZB_MAX_STREAMS];
};

struct zb_done {
	uint64_t bytes; /* bytes the client's end moved (sent or received) */
	uint64_t sends; /* its sends (or receives) */
	int32_t error;	/* its first error, positive errno, 0 if none */
};

/* What auto measured and chose at one end of one stream, from
 * zc_sock_stats() at the end of the run (all zero when that end's
 * transport was pinned): CPU nanoseconds per MiB on each path, the path
 * in use at the end (enum zc_tx_mode at a sender, enum zc_rx_mode at a
 * receiver) and why (enum zc_policy_why). */
struct zb_auto {
	uint64_t cost_copy; /* copied sends or receives */
	uint64_t cost_zc;   /* sent zero-copy, or received mapped */
	uint8_t path;
	uint8_t why;
};

/* What one end of one stream did: a sender (bytes its completions
 * reported sent) or a receiver (bytes it received). */
struct zb_side {
	uint64_t bytes;
	uint64_t ops;		/* sends or receives */
	uint64_t completions;	/* sender: completions (one per send) */
	uint64_t zc_bytes;	/* sender: sent from the application's pages */
	uint64_t copied_bytes;	/* sender: copied (by choice or after all) */
	uint64_t kernel_copied; /* sender: zero-copy asked, kernel copied */
	uint64_t fallbacks;	/* sender: moved to copying (ENOBUFS) */
	uint64_t errors, abandoned; /* sender: completions that failed */
	uint64_t rx_mapped;	    /* receiver: bytes mapped, not copied */
	uint64_t rx_copied;	    /* receiver: bytes copied */
	uint64_t cpu_usec;	    /* user + system CPU of its thread */
	uint64_t span_usec; /* receiver: first to last byte; sender: its run */
	uint64_t retrans;   /* sender, TCP: tcpi_total_retrans at the end */
	uint64_t packets;   /* datagrams (UDP) or messages */
	uint64_t by_tx[ZB_TX_SLOTS]; /* completions per transport */
	int32_t error;	    /* first error, positive errno, 0 if none */
	struct zb_auto pol; /* not summed over streams: the first's */
};

/* The counters of a side in wire order, as pointers (span_usec is the
 * only one that is not a count). */
#define ZB_SIDE_FIELDS(s)                                                 \
	&(s)->bytes, &(s)->ops, &(s)->completions, &(s)->zc_bytes,        \
		&(s)->copied_bytes, &(s)->kernel_copied, &(s)->fallbacks, \
		&(s)->errors, &(s)->abandoned, &(s)->rx_mapped,           \
		&(s)->rx_copied, &(s)->cpu_usec, &(s)->span_usec,         \
		&(s)->retrans, &(s)->packets

struct zb_stream {
	uint16_t index; /* 0 .. streams - 1, in order */
	struct zb_side side;
};

struct zb_result {
	uint16_t streams;   /* STREAM messages that came before */
	uint64_t span_usec; /* the server's end, all streams: receivers'
			     * first byte to last, or senders' first send
			     * to last completion */
	int32_t error;	    /* the run's error on the server, positive */
};

struct zb_msg {
	uint8_t type; /* enum zb_type */
	union {
		struct zb_run run;
		struct zb_ready ready;
		int32_t error; /* ZB_ERROR: positive errno */
		struct zb_done done;
		struct zb_stream stream;
		struct zb_result result;
	};
};

/*
 * Decode one message from buf[0..len).  0: decoded, *used is its length.
 * -EAGAIN: incomplete, *used is the total length needed (at least the
 * header).  -EPROTO: not a bench peer (bad magic).  -EPROTONOSUPPORT:
 * other protocol version.  -EBADMSG: unknown type, wrong length or a
 * field out of range.
 */
int zb_decode(const uint8_t *buf, size_t len, struct zb_msg *msg, size_t *used);
/* Encode msg into buf (at least ZB_MAX_LEN bytes); returns the length, or
 * 0 if msg itself is invalid. */
size_t zb_encode(const struct zb_msg *msg, uint8_t *buf);

#endif
