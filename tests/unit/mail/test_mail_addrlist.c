/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for mail/mail_addrlist: RFC 5322 3.4 address lists with
 * the obsolete forms, including the examples of RFC 5322 appendix A.
 * Valid and invalid inputs are separate tables; every input is copied
 * to a heap block of its exact size, so ASan catches a read past the
 * end, and every address handed out is checked for the invariants of
 * mail.h (not empty, short enough, NUL-terminated, no control bytes).
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

struct addr_case {
	const char *name;
	const char *in;
	size_t in_len;   /* 0: strlen(in) */
	const char *out; /* addresses, each followed by "\n" */
};

static const struct addr_case valid_cases[] = {
    {"addr-spec", "a@example.com", 0, "a@example.com\n"},
    {"two addr-specs", "a@x.test, b@y.test", 0, "a@x.test\nb@y.test\n"},
    {"no space after comma", "a@x,b@y", 0, "a@x\nb@y\n"},
    {"display name", "John Doe <jd@x.test>", 0, "jd@x.test\n"},
    {"angle-addr alone", "<jd@x.test>", 0, "jd@x.test\n"},
    {"display name with dot", "John Q. Public <jqp@x.test>", 0, "jqp@x.test\n"},
    {"quoted name with comma", "\"Doe, John\" <jd@x>, other@y", 0,
        "jd@x\nother@y\n"},
    {"quoted name with < and comma", "\"a <b@c>, d\" <e@f>, \"<x@y>\" <g@h>", 0,
        "e@f\ng@h\n"},
    {"quoted name with escapes", "\"He said \\\"hi\\\", <no>\\\\\" <x@y>", 0,
        "x@y\n"},
    {"quoted name and atoms", "Dr. \"Jo\" Smith <j@s>", 0, "j@s\n"},
    {"comment after", "x@y (John Doe)", 0, "x@y\n"},
    {"nested comment with escapes",
        "x@y (John (the \\) man \\( (really)) Doe), z@w", 0, "x@y\nz@w\n"},
    {"comments everywhere",
        "(c1)a(c2)@(c3)b(c4).(c5)c(c6), (c7)<(c8)d@e(c9)>(c10)", 0,
        "a@b.c\nd@e\n"},
    {"comment with comma and <", "(a, <b@c>) d@e", 0, "d@e\n"},
    {"comment with quote", "(say \") d@e", 0, "d@e\n"},
    {"group", "Team: a@x, b@y;", 0, "a@x\nb@y\n"},
    {"empty group", "undisclosed-recipients:;", 0, ""},
    {"empty group with spaces", "undisclosed-recipients: ; ", 0, ""},
    {"group among mailboxes", "a@x, Team: b@y, \"C\" <c@z>;, d@w", 0,
        "a@x\nb@y\nc@z\nd@w\n"},
    {"two groups", "G1: a@x;, G2: ;, G3: b@y;", 0, "a@x\nb@y\n"},
    {"group with empty members", "G: ,a@x,, ,b@y,;", 0, "a@x\nb@y\n"},
    {"group without its semicolon", "undisclosed-recipients:", 0, ""},
    {"open group with member", "Team: a@x", 0, "a@x\n"},
    {"quoted group name", "\"My Team\": a@x;", 0, "a@x\n"},
    {"empty elements", ",,a@x,,,b@y,,", 0, "a@x\nb@y\n"},
    {"comma with comment", "a@x, (nobody), b@y", 0, "a@x\nb@y\n"},
    {"empty", "", 0, ""},
    {"only spaces", "  \t ", 0, ""},
    {"only a comment", "(nobody)", 0, ""},
    {"only commas", " , , ", 0, ""},
    {"folded", "a@x,\r\n b@y,\r\n\tJohn\r\n Doe <j@z>", 0, "a@x\nb@y\nj@z\n"},
    {"folded with LF", "a@x,\n b@y", 0, "a@x\nb@y\n"},
    {"field end", " a@x\r\n", 0, "a@x\n"},
    {"folded quoted local part", "\"a\r\n b\"@x", 0, "\"a b\"@x\n"},
    {"folded inside a comment", "a@x (one\r\n two)", 0, "a@x\n"},
    {"obsolete route", "<@a,@b:u@d>", 0, "u@d\n"},
    {"obsolete route with name and spaces",
        "Name < @a.test , , @b.test : u@d >", 0, "u@d\n"},
    {"obsolete route with leading commas", "<,@a:u@d>", 0, "u@d\n"},
    {"obsolete route with a literal", "<@[192.0.2.1]:u@d>", 0, "u@d\n"},
    {"quoted local part", "\"a b\"@example.com", 0, "\"a b\"@example.com\n"},
    {"quoted local part with escapes", "\"a\\\"b\\\\\"@x", 0,
        "\"a\\\"b\\\\\"@x\n"},
    {"quoted local part in angles", "Name <\"a,b\"@x>", 0, "\"a,b\"@x\n"},
    {"quoted and atom local part", "\"a\".b@x", 0, "\"a\".b@x\n"},
    {"quoted with tab", "\"a\tb\"@x", 0, "\"a\tb\"@x\n"},
    {"empty quoted local part", "\"\"@x", 0, "\"\"@x\n"},
    {"bare local part", "root", 0, "root\n"},
    {"bare local parts", "root, postmaster (pm)", 0, "root\npostmaster\n"},
    {"bare local part in angles", "Admin <root>", 0, "root\n"},
    {"bare quoted local part", "\"a b\"", 0, "\"a b\"\n"},
    {"spaces around dots and @", "a . b @ c . d", 0, "a.b@c.d\n"},
    {"two dots in local part", "john..doe@x", 0, "john..doe@x\n"},
    {"atext specials", "!#$%&'*+-/=?^_`{|}~@x", 0, "!#$%&'*+-/=?^_`{|}~@x\n"},
    {"domain literal", "u@[192.0.2.1]", 0, "u@[192.0.2.1]\n"},
    {"domain literal IPv6", "u@[IPv6:2001:db8::1]", 0,
        "u@[IPv6:2001:db8::1]\n"},
    {"domain literal with spaces", "u@[ 192.0.2.1 ]", 0, "u@[192.0.2.1]\n"},
    {"UTF-8",
        "J\xc3\xb6rg <j\xc3\xb6rg@b\xc3\xbc"
        "cher.test>",
        0,
        "j\xc3\xb6rg@b\xc3\xbc"
        "cher.test\n"},
    {"length is respected", "a@x, b@y", 3, "a@x\n"},
    /* RFC 5322 appendix A */
    {"A.1.2",
        "Mary Smith <mary@x.test>, jdoe@example.org, "
        "Who? <one@y.test>",
        0, "mary@x.test\njdoe@example.org\none@y.test\n"},
    {"A.1.2 quoted",
        "<boss@nil.test>, \"Giant; \\\"Big\\\" Box\" "
        "<sysservices@example.net>",
        0, "boss@nil.test\nsysservices@example.net\n"},
    {"A.1.3",
        "A Group:Ed Jones <c@a.test>,joe@where.test,"
        "John <jdoe@one.test>;",
        0, "c@a.test\njoe@where.test\njdoe@one.test\n"},
    {"A.5 comments",
        "Pete(A nice \\) chap) <pete(his account)"
        "@silly.test(his host)>",
        0, "pete@silly.test\n"},
    {"A.5 group",
        "A Group(Some people)\r\n     :Chris Jones "
        "<c@(Chris's host.)public.example>,\r\n         "
        "joe@example.org,\r\n  John <jdoe@one.test> (my dear friend); "
        "(the end of the group)",
        0, "c@public.example\njoe@example.org\njdoe@one.test\n"},
    {"A.5 empty group",
        "(Empty list)(start)Hidden recipients  :"
        "(nobody(that I know))  ;",
        0, ""},
    {"A.6.3 obsolete spacing",
        "John Doe <jdoe@machine(comment).  "
        "example>",
        0, "jdoe@machine.example\n"},
    {"A.6.3 folded", "Mary Smith\r\n  \r\n <mary@example.net>", 0,
        "mary@example.net\n"},
};

