/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for devmem control messages and DONTNEED batches.  The
 * input is a control buffer as recvmsg() would fill it; the first 4 bytes
 * say how many bytes the message claims.  Checks: frags lie in the
 * dma-buf, add up to the claim when accepted, and every token of a frag
 * goes into exactly one batch within the kernel's limits.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "devmem.h"

#define MAXF 64
#define SIZE (1u << 24)
#define ID 3

static void check_batches(const struct zc_devmem_frag *f, unsigned n)
{
	struct dmabuf_token out[ZC_DEVMEM_DONTNEED_MAX_TOKENS];
	uint32_t toks[MAXF];
	unsigned nt = 0, nout;
	size_t done = 0;

	for (unsigned i = 0; i < n; i++)
		if (f[i].kind == ZC_DEVMEM_DMABUF)
			toks[nt++] = f[i].token;
	while (done < nt) {
		size_t k = zc_devmem_dontneed_batch(toks + done, nt - done, out,
						    &nout);
		size_t covered = 0;

		if (!k || nout > ZC_DEVMEM_DONTNEED_MAX_TOKENS ||
		    k > ZC_DEVMEM_DONTNEED_MAX_FRAGS)
			abort();
		for (unsigned r = 0; r < nout; r++)
			for (uint32_t j = 0; j < out[r].token_count; j++)
				if (done + covered >= nt ||
				    toks[done + covered++] !=
					    out[r].token_start + j)
					abort();
		if (covered != k)
			abort();
		done += k;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct zc_devmem_expect want = { ID, SIZE, 0 };
	struct zc_devmem_frag f[MAXF];
	unsigned n, unknown;
	uint32_t claim;
	uint64_t total = 0;
	void *ctl;
	int ret;

	if (size < 4)
		return 0;
	memcpy(&claim, data, 4);
	want.received = claim;
	/* A copy of exactly the control bytes, so reads past them fault
	 * under ASan. */
	ctl = malloc(size - 4 ? size - 4 : 1);
	if (!ctl)
		return 0;
	memcpy(ctl, data + 4, size - 4);
	ret = zc_devmem_parse(ctl, size - 4, &want, f, MAXF, &n, &unknown);
	if (n > MAXF || (ret >= 0 && (unsigned)ret != n))
		abort();
	for (unsigned i = 0; i < n; i++) {
		total += f[i].len;
		if (ret >= 0 && f[i].kind == ZC_DEVMEM_DMABUF &&
		    (f[i].off > SIZE || f[i].len > SIZE - f[i].off))
			abort();
	}
	if (ret >= 0 && total != claim)
		abort();
	check_batches(f, n);
	free(ctl);
	return 0;
}
