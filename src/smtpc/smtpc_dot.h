/* SPDX-License-Identifier: ISC */
/*
 * Streaming dot-stuffing of message content for DATA (RFC 5321 4.5.2):
 * a line that starts with "." gets one more; the content ends with CRLF
 * (added when missing) and then ".<CRLF>".  The content is CRLF text, as
 * the spool keeps it; lines start only after CRLF.
 */
#ifndef TERN_SMTPC_SMTPC_DOT_H
#define TERN_SMTPC_SMTPC_DOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/compat.h"

struct buf;

struct smtpc_dot {
	bool at_line_start; /* the next byte starts a line */
	bool after_cr;      /* the last byte was CR */
	bool empty;         /* no byte seen yet */
};

void smtpc_dot_init(struct smtpc_dot *d);

/*
 * Appends data, dot-stuffed, to out.  At most len + len / 3 + 1 bytes
 * are added (a "." before each line of at least "\r\n").  0, or -1 when
 * out's max would be passed (out then holds part of data: size out for
 * the chunks you feed).
 */
ATTR_WUR int smtpc_dot_stuff(
    struct smtpc_dot *d, const uint8_t *data, size_t len, struct buf *out);

/* Appends the end of the content: CRLF if needed, then ".\r\n". */
ATTR_WUR int smtpc_dot_finish(struct smtpc_dot *d, struct buf *out);

#endif
