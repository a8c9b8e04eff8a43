/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for auth/auth_sasl: tables of PLAIN (RFC 4616) and LOGIN
 * exchanges, valid and invalid, with the RFC 4954 §4 details ("=", "*").
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "auth/auth.h"
#include "auth/auth_base64.h"
#include "auth/auth_sasl.h"
#include "core/buf.h"

#define NO_INITIAL NULL
#define STEPS_MAX 3

/* One exchange: start, then each step line; the last status decides. */
struct sasl_case {
	const char *name;
	const char *mech;
	const char *initial;               /* NULL: no initial response */
	const char *steps[STEPS_MAX];      /* NULL-terminated */
	const char *challenges[STEPS_MAX]; /* 334 texts expected, in order */
	/* valid cases */
	const char *login;
	const char *password;
	/* invalid cases */
	int code;
	const char *enh;
	const char *text;
};

static const struct sasl_case valid_cases[] = {
    {.name = "PLAIN with initial response",
        .mech = "PLAIN",
        .initial = "AHVzZXJAZXhhbXBsZS5jb20Ac2VjcmV0",
        .login = "user@example.com",
        .password = "secret"},
    {.name = "PLAIN authzid equal to authcid",
        .mech = "PLAIN",
        .initial = "dXNlckBleGFtcGxlLmNvbQB1c2VyQGV4YW1wbGUuY29tAHNlY3JldA==",
        .login = "user@example.com",
        .password = "secret"},
    {.name = "PLAIN authzid differs only in case",
        .mech = "plain",
        .initial = "VVNFUkBFeGFtcGxlLmNvbQB1c2VyQGV4YW1wbGUuY29tAHB3",
        .login = "user@example.com",
        .password = "pw"},
    {.name = "PLAIN after an empty challenge",
        .mech = "Plain",
        .initial = NO_INITIAL,
        .steps = {"AHVzZXIAcHc="},
        .challenges = {""},
        .login = "user",
        .password = "pw"},
    {.name = "LOGIN in two steps",
        .mech = "LOGIN",
        .initial = NO_INITIAL,
        .steps = {"dXNlckBleGFtcGxlLmNvbQ==", "cMOkc3Mgd29yZA=="},
        .challenges = {"VXNlcm5hbWU6", "UGFzc3dvcmQ6"},
        .login = "user@example.com",
        .password = "p\xc3\xa4ss word"},
    {.name = "LOGIN with the username as initial response",
        .mech = "login",
        .initial = "dXNlckBleGFtcGxlLmNvbQ==",
        .steps = {"cMOkc3Mgd29yZA=="},
        .challenges = {"UGFzc3dvcmQ6"},
        .login = "user@example.com",
        .password = "p\xc3\xa4ss word"},
};

