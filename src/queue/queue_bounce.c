/* SPDX-License-Identifier: ISC */
/*
 * Bounces and delay warnings: the DSN text comes from deliver_dsn.c;
 * here it is written into the spool as a new message from the null
 * sender (RFC 5321 4.5.5, so that it can never cause another bounce)
 * to the original sender, expanded like any message (local or remote),
 * committed, journaled on the original ("b" or "w") once the commit is
 * durable, and submitted.  Also reads the head of a queued message.
 */
#include "queue/queue_private.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/str.h"
#include "core/xalloc.h"
#include "deliver/deliver_dsn.h"
#include "policy/policy.h"
#include "spool/spool.h"

/* The login the bounce's envelope claims: lets policy allow remote. */
#define QUEUE_BOUNCE_AUTH_USER "MAILER-DAEMON"

int
queue_bounce_read_head(struct queue *q, const struct queue_msg *m,
    struct buf *out, size_t max)
{
	uint64_t len;
	int fd, rc, e;

	fd = spool_open_content(q->sp, m->id, &len);
	if (fd == -1)
		return -1;
	rc = queue_read_head(fd, len, out, max);
	e = errno;
	(void)close(fd);
	errno = e;
	return rc;
}

int
queue_read_head(int fd, uint64_t len, struct buf *out, size_t max)
{
	uint8_t chunk[4096];
	ssize_t got;
	size_t want;

	if (len < max)
		max = (size_t)len;
	while (out->len < max) {
		want = max - out->len;
		if (want > sizeof(chunk))
			want = sizeof(chunk);
		got = pread(fd, chunk, want, (off_t)out->len);
		if (got == -1 && errno == EINTR)
			continue;
		if (got == -1)
			return -1;
		if (got == 0)
			break;
		if (buf_append(out, chunk, (size_t)got) == -1) {
			errno = EFBIG;
			return -1;
		}
	}
	return 0;
}

static void
queue_bounce_free(struct queue_bounce *b)
{
	free(b->targets);
	free(b);
}

static void
queue_bounce_on_commit(void *arg, int error)
{
	struct queue_bounce *b = arg;
	struct queue *q = b->q;
	struct queue_msg *m = b->m;
	char to[300];
	size_t k;

	LIST_REMOVE(b, entry);
	m->bounce_busy = false;
	for (k = 0; k < b->n; k++)
		m->t[b->targets[k]].reporting = false;
	if (error != 0) {
		log_warn("%s queue cannot commit the %s: %s; retry in %ds",
		    m->id, b->delayed ? "delay warning" : "bounce",
		    strerror(error), QUEUE_BOUNCE_RETRY_S);
		m->bounce_after = time(NULL) + QUEUE_BOUNCE_RETRY_S;
		queue_bounce_free(b);
		queue_sched_kick(q);
		return;
	}
	q->stats.dsn_sent++;
	str_sanitize(to, sizeof(to), m->env.from, strlen(m->env.from));
	if (b->delayed) {
		m->delay_warned = true;
		if (spool_status_set_warned(q->sp, m->id) == -1)
			log_warn("%s queue cannot journal: %s", m->id,
			    strerror(errno));
		log_info("%s queue delay warning sent as %s to=<%s>", m->id,
		    b->new_id, to);
	} else {
		for (k = 0; k < b->n; k++) {
			m->t[b->targets[k]].st.bounced = true;
			if (spool_status_set_bounced(q->sp, m->id,
			    b->targets[k]) == -1)
				log_warn("%s queue cannot journal: %s", m->id,
				    strerror(errno));
		}
		log_info("%s queue bounce sent as %s to=<%s>", m->id,
		    b->new_id, to);
	}
	queue_submit(q, b->new_id);
	queue_bounce_free(b);
	queue_sched_kick(q);
}

/*
 * The bounce's envelope: from <>, to the original sender, expanded by
 * policy like any message.  0, or -1 with the reason logged.
 */
static int
queue_bounce_envelope(struct queue *q, const struct queue_msg *m,
    struct envelope *env, time_t now)
{
	struct policy_result pr;
	char to[300];

	envelope_init(env);
	free(env->from);
	env->from = xstrdup("");
	envelope_add_rcpt(env, m->env.from);
	/* A report is 7-bit ASCII, but the address may need SMTPUTF8. */
	env->smtputf8 = m->env.smtputf8;
	env->body = ENVELOPE_BODY_7BIT;
	env->arrival = now;
	env->auth_user = xstrdup(QUEUE_BOUNCE_AUTH_USER);
	if (policy_expand(q->cfg, env, &pr) == 0)
		return 0;
	str_sanitize(to, sizeof(to), m->env.from, strlen(m->env.from));
	log_warn("%s queue bounce not sent to=<%s>: %d %s %s", m->id, to,
	    pr.code, pr.enh, pr.text);
	envelope_clear(env);
	return -1;
}

