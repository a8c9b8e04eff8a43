/* SPDX-License-Identifier: ISC */
/*
 * Per-user sending limit ([limits] user_messages_per_hour, default
 * 1000), counted in recipients: a message to 10 addresses costs 10.
 *
 * The window slides: the count is estimated as this clock hour's total
 * plus the previous clock hour's total weighted by the part of it still
 * inside the last 60 minutes (the two-bucket estimate nginx and
 * Cloudflare use).  Unlike a fixed hourly window, this does not let a
 * user send twice the limit across an hour boundary; the estimate is
 * exact when sending is even over the previous hour.
 *
 * Pure: the clock is the now_ms argument (wall clock ms, so windows are
 * clock hours).  Memory is bounded by max_users; when full, the user
 * seen least recently is forgotten (and so starts from zero again).
 * Not thread-safe: use it from one thread.
 */
#ifndef TERN_AUTH_AUTH_RATELIMIT_H
#define TERN_AUTH_AUTH_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

#include "core/compat.h"

#define AUTH_RATELIMIT_MESSAGES_PER_HOUR_DEFAULT 1000
#define AUTH_RATELIMIT_MAX_USERS_DEFAULT 100000
#define AUTH_RATELIMIT_WINDOW_MS (60ULL * 60 * 1000)

struct auth_ratelimit;

/*
 * A limit of per_hour recipients per user (0: no limit; at most
 * UINT32_MAX), tracking at most max_users (>= 1).  Never NULL.
 */
struct auth_ratelimit *auth_ratelimit_new(uint64_t per_hour, size_t max_users);
void auth_ratelimit_free(struct auth_ratelimit **rp);

/* A new limit for a limiter in use (a reload); the counts stay. */
void auth_ratelimit_set_limit(struct auth_ratelimit *r, uint64_t per_hour);

/*
 * Charges n_rcpts recipients to user (the login, any length) at now_ms.
 * Returns 0 and records them, or -1, recording nothing, when they would
 * take the user over the limit: the session then answers
 * "450 4.7.1 Sending rate limit exceeded" (or 550 5.7.1 when n_rcpts
 * alone exceeds the limit).
 */
ATTR_WUR int auth_ratelimit_take(struct auth_ratelimit *r, const char *user,
    uint64_t n_rcpts, uint64_t now_ms);

/* The user's current estimated count at now_ms (for logs and tests). */
uint64_t auth_ratelimit_used(
    struct auth_ratelimit *r, const char *user, uint64_t now_ms);

#endif
