/* SPDX-License-Identifier: ISC */
/*
 * Remote targets: the due ones of a message are grouped per destination
 * domain, and each group becomes one job for the remote agent, so one
 * SMTP transaction carries every recipient of that domain (RFC 5321
 * 3.3).  Jobs in flight are limited per domain and in all ([queue]
 * max_connections_per_domain, max_connections); a job that does not fit
 * waits for one to finish.  Results are applied per recipient.
 */
#include "queue/queue_private.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "core/log.h"
#include "core/str.h"
#include "core/xalloc.h"
#include "deliver/deliver_remote.h"
#include "queue/queue_sched.h"
#include "spool/spool.h"

static struct queue_domain *
queue_remote_domain(struct queue *q, const char *name)
{
	struct queue_domain *d;

	for (d = q->domains; d != NULL; d = d->next) {
		if (str_casecmp(d->name, name) == 0)
			return d;
	}
	d = xcalloc(1, sizeof(*d));
	d->name = str_lower(xstrdup(name));
	d->next = q->domains;
	q->domains = d;
	return d;
}

void
queue_remote_free_domains(struct queue *q)
{
	struct queue_domain *d;

	while ((d = q->domains) != NULL) {
		q->domains = d->next;
		free(d->name);
		free(d);
	}
}

static void
queue_remote_job_free(struct queue_remote_job *j)
{
	if (j->fd != -1)
		(void)close(j->fd);
	free(j->targets);
	free(j->rcpts);
	free(j);
}

/* "host[addr]:port" as the agent reports it → "host" for Remote-MTA. */
static void
queue_remote_mta(const char *relay, char *out, size_t size)
{
	size_t n = strcspn(relay, "[:");

	if (strcmp(relay, "none") == 0 || n == 0 || n >= size) {
		out[0] = '\0';
		return;
	}
	memcpy(out, relay, n);
	out[n] = '\0';
}

static void
queue_remote_on_done(void *arg, const struct remote_outcome *o)
{
	struct queue_remote_job *j = arg;
	struct queue *q = j->q;
	struct queue_msg *m = j->m;
	char mta[SPOOL_STATUS_MTA_MAX_BYTES + 1];
	time_t now = time(NULL);
	size_t k;

	LIST_REMOVE(j, entry);
	queue_remote_mta(o->relay, mta, sizeof(mta));
	for (k = 0; k < j->n; k++) {
		size_t i = j->targets[k];

		m->t[i].busy = false;
		if (k >= o->n_rcpts) {
			/* The agent broke its promise: try again later. */
			queue_sched_result(q, m, i, DELIVER_TEMPFAIL, "4.3.0",
			    "no result from the delivery agent", NULL, now);
			continue;
		}
		queue_sched_result(q, m, i, o->rcpts[k].result.status,
		    o->rcpts[k].result.enh, o->rcpts[k].reply[0] != '\0' ?
		    o->rcpts[k].reply : o->rcpts[k].result.text, mta, now);
	}
	m->busy--;
	j->dom->in_flight--;
	q->remote_in_flight--;
	queue_remote_job_free(j);
	queue_sched_kick(q);
}

/* Starts one job for targets idx[n] of m, all of domain dom. */
static void
queue_remote_start(struct queue *q, struct queue_msg *m,
    struct queue_domain *dom, const size_t *idx, size_t n)
{
	struct queue_remote_job *j = xcalloc(1, sizeof(*j));
	struct remote_job job;
	uint64_t len;
	size_t k;

	j->q = q;
	j->m = m;
	j->dom = dom;
	j->n = n;
	j->targets = xcalloc(n, sizeof(*j->targets));
	j->rcpts = xcalloc(n, sizeof(*j->rcpts));
	memcpy(j->targets, idx, n * sizeof(*idx));
	for (k = 0; k < n; k++)
		j->rcpts[k] = m->env.targets[idx[k]].address;
	j->fd = spool_open_content(q->sp, m->id, &len);
	if (j->fd == -1) {
		time_t now = time(NULL);
		int e = errno;

		log_warn("%s queue cannot open the content: %s", m->id,
		    strerror(e));
		for (k = 0; k < n; k++)
			queue_sched_result(q, m, idx[k], DELIVER_TEMPFAIL,
			    "4.3.0", "cannot read the queued message", NULL,
			    now);
		queue_remote_job_free(j);
		return;
	}
	memset(&job, 0, sizeof(job));
	job.queue_id = m->id;
	job.domain = dom->name;
	job.from = m->env.from;
	job.rcpts = j->rcpts;
	job.n_rcpts = n;
	job.content_fd = j->fd;
	job.content_len = len;
	job.body = m->env.body;
	job.smtputf8 = m->env.smtputf8;
	job.arrival = m->env.arrival;
	for (k = 0; k < n; k++)
		m->t[idx[k]].busy = true;
	m->busy++;
	dom->in_flight++;
	q->remote_in_flight++;
	LIST_INSERT_HEAD(&q->remote_jobs, j, entry);
	q->remote_fn(q->remote_arg, &job, queue_remote_on_done, j);
}

void
queue_remote_run(struct queue *q, struct queue_msg *m, time_t now)
{
	size_t n = m->env.n_targets, n_due = 0, groups, g, k, n_idx, i;
	const char **domains;
	size_t *due, *group, *idx;

	domains = xcalloc(n + 1, sizeof(*domains));
	due = xcalloc(n + 1, sizeof(*due));
	group = xcalloc(n + 1, sizeof(*group));
	idx = xcalloc(n + 1, sizeof(*idx));
	for (i = 0; i < n; i++) {
		const struct queue_target *qt = &m->t[i];

		if (m->env.targets[i].is_local || qt->busy || qt->reporting)
			continue;
		if (qt->st.state == SPOOL_TARGET_PENDING ||
		    (qt->st.state == SPOOL_TARGET_DEFERRED &&
		    qt->st.next_attempt <= now)) {
			/* Expiry was decided by the caller for local ones. */
			if (qt->st.state == SPOOL_TARGET_DEFERRED &&
			    queue_sched_is_expired(m->env.arrival, now,
			    q->cfg->max_age)) {
				queue_sched_expire(q, m, i, qt->st.text, now);
				continue;
			}
			domains[n_due] = m->env.targets[i].domain;
			due[n_due++] = i;
		}
	}
	groups = queue_sched_group(domains, n_due, group);
	for (g = 0; g < groups; g++) {
		struct queue_domain *dom;

		n_idx = 0;
		for (k = 0; k < n_due; k++) {
			if (group[k] == g)
				idx[n_idx++] = due[k];
		}
		dom = queue_remote_domain(q, m->env.targets[idx[0]].domain);
		if (q->remote_in_flight >= q->cfg->max_connections ||
		    dom->in_flight >= q->cfg->max_connections_per_domain)
			continue;	/* a finishing job kicks the scheduler */
		queue_remote_start(q, m, dom, idx, n_idx);
	}
	free(domains);
	free(due);
	free(group);
	free(idx);
}

void
queue_remote_abort_all(struct queue *q)
{
	struct queue_remote_job *j;

	/* remote_agent_free() runs no callbacks: the targets stay as
	 * journaled and are tried again at the next start. */
	while ((j = LIST_FIRST(&q->remote_jobs)) != NULL) {
		LIST_REMOVE(j, entry);
		j->m->busy--;
		queue_remote_job_free(j);
	}
	q->remote_in_flight = 0;
}
