/* SPDX-License-Identifier: MIT */
/* Names for enums, for logs, statistics and the CLI. */
#include <zcopy/zcopy.h>

#define NAME_OF(tab, i) \
	((unsigned)(i) < sizeof(tab) / sizeof((tab)[0]) ? (tab)[i] : NULL)

static const char *const tx_names[] = { "auto",	       "copy",	      "msgzc",
					"uring",       "uring-fixed", "devmem",
					"shm",	       "sendfile",    "splice",
					"uring-splice" };
static const char *const rx_names[] = { "auto", "copy",	  "uring", "tcpmmap",
					"zcrx", "devmem", "shm" };
static const char *const result_names[] = { "zerocopy", "copied", "error",
					    "abandoned" };
static const char *const why_names[] = { "none",      "kernel", "transport",
					 "policy",    "nobufs", "shm-copy",
					 "unverified" };
static const char *const policy_state_names[] = { "pinned", "probing",
						  "zerocopy", "backoff",
						  "no-zc" };

const char *zc_tx_mode_name(enum zc_tx_mode mode)
{
	return NAME_OF(tx_names, mode);
}

const char *zc_rx_mode_name(enum zc_rx_mode mode)
{
	return NAME_OF(rx_names, mode);
}

const char *zc_result_name(enum zc_result result)
{
	return NAME_OF(result_names, result);
}

const char *zc_why_name(enum zc_copy_why why)
{
	return NAME_OF(why_names, why);
}

const char *zc_policy_state_name(enum zc_policy_state state)
{
	return NAME_OF(policy_state_names, state);
}
