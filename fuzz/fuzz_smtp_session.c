/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for smtp/smtp_session: arbitrary client bytes drive
 * a session whose glue accepts every event.  The first two bytes pick
 * the parameters.  AUTH events are answered 334, 235, 535 or 501 as a
 * hash of what they carry says, so both runs answer alike.  Checked:
 * replies are well-formed CRLF lines, content events come only inside
 * an accepted transaction, AUTH events only when AUTH is offered and
 * responses only after a 334, and (without STARTTLS) feeding whole or
 * one byte at a time gives the same replies.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "smtp/smtp_session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fuzz_smtp_session_run {
	struct smtp_session *s;
	struct buf out;
	bool content;		/* between an accepted DATA_BEGIN and its end */
	bool refuse_begin;
	bool tls;
	bool closed;
	bool auth_enabled;
	bool auth_offered;	/* auth_enabled and TLS active */
	bool challenged;	/* a 334 was sent: responses may come */
	bool authenticated;
	unsigned long events;
};

/* FNV-1a of the AUTH event's bytes: the same in both runs. */
static unsigned
fuzz_smtp_session_hash(const char *a, const char *b)
{
	unsigned h = 2166136261u;

	for (; a != NULL && *a != '\0'; a++)
		h = (h ^ (unsigned char)*a) * 16777619u;
	for (; b != NULL && *b != '\0'; b++)
		h = (h ^ (unsigned char)*b) * 16777619u;
	return h;
}

/* Answers an AUTH or AUTH_RESPONSE event as the hash says. */
static void
fuzz_smtp_session_auth(struct fuzz_smtp_session_run *r, const char *mech,
    const char *resp)
{
	struct smtp_result challenge = { .code = 334, .text = "VXNlcjo=" };
	struct smtp_result empty = { .code = 334 };
	struct smtp_result ok = { .code = 235 };
	struct smtp_result bad = { .code = 535, .enh = "5.7.8",
	    .text = "Authentication credentials invalid" };
	struct smtp_result cancel = { .code = 501, .enh = "5.0.0",
	    .text = "Authentication cancelled" };
	const struct smtp_result *res;

	if (!r->auth_offered || r->authenticated || r->content ||
	    !smtp_session_is_waiting(r->s))
		abort();
	if (resp != NULL && strcmp(resp, "*") == 0) {
		res = &cancel;
	} else {
		switch (fuzz_smtp_session_hash(mech, resp) % 4) {
		case 0:
			res = &challenge;
			break;
		case 1:
			res = &empty;
			break;
		case 2:
			res = &ok;
			break;
		default:
			res = &bad;
			break;
		}
	}
	smtp_session_resume(r->s, &r->out, res);
	r->challenged = res->code == 334;
	if (res->code == 235)
		r->authenticated = true;
}

static void
fuzz_smtp_session_drain(struct fuzz_smtp_session_run *r)
{
	struct smtp_result ok = { .queue_id = "Q" };
	struct smtp_result no = { .code = 451, .enh = "4.3.0", .text = "no" };
	struct smtp_event_data d;
	enum smtp_event ev;

	while (!r->closed &&
	    (ev = smtp_session_next(r->s, &r->out, &d)) != SMTP_EV_NONE) {
		r->events = r->events * 31 + (unsigned long)ev;
		switch (ev) {
		case SMTP_EV_NONE:
			break;
		case SMTP_EV_MAIL:
			if (d.mail_from == NULL || r->content)
				abort();
			smtp_session_resume(r->s, &r->out, &ok);
			break;
		case SMTP_EV_RCPT:
			if (d.rcpt_to == NULL || *d.rcpt_to == '\0' ||
			    r->content)
				abort();
			smtp_session_resume(r->s, &r->out, &ok);
			break;
		case SMTP_EV_DATA_BEGIN:
			if (r->content ||
			    smtp_session_envelope(r->s)->n_rcpts == 0)
				abort();
			smtp_session_resume(r->s, &r->out,
			    r->refuse_begin ? &no : &ok);
			r->content = !r->refuse_begin;
			break;
		case SMTP_EV_DATA:
			if (!r->content || d.len == 0 || d.bytes == NULL)
				abort();
			break;
		case SMTP_EV_DATA_END:
			if (!r->content ||
			    smtp_session_envelope(r->s)->n_rcpts == 0)
				abort();
			r->content = false;
			smtp_session_resume(r->s, &r->out, &ok);
			break;
		case SMTP_EV_DATA_ABORT:
			if (!r->content)
				abort();
			r->content = false;
			break;
		case SMTP_EV_STARTTLS:
			if (r->content)
				abort();
			r->tls = true;
			smtp_session_tls_started(r->s);
			r->auth_offered = r->auth_enabled;
			r->authenticated = false;
			break;
		case SMTP_EV_CLOSE:
			r->closed = true;
			break;
		case SMTP_EV_AUTH:
			/* A 500 5.5.6 may have ended an exchange unseen. */
			if (d.auth_mechanism == NULL ||
			    (strcmp(d.auth_mechanism, "PLAIN") != 0 &&
			    strcmp(d.auth_mechanism, "LOGIN") != 0) ||
			    smtp_session_envelope(r->s)->from[0] != '\0')
				abort();
			fuzz_smtp_session_auth(r, d.auth_mechanism,
			    d.auth_response);
			break;
		case SMTP_EV_AUTH_RESPONSE:
			if (d.auth_response == NULL || !r->challenged)
				abort();
			fuzz_smtp_session_auth(r, NULL, d.auth_response);
			break;
		}
		if (smtp_session_is_waiting(r->s) ||
		    smtp_session_is_authenticated(r->s) != r->authenticated ||
		    (r->authenticated &&
		    strchr(smtp_session_protocol(r->s), 'A') == NULL))
			abort();
	}
}

