/* SPDX-License-Identifier: ISC */
/*
 * The SMTP server session as a pure state machine: bounded input
 * buffering, the command / DATA / BDAT phases, events and resumes
 * (RFC 5321 4.1, 4.3; PIPELINING RFC 2920; CHUNKING RFC 3030), and the
 * framing of SASL exchanges (RFC 4954 4), whose bytes are wiped once
 * used.  Verb handlers live in smtp_cmd.c; sockets, TLS, timers, disks
 * and the SASL mechanisms belong to the glue, which acts on the events.
 */
#include "smtp/smtp_session.h"

#include <string.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "smtp/smtp_reply.h"
#include "smtp/smtp_session_private.h"

/* The longest line, with its ending, that an AUTH exchange may send. */
static size_t
smtp_session_auth_line_max(const struct smtp_session *s)
{
	return s->max_line_length > SMTP_AUTH_LINE_MAX_BYTES ?
	    s->max_line_length : SMTP_AUTH_LINE_MAX_BYTES;
}

struct smtp_session *
smtp_session_new(const struct smtp_session_params *p)
{
	struct smtp_session *s;
	size_t in_max;
	char *c;

	s = xcalloc(1, sizeof(*s));
	s->hostname = xstrdup(p->hostname != NULL ? p->hostname : "localhost");
	s->role = p->role;
	s->max_message_size = p->max_message_size;
	s->max_recipients = p->max_recipients;
	s->max_line_length = p->max_line_length < SMTP_LINE_MIN_BYTES ?
	    SMTP_LINE_MIN_BYTES : p->max_line_length > SIZE_MAX / 4 ?
	    SIZE_MAX / 4 : (size_t)p->max_line_length;
	s->max_errors = p->max_errors;
	s->bare_newline = p->bare_newline;
	s->tls_available = p->tls_available;
	s->tls_active = p->tls_active;
	s->auth_enabled = p->auth_enabled;
	s->auth_required = p->auth_required;
	s->max_hold = p->clock != NULL ? p->max_hold : 0;
	s->clock = p->clock;
	s->auth_mechanisms = xstrdup(p->auth_mechanisms != NULL &&
	    *p->auth_mechanisms != '\0' ? p->auth_mechanisms : "PLAIN LOGIN");
	for (c = s->auth_mechanisms; *c != '\0'; c++) {
		if (*c >= 'a' && *c <= 'z')
			*c = (char)(*c - 'a' + 'A');
	}
	in_max = s->max_line_length + SMTP_SESSION_INPUT_MAX_BYTES;
	/* Never reallocated, so no copy of a secret is left in freed memory. */
	buf_init(&s->in, s->auth_enabled ? in_max : 0, in_max);
	s->line_size = s->auth_enabled ? smtp_session_auth_line_max(s) + 1 :
	    s->max_line_length + 1;
	s->line = xmalloc(s->line_size);
	s->line[0] = '\0';
	s->dec = xmalloc(SMTP_SESSION_DECODE_BYTES);
	envelope_init(&s->env);
	s->phase = SMTP_SESSION_PHASE_CMD;
	return s;
}

void
smtp_session_free(struct smtp_session **sp)
{
	struct smtp_session *s = *sp;

	if (s == NULL)
		return;
	*sp = NULL;
	free(s->hostname);
	free(s->auth_mechanisms);
	buf_clear_secret(&s->in);
	explicit_bzero(s->line, s->line_size);
	free(s->line);
	free(s->dec);
	free(s->held.text);
	envelope_clear(&s->env);
	free(s);
}

void
smtp_session_reply(struct smtp_session *s, struct buf *out, int code,
    const char *enh, const char *text)
{
	if (s->phase == SMTP_SESSION_PHASE_CLOSED)
		return;
	if (smtp_reply(out, code, enh, text) == -1) {
		log_warn("smtp session output buffer full, closing");
		smtp_session_close(s);
	}
}

