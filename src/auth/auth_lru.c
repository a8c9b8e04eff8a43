/* SPDX-License-Identifier: ISC */
/*
 * A bounded hash table of string keys in least-recently-used order, for
 * the per-IP throttle and the per-user rate limit.  Memory is capped by
 * max_entries: inserting into a full table evicts the oldest entry.
 * Buckets are chosen with SipHash-2-4 under a random key, so a peer who
 * picks many addresses cannot force them into one chain.
 */
#include "auth/auth_private.h"

#include <sys/queue.h>
#include <sys/random.h>

#include <stdbool.h>
#include <string.h>

#include "core/log.h"
#include "core/xalloc.h"

struct auth_lru_entry {
	TAILQ_ENTRY(auth_lru_entry) lru; /* head is the oldest */
	struct auth_lru_entry *next;     /* bucket chain */
	uint64_t values[AUTH_LRU_VALUES];
	char key[];
};

TAILQ_HEAD(auth_lru_list, auth_lru_entry);

struct auth_lru {
	struct auth_lru_entry **buckets;
	size_t nbuckets; /* a power of two */
	size_t count, max;
	uint64_t k0, k1; /* SipHash key */
	struct auth_lru_list order;
};

#define AUTH_LRU_ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

static void
auth_lru_sipround(uint64_t v[4])
{
	v[0] += v[1];
	v[1] = AUTH_LRU_ROTL(v[1], 13);
	v[1] ^= v[0];
	v[0] = AUTH_LRU_ROTL(v[0], 32);
	v[2] += v[3];
	v[3] = AUTH_LRU_ROTL(v[3], 16);
	v[3] ^= v[2];
	v[0] += v[3];
	v[3] = AUTH_LRU_ROTL(v[3], 21);
	v[3] ^= v[0];
	v[2] += v[1];
	v[1] = AUTH_LRU_ROTL(v[1], 17);
	v[1] ^= v[2];
	v[2] = AUTH_LRU_ROTL(v[2], 32);
}

/* SipHash-2-4 (Aumasson and Bernstein, 2012). */
static uint64_t
auth_lru_hash(const struct auth_lru *l, const char *key, size_t len)
{
	uint64_t v[4] = {
	    0x736f6d6570736575ULL ^ l->k0,
	    0x646f72616e646f6dULL ^ l->k1,
	    0x6c7967656e657261ULL ^ l->k0,
	    0x7465646279746573ULL ^ l->k1,
	};
	uint64_t m, b = (uint64_t)len << 56;
	size_t i, k;

	for (i = 0; len - i >= 8; i += 8) {
		m = 0;
		for (k = 0; k < 8; k++)
			m |= (uint64_t)(unsigned char)key[i + k] << (8 * k);
		v[3] ^= m;
		auth_lru_sipround(v);
		auth_lru_sipround(v);
		v[0] ^= m;
	}
	for (k = 0; i + k < len; k++)
		b |= (uint64_t)(unsigned char)key[i + k] << (8 * k);
	v[3] ^= b;
	auth_lru_sipround(v);
	auth_lru_sipround(v);
	v[0] ^= b;
	v[2] ^= 0xff;
	for (k = 0; k < 4; k++)
		auth_lru_sipround(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

struct auth_lru *
auth_lru_new(size_t max_entries)
{
	struct auth_lru *l = xcalloc(1, sizeof(*l));
	uint64_t key[2];

	ASSERT(max_entries >= 1 && max_entries <= SIZE_MAX / 4);
	l->max = max_entries;
	l->nbuckets = 16;
	while (l->nbuckets < max_entries)
		l->nbuckets *= 2;
	l->buckets = xcalloc(l->nbuckets, sizeof(struct auth_lru_entry *));
	/* getrandom() only fails this small read before the pool is up. */
	if (getrandom(key, sizeof(key), 0) != (ssize_t)sizeof(key))
		log_panic("auth_lru_new: getrandom failed");
	l->k0 = key[0];
	l->k1 = key[1];
	TAILQ_INIT(&l->order);
	return l;
}

void
auth_lru_free(struct auth_lru **lp)
{
	struct auth_lru *l = *lp;
	struct auth_lru_entry *e;

	if (l == NULL)
		return;
	while ((e = TAILQ_FIRST(&l->order)) != NULL) {
		TAILQ_REMOVE(&l->order, e, lru);
		free(e);
	}
	free(l->buckets);
	free(l);
	*lp = NULL;
}

/* Finds key; *slot_r is the link that points at it (or at the end). */
static struct auth_lru_entry *
auth_lru_find(
    struct auth_lru *l, const char *key, struct auth_lru_entry ***slot_r)
{
	size_t len = strlen(key);
	uint64_t h = auth_lru_hash(l, key, len);
	struct auth_lru_entry **slot = &l->buckets[h & (l->nbuckets - 1)];

	while (*slot != NULL && strcmp((*slot)->key, key) != 0)
		slot = &(*slot)->next;
	*slot_r = slot;
	return *slot;
}

static void
auth_lru_remove(struct auth_lru *l, struct auth_lru_entry *e)
{
	struct auth_lru_entry **slot;

	if (auth_lru_find(l, e->key, &slot) != e)
		log_panic("auth_lru_remove: entry not in its bucket");
	*slot = e->next;
	TAILQ_REMOVE(&l->order, e, lru);
	l->count--;
	free(e);
}

uint64_t *
auth_lru_get(struct auth_lru *l, const char *key)
{
	struct auth_lru_entry **slot, *e = auth_lru_find(l, key, &slot);

	if (e == NULL)
		return NULL;
	TAILQ_REMOVE(&l->order, e, lru);
	TAILQ_INSERT_TAIL(&l->order, e, lru);
	return e->values;
}

uint64_t *
auth_lru_put(struct auth_lru *l, const char *key)
{
	struct auth_lru_entry **slot, *e;
	uint64_t *values = auth_lru_get(l, key);
	size_t len;

	if (values != NULL)
		return values;
	if (l->count == l->max)
		auth_lru_remove(l, TAILQ_FIRST(&l->order));
	len = strlen(key);
	e = xcalloc(1, sizeof(*e) + len + 1);
	memcpy(e->key, key, len + 1);
	(void)auth_lru_find(l, key, &slot);
	*slot = e;
	TAILQ_INSERT_TAIL(&l->order, e, lru);
	l->count++;
	return e->values;
}

void
auth_lru_del(struct auth_lru *l, const char *key)
{
	struct auth_lru_entry **slot, *e = auth_lru_find(l, key, &slot);

	if (e != NULL)
		auth_lru_remove(l, e);
}

size_t
auth_lru_count(const struct auth_lru *l)
{
	return l->count;
}

void
auth_lru_expire(struct auth_lru *l, auth_lru_expired_fn *expired, void *arg)
{
	struct auth_lru_entry *e, *next;

	for (e = TAILQ_FIRST(&l->order); e != NULL; e = next) {
		if (!expired(arg, e->values))
			break;
		next = TAILQ_NEXT(e, lru);
		auth_lru_remove(l, e);
	}
}
