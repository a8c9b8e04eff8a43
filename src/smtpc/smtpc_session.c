/* SPDX-License-Identifier: ISC */
/*
 * The SMTP client state machine: greeting, EHLO (HELO fallback),
 * STARTTLS (RFC 3207), AUTH (RFC 4954), then per message MAIL, RCPT and
 * DATA, pipelined when offered (RFC 2920), and RSET between failed
 * transactions.  Replies become per-recipient results with enhanced
 * codes (RFC 3463).  Sockets, TLS and the content are the glue's.
 */
#include "smtpc/smtpc_session.h"

#include <inttypes.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/str.h"
#include "core/xalloc.h"
#include "smtpc/smtpc_auth.h"

enum smtpc_state {
	SMTPC_STATE_GREETING, /* awaiting 220 */
	SMTPC_STATE_EHLO,
	SMTPC_STATE_HELO,
	SMTPC_STATE_STARTTLS,    /* awaiting the reply to STARTTLS */
	SMTPC_STATE_TLS_WAIT,    /* the glue does the handshake */
	SMTPC_STATE_AUTH,        /* awaiting 235 (or 334 for LOGIN) */
	SMTPC_STATE_READY,       /* between messages */
	SMTPC_STATE_TRANSACTION, /* MAIL, RCPT, DATA replies due */
	SMTPC_STATE_CONTENT,     /* the glue sends the content */
	SMTPC_STATE_DOT,         /* awaiting the final reply */
	SMTPC_STATE_NULL_DATA,   /* sent "." after an unwanted 354 */
	SMTPC_STATE_RSET,
	SMTPC_STATE_CLOSED,
};

struct smtpc_session {
	enum smtpc_state state;
	struct smtpc_reply_parser parser;
	char *helo;
	enum smtpc_tls tls;
	char *auth_user;
	char *auth_password;
	bool tls_active;
	bool greeted;
	unsigned auth_step; /* LOGIN: 0 username due, 1 password due */
	struct smtpc_ext ext;
	char error[SMTPC_RESULT_REPLY_BYTES];

	/* The current message. */
	bool has_msg;
	bool msg_started;  /* MAIL (or a refusal) happened */
	bool done_pending; /* next() owes a DONE */
	char *from;
	char **rcpts;
	size_t n_rcpts;
	uint64_t size;
	enum envelope_body body;
	bool smtputf8;
	struct smtpc_rcpt_result *results;
	bool *accepted; /* RCPT got 2xx, awaiting the final reply */
	size_t *order;  /* indices of the rcpts sent, in order */
	size_t n_order;
	bool pipelined;
	bool mail_replied, mail_ok;
	size_t rcpt_sent, rcpt_replied, n_accepted;
	bool data_sent;
};

static void
smtpc_session_send(struct buf *out, const char *line)
{
	if (buf_append_str(out, line) == -1 || buf_append(out, "\r\n", 2) == -1)
		log_panic("smtpc: output buffer full");
}

static bool
smtpc_session_is_line_safe(const char *s)
{
	/* Envelope strings come from our spool; never let one add a line. */
	return strlen(s) <= 1000 && strpbrk(s, "\r\n") == NULL;
}

struct smtpc_session *
smtpc_session_new(const struct smtpc_session_params *params)
{
	struct smtpc_session *s = xcalloc(1, sizeof(*s));

	smtpc_reply_parser_init(&s->parser);
	s->helo = xstrdup(params->helo != NULL ? params->helo : "localhost");
	s->tls = params->tls;
	s->tls_active = params->tls == SMTPC_TLS_ACTIVE;
	if (params->auth_user != NULL) {
		s->auth_user = xstrdup(params->auth_user);
		s->auth_password = xstrdup(
		    params->auth_password != NULL ? params->auth_password : "");
	}
	s->state = SMTPC_STATE_GREETING;
	return s;
}

