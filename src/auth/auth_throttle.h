/* SPDX-License-Identifier: ISC */
/*
 * Failed-login throttle per client IP, against password guessing over
 * SMTP AUTH.  Each failure within a window makes the server wait longer
 * before its 535 (0, 1, 2, 4, 8 s ...), and max_failures of them block
 * the IP for block_ms: the session then refuses AUTH with
 * "454 4.7.0 Too many failed logins, try later" without checking
 * passwords.  A success forgets the IP.
 *
 * Pure: the clock is the now_ms argument (any monotonic milliseconds).
 * Memory is bounded by max_ips; a full table forgets the IP it heard
 * from least recently, and idle entries expire.  IPv6 clients own whole
 * /64s, so the caller should pass their /64 prefix as the key.
 * Not thread-safe: use it from the event loop thread only.
 */
#ifndef TERN_AUTH_AUTH_THROTTLE_H
#define TERN_AUTH_AUTH_THROTTLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/compat.h"

#define AUTH_THROTTLE_MAX_FAILURES_DEFAULT 10
#define AUTH_THROTTLE_WINDOW_MS_DEFAULT (15ULL * 60 * 1000)
#define AUTH_THROTTLE_BLOCK_MS_DEFAULT (30ULL * 60 * 1000)
#define AUTH_THROTTLE_DELAY_MAX_MS_DEFAULT 8000
#define AUTH_THROTTLE_MAX_IPS_DEFAULT 10000

struct auth_throttle_limits {
	unsigned max_failures; /* failures within window that block (>= 1) */
	uint64_t window_ms;    /* failures older than this are forgotten */
	uint64_t block_ms;     /* how long a block lasts */
	uint64_t delay_max_ms; /* cap of the growing delay */
	size_t max_ips;        /* IPs tracked at most (>= 1) */
};

struct auth_throttle;

/* Fills *limits with the defaults above. */
void auth_throttle_limits_default(struct auth_throttle_limits *limits);

/* A new, empty throttle; limits are copied.  Never NULL. */
struct auth_throttle *auth_throttle_new(
    const struct auth_throttle_limits *limits);
void auth_throttle_free(struct auth_throttle **tp);

/*
 * New limits for a throttle in use (a reload): what it knows of each IP,
 * blocks included, stays; max_ips keeps its value from creation.
 */
void auth_throttle_set_limits(
    struct auth_throttle *t, const struct auth_throttle_limits *limits);

/*
 * Records a failed login from ip (text form, any length) at now_ms.
 * Returns the delay in ms before answering: 0 for the first failure in
 * the window, then 1000, 2000, 4000 ... up to delay_max_ms.  Sets
 * *blocked_r when ip is now blocked (this failure reached max_failures,
 * or it was blocked already); blocked_r may be NULL.
 */
uint64_t auth_throttle_failure(
    struct auth_throttle *t, const char *ip, uint64_t now_ms, bool *blocked_r);

/* Whether ip is blocked at now_ms. */
bool auth_throttle_is_blocked(
    struct auth_throttle *t, const char *ip, uint64_t now_ms);

/* A successful login from ip: forget its failures. */
void auth_throttle_success(struct auth_throttle *t, const char *ip);

/* IPs tracked now (for tests and stats). */
size_t auth_throttle_count(const struct auth_throttle *t);

#endif
