/* SPDX-License-Identifier: ISC */
/*
 * The SMTP client's reply parser (RFC 5321 4.2, 4.2.1): an incremental
 * iterator that turns a server's bytes into complete, possibly multiline
 * replies, with the enhanced status code when the text starts with one
 * (RFC 2034, RFC 3463).  It is strict: a line is three digits of a
 * valid code, then SP, '-' or the end of the line; every line of one
 * reply carries the same code; lines end only at CRLF.  Every size is
 * bounded; passing a bound is a protocol error, never a truncation.
 *
 * Driving loop (glue), the same as the server's session:
 *
 *	while (bytes left) {
 *		n = smtpc_reply_parser_feed(p, data, len);  -- takes what fits
 *		drop n bytes
 *		while ((rc = smtpc_reply_parser_next(p, &r, &err)) == 1)
 *			handle r;
 *		if (rc == -1)
 *			protocol error: err says why; the parser is dead
 *	}
 */
#ifndef TERN_SMTPC_SMTPC_REPLY_H
#define TERN_SMTPC_SMTPC_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/compat.h"

/* RFC 5321 4.5.3.1.5: a reply line is at least 512 octets with CRLF. */
#define SMTPC_REPLY_LINE_MAX_BYTES 2048
/* A multiline reply (EHLO) longer than these is a protocol error. */
#define SMTPC_REPLY_MAX_LINES 64
#define SMTPC_REPLY_MAX_BYTES (16 * 1024)
/* RFC 3463 2: class "." 1-3 digits "." 1-3 digits: "5.123.456". */
#define SMTPC_ENH_MAX 9

/*
 * One complete reply.  text holds the text of every line (what follows
 * "250-" or "250 "), enhanced codes included, joined by '\n', without
 * CRLF; it is NUL-terminated.
 */
struct smtpc_reply {
	unsigned code;               /* 200..599 */
	char enh[SMTPC_ENH_MAX + 1]; /* "2.1.5" from the first line, or "" */
	struct buf text;
	size_t n_lines;
};

struct smtpc_reply_parser {
	struct buf in;            /* bytes not yet parsed */
	struct smtpc_reply reply; /* the reply being assembled */
	bool in_reply;            /* a continuation line was seen */
	bool ready;               /* reply is complete, handed out */
	const char *error;        /* set once; the parser is dead */
};

void smtpc_reply_parser_init(struct smtpc_reply_parser *p);
void smtpc_reply_parser_clear(struct smtpc_reply_parser *p);
/* Drops buffered input and any partial reply (after STARTTLS). */
void smtpc_reply_parser_reset(struct smtpc_reply_parser *p);
/* Whether bytes are buffered that no complete reply used yet. */
bool smtpc_reply_parser_has_input(const struct smtpc_reply_parser *p);

/*
 * Buffers up to len bytes and returns how many it took.  It takes
 * nothing (returns 0) only when next() has a reply or an error to give,
 * so a caller that alternates feed() and next() never stalls.
 */
size_t smtpc_reply_parser_feed(
    struct smtpc_reply_parser *p, const uint8_t *data, size_t len);

/*
 * 1: a reply is ready in *reply_r, valid until the next call on p;
 * 0: more bytes are needed; -1: protocol error, *error_r (static text)
 * says why, and every later call returns -1 again.
 */
ATTR_WUR int smtpc_reply_parser_next(struct smtpc_reply_parser *p,
    const struct smtpc_reply **reply_r, const char **error_r);

/*
 * Parses an enhanced status code at the start of text, which must be
 * followed by SP or the end: writes it to enh and returns its length,
 * or 0 when there is none.  The class must equal want_class (the reply
 * code's first digit), as RFC 3463 2 requires.
 */
size_t smtpc_reply_parse_enh(
    const char *text, size_t len, char want_class, char enh[SMTPC_ENH_MAX + 1]);

/* The command a reply answers, for the enhanced code it implies. */
enum smtpc_reply_cmd {
	SMTPC_REPLY_CMD_CONNECT, /* greeting, EHLO, STARTTLS, AUTH, RSET */
	SMTPC_REPLY_CMD_MAIL,
	SMTPC_REPLY_CMD_RCPT,
	SMTPC_REPLY_CMD_DATA,
	SMTPC_REPLY_CMD_DOT, /* the final reply after the content */
};

/*
 * The RFC 3463 code implied by a reply that carries none, by command
 * and code (550 to RCPT: 5.1.1; 552 to the dot: 5.3.4; 421: 4.4.2;
 * otherwise class.0.0), written to enh[size].
 */
void smtpc_reply_default_enh(
    enum smtpc_reply_cmd cmd, unsigned code, char *enh, size_t size);

/*
 * Formats r on one line for logs and DSNs: "550 5.1.1 text / more
 * text", sanitised (str_sanitize) and cut to fit out[size].  Returns out.
 */
char *smtpc_reply_format(const struct smtpc_reply *r, char *out, size_t size);

#endif
