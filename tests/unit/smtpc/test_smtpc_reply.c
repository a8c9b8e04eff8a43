/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for the SMTP client's reply parser and EHLO keywords: a
 * table of valid replies and one of invalid ones, each fed whole, one
 * byte at a time, and split at every offset.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "smtpc/smtpc_ehlo.h"
#include "smtpc/smtpc_reply.h"

struct valid_case {
	const char *in;
	unsigned code;
	const char *enh;
	const char *text;
	size_t n_lines;
};

static const struct valid_case valid_cases[] = {
    {.in = "220 mx.test ESMTP\r\n",
        .code = 220,
        .enh = "",
        .text = "mx.test ESMTP",
        .n_lines = 1},
    {.in = "250\r\n", .code = 250, .enh = "", .text = "", .n_lines = 1},
    {.in = "250 \r\n", .code = 250, .enh = "", .text = "", .n_lines = 1},
    {.in = "250 2.1.5 ok\r\n",
        .code = 250,
        .enh = "2.1.5",
        .text = "2.1.5 ok",
        .n_lines = 1},
    {.in = "550 5.1.1\r\n",
        .code = 550,
        .enh = "5.1.1",
        .text = "5.1.1",
        .n_lines = 1},
    {.in = "554 5.123.456 long\r\n",
        .code = 554,
        .enh = "5.123.456",
        .text = "5.123.456 long",
        .n_lines = 1},
    /* The class must match the code's first digit (RFC 3463 2). */
    {.in = "550 4.1.1 odd\r\n",
        .code = 550,
        .enh = "",
        .text = "4.1.1 odd",
        .n_lines = 1},
    {.in = "550 5.1.1234 too long\r\n",
        .code = 550,
        .enh = "",
        .text = "5.1.1234 too long",
        .n_lines = 1},
    {.in = "550 5.1.1x\r\n",
        .code = 550,
        .enh = "",
        .text = "5.1.1x",
        .n_lines = 1},
    {.in = "250-mx.test\r\n250-PIPELINING\r\n250 SIZE 1000\r\n",
        .code = 250,
        .enh = "",
        .text = "mx.test\nPIPELINING\nSIZE 1000",
        .n_lines = 3},
    {.in = "250-\r\n250 last\r\n",
        .code = 250,
        .enh = "",
        .text = "\nlast",
        .n_lines = 2},
    {.in = "421 4.3.2 bye\r\n",
        .code = 421,
        .enh = "4.3.2",
        .text = "4.3.2 bye",
        .n_lines = 1},
    {.in = "354 go\r\n", .code = 354, .enh = "", .text = "go", .n_lines = 1},
};

struct invalid_case {
	const char *in;
	const char *error;
};

static const struct invalid_case invalid_cases[] = {
    {"25\r\n", "malformed reply code"},
    {"abc ok\r\n", "malformed reply code"},
    {"150 ok\r\n", "malformed reply code"},
    {"650 ok\r\n", "malformed reply code"},
    {"260 ok\r\n", "malformed reply code"},
    {"2500 ok\r\n", "reply code not followed by space or hyphen"},
    {"250_ok\r\n", "reply code not followed by space or hyphen"},
    {"250-a\r\n251 b\r\n", "reply code changes within a multiline reply"},
    {"250 ok\n", "bare LF in reply"},
    {"250-a\r\n250 b\n", "bare LF in reply"},
    {"\r\n", "malformed reply code"},
};

/* Feeds in split at the given offsets; returns the parser's verdict. */
static int
parse_split(struct smtpc_reply_parser *p, const char *in, size_t len,
    size_t step, size_t first, const struct smtpc_reply **r_r,
    const char **err_r)
{
	size_t off = 0;
	int rc = 0;

	while (off < len) {
		size_t want = off == 0 && first > 0 ? first : step;
		size_t n;

		if (want > len - off)
			want = len - off;
		n = smtpc_reply_parser_feed(p, (const uint8_t *)in + off, want);
		off += n;
		rc = smtpc_reply_parser_next(p, r_r, err_r);
		if (rc != 0)
			return rc;
		assert_true(n > 0);
	}
	return smtpc_reply_parser_next(p, r_r, err_r);
}

