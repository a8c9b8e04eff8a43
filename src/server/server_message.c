/* SPDX-License-Identifier: ISC */
/*
 * The glue between a session's content events and the spool: opens the
 * spool file, writes the trace header (RFC 5321 4.4), streams content,
 * expands the recipients and commits.  The final reply waits for the
 * commit, so a 250 is sent only once the message is on stable storage
 * (DESIGN.md invariant 1).
 *
 * Mail for local mailboxes only is delivered before the reply instead:
 * once every Maildir copy is synced the 250 is just as true, and the
 * spool file, never synced, becomes a spare.  One durable copy per
 * message instead of two.  If a copy cannot be made at once, the
 * message is committed as usual and the queue takes over.
 */
#include "server/server_private.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/str.h"
#include "core/when.h"
#include "core/xalloc.h"
#include "config/config.h"
#include "policy/policy.h"
#include "queue/queue.h"
#include "smtp/smtp_session.h"
#include "spool/spool.h"

/* Recipients named in a transaction log line before it says "...". */
#define SERVER_MESSAGE_LOG_RCPTS_BYTES 1024

/*
 * The reply when the spool cannot take a message.  A full spool and one
 * that cannot be written at all (read-only, wrong permissions) are both
 * "insufficient system storage" to the client: 452 4.3.1, try later.
 */
static struct smtp_result
server_message_errno_result(int error)
{
	struct smtp_result r = { 0 };

	if (error == ENOSPC || error == EDQUOT || error == EROFS ||
	    error == EACCES || error == EPERM) {
		r.code = 452;
		r.enh = "4.3.1";
		r.text = "Insufficient system storage, try again later";
	} else {
		r.code = 451;
		r.enh = "4.3.0";
		r.text = "Local error in processing, try again later";
	}
	return r;
}

/*
 * Keeps a peer-supplied name fit for a header: printable ASCII without
 * spaces, parentheses or anything that could end the field.
 */
static void
server_message_header_safe(char *out, size_t size, const char *in)
{
	size_t i, o = 0;

	for (i = 0; in[i] != '\0' && o + 1 < size; i++) {
		unsigned char ch = (unsigned char)in[i];

		out[o++] = ch > 0x20 && ch < 0x7f && ch != '(' && ch != ')' ?
		    (char)ch : '?';
	}
	out[o] = '\0';
}

/* The trace field: "from" clause, "by" clause, id, "for" if one rcpt. */
static int
server_message_received(struct server_conn *c, struct buf *b)
{
	const struct envelope *env = smtp_session_envelope(c->session);
	char helo[256], date[WHEN_RFC5322_SIZE], rcpt[300];

	server_message_header_safe(helo, sizeof(helo),
	    env->helo != NULL ? env->helo : "unknown");
	when_format_rfc5322(time(NULL), date, sizeof(date));
	if (buf_printf(b, "Received: from %s ([%s])\r\n\tby %s (tern) with "
	    "%s", helo, c->addr, c->srv->cfg->hostname,
	    smtp_session_protocol(c->session)) == -1)
		return -1;
	/* RFC 3848 names the protocol; the comment says which TLS. */
	if (c->tls_done && buf_printf(b, " (%s %s %d bits)", c->tls_version,
	    c->tls_cipher, c->tls_bits) == -1)
		return -1;
	if (buf_printf(b, " id %s", c->qid) == -1)
		return -1;
	/* One recipient is named; more would disclose the others. */
	if (env->n_rcpts == 1) {
		server_message_header_safe(rcpt, sizeof(rcpt), env->rcpts[0]);
		if (buf_printf(b, "\r\n\tfor <%s>", rcpt) == -1)
			return -1;
	}
	return buf_printf(b, ";\r\n\t%s\r\n", date);
}

void
server_message_begin(struct server_conn *c, struct smtp_result *r)
{
	struct buf hdr;

	c->write_error = 0;
	c->bytes = 0;
	c->writer = spool_writer_new(c->srv->spool, c->qid);
	if (c->writer == NULL) {
		log_warn("%s smtp cannot open spool file: %s", c->sid,
		    strerror(errno));
		*r = server_message_errno_result(errno);
		return;
	}
	buf_init(&hdr, 512, 4096);
	if (server_message_received(c, &hdr) == -1)
		log_panic("%s smtp Received header too long", c->sid);
	server_message_data(c, hdr.data, hdr.len);
	buf_clear(&hdr);
	log_debug("%s smtp message begin qid=%s", c->sid, c->qid);
}

void
server_message_data(struct server_conn *c, const uint8_t *p, size_t len)
{
	c->bytes += len;
	if (c->writer == NULL || c->write_error != 0)
		return;
	if (spool_writer_write(c->writer, p, len) == -1) {
		c->write_error = errno;
		log_warn("%s smtp spool write failed qid=%s: %s", c->sid,
		    c->qid, strerror(errno));
	}
}

void
server_message_abort(struct server_conn *c)
{
	/* During a delivery before the reply, its callback owns the writer. */
	if (c->writer == NULL || c->commit_pending)
		return;
	spool_writer_abort(&c->writer);
	log_info("%s smtp message aborted qid=%s size=%llu", c->sid, c->qid,
	    (unsigned long long)c->bytes);
}