static const struct addr_case invalid_cases[] = {
    {"unterminated quote", "\"unterminated@x", 0, ""},
    {"unterminated quoted name", "a@x, \"b <c@d>", 0, "a@x\n"},
    {"quote ends in backslash", "\"a\\", 0, ""},
    {"unclosed comment", "(unclosed a@x", 0, ""},
    {"unclosed nested comment", "a@x (one (two)", 0, ""},
    {"comment ends in backslash", "a@x (b\\", 0, ""},
    {"stray close paren", "a@x (c))", 0, ""},
    {"unclosed angle", "<a@x", 0, ""},
    {"unclosed angle then more", "Name <a@x, b@y", 0, ""},
    {"stray >", "a@x>", 0, ""},
    {"nested angle", "<<a@x>>", 0, ""},
    {"empty angle", "<>", 0, ""},
    {"empty angle with name", "Name <>", 0, ""},
    {"two words", "John Smith@x", 0, ""},
    {"missing comma", "a@x b@y", 0, ""},
    {"junk after angle-addr", "Name <a@x> junk", 0, ""},
    {"unquoted @ in display name", "a@x <b@y>", 0, ""},
    {"two @", "a@b@c", 0, ""},
    {"no domain", "a@", 0, ""},
    {"no local part", "@x", 0, ""},
    {"leading dot", ".a@x", 0, ""},
    {"trailing dot in local part", "a.@x", 0, ""},
    {"empty domain label", "a@x..y", 0, ""},
    {"leading dot in domain", "a@.x", 0, ""},
    {"trailing dot in domain", "a@x.", 0, ""},
    {"quoted domain", "a@\"x\"", 0, ""},
    {"literal then label", "a@[192.0.2.1].x", 0, ""},
    {"unterminated literal", "a@[192.0.2.1", 0, ""},
    {"bracket in literal", "a@[1[2]", 0, ""},
    {"backslash in literal", "a@[1\\]]", 0, ""},
    {"stray ]", "a@x]", 0, ""},
    {"backslash outside quotes", "a\\b@x", 0, ""},
    {"semicolon outside group", "a@x;", 0, ""},
    {"nested group", "G: H: a@x;;", 0, ""},
    {"group without a name", ": a@x;", 0, ""},
    {"group name of dots", ". : a@x;", 0, ""},
    {"unclosed angle in group", "G: <a@x;", 0, ""},
    {"junk after group", "G: a@x; b@y", 0, "a@x\n"},
    {"error after good ones", "a@x, N <b@y>, G: c@z;, (", 0, "a@x\nb@y\nc@z\n"},
    {"route without colon", "<@a u@d>", 0, ""},
    {"route without domain", "<@:u@d>", 0, ""},
    {"route without address", "<@a:>", 0, ""},
    {"route of commas", "<,,>", 0, ""},
    {"escaped CR in quotes", "\"a\\\r\n b\"@x", 0, ""},
    {"escaped LF in quotes", "\"a\\\nb\"@x", 0, ""},
    {"CRLF without WSP in quotes", "\"a\r\nb\"@x", 0, ""},
    {"bare CR in quotes", "\"a\rb\"@x", 0, ""},
    {"control byte in atom",
        "a\x01"
        "b@x",
        0, ""},
    {"DEL in atom",
        "a\x7f"
        "b@x",
        0, ""},
    {"NUL in atom", "a\0b@x", 5, ""},
    {"NUL after address", "a@x\0", 4, ""},
    {"control byte in quoted local part", "\"a\x01\"@x", 0, ""},
    {"escaped NUL in quoted local part", "\"a\\\0\"@x", 7, ""},
    {"escaped DEL in quoted local part", "\"a\\\x7f\"@x", 0, ""},
    {"control byte in literal", "a@[1\x02]", 0, ""},
};

