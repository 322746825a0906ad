/* SPDX-License-Identifier: MIT */
/*
 * The sockets attached in this process, by socket inode, so that one
 * socket (or a dup of its fd) cannot be attached twice: two handles would
 * share the kernel's MSG_ZEROCOPY id counter and misread each other's
 * completions.  Guarded by a mutex: attach and close are not hot paths, and
 * contexts on different threads share the table.
 */
#ifndef ZC_SRC_SOCKREG_H
#define ZC_SRC_SOCKREG_H

#include <stdint.h>

/* 0, -EEXIST if ino is registered already, -ENOMEM. */
int zc_sockreg_add(uint64_t ino);
void zc_sockreg_del(uint64_t ino);

#endif