void
server_message_drop(struct server_conn *c)
{
	if (c->writer == NULL)
		return;
	if (!c->commit_pending) {
		server_message_abort(c);
		return;
	}
	/* The local workers are stopped; nothing reads the file any more. */
	spool_writer_abort(&c->writer);
	log_info("%s smtp message not answered qid=%s: shutdown during its "
	    "delivery (copies may have been made)", c->sid, c->qid);
}

/* One line per transaction: from, to, size and the final reply. */
static void
server_message_log(struct server_conn *c, const struct envelope *env,
    const struct smtp_result *r)
{
	char from[300], one[300];
	struct buf to;
	size_t i;

	buf_init(&to, 256, SERVER_MESSAGE_LOG_RCPTS_BYTES);
	for (i = 0; i < env->n_rcpts; i++) {
		str_sanitize(one, sizeof(one), env->rcpts[i],
		    strlen(env->rcpts[i]));
		if (buf_printf(&to, "%s<%s>", i > 0 ? "," : "", one) == -1) {
			(void)!buf_append_str(&to, ",...");
			break;
		}
	}
	str_sanitize(from, sizeof(from), env->from, strlen(env->from));
	log_info("%s smtp message sid=%s ip=%s from=<%s> to=%s size=%llu "
	    "result=%d %s", c->qid, c->sid, c->addr, from, buf_cstr(&to),
	    (unsigned long long)c->bytes, r->code == 0 ? 250 : r->code,
	    r->code == 0 ? "2.0.0" : r->enh);
	buf_clear(&to);
}

static void
server_message_committed(struct server_conn *c, int error, bool tried)
{
	struct smtp_result r = { 0 };

	if (error == 0) {
		c->srv->n_received++;
		if (tried)
			queue_submit_tried(c->srv->queue, c->qid);
		else
			queue_submit(c->srv->queue, c->qid);
		r.queue_id = c->qid;
	} else {
		log_warn("%s smtp spool commit failed qid=%s: %s", c->sid,
		    c->qid, strerror(error));
		r = server_message_errno_result(error);
	}
	server_message_log(c, &c->commit_env, &r);
	envelope_clear(&c->commit_env);
	envelope_init(&c->commit_env);
	server_conn_commit_done(c, &r);
}

static void
server_message_on_commit(void *arg, int error)
{
	server_message_committed(arg, error, false);
}

/* The commit after a delivery before the reply that failed in part. */
static void
server_message_on_commit_tried(void *arg, int error)
{
	server_message_committed(arg, error, true);
}

static void
server_message_on_direct(void *arg, bool delivered)
{
	struct server_conn *c = arg;
	struct smtp_result r = { 0 };

	ASSERT(c->writer != NULL);
	if (!delivered) {
		/* The queue retries; it finds the copies that were made. */
		spool_writer_commit(c->writer, &c->commit_env,
		    server_message_on_commit_tried, c);
		c->writer = NULL;
		return;
	}
	spool_writer_discard(&c->writer);
	c->srv->n_received++;
	r.queue_id = c->qid;
	server_message_log(c, &c->commit_env, &r);
	envelope_clear(&c->commit_env);
	envelope_init(&c->commit_env);
	server_conn_commit_done(c, &r);
}

/* Hands the message to the local workers, if they take it now. */
static bool
server_message_direct(struct server_conn *c, struct envelope *env)
{
	if (spool_writer_finish(c->writer, env) == -1)
		return false; /* the commit reports the error */
	c->direct.fd = spool_writer_content(c->writer, &c->direct.len);
	return queue_deliver_direct(c->srv->queue, env, &c->direct,
	    server_message_on_direct, c);
}

int
server_message_end(struct server_conn *c, struct smtp_result *r)
{
	const struct envelope *sess_env = smtp_session_envelope(c->session);
	struct envelope *env = &c->commit_env;
	struct policy_result pr;

	if (c->writer == NULL) {
		/* DATA_BEGIN failed and the session went on regardless. */
		*r = server_message_errno_result(EIO);
		return 0;
	}
	if (c->write_error != 0) {
		*r = server_message_errno_result(c->write_error);
		server_message_abort(c);
		server_message_log(c, sess_env, r);
		return 0;
	}
	envelope_clear(env);
	envelope_copy(env, sess_env);
	free(env->client_addr);
	env->client_addr = xstrdup(c->addr);
	free(env->auth_user);
	env->auth_user = c->auth_user != NULL ? xstrdup(c->auth_user) : NULL;
	env->arrival = time(NULL);
	if (policy_expand(c->srv->cfg, env, &pr) == -1) {
		r->code = pr.code;
		r->enh = pr.enh;
		r->text = pr.text;
		server_message_abort(c);
		server_message_log(c, env, r);
		envelope_clear(env);
		envelope_init(env);
		return 0;
	}
	/* The id the spool gives the message, as the Maildir names use. */
	memcpy(env->id, c->qid, sizeof(env->id));
	if (server_message_direct(c, env))
		return 1;
	spool_writer_commit(c->writer, env, server_message_on_commit, c);
	c->writer = NULL;
	return 1;
}
