/* SPDX-License-Identifier: MIT */
/*
 * zcopy bench control protocol, version 1.  Parsed from untrusted bytes,
 * so it is small and strict: an 8-byte header (magic "ZB", version, type,
 * payload length, big endian) and a fixed payload layout per type.
 * Anything else is rejected.  No system calls here, so it can be fuzzed.
 *
 * Session: client RUN -> server READY (or ERROR); the client sends its
 * data, then DONE -> server RESULT; repeat; BYE or EOF ends the session.
 * A server busy with another session answers a new connection with BUSY
 * and closes it.
 *
 * BUSY was added to version 1 rather than starting version 2: nothing
 * else changed, a client that predates it reads it as an unknown type and
 * fails at once ("malformed or unexpected control message") instead of
 * waiting for its timeout, and old and new peers keep working together
 * otherwise, which a version bump would have stopped.
 */
#ifndef ZC_TOOLS_BENCH_PROTO_H
#define ZC_TOOLS_BENCH_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define ZB_VERSION 1
#define ZB_HDR_LEN 8
#define ZB_MAX_STREAMS 64
#define ZB_MAX_MSG (64u << 20)
#define ZB_MAX_DURATION_MS 3600000u
#define ZB_MAX_LEN (ZB_HDR_LEN + 10 + 2 * ZB_MAX_STREAMS)

enum zb_type {
	ZB_RUN = 1,
	ZB_READY,
	ZB_ERROR,
	ZB_DONE,
	ZB_RESULT,
	ZB_BYE,
	ZB_BUSY, /* server: another session is running; then it closes */
	ZB_TYPE_END
};

enum zb_proto { ZB_TCP = 0, ZB_UDP = 1 };

enum zb_run_flags {
	ZB_RUN_READ = 1u << 0, /* the receiver reads every byte */
};

struct zb_run {
	uint8_t proto; /* enum zb_proto */
	uint8_t tx;    /* enum zc_tx_mode of the sender */
	uint8_t rx;    /* enum zc_rx_mode of the receiver */
	uint8_t flags; /* ZB_RUN_* */
	uint16_t streams;
	uint16_t mss; /* TCP_MAXSEG for data sockets, 0: default */
	uint32_t msg_size;
	uint32_t duration_ms;
};

struct zb_ready {
	uint64_t cookie; /* the client sends it first on every data socket */
	uint16_t nports; /* 1 for TCP (one listener), streams for UDP */
	uint16_t ports[ZB_MAX_STREAMS];
};

struct zb_done {
	uint64_t bytes; /* bytes the sender's completions reported sent */
	uint64_t sends;
	int32_t error; /* first sender error, positive errno, 0 if none */
};

struct zb_result {
	uint64_t bytes; /* bytes received */
	uint64_t recvs;
	uint64_t rx_mapped; /* of which mapped, not copied */
	uint64_t rx_copied;
	uint64_t cpu_usec;     /* user + system CPU of the receiving threads */
	uint64_t elapsed_usec; /* the receivers' first byte to last byte */
	int32_t error; /* first receiver error, positive errno, 0 if none */
};

struct zb_msg {
	uint8_t type; /* enum zb_type */
	union {
		struct zb_run run;
		struct zb_ready ready;
		int32_t error; /* ZB_ERROR: positive errno */
		struct zb_done done;
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
