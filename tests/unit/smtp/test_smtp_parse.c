/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for smtp/smtp_parse: line framing, verb splitting, paths
 * and ESMTP parameters.  Valid and invalid inputs are separate tables;
 * each invalid case names the reply it must produce.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "smtp/smtp_parse.h"

#define L64 "0123456789012345678901234567890123456789012345678901234567890123"
#define D63 "a12345678901234567890123456789012345678901234567890123456789012"
/* 4 * 64 - 1 = 255 bytes. */
#define DOM255 D63 "." D63 "." D63 "." D63
/* "<a@" DOM252 ">" is exactly SMTP_PATH_MAX. */
#define DOM252 D63 "." D63 "." D63 "." \
	"a12345678901234567890123456789012345678901234567890123456789"

struct mail_ok {
	const char *args;
	const char *from;
	bool is_utf8;
	bool has_size;
	uint64_t size;
	enum envelope_body body;
	bool smtputf8;
	bool has_auth;
};

static const struct mail_ok mail_valid[] = {
	{ .args = "FROM:<a@b>", .from = "a@b" },
	/* RFC 4954 5: AUTH=<> or xtext, checked and ignored. */
	{ .args = "FROM:<a@b> AUTH=<>", .from = "a@b", .has_auth = true },
	{ .args = "FROM:<a@b> auth=u+2Bx+3D@d.example", .from = "a@b",
	    .has_auth = true },
	{ .args = "from:<a@b.example>", .from = "a@b.example" },
	{ .args = "FROM:<>", .from = "" },
	{ .args = "FROM: <a@b>", .from = "a@b" },
	{ .args = "FROM:<first.last+tag@sub.example.org>",
	    .from = "first.last+tag@sub.example.org" },
	{ .args = "FROM:<!#$%&'*+-/=?^_`{|}~@x>",
	    .from = "!#$%&'*+-/=?^_`{|}~@x" },
	{ .args = "FROM:<\"a b\"@c>", .from = "\"a b\"@c" },
	{ .args = "FROM:<\"a\\\"b@\\\\\"@c>", .from = "\"a\\\"b@\\\\\"@c" },
	{ .args = "FROM:<\"<>,:;\"@c>", .from = "\"<>,:;\"@c" },
	{ .args = "FROM:<@r1.example,@r2.example:u@d>", .from = "u@d" },
	{ .args = "FROM:<@r1:u@d>", .from = "u@d" },
	{ .args = "FROM:<u@[192.0.2.1]>", .from = "u@[192.0.2.1]" },
	{ .args = "FROM:<u@[IPv6:2001:db8::1]>",
	    .from = "u@[IPv6:2001:db8::1]" },
	{ .args = "FROM:<u@a-b.c--d.e1>", .from = "u@a-b.c--d.e1" },
	{ .args = "FROM:<" L64 "@b>", .from = L64 "@b" },
	{ .args = "FROM:<a@" DOM252 ">", .from = "a@" DOM252 },
	{ .args = "FROM:<a@b> SIZE=1000", .from = "a@b", .has_size = true,
	    .size = 1000 },
	{ .args = "FROM:<a@b> size=0 body=7bit", .from = "a@b",
	    .has_size = true, .size = 0, .body = ENVELOPE_BODY_7BIT },
	{ .args = "FROM:<a@b> BODY=8BITMIME", .from = "a@b",
	    .body = ENVELOPE_BODY_8BITMIME },
	{ .args = "FROM:<a@b> BODY=BINARYMIME  SMTPUTF8", .from = "a@b",
	    .body = ENVELOPE_BODY_BINARYMIME, .smtputf8 = true },
	{ .args = "FROM:<a@b> SIZE=18446744073709551615", .from = "a@b",
	    .has_size = true, .size = UINT64_MAX },
	{ .args = "FROM:<\xc3\xbc\xc3\xb1@\xe4\xbe\x8b.example> SMTPUTF8",
	    .from = "\xc3\xbc\xc3\xb1@\xe4\xbe\x8b.example", .is_utf8 = true,
	    .smtputf8 = true },
	{ .args = "FROM:<\"\xf0\x9f\x98\x80 x\"@b> SMTPUTF8",
	    .from = "\"\xf0\x9f\x98\x80 x\"@b", .is_utf8 = true,
	    .smtputf8 = true },
};

