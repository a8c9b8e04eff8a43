/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for ctl/: admin requests, submit heads (incomplete, whole,
 * with data to follow), every malformed form, limits and status names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "ctl/ctl.h"

static const struct ctl_limits lim = { .max_data = 100, .max_rcpts = 2 };

static int
parse(const char *s, struct ctl_request *req, struct buf *err)
{
	ctl_request_init(req);
	buf_reset(err);
	return ctl_request_parse((const uint8_t *)s, strlen(s), &lim, req, err);
}

static void
test_ctl_admin(void **state)
{
	struct ctl_request req;
	struct buf err;

	(void)state;
	buf_init(&err, 0, 256);
	assert_int_equal(parse("list", &req, &err), 0);
	assert_int_equal(parse("list json\n", &req, &err), 1);
	assert_string_equal(req.verb, "list");
	assert_int_equal(req.argc, 1);
	assert_string_equal(req.argv[0], "json");
	assert_int_equal(req.head_len, 10);
	ctl_request_clear(&req);
	assert_int_equal(parse("reschedule 0006ABC 1800000000\n", &req, &err), 1);
	assert_int_equal(req.argc, 2);
	ctl_request_clear(&req);
	assert_int_equal(parse("\n", &req, &err), -1);
	assert_int_equal(parse(" list\n", &req, &err), -1);
	assert_int_equal(parse("list  json\n", &req, &err), -1);
	assert_int_equal(parse("list \n", &req, &err), -1);
	assert_int_equal(parse("li\tst\n", &req, &err), -1);
	assert_int_equal(parse("averyveryverylongverb\n", &req, &err), -1);
	assert_int_equal(parse("v 1 2 3 4 5 6 7\n", &req, &err), -1);
	assert_non_null(strstr(buf_cstr(&err), "too many"));
	assert_int_equal(parse("submit extra\n", &req, &err), -1);
	buf_clear(&err);
}

static void
test_ctl_submit(void **state)
{
	static const char head[] = "submit\nfrom a@b.test\nrcpt \"x y\"@c.test\n"
	    "rcpt d@c.test\nat 1800000000\ndata 5\n";
	struct ctl_request req;
	struct buf err, b;
	size_t i;

	(void)state;
	buf_init(&err, 0, 256);
	/* Every prefix of the head is "more, please". */
	for (i = 0; i < sizeof(head) - 1; i++) {
		buf_init(&b, 0, 0);
		assert_int_equal(buf_append(&b, head, i), 0);
		ctl_request_init(&req);
		assert_int_equal(ctl_request_parse(b.data, b.len, &lim, &req,
		    &err), 0);
		assert_null(req.from);
		buf_clear(&b);
	}
	assert_int_equal(parse("submit\nfrom a@b.test\nrcpt \"x y\"@c.test\n"
	    "rcpt d@c.test\nat 1800000000\ndata 5\nhel", &req, &err), 1);
	assert_string_equal(req.from, "a@b.test");
	assert_int_equal(req.n_rcpts, 2);
	assert_string_equal(req.rcpts[0], "\"x y\"@c.test");
	assert_true(req.at == 1800000000);
	assert_true(req.data_len == 5);
	assert_int_equal(req.head_len, sizeof(head) - 1);
	ctl_request_clear(&req);
	/* The null sender. */
	assert_int_equal(parse("submit\nfrom \nrcpt r@c\ndata 0\n", &req, &err),
	    1);
	assert_string_equal(req.from, "");
	ctl_request_clear(&req);
	buf_clear(&err);
}

static const char *const bad_submits[] = {
	"submit\nrcpt r@c\ndata 1\n",			/* no from */
	"submit\nfrom a@b\ndata 1\n",			/* no rcpt */
	"submit\nfrom a@b\nfrom a@b\nrcpt r@c\ndata 1\n",
	"submit\nfrom a@b\nrcpt r@c\nfrom a@b\ndata 1\n",
	"submit\nfrom a@b\nrcpt a\nrcpt b\nrcpt c\ndata 1\n", /* max_rcpts */
	"submit\nfrom a@b\nrcpt r@c\ndata 101\n",	/* max_data */
	"submit\nfrom a@b\nrcpt r@c\ndata 01\n",
	"submit\nfrom a@b\nrcpt r@c\ndata -1\n",
	"submit\nfrom a@b\nrcpt r@c\ndata\n",
	"submit\nfrom a@b\nrcpt r@c\ndata 99999999999999999999999\n",
	"submit\nfrom a@b\nrcpt r@c\nat 0\ndata 1\n",
	"submit\nfrom a@b\nrcpt r@c\nat 1099511627777\ndata 1\n",
	"submit\nfrom a@b\nrcpt r@c\nat 5\nat 6\ndata 1\n",
	"submit\nfrom a@b\nrcpt r@c\nat 5\nrcpt s@c\ndata 1\n",
	"submit\nfrom a@b\nrcpt r\r@c\ndata 1\n",
	"submit\nfrom a@b\nrcpt\ndata 1\n",
	"submit\nfrom a@b\nbcc r@c\ndata 1\n",
	"submit\nFROM a@b\nrcpt r@c\ndata 1\n",
};

static void
test_ctl_submit_bad(void **state)
{
	struct ctl_request req;
	struct buf err, b;
	size_t i;

	(void)state;
	buf_init(&err, 0, 256);
	for (i = 0; i < sizeof(bad_submits) / sizeof(bad_submits[0]); i++) {
		if (parse(bad_submits[i], &req, &err) != -1)
			fail_msg("accepted: %s", bad_submits[i]);
		assert_true(err.len > 0);
		assert_null(req.from);
	}
	/* A NUL inside an address. */
	ctl_request_init(&req);
	assert_int_equal(ctl_request_parse((const uint8_t *)"submit\nfrom a\0b\n",
	    16, &lim, &req, &err), -1);
	/* A line longer than the limit, with or without its newline. */
	buf_init(&b, 0, 0);
	assert_int_equal(buf_append_str(&b, "submit\nfrom "), 0);
	for (i = 0; i < CTL_LINE_MAX_BYTES; i++)
		assert_int_equal(buf_append(&b, "a", 1), 0);
	ctl_request_init(&req);
	assert_int_equal(ctl_request_parse(b.data, b.len, &lim, &req, &err), -1);
	buf_clear(&b);
	buf_clear(&err);
}

static void
test_ctl_words(void **state)
{
	(void)state;
	assert_true(ctl_word_is_valid("0006ABC"));
	assert_false(ctl_word_is_valid(""));
	assert_false(ctl_word_is_valid("a b"));
	assert_false(ctl_word_is_valid("\xc3\xa9"));
	assert_true(ctl_addr_is_valid("\"a b\"@c"));
	assert_false(ctl_addr_is_valid("a\n@c"));
	assert_string_equal(ctl_status_name(CTL_TEMP), "temp");
	assert_int_equal(ctl_status_parse("usage", 5), CTL_USAGE);
	assert_int_equal(ctl_status_parse("okay", 4), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ctl_admin),
	    cmocka_unit_test(test_ctl_submit),
	    cmocka_unit_test(test_ctl_submit_bad),
	    cmocka_unit_test(test_ctl_words),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
