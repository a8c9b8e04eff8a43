/* SPDX-License-Identifier: ISC */
/*
 * Line endings of a message handed to tern sendmail: local programs
 * write LF, SMTP and the spool want CRLF (RFC 5322 2.1, RFC 5321
 * 2.3.8), and a bare CR never reaches the spool (it is how <CR>.<CR>
 * smuggling starts), so every CRLF, LF or CR ends a line.  The old "."
 * terminator of sendmail is honoured on request.  Dot-stuffing is the
 * SMTP client's job, not done here.
 */
#include "mail/mail.h"

#include <string.h>

#include "core/buf.h"

/* The end of the line starting at in[pos]: the first CR or LF, or len. */
static size_t
mail_lines_end(const uint8_t *in, size_t len, size_t pos)
{
	while (pos < len && in[pos] != '\r' && in[pos] != '\n')
		pos++;
	return pos;
}

int
mail_lines_normalize(const uint8_t *in, size_t len, bool dot_ends,
    struct buf *out, size_t *consumed_r)
{
	size_t pos = 0, next, text;

	while (pos < len) {
		/* One line: in[pos..text) then its ending, up to next. */
		text = mail_lines_end(in, len, pos);
		next = text;
		if (next < len && in[next] == '\r')
			next++;
		if (next < len && in[next] == '\n')
			next++;
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
