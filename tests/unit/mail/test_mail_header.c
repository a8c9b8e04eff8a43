/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for mail/mail_header: finding a field, removing Bcc with
 * its continuation lines, and the recipients of sendmail -t.  Where the
 * header section ends (empty line, first non-field line, end of input)
 * is checked by all three.  Inputs are exact heap copies (ASan).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "mail/mail.h"

/* An exact heap copy of in[0..len), so that ASan sees overreads. */
static uint8_t *
copy_of(const char *in, size_t len)
{
	uint8_t *p = malloc(len > 0 ? len : 1);

	assert_non_null(p);
	memcpy(p, in, len);
	return p;
}

struct has_case {
	const char *msg;
	size_t msg_len; /* 0: strlen(msg) */
	const char *name;
	bool has;
};

#define NUL_NAME "Fr\0om: a\r\nDate: x\r\n"

static const struct has_case has_cases[] = {
    {"From: a\r\nTo: b\r\n\r\nbody\r\n", 0, "From", true},
    {"From: a\r\nTo: b\r\n\r\nbody\r\n", 0, "to", true},
    {"From: a\r\nTo: b\r\n\r\nbody\r\n", 0, "TO", true},
    {"From: a\r\nTo: b\r\n\r\nbody\r\n", 0, "Date", false},
    {"From: a\nDate: x\n\nbody\n", 0, "Date", true},
    {"From: a\nMessage-ID: <1@x>\n\n", 0, "message-id", true},
    /* Only the header section counts. */
    {"Subject: x\r\n\r\nDate: y\r\n", 0, "Date", false},
    {"Subject: x\n\nDate: y\n", 0, "Date", false},
    {"\r\nDate: y\r\n", 0, "Date", false},
    {"Subject: a\nnot a header\nDate: x\n", 0, "Date", false},
    {"Subject: a\n\tDate: x\n", 0, "Date", false},
    {" Date: x\n", 0, "Date", false},
    {"From user Mon Jan  1 00:00:00 2024\nDate: x\n", 0, "Date", false},
    /* Names match whole. */
    {"From-X: a\nDate: x\n", 0, "From", false},
    {"Fro: a\n", 0, "From", false},
    {"XFrom: a\n", 0, "From", false},
    {NUL_NAME, sizeof(NUL_NAME) - 1, "From", false},
    {NUL_NAME, sizeof(NUL_NAME) - 1, "Date", false},
    /* Obsolete white space before the colon (RFC 5322 4.5). */
    {"From : a\n", 0, "From", true},
    {"From\t: a\n", 0, "From", true},
    {"From a\n", 0, "From", false},
    /* No body, no empty line, no final newline. */
    {"From: a\r\nDate: b", 0, "Date", true},
    {"From: a\nDate: b\n", 0, "Date", true},
    {"Date:", 0, "Date", true},
    {"Date", 0, "Date", false},
    {"", 0, "Date", false},
    {"Subject: a\r\n folded\r\nDate: b\r\n", 0, "Date", true},
    {"Subject: a\r folded\r\nDate: b\r\n", 0, "Date", true},
};

static void
test_header_has(void **state)
{
	size_t i, len;
	uint8_t *msg;

	(void)state;
	for (i = 0; i < N_ELEMENTS(has_cases); i++) {
		const struct has_case *c = &has_cases[i];

		len = c->msg_len ? c->msg_len : strlen(c->msg);
		msg = copy_of(c->msg, len);
		if (mail_header_has(msg, len, c->name) != c->has)
			fail_msg(
			    "case %zu \"%s\" %s: wrong", i, c->msg, c->name);
		free(msg);
	}
}

struct remove_case {
	const char *name;
	const char *msg;
	size_t msg_len; /* 0: strlen(msg) */
	const char *field;
	const char *out;
	size_t out_len; /* 0: strlen(out) */
};

#define BODY_IN "Bcc: a\r\n\r\n\0Bcc: b\rx\n.\r\n"
#define BODY_OUT "\r\n\0Bcc: b\rx\n.\r\n"

