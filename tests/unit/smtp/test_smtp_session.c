/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for smtp/smtp_session: every case is a script of client
 * bytes with the replies and the events expected, run three ways (whole,
 * one byte at a time, split at every offset) against a glue stub that
 * resumes each event as the case says.
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

#define HOST "mx.example"
#define EHLO_REPLY EHLO_REPLY_N("1000")
#define EHLO_REPLY_N(size)                                             \
	"250-" HOST "\r\n250-PIPELINING\r\n250-SIZE " size "\r\n"     \
	"250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n250-SMTPUTF8\r\n" \
	"250-CHUNKING\r\n250 BINARYMIME\r\n"
#define EHLO_REPLY_TLS                                                 \
	"250-" HOST "\r\n250-PIPELINING\r\n250-SIZE 1000\r\n"         \
	"250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n250-SMTPUTF8\r\n" \
	"250-CHUNKING\r\n250-BINARYMIME\r\n250 STARTTLS\r\n"
#define TXN "EHLO c\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\n"
#define TXN_OUT TXN_OUT_N("1000")
#define TXN_OUT_N(size) EHLO_REPLY_N(size) "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
#define TXN_EV "MAIL<a@b> RCPT<c@d> "
#define R354 "354 End data with <CR><LF>.<CR><LF>\r\n"
#define QUEUED "250 2.0.0 Ok: queued as Q1\r\n"
#define BARE "550 5.5.2 message contains bare CR or LF; " \
	"lines must end with CRLF\r\n"
#define BAD_BYTES "FOO\r\nNO\0OP\r\nNOOP\rX\r\n:\r\n"
#define NUL_DATA TXN "DATA\r\na\0b\r\n.\r\n"
#define TOO_BIG "552 5.3.4 message size exceeds fixed maximum message size\r\n"

struct session_case {
	const char *name;
	const char *input;
	size_t input_len;	/* 0: strlen(input) */
	const char *after_tls;	/* fed after the STARTTLS event */
	const char *out;	/* replies expected, after the greeting */
	const char *events;	/* events expected, see drain() */
	uint64_t max_recipients, max_errors, max_message_size;
	bool normalize, tls;
	struct smtp_result mail_r, rcpt_r, begin_r, end_r;
	bool eof;		/* report a disconnect at the end */
	uint64_t max_hold;	/* FUTURERELEASE, with test_clock() */
};

