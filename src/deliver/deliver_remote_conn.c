/* SPDX-License-Identifier: ISC */
/*
 * One outbound SMTP connection: moves bytes between a libevent
 * bufferevent and the pure smtpc_session, upgrades to TLS after
 * STARTTLS (RFC 3207) or from the first byte (RFC 8314), streams the
 * spool content dot-stuffed with write back-pressure, and enforces the
 * client timeouts of RFC 5321 4.5.3.2.  Which task uses the connection
 * and what happens to its results is deliver_remote.c's business.
 */
#include "deliver/deliver_remote_private.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>

#include "core/log.h"
#include "core/str.h"
#include "core/xalloc.h"
#include "tls/tls.h"

/* How long a closing connection may take to send its QUIT. */
#define REMOTE_CLOSE_TIMEOUT_S 10

static void deliver_remote_conn_process(struct remote_conn *c);
static void deliver_remote_conn_on_read(struct bufferevent *bev, void *arg);
static void deliver_remote_conn_on_write(struct bufferevent *bev, void *arg);
static void deliver_remote_conn_on_event(
    struct bufferevent *bev, short what, void *arg);

static const char *
deliver_remote_conn_qid(const struct remote_conn *c)
{
	return c->task != NULL ? c->task->queue_id : "-";
}

static void
deliver_remote_conn_arm(struct remote_conn *c, unsigned secs)
{
	struct timeval tv = {(time_t)secs, 0};

	evtimer_add(c->timer, &tv);
}

void
deliver_remote_conn_free(struct remote_conn *c, bool release)
{
	if (c->bev != NULL)
		bufferevent_free(c->bev);
	/* A TLS bufferevent closes the fd itself. */
	if (!c->tls && c->fd != -1)
		close(c->fd);
	if (c->timer != NULL)
		event_free(c->timer);
	if (c->idle)
		TAILQ_REMOVE(&c->dest->idle, c, idle_entry);
	TAILQ_REMOVE(&c->agent->conns, c, entry);
	smtpc_session_free(&c->session);
	buf_clear_secret(&c->out);
	buf_clear(&c->chunk);
	deliver_remote_cfg_unref(&c->cfg);
	if (release && c->has_slot)
		deliver_remote_dest_release(c->dest);
	free(c);
}

/* Sets the bufferevent timeouts for what the session waits for. */
static void
deliver_remote_conn_set_timeouts(struct remote_conn *c)
{
	const struct remote_params *p = &c->cfg->p;
	struct timeval cmd = {(time_t)p->command_timeout_s, 0};
	struct timeval data = {(time_t)p->data_timeout_s, 0};
	struct timeval dot = {(time_t)p->dot_timeout_s, 0};

	if (c->bev == NULL || c->phase == REMOTE_CONN_CONNECTING)
		return;
	if (c->idle || c->phase == REMOTE_CONN_CLOSING)
		bufferevent_set_timeouts(c->bev, NULL, &cmd);
	else if (c->sending)
		/* RFC 5321 4.5.3.2.5: each data block within 3 minutes. */
		bufferevent_set_timeouts(c->bev, NULL, &data);
	else if (smtpc_session_in_data(c->session))
		bufferevent_set_timeouts(c->bev, &dot, &data);
	else
		bufferevent_set_timeouts(c->bev, &cmd, &cmd);
}

static void
deliver_remote_conn_flush(struct remote_conn *c)
{
	if (c->out.len == 0 || c->bev == NULL)
		return;
	if (bufferevent_write(c->bev, c->out.data, c->out.len) == -1)
		log_warn("%s deliver write failed relay=%s",
		    deliver_remote_conn_qid(c), c->relay);
	/* The output may have held an AUTH line. */
	explicit_bzero(c->out.data, c->out.len);
	buf_reset(&c->out);
}

