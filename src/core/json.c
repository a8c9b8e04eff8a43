/* SPDX-License-Identifier: ISC */
/*
 * JSON string output.  UTF-8 is checked as RFC 3629 defines it: no
 * overlong forms, no surrogates, nothing above U+10FFFF.
 */
#include "core/json.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"

/* The length of the valid UTF-8 sequence at p[0..len), or 0. */
static size_t
json_utf8_len(const uint8_t *p, size_t len)
{
	size_t n, i;
	uint32_t cp, min;

	if (p[0] < 0x80)
		return 1;
	if ((p[0] & 0xe0) == 0xc0) {
		n = 2;
		cp = p[0] & 0x1f;
		min = 0x80;
	} else if ((p[0] & 0xf0) == 0xe0) {
		n = 3;
		cp = p[0] & 0x0f;
		min = 0x800;
	} else if ((p[0] & 0xf8) == 0xf0) {
		n = 4;
		cp = p[0] & 0x07;
		min = 0x10000;
	} else {
		return 0;
	}
	if (n > len)
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

int
json_put_string_n(struct buf *out, const char *s, size_t len)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t i = 0, n;
	char esc[8];

	if (buf_append(out, "\"", 1) == -1)
		return -1;
	while (i < len) {
		uint8_t ch = p[i];

		if (ch == '"' || ch == '\\') {
			esc[0] = '\\';
			esc[1] = (char)ch;
			if (buf_append(out, esc, 2) == -1)
				return -1;
			i++;
		} else if (ch < 0x20 || ch == 0x7f) {
			(void)snprintf(esc, sizeof(esc), "\\u%04x", ch);
			if (buf_append(out, esc, 6) == -1)
				return -1;
			i++;
		} else if (ch == 0xc2 && i + 1 < len && p[i + 1] >= 0x80 &&
		    p[i + 1] <= 0x9f) {
			/* C1 controls, escaped like C0 ones. */
			(void)snprintf(esc, sizeof(esc), "\\u%04x", p[i + 1]);
			if (buf_append(out, esc, 6) == -1)
				return -1;
			i += 2;
		} else if ((n = json_utf8_len(p + i, len - i)) == 0) {
			/* U+FFFD REPLACEMENT CHARACTER */
			if (buf_append(out, "\xef\xbf\xbd", 3) == -1)
				return -1;
			i++;
		} else {
			if (buf_append(out, p + i, n) == -1)
				return -1;
			i += n;
		}
	}
	return buf_append(out, "\"", 1);
}

int
json_put_string(struct buf *out, const char *s)
{
	if (s == NULL)
		return buf_append_str(out, "null");
	return json_put_string_n(out, s, strlen(s));
}
