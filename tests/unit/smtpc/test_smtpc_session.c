/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for the SMTP client session and dot-stuffing: scripted
 * server replies in, the exact command bytes and per-recipient results
 * out.  Covers PIPELINING on and off, HELO fallback, STARTTLS (with
 * injected plaintext), AUTH PLAIN and LOGIN, refusals and errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "smtpc/smtpc_dot.h"
#include "smtpc/smtpc_session.h"

struct t {
	struct smtpc_session *s;
	struct buf out;
};

static const char *const rcpts[] = {"a@x.test", "b@x.test", "c@x.test"};

static void
t_start(struct t *t, enum smtpc_tls tls, const char *user, size_t n_rcpts,
    bool smtputf8)
{
	struct smtpc_session_params sp = {
	    .helo = "me.test",
	    .tls = tls,
	    .auth_user = user,
	    .auth_password = "secret",
	};
	struct smtpc_message m = {
	    .from = "f@me.test",
	    .rcpts = rcpts,
	    .n_rcpts = n_rcpts,
	    .size = 100,
	    .body = ENVELOPE_BODY_8BITMIME,
	    .smtputf8 = smtputf8,
	};

	buf_init(&t->out, 0, 0);
	t->s = smtpc_session_new(&sp);
	smtpc_session_start_message(t->s, &m, &t->out);
	assert_int_equal(t->out.len, 0);
}

static void
t_end(struct t *t)
{
	smtpc_session_free(&t->s);
	assert_null(t->s);
	buf_clear(&t->out);
}

/* Feeds server bytes; returns the first event other than NONE, or NONE. */
static enum smtpc_event
t_feed(struct t *t, const char *in)
{
	size_t len = strlen(in), off = 0;
	enum smtpc_event ev;

	buf_reset(&t->out);
	for (;;) {
		ev = smtpc_session_next(t->s, &t->out);
		if (ev != SMTPC_EV_NONE)
			return ev;
		if (off == len)
			return SMTPC_EV_NONE;
		off += smtpc_session_feed(
		    t->s, (const uint8_t *)in + off, len - off);
	}
}

static void
assert_out(struct t *t, const char *want)
{
	assert_string_equal(buf_cstr(&t->out), want);
}

static void
assert_rcpt(struct t *t, size_t i, enum smtpc_status st, const char *enh)
{
	const struct smtpc_rcpt_result *r = smtpc_session_rcpt(t->s, i);

	assert_int_equal(r->status, st);
	assert_string_equal(r->enh, enh);
}

#define EHLO_PIPE                                                              \
	"250-mx\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE 1000\r\n"

static void
test_pipelining(void **state)
{
	struct t t;

	(void)state;
	t_start(&t, SMTPC_TLS_OPPORTUNISTIC, NULL, 3, false);
	assert_int_equal(t_feed(&t, "220 mx ESMTP\r\n"), SMTPC_EV_NONE);
	assert_out(&t, "EHLO me.test\r\n");
	assert_int_equal(t_feed(&t, EHLO_PIPE), SMTPC_EV_NONE);
	assert_out(&t,
	    "MAIL FROM:<f@me.test> SIZE=100 BODY=8BITMIME\r\n"
	    "RCPT TO:<a@x.test>\r\nRCPT TO:<b@x.test>\r\n"
	    "RCPT TO:<c@x.test>\r\nDATA\r\n");
	assert_int_equal(t_feed(&t,
	                     "250 ok\r\n250 ok\r\n550 5.1.1 no\r\n"
	                     "452 full\r\n354 go\r\n"),
	    SMTPC_EV_CONTENT);
	assert_true(smtpc_session_in_data(t.s));
	assert_true(smtpc_session_mail_accepted(t.s));
	smtpc_session_content_sent(t.s);
	assert_int_equal(
	    t_feed(&t, "250 2.0.0 queued as X\r\n"), SMTPC_EV_DONE);
	assert_rcpt(&t, 0, SMTPC_OK, "2.0.0");
	assert_rcpt(&t, 1, SMTPC_PERMFAIL, "5.1.1");
	assert_rcpt(&t, 2, SMTPC_TEMPFAIL, "4.5.3");
	assert_string_equal(
	    smtpc_session_rcpt(t.s, 0)->reply, "250 2.0.0 queued as X");
	assert_true(smtpc_session_is_idle(t.s));

	/* Reuse: the next message starts at once. */
	smtpc_session_start_message(t.s,
	    &(struct smtpc_message){.from = "", .rcpts = rcpts, .n_rcpts = 1},
	    &t.out);
	assert_out(&t, "MAIL FROM:<> SIZE=0\r\nRCPT TO:<a@x.test>\r\nDATA\r\n");
	smtpc_session_quit(t.s, &t.out);
	t_end(&t);
}