struct parse_bad {
	const char *args;
	int code;
	const char *enh;
};

static const struct parse_bad mail_invalid[] = {
	{ .args = "", .code = 501, .enh = "5.5.2" },
	{ .args = "TO:<a@b>", .code = 501, .enh = "5.5.2" },
	{ .args = "FROM <a@b>", .code = 501, .enh = "5.5.2" },
	{ .args = "FROM:a@b", .code = 501, .enh = "5.1.7" },
	{ .args = "FROM:<a@b", .code = 501, .enh = "5.1.7" },
	{ .args = "FROM:a@b>", .code = 501, .enh = "5.1.7" },
	{ .args = "FROM:<a @b>", .code = 501, .enh = "5.1.7" },
	{ .args = "FROM:<a@ b>", .code = 501, .enh = "5.1.7" },
	{ .args = "FROM:< a@b>", .code = 501, .enh = "5.1.7" },
	{ .args = "FROM:<a@b >", .code = 501, .enh = "5.1.7" },
	{ .args = "FROM:<a>", .code = 501, .enh = "5.1.7" },
	{ .args = "FROM:<Postmaster>", .code = 501, .enh = "5.1.7" },
	{ .args = "FROM:<@b>", .code = 501, .enh = "5.1.7" },
	{ .args = "FROM:<a@>", .code = 501, .enh = "5.1.7" },
	{ .args = "FROM:<.a@b>", .code = 501, .enh = "5.1.7" },
	{ .args = "FROM:<a.@b>", .code = 501, .enh = "5.1.7" },
	{ .args = "FROM:<a..b@c>", .code = 501, .enh = "5.1.7" },
	{ .args = "FROM:<a@b..c>", .code = 501, .enh = "5.1.7" },
	{ .args = "FROM:<a@b.>", .code = 501, .enh = "5.1.7" },
	{ .args = "FROM:<a@-b>", .code = 501, .enh = "5.1.7" },
	{ .args = "FROM:<a@b->", .code = 501, .enh = "5.1.7" },
	{ .args = "FROM:<a@b_c>", .code = 501, .enh = "5.1.7" },
	{ .args = "FROM:<a(b)@c>", .code = 501, .enh = "5.1.7" },
	{ .args = "FROM:<\"a@b>", .code = 501, .enh = "5.1.7" },
	{ .args = "FROM:<\"a\x01\"@b>", .code = 501, .enh = "5.1.7" },
	{ .args = "FROM:<a@[1.2.3]>", .code = 501, .enh = "5.1.7" },
	{ .args = "FROM:<a@[256.1.1.1]>", .code = 501, .enh = "5.1.7" },
	{ .args = "FROM:<a@[IPv6:::g]>", .code = 501, .enh = "5.1.7" },
	{ .args = "FROM:<a@[tag:x]>", .code = 501, .enh = "5.1.7" },
	{ .args = "FROM:<a@[]>", .code = 501, .enh = "5.1.7" },
	{ .args = "FROM:<a@[1.2.3.4>", .code = 501, .enh = "5.1.7" },
	{ .args = "FROM:<@r1:>", .code = 501, .enh = "5.1.7" },
	{ .args = "FROM:<@r1,r2:a@b>", .code = 501, .enh = "5.1.7" },
	{ .args = "FROM:<@r1 a@b>", .code = 501, .enh = "5.1.7" },
	{ .args = "FROM:<@:a@b>", .code = 501, .enh = "5.1.7" },
	{ .args = "FROM:<" L64 "0@b>", .code = 501, .enh = "5.1.7" },
	{ .args = "FROM:<a@" DOM252 "0>", .code = 501, .enh = "5.1.7" },
	{ .args = "FROM:<a@" DOM255 ">", .code = 501, .enh = "5.1.7" },
	{ .args = "FROM:<a@" D63 "0.b>", .code = 501, .enh = "5.1.7" },
	/* 64 + 1 + 189 + 2 = 256 is fine, 257 is not. */
	{ .args = "FROM:<" L64 "@" D63 "." D63 "." D63 "..>", .code = 501,
	    .enh = "5.1.7" },
	{ .args = "FROM:<" L64 "@" D63 "." D63 "." D63 ".ab>", .code = 501,
	    .enh = "5.1.7" },
	{ .args = "FROM:<a@b>x", .code = 501, .enh = "5.5.4" },
	{ .args = "FROM:<a@b> =1", .code = 501, .enh = "5.5.4" },
	{ .args = "FROM:<a@b> SIZE=", .code = 501, .enh = "5.5.4" },
	{ .args = "FROM:<a@b> SIZE", .code = 501, .enh = "5.5.4" },
	{ .args = "FROM:<a@b> SIZE=-1", .code = 501, .enh = "5.5.4" },
	{ .args = "FROM:<a@b> SIZE=1x", .code = 501, .enh = "5.5.4" },
	{ .args = "FROM:<a@b> SIZE=18446744073709551616", .code = 501,
	    .enh = "5.5.4" },
	{ .args = "FROM:<a@b> SIZE=1 SIZE=2", .code = 501, .enh = "5.5.4" },
	{ .args = "FROM:<a@b> BODY=9BIT", .code = 501, .enh = "5.5.4" },
	{ .args = "FROM:<a@b> BODY", .code = 501, .enh = "5.5.4" },
	{ .args = "FROM:<a@b> BODY=7BIT BODY=7BIT", .code = 501,
	    .enh = "5.5.4" },
	{ .args = "FROM:<a@b> SMTPUTF8=yes", .code = 501, .enh = "5.5.4" },
	{ .args = "FROM:<a@b> SMTPUTF8 SMTPUTF8", .code = 501, .enh = "5.5.4" },
	{ .args = "FROM:<a@b> -X=1", .code = 501, .enh = "5.5.4" },
	{ .args = "FROM:<a@b> X=a=b", .code = 501, .enh = "5.5.4" },
	{ .args = "FROM:<a@b> X=\xc3\xbc", .code = 501, .enh = "5.5.4" },
	{ .args = "FROM:<a@b> AUTH=", .code = 501, .enh = "5.5.4" },
	{ .args = "FROM:<a@b> AUTH", .code = 501, .enh = "5.5.4" },
	{ .args = "FROM:<a@b> AUTH=a+2b", .code = 501, .enh = "5.5.4" },
	{ .args = "FROM:<a@b> AUTH=a+2", .code = 501, .enh = "5.5.4" },
	{ .args = "FROM:<a@b> AUTH=a+G0", .code = 501, .enh = "5.5.4" },
	{ .args = "FROM:<a@b> AUTH=<> AUTH=<>", .code = 501, .enh = "5.5.4" },
	{ .args = "FROM:<a@b> RET=HDRS", .code = 555, .enh = "5.5.4" },
	{ .args = "FROM:<a@b> X-FOO", .code = 555, .enh = "5.5.4" },
	{ .args = "FROM:<\xc3\xbc@b>", .code = 553, .enh = "5.6.7" },
	{ .args = "FROM:<a@\xc3\xbc> BODY=8BITMIME", .code = 553,
	    .enh = "5.6.7" },
	{ .args = "FROM:<\xc3@b> SMTPUTF8", .code = 501, .enh = "5.1.7" },
	{ .args = "FROM:<\xc0\xaf@b> SMTPUTF8", .code = 501, .enh = "5.1.7" },
	{ .args = "FROM:<\xed\xa0\x80@b> SMTPUTF8", .code = 501,
	    .enh = "5.1.7" },
	{ .args = "FROM:<\xf4\x90\x80\x80@b> SMTPUTF8", .code = 501,
	    .enh = "5.1.7" },
	{ .args = "FROM:<\xff@b> SMTPUTF8", .code = 501, .enh = "5.1.7" },
};

