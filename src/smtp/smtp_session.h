/* SPDX-License-Identifier: ISC */
/*
 * The SMTP server session: a pure state machine (RFC 5321, with
 * PIPELINING, SIZE, 8BITMIME, SMTPUTF8, ENHANCEDSTATUSCODES, CHUNKING).
 * It takes bytes from the client and produces reply bytes and events.
 * It knows nothing of sockets, TLS, disks or clocks: the glue
 * (src/server/) does what an event asks and reports back.
 *
 * Driving loop (glue):
 *
 *	s = smtp_session_new(&params);
 *	smtp_session_start(s, out);              -- queues the 220 greeting
 *	on input:
 *		while (bytes left) {
 *			n = smtp_session_feed(s, p, len);  -- takes what fits
 *			drop n bytes from the socket buffer
 *			while ((ev = smtp_session_next(s, out, &data)) != NONE) {
 *				handle ev; for MAIL, RCPT, DATA_BEGIN and
 *				DATA_END call smtp_session_resume() (at once,
 *				or later for DATA_END), and do not call
 *				smtp_session_next() again before it.
 *			}
 *		}
 *	write out to the client.
 *
 * SMTP AUTH (RFC 4954): the session carries the exchange; the SASL
 * mechanisms live in src/auth/, which the glue calls on SMTP_EV_AUTH and
 * SMTP_EV_AUTH_RESPONSE.  AUTH is offered only with auth_enabled and TLS.
 * AUTH lines are wiped from the session's memory once used.
 *
 * Replies always carry enhanced status codes (RFC 2034).  The session
 * never sees a partial command: lines end at CRLF (a bare LF is also
 * accepted as the end of a command line, never inside DATA).  DATA ends
 * only at CRLF "." CRLF; a bare CR or LF in the content is handled as the
 * bare_newline policy says.
 */
#ifndef TERN_SMTP_SMTP_SESSION_H
#define TERN_SMTP_SMTP_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "core/compat.h"
#include "core/envelope.h"

struct buf;
struct smtp_session;

/* RFC 5321 4.5.3.1.4: a command line is at least 512 octets with CRLF. */
#define SMTP_LINE_MIN_BYTES 512
/* Bytes the session buffers from the client beyond one line. */
#define SMTP_SESSION_INPUT_MAX_BYTES (64 * 1024)
/*
 * RFC 4954 4: an AUTH command line or SASL response line may be 12288
 * octets with CRLF, whatever max_line_length says (only with AUTH
 * enabled).  Longer: 500 5.5.6 and the exchange ends.
 */
#define SMTP_AUTH_LINE_MAX_BYTES 12288
/* RFC 4422 3.1: a SASL mechanism name is 1..20 characters. */
#define SMTP_AUTH_MECH_MAX 20

enum smtp_role {
	SMTP_ROLE_MX,
	SMTP_ROLE_SUBMISSION,
	SMTP_ROLE_SUBMISSIONS,
};

enum smtp_bare_newline {
	SMTP_BARE_NEWLINE_REJECT,	/* 550 5.5.2 after the end of data */
	SMTP_BARE_NEWLINE_NORMALIZE,	/* turned into CRLF in the content */
};

struct smtp_session_params {
	const char *hostname;	/* for the greeting and EHLO; copied */
	enum smtp_role role;
	uint64_t max_message_size;	/* SIZE, and the cap on content */
	uint64_t max_recipients;	/* 452 4.5.3 beyond */
	uint64_t max_line_length;	/* >= SMTP_LINE_MIN_BYTES, with CRLF */
	uint64_t max_errors;		/* 421 4.7.0 after this many */
	enum smtp_bare_newline bare_newline;
	bool tls_available;	/* offer STARTTLS */
	bool tls_active;	/* the connection is already TLS */
	/*
	 * AUTH may be offered (submission roles).  It is advertised in
	 * EHLO, and accepted, only once TLS is active; before that AUTH
	 * gets 538 5.7.11 (RFC 4954 6).  Without it AUTH gets 502 5.5.1
	 * and no AUTH event ever occurs.
	 */
	bool auth_enabled;
	/* MAIL before a successful AUTH gets 530 5.7.0 (RFC 6409 4.3). */
	bool auth_required;
	/*
	 * Mechanisms offered, separated by spaces ("PLAIN LOGIN"); copied.
	 * NULL or "": "PLAIN LOGIN".
	 */
	const char *auth_mechanisms;
	/*
	 * FUTURERELEASE (RFC 4865): the longest hold a client may ask
	 * for with HOLDFOR/HOLDUNTIL, in seconds; 0: not offered (the
	 * parameters get 555).  clock gives the wall-clock time for the
	 * EHLO keyword and the checks; it must be set when max_hold is.
	 */
	uint64_t max_hold;
	time_t (*clock)(void);
};