static void
test_one_at_a_time(void **state)
{
	struct t t;

	(void)state;
	t_start(&t, SMTPC_TLS_NONE, NULL, 2, false);
	(void)t_feed(&t, "220 mx\r\n");
	assert_int_equal(t_feed(&t, "250 mx\r\n"), SMTPC_EV_NONE);
	/* No 8BITMIME offered: the body goes as-is, without BODY=. */
	assert_out(&t, "MAIL FROM:<f@me.test>\r\n");
	(void)t_feed(&t, "250 ok\r\n");
	assert_out(&t, "RCPT TO:<a@x.test>\r\n");
	(void)t_feed(&t, "550 no\r\n");
	assert_out(&t, "RCPT TO:<b@x.test>\r\n");
	(void)t_feed(&t, "251 forwarded\r\n");
	assert_out(&t, "DATA\r\n");
	assert_int_equal(t_feed(&t, "354 go\r\n"), SMTPC_EV_CONTENT);
	smtpc_session_content_sent(t.s);
	assert_int_equal(t_feed(&t, "554 rejected\r\n"), SMTPC_EV_DONE);
	assert_rcpt(&t, 0, SMTPC_PERMFAIL, "5.1.1");
	assert_rcpt(&t, 1, SMTPC_PERMFAIL, "5.6.0");
	t_end(&t);
}

static void
test_all_refused(void **state)
{
	struct t t;

	(void)state;
	/* Pipelined: DATA was sent; a 354 gets an empty body. */
	t_start(&t, SMTPC_TLS_NONE, NULL, 2, false);
	(void)t_feed(&t, "220 mx\r\n");
	(void)t_feed(&t, EHLO_PIPE);
	assert_int_equal(t_feed(&t, "250 ok\r\n550 no\r\n550 no\r\n354 go\r\n"),
	    SMTPC_EV_NONE);
	assert_out(&t, ".\r\n");
	(void)t_feed(&t, "554 no valid recipients\r\n");
	assert_out(&t, "RSET\r\n");
	assert_int_equal(t_feed(&t, "250 ok\r\n"), SMTPC_EV_DONE);
	assert_rcpt(&t, 0, SMTPC_PERMFAIL, "5.1.1");
	assert_true(smtpc_session_is_idle(t.s));
	t_end(&t);

	/* One at a time: no DATA at all. */
	t_start(&t, SMTPC_TLS_NONE, NULL, 1, false);
	(void)t_feed(&t, "220 mx\r\n");
	(void)t_feed(&t, "250 mx\r\n");
	(void)t_feed(&t, "250 ok\r\n");
	assert_int_equal(t_feed(&t, "450 4.2.0 busy\r\n"), SMTPC_EV_NONE);
	assert_out(&t, "RSET\r\n");
	assert_int_equal(t_feed(&t, "250 ok\r\n"), SMTPC_EV_DONE);
	assert_rcpt(&t, 0, SMTPC_TEMPFAIL, "4.2.0");
	t_end(&t);

	/* MAIL refused: every recipient shares its result. */
	t_start(&t, SMTPC_TLS_NONE, NULL, 2, false);
	(void)t_feed(&t, "220 mx\r\n");
	(void)t_feed(&t, "250 mx\r\n");
	assert_int_equal(t_feed(&t, "553 bad sender\r\n"), SMTPC_EV_NONE);
	assert_out(&t, "RSET\r\n");
	assert_int_equal(t_feed(&t, "250 ok\r\n"), SMTPC_EV_DONE);
	assert_rcpt(&t, 0, SMTPC_PERMFAIL, "5.1.7");
	assert_rcpt(&t, 1, SMTPC_PERMFAIL, "5.1.7");
	assert_false(smtpc_session_mail_accepted(t.s));
	t_end(&t);
}

