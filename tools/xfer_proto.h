/* SPDX-License-Identifier: MIT */
/*
 * zcopy send/recv file transfer protocol, version 1.  Parsed from untrusted
 * bytes, so it is small and strict: an 8-byte header (magic "ZF", version,
 * type, payload length as 32 bits, big endian) and a fixed payload layout
 * per type.  Anything else is rejected, names included (xf_path_ok).  No
 * system calls here, so it can be fuzzed (fuzz/fuzz_xfer_proto.c).
 *
 * Session (C: zcopy send, S: zcopy recv):
 *   C HELLO(token, flags)      S WELCOME, or ERROR and close
 *   per directory:  C DIR(path, mode)            S STATUS(done | refusal)
 *   per file:       C FILE(path, mode, size, XXH3-128 of the content)
 *                   S STATUS(send | skip | refusal)
 *                   C the size bytes of the file (after "send" only)
 *                   S STATUS(done | mismatch | io error)
 *   C END                      S SUMMARY, and both close.
 * Either side may send ERROR instead of its next message: the session is
 * over.  Every wait has a timeout (zcopy-send(1), zcopy-recv(1)).
 */
#ifndef ZC_TOOLS_XFER_PROTO_H
#define ZC_TOOLS_XFER_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define XF_VERSION 1
#define XF_HDR_LEN 8
#define XF_PORT 7879		 /* default TCP port */
#define XF_MAX_PATH 4096	 /* bytes of a name on the wire */
#define XF_MAX_COMPONENT 255	 /* bytes of one of its components */
#define XF_MAX_DEPTH 128	 /* components of a name */
#define XF_MAX_TOKEN 128	 /* bytes of the shared token */
#define XF_MAX_TEXT 512		 /* bytes of an ERROR/STATUS text */
#define XF_MAX_SIZE (1ull << 62) /* bytes of one file */
#define XF_HASH_LEN 16		 /* XXH3-128, canonical (big endian) */
#define XF_MAX_LEN (XF_HDR_LEN + 4 + 8 + XF_HASH_LEN + 2 + XF_MAX_PATH)

enum xf_type {
	XF_HELLO = 1,
	XF_WELCOME,
	XF_ERROR,
	XF_DIR,
	XF_FILE,
	XF_STATUS,
	XF_END,
	XF_SUMMARY,
	XF_TYPE_END
};

enum xf_hello_flags {
	XF_HELLO_RESUME = 1u << 0, /* skip files already there, verified */
};

/* STATUS codes (and ERROR codes, which end the session). */
enum xf_code {
	XS_SEND = 0, /* FILE: send the bytes */
	XS_SKIP,     /* FILE: already there with this content (resume) */
	XS_DONE,     /* DIR created (or there); FILE verified and in place */
	XS_EXISTS,   /* refused: the name exists (no --force) */
	XS_BADNAME,  /* refused: the name leaves the target directory */
	XS_MISMATCH, /* FILE: the bytes do not hash to what was announced */
	XS_IO,	     /* the receiver could not write it */
	XS_TOKEN,    /* ERROR: wrong token */
	XS_PROTOCOL, /* ERROR: malformed or unexpected message */
	XS_LIMIT,    /* ERROR: over a limit of the receiver */
	XS_TIMEOUT,  /* ERROR: the peer went quiet */
	XS_CODE_END
};

struct xf_hello {
	uint8_t flags; /* XF_HELLO_* */
	uint8_t token_len;
	uint32_t entries;     /* directories and files announced */
	uint64_t total_bytes; /* their sizes together */
	char token[XF_MAX_TOKEN];
};

struct xf_entry {
	uint32_t mode; /* permission bits only (07777) */
	uint64_t size; /* FILE */
	uint8_t hash[XF_HASH_LEN];
	uint16_t path_len;
	char path[XF_MAX_PATH + 1]; /* NUL-terminated copy */
};

struct xf_status {
	uint16_t code; /* enum xf_code */
	uint16_t text_len;
	char text[XF_MAX_TEXT + 1]; /* NUL-terminated copy */
};

struct xf_summary {
	uint32_t done, skipped, failed;
	uint64_t bytes; /* written and verified */
};

struct xf_msg {
	uint8_t type; /* enum xf_type */
	union {
		struct xf_hello hello;
		struct xf_entry entry;	   /* DIR, FILE */
		struct xf_status status;   /* STATUS, ERROR */
		struct xf_summary summary; /* SUMMARY */
	};
};

/* A name from the wire that stays inside the target directory: relative,
 * no "." or ".." component, no empty one (no "//", no trailing "/"), no
 * NUL, each component at most XF_MAX_COMPONENT bytes, at most
 * XF_MAX_DEPTH of them. */
bool xf_path_ok(const char *path, size_t len);

/*
 * Decode one message from buf[0..len).  0: decoded, *used is its length.
 * -EAGAIN: incomplete, *used is the total length needed (at least the
 * header).  -EPROTO: not a zcopy send peer (bad magic).
 * -EPROTONOSUPPORT: another protocol version.  -EXDEV: a DIR or FILE
 * whose name fails xf_path_ok() (msg->entry.path holds it, *used its
 * length).  -EBADMSG: unknown type, wrong length or a field out of range.
 */
int xf_decode(const uint8_t *buf, size_t len, struct xf_msg *msg, size_t *used);
/* Encode msg into buf (at least XF_MAX_LEN bytes); returns the length, or
 * 0 if msg itself is invalid. */
size_t xf_encode(const struct xf_msg *msg, uint8_t *buf);
/* Text for a code, for messages. */
const char *xf_code_name(unsigned code);

#endif
