/* SPDX-License-Identifier: ISC */
/*
 * SASL PLAIN (RFC 4616) and LOGIN exchanges for SMTP AUTH (RFC 4954 §4),
 * pure: base64 lines in, 334 challenges, replies and credentials out.
 * Checking the password, throttling and the final 235/535 are left to
 * the caller.  Decoded bytes and credentials are wiped once used.
 */
#include "auth/auth_sasl.h"

#include <stdbool.h>
#include <string.h>

#include "auth/auth.h"
#include "auth/auth_base64.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/xalloc.h"

/* "[authzid] NUL authcid NUL passwd" at their limits. */
#define AUTH_SASL_DECODED_MAX_BYTES                                            \
	(2 * AUTH_LOGIN_MAX_BYTES + 2 + AUTH_PASSWORD_MAX_BYTES)

enum auth_sasl_state {
	AUTH_SASL_STATE_IDLE,
	AUTH_SASL_STATE_PLAIN,      /* waiting for the PLAIN response */
	AUTH_SASL_STATE_LOGIN_USER, /* LOGIN: waiting for the username */
	AUTH_SASL_STATE_LOGIN_PASS, /* LOGIN: waiting for the password */
	AUTH_SASL_STATE_DONE,
};

struct auth_sasl {
	enum auth_sasl_state state;
	struct buf decoded; /* preallocated, so never reallocated */
	struct auth_sasl_reply reply;
	char login[AUTH_LOGIN_MAX_BYTES + 1];
	char password[AUTH_PASSWORD_MAX_BYTES + 1];
};

/* The LOGIN prompts "Username:" and "Password:", base64-encoded. */
static const char auth_sasl_prompt_user[] = "VXNlcm5hbWU6";
static const char auth_sasl_prompt_pass[] = "UGFzc3dvcmQ6";

struct auth_sasl *
auth_sasl_new(void)
{
	struct auth_sasl *s = xcalloc(1, sizeof(*s));

	buf_init(&s->decoded, AUTH_SASL_DECODED_MAX_BYTES,
	    AUTH_SASL_DECODED_MAX_BYTES);
	s->state = AUTH_SASL_STATE_IDLE;
	return s;
}

void
auth_sasl_reset(struct auth_sasl *s)
{
	explicit_bzero(s->decoded.data, s->decoded.cap);
	buf_reset(&s->decoded);
	explicit_bzero(s->login, sizeof(s->login));
	explicit_bzero(s->password, sizeof(s->password));
	s->state = AUTH_SASL_STATE_IDLE;
	s->reply = (struct auth_sasl_reply){.code = 0, .enh = "", .text = ""};
}

void
auth_sasl_free(struct auth_sasl **sp)
{
	struct auth_sasl *s = *sp;

	if (s == NULL)
		return;
	auth_sasl_reset(s);
	buf_clear_secret(&s->decoded);
	free(s);
	*sp = NULL;
}

static enum auth_sasl_status
auth_sasl_error(
    struct auth_sasl *s, int code, const char *enh, const char *text)
{
	auth_sasl_reset(s);
	s->reply =
	    (struct auth_sasl_reply){.code = code, .enh = enh, .text = text};
	return AUTH_SASL_ERROR;
}

static enum auth_sasl_status
auth_sasl_challenge(
    struct auth_sasl *s, enum auth_sasl_state state, const char *challenge)
{
	s->state = state;
	s->reply =
	    (struct auth_sasl_reply){.code = 334, .enh = "", .text = challenge};
	return AUTH_SASL_NEED_MORE;
}

static enum auth_sasl_status
auth_sasl_done(struct auth_sasl *s)
{
	explicit_bzero(s->decoded.data, s->decoded.cap);
	buf_reset(&s->decoded);
	s->state = AUTH_SASL_STATE_DONE;
	s->reply = (struct auth_sasl_reply){.code = 0, .enh = "", .text = ""};
	return AUTH_SASL_DONE;
}