static void
test_helo_fallback(void **state)
{
	struct t t;

	(void)state;
	t_start(&t, SMTPC_TLS_OPPORTUNISTIC, NULL, 1, false);
	(void)t_feed(&t, "220 mx\r\n");
	(void)t_feed(&t, "500 what\r\n");
	assert_out(&t, "HELO me.test\r\n");
	(void)t_feed(&t, "250 mx\r\n");
	assert_out(&t, "MAIL FROM:<f@me.test>\r\n");
	assert_false(smtpc_session_ext(t.s)->pipelining);
	t_end(&t);

	/* A 4xx to EHLO is no reason to try HELO. */
	t_start(&t, SMTPC_TLS_OPPORTUNISTIC, NULL, 1, false);
	(void)t_feed(&t, "220 mx\r\n");
	assert_int_equal(t_feed(&t, "454 later\r\n"), SMTPC_EV_DONE);
	assert_out(&t, "QUIT\r\n");
	assert_rcpt(&t, 0, SMTPC_TEMPFAIL, "4.0.0");
	assert_int_equal(t_feed(&t, ""), SMTPC_EV_CLOSE);
	t_end(&t);
}

static void
test_starttls(void **state)
{
	struct t t;

	(void)state;
	t_start(&t, SMTPC_TLS_OPPORTUNISTIC, NULL, 1, false);
	(void)t_feed(&t, "220 mx\r\n");
	(void)t_feed(&t, "250-mx\r\n250 STARTTLS\r\n");
	assert_out(&t, "STARTTLS\r\n");
	/* Plaintext after the 220 must never be taken as a reply. */
	assert_int_equal(t_feed(&t, "220 go\r\n250-mx\r\n250 PIPELINING\r\n"),
	    SMTPC_EV_STARTTLS);
	assert_false(smtpc_session_is_tls(t.s));
	buf_reset(&t.out);
	smtpc_session_tls_started(t.s, &t.out);
	assert_out(&t, "EHLO me.test\r\n");
	assert_true(smtpc_session_is_tls(t.s));
	assert_int_equal(t_feed(&t, ""), SMTPC_EV_NONE);
	assert_out(&t, "");
	(void)t_feed(&t, "250-mx\r\n250 8BITMIME\r\n");
	assert_out(&t, "MAIL FROM:<f@me.test> BODY=8BITMIME\r\n");
	t_end(&t);

	/* Refused STARTTLS: opportunistic carries on in clear. */
	t_start(&t, SMTPC_TLS_OPPORTUNISTIC, NULL, 1, false);
	(void)t_feed(&t, "220 mx\r\n");
	(void)t_feed(&t, "250-mx\r\n250 STARTTLS\r\n");
	(void)t_feed(&t, "454 4.7.0 no TLS today\r\n");
	assert_out(&t, "MAIL FROM:<f@me.test>\r\n");
	t_end(&t);

	/* ... and required TLS gives up. */
	t_start(&t, SMTPC_TLS_REQUIRED, NULL, 1, false);
	(void)t_feed(&t, "220 mx\r\n");
	(void)t_feed(&t, "250-mx\r\n250 STARTTLS\r\n");
	assert_int_equal(
	    t_feed(&t, "454 4.7.0 no TLS today\r\n"), SMTPC_EV_DONE);
	assert_rcpt(&t, 0, SMTPC_TEMPFAIL, "4.7.0");
	t_end(&t);

	/* Not offered and required. */
	t_start(&t, SMTPC_TLS_REQUIRED, NULL, 1, false);
	(void)t_feed(&t, "220 mx\r\n");
	assert_int_equal(t_feed(&t, "250 mx\r\n"), SMTPC_EV_DONE);
	assert_rcpt(&t, 0, SMTPC_TEMPFAIL, "4.7.4");
	assert_out(&t, "QUIT\r\n");
	t_end(&t);
}

