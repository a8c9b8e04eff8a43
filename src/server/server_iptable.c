/* SPDX-License-Identifier: ISC */
/*
 * Counts open sessions per client address, for max_sessions_per_ip.
 * A small chained hash table; entries go away when their count drops
 * to zero, so its size follows the number of distinct clients online.
 */
#include "server/server_private.h"

#include <stdint.h>
#include <string.h>

#include "core/log.h"
#include "core/str.h"
#include "core/xalloc.h"

#define SERVER_IPTABLE_BUCKETS 1024

struct server_ipentry {
	struct server_ipentry *next;
	uint64_t count;
	char addr[SERVER_ADDR_MAX];
};

struct server_iptable {
	struct server_ipentry *buckets[SERVER_IPTABLE_BUCKETS];
};

/* FNV-1a; the table holds no secrets worth a keyed hash at this size. */
static size_t
server_iptable_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return h % SERVER_IPTABLE_BUCKETS;
}

struct server_iptable *
server_iptable_new(void)
{
	return xcalloc(1, sizeof(struct server_iptable));
}

void
server_iptable_free(struct server_iptable **tp)
{
	struct server_iptable *t = *tp;
	struct server_ipentry *e, *next;
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < SERVER_IPTABLE_BUCKETS; i++) {
		for (e = t->buckets[i]; e != NULL; e = next) {
			next = e->next;
			free(e);
		}
	}
	free(t);
	*tp = NULL;
}

uint64_t
server_iptable_add(struct server_iptable *t, const char *addr)
{
	size_t h = server_iptable_hash(addr);
	struct server_ipentry *e;

	for (e = t->buckets[h]; e != NULL; e = e->next) {
		if (strcmp(e->addr, addr) == 0)
			return ++e->count;
	}
	e = xcalloc(1, sizeof(*e));
	if (str_copy(e->addr, addr, sizeof(e->addr)) == -1)
		log_panic("server_iptable_add: address too long");
	e->count = 1;
	e->next = t->buckets[h];
	t->buckets[h] = e;
	return 1;
}

void
server_iptable_del(struct server_iptable *t, const char *addr)
{
	struct server_ipentry **ep, *e;

	for (ep = &t->buckets[server_iptable_hash(addr)]; (e = *ep) != NULL;
	    ep = &e->next) {
		if (strcmp(e->addr, addr) != 0)
			continue;
		ASSERT(e->count > 0);
		if (--e->count == 0) {
			*ep = e->next;
			free(e);
		}
		return;
	}
	log_panic("server_iptable_del: %s not counted", addr);
}
