/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the shared-region channel's checks (shm_proto.c):
 * everything a hostile peer controls.  The input is a hello, then a
 * stream of operations: ring positions, descriptors against a data area
 * of exactly the size they must stay in (ASan sees any byte outside), the
 * ring-the-peer decision, and copy-area allocations and returns checked
 * against a model of the chunks that are live.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "shm_proto.h"

#define DATA_MAX 65536u

struct input {
	const uint8_t *p;
	size_t left;
};

static bool take(struct input *in, void *out, size_t n)
{
	if (in->left < n)
		return false;
	memcpy(out, in->p, n);
	in->p += n;
	in->left -= n;
	return true;
}

static void hello_op(struct input *in)
{
	struct zc_shm_hello h;

	if (!take(in, &h, sizeof(h)) || zc_shm_hello_check(&h))
		return;
	CHECK(h.copy_len && h.region_len);
	CHECK(h.copy_len <= ZC_SHM_AREA_MAX && h.region_len <= ZC_SHM_AREA_MAX);
	CHECK(h.file_len == ZC_SHM_HDR_LEN + h.copy_len + h.region_len);
	CHECK(h.copy_len % ZC_SHM_PAGE == 0 && h.region_len % ZC_SHM_PAGE == 0);
}

static void ring_op(struct input *in)
{
	uint32_t pos[2], n = UINT32_MAX;

	if (!take(in, pos, sizeof(pos)))
		return;
	if (zc_shm_ring_count(pos[0], pos[1], &n))
		return;
	CHECK(n <= ZC_SHM_RING && pos[0] - pos[1] == n);
}

static void desc_op(struct input *in, const uint8_t *data, uint32_t len)
{
	struct zc_shm_desc d;
	volatile uint8_t sum = 0;

	if (!take(in, &d, sizeof(d)) || zc_shm_desc_check(&d, len))
		return;
	CHECK(d.len && (uint64_t)d.off + d.len <= len);
	/* Read it all, as a receiver would: ASan sees any stray byte. */
	for (uint32_t i = 0; i < d.len; i++)
		sum += data[d.off + i];
	(void)sum;
}

static void bell_op(struct input *in, uint32_t *rung)
{
	uint32_t v[3], before = *rung;

	if (!take(in, v, sizeof(v)))
		return;
	if (zc_shm_should_ring(v[0], v[1], v[2], rung)) {
		CHECK(v[0] && (int32_t)(v[1] - before) >= 0 && *rung == v[2]);
		return;
	}
	CHECK(*rung == before);
}

/* ---- the copy area against a model -------------------------------------- */

struct model {
	struct zc_shm_arena a;
	uint32_t off[ZC_SHM_RING], len[ZC_SHM_RING], tok[ZC_SHM_RING];
	unsigned n;
};

static void model_check_new(const struct model *m, uint32_t off, uint32_t len)
{
	CHECK(len && off <= m->a.size && len <= m->a.size - off);
	for (unsigned i = 0; i < m->n; i++)
		CHECK(off + len <= m->off[i] || m->off[i] + m->len[i] <= off);
}

static void alloc_op(struct input *in, struct model *m)
{
	uint16_t want, minlen;
	uint32_t off, tok, got, need;

	if (!take(in, &want, sizeof(want)) ||
	    !take(in, &minlen, sizeof(minlen)))
		return;
	got = zc_shm_arena_alloc(&m->a, want, minlen, &off, &tok);
	CHECK(m->a.live == m->n + (got != 0));
	if (!got)
		return;
	need = want < minlen ? want : minlen;
	CHECK(got <= want && (got >= need || (m->n == 0 && got == m->a.size)));
	model_check_new(m, off, got);
	m->off[m->n] = off;
	m->len[m->n] = got;
	m->tok[m->n++] = tok;
}

static void free_op(struct input *in, struct model *m)
{
	uint32_t tok;
	uint8_t pick;
	int ret;

	if (!take(in, &pick, 1))
		return;
	/* A live token, or whatever the input says (a peer's lie). */
	if (m->n && pick < 0x80)
		tok = m->tok[pick % m->n];
	else if (!take(in, &tok, sizeof(tok)))
		return;
	ret = zc_shm_arena_free(&m->a, tok);
	for (unsigned i = 0; i < m->n; i++) {
		if (m->tok[i] != tok)
			continue;
		CHECK(ret == 0);
		m->n--;
		m->off[i] = m->off[m->n];
		m->len[i] = m->len[m->n];
		m->tok[i] = m->tok[m->n];
		return;
	}
	CHECK(ret == -EPROTO);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	static struct model m;
	uint32_t len = 0, rung = 0;
	uint16_t area;
	uint8_t *buf, op;

	hello_op(&in);
	if (!take(&in, &len, sizeof(len)) || !take(&in, &area, sizeof(area)))
		return 0;
	len = len % DATA_MAX + 1;
	buf = malloc(len);
	if (!buf)
		return 0;
	memset(buf, 0x5a, len);
	memset(&m, 0, sizeof(m));
	zc_shm_arena_init(&m.a, (uint32_t)area + 1);
	while (take(&in, &op, 1)) {
		switch (op % 5) {
		case 0:
			ring_op(&in);
			break;
		case 1:
			desc_op(&in, buf, len);
			break;
		case 2:
			bell_op(&in, &rung);
			break;
		case 3:
			alloc_op(&in, &m);
			break;
		default:
			free_op(&in, &m);
			break;
		}
	}
	free(buf);
	return 0;
}