struct rcpt_ok {
	const char *args;
	bool smtputf8;
	const char *to;
};

static const struct rcpt_ok rcpt_valid[] = {
	{ .args = "TO:<c@d>", .to = "c@d" },
	{ .args = "to: <c@d>", .to = "c@d" },
	{ .args = "TO:<Postmaster>", .to = "Postmaster" },
	{ .args = "TO:<postmaster>", .to = "postmaster" },
	{ .args = "TO:<POSTMASTER@d>", .to = "POSTMASTER@d" },
	{ .args = "TO:<@a,@b:c@d>", .to = "c@d" },
	{ .args = "TO:<\"x y\"@[IPv6:::1]>", .to = "\"x y\"@[IPv6:::1]" },
	{ .args = "TO:<\xc3\xbc@d>", .smtputf8 = true, .to = "\xc3\xbc@d" },
};

struct rcpt_bad {
	const char *args;
	bool smtputf8;
	int code;
	const char *enh;
};

static const struct rcpt_bad rcpt_invalid[] = {
	{ .args = "TO:<>", .code = 501, .enh = "5.1.3" },
	{ .args = "TO:c@d", .code = 501, .enh = "5.1.3" },
	{ .args = "TO:<c@d", .code = 501, .enh = "5.1.3" },
	{ .args = "TO:<c d@e>", .code = 501, .enh = "5.1.3" },
	{ .args = "TO:<postmasterx>", .code = 501, .enh = "5.1.3" },
	{ .args = "FROM:<c@d>", .code = 501, .enh = "5.5.2" },
	{ .args = "TO <c@d>", .code = 501, .enh = "5.5.2" },
	{ .args = "TO:<c@d> NOTIFY=NEVER", .code = 555, .enh = "5.5.4" },
	{ .args = "TO:<c@d> SIZE=1", .code = 555, .enh = "5.5.4" },
	{ .args = "TO:<c@d>,", .code = 501, .enh = "5.5.4" },
	{ .args = "TO:<\xc3\xbc@d>", .code = 553, .enh = "5.6.7" },
	{ .args = "TO:<c@\xc3\xbc.example>", .code = 553, .enh = "5.6.7" },
};

