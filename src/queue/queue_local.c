/* SPDX-License-Identifier: ISC */
/*
 * Local delivery off the loop: a job list under a mutex and condition
 * variable, served by QUEUE_WORKERS threads that run the Maildir agent
 * (fsync-heavy, so never on the loop: DESIGN.md invariant 3).  Results
 * come back through an eventfd; the loop applies them.  Workers read
 * only the message's id and envelope, which stay put while a job holds
 * the message.
 */
#include "queue/queue_private.h"

#include <sys/eventfd.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "core/log.h"
#include "core/xalloc.h"

static void
queue_local_job_free(struct queue_local_job *j)
{
	free(j->targets);
	free(j->res);
	free(j);
}

/* Runs one job on a worker; no lock held. */
static void
queue_local_run(struct queue *q, struct queue_local_job *j,
    const char *mailroot, const char *hostname)
{
	time_t now = time(NULL);
	size_t k;

	for (k = 0; k < j->n; k++) {
		struct deliver_request req = {
			.sp = q->sp,
			.env = &j->m->env,
			.target = j->targets[k],
			.mailroot = mailroot,
			.hostname = hostname,
			.check_existing = j->check_existing,
			.now = now,
		};

		deliver_maildir_agent.deliver(&req, &j->res[k]);
	}
}

static void *
queue_local_main(void *arg)
{
	struct queue *q = arg;
	struct queue_local_job *j;
	char *mailroot, *hostname;
	uint64_t one = 1;

	(void)pthread_mutex_lock(&q->mu);
	while (!q->stopping) {
		if (q->ready == NULL) {
			(void)pthread_cond_wait(&q->cv, &q->mu);
			continue;
		}
		j = q->ready;
		q->ready = j->next;
		if (q->ready == NULL)
			q->ready_tail = &q->ready;
		mailroot = xstrdup(q->mailroot);
		hostname = xstrdup(q->hostname);
		(void)pthread_mutex_unlock(&q->mu);
		queue_local_run(q, j, mailroot, hostname);
		free(mailroot);
		free(hostname);
		(void)pthread_mutex_lock(&q->mu);
		j->next = q->done;
		q->done = j;
		/* An eventfd write of 1 cannot fail short of a bug. */
		if (write(q->notify_fd, &one, sizeof(one)) != sizeof(one))
			log_panic("queue: eventfd write: %s", strerror(errno));
	}
	(void)pthread_mutex_unlock(&q->mu);
	return NULL;
}

static void
queue_local_on_notify(evutil_socket_t fd, short what, void *arg)
{
	struct queue *q = arg;
	uint64_t v;

	(void)what;
	if (read(fd, &v, sizeof(v)) == -1 && errno != EAGAIN)
		log_warn("queue: eventfd read: %s", strerror(errno));
	queue_local_collect(q);
}

int
queue_local_start(struct queue *q)
{
	size_t i;
	int rc;

	q->ready_tail = &q->ready;
	(void)pthread_mutex_init(&q->mu, NULL);
	(void)pthread_cond_init(&q->cv, NULL);
	q->notify_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (q->notify_fd == -1)
		return -1;
	q->notify_ev = event_new(q->base, q->notify_fd, EV_READ | EV_PERSIST,
	    queue_local_on_notify, q);
	if (q->notify_ev == NULL || event_add(q->notify_ev, NULL) == -1) {
		errno = ENOMEM;
		return -1;
	}
	for (i = 0; i < QUEUE_WORKERS; i++) {
		rc = pthread_create(&q->threads[i], NULL, queue_local_main, q);
		if (rc != 0) {
			log_warn("queue cannot start worker: %s", strerror(rc));
			break;
		}
		q->n_threads++;
	}
	if (q->n_threads == 0) {
		errno = EAGAIN;
		return -1;
	}
	return 0;
}

void
queue_local_stop(struct queue *q)
{
	struct queue_local_job *j;
	size_t i;

	(void)pthread_mutex_lock(&q->mu);
	q->stopping = true;
	(void)pthread_cond_broadcast(&q->cv);
	(void)pthread_mutex_unlock(&q->mu);
	for (i = 0; i < q->n_threads; i++)
		(void)pthread_join(q->threads[i], NULL);
	q->n_threads = 0;
	/* What finished is journaled; what never ran stays as it was. */
	queue_local_collect(q);
	while ((j = q->ready) != NULL) {
		q->ready = j->next;
		queue_local_job_free(j);
	}
	q->ready_tail = &q->ready;
	if (q->notify_ev != NULL)
		event_free(q->notify_ev);
	q->notify_ev = NULL;
	if (q->notify_fd != -1)
		(void)close(q->notify_fd);
	q->notify_fd = -1;
	(void)pthread_mutex_destroy(&q->mu);
	(void)pthread_cond_destroy(&q->cv);
}

void
queue_local_submit(struct queue *q, struct queue_msg *m,
    const size_t *targets, size_t n)
{
	struct queue_local_job *j = xcalloc(1, sizeof(*j));
	size_t k;

	j->m = m;
	j->n = n;
	j->targets = xcalloc(n, sizeof(*j->targets));
	j->res = xcalloc(n, sizeof(*j->res));
	memcpy(j->targets, targets, n * sizeof(*targets));
	/*
	 * A copy may exist from a run before a crash, or from a TEMPFAIL
	 * that came after the file was linked: look before writing.
	 */
	j->check_existing = m->recovered;
	for (k = 0; k < n; k++) {
		m->t[targets[k]].busy = true;
		if (m->t[targets[k]].st.attempts > 0)
			j->check_existing = true;
	}
	m->busy++;
	(void)pthread_mutex_lock(&q->mu);
	*q->ready_tail = j;
	q->ready_tail = &j->next;
	(void)pthread_cond_signal(&q->cv);
	(void)pthread_mutex_unlock(&q->mu);
}

void
queue_local_collect(struct queue *q)
{
	struct queue_local_job *j, *next;
	time_t now = time(NULL);
	size_t k;

	(void)pthread_mutex_lock(&q->mu);
	j = q->done;
	q->done = NULL;
	(void)pthread_mutex_unlock(&q->mu);
	for (; j != NULL; j = next) {
		next = j->next;
		for (k = 0; k < j->n; k++) {
			size_t i = j->targets[k];

			j->m->t[i].busy = false;
			queue_sched_result(q, j->m, i, j->res[k].status,
			    j->res[k].enh, j->res[k].text, NULL, now);
		}
		j->m->busy--;
		queue_local_job_free(j);
	}
	queue_sched_kick(q);
}