void
smtp_session_error(struct smtp_session *s, struct buf *out, int code,
    const char *enh, const char *text)
{
	char msg[SMTP_REPLY_LINE_MAX_BYTES];

	smtp_session_reply(s, out, code, enh, text);
	s->errors++;
	if (s->max_errors == 0 || s->errors < s->max_errors)
		return;
	(void)snprintf(msg, sizeof(msg), "%s Error: too many errors",
	    s->hostname);
	smtp_session_reply(s, out, 421, "4.7.0", msg);
	smtp_session_close(s);
}

void
smtp_session_reset_transaction(struct smtp_session *s)
{
	char *helo = s->env.helo;

	if (s->content_begun)
		s->pending_abort = true;
	s->env.helo = NULL;
	envelope_clear(&s->env);
	envelope_init(&s->env);
	s->env.helo = helo;
	s->in_transaction = false;
	s->rcpt_attempts = 0;
	s->content_begun = false;
	s->bdat_used = false;
}

void
smtp_session_close(struct smtp_session *s)
{
	if (s->phase == SMTP_SESSION_PHASE_CLOSED)
		return;
	smtp_session_reset_transaction(s);
	smtp_session_wipe_line(s);
	s->phase = SMTP_SESSION_PHASE_CLOSED;
	s->wait = SMTP_SESSION_WAIT_NONE;
	s->pending_close = true;
}

void
smtp_session_discard_input(struct smtp_session *s)
{
	if (s->in.data != NULL)
		explicit_bzero(s->in.data, s->in.len);
	buf_reset(&s->in);
	s->in_off = 0;
	s->discarding_line = false;
	s->discarding_secret = false;
}

void
smtp_session_wipe_line(struct smtp_session *s)
{
	if (!s->line_secret)
		return;
	explicit_bzero(s->line, s->line_size);
	s->line_secret = false;
}

bool
smtp_session_has_mechanism(const struct smtp_session *s, const char *mech)
{
	size_t n = strlen(mech);
	const char *p = s->auth_mechanisms, *end;

	for (;;) {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			return false;
		for (end = p; *end != ' ' && *end != '\0'; end++)
			;
		if ((size_t)(end - p) == n && memcmp(p, mech, n) == 0)
			return true;
		p = end;
	}
}

void
smtp_session_start(struct smtp_session *s, struct buf *out)
{
	char msg[SMTP_REPLY_LINE_MAX_BYTES];

	/* RFC 2034 3: the greeting carries no enhanced code. */
	(void)snprintf(msg, sizeof(msg), "%s ESMTP tern", s->hostname);
	smtp_session_reply(s, out, 220, NULL, msg);
}

size_t
smtp_session_feed(struct smtp_session *s, const uint8_t *data, size_t len)
{
	size_t n;

	size_t old_len;

	switch (s->phase) {
	case SMTP_SESSION_PHASE_CMD:
	case SMTP_SESSION_PHASE_DATA:
	case SMTP_SESSION_PHASE_BDAT:
	case SMTP_SESSION_PHASE_AUTH:
		break;
	case SMTP_SESSION_PHASE_TLS:
	case SMTP_SESSION_PHASE_CLOSED:
		/* Plaintext after STARTTLS, or input after the end: dropped. */
		return len;
	}
	if (s->in_off > 0) {
		old_len = s->in.len;
		buf_consume(&s->in, s->in_off);
		/*
		 * Moving the rest down leaves a copy of it past the new end,
		 * and it may hold AUTH bytes not yet used: wipe it.
		 */
		explicit_bzero(s->in.data + s->in.len, old_len - s->in.len);
		s->in_off = 0;
	}
	n = len < buf_room(&s->in) ? len : buf_room(&s->in);
	if (n > 0 && buf_append(&s->in, data, n) == -1)
		log_panic("smtp session: input append failed");
	return n;
}

/* The unprocessed input. */
static uint8_t *
smtp_session_input(const struct smtp_session *s, size_t *len_r)
{
	*len_r = s->in.len - s->in_off;
	return s->in.data + s->in_off;
}

