/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for SMTP AUTH in smtp/smtp_session (RFC 4954, RFC 6409
 * 4.3): scripts of client bytes with the replies and events expected,
 * run whole, one byte at a time and split at every offset, against a
 * glue stub that answers AUTH events from a per-case list.  Every AUTH
 * event also checks that the secret bytes are gone from the session's
 * input buffer, and every resume that they are gone from its line copy.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "smtp/smtp_session.h"
#include "smtp/smtp_session_private.h"

#define HOST "sub.example"
#define EHLO_BASE                                                     \
	"250-" HOST "\r\n250-PIPELINING\r\n250-SIZE 1000\r\n"         \
	"250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n250-SMTPUTF8\r\n" \
	"250-CHUNKING\r\n"
#define EHLO_AUTH EHLO_BASE "250-BINARYMIME\r\n250 AUTH PLAIN LOGIN\r\n"
#define EHLO_STARTTLS EHLO_BASE "250-BINARYMIME\r\n250 STARTTLS\r\n"
#define EHLO_NOAUTH EHLO_BASE "250 BINARYMIME\r\n"
#define R235 "235 2.7.0 Authentication successful\r\n"
#define R530 "530 5.7.0 Authentication required\r\n"
#define R538 "538 5.7.11 Encryption required for requested " \
	"authentication mechanism\r\n"
#define R556 "500 5.5.6 Authentication exchange line is too long\r\n"
#define AUTH_SYNTAX "501 5.5.4 syntax: AUTH mechanism [initial-response]\r\n"
#define OK "250 2.0.0 Ok\r\n"
#define BAD_RESP "EHLO c\r\nAUTH LOGIN\r\nab\0cd\r\nAUTH LOGIN\r\n" \
	"ab\rcd\r\nNOOP\r\n"
#define R501_BAD "501 5.5.2 invalid characters in authentication " \
	"response\r\n"

#define MAX_AUTH_RESULTS 4

struct auth_case {
	const char *name;
	const char *input;
	size_t input_len;	/* 0: strlen(input) */
	const char *after_tls;	/* fed after the STARTTLS event */
	const char *out;	/* replies expected, after the greeting */
	const char *events;	/* events expected, see drain() */
	bool no_auth;		/* auth_enabled false (the mx role) */
	bool starttls;		/* plaintext with STARTTLS offered */
	bool required;		/* auth_required */
	uint64_t max_line_length;	/* 0: SMTP_LINE_MIN_BYTES */
	/* Answers to AUTH and AUTH_RESPONSE, in order. */
	struct smtp_result auth[MAX_AUTH_RESULTS];
	bool authenticated;	/* expected at the end */
	const char *protocol;	/* expected at the end */
};

/* The glue stub. */
struct run {
	const struct auth_case *c;
	struct smtp_session *s;
	struct buf out, events;
	size_t n_auth;
	bool stop, tls, closed;
};

static void
ev_printf(struct run *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	assert_int_equal(buf_vprintf(&r->events, fmt, ap), 0);
	va_end(ap);
}

/* Whether secret (4 bytes or more, so a match means something) is in m. */
static bool
holds(const uint8_t *m, size_t len, const char *secret)
{
	if (m == NULL || strlen(secret) < 4)
		return false;
	return memmem(m, len, secret, strlen(secret)) != NULL;
}

static void
check_input_wiped(struct run *r, const char *secret)
{
	const uint8_t *m;
	size_t len;

	m = smtp_session_test_input(r->s, &len);
	if (holds(m, len, secret))
		fail_msg("%s: \"%s\" left in the input", r->c->name, secret);
}

/* Answers an AUTH event from the case's list; checks the wiping. */
static void
auth_resume(struct run *r, const char *resp)
{
	char copy[SMTP_AUTH_LINE_MAX_BYTES + 1] = "";
	const uint8_t *m;
	size_t len;

	assert_true(smtp_session_is_waiting(r->s));
	if (resp != NULL) {
		check_input_wiped(r, resp);
		assert_true(strlen(resp) < sizeof(copy));
		memcpy(copy, resp, strlen(resp) + 1);
	}
	if (r->n_auth >= MAX_AUTH_RESULTS || r->c->auth[r->n_auth].code == 0)
		fail_msg("%s: unexpected AUTH event", r->c->name);
	smtp_session_resume(r->s, &r->out, &r->c->auth[r->n_auth++]);
	assert_false(smtp_session_is_waiting(r->s));
	m = smtp_session_test_line(r->s, &len);
	if (holds(m, len, copy))
		fail_msg("%s: \"%s\" left in the line", r->c->name, copy);
}

