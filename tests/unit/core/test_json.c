/* SPDX-License-Identifier: ISC */
/* Unit tests for core/json: escapes, UTF-8 kept or replaced, limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/json.h"

static const char *
put(struct buf *b, const char *s, size_t len)
{
	buf_reset(b);
	assert_int_equal(json_put_string_n(b, s, len), 0);
	return buf_cstr(b);
}

static void
test_json_escapes(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 0, 0);
	assert_string_equal(put(&b, "", 0), "\"\"");
	assert_string_equal(put(&b, "a\"b\\c", 5), "\"a\\\"b\\\\c\"");
	assert_string_equal(put(&b, "\r\n\t\x01\x7f", 5),
	    "\"\\u000d\\u000a\\u0009\\u0001\\u007f\"");
	assert_string_equal(put(&b, "a\0b", 3), "\"a\\u0000b\"");
	/* U+009B (CSI) is a control too. */
	assert_string_equal(put(&b, "\xc2\x9b[", 3), "\"\\u009b[\"");
	/* Valid UTF-8 stays: e-acute, a CJK character, an emoji. */
	assert_string_equal(put(&b, "\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80", 9),
	    "\"\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80\"");
	/* Invalid: lone continuation, overlong '/', surrogate, cut short. */
	assert_string_equal(put(&b, "\x80", 1), "\"\xef\xbf\xbd\"");
	assert_string_equal(put(&b, "\xc0\xaf", 2),
	    "\"\xef\xbf\xbd\xef\xbf\xbd\"");
	assert_string_equal(put(&b, "\xed\xa0\x80", 3),
	    "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
	assert_string_equal(put(&b, "x\xe4\xb8", 3),
	    "\"x\xef\xbf\xbd\xef\xbf\xbd\"");
	buf_reset(&b);
	assert_int_equal(json_put_string(&b, NULL), 0);
	assert_string_equal(buf_cstr(&b), "null");
	buf_clear(&b);
}

static void
test_json_full(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 0, 4);
	assert_int_equal(json_put_string(&b, "abc"), -1);
	buf_clear(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_json_escapes),
	    cmocka_unit_test(test_json_full),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