/* Marks n bytes of input processed; secret ones are wiped first. */
static void
smtp_session_used(struct smtp_session *s, uint8_t *p, size_t n, bool secret)
{
	if (secret)
		explicit_bzero(p, n);
	s->in_off += n;
}

/* Skips the rest of a too long line.  False when more input is needed. */
static bool
smtp_session_step_discard(struct smtp_session *s)
{
	uint8_t *p, *lf;
	size_t avail;

	p = smtp_session_input(s, &avail);
	if ((lf = memchr(p, '\n', avail)) == NULL) {
		smtp_session_used(s, p, avail, s->discarding_secret);
		return false;
	}
	smtp_session_used(s, p, (size_t)(lf - p) + 1, s->discarding_secret);
	s->discarding_line = false;
	s->discarding_secret = false;
	return true;
}

/* Reads one command line.  Returns false when more input is needed. */
static bool
smtp_session_step_command(struct smtp_session *s, struct buf *out,
    struct smtp_event_data *data, enum smtp_event *ev_r)
{
	struct smtp_parse_error err;
	struct smtp_command cmd;
	char verb[17];
	struct str v;
	uint8_t *p;
	size_t avail, len, used, max;
	bool secret, long_ok;
	int r;

	if (s->discarding_line)
		return smtp_session_step_discard(s);
	p = smtp_session_input(s, &avail);
	if (avail == 0)
		return false;
	/*
	 * An AUTH line carries a secret however it ends; with AUTH
	 * enabled it may also be longer (RFC 4954 4).  Both are decided
	 * on the first bytes, which are there before any line end can be
	 * (a line shorter than 5 bytes is never too long).
	 */
	secret = avail >= 4 && str_case_equal_n((const char *)p, "AUTH", 4);
	long_ok = s->auth_enabled && avail >= 5 &&
	    str_case_equal_n((const char *)p, "AUTH ", 5);
	max = long_ok ? smtp_session_auth_line_max(s) : s->max_line_length;
	r = smtp_parse_line(p, avail, max, &len, &used);
	if (r == 0)
		return false;
	if (r == -1) {
		/* Never buffer a line without bound: skip to its end. */
		smtp_session_used(s, p, used, secret);
		s->discarding_line = true;
		s->discarding_secret = secret;
		if (long_ok)
			smtp_session_error(s, out, 500, "5.5.6",
			    "Authentication exchange line is too long");
		else
			smtp_session_error(s, out, 500, "5.5.2",
			    "line too long");
		return true;
	}
	if (smtp_parse_command(p, len, &cmd, &err) == -1) {
		smtp_session_used(s, p, used, secret);
		smtp_session_error(s, out, err.code, err.enh, err.text);
		return true;
	}
	/* The verb and arguments are copied out before the line is wiped. */
	ASSERT(cmd.verb.len < sizeof(verb) && cmd.args.len < s->line_size);
	memcpy(verb, cmd.verb.p, cmd.verb.len);
	verb[cmd.verb.len] = '\0';
	v.p = verb;
	v.len = cmd.verb.len;
	memcpy(s->line, cmd.args.p, cmd.args.len);
	s->line[cmd.args.len] = '\0';
	s->line_secret = secret;
	smtp_session_used(s, p, used, secret);
	*ev_r = smtp_cmd_dispatch(s, out, &v, s->line, data);
	/* An AUTH event hands out a view of the line; wiped at the resume. */
	if (*ev_r != SMTP_EV_AUTH)
		smtp_session_wipe_line(s);
	return true;
}

/*
 * Reads one SASL response line (RFC 4954 4) after a 334.  Returns
 * false when more input is needed.
 */
static bool
smtp_session_step_auth(struct smtp_session *s, struct buf *out,
    struct smtp_event_data *data, enum smtp_event *ev_r)
{
	uint8_t *p;
	size_t avail, len, used;
	int r;

