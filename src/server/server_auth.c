/* SPDX-License-Identifier: ISC */
/*
 * SMTP AUTH on the submission roles (RFC 4954): runs the SASL exchange
 * the session carries, checks the password on the verifier's threads
 * (hashing never blocks the loop), throttles failures per client
 * address, and afterwards holds the user to their own sender addresses
 * and to user_messages_per_hour.  Passwords are wiped and never logged.
 */
#include "server/server_private.h"

#include <string.h>
#include <time.h>

#include <event2/bufferevent.h>
#include <event2/event.h>

#include "auth/auth.h"
#include "auth/auth_ratelimit.h"
#include "auth/auth_sasl.h"
#include "auth/auth_throttle.h"
#include "auth/auth_verifier.h"
#include "core/log.h"
#include "core/str.h"
#include "core/xalloc.h"
#include "config/config.h"
#include "policy/policy.h"
#include "smtp/smtp_session.h"

#define SERVER_AUTH_VERIFIER_THREADS 2
/* Throttle key length for IPv6: the /64 a client usually controls. */
#define SERVER_AUTH_V6_PREFIX_GROUPS 4

static uint64_t
server_auth_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * The throttle key of a client: its IPv4 address, or the first four
 * groups (the /64) of an IPv6 address, so that one host cannot escape
 * the throttle by hopping through its own prefix.
 */
static void
server_auth_throttle_key(const struct server_conn *c, char *key, size_t size)
{
	size_t i, groups = 0;

	(void)!str_copy(key, c->addr, size);
	if (strchr(key, ':') == NULL)
		return;
	for (i = 0; key[i] != '\0'; i++) {
		if (key[i] == ':' && ++groups == SERVER_AUTH_V6_PREFIX_GROUPS) {
			key[i] = '\0';
			return;
		}
	}
}

static void
server_auth_on_verifier(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;

	(void)fd;
	(void)what;
	(void)auth_verifier_dispatch(srv->verifier);
}

void
server_auth_set_limits(struct server *srv)
{
	struct auth_throttle_limits limits;
	const struct config *cfg = srv->cfg;

	auth_throttle_limits_default(&limits);
	limits.max_failures = (unsigned)cfg->auth_max_failures;
	limits.window_ms = cfg->auth_failure_window * 1000;
	limits.block_ms = cfg->auth_block_time * 1000;
	/* A reload changes the limits, never what was counted so far. */
	if (srv->throttle == NULL)
		srv->throttle = auth_throttle_new(&limits);
	else
		auth_throttle_set_limits(srv->throttle, &limits);
	if (srv->ratelimit == NULL)
		srv->ratelimit = auth_ratelimit_new(
		    cfg->user_messages_per_hour, AUTH_RATELIMIT_MAX_USERS_DEFAULT);
	else
		auth_ratelimit_set_limit(
		    srv->ratelimit, cfg->user_messages_per_hour);
}

void
server_auth_init(struct server *srv)
{
	srv->verifier = auth_verifier_new(SERVER_AUTH_VERIFIER_THREADS);
	srv->verifier_ev = event_new(srv->base,
	    auth_verifier_notify_fd(srv->verifier), EV_READ | EV_PERSIST,
	    server_auth_on_verifier, srv);
	if (srv->verifier_ev == NULL || event_add(srv->verifier_ev, NULL) == -1)
		log_panic("cannot watch the password verifier");
	server_auth_set_limits(srv);
}

void
server_auth_free(struct server *srv)
{
	if (srv->verifier_ev != NULL)
		event_free(srv->verifier_ev);
	srv->verifier_ev = NULL;
	auth_verifier_free(&srv->verifier);
	auth_throttle_free(&srv->throttle);
	auth_ratelimit_free(&srv->ratelimit);
}

void
server_auth_conn_clear(struct server_conn *c)
{
	if (c->srv->verifier != NULL)
		auth_verifier_cancel(c->srv->verifier, c);
	if (c->auth_delay != NULL) {
		event_free(c->auth_delay);
		c->auth_delay = NULL;
	}
	auth_sasl_free(&c->sasl);
	free(c->auth_login);
	c->auth_login = NULL;
	free(c->auth_user);
	c->auth_user = NULL;
	c->auth_pending = false;
}