static void
check_valid(const struct valid_case *c, size_t step, size_t first)
{
	struct smtpc_reply_parser p;
	const struct smtpc_reply *r;
	const char *err;
	int rc;

	smtpc_reply_parser_init(&p);
	rc = parse_split(&p, c->in, strlen(c->in), step, first, &r, &err);
	assert_int_equal(rc, 1);
	assert_int_equal(r->code, c->code);
	assert_string_equal(r->enh, c->enh);
	assert_string_equal(buf_cstr(&r->text), c->text);
	assert_int_equal(r->n_lines, c->n_lines);
	/* Nothing left over; the next reply needs more bytes. */
	assert_int_equal(smtpc_reply_parser_next(&p, &r, &err), 0);
	smtpc_reply_parser_clear(&p);
}

static void
check_invalid(const struct invalid_case *c, size_t step, size_t first)
{
	struct smtpc_reply_parser p;
	const struct smtpc_reply *r;
	const char *err;

	smtpc_reply_parser_init(&p);
	assert_int_equal(
	    parse_split(&p, c->in, strlen(c->in), step, first, &r, &err), -1);
	assert_string_equal(err, c->error);
	/* The parser stays dead. */
	assert_int_equal(smtpc_reply_parser_next(&p, &r, &err), -1);
	smtpc_reply_parser_clear(&p);
}

static void
test_valid(void **state)
{
	size_t i, off;

	(void)state;
	for (i = 0; i < N_ELEMENTS(valid_cases); i++) {
		const struct valid_case *c = &valid_cases[i];
		size_t len = strlen(c->in);

		check_valid(c, len, 0);         /* whole */
		check_valid(c, 1, 0);           /* byte by byte */
		for (off = 1; off < len; off++) /* split anywhere */
			check_valid(c, len, off);
	}
}

static void
test_invalid(void **state)
{
	size_t i, off;

	(void)state;
	for (i = 0; i < N_ELEMENTS(invalid_cases); i++) {
		const struct invalid_case *c = &invalid_cases[i];
		size_t len = strlen(c->in);

		check_invalid(c, len, 0);
		check_invalid(c, 1, 0);
		for (off = 1; off < len; off++)
			check_invalid(c, len, off);
	}
}

/* Several replies in one read come out one by one (PIPELINING). */
static void
test_pipelined_replies(void **state)
{
	static const char in[] = "250 2.1.0 ok\r\n550 5.1.1 no\r\n354 go\r\n";
	struct smtpc_reply_parser p;
	const struct smtpc_reply *r;
	const char *err;

	(void)state;
	smtpc_reply_parser_init(&p);
	assert_int_equal(
	    smtpc_reply_parser_feed(&p, (const uint8_t *)in, sizeof(in) - 1),
	    sizeof(in) - 1);
	assert_int_equal(smtpc_reply_parser_next(&p, &r, &err), 1);
	assert_int_equal(r->code, 250);
	assert_int_equal(smtpc_reply_parser_next(&p, &r, &err), 1);
	assert_int_equal(r->code, 550);
	assert_string_equal(r->enh, "5.1.1");
	assert_int_equal(smtpc_reply_parser_next(&p, &r, &err), 1);
	assert_int_equal(r->code, 354);
	assert_int_equal(smtpc_reply_parser_next(&p, &r, &err), 0);
	smtpc_reply_parser_clear(&p);
}

static void
test_limits(void **state)
{
	struct smtpc_reply_parser p;
	const struct smtpc_reply *r;
	const char *err;
	char line[SMTPC_REPLY_LINE_MAX_BYTES + 16];
	size_t i, n;

	(void)state;
	/* A line longer than the limit, fed in pieces: an error, no hang. */
	smtpc_reply_parser_init(&p);
	memset(line, 'x', sizeof(line));
	memcpy(line, "250 ", 4);
	n = 0;
	for (i = 0; i < 10 && n < sizeof(line); i++) {
		n += smtpc_reply_parser_feed(
		    &p, (const uint8_t *)line + n, sizeof(line) - n);
		if (smtpc_reply_parser_next(&p, &r, &err) == -1)
			break;
	}
	assert_string_equal(err, "reply line too long");
	smtpc_reply_parser_clear(&p);

	/* Too many lines. */
	smtpc_reply_parser_init(&p);
	for (i = 0; i <= SMTPC_REPLY_MAX_LINES; i++) {
		assert_int_equal(smtpc_reply_parser_feed(
		                     &p, (const uint8_t *)"250-x\r\n", 7),
		    7);
		if (smtpc_reply_parser_next(&p, &r, &err) == -1)
			break;
	}
	assert_int_equal(i, SMTPC_REPLY_MAX_LINES);
	assert_string_equal(err, "reply has too many lines");
	smtpc_reply_parser_clear(&p);

	/* Too many bytes in few lines. */
	smtpc_reply_parser_init(&p);
	memset(line, 'y', 2000);
	memcpy(line, "250-", 4);
	memcpy(line + 2000, "\r\n", 2);
	for (i = 0; i < 20; i++) {
		assert_int_equal(
		    smtpc_reply_parser_feed(&p, (const uint8_t *)line, 2002),
		    2002);
		if (smtpc_reply_parser_next(&p, &r, &err) == -1)
			break;
	}
	assert_true(i < 20);
	assert_string_equal(err, "reply too long");
	smtpc_reply_parser_clear(&p);
}

