/* SPDX-License-Identifier: ISC */
/*
 * The queue's life cycle and its in-memory index: a message is loaded
 * (envelope plus status journal) when it is submitted or recovered, is
 * scheduled by queue_sched.c, and leaves the spool and the index once
 * every target is delivered or failed and reported.  The DNS resolver
 * and the remote agent are created here from the config.
 */
#include "queue/queue.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "config/config.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/str.h"
#include "core/xalloc.h"
#include "deliver/deliver_remote.h"
#include "dns/dns.h"
#include "queue/queue_private.h"
#include "spool/spool.h"

/* RFC 5321 4.5.3.2 client timeouts, in seconds. */
#define QUEUE_CONNECT_TIMEOUT_S 60
#define QUEUE_COMMAND_TIMEOUT_S 300
#define QUEUE_DATA_TIMEOUT_S 180

static enum remote_tls
queue_relay_tls(enum relay_tls_mode mode)
{
	switch (mode) {
	case RELAY_TLS_STARTTLS:
		return REMOTE_TLS_STARTTLS;
	case RELAY_TLS_IMPLICIT:
		return REMOTE_TLS_IMPLICIT;
	case RELAY_TLS_NONE:
		return REMOTE_TLS_NONE;
	}
	log_panic("queue_relay_tls: %d", (int)mode);
}

/* The agent copies what it keeps, so cfg's strings may be passed. */
static void
queue_params(const struct config *cfg, struct remote_params *p)
{
	memset(p, 0, sizeof(*p));
	p->helo = cfg->hostname;
	p->relay_host = cfg->relay_host;
	p->relay_port = (uint16_t)cfg->relay_port;
	p->relay_tls = queue_relay_tls(cfg->relay_tls);
	p->relay_user = cfg->relay_user;
	p->relay_password = cfg->relay_password;
	p->mx_port = (uint16_t)cfg->mx_port;
	p->max_connections_per_domain =
	    (unsigned)cfg->max_connections_per_domain;
	p->connect_timeout_s = QUEUE_CONNECT_TIMEOUT_S;
	p->command_timeout_s = QUEUE_COMMAND_TIMEOUT_S;
	p->data_timeout_s = QUEUE_DATA_TIMEOUT_S;
}

static void
queue_remote_default(void *arg, const struct remote_job *job,
    queue_remote_done_fn *cb, void *cb_arg)
{
	remote_agent_deliver(arg, job, cb, cb_arg);
}

struct queue *
queue_new(const struct config *cfg, struct spool *sp,
    struct event_base *base, struct buf *err)
{
	struct queue *q = xcalloc(1, sizeof(*q));
	struct remote_params p;

	q->cfg = cfg;
	q->sp = sp;
	q->base = base;
	TAILQ_INIT(&q->msgs);
	LIST_INIT(&q->remote_jobs);
	LIST_INIT(&q->bounces);
	q->notify_fd = -1;
	if (dns_new(base, cfg->resolver, &q->dns, err) == -1) {
		free(q);
		return NULL;
	}
	queue_params(cfg, &p);
	q->agent = remote_agent_new(base, q->dns, &p);
	q->remote_fn = queue_remote_default;
	q->remote_arg = q->agent;
	q->timer = evtimer_new(base, queue_sched_on_timer, q);
	if (q->timer == NULL)
		log_panic("queue: cannot create the scheduler timer");
	q->mailroot = xstrdup(cfg->mailroot);
	q->hostname = xstrdup(cfg->hostname);
	if (queue_local_start(q) == -1) {
		(void)!buf_printf(err, "queue: cannot start the workers: %s",
		    strerror(errno));
		queue_free(&q);
		return NULL;
	}
	return q;
}

static void
queue_msg_free(struct queue_msg *m)
{
	envelope_clear(&m->env);
	free(m->t);
	free(m);
}

void
queue_free(struct queue **qp)
{
	struct queue *q = *qp;
	struct queue_msg *m;

	if (q == NULL)
		return;
	*qp = NULL;
	/* Workers finish the targets in hand; their results are kept. */
	queue_local_stop(q);
	/* The agent lets go of the content fds before they are closed. */
	remote_agent_free(&q->agent);
	queue_remote_abort_all(q);
	queue_bounce_abort_all(q);
	dns_free(&q->dns);
	if (q->timer != NULL)
		event_free(q->timer);
	while ((m = TAILQ_FIRST(&q->msgs)) != NULL) {
		TAILQ_REMOVE(&q->msgs, m, entry);
		queue_msg_free(m);
	}
	queue_remote_free_domains(q);
	free(q->mailroot);
	free(q->hostname);
	free(q);
}

void
queue_set_config(struct queue *q, const struct config *cfg)
{
	struct remote_params p;
	char *mailroot = xstrdup(cfg->mailroot);
	char *hostname = xstrdup(cfg->hostname);

	(void)pthread_mutex_lock(&q->mu);
	free(q->mailroot);
	free(q->hostname);
	q->mailroot = mailroot;
	q->hostname = hostname;
	(void)pthread_mutex_unlock(&q->mu);
	q->cfg = cfg;
	queue_params(cfg, &p);
	if (q->agent != NULL)
		remote_agent_set_params(q->agent, &p);
	/* New limits or retry times may make work due now. */
	queue_sched_kick(q);
}

