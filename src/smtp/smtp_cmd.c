/* SPDX-License-Identifier: ISC */
/*
 * The SMTP verbs: one table says where each verb is legal (RFC 5321
 * 4.1.4 command order), and one handler per verb validates and acts.
 * MAIL, RCPT, content begin and AUTH are events that the glue decides;
 * the rest is answered here (RFC 5321 4.1.1, RFC 3030, RFC 3207, RFC
 * 4954 4 and 6, RFC 6409 4.3).
 */
#include "smtp/smtp_session_private.h"

#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "core/when.h"
#include "core/xalloc.h"
#include "smtp/smtp_reply.h"

/* Legal before HELO/EHLO. */
#define SMTP_CMD_BEFORE_HELO_OK 0x01
/* Needs an open transaction (MAIL accepted). */
#define SMTP_CMD_NEEDS_TRANSACTION 0x02
/* Refused inside a transaction. */
#define SMTP_CMD_NO_TRANSACTION 0x04
/* Takes no argument (RFC 5321 4.1.1.4, .5, .10; RFC 3207 4). */
#define SMTP_CMD_NO_ARGS 0x08
/*
 * Ends a PIPELINING group (RFC 2920 3.1): once it succeeds, input
 * after it is dropped (QUIT closes; plaintext pipelined after STARTTLS
 * must never be executed, CVE-2011-0411).
 */
#define SMTP_CMD_LAST_IN_PIPELINE 0x10

struct smtp_cmd {
	const char *verb;
	smtp_cmd_fn *handler;
	unsigned flags;
};

/* HELO and EHLO end any transaction (RFC 5321 4.1.4) and set helo. */
static int
smtp_cmd_greet(struct smtp_session *s, struct buf *out, const char *args,
    enum smtp_session_helo helo)
{
	struct smtp_parse_error err;

	if (smtp_parse_helo(args, &err) == -1) {
		smtp_session_error(s, out, err.code, err.enh, err.text);
		return -1;
	}
	smtp_session_reset_transaction(s);
	free(s->env.helo);
	s->env.helo = xstrdup(args);
	s->helo = helo;
	return 0;
}

/*
 * "FUTURERELEASE <max-interval> <max-date-time>" (RFC 4865 3): the
 * longest hold in seconds, and the latest release time it allows.
 */
static int
smtp_cmd_futurerelease(struct smtp_session *s, struct buf *text)
{
	char latest[WHEN_FORMAT_SIZE];

	when_format(s->clock() + (time_t)s->max_hold, latest, sizeof(latest));
	return buf_printf(text, "\nFUTURERELEASE %llu %s",
	    (unsigned long long)s->max_hold, latest);
}

/*
 * The release time a MAIL's hold parameter asks for, checked against
 * max_hold: 0 with *release_r (0: now), or -1 after the error reply.
 */
static int
smtp_cmd_hold(struct smtp_session *s, struct buf *out,
    const struct smtp_mail *m, time_t *release_r)
{
	time_t now, latest, release;

	*release_r = 0;
	if (!m->has_hold)
		return 0;
	if (s->max_hold == 0) {
		smtp_session_error(s, out, 555, "5.5.4",
		    "FUTURERELEASE is not offered here");
		return -1;
	}
	now = s->clock();
	latest = now + (time_t)s->max_hold;
	release = m->hold_is_until ? m->hold_until :
	    now + (time_t)m->hold_for;
	if ((!m->hold_is_until && m->hold_for > s->max_hold) ||
	    release > latest) {
		/* RFC 4865 4: beyond what was advertised. */
		smtp_session_error(s, out, 501, "5.5.4",
		    "hold time exceeds the maximum FUTURERELEASE interval");
		return -1;
	}
	/* A time in the past means now. */
	*release_r = release > now ? release : 0;
	return 0;
}

static enum smtp_event
smtp_cmd_ehlo(struct smtp_session *s, struct buf *out, const char *args,
    struct smtp_event_data *data)
{
	struct buf text;