static void
smtpc_session_wipe_free(char **sp)
{
	if (*sp == NULL)
		return;
	explicit_bzero(*sp, strlen(*sp));
	free(*sp);
	*sp = NULL;
}

static void
smtpc_session_clear_message(struct smtpc_session *s)
{
	size_t i;

	for (i = 0; i < s->n_rcpts; i++)
		free(s->rcpts[i]);
	free(s->rcpts);
	free(s->from);
	free(s->results);
	free(s->accepted);
	free(s->order);
	s->rcpts = NULL;
	s->from = NULL;
	s->results = NULL;
	s->accepted = NULL;
	s->order = NULL;
	s->n_rcpts = 0;
	s->n_order = 0;
	s->has_msg = false;
	s->msg_started = false;
}

void
smtpc_session_free(struct smtpc_session **sp)
{
	struct smtpc_session *s = *sp;

	if (s == NULL)
		return;
	smtpc_session_clear_message(s);
	smtpc_reply_parser_clear(&s->parser);
	smtpc_session_wipe_free(&s->auth_user);
	smtpc_session_wipe_free(&s->auth_password);
	free(s->helo);
	free(s);
	*sp = NULL;
}

/* Sets one result from a server reply. */
static void
smtpc_session_result_reply(struct smtpc_rcpt_result *res,
    const struct smtpc_reply *r, enum smtpc_reply_cmd cmd)
{
	unsigned cls = r->code / 100;

	res->status = cls == 2 ? SMTPC_OK
	    : cls == 5         ? SMTPC_PERMFAIL
	                       : SMTPC_TEMPFAIL;
	if (r->enh[0] != '\0' && (cls == 2 || cls == 4 || cls == 5))
		(void)!str_copy(res->enh, r->enh, sizeof(res->enh));
	else
		smtpc_reply_default_enh(
		    cmd, r->code, res->enh, sizeof(res->enh));
	/* A 3xx where a final reply was due: a temporary failure. */
	if (cls == 3)
		(void)!str_copy(res->enh, "4.5.0", sizeof(res->enh));
	smtpc_reply_format(r, res->reply, sizeof(res->reply));
}

static void
smtpc_session_result_set(struct smtpc_rcpt_result *res,
    enum smtpc_status status, const char *enh, const char *text)
{
	res->status = status;
	(void)!str_copy(res->enh, enh, sizeof(res->enh));
	(void)!str_copy(res->reply, text, sizeof(res->reply));
}

/* Every recipient still without a result gets this one. */
static void
smtpc_session_fail_pending(struct smtpc_session *s, enum smtpc_status status,
    const char *enh, const char *text)
{
	size_t i;

	for (i = 0; i < s->n_rcpts; i++) {
		if (s->results[i].status == SMTPC_PENDING)
			smtpc_session_result_set(
			    &s->results[i], status, enh, text);
	}
}

/* The message has its results; next() reports DONE. */
static void
smtpc_session_finish_message(struct smtpc_session *s)
{
	if (!s->has_msg)
		return;
	smtpc_session_fail_pending(
	    s, SMTPC_TEMPFAIL, "4.4.2", "transaction ended without a result");
	s->has_msg = false;
	s->done_pending = true;
}

/*
 * The connection cannot carry mail: pending recipients get a temporary
 * failure (a server's 5xx greeting or AUTH refusal too: that is about
 * the host, not the message), QUIT goes out if wanted, and the session
 * closes.
 */
static void
smtpc_session_fail(struct smtpc_session *s, struct buf *out, const char *enh,
    const char *text, bool quit)
{
	char e[SMTPC_ENH_MAX + 1];

	(void)!str_copy(e, enh, sizeof(e));
	e[0] = '4';
	(void)!str_copy(s->error, text, sizeof(s->error));
	if (s->has_msg)
		smtpc_session_fail_pending(s, SMTPC_TEMPFAIL, e, text);
	smtpc_session_finish_message(s);
	if (quit && out != NULL)
		smtpc_session_send(out, "QUIT");
	s->state = SMTPC_STATE_CLOSED;
}

