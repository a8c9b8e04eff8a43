/* SPDX-License-Identifier: ISC */
/*
 * Local delivery off the loop: a job list under a mutex and condition
 * variable, served by QUEUE_WORKERS threads that run the Maildir agent
 * (fsync-heavy, so never on the loop: DESIGN.md invariant 3).  Results
 * come back through an eventfd; the loop applies them.  Workers read
 * only the message's id and envelope, which stay put while a job holds
 * the message.
 *
 * The same workers deliver messages before the reply (a session waits
 * for them, queue_deliver_direct()): such a job has no queue_msg, only
 * the caller's envelope and the content of the uncommitted spool file,
 * and its result goes back to the caller instead of the journal.
 */
#include "queue/queue_private.h"
#include "queue/queue_sched.h"

#include <sys/eventfd.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "config/config.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/xalloc.h"

static void
queue_local_job_free(struct queue_local_job *j)
{
	free(j->targets);
	free(j->res);
	free(j);
}

/*
 * Whether a message to be delivered before the reply has more Received
 * fields than max_received (or its header cannot be read): then it is
 * left to the queue, whose loop check fails it with 5.4.6
 * (queue_sched.c).  Read here, on a worker, not on the loop.
 */
static bool
queue_local_may_loop(const struct queue_local_job *j)
{
	struct buf head;
	bool over = true;

	buf_init(&head, 4096, QUEUE_SCHED_HEADER_MAX_BYTES);
	if (queue_read_head(j->content->fd, j->content->len, &head,
	        QUEUE_SCHED_HEADER_MAX_BYTES) == 0)
		over = queue_sched_count_received(head.data, head.len) >
		    j->max_received;
	buf_clear(&head);
	return over;
}

/* Runs one job on a worker; no lock held. */
static void
queue_local_run(struct queue *q, struct queue_local_job *j,
    const char *mailroot, const char *hostname, struct deliver_sync *sync)
{
	time_t now = time(NULL);
	size_t k;

	if (j->m == NULL && queue_local_may_loop(j)) {
		j->declined = true;
		return;
	}

	for (k = 0; k < j->n; k++) {
		struct deliver_request req = {
			.sp = q->sp,
			.content = j->content,
			.env = j->env,
			.target = j->targets[k],
			.mailroot = mailroot,
			.hostname = hostname,
			.check_existing = j->check_existing,
			.now = now,
			.sync = sync,
		};

		deliver_maildir_agent.deliver(&req, &j->res[k]);
	}
}

/*
 * A worker takes up to QUEUE_LOCAL_BATCH jobs at once, delivers them
 * all, and syncs the mailbox directories once for the batch (group
 * commit) before any result goes back.
 */
