/* SPDX-License-Identifier: ISC */
/*
 * What the control requests do: the operator's queue commands, stats
 * and reload, and "submit" from `tern sendmail`, which goes through the
 * same policy and spool as SMTP submission (the local user counts as
 * authenticated; the trace header names its uid).
 */
#include "server/server_private.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/str.h"
#include "core/when.h"
#include "core/xalloc.h"
#include "mail/mail.h"
#include "policy/policy.h"
#include "queue/queue.h"
#include "smtp/smtp_parse.h"
#include "spool/spool.h"

/* Largest answer to a listing; a queue of a million messages fits. */
#define SERVER_CTL_OUT_MAX_BYTES ((size_t)512 * 1024 * 1024)

static bool
server_ctl_json(const struct ctl_request *req, size_t i)
{
	return req->argc > i && strcmp(req->argv[i], "json") == 0;
}

/* A verb with exactly n args, the last of which may be "json". */
static bool
server_ctl_args(const struct ctl_request *req, size_t n, bool json_ok)
{
	if (req->argc == n)
		return true;
	return json_ok && req->argc == n + 1 && server_ctl_json(req, n);
}

static void
server_ctl_stats(struct server_ctl_conn *c, bool json, struct buf *out)
{
	struct server *srv = c->srv;
	struct queue_stats st;
	size_t queued;
	time_t now = time(NULL);

	queue_get_stats(srv->queue, &st, &queued);
	if (json)
		(void)!buf_printf(out, "{\"uptime\":%lld,\"received\":%" PRIu64
		    ",\"delivered\":%" PRIu64 ",\"deferred\":%" PRIu64
		    ",\"bounced\":%" PRIu64 ",\"expired\":%" PRIu64
		    ",\"dsn_sent\":%" PRIu64 ",\"queue\":%zu,\"sessions\":%" PRIu64
		    ",\"sessions_open\":%zu}\n", (long long)(now - srv->started),
		    srv->n_received, st.delivered, st.deferred, st.failed,
		    st.expired, st.dsn_sent, queued, srv->n_sessions,
		    srv->n_conns);
	else
		(void)!buf_printf(out, "uptime         %llds\n"
		    "received       %" PRIu64 "\ndelivered      %" PRIu64
		    "\ndeferred       %" PRIu64 "\nbounced        %" PRIu64
		    "\nexpired        %" PRIu64 "\ndsn_sent       %" PRIu64
		    "\nqueue          %zu\nsessions       %" PRIu64
		    "\nsessions_open  %zu\n", (long long)(now - srv->started),
		    srv->n_received, st.delivered, st.deferred, st.failed,
		    st.expired, st.dsn_sent, queued, srv->n_sessions,
		    srv->n_conns);
}

/* hold, release, delete, bounce: one id, one queue function. */
static int
server_ctl_msg_verb(struct server *srv, const struct ctl_request *req,
    struct buf *err)
{
	static const struct {
		const char *verb;
		int (*fn)(struct queue *, const char *, struct buf *);
	} verbs[] = {
		{ "hold", queue_hold },
		{ "release", queue_release },
		{ "delete", queue_delete },
		{ "bounce", queue_bounce },
	};
	size_t i;

	for (i = 0; i < N_ELEMENTS(verbs); i++) {
		if (strcmp(req->verb, verbs[i].verb) == 0)
			return verbs[i].fn(srv->queue, req->argv[0], err);
	}
	return -2;
}