	p = smtp_session_input(s, &avail);
	if (avail == 0)
		return false;
	r = smtp_parse_line(p, avail, smtp_session_auth_line_max(s), &len,
	    &used);
	if (r == 0)
		return false;
	if (r == -1) {
		smtp_session_used(s, p, used, true);
		s->discarding_line = true;
		s->discarding_secret = true;
		s->phase = SMTP_SESSION_PHASE_CMD;
		smtp_session_error(s, out, 500, "5.5.6",
		    "Authentication exchange line is too long");
		return true;
	}
	if (memchr(p, '\0', len) != NULL || memchr(p, '\r', len) != NULL) {
		/* It is handed out as a C string: no NUL, no bare CR. */
		smtp_session_used(s, p, used, true);
		s->phase = SMTP_SESSION_PHASE_CMD;
		smtp_session_error(s, out, 501, "5.5.2",
		    "invalid characters in authentication response");
		return true;
	}
	ASSERT(len < s->line_size);
	memcpy(s->line, p, len);
	s->line[len] = '\0';
	s->line_secret = true;
	smtp_session_used(s, p, used, true);
	s->wait = SMTP_SESSION_WAIT_AUTH;
	data->auth_response = s->line;
	*ev_r = SMTP_EV_AUTH_RESPONSE;
	return true;
}

/* The content is complete: fail it, or hand it over for commit. */
static void
smtp_session_content_end(struct smtp_session *s, struct buf *out,
    enum smtp_event *ev_r)
{
	s->phase = SMTP_SESSION_PHASE_CMD;
	if (smtp_data_is_too_big(&s->data)) {
		/* RFC 5321 4.5.3.1.10, RFC 1870 6.1. */
		smtp_session_reply(s, out, 552, "5.3.4",
		    "message size exceeds fixed maximum message size");
		smtp_session_reset_transaction(s);
		return;
	}
	if (smtp_data_is_failed(&s->data)) {
		smtp_session_reply(s, out, 550, "5.5.2",
		    "message contains bare CR or LF; "
		    "lines must end with CRLF");
		smtp_session_reset_transaction(s);
		return;
	}
	/* From here the glue owns the content; a disconnect is no abort. */
	s->content_begun = false;
	s->wait = SMTP_SESSION_WAIT_DATA_END;
	*ev_r = SMTP_EV_DATA_END;
}

static bool
smtp_session_step_data(struct smtp_session *s, struct buf *out,
    struct smtp_event_data *data, enum smtp_event *ev_r)
{
	const uint8_t *p;
	size_t avail, used, olen;

	if (s->data_ended) {
		s->data_ended = false;
		smtp_session_content_end(s, out, ev_r);
		return true;
	}
	p = smtp_session_input(s, &avail);
	if (avail == 0)
		return false;
	if (smtp_data_decode(&s->data, p, avail, s->dec,
	    SMTP_SESSION_DECODE_BYTES, &used, &olen) == 1)
		s->data_ended = true;
	s->in_off += used;
	if (olen > 0) {
		data->bytes = s->dec;
		data->len = olen;
		*ev_r = SMTP_EV_DATA;
	}
	return true;
}

/* A BDAT chunk has been read. */
static void
smtp_session_bdat_done(struct smtp_session *s, struct buf *out,
    struct smtp_event_data *data, enum smtp_event *ev_r)
{
	struct smtp_session_held *h = &s->held;
	char msg[64];
	size_t olen;