/* Prints a response, eliding long ones to their length. */
static void
ev_response(struct run *r, const char *resp)
{
	if (resp == NULL)
		ev_printf(r, "-");
	else if (strlen(resp) > 40)
		ev_printf(r, "[%zu]", strlen(resp));
	else
		ev_printf(r, "%s", resp);
}

static void
drain(struct run *r)
{
	struct smtp_result ok = { 0 };
	struct smtp_event_data d;

	for (;;) {
		enum smtp_event ev = smtp_session_next(r->s, &r->out, &d);

		switch (ev) {
		case SMTP_EV_NONE:
			return;
		case SMTP_EV_MAIL:
			ev_printf(r, "MAIL<%s> ", d.mail_from);
			smtp_session_resume(r->s, &r->out, &ok);
			break;
		case SMTP_EV_RCPT:
			ev_printf(r, "RCPT<%s> ", d.rcpt_to);
			smtp_session_resume(r->s, &r->out, &ok);
			break;
		case SMTP_EV_DATA_BEGIN:
		case SMTP_EV_DATA:
		case SMTP_EV_DATA_END:
		case SMTP_EV_DATA_ABORT:
			fail_msg("%s: content event", r->c->name);
			return;
		case SMTP_EV_AUTH:
			ev_printf(r, "AUTH<%s|", d.auth_mechanism);
			ev_response(r, d.auth_response);
			ev_printf(r, "> ");
			auth_resume(r, d.auth_response);
			break;
		case SMTP_EV_AUTH_RESPONSE:
			assert_non_null(d.auth_response);
			ev_printf(r, "RESP<");
			ev_response(r, d.auth_response);
			ev_printf(r, "> ");
			auth_resume(r, d.auth_response);
			break;
		case SMTP_EV_STARTTLS:
			ev_printf(r, "TLS ");
			r->stop = r->tls = true;
			return;
		case SMTP_EV_CLOSE:
			ev_printf(r, "CLOSE ");
			r->stop = r->closed = true;
			return;
		}
	}
}

/* Feeds p in pieces of at most step bytes (0: all), first piece split. */
static void
feed(struct run *r, const uint8_t *p, size_t len, size_t step, size_t split)
{
	while (len > 0 && !r->stop) {
		size_t want = len, n;

		if (split > 0 && split < want)
			want = split;
		else if (step > 0 && step < want)
			want = step;
		split = 0;
		while (want > 0 && !r->stop) {
			n = smtp_session_feed(r->s, p, want);
			drain(r);
			if (n == 0 && !r->stop)
				fail_msg("%s: no progress", r->c->name);
			p += n;
			len -= n;
			want -= n;
		}
	}
}