static void
test_parse_mail_valid(void **state)
{
	struct smtp_parse_error err;
	struct smtp_mail m;
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(mail_valid); i++) {
		const struct mail_ok *c = &mail_valid[i];
		int r = smtp_parse_mail(c->args, true, &m, &err);

		if (r != 0)
			print_error("%s: %d %s %s\n", c->args, err.code,
			    err.enh, err.text);
		assert_int_equal(r, 0);
		assert_string_equal(m.from.addr, c->from);
		assert_int_equal(m.from.is_utf8, c->is_utf8);
		assert_int_equal(m.has_size, c->has_size);
		if (c->has_size)
			assert_true(m.size == c->size);
		assert_int_equal(m.body, c->body);
		assert_int_equal(m.smtputf8, c->smtputf8);
		assert_int_equal(m.has_auth, c->has_auth);
	}
}

/* FUTURERELEASE parameters (RFC 4865 3, erratum 2040). */
static void
test_parse_mail_hold(void **state)
{
	static const char *const bad[] = {
		"FROM:<a@b> HOLDFOR=",
		"FROM:<a@b> HOLDFOR",
		"FROM:<a@b> HOLDFOR=1234567890",
		"FROM:<a@b> HOLDFOR=-1",
		"FROM:<a@b> HOLDFOR=1x",
		"FROM:<a@b> HOLDUNTIL=+1h",
		"FROM:<a@b> HOLDUNTIL=now",
		"FROM:<a@b> HOLDUNTIL=2026-02-30T00:00:00Z",
		"FROM:<a@b> HOLDUNTIL=2026-12-01T09:00:00",
		"FROM:<a@b> HOLDFOR=1 HOLDFOR=2",
		"FROM:<a@b> HOLDFOR=1 HOLDUNTIL=2026-12-01T09:00:00Z",
	};
	struct smtp_parse_error err;
	struct smtp_mail m;
	size_t i;

	(void)state;
	assert_int_equal(smtp_parse_mail("FROM:<a@b> HOLDFOR=999999999", true,
	    &m, &err), 0);
	assert_true(m.has_hold && !m.hold_is_until);
	assert_true(m.hold_for == 999999999);
	assert_int_equal(smtp_parse_mail(
	    "FROM:<a@b> holduntil=2026-12-01T10:00:00+01:00", true, &m, &err),
	    0);
	assert_true(m.has_hold && m.hold_is_until);
	assert_true(m.hold_until == 1796115600); /* 2026-12-01T09:00:00Z */
	assert_int_equal(smtp_parse_mail("FROM:<a@b>", true, &m, &err), 0);
	assert_false(m.has_hold);
	for (i = 0; i < N_ELEMENTS(bad); i++) {
		memset(&err, 0, sizeof(err));
		if (smtp_parse_mail(bad[i], true, &m, &err) != -1)
			fail_msg("accepted: %s", bad[i]);
		if (err.code != 501 || strcmp(err.enh, "5.5.4") != 0)
			fail_msg("%s: got %d %s", bad[i], err.code, err.enh);
	}
}

