/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for auth/auth_throttle (and the bounded table of
 * auth_lru.c beneath it): growing delays, blocks, expiry, eviction.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "auth/auth_throttle.h"

static struct auth_throttle *
make_throttle(unsigned max_failures, size_t max_ips)
{
	struct auth_throttle_limits limits;

	auth_throttle_limits_default(&limits);
	limits.max_failures = max_failures;
	limits.window_ms = 60000;
	limits.block_ms = 300000;
	limits.delay_max_ms = 8000;
	limits.max_ips = max_ips;
	return auth_throttle_new(&limits);
}

static void
test_throttle_delays_and_block(void **state)
{
	static const uint64_t delays[] = {0, 1000, 2000, 4000, 8000, 8000};
	struct auth_throttle *t = make_throttle(6, 100);
	uint64_t now = 1000000;
	bool blocked;
	size_t i;

	(void)state;
	assert_false(auth_throttle_is_blocked(t, "192.0.2.1", now));
	for (i = 0; i < N_ELEMENTS(delays); i++) {
		assert_int_equal(
		    auth_throttle_failure(t, "192.0.2.1", now, &blocked),
		    delays[i]);
		/* The sixth failure within the window blocks. */
		assert_int_equal(blocked, i == 5);
		now += 1000;
	}
	assert_true(auth_throttle_is_blocked(t, "192.0.2.1", now));
	assert_false(auth_throttle_is_blocked(t, "192.0.2.2", now));
	/* Still blocked just before block_ms, free right after. */
	assert_true(
	    auth_throttle_is_blocked(t, "192.0.2.1", now - 1000 + 300000 - 1));
	assert_false(
	    auth_throttle_is_blocked(t, "192.0.2.1", now - 1000 + 300000));
	/* After a block the count starts afresh. */
	now += 300000;
	assert_int_equal(
	    auth_throttle_failure(t, "192.0.2.1", now, &blocked), 0);
	assert_false(blocked);
	auth_throttle_free(&t);
	assert_null(t);
}

static void
test_throttle_failure_while_blocked(void **state)
{
	struct auth_throttle *t = make_throttle(2, 100);
	bool blocked = false;

	(void)state;
	(void)auth_throttle_failure(t, "2001:db8::/64", 10, NULL);
	(void)auth_throttle_failure(t, "2001:db8::/64", 20, &blocked);
	assert_true(blocked);
	blocked = false;
	/* Without asking is_blocked first, a failure stays blocked and slow. */
	assert_int_equal(
	    auth_throttle_failure(t, "2001:db8::/64", 30, &blocked), 8000);
	assert_true(blocked);
	/* The first failure after the block ends starts over. */
	assert_int_equal(
	    auth_throttle_failure(t, "2001:db8::/64", 20 + 300000, &blocked),
	    0);
	assert_false(blocked);
	auth_throttle_free(&t);
}

/* A reload sets new limits and keeps what the throttle knows. */
static void
test_throttle_set_limits_keeps_state(void **state)
{
	struct auth_throttle *t = make_throttle(2, 100);
	struct auth_throttle_limits limits;
	bool blocked = false;

	(void)state;
	(void)auth_throttle_failure(t, "192.0.2.9", 10, NULL);
	(void)auth_throttle_failure(t, "192.0.2.9", 20, &blocked);
	assert_true(blocked);
	(void)auth_throttle_failure(t, "192.0.2.10", 20, NULL);
	auth_throttle_limits_default(&limits);
	limits.max_failures = 2;
	auth_throttle_set_limits(t, &limits);
	assert_true(auth_throttle_is_blocked(t, "192.0.2.9", 30));
	blocked = false;
	(void)auth_throttle_failure(t, "192.0.2.10", 40, &blocked);
	assert_true(blocked);
	assert_int_equal(auth_throttle_count(t), 2);
	auth_throttle_free(&t);
}

static void
test_throttle_window_and_success(void **state)
{
	struct auth_throttle *t = make_throttle(3, 100);
	bool blocked;

	(void)state;
	assert_int_equal(auth_throttle_failure(t, "a", 0, &blocked), 0);
	assert_int_equal(auth_throttle_failure(t, "a", 1, &blocked), 1000);
	/* Outside the window the earlier failures are forgotten. */
	assert_int_equal(auth_throttle_failure(t, "a", 60001, &blocked), 0);
	assert_int_equal(auth_throttle_failure(t, "a", 60002, &blocked), 1000);
	assert_false(blocked);
	/* A success resets, so the third failure does not block. */
	auth_throttle_success(t, "a");
	assert_int_equal(auth_throttle_count(t), 0);
	assert_int_equal(auth_throttle_failure(t, "a", 60003, &blocked), 0);
	assert_false(blocked);
	auth_throttle_free(&t);
}

static void
test_throttle_bounded(void **state)
{
	struct auth_throttle *t = make_throttle(2, 16);
	char ip[32];
	bool blocked;
	int i;

	(void)state;
	(void)auth_throttle_failure(t, "198.51.100.1", 0, NULL);
	(void)auth_throttle_failure(t, "198.51.100.1", 1, &blocked);
	assert_true(blocked);
	/* 16 other IPs: the table holds 16, so the oldest goes. */
	for (i = 0; i < 16; i++) {
		(void)snprintf(ip, sizeof(ip), "203.0.113.%d", i);
		(void)auth_throttle_failure(t, ip, 2, NULL);
		assert_true(auth_throttle_count(t) <= 16);
	}
	assert_int_equal(auth_throttle_count(t), 16);
	assert_false(auth_throttle_is_blocked(t, "198.51.100.1", 3));
	/* Entries expire: much later, a failure finds the table emptied. */
	(void)auth_throttle_failure(t, "198.51.100.9", 10000000, NULL);
	assert_int_equal(auth_throttle_count(t), 1);
	auth_throttle_free(&t);
}

static void
test_throttle_many_keys(void **state)
{
	struct auth_throttle *t = make_throttle(3, 5000);
	char ip[64];
	bool blocked;
	int i;

	(void)state;
	/* Lengths of every size exercise the hash's tail handling. */
	for (i = 0; i < 5000; i++) {
		(void)snprintf(ip, sizeof(ip), "%.*s%d", i % 40,
		    "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff:", i);
		(void)auth_throttle_failure(t, ip, 5, NULL);
		(void)auth_throttle_failure(t, ip, 6, NULL);
	}
	assert_int_equal(auth_throttle_count(t), 5000);
	for (i = 0; i < 5000; i++) {
		(void)snprintf(ip, sizeof(ip), "%.*s%d", i % 40,
		    "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff:", i);
		assert_false(auth_throttle_is_blocked(t, ip, 7));
		assert_int_equal(
		    auth_throttle_failure(t, ip, 7, &blocked), 2000);
		assert_true(blocked);
	}
	auth_throttle_free(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_throttle_delays_and_block),
	    cmocka_unit_test(test_throttle_failure_while_blocked),
	    cmocka_unit_test(test_throttle_set_limits_keeps_state),
	    cmocka_unit_test(test_throttle_window_and_success),
	    cmocka_unit_test(test_throttle_bounded),
	    cmocka_unit_test(test_throttle_many_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