	(void)data;
	if (smtp_cmd_greet(s, out, args, SMTP_SESSION_HELO_EHLO) == -1)
		return SMTP_EV_NONE;
	buf_init(&text, 256, 0);
	if (buf_printf(&text, "%s\nPIPELINING\nSIZE %llu\n8BITMIME\n"
	    "ENHANCEDSTATUSCODES\nSMTPUTF8\nCHUNKING\nBINARYMIME", s->hostname,
	    (unsigned long long)s->max_message_size) == -1)
		log_panic("smtp_cmd: EHLO reply");
	if (s->tls_available && !s->tls_active &&
	    buf_append_str(&text, "\nSTARTTLS") == -1)
		log_panic("smtp_cmd: EHLO reply");
	if (s->max_hold > 0 && smtp_cmd_futurerelease(s, &text) == -1)
		log_panic("smtp_cmd: EHLO reply");
	/* RFC 4954 4 and 14: no plaintext passwords, so AUTH only on TLS. */
	if (s->auth_enabled && s->tls_active &&
	    buf_printf(&text, "\nAUTH %s", s->auth_mechanisms) == -1)
		log_panic("smtp_cmd: EHLO reply");
	/* RFC 2034 3: no enhanced codes in the EHLO reply. */
	smtp_session_reply(s, out, 250, NULL, buf_cstr(&text));
	buf_clear(&text);
	return SMTP_EV_NONE;
}

static enum smtp_event
smtp_cmd_helo(struct smtp_session *s, struct buf *out, const char *args,
    struct smtp_event_data *data)
{
	(void)data;
	if (smtp_cmd_greet(s, out, args, SMTP_SESSION_HELO_HELO) == 0)
		smtp_session_reply(s, out, 250, NULL, s->hostname);
	return SMTP_EV_NONE;
}

static enum smtp_event
smtp_cmd_mail(struct smtp_session *s, struct buf *out, const char *args,
    struct smtp_event_data *data)
{
	struct smtp_parse_error err;
	struct smtp_mail *m = &s->mail;
	time_t release;

	if (s->auth_required && !s->authenticated) {
		/* RFC 6409 4.3, RFC 4954 6. */
		smtp_session_error(s, out, 530, "5.7.0",
		    "Authentication required");
		return SMTP_EV_NONE;
	}
	if (smtp_parse_mail(args, s->helo == SMTP_SESSION_HELO_EHLO, m,
	    &err) == -1) {
		smtp_session_error(s, out, err.code, err.enh, err.text);
		return SMTP_EV_NONE;
	}
	if (s->max_message_size != 0 && m->has_size &&
	    m->size > s->max_message_size) {
		/* RFC 1870 6.1. */
		smtp_session_reply(s, out, 552, "5.3.4",
		    "message size exceeds fixed maximum message size");
		return SMTP_EV_NONE;
	}
	if (smtp_cmd_hold(s, out, m, &release) == -1)
		return SMTP_EV_NONE;
	free(s->env.from);
	s->env.from = xstrdup(m->from.addr);
	s->env.body = m->body;
	s->env.smtputf8 = m->smtputf8;
	s->env.hold_until = release;
	s->wait = SMTP_SESSION_WAIT_MAIL;
	data->mail_from = s->env.from;
	return SMTP_EV_MAIL;
}

static enum smtp_event
smtp_cmd_rcpt(struct smtp_session *s, struct buf *out, const char *args,
    struct smtp_event_data *data)
{
	struct smtp_parse_error err;

	if (s->bdat_used) {
		smtp_session_error(s, out, 503, "5.5.1",
		    "RCPT not allowed after BDAT");
		return SMTP_EV_NONE;
	}
	s->rcpt_attempts++;
	if (smtp_parse_rcpt(args, s->env.smtputf8, &s->rcpt, &err) == -1) {
		smtp_session_error(s, out, err.code, err.enh, err.text);
		return SMTP_EV_NONE;
	}
	if (s->env.n_rcpts >= s->max_recipients) {
		/* RFC 5321 4.5.3.1.10: 452, the client may retry the rest. */
		smtp_session_reply(s, out, 452, "4.5.3", "too many recipients");
		return SMTP_EV_NONE;
	}
	s->wait = SMTP_SESSION_WAIT_RCPT;
	data->rcpt_to = s->rcpt.to.addr;
	return SMTP_EV_RCPT;
}