static void
test_parse_mail_invalid(void **state)
{
	struct smtp_parse_error err;
	struct smtp_mail m;
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(mail_invalid); i++) {
		const struct parse_bad *c = &mail_invalid[i];

		memset(&err, 0, sizeof(err));
		if (smtp_parse_mail(c->args, true, &m, &err) != -1)
			fail_msg("accepted: %s", c->args);
		if (err.code != c->code || strcmp(err.enh, c->enh) != 0)
			fail_msg("%s: got %d %s %s", c->args, err.code,
			    err.enh, err.text);
		assert_non_null(err.text);
	}
	/* Parameters need EHLO. */
	assert_int_equal(smtp_parse_mail("FROM:<a@b> SIZE=1", false, &m, &err),
	    -1);
	assert_int_equal(err.code, 555);
	assert_int_equal(smtp_parse_mail("FROM:<a@b>", false, &m, &err), 0);
}

static void
test_parse_rcpt(void **state)
{
	struct smtp_parse_error err;
	struct smtp_rcpt r;
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(rcpt_valid); i++) {
		const struct rcpt_ok *c = &rcpt_valid[i];

		if (smtp_parse_rcpt(c->args, c->smtputf8, &r, &err) != 0)
			fail_msg("%s: %d %s %s", c->args, err.code, err.enh,
			    err.text);
		assert_string_equal(r.to.addr, c->to);
	}
	for (i = 0; i < N_ELEMENTS(rcpt_invalid); i++) {
		const struct rcpt_bad *c = &rcpt_invalid[i];

		memset(&err, 0, sizeof(err));
		if (smtp_parse_rcpt(c->args, c->smtputf8, &r, &err) != -1)
			fail_msg("accepted: %s", c->args);
		if (err.code != c->code || strcmp(err.enh, c->enh) != 0)
			fail_msg("%s: got %d %s %s", c->args, err.code,
			    err.enh, err.text);
	}
}

/* The path limit counts "<" and ">" (RFC 5321 4.5.3.1.3). */
static void
test_parse_path_limit(void **state)
{
	char path[SMTP_PATH_MAX + 8];
	struct smtp_parse_error err;
	struct smtp_path p;
	size_t used, n;

	(void)state;
	/* "<" + 64 + "@" + domain + ">" */
	for (n = 250; n <= 260; n++) {
		size_t dom = n - 2 - 64 - 1, i;
		int r;

		path[0] = '<';
		memset(path + 1, 'l', 64);
		path[65] = '@';
		for (i = 0; i < dom; i++)
			path[66 + i] = (i % 50 == 49) ? '.' : 'd';
		path[66 + dom] = '>';
		path[67 + dom] = '\0';
		assert_int_equal(strlen(path), n);
		r = smtp_parse_path(path, 0, &p, &used, &err);
		if (n <= SMTP_PATH_MAX) {
			assert_int_equal(r, 0);
			assert_int_equal(used, n);
			assert_int_equal(strlen(p.addr), n - 2);
		} else {
			assert_int_equal(r, -1);
			assert_int_equal(err.code, 501);
			assert_string_equal(err.text, "path too long");
		}
	}
}