static const struct remove_case remove_cases[] = {
    {"one Bcc", "From: f\r\nBcc: b@x\r\nTo: t\r\n\r\nbody\r\n", 0, "Bcc",
        "From: f\r\nTo: t\r\n\r\nbody\r\n", 0},
    {"folded Bcc",
        "To: a\r\nBcc: b@x,\r\n c@y,\r\n\td@z\r\nSubject: s\r\n\r\n"
        "Bcc: body\r\n",
        0, "Bcc", "To: a\r\nSubject: s\r\n\r\nBcc: body\r\n", 0},
    {"folded Bcc, LF", "To: a\nBcc: b@x,\n c@y\n\n body\n", 0, "bcc",
        "To: a\n\n body\n", 0},
    {"every Bcc, any case",
        "BCC: a\r\nTo: t\r\nbcc : b\r\n c\r\nbCc:\r\nCc: c\r\n\r\n", 0, "Bcc",
        "To: t\r\nCc: c\r\n\r\n", 0},
    {"Bcc first", "Bcc: a\r\n\tb\r\nTo: t\r\n\r\nx", 0, "Bcc", "To: t\r\n\r\nx",
        0},
    {"Bcc only", "Bcc: x\r\n\r\nbody", 0, "Bcc", "\r\nbody", 0},
    {"Bcc last, no body", "To: a\nBcc: b", 0, "Bcc", "To: a\n", 0},
    {"Bcc last, folded, no body", "To: a\r\nBcc: b,\r\n c\r\n", 0, "Bcc",
        "To: a\r\n", 0},
    {"no empty line", "Bcc: x\nTo: y\n", 0, "Bcc", "To: y\n", 0},
    {"mixed CRLF and LF", "To: a\nBcc: b\r\n c\n\r\nbody\n", 0, "Bcc",
        "To: a\n\r\nbody\n", 0},
    {"no Bcc", "To: a\r\n\r\nbody\r\n", 0, "Bcc", "To: a\r\n\r\nbody\r\n", 0},
    {"Bcc-like names stay", "Bcc-X: a\r\nXBcc: b\r\n\r\n", 0, "Bcc",
        "Bcc-X: a\r\nXBcc: b\r\n\r\n", 0},
    {"body kept byte for byte", BODY_IN, sizeof(BODY_IN) - 1, "Bcc", BODY_OUT,
        sizeof(BODY_OUT) - 1},
    {"Bcc after a non-field line stays", "To: a\nhello\nBcc: b\n", 0, "Bcc",
        "To: a\nhello\nBcc: b\n", 0},
    {"continuation-looking line after the end stays", "To: a\n\nBcc: b\n c\n",
        0, "Bcc", "To: a\n\nBcc: b\n c\n", 0},
    {"empty message", "", 0, "Bcc", "", 0},
    {"other name", "To: a\r\nX-Mailer: m\r\n v2\r\n\r\n", 0, "x-mailer",
        "To: a\r\n\r\n", 0},
};

static void
test_header_remove(void **state)
{
	size_t i, len, out_len;
	struct buf out;
	uint8_t *msg;

	(void)state;
	for (i = 0; i < N_ELEMENTS(remove_cases); i++) {
		const struct remove_case *c = &remove_cases[i];

		len = c->msg_len ? c->msg_len : strlen(c->msg);
		out_len = c->out_len ? c->out_len : strlen(c->out);
		msg = copy_of(c->msg, len);
		buf_init(&out, 0, 0);
		if (mail_header_remove(msg, len, c->field, &out) != 0)
			fail_msg("%s: failed", c->name);
		if (out.len != out_len ||
		    memcmp(buf_cstr(&out), c->out, out_len) != 0)
			fail_msg("%s: got \"%s\"", c->name, buf_cstr(&out));
		buf_clear(&out);
		free(msg);
	}
}

static void
test_header_remove_max(void **state)
{
	const char *msg = "To: a\r\nBcc: b\r\n\r\nbody\r\n";
	struct buf out;

	(void)state;
	/* "To: a\r\n\r\nbody\r\n" is 15 bytes. */
	buf_init(&out, 0, 15);
	assert_int_equal(
	    mail_header_remove((const uint8_t *)msg, strlen(msg), "Bcc", &out),
	    0);
	assert_string_equal(buf_cstr(&out), "To: a\r\n\r\nbody\r\n");
	buf_clear(&out);
	buf_init(&out, 0, 14);
	assert_int_equal(
	    mail_header_remove((const uint8_t *)msg, strlen(msg), "Bcc", &out),
	    -1);
	buf_clear(&out);
	buf_init(&out, 0, 3);
	assert_int_equal(
	    mail_header_remove((const uint8_t *)msg, strlen(msg), "Bcc", &out),
	    -1);
	buf_clear(&out);
}

