/* SPDX-License-Identifier: ISC */
/* Unit tests for auth/auth_ratelimit: the sliding hourly recipient limit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "auth/auth_ratelimit.h"

#define HOUR AUTH_RATELIMIT_WINDOW_MS

static void
test_ratelimit_within_hour(void **state)
{
	struct auth_ratelimit *r = auth_ratelimit_new(100, 10);
	uint64_t t0 = 1000 * HOUR; /* the start of a clock hour */

	(void)state;
	assert_int_equal(auth_ratelimit_take(r, "a@example.com", 60, t0), 0);
	assert_int_equal(
	    auth_ratelimit_take(r, "a@example.com", 40, t0 + 1), 0);
	assert_int_equal(auth_ratelimit_used(r, "a@example.com", t0 + 2), 100);
	/* Full: one more is refused and not counted. */
	assert_int_equal(
	    auth_ratelimit_take(r, "a@example.com", 1, t0 + 2), -1);
	assert_int_equal(auth_ratelimit_used(r, "a@example.com", t0 + 2), 100);
	/* Other users have their own budget. */
	assert_int_equal(auth_ratelimit_take(r, "b@example.com", 100, t0), 0);
	/* More recipients than the limit can never pass. */
	assert_int_equal(auth_ratelimit_take(r, "c@example.com", 101, t0), -1);
	assert_int_equal(auth_ratelimit_used(r, "c@example.com", t0), 0);
	auth_ratelimit_free(&r);
	assert_null(r);
}

/* A reload sets a new limit and keeps the counts. */
static void
test_ratelimit_set_limit_keeps_counts(void **state)
{
	struct auth_ratelimit *r = auth_ratelimit_new(10, 10);
	uint64_t t0 = 1000 * HOUR;

	(void)state;
	assert_int_equal(auth_ratelimit_take(r, "a@example.com", 10, t0), 0);
	auth_ratelimit_set_limit(r, 12);
	assert_int_equal(auth_ratelimit_used(r, "a@example.com", t0 + 1), 10);
	assert_int_equal(auth_ratelimit_take(r, "a@example.com", 2, t0 + 1), 0);
	assert_int_equal(
	    auth_ratelimit_take(r, "a@example.com", 1, t0 + 1), -1);
	auth_ratelimit_free(&r);
}

static void
test_ratelimit_slides(void **state)
{
	struct auth_ratelimit *r = auth_ratelimit_new(100, 10);
	uint64_t t0 = 1000 * HOUR;

	(void)state;
	/* 100 sent late in one hour... */
	assert_int_equal(auth_ratelimit_take(r, "u", 100, t0 + HOUR - 10), 0);
	/* ...are still almost all counted just after the boundary. */
	assert_int_equal(auth_ratelimit_take(r, "u", 1, t0 + HOUR + 10), -1);
	/* Halfway through the next hour, half of them are. */
	assert_int_equal(auth_ratelimit_used(r, "u", t0 + HOUR + HOUR / 2), 50);
	assert_int_equal(
	    auth_ratelimit_take(r, "u", 50, t0 + HOUR + HOUR / 2), 0);
	assert_int_equal(
	    auth_ratelimit_take(r, "u", 1, t0 + HOUR + HOUR / 2), -1);
	/* The hour after, those 50 count fully at first, then fade. */
	assert_int_equal(auth_ratelimit_used(r, "u", t0 + 2 * HOUR), 50);
	assert_int_equal(
	    auth_ratelimit_used(r, "u", t0 + 2 * HOUR + HOUR / 5), 40);
	assert_int_equal(auth_ratelimit_used(r, "u", t0 + 3 * HOUR), 0);
	assert_int_equal(auth_ratelimit_take(r, "u", 100, t0 + 4 * HOUR), 0);
	/* A clock that steps back does not refund anything. */
	assert_int_equal(auth_ratelimit_take(r, "u", 1, t0), -1);
	auth_ratelimit_free(&r);
}

static void
test_ratelimit_unlimited_and_bounded(void **state)
{
	struct auth_ratelimit *r = auth_ratelimit_new(0, 1);
	char user[32];
	int i;

	(void)state;
	assert_int_equal(auth_ratelimit_take(r, "u", 1000000, 0), 0);
	auth_ratelimit_free(&r);

	r = auth_ratelimit_new(AUTH_RATELIMIT_MESSAGES_PER_HOUR_DEFAULT, 4);
	assert_int_equal(auth_ratelimit_take(r, "old", 1000, 0), 0);
	assert_int_equal(auth_ratelimit_take(r, "old", 1, 0), -1);
	for (i = 0; i < 4; i++) {
		(void)snprintf(user, sizeof(user), "user%d", i);
		assert_int_equal(auth_ratelimit_take(r, user, 1, 0), 0);
	}
	/* Only 4 users are tracked: "old" was forgotten. */
	assert_int_equal(auth_ratelimit_used(r, "old", 0), 0);
	assert_int_equal(auth_ratelimit_used(r, "user3", 0), 1);
	auth_ratelimit_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ratelimit_within_hour),
	    cmocka_unit_test(test_ratelimit_set_limit_keeps_counts),
	    cmocka_unit_test(test_ratelimit_slides),
	    cmocka_unit_test(test_ratelimit_unlimited_and_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
