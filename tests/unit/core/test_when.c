/* SPDX-License-Identifier: ISC */
/* Unit tests for core/when: RFC 3339 and relative times. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "core/when.h"

/* 2026-01-01T00:00:00Z, the "now" of the relative cases. */
#define NOW ((time_t)1767225600)

struct when_valid_case {
	const char *in;
	time_t want;
};

static const struct when_valid_case when_valid[] = {
	{ .in = "2026-12-01T09:00:00Z", .want = 1796115600 },
	{ .in = "2026-12-01t09:00:00z", .want = 1796115600 },
	{ .in = "2026-12-01T09:00:00.123Z", .want = 1796115600 },
	{ .in = "2026-12-01T09:00:00.999999999Z", .want = 1796115600 },
	{ .in = "2026-12-01T09:00:00.5+00:00", .want = 1796115600 },
	{ .in = "2026-12-01T11:00:00+02:00", .want = 1796115600 },
	{ .in = "2026-12-01T03:30:00-05:30", .want = 1796115600 },
	{ .in = "2026-12-01T09:00:00-00:00", .want = 1796115600 },
	{ .in = "2026-12-02T08:59:00+23:59", .want = 1796115600 },
	{ .in = "1970-01-01T00:00:00Z", .want = 0 },
	{ .in = "1969-12-31T23:59:59Z", .want = -1 },
	{ .in = "1970-01-01T00:00:00+00:01", .want = -60 },
	{ .in = "2038-01-19T03:14:08Z", .want = 2147483648LL },
	{ .in = "2026-12-31T23:59:59Z", .want = 1798761599 },
	/* leap years: every 4th, not every 100th, but every 400th */
	{ .in = "2024-02-29T12:00:00Z", .want = 1709208000 },
	{ .in = "2000-02-29T00:00:00Z", .want = 951782400 },
	{ .in = "2400-02-29T00:00:00Z", .want = 13574563200LL },
	{ .in = "2100-02-28T00:00:00Z", .want = 4107456000LL },
	/* a leap second is the next second */
	{ .in = "2016-12-31T23:59:60Z", .want = 1483228800 },
	/* the ends of the four-digit range */
	{ .in = "0000-01-01T00:00:00Z", .want = -62167219200LL },
	{ .in = "0001-01-01T00:00:00Z", .want = -62135596800LL },
	{ .in = "9999-12-31T23:59:59Z", .want = 253402300799LL },
	{ .in = "9999-12-31T23:59:59.9Z", .want = 253402300799LL },
	{ .in = "0000-01-01T00:00:00-00:00", .want = -62167219200LL },
	/* relative */
	{ .in = "now", .want = NOW },
	{ .in = "+0", .want = NOW },
	{ .in = "+90", .want = NOW + 90 },
	{ .in = "+90s", .want = NOW + 90 },
	{ .in = "+30m", .want = NOW + 1800 },
	{ .in = "+2h", .want = NOW + 7200 },
	{ .in = "+1d", .want = NOW + 86400 },
	{ .in = "+007m", .want = NOW + 420 },
	{ .in = "+3653d", .want = NOW + 3653LL * 86400 },
	{ .in = "+87672h", .want = NOW + 87672LL * 3600 },
	{ .in = "+315619200", .want = NOW + 315619200 },
};

struct when_invalid_case {
	const char *in;
	const char *why;
};

