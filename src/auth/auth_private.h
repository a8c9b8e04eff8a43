/* SPDX-License-Identifier: ISC */
/*
 * Internals shared by the files of src/auth/ only: a bounded string-keyed
 * table with least-recently-used eviction (auth_lru.c), used by the
 * throttle and the rate limit.  Keys are hashed with SipHash-2-4 under a
 * random per-table key, so peers cannot aim collisions at one bucket.
 * Not thread-safe.
 */
#ifndef TERN_AUTH_AUTH_PRIVATE_H
#define TERN_AUTH_AUTH_PRIVATE_H

#include <stddef.h>
#include <stdint.h>

#include "core/compat.h"

/* Each entry carries this many counters for its owner to use. */
#define AUTH_LRU_VALUES 4

struct auth_lru;

/* A table of at most max_entries (>= 1) keys. */
struct auth_lru *auth_lru_new(size_t max_entries);
void auth_lru_free(struct auth_lru **lp);

/*
 * Returns the counters of key, or NULL.  A hit becomes the most recently
 * used entry.  The pointer stays valid until key is deleted or evicted.
 */
uint64_t *auth_lru_get(struct auth_lru *l, const char *key);

/*
 * Returns the counters of key, creating it with zeroed counters if
 * needed; when the table is full, the least recently used entry is
 * evicted first.  Never NULL.
 */
uint64_t *auth_lru_put(struct auth_lru *l, const char *key);

/* Removes key if present. */
void auth_lru_del(struct auth_lru *l, const char *key);

/* Entries now held. */
size_t auth_lru_count(const struct auth_lru *l);

/* Removes least recently used entries while expired(arg, values) says so. */
typedef int auth_lru_expired_fn(void *arg, const uint64_t *values);
void auth_lru_expire(
    struct auth_lru *l, auth_lru_expired_fn *expired, void *arg);

#endif