static void
run_case(const struct auth_case *c, size_t step, size_t split)
{
	struct smtp_session_params params = {
		.hostname = HOST,
		.role = SMTP_ROLE_SUBMISSION,
		.max_message_size = 1000,
		.max_recipients = 5,
		.max_line_length = c->max_line_length ? c->max_line_length :
		    SMTP_LINE_MIN_BYTES,
		.max_errors = 10,
		.tls_available = c->starttls,
		.tls_active = !c->starttls,
		.auth_enabled = !c->no_auth,
		.auth_required = c->required,
		.auth_mechanisms = "plain LOGIN",
	};
	struct run r = { .c = c };
	size_t len = c->input_len ? c->input_len : strlen(c->input);

	r.s = smtp_session_new(&params);
	buf_init(&r.out, 0, 0);
	buf_init(&r.events, 0, 0);
	smtp_session_start(r.s, &r.out);
	buf_reset(&r.out);
	feed(&r, (const uint8_t *)c->input, len, step, split);
	if (r.tls) {
		assert_non_null(c->after_tls);
		smtp_session_tls_started(r.s);
		r.stop = false;
		feed(&r, (const uint8_t *)c->after_tls, strlen(c->after_tls),
		    step, 0);
	}
	if (strcmp(buf_cstr(&r.out), c->out) != 0 ||
	    strcmp(buf_cstr(&r.events), c->events) != 0) {
		print_error("case %s (step %zu split %zu)\n got out: %s\n"
		    " got events: %s\n", c->name, step, split, buf_cstr(&r.out),
		    buf_cstr(&r.events));
	}
	assert_string_equal(buf_cstr(&r.out), c->out);
	assert_string_equal(buf_cstr(&r.events), c->events);
	if (smtp_session_is_authenticated(r.s) != c->authenticated)
		fail_msg("%s: authenticated is %d", c->name,
		    !c->authenticated);
	assert_string_equal(smtp_session_protocol(r.s),
	    c->protocol != NULL ? c->protocol : "ESMTPS");
	assert_int_equal(r.n_auth, 0 + (c->auth[0].code != 0) +
	    (c->auth[1].code != 0) + (c->auth[2].code != 0) +
	    (c->auth[3].code != 0));
	smtp_session_free(&r.s);
	buf_clear(&r.out);
	buf_clear(&r.events);
}

/* Whole, one byte at a time, and split in two at every offset. */
static void
run_three_ways(const struct auth_case *cases, size_t n)
{
	size_t i, k, len;

	for (i = 0; i < n; i++) {
		len = cases[i].input_len ? cases[i].input_len :
		    strlen(cases[i].input);
		run_case(&cases[i], 0, 0);
		run_case(&cases[i], 1, 0);
		for (k = 1; k < len; k++)
			run_case(&cases[i], 0, k);
	}
}

#define A235 { .code = 235 }
#define A535 { .code = 535, .enh = "5.7.8", \
	.text = "Authentication credentials invalid" }
#define R535 "535 5.7.8 Authentication credentials invalid\r\n"