static const struct when_invalid_case when_invalid[] = {
	{ .in = "", .why = "empty" },
	{ .in = "garbage", .why = "garbage" },
	{ .in = "\x01\xff", .why = "binary" },
	{ .in = "Now", .why = "now is lowercase" },
	{ .in = " now", .why = "leading blank" },
	{ .in = "now ", .why = "trailing blank" },
	/* dates that do not exist */
	{ .in = "2025-02-29T00:00:00Z", .why = "Feb 29, non-leap year" },
	{ .in = "2100-02-29T00:00:00Z", .why = "Feb 29, century year" },
	{ .in = "1900-02-29T00:00:00Z", .why = "Feb 29, 1900" },
	{ .in = "2024-02-30T00:00:00Z", .why = "Feb 30" },
	{ .in = "2026-04-31T00:00:00Z", .why = "April 31" },
	{ .in = "2026-13-01T00:00:00Z", .why = "month 13" },
	{ .in = "2026-00-01T00:00:00Z", .why = "month 0" },
	{ .in = "2026-01-00T00:00:00Z", .why = "day 0" },
	{ .in = "2026-01-32T00:00:00Z", .why = "day 32" },
	{ .in = "2026-01-01T24:00:00Z", .why = "hour 24" },
	{ .in = "2026-01-01T00:60:00Z", .why = "minute 60" },
	{ .in = "2026-01-01T00:00:61Z", .why = "second 61" },
	/* the shape */
	{ .in = "2026-12-01", .why = "date only" },
	{ .in = "2026-12-01T09:00:00", .why = "no offset" },
	{ .in = "2026-12-01T09:00Z", .why = "no seconds" },
	{ .in = "2026-12-01 09:00:00Z", .why = "blank for T" },
	{ .in = "2026-12-01X09:00:00Z", .why = "X for T" },
	{ .in = "26-12-01T09:00:00Z", .why = "two-digit year" },
	{ .in = "+2026-12-01T09:00:00Z", .why = "signed year" },
	{ .in = "20261-12-01T09:00:00Z", .why = "five-digit year" },
	{ .in = "2026-1-01T09:00:00Z", .why = "one-digit month" },
	{ .in = "2026/12/01T09:00:00Z", .why = "slashes" },
	{ .in = "2026-12-01T9:00:00Z", .why = "one-digit hour" },
	{ .in = "2026-12-01T09.00.00Z", .why = "dots for colons" },
	{ .in = "2026-12-01T09:00:00.Z", .why = "empty fraction" },
	{ .in = "2026-12-01T09:00:00,5Z", .why = "comma fraction" },
	{ .in = "2026-12-01T09:00:00.5", .why = "fraction, no offset" },
	{ .in = "2026-12-01T09:00:00UTC", .why = "zone name" },
	/* offsets */
	{ .in = "2026-12-01T09:00:00+02", .why = "offset without minutes" },
	{ .in = "2026-12-01T09:00:00+0200", .why = "offset without colon" },
	{ .in = "2026-12-01T09:00:00+24:00", .why = "offset hour 24" },
	{ .in = "2026-12-01T09:00:00+02:60", .why = "offset minute 60" },
	{ .in = "2026-12-01T09:00:00+2:00", .why = "one-digit offset" },
	{ .in = "2026-12-01T09:00:00Z+02:00", .why = "Z and offset" },
	/* trailing bytes */
	{ .in = "2026-12-01T09:00:00Zx", .why = "byte after Z" },
	{ .in = "2026-12-01T09:00:00Z ", .why = "blank after Z" },
	{ .in = "2026-12-01T09:00:00+02:00x", .why = "byte after offset" },
	{ .in = "2026-12-01T09:00:00+02:000", .why = "digit after offset" },
	{ .in = "+90s ", .why = "blank after relative" },
	{ .in = "+90ss", .why = "two units" },
	{ .in = "+1dx", .why = "byte after unit" },
	/* out of the four-digit range once the offset is applied */
	{ .in = "9999-12-31T23:59:59-00:01", .why = "past 9999" },
	{ .in = "9999-12-31T23:59:60Z", .why = "leap second past 9999" },
	{ .in = "0000-01-01T00:00:00+00:01", .why = "before 0000" },
	/* relative forms */
	{ .in = "+", .why = "no number" },
	{ .in = "+s", .why = "unit only" },
	{ .in = "+-5", .why = "negative" },
	{ .in = "-5m", .why = "past" },
	{ .in = "+ 5", .why = "blank" },
	{ .in = "5m", .why = "no plus" },
	{ .in = "++5", .why = "two plus" },
	{ .in = "+5w", .why = "weeks" },
	{ .in = "+5M", .why = "uppercase unit" },
	{ .in = "+1.5h", .why = "fraction" },
	{ .in = "+0x10", .why = "hex" },
	/* more than ten years ahead, and overflow */
	{ .in = "+3654d", .why = "3654 days" },
	{ .in = "+315619201", .why = "one second past ten years" },
	{ .in = "+87673h", .why = "87673 hours" },
	{ .in = "+5260321m", .why = "5260321 minutes" },
	{ .in = "+18446744073709551615", .why = "UINT64_MAX seconds" },
	{ .in = "+18446744073709551616", .why = "UINT64_MAX + 1 seconds" },
	{ .in = "+99999999999999999999999999d", .why = "huge days" },
	{ .in = "+213503982334601d", .why = "days that wrap int64" },
};