static enum smtp_event
smtp_cmd_data(struct smtp_session *s, struct buf *out, const char *args,
    struct smtp_event_data *data)
{
	(void)args, (void)data;
	if (s->bdat_used || s->env.body == ENVELOPE_BODY_BINARYMIME) {
		/* RFC 3030 2 and 3: BDAT only, once begun or for binary. */
		smtp_session_error(s, out, 503, "5.5.1",
		    "DATA not allowed; use BDAT");
		return SMTP_EV_NONE;
	}
	if (s->env.n_rcpts == 0) {
		if (s->rcpt_attempts > 0)	/* RFC 2920 3.1 */
			smtp_session_reply(s, out, 554, "5.5.1",
			    "no valid recipients");
		else
			smtp_session_error(s, out, 503, "5.5.1",
			    "need RCPT command");
		return SMTP_EV_NONE;
	}
	s->wait = SMTP_SESSION_WAIT_DATA_BEGIN;
	return SMTP_EV_DATA_BEGIN;
}

static enum smtp_event
smtp_cmd_bdat(struct smtp_session *s, struct buf *out, const char *args,
    struct smtp_event_data *data)
{
	struct smtp_parse_error err;
	uint64_t size;
	bool last;

	(void)data;
	if (smtp_parse_bdat(args, &size, &last, &err) == -1) {
		/* Without a size the chunk cannot be told from commands. */
		smtp_session_error(s, out, err.code, err.enh, err.text);
		return SMTP_EV_NONE;
	}
	s->phase = SMTP_SESSION_PHASE_BDAT;
	s->bdat_size = size;
	s->bdat_left = size;
	s->bdat_last = last;
	s->bdat_finished = false;
	/* RFC 3030 2: a refused chunk is still read, then refused. */
	if (s->helo == SMTP_SESSION_HELO_NONE) {
		smtp_session_hold(s, 503, "5.5.1", "send EHLO first", true,
		    false);
	} else if (!s->in_transaction) {
		smtp_session_hold(s, 503, "5.5.1", "need MAIL command", true,
		    false);
	} else if (s->env.n_rcpts == 0) {
		if (s->rcpt_attempts > 0)
			smtp_session_hold(s, 554, "5.5.1",
			    "no valid recipients", false, false);
		else
			smtp_session_hold(s, 503, "5.5.1",
			    "need RCPT command", true, false);
	} else if (!s->content_begun) {
		s->bdat_used = true;
		s->wait = SMTP_SESSION_WAIT_BDAT_BEGIN;
		return SMTP_EV_DATA_BEGIN;
	}
	return SMTP_EV_NONE;
}

static enum smtp_event
smtp_cmd_rset(struct smtp_session *s, struct buf *out, const char *args,
    struct smtp_event_data *data)
{
	(void)args, (void)data;
	smtp_session_reset_transaction(s);
	smtp_session_reply(s, out, 250, "2.0.0", "Ok");
	return SMTP_EV_NONE;
}

static enum smtp_event
smtp_cmd_noop(struct smtp_session *s, struct buf *out, const char *args,
    struct smtp_event_data *data)
{
	(void)args, (void)data;
	smtp_session_reply(s, out, 250, "2.0.0", "Ok");
	return SMTP_EV_NONE;
}

static enum smtp_event
smtp_cmd_quit(struct smtp_session *s, struct buf *out, const char *args,
    struct smtp_event_data *data)
{
	(void)args, (void)data;
	smtp_session_reply(s, out, 221, "2.0.0", "Bye");
	smtp_session_close(s);
	return SMTP_EV_NONE;
}

static enum smtp_event
smtp_cmd_vrfy(struct smtp_session *s, struct buf *out, const char *args,
    struct smtp_event_data *data)
{
	(void)data;
	if (*args == '\0') {
		smtp_session_error(s, out, 501, "5.5.4", "syntax: VRFY address");
		return SMTP_EV_NONE;
	}
	/* RFC 5321 3.5.3: 252 when the server will not verify. */
	smtp_session_reply(s, out, 252, "2.5.0", "cannot VRFY user, "
	    "but will accept message and attempt delivery");
	return SMTP_EV_NONE;
}

static enum smtp_event
smtp_cmd_expn(struct smtp_session *s, struct buf *out, const char *args,
    struct smtp_event_data *data)
{
	(void)args, (void)data;
	smtp_session_reply(s, out, 502, "5.5.1", "EXPN not supported");
	return SMTP_EV_NONE;
}

