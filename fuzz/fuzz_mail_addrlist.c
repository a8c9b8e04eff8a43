/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for mail/: one input is parsed as an address list
 * and as a message (recipients of To/Cc/Bcc, Bcc removal, CRLF
 * normalization with and without the "." end).  Checked: every address
 * is non-empty, at most MAIL_ADDR_MAX_BYTES, NUL-terminated, free of
 * control bytes but HTAB, and parses again to itself; no Bcc is left in
 * the header after removal; normalized text has no bare LF or CR, ends in
 * CRLF and does not change when normalized again.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"
#include "mail/mail.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAIL_MAX_BYTES 65536

struct fuzz_mail_count {
	int calls;
	int stop_at; /* return -1 on this call; 0: never */
};

static int
fuzz_mail_addrlist_same_fn(void *arg, const char *addr, size_t len)
{
	struct buf *b = arg;

	ASSERT(b->len == 0);
	return buf_append(b, addr, len) == 0 ? 0 : -1;
}

static int
fuzz_mail_addrlist_fn(void *arg, const char *addr, size_t len)
{
	struct fuzz_mail_count *c = arg;
	struct buf again;
	size_t i;

	ASSERT(len > 0 && len <= MAIL_ADDR_MAX_BYTES);
	ASSERT(addr[len] == '\0');
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)addr[i];

		ASSERT((ch >= ' ' && ch != 0x7f) || ch == '\t');
	}
	/* An address is an address list of itself. */
	buf_init(&again, 0, 0);
	ASSERT(mail_addrlist_parse(
	           addr, len, fuzz_mail_addrlist_same_fn, &again) == 1);
	ASSERT(again.len == len && memcmp(again.data, addr, len) == 0);
	buf_clear(&again);
	c->calls++;
	return c->calls == c->stop_at ? -1 : 0;
}

static void
fuzz_mail_addrlist_list(const uint8_t *data, size_t size)
{
	struct fuzz_mail_count c = {0, 0};
	int n, all;

	n = mail_addrlist_parse(
	    (const char *)data, size, fuzz_mail_addrlist_fn, &c);
	ASSERT(n == -1 || n == c.calls);
	all = c.calls;
	if (n > 0) {
		/* Stopping at the last one fails, after as many calls. */
		c.calls = 0;
		c.stop_at = n;
		ASSERT(mail_addrlist_parse((const char *)data, size,
		           fuzz_mail_addrlist_fn, &c) == -1);
		ASSERT(c.calls == all);
	}

	c.calls = 0;
	c.stop_at = 0;
	n = mail_header_recipients(data, size, fuzz_mail_addrlist_fn, &c);
	ASSERT(n == -1 || n == c.calls);
}

static void
fuzz_mail_addrlist_remove(const uint8_t *data, size_t size)
{
	struct buf out, again;

	buf_init(&out, 0, 0);
	ASSERT(mail_header_remove(data, size, "Bcc", &out) == 0);
	ASSERT(out.len <= size);
	ASSERT(!mail_header_has(out.data, out.len, "bcc"));
	if (!mail_header_has(data, size, "BCC"))
		ASSERT(out.len == size &&
		    (size == 0 || memcmp(out.data, data, size) == 0));
	/* Removing again changes nothing. */
	buf_init(&again, 0, 0);
	ASSERT(mail_header_remove(out.data, out.len, "bcc", &again) == 0);
	ASSERT(again.len == out.len &&
	    (out.len == 0 || memcmp(again.data, out.data, out.len) == 0));
	buf_clear(&again);
	/* Too small an output is an error (max 0 would mean no max). */
	if (out.len > 1) {
		buf_init(&again, 0, out.len - 1);
		ASSERT(mail_header_remove(data, size, "Bcc", &again) == -1);
		buf_clear(&again);
	}
	buf_clear(&out);
}

static void
fuzz_mail_addrlist_lines(const uint8_t *data, size_t size, bool dot_ends)
{
	struct buf out, again;
	size_t consumed, i;

	buf_init(&out, 0, 0);
	ASSERT(
	    mail_lines_normalize(data, size, dot_ends, &out, &consumed) == 0);
	ASSERT(consumed <= size && (dot_ends || consumed == size));
	ASSERT(out.len <= 2 * size + 2);
	ASSERT(out.len == 0 ||
	    (out.len >= 2 && memcmp(out.data + out.len - 2, "\r\n", 2) == 0));
	for (i = 0; i < out.len; i++) {
		if (out.data[i] == '\n')
			ASSERT(i > 0 && out.data[i - 1] == '\r');
		if (out.data[i] == '\r')
			ASSERT(i + 1 < out.len && out.data[i + 1] == '\n');
	}
	buf_init(&again, 0, 0);
	ASSERT(
	    mail_lines_normalize(out.data, out.len, false, &again, NULL) == 0);
	ASSERT(again.len == out.len &&
	    (out.len == 0 || memcmp(again.data, out.data, out.len) == 0));
	buf_clear(&again);
	buf_clear(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > FUZZ_MAIL_MAX_BYTES)
		return 0;
	fuzz_mail_addrlist_list(data, size);
	fuzz_mail_addrlist_remove(data, size);
	fuzz_mail_addrlist_lines(data, size, false);
	fuzz_mail_addrlist_lines(data, size, true);
	return 0;
}