/* Answers the pending AUTH event and carries on with the session. */
static void
server_auth_answer(struct server_conn *c, int code, const char *enh,
    const char *text)
{
	struct smtp_result r = { .code = code, .enh = enh, .text = text };

	c->auth_pending = false;
	smtp_session_resume(c->session, &c->out, &r);
	if (code == 421) {
		server_conn_close(c, "auth-blocked");
		server_conn_finish(c);
		return;
	}
	server_conn_process(c);
}

static void
server_auth_on_delay(evutil_socket_t fd, short what, void *arg)
{
	struct server_conn *c = arg;

	(void)fd;
	(void)what;
	event_free(c->auth_delay);
	c->auth_delay = NULL;
	if (c->auth_blocked)
		server_auth_answer(c, 421, "4.7.0",
		    "Too many failed logins, try again later");
	else
		server_auth_answer(c, 535, "5.7.8",
		    "Authentication credentials invalid");
}

/*
 * A failed login: log it, count it, and answer after the throttle's
 * delay.  The answer always comes from a timer, never from within the
 * caller, so this is safe to call while the session is being driven.
 */
static void
server_auth_failed(struct server_conn *c, const char *reason)
{
	char key[SERVER_ADDR_MAX], login[300];
	bool blocked = false;
	uint64_t delay_ms;
	struct timeval tv;

	server_auth_throttle_key(c, key, sizeof(key));
	delay_ms = auth_throttle_failure(c->srv->throttle, key,
	    server_auth_now_ms(), &blocked);
	str_sanitize(login, sizeof(login), c->auth_login != NULL ?
	    c->auth_login : "", c->auth_login != NULL ?
	    strlen(c->auth_login) : 0);
	log_notice("%s smtp auth failed ip=%s user=<%s> reason=\"%s\" "
	    "delay=%llums%s", c->sid, c->addr, login, reason,
	    (unsigned long long)delay_ms, blocked ? " blocked=yes" : "");
	free(c->auth_login);
	c->auth_login = NULL;
	c->auth_blocked = blocked;
	c->auth_pending = true;
	c->auth_delay = evtimer_new(c->srv->base, server_auth_on_delay, c);
	tv.tv_sec = blocked ? 0 : (time_t)(delay_ms / 1000);
	tv.tv_usec = blocked ? 0 : (suseconds_t)(delay_ms % 1000) * 1000;
	evtimer_add(c->auth_delay, &tv);
}

static void
server_auth_on_verified(void *arg, enum auth_result result,
    const char *reason)
{
	struct server_conn *c = arg;
	char key[SERVER_ADDR_MAX], login[300];

	switch (result) {
	case AUTH_OK:
		server_auth_throttle_key(c, key, sizeof(key));
		auth_throttle_success(c->srv->throttle, key);
		c->auth_user = c->auth_login;
		c->auth_login = NULL;
		str_sanitize(login, sizeof(login), c->auth_user,
		    strlen(c->auth_user));
		log_info("%s smtp auth ok ip=%s user=<%s>", c->sid, c->addr,
		    login);
		server_auth_answer(c, 235, "2.7.0",
		    "Authentication successful");
		return;
	case AUTH_FAIL:
		server_auth_failed(c, reason);
		return;
	case AUTH_TEMPFAIL:
		log_warn("%s smtp auth tempfail ip=%s reason=\"%s\"", c->sid,
		    c->addr, reason);
		free(c->auth_login);
		c->auth_login = NULL;
		server_auth_answer(c, 454, "4.7.0",
		    "Temporary authentication failure");
		return;
	}
	log_panic("server_auth_on_verified: bad result %d", (int)result);
}

/*
 * The exchange produced a login and password: find the user's domain
 * and hand the check to the verifier.  The login is the full address.
 */
