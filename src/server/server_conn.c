/* SPDX-License-Identifier: ISC */
/*
 * One SMTP connection: moves bytes between the socket (a libevent
 * bufferevent) and the pure session, does what the session's events ask
 * (policy, spool), and enforces the limits that need a clock or a
 * socket: per-command and whole-session timeouts (RFC 5321 4.5.3.2),
 * sessions per client address, and output back-pressure.
 */
#include "server/server_private.h"

#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>

#include "core/log.h"
#include "core/str.h"
#include "core/xalloc.h"
#include "config/config.h"
#include "auth/auth_sasl.h"
#include "policy/policy.h"
#include "smtp/smtp_session.h"

/* Stop taking commands while this much reply output is unsent. */
#define SERVER_CONN_OUT_HIGH_BYTES (64 * 1024)
/* Bytes handed to the session per feed. */
#define SERVER_CONN_FEED_BYTES (16 * 1024)
/* Give up on a client that does not read our replies. */
#define SERVER_CONN_WRITE_TIMEOUT_S 300

static void server_conn_free(struct server_conn *c);

static enum smtp_role
server_conn_role(enum listen_role role)
{
	switch (role) {
	case LISTEN_ROLE_MX:
		return SMTP_ROLE_MX;
	case LISTEN_ROLE_SUBMISSION:
		return SMTP_ROLE_SUBMISSION;
	case LISTEN_ROLE_SUBMISSIONS:
		return SMTP_ROLE_SUBMISSIONS;
	}
	log_panic("server_conn_role: bad role %d", (int)role);
}

/* The client's numeric address; IPv4-mapped IPv6 is shown as IPv4. */
static void
server_conn_set_addr(struct server_conn *c, const struct sockaddr *sa,
    socklen_t salen)
{
	char host[NI_MAXHOST];
	const char *p = host;

	if (getnameinfo(sa, salen, host, sizeof(host), NULL, 0,
	    NI_NUMERICHOST) != 0) {
		(void)!str_copy(c->addr, "unknown", sizeof(c->addr));
		return;
	}
	if (str_has_case_prefix(host, "::ffff:") && strchr(host + 7, '.'))
		p = host + 7;
	if (str_copy(c->addr, p, sizeof(c->addr)) == -1)
		(void)!str_copy(c->addr, "unknown", sizeof(c->addr));
}

static bool server_conn_shutdown_one(struct server_conn *c);

bool
server_conn_is_waiting(const struct server_conn *c)
{
	return c->commit_pending || c->auth_pending || c->starttls_pending;
}

void
server_conn_flush(struct server_conn *c)
{
	if (c->out.len == 0 || c->bev == NULL)
		return;
	if (bufferevent_write(c->bev, c->out.data, c->out.len) == -1)
		log_warn("%s smtp write failed", c->sid);
	buf_reset(&c->out);
}

static void
server_conn_set_timeouts(struct server_conn *c)
{
	const struct config *cfg = c->srv->cfg;
	struct timeval rd = { 0, 0 }, wr = { SERVER_CONN_WRITE_TIMEOUT_S, 0 };

	rd.tv_sec = (time_t)(smtp_session_in_data(c->session) ?
	    cfg->data_timeout : cfg->command_timeout);
	bufferevent_set_timeouts(c->bev, &rd, &wr);
}

/* Marks the connection for an orderly close: reading stops, output goes. */
void
server_conn_close(struct server_conn *c, const char *reason)
{
	if (c->close_reason == NULL)
		c->close_reason = reason;
	c->closing = true;
	if (c->bev != NULL)
		bufferevent_disable(c->bev, EV_READ);
}

/*
 * Sends the queued output of a closing connection, and frees it once
 * nothing is left to send (else the write callback does).  Must be the
 * last use of c by the caller.
 */