/* Same, with the server's reply as the reason. */
static void
smtpc_session_fail_reply(struct smtpc_session *s, struct buf *out,
    const struct smtpc_reply *r, const char *fallback_enh, bool quit)
{
	char text[SMTPC_RESULT_REPLY_BYTES];

	smtpc_reply_format(r, text, sizeof(text));
	smtpc_session_fail(s, out,
	    r->enh[0] != '\0'    ? r->enh
	        : r->code == 421 ? "4.4.2"
	                         : fallback_enh,
	    text, quit);
}

static void
smtpc_session_send_ehlo(struct smtpc_session *s, struct buf *out)
{
	if (buf_printf(out, "EHLO %s\r\n", s->helo) == -1)
		log_panic("smtpc: output buffer full");
	s->state = SMTPC_STATE_EHLO;
}

static void smtpc_session_begin_message(
    struct smtpc_session *s, struct buf *out);

/* Greeted, EHLO done, TLS and AUTH settled: mail may flow. */
static void
smtpc_session_ready(struct smtpc_session *s, struct buf *out)
{
	s->state = SMTPC_STATE_READY;
	if (s->has_msg && !s->msg_started)
		smtpc_session_begin_message(s, out);
}

static void
smtpc_session_auth(struct smtpc_session *s, struct buf *out)
{
	int rc;

	if (s->auth_user == NULL) {
		smtpc_session_ready(s, out);
		return;
	}
	/* Never a password in clear (RFC 4954 4, RFC 8314 5.2). */
	if (!s->tls_active) {
		smtpc_session_fail(
		    s, out, "4.7.0", "TLS required for AUTH", true);
		return;
	}
	if ((s->ext.auth & SMTPC_AUTH_PLAIN) != 0) {
		rc = smtpc_auth_plain_line(s->auth_user, s->auth_password, out);
		s->auth_step = 2;
	} else if ((s->ext.auth & SMTPC_AUTH_LOGIN) != 0) {
		rc = buf_append_str(out, "AUTH LOGIN\r\n");
		s->auth_step = 0;
	} else {
		smtpc_session_fail(s, out, "4.7.0",
		    "server offers no AUTH mechanism we support (PLAIN, LOGIN)",
		    true);
		return;
	}
	if (rc == -1)
		log_panic("smtpc: output buffer full");
	s->state = SMTPC_STATE_AUTH;
}

/* After EHLO (or HELO): STARTTLS if it applies, else AUTH. */
static void
smtpc_session_after_ehlo(struct smtpc_session *s, struct buf *out)
{
	if (!s->tls_active && s->tls != SMTPC_TLS_NONE && s->ext.starttls) {
		smtpc_session_send(out, "STARTTLS");
		s->state = SMTPC_STATE_STARTTLS;
		return;
	}
	if (!s->tls_active && s->tls == SMTPC_TLS_REQUIRED) {
		smtpc_session_fail(s, out, "4.7.4",
		    "TLS is required, but was not offered by host", true);
		return;
	}
	smtpc_session_auth(s, out);
}

/* Refuses the whole message before MAIL; the connection stays usable. */
static void
smtpc_session_refuse(struct smtpc_session *s, const char *enh, const char *text)
{
	s->msg_started = true;
	smtpc_session_fail_pending(s, SMTPC_PERMFAIL, enh, text);
	smtpc_session_finish_message(s);
}

static void
smtpc_session_send_rcpt(struct smtpc_session *s, struct buf *out)
{
	size_t i = s->order[s->rcpt_sent++];

	if (buf_printf(out, "RCPT TO:<%s>\r\n", s->rcpts[i]) == -1)
		log_panic("smtpc: output buffer full");
}