struct rcpt_case {
	const char *name;
	const char *msg;
	int n;           /* -1: syntax error */
	const char *out; /* addresses, each followed by "\n" */
};

static const struct rcpt_case rcpt_cases[] = {
    {"To, Cc, Bcc",
        "From: f@x\r\nTo: a@x\r\nCc: b@y, C <c@z>\r\nBcc: d@w\r\n"
        "Subject: s\r\n\r\nTo: body@x\r\n",
        4, "a@x\nb@y\nc@z\nd@w\n"},
    {"any case, several fields", "to: a@x\ncc: b@x\nTO: c@x\nbCC: d@x\n", 4,
        "a@x\nb@x\nc@x\nd@x\n"},
    {"other fields ignored",
        "From: f@x\nReply-To: r@x\nResent-To: rt@x\nSender: s@x\n"
        "X-To: x@x\nTo: a@x\n\n",
        1, "a@x\n"},
    {"folded To", "To: a@x,\r\n b@y,\r\n\t\"C D\"\r\n <c@z>\r\n\r\n", 3,
        "a@x\nb@y\nc@z\n"},
    {"folded To, LF", "To: a@x,\n b@y\nSubject: s\n\nbody\n", 2, "a@x\nb@y\n"},
    {"folded quoted local part", "To: \"a\r\n b\"@x\r\n", 1, "\"a b\"@x\n"},
    {"folded comment", "To: a@x (one\n two)\n", 1, "a@x\n"},
    {"space before the colon", "To : a@x\n", 1, "a@x\n"},
    {"group and empty group",
        "To: undisclosed-recipients:;\nBcc: T: a@x, b@y;\n", 2, "a@x\nb@y\n"},
    {"empty To", "To:\r\nCc: \r\n\r\n", 0, ""},
    {"no recipients", "From: f@x\r\n\r\nTo: a@x\r\n", 0, ""},
    {"header only, no newline", "Subject: s\nTo: a@x", 1, "a@x\n"},
    {"after a non-field line", "To: a@x\nhello\nTo: b@x\n", 1, "a@x\n"},
    {"empty message", "", 0, ""},
    {"bare local part", "To: root\n", 1, "root\n"},
    {"syntax error", "To: a@x\nCc: \"unterminated\nBcc: c@x\n", -1, "a@x\n"},
    {"unfolded quote does not run on", "To: \"a\nCc: b\"@x\n", -1, ""},
    {"error in a group", "To: G: a@x, <b@y;\n", -1, "a@x\n"},
    {"line end is not a separator", "To: a@x\nCc: b@y c@z\n", -1, "a@x\n"},
};

static int
collect_fn(void *arg, const char *addr, size_t len)
{
	struct buf *b = arg;

	assert_true(len > 0 && len <= MAIL_ADDR_MAX_BYTES);
	assert_null(memchr(addr, '\r', len));
	assert_null(memchr(addr, '\n', len));
	assert_int_equal(buf_append(b, addr, len), 0);
	assert_int_equal(buf_append(b, "\n", 1), 0);
	return 0;
}

static int
stop_fn(void *arg, const char *addr, size_t len)
{
	int *calls = arg;

	(void)addr;
	(void)len;
	return ++*calls == 2 ? -1 : 0;
}

static void
test_header_recipients(void **state)
{
	struct buf out;
	uint8_t *msg;
	size_t i, len;
	int n, calls;

	(void)state;
	for (i = 0; i < N_ELEMENTS(rcpt_cases); i++) {
		const struct rcpt_case *c = &rcpt_cases[i];

		len = strlen(c->msg);
		msg = copy_of(c->msg, len);
		buf_init(&out, 0, 0);
		n = mail_header_recipients(msg, len, collect_fn, &out);
		if (n != c->n || strcmp(buf_cstr(&out), c->out) != 0)
			fail_msg("%s: returned %d, got \"%s\"", c->name, n,
			    buf_cstr(&out));
		buf_clear(&out);
		free(msg);
	}
	/* fn stops the walk, in a later field too. */
	calls = 0;
	assert_int_equal(
	    mail_header_recipients((const uint8_t *)"To: a@x\nCc: b@x, c@x\n",
	        21, stop_fn, &calls),
	    -1);
	assert_int_equal(calls, 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_header_has),
	    cmocka_unit_test(test_header_remove),
	    cmocka_unit_test(test_header_remove_max),
	    cmocka_unit_test(test_header_recipients),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
