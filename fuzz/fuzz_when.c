/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for when_parse() and when_format().  Any input must
 * parse without a crash; an accepted absolute time does not depend on
 * now, a relative one lies within ten years of it, and every result
 * formats to 20 characters that parse back to the same instant.  The
 * first 8 bytes, read as a time_t, also check when_format() against
 * gmtime_r().
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/when.h"
#include "core/xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* 2026-01-01T00:00:00Z */
#define FUZZ_NOW ((time_t)1767225600)
#define FUZZ_MAX_EPOCH ((time_t)253402300799LL)

static void
fuzz_format_vs_gmtime(const uint8_t *data, size_t size)
{
	char buf[WHEN_FORMAT_SIZE], want[64];
	struct tm tm;
	int64_t v;
	time_t t;

	if (size < sizeof(v))
		return;
	memcpy(&v, data, sizeof(v));
	/* keep to the years when_format() writes without clamping */
	t = (time_t)(v % (FUZZ_MAX_EPOCH + 1));
	if (t < 0)
		t = -t;
	ASSERT(gmtime_r(&t, &tm) != NULL);
	(void)snprintf(want, sizeof(want), "%04d-%02d-%02dT%02d:%02d:%02dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec);
	when_format(t, buf, sizeof(buf));
	ASSERT(strcmp(buf, want) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char buf[WHEN_FORMAT_SIZE];
	time_t t, t2, back;
	char *s;
	size_t len, i;
	int rc;

	fuzz_format_vs_gmtime(data, size);
	s = xmalloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	len = strlen(s);

	rc = when_parse(s, FUZZ_NOW, &t);
	ASSERT(rc == 0 || rc == -1);
	if (rc == 0) {
		if (s[0] == '+' || strcmp(s, "now") == 0) {
			ASSERT(t >= FUZZ_NOW &&
			    t - FUZZ_NOW <= WHEN_MAX_AHEAD_SECS);
		} else {
			/* an absolute time ignores now */
			ASSERT(when_parse(s, 0, &t2) == 0 && t2 == t);
		}
		when_format(t, buf, sizeof(buf));
		ASSERT(strlen(buf) == WHEN_FORMAT_SIZE - 1);
		ASSERT(when_parse(buf, 0, &back) == 0 && back == t);
		/*
		 * 20 bytes of date-time are already canonical (UTC, no
		 * fraction) unless a leap second: formatting writes the
		 * same bytes, with T and Z uppercased.
		 */
		if (s[0] != '+' && len == WHEN_FORMAT_SIZE - 1 &&
		    s[17] != '6') {
			for (i = 0; i < len; i++)
				ASSERT(buf[i] == s[i] ||
				    (buf[i] == 'T' && s[i] == 't') ||
				    (buf[i] == 'Z' && s[i] == 'z'));
		}
	} else {
		/* nor does a rejection depend on now, short of overflow */
		ASSERT(when_parse(s, 0, &t2) == -1);
	}
	free(s);
	return 0;
}