struct bdat_case {
	const char *args;
	int ok;
	uint64_t size;
	bool last;
};

static const struct bdat_case bdat_cases[] = {
	{ .args = "0", .ok = 0, .size = 0 },
	{ .args = "0 LAST", .ok = 0, .size = 0, .last = true },
	{ .args = "123 last", .ok = 0, .size = 123, .last = true },
	{ .args = "18446744073709551615", .ok = 0, .size = UINT64_MAX },
	{ .args = "", .ok = -1 },
	{ .args = "LAST", .ok = -1 },
	{ .args = "-1", .ok = -1 },
	{ .args = "1x", .ok = -1 },
	{ .args = "1 LASTX", .ok = -1 },
	{ .args = "1 LAST X", .ok = -1 },
	{ .args = "18446744073709551616", .ok = -1 },
};

static void
test_parse_bdat(void **state)
{
	struct smtp_parse_error err;
	uint64_t size;
	bool last;
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(bdat_cases); i++) {
		const struct bdat_case *c = &bdat_cases[i];
		int r = smtp_parse_bdat(c->args, &size, &last, &err);

		if (r != c->ok)
			fail_msg("BDAT %s: %d", c->args, r);
		if (r == 0) {
			assert_true(size == c->size);
			assert_int_equal(last, c->last);
		} else {
			assert_int_equal(err.code, 501);
			assert_string_equal(err.enh, "5.5.4");
		}
	}
}

struct command_case {
	const char *line;
	size_t len;
	const char *verb;
	const char *args;
	int code;		/* invalid: the reply */
	const char *enh;
};

static const struct command_case command_valid[] = {
	{ .line = "NOOP", .verb = "NOOP", .args = "" },
	{ .line = "noop ", .verb = "noop", .args = "" },
	{ .line = "MAIL FROM:<a@b>", .verb = "MAIL", .args = "FROM:<a@b>" },
	{ .line = "MAIL  FROM:<a@b>  ", .verb = "MAIL",
	    .args = "FROM:<a@b>" },
	{ .line = "STARTTLS", .verb = "STARTTLS", .args = "" },
	{ .line = "x \xc3\xbc", .verb = "x", .args = "\xc3\xbc" },
};

static const struct command_case command_invalid[] = {
	{ .line = "", .code = 500, .enh = "5.5.1" },
	{ .line = " NOOP", .code = 500, .enh = "5.5.1" },
	{ .line = "NO-OP", .code = 500, .enh = "5.5.1" },
	{ .line = "NOOP1", .code = 500, .enh = "5.5.1" },
	{ .line = "ABCDEFGHIJKLMNOPQ", .code = 500, .enh = "5.5.1" },
	{ .line = "NOOP\tx", .code = 500, .enh = "5.5.1" },
	{ .line = "NOOP\r", .code = 500, .enh = "5.5.2" },
	{ .line = "NO\rOP", .code = 500, .enh = "5.5.2" },
	{ .line = "NOOP \0", .len = 6, .code = 500, .enh = "5.5.2" },
};

static void
test_parse_command(void **state)
{
	struct smtp_parse_error err;
	struct smtp_command cmd;
	size_t i, len;

	(void)state;
	for (i = 0; i < N_ELEMENTS(command_valid); i++) {
		const struct command_case *c = &command_valid[i];

		len = c->len ? c->len : strlen(c->line);
		assert_int_equal(smtp_parse_command((const uint8_t *)c->line,
		    len, &cmd, &err), 0);
		assert_int_equal(cmd.verb.len, strlen(c->verb));
		assert_memory_equal(cmd.verb.p, c->verb, cmd.verb.len);
		assert_int_equal(cmd.args.len, strlen(c->args));
		assert_memory_equal(cmd.args.p, c->args, cmd.args.len);
	}
	for (i = 0; i < N_ELEMENTS(command_invalid); i++) {
		const struct command_case *c = &command_invalid[i];

		len = c->len ? c->len : strlen(c->line);
		assert_int_equal(smtp_parse_command((const uint8_t *)c->line,
		    len, &cmd, &err), -1);
		assert_int_equal(err.code, c->code);
		assert_string_equal(err.enh, c->enh);
	}
}

