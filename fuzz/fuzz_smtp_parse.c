/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for smtp/smtp_parse: one input is tried as a command
 * line, as the arguments of MAIL, RCPT, BDAT and EHLO, and as a path,
 * and every accepted result is checked against the RFC 5321 limits.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtp/smtp_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_smtp_parse_check_path(const struct smtp_path *p)
{
	size_t i, n = strlen(p->addr);

	if (n > SMTP_PATH_MAX - 2)
		abort();
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p->addr[i];

		if (c <= ' ' && c != ' ')
			abort();
		if (c >= 0x80 && !p->is_utf8)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtp_parse_error err;
	struct smtp_command cmd;
	struct smtp_mail m;
	struct smtp_rcpt r;
	struct smtp_path p;
	size_t line_len, used;
	uint64_t bdat;
	bool last;
	char *s;
	int rv;

	rv = smtp_parse_line(data, size, 64, &line_len, &used);
	if (rv == 1 && (used > 64 || line_len >= used))
		abort();
	if (rv == -1 && used != 64)
		abort();
	if (smtp_parse_command(data, size, &cmd, &err) == 0) {
		if (cmd.verb.len == 0 || cmd.verb.len > 16 ||
		    cmd.args.p + cmd.args.len > (const char *)data + size)
			abort();
	} else if (err.code != 500) {
		abort();
	}

	s = malloc(size + 1);
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (smtp_parse_mail(s, true, &m, &err) == 0) {
		fuzz_smtp_parse_check_path(&m.from);
		if (m.from.is_utf8 && !m.smtputf8)
			abort();
	} else if (err.code != 501 && err.code != 553 && err.code != 555) {
		abort();
	}
	(void)smtp_parse_mail(s, false, &m, &err);
	if (smtp_parse_rcpt(s, false, &r, &err) == 0) {
		fuzz_smtp_parse_check_path(&r.to);
		if (r.to.is_utf8 || r.to.addr[0] == '\0')
			abort();
	}
	(void)smtp_parse_rcpt(s, true, &r, &err);
	(void)smtp_parse_bdat(s, &bdat, &last, &err);
	(void)smtp_parse_helo(s, &err);
	if (smtp_parse_path(s, SMTP_PARSE_PATH_NULL_OK |
	    SMTP_PARSE_PATH_POSTMASTER_OK, &p, &used, &err) == 0) {
		fuzz_smtp_parse_check_path(&p);
		if (used > SMTP_PATH_MAX || used > size || s[used - 1] != '>')
			abort();
	}
	free(s);
	return 0;
}
