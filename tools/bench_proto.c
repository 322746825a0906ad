/* SPDX-License-Identifier: MIT */
/* zcopy bench control protocol: strict encoder and decoder, no I/O. */
#include <errno.h>
#include <stdbool.h>

#include "bench_proto.h"
#include "wire.h"

#define ZB_MAGIC0 'Z'
#define ZB_MAGIC1 'B'
#define ZB_MAX_ERRNO 4095
#define ZB_RUN_LEN 24
#define ZB_READY_BASE 10
#define ZB_DONE_LEN 20
#define ZB_RESULT_LEN 14

/* Payload length a type must have; READY depends on its port count. */
static long payload_len(uint8_t type, unsigned nports)
{
	switch (type) {
	case ZB_RUN:
		return ZB_RUN_LEN;
	case ZB_READY:
		return ZB_READY_BASE + 2 * (long)nports;
	case ZB_ERROR:
		return 4;
	case ZB_DONE:
		return ZB_DONE_LEN;
	case ZB_STREAM:
		return ZB_STREAM_LEN;
	case ZB_RESULT:
		return ZB_RESULT_LEN;
	case ZB_BYE:
	case ZB_BUSY:
	case ZB_GO:
		return 0;
	default:
		return -1;
	}
}

static bool errno_ok(int32_t e, bool zero_ok)
{
	return (e > 0 || (zero_ok && e == 0)) && e <= ZB_MAX_ERRNO;
}

static bool run_ok(const struct zb_run *r)
{
	return r->proto <= ZB_UDP && !(r->flags & ~ZB_RUN_FLAGS) &&
	       r->streams >= 1 && r->streams <= ZB_MAX_STREAMS &&
	       r->msg_size >= 1 && r->msg_size <= ZB_MAX_MSG &&
	       r->duration_ms >= 1 && r->duration_ms <= ZB_MAX_DURATION_MS &&
	       r->rate <= ZB_MAX_RATE;
}

static bool ready_ok(const struct zb_ready *r)
{
	if (r->nports < 1 || r->nports > ZB_MAX_STREAMS)
		return false;
	for (unsigned i = 0; i < r->nports; i++)
		if (!r->ports[i])
			return false;
	return true;
}

/* The parts never exceed the whole, so shares computed from a peer's
 * figures stay between 0 and 1. */
static bool side_ok(const struct zb_side *s)
{
	uint64_t by = 0;

	for (unsigned i = 0; i < ZB_TX_SLOTS; i++) {
		if (s->by_tx[i] > s->completions - by)
			return false;
		by += s->by_tx[i];
	}
	return s->zc_bytes <= s->bytes &&
	       s->copied_bytes <= s->bytes - s->zc_bytes &&
	       s->kernel_copied <= s->copied_bytes &&
	       s->errors <= s->completions &&
	       s->abandoned <= s->completions - s->errors &&
	       s->rx_mapped <= s->bytes &&
	       s->rx_copied <= s->bytes - s->rx_mapped &&
	       s->pol.why <= ZB_AUTO_WHY_MAX && errno_ok(s->error, true);
}

static bool msg_ok(const struct zb_msg *m)
{
	switch (m->type) {
	case ZB_RUN:
		return run_ok(&m->run);
	case ZB_READY:
		return ready_ok(&m->ready);
	case ZB_ERROR:
		return errno_ok(m->error, false);
	case ZB_DONE:
		return errno_ok(m->done.error, true);
	case ZB_STREAM:
		return m->stream.index < ZB_MAX_STREAMS &&
		       side_ok(&m->stream.side);
	case ZB_RESULT:
		return m->result.streams <= ZB_MAX_STREAMS &&
		       errno_ok(m->result.error, true);
	case ZB_BYE:
	case ZB_BUSY:
	case ZB_GO:
		return true;
	default:
		return false;
	}
}

static void read_run(struct wire_cur *c, struct zb_run *r)
{
	r->proto = wire_get(c, 1);
	r->tx = wire_get(c, 1);
	r->rx = wire_get(c, 1);
	r->flags = wire_get(c, 1);
	r->streams = wire_get(c, 2);
	r->mss = wire_get(c, 2);
	r->msg_size = wire_get(c, 4);
	r->duration_ms = wire_get(c, 4);
	r->rate = wire_get(c, 8);
}

static void read_ready(struct wire_cur *c, struct zb_ready *r)
{
	r->cookie = wire_get(c, 8);
	r->nports = wire_get(c, 2);
	for (unsigned i = 0; i < r->nports && i < ZB_MAX_STREAMS; i++)
		r->ports[i] = wire_get(c, 2);
}

static void read_stream(struct wire_cur *c, struct zb_stream *st)
{
	struct zb_side *s = &st->side;
	uint64_t *f[] = { ZB_SIDE_FIELDS(s) };

	st->index = wire_get(c, 2);
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		*f[i] = wire_get(c, 8);
	for (unsigned i = 0; i < ZB_TX_SLOTS; i++)
		s->by_tx[i] = wire_get(c, 8);
	s->error = (int32_t)wire_get(c, 4);
	s->pol.cost_copy = wire_get(c, 8);
	s->pol.cost_zc = wire_get(c, 8);
	s->pol.path = (uint8_t)wire_get(c, 1);
	s->pol.why = (uint8_t)wire_get(c, 1);
}