void
deliver_remote_conn_close(struct remote_conn *c)
{
	if (c->phase == REMOTE_CONN_CLOSING)
		return;
	if (c->idle) {
		TAILQ_REMOVE(&c->dest->idle, c, idle_entry);
		c->idle = false;
	}
	if (c->session != NULL && c->phase == REMOTE_CONN_SMTP)
		smtpc_session_quit(c->session, &c->out);
	c->phase = REMOTE_CONN_CLOSING;
	deliver_remote_conn_flush(c);
	if (c->bev == NULL ||
	    evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) {
		deliver_remote_conn_free(c, true);
		return;
	}
	bufferevent_disable(c->bev, EV_READ);
	evtimer_del(c->timer);
	deliver_remote_conn_arm(c, REMOTE_CLOSE_TIMEOUT_S);
}

static void
deliver_remote_conn_on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct remote_conn *c = arg;
	char why[1024];

	(void)fd;
	(void)what;
	switch (c->phase) {
	case REMOTE_CONN_CONNECTING:
		(void)snprintf(
		    why, sizeof(why), "connect to %s: timed out", c->relay);
		smtpc_session_abort(c->session, "4.4.1", why);
		deliver_remote_conn_process(c);
		return;
	case REMOTE_CONN_HANDSHAKE:
	case REMOTE_CONN_SMTP:
		/* The idle timer: say goodbye. */
		deliver_remote_conn_close(c);
		return;
	case REMOTE_CONN_CLOSING:
		deliver_remote_conn_free(c, true);
		return;
	}
	log_panic("deliver_remote_conn_on_timer: bad phase %d", (int)c->phase);
}

static enum smtpc_tls
deliver_remote_conn_tls_policy(const struct remote_params *p)
{
	if (p->relay_host == NULL)
		return SMTPC_TLS_OPPORTUNISTIC; /* RFC 7435 for MX */
	switch (p->relay_tls) {
	case REMOTE_TLS_OPPORTUNISTIC:
		return SMTPC_TLS_OPPORTUNISTIC;
	case REMOTE_TLS_STARTTLS:
		return SMTPC_TLS_REQUIRED;
	case REMOTE_TLS_IMPLICIT:
		return SMTPC_TLS_ACTIVE;
	case REMOTE_TLS_NONE:
		return SMTPC_TLS_NONE;
	}
	log_panic(
	    "deliver_remote_conn_tls_policy: bad value %d", (int)p->relay_tls);
}

static void
deliver_remote_conn_start_message(struct remote_conn *c)
{
	struct remote_task *t = c->task;
	struct smtpc_message m = {
	    .from = t->from,
	    .rcpts = (const char *const *)t->rcpts,
	    .n_rcpts = t->n_rcpts,
	    .size = t->content_len,
	    .body = t->body,
	    .smtputf8 = t->smtputf8,
	};

	smtpc_session_start_message(c->session, &m, &c->out);
}