static void
test_auth(void **state)
{
	struct t t;

	(void)state;
	/* PLAIN with an initial response: base64("\0user\0secret"). */
	t_start(&t, SMTPC_TLS_ACTIVE, "user", 1, false);
	(void)t_feed(&t, "220 mx\r\n");
	(void)t_feed(&t, "250-mx\r\n250 AUTH LOGIN PLAIN\r\n");
	assert_out(&t, "AUTH PLAIN AHVzZXIAc2VjcmV0\r\n");
	(void)t_feed(&t, "235 2.7.0 ok\r\n");
	assert_out(&t, "MAIL FROM:<f@me.test>\r\n");
	t_end(&t);

	/* LOGIN. */
	t_start(&t, SMTPC_TLS_ACTIVE, "user", 1, false);
	(void)t_feed(&t, "220 mx\r\n");
	(void)t_feed(&t, "250-mx\r\n250 AUTH=LOGIN\r\n");
	assert_out(&t, "AUTH LOGIN\r\n");
	(void)t_feed(&t, "334 VXNlcm5hbWU6\r\n");
	assert_out(&t, "dXNlcg==\r\n");
	(void)t_feed(&t, "334 UGFzc3dvcmQ6\r\n");
	assert_out(&t, "c2VjcmV0\r\n");
	(void)t_feed(&t, "235 ok\r\n");
	assert_out(&t, "MAIL FROM:<f@me.test>\r\n");
	t_end(&t);

	/* Refused: deferred, not bounced. */
	t_start(&t, SMTPC_TLS_ACTIVE, "user", 1, false);
	(void)t_feed(&t, "220 mx\r\n");
	(void)t_feed(&t, "250-mx\r\n250 AUTH PLAIN\r\n");
	assert_int_equal(
	    t_feed(&t, "535 5.7.8 bad credentials\r\n"), SMTPC_EV_DONE);
	assert_rcpt(&t, 0, SMTPC_TEMPFAIL, "4.7.8");
	assert_int_equal(t_feed(&t, ""), SMTPC_EV_CLOSE);
	t_end(&t);

	/* Never in clear, even when offered. */
	t_start(&t, SMTPC_TLS_NONE, "user", 1, false);
	(void)t_feed(&t, "220 mx\r\n");
	assert_int_equal(
	    t_feed(&t, "250-mx\r\n250 AUTH PLAIN\r\n"), SMTPC_EV_DONE);
	assert_out(&t, "QUIT\r\n");
	assert_rcpt(&t, 0, SMTPC_TEMPFAIL, "4.7.0");
	t_end(&t);
}

static void
test_refusals(void **state)
{
	struct t t;

	(void)state;
	t_start(&t, SMTPC_TLS_NONE, NULL, 2, false);
	(void)t_feed(&t, "220 mx\r\n");
	assert_int_equal(
	    t_feed(&t, "250-mx\r\n250 SIZE 99\r\n"), SMTPC_EV_DONE);
	assert_out(&t, "");
	assert_rcpt(&t, 0, SMTPC_PERMFAIL, "5.3.4");
	assert_rcpt(&t, 1, SMTPC_PERMFAIL, "5.3.4");
	assert_true(smtpc_session_is_idle(t.s));
	t_end(&t);

	t_start(&t, SMTPC_TLS_NONE, NULL, 1, true);
	(void)t_feed(&t, "220 mx\r\n");
	assert_int_equal(
	    t_feed(&t, "250-mx\r\n250 SIZE 100\r\n"), SMTPC_EV_DONE);
	assert_rcpt(&t, 0, SMTPC_PERMFAIL, "5.6.7");
	t_end(&t);
}