struct collect {
	struct buf b;
	int calls;
	int stop_at; /* return -1 on this call; 0: never */
};

static int
collect_fn(void *arg, const char *addr, size_t len)
{
	struct collect *c = arg;
	size_t i;

	assert_true(len > 0 && len <= MAIL_ADDR_MAX_BYTES);
	assert_int_equal(addr[len], '\0');
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)addr[i];

		assert_true((ch >= ' ' && ch != 0x7f) || ch == '\t');
	}
	c->calls++;
	if (c->calls == c->stop_at)
		return -1;
	assert_int_equal(buf_append(&c->b, addr, len), 0);
	assert_int_equal(buf_append(&c->b, "\n", 1), 0);
	return 0;
}

/* Parses in[0..len) from an exact heap copy; returns what parse did. */
static int
parse(const char *in, size_t len, struct collect *c)
{
	char *copy = malloc(len > 0 ? len : 1);
	int n;

	assert_non_null(copy);
	memcpy(copy, in, len);
	n = mail_addrlist_parse(copy, len, collect_fn, c);
	free(copy);
	return n;
}

static void
test_addrlist_valid(void **state)
{
	struct collect c;
	size_t i, len;
	int n;

	(void)state;
	for (i = 0; i < N_ELEMENTS(valid_cases); i++) {
		const struct addr_case *t = &valid_cases[i];

		memset(&c, 0, sizeof(c));
		buf_init(&c.b, 0, 0);
		len = t->in_len ? t->in_len : strlen(t->in);
		n = parse(t->in, len, &c);
		if (n == -1 || strcmp(buf_cstr(&c.b), t->out) != 0)
			fail_msg("%s: returned %d, got \"%s\"", t->name, n,
			    buf_cstr(&c.b));
		if (n != c.calls)
			fail_msg("%s: returned %d for %d calls", t->name, n,
			    c.calls);
		buf_clear(&c.b);
	}
}

