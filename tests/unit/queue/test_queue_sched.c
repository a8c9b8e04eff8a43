/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for the queue's pure scheduling decisions: the retry
 * backoff (doubling from min_retry, capped at max_retry), expiry, the
 * delay-warning moment, grouping per domain and the count of Received
 * header fields.  Tables of {input, expected}.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/compat.h"
#include "queue/queue_sched.h"

static void
test_sched_backoff(void **state)
{
	static const struct {
		uint64_t min, max;
		uint32_t attempts;
		uint64_t want;
	} cases[] = {
		{ 300, 3600, 1, 300 },
		{ 300, 3600, 2, 600 },
		{ 300, 3600, 3, 1200 },
		{ 300, 3600, 4, 2400 },
		{ 300, 3600, 5, 3600 },
		{ 300, 3600, 6, 3600 },
		{ 300, 3600, 1000000, 3600 },
		{ 300, 3600, 0, 300 },
		{ 60, 60, 9, 60 },
		{ 1, 7 * 86400, 64, 7 * 86400 },
		{ 0, 0, 3, 1 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(cases); i++) {
		uint64_t got = queue_sched_backoff(cases[i].min, cases[i].max,
		    cases[i].attempts);

		if (got != cases[i].want)
			fail_msg("case %zu: %llu, want %llu", i,
			    (unsigned long long)got,
			    (unsigned long long)cases[i].want);
	}
}

static void
test_sched_expiry_and_delay(void **state)
{
	(void)state;
	assert_false(queue_sched_is_expired(1000, 1000 + 99, 100));
	assert_true(queue_sched_is_expired(1000, 1000 + 100, 100));
	assert_true(queue_sched_is_expired(1000, 5000, 100));
	/* A clock that went backwards is not an expiry. */
	assert_false(queue_sched_is_expired(5000, 1000, 100));

	assert_true(queue_sched_is_delay_due(0, 4 * 3600, 4 * 3600, false,
	    true));
	assert_false(queue_sched_is_delay_due(0, 4 * 3600 - 1, 4 * 3600,
	    false, true));
	assert_false(queue_sched_is_delay_due(0, 9 * 3600, 4 * 3600, true,
	    true));
	assert_false(queue_sched_is_delay_due(0, 9 * 3600, 4 * 3600, false,
	    false));
	assert_false(queue_sched_is_delay_due(0, 9 * 3600, 0, false, true));
}

static void
test_sched_group(void **state)
{
	static const char *const domains[] = {
		"a.test", "b.test", "A.TEST", "c.test", "b.test", "a.test",
	};
	size_t group[N_ELEMENTS(domains)];

	(void)state;
	assert_int_equal(queue_sched_group(domains, N_ELEMENTS(domains),
	    group), 3);
	assert_int_equal(group[0], 0);
	assert_int_equal(group[1], 1);
	assert_int_equal(group[2], 0);
	assert_int_equal(group[3], 2);
	assert_int_equal(group[4], 1);
	assert_int_equal(group[5], 0);
	assert_int_equal(queue_sched_group(domains, 0, group), 0);
}

static void
test_sched_count_received(void **state)
{
	static const struct {
		const char *in;
		size_t want;
	} cases[] = {
		{ "Received: a\r\nReceived: b\r\n\r\nbody", 2 },
		{ "received: a\r\nRECEIVED:b\r\n\r\n", 2 },
		{ "Received: a\r\n\tReceived: folded\r\n\r\n", 1 },
		{ "X-Received: a\r\nReceivedx: b\r\n\r\n", 0 },
		{ "Subject: x\r\n\r\nReceived: in body\r\n", 0 },
		{ "Received: a\nReceived: b\n\nReceived: c\n", 2 },
		{ "\r\nReceived: a\r\n", 0 },
		{ "Received: no end", 1 },
		{ "Receiv", 0 },
		{ "", 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(cases); i++) {
		size_t got = queue_sched_count_received(
		    (const uint8_t *)cases[i].in, strlen(cases[i].in));

		if (got != cases[i].want)
			fail_msg("case %zu: %zu, want %zu", i, got,
			    cases[i].want);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sched_backoff),
		cmocka_unit_test(test_sched_expiry_and_delay),
		cmocka_unit_test(test_sched_group),
		cmocka_unit_test(test_sched_count_received),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