static void
server_auth_verify(struct server_conn *c)
{
	const char *login = auth_sasl_login(c->sasl);
	const char *password = auth_sasl_password(c->sasl);
	const struct config_domain *d = NULL;
	const char *at = strrchr(login, '@');
	char *localpart = NULL;

	c->auth_login = str_lower(xstrdup(login));
	if (at != NULL && at != login)
		d = config_find_domain(c->srv->cfg, at + 1);
	if (d == NULL || d->users_path == NULL) {
		auth_sasl_reset(c->sasl);
		server_auth_failed(c, "no such domain or no users file");
		return;
	}
	localpart = str_lower(xstrndup(login, (size_t)(at - login)));
	c->auth_pending = true;
	if (auth_verifier_submit(c->srv->verifier, d->users_path, localpart,
	    password, server_auth_on_verified, c) == -1) {
		auth_sasl_reset(c->sasl);
		free(localpart);
		free(c->auth_login);
		c->auth_login = NULL;
		log_warn("%s smtp auth verifier busy", c->sid);
		c->auth_pending = false;
		smtp_session_resume(c->session, &c->out, &(struct smtp_result){
		    .code = 454, .enh = "4.7.0",
		    .text = "Temporary authentication failure" });
		return;
	}
	auth_sasl_reset(c->sasl);
	free(localpart);
}

void
server_auth_on_event(struct server_conn *c, enum smtp_event ev,
    const struct smtp_event_data *d)
{
	const struct auth_sasl_reply *reply;
	enum auth_sasl_status st;
	char key[SERVER_ADDR_MAX];
	struct smtp_result r = { 0 };

	if (c->sasl == NULL)
		c->sasl = auth_sasl_new();
	if (ev == SMTP_EV_AUTH) {
		server_auth_throttle_key(c, key, sizeof(key));
		if (auth_throttle_is_blocked(c->srv->throttle, key,
		    server_auth_now_ms())) {
			log_notice("%s smtp auth refused ip=%s reason=blocked",
			    c->sid, c->addr);
			r.code = 421;
			r.enh = "4.7.0";
			r.text = "Too many failed logins, try again later";
			smtp_session_resume(c->session, &c->out, &r);
			server_conn_close(c, "auth-blocked");
			return;
		}
		st = auth_sasl_start(c->sasl, d->auth_mechanism,
		    d->auth_response);
	} else {
		st = auth_sasl_step(c->sasl, d->auth_response,
		    strlen(d->auth_response));
	}
	reply = auth_sasl_reply(c->sasl);
	switch (st) {
	case AUTH_SASL_NEED_MORE:
	case AUTH_SASL_ERROR:
		r.code = reply->code;
		r.enh = reply->enh;
		r.text = reply->text;
		smtp_session_resume(c->session, &c->out, &r);
		return;
	case AUTH_SASL_DONE:
		server_auth_verify(c);
		return;
	}
	log_panic("server_auth_on_event: bad SASL status %d", (int)st);
}

int
server_auth_check_sender(struct server_conn *c, const char *from,
    struct smtp_result *r)
{
	char safe_from[300], login[300];

	if (policy_sender_is_owned(c->srv->cfg, c->auth_user, from))
		return 0;
	str_sanitize(safe_from, sizeof(safe_from), from, strlen(from));
	str_sanitize(login, sizeof(login), c->auth_user,
	    strlen(c->auth_user));
	log_notice("%s smtp sender refused user=<%s> from=<%s>", c->sid,
	    login, safe_from);
	r->code = 553;
	r->enh = "5.7.1";
	r->text = "Sender address not owned by the authenticated user";
	return -1;
}

int
server_auth_take_rcpt(struct server_conn *c, struct smtp_result *r)
{
	char login[300];

	if (auth_ratelimit_take(c->srv->ratelimit, c->auth_user, 1,
	    server_auth_now_ms()) == 0)
		return 0;
	str_sanitize(login, sizeof(login), c->auth_user,
	    strlen(c->auth_user));
	log_notice("%s smtp rate limit user=<%s> limit=%llu/h", c->sid, login,
	    (unsigned long long)c->srv->cfg->user_messages_per_hour);
	r->code = 451;
	r->enh = "4.7.1";
	r->text = "Sending rate limit exceeded, try again later";
	return -1;
}