static const struct auth_case exchange_cases[] = {
	{
		.name = "PLAIN with an initial response",
		.input = "EHLO c\r\nAUTH plain AGFsaWNlAHNlY3JldA==\r\n"
		    "MAIL FROM:<a@b>\r\n",
		.out = EHLO_AUTH R235 "250 2.1.0 Ok\r\n",
		.events = "AUTH<PLAIN|AGFsaWNlAHNlY3JldA==> MAIL<a@b> ",
		.required = true,
		.auth = { A235 },
		.authenticated = true,
		.protocol = "ESMTPSA",
	},
	{
		.name = "LOGIN in two steps",
		.input = "EHLO c\r\nAUTH LOGIN\r\nYWxpY2U=\r\nc2VjcmV0\r\n"
		    "NOOP\r\n",
		.out = EHLO_AUTH "334 VXNlcm5hbWU6\r\n334 UGFzc3dvcmQ6\r\n"
		    "235 2.7.0 welcome\r\n" OK,
		.events = "AUTH<LOGIN|-> RESP<YWxpY2U=> RESP<c2VjcmV0> ",
		.auth = {
			{ .code = 334, .text = "VXNlcm5hbWU6" },
			{ .code = 334, .text = "UGFzc3dvcmQ6" },
			{ .code = 235, .enh = "2.7.0", .text = "welcome" },
		},
		.authenticated = true,
		.protocol = "ESMTPSA",
	},
	{
		.name = "PLAIN without initial response: empty challenge",
		.input = "EHLO c\r\nAUTH PLAIN\r\nAGJvYgBodW50ZXIy\r\n",
		.out = EHLO_AUTH "334 \r\n" R235,
		.events = "AUTH<PLAIN|-> RESP<AGJvYgBodW50ZXIy> ",
		.auth = { { .code = 334 }, A235 },
		.authenticated = true,
		.protocol = "ESMTPSA",
	},
	{
		.name = "empty initial response \"=\" is passed as is",
		.input = "EHLO c\r\nAUTH PLAIN =\r\n",
		.out = EHLO_AUTH R535,
		.events = "AUTH<PLAIN|=> ",
		.auth = { A535 },
	},
	{
		.name = "failure: not authenticated, MAIL still refused",
		.input = "EHLO c\r\nAUTH PLAIN AGEAd3Jvbmdw\r\n"
		    "MAIL FROM:<a@b>\r\nNOOP\r\n",
		.out = EHLO_AUTH R535 R530 OK,
		.events = "AUTH<PLAIN|AGEAd3Jvbmdw> ",
		.required = true,
		.auth = { A535 },
	},
	{
		.name = "cancel: \"*\" is a response",
		.input = "EHLO c\r\nAUTH LOGIN\r\n*\r\nNOOP\r\n",
		.out = EHLO_AUTH "334 VXNlcm5hbWU6\r\n"
		    "501 5.0.0 Authentication cancelled\r\n" OK,
		.events = "AUTH<LOGIN|-> RESP<*> ",
		.auth = {
			{ .code = 334, .text = "VXNlcm5hbWU6" },
			{ .code = 501, .enh = "5.0.0",
			    .text = "Authentication cancelled" },
		},
	},
	{
		.name = "pipelined lines after AUTH are responses",
		.input = "EHLO c\r\nAUTH LOGIN\r\nNOOP\r\nQUIT\r\nRSET\r\n",
		.out = EHLO_AUTH "334 \r\n334 \r\n"
		    "454 4.7.0 Temporary authentication failure\r\n" OK,
		.events = "AUTH<LOGIN|-> RESP<NOOP> RESP<QUIT> ",
		.auth = {
			{ .code = 334 }, { .code = 334 },
			{ .code = 454, .enh = "4.7.0",
			    .text = "Temporary authentication failure" },
		},
	},
	{
		.name = "RSET and EHLO keep authentication",
		.input = "EHLO c\r\nAUTH PLAIN AGEAZmlyc3Q=\r\nRSET\r\n"
		    "EHLO c\r\nAUTH PLAIN AGEAc2Vjb25k\r\nMAIL FROM:<a@b>\r\n",
		.out = EHLO_AUTH R235 OK EHLO_AUTH
		    "503 5.5.1 Already authenticated\r\n250 2.1.0 Ok\r\n",
		.events = "AUTH<PLAIN|AGEAZmlyc3Q=> MAIL<a@b> ",
		.required = true,
		.auth = { A235 },
		.authenticated = true,
		.protocol = "ESMTPSA",
	},
	{
		.name = "bad characters in a response end the exchange",
		.input = BAD_RESP,
		.input_len = sizeof(BAD_RESP) - 1,
		.out = EHLO_AUTH "334 \r\n" R501_BAD "334 \r\n" R501_BAD OK,
		.events = "AUTH<LOGIN|-> AUTH<LOGIN|-> ",
		.auth = { { .code = 334 }, { .code = 334 } },
	},
};