	if (s->bdat_discard) {
		s->bdat_discard = false;
		s->phase = SMTP_SESSION_PHASE_CMD;
		if (h->reset)
			smtp_session_reset_transaction(s);
		if (h->is_error)
			smtp_session_error(s, out, h->code, h->enh, h->text);
		else
			smtp_session_reply(s, out, h->code, h->enh, h->text);
		free(h->text);
		h->text = NULL;
		return;
	}
	if (s->bdat_last && !s->bdat_finished) {
		s->bdat_finished = true;
		smtp_data_finish(&s->data, s->dec, SMTP_SESSION_DECODE_BYTES,
		    &olen);
		if (olen > 0) {
			data->bytes = s->dec;
			data->len = olen;
			*ev_r = SMTP_EV_DATA;
		}
		return;
	}
	if (s->bdat_last || smtp_data_is_failed(&s->data)) {
		/*
		 * RFC 3030 2: a failed chunk fails the transaction; the
		 * client must not send more chunks of it.
		 */
		smtp_session_content_end(s, out, ev_r);
		return;
	}
	s->phase = SMTP_SESSION_PHASE_CMD;
	(void)snprintf(msg, sizeof(msg), "%llu octets received",
	    (unsigned long long)s->bdat_size);
	smtp_session_reply(s, out, 250, "2.0.0", msg);
}

static bool
smtp_session_step_bdat(struct smtp_session *s, struct buf *out,
    struct smtp_event_data *data, enum smtp_event *ev_r)
{
	const uint8_t *p;
	size_t avail, used, olen;

	if (s->bdat_left == 0) {
		smtp_session_bdat_done(s, out, data, ev_r);
		return true;
	}
	p = smtp_session_input(s, &avail);
	if (avail == 0)
		return false;
	if (avail > s->bdat_left)
		avail = (size_t)s->bdat_left;
	if (s->bdat_discard) {
		s->in_off += avail;
		s->bdat_left -= avail;
		return true;
	}
	(void)smtp_data_decode(&s->data, p, avail, s->dec,
	    SMTP_SESSION_DECODE_BYTES, &used, &olen);
	s->in_off += used;
	s->bdat_left -= used;
	if (olen > 0) {
		data->bytes = s->dec;
		data->len = olen;
		*ev_r = SMTP_EV_DATA;
	}
	return true;
}

enum smtp_event
smtp_session_next(struct smtp_session *s, struct buf *out,
    struct smtp_event_data *data)
{
	enum smtp_event ev;
	bool progress = false;

	memset(data, 0, sizeof(*data));
	for (;;) {
		if (s->pending_abort) {
			s->pending_abort = false;
			return SMTP_EV_DATA_ABORT;
		}
		if (s->pending_close) {
			s->pending_close = false;
			return SMTP_EV_CLOSE;
		}
		if (s->wait != SMTP_SESSION_WAIT_NONE)
			return SMTP_EV_NONE;
		ev = SMTP_EV_NONE;
		switch (s->phase) {
		case SMTP_SESSION_PHASE_CMD:
			progress = smtp_session_step_command(s, out, data, &ev);
			break;
		case SMTP_SESSION_PHASE_DATA:
			progress = smtp_session_step_data(s, out, data, &ev);
			break;
		case SMTP_SESSION_PHASE_BDAT:
			progress = smtp_session_step_bdat(s, out, data, &ev);
			break;
		case SMTP_SESSION_PHASE_AUTH:
			progress = smtp_session_step_auth(s, out, data, &ev);
			break;
		case SMTP_SESSION_PHASE_TLS:
		case SMTP_SESSION_PHASE_CLOSED:
			progress = false;
			break;
		}
		if (ev != SMTP_EV_NONE)
			return ev;
		if (!progress && !s->pending_abort && !s->pending_close)
			return SMTP_EV_NONE;
	}
}

/* A refusal from the glue: a 4xx or 5xx reply. */
static void
smtp_session_refuse(struct smtp_session *s, struct buf *out,
    const struct smtp_result *r)
{
	ASSERT(r->code >= 400 && r->code <= 599);
	smtp_session_reply(s, out, r->code, r->enh != NULL ? r->enh : "",
	    r->text);
}

void
smtp_session_hold(struct smtp_session *s, int code, const char *enh,
    const char *text, bool is_error, bool reset)
{
	struct smtp_session_held *h = &s->held;

	ASSERT(code >= 400 && code <= 599);
	h->code = code;
	if (enh == NULL || str_copy(h->enh, enh, sizeof(h->enh)) == -1)
		h->enh[0] = '\0';
	free(h->text);
	h->text = xstrdup(text != NULL ? text : "");
	h->is_error = is_error;
	h->reset = reset;
	s->bdat_discard = true;
}