static void
test_format(void **state)
{
	struct smtpc_reply_parser p;
	const struct smtpc_reply *r;
	const char *err;
	static const char in[] = "550-5.1.1 no\r\n550 5.1.1 \x01such\r\n";
	char out[64];

	(void)state;
	smtpc_reply_parser_init(&p);
	(void)smtpc_reply_parser_feed(&p, (const uint8_t *)in, sizeof(in) - 1);
	assert_int_equal(smtpc_reply_parser_next(&p, &r, &err), 1);
	assert_string_equal(smtpc_reply_format(r, out, sizeof(out)),
	    "550 5.1.1 no 5.1.1 \\x01such");
	smtpc_reply_parser_clear(&p);
}

static void
parse_ehlo(const char *in, struct smtpc_ext *ext)
{
	struct smtpc_reply_parser p;
	const struct smtpc_reply *r;
	const char *err;

	smtpc_reply_parser_init(&p);
	(void)smtpc_reply_parser_feed(&p, (const uint8_t *)in, strlen(in));
	assert_int_equal(smtpc_reply_parser_next(&p, &r, &err), 1);
	smtpc_ehlo_parse(r, ext);
	smtpc_reply_parser_clear(&p);
}

static void
test_ehlo(void **state)
{
	struct smtpc_ext ext;

	(void)state;
	parse_ehlo(
	    "250-mx.test hello\r\n250-pipelining\r\n250-SIZE 52428800\r\n"
	    "250-8BITMIME\r\n250-SMTPUTF8\r\n250-STARTTLS\r\n"
	    "250-ENHANCEDSTATUSCODES\r\n250-CHUNKING\r\n"
	    "250 AUTH CRAM-MD5 LOGIN PLAIN\r\n",
	    &ext);
	assert_true(ext.pipelining);
	assert_true(ext.size);
	assert_int_equal(ext.size_max, 52428800);
	assert_true(ext.eightbitmime);
	assert_true(ext.smtputf8);
	assert_true(ext.starttls);
	assert_true(ext.enhancedstatuscodes);
	assert_true(ext.chunking);
	assert_int_equal(ext.auth, SMTPC_AUTH_PLAIN | SMTPC_AUTH_LOGIN);

	/* The greeting line is no keyword; SIZE without a number; AUTH=. */
	parse_ehlo("250-PIPELINING\r\n250-SIZE\r\n250 AUTH=LOGIN\r\n", &ext);
	assert_false(ext.pipelining);
	assert_true(ext.size);
	assert_int_equal(ext.size_max, 0);
	assert_int_equal(ext.auth, SMTPC_AUTH_LOGIN);

	/* Near misses are not keywords. */
	parse_ehlo("250-x\r\n250-PIPELININGX\r\n250-SIZE abc\r\n"
	           "250 STARTTLSX\r\n",
	    &ext);
	assert_false(ext.pipelining);
	assert_false(ext.starttls);
	assert_true(ext.size);
	assert_int_equal(ext.size_max, 0);

	parse_ehlo("250 only a greeting\r\n", &ext);
	assert_false(ext.size);
	assert_int_equal(ext.auth, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid),
	    cmocka_unit_test(test_invalid),
	    cmocka_unit_test(test_pipelined_replies),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_format),
	    cmocka_unit_test(test_ehlo),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