static const struct auth_case refusal_cases[] = {
	{
		.name = "inside a transaction: 503",
		.input = "EHLO c\r\nMAIL FROM:<a@b>\r\nAUTH PLAIN AGEAYg==\r\n",
		.out = EHLO_AUTH "250 2.1.0 Ok\r\n"
		    "503 5.5.1 MAIL transaction in progress\r\n",
		.events = "MAIL<a@b> ",
	},
	{
		.name = "before EHLO and after HELO: 503",
		.input = "AUTH PLAIN AGEAYg==\r\nHELO c\r\nAUTH PLAIN\r\n",
		.out = "503 5.5.1 send EHLO first\r\n250 " HOST "\r\n"
		    "503 5.5.1 send EHLO first\r\n",
		.events = "",
		.protocol = "SMTP",
	},
	{
		.name = "unknown mechanism 504, bad syntax 501",
		.input = "EHLO c\r\nAUTH CRAM-MD5\r\nAUTH\r\nAUTH PLAIN a b\r\n"
		    "AUTH PLAIN a!b\r\nAUTH ABCDEFGHIJKLMNOPQRSTU\r\n"
		    "AUTH PL@IN\r\nAUTH PLAIN\r\n*\r\n",
		.out = EHLO_AUTH "504 5.5.4 Unrecognized authentication type\r\n"
		    AUTH_SYNTAX AUTH_SYNTAX AUTH_SYNTAX AUTH_SYNTAX
		    AUTH_SYNTAX "334 \r\n501 5.0.0 cancelled\r\n",
		.events = "AUTH<PLAIN|-> RESP<*> ",
		.auth = {
			{ .code = 334 },
			{ .code = 501, .enh = "5.0.0", .text = "cancelled" },
		},
	},
	{
		.name = "not advertised, 538 and 530 before TLS; offered after",
		.input = "EHLO c\r\nAUTH PLAIN AGEAYg==\r\nMAIL FROM:<a@b>\r\n"
		    "STARTTLS\r\n",
		.after_tls = "EHLO c\r\nAUTH PLAIN AGEAdGxzcGFzcw==\r\n"
		    "MAIL FROM:<a@b>\r\n",
		.out = EHLO_STARTTLS R538 R530
		    "220 2.0.0 Ready to start TLS\r\n" EHLO_AUTH R235
		    "250 2.1.0 Ok\r\n",
		.events = "TLS AUTH<PLAIN|AGEAdGxzcGFzcw==> MAIL<a@b> ",
		.starttls = true,
		.required = true,
		.auth = { A235 },
		.authenticated = true,
		.protocol = "ESMTPSA",
	},
	{
		.name = "AUTH disabled (mx): 502, even on TLS",
		.input = "EHLO c\r\nAUTH PLAIN AGEAbXhwYXNz\r\nMAIL FROM:<a@b>\r\n",
		.out = EHLO_NOAUTH "502 5.5.1 AUTH not supported\r\n"
		    "250 2.1.0 Ok\r\n",
		.events = "MAIL<a@b> ",
		.no_auth = true,
	},
};

static void
test_auth_exchanges(void **state)
{
	(void)state;
	run_three_ways(exchange_cases, N_ELEMENTS(exchange_cases));
}

static void
test_auth_refusals(void **state)
{
	(void)state;
	run_three_ways(refusal_cases, N_ELEMENTS(refusal_cases));
}

/* Appends n base64-looking bytes ("QUFB..."), unique per tag. */
static void
append_blob(struct buf *b, char tag, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		assert_int_equal(buf_append(b, i % 7 == 0 ? &tag : "Q", 1), 0);
}

/*
 * RFC 4954 4: AUTH lines of up to 12288 octets whatever
 * max_line_length says; beyond, 500 5.5.6 and the rest of the line is
 * skipped (and wiped).
 */
