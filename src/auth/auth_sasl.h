/* SPDX-License-Identifier: ISC */
/*
 * The SASL side of SMTP AUTH (RFC 4954 §4) for PLAIN (RFC 4616) and
 * LOGIN (draft-murchison-sasl-login), as a pure state machine: lines in,
 * replies and credentials out; no I/O, no clock, no password checks.
 *
 * The session drives it like this:
 *
 *	st = auth_sasl_start(s, mech, initial_or_NULL);
 *	while (st == AUTH_SASL_NEED_MORE) {
 *		send "334 " + auth_sasl_reply(s)->text;
 *		st = auth_sasl_step(s, next_line, len);   (CRLF removed)
 *	}
 *	if (st == AUTH_SASL_DONE)
 *		verify auth_sasl_login(s) / auth_sasl_password(s), then
 *		auth_sasl_reset(s) to wipe them;
 *	else
 *		send reply->code, reply->enh, reply->text.
 *
 * Replies produced (code enh text):
 *	334 ""    <base64 challenge>; "" for PLAIN, "VXNlcm5hbWU6" and
 *	          "UGFzc3dvcmQ6" for LOGIN
 *	501 5.5.2 response not base64 or malformed (RFC 4954 §4)
 *	501 5.0.0 client cancelled with "*" (RFC 4954 §4)
 *	504 5.5.4 unknown mechanism (RFC 4954 §6)
 *	500 5.5.6 response longer than AUTH_SASL_LINE_MAX_BYTES (§6)
 *	535 5.7.8 PLAIN authzid differs from authcid: proxy authorization
 *	          is not supported; count it as a failed login (§6)
 * Not thread-safe: one object per session, used from one thread.
 */
#ifndef TERN_AUTH_AUTH_SASL_H
#define TERN_AUTH_AUTH_SASL_H

#include <stddef.h>
#include <stdint.h>

#include "core/compat.h"
#include "core/str.h"

/* Longest base64 response accepted: PLAIN at its limits fits. */
#define AUTH_SASL_LINE_MAX_BYTES 2048

/* What the SMTP server advertises after "250-AUTH ". */
#define AUTH_SASL_MECHANISMS "PLAIN LOGIN"

enum auth_sasl_status {
	AUTH_SASL_NEED_MORE, /* send "334 <text>", then call step */
	AUTH_SASL_DONE,      /* login and password are ready */
	AUTH_SASL_ERROR,     /* send the reply; the exchange is over */
};

/* Views into the machine; valid until its next call. */
struct auth_sasl_reply {
	int code;         /* 334, 500, 501, 504 or 535; 0 when DONE */
	const char *enh;  /* "5.5.2"; "" with 334 and DONE */
	const char *text; /* challenge (334) or human text */
};

struct auth_sasl;

/* A fresh, idle machine.  Never NULL. */
struct auth_sasl *auth_sasl_new(void);
/* Wipes any credentials, frees, sets *sp = NULL; accepts NULL. */
void auth_sasl_free(struct auth_sasl **sp);

/*
 * Begins an exchange (any earlier one is wiped).  mech is the name the
 * client gave, matched case-insensitively; initial is the initial
 * response of RFC 4954 §4 (the second AUTH argument, "=" for an empty
 * one) or NULL when the client sent none.  Returns the status; see
 * auth_sasl_reply() for what to send.
 */
enum auth_sasl_status auth_sasl_start(
    struct auth_sasl *s, const char *mech, const char *initial);

/*
 * Feeds one client line (without CRLF; need not be NUL-terminated)
 * after a NEED_MORE.  "*" cancels.  Calling it in any other state is a
 * programming error (assertion).
 */
enum auth_sasl_status auth_sasl_step(
    struct auth_sasl *s, const char *line, size_t len);

/* The reply for the last status; owned by s, valid until its next call. */
const struct auth_sasl_reply *auth_sasl_reply(const struct auth_sasl *s);

/*
 * After DONE: the authentication identity (RFC 4616 authcid; a full
 * address in tern) and the password, NUL-terminated, at most
 * AUTH_LOGIN_MAX_BYTES and AUTH_PASSWORD_MAX_BYTES.  Owned by s and valid
 * until the next start/step/reset/free.  NULL in other states.  Never
 * log the password.
 */
const char *auth_sasl_login(const struct auth_sasl *s);
const char *auth_sasl_password(const struct auth_sasl *s);

/* Back to idle, wiping credentials and decoded data. */
void auth_sasl_reset(struct auth_sasl *s);

/*
 * Splits a decoded PLAIN message "[authzid] NUL authcid NUL passwd"
 * (RFC 4616 §2).  Returns 0 with views into data in *login_r and
 * *password_r; -1 with *error_r set to a static reason when a NUL is
 * missing or extra, authcid or passwd is empty or too long, or authcid
 * holds a control character; -2 when an authzid other than authcid is
 * asked for (proxy authorization is not supported).
 */
ATTR_WUR int auth_sasl_plain_parse(const uint8_t *data, size_t len,
    struct str *login_r, struct str *password_r, const char **error_r);

#endif