static void
test_addrlist_invalid(void **state)
{
	struct collect c;
	size_t i, len;
	int n;

	(void)state;
	for (i = 0; i < N_ELEMENTS(invalid_cases); i++) {
		const struct addr_case *t = &invalid_cases[i];

		memset(&c, 0, sizeof(c));
		buf_init(&c.b, 0, 0);
		len = t->in_len ? t->in_len : strlen(t->in);
		n = parse(t->in, len, &c);
		if (n != -1)
			fail_msg("%s: accepted (%d)", t->name, n);
		/* Addresses before the error may have been handed out. */
		if (strcmp(buf_cstr(&c.b), t->out) != 0)
			fail_msg("%s: got \"%s\"", t->name, buf_cstr(&c.b));
		buf_clear(&c.b);
	}
}

/* Every prefix of every valid case parses or fails, never crashes. */
static void
test_addrlist_prefixes(void **state)
{
	struct collect c;
	size_t i, len, cut;

	(void)state;
	for (i = 0; i < N_ELEMENTS(valid_cases); i++) {
		const struct addr_case *t = &valid_cases[i];

		len = t->in_len ? t->in_len : strlen(t->in);
		for (cut = 0; cut <= len; cut++) {
			memset(&c, 0, sizeof(c));
			buf_init(&c.b, 0, 0);
			(void)parse(t->in, cut, &c);
			buf_clear(&c.b);
		}
	}
}

static void
test_addrlist_stop(void **state)
{
	const char *in = "a@x, G: b@y, c@z;, d@w";
	struct collect c;

	(void)state;
	memset(&c, 0, sizeof(c));
	buf_init(&c.b, 0, 0);
	c.stop_at = 3;
	assert_int_equal(parse(in, strlen(in), &c), -1);
	assert_int_equal(c.calls, 3);
	assert_string_equal(buf_cstr(&c.b), "a@x\nb@y\n");
	buf_clear(&c.b);

	memset(&c, 0, sizeof(c));
	buf_init(&c.b, 0, 0);
	assert_int_equal(parse(in, strlen(in), &c), 4);
	buf_clear(&c.b);
}