/* The glue's answer to AUTH or AUTH_RESPONSE (RFC 4954 4, 6). */
static void
smtp_session_auth_resume(struct smtp_session *s, struct buf *out,
    const struct smtp_result *r)
{
	if (r->code == 334) {
		/* A challenge: the next line is a response, not a command. */
		s->phase = SMTP_SESSION_PHASE_AUTH;
		if (smtp_reply_continue(out, r->text) == -1) {
			log_warn("smtp session output buffer full, closing");
			smtp_session_close(s);
		}
		return;
	}
	s->phase = SMTP_SESSION_PHASE_CMD;
	if (r->code == 235) {
		s->authenticated = true;
		smtp_session_reply(s, out, 235,
		    r->enh != NULL ? r->enh : "2.7.0",
		    r->text != NULL ? r->text : "Authentication successful");
		return;
	}
	ASSERT(r->code >= 400 && r->code <= 599);
	/* Failed exchanges count, so a client cannot guess without end. */
	if (r->code >= 500)
		smtp_session_error(s, out, r->code,
		    r->enh != NULL ? r->enh : "", r->text);
	else
		smtp_session_refuse(s, out, r);
}

void
smtp_session_resume(struct smtp_session *s, struct buf *out,
    const struct smtp_result *r)
{
	enum smtp_session_wait w = s->wait;
	char msg[SMTP_REPLY_LINE_MAX_BYTES];
	enum smtp_data_mode mode;

	if (s->phase == SMTP_SESSION_PHASE_CLOSED)
		return;
	ASSERT(w != SMTP_SESSION_WAIT_NONE);
	s->wait = SMTP_SESSION_WAIT_NONE;
	switch (w) {
	case SMTP_SESSION_WAIT_NONE:
		break;
	case SMTP_SESSION_WAIT_MAIL:
		if (r->code != 0) {
			smtp_session_refuse(s, out, r);
			smtp_session_reset_transaction(s);
			return;
		}
		s->in_transaction = true;
		smtp_session_reply(s, out, 250, "2.1.0", "Ok");
		return;
	case SMTP_SESSION_WAIT_RCPT:
		if (r->code != 0) {
			smtp_session_refuse(s, out, r);
			return;
		}
		envelope_add_rcpt(&s->env, s->rcpt.to.addr);
		smtp_session_reply(s, out, 250, "2.1.5", "Ok");
		return;
	case SMTP_SESSION_WAIT_DATA_BEGIN:
		if (r->code != 0) {
			/* The transaction stays; the client may try again. */
			smtp_session_refuse(s, out, r);
			return;
		}
		s->content_begun = true;
		s->data_ended = false;
		s->phase = SMTP_SESSION_PHASE_DATA;
		smtp_data_init(&s->data, SMTP_DATA_MODE_DOT, s->bare_newline,
		    s->max_message_size);
		/* A 3xx reply takes no enhanced code (RFC 2034 3). */
		smtp_session_reply(s, out, 354,
		    NULL, "End data with <CR><LF>.<CR><LF>");
		return;
	case SMTP_SESSION_WAIT_BDAT_BEGIN:
		if (r->code != 0) {
			/* RFC 3030 2: the chunk is read, then refused. */
			ASSERT(r->code >= 400 && r->code <= 599);
			smtp_session_hold(s, r->code, r->enh, r->text, false,
			    true);
			return;
		}
		s->content_begun = true;
		mode = s->env.body == ENVELOPE_BODY_BINARYMIME ?
		    SMTP_DATA_MODE_BINARY : SMTP_DATA_MODE_CHUNK;
		smtp_data_init(&s->data, mode, s->bare_newline,
		    s->max_message_size);
		return;
	case SMTP_SESSION_WAIT_DATA_END:
		if (r->code != 0) {
			smtp_session_refuse(s, out, r);
		} else if (r->queue_id != NULL) {
			(void)snprintf(msg, sizeof(msg), "Ok: queued as %s",
			    r->queue_id);
			smtp_session_reply(s, out, 250, "2.0.0", msg);
		} else {
			smtp_session_reply(s, out, 250, "2.0.0", "Ok");
		}
		smtp_session_reset_transaction(s);
		return;
	case SMTP_SESSION_WAIT_AUTH:
		smtp_session_wipe_line(s);
		smtp_session_auth_resume(s, out, r);
		return;
	}
	log_panic("smtp session: resume while waiting for %d", (int)w);
}