void
queue_set_remote_fn(struct queue *q, queue_remote_fn *fn, void *arg)
{
	q->remote_fn = fn;
	q->remote_arg = arg;
}

const char *
queue_rcpt_safe(const struct queue_msg *m, size_t i, char *out, size_t size)
{
	const char *a = m->env.targets[i].address;

	return str_sanitize(out, size, a, strlen(a));
}

void
queue_journal_target(struct queue *q, struct queue_msg *m, size_t i)
{
	if (spool_status_set_target(q->sp, m->id, i, &m->t[i].st) == -1)
		log_warn("%s queue cannot journal target %zu: %s", m->id, i,
		    strerror(errno));
}

void
queue_msg_remove(struct queue *q, struct queue_msg *m)
{
	if (spool_remove(q->sp, m->id) == 0)
		log_info("%s queue removed", m->id);
	else if (errno != ENOENT)
		log_warn("%s queue cannot remove message: %s", m->id,
		    strerror(errno));
	TAILQ_REMOVE(&q->msgs, m, entry);
	queue_msg_free(m);
}

uint64_t
queue_msg_size(struct queue *q, struct queue_msg *m)
{
	uint64_t len;
	int fd;

	/* Asked for by listings only, so not read at every load. */
	if (m->size == 0 && (fd = spool_open_content(q->sp, m->id, &len)) !=
	    -1) {
		m->size = len;
		(void)close(fd);
	}
	return m->size;
}

struct queue_msg *
queue_msg_find(struct queue *q, const char *id)
{
	struct queue_msg *m;

	TAILQ_FOREACH(m, &q->msgs, entry) {
		if (strcmp(m->id, id) == 0)
			return m;
	}
	return NULL;
}

time_t
queue_msg_age_base(const struct queue_msg *m)
{
	return m->release_at > m->env.arrival ? m->release_at :
	    m->env.arrival;
}

void
queue_get_stats(const struct queue *q, struct queue_stats *st,
    size_t *messages_r)
{
	const struct queue_msg *m;
	size_t n = 0;

	*st = q->stats;
	TAILQ_FOREACH(m, &q->msgs, entry)
		n++;
	*messages_r = n;
}

/* Loads id into the index with the state its journal records. */
static void
queue_load(struct queue *q, const char *id, bool recovered)
{
	struct queue_msg *m = xcalloc(1, sizeof(*m)), *o;
	struct spool_status st = { 0 };
	size_t i, n;

	if (str_copy(m->id, id, sizeof(m->id)) == -1) {
		log_err("queue refuses over-long id");
		free(m);
		return;
	}
	TAILQ_FOREACH(o, &q->msgs, entry) {
		if (strcmp(o->id, id) == 0) {
			/* Submitted twice: the first copy stands. */
			free(m);
			return;
		}
	}
	if (spool_read_envelope(q->sp, id, &m->env) == -1) {
		/* Gone, or corrupt (logged; recovery sets it aside). */
		log_warn("%s queue cannot read message: %s", id,
		    strerror(errno));
		free(m);
		return;
	}
	n = m->env.n_targets;
	m->t = xcalloc(n > 0 ? n : 1, sizeof(*m->t));
	st.targets = xcalloc(n > 0 ? n : 1, sizeof(*st.targets));
	st.n_targets = n;
	if (spool_status_load(q->sp, id, &st) == -1) {
		/* Every target is tried again; Maildir copies are found. */
		log_warn("%s queue cannot read status: %s", id,
		    strerror(errno));
		recovered = true;
	}
	if (st.n_bad > 0)
		log_warn("%s queue status journal has %zu bad records "
		    "(ignored)", id, st.n_bad);
	for (i = 0; i < n; i++)
		m->t[i].st = st.targets[i];
	free(st.targets);
	m->delay_warned = st.delay_warned;
	m->held = st.held;
	/* A reschedule overrides the time the message arrived with. */
	m->release_at = st.has_release ? (time_t)st.release_at :
	    m->env.hold_until;
	m->recovered = recovered;
	TAILQ_INSERT_TAIL(&q->msgs, m, entry);
	queue_sched_kick(q);
}

void
queue_submit(struct queue *q, const char *id)
{
	/* Committed by this process just now: no attempt can precede. */
	queue_load(q, id, false);
}

void
queue_submit_tried(struct queue *q, const char *id)
{
	queue_load(q, id, true);
}

static void
queue_recover_one(void *arg, const char *id)
{
	/* A run before a crash may have delivered some targets already. */
	queue_load(arg, id, true);
}

/*
 * A message that was being delivered before the reply when tern
 * stopped: its client had no answer, and it was never committed.  The
 * copies that were linked stay (the "reply lost" case); files left in
 * the mailboxes' tmp/ go.
 */
static void
queue_recover_unfinished(void *arg, const struct envelope *env)
{
	struct queue *q = arg;
	size_t i;

	for (i = 0; i < env->n_targets; i++) {
		struct deliver_request req = {
			.sp = q->sp,
			.env = env,
			.target = i,
			.mailroot = q->mailroot,
			.hostname = q->hostname,
		};

		deliver_maildir_forget(&req);
	}
}

int
queue_recover(struct queue *q, struct buf *err)
{
	return spool_recover(q->sp, queue_recover_one,
	    queue_recover_unfinished, q, err);
}
