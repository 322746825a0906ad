/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the zcopy send/recv protocol, which zcopy recv
 * parses from the network.  Besides not crashing, the decoder must never
 * ask for more than a message can hold, whatever it accepts must encode
 * back to exactly the same bytes, and every name it accepts must stay
 * inside the target directory by a second, independent reading of the
 * rules (split at '/', no "", "." or ".." component, not absolute).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "xfer_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool name_stays_inside(const char *p, size_t len)
{
	char comp[XF_MAX_PATH + 1];
	size_t n = 0;

	if (!len || p[0] == '/')
		return false;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && p[i] == '\0')
			return false;
		if (i < len && p[i] != '/') {
			comp[n++] = p[i];
			continue;
		}
		comp[n] = '\0';
		if (!n || !strcmp(comp, ".") || !strcmp(comp, ".."))
			return false;
		n = 0;
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[XF_MAX_LEN];
	static struct xf_msg msg;
	size_t used = 0;
	int ret;

	/* The raw input as a name: both readings agree on what is safe
	 * (the decoder's also limits lengths and depth). */
	if (size <= XF_MAX_PATH && xf_path_ok((const char *)data, size) &&
	    !name_stays_inside((const char *)data, size))
		abort();
	ret = xf_decode(data, size, &msg, &used);
	if (ret == -EAGAIN) {
		if (used <= size || used > XF_MAX_LEN)
			abort();
		return 0;
	}
	if (ret == -EXDEV) {
		/* A refused name: one of the two readings says why. */
		if ((msg.type != XF_DIR && msg.type != XF_FILE) ||
		    (xf_path_ok(msg.entry.path, msg.entry.path_len) &&
		     name_stays_inside(msg.entry.path, msg.entry.path_len)))
			abort();
		return 0;
	}
	if (ret == -EPROTO || ret == -EPROTONOSUPPORT || ret == -EBADMSG)
		return 0;
	if (ret || used > size || xf_encode(&msg, out) != used ||
	    memcmp(out, data, used) != 0)
		abort();
	if ((msg.type == XF_DIR || msg.type == XF_FILE) &&
	    !name_stays_inside(msg.entry.path, msg.entry.path_len))
		abort();
	return 0;
}
