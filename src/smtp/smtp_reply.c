/* SPDX-License-Identifier: ISC */
/*
 * Formats SMTP replies: single and multi-line (RFC 5321 4.2.1), each
 * line prefixed with the enhanced status code (RFC 2034, RFC 3463), and
 * the bare "334" challenges of AUTH (RFC 4954 4).
 * Text is scrubbed here, once, so no caller can emit a bare CR or LF.
 * Transport and buffering are left to the glue.
 */
#include "smtp/smtp_reply.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"

/* Parses 1..3 digits without a leading zero (RFC 3463 section 2). */
static const char *
smtp_reply_number(const char *p)
{
	int n = 0;

	if (*p < '0' || *p > '9')
		return NULL;
	if (*p == '0' && p[1] >= '0' && p[1] <= '9')
		return NULL;
	while (*p >= '0' && *p <= '9') {
		if (++n > 3)
			return NULL;
		p++;
	}
	return p;
}

bool
smtp_reply_is_valid_enh(int code, const char *enh)
{
	const char *p;

	if (enh == NULL || code < 200 || code > 599)
		return false;
	if (enh[0] != (char)('0' + code / 100) || enh[1] != '.')
		return false;
	if ((p = smtp_reply_number(enh + 2)) == NULL || *p != '.')
		return false;
	if ((p = smtp_reply_number(p + 1)) == NULL || *p != '\0')
		return false;
	return true;
}

/* Appends one reply line; last says whether it ends the reply. */
static int
smtp_reply_line(struct buf *tmp, int code, const char *enh, const char *p,
    size_t len, bool last)
{
	size_t i;

	if (buf_printf(tmp, "%d%c", code, last ? ' ' : '-') == -1)
		return -1;
	if (enh != NULL && buf_printf(tmp, "%s ", enh) == -1)
		return -1;
	if (len > SMTP_REPLY_LINE_MAX_BYTES)
		len = SMTP_REPLY_LINE_MAX_BYTES;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];
		char o = '?';

		if (c >= 0x20 && c < 0x7f)
			o = (char)c;

		if (buf_append(tmp, &o, 1) == -1)
			return -1;
	}
	return buf_append(tmp, "\r\n", 2);
}

int
smtp_reply(struct buf *out, int code, const char *enh, const char *text)
{
	char def_enh[8];
	struct buf tmp;
	const char *p, *nl;
	int r = 0;

	ASSERT(code >= 200 && code <= 599);
	if (text == NULL || *text == '\0')
		text = code < 400 ? "Ok" : "Error";
	if (enh != NULL && !smtp_reply_is_valid_enh(code, enh)) {
		(void)snprintf(def_enh, sizeof(def_enh), "%d.0.0", code / 100);
		enh = def_enh;
	}
	buf_init(&tmp, 128, 0);
	for (p = text; r == 0; p = nl + 1) {
		nl = strchr(p, '\n');
		if (nl == NULL) {
			r = smtp_reply_line(&tmp, code, enh, p, strlen(p),
			    true);
			break;
		}
		r = smtp_reply_line(&tmp, code, enh, p, (size_t)(nl - p),
		    false);
	}
	if (r == 0)
		r = buf_append(out, tmp.data, tmp.len);
	buf_clear(&tmp);
	return r;
}

int
smtp_reply_printf(struct buf *out, int code, const char *enh,
    const char *fmt, ...)
{
	struct buf text;
	va_list ap;
	int r;

	buf_init(&text, 128, 0);
	va_start(ap, fmt);
	r = buf_vprintf(&text, fmt, ap);
	va_end(ap);
	if (r == 0)
		r = smtp_reply(out, code, enh, buf_cstr(&text));
	buf_clear(&text);
	return r;
}

int
smtp_reply_continue(struct buf *out, const char *text)
{
	struct buf tmp;
	size_t i, len = text != NULL ? strlen(text) : 0;
	int r;

	buf_init(&tmp, len + 6, 0);
	r = buf_append(&tmp, "334 ", 4);
	for (i = 0; r == 0 && i < len; i++) {
		char o = text[i] >= 0x20 && text[i] < 0x7f ? text[i] : '?';

		r = buf_append(&tmp, &o, 1);
	}
	if (r == 0)
		r = buf_append(&tmp, "\r\n", 2);
	if (r == 0)
		r = buf_append(out, tmp.data, tmp.len);
	buf_clear(&tmp);
	return r;
}
