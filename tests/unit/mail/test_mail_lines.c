/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for mail/mail_lines: CRLF normalization of a message from
 * sendmail's stdin and the optional "." terminator.  Every input is
 * copied to a heap block of its exact size, so ASan catches a read
 * past the end.
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

#define ALL SIZE_MAX /* consumed: the whole input */

struct lines_case {
	const char *name;
	const char *in;
	size_t in_len; /* 0: strlen(in) */
	bool dot_ends;
	const char *out;
	size_t out_len;  /* 0: strlen(out) */
	size_t consumed; /* ALL: in_len */
};

#define NUL_IN "a\0b\n\0\n"
#define NUL_OUT "a\0b\r\n\0\r\n"

static const struct lines_case lines_cases[] = {
    {"empty", "", 0, false, "", 0, ALL},
    {"empty, dot ends", "", 0, true, "", 0, ALL},
    {"LF lines", "a\nb\n", 0, false, "a\r\nb\r\n", 0, ALL},
    {"CRLF lines stay", "a\r\nb\r\n", 0, false, "a\r\nb\r\n", 0, ALL},
    {"CRLF and LF mixed", "a\r\nb\nc\r\n\nd", 0, false,
        "a\r\nb\r\nc\r\n\r\nd\r\n", 0, ALL},
    {"last line gets CRLF", "abc", 0, false, "abc\r\n", 0, ALL},
    {"empty lines", "\n\n\r\n", 0, false, "\r\n\r\n\r\n", 0, ALL},
    {"bare CR ends a line", "a\rb\n", 0, false, "a\r\nb\r\n", 0, ALL},
    {"CR CR LF", "a\r\r\n", 0, false, "a\r\n\r\n", 0, ALL},
    {"bare CR at the end", "a\r", 0, false, "a\r\n", 0, ALL},
    {"lone CR", "\r", 0, false, "\r\n", 0, ALL},
    {"NUL bytes are content", NUL_IN, sizeof(NUL_IN) - 1, false, NUL_OUT,
        sizeof(NUL_OUT) - 1, ALL},
    {"8-bit", "\xc3\xbc\xff\n", 0, false, "\xc3\xbc\xff\r\n", 0, ALL},
    {"dot line kept without dot_ends", "a\n.\nb\n", 0, false, "a\r\n.\r\nb\r\n",
        0, ALL},
    {"dot LF ends", "a\n.\nb\n", 0, true, "a\r\n", 0, 4},
    {"dot CRLF ends", "a\r\n.\r\nrest\r\n", 0, true, "a\r\n", 0, 6},
    {"dot at EOF ends", "a\n.", 0, true, "a\r\n", 0, 3},
    {"dot alone at EOF", ".", 0, true, "", 0, 1},
    {"dot on the first line", ".\nabc\n", 0, true, "", 0, 2},
    {"the first dot line ends", "a\n.\n.\n", 0, true, "a\r\n", 0, 4},
    {"dot ends after a bare-CR line", "a\rb\n.\r\n", 0, true, "a\r\nb\r\n", 0, 7},
    {"two dots kept", "..\n...\r\n..", 0, true, "..\r\n...\r\n..\r\n", 0, ALL},
    {"dot space is no end", ". \n", 0, true, ". \r\n", 0, ALL},
    {"dot x is no end", ".x\n", 0, true, ".x\r\n", 0, ALL},
    {"dot mid-line", "a.\n.b\nc.d", 0, true, "a.\r\n.b\r\nc.d\r\n", 0, ALL},
    {"dot CR at EOF ends", "a\n.\r", 0, true, "a\r\n", 0, ALL},
    {"dot CR ends, CRLF after it is not read", ".\r\r\n", 0, true, "", 0, 2},
    {"space dot is no end", " .\n", 0, true, " .\r\n", 0, ALL},
};

