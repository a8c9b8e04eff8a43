/* SPDX-License-Identifier: ISC */
/* Unit tests for auth/auth_base64: RFC 4648 §10 vectors, strictness. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "auth/auth_base64.h"
#include "core/buf.h"

struct base64_valid {
	const char *raw;
	size_t raw_len;
	const char *text;
};

/* RFC 4648 §10, plus bytes that use '+', '/' and NUL. */
static const struct base64_valid valid_tests[] = {
    {.raw = "", .raw_len = 0, .text = ""},
    {.raw = "f", .raw_len = 1, .text = "Zg=="},
    {.raw = "fo", .raw_len = 2, .text = "Zm8="},
    {.raw = "foo", .raw_len = 3, .text = "Zm9v"},
    {.raw = "foob", .raw_len = 4, .text = "Zm9vYg=="},
    {.raw = "fooba", .raw_len = 5, .text = "Zm9vYmE="},
    {.raw = "foobar", .raw_len = 6, .text = "Zm9vYmFy"},
    {.raw = "\xfb\xff\xbf", .raw_len = 3, .text = "+/+/"},
    {.raw = "\0u\0p", .raw_len = 4, .text = "AHUAcA=="},
};

struct base64_invalid {
	const char *text;
	const char *why;
};

static const struct base64_invalid invalid_tests[] = {
    {.text = "Zg", .why = "missing padding"},
    {.text = "Zg=", .why = "length not a multiple of 4"},
    {.text = "Zm9vY", .why = "length not a multiple of 4"},
    {.text = "Zm9v ", .why = "trailing space"},
    {.text = " Zm9", .why = "leading space"},
    {.text = "Zm\r\n", .why = "CRLF inside"},
    {.text = "Zm9!", .why = "character outside the alphabet"},
    {.text = "Zm-_", .why = "URL-safe alphabet"},
    {.text = "Zh==", .why = "non-zero bits under padding"},
    {.text = "Zm9=", .why = "non-zero bits under one '='"},
    {.text = "Zg==Zg==", .why = "padding in the middle"},
    {.text = "Z===", .why = "three '='"},
    {.text = "====", .why = "only padding"},
    {.text = "Zg=a", .why = "data after '='"},
    {.text = "=Zg=", .why = "leading '='"},
};

static void
test_base64_valid(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(valid_tests); i++) {
		const struct base64_valid *t = &valid_tests[i];
		struct buf b;

		buf_init(&b, 0, 64);
		assert_int_equal(
		    auth_base64_encode(&b, (const uint8_t *)t->raw, t->raw_len),
		    0);
		assert_string_equal(buf_cstr(&b), t->text);
		assert_int_equal(auth_base64_encoded_len(t->raw_len), b.len);
		buf_reset(&b);
		assert_int_equal(
		    auth_base64_decode(&b, t->text, strlen(t->text)), 0);
		assert_int_equal(b.len, t->raw_len);
		if (t->raw_len > 0)
			assert_memory_equal(b.data, t->raw, t->raw_len);
		buf_clear(&b);
	}
}

static void
test_base64_invalid(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(invalid_tests); i++) {
		const struct base64_invalid *t = &invalid_tests[i];
		struct buf b;

		buf_init(&b, 0, 64);
		assert_int_equal(buf_append_str(&b, "old"), 0);
		if (auth_base64_decode(&b, t->text, strlen(t->text)) != -1)
			fail_msg("accepted \"%s\" (%s)", t->text, t->why);
		/* A failed decode leaves what was there before. */
		assert_string_equal(buf_cstr(&b), "old");
		buf_clear(&b);
	}
}

static void
test_base64_max(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 0, 5);
	assert_int_equal(auth_base64_decode(&b, "Zm9vYmFy", 8), -1);
	assert_int_equal(b.len, 0);
	assert_int_equal(auth_base64_decode(&b, "Zm9vYg==", 8), 0);
	assert_int_equal(b.len, 4);
	buf_reset(&b);
	assert_int_equal(
	    auth_base64_encode(&b, (const uint8_t *)"foob", 4), -1);
	assert_int_equal(b.len, 0);
	buf_clear(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_base64_valid),
	    cmocka_unit_test(test_base64_invalid),
	    cmocka_unit_test(test_base64_max),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
