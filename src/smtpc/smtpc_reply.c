/* SPDX-License-Identifier: ISC */
/*
 * Incremental parser for SMTP replies on the client side (RFC 5321 4.2:
 * Reply-line = *( Reply-code "-" [ textstring ] CRLF ) Reply-code
 * [ SP textstring ] CRLF), with enhanced status codes (RFC 2034 2,
 * RFC 3463 2).  EHLO keywords are parsed in smtpc_ehlo.c; what a reply
 * means is the session's business.
 */
#include "smtpc/smtpc_reply.h"

#include <string.h>

#include "core/log.h"
#include "core/str.h"

void
smtpc_reply_parser_init(struct smtpc_reply_parser *p)
{
	memset(p, 0, sizeof(*p));
	/* Bytes of one line with its CRLF; buffered replies are parsed first.
	 */
	buf_init(&p->in, 0, SMTPC_REPLY_LINE_MAX_BYTES);
	buf_init(&p->reply.text, 0, SMTPC_REPLY_MAX_BYTES);
}

void
smtpc_reply_parser_clear(struct smtpc_reply_parser *p)
{
	buf_clear(&p->in);
	buf_clear(&p->reply.text);
}

static void
smtpc_reply_parser_start_reply(struct smtpc_reply_parser *p)
{
	p->reply.code = 0;
	p->reply.enh[0] = '\0';
	p->reply.n_lines = 0;
	buf_reset(&p->reply.text);
	p->in_reply = false;
	p->ready = false;
}

void
smtpc_reply_parser_reset(struct smtpc_reply_parser *p)
{
	buf_reset(&p->in);
	smtpc_reply_parser_start_reply(p);
}

bool
smtpc_reply_parser_has_input(const struct smtpc_reply_parser *p)
{
	return p->in.len > 0 || p->in_reply;
}

size_t
smtpc_reply_parser_feed(
    struct smtpc_reply_parser *p, const uint8_t *data, size_t len)
{
	size_t n = buf_room(&p->in);

	if (p->error != NULL)
		return len; /* a dead parser swallows input */
	if (n > len)
		n = len;
	if (n > 0 && buf_append(&p->in, data, n) == -1)
		log_panic("smtpc_reply_parser_feed: room went away");
	return n;
}

static bool
smtpc_reply_is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

size_t
smtpc_reply_parse_enh(
    const char *text, size_t len, char want_class, char enh[SMTPC_ENH_MAX + 1])
{
	size_t i = 0, part, digits;

	enh[0] = '\0';
	if (len < 5 || text[0] != want_class ||
	    (want_class != '2' && want_class != '4' && want_class != '5'))
		return 0;
	i = 1;
	for (part = 0; part < 2; part++) {
		if (i >= len || text[i] != '.')
			return 0;
		i++;
		for (digits = 0;
		     i < len && smtpc_reply_is_digit((uint8_t)text[i]);
		     digits++, i++) {
			if (digits == 3)
				return 0;
		}
		if (digits == 0)
			return 0;
	}
	if (i < len && text[i] != ' ')
		return 0;
	ASSERT(i <= SMTPC_ENH_MAX);
	memcpy(enh, text, i);
	enh[i] = '\0';
	return i;
}

static int
smtpc_reply_parser_fail(
    struct smtpc_reply_parser *p, const char *why, const char **error_r)
{
	p->error = why;
	*error_r = why;
	return -1;
}

/* Takes one CRLF line; 1 when it ended the reply, 0 when more follow. */
static int
smtpc_reply_parser_line(struct smtpc_reply_parser *p, const uint8_t *line,
    size_t len, const char **error_r)
{
	struct smtpc_reply *r = &p->reply;
	unsigned code;
	bool last;

	/* RFC 5321 4.2: the first digit is 2..5 here (1yz is unused in
	 * SMTP), the second 0..5, the third any digit. */
	if (len < 3 || line[0] < '2' || line[0] > '5' || line[1] < '0' ||
	    line[1] > '5' || !smtpc_reply_is_digit(line[2]))
		return smtpc_reply_parser_fail(
		    p, "malformed reply code", error_r);
	if (len > 3 && line[3] != ' ' && line[3] != '-')
		return smtpc_reply_parser_fail(
		    p, "reply code not followed by space or hyphen", error_r);
	code = (unsigned)(line[0] - '0') * 100 +
	    (unsigned)(line[1] - '0') * 10 + (unsigned)(line[2] - '0');
	if (r->n_lines > 0 && code != r->code)
		return smtpc_reply_parser_fail(
		    p, "reply code changes within a multiline reply", error_r);
	if (r->n_lines == SMTPC_REPLY_MAX_LINES)
		return smtpc_reply_parser_fail(
		    p, "reply has too many lines", error_r);
	last = len == 3 || line[3] == ' ';
	if ((r->n_lines > 0 && buf_append(&r->text, "\n", 1) == -1) ||
	    (len > 4 && buf_append(&r->text, line + 4, len - 4) == -1))
		return smtpc_reply_parser_fail(p, "reply too long", error_r);
	if (r->n_lines == 0) {
		r->code = code;
		if (len > 4)
			(void)smtpc_reply_parse_enh((const char *)line + 4,
			    len - 4, (char)line[0], r->enh);
	}
	r->n_lines++;
	p->in_reply = !last;
	return last ? 1 : 0;
}