enum smtp_event {
	/* Nothing to do until more input arrives (or a resume). */
	SMTP_EV_NONE,
	/*
	 * A syntactically valid MAIL FROM.  data->mail_from holds the
	 * reverse-path ("" for <>).  Resume with code 0 to accept (the
	 * session replies 250 2.1.0) or a reply to refuse.
	 */
	SMTP_EV_MAIL,
	/*
	 * A syntactically valid RCPT TO within limits.  data->rcpt_to
	 * holds the forward-path without <>.  Resume with code 0 to accept
	 * (250 2.1.5, and the address joins the envelope) or a refusal.
	 */
	SMTP_EV_RCPT,
	/*
	 * Content is about to start (DATA with recipients, or the first
	 * BDAT).  The glue opens a spool file; resume with 0 (the session
	 * sends 354 for DATA) or a refusal such as 451 4.3.0.
	 * A refused DATA keeps the transaction.  A refused first BDAT
	 * (RFC 3030 2) has its chunk read and dropped, then the refusal
	 * is sent and the transaction ends; no DATA_ABORT follows, as
	 * content never began.
	 */
	SMTP_EV_DATA_BEGIN,
	/* Decoded content (dot-unstuffed, CRLF lines) in data->bytes/len. */
	SMTP_EV_DATA,
	/*
	 * The content is complete and valid.  The glue commits the message
	 * and resumes with 0 (250 2.0.0 queued as data->... see resume) or
	 * a refusal.  The envelope is readable until the resume.
	 */
	SMTP_EV_DATA_END,
	/*
	 * A transaction whose content had begun ended without a message
	 * (too big, bare newline, BDAT error, RSET, disconnect): the glue
	 * discards what it stored.  No resume.
	 */
	SMTP_EV_DATA_ABORT,
	/*
	 * "220 2.0.0 Ready to start TLS" has been queued.  The glue sends
	 * it, throws away any input it holds (plaintext pipelined after
	 * STARTTLS must never be executed), runs the handshake and then
	 * calls smtp_session_tls_started().
	 */
	SMTP_EV_STARTTLS,
	/* The session is over: send what is queued in out, then close. */
	SMTP_EV_CLOSE,
	/*
	 * A valid "AUTH mechanism [initial-response]" (RFC 4954 4) for an
	 * offered mechanism, after EHLO, outside a transaction, not yet
	 * authenticated.  data->auth_mechanism is the name in upper case;
	 * data->auth_response the initial response as sent (base64, or
	 * "=" for an empty one), NULL when absent.  Resume with:
	 *  - code 334, text = base64 challenge (may be "" or NULL): the
	 *    session sends "334 <text>" and the next client line becomes
	 *    an SMTP_EV_AUTH_RESPONSE;
	 *  - code 235: success, "235 2.7.0 Authentication successful"
	 *    (or r->enh / r->text when given); the session is
	 *    authenticated until STARTTLS or the end;
	 *  - any 4xx/5xx (535 5.7.8, 501 5.0.0 ...): that reply, the
	 *    exchange ends; a 5xx counts towards max_errors.
	 */
	SMTP_EV_AUTH,
	/*
	 * A client line during an exchange (after a 334): in
	 * data->auth_response, without CRLF.  "*" (cancel, RFC 4954 4) is
	 * passed as is; the glue answers 501 5.0.0.  Resume as for
	 * SMTP_EV_AUTH.
	 */
	SMTP_EV_AUTH_RESPONSE,
};