static void *
queue_local_main(void *arg)
{
	struct queue *q = arg;
	struct queue_local_job *batch, *j, *last;
	struct deliver_sync sync;
	char *mailroot, *hostname;
	uint64_t one = 1;
	size_t n, want;

	deliver_sync_init(&sync);
	(void)pthread_mutex_lock(&q->mu);
	while (!q->stopping) {
		if (q->ready == NULL) {
			(void)pthread_cond_wait(&q->cv, &q->mu);
			continue;
		}
		/* A fair share of what is ready, so every worker syncs. */
		for (n = 0, j = q->ready; j != NULL && n < QUEUE_LOCAL_BATCH *
		    QUEUE_WORKERS; j = j->next)
			n++;
		want = (n + QUEUE_WORKERS - 1) / QUEUE_WORKERS;
		if (want > QUEUE_LOCAL_BATCH)
			want = QUEUE_LOCAL_BATCH;
		batch = last = q->ready;
		for (n = 1; n < want && last->next != NULL; n++)
			last = last->next;
		q->ready = last->next;
		last->next = NULL;
		if (q->ready == NULL)
			q->ready_tail = &q->ready;
		mailroot = xstrdup(q->mailroot);
		hostname = xstrdup(q->hostname);
		(void)pthread_mutex_unlock(&q->mu);
		for (j = batch; j != NULL; j = j->next)
			queue_local_run(q, j, mailroot, hostname, &sync);
		(void)deliver_sync_flush(&sync);
		free(mailroot);
		free(hostname);
		(void)pthread_mutex_lock(&q->mu);
		last->next = q->done;
		q->done = batch;
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
		q->local_jobs--;
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

static void
queue_local_enqueue(struct queue *q, struct queue_local_job *j)
{
	q->local_jobs++;
	(void)pthread_mutex_lock(&q->mu);
	*q->ready_tail = j;
	q->ready_tail = &j->next;
	(void)pthread_cond_signal(&q->cv);
	(void)pthread_mutex_unlock(&q->mu);
}

void
queue_local_submit(struct queue *q, struct queue_msg *m,
    const size_t *targets, size_t n)
{
	struct queue_local_job *j = xcalloc(1, sizeof(*j));
	size_t k;

	j->m = m;
	j->env = &m->env;
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
	queue_local_enqueue(q, j);
}

bool
queue_deliver_direct(struct queue *q, const struct envelope *env,
    const struct deliver_content *content, queue_direct_fn *cb, void *arg)
{
	struct queue_local_job *j;
	size_t i;

	if (env->hold_until != 0 || env->n_targets == 0 ||
	    q->local_jobs >= QUEUE_DIRECT_MAX_JOBS)
		return false;
	for (i = 0; i < env->n_targets; i++) {
		if (!env->targets[i].is_local)
			return false;
	}
	j = xcalloc(1, sizeof(*j));
	j->env = env;
	j->n = env->n_targets;
	j->targets = xcalloc(j->n, sizeof(*j->targets));
	j->res = xcalloc(j->n, sizeof(*j->res));
	for (i = 0; i < j->n; i++)
		j->targets[i] = i;
	j->content = content;
	j->cb = cb;
	j->arg = arg;
	j->max_received = q->cfg->max_received;
	queue_local_enqueue(q, j);
	return true;
}

/*
 * A delivery before the reply is over: the caller learns whether every
 * copy is there.  At queue_free() nobody is told: the caller drops the
 * message and its client never had an answer.
 */
static void
queue_local_direct_done(struct queue *q, struct queue_local_job *j)
{
	bool delivered = !j->declined;
	size_t k;

	for (k = 0; !j->declined && k < j->n; k++) {
		if (j->res[k].status != DELIVER_OK) {
			delivered = false;
			/* An attempt that failed; the queue tries again. */
			q->stats.deferred++;
		}
	}
	if (delivered)
		q->stats.delivered += j->n;
	if (!q->stopping)
		j->cb(j->arg, delivered);
	queue_local_job_free(j);
}

/*
 * Whether job j delivered the last open targets of its message: every
 * result is OK, no other job or DSN holds the message, and every other
 * target is delivered already.
 */
static bool
queue_local_completes(const struct queue_local_job *j)
{
	const struct queue_msg *m = j->m;
	size_t i, k, n_done = 0;

	if (m->busy != 1 || m->bounce_busy || m->deleted)
		return false;
	for (k = 0; k < j->n; k++) {
		if (j->res[k].status != DELIVER_OK)
			return false;
	}
	for (i = 0; i < m->env.n_targets; i++) {
		if (m->t[i].st.state == SPOOL_TARGET_DELIVERED)
			n_done++;
	}
	return n_done + j->n == m->env.n_targets;
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
		struct queue_msg *m = j->m;
		bool last;

		next = j->next;
		q->local_jobs--;
		if (m == NULL) {
			queue_local_direct_done(q, j);
			continue;
		}
		last = queue_local_completes(j);
		for (k = 0; k < j->n; k++) {
			size_t i = j->targets[k];

			m->t[i].busy = false;
			queue_sched_result_ex(q, m, i, j->res[k].status,
			    j->res[k].enh, j->res[k].text, NULL, now, last);
		}
		m->busy--;
		queue_local_job_free(j);
		/*
		 * The common case, every copy delivered in one go: the
		 * message leaves now, without journal records that would
		 * only be deleted with it.
		 */
		if (last && queue_sched_is_finished(m))
			queue_msg_remove(q, m);
	}
	queue_sched_kick(q);
}
