/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the zcopy bench control protocol, which parses
 * bytes from the network.  Besides not crashing, the decoder must never
 * ask for more than a message can hold, and whatever it accepts must
 * encode back to exactly the same bytes (nothing lax slips through).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bench_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t out[ZB_MAX_LEN];
	struct zb_msg msg;
	size_t used = 0;
	int ret = zb_decode(data, size, &msg, &used);

	if (ret == -EAGAIN) {
		if (used <= size || used > ZB_MAX_LEN)
			abort();
		return 0;
	}
	if (ret == -EPROTO || ret == -EPROTONOSUPPORT || ret == -EBADMSG)
		return 0;
	if (ret || used > size || zb_encode(&msg, out) != used ||
	    memcmp(out, data, used) != 0)
		abort();
	return 0;
}