static enum smtp_event
smtp_cmd_help(struct smtp_session *s, struct buf *out, const char *args,
    struct smtp_event_data *data)
{
	(void)args, (void)data;
	smtp_session_reply(s, out, 214, "2.0.0",
	    "tern ESMTP; see RFC 5321");
	return SMTP_EV_NONE;
}

/* base64 (RFC 4648 4) or "=": the charset of an initial response. */
static bool
smtp_cmd_is_base64(const char *p)
{
	if (*p == '\0')
		return false;
	for (; *p != '\0'; p++) {
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '+' || *p == '/' ||
		    *p == '='))
			return false;
	}
	return true;
}

/*
 * "AUTH" SP sasl-mech [SP initial-response] (RFC 4954 4); sasl-mech is
 * 1*20 of upper-case letters, digits, "-" and "_" (RFC 4422 3.1), taken
 * in any case.  Fills s->auth_mech; *resp_r points into args or is
 * NULL.  Returns 0 or -1.
 */
static int
smtp_cmd_auth_parse(struct smtp_session *s, const char *args,
    const char **resp_r)
{
	size_t n;
	char c;

	for (n = 0; (c = args[n]) != '\0' && c != ' '; n++) {
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_') || n >= SMTP_AUTH_MECH_MAX)
			return -1;
		s->auth_mech[n] = c;
	}
	if (n == 0)
		return -1;
	s->auth_mech[n] = '\0';
	*resp_r = NULL;
	if (args[n] == '\0')
		return 0;
	while (args[n] == ' ')
		n++;
	if (!smtp_cmd_is_base64(args + n))
		return -1;
	*resp_r = args + n;
	return 0;
}

static enum smtp_event
smtp_cmd_auth(struct smtp_session *s, struct buf *out, const char *args,
    struct smtp_event_data *data)
{
	const char *resp;

	if (!s->auth_enabled) {
		smtp_session_reply(s, out, 502, "5.5.1", "AUTH not supported");
		return SMTP_EV_NONE;
	}
	if (!s->tls_active) {
		/* RFC 4954 6: no mechanism is offered in plaintext. */
		smtp_session_reply(s, out, 538, "5.7.11", "Encryption required "
		    "for requested authentication mechanism");
		return SMTP_EV_NONE;
	}
	if (s->helo != SMTP_SESSION_HELO_EHLO) {
		/* AUTH is an ESMTP extension; HELO never offered it. */
		smtp_session_error(s, out, 503, "5.5.1", "send EHLO first");
		return SMTP_EV_NONE;
	}
	if (s->authenticated) {
		/* RFC 4954 4: one successful AUTH per session. */
		smtp_session_error(s, out, 503, "5.5.1",
		    "Already authenticated");
		return SMTP_EV_NONE;
	}
	if (smtp_cmd_auth_parse(s, args, &resp) == -1) {
		smtp_session_error(s, out, 501, "5.5.4",
		    "syntax: AUTH mechanism [initial-response]");
		return SMTP_EV_NONE;
	}
	if (!smtp_session_has_mechanism(s, s->auth_mech)) {
		smtp_session_error(s, out, 504, "5.5.4",
		    "Unrecognized authentication type");
		return SMTP_EV_NONE;
	}
	s->wait = SMTP_SESSION_WAIT_AUTH;
	data->auth_mechanism = s->auth_mech;
	data->auth_response = resp;
	return SMTP_EV_AUTH;
}

static enum smtp_event
smtp_cmd_starttls(struct smtp_session *s, struct buf *out, const char *args,
    struct smtp_event_data *data)
{
	(void)args, (void)data;
	if (s->tls_active) {
		smtp_session_error(s, out, 503, "5.5.1", "already using TLS");
		return SMTP_EV_NONE;
	}
	if (!s->tls_available) {
		smtp_session_reply(s, out, 502, "5.5.1",
		    "STARTTLS not available");
		return SMTP_EV_NONE;
	}
	smtp_session_reply(s, out, 220, "2.0.0", "Ready to start TLS");
	if (s->phase == SMTP_SESSION_PHASE_CLOSED)
		return SMTP_EV_NONE;
	s->phase = SMTP_SESSION_PHASE_TLS;
	return SMTP_EV_STARTTLS;
}

