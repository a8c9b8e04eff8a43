/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for the Dovecot passwd-file line parser
 * (auth_passwd_parse_line) and for auth_passwd_check on fields that
 * cannot make crypt slow: views must stay inside the line, names hold
 * no ':' or control characters, and odd fields fail closed.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "auth/auth.h"
#include "auth/auth_passwd.h"
#include "core/buf.h"
#include "core/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_inside(const char *line, size_t len, const struct str *v)
{
	if (v->len == 0)
		return;
	ASSERT(v->p >= line && v->p + v->len <= line + len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *line = (const char *)data;
	struct auth_passwd_line l;
	size_t i;
	int rc;

	rc = auth_passwd_parse_line(line, size, &l);
	ASSERT(rc >= -1 && rc <= 1);
	if (rc == 1) {
		ASSERT(l.name.len > 0);
		fuzz_inside(line, size, &l.name);
		fuzz_inside(line, size, &l.scheme);
		fuzz_inside(line, size, &l.hash);
		for (i = 0; i < l.name.len; i++)
			ASSERT(l.name.p[i] != ':' &&
			    (unsigned char)l.name.p[i] >= 0x20);
		ASSERT(memchr(l.hash.p == NULL ? "" : l.hash.p, ':',
		           l.hash.len) == NULL);
		if (!l.has_password)
			ASSERT(l.hash.len == 0 && l.scheme.len == 0);
	}
	/*
	 * Check a field as a whole, but not crypt settings whose cost the
	 * input picks (bcrypt's "$2b$31$" runs for days): those are the
	 * administrator's choice, not a peer's.
	 */
	if (size < 200 && memchr(data, '\0', size) == NULL &&
	    memmem(data, size, "$2", 2) == NULL &&
	    memmem(data, size, "rounds=", 7) == NULL &&
	    memmem(data, size, "$y$", 3) == NULL &&
	    memmem(data, size, "$7$", 3) == NULL &&
	    memmem(data, size, "$gy$", 4) == NULL &&
	    memmem(data, size, "$sha1", 5) == NULL &&
	    memmem(data, size, "_", 1) == NULL) {
		char field[256];
		struct buf reason;

		memcpy(field, data, size);
		field[size] = '\0';
		buf_init(&reason, 0, 256);
		/* Whatever the field, a failure comes with a reason. */
		if (auth_passwd_check(field, "fuzz", &reason) == AUTH_FAIL)
			ASSERT(reason.len > 0);
		buf_clear(&reason);
	}
	return 0;
}
