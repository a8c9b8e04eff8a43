/* SPDX-License-Identifier: ISC */
/*
 * Dot-stuffing for the SMTP client (RFC 5321 4.5.2 transparency): the
 * sender adds a period before every line that starts with one, and ends
 * the mail data with CRLF "." CRLF (4.1.1.4).  Reading the content and
 * writing to the socket is the glue's job.
 */
#include "smtpc/smtpc_dot.h"

#include <string.h>

#include "core/buf.h"

void
smtpc_dot_init(struct smtpc_dot *d)
{
	d->at_line_start = true;
	d->after_cr = false;
	d->empty = true;
}

int
smtpc_dot_stuff(
    struct smtpc_dot *d, const uint8_t *data, size_t len, struct buf *out)
{
	size_t i, start = 0;

	if (len == 0)
		return 0;
	d->empty = false;
	for (i = 0; i < len; i++) {
		if (d->at_line_start && data[i] == '.') {
			/* Copy up to and including this dot, then add one. */
			if (buf_append(out, data + start, i - start + 1) ==
			        -1 ||
			    buf_append(out, ".", 1) == -1)
				return -1;
			start = i + 1;
		}
		d->at_line_start = d->after_cr && data[i] == '\n';
		d->after_cr = data[i] == '\r';
	}
	return buf_append(out, data + start, len - start);
}

int
smtpc_dot_finish(struct smtpc_dot *d, struct buf *out)
{
	/* RFC 5321 4.1.1.4: the data ends with CRLF before the ".". */
	if (!d->empty && !d->at_line_start && buf_append(out, "\r\n", 2) == -1)
		return -1;
	d->at_line_start = true;
	d->after_cr = false;
	return buf_append(out, ".\r\n", 3);
}