static const struct smtp_cmd smtp_cmd_table[] = {
	{ "EHLO", smtp_cmd_ehlo, SMTP_CMD_BEFORE_HELO_OK },
	{ "HELO", smtp_cmd_helo, SMTP_CMD_BEFORE_HELO_OK },
	{ "MAIL", smtp_cmd_mail, SMTP_CMD_NO_TRANSACTION },
	{ "RCPT", smtp_cmd_rcpt, SMTP_CMD_NEEDS_TRANSACTION },
	{ "DATA", smtp_cmd_data,
	    SMTP_CMD_NEEDS_TRANSACTION | SMTP_CMD_NO_ARGS },
	/* BDAT checks order itself: a refused chunk must still be read. */
	{ "BDAT", smtp_cmd_bdat, SMTP_CMD_BEFORE_HELO_OK },
	{ "RSET", smtp_cmd_rset, SMTP_CMD_BEFORE_HELO_OK | SMTP_CMD_NO_ARGS },
	{ "NOOP", smtp_cmd_noop, SMTP_CMD_BEFORE_HELO_OK },
	{ "QUIT", smtp_cmd_quit, SMTP_CMD_BEFORE_HELO_OK | SMTP_CMD_NO_ARGS |
	    SMTP_CMD_LAST_IN_PIPELINE },
	{ "VRFY", smtp_cmd_vrfy, SMTP_CMD_BEFORE_HELO_OK },
	{ "EXPN", smtp_cmd_expn, SMTP_CMD_BEFORE_HELO_OK },
	{ "HELP", smtp_cmd_help, SMTP_CMD_BEFORE_HELO_OK },
	/* EHLO (not HELO) and the AUTH state are checked in the handler. */
	{ "AUTH", smtp_cmd_auth, SMTP_CMD_NO_TRANSACTION },
	{ "STARTTLS", smtp_cmd_starttls, SMTP_CMD_NO_TRANSACTION |
	    SMTP_CMD_NO_ARGS | SMTP_CMD_LAST_IN_PIPELINE },
};

static const struct smtp_cmd *
smtp_cmd_lookup(const struct str *verb)
{
	size_t i;

	for (i = 0; i < N_ELEMENTS(smtp_cmd_table); i++) {
		const char *v = smtp_cmd_table[i].verb;

		if (strlen(v) == verb->len &&
		    str_case_equal_n(v, verb->p, verb->len))
			return &smtp_cmd_table[i];
	}
	return NULL;
}

enum smtp_event
smtp_cmd_dispatch(struct smtp_session *s, struct buf *out,
    const struct str *verb, const char *args, struct smtp_event_data *data)
{
	const struct smtp_cmd *c = smtp_cmd_lookup(verb);
	enum smtp_event ev;

	if (c == NULL) {
		smtp_session_error(s, out, 500, "5.5.1", "unknown command");
		return SMTP_EV_NONE;
	}
	if ((c->flags & SMTP_CMD_NO_ARGS) && *args != '\0') {
		smtp_session_error(s, out, 501, "5.5.4",
		    "no arguments allowed");
		return SMTP_EV_NONE;
	}
	if (!(c->flags & SMTP_CMD_BEFORE_HELO_OK) &&
	    s->helo == SMTP_SESSION_HELO_NONE) {
		smtp_session_error(s, out, 503, "5.5.1", "send EHLO first");
		return SMTP_EV_NONE;
	}
	if ((c->flags & SMTP_CMD_NEEDS_TRANSACTION) && !s->in_transaction) {
		smtp_session_error(s, out, 503, "5.5.1", "need MAIL command");
		return SMTP_EV_NONE;
	}
	if ((c->flags & SMTP_CMD_NO_TRANSACTION) && s->in_transaction) {
		smtp_session_error(s, out, 503, "5.5.1",
		    "MAIL transaction in progress");
		return SMTP_EV_NONE;
	}
	ev = c->handler(s, out, args, data);
	if ((c->flags & SMTP_CMD_LAST_IN_PIPELINE) &&
	    (ev == SMTP_EV_STARTTLS || s->phase == SMTP_SESSION_PHASE_CLOSED))
		smtp_session_discard_input(s);
	return ev;
}
