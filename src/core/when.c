/* SPDX-License-Identifier: ISC */
/*
 * Times for the command line: RFC 3339 section 5.6 date-times and
 * offsets from now, to and from UTC epoch seconds.  The calendar
 * arithmetic is done here (proleptic Gregorian, as RFC 3339 section 1
 * prescribes) rather than with mktime(), which would read TZ.
 */
#include "core/when.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "core/str.h"

#define WHEN_DAY_SECS 86400
/* 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z in epoch seconds. */
#define WHEN_MIN_EPOCH (-62167219200LL)
#define WHEN_MAX_EPOCH 253402300799LL

static bool
when_is_leap_year(unsigned y)
{
	return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

static unsigned
when_days_in_month(unsigned y, unsigned m)
{
	static const unsigned char days[12] = { 31, 28, 31, 30, 31, 30, 31,
		31, 30, 31, 30, 31 };

	if (m == 2 && when_is_leap_year(y))
		return 29;
	return days[m - 1];
}

/*
 * Days from 1970-01-01 to y-m-d.  Howard Hinnant's days_from_civil():
 * years start in March so that the leap day comes last, and 400-year
 * eras of 146097 days make the count exact for any year.
 */
static int64_t
when_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/* The inverse of when_days_from_civil(). */
static void
when_civil_from_days(int64_t z, int64_t *y_r, unsigned *m_r, unsigned *d_r)
{
	int64_t era;
	unsigned doe, yoe, doy, mp, m;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d_r = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	*m_r = m;
	*y_r = (int64_t)yoe + era * 400 + (m <= 2);
}

static bool
when_is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * Exactly n digits at s within [min, max].  Stops at the first
 * non-digit, so it never reads past the NUL of a short string.
 */
static int
when_digits(const char *s, size_t n, unsigned min, unsigned max,
    unsigned *val_r)
{
	uint64_t v;

	if (parse_uint_n(s, n, min, max, &v) == -1)
		return -1;
	*val_r = (unsigned)v;
	return 0;
}

/*
 * RFC 3339 section 5.6:
 *   date-time   = full-date "T" full-time
 *   full-date   = date-fullyear "-" date-month "-" date-mday
 *   full-time   = partial-time time-offset
 *   partial-time = time-hour ":" time-minute ":" time-second
 *                  [time-secfrac]
 *   time-offset = "Z" / ("+" / "-") time-hour ":" time-minute
 * "T" and "Z" may be lowercase (section 5.6, NOTE).
 */
static int
when_parse_rfc3339(const char *s, int64_t *epoch_r)
{
	unsigned year, mon, day, hour, min, sec, off_h, off_m;
	int64_t off = 0, t;
	const char *p;

	if (when_digits(s, 4, 0, 9999, &year) == -1 || s[4] != '-' ||
	    when_digits(s + 5, 2, 1, 12, &mon) == -1 || s[7] != '-' ||
	    when_digits(s + 8, 2, 1, 31, &day) == -1 ||
	    (s[10] != 'T' && s[10] != 't') ||
	    when_digits(s + 11, 2, 0, 23, &hour) == -1 || s[13] != ':' ||
	    when_digits(s + 14, 2, 0, 59, &min) == -1 || s[16] != ':' ||
	    when_digits(s + 17, 2, 0, 60, &sec) == -1)
		return -1;
	/* Section 5.7: the day must exist in that month of that year. */
	if (day > when_days_in_month(year, mon))
		return -1;
	p = s + 19;
	if (*p == '.') {
		/* time-secfrac = "." 1*DIGIT; whole seconds are enough. */
		p++;
		if (!when_is_digit(*p))
			return -1;
		while (when_is_digit(*p))
			p++;
	}
	if (*p == 'Z' || *p == 'z') {
		if (p[1] != '\0')
			return -1;
	} else if (*p == '+' || *p == '-') {
		if (when_digits(p + 1, 2, 0, 23, &off_h) == -1 ||
		    p[3] != ':' ||
		    when_digits(p + 4, 2, 0, 59, &off_m) == -1 ||
		    p[6] != '\0')
			return -1;
		/* Local time = UTC + offset; "-00:00" is UTC too (4.3). */
		off = ((int64_t)off_h * 60 + off_m) * 60;
		if (*p == '-')
			off = -off;
	} else {
		return -1;
	}
	/*
	 * A leap second (:60) simply counts as the next second: epoch
	 * seconds have no room for it, and the caller wants an instant.
	 */
	t = when_days_from_civil(year, mon, day) * WHEN_DAY_SECS +
	    (int64_t)hour * 3600 + (int64_t)min * 60 + sec - off;
	if (t < WHEN_MIN_EPOCH || t > WHEN_MAX_EPOCH)
		return -1;
	*epoch_r = t;
	return 0;
}

/* "N", "Ns", "Nm", "Nh" or "Nd" (the text after "+"), in seconds. */
static int
when_parse_offset(const char *s, time_t *secs_r)
{
	size_t len = strlen(s);
	uint64_t n, mult = 1;

	if (len > 0) {
		switch (s[len - 1]) {
		case 's':
			mult = 1;
			len--;
			break;
		case 'm':
			mult = 60;
			len--;
			break;
		case 'h':
			mult = 3600;
			len--;
			break;
		case 'd':
			mult = WHEN_DAY_SECS;
			len--;
			break;
		default:
			break;
		}
	}
	/* The bound keeps n * mult far from any overflow. */
	if (parse_uint_n(s, len, 0, (uint64_t)WHEN_MAX_AHEAD_SECS / mult,
	    &n) == -1)
		return -1;
	*secs_r = (time_t)(n * mult);
	return 0;
}

int
when_parse(const char *s, time_t now, time_t *out_r)
{
	int64_t epoch;
	time_t t;

	ASSERT(s != NULL && out_r != NULL);
	if (strcmp(s, "now") == 0) {
		*out_r = now;
		return 0;
	}
	if (s[0] == '+') {
		time_t secs;

		if (when_parse_offset(s + 1, &secs) == -1 ||
		    __builtin_add_overflow(now, secs, &t))
			return -1;
		*out_r = t;
		return 0;
	}
	if (when_parse_rfc3339(s, &epoch) == -1)
		return -1;
	/* Only matters where time_t is 32 bits. */
	t = (time_t)epoch;
	if ((int64_t)t != epoch)
		return -1;
	*out_r = t;
	return 0;
}

void
when_format(time_t t, char *buf, size_t size)
{
	int64_t secs = t, days, rem, year;
	unsigned mon, day;
	int n;

	ASSERT(buf != NULL && size >= WHEN_FORMAT_SIZE);
	if (secs < WHEN_MIN_EPOCH)
		secs = WHEN_MIN_EPOCH;
	if (secs > WHEN_MAX_EPOCH)
		secs = WHEN_MAX_EPOCH;
	days = secs / WHEN_DAY_SECS;
	rem = secs % WHEN_DAY_SECS;
	if (rem < 0) {
		rem += WHEN_DAY_SECS;
		days--;
	}
	when_civil_from_days(days, &year, &mon, &day);
	n = snprintf(buf, size, "%04u-%02u-%02uT%02u:%02u:%02uZ",
	    (unsigned)year, mon, day, (unsigned)(rem / 3600),
	    (unsigned)(rem / 60 % 60), (unsigned)(rem % 60));
	ASSERT(n == WHEN_FORMAT_SIZE - 1);
}

void
when_format_rfc5322(time_t t, char *buf, size_t size)
{
	static const char days[7][4] = {
		"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat",
	};
	static const char months[12][4] = {
		"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep",
		"Oct", "Nov", "Dec",
	};
	struct tm tm;

	ASSERT(size >= WHEN_RFC5322_SIZE);
	if (gmtime_r(&t, &tm) == NULL)
		memset(&tm, 0, sizeof(tm));
	(void)snprintf(buf, size, "%s, %02d %s %04d %02d:%02d:%02d +0000",
	    days[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}