static void write_stream(struct wire_cur *c, const struct zb_stream *st)
{
	const struct zb_side *s = &st->side;
	const uint64_t *f[] = { ZB_SIDE_FIELDS(s) };

	wire_put(c, st->index, 2);
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		wire_put(c, *f[i], 8);
	for (unsigned i = 0; i < ZB_TX_SLOTS; i++)
		wire_put(c, s->by_tx[i], 8);
	wire_put(c, (uint32_t)s->error, 4);
	wire_put(c, s->pol.cost_copy, 8);
	wire_put(c, s->pol.cost_zc, 8);
	wire_put(c, s->pol.path, 1);
	wire_put(c, s->pol.why, 1);
}

static void read_payload(struct wire_cur *c, struct zb_msg *m)
{
	switch (m->type) {
	case ZB_RUN:
		read_run(c, &m->run);
		break;
	case ZB_READY:
		read_ready(c, &m->ready);
		break;
	case ZB_ERROR:
		m->error = (int32_t)wire_get(c, 4);
		break;
	case ZB_DONE:
		m->done.bytes = wire_get(c, 8);
		m->done.sends = wire_get(c, 8);
		m->done.error = (int32_t)wire_get(c, 4);
		break;
	case ZB_STREAM:
		read_stream(c, &m->stream);
		break;
	case ZB_RESULT:
		m->result.streams = wire_get(c, 2);
		m->result.span_usec = wire_get(c, 8);
		m->result.error = (int32_t)wire_get(c, 4);
		break;
	}
}

/* Check the header; sets *need to the whole message's length. */
static int check_header(const uint8_t *buf, size_t len, size_t *need)
{
	uint32_t plen;
	long want;

	*need = ZB_HDR_LEN;
	if (len >= 1 && buf[0] != ZB_MAGIC0)
		return -EPROTO;
	if (len >= 2 && buf[1] != ZB_MAGIC1)
		return -EPROTO;
	if (len < ZB_HDR_LEN)
		return -EAGAIN;
	if (buf[2] != ZB_VERSION)
		return -EPROTONOSUPPORT;
	plen = (uint32_t)buf[4] << 24 | (uint32_t)buf[5] << 16 |
	       (uint32_t)buf[6] << 8 | buf[7];
	want = payload_len(buf[3], 0);
	if (want < 0)
		return -EBADMSG;
	if (buf[3] == ZB_READY) {
		if (plen < ZB_READY_BASE + 2 ||
		    plen > ZB_READY_BASE + 2 * ZB_MAX_STREAMS ||
		    (plen - ZB_READY_BASE) % 2)
			return -EBADMSG;
	} else if (plen != (uint32_t)want) {
		return -EBADMSG;
	}
	*need = ZB_HDR_LEN + plen;
	return len < *need ? -EAGAIN : 0;
}

int zb_decode(const uint8_t *buf, size_t len, struct zb_msg *msg, size_t *used)
{
	struct wire_cur c;
	int ret;

	ret = check_header(buf, len, used);
	if (ret)
		return ret;
	*msg = (struct zb_msg){ .type = buf[3] };
	c = (struct wire_cur){ .r = buf + ZB_HDR_LEN,
			       .left = *used - ZB_HDR_LEN };
	read_payload(&c, msg);
	if (msg->type == ZB_READY && payload_len(ZB_READY, msg->ready.nports) !=
					     (long)(*used - ZB_HDR_LEN))
		return -EBADMSG;
	return msg_ok(msg) ? 0 : -EBADMSG;
}

static void write_payload(struct wire_cur *c, const struct zb_msg *m)
{
	switch (m->type) {
	case ZB_RUN:
		wire_put(c, m->run.proto, 1);
		wire_put(c, m->run.tx, 1);
		wire_put(c, m->run.rx, 1);
		wire_put(c, m->run.flags, 1);
		wire_put(c, m->run.streams, 2);
		wire_put(c, m->run.mss, 2);
		wire_put(c, m->run.msg_size, 4);
		wire_put(c, m->run.duration_ms, 4);
		wire_put(c, m->run.rate, 8);
		break;
	case ZB_READY:
		wire_put(c, m->ready.cookie, 8);
		wire_put(c, m->ready.nports, 2);
		for (unsigned i = 0; i < m->ready.nports; i++)
			wire_put(c, m->ready.ports[i], 2);
		break;
	case ZB_ERROR:
		wire_put(c, (uint32_t)m->error, 4);
		break;
	case ZB_DONE:
		wire_put(c, m->done.bytes, 8);
		wire_put(c, m->done.sends, 8);
		wire_put(c, (uint32_t)m->done.error, 4);
		break;
	case ZB_STREAM:
		write_stream(c, &m->stream);
		break;
	case ZB_RESULT:
		wire_put(c, m->result.streams, 2);
		wire_put(c, m->result.span_usec, 8);
		wire_put(c, (uint32_t)m->result.error, 4);
		break;
	}
}

size_t zb_encode(const struct zb_msg *msg, uint8_t *buf)
{
	struct wire_cur c = { .p = buf };
	long plen;

	if (!msg_ok(msg))
		return 0;
	plen = payload_len(msg->type,
			   msg->type == ZB_READY ? msg->ready.nports : 0);
	buf[0] = ZB_MAGIC0;
	buf[1] = ZB_MAGIC1;
	buf[2] = ZB_VERSION;
	buf[3] = msg->type;
	c.p = buf + 4;
	wire_put(&c, (uint64_t)plen, 4);
	write_payload(&c, msg);
	return ZB_HDR_LEN + (size_t)plen;
}