struct smtp_event_data {
	const char *mail_from;	/* SMTP_EV_MAIL */
	const char *rcpt_to;	/* SMTP_EV_RCPT */
	const uint8_t *bytes;	/* SMTP_EV_DATA */
	size_t len;		/* SMTP_EV_DATA */
	const char *auth_mechanism;	/* SMTP_EV_AUTH */
	/* SMTP_EV_AUTH (NULL: none), SMTP_EV_AUTH_RESPONSE; a secret. */
	const char *auth_response;
	/*
	 * Views stay valid until the next call into the session; the
	 * auth_response bytes are wiped then (the glue copies what it
	 * needs and wipes its copy).
	 */
};

/* The glue's answer to MAIL, RCPT, DATA_BEGIN, DATA_END or AUTH. */
struct smtp_result {
	/* 0: accept with the default reply (not for AUTH: 334 or 235). */
	int code;
	const char *enh;	/* enhanced code "4.3.0", when code != 0 */
	const char *text;	/* reply text, when code != 0 */
	const char *queue_id;	/* DATA_END accepted: named in the 250 */
};

struct smtp_session *smtp_session_new(const struct smtp_session_params *p);
void smtp_session_free(struct smtp_session **sp);

/* Queues the 220 greeting. */
void smtp_session_start(struct smtp_session *s, struct buf *out);

/*
 * Takes up to len bytes of client input into the session's buffer and
 * returns how many it took (0 when full: call smtp_session_next() to
 * drain it first; while a resume is awaited nothing drains, so stop
 * reading until it comes).  After STARTTLS (until
 * smtp_session_tls_started()) and after CLOSE, input is taken and
 * dropped.
 */
size_t smtp_session_feed(struct smtp_session *s, const uint8_t *data,
    size_t len);

/*
 * Processes buffered input until an event occurs.  Reply bytes go to
 * out.  Returns SMTP_EV_NONE when more input (or a pending resume) is
 * needed.
 */
enum smtp_event smtp_session_next(struct smtp_session *s, struct buf *out,
    struct smtp_event_data *data);

/*
 * Answers the pending MAIL, RCPT, DATA_BEGIN, DATA_END, AUTH or
 * AUTH_RESPONSE event.
 */
void smtp_session_resume(struct smtp_session *s, struct buf *out,
    const struct smtp_result *r);

/*
 * The TLS handshake finished: back to the initial state, EHLO again.
 * Authentication is forgotten too (RFC 3207 4.2).
 */
void smtp_session_tls_started(struct smtp_session *s);

/* The client was idle too long: queues 421 4.4.2; next event is CLOSE. */
void smtp_session_timeout(struct smtp_session *s, struct buf *out);
/* The server is shutting down: queues 421 4.3.2; next event is CLOSE. */
void smtp_session_shutdown(struct smtp_session *s, struct buf *out);
/*
 * The client disconnected: yields DATA_ABORT if content had begun (and
 * smtp_session_next() then reports CLOSE once), else CLOSE.  While a
 * DATA_END resume is awaited the content is complete: CLOSE, and the
 * glue may finish its commit.
 */
enum smtp_event smtp_session_eof(struct smtp_session *s);

/* Whether the client is sending message content (DATA/BDAT timeout). */
bool smtp_session_in_data(const struct smtp_session *s);
/* Whether a transaction is open: MAIL accepted, not yet ended. */
bool smtp_session_in_transaction(const struct smtp_session *s);
/* Whether a resume is awaited. */
bool smtp_session_is_waiting(const struct smtp_session *s);

/*
 * The current transaction: from, rcpts, body, smtputf8 and helo filled
 * in (no targets, no id).  Valid until the next call into the session.
 */
const struct envelope *smtp_session_envelope(const struct smtp_session *s);
/*
 * Whether an AUTH exchange succeeded (resume 235).  RSET and EHLO keep
 * it; STARTTLS clears it.
 */
bool smtp_session_is_authenticated(const struct smtp_session *s);
/*
 * "SMTP", "ESMTP", "ESMTPS", "ESMTPA", "ESMTPSA", for the Received
 * header (RFC 3848).
 */
const char *smtp_session_protocol(const struct smtp_session *s);

#endif