/* Decodes one response into s->decoded; -1 after setting the error. */
static int
auth_sasl_decode(struct auth_sasl *s, const char *text, size_t len)
{
	explicit_bzero(s->decoded.data, s->decoded.cap);
	buf_reset(&s->decoded);
	if (len > AUTH_SASL_LINE_MAX_BYTES) {
		(void)auth_sasl_error(s, 500, "5.5.6",
		    "Authentication Exchange line is too long");
		return -1;
	}
	/* RFC 4954 §4: "=" is an initial response of zero length. */
	if (len == 1 && text[0] == '=')
		return 0;
	if (auth_base64_decode(&s->decoded, text, len) == -1) {
		(void)auth_sasl_error(
		    s, 501, "5.5.2", "Cannot decode base64 response");
		return -1;
	}
	return 0;
}

static bool
auth_sasl_login_char_ok(uint8_t c)
{
	return c >= 0x20 && c != 0x7f;
}

int
auth_sasl_plain_parse(const uint8_t *data, size_t len, struct str *login_r,
    struct str *password_r, const char **error_r)
{
	const uint8_t *nul1, *nul2, *end = data + len;
	size_t zid_len, cid_len, pw_len, i;

	nul1 = len > 0 ? memchr(data, '\0', len) : NULL;
	if (nul1 == NULL) {
		*error_r = "PLAIN response lacks NUL separators";
		return -1;
	}
	nul2 = memchr(nul1 + 1, '\0', (size_t)(end - (nul1 + 1)));
	if (nul2 == NULL) {
		*error_r = "PLAIN response lacks the second NUL";
		return -1;
	}
	if (memchr(nul2 + 1, '\0', (size_t)(end - (nul2 + 1))) != NULL) {
		*error_r = "PLAIN password contains NUL";
		return -1;
	}
	zid_len = (size_t)(nul1 - data);
	cid_len = (size_t)(nul2 - (nul1 + 1));
	pw_len = (size_t)(end - (nul2 + 1));
	if (cid_len == 0) {
		*error_r = "PLAIN authcid is empty";
		return -1;
	}
	if (pw_len == 0) {
		*error_r = "PLAIN password is empty";
		return -1;
	}
	if (zid_len > AUTH_LOGIN_MAX_BYTES || cid_len > AUTH_LOGIN_MAX_BYTES) {
		*error_r = "PLAIN identity too long";
		return -1;
	}
	if (pw_len > AUTH_PASSWORD_MAX_BYTES) {
		*error_r = "PLAIN password too long";
		return -1;
	}
	for (i = 0; i < cid_len; i++) {
		if (!auth_sasl_login_char_ok(nul1[1 + i])) {
			*error_r = "PLAIN authcid contains a control character";
			return -1;
		}
	}
	/*
	 * RFC 4616 §2: an authzid asks to act as someone else.  tern has no
	 * proxy authorization, so only authzid == authcid (ASCII case
	 * aside, as addresses are matched) is allowed.
	 */
	if (zid_len > 0 &&
	    (zid_len != cid_len ||
	        !str_case_equal_n(
	            (const char *)data, (const char *)nul1 + 1, cid_len))) {
		*error_r = "PLAIN authzid differs from authcid";
		return -2;
	}
	login_r->p = (const char *)nul1 + 1;
	login_r->len = cid_len;
	password_r->p = (const char *)nul2 + 1;
	password_r->len = pw_len;
	return 0;
}

static enum auth_sasl_status
auth_sasl_plain_finish(struct auth_sasl *s)
{
	struct str login, password;
	const char *error;
	int rc;

	rc = auth_sasl_plain_parse(
	    s->decoded.data, s->decoded.len, &login, &password, &error);
	if (rc == -2)
		return auth_sasl_error(
		    s, 535, "5.7.8", "Proxy authorization is not supported");
	if (rc == -1)
		return auth_sasl_error(s, 501, "5.5.2", error);
	memcpy(s->login, login.p, login.len);
	s->login[login.len] = '\0';
	memcpy(s->password, password.p, password.len);
	s->password[password.len] = '\0';
	return auth_sasl_done(s);
}

