/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for the SMTP AUTH SASL machine (auth_sasl.c) and its
 * strict base64 (auth_base64.c).  The first byte picks the mechanism and
 * whether the first line is an initial response; the remaining lines
 * are fed as client responses.  Checks the reply invariants and that
 * base64 decoding is the exact inverse of encoding.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "auth/auth.h"
#include "auth/auth_base64.h"
#include "auth/auth_sasl.h"
#include "core/buf.h"
#include "core/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const fuzz_mechs[] = {"PLAIN", "LOGIN", "login", "CRAM-MD5"};

static void
fuzz_check_reply(const struct auth_sasl *s, enum auth_sasl_status st)
{
	const struct auth_sasl_reply *r = auth_sasl_reply(s);

	switch (st) {
	case AUTH_SASL_NEED_MORE:
		ASSERT(r->code == 334 && auth_sasl_login(s) == NULL);
		return;
	case AUTH_SASL_DONE: {
		const char *login = auth_sasl_login(s);
		const char *password = auth_sasl_password(s);

		ASSERT(r->code == 0 && login != NULL && password != NULL);
		ASSERT(login[0] != '\0' && password[0] != '\0');
		ASSERT(strlen(login) <= AUTH_LOGIN_MAX_BYTES);
		ASSERT(strlen(password) <= AUTH_PASSWORD_MAX_BYTES);
		return;
	}
	case AUTH_SASL_ERROR:
		ASSERT(r->code == 500 || r->code == 501 || r->code == 504 ||
		    r->code == 535);
		ASSERT(r->enh[0] == '5' && auth_sasl_login(s) == NULL);
		return;
	}
	ASSERT(!"bad status");
}

static void
fuzz_base64(const uint8_t *data, size_t size)
{
	struct buf dec, enc;

	buf_init(&dec, 0, 0);
	buf_init(&enc, 0, 0);
	/* Canonical only: what decodes re-encodes to the same text. */
	if (auth_base64_decode(&dec, (const char *)data, size) == 0) {
		ASSERT(auth_base64_encode(&enc, dec.data, dec.len) == 0);
		ASSERT(enc.len == size);
		ASSERT(size == 0 || memcmp(enc.data, data, size) == 0);
	}
	buf_reset(&dec);
	buf_reset(&enc);
	ASSERT(auth_base64_encode(&enc, data, size) == 0);
	ASSERT(auth_base64_decode(&dec, (const char *)enc.data, enc.len) == 0);
	ASSERT(dec.len == size);
	ASSERT(size == 0 || memcmp(dec.data, data, size) == 0);
	buf_clear(&dec);
	buf_clear(&enc);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct auth_sasl *s;
	enum auth_sasl_status st;
	const char *p, *end, *nl;
	char initial[AUTH_SASL_LINE_MAX_BYTES + 16];
	bool has_initial;
	struct str login, password;
	const char *error;

	if (s == NULL)
		s = auth_sasl_new();
	fuzz_base64(data, size);
	if (auth_sasl_plain_parse(data, size, &login, &password, &error) == 0)
		ASSERT(login.len > 0 && password.len > 0);
	if (size == 0)
		return 0;
	has_initial = (data[0] & 0x10) != 0;
	p = (const char *)data + 1;
	end = (const char *)data + size;
	nl = memchr(p, '\n', (size_t)(end - p));
	if (nl == NULL)
		nl = end;
	if (has_initial) {
		size_t len = (size_t)(nl - p);

		if (len >= sizeof(initial))
			len = sizeof(initial) - 1;
		memcpy(initial, p, len);
		initial[len] = '\0';
		p = nl < end ? nl + 1 : end;
	}
	st = auth_sasl_start(s, fuzz_mechs[data[0] % N_ELEMENTS(fuzz_mechs)],
	    has_initial ? initial : NULL);
	fuzz_check_reply(s, st);
	while (st == AUTH_SASL_NEED_MORE && p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		st = auth_sasl_step(s, p, (size_t)(nl - p));
		fuzz_check_reply(s, st);
		p = nl < end ? nl + 1 : end;
	}
	auth_sasl_reset(s);
	return 0;
}
