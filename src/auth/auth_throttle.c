/* SPDX-License-Identifier: ISC */
/*
 * Per-IP failed-login throttle: exponential answer delays, then a block
 * (RFC 4954 §4 leaves the defence against guessing to the server; 454
 * 4.7.0 is the session's reply while blocked).  Pure and bounded; the
 * table and its eviction live in auth_lru.c.
 */
#include "auth/auth_throttle.h"

#include "auth/auth_private.h"
#include "core/log.h"
#include "core/xalloc.h"

/* The counters each tracked IP keeps in its auth_lru entry. */
enum {
	AUTH_THROTTLE_V_FAILURES,      /* failures in the current window */
	AUTH_THROTTLE_V_WINDOW_START,  /* ms of the window's first failure */
	AUTH_THROTTLE_V_BLOCKED_UNTIL, /* ms; 0 when not blocked */
	AUTH_THROTTLE_V_LAST,          /* ms of the latest failure */
};

struct auth_throttle {
	struct auth_throttle_limits limits;
	struct auth_lru *table;
};

struct auth_throttle_expiry {
	const struct auth_throttle *t;
	uint64_t now_ms;
};

void
auth_throttle_limits_default(struct auth_throttle_limits *limits)
{
	limits->max_failures = AUTH_THROTTLE_MAX_FAILURES_DEFAULT;
	limits->window_ms = AUTH_THROTTLE_WINDOW_MS_DEFAULT;
	limits->block_ms = AUTH_THROTTLE_BLOCK_MS_DEFAULT;
	limits->delay_max_ms = AUTH_THROTTLE_DELAY_MAX_MS_DEFAULT;
	limits->max_ips = AUTH_THROTTLE_MAX_IPS_DEFAULT;
}

struct auth_throttle *
auth_throttle_new(const struct auth_throttle_limits *limits)
{
	struct auth_throttle *t = xcalloc(1, sizeof(*t));

	ASSERT(limits->max_failures >= 1 && limits->max_ips >= 1);
	t->limits = *limits;
	t->table = auth_lru_new(limits->max_ips);
	return t;
}

void
auth_throttle_set_limits(
    struct auth_throttle *t, const struct auth_throttle_limits *limits)
{
	ASSERT(limits->max_failures >= 1);
	/* The table keeps its size: max_ips is fixed at creation. */
	t->limits.max_failures = limits->max_failures;
	t->limits.window_ms = limits->window_ms;
	t->limits.block_ms = limits->block_ms;
	t->limits.delay_max_ms = limits->delay_max_ms;
}

void
auth_throttle_free(struct auth_throttle **tp)
{
	struct auth_throttle *t = *tp;

	if (t == NULL)
		return;
	auth_lru_free(&t->table);
	free(t);
	*tp = NULL;
}

/* a - b, or 0 when the clock went backwards. */
static uint64_t
auth_throttle_elapsed(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

/* Whether an entry neither blocks nor counts failures any more. */
static bool
auth_throttle_is_stale(
    const struct auth_throttle *t, const uint64_t *v, uint64_t now_ms)
{
	return now_ms >= v[AUTH_THROTTLE_V_BLOCKED_UNTIL] &&
	    auth_throttle_elapsed(now_ms, v[AUTH_THROTTLE_V_WINDOW_START]) >=
	    t->limits.window_ms;
}

static int
auth_throttle_expired(void *arg, const uint64_t *values)
{
	const struct auth_throttle_expiry *x = arg;

	return auth_throttle_is_stale(x->t, values, x->now_ms);
}

static uint64_t
auth_throttle_delay(const struct auth_throttle *t, uint64_t failures)
{
	uint64_t delay;

	if (failures <= 1)
		return 0;
	/* 1 s << 62 would overflow; the cap is reached long before. */
	delay = failures - 2 >= 32 ? UINT64_MAX : 1000ULL << (failures - 2);
	return delay < t->limits.delay_max_ms ? delay : t->limits.delay_max_ms;
}

uint64_t
auth_throttle_failure(
    struct auth_throttle *t, const char *ip, uint64_t now_ms, bool *blocked_r)
{
	struct auth_throttle_expiry x = {.t = t, .now_ms = now_ms};
	uint64_t *v;
	bool blocked = false;

	auth_lru_expire(t->table, auth_throttle_expired, &x);
	v = auth_lru_put(t->table, ip);
	if (now_ms < v[AUTH_THROTTLE_V_BLOCKED_UNTIL]) {
		/* It should not have been let in; stay slow. */
		v[AUTH_THROTTLE_V_LAST] = now_ms;
		if (blocked_r != NULL)
			*blocked_r = true;
		return t->limits.delay_max_ms;
	}
	if (v[AUTH_THROTTLE_V_BLOCKED_UNTIL] != 0 ||
	    v[AUTH_THROTTLE_V_FAILURES] == 0 ||
	    auth_throttle_elapsed(now_ms, v[AUTH_THROTTLE_V_WINDOW_START]) >=
	        t->limits.window_ms) {
		/* A new window, or the first failure after a block. */
		v[AUTH_THROTTLE_V_FAILURES] = 0;
		v[AUTH_THROTTLE_V_WINDOW_START] = now_ms;
		v[AUTH_THROTTLE_V_BLOCKED_UNTIL] = 0;
	}
	v[AUTH_THROTTLE_V_FAILURES]++;
	v[AUTH_THROTTLE_V_LAST] = now_ms;
	if (v[AUTH_THROTTLE_V_FAILURES] >= t->limits.max_failures) {
		blocked = true;
		v[AUTH_THROTTLE_V_BLOCKED_UNTIL] =
		    now_ms > UINT64_MAX - t->limits.block_ms
		    ? UINT64_MAX
		    : now_ms + t->limits.block_ms;
	}
	if (blocked_r != NULL)
		*blocked_r = blocked;
	return auth_throttle_delay(t, v[AUTH_THROTTLE_V_FAILURES]);
}

bool
auth_throttle_is_blocked(
    struct auth_throttle *t, const char *ip, uint64_t now_ms)
{
	uint64_t *v = auth_lru_get(t->table, ip);

	if (v == NULL)
		return false;
	if (now_ms < v[AUTH_THROTTLE_V_BLOCKED_UNTIL])
		return true;
	if (v[AUTH_THROTTLE_V_BLOCKED_UNTIL] != 0) {
		/* The block is over: start counting afresh. */
		v[AUTH_THROTTLE_V_BLOCKED_UNTIL] = 0;
		v[AUTH_THROTTLE_V_FAILURES] = 0;
	}
	return false;
}

void
auth_throttle_success(struct auth_throttle *t, const char *ip)
{
	auth_lru_del(t->table, ip);
}

size_t
auth_throttle_count(const struct auth_throttle *t)
{
	return auth_lru_count(t->table);
}