static const struct sasl_case invalid_cases[] = {
    {.name = "unknown mechanism",
        .mech = "CRAM-MD5",
        .initial = NO_INITIAL,
        .code = 504,
        .enh = "5.5.4",
        .text = "Unrecognized authentication type"},
    {.name = "PLAIN initial '=' is empty",
        .mech = "PLAIN",
        .initial = "=",
        .code = 501,
        .enh = "5.5.2",
        .text = "PLAIN response lacks NUL separators"},
    {.name = "PLAIN unpadded base64",
        .mech = "PLAIN",
        .initial = "AHVzZXIAcHc",
        .code = 501,
        .enh = "5.5.2",
        .text = "Cannot decode base64 response"},
    {.name = "PLAIN base64 with a space",
        .mech = "PLAIN",
        .initial = "AHVzZXIA cHc=",
        .code = 501,
        .enh = "5.5.2",
        .text = "Cannot decode base64 response"},
    {.name = "PLAIN base64 non-canonical",
        .mech = "PLAIN",
        .initial = "AHVzZXIAcHd=",
        .code = 501,
        .enh = "5.5.2",
        .text = "Cannot decode base64 response"},
    {.name = "PLAIN initial '*' is not base64",
        .mech = "PLAIN",
        .initial = "*",
        .code = 501,
        .enh = "5.5.2",
        .text = "Cannot decode base64 response"},
    {.name = "PLAIN no NUL",
        .mech = "PLAIN",
        .initial = "dXNlcnBhc3M=",
        .code = 501,
        .enh = "5.5.2",
        .text = "PLAIN response lacks NUL separators"},
    {.name = "PLAIN one NUL",
        .mech = "PLAIN",
        .initial = "AHVzZXI=",
        .code = 501,
        .enh = "5.5.2",
        .text = "PLAIN response lacks the second NUL"},
    {.name = "PLAIN empty authcid",
        .mech = "PLAIN",
        .initial = "AABwdw==",
        .code = 501,
        .enh = "5.5.2",
        .text = "PLAIN authcid is empty"},
    {.name = "PLAIN empty password",
        .mech = "PLAIN",
        .initial = "AHVzZXIA",
        .code = 501,
        .enh = "5.5.2",
        .text = "PLAIN password is empty"},
    {.name = "PLAIN NUL in password",
        .mech = "PLAIN",
        .initial = "AHVzZXIAcHcAeA==",
        .code = 501,
        .enh = "5.5.2",
        .text = "PLAIN password contains NUL"},
    {.name = "PLAIN control character in authcid",
        .mech = "PLAIN",
        .initial = "AHVzCWVyAHB3",
        .code = 501,
        .enh = "5.5.2",
        .text = "PLAIN authcid contains a control character"},
    {.name = "PLAIN proxy authorization",
        .mech = "PLAIN",
        .initial = "b3RoZXIAdXNlcgBwdw==",
        .code = 535,
        .enh = "5.7.8",
        .text = "Proxy authorization is not supported"},
    {.name = "PLAIN cancelled",
        .mech = "PLAIN",
        .initial = NO_INITIAL,
        .steps = {"*"},
        .challenges = {""},
        .code = 501,
        .enh = "5.0.0",
        .text = "Authentication cancelled"},
    {.name = "PLAIN '=' in a step",
        .mech = "PLAIN",
        .initial = NO_INITIAL,
        .steps = {"="},
        .challenges = {""},
        .code = 501,
        .enh = "5.5.2",
        .text = "Cannot decode base64 response"},
    {.name = "PLAIN empty step",
        .mech = "PLAIN",
        .initial = NO_INITIAL,
        .steps = {""},
        .challenges = {""},
        .code = 501,
        .enh = "5.5.2",
        .text = "PLAIN response lacks NUL separators"},
    {.name = "LOGIN cancelled at username",
        .mech = "LOGIN",
        .initial = NO_INITIAL,
        .steps = {"*"},
        .challenges = {"VXNlcm5hbWU6"},
        .code = 501,
        .enh = "5.0.0",
        .text = "Authentication cancelled"},
    {.name = "LOGIN cancelled at password",
        .mech = "LOGIN",
        .initial = NO_INITIAL,
        .steps = {"dXNlcg==", "*"},
        .challenges = {"VXNlcm5hbWU6", "UGFzc3dvcmQ6"},
        .code = 501,
        .enh = "5.0.0",
        .text = "Authentication cancelled"},
    {.name = "LOGIN empty username",
        .mech = "LOGIN",
        .initial = NO_INITIAL,
        .steps = {""},
        .challenges = {"VXNlcm5hbWU6"},
        .code = 501,
        .enh = "5.5.2",
        .text = "LOGIN username is empty"},
    {.name = "LOGIN initial '=' is an empty username",
        .mech = "LOGIN",
        .initial = "=",
        .code = 501,
        .enh = "5.5.2",
        .text = "LOGIN username is empty"},
    {.name = "LOGIN empty password",
        .mech = "LOGIN",
        .initial = "dXNlcg==",
        .steps = {""},
        .challenges = {"UGFzc3dvcmQ6"},
        .code = 501,
        .enh = "5.5.2",
        .text = "LOGIN password is empty"},
    {.name = "LOGIN NUL in username",
        .mech = "LOGIN",
        .initial = "dXMAZXI=",
        .code = 501,
        .enh = "5.5.2",
        .text = "LOGIN username contains a control character"},
    {.name = "LOGIN NUL in password",
        .mech = "LOGIN",
        .initial = "dXNlcg==",
        .steps = {"cHcAeA=="},
        .challenges = {"UGFzc3dvcmQ6"},
        .code = 501,
        .enh = "5.5.2",
        .text = "LOGIN password contains NUL"},
    {.name = "LOGIN bad base64 password",
        .mech = "LOGIN",
        .initial = "dXNlcg==",
        .steps = {"cHc"},
        .challenges = {"UGFzc3dvcmQ6"},
        .code = 501,
        .enh = "5.5.2",
        .text = "Cannot decode base64 response"},
};

