/* SPDX-License-Identifier: ISC */
/*
 * The lines an SMTP client sends for AUTH PLAIN (RFC 4616 2: authzid NUL
 * authcid NUL passwd, empty authzid) and AUTH LOGIN, base64-encoded
 * (RFC 4648 4).  Which mechanism to use and when is the session's call.
 */
#include "smtpc/smtpc_auth.h"

#include <string.h>

#include "core/buf.h"

int
smtpc_auth_base64(const void *data, size_t len, struct buf *out)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const uint8_t *p = data;
	size_t i;

	for (i = 0; i + 3 <= len; i += 3) {
		char q[4] = {
		    tab[p[i] >> 2],
		    tab[((p[i] & 3) << 4) | (p[i + 1] >> 4)],
		    tab[((p[i + 1] & 15) << 2) | (p[i + 2] >> 6)],
		    tab[p[i + 2] & 63],
		};

		if (buf_append(out, q, 4) == -1)
			return -1;
	}
	if (i < len) {
		uint8_t b1 = i + 1 < len ? p[i + 1] : 0;
		char q[4] = {
		    tab[p[i] >> 2],
		    tab[((p[i] & 3) << 4) | (b1 >> 4)],
		    i + 1 < len ? tab[(b1 & 15) << 2] : '=',
		    '=',
		};

		if (buf_append(out, q, 4) == -1)
			return -1;
	}
	return 0;
}

int
smtpc_auth_plain_line(const char *user, const char *password, struct buf *out)
{
	struct buf raw;
	int rc = -1;

	buf_init(&raw, 0, 0);
	if (buf_append(&raw, "", 1) == 0 && buf_append_str(&raw, user) == 0 &&
	    buf_append(&raw, "", 1) == 0 &&
	    buf_append_str(&raw, password) == 0 &&
	    buf_append_str(out, "AUTH PLAIN ") == 0 &&
	    smtpc_auth_base64(raw.data, raw.len, out) == 0 &&
	    buf_append(out, "\r\n", 2) == 0)
		rc = 0;
	buf_clear_secret(&raw);
	return rc;
}

int
smtpc_auth_login_line(const char *text, struct buf *out)
{
	if (smtpc_auth_base64(text, strlen(text), out) == -1)
		return -1;
	return buf_append(out, "\r\n", 2);
}