static void
test_when_parse_valid(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(when_valid); i++) {
		time_t got = 12345;

		if (when_parse(when_valid[i].in, NOW, &got) != 0)
			fail_msg("%s: rejected", when_valid[i].in);
		if (got != when_valid[i].want)
			fail_msg("%s: got %lld, want %lld", when_valid[i].in,
			    (long long)got, (long long)when_valid[i].want);
	}
}

static void
test_when_parse_invalid(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(when_invalid); i++) {
		time_t got = 12345;

		if (when_parse(when_invalid[i].in, NOW, &got) != -1)
			fail_msg("\"%s\" (%s): accepted as %lld",
			    when_invalid[i].in, when_invalid[i].why,
			    (long long)got);
		/* a failed parse leaves the output alone */
		assert_int_equal(got, 12345);
	}
}

static void
test_when_relative_overflow(void **state)
{
	time_t got = 0;
	time_t big;

	(void)state;
	/* now itself near the end of time_t: the sum must not wrap */
	big = (time_t)(sizeof(time_t) == 8 ? INT64_MAX : INT32_MAX);
	assert_int_equal(when_parse("+1", big, &got), -1);
	assert_int_equal(when_parse("+0", big, &got), 0);
	assert_true(got == big);
	assert_int_equal(when_parse("now", big, &got), 0);
	assert_int_equal(when_parse("+1s", big - 1, &got), 0);
	assert_true(got == big);
	assert_int_equal(when_parse("+1d", big - 86399, &got), -1);
}

static void
test_when_parse_nul_inside(void **state)
{
	/* A string ends at its NUL: what follows it is never read. */
	static const char s[] = "2026-12-01T09:00:00Z\0garbage";
	static const char cut[] = "2026-12-01T09:00\0:00Z";
	time_t got;

	(void)state;
	assert_int_equal(when_parse(s, NOW, &got), 0);
	assert_true(got == 1796115600);
	assert_int_equal(when_parse(cut, NOW, &got), -1);
}

static void
test_when_format(void **state)
{
	char buf[WHEN_FORMAT_SIZE];
	char big[64];

	(void)state;
	when_format(1796115600, buf, sizeof(buf));
	assert_string_equal(buf, "2026-12-01T09:00:00Z");
	when_format(0, buf, sizeof(buf));
	assert_string_equal(buf, "1970-01-01T00:00:00Z");
	when_format(-1, buf, sizeof(buf));
	assert_string_equal(buf, "1969-12-31T23:59:59Z");
	when_format(951782400 - 1, buf, sizeof(buf));
	assert_string_equal(buf, "2000-02-28T23:59:59Z");
	when_format(951782400, buf, sizeof(buf));
	assert_string_equal(buf, "2000-02-29T00:00:00Z");
	when_format(13574563200LL, big, sizeof(big));
	assert_string_equal(big, "2400-02-29T00:00:00Z");
	/* clamped to the four-digit years */
	when_format(253402300800LL, buf, sizeof(buf));
	assert_string_equal(buf, "9999-12-31T23:59:59Z");
	when_format(-62167219201LL, buf, sizeof(buf));
	assert_string_equal(buf, "0000-01-01T00:00:00Z");
	when_format((time_t)INT64_MAX, buf, sizeof(buf));
	assert_string_equal(buf, "9999-12-31T23:59:59Z");
	when_format((time_t)INT64_MIN, buf, sizeof(buf));
	assert_string_equal(buf, "0000-01-01T00:00:00Z");
}