static void
smtpc_session_begin_message(struct smtpc_session *s, struct buf *out)
{
	char text[160];
	size_t i;

	s->msg_started = true;
	/* RFC 1870 6: do not send a message the server said it won't take. */
	if (s->ext.size && s->ext.size_max > 0 && s->size > s->ext.size_max) {
		(void)snprintf(text, sizeof(text),
		    "message size %" PRIu64
		    " exceeds the server's limit of %" PRIu64,
		    s->size, s->ext.size_max);
		smtpc_session_refuse(s, "5.3.4", text);
		return;
	}
	/* RFC 6531 3.4: no downgrade; the message cannot be relayed. */
	if (s->smtputf8 && !s->ext.smtputf8) {
		smtpc_session_refuse(s, "5.6.7",
		    "SMTPUTF8 is required, but was not offered by host");
		return;
	}
	if (!smtpc_session_is_line_safe(s->from)) {
		smtpc_session_refuse(s, "5.1.7", "bad sender address");
		return;
	}
	s->n_order = 0;
	for (i = 0; i < s->n_rcpts; i++) {
		if (smtpc_session_is_line_safe(s->rcpts[i]))
			s->order[s->n_order++] = i;
		else
			smtpc_session_result_set(&s->results[i], SMTPC_PERMFAIL,
			    "5.1.3", "bad recipient address");
	}
	if (s->n_order == 0) {
		smtpc_session_finish_message(s);
		return;
	}
	if (buf_printf(out, "MAIL FROM:<%s>", s->from) == -1 ||
	    (s->ext.size && buf_printf(out, " SIZE=%" PRIu64, s->size) == -1) ||
	    (s->body != ENVELOPE_BODY_7BIT && s->ext.eightbitmime &&
	        buf_append_str(out, " BODY=8BITMIME") == -1) ||
	    (s->smtputf8 && buf_append_str(out, " SMTPUTF8") == -1) ||
	    buf_append(out, "\r\n", 2) == -1)
		log_panic("smtpc: output buffer full");
	s->pipelined = s->ext.pipelining;
	s->mail_replied = false;
	s->mail_ok = false;
	s->rcpt_sent = 0;
	s->rcpt_replied = 0;
	s->n_accepted = 0;
	s->data_sent = false;
	if (s->pipelined) {
		/* RFC 2920 3.1: MAIL, every RCPT and DATA in one group. */
		while (s->rcpt_sent < s->n_order)
			smtpc_session_send_rcpt(s, out);
		smtpc_session_send(out, "DATA");
		s->data_sent = true;
	}
	s->state = SMTPC_STATE_TRANSACTION;
}

void
smtpc_session_start_message(
    struct smtpc_session *s, const struct smtpc_message *m, struct buf *out)
{
	size_t i;

	ASSERT(!s->has_msg);
	ASSERT(s->state != SMTPC_STATE_CLOSED);
	smtpc_session_clear_message(s);
	s->done_pending = false;
	s->has_msg = true;
	s->from = xstrdup(m->from != NULL ? m->from : "");
	s->n_rcpts = m->n_rcpts;
	s->rcpts = xcalloc(m->n_rcpts + 1, sizeof(*s->rcpts));
	for (i = 0; i < m->n_rcpts; i++)
		s->rcpts[i] = xstrdup(m->rcpts[i]);
	s->results = xcalloc(m->n_rcpts + 1, sizeof(*s->results));
	s->accepted = xcalloc(m->n_rcpts + 1, sizeof(*s->accepted));
	s->order = xcalloc(m->n_rcpts + 1, sizeof(*s->order));
	s->mail_replied = false;
	s->mail_ok = false;
	s->size = m->size;
	s->body = m->body;
	s->smtputf8 = m->smtputf8;
	if (s->state == SMTPC_STATE_READY)
		smtpc_session_begin_message(s, out);
}

size_t
smtpc_session_feed(struct smtpc_session *s, const uint8_t *data, size_t len)
{
	return smtpc_reply_parser_feed(&s->parser, data, len);
}