/* Every reply line is "ddd" SP/"-" text CRLF, with no other CR or LF. */
static void
fuzz_smtp_session_check_out(const struct buf *out)
{
	size_t i = 0, j;

	while (i < out->len) {
		if (out->len - i < 6 || out->data[i] < '2' ||
		    out->data[i] > '5' || (out->data[i + 3] != ' ' &&
		    out->data[i + 3] != '-'))
			abort();
		for (j = i; j < out->len && out->data[j] != '\r' &&
		    out->data[j] != '\n'; j++)
			;
		if (j + 1 >= out->len || out->data[j] != '\r' ||
		    out->data[j + 1] != '\n')
			abort();
		i = j + 2;
	}
}

static void
fuzz_smtp_session_run(struct fuzz_smtp_session_run *r,
    const struct smtp_session_params *p, const uint8_t *data, size_t size,
    size_t step, bool eof)
{
	size_t pos = 0, n, want;

	r->s = smtp_session_new(p);
	buf_init(&r->out, 0, 0);
	smtp_session_start(r->s, &r->out);
	while (pos < size && !r->closed) {
		want = size - pos < step ? size - pos : step;
		n = smtp_session_feed(r->s, data + pos, want);
		fuzz_smtp_session_drain(r);
		if (n == 0 && !r->closed)
			abort();	/* full and stuck */
		pos += n;
	}
	if (eof && !r->closed) {
		enum smtp_event ev = smtp_session_eof(r->s);

		if ((ev == SMTP_EV_DATA_ABORT) != r->content)
			abort();
		r->content = false;
	}
	fuzz_smtp_session_check_out(&r->out);
	smtp_session_free(&r->s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtp_session_params p = {
		.hostname = "mx.example",
		.max_line_length = SMTP_LINE_MIN_BYTES,
		.auth_mechanisms = "PLAIN LOGIN",
	};
	struct fuzz_smtp_session_run a = { 0 }, b = { 0 };

	if (size < 2)
		return 0;
	p.bare_newline = data[0] & 1 ? SMTP_BARE_NEWLINE_NORMALIZE :
	    SMTP_BARE_NEWLINE_REJECT;
	p.tls_available = (data[0] & 2) != 0;
	p.tls_active = (data[0] & 4) != 0;
	p.max_recipients = 1 + ((data[0] >> 3) & 3);
	p.max_errors = (data[0] >> 5) & 7;
	p.max_message_size = data[1] & 0x80 ? (uint64_t)(data[1] & 0x7f) * 8
	    : 1024 * 1024;
	a.refuse_begin = b.refuse_begin = (data[1] & 1) != 0;
	p.auth_enabled = (data[1] & 2) == 0;
	p.auth_required = (data[1] & 4) != 0;
	if (data[1] & 8)
		p.max_line_length = 1000;
	a.auth_enabled = b.auth_enabled = p.auth_enabled;
	a.auth_offered = b.auth_offered = p.auth_enabled && p.tls_active;
	data += 2;
	size -= 2;
	fuzz_smtp_session_run(&a, &p, data, size, SIZE_MAX, true);
	fuzz_smtp_session_run(&b, &p, data, size, 1, true);
	if (!a.tls && !b.tls &&
	    (a.out.len != b.out.len ||
	    memcmp(a.out.data, b.out.data, a.out.len) != 0))
		abort();
	buf_clear(&a.out);
	buf_clear(&b.out);
	return 0;
}
