/* SPDX-License-Identifier: ISC */
/*
 * SMTP AUTH (RFC 4954) building blocks: what every auth file shares.
 * The module is split by concern, one narrow header each:
 *   auth/auth_base64.h     strict base64 for SASL exchanges (RFC 4648 §4)
 *   auth/auth_sasl.h       PLAIN and LOGIN state machine, pure (RFC 4616)
 *   auth/auth_passwd.h     Dovecot passwd-file lookup and crypt verification
 *   auth/auth_verifier.h   the same off the event loop, on worker threads
 *   auth/auth_throttle.h   failed-login throttle per client IP, pure
 *   auth/auth_ratelimit.h  per-user sending limit, pure
 *   auth/auth_userfile.h   atomic users file edits for `tern user ...`
 */
#ifndef TERN_AUTH_AUTH_H
#define TERN_AUTH_AUTH_H

#include "core/compat.h"

/* RFC 4616 §2 lets both be 255 octets; tern allows longer passwords. */
#define AUTH_LOGIN_MAX_BYTES 255
#define AUTH_PASSWORD_MAX_BYTES 1024

/* The outcome of a password check. */
enum auth_result {
	AUTH_OK,       /* credentials valid */
	AUTH_FAIL,     /* unknown user, wrong password, or no usable hash */
	AUTH_TEMPFAIL, /* users file unreadable or overloaded: reply 454 */
};

/* A static name for logs: "ok", "fail" or "tempfail". */
const char *auth_result_name(enum auth_result result);

#endif
