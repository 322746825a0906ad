/* SPDX-License-Identifier: MIT */
/* Attached sockets by inode: an open-addressing set (linear probing,
 * backward-shift deletion, so no tombstones pile up). */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "sockreg.h"

#define ZC_SOCKREG_MIN 64

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t *reg_keys; /* 0: empty (sockfs inodes are never 0) */
static size_t reg_cap, reg_count;

static size_t reg_slot(uint64_t key, size_t cap)
{
	key *= 0x9e3779b97f4a7c15ull;
	return (size_t)(key >> 32) & (cap - 1);
}

static void reg_put(uint64_t *keys, size_t cap, uint64_t key)
{
	size_t i = reg_slot(key, cap);

	while (keys[i])
		i = (i + 1) & (cap - 1);
	keys[i] = key;
}

static int reg_grow(void)
{
	size_t cap = reg_cap ? reg_cap * 2 : ZC_SOCKREG_MIN;
	uint64_t *keys = calloc(cap, sizeof(*keys));

	if (!keys)
		return -ENOMEM;
	for (size_t i = 0; i < reg_cap; i++)
		if (reg_keys[i])
			reg_put(keys, cap, reg_keys[i]);
	free(reg_keys);
	reg_keys = keys;
	reg_cap = cap;
	return 0;
}

static size_t reg_find(uint64_t key)
{
	size_t i = reg_slot(key, reg_cap);

	while (reg_keys[i] && reg_keys[i] != key)
		i = (i + 1) & (reg_cap - 1);
	return i;
}

int zc_sockreg_add(uint64_t ino)
{
	int ret = 0;

	pthread_mutex_lock(&reg_lock);
	/* Keep the load at most one half. */
	if ((reg_count + 1) * 2 > reg_cap)
		ret = reg_grow();
	if (!ret && reg_keys[reg_find(ino)] == ino)
		ret = -EEXIST;
	if (!ret) {
		reg_put(reg_keys, reg_cap, ino);
		reg_count++;
	}
	pthread_mutex_unlock(&reg_lock);
	return ret;
}

void zc_sockreg_del(uint64_t ino)
{
	size_t i, j;

	pthread_mutex_lock(&reg_lock);
	if (!reg_cap || reg_keys[i = reg_find(ino)] != ino)
		goto out;
	reg_keys[i] = 0;
	reg_count--;
	/* Move later members of the probe run back into the hole. */
	for (j = (i + 1) & (reg_cap - 1); reg_keys[j];
	     j = (j + 1) & (reg_cap - 1)) {
		size_t home = reg_slot(reg_keys[j], reg_cap);

		if (((j - home) & (reg_cap - 1)) >= ((j - i) & (reg_cap - 1))) {
			reg_keys[i] = reg_keys[j];
			reg_keys[j] = 0;
			i = j;
		}
	}
out:
	pthread_mutex_unlock(&reg_lock);
}