void
deliver_remote_conn_start(struct remote_task *t, const struct remote_addr *ra)
{
	struct remote_agent *a = t->agent;
	const struct remote_params *p = &t->cfg->p;
	struct smtpc_session_params sp = {0};
	struct remote_conn *c = xcalloc(1, sizeof(*c));
	char ip[NI_MAXHOST], port[NI_MAXSERV], why[1024];

	c->agent = a;
	c->cfg = t->cfg;
	c->cfg->refs++;
	c->dest = t->dest;
	c->task = t;
	t->conn = c;
	c->fd = -1;
	c->phase = REMOTE_CONN_CONNECTING;
	buf_init(&c->out, 0, 0);
	buf_init(&c->chunk, 0, 0);
	(void)!str_copy(c->host, ra->host, sizeof(c->host));
	if (getnameinfo((const struct sockaddr *)&ra->sa, ra->salen, ip,
	        sizeof(ip), port, sizeof(port),
	        NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		(void)!str_copy(ip, "unknown", sizeof(ip));
		(void)!str_copy(port, "0", sizeof(port));
	}
	(void)snprintf(c->relay, sizeof(c->relay), "%.200s[%.64s]:%.8s",
	    c->host, ip, port);
	sp.tls = deliver_remote_conn_tls_policy(p);
	if (t->no_tls && sp.tls == SMTPC_TLS_OPPORTUNISTIC)
		sp.tls = SMTPC_TLS_NONE;
	c->implicit_tls = sp.tls == SMTPC_TLS_ACTIVE;
	c->tls_optional = sp.tls == SMTPC_TLS_OPPORTUNISTIC;
	c->verify = p->relay_host != NULL && p->relay_tls_verify;
	sp.helo = p->helo;
	if (p->relay_host != NULL && p->relay_user != NULL) {
		sp.auth_user = p->relay_user;
		sp.auth_password = p->relay_password;
	}
	c->session = smtpc_session_new(&sp);
	deliver_remote_conn_start_message(c);
	TAILQ_INSERT_TAIL(&a->conns, c, entry);
	c->timer = evtimer_new(a->base, deliver_remote_conn_on_timer, c);
	if (c->timer == NULL)
		log_panic("deliver_remote_conn_start: evtimer_new failed");

	c->fd = socket(
	    ra->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	/* The plain bufferevent does not own fd: TLS may replace it. */
	if (c->fd != -1)
		c->bev = bufferevent_socket_new(a->base, c->fd, 0);
	if (c->bev == NULL ||
	    bufferevent_socket_connect(c->bev, (const struct sockaddr *)&ra->sa,
	        (int)ra->salen) == -1) {
		(void)snprintf(why, sizeof(why), "connect to %s: %s", c->relay,
		    strerror(errno));
		smtpc_session_abort(c->session, "4.4.1", why);
		deliver_remote_conn_process(c);
		return;
	}
	bufferevent_setcb(c->bev, deliver_remote_conn_on_read,
	    deliver_remote_conn_on_write, deliver_remote_conn_on_event, c);
	bufferevent_setwatermark(c->bev, EV_WRITE, REMOTE_OUT_LOW_BYTES, 0);
	deliver_remote_conn_arm(c, p->connect_timeout_s);
	log_debug("%s deliver connect relay=%s", t->queue_id, c->relay);
}

void
deliver_remote_conn_take(struct remote_conn *c, struct remote_task *t)
{
	if (c->idle) {
		TAILQ_REMOVE(&c->dest->idle, c, idle_entry);
		c->idle = false;
	}
	evtimer_del(c->timer);
	c->task = t;
	t->conn = c;
	c->reused = true;
	log_debug("%s deliver reuse relay=%s", t->queue_id, c->relay);
	deliver_remote_conn_start_message(c);
	if (!c->in_process)
		deliver_remote_conn_process(c);
}

/* Replaces the plain bufferevent with a TLS one on the same fd. */
static void
deliver_remote_conn_start_tls(struct remote_conn *c)
{
	SSL *ssl;
	struct bufferevent *bev;

	ssl = deliver_tls_client_ssl_new(c->agent, c->host, c->verify);
	bev = ssl == NULL
	    ? NULL
	    : bufferevent_openssl_socket_new(c->agent->base, c->fd, ssl,
	          BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
	/* Unread plaintext goes with the old bufferevent (RFC 3207 4.2). */
	bufferevent_free(c->bev);
	c->bev = NULL;
	if (bev == NULL) {
		if (ssl != NULL)
			SSL_free(ssl);
		smtpc_session_abort(c->session, "4.7.5", "cannot set up TLS");
		deliver_remote_conn_process(c);
		return;
	}
	c->bev = bev;
	c->tls = true;
	c->phase = REMOTE_CONN_HANDSHAKE;
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	bufferevent_setcb(bev, deliver_remote_conn_on_read,
	    deliver_remote_conn_on_write, deliver_remote_conn_on_event, c);
	bufferevent_setwatermark(bev, EV_WRITE, REMOTE_OUT_LOW_BYTES, 0);
	deliver_remote_conn_set_timeouts(c);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
}

/* Fails the stream: no final dot goes out, so the server drops it. */
static void
deliver_remote_conn_content_error(struct remote_conn *c, int error)
{
	char why[300];

	(void)snprintf(why, sizeof(why), "cannot read the message: %s",
	    error != 0 ? strerror(error) : "file is shorter than recorded");
	log_warn("%s deliver %s", deliver_remote_conn_qid(c), why);
	c->sending = false;
	smtpc_session_abort(c->session, "4.3.0", why);
}

/* Sends content until the output is above the high mark or all is out. */
static void
deliver_remote_conn_send_content(struct remote_conn *c)
{
	struct remote_task *t = c->task;
	struct evbuffer *out = bufferevent_get_output(c->bev);
	uint8_t block[REMOTE_CHUNK_BYTES];

	while (c->sending && evbuffer_get_length(out) < REMOTE_OUT_HIGH_BYTES) {
		uint64_t left = t->content_len - c->offset;
		size_t want =
		    left < sizeof(block) ? (size_t)left : sizeof(block);
		ssize_t n = 0;

		if (want > 0) {
			n = pread(t->content_fd, block, want, (off_t)c->offset);
			if (n <= 0) {
				deliver_remote_conn_content_error(
				    c, n < 0 ? errno : 0);
				return;
			}
			c->offset += (uint64_t)n;
		}
		buf_reset(&c->chunk);
		if (smtpc_dot_stuff(&c->dot, block, (size_t)n, &c->chunk) ==
		        -1 ||
		    (c->offset == t->content_len &&
		        smtpc_dot_finish(&c->dot, &c->chunk) == -1))
			log_panic("deliver_remote: content buffer full");
		if (bufferevent_write(c->bev, c->chunk.data, c->chunk.len) ==
		    -1) {
			deliver_remote_conn_content_error(c, ENOMEM);
			return;
		}
		if (c->offset == t->content_len) {
			c->sending = false;
			smtpc_session_content_sent(c->session);
		}
	}
	deliver_remote_conn_set_timeouts(c);
}

/* The session's results are in: report, retry elsewhere, or park. */
static void
deliver_remote_conn_on_done(struct remote_conn *c)
{
	struct remote_task *t = c->task;
	const struct smtpc_rcpt_result *r0;
	const char *err;

	if (t == NULL)
		return;
	c->task = NULL;
	if (!smtpc_session_is_idle(c->session) &&
	    !smtpc_session_mail_accepted(c->session)) {
		/* Failed before the transaction: no data went anywhere. */
		r0 = t->n_rcpts > 0 ? smtpc_session_rcpt(c->session, 0) : NULL;
		err = smtpc_session_error(c->session);
		log_info("%s deliver attempt failed relay=%s error=\"%s\"",
		    t->queue_id, c->relay, err);
		(void)!str_copy(
		    t->outcome.relay, c->relay, sizeof(t->outcome.relay));
		deliver_remote_task_retry(t, r0 != NULL ? r0->enh : "4.4.2",
		    err[0] != '\0'   ? err
		        : r0 != NULL ? r0->reply
		                     : "failed");
		return;
	}
	deliver_remote_task_done(t);
	if (smtpc_session_is_idle(c->session)) {
		deliver_remote_dest_park(c->dest, c);
		if (c->idle)
			deliver_remote_conn_arm(c, REMOTE_IDLE_TIMEOUT_S);
	}
}

/*
 * Feeds buffered input to the session and does what its events ask,
 * until it needs more input or the connection goes.
 */
static void
deliver_remote_conn_process(struct remote_conn *c)
{
	enum smtpc_event ev;

	c->in_process = true;
	for (;;) {
		struct evbuffer_iovec vec;
		size_t n;

		ev = smtpc_session_next(c->session, &c->out);
		switch (ev) {
		case SMTPC_EV_NONE:
			break;
		case SMTPC_EV_STARTTLS:
			c->in_process = false;
			deliver_remote_conn_flush(c);
			deliver_remote_conn_start_tls(c);
			return;
		case SMTPC_EV_CONTENT:
			deliver_remote_conn_flush(c);
			smtpc_dot_init(&c->dot);
			c->offset = 0;
			c->sending = true;
			deliver_remote_conn_send_content(c);
			continue;
		case SMTPC_EV_DONE:
			deliver_remote_conn_on_done(c);
			continue;
		case SMTPC_EV_CLOSE:
			c->in_process = false;
			deliver_remote_conn_close(c);
			return;
		}
		if (c->bev == NULL || c->phase != REMOTE_CONN_SMTP)
			break;
		if (evbuffer_peek(
		        bufferevent_get_input(c->bev), -1, NULL, &vec, 1) < 1)
			break;
		n = smtpc_session_feed(c->session, vec.iov_base, vec.iov_len);
		if (n == 0)
			break;
		evbuffer_drain(bufferevent_get_input(c->bev), n);
	}
	c->in_process = false;
	deliver_remote_conn_flush(c);
	deliver_remote_conn_set_timeouts(c);
}

static void
deliver_remote_conn_on_read(struct bufferevent *bev, void *arg)
{
	(void)bev;
	deliver_remote_conn_process(arg);
}

static void
deliver_remote_conn_on_write(struct bufferevent *bev, void *arg)
{
	struct remote_conn *c = arg;

	if (c->phase == REMOTE_CONN_CLOSING) {
		if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
			deliver_remote_conn_free(c, true);
		return;
	}
	if (c->sending) {
		deliver_remote_conn_send_content(c);
		if (!c->sending)
			deliver_remote_conn_process(c);
	}
}

static void
deliver_remote_conn_on_connected(struct remote_conn *c)
{
	SSL *ssl;
	char version[32], cipher[64];
	int bits;

	if (c->phase == REMOTE_CONN_CONNECTING) {
		evtimer_del(c->timer);
		c->phase = REMOTE_CONN_SMTP;
		if (c->implicit_tls) {
			deliver_remote_conn_start_tls(c);
			return;
		}
		deliver_remote_conn_set_timeouts(c);
		bufferevent_enable(c->bev, EV_READ | EV_WRITE);
		return;
	}
	/* The TLS handshake is done. */
	ssl = bufferevent_openssl_get_ssl(c->bev);
	tls_describe(
	    ssl, version, sizeof(version), cipher, sizeof(cipher), &bits);
	(void)snprintf(
	    c->tls_desc, sizeof(c->tls_desc), "%s %s", version, cipher);
	log_info("%s deliver tls relay=%s version=%s cipher=%s bits=%d "
	         "verify=%s",
	    deliver_remote_conn_qid(c), c->relay, version, cipher, bits,
	    SSL_get_verify_result(ssl) == X509_V_OK ? "ok" : "none");
	c->phase = REMOTE_CONN_SMTP;
	if (!c->implicit_tls)
		smtpc_session_tls_started(c->session, &c->out);
	deliver_remote_conn_process(c);
}

static void
deliver_remote_conn_on_event(struct bufferevent *bev, short what, void *arg)
{
	struct remote_conn *c = arg;
	char why[1024], err[256];
	unsigned long e;

	(void)bev;
	if ((what & BEV_EVENT_CONNECTED) != 0) {
		deliver_remote_conn_on_connected(c);
		return;
	}
	if (c->phase == REMOTE_CONN_CLOSING || c->idle) {
		deliver_remote_conn_free(c, true);
		return;
	}
	switch (c->phase) {
	case REMOTE_CONN_CONNECTING:
		(void)snprintf(why, sizeof(why), "connect to %s: %s", c->relay,
		    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
		smtpc_session_abort(c->session, "4.4.1", why);
		break;
	case REMOTE_CONN_HANDSHAKE:
		e = bufferevent_get_openssl_error(c->bev);
		if (e != 0)
			ERR_error_string_n(e, err, sizeof(err));
		else
			(void)!str_copy(err, "connection closed", sizeof(err));
		(void)snprintf(why, sizeof(why),
		    "TLS handshake with %s failed: %s", c->relay, err);
		c->tls_failed = c->tls_optional;
		smtpc_session_abort(c->session, "4.7.5", why);
		break;
	case REMOTE_CONN_SMTP:
	case REMOTE_CONN_CLOSING:
		(void)snprintf(why, sizeof(why), "%s with %s%s",
		    (what & BEV_EVENT_TIMEOUT) != 0 ? "timeout"
		                                    : "lost connection",
		    c->relay,
		    smtpc_session_in_data(c->session) ? " during DATA" : "");
		smtpc_session_abort(c->session, "4.4.2", why);
		break;
	}
	/* The session now owes DONE and CLOSE; nothing more is read. */
	bufferevent_disable(c->bev, EV_READ);
	c->sending = false;
	deliver_remote_conn_process(c);
}