/* Builds the DSN text about targets[n] of m; 0 or -1. */
static int
queue_bounce_text(struct queue *q, const struct queue_msg *m, bool delayed,
    const size_t *targets, size_t n, time_t now, struct buf *out)
{
	struct deliver_dsn_rcpt *r = xcalloc(n, sizeof(*r));
	struct deliver_dsn d;
	struct buf head;
	size_t k;
	int rc;

	buf_init(&head, 4096, DELIVER_DSN_HEADERS_MAX_BYTES);
	if (queue_bounce_read_head(q, m, &head,
	    DELIVER_DSN_HEADERS_MAX_BYTES) == -1)
		log_warn("%s queue cannot read the header for the DSN: %s",
		    m->id, strerror(errno));
	for (k = 0; k < n; k++) {
		const struct queue_target *qt = &m->t[targets[k]];
		const struct envelope_target *t = &m->env.targets[targets[k]];

		r[k].original = t->rcpt_index < m->env.n_rcpts ?
		    m->env.rcpts[t->rcpt_index] : NULL;
		r[k].final = t->address;
		r[k].status = qt->st.dsn[0] != '\0' ? qt->st.dsn :
		    delayed ? "4.0.0" : "5.0.0";
		r[k].remote_mta = qt->st.remote_mta;
		r[k].diagnostic = qt->st.text;
		r[k].last_attempt = (time_t)qt->st.last_attempt;
	}
	memset(&d, 0, sizeof(d));
	d.hostname = q->cfg->hostname;
	d.queue_id = m->id;
	d.to = m->env.from;
	d.delayed = delayed;
	d.arrival = m->env.arrival;
	d.now = now;
	d.retry_until = delayed ? m->env.arrival + (time_t)q->cfg->max_age :
	    0;
	d.rcpts = r;
	d.n_rcpts = n;
	d.headers = head.data;
	d.headers_len = deliver_dsn_header_len(head.data, head.len);
	rc = deliver_dsn_build(&d, out);
	buf_clear(&head);
	free(r);
	return rc;
}

/* Writes text into a new spool message and commits it; 0 or -1. */
static int
queue_bounce_write(struct queue *q, struct queue_bounce *b,
    const struct buf *text, const struct envelope *env)
{
	struct spool_writer *w = spool_writer_new(q->sp, b->new_id);

	if (w == NULL)
		return -1;
	if (spool_writer_write(w, text->data, text->len) == -1) {
		spool_writer_abort(&w);
		return -1;
	}
	spool_writer_commit(w, env, queue_bounce_on_commit, b);
	return 0;
}

void
queue_bounce_send(struct queue *q, struct queue_msg *m, bool delayed,
    const size_t *targets, size_t n, time_t now)
{
	struct queue_bounce *b;
	struct envelope env;
	struct buf text;
	size_t k;

	if (queue_bounce_envelope(q, m, &env, now) == -1) {
		/* Nobody to tell: mark it done rather than loop forever. */
		for (k = 0; k < n && !delayed; k++) {
			m->t[targets[k]].st.bounced = true;
			(void)!spool_status_set_bounced(q->sp, m->id,
			    targets[k]);
		}
		if (delayed) {
			m->delay_warned = true;
			(void)!spool_status_set_warned(q->sp, m->id);
		}
		return;
	}
	buf_init(&text, 8192, DELIVER_DSN_MAX_BYTES);
	b = xcalloc(1, sizeof(*b));
	b->q = q;
	b->m = m;
	b->delayed = delayed;
	b->n = n;
	b->targets = xcalloc(n, sizeof(*b->targets));
	memcpy(b->targets, targets, n * sizeof(*targets));
	if (queue_bounce_text(q, m, delayed, targets, n, now, &text) == -1 ||
	    queue_bounce_write(q, b, &text, &env) == -1) {
		log_warn("%s queue cannot write the %s: %s; retry in %ds",
		    m->id, delayed ? "delay warning" : "bounce",
		    strerror(errno), QUEUE_BOUNCE_RETRY_S);
		m->bounce_after = now + QUEUE_BOUNCE_RETRY_S;
		queue_bounce_free(b);
	} else {
		m->bounce_busy = true;
		for (k = 0; k < n; k++)
			m->t[targets[k]].reporting = !delayed;
		LIST_INSERT_HEAD(&q->bounces, b, entry);
	}
	buf_clear(&text);
	envelope_clear(&env);
}

void
queue_bounce_abort_all(struct queue *q)
{
	struct queue_bounce *b;

	/*
	 * Their commits finish in spool_close(), which drops the
	 * callbacks: the journal then lacks the "b" or "w" line and the
	 * next start sends the report again (a duplicate, never a loss).
	 */
	while ((b = LIST_FIRST(&q->bounces)) != NULL) {
		LIST_REMOVE(b, entry);
		queue_bounce_free(b);
	}
}