/* Ends a transaction that did not reach the final reply. */
static void
smtpc_session_send_rset(struct smtpc_session *s, struct buf *out)
{
	smtpc_session_send(out, "RSET");
	s->state = SMTPC_STATE_RSET;
}

/* All replies of the group are in: what comes next. */
static void
smtpc_session_after_rcpts(struct smtpc_session *s, struct buf *out)
{
	if (s->n_accepted == 0) {
		/* Every recipient refused: no DATA (RFC 5321 3.3). */
		smtpc_session_send_rset(s, out);
		return;
	}
	smtpc_session_send(out, "DATA");
	s->data_sent = true;
}

static enum smtpc_event
smtpc_session_on_data_reply(
    struct smtpc_session *s, struct buf *out, const struct smtpc_reply *r)
{
	size_t i;

	if (r->code / 100 == 3) {
		if (s->mail_ok && s->n_accepted > 0) {
			s->state = SMTPC_STATE_CONTENT;
			return SMTPC_EV_CONTENT;
		}
		/* RFC 2920 3.1: no recipient, yet 354: send an empty body. */
		smtpc_session_send(out, ".");
		s->state = SMTPC_STATE_NULL_DATA;
		return SMTPC_EV_NONE;
	}
	for (i = 0; i < s->n_rcpts; i++) {
		if (s->accepted[i])
			smtpc_session_result_reply(
			    &s->results[i], r, SMTPC_REPLY_CMD_DATA);
	}
	/* A 2xx to DATA is not a delivery. */
	for (i = 0; i < s->n_rcpts && r->code / 100 == 2; i++) {
		if (s->accepted[i]) {
			s->results[i].status = SMTPC_TEMPFAIL;
			(void)!str_copy(s->results[i].enh, "4.5.0",
			    sizeof(s->results[i].enh));
		}
	}
	smtpc_session_send_rset(s, out);
	return SMTPC_EV_NONE;
}

/* One reply of the MAIL, RCPT..., DATA sequence, in order. */
static enum smtpc_event
smtpc_session_on_transaction(
    struct smtpc_session *s, struct buf *out, const struct smtpc_reply *r)
{
	size_t i;

	if (!s->mail_replied) {
		s->mail_replied = true;
		s->mail_ok = r->code / 100 == 2;
		if (!s->mail_ok) {
			for (i = 0; i < s->n_rcpts; i++) {
				if (s->results[i].status == SMTPC_PENDING)
					smtpc_session_result_reply(
					    &s->results[i], r,
					    SMTPC_REPLY_CMD_MAIL);
			}
			if (!s->pipelined)
				smtpc_session_send_rset(s, out);
			return SMTPC_EV_NONE;
		}
		if (!s->pipelined)
			smtpc_session_send_rcpt(s, out);
		return SMTPC_EV_NONE;
	}
	if (s->rcpt_replied < s->rcpt_sent) {
		i = s->order[s->rcpt_replied++];
		if (s->mail_ok) {
			if (r->code / 100 == 2) {
				s->accepted[i] = true;
				s->n_accepted++;
			} else {
				smtpc_session_result_reply(
				    &s->results[i], r, SMTPC_REPLY_CMD_RCPT);
			}
		}
		if (s->pipelined)
			return SMTPC_EV_NONE;
		if (s->rcpt_sent < s->n_order)
			smtpc_session_send_rcpt(s, out);
		else
			smtpc_session_after_rcpts(s, out);
		return SMTPC_EV_NONE;
	}
	if (s->data_sent)
		return smtpc_session_on_data_reply(s, out, r);
	log_panic("smtpc: reply with no command outstanding");
}

static void
smtpc_session_on_auth(
    struct smtpc_session *s, struct buf *out, const struct smtpc_reply *r)
{
	int rc;