/* The glue stub. */
struct run {
	const struct session_case *c;
	struct smtp_session *s;
	struct buf out, events, content;
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

static void
resume(struct run *r, const struct smtp_result *res)
{
	struct smtp_result ok = { .queue_id = "Q1" };

	smtp_session_resume(r->s, &r->out, res->code != 0 ? res : &ok);
	assert_false(smtp_session_is_waiting(r->s));
}

static void
drain(struct run *r)
{
	struct smtp_event_data d;
	const struct envelope *env;

	for (;;) {
		enum smtp_event ev = smtp_session_next(r->s, &r->out, &d);

		switch (ev) {
		case SMTP_EV_NONE:
			return;
		case SMTP_EV_MAIL:
			ev_printf(r, "MAIL<%s> ", d.mail_from);
			if (smtp_session_envelope(r->s)->hold_until != 0)
				ev_printf(r, "HOLD@%lld ", (long long)
				    smtp_session_envelope(r->s)->hold_until);
			assert_true(smtp_session_is_waiting(r->s));
			resume(r, &r->c->mail_r);
			break;
		case SMTP_EV_RCPT:
			ev_printf(r, "RCPT<%s> ", d.rcpt_to);
			resume(r, &r->c->rcpt_r);
			break;
		case SMTP_EV_DATA_BEGIN:
			ev_printf(r, "BEGIN ");
			resume(r, &r->c->begin_r);
			break;
		case SMTP_EV_DATA:
			assert_true(d.len > 0);
			assert_int_equal(buf_append(&r->content, d.bytes, d.len),
			    0);
			break;
		case SMTP_EV_DATA_END:
			env = smtp_session_envelope(r->s);
			assert_true(env->n_rcpts > 0);
			ev_printf(r, "END{");
			for (size_t i = 0; i < r->content.len; i++)
				if (r->content.data[i] == 0)
					ev_printf(r, "\\0");
				else
					ev_printf(r, "%c", r->content.data[i]);
			ev_printf(r, "} ");
			buf_reset(&r->content);
			resume(r, &r->c->end_r);
			break;
		case SMTP_EV_DATA_ABORT:
			ev_printf(r, "ABORT ");
			buf_reset(&r->content);
			break;
		case SMTP_EV_STARTTLS:
			ev_printf(r, "TLS ");
			r->stop = r->tls = true;
			return;
		case SMTP_EV_CLOSE:
			ev_printf(r, "CLOSE ");
			r->stop = r->closed = true;
			return;
		case SMTP_EV_AUTH:
		case SMTP_EV_AUTH_RESPONSE:
			/* AUTH is disabled here (the mx role). */
			fail_msg("%s: AUTH event", r->c->name);
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

/* 2026-12-01T09:00:00Z */
#define CLOCK_NOW 1796115600

static time_t
test_clock(void)
{
	return CLOCK_NOW;
}

static void
run_case(const struct session_case *c, size_t step, size_t split)
{
	struct smtp_session_params params = {
		.hostname = HOST,
		.role = SMTP_ROLE_MX,
		.max_message_size = c->max_message_size ? c->max_message_size
		    : 1000,
		.max_recipients = c->max_recipients ? c->max_recipients : 5,
		.max_line_length = SMTP_LINE_MIN_BYTES,
		.max_errors = c->max_errors ? c->max_errors : 5,
		.bare_newline = c->normalize ? SMTP_BARE_NEWLINE_NORMALIZE :
		    SMTP_BARE_NEWLINE_REJECT,
		.tls_available = c->tls,
		.max_hold = c->max_hold,
		.clock = c->max_hold ? test_clock : NULL,
	};
	struct run r = { .c = c };
	size_t len = c->input_len ? c->input_len : strlen(c->input);
	enum smtp_event ev;

	r.s = smtp_session_new(&params);
	buf_init(&r.out, 0, 0);
	buf_init(&r.events, 0, 0);
	buf_init(&r.content, 0, 0);
	smtp_session_start(r.s, &r.out);
	assert_string_equal(buf_cstr(&r.out), "220 " HOST " ESMTP tern\r\n");
	buf_reset(&r.out);
	feed(&r, (const uint8_t *)c->input, len, step, split);
	if (r.tls) {
		assert_non_null(c->after_tls);
		smtp_session_tls_started(r.s);
		assert_string_equal(smtp_session_protocol(r.s), "ESMTPS");
		r.stop = false;
		feed(&r, (const uint8_t *)c->after_tls, strlen(c->after_tls),
		    step, 0);
	}
	if (c->eof && !r.closed) {
		ev = smtp_session_eof(r.s);
		ev_printf(&r, "EOF:%s ", ev == SMTP_EV_DATA_ABORT ? "ABORT" :
		    ev == SMTP_EV_CLOSE ? "CLOSE" : "?");
	}
	if (strcmp(buf_cstr(&r.out), c->out) != 0 ||
	    strcmp(buf_cstr(&r.events), c->events) != 0) {
		print_error("case %s (step %zu split %zu)\n got out: %s\n"
		    " got events: %s\n", c->name, step, split, buf_cstr(&r.out),
		    buf_cstr(&r.events));
	}
	assert_string_equal(buf_cstr(&r.out), c->out);
	assert_string_equal(buf_cstr(&r.events), c->events);
	smtp_session_free(&r.s);
	assert_null(r.s);
	buf_clear(&r.out);
	buf_clear(&r.events);
	buf_clear(&r.content);
}

/* Whole, one byte at a time, and split in two at every offset. */
static void
run_three_ways(const struct session_case *cases, size_t n)
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

static const struct session_case transaction_cases[] = {
	{
		.name = "full transaction, pipelined",
		.input = TXN "DATA\r\nhello\r\n..dot\r\n.\r\nQUIT\r\n",
		.out = TXN_OUT R354 QUEUED "221 2.0.0 Bye\r\n",
		.events = TXN_EV "BEGIN END{hello\r\n.dot\r\n} CLOSE ",
	},
	{
		.name = "two transactions, lower case verbs",
		.input = "ehlo c\r\nmail from:<a@b>\r\nrcpt to:<c@d>\r\ndata\r\n"
		    "x\r\n.\r\nmail FROM:<>\r\nRCPT TO:<Postmaster>\r\n"
		    "DATA\r\n.\r\n",
		.out = TXN_OUT R354 QUEUED "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
		    R354 QUEUED,
		.events = TXN_EV "BEGIN END{x\r\n} MAIL<> RCPT<Postmaster> "
		    "BEGIN END{} ",
	},
	{
		.name = "HELO: plain replies, no parameters",
		.input = "HELO c\r\nMAIL FROM:<a@b> SIZE=10\r\n"
		    "MAIL FROM:<a@b>\r\n",
		.out = "250 " HOST "\r\n555 5.5.4 parameters need EHLO\r\n"
		    "250 2.1.0 Ok\r\n",
		.events = "MAIL<a@b> ",
	},
	{
		.name = "bare LF ends a command line",
		.input = "NOOP\nNOOP\r\nRSET\n",
		.out = "250 2.0.0 Ok\r\n250 2.0.0 Ok\r\n250 2.0.0 Ok\r\n",
		.events = "",
	},
	{
		.name = "RSET mid-transaction",
		.input = TXN "RSET\r\nRCPT TO:<c@d>\r\nDATA\r\n",
		.out = TXN_OUT "250 2.0.0 Ok\r\n"
		    "503 5.5.1 need MAIL command\r\n"
		    "503 5.5.1 need MAIL command\r\n",
		.events = TXN_EV,
	},
	{
		.name = "QUIT drops what follows",
		.input = "QUIT\r\nNOOP\r\n",
		.out = "221 2.0.0 Bye\r\n",
		.events = "CLOSE ",
	},
	{
		.name = "VRFY EXPN HELP AUTH NOOP",
		.input = "VRFY a\r\nVRFY\r\nEXPN a\r\nHELP\r\nEHLO c\r\n"
		    "AUTH PLAIN\r\nNOOP x\r\n",
		.out = "252 2.5.0 cannot VRFY user, but will accept message "
		    "and attempt delivery\r\n"
		    "501 5.5.4 syntax: VRFY address\r\n"
		    "502 5.5.1 EXPN not supported\r\n"
		    "214 2.0.0 tern ESMTP; see RFC 5321\r\n" EHLO_REPLY
		    "502 5.5.1 AUTH not supported\r\n250 2.0.0 Ok\r\n",
		.events = "",
	},
	{
		.name = "SMTPUTF8",
		.input = "EHLO c\r\nMAIL FROM:<\xc3\xbc@b>\r\n"
		    "MAIL FROM:<a@b>\r\nRCPT TO:<\xc3\xbc@d>\r\nRSET\r\n"
		    "MAIL FROM:<\xc3\xbc@b> SMTPUTF8\r\n"
		    "RCPT TO:<d@\xc3\xbc.example>\r\n",
		.out = EHLO_REPLY
		    "553 5.6.7 non-ASCII address needs SMTPUTF8\r\n"
		    "250 2.1.0 Ok\r\n"
		    "553 5.6.7 non-ASCII address needs SMTPUTF8\r\n"
		    "250 2.0.0 Ok\r\n250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n",
		.events = "MAIL<a@b> MAIL<\xc3\xbc@b> "
		    "RCPT<d@\xc3\xbc.example> ",
	},
	{
		.name = "EOF outside content",
		.input = TXN,
		.out = TXN_OUT,
		.events = TXN_EV "EOF:CLOSE ",
		.eof = true,
	},
	{
		.name = "EOF inside DATA",
		.input = TXN "DATA\r\nabc\r\n",
		.out = TXN_OUT R354,
		.events = TXN_EV "BEGIN EOF:ABORT ",
		.eof = true,
	},
};

static const struct session_case refusal_cases[] = {
	{
		.name = "MAIL refused",
		.input = "EHLO c\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\n",
		.out = EHLO_REPLY "550 5.7.1 no\r\n"
		    "503 5.5.1 need MAIL command\r\n",
		.events = "MAIL<a@b> ",
		.mail_r = { .code = 550, .enh = "5.7.1", .text = "no" },
	},
	{
		.name = "RCPT refused, then DATA has no valid recipients",
		.input = TXN "DATA\r\n",
		.out = EHLO_REPLY "250 2.1.0 Ok\r\n"
		    "550 5.1.1 unknown user\r\n"
		    "554 5.5.1 no valid recipients\r\n",
		.events = TXN_EV,
		.rcpt_r = { .code = 550, .enh = "5.1.1",
		    .text = "unknown user" },
	},
	{
		.name = "DATA refused at begin: transaction stays",
		.input = TXN "DATA\r\nRCPT TO:<e@f>\r\n",
		.out = TXN_OUT "451 4.3.0 try later\r\n250 2.1.5 Ok\r\n",
		.events = TXN_EV "BEGIN RCPT<e@f> ",
		.begin_r = { .code = 451, .enh = "4.3.0",
		    .text = "try later" },
	},
	{
		.name = "DATA_END refused: transaction ends",
		.input = TXN "DATA\r\nx\r\n.\r\nRCPT TO:<c@d>\r\n",
		.out = TXN_OUT R354 "554 5.7.1 spam\r\n"
		    "503 5.5.1 need MAIL command\r\n",
		.events = TXN_EV "BEGIN END{x\r\n} ",
		.end_r = { .code = 554, .enh = "5.7.1", .text = "spam" },
	},
	{
		.name = "refusal with a bad enhanced code gets a default",
		.input = TXN "DATA\r\n",
		.out = TXN_OUT "451 4.0.0 multi\r\n",
		.events = TXN_EV "BEGIN ",
		.begin_r = { .code = 451, .enh = "5.1", .text = "multi" },
	},
	{
		.name = "multi-line refusal, no reply injection",
		.input = TXN "DATA\r\n",
		.out = TXN_OUT "451-4.3.0 one\r\n451 4.3.0 two?x\r\n",
		.events = TXN_EV "BEGIN ",
		.begin_r = { .code = 451, .enh = "4.3.0",
		    .text = "one\ntwo\rx" },
	},
};

static const struct session_case error_cases[] = {
	{
		.name = "MAIL before EHLO",
		.input = "MAIL FROM:<a@b>\r\nRCPT TO:<a@b>\r\nDATA\r\n",
		.out = "503 5.5.1 send EHLO first\r\n"
		    "503 5.5.1 send EHLO first\r\n"
		    "503 5.5.1 send EHLO first\r\n",
		.events = "",
	},
	{
		.name = "sequence errors",
		.input = "EHLO c\r\nRCPT TO:<c@d>\r\nDATA\r\n"
		    "MAIL FROM:<a@b>\r\nMAIL FROM:<a@b>\r\nDATA\r\n",
		.out = EHLO_REPLY "503 5.5.1 need MAIL command\r\n"
		    "503 5.5.1 need MAIL command\r\n250 2.1.0 Ok\r\n"
		    "503 5.5.1 MAIL transaction in progress\r\n"
		    "503 5.5.1 need RCPT command\r\n",
		.events = "MAIL<a@b> ",
		.max_errors = 10,
	},
	{
		.name = "syntax errors",
		.input = "EHLO\r\nEHLO a b\r\nEHLO c\r\nMAIL TO:<a@b>\r\n"
		    "MAIL FROM:a@b\r\nMAIL FROM:<a@b> FOO=1\r\n"
		    "MAIL FROM:<a@b> SIZE=x\r\nRSET x\r\nDATA x\r\n"
		    "BDAT x\r\n",
		.out = "501 5.5.4 syntax: EHLO hostname\r\n"
		    "501 5.5.4 syntax: EHLO hostname\r\n" EHLO_REPLY
		    "501 5.5.2 syntax: MAIL FROM:<address>\r\n"
		    "501 5.1.7 address must be enclosed in <>\r\n"
		    "555 5.5.4 unsupported parameter\r\n"
		    "501 5.5.4 bad SIZE parameter\r\n"
		    "501 5.5.4 no arguments allowed\r\n"
		    "501 5.5.4 no arguments allowed\r\n"
		    "501 5.5.4 syntax: BDAT chunk-size [LAST]\r\n",
		.events = "",
		.max_errors = 20,
	},
	{
		.name = "unknown verb, NUL, bare CR",
		.input = BAD_BYTES,
		.input_len = sizeof(BAD_BYTES) - 1,
		.out = "500 5.5.1 unknown command\r\n"
		    "500 5.5.2 NUL byte in command line\r\n"
		    "500 5.5.2 bare CR in command line; "
		    "lines must end with CRLF\r\n"
		    "500 5.5.1 unknown command\r\n",
		.events = "",
	},
	{
		.name = "too many errors: 421 and close",
		.input = "FOO\r\nNOOP\r\nBAR\r\nBAZ\r\nNOOP\r\n",
		.out = "500 5.5.1 unknown command\r\n250 2.0.0 Ok\r\n"
		    "500 5.5.1 unknown command\r\n"
		    "500 5.5.1 unknown command\r\n"
		    "421 4.7.0 " HOST " Error: too many errors\r\n",
		.events = "CLOSE ",
		.max_errors = 3,
	},
	{
		.name = "too many errors between BDAT chunks aborts",
		.input = TXN "BDAT 1\r\nxFOO\r\nBAR\r\n",
		.out = TXN_OUT "250 2.0.0 1 octets received\r\n"
		    "500 5.5.1 unknown command\r\n"
		    "500 5.5.1 unknown command\r\n"
		    "421 4.7.0 " HOST " Error: too many errors\r\n",
		.events = TXN_EV "BEGIN ABORT CLOSE ",
		.max_errors = 2,
	},
	{
		.name = "MAIL AUTH= parameter: xtext checked, value ignored",
		.input = "EHLO c\r\nMAIL FROM:<a@b> AUTH=<>\r\nRSET\r\n"
		    "MAIL FROM:<a@b> auth=e+2Bf@g.example SIZE=5\r\nRSET\r\n"
		    "MAIL FROM:<a@b> AUTH=\r\nMAIL FROM:<a@b> AUTH=a+2b\r\n"
		    "MAIL FROM:<a@b> AUTH=a+4\r\n"
		    "MAIL FROM:<a@b> AUTH=<> AUTH=<>\r\n"
		    "RCPT TO:<c@d> AUTH=<>\r\n",
		.out = EHLO_REPLY "250 2.1.0 Ok\r\n250 2.0.0 Ok\r\n"
		    "250 2.1.0 Ok\r\n250 2.0.0 Ok\r\n"
		    "501 5.5.4 bad parameter syntax\r\n"
		    "501 5.5.4 bad AUTH parameter\r\n"
		    "501 5.5.4 bad AUTH parameter\r\n"
		    "501 5.5.4 bad AUTH parameter\r\n"
		    "503 5.5.1 need MAIL command\r\n",
		.events = "MAIL<a@b> MAIL<a@b> ",
		.max_errors = 10,
	},
	{
		.name = "SIZE over the limit at MAIL",
		.input = "EHLO c\r\nMAIL FROM:<a@b> SIZE=1001\r\n"
		    "MAIL FROM:<a@b> SIZE=1000 BODY=8BITMIME\r\n",
		.out = EHLO_REPLY TOO_BIG "250 2.1.0 Ok\r\n",
		.events = "MAIL<a@b> ",
	},
	{
		.name = "recipient limit",
		.input = "EHLO c\r\nMAIL FROM:<a@b>\r\nRCPT TO:<1@d>\r\n"
		    "RCPT TO:<2@d>\r\nRCPT TO:<3@d>\r\nDATA\r\n.\r\n",
		.out = EHLO_REPLY "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
		    "250 2.1.5 Ok\r\n452 4.5.3 too many recipients\r\n"
		    R354 QUEUED,
		.events = "MAIL<a@b> RCPT<1@d> RCPT<2@d> BEGIN END{} ",
		.max_recipients = 2,
	},
	{
		.name = "STARTTLS not offered, with arguments, before EHLO",
		.input = "STARTTLS\r\nEHLO c\r\nSTARTTLS x\r\nSTARTTLS\r\n"
		    "NOOP\r\n",
		.out = "503 5.5.1 send EHLO first\r\n" EHLO_REPLY
		    "501 5.5.4 no arguments allowed\r\n"
		    "502 5.5.1 STARTTLS not available\r\n250 2.0.0 Ok\r\n",
		.events = "",
	},
	{
		.name = "BINARYMIME needs BDAT",
		.input = "EHLO c\r\nMAIL FROM:<a@b> BODY=BINARYMIME\r\n"
		    "RCPT TO:<c@d>\r\nDATA\r\n",
		.out = TXN_OUT "503 5.5.1 DATA not allowed; use BDAT\r\n",
		.events = TXN_EV,
	},
};

static const struct session_case line_cases[] = {
	{
		.name = "line too long is discarded to its end",
		.input = "NOOP "
		    "0123456789012345678901234567890123456789012345678901234567"
		    "0123456789012345678901234567890123456789012345678901234567"
		    "0123456789012345678901234567890123456789012345678901234567"
		    "0123456789012345678901234567890123456789012345678901234567"
		    "0123456789012345678901234567890123456789012345678901234567"
		    "0123456789012345678901234567890123456789012345678901234567"
		    "0123456789012345678901234567890123456789012345678901234567"
		    "0123456789012345678901234567890123456789012345678901234567"
		    "0123456789012345678901234567890123456789012345678901234567"
		    "0123456789012345678901234567890123456789012345678901234567"
		    "\r\nNOOP\r\n",
		.out = "500 5.5.2 line too long\r\n250 2.0.0 Ok\r\n",
		.events = "",
	},
};

static const struct session_case tls_cases[] = {
	{
		.name = "STARTTLS drops pipelined plaintext",
		.input = "EHLO c\r\nSTARTTLS\r\nMAIL FROM:<evil@x>\r\n",
		.after_tls = "MAIL FROM:<a@b>\r\nEHLO c\r\nSTARTTLS\r\n",
		.out = EHLO_REPLY_TLS "220 2.0.0 Ready to start TLS\r\n"
		    "503 5.5.1 send EHLO first\r\n" EHLO_REPLY
		    "503 5.5.1 already using TLS\r\n",
		.events = "TLS ",
		.tls = true,
	},
	{
		.name = "STARTTLS refused inside a transaction",
		.input = "EHLO c\r\nMAIL FROM:<a@b>\r\nSTARTTLS\r\nNOOP\r\n",
		.out = EHLO_REPLY_TLS "250 2.1.0 Ok\r\n"
		    "503 5.5.1 MAIL transaction in progress\r\n"
		    "250 2.0.0 Ok\r\n",
		.events = "MAIL<a@b> ",
		.tls = true,
	},
};

#define EHLO_REPLY_HOLD                                                \
	"250-" HOST "\r\n250-PIPELINING\r\n250-SIZE 1000\r\n"         \
	"250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n250-SMTPUTF8\r\n" \
	"250-CHUNKING\r\n250-BINARYMIME\r\n"                           \
	"250 FUTURERELEASE 3600 2026-12-01T10:00:00Z\r\n"
#define HOLD_501 "501 5.5.4 hold time exceeds the maximum FUTURERELEASE " \
	"interval\r\n"

/* FUTURERELEASE (RFC 4865): advertised, the limit, the release time. */
static const struct session_case hold_cases[] = {
	{
		.name = "FUTURERELEASE advertised, HOLDFOR within the limit",
		.input = "EHLO c\r\nMAIL FROM:<a@b> HOLDFOR=3600\r\nRSET\r\n"
		    "MAIL FROM:<a@b>\r\n",
		.out = EHLO_REPLY_HOLD "250 2.1.0 Ok\r\n250 2.0.0 Ok\r\n"
		    "250 2.1.0 Ok\r\n",
		.events = "MAIL<a@b> HOLD@1796119200 MAIL<a@b> ",
		.max_hold = 3600,
	},
	{
		.name = "HOLDFOR and HOLDUNTIL beyond the limit: 501",
		.input = "EHLO c\r\nMAIL FROM:<a@b> HOLDFOR=3601\r\n"
		    "MAIL FROM:<a@b> HOLDUNTIL=2026-12-01T10:00:01Z\r\n"
		    "MAIL FROM:<a@b> HOLDUNTIL=2026-12-01T10:00:00Z\r\n",
		.out = EHLO_REPLY_HOLD HOLD_501 HOLD_501 "250 2.1.0 Ok\r\n",
		.events = "MAIL<a@b> HOLD@1796119200 ",
		.max_hold = 3600,
	},
	{
		.name = "a HOLDUNTIL in the past means now",
		.input = "EHLO c\r\nMAIL FROM:<a@b> HOLDUNTIL=2020-01-01T00:00:00Z"
		    "\r\n",
		.out = EHLO_REPLY_HOLD "250 2.1.0 Ok\r\n",
		.events = "MAIL<a@b> ",
		.max_hold = 3600,
	},
	{
		.name = "not offered: no keyword, the parameters get 555",
		.input = "EHLO c\r\nMAIL FROM:<a@b> HOLDFOR=10\r\n",
		.out = EHLO_REPLY "555 5.5.4 FUTURERELEASE is not offered here\r\n",
		.events = "",
	},
};

static const struct session_case data_cases[] = {
	{
		.name = "bare LF rejected after the end",
		.input = TXN "DATA\r\na\nb\r\n.\r\nNOOP\r\n",
		.out = TXN_OUT R354 BARE "250 2.0.0 Ok\r\n",
		.events = TXN_EV "BEGIN ABORT ",
	},
	{
		.name = "bare LF normalized",
		.input = TXN "DATA\r\na\nb\rc\r\n.\r\n",
		.out = TXN_OUT R354 QUEUED,
		.events = TXN_EV "BEGIN END{a\r\nb\r\nc\r\n} ",
		.normalize = true,
	},
	{
		.name = "smuggled end of data is content",
		.input = TXN "DATA\r\na\n.\nMAIL FROM:<x@y>\r\n"
		    "b\r\n.\nc\r.\rd\n.\r\ne\r\n.\r\n",
		.out = TXN_OUT R354 QUEUED,
		.events = TXN_EV "BEGIN END{a\r\n\r\nMAIL FROM:<x@y>\r\n"
		    "b\r\n\r\nc\r\n\r\nd\r\n\r\ne\r\n} ",
		.normalize = true,
	},
	{
		.name = "too big: consumed to the end, then 552",
		.input = TXN "DATA\r\n"
		    "0123456789012345678901234567890123456789\r\n.\r\n"
		    "NOOP\r\n",
		.out = TXN_OUT_N("20") R354 TOO_BIG "250 2.0.0 Ok\r\n",
		.events = TXN_EV "BEGIN ABORT ",
		.max_message_size = 20,
	},
	{
		.name = "NUL is content",
		.input = NUL_DATA,
		.input_len = sizeof(NUL_DATA) - 1,
		.out = TXN_OUT R354 QUEUED,
		.events = TXN_EV "BEGIN END{a\\0b\r\n} ",
	},
};

static const struct session_case bdat_cases[] = {
	{
		.name = "BDAT chunks",
		.input = TXN "BDAT 5\r\nab\r\ncBDAT 4 LAST\r\n.d\r\nNOOP\r\n",
		.out = TXN_OUT "250 2.0.0 5 octets received\r\n" QUEUED
		    "250 2.0.0 Ok\r\n",
		.events = TXN_EV "BEGIN END{ab\r\nc.d\r\n} ",
	},
	{
		.name = "BDAT 0 LAST",
		.input = TXN "BDAT 0 LAST\r\n",
		.out = TXN_OUT QUEUED,
		.events = TXN_EV "BEGIN END{} ",
	},
	{
		.name = "DATA after BDAT, RCPT after BDAT",
		.input = TXN "BDAT 2\r\nabDATA\r\nRCPT TO:<e@f>\r\n"
		    "BDAT 1 last\r\nc",
		.out = TXN_OUT "250 2.0.0 2 octets received\r\n"
		    "503 5.5.1 DATA not allowed; use BDAT\r\n"
		    "503 5.5.1 RCPT not allowed after BDAT\r\n" QUEUED,
		.events = TXN_EV "BEGIN END{abc} ",
	},
	{
		.name = "BDAT without RCPT: chunk read and dropped",
		.input = "EHLO c\r\nMAIL FROM:<a@b>\r\nBDAT 6\r\nRSET\r\n"
		    "NOOP\r\nBDAT 0\r\n",
		.out = EHLO_REPLY "250 2.1.0 Ok\r\n"
		    "503 5.5.1 need RCPT command\r\n250 2.0.0 Ok\r\n"
		    "503 5.5.1 need RCPT command\r\n",
		.events = "MAIL<a@b> ",
	},
	{
		.name = "BDAT before EHLO and MAIL",
		.input = "BDAT 4\r\nQUITEHLO c\r\nBDAT 4 LAST\r\nQUITNOOP\r\n",
		.out = "503 5.5.1 send EHLO first\r\n" EHLO_REPLY
		    "503 5.5.1 need MAIL command\r\n250 2.0.0 Ok\r\n",
		.events = "",
	},
	{
		.name = "RSET between chunks aborts",
		.input = TXN "BDAT 2\r\nabRSET\r\nRCPT TO:<c@d>\r\n",
		.out = TXN_OUT "250 2.0.0 2 octets received\r\n"
		    "250 2.0.0 Ok\r\n503 5.5.1 need MAIL command\r\n",
		.events = TXN_EV "BEGIN ABORT ",
	},
	{
		.name = "first BDAT refused: reply after the chunk",
		.input = TXN "BDAT 3\r\nabcNOOP\r\nRCPT TO:<c@d>\r\n",
		.out = TXN_OUT "451 4.3.0 no spool\r\n250 2.0.0 Ok\r\n"
		    "503 5.5.1 need MAIL command\r\n",
		.events = TXN_EV "BEGIN ",
		.begin_r = { .code = 451, .enh = "4.3.0", .text = "no spool" },
	},
	{
		.name = "BDAT too big fails at the chunk",
		.input = TXN "BDAT 10\r\n0123456789BDAT 1 LAST\r\nx",
		.out = TXN_OUT_N("5") TOO_BIG "503 5.5.1 need MAIL command\r\n",
		.events = TXN_EV "BEGIN ABORT ",
		.max_message_size = 5,
	},
	{
		.name = "BDAT bare CR at the end of the last chunk",
		.input = TXN "BDAT 2\r\na\rBDAT 1 LAST\r\n\n"
		    "MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nBDAT 2 LAST\r\nb\r",
		.out = TXN_OUT "250 2.0.0 2 octets received\r\n" QUEUED
		    "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n" BARE,
		.events = TXN_EV "BEGIN END{a\r\n} " TXN_EV "BEGIN ABORT ",
	},
	{
		.name = "BDAT trailing bare CR normalized at LAST",
		.input = TXN "BDAT 2 LAST\r\na\r",
		.out = TXN_OUT QUEUED,
		.events = TXN_EV "BEGIN END{a\r\n} ",
		.normalize = true,
	},
	{
		.name = "BDAT with every RCPT refused",
		.input = TXN "BDAT 3 LAST\r\nabcNOOP\r\n",
		.out = EHLO_REPLY "250 2.1.0 Ok\r\n550 5.1.1 no\r\n"
		    "554 5.5.1 no valid recipients\r\n250 2.0.0 Ok\r\n",
		.events = TXN_EV,
		.rcpt_r = { .code = 550, .enh = "5.1.1", .text = "no" },
	},
	{
		.name = "BDAT BINARYMIME keeps bare LF",
		.input = "EHLO c\r\nMAIL FROM:<a@b> BODY=BINARYMIME\r\n"
		    "RCPT TO:<c@d>\r\nBDAT 3 LAST\r\na\nb",
		.out = TXN_OUT QUEUED,
		.events = TXN_EV "BEGIN END{a\nb} ",
	},
	{
		.name = "QUIT between chunks",
		.input = TXN "BDAT 1\r\naQUIT\r\n",
		.out = TXN_OUT "250 2.0.0 1 octets received\r\n"
		    "221 2.0.0 Bye\r\n",
		.events = TXN_EV "BEGIN ABORT CLOSE ",
	},
};

static void
test_session_transactions(void **state)
{
	(void)state;
	run_three_ways(transaction_cases, N_ELEMENTS(transaction_cases));
}

static void
test_session_refusals(void **state)
{
	(void)state;
	run_three_ways(refusal_cases, N_ELEMENTS(refusal_cases));
}

static void
test_session_errors(void **state)
{
	(void)state;
	run_three_ways(error_cases, N_ELEMENTS(error_cases));
	run_three_ways(line_cases, N_ELEMENTS(line_cases));
}

static void
test_session_tls(void **state)
{
	(void)state;
	run_three_ways(tls_cases, N_ELEMENTS(tls_cases));
}

static void
test_session_hold(void **state)
{
	(void)state;
	run_three_ways(hold_cases, N_ELEMENTS(hold_cases));
}

static void
test_session_data(void **state)
{
	(void)state;
	run_three_ways(data_cases, N_ELEMENTS(data_cases));
}

static void
test_session_bdat(void **state)
{
	(void)state;
	run_three_ways(bdat_cases, N_ELEMENTS(bdat_cases));
}

static struct smtp_session *
new_session(uint64_t max_recipients, bool tls_active)
{
	struct smtp_session_params params = {
		.hostname = HOST,
		.max_message_size = 1000,
		.max_recipients = max_recipients,
		.max_line_length = SMTP_LINE_MIN_BYTES,
		.max_errors = 5,
		.tls_active = tls_active,
	};

	return smtp_session_new(&params);
}

/* Feeds text and resumes every event with accept; returns the events. */
static unsigned
pump(struct smtp_session *s, struct buf *out, const char *text)
{
	struct smtp_result ok = { .queue_id = "Q9" };
	struct smtp_event_data d;
	size_t len = strlen(text), n;
	unsigned events = 0;
	enum smtp_event ev;

	while (len > 0) {
		n = smtp_session_feed(s, (const uint8_t *)text, len);
		text += n;
		len -= n;
		while ((ev = smtp_session_next(s, out, &d)) != SMTP_EV_NONE) {
			events++;
			if (ev == SMTP_EV_MAIL || ev == SMTP_EV_RCPT ||
			    ev == SMTP_EV_DATA_BEGIN || ev == SMTP_EV_DATA_END)
				smtp_session_resume(s, out, &ok);
		}
		assert_true(n > 0 || len == 0);
	}
	return events;
}

static size_t
count(const char *hay, const char *needle)
{
	size_t n = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay++;
	}
	return n;
}

/* 10,000 RCPTs: 452 beyond the limit, memory stays bounded. */
static void
test_session_many_rcpts(void **state)
{
	struct smtp_session *s = new_session(100, false);
	struct buf in, out;
	unsigned i;

	(void)state;
	buf_init(&in, 0, 0);
	buf_init(&out, 0, 0);
	assert_int_equal(buf_append_str(&in,
	    "EHLO c\r\nMAIL FROM:<a@b>\r\n"), 0);
	for (i = 0; i < 10000; i++)
		assert_int_equal(buf_printf(&in, "RCPT TO:<u%u@d>\r\n", i), 0);
	assert_int_equal(pump(s, &out, buf_cstr(&in)), 1 + 100);
	assert_int_equal(smtp_session_envelope(s)->n_rcpts, 100);
	assert_int_equal(count(buf_cstr(&out), "250 2.1.5 Ok\r\n"), 100);
	assert_int_equal(count(buf_cstr(&out),
	    "452 4.5.3 too many recipients\r\n"), 9900);
	buf_reset(&out);
	assert_int_equal(pump(s, &out, "DATA\r\nx\r\n.\r\n"), 3);
	assert_string_equal(buf_cstr(&out), R354
	    "250 2.0.0 Ok: queued as Q9\r\n");
	smtp_session_free(&s);
	buf_clear(&in);
	buf_clear(&out);
}

/* Input is taken only up to the bound; DATA content streams through. */
static void
test_session_bounded_input(void **state)
{
	struct smtp_session *s = new_session(5, false);
	struct smtp_event_data d;
	struct buf out;
	uint8_t *big;
	size_t n, total = 0, taken = 0, size = 4 * SMTP_SESSION_INPUT_MAX_BYTES;
	enum smtp_event ev;
	struct smtp_result ok = { 0 };

	(void)state;
	buf_init(&out, 0, 0);
	big = calloc(1, size);
	assert_non_null(big);
	memset(big, 'x', size);
	/* No command line end: taken up to the bound, never beyond. */
	n = smtp_session_feed(s, big, size);
	assert_true(n <= SMTP_LINE_MIN_BYTES + SMTP_SESSION_INPUT_MAX_BYTES);
	assert_true(n > 0);
	smtp_session_free(&s);

	s = new_session(5, false);
	pump(s, &out, "EHLO c\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\n"
	    "DATA\r\n");
	assert_true(smtp_session_in_data(s));
	/* 256 KiB of content, max 1000: consumed, not buffered. */
	while (taken < size) {
		n = smtp_session_feed(s, big + taken, size - taken);
		taken += n;
		while ((ev = smtp_session_next(s, &out, &d)) != SMTP_EV_NONE) {
			assert_int_equal(ev, SMTP_EV_DATA);
			total += d.len;
		}
		assert_true(n > 0);
	}
	assert_int_equal(total, 1000);
	buf_reset(&out);
	assert_int_equal(smtp_session_feed(s, (const uint8_t *)"\r\n.\r\n", 5),
	    5);
	assert_int_equal(smtp_session_next(s, &out, &d), SMTP_EV_DATA_ABORT);
	assert_int_equal(smtp_session_next(s, &out, &d), SMTP_EV_NONE);
	assert_string_equal(buf_cstr(&out), TOO_BIG);
	assert_false(smtp_session_in_data(s));
	(void)ok;
	free(big);
	smtp_session_free(&s);
	buf_clear(&out);
}

static void
test_session_envelope_protocol(void **state)
{
	struct smtp_session *s = new_session(5, false);
	const struct envelope *env;
	struct smtp_event_data d;
	struct smtp_result ok = { 0 };
	struct buf out;

	(void)state;
	buf_init(&out, 0, 0);
	assert_string_equal(smtp_session_protocol(s), "ESMTP");
	pump(s, &out, "HELO client.example\r\n");
	assert_string_equal(smtp_session_protocol(s), "SMTP");
	pump(s, &out, "EHLO client.example\r\nMAIL FROM:<a@b> BODY=8BITMIME "
	    "SMTPUTF8\r\nRCPT TO:<c@d>\r\nRCPT TO:<@r1,@r2:e@f>\r\n");
	assert_string_equal(smtp_session_protocol(s), "ESMTP");
	env = smtp_session_envelope(s);
	assert_string_equal(env->from, "a@b");
	assert_string_equal(env->helo, "client.example");
	assert_int_equal(env->body, ENVELOPE_BODY_8BITMIME);
	assert_true(env->smtputf8);
	assert_int_equal(env->n_rcpts, 2);
	assert_string_equal(env->rcpts[0], "c@d");
	assert_string_equal(env->rcpts[1], "e@f");
	/* DATA_END waits; the envelope is intact until the resume. */
	assert_int_equal(smtp_session_feed(s,
	    (const uint8_t *)"DATA\r\n.\r\nNOOP\r\n", 15), 15);
	assert_int_equal(smtp_session_next(s, &out, &d), SMTP_EV_DATA_BEGIN);
	assert_true(smtp_session_is_waiting(s));
	assert_int_equal(smtp_session_next(s, &out, &d), SMTP_EV_NONE);
	smtp_session_resume(s, &out, &ok);
	assert_int_equal(smtp_session_next(s, &out, &d), SMTP_EV_DATA_END);
	assert_int_equal(smtp_session_next(s, &out, &d), SMTP_EV_NONE);
	assert_int_equal(smtp_session_envelope(s)->n_rcpts, 2);
	assert_false(smtp_session_in_data(s));
	/* A disconnect while the commit runs is not an abort. */
	buf_reset(&out);
	smtp_session_resume(s, &out, &ok);
	assert_string_equal(buf_cstr(&out), "250 2.0.0 Ok\r\n");
	env = smtp_session_envelope(s);
	assert_int_equal(env->n_rcpts, 0);
	assert_string_equal(env->from, "");
	assert_string_equal(env->helo, "client.example");
	assert_int_equal(smtp_session_next(s, &out, &d), SMTP_EV_NONE);
	assert_string_equal(buf_cstr(&out), "250 2.0.0 Ok\r\n250 2.0.0 Ok\r\n");
	smtp_session_free(&s);
	smtp_session_free(&s);

	s = new_session(5, true);
	pump(s, &out, "EHLO c\r\n");
	assert_string_equal(smtp_session_protocol(s), "ESMTPS");
	smtp_session_free(&s);
	buf_clear(&out);
}

static void
test_session_timeout_shutdown(void **state)
{
	struct smtp_session *s = new_session(5, false);
	struct smtp_event_data d;
	struct buf out;

	(void)state;
	buf_init(&out, 0, 0);
	pump(s, &out, "EHLO c\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\n"
	    "BDAT 10\r\nabc");
	assert_true(smtp_session_in_data(s));
	buf_reset(&out);
	smtp_session_timeout(s, &out);
	assert_string_equal(buf_cstr(&out),
	    "421 4.4.2 " HOST " Error: timeout exceeded\r\n");
	assert_int_equal(smtp_session_next(s, &out, &d), SMTP_EV_DATA_ABORT);
	assert_int_equal(smtp_session_next(s, &out, &d), SMTP_EV_CLOSE);
	assert_int_equal(smtp_session_next(s, &out, &d), SMTP_EV_NONE);
	/* Input after the end is dropped; no more replies. */
	assert_int_equal(smtp_session_feed(s, (const uint8_t *)"NOOP\r\n", 6),
	    6);
	assert_int_equal(smtp_session_next(s, &out, &d), SMTP_EV_NONE);
	assert_int_equal(smtp_session_eof(s), SMTP_EV_CLOSE);
	smtp_session_free(&s);

	s = new_session(5, false);
	buf_reset(&out);
	smtp_session_shutdown(s, &out);
	assert_string_equal(buf_cstr(&out),
	    "421 4.3.2 " HOST " Service shutting down\r\n");
	assert_int_equal(smtp_session_next(s, &out, &d), SMTP_EV_CLOSE);
	smtp_session_free(&s);
	buf_clear(&out);
}

/* A glue output buffer that cannot take a reply ends the session. */
static void
test_session_output_full(void **state)
{
	struct smtp_session *s = new_session(5, false);
	struct smtp_event_data d;
	struct buf out;

	(void)state;
	buf_init(&out, 0, 20);
	assert_int_equal(smtp_session_feed(s, (const uint8_t *)"EHLO c\r\n",
	    8), 8);
	assert_int_equal(smtp_session_next(s, &out, &d), SMTP_EV_CLOSE);
	assert_int_equal(out.len, 0);
	assert_int_equal(smtp_session_next(s, &out, &d), SMTP_EV_NONE);
	smtp_session_free(&s);
	buf_clear(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_session_transactions),
		cmocka_unit_test(test_session_refusals),
		cmocka_unit_test(test_session_errors),
		cmocka_unit_test(test_session_tls),
		cmocka_unit_test(test_session_data),
		cmocka_unit_test(test_session_hold),
		cmocka_unit_test(test_session_bdat),
		cmocka_unit_test(test_session_many_rcpts),
		cmocka_unit_test(test_session_bounded_input),
		cmocka_unit_test(test_session_envelope_protocol),
		cmocka_unit_test(test_session_timeout_shutdown),
		cmocka_unit_test(test_session_output_full),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