void
server_conn_finish(struct server_conn *c)
{
	server_conn_flush(c);
	if (c->bev == NULL ||
	    evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		server_conn_free(c);
}

static void
server_conn_on_rcpt(struct server_conn *c, const char *rcpt)
{
	struct policy_client client = {
		.role = c->listener->role,
		.authenticated = c->auth_user != NULL,
	};
	struct policy_result pr;
	struct smtp_result r = { 0 };
	char safe[300];

	pr = policy_check_rcpt(c->srv->cfg, &client, rcpt);
	if (pr.code != 0) {
		r.code = pr.code;
		r.enh = pr.enh;
		r.text = pr.text;
		log_info("%s smtp rcpt refused to=<%s> result=%d %s", c->sid,
		    str_sanitize(safe, sizeof(safe), rcpt, strlen(rcpt)),
		    pr.code, pr.enh);
	} else if (c->auth_user != NULL) {
		(void)server_auth_take_rcpt(c, &r);
	}
	smtp_session_resume(c->session, &c->out, &r);
}

/*
 * Handles one session event.  Returns false when processing must stop
 * (a commit is awaited or the connection closes).
 */
static bool
server_conn_on_event(struct server_conn *c, enum smtp_event ev,
    const struct smtp_event_data *d)
{
	struct smtp_result r = { 0 };

	switch (ev) {
	case SMTP_EV_NONE:
		return true;
	case SMTP_EV_MAIL:
		if (c->auth_user != NULL)
			(void)server_auth_check_sender(c, d->mail_from, &r);
		smtp_session_resume(c->session, &c->out, &r);
		return true;
	case SMTP_EV_RCPT:
		server_conn_on_rcpt(c, d->rcpt_to);
		return true;
	case SMTP_EV_DATA_BEGIN:
		server_message_begin(c, &r);
		smtp_session_resume(c->session, &c->out, &r);
		return true;
	case SMTP_EV_DATA:
		server_message_data(c, d->bytes, d->len);
		return true;
	case SMTP_EV_DATA_END:
		if (server_message_end(c, &r) == 1) {
			c->commit_pending = true;
			return false;
		}
		smtp_session_resume(c->session, &c->out, &r);
		return true;
	case SMTP_EV_DATA_ABORT:
		server_message_abort(c);
		return true;
	case SMTP_EV_STARTTLS:
		/* The upgrade starts once the 220 is out (write callback). */
		c->starttls_pending = true;
		return false;
	case SMTP_EV_CLOSE:
		server_conn_close(c, "quit");
		return false;
	case SMTP_EV_AUTH:
	case SMTP_EV_AUTH_RESPONSE:
		server_auth_on_event(c, ev, d);
		return !server_conn_is_waiting(c) && !c->closing;
	}
	log_panic("server_conn_on_event: bad event %d", (int)ev);
}

/*
 * Feeds buffered input to the session and handles its events until the
 * input is used up, a commit is awaited, the connection closes, or too
 * much output waits for a slow reader.
 */
void
server_conn_process(struct server_conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	struct evbuffer *out = bufferevent_get_output(c->bev);
	struct smtp_event_data d;
	enum smtp_event ev;

	while (!c->closing && !server_conn_is_waiting(c)) {
		struct evbuffer_iovec vec;
		size_t n;

		if (evbuffer_get_length(out) + c->out.len >
		    SERVER_CONN_OUT_HIGH_BYTES) {
			/* Resumed from the write callback at low water. */
			bufferevent_disable(c->bev, EV_READ);
			break;
		}
		memset(&d, 0, sizeof(d));
		ev = smtp_session_next(c->session, &c->out, &d);
		if (ev != SMTP_EV_NONE) {
			if (!server_conn_on_event(c, ev, &d))
				break;
			continue;
		}
		if (evbuffer_peek(in, -1, NULL, &vec, 1) < 1)
			break;
		if (vec.iov_len > SERVER_CONN_FEED_BYTES)
			vec.iov_len = SERVER_CONN_FEED_BYTES;
		n = smtp_session_feed(c->session, vec.iov_base, vec.iov_len);
		if (n == 0)
			log_panic("%s smtp session took no input", c->sid);
		evbuffer_drain(in, n);
	}
	if (c->closing) {
		server_conn_finish(c);
		return;
	}
	if (c->srv->stopping && server_conn_shutdown_one(c))
		return;
	server_conn_flush(c);
	server_conn_set_timeouts(c);
	if (server_conn_is_waiting(c))
		bufferevent_disable(c->bev, EV_READ);
	else if (evbuffer_get_length(out) <= SERVER_CONN_OUT_HIGH_BYTES)
		bufferevent_enable(c->bev, EV_READ);
}

void
server_conn_commit_done(struct server_conn *c, const struct smtp_result *r)
{
	c->commit_pending = false;
	if (c->bev == NULL) {
		/* The client left while the commit ran. */
		server_conn_free(c);
		return;
	}
	c->messages++;
	smtp_session_resume(c->session, &c->out, r);
	server_conn_process(c);
}

static void server_conn_on_read(struct bufferevent *bev, void *arg);
static void server_conn_on_write(struct bufferevent *bev, void *arg);
static void server_conn_on_event_bev(struct bufferevent *bev, short what,
    void *arg);

void
server_conn_setup_bev(struct server_conn *c)
{
	bufferevent_setcb(c->bev, server_conn_on_read, server_conn_on_write,
	    server_conn_on_event_bev, c);
	server_conn_set_timeouts(c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

static void
server_conn_on_read(struct bufferevent *bev, void *arg)
{
	(void)bev;
	server_conn_process(arg);
}

static void
server_conn_on_write(struct bufferevent *bev, void *arg)
{
	struct server_conn *c = arg;

	if (c->closing) {
		if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
			server_conn_free(c);
		return;
	}
	if (c->starttls_pending) {
		if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
			server_tls_upgrade(c);
		return;
	}
	/* Output drained below the high mark: take commands again. */
	if (!server_conn_is_waiting(c))
		server_conn_process(c);
}

static void
server_conn_on_event_bev(struct bufferevent *bev, short what, void *arg)
{
	struct server_conn *c = arg;

	(void)bev;
	if ((what & BEV_EVENT_CONNECTED) != 0) {
		server_tls_on_connected(c);
		return;
	}
	if ((what & BEV_EVENT_TIMEOUT) != 0 && (what & BEV_EVENT_READING)) {
		log_info("%s smtp timeout state=%s", c->sid,
		    smtp_session_in_data(c->session) ? "data" : "command");
		if (c->writer != NULL)
			server_message_abort(c);
		smtp_session_timeout(c->session, &c->out);
		server_conn_close(c, "timeout");
		server_conn_finish(c);
		return;
	}
	if ((what & BEV_EVENT_EOF) != 0) {
		if (!c->commit_pending &&
		    smtp_session_eof(c->session) == SMTP_EV_DATA_ABORT)
			server_message_abort(c);
		if (c->writer != NULL)
			server_message_abort(c);
		c->close_reason = c->close_reason != NULL ? c->close_reason :
		    "eof";
	} else {
		if (c->writer != NULL)
			server_message_abort(c);
		c->close_reason = (what & BEV_EVENT_TIMEOUT) != 0 ?
		    "write-timeout" : c->tls && !c->tls_done ?
		    "tls-handshake-failed" : "error";
		if (c->tls && !c->tls_done)
			server_tls_log_error(c);
	}
	c->closing = true;
	server_conn_free(c);
}

static void
server_conn_on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct server_conn *c = arg;

	(void)fd;
	(void)what;
	if (c->commit_pending || c->closing)
		return;
	log_info("%s smtp session time limit reached", c->sid);
	if (c->writer != NULL)
		server_message_abort(c);
	smtp_session_timeout(c->session, &c->out);
	server_conn_close(c, "session-timeout");
	server_conn_finish(c);
}

/*
 * Frees the connection, or, while a commit is pending, only the socket:
 * the commit callback finishes the job.
 */
static void
server_conn_free(struct server_conn *c)
{
	struct server *srv = c->srv;
	double secs;
	struct timespec now;

	if (c->bev != NULL || c->fd != -1) {
		if (c->bev != NULL)
			bufferevent_free(c->bev);
		/* A TLS bufferevent closes the fd itself. */
		if (!c->tls && c->fd != -1)
			close(c->fd);
		c->bev = NULL;
		c->fd = -1;
		clock_gettime(CLOCK_MONOTONIC, &now);
		secs = (double)(now.tv_sec - c->started.tv_sec) +
		    (double)(now.tv_nsec - c->started.tv_nsec) / 1e9;
		log_info("%s smtp disconnect ip=%s reason=%s messages=%u "
		    "duration=%.3f", c->sid, c->addr,
		    c->close_reason != NULL ? c->close_reason : "eof",
		    c->messages, secs);
	}
	if (c->commit_pending)
		return;
	server_auth_conn_clear(c);
	if (c->writer != NULL)
		server_message_abort(c);
	if (c->deadline != NULL)
		event_free(c->deadline);
	if (c->counted)
		server_iptable_del(srv->iptable, c->addr);
	smtp_session_free(&c->session);
	envelope_clear(&c->commit_env);
	buf_clear(&c->out);
	TAILQ_REMOVE(&srv->conns, c, entry);
	srv->n_conns--;
	free(c);
	server_maybe_stopped(srv);
}

static time_t
server_conn_clock(void)
{
	return time(NULL);
}

void
server_conn_accept(struct server_listener *l, int fd,
    const struct sockaddr *sa, socklen_t salen)
{
	struct server *srv = l->srv;
	const struct config *cfg = srv->cfg;
	struct smtp_session_params params;
	struct server_conn *c;
	struct timeval tv;
	uint64_t per_ip;

	c = xcalloc(1, sizeof(*c));
	c->srv = srv;
	c->listener = l;
	srv->n_sessions++;
	clock_gettime(CLOCK_MONOTONIC, &c->started);
	(void)snprintf(c->sid, sizeof(c->sid), "%016" PRIx64, srv->next_sid++);
	server_conn_set_addr(c, sa, salen);
	buf_init(&c->out, 0, 0);
	envelope_init(&c->commit_env);
	c->fd = fd;
	c->bev = l->role == LISTEN_ROLE_SUBMISSIONS && srv->tls != NULL ?
	    server_tls_bev_new(c, BUFFEREVENT_SSL_ACCEPTING) :
	    bufferevent_socket_new(srv->base, fd, 0);
	if (c->bev == NULL) {
		log_err("%s smtp cannot set up connection", c->sid);
		close(fd);
		envelope_clear(&c->commit_env);
		free(c);
		return;
	}
	TAILQ_INSERT_TAIL(&srv->conns, c, entry);
	srv->n_conns++;

	memset(&params, 0, sizeof(params));
	params.hostname = cfg->hostname;
	params.role = server_conn_role(l->role);
	params.max_message_size = cfg->max_message_size;
	params.max_recipients = cfg->max_recipients;
	params.max_line_length = cfg->max_line_length;
	params.max_errors = cfg->max_errors;
	params.bare_newline = cfg->bare_newline == BARE_NEWLINE_NORMALIZE ?
	    SMTP_BARE_NEWLINE_NORMALIZE : SMTP_BARE_NEWLINE_REJECT;
	params.tls_active = c->tls;
	params.tls_available = srv->tls != NULL && !c->tls;
	/* AUTH is for users, on the submission ports, and only over TLS. */
	params.auth_enabled = l->role != LISTEN_ROLE_MX && srv->tls != NULL;
	params.auth_required = l->role != LISTEN_ROLE_MX;
	params.auth_mechanisms = AUTH_SASL_MECHANISMS;
	/* Scheduled sending is for users too (RFC 4865 is a submission
	 * extension). */
	if (l->role != LISTEN_ROLE_MX) {
		params.max_hold = cfg->max_hold;
		params.clock = server_conn_clock;
	}
	c->session = smtp_session_new(&params);

	bufferevent_setcb(c->bev, server_conn_on_read, server_conn_on_write,
	    server_conn_on_event_bev, c);
	log_info("%s smtp connect ip=%s listener=%s%s", c->sid, c->addr,
	    l->name, c->tls ? " tls=implicit" : "");

	per_ip = server_iptable_add(srv->iptable, c->addr);
	c->counted = true;
	if (srv->n_conns > cfg->max_sessions) {
		(void)!buf_printf(&c->out, "421 4.3.2 %s Too many sessions, "
		    "try again later\r\n", cfg->hostname);
		log_warn("%s smtp refused ip=%s reason=max_sessions", c->sid,
		    c->addr);
		server_conn_close(c, "max_sessions");
		server_conn_finish(c);
		return;
	}
	if (per_ip > cfg->max_sessions_per_ip) {
		(void)!buf_printf(&c->out, "421 4.7.0 %s Too many sessions "
		    "from your address, try again later\r\n", cfg->hostname);
		log_warn("%s smtp refused ip=%s reason=max_sessions_per_ip",
		    c->sid, c->addr);
		server_conn_close(c, "max_sessions_per_ip");
		server_conn_finish(c);
		return;
	}

	smtp_session_start(c->session, &c->out);
	server_conn_flush(c);
	server_conn_set_timeouts(c);
	c->deadline = evtimer_new(srv->base, server_conn_on_deadline, c);
	tv.tv_sec = (time_t)cfg->session_timeout;
	tv.tv_usec = 0;
	evtimer_add(c->deadline, &tv);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

/* 421 and close, unless a transaction is still going (see below). */
static bool
server_conn_shutdown_one(struct server_conn *c)
{
	if (c->closing || c->commit_pending || server_conn_is_waiting(c) ||
	    smtp_session_in_transaction(c->session))
		return false;
	server_auth_conn_clear(c);
	smtp_session_shutdown(c->session, &c->out);
	server_conn_close(c, "shutdown");
	server_conn_finish(c);
	return true;
}

/*
 * SIGTERM: idle sessions get 421 at once; a session in a transaction
 * may finish it (its message is committed and answered) and gets the
 * 421 after, within the shutdown grace time.
 */
void
server_conn_shutdown_all(struct server *srv)
{
	struct server_conn *c, *next;

	for (c = TAILQ_FIRST(&srv->conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		(void)server_conn_shutdown_one(c);
	}
}

void
server_conn_abort_writers(struct server *srv)
{
	struct server_conn *c;

	TAILQ_FOREACH(c, &srv->conns, entry)
		server_message_drop(c);
}

void
server_conn_drop_all(struct server *srv)
{
	struct server_conn *c;

	while ((c = TAILQ_FIRST(&srv->conns)) != NULL) {
		c->commit_pending = false;
		if (c->close_reason == NULL)
			c->close_reason = "shutdown";
		server_conn_free(c);
	}
}