static void
test_auth_long_lines(void **state)
{
	struct buf in;
	struct auth_case c;

	(void)state;
	buf_init(&in, 0, 0);
	/*
	 * With max_line_length 1000: a 1500-octet NOOP is too long, a
	 * 5000-octet AUTH line is not, nor a 12288-octet response.
	 */
	assert_int_equal(buf_append_str(&in, "EHLO c\r\nNOOP "), 0);
	append_blob(&in, 'n', 1500);
	assert_int_equal(buf_append_str(&in, "\r\nAUTH PLAIN "), 0);
	append_blob(&in, 'a', 5000 - 11 - 2);
	assert_int_equal(buf_append_str(&in, "\r\nAUTH LOGIN\r\n"), 0);
	append_blob(&in, 'b', SMTP_AUTH_LINE_MAX_BYTES - 2);
	assert_int_equal(buf_append_str(&in, "\r\n"), 0);
	c = (struct auth_case){
		.name = "AUTH lines up to 12288 octets",
		.input = buf_cstr(&in),
		.out = EHLO_AUTH "500 5.5.2 line too long\r\n" R535
		    "334 \r\n" R235,
		.events = "AUTH<PLAIN|[4987]> AUTH<LOGIN|-> RESP<[12286]> ",
		.max_line_length = 1000,
		.auth = { A535, { .code = 334 }, A235 },
		.authenticated = true,
		.protocol = "ESMTPSA",
	};
	run_three_ways(&c, 1);

	/* One octet more, as command and as response: 500 5.5.6. */
	buf_reset(&in);
	assert_int_equal(buf_append_str(&in, "EHLO c\r\nAUTH PLAIN "), 0);
	append_blob(&in, 'c', SMTP_AUTH_LINE_MAX_BYTES - 11 - 2 + 1);
	assert_int_equal(buf_append_str(&in, "\r\nNOOP\r\nAUTH LOGIN\r\n"),
	    0);
	append_blob(&in, 'd', SMTP_AUTH_LINE_MAX_BYTES - 2 + 1);
	assert_int_equal(buf_append_str(&in, "\r\nNOOP\r\n"), 0);
	c = (struct auth_case){
		.name = "AUTH lines over 12288 octets",
		.input = buf_cstr(&in),
		.out = EHLO_AUTH R556 OK "334 \r\n" R556 OK,
		.events = "AUTH<LOGIN|-> ",
		.auth = { { .code = 334 } },
	};
	run_three_ways(&c, 1);

	/* With AUTH disabled an AUTH line gets no more room than others. */
	buf_reset(&in);
	assert_int_equal(buf_append_str(&in, "EHLO c\r\nAUTH PLAIN "), 0);
	append_blob(&in, 'e', 600);
	assert_int_equal(buf_append_str(&in, "\r\nNOOP\r\n"), 0);
	c = (struct auth_case){
		.name = "long AUTH line, AUTH disabled",
		.input = buf_cstr(&in),
		.out = EHLO_NOAUTH "500 5.5.2 line too long\r\n" OK,
		.events = "",
		.no_auth = true,
	};
	run_three_ways(&c, 1);
	buf_clear(&in);
}

static struct smtp_session *
new_session(bool auth)
{
	struct smtp_session_params params = {
		.hostname = HOST,
		.role = SMTP_ROLE_SUBMISSION,
		.max_message_size = 1000,
		.max_recipients = 5,
		.max_line_length = SMTP_LINE_MIN_BYTES,
		.max_errors = 3,
		.tls_active = true,
		.auth_enabled = auth,
	};

	return smtp_session_new(&params);
}

static enum smtp_event
feed_next(struct smtp_session *s, struct buf *out, const char *text,
    struct smtp_event_data *d)
{
	assert_int_equal(smtp_session_feed(s, (const uint8_t *)text,
	    strlen(text)), strlen(text));
	return smtp_session_next(s, out, d);
}

/*
 * The wipe checks see real memory: bytes of other commands stay until
 * the next feed, AUTH bytes (even of a refused AUTH) do not.
 */
static void
test_auth_wipe(void **state)
{
	struct smtp_session *s = new_session(false);
	struct smtp_event_data d;
	const uint8_t *m;
	struct buf out;
	size_t len;

	(void)state;
	buf_init(&out, 0, 0);
	assert_int_equal(feed_next(s, &out, "EHLO c\r\nNOOP zzvisiblezz\r\n"
	    "AUTH PLAIN zzhiddenzz\r\n", &d), SMTP_EV_NONE);
	m = smtp_session_test_input(s, &len);
	assert_true(holds(m, len, "zzvisiblezz"));
	assert_false(holds(m, len, "zzhiddenzz"));
	m = smtp_session_test_line(s, &len);
	assert_false(holds(m, len, "zzhiddenzz"));
	assert_string_equal(buf_cstr(&out), EHLO_NOAUTH OK
	    "502 5.5.1 AUTH not supported\r\n");
	/* A partial AUTH line moved down by the next feed leaves no copy. */
	assert_int_equal(feed_next(s, &out, "NOOP\r\nAUTH PLAIN zzpartial",
	    &d), SMTP_EV_NONE);
	assert_int_equal(feed_next(s, &out, "zz\r\n", &d), SMTP_EV_NONE);
	m = smtp_session_test_input(s, &len);
	assert_false(holds(m, len, "zzpartial"));
	/* A bad AUTH line is wiped too. */
	assert_int_equal(feed_next(s, &out, "AUTH zzbad\rzz\r\n", &d),
	    SMTP_EV_NONE);
	m = smtp_session_test_input(s, &len);
	assert_false(holds(m, len, "zzbad"));
	smtp_session_free(&s);
	buf_clear(&out);
}