	if (r->code == 334 && s->auth_step < 2) {
		/* LOGIN: the prompts are "Username:" and "Password:". */
		rc = smtpc_auth_login_line(
		    s->auth_step == 0 ? s->auth_user : s->auth_password, out);
		if (rc == -1)
			log_panic("smtpc: output buffer full");
		s->auth_step++;
		return;
	}
	if (r->code / 100 == 2) {
		smtpc_session_ready(s, out);
		return;
	}
	if (r->code == 334)
		smtpc_session_send(out, "*"); /* RFC 4954 4: cancel */
	smtpc_session_fail_reply(s, out, r, "4.7.0", true);
}

/* Handles one reply in the current state. */
static enum smtpc_event
smtpc_session_on_reply(
    struct smtpc_session *s, struct buf *out, const struct smtpc_reply *r)
{
	unsigned cls = r->code / 100;

	/* RFC 5321 3.8: 421 at any point; the server is closing. */
	if (r->code == 421) {
		smtpc_session_fail_reply(s, NULL, r, "4.4.2", false);
		return SMTPC_EV_NONE;
	}
	switch (s->state) {
	case SMTPC_STATE_GREETING:
		if (cls != 2) {
			smtpc_session_fail_reply(s, out, r, "4.0.0", true);
			return SMTPC_EV_NONE;
		}
		s->greeted = true;
		smtpc_session_send_ehlo(s, out);
		return SMTPC_EV_NONE;
	case SMTPC_STATE_EHLO:
		if (cls == 2) {
			smtpc_ehlo_parse(r, &s->ext);
			smtpc_session_after_ehlo(s, out);
		} else if (cls == 5) {
			/* RFC 5321 3.2: fall back to HELO, no extensions. */
			if (buf_printf(out, "HELO %s\r\n", s->helo) == -1)
				log_panic("smtpc: output buffer full");
			s->state = SMTPC_STATE_HELO;
		} else {
			smtpc_session_fail_reply(s, out, r, "4.0.0", true);
		}
		return SMTPC_EV_NONE;
	case SMTPC_STATE_HELO:
		memset(&s->ext, 0, sizeof(s->ext));
		if (cls == 2)
			smtpc_session_after_ehlo(s, out);
		else
			smtpc_session_fail_reply(s, out, r, "4.0.0", true);
		return SMTPC_EV_NONE;
	case SMTPC_STATE_STARTTLS:
		if (cls == 2) {
			s->state = SMTPC_STATE_TLS_WAIT;
			return SMTPC_EV_STARTTLS;
		}
		if (s->tls == SMTPC_TLS_REQUIRED) {
			smtpc_session_fail_reply(s, out, r, "4.7.4", true);
			return SMTPC_EV_NONE;
		}
		/* Opportunistic (RFC 7435): carry on in clear. */
		smtpc_session_auth(s, out);
		return SMTPC_EV_NONE;
	case SMTPC_STATE_AUTH:
		smtpc_session_on_auth(s, out, r);
		return SMTPC_EV_NONE;
	case SMTPC_STATE_TRANSACTION:
		return smtpc_session_on_transaction(s, out, r);
	case SMTPC_STATE_DOT:
		/* RFC 5321 4.1.1.4: one reply for every accepted rcpt. */
		for (size_t i = 0; i < s->n_rcpts; i++) {
			if (s->accepted[i])
				smtpc_session_result_reply(
				    &s->results[i], r, SMTPC_REPLY_CMD_DOT);
		}
		smtpc_session_finish_message(s);
		s->state = SMTPC_STATE_READY;
		return SMTPC_EV_NONE;
	case SMTPC_STATE_NULL_DATA:
		smtpc_session_send_rset(s, out);
		return SMTPC_EV_NONE;
	case SMTPC_STATE_RSET:
		smtpc_session_finish_message(s);
		if (cls == 2)
			s->state = SMTPC_STATE_READY;
		else
			smtpc_session_fail_reply(s, out, r, "4.0.0", true);
		return SMTPC_EV_NONE;
	case SMTPC_STATE_READY:
	case SMTPC_STATE_TLS_WAIT:
	case SMTPC_STATE_CONTENT:
	case SMTPC_STATE_CLOSED:
		break;
	}
	/* A reply nobody asked for. */
	smtpc_session_fail(
	    s, out, "4.5.0", "unexpected reply from server", true);
	return SMTPC_EV_NONE;
}

