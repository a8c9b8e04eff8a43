/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for smtp/smtp_data.  The first byte picks the mode,
 * policy, size cap and output size; the rest is decoded twice, whole
 * and one byte at a time, and both runs must agree exactly.  The end of
 * DATA must always be preceded by CRLF "." CRLF in the input.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtp/smtp_data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fuzz_smtp_data_run {
	uint8_t *out;
	size_t out_len;
	size_t end;		/* input taken through the end, or SIZE_MAX */
	struct smtp_data d;
};

static void
fuzz_smtp_data_run(struct fuzz_smtp_data_run *r, const uint8_t *in,
    size_t len, size_t step, enum smtp_data_mode mode,
    enum smtp_bare_newline nl, uint64_t max, size_t cap)
{
	uint8_t obuf[64];
	size_t pos = 0, used, olen;

	r->out = malloc(3 * len + 8);
	r->out_len = 0;
	r->end = SIZE_MAX;
	smtp_data_init(&r->d, mode, nl, max);
	while (pos < len) {
		size_t n = len - pos < step ? len - pos : step;
		int rv = smtp_data_decode(&r->d, in + pos, n, obuf, cap, &used,
		    &olen);

		if (used > n || olen > cap || (used == 0 && olen == 0 &&
		    rv == 0))
			abort();
		memcpy(r->out + r->out_len, obuf, olen);
		r->out_len += olen;
		pos += used;
		if (rv == 1) {
			r->end = pos;
			break;
		}
	}
	if (mode != SMTP_DATA_MODE_DOT) {
		smtp_data_finish(&r->d, obuf, cap, &olen);
		memcpy(r->out + r->out_len, obuf, olen);
		r->out_len += olen;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum smtp_data_mode modes[] = { SMTP_DATA_MODE_DOT,
		SMTP_DATA_MODE_DOT, SMTP_DATA_MODE_CHUNK,
		SMTP_DATA_MODE_BINARY };
	struct fuzz_smtp_data_run a, b;
	enum smtp_data_mode mode;
	enum smtp_bare_newline nl;
	uint64_t max;
	size_t cap;

	if (size < 1)
		return 0;
	mode = modes[data[0] & 3];
	nl = data[0] & 4 ? SMTP_BARE_NEWLINE_NORMALIZE :
	    SMTP_BARE_NEWLINE_REJECT;
	max = data[0] & 8 ? (uint64_t)(data[0] >> 4) * 16 : 0;
	cap = data[0] & 0x80 ? SMTP_DATA_OUT_MIN_BYTES : 64;
	data++;
	size--;
	fuzz_smtp_data_run(&a, data, size, SIZE_MAX, mode, nl, max, cap);
	fuzz_smtp_data_run(&b, data, size, 1, mode, nl, max, cap);
	if (a.out_len != b.out_len || memcmp(a.out, b.out, a.out_len) != 0 ||
	    a.end != b.end ||
	    smtp_data_is_failed(&a.d) != smtp_data_is_failed(&b.d) ||
	    smtp_data_has_bare_newline(&a.d) !=
	    smtp_data_has_bare_newline(&b.d))
		abort();
	if (max != 0 && a.out_len > max)
		abort();
	if (a.d.size != a.out_len)
		abort();
	/* The end is always a literal CRLF "." CRLF (or "." CRLF first). */
	if (a.end != SIZE_MAX) {
		if (mode != SMTP_DATA_MODE_DOT || a.end < 3 ||
		    memcmp(data + a.end - 3, ".\r\n", 3) != 0)
			abort();
		if (a.end > 3 && (a.end < 5 ||
		    memcmp(data + a.end - 5, "\r\n", 2) != 0))
			abort();
	}
	/* Under NORMALIZE every LF in the text output follows a CR. */
	if (mode != SMTP_DATA_MODE_BINARY &&
	    nl == SMTP_BARE_NEWLINE_NORMALIZE) {
		for (size_t i = 0; i < a.out_len; i++) {
			if (a.out[i] == '\n' && (i == 0 || a.out[i - 1] != '\r'))
				abort();
			if (a.out[i] == '\r' && i + 1 < a.out_len &&
			    a.out[i + 1] != '\n')
				abort();
		}
	}
	free(a.out);
	free(b.out);
	return 0;
}