/* when_format() agrees with gmtime_r() (libc's UTC, no TZ involved). */
static void
test_when_format_gmtime(void **state)
{
	char buf[WHEN_FORMAT_SIZE], want[64];
	struct tm tm;
	time_t t;

	(void)state;
	/* every 1,000,003 s (about 11.6 days) from 1900 to 2200 */
	for (t = -2208988800LL; t < 7258118400LL; t += 1000003) {
		assert_non_null(gmtime_r(&t, &tm));
		snprintf(want, sizeof(want), "%04d-%02d-%02dT%02d:%02d:%02dZ",
		    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		    tm.tm_min, tm.tm_sec);
		when_format(t, buf, sizeof(buf));
		assert_string_equal(buf, want);
	}
}

/* format -> parse gives the same instant, over the whole range. */
static void
test_when_round_trip(void **state)
{
	char buf[WHEN_FORMAT_SIZE];
	time_t t, got;
	int64_t step;

	(void)state;
	for (step = -62167219200LL; step <= 253402300799LL;
	    step += 86400LL * 37 + 3607) {
		t = (time_t)step;
		when_format(t, buf, sizeof(buf));
		if (when_parse(buf, NOW, &got) != 0 || got != t)
			fail_msg("%lld -> %s -> %lld", (long long)t, buf,
			    (long long)got);
	}
	/* every day of a leap year and of a common one */
	for (t = 1704067200; t < 1767225600; t += 86400 - 1) {
		when_format(t, buf, sizeof(buf));
		assert_int_equal(when_parse(buf, NOW, &got), 0);
		assert_true(got == t);
	}
	/* and a relative time formats to something that parses back */
	assert_int_equal(when_parse("+2h", NOW, &t), 0);
	when_format(t, buf, sizeof(buf));
	assert_string_equal(buf, "2026-01-01T02:00:00Z");
	assert_int_equal(when_parse(buf, 0, &got), 0);
	assert_true(got == t);
}

/* The result must not depend on TZ (mktime() would read it). */
static void
test_when_ignores_tz(void **state)
{
	time_t got;

	(void)state;
	assert_int_equal(setenv("TZ", "America/St_Johns", 1), 0);
	tzset();
	assert_int_equal(when_parse("2026-12-01T09:00:00Z", NOW, &got), 0);
	assert_true(got == 1796115600);
	assert_int_equal(unsetenv("TZ"), 0);
	tzset();
}

/* RFC 5322 dates: UTC, English names whatever the locale. */
static void
test_when_rfc5322(void **state)
{
	char buf[WHEN_RFC5322_SIZE];

	(void)state;
	when_format_rfc5322(1796115600, buf, sizeof(buf));
	assert_string_equal(buf, "Tue, 01 Dec 2026 09:00:00 +0000");
	when_format_rfc5322(0, buf, sizeof(buf));
	assert_string_equal(buf, "Thu, 01 Jan 1970 00:00:00 +0000");
	when_format_rfc5322(951782400, buf, sizeof(buf)); /* 2000-02-29 */
	assert_string_equal(buf, "Tue, 29 Feb 2000 00:00:00 +0000");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_when_parse_valid),
		cmocka_unit_test(test_when_parse_invalid),
		cmocka_unit_test(test_when_relative_overflow),
		cmocka_unit_test(test_when_parse_nul_inside),
		cmocka_unit_test(test_when_format),
		cmocka_unit_test(test_when_format_gmtime),
		cmocka_unit_test(test_when_round_trip),
		cmocka_unit_test(test_when_ignores_tz),
		cmocka_unit_test(test_when_rfc5322),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