/* Copies one LOGIN field out of s->decoded; -1 after setting the error. */
static int
auth_sasl_login_field(struct auth_sasl *s, char *dst, size_t max, bool is_user)
{
	size_t len = s->decoded.len, i;

	if (len == 0) {
		(void)auth_sasl_error(s, 501, "5.5.2",
		    is_user ? "LOGIN username is empty"
		            : "LOGIN password is empty");
		return -1;
	}
	if (len > max) {
		(void)auth_sasl_error(s, 501, "5.5.2",
		    is_user ? "LOGIN username too long"
		            : "LOGIN password too long");
		return -1;
	}
	for (i = 0; i < len; i++) {
		uint8_t c = s->decoded.data[i];

		if (c == '\0' || (is_user && !auth_sasl_login_char_ok(c))) {
			(void)auth_sasl_error(s, 501, "5.5.2",
			    is_user
			        ? "LOGIN username contains a control character"
			        : "LOGIN password contains NUL");
			return -1;
		}
	}
	memcpy(dst, s->decoded.data, len);
	dst[len] = '\0';
	explicit_bzero(s->decoded.data, s->decoded.cap);
	buf_reset(&s->decoded);
	return 0;
}

enum auth_sasl_status
auth_sasl_start(struct auth_sasl *s, const char *mech, const char *initial)
{
	auth_sasl_reset(s);
	if (str_casecmp(mech, "PLAIN") == 0) {
		if (initial == NULL) /* RFC 4954 §4: empty challenge */
			return auth_sasl_challenge(
			    s, AUTH_SASL_STATE_PLAIN, "");
		if (auth_sasl_decode(s, initial, strlen(initial)) == -1)
			return AUTH_SASL_ERROR;
		return auth_sasl_plain_finish(s);
	}
	if (str_casecmp(mech, "LOGIN") == 0) {
		if (initial == NULL)
			return auth_sasl_challenge(s,
			    AUTH_SASL_STATE_LOGIN_USER, auth_sasl_prompt_user);
		/* Not in the draft, but clients send the username here. */
		if (auth_sasl_decode(s, initial, strlen(initial)) == -1 ||
		    auth_sasl_login_field(
		        s, s->login, AUTH_LOGIN_MAX_BYTES, true) == -1)
			return AUTH_SASL_ERROR;
		return auth_sasl_challenge(
		    s, AUTH_SASL_STATE_LOGIN_PASS, auth_sasl_prompt_pass);
	}
	return auth_sasl_error(
	    s, 504, "5.5.4", "Unrecognized authentication type");
}

enum auth_sasl_status
auth_sasl_step(struct auth_sasl *s, const char *line, size_t len)
{
	ASSERT(s->state == AUTH_SASL_STATE_PLAIN ||
	    s->state == AUTH_SASL_STATE_LOGIN_USER ||
	    s->state == AUTH_SASL_STATE_LOGIN_PASS);
	/* RFC 4954 §4: "*" cancels, and the server MUST answer 501. */
	if (len == 1 && line[0] == '*')
		return auth_sasl_error(
		    s, 501, "5.0.0", "Authentication cancelled");
	/* "=" is only for initial responses; here "" is the empty one. */
	if (len == 1 && line[0] == '=')
		return auth_sasl_error(
		    s, 501, "5.5.2", "Cannot decode base64 response");
	if (auth_sasl_decode(s, line, len) == -1)
		return AUTH_SASL_ERROR;
	switch (s->state) {
	case AUTH_SASL_STATE_PLAIN:
		return auth_sasl_plain_finish(s);
	case AUTH_SASL_STATE_LOGIN_USER:
		if (auth_sasl_login_field(
		        s, s->login, AUTH_LOGIN_MAX_BYTES, true) == -1)
			return AUTH_SASL_ERROR;
		return auth_sasl_challenge(
		    s, AUTH_SASL_STATE_LOGIN_PASS, auth_sasl_prompt_pass);
	case AUTH_SASL_STATE_LOGIN_PASS:
		if (auth_sasl_login_field(
		        s, s->password, AUTH_PASSWORD_MAX_BYTES, false) == -1)
			return AUTH_SASL_ERROR;
		return auth_sasl_done(s);
	case AUTH_SASL_STATE_IDLE:
	case AUTH_SASL_STATE_DONE:
		break;
	}
	log_panic("auth_sasl_step: bad state %d", (int)s->state);
}

const struct auth_sasl_reply *
auth_sasl_reply(const struct auth_sasl *s)
{
	return &s->reply;
}

const char *
auth_sasl_login(const struct auth_sasl *s)
{
	return s->state == AUTH_SASL_STATE_DONE ? s->login : NULL;
}

const char *
auth_sasl_password(const struct auth_sasl *s)
{
	return s->state == AUTH_SASL_STATE_DONE ? s->password : NULL;
}