int
smtpc_reply_parser_next(struct smtpc_reply_parser *p,
    const struct smtpc_reply **reply_r, const char **error_r)
{
	*reply_r = NULL;
	*error_r = NULL;
	if (p->error != NULL) {
		*error_r = p->error;
		return -1;
	}
	if (p->ready)
		smtpc_reply_parser_start_reply(p);
	for (;;) {
		const uint8_t *nl;
		size_t pos;
		int rc;

		nl = p->in.len > 0 ? memchr(p->in.data, '\n', p->in.len) : NULL;
		if (nl == NULL) {
			if (buf_room(&p->in) == 0)
				return smtpc_reply_parser_fail(
				    p, "reply line too long", error_r);
			return 0;
		}
		pos = (size_t)(nl - p->in.data);
		if (pos == 0 || p->in.data[pos - 1] != '\r')
			return smtpc_reply_parser_fail(
			    p, "bare LF in reply", error_r);
		rc = smtpc_reply_parser_line(p, p->in.data, pos - 1, error_r);
		if (rc == -1)
			return -1;
		buf_consume(&p->in, pos + 1);
		if (rc == 1) {
			p->ready = true;
			*reply_r = &p->reply;
			return 1;
		}
	}
}

char *
smtpc_reply_format(const struct smtpc_reply *r, char *out, size_t size)
{
	char raw[SMTPC_REPLY_LINE_MAX_BYTES];
	size_t n, i, tlen = r->text.len;

	(void)snprintf(raw, sizeof(raw), "%03u", r->code);
	n = strlen(raw);
	if (tlen > 0 && n + 1 < sizeof(raw))
		raw[n++] = ' ';
	for (i = 0; i < tlen && n < sizeof(raw); i++) {
		char c = (char)r->text.data[i];

		raw[n++] = c == '\n' ? ' ' : c;
	}
	return str_sanitize(out, size, raw, n);
}

void
smtpc_reply_default_enh(
    enum smtpc_reply_cmd cmd, unsigned code, char *enh, size_t size)
{
	const char *e = NULL;
	unsigned cls = code / 100;

	switch (cmd) {
	case SMTPC_REPLY_CMD_CONNECT:
		break;
	case SMTPC_REPLY_CMD_MAIL:
		e = code == 552   ? "5.3.4"
		    : code == 553 ? "5.1.7"
		    : code == 451 ? "4.3.0"
		    : code == 452 ? "4.3.1"
		                  : NULL;
		break;
	case SMTPC_REPLY_CMD_RCPT:
		e = code == 550                  ? "5.1.1"
		    : code == 551                ? "5.1.6"
		    : code == 552                ? "5.2.2"
		    : code == 553                ? "5.1.3"
		    : code == 451                ? "4.3.0"
		    : code == 452                ? "4.5.3"
		    : code == 250 || code == 251 ? "2.1.5"
		                                 : NULL;
		break;
	case SMTPC_REPLY_CMD_DATA:
	case SMTPC_REPLY_CMD_DOT:
		e = code == 552   ? "5.3.4"
		    : code == 554 ? "5.6.0"
		    : code == 451 ? "4.3.0"
		    : code == 452 ? "4.3.1"
		                  : NULL;
		break;
	}
	if (code == 421)
		e = "4.4.2";
	if (e == NULL)
		e = cls == 2 ? "2.0.0" : cls == 5 ? "5.0.0" : "4.0.0";
	(void)!str_copy(enh, e, size);
}