/* Runs c; returns the final status and checks every challenge. */
static enum auth_sasl_status
run_case(struct auth_sasl *s, const struct sasl_case *c)
{
	enum auth_sasl_status st;
	size_t i;

	st = auth_sasl_start(s, c->mech, c->initial);
	for (i = 0; i < STEPS_MAX && c->steps[i] != NULL; i++) {
		if (st != AUTH_SASL_NEED_MORE)
			fail_msg("%s: status %d before step %zu", c->name,
			    (int)st, i);
		assert_int_equal(auth_sasl_reply(s)->code, 334);
		assert_non_null(c->challenges[i]);
		assert_string_equal(auth_sasl_reply(s)->text, c->challenges[i]);
		assert_null(auth_sasl_login(s));
		st = auth_sasl_step(s, c->steps[i], strlen(c->steps[i]));
	}
	return st;
}

static void
test_sasl_valid(void **state)
{
	struct auth_sasl *s = auth_sasl_new();
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(valid_cases); i++) {
		const struct sasl_case *c = &valid_cases[i];

		if (run_case(s, c) != AUTH_SASL_DONE)
			fail_msg("%s: not DONE: %d %s", c->name,
			    auth_sasl_reply(s)->code, auth_sasl_reply(s)->text);
		assert_int_equal(auth_sasl_reply(s)->code, 0);
		assert_string_equal(auth_sasl_login(s), c->login);
		assert_string_equal(auth_sasl_password(s), c->password);
		auth_sasl_reset(s);
		assert_null(auth_sasl_login(s));
		assert_null(auth_sasl_password(s));
	}
	auth_sasl_free(&s);
	assert_null(s);
}

static void
test_sasl_invalid(void **state)
{
	struct auth_sasl *s = auth_sasl_new();
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(invalid_cases); i++) {
		const struct sasl_case *c = &invalid_cases[i];
		const struct auth_sasl_reply *r;

		if (run_case(s, c) != AUTH_SASL_ERROR)
			fail_msg("%s: not ERROR", c->name);
		r = auth_sasl_reply(s);
		if (r->code != c->code || strcmp(r->enh, c->enh) != 0 ||
		    strcmp(r->text, c->text) != 0)
			fail_msg("%s: got %d %s %s", c->name, r->code, r->enh,
			    r->text);
		assert_null(auth_sasl_login(s));
		assert_null(auth_sasl_password(s));
	}
	auth_sasl_free(&s);
}

/* Encodes "\0" login "\0" password of the given lengths into b64. */
static void
make_plain(struct buf *b64, size_t login_len, size_t pw_len)
{
	struct buf raw;

	buf_init(&raw, 0, 0);
	assert_int_equal(buf_append(&raw, "\0", 1), 0);
	while (login_len-- > 0)
		assert_int_equal(buf_append(&raw, "u", 1), 0);
	assert_int_equal(buf_append(&raw, "\0", 1), 0);
	while (pw_len-- > 0)
		assert_int_equal(buf_append(&raw, "p", 1), 0);
	buf_reset(b64);
	assert_int_equal(auth_base64_encode(b64, raw.data, raw.len), 0);
	buf_clear(&raw);
}

