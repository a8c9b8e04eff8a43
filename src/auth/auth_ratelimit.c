/* SPDX-License-Identifier: ISC */
/*
 * Per-user recipient budget over a sliding hour, estimated from two
 * clock-hour buckets.  Pure and bounded; the table is auth_lru.c.
 * Reading the config key and choosing the SMTP reply are the caller's.
 */
#include "auth/auth_ratelimit.h"

#include "auth/auth_private.h"
#include "core/log.h"
#include "core/xalloc.h"

/* The counters each user keeps in its auth_lru entry. */
enum {
	AUTH_RATELIMIT_V_HOUR,     /* now_ms / WINDOW of the current bucket */
	AUTH_RATELIMIT_V_CURRENT,  /* recipients in that hour */
	AUTH_RATELIMIT_V_PREVIOUS, /* recipients in the hour before */
};

struct auth_ratelimit {
	uint64_t per_hour;
	struct auth_lru *table;
};

struct auth_ratelimit *
auth_ratelimit_new(uint64_t per_hour, size_t max_users)
{
	struct auth_ratelimit *r = xcalloc(1, sizeof(*r));

	/* Bounded so that previous * WINDOW cannot overflow. */
	ASSERT(per_hour <= UINT32_MAX && max_users >= 1);
	r->per_hour = per_hour;
	r->table = auth_lru_new(max_users);
	return r;
}

void
auth_ratelimit_set_limit(struct auth_ratelimit *r, uint64_t per_hour)
{
	ASSERT(per_hour <= UINT32_MAX);
	r->per_hour = per_hour;
}

void
auth_ratelimit_free(struct auth_ratelimit **rp)
{
	struct auth_ratelimit *r = *rp;

	if (r == NULL)
		return;
	auth_lru_free(&r->table);
	free(r);
	*rp = NULL;
}

/* Moves the buckets to now's hour and returns the estimated count. */
static uint64_t
auth_ratelimit_estimate(uint64_t *v, uint64_t now_ms)
{
	uint64_t hour = now_ms / AUTH_RATELIMIT_WINDOW_MS;
	uint64_t into = now_ms % AUTH_RATELIMIT_WINDOW_MS;

	/* A clock that went back keeps using the newer bucket. */
	if (hour > v[AUTH_RATELIMIT_V_HOUR]) {
		v[AUTH_RATELIMIT_V_PREVIOUS] =
		    hour == v[AUTH_RATELIMIT_V_HOUR] + 1
		    ? v[AUTH_RATELIMIT_V_CURRENT]
		    : 0;
		v[AUTH_RATELIMIT_V_CURRENT] = 0;
		v[AUTH_RATELIMIT_V_HOUR] = hour;
	}
	if (hour < v[AUTH_RATELIMIT_V_HOUR])
		into = 0;
	/* Rounded up, so the estimate never lets a recipient too many by. */
	return v[AUTH_RATELIMIT_V_CURRENT] +
	    (v[AUTH_RATELIMIT_V_PREVIOUS] * (AUTH_RATELIMIT_WINDOW_MS - into) +
	        AUTH_RATELIMIT_WINDOW_MS - 1) /
	    AUTH_RATELIMIT_WINDOW_MS;
}

int
auth_ratelimit_take(struct auth_ratelimit *r, const char *user,
    uint64_t n_rcpts, uint64_t now_ms)
{
	uint64_t *v, used;

	if (r->per_hour == 0)
		return 0;
	if (n_rcpts > r->per_hour)
		return -1;
	v = auth_lru_put(r->table, user);
	used = auth_ratelimit_estimate(v, now_ms);
	if (used > r->per_hour - n_rcpts)
		return -1;
	v[AUTH_RATELIMIT_V_CURRENT] += n_rcpts;
	return 0;
}

uint64_t
auth_ratelimit_used(struct auth_ratelimit *r, const char *user, uint64_t now_ms)
{
	uint64_t *v = auth_lru_get(r->table, user);

	return v == NULL ? 0 : auth_ratelimit_estimate(v, now_ms);
}