enum smtpc_event
smtpc_session_next(struct smtpc_session *s, struct buf *out)
{
	const struct smtpc_reply *r;
	const char *err;
	char text[SMTPC_RESULT_REPLY_BYTES];
	enum smtpc_event ev;
	int rc;

	for (;;) {
		if (s->done_pending) {
			s->done_pending = false;
			return SMTPC_EV_DONE;
		}
		if (s->state == SMTPC_STATE_CLOSED)
			return SMTPC_EV_CLOSE;
		/* The glue is busy; replies wait in the parser. */
		if (s->state == SMTPC_STATE_TLS_WAIT ||
		    s->state == SMTPC_STATE_CONTENT)
			return SMTPC_EV_NONE;
		rc = smtpc_reply_parser_next(&s->parser, &r, &err);
		if (rc == 0)
			return SMTPC_EV_NONE;
		if (rc == -1) {
			(void)snprintf(
			    text, sizeof(text), "protocol error: %s", err);
			smtpc_session_fail(s, NULL, "4.5.0", text, false);
			continue;
		}
		ev = smtpc_session_on_reply(s, out, r);
		if (ev != SMTPC_EV_NONE)
			return ev;
	}
}

void
smtpc_session_tls_started(struct smtpc_session *s, struct buf *out)
{
	ASSERT(s->state == SMTPC_STATE_TLS_WAIT);
	/* RFC 3207 4.2: forget everything learnt in clear, and any
	 * plaintext that came after the 220 (CVE-2011-0411's mirror). */
	smtpc_reply_parser_reset(&s->parser);
	memset(&s->ext, 0, sizeof(s->ext));
	s->tls_active = true;
	smtpc_session_send_ehlo(s, out);
}

void
smtpc_session_content_sent(struct smtpc_session *s)
{
	ASSERT(s->state == SMTPC_STATE_CONTENT);
	s->state = SMTPC_STATE_DOT;
}

void
smtpc_session_abort(struct smtpc_session *s, const char *enh, const char *why)
{
	if (s->state == SMTPC_STATE_CLOSED)
		return;
	smtpc_session_fail(s, NULL, enh, why, false);
}

void
smtpc_session_quit(struct smtpc_session *s, struct buf *out)
{
	if (s->state == SMTPC_STATE_CLOSED)
		return;
	if (s->greeted)
		smtpc_session_send(out, "QUIT");
	smtpc_session_finish_message(s);
	s->state = SMTPC_STATE_CLOSED;
}

const struct smtpc_rcpt_result *
smtpc_session_rcpt(const struct smtpc_session *s, size_t i)
{
	ASSERT(i < s->n_rcpts);
	return &s->results[i];
}

bool
smtpc_session_mail_accepted(const struct smtpc_session *s)
{
	return s->mail_ok;
}

bool
smtpc_session_is_greeted(const struct smtpc_session *s)
{
	return s->greeted;
}

bool
smtpc_session_is_idle(const struct smtpc_session *s)
{
	return s->state == SMTPC_STATE_READY && !s->has_msg;
}

bool
smtpc_session_is_tls(const struct smtpc_session *s)
{
	return s->tls_active;
}

bool
smtpc_session_in_data(const struct smtpc_session *s)
{
	return s->state == SMTPC_STATE_CONTENT || s->state == SMTPC_STATE_DOT;
}

const struct smtpc_ext *
smtpc_session_ext(const struct smtpc_session *s)
{
	return &s->ext;
}

const char *
smtpc_session_error(const struct smtpc_session *s)
{
	return s->error;
}
