/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for the DSN builder: the report is parsed back with a
 * small MIME splitter and its structure and RFC 3464 fields checked; a
 * hostile reply cannot add a line or a part; every line ends in CRLF
 * and every byte is 7-bit; the header-section length helper.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/compat.h"
#include "deliver/deliver_dsn.h"

#define NOW 1732642680		/* Tue, 26 Nov 2024 17:38:00 +0000 */

static const char original[] =
    "Received: from a ([127.0.0.1])\r\n\tby b (tern) id x;\r\n"
    "Subject: hello\r\n"
    "From: <alice@example.test>\r\n"
    "\r\n"
    "body line, not a header\r\n";

/* The report split up: top header, boundary and the parts' texts. */
struct parsed {
	char header[4096];
	char boundary[128];
	char parts[3][8192];
	size_t n_parts;
	bool closed;
};

static void
check_lines(const char *text)
{
	size_t i;

	for (i = 0; text[i] != '\0'; i++) {
		unsigned char ch = (unsigned char)text[i];

		if (ch >= 0x80)
			fail_msg("8-bit byte at %zu", i);
		if (ch == '\n' && (i == 0 || text[i - 1] != '\r'))
			fail_msg("bare LF at %zu", i);
		if (ch == '\r' && text[i + 1] != '\n')
			fail_msg("bare CR at %zu", i);
	}
}

static void
parse_report(const char *text, struct parsed *p)
{
	const char *body = strstr(text, "\r\n\r\n"), *b, *q, *next;
	char delim[140];
	size_t len;

	memset(p, 0, sizeof(*p));
	assert_non_null(body);
	len = (size_t)(body - text) + 2;
	assert_true(len < sizeof(p->header));
	memcpy(p->header, text, len);
	b = strstr(p->header, "boundary=\"");
	assert_non_null(b);
	b += 10;
	q = strchr(b, '"');
	assert_non_null(q);
	memcpy(p->boundary, b, (size_t)(q - b));
	(void)snprintf(delim, sizeof(delim), "\r\n--%s", p->boundary);
	b = strstr(body, delim);
	while (b != NULL) {
		b += strlen(delim);
		if (strncmp(b, "--\r\n", 4) == 0) {
			p->closed = true;
			break;
		}
		assert_int_equal(strncmp(b, "\r\n", 2), 0);
		b += 2;
		next = strstr(b, delim);
		assert_non_null(next);
		assert_true(p->n_parts < 3);
		len = (size_t)(next - b);
		assert_true(len < sizeof(p->parts[0]));
		memcpy(p->parts[p->n_parts++], b, len);
		b = next;
	}
}

/* The line "name: value" (exactly) appears in text. */
static bool
has_line(const char *text, const char *line)
{
	const char *s = text;
	size_t len = strlen(line);

	while ((s = strstr(s, line)) != NULL) {
		if ((s == text || s[-1] == '\n') && strncmp(s + len, "\r\n",
		    2) == 0)
			return true;
		s++;
	}
	return false;
}

static size_t
count(const char *text, const char *needle)
{
	size_t n = 0;

	while ((text = strstr(text, needle)) != NULL) {
		n++;
		text++;
	}
	return n;
}

static void
test_dsn_failed(void **state)
{
	const struct deliver_dsn_rcpt rcpts[] = {
		{ .original = "Bob@Example.net", .final = "bob@example.net",
		  .status = "5.1.1", .remote_mta = "mx.example.net",
		  .diagnostic = "550 5.1.1 <bob@example.net>: no such user",
		  .last_attempt = NOW - 60 },
		{ .original = "carol@example.test",
		  .final = "carol@example.test", .status = "4.4.7",
		  .diagnostic = "delivery time expired" },
	};
	struct deliver_dsn d = {
		.hostname = "mx.example.test", .queue_id = "0123456789abcdef01234567",
		.to = "alice@example.test", .delayed = false,
		.arrival = NOW - 3600, .now = NOW, .rcpts = rcpts,
		.n_rcpts = 2, .headers = (const uint8_t *)original,
		.headers_len = sizeof(original) - 1,
	};
	struct parsed p;
	struct buf out;

	(void)state;
	buf_init(&out, 0, 0);
	assert_int_equal(deliver_dsn_build(&d, &out), 0);
	check_lines(buf_cstr(&out));
	parse_report(buf_cstr(&out), &p);
	assert_true(has_line(p.header, "From: Mail Delivery System "
	    "<MAILER-DAEMON@mx.example.test>"));
	assert_true(has_line(p.header, "To: <alice@example.test>"));
	assert_true(has_line(p.header, "Date: Tue, 26 Nov 2024 17:38:00 +0000"));
	assert_true(has_line(p.header, "MIME-Version: 1.0"));
	assert_true(has_line(p.header, "Auto-Submitted: auto-replied"));
	assert_non_null(strstr(p.header, "Content-Type: multipart/report; "
	    "report-type=delivery-status;"));
	assert_true(p.closed);
	assert_int_equal(p.n_parts, 3);

	/* 1: for people, naming each recipient and the remote reply. */
	assert_non_null(strstr(p.parts[0], "Content-Type: text/plain"));
	assert_non_null(strstr(p.parts[0], "<bob@example.net>: host "
	    "mx.example.net said: 550 5.1.1 <bob@example.net>: no such user"));
	assert_non_null(strstr(p.parts[0], "<carol@example.test>: "
	    "delivery time expired"));

	/* 2: message/delivery-status, per message then per recipient. */
	assert_true(has_line(p.parts[1],
	    "Content-Type: message/delivery-status"));
	assert_true(has_line(p.parts[1], "Reporting-MTA: dns; mx.example.test"));
	assert_true(has_line(p.parts[1],
	    "Arrival-Date: Tue, 26 Nov 2024 16:38:00 +0000"));
	assert_true(has_line(p.parts[1],
	    "Original-Recipient: rfc822;Bob@Example.net"));
	assert_true(has_line(p.parts[1],
	    "Final-Recipient: rfc822;bob@example.net"));
	assert_true(has_line(p.parts[1], "Status: 5.1.1"));
	assert_true(has_line(p.parts[1], "Remote-MTA: dns; mx.example.net"));
	assert_true(has_line(p.parts[1], "Diagnostic-Code: smtp; 550 5.1.1 "
	    "<bob@example.net>: no such user"));
	assert_true(has_line(p.parts[1],
	    "Last-Attempt-Date: Tue, 26 Nov 2024 17:37:00 +0000"));
	assert_true(has_line(p.parts[1],
	    "Final-Recipient: rfc822;carol@example.test"));
	assert_true(has_line(p.parts[1], "Status: 4.4.7"));
	assert_true(has_line(p.parts[1],
	    "Diagnostic-Code: X-tern; delivery time expired"));
	assert_int_equal(count(p.parts[1], "Action: failed\r\n"), 2);
	assert_int_equal(count(p.parts[1], "Action: delayed"), 0);
	assert_int_equal(count(p.parts[1], "Remote-MTA:"), 1);
	/* The groups are separated by blank lines (RFC 3464 2.1). */
	assert_int_equal(count(p.parts[1], "\r\n\r\nFinal-Recipient") +
	    count(p.parts[1], "\r\n\r\nOriginal-Recipient"), 2);

	/* 3: the original header, without the body. */
	assert_true(has_line(p.parts[2], "Content-Type: text/rfc822-headers"));
	assert_true(has_line(p.parts[2], "Subject: hello"));
	assert_true(has_line(p.parts[2], "\tby b (tern) id x;"));
	assert_null(strstr(p.parts[2], "body line"));
	buf_clear(&out);
}

