/* SPDX-License-Identifier: ISC */
/*
 * Line endings of a message handed to tern sendmail: local programs
 * write LF, SMTP and the spool want CRLF (RFC 5322 2.1, RFC 5321
 * 2.3.8).  The old "." terminator of sendmail is honoured on request.
 * Dot-stuffing is the SMTP client's job, not done here.
 */
#include "mail/mail.h"

#include <string.h>

#include "core/buf.h"

int
mail_lines_normalize(const uint8_t *in, size_t len, bool dot_ends,
    struct buf *out, size_t *consumed_r)
{
	const uint8_t *nl;
	size_t pos = 0, next, text;

	while (pos < len) {
		/* One line: in[pos..text) then its ending, up to next. */
		nl = memchr(in + pos, '\n', len - pos);
		if (nl != NULL) {
			next = (size_t)(nl - in) + 1;
			text = next - 1;
			if (text > pos && in[text - 1] == '\r')
				text--;
		} else {
			/* The last line, without an ending. */
			next = len;
			text = len;
		}
		if (dot_ends && text - pos == 1 && in[pos] == '.') {
			len = next;
			break;
		}
		if (buf_append(out, in + pos, text - pos) == -1 ||
		    buf_append(out, "\r\n", 2) == -1)
			return -1;
		pos = next;
	}
	if (consumed_r != NULL)
		*consumed_r = len;
	return 0;
}