struct line_case {
	const char *data;
	size_t max;
	int r;
	size_t line_len;
	size_t used;
};

static const struct line_case line_cases[] = {
	{ .data = "NOOP\r\nX", .max = 512, .r = 1, .line_len = 4, .used = 6 },
	{ .data = "NOOP\nX", .max = 512, .r = 1, .line_len = 4, .used = 5 },
	{ .data = "\r\n", .max = 512, .r = 1, .line_len = 0, .used = 2 },
	{ .data = "NOOP\r", .max = 512, .r = 0 },
	{ .data = "", .max = 512, .r = 0 },
	/* max counts the line ending. */
	{ .data = "abcd\r\n", .max = 6, .r = 1, .line_len = 4, .used = 6 },
	{ .data = "abcde\r\n", .max = 6, .r = -1, .used = 6 },
	{ .data = "abcde\n", .max = 6, .r = 1, .line_len = 5, .used = 6 },
	{ .data = "abcdef\n", .max = 6, .r = -1, .used = 6 },
	{ .data = "abcde", .max = 6, .r = 0 },
	{ .data = "abcdef", .max = 6, .r = -1, .used = 6 },
};

static void
test_parse_line(void **state)
{
	size_t i, line_len, used;

	(void)state;
	for (i = 0; i < N_ELEMENTS(line_cases); i++) {
		const struct line_case *c = &line_cases[i];
		int r;

		line_len = used = 9999;
		r = smtp_parse_line((const uint8_t *)c->data, strlen(c->data),
		    c->max, &line_len, &used);
		if (r != c->r)
			fail_msg("case %zu: %d", i, r);
		if (r != 0)
			assert_int_equal(used, c->used);
		if (r == 1)
			assert_int_equal(line_len, c->line_len);
	}
}

static void
test_parse_helo_utf8(void **state)
{
	struct smtp_parse_error err;

	(void)state;
	assert_int_equal(smtp_parse_helo("mail.example", &err), 0);
	assert_int_equal(smtp_parse_helo("[192.0.2.1]", &err), 0);
	assert_int_equal(smtp_parse_helo("", &err), -1);
	assert_int_equal(err.code, 501);
	assert_int_equal(smtp_parse_helo("a b", &err), -1);
	assert_int_equal(smtp_parse_helo("\xc3\xbc", &err), -1);
	assert_int_equal(smtp_parse_helo(DOM255, &err), 0);
	assert_int_equal(smtp_parse_helo(DOM255 "x", &err), -1);

	assert_int_equal(smtp_parse_utf8_len("\xc3\xbc"), 2);
	assert_int_equal(smtp_parse_utf8_len("\xe2\x82\xac"), 3);
	assert_int_equal(smtp_parse_utf8_len("\xf0\x9f\x98\x80"), 4);
	assert_int_equal(smtp_parse_utf8_len("a"), 0);
	assert_int_equal(smtp_parse_utf8_len("\xc1\xbf"), 0);
	assert_int_equal(smtp_parse_utf8_len("\xe0\x80\x80"), 0);
	assert_int_equal(smtp_parse_utf8_len("\xed\xbf\xbf"), 0);
	assert_int_equal(smtp_parse_utf8_len("\xf0\x80\x80\x80"), 0);
	assert_int_equal(smtp_parse_utf8_len("\xf4\x90\x80\x80"), 0);
	assert_int_equal(smtp_parse_utf8_len("\xe2\x82"), 0);
	assert_int_equal(smtp_parse_utf8_len("\x80"), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_mail_valid),
		cmocka_unit_test(test_parse_mail_invalid),
		cmocka_unit_test(test_parse_mail_hold),
		cmocka_unit_test(test_parse_rcpt),
		cmocka_unit_test(test_parse_path_limit),
		cmocka_unit_test(test_parse_bdat),
		cmocka_unit_test(test_parse_command),
		cmocka_unit_test(test_parse_line),
		cmocka_unit_test(test_parse_helo_utf8),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