static void
test_sasl_limits(void **state)
{
	struct auth_sasl *s = auth_sasl_new();
	struct buf b64, line;
	const struct auth_sasl_reply *r;

	(void)state;
	buf_init(&b64, 0, 0);
	make_plain(&b64, AUTH_LOGIN_MAX_BYTES, AUTH_PASSWORD_MAX_BYTES);
	assert_int_equal(
	    auth_sasl_start(s, "PLAIN", buf_cstr(&b64)), AUTH_SASL_DONE);
	assert_int_equal(strlen(auth_sasl_login(s)), AUTH_LOGIN_MAX_BYTES);
	assert_int_equal(
	    strlen(auth_sasl_password(s)), AUTH_PASSWORD_MAX_BYTES);

	make_plain(&b64, AUTH_LOGIN_MAX_BYTES + 1, 1);
	assert_int_equal(
	    auth_sasl_start(s, "PLAIN", buf_cstr(&b64)), AUTH_SASL_ERROR);
	assert_string_equal(
	    auth_sasl_reply(s)->text, "PLAIN identity too long");

	make_plain(&b64, 1, AUTH_PASSWORD_MAX_BYTES + 1);
	assert_int_equal(
	    auth_sasl_start(s, "PLAIN", buf_cstr(&b64)), AUTH_SASL_ERROR);
	assert_string_equal(
	    auth_sasl_reply(s)->text, "PLAIN password too long");

	/* A line longer than any valid response: 500 5.5.6 (RFC 4954 §6). */
	buf_init(&line, 0, 0);
	while (line.len <= AUTH_SASL_LINE_MAX_BYTES)
		assert_int_equal(buf_append_str(&line, "AAAA"), 0);
	assert_int_equal(
	    auth_sasl_start(s, "LOGIN", NULL), AUTH_SASL_NEED_MORE);
	assert_int_equal(auth_sasl_step(s, (const char *)line.data, line.len),
	    AUTH_SASL_ERROR);
	r = auth_sasl_reply(s);
	assert_int_equal(r->code, 500);
	assert_string_equal(r->enh, "5.5.6");

	/* Restarting mid-exchange forgets the earlier one. */
	assert_int_equal(
	    auth_sasl_start(s, "LOGIN", "dXNlcg=="), AUTH_SASL_NEED_MORE);
	assert_int_equal(
	    auth_sasl_start(s, "PLAIN", "AHVzZXIAcHc="), AUTH_SASL_DONE);
	assert_string_equal(auth_sasl_login(s), "user");
	buf_clear(&line);
	buf_clear(&b64);
	auth_sasl_free(&s);
	auth_sasl_free(&s); /* NULL is fine */
}

static void
test_sasl_plain_parse(void **state)
{
	struct str login, password;
	const char *error = NULL;

	(void)state;
	assert_int_equal(auth_sasl_plain_parse((const uint8_t *)"a\0a\0p", 5,
	                     &login, &password, &error),
	    0);
	assert_int_equal(login.len, 1);
	assert_memory_equal(login.p, "a", 1);
	assert_int_equal(password.len, 1);
	assert_int_equal(auth_sasl_plain_parse((const uint8_t *)"b\0a\0p", 5,
	                     &login, &password, &error),
	    -2);
	assert_int_equal(auth_sasl_plain_parse((const uint8_t *)"ab\0a\0p", 6,
	                     &login, &password, &error),
	    -2);
	assert_int_equal(auth_sasl_plain_parse(
	                     (const uint8_t *)"", 0, &login, &password, &error),
	    -1);
	assert_string_equal(error, "PLAIN response lacks NUL separators");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sasl_valid),
	    cmocka_unit_test(test_sasl_invalid),
	    cmocka_unit_test(test_sasl_limits),
	    cmocka_unit_test(test_sasl_plain_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
