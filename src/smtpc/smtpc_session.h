/* SPDX-License-Identifier: ISC */
/*
 * The SMTP client session: a pure state machine (RFC 5321 with
 * PIPELINING, SIZE, 8BITMIME, SMTPUTF8, ENHANCEDSTATUSCODES, STARTTLS and
 * AUTH PLAIN/LOGIN).  It takes the server's bytes and produces command
 * bytes, per-recipient results and events.  It knows nothing of sockets,
 * TLS, files or clocks: the glue (src/deliver/) does what an event asks.
 *
 * One session is one connection and may carry several messages, one at
 * a time.  Driving loop (glue):
 *
 *	s = smtpc_session_new(&params);
 *	smtpc_session_start_message(s, &msg, out);  -- now or later
 *	on input:
 *		n = smtpc_session_feed(s, p, len); drop n bytes;
 *		while ((ev = smtpc_session_next(s, out)) != SMTPC_EV_NONE)
 *			handle ev;
 *	write out to the server.
 *
 * Events:
 *   STARTTLS  the server said 220 to STARTTLS: discard unread input, do
 *             the handshake, then smtpc_session_tls_started() (or
 *             smtpc_session_abort() when it fails).
 *   CONTENT   the server said 354: send the content dot-stuffed and
 *             terminated (smtpc_dot.h), then smtpc_session_content_sent().
 *   DONE      the message has its results (smtpc_session_rcpt()); the
 *             session is idle and may take the next message.
 *   CLOSE     the connection is over: send what out holds, then close.
 *             A message still in progress gets DONE first.
 * After STARTTLS and CONTENT, next() returns NONE until the glue reports.
 *
 * Policy decisions (documented in docs/design.md):
 *  - 8BITMIME content goes as-is to a server that does not offer
 *    8BITMIME (Postfix's default; RFC 6152 3 would have us convert or
 *    bounce, and nearly every server takes 8-bit data anyway).
 *  - A password is never sent in clear: with credentials and no TLS the
 *    message gets 4.7.0 "TLS required for AUTH" and nothing is sent.
 *  - With credentials and a server that offers neither PLAIN nor LOGIN,
 *    or refuses them, the message is deferred, not bounced: that is a
 *    configuration problem, not a property of the message.
 */
#ifndef TERN_SMTPC_SMTPC_SESSION_H
#define TERN_SMTPC_SMTPC_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/compat.h"
#include "core/envelope.h"
#include "smtpc/smtpc_ehlo.h"
#include "smtpc/smtpc_reply.h"

struct buf;
struct smtpc_session;

enum smtpc_tls {
	SMTPC_TLS_NONE,          /* never STARTTLS */
	SMTPC_TLS_OPPORTUNISTIC, /* STARTTLS when offered (RFC 7435) */
	SMTPC_TLS_REQUIRED,      /* STARTTLS or no mail: 4.7.4 */
	SMTPC_TLS_ACTIVE,        /* the connection is TLS already (465) */
};

enum smtpc_event {
	SMTPC_EV_NONE,
	SMTPC_EV_STARTTLS,
	SMTPC_EV_CONTENT,
	SMTPC_EV_DONE,
	SMTPC_EV_CLOSE,
};

enum smtpc_status {
	SMTPC_PENDING,  /* no result yet */
	SMTPC_OK,       /* 2xx: the server took responsibility */
	SMTPC_TEMPFAIL, /* 4xx or a failure of ours: retry */
	SMTPC_PERMFAIL, /* 5xx: bounce */
};

/* Longest reply text kept per recipient (log and DSN). */
#define SMTPC_RESULT_REPLY_BYTES 512

struct smtpc_rcpt_result {
	enum smtpc_status status;
	char enh[SMTPC_ENH_MAX + 1]; /* "5.1.1"; mapped when not sent */
	/* "550 5.1.1 <x@y>: no such user", sanitised; or our own reason */
	char reply[SMTPC_RESULT_REPLY_BYTES];
};

/* Per connection; strings are copied. */
struct smtpc_session_params {
	const char *helo; /* our name for EHLO/HELO */
	enum smtpc_tls tls;
	const char *auth_user; /* AUTH when set (smarthost) */
	const char *auth_password;
};

/* One message; strings are copied by start_message(). */
struct smtpc_message {
	const char *from;         /* reverse-path without <>, "" for <> */
	const char *const *rcpts; /* forward-paths without <> */
	size_t n_rcpts;
	uint64_t size; /* content octets, for SIZE= */
	enum envelope_body body;
	bool smtputf8; /* the envelope needs SMTPUTF8 */
};

struct smtpc_session *smtpc_session_new(
    const struct smtpc_session_params *params);
/* Wipes the credentials and frees; accepts NULL. */
void smtpc_session_free(struct smtpc_session **sp);

/*
 * Starts a message.  Allowed when no message is in progress and the
 * session is not closed (before the greeting, or after DONE).  Commands
 * may be appended to out at once (reused connection) or once the
 * greeting and EHLO are through.
 */
void smtpc_session_start_message(
    struct smtpc_session *s, const struct smtpc_message *m, struct buf *out);

/* Takes server bytes, like smtpc_reply_parser_feed(). */
size_t smtpc_session_feed(
    struct smtpc_session *s, const uint8_t *data, size_t len);

/* Handles buffered replies; appends commands to out; see above. */
enum smtpc_event smtpc_session_next(struct smtpc_session *s, struct buf *out);

/* The TLS handshake after STARTTLS finished: EHLO again (RFC 3207 4.2). */
void smtpc_session_tls_started(struct smtpc_session *s, struct buf *out);
/* The content and its final "." are written: await the reply. */
void smtpc_session_content_sent(struct smtpc_session *s);

/*
 * The connection failed (EOF, timeout, TLS error): every recipient
 * without a result gets TEMPFAIL with enh (e.g. "4.4.2") and why; next()
 * then returns DONE (if a message was in progress) and CLOSE.
 */
void smtpc_session_abort(
    struct smtpc_session *s, const char *enh, const char *why);

/* Sends QUIT (if the server is ready for it); next() returns CLOSE. */
void smtpc_session_quit(struct smtpc_session *s, struct buf *out);

/* The result of recipient i of the current (or just finished) message. */
const struct smtpc_rcpt_result *smtpc_session_rcpt(
    const struct smtpc_session *s, size_t i);

/*
 * Whether the server accepted MAIL for the current message.  A session
 * that closes before that failed at connection level (greeting, EHLO,
 * TLS, AUTH, a 421 or EOF on a reused connection): no data went out, so
 * the glue may try the next address or a fresh connection.
 */
bool smtpc_session_mail_accepted(const struct smtpc_session *s);
/* Whether a 2xx greeting came: the server answered. */
bool smtpc_session_is_greeted(const struct smtpc_session *s);
/* Whether the session is between messages, greeted and usable. */
bool smtpc_session_is_idle(const struct smtpc_session *s);
/* Whether TLS is on (implicit or after STARTTLS). */
bool smtpc_session_is_tls(const struct smtpc_session *s);
/* Whether the server's reply or our command is in flight for DATA/"." */
bool smtpc_session_in_data(const struct smtpc_session *s);
/* The extensions of the last EHLO (all false after HELO). */
const struct smtpc_ext *smtpc_session_ext(const struct smtpc_session *s);
/* The last connection-level error ("" if none), for logs. */
const char *smtpc_session_error(const struct smtpc_session *s);

#endif