static void
test_dsn_delayed_and_hostile(void **state)
{
	const struct deliver_dsn_rcpt rcpts[] = {
		{ .final = "dave@remote.test", .status = "4.2.0",
		  .remote_mta = "mx\r\nX-Evil: 1",
		  .diagnostic = "451 busy\r\n--bnd\r\nFinal-Recipient: "
		      "rfc822;forged@x\xff", .last_attempt = NOW },
	};
	struct deliver_dsn d = {
		.hostname = "h.test", .queue_id = "00000000000000000000000a",
		.to = "s\r\nBcc: x@y", .delayed = true, .arrival = NOW,
		.now = NOW, .retry_until = NOW + 86400, .rcpts = rcpts,
		.n_rcpts = 1, .headers = (const uint8_t *)"Subject: \xe4\n\nb",
		.headers_len = 13,
	};
	struct parsed p;
	struct buf out;

	(void)state;
	buf_init(&out, 0, 0);
	assert_int_equal(deliver_dsn_build(&d, &out), 0);
	check_lines(buf_cstr(&out));
	parse_report(buf_cstr(&out), &p);
	assert_true(p.closed);
	assert_int_equal(p.n_parts, 3);
	assert_non_null(strstr(p.header, "Subject: Delayed Mail"));
	assert_true(has_line(p.header, "To: <s??Bcc: x@y>"));
	assert_null(strstr(p.header, "\r\nBcc:"));
	assert_true(has_line(p.parts[1], "Action: delayed"));
	assert_true(has_line(p.parts[1],
	    "Will-Retry-Until: Wed, 27 Nov 2024 17:38:00 +0000"));
	assert_true(has_line(p.parts[1], "Remote-MTA: dns; mx??X-Evil: 1"));
	assert_int_equal(count(buf_cstr(&out), "\r\nFinal-Recipient:"), 1);
	assert_null(strstr(buf_cstr(&out), "\r\nX-Evil"));
	assert_non_null(strstr(p.parts[0], "keep trying"));
	/* A bare LF header line comes out as CRLF, 8-bit as '?'. */
	assert_true(has_line(p.parts[2], "Subject: ?"));
	buf_clear(&out);

	/* A report that does not fit is refused, out left as it was. */
	buf_init(&out, 0, 100);
	assert_int_equal(buf_append_str(&out, "keep"), 0);
	assert_int_equal(deliver_dsn_build(&d, &out), -1);
	assert_string_equal(buf_cstr(&out), "keep");
	buf_clear(&out);
}

static void
test_dsn_header_len(void **state)
{
	static const struct {
		const char *in;
		size_t want;
	} cases[] = {
		{ "A: b\r\n\r\nbody", 8 },
		{ "A: b\r\n\tc\r\n\r\n", 12 },
		{ "A: b\n\nbody", 6 },
		{ "\r\nbody", 2 },
		{ "A: b\r\nno end", 12 },
		{ "", 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(cases); i++)
		assert_int_equal(deliver_dsn_header_len(
		    (const uint8_t *)cases[i].in, strlen(cases[i].in)),
		    cases[i].want);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dsn_failed),
		cmocka_unit_test(test_dsn_delayed_and_hostile),
		cmocka_unit_test(test_dsn_header_len),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
