/* SPDX-License-Identifier: ISC */
/*
 * Points in time as the command line writes them: RFC 3339 date-times
 * ("2026-12-01T09:00:00Z", "2026-12-01T11:00:00.5+02:00") and offsets
 * from now ("+90s", "+30m", "+2h", "+1d", "+90", "now").  Pure: the
 * clock is a parameter and neither TZ nor the locale plays a part.
 */
#ifndef TERN_CORE_WHEN_H
#define TERN_CORE_WHEN_H

#include <stddef.h>
#include <time.h>

#include "core/compat.h"

/* Bytes when_format() needs: "YYYY-MM-DDTHH:MM:SSZ" and the NUL. */
#define WHEN_FORMAT_SIZE 21
/* Furthest a relative time may reach past now: 3653 days, ten years. */
#define WHEN_MAX_AHEAD_SECS ((time_t)3653 * 86400)

/*
 * Parses s into UTC epoch seconds in *out_r; now is the current time,
 * used by the relative forms.  Accepted, as a whole string (no blanks,
 * no trailing bytes):
 *   - an RFC 3339 date-time (section 5.6): YYYY-MM-DD "T" HH:MM:SS, an
 *     optional fraction ".D..." (dropped, not rounded), then "Z" or a
 *     numeric offset "+HH:MM" / "-HH:MM" ("T" and "Z" in either case).
 *     Month, day (leap years included), hour 0-23, minute 0-59 and
 *     second 0-60 are range-checked; a leap second :60 counts as the
 *     next second.  The result must lie in years 0000-9999 UTC, so it
 *     can always be formatted back.
 *   - "+N" seconds, or "+Ns", "+Nm", "+Nh", "+Nd" (lowercase units),
 *     N decimal, the offset at most WHEN_MAX_AHEAD_SECS.
 *   - "now".
 * Returns 0, or -1 if s is invalid or the result does not fit a
 * time_t; *out_r is then left alone.
 */
ATTR_WUR int when_parse(const char *s, time_t now, time_t *out_r);

/*
 * Writes t as an RFC 3339 UTC date-time, "2026-12-01T09:00:00Z", into
 * buf[size]; size must be at least WHEN_FORMAT_SIZE.  A t before year
 * 0000 or after 9999 is clamped to the first or last second of that
 * range, so the output is always 20 characters.  when_parse() of the
 * output gives t back for any t in the range.
 */
void when_format(time_t t, char *buf, size_t size);

/* Bytes when_format_rfc5322() needs at most. */
#define WHEN_RFC5322_SIZE 40
/*
 * Writes t as an RFC 5322 3.3 date-time in UTC, "Tue, 26 Nov 2024
 * 17:38:00 +0000", for Date: and Received: fields; names come from
 * tables, so the locale plays no part.  size >= WHEN_RFC5322_SIZE.
 */
void when_format_rfc5322(time_t t, char *buf, size_t size);

#endif
