/* SPDX-License-Identifier: ISC */
/* Unit tests for smtp/smtp_reply: formatting and scrubbing of replies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "smtp/smtp_reply.h"

struct reply_case {
	int code;
	const char *enh;
	const char *text;
	const char *out;
};

static const struct reply_case reply_cases[] = {
	{ .code = 250, .enh = "2.0.0", .text = "Ok",
	    .out = "250 2.0.0 Ok\r\n" },
	{ .code = 220, .text = "mx ESMTP tern", .out = "220 mx ESMTP tern\r\n" },
	{ .code = 250, .enh = "2.1.0", .text = NULL,
	    .out = "250 2.1.0 Ok\r\n" },
	{ .code = 550, .enh = "5.1.1", .text = "", .out = "550 5.1.1 Error\r\n" },
	{ .code = 250, .text = "a\nb\nc", .out = "250-a\r\n250-b\r\n250 c\r\n" },
	{ .code = 451, .enh = "4.3.0", .text = "x\ny",
	    .out = "451-4.3.0 x\r\n451 4.3.0 y\r\n" },
	/* No reply injection through CR, controls or non-ASCII. */
	{ .code = 550, .enh = "5.7.1", .text = "a\r\n250 ok",
	    .out = "550-5.7.1 a?\r\n550 5.7.1 250 ok\r\n" },
	{ .code = 550, .enh = "5.7.1", .text = "\x01\xc3\xbc",
	    .out = "550 5.7.1 ???\r\n" },
	/* Bad or mismatched enhanced codes fall back to the class. */
	{ .code = 550, .enh = "4.1.1", .text = "x", .out = "550 5.0.0 x\r\n" },
	{ .code = 550, .enh = "5.01.1", .text = "x", .out = "550 5.0.0 x\r\n" },
	{ .code = 550, .enh = "5.1.1000", .text = "x",
	    .out = "550 5.0.0 x\r\n" },
	{ .code = 550, .enh = "5.1", .text = "x", .out = "550 5.0.0 x\r\n" },
	{ .code = 550, .enh = "", .text = "x", .out = "550 5.0.0 x\r\n" },
	{ .code = 550, .enh = "5.999.999", .text = "x",
	    .out = "550 5.999.999 x\r\n" },
};

static void
test_reply_format(void **state)
{
	struct buf out;
	size_t i;

	(void)state;
	buf_init(&out, 0, 0);
	for (i = 0; i < N_ELEMENTS(reply_cases); i++) {
		const struct reply_case *c = &reply_cases[i];

		buf_reset(&out);
		assert_int_equal(smtp_reply(&out, c->code, c->enh, c->text), 0);
		assert_string_equal(buf_cstr(&out), c->out);
	}
	buf_reset(&out);
	assert_int_equal(smtp_reply_printf(&out, 250, "2.0.0",
	    "%d octets received", 42), 0);
	assert_string_equal(buf_cstr(&out), "250 2.0.0 42 octets received\r\n");
	buf_clear(&out);
}

static void
test_reply_limits(void **state)
{
	char text[1000];
	struct buf out;

	(void)state;
	/* A full buffer takes nothing. */
	buf_init(&out, 0, 10);
	assert_int_equal(smtp_reply(&out, 250, "2.0.0", "Ok"), -1);
	assert_int_equal(out.len, 0);
	buf_clear(&out);
	/* Long text lines are cut. */
	buf_init(&out, 0, 0);
	memset(text, 'x', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	assert_int_equal(smtp_reply(&out, 250, "2.0.0", text), 0);
	assert_int_equal(out.len, 10 + SMTP_REPLY_LINE_MAX_BYTES + 2);
	buf_clear(&out);
	assert_true(smtp_reply_is_valid_enh(250, "2.0.0"));
	assert_false(smtp_reply_is_valid_enh(250, "5.0.0"));
	assert_false(smtp_reply_is_valid_enh(250, NULL));
	assert_false(smtp_reply_is_valid_enh(250, "2.0.0 "));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reply_format),
		cmocka_unit_test(test_reply_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
