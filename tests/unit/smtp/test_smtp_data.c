/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for smtp/smtp_data, the DATA/BDAT content decoder.  Each
 * case runs whole, one byte at a time and split at every offset, each
 * with a roomy and a minimal output buffer.  The smuggling variants
 * (CVE-2023-51764/5/6) must never end the data.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "smtp/smtp_data.h"

struct data_case {
	const char *name;
	const char *in;
	size_t in_len;		/* 0: strlen(in) */
	enum smtp_data_mode mode;
	bool normalize;
	uint64_t max;		/* 0: no limit */
	const char *out;
	size_t out_len;		/* 0: strlen(out) */
	bool ended;		/* DOT: the end was found */
	const char *rest;	/* DOT: input left after the end */
	bool bare;
	bool too_big;
};

#define NUL_IN "a\0b\r\n\0\r\n.\r\n"
#define NUL_OUT "a\0b\r\n\0\r\n"

static const struct data_case data_cases[] = {
	{ .name = "empty message", .in = ".\r\n", .out = "", .ended = true,
	    .rest = "" },
	{ .name = "simple", .in = "a\r\nb\r\n.\r\nQUIT\r\n",
	    .out = "a\r\nb\r\n", .ended = true, .rest = "QUIT\r\n" },
	{ .name = "dot-stuffing", .in = "..a\r\n..\r\n...\r\n.b\r\n.\r\n",
	    .out = ".a\r\n.\r\n..\r\nb\r\n", .ended = true, .rest = "" },
	{ .name = "dot mid-line", .in = "a.\r\nb.c\r\n.\r\n",
	    .out = "a.\r\nb.c\r\n", .ended = true, .rest = "" },
	{ .name = "no end yet", .in = "a\r\n.", .out = "a\r\n" },
	{ .name = "no end yet after CR", .in = "a\r\n.\r", .out = "a\r\n" },
	{ .name = "NUL bytes are content", .in = NUL_IN,
	    .in_len = sizeof(NUL_IN) - 1, .out = NUL_OUT,
	    .out_len = sizeof(NUL_OUT) - 1, .ended = true, .rest = "" },
	{ .name = "8-bit", .in = "\xff\xc3\xbc\r\n.\r\n",
	    .out = "\xff\xc3\xbc\r\n", .ended = true, .rest = "" },
	{ .name = "end only at the first CRLF.CRLF",
	    .in = "a\r\n.\r\n.\r\n", .out = "a\r\n", .ended = true,
	    .rest = ".\r\n" },
	{ .name = "size at the limit", .in = "0123\r\n.\r\n", .max = 6,
	    .out = "0123\r\n", .ended = true, .rest = "" },
	{ .name = "size over the limit: consumed, flagged",
	    .in = "01234\r\nmore\r\n.\r\nX", .max = 6, .out = "01234\r",
	    .ended = true, .rest = "X", .too_big = true },
	/* SMTP smuggling: none of these end the data. */
	{ .name = "LF.LF", .in = "a\n.\nb", .out = "a", .bare = true },
	{ .name = "CR.CR", .in = "a\r.\rb", .out = "a", .bare = true },
	{ .name = "LF.CRLF", .in = "a\n.\r\nb", .out = "a", .bare = true },
	{ .name = "CRLF.LF", .in = "a\r\n.\nb", .out = "a\r\n", .bare = true },
	{ .name = "CR.CRLF", .in = "a\r.\r\nb", .out = "a", .bare = true },
	{ .name = "CRLF.CR", .in = "a\r\n.\rb", .out = "a\r\n", .bare = true },
	{ .name = "LF.LF normalized", .in = "a\n.\nb\r\n.\r\n",
	    .normalize = true, .out = "a\r\n\r\nb\r\n", .ended = true,
	    .rest = "", .bare = true },
	{ .name = "CR.CR normalized", .in = "a\r.\rb\r\n.\r\n",
	    .normalize = true, .out = "a\r\n\r\nb\r\n", .ended = true,
	    .rest = "", .bare = true },
	{ .name = "LF.CRLF normalized", .in = "a\n.\r\nb\r\n.\r\n",
	    .normalize = true, .out = "a\r\n\r\nb\r\n", .ended = true,
	    .rest = "", .bare = true },
	{ .name = "CRLF.LF normalized", .in = "a\r\n.\nb\r\n.\r\n",
	    .normalize = true, .out = "a\r\n\r\nb\r\n", .ended = true,
	    .rest = "", .bare = true },
	{ .name = "CR.CRLF normalized", .in = "a\r.\r\nb\r\n.\r\n",
	    .normalize = true, .out = "a\r\n\r\nb\r\n", .ended = true,
	    .rest = "", .bare = true },
	{ .name = "CRLF.CR x normalized", .in = "a\r\n.\rb\r\n.\r\n",
	    .normalize = true, .out = "a\r\n\r\nb\r\n", .ended = true,
	    .rest = "", .bare = true },
	{ .name = "CR CRLF normalized", .in = "a\r\r\n.\r\n",
	    .normalize = true, .out = "a\r\n\r\n", .ended = true, .rest = "",
	    .bare = true },
	{ .name = "bare LF then a real end", .in = "a\nb\r\n.\r\n",
	    .out = "a", .ended = true, .rest = "", .bare = true },
	{ .name = "leading bare LF", .in = "\n.\r\n.\r\n", .normalize = true,
	    .out = "\r\n\r\n", .ended = true, .rest = "", .bare = true },
	{ .name = "stuffed dot after a bare LF", .in = "a\n..b\r\n.\r\n",
	    .normalize = true, .out = "a\r\n.b\r\n", .ended = true,
	    .rest = "", .bare = true },
	/* BDAT text: no dots, no end, bare newline policy still. */
	{ .name = "chunk: dots are content", .in = ".\r\n..\r\n",
	    .mode = SMTP_DATA_MODE_CHUNK, .out = ".\r\n..\r\n" },
	{ .name = "chunk: bare LF rejected", .in = "a\nb",
	    .mode = SMTP_DATA_MODE_CHUNK, .out = "a", .bare = true },
	{ .name = "chunk: bare CR at the end", .in = "a\r",
	    .mode = SMTP_DATA_MODE_CHUNK, .normalize = true, .out = "a\r\n",
	    .bare = true },
	{ .name = "chunk: size", .in = "abcdef", .max = 3,
	    .mode = SMTP_DATA_MODE_CHUNK, .out = "abc", .too_big = true },
	{ .name = "binary: as it is", .in = "a\n\r.\r\n\0",
	    .in_len = 7, .mode = SMTP_DATA_MODE_BINARY, .out = "a\n\r.\r\n\0",
	    .out_len = 7 },
	{ .name = "binary: size", .in = "abcdef", .max = 3,
	    .mode = SMTP_DATA_MODE_BINARY, .out = "abc", .too_big = true },
};