/* Timeout mid-exchange; STARTTLS (tls_started) forgets authentication. */
static void
test_auth_timeout_tls_reset(void **state)
{
	struct smtp_session *s = new_session(true);
	struct smtp_result challenge = { .code = 334, .text = "" };
	struct smtp_result ok = { .code = 235 };
	struct smtp_result no = { .code = 535, .enh = "5.7.8", .text = "no" };
	struct smtp_event_data d;
	const uint8_t *m;
	struct buf out;
	size_t len;

	(void)state;
	buf_init(&out, 0, 0);
	assert_int_equal(feed_next(s, &out, "EHLO c\r\nAUTH LOGIN\r\n", &d),
	    SMTP_EV_AUTH);
	assert_true(smtp_session_is_waiting(s));
	assert_null(d.auth_response);
	assert_int_equal(smtp_session_next(s, &out, &d), SMTP_EV_NONE);
	smtp_session_resume(s, &out, &challenge);
	buf_reset(&out);
	smtp_session_timeout(s, &out);
	assert_string_equal(buf_cstr(&out),
	    "421 4.4.2 " HOST " Error: timeout exceeded\r\n");
	assert_int_equal(smtp_session_next(s, &out, &d), SMTP_EV_CLOSE);
	assert_false(smtp_session_is_authenticated(s));
	smtp_session_free(&s);

	/* A close while the glue decides wipes the line; resume is a no-op. */
	s = new_session(true);
	assert_int_equal(feed_next(s, &out, "EHLO c\r\nAUTH PLAIN zzheldzz\r\n",
	    &d), SMTP_EV_AUTH);
	assert_string_equal(d.auth_response, "zzheldzz");
	m = smtp_session_test_line(s, &len);
	assert_true(holds(m, len, "zzheldzz"));
	smtp_session_shutdown(s, &out);
	m = smtp_session_test_line(s, &len);
	assert_false(holds(m, len, "zzheldzz"));
	buf_reset(&out);
	smtp_session_resume(s, &out, &ok);
	assert_int_equal(out.len, 0);
	assert_false(smtp_session_is_authenticated(s));
	smtp_session_free(&s);

	/* Failed exchanges count as errors: the third ends the session. */
	s = new_session(true);
	buf_reset(&out);
	assert_int_equal(feed_next(s, &out, "EHLO c\r\nAUTH PLAIN AAAA\r\n"
	    "AUTH PLAIN BBBB\r\nAUTH PLAIN CCCC\r\nNOOP\r\n", &d),
	    SMTP_EV_AUTH);
	smtp_session_resume(s, &out, &no);
	assert_int_equal(smtp_session_next(s, &out, &d), SMTP_EV_AUTH);
	smtp_session_resume(s, &out, &no);
	assert_int_equal(smtp_session_next(s, &out, &d), SMTP_EV_AUTH);
	smtp_session_resume(s, &out, &no);
	assert_int_equal(smtp_session_next(s, &out, &d), SMTP_EV_CLOSE);
	assert_non_null(strstr(buf_cstr(&out), "535 5.7.8 no\r\n"
	    "421 4.7.0 " HOST " Error: too many errors\r\n"));
	smtp_session_free(&s);

	s = new_session(true);
	assert_int_equal(feed_next(s, &out, "EHLO c\r\nAUTH PLAIN AAAA\r\n",
	    &d), SMTP_EV_AUTH);
	smtp_session_resume(s, &out, &ok);
	assert_true(smtp_session_is_authenticated(s));
	smtp_session_tls_started(s);
	assert_false(smtp_session_is_authenticated(s));
	assert_string_equal(smtp_session_protocol(s), "ESMTPS");
	smtp_session_free(&s);
	buf_clear(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_auth_exchanges),
		cmocka_unit_test(test_auth_refusals),
		cmocka_unit_test(test_auth_long_lines),
		cmocka_unit_test(test_auth_wipe),
		cmocka_unit_test(test_auth_timeout_tls_reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
