/* SPDX-License-Identifier: ISC */
/*
 * Internals of the SMTP session shared by smtp_session.c (input, phases,
 * events) and smtp_cmd.c (the verb table and handlers).  Only files in
 * src/smtp/ may include this.
 */
#ifndef TERN_SMTP_SMTP_SESSION_PRIVATE_H
#define TERN_SMTP_SMTP_SESSION_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/envelope.h"
#include "core/str.h"
#include "smtp/smtp_data.h"
#include "smtp/smtp_parse.h"
#include "smtp/smtp_session.h"

/* Bytes of decoded content handed out in one SMTP_EV_DATA. */
#define SMTP_SESSION_DECODE_BYTES ((size_t)16 * 1024)

enum smtp_session_phase {
	SMTP_SESSION_PHASE_CMD,		/* reading command lines */
	SMTP_SESSION_PHASE_DATA,	/* reading DATA content */
	SMTP_SESSION_PHASE_BDAT,	/* reading a BDAT chunk */
	SMTP_SESSION_PHASE_AUTH,	/* reading SASL responses (after 334) */
	SMTP_SESSION_PHASE_TLS,		/* STARTTLS given, handshake pending */
	SMTP_SESSION_PHASE_CLOSED,
};

/* The event whose resume is awaited. */
enum smtp_session_wait {
	SMTP_SESSION_WAIT_NONE,
	SMTP_SESSION_WAIT_MAIL,
	SMTP_SESSION_WAIT_RCPT,
	SMTP_SESSION_WAIT_DATA_BEGIN,	/* after DATA */
	SMTP_SESSION_WAIT_BDAT_BEGIN,	/* after the first BDAT */
	SMTP_SESSION_WAIT_DATA_END,
	SMTP_SESSION_WAIT_AUTH,		/* AUTH or AUTH_RESPONSE */
};

enum smtp_session_helo {
	SMTP_SESSION_HELO_NONE,
	SMTP_SESSION_HELO_HELO,
	SMTP_SESSION_HELO_EHLO,
};

/* A reply held until a BDAT chunk that is thrown away has been read. */
struct smtp_session_held {
	int code;
	char enh[16];
	char *text;
	bool is_error;		/* counts towards max_errors */
	bool reset;		/* the transaction ends with it */
};

struct smtp_session {
	/* Parameters, fixed at creation. */
	char *hostname;
	enum smtp_role role;
	uint64_t max_message_size;	/* 0: no limit */
	uint64_t max_recipients;
	size_t max_line_length;
	uint64_t max_errors;		/* 0: no limit */
	enum smtp_bare_newline bare_newline;
	bool tls_available;
	bool tls_active;
	bool auth_enabled;
	bool auth_required;
	char *auth_mechanisms;	/* upper case, space-separated */
	uint64_t max_hold;	/* FUTURERELEASE; 0: off */
	time_t (*clock)(void);

	/*
	 * Input: bytes before in_off have been processed.  With AUTH
	 * enabled the buffer is allocated at its max at once, so that it
	 * is never reallocated with a secret in it.
	 */
	struct buf in;
	size_t in_off;
	bool discarding_line;	/* skipping the rest of a too long line */
	bool discarding_secret;	/* ... of an AUTH line: wipe it too */
	char *line;		/* arguments of the current command */
	size_t line_size;	/* bytes allocated for line */
	bool line_secret;	/* line holds AUTH data: wipe after use */

	/* AUTH (RFC 4954). */
	bool authenticated;
	char auth_mech[SMTP_AUTH_MECH_MAX + 1];	/* of the pending AUTH */
	uint8_t *dec;		/* SMTP_SESSION_DECODE_BYTES of content */

	enum smtp_session_phase phase;
	enum smtp_session_wait wait;
	enum smtp_session_helo helo;
	uint64_t errors;
	bool pending_abort;	/* DATA_ABORT to report */
	bool pending_close;	/* CLOSE to report */

	/* The transaction. */
	struct envelope env;
	bool in_transaction;	/* MAIL accepted */
	uint64_t rcpt_attempts;	/* RCPT commands, valid or not */
	bool content_begun;	/* DATA_BEGIN accepted, not yet ended */
	bool bdat_used;		/* BDAT seen: DATA no longer allowed */
	struct smtp_mail mail;	/* the MAIL being decided */
	struct smtp_rcpt rcpt;	/* the RCPT being decided */

	/* Content. */
	struct smtp_data data;
	bool data_ended;	/* the decoder reached the end */
	uint64_t bdat_size;
	uint64_t bdat_left;	/* chunk bytes still to read */
	bool bdat_last;
	bool bdat_discard;	/* read the chunk, keep nothing */
	bool bdat_finished;	/* smtp_data_finish() done for LAST */
	struct smtp_session_held held;
};

/* Verb handlers take the arguments as a NUL-terminated string. */
typedef enum smtp_event smtp_cmd_fn(struct smtp_session *s, struct buf *out,
    const char *args, struct smtp_event_data *data);

/* Runs one command line (smtp_cmd.c). */
enum smtp_event smtp_cmd_dispatch(struct smtp_session *s, struct buf *out,
    const struct str *verb, const char *args, struct smtp_event_data *data);

/* Queues a reply; if out is full the session closes. */
void smtp_session_reply(struct smtp_session *s, struct buf *out, int code,
    const char *enh, const char *text);
/*
 * Queues a reply to a bad command and counts it: the max_errors-th is
 * followed by 421 4.7.0 and the session closes (RFC 5321 4.3.2 lets a
 * server give up on a misbehaving client).
 */
void smtp_session_error(struct smtp_session *s, struct buf *out, int code,
    const char *enh, const char *text);
/*
 * Forgets the transaction (RFC 5321 4.1.1.5), keeping HELO.  If content
 * had begun, DATA_ABORT is reported by the next smtp_session_next().
 */
void smtp_session_reset_transaction(struct smtp_session *s);
/* Ends the session: CLOSE is reported next (after any DATA_ABORT). */
void smtp_session_close(struct smtp_session *s);
/*
 * Makes the BDAT chunk being read be thrown away, and the reply given
 * when it has been read.  reset ends the transaction with it.
 */
void smtp_session_hold(struct smtp_session *s, int code, const char *enh,
    const char *text, bool is_error, bool reset);
/* Drops all buffered input (STARTTLS). */
void smtp_session_discard_input(struct smtp_session *s);
/* Wipes the copy of an AUTH line in s->line, if one is there. */
void smtp_session_wipe_line(struct smtp_session *s);
/*
 * Whether mech (upper case, NUL-terminated) is one of the offered
 * mechanisms.
 */
bool smtp_session_has_mechanism(const struct smtp_session *s,
    const char *mech);

/*
 * For unit tests only, to check that AUTH bytes are wiped: the whole
 * allocation of the input buffer and of the line copy, with their sizes
 * in *len_r (may be NULL and 0 before any input).
 */
const uint8_t *smtp_session_test_input(const struct smtp_session *s,
    size_t *len_r);
const uint8_t *smtp_session_test_line(const struct smtp_session *s,
    size_t *len_r);

#endif