/* Feeds in pieces of step bytes (0: all), the first split at split. */
static void
run_data(const struct data_case *c, size_t step, size_t split,
    size_t out_cap)
{
	size_t in_len = c->in_len ? c->in_len : strlen(c->in);
	size_t out_len = c->out_len ? c->out_len :
	    strlen(c->out);
	const uint8_t *in = (const uint8_t *)c->in;
	size_t pos = 0, used, olen, end = in_len;
	uint8_t obuf[4096];
	struct smtp_data d;
	struct buf out;
	bool ended = false;

	buf_init(&out, 0, 0);
	smtp_data_init(&d, c->mode, c->normalize ?
	    SMTP_BARE_NEWLINE_NORMALIZE : SMTP_BARE_NEWLINE_REJECT, c->max);
	while (pos < in_len && !ended) {
		size_t want = in_len - pos, fed = 0;

		if (split > 0 && split < want)
			want = split;
		else if (step > 0 && step < want)
			want = step;
		split = 0;
		while (fed < want && !ended) {
			int r = smtp_data_decode(&d, in + pos + fed, want - fed,
			    obuf, out_cap, &used, &olen);

			assert_true(used > 0 || olen > 0 || r == 1);
			assert_true(olen <= out_cap);
			assert_int_equal(buf_append(&out, obuf, olen), 0);
			fed += used;
			if (r == 1) {
				ended = true;
				end = pos + fed;
			}
		}
		pos += fed;
	}
	if (c->mode != SMTP_DATA_MODE_DOT) {
		smtp_data_finish(&d, obuf, out_cap, &olen);
		assert_int_equal(buf_append(&out, obuf, olen), 0);
	}
	if (out.len != out_len || memcmp(buf_cstr(&out), c->out, out_len) != 0)
		fail_msg("%s (step %zu cap %zu): got %zu bytes \"%s\"",
		    c->name, step, out_cap, out.len, buf_cstr(&out));
	assert_int_equal(ended, c->ended);
	if (c->mode == SMTP_DATA_MODE_DOT)
		assert_int_equal(smtp_data_is_done(&d), c->ended);
	if (c->ended) {
		assert_int_equal(in_len - end, strlen(c->rest));
		assert_memory_equal(c->in + end, c->rest, strlen(c->rest));
	}
	if (smtp_data_has_bare_newline(&d) != c->bare)
		fail_msg("%s: bare newline flag", c->name);
	assert_int_equal(smtp_data_is_too_big(&d), c->too_big);
	assert_int_equal(smtp_data_is_failed(&d),
	    c->too_big || (c->bare && !c->normalize));
	assert_true(d.size == out.len);
	buf_clear(&out);
}

static void
test_data_three_ways(void **state)
{
	static const size_t caps[] = { SMTP_DATA_OUT_MIN_BYTES, 4096 };
	size_t i, k, j, len;

	(void)state;
	for (i = 0; i < N_ELEMENTS(data_cases); i++) {
		len = data_cases[i].in_len ? data_cases[i].in_len :
		    strlen(data_cases[i].in);
		for (j = 0; j < N_ELEMENTS(caps); j++) {
			run_data(&data_cases[i], 0, 0, caps[j]);
			run_data(&data_cases[i], 1, 0, caps[j]);
			for (k = 1; k < len; k++)
				run_data(&data_cases[i], 0, k, caps[j]);
		}
	}
}

/* A big message streams through a small buffer; size is exact. */
static void
test_data_stream(void **state)
{
	static const char line[] = "..0123456789abcdef\r\n";
	uint8_t obuf[64];
	struct smtp_data d;
	size_t i, used, olen, total = 0;

	(void)state;
	smtp_data_init(&d, SMTP_DATA_MODE_DOT, SMTP_BARE_NEWLINE_REJECT, 0);
	for (i = 0; i < 100000; i++) {
		size_t off = 0, n = sizeof(line) - 1;

		while (off < n) {
			assert_int_equal(smtp_data_decode(&d,
			    (const uint8_t *)line + off, n - off, obuf,
			    sizeof(obuf), &used, &olen), 0);
			off += used;
			total += olen;
		}
	}
	assert_int_equal(smtp_data_decode(&d, (const uint8_t *)".\r\n", 3,
	    obuf, sizeof(obuf), &used, &olen), 1);
	assert_int_equal(used, 3);
	assert_int_equal(total, 100000 * (sizeof(line) - 2));
	assert_true(d.size == total);
	assert_false(smtp_data_is_failed(&d));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_data_three_ways),
		cmocka_unit_test(test_data_stream),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