void
server_ctl_command(struct server_ctl_conn *c)
{
	struct server *srv = c->srv;
	const struct ctl_request *req = &c->req;
	enum ctl_status st = CTL_OK;
	const char *text = "done";
	struct buf out, err;
	time_t now = time(NULL);
	uint64_t when;
	long n;
	int rc;

	buf_init(&out, 4096, SERVER_CTL_OUT_MAX_BYTES);
	buf_init(&err, 128, 4096);
	if (strcmp(req->verb, "list") == 0 && server_ctl_args(req, 0, true)) {
		if (queue_list(srv->queue, server_ctl_json(req, 0) ?
		    QUEUE_LIST_JSON : QUEUE_LIST_TEXT, now, &out) == -1)
			st = CTL_TEMP, text = "the queue is too long to list";
	} else if (strcmp(req->verb, "mailq") == 0 && req->argc == 0) {
		if (queue_list(srv->queue, QUEUE_LIST_MAILQ, now, &out) == -1)
			st = CTL_TEMP, text = "the queue is too long to list";
	} else if (strcmp(req->verb, "show") == 0 &&
	    server_ctl_args(req, 1, true)) {
		if (queue_show(srv->queue, req->argv[0],
		    server_ctl_json(req, 1), now, &out, &err) == -1)
			st = CTL_PERM, text = buf_cstr(&err);
	} else if (strcmp(req->verb, "stats") == 0 &&
	    server_ctl_args(req, 0, true)) {
		server_ctl_stats(c, server_ctl_json(req, 0), &out);
	} else if (strcmp(req->verb, "flush") == 0 && req->argc <= 1) {
		n = queue_flush(srv->queue, req->argc == 1 ? req->argv[0] :
		    NULL, NULL, &err);
		if (n < 0)
			st = CTL_PERM, text = buf_cstr(&err);
		else
			(void)!buf_printf(&out, "%ld message%s flushed\n", n,
			    n == 1 ? "" : "s");
	} else if (strcmp(req->verb, "flush-domain") == 0 &&
	    req->argc == 1) {
		n = queue_flush(srv->queue, NULL, req->argv[0], &err);
		(void)!buf_printf(&out, "%ld message%s flushed\n", n,
		    n == 1 ? "" : "s");
	} else if (strcmp(req->verb, "reschedule") == 0 && req->argc == 2) {
		if (parse_uint(req->argv[1], 1, (uint64_t)1 << 40, &when) ==
		    -1)
			st = CTL_USAGE, text = "bad time";
		else if (queue_reschedule(srv->queue, req->argv[0],
		    (time_t)when, &err) == -1)
			st = CTL_PERM, text = buf_cstr(&err);
	} else if (strcmp(req->verb, "reload") == 0 && req->argc == 0) {
		if (server_reload(srv, &err) == -1) {
			st = CTL_PERM;
			text = "reload refused, the old configuration stays";
			(void)!buf_append(&out, err.data, err.len);
		}
	} else if (req->argc == 1 &&
	    (rc = server_ctl_msg_verb(srv, req, &err)) != -2) {
		if (rc == -1)
			st = CTL_PERM, text = buf_cstr(&err);
	} else {
		st = CTL_USAGE;
		text = "unknown command or wrong arguments";
	}
	/* A refused request has no payload, whatever was written. */
	if (st != CTL_OK && strcmp(req->verb, "reload") != 0)
		buf_reset(&out);
	log_info("control uid=%u verb=%s%s%s result=%s", (unsigned)c->uid,
	    req->verb, req->argc > 0 ? " arg=" : "",
	    req->argc > 0 ? req->argv[0] : "", ctl_status_name(st));
	server_ctl_reply(c, st, text, &out);
	buf_clear(&out);
	buf_clear(&err);
}

/* ---- submit ------------------------------------------------------------ */

/* Checks a path the way MAIL/RCPT would; "" only where null_ok. */
static bool
server_ctl_path_ok(const char *addr, bool null_ok, bool *utf8_r)
{
	struct smtp_path path;
	struct smtp_parse_error perr;
	size_t used, len = strlen(addr);
	char *s = xmalloc(len + 3);
	bool ok;

	s[0] = '<';
	memcpy(s + 1, addr, len);
	s[len + 1] = '>';
	s[len + 2] = '\0';
	ok = smtp_parse_path(s, null_ok ? SMTP_PARSE_PATH_NULL_OK : 0, &path,
	    &used, &perr) == 0 && used == len + 2 && strcmp(path.addr, addr) ==
	    0;
	if (ok && path.is_utf8)
		*utf8_r = true;
	free(s);
	return ok;
}

static void
server_ctl_on_commit(void *arg, int error)
{
	struct server_ctl_conn *c = arg;
	struct server *srv = c->srv;
	char text[96], from[300];

	c->committing = false;
	srv->n_ctl_committing--;
	str_sanitize(from, sizeof(from), c->env.from, strlen(c->env.from));
	if (error != 0) {
		log_warn("%s local submit failed uid=%u: %s", c->qid,
		    (unsigned)c->uid, strerror(error));
		server_ctl_reply(c, CTL_TEMP, error == ENOSPC || error ==
		    EDQUOT ? "insufficient storage in the spool, try again "
		    "later" : "spool error, try again later", NULL);
		server_maybe_stopped(srv);
		return;
	}
	srv->n_received++;
	log_info("%s local message uid=%u from=<%s> rcpts=%zu size=%" PRIu64
	    " result=250 2.0.0", c->qid, (unsigned)c->uid, from,
	    c->env.n_rcpts, c->req.data_len);
	queue_submit(srv->queue, c->qid);
	(void)snprintf(text, sizeof(text), "queued as %s", c->qid);
	server_ctl_reply(c, CTL_OK, text, NULL);
	server_maybe_stopped(srv);
}

/*
 * The trace field of a local submission (RFC 5321 4.4).  The uid, not
 * the user name: a passwd lookup may block (NSS) and this is the loop.
 */
static void
server_ctl_received(struct server_ctl_conn *c, struct buf *b)
{
	char date[WHEN_RFC5322_SIZE];

	when_format_rfc5322(time(NULL), date, sizeof(date));
	if (buf_printf(b, "Received: by %s (tern, from userid %u)\r\n"
	    "\tid %s;\r\n\t%s\r\n", c->srv->cfg->hostname, (unsigned)c->uid,
	    c->qid, date) == -1)
		log_panic("server_ctl: Received header");
}

static bool
server_ctl_has_8bit(const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (p[i] >= 0x80)
			return true;
	}
	return false;
}

