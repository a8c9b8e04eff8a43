/* SPDX-License-Identifier: ISC */
/* Unit tests for core/buf and core/str. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/str.h"

static void
test_buf_max(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 0, 8);
	assert_int_equal(buf_append(&b, "12345678", 8), 0);
	assert_int_equal(buf_append(&b, "9", 1), -1);
	assert_int_equal(b.len, 8);
	assert_string_equal(buf_cstr(&b), "12345678");
	buf_consume(&b, 3);
	assert_string_equal(buf_cstr(&b), "45678");
	assert_int_equal(buf_printf(&b, "%d", 123), 0);
	assert_int_equal(buf_printf(&b, "%d", 4), -1);
	assert_string_equal(buf_cstr(&b), "45678123");
	buf_clear(&b);
}

static void
test_buf_getline(void **state)
{
	struct buf b;
	size_t len;
	const uint8_t *line;

	(void)state;
	buf_init(&b, 0, 0);
	assert_int_equal(buf_append_str(&b, "abc\ndef\r"), 0);
	assert_null(buf_getline(&b, &len));
	assert_int_equal(buf_append_str(&b, "\nxyz"), 0);
	line = buf_getline(&b, &len);
	assert_non_null(line);
	assert_int_equal(len, 7);
	assert_memory_equal(line, "abc\ndef", 7);
	buf_consume(&b, len + 2);
	assert_string_equal(buf_cstr(&b), "xyz");
	buf_clear(&b);
}

static void
test_parse_numbers(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(parse_uint("42", 0, 100, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(parse_uint("101", 0, 100, &v), -1);
	assert_int_equal(parse_uint("-1", 0, 100, &v), -1);
	assert_int_equal(parse_uint("", 0, 100, &v), -1);
	assert_int_equal(parse_uint("4 ", 0, 100, &v), -1);
	assert_int_equal(parse_uint("99999999999999999999", 0, UINT64_MAX, &v),
	    -1);
	assert_int_equal(parse_size("25M", &v), 0);
	assert_int_equal(v, 25u * 1024 * 1024);
	assert_int_equal(parse_size("10k", &v), 0);
	assert_int_equal(v, 10240);
	assert_int_equal(parse_size("M", &v), -1);
	assert_int_equal(parse_size("5X", &v), -1);
	assert_int_equal(parse_duration("5m", &v), 0);
	assert_int_equal(v, 300);
	assert_int_equal(parse_duration("2d", &v), 0);
	assert_int_equal(v, 172800);
	assert_int_equal(parse_duration("30", &v), 0);
	assert_int_equal(v, 30);
}

static void
test_str_helpers(void **state)
{
	char out[16];
	char small[4];

	(void)state;
	assert_int_equal(str_casecmp("ExAmple.TEST", "example.test"), 0);
	assert_true(str_has_case_prefix("MAIL FROM:<>", "mail from:"));
	assert_false(str_has_case_prefix("MAI", "mail"));
	assert_string_equal(str_sanitize(out, sizeof(out), "a\r\nb", 4),
	    "a\\x0d\\x0ab");
	assert_string_equal(str_sanitize(out, sizeof(out),
	    "0123456789abcdefghij", 20), "0123456789ab...");
	assert_int_equal(str_copy(small, "abc", sizeof(small)), 0);
	assert_int_equal(str_copy(small, "abcd", sizeof(small)), -1);
	assert_string_equal(small, "abc");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf_max),
		cmocka_unit_test(test_buf_getline),
		cmocka_unit_test(test_parse_numbers),
		cmocka_unit_test(test_str_helpers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