static void
test_errors(void **state)
{
	struct t t;

	(void)state;
	/* 421 after MAIL was accepted. */
	t_start(&t, SMTPC_TLS_NONE, NULL, 2, false);
	(void)t_feed(&t, "220 mx\r\n");
	(void)t_feed(&t, EHLO_PIPE);
	assert_int_equal(
	    t_feed(&t, "250 ok\r\n250 ok\r\n421 bye\r\n"), SMTPC_EV_DONE);
	assert_out(&t, "");
	assert_rcpt(&t, 0, SMTPC_TEMPFAIL, "4.4.2");
	assert_rcpt(&t, 1, SMTPC_TEMPFAIL, "4.4.2");
	assert_string_equal(smtpc_session_rcpt(t.s, 1)->reply, "421 bye");
	assert_int_equal(t_feed(&t, ""), SMTPC_EV_CLOSE);
	t_end(&t);

	/* Garbage from the server. */
	t_start(&t, SMTPC_TLS_NONE, NULL, 1, false);
	(void)t_feed(&t, "220 mx\r\n");
	assert_int_equal(t_feed(&t, "hello?\r\n"), SMTPC_EV_DONE);
	assert_rcpt(&t, 0, SMTPC_TEMPFAIL, "4.5.0");
	assert_string_equal(
	    smtpc_session_error(t.s), "protocol error: malformed reply code");
	t_end(&t);

	/* Lost connection during DATA. */
	t_start(&t, SMTPC_TLS_NONE, NULL, 1, false);
	(void)t_feed(&t, "220 mx\r\n");
	(void)t_feed(&t, "250 mx\r\n");
	(void)t_feed(&t, "250 ok\r\n");
	(void)t_feed(&t, "250 ok\r\n");
	assert_int_equal(t_feed(&t, "354 go\r\n"), SMTPC_EV_CONTENT);
	smtpc_session_abort(t.s, "4.4.2", "lost connection");
	assert_int_equal(t_feed(&t, ""), SMTPC_EV_DONE);
	assert_rcpt(&t, 0, SMTPC_TEMPFAIL, "4.4.2");
	assert_int_equal(t_feed(&t, ""), SMTPC_EV_CLOSE);
	t_end(&t);

	/* A 554 greeting: QUIT, temporary, and not greeted. */
	t_start(&t, SMTPC_TLS_NONE, NULL, 1, false);
	assert_int_equal(t_feed(&t, "554 5.7.1 no\r\n"), SMTPC_EV_DONE);
	assert_out(&t, "QUIT\r\n");
	assert_rcpt(&t, 0, SMTPC_TEMPFAIL, "4.7.1");
	assert_false(smtpc_session_is_greeted(t.s));
	t_end(&t);

	/* A reply while idle that is not 421. */
	t_start(&t, SMTPC_TLS_NONE, NULL, 0, false);
	(void)t_feed(&t, "220 mx\r\n");
	assert_int_equal(t_feed(&t, "250 mx\r\n"), SMTPC_EV_DONE);
	assert_int_equal(t_feed(&t, "250 surprise\r\n"), SMTPC_EV_CLOSE);
	t_end(&t);
}

/* ---- dot-stuffing ---------------------------------------------------- */

static const struct {
	const char *in;
	const char *out;
} dot_cases[] = {
    {"", ".\r\n"},
    {"a", "a\r\n.\r\n"},
    {"a\r\n", "a\r\n.\r\n"},
    {".", "..\r\n.\r\n"},
    {".\r\n", "..\r\n.\r\n"},
    {"a\r\n.b\r\n", "a\r\n..b\r\n.\r\n"},
    {"\r\n..\r\n.", "\r\n...\r\n..\r\n.\r\n"},
    {"a\n.b", "a\n.b\r\n.\r\n"}, /* a bare LF starts no line */
    {"a\r.b", "a\r.b\r\n.\r\n"},
    {"a\r", "a\r\r\n.\r\n"},
};

static void
check_dot(const char *in, const char *want, size_t first)
{
	struct smtpc_dot d;
	struct buf out;
	size_t len = strlen(in);

	if (first > len)
		first = len;
	buf_init(&out, 0, 0);
	smtpc_dot_init(&d);
	assert_int_equal(
	    smtpc_dot_stuff(&d, (const uint8_t *)in, first, &out), 0);
	assert_int_equal(
	    smtpc_dot_stuff(&d, (const uint8_t *)in + first, len - first, &out),
	    0);
	assert_int_equal(smtpc_dot_finish(&d, &out), 0);
	assert_string_equal(buf_cstr(&out), want);
	buf_clear(&out);
}

static void
test_dot_stuff(void **state)
{
	size_t i, off;

	(void)state;
	for (i = 0; i < N_ELEMENTS(dot_cases); i++) {
		for (off = 0; off <= strlen(dot_cases[i].in); off++)
			check_dot(dot_cases[i].in, dot_cases[i].out, off);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pipelining),
	    cmocka_unit_test(test_one_at_a_time),
	    cmocka_unit_test(test_all_refused),
	    cmocka_unit_test(test_helo_fallback),
	    cmocka_unit_test(test_starttls),
	    cmocka_unit_test(test_auth),
	    cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_dot_stuff),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
