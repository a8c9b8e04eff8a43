/* SPDX-License-Identifier: ISC */
/*
 * JSON string output; UTF-8 is checked by str_utf8_len() (RFC 3629).
 */
#include "core/json.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/str.h"

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
		} else if (ch < 0x80) {
			if (buf_append(out, p + i, 1) == -1)
				return -1;
			i++;
		} else if ((n = str_utf8_len(p + i, len - i)) == 0) {
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
