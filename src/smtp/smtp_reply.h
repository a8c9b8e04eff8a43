/* SPDX-License-Identifier: ISC */
/*
 * SMTP reply formatting (RFC 5321 section 4.2) with enhanced status
 * codes (RFC 2034, RFC 3463).  A reply text may hold several lines
 * separated by '\n'; they become a multi-line reply ("250-a", "250 b").
 */
#ifndef TERN_SMTP_SMTP_REPLY_H
#define TERN_SMTP_SMTP_REPLY_H

#include <stdbool.h>

#include "core/compat.h"

struct buf;

/* Longest text line tern puts in one reply line (RFC 5321 4.5.3.1.5). */
#define SMTP_REPLY_LINE_MAX_BYTES 512

/*
 * Appends one reply to out.  code is 200..599.  enh is the enhanced
 * status code ("2.1.0") or NULL for none (the greeting and the EHLO
 * reply, RFC 2034 section 3); an enh that is not well formed or whose
 * class differs from code's is replaced by "<class>.0.0".  text may be
 * NULL ("Ok" or "Error"); CR, other control bytes and non-ASCII bytes
 * in it become '?', and a line longer than SMTP_REPLY_LINE_MAX_BYTES is
 * cut, so peer-supplied text can never inject a reply line.
 * Returns 0, or -1 if out has no room (out is then unchanged).
 */
ATTR_WUR int smtp_reply(struct buf *out, int code, const char *enh,
    const char *text);
ATTR_WUR ATTR_FORMAT(4, 5) int smtp_reply_printf(struct buf *out, int code,
    const char *enh, const char *fmt, ...);

/*
 * Appends an AUTH challenge, "334 " text CRLF (RFC 4954 4): no enhanced
 * code, an empty text stays empty, and no length cap (a challenge is
 * one line of base64).  Bytes outside printable ASCII become '?'.
 * text may be NULL ("").  Returns 0, or -1 if out has no room (out is
 * then unchanged).
 */
ATTR_WUR int smtp_reply_continue(struct buf *out, const char *text);

/* Whether enh is "c.s.d" (RFC 3463) with c matching code's first digit. */
bool smtp_reply_is_valid_enh(int code, const char *enh);

#endif