static void
test_lines_table(void **state)
{
	size_t i, in_len, out_len, consumed;
	struct buf out;
	uint8_t *in;

	(void)state;
	for (i = 0; i < N_ELEMENTS(lines_cases); i++) {
		const struct lines_case *c = &lines_cases[i];

		in_len = c->in_len ? c->in_len : strlen(c->in);
		out_len = c->out_len ? c->out_len : strlen(c->out);
		in = malloc(in_len + 1);
		assert_non_null(in);
		memcpy(in, c->in, in_len);
		buf_init(&out, 0, 0);
		consumed = 12345;
		if (mail_lines_normalize(
		        in, in_len, c->dot_ends, &out, &consumed) != 0)
			fail_msg("%s: failed", c->name);
		if (out.len != out_len ||
		    memcmp(buf_cstr(&out), c->out, out_len) != 0)
			fail_msg("%s: got \"%s\"", c->name, buf_cstr(&out));
		if (consumed != (c->consumed == ALL ? in_len : c->consumed))
			fail_msg("%s: consumed %zu", c->name, consumed);
		/* consumed_r may be NULL. */
		buf_reset(&out);
		assert_int_equal(
		    mail_lines_normalize(in, in_len, c->dot_ends, &out, NULL),
		    0);
		assert_int_equal(out.len, out_len);
		buf_clear(&out);
		free(in);
	}
}

static void
test_lines_appends(void **state)
{
	struct buf out;

	(void)state;
	buf_init(&out, 0, 0);
	assert_int_equal(buf_append_str(&out, "X-Old: 1\r\n"), 0);
	assert_int_equal(
	    mail_lines_normalize((const uint8_t *)"a\n", 2, false, &out, NULL),
	    0);
	assert_string_equal(buf_cstr(&out), "X-Old: 1\r\na\r\n");
	buf_clear(&out);
}

static void
test_lines_max(void **state)
{
	const uint8_t *in = (const uint8_t *)"abc\ndef\n";
	size_t consumed;
	struct buf out;

	(void)state;
	/* "abc\r\ndef\r\n" is 10 bytes. */
	buf_init(&out, 0, 10);
	assert_int_equal(
	    mail_lines_normalize(in, 8, false, &out, &consumed), 0);
	assert_int_equal(out.len, 10);
	assert_int_equal(consumed, 8);
	buf_clear(&out);

	buf_init(&out, 0, 9);
	assert_int_equal(
	    mail_lines_normalize(in, 8, false, &out, &consumed), -1);
	assert_true(out.len <= 9);
	buf_clear(&out);

	/* The added CRLF counts too. */
	buf_init(&out, 0, 4);
	assert_int_equal(mail_lines_normalize((const uint8_t *)"abcd", 4, false,
	                     &out, &consumed),
	    -1);
	buf_clear(&out);

	/* What follows the "." line does not count. */
	buf_init(&out, 0, 3);
	in = (const uint8_t *)"a\n.\nlong text after the end\n";
	assert_int_equal(mail_lines_normalize(in, strlen((const char *)in),
	                     true, &out, &consumed),
	    0);
	assert_string_equal(buf_cstr(&out), "a\r\n");
	assert_int_equal(consumed, 4);
	buf_clear(&out);
}

/* A big message: output has CRLF everywhere and no bare LF. */
static void
test_lines_big(void **state)
{
	size_t i, n = 100000, consumed;
	struct buf in, out;

	(void)state;
	buf_init(&in, 0, 0);
	buf_init(&out, 0, 0);
	for (i = 0; i < n; i++)
		assert_int_equal(
		    buf_append_str(&in, i % 2 ? "line\n" : "line\r\n"), 0);
	assert_int_equal(
	    mail_lines_normalize(in.data, in.len, true, &out, &consumed), 0);
	assert_int_equal(consumed, in.len);
	assert_int_equal(out.len, n * 6);
	for (i = 0; i < out.len; i++) {
		if (out.data[i] == '\n')
			assert_int_equal(out.data[i - 1], '\r');
	}
	buf_clear(&in);
	buf_clear(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lines_table),
	    cmocka_unit_test(test_lines_appends),
	    cmocka_unit_test(test_lines_max),
	    cmocka_unit_test(test_lines_big),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