/* Builds "<local>@<domain>" of exactly len bytes into b. */
static void
make_addr(struct buf *b, size_t len, bool quoted)
{
	size_t i;

	buf_reset(b);
	if (quoted)
		assert_int_equal(buf_append(b, "\"", 1), 0);
	while (b->len < 62)
		assert_int_equal(buf_append(b, "l", 1), 0);
	if (quoted)
		assert_int_equal(buf_append(b, "\"", 1), 0);
	assert_int_equal(buf_append(b, "@d", 2), 0);
	for (i = 0; b->len < len; i++)
		assert_int_equal(buf_append(b, i % 10 == 9 ? "." : "d", 1), 0);
}

static void
test_addrlist_max(void **state)
{
	struct collect c;
	struct buf in;
	int quoted;

	(void)state;
	buf_init(&in, 0, 0);
	for (quoted = 0; quoted < 2; quoted++) {
		memset(&c, 0, sizeof(c));
		buf_init(&c.b, 0, 0);
		make_addr(&in, MAIL_ADDR_MAX_BYTES, quoted);
		assert_int_equal(parse((const char *)in.data, in.len, &c), 1);
		assert_int_equal(c.b.len, MAIL_ADDR_MAX_BYTES + 1);
		make_addr(&in, MAIL_ADDR_MAX_BYTES + 1, quoted);
		assert_int_equal(parse((const char *)in.data, in.len, &c), -1);
		/* Comments and spaces do not count. */
		buf_reset(&in);
		make_addr(&in, MAIL_ADDR_MAX_BYTES, quoted);
		assert_int_equal(
		    buf_append_str(&in,
		        " (a long comment "
		        "that makes the field itself longer than the limit, "
		        "which is fine, because only the address counts; "
		        "and the address is exactly at the limit)"),
		    0);
		assert_int_equal(parse((const char *)in.data, in.len, &c), 1);
		buf_clear(&c.b);
	}
	/* A route does not count either, but is limited on its own. */
	memset(&c, 0, sizeof(c));
	buf_init(&c.b, 0, 0);
	buf_reset(&in);
	assert_int_equal(buf_append_str(&in, "<@"), 0);
	while (in.len < 400)
		assert_int_equal(buf_append_str(&in, "r"), 0);
	assert_int_equal(buf_append_str(&in, ":u@d>"), 0);
	assert_int_equal(parse((const char *)in.data, in.len, &c), -1);
	buf_clear(&c.b);
	buf_clear(&in);
}

/* Many addresses, deep comments: linear and bounded. */
static void
test_addrlist_many(void **state)
{
	struct collect c;
	struct buf in;
	size_t i;

	(void)state;
	buf_init(&in, 0, 0);
	for (i = 0; i < 10000; i++)
		assert_int_equal(buf_append_str(&in, "Name <a@x>, "), 0);
	memset(&c, 0, sizeof(c));
	buf_init(&c.b, 0, 0);
	assert_int_equal(parse((const char *)in.data, in.len, &c), 10000);
	buf_clear(&c.b);

	buf_reset(&in);
	for (i = 0; i < 100000; i++)
		assert_int_equal(buf_append_str(&in, "("), 0);
	for (i = 0; i < 100000; i++)
		assert_int_equal(buf_append_str(&in, ")"), 0);
	assert_int_equal(buf_append_str(&in, "a@x"), 0);
	memset(&c, 0, sizeof(c));
	buf_init(&c.b, 0, 0);
	assert_int_equal(parse((const char *)in.data, in.len, &c), 1);
	assert_int_equal(parse((const char *)in.data, 100000, &c), -1);
	buf_clear(&c.b);
	buf_clear(&in);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_addrlist_valid),
	    cmocka_unit_test(test_addrlist_invalid),
	    cmocka_unit_test(test_addrlist_prefixes),
	    cmocka_unit_test(test_addrlist_stop),
	    cmocka_unit_test(test_addrlist_max),
	    cmocka_unit_test(test_addrlist_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