void
server_ctl_submit(struct server_ctl_conn *c)
{
	struct server *srv = c->srv;
	const struct config *cfg = srv->cfg;
	const struct ctl_request *req = &c->req;
	const struct policy_client client = {
		.role = LISTEN_ROLE_SUBMISSION,
		.authenticated = true,
	};
	const uint8_t *data = c->in.data + req->head_len;
	struct policy_result pr;
	struct buf body, msg;
	char why[400], safe[300];
	time_t now = time(NULL);
	bool utf8 = false;
	size_t i, used;

	if (!server_ctl_path_ok(req->from, true, &utf8)) {
		str_sanitize(safe, sizeof(safe), req->from, strlen(req->from));
		(void)snprintf(why, sizeof(why), "bad sender address <%s>",
		    safe);
		server_ctl_reply(c, CTL_PERM, why, NULL);
		return;
	}
	for (i = 0; i < req->n_rcpts; i++) {
		str_sanitize(safe, sizeof(safe), req->rcpts[i],
		    strlen(req->rcpts[i]));
		if (!server_ctl_path_ok(req->rcpts[i], false, &utf8)) {
			(void)snprintf(why, sizeof(why),
			    "bad recipient address <%s>", safe);
			server_ctl_reply(c, CTL_PERM, why, NULL);
			return;
		}
		pr = policy_check_rcpt(cfg, &client, req->rcpts[i]);
		if (pr.code != 0) {
			(void)snprintf(why, sizeof(why), "<%s>: %d %s %s",
			    safe, pr.code, pr.enh, pr.text);
			server_ctl_reply(c, pr.code >= 500 ? CTL_PERM :
			    CTL_TEMP, why, NULL);
			return;
		}
	}
	if (req->at != 0 && (cfg->max_hold == 0 ||
	    req->at > now + (time_t)cfg->max_hold)) {
		server_ctl_reply(c, CTL_PERM, "release time beyond [queue] "
		    "max_hold", NULL);
		return;
	}
	/*
	 * The content in CRLF lines, as SMTP would have stored it: a bare
	 * CR or LF ends a line (no <CR>.<CR> reaches the spool).
	 */
	buf_init(&body, req->data_len + 1024, 2 * req->data_len + 1024);
	if (mail_lines_normalize(data, req->data_len, false, &body, &used) ==
	    -1) {
		buf_clear(&body);
		server_ctl_reply(c, CTL_PERM, "message too big", NULL);
		return;
	}
	if (memchr(body.data, '\0', body.len) != NULL) {
		buf_clear(&body);
		server_ctl_reply(c, CTL_PERM, "message contains NUL bytes",
		    NULL);
		return;
	}
	if (body.len > cfg->max_message_size) {
		buf_clear(&body);
		server_ctl_reply(c, CTL_PERM, "message exceeds "
		    "max_message_size", NULL);
		return;
	}
	c->writer = spool_writer_new(srv->spool, c->qid);
	if (c->writer == NULL) {
		buf_clear(&body);
		server_ctl_reply(c, CTL_TEMP, errno == ENOSPC ? "insufficient "
		    "storage in the spool, try again later" : "cannot open a "
		    "spool file, try again later", NULL);
		return;
	}
	buf_init(&msg, 512, 4096);
	server_ctl_received(c, &msg);
	if (spool_writer_write(c->writer, msg.data, msg.len) == -1 ||
	    spool_writer_write(c->writer, body.data, body.len) == -1) {
		int e = errno;

		buf_clear(&msg);
		buf_clear(&body);
		spool_writer_abort(&c->writer);
		server_ctl_reply(c, CTL_TEMP, e == ENOSPC || e == EDQUOT ?
		    "insufficient storage in the spool, try again later" :
		    "spool write failed, try again later", NULL);
		return;
	}
	envelope_clear(&c->env);
	envelope_init(&c->env);
	free(c->env.from);
	c->env.from = xstrdup(req->from);
	for (i = 0; i < req->n_rcpts; i++)
		envelope_add_rcpt(&c->env, req->rcpts[i]);
	c->env.body = server_ctl_has_8bit(body.data, body.len) ?
	    ENVELOPE_BODY_8BITMIME : ENVELOPE_BODY_7BIT;
	c->env.smtputf8 = utf8;
	c->env.arrival = now;
	c->env.hold_until = req->at > now ? (time_t)req->at : 0;
	(void)snprintf(why, sizeof(why), "local:%u", (unsigned)c->uid);
	c->env.auth_user = xstrdup(why);
	buf_clear(&msg);
	buf_clear(&body);
	if (policy_expand(cfg, &c->env, &pr) == -1) {
		spool_writer_abort(&c->writer);
		(void)snprintf(why, sizeof(why), "%d %s %s", pr.code, pr.enh,
		    pr.text);
		server_ctl_reply(c, pr.code >= 500 ? CTL_PERM : CTL_TEMP, why,
		    NULL);
		return;
	}
	c->committing = true;
	srv->n_ctl_committing++;
	spool_writer_commit(c->writer, &c->env, server_ctl_on_commit, c);
	c->writer = NULL;
}