void
smtp_session_tls_started(struct smtp_session *s)
{
	if (s->phase == SMTP_SESSION_PHASE_CLOSED)
		return;
	/* RFC 3207 4.2: forget everything learnt before the handshake. */
	smtp_session_reset_transaction(s);
	s->pending_abort = false;
	free(s->env.helo);
	s->env.helo = NULL;
	s->helo = SMTP_SESSION_HELO_NONE;
	s->authenticated = false;
	smtp_session_wipe_line(s);
	s->tls_active = true;
	s->wait = SMTP_SESSION_WAIT_NONE;
	s->phase = SMTP_SESSION_PHASE_CMD;
	smtp_session_discard_input(s);
}

static void
smtp_session_421(struct smtp_session *s, struct buf *out, const char *enh,
    const char *what)
{
	char msg[SMTP_REPLY_LINE_MAX_BYTES];

	/* During the TLS handshake no plaintext reply may be sent. */
	if (s->phase != SMTP_SESSION_PHASE_TLS) {
		(void)snprintf(msg, sizeof(msg), "%s %s", s->hostname, what);
		smtp_session_reply(s, out, 421, enh, msg);
	}
	smtp_session_close(s);
}

void
smtp_session_timeout(struct smtp_session *s, struct buf *out)
{
	smtp_session_421(s, out, "4.4.2", "Error: timeout exceeded");
}

void
smtp_session_shutdown(struct smtp_session *s, struct buf *out)
{
	smtp_session_421(s, out, "4.3.2", "Service shutting down");
}

enum smtp_event
smtp_session_eof(struct smtp_session *s)
{
	bool abort = s->pending_abort || s->content_begun;

	if (s->phase != SMTP_SESSION_PHASE_CLOSED) {
		smtp_session_close(s);
	}
	s->pending_abort = false;
	if (abort)
		return SMTP_EV_DATA_ABORT;
	s->pending_close = false;
	return SMTP_EV_CLOSE;
}

bool
smtp_session_in_transaction(const struct smtp_session *s)
{
	return s->in_transaction;
}

bool
smtp_session_in_data(const struct smtp_session *s)
{
	return s->phase == SMTP_SESSION_PHASE_DATA ||
	    s->phase == SMTP_SESSION_PHASE_BDAT;
}

bool
smtp_session_is_waiting(const struct smtp_session *s)
{
	return s->wait != SMTP_SESSION_WAIT_NONE;
}

const struct envelope *
smtp_session_envelope(const struct smtp_session *s)
{
	return &s->env;
}

bool
smtp_session_is_authenticated(const struct smtp_session *s)
{
	return s->authenticated;
}

const char *
smtp_session_protocol(const struct smtp_session *s)
{
	/* RFC 3848 (and RFC 5321 4.4 for plain SMTP). */
	if (s->authenticated)
		return s->tls_active ? "ESMTPSA" : "ESMTPA";
	if (s->helo == SMTP_SESSION_HELO_HELO)
		return "SMTP";
	return s->tls_active ? "ESMTPS" : "ESMTP";
}

const uint8_t *
smtp_session_test_input(const struct smtp_session *s, size_t *len_r)
{
	*len_r = s->in.cap;
	return s->in.data;
}

const uint8_t *
smtp_session_test_line(const struct smtp_session *s, size_t *len_r)
{
	*len_r = s->line_size;
	return (const uint8_t *)s->line;
}
