/* SPDX-License-Identifier: ISC */
/*
 * A simple queue runner: a job list under a mutex and condition
 * variable, served by a few worker threads.  A worker reads a message's
 * envelope and status journal, delivers each pending local target with
 * the Maildir agent, journals each finished target and removes the
 * message once all are done.  Remote targets stay pending (kept, never
 * dropped) until outbound delivery exists.  A TEMPFAIL is retried with
 * a growing delay until the message is QUEUE_MAX_AGE_S old.  The full
 * scheduler (holds, per-destination limits, bounces) comes later.
 */
#include "queue/queue.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/envelope.h"
#include "core/log.h"
#include "core/str.h"
#include "core/xalloc.h"
#include "config/config.h"
#include "deliver/deliver.h"
#include "spool/spool.h"

#define QUEUE_WORKERS 4
#define QUEUE_RETRY_MIN_S 60
#define QUEUE_RETRY_MAX_S 3600
/* Give up on a local target after this long (RFC 5321 4.5.4.1: 4-5 days). */
#define QUEUE_MAX_AGE_S ((time_t)5 * 24 * 3600)

struct queue_job {
	struct queue_job *next;
	char id[32];
	unsigned attempts;   /* rounds that ended in TEMPFAIL */
	bool check_existing; /* an earlier attempt may have left copies */
	bool remote_logged;  /* "waits for outbound" said once */
	time_t due;          /* CLOCK_MONOTONIC seconds, for delayed jobs */
};

struct queue {
	struct spool *sp;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct queue_job *ready, **ready_tail;
	struct queue_job *delayed; /* unordered; few in practice */
	bool stopping;
	char *mailroot; /* copies: a reload may free the config */
	char *hostname;
	pthread_t threads[QUEUE_WORKERS];
	size_t n_threads;
};

static time_t
queue_mono_now(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* Appends j to the ready list; mu held. */
static void
queue_push_ready(struct queue *q, struct queue_job *j)
{
	j->next = NULL;
	*q->ready_tail = j;
	q->ready_tail = &j->next;
	(void)pthread_cond_signal(&q->cv);
}

/* Moves delayed jobs that are due to the ready list; mu held. */
static void
queue_promote_due(struct queue *q, time_t now, time_t *next_due_r)
{
	struct queue_job **pp = &q->delayed, *j;

	*next_due_r = 0;
	while ((j = *pp) != NULL) {
		if (j->due <= now) {
			*pp = j->next;
			queue_push_ready(q, j);
			continue;
		}
		if (*next_due_r == 0 || j->due < *next_due_r)
			*next_due_r = j->due;
		pp = &j->next;
	}
}

/* Marks target i done in the journal; a failure only costs a retry. */
static void
queue_mark_done(struct queue *q, const char *id, size_t i, bool *done)
{
	done[i] = true;
	if (spool_status_set_done(q->sp, id, i) == -1)
		log_warn("%s queue cannot record target %zu as done: %s", id, i,
		    strerror(errno));
}

/*
 * Delivers the pending local targets of one message.  Returns true if
 * some local target should be tried again later.
 */
static bool
queue_run_targets(struct queue *q, struct queue_job *j,
    const struct envelope *env, bool *done, const char *mailroot,
    const char *hostname)
{
	bool retry = false;
	time_t now = time(NULL);
	char rcpt[300];
	size_t i;

	for (i = 0; i < env->n_targets; i++) {
		const struct envelope_target *t = &env->targets[i];
		struct deliver_request req = {
		    .sp = q->sp,
		    .env = env,
		    .target = i,
		    .mailroot = mailroot,
		    .hostname = hostname,
		    .check_existing = j->check_existing,
		    .now = now,
		};
		struct deliver_result res;

		if (done[i])
			continue;
		str_sanitize(
		    rcpt, sizeof(rcpt), t->address, strlen(t->address));
		if (!t->is_local) {
			if (!j->remote_logged)
				log_info("%s queue remote target waits for "
				         "outbound delivery rcpt=<%s>",
				    j->id, rcpt);
			continue;
		}
		deliver_maildir_agent.deliver(&req, &res);
		switch (res.status) {
		case DELIVER_OK:
			queue_mark_done(q, j->id, i, done);
			break;
		case DELIVER_PERMFAIL:
			/* Bounces (a DSN to env->from) come in a later issue.
			 */
			log_warn("%s queue bounce not sent (not implemented) "
			         "rcpt=<%s> dsn=%s",
			    j->id, rcpt, res.enh);
			queue_mark_done(q, j->id, i, done);
			break;
		case DELIVER_TEMPFAIL:
			if (now - env->arrival < QUEUE_MAX_AGE_S) {
				retry = true;
				break;
			}
			log_warn("%s queue gave up rcpt=<%s> status=bounced "
			         "dsn=4.4.7 reason=\"too long in the queue\"; "
			         "bounce "
			         "not sent (not implemented)",
			    j->id, rcpt);
			queue_mark_done(q, j->id, i, done);
			break;
		}
	}
	j->remote_logged = true;
	return retry;
}

/* Schedules j again after a growing delay; mu not held. */
static void
queue_retry_later(struct queue *q, struct queue_job *j)
{
	unsigned shift = j->attempts < 6 ? j->attempts : 6;
	time_t delay = (time_t)QUEUE_RETRY_MIN_S << shift;

	if (delay > QUEUE_RETRY_MAX_S)
		delay = QUEUE_RETRY_MAX_S;
	j->attempts++;
	j->check_existing = true;
	j->due = queue_mono_now() + delay;
	log_info("%s queue retry in %llds", j->id, (long long)delay);
	(void)pthread_mutex_lock(&q->mu);
	j->next = q->delayed;
	q->delayed = j;
	(void)pthread_cond_signal(&q->cv);
	(void)pthread_mutex_unlock(&q->mu);
}

/* One pass over one message; consumes j. */
static void
queue_run(struct queue *q, struct queue_job *j, const char *mailroot,
    const char *hostname)
{
	struct envelope env;
	bool *done, all = true, retry;
	size_t i;

	if (spool_read_envelope(q->sp, j->id, &env) == -1) {
		if (errno == ENOENT || errno == EINVAL) {
			/* Gone, or corrupt (logged; recovery sets it aside). */
			log_warn("%s queue cannot read message: %s", j->id,
			    strerror(errno));
			free(j);
		} else {
			log_warn("%s queue cannot read message: %s", j->id,
			    strerror(errno));
			queue_retry_later(q, j);
		}
		return;
	}
	done = xcalloc(env.n_targets > 0 ? env.n_targets : 1, sizeof(*done));
	if (spool_status_read(q->sp, j->id, done, env.n_targets) == -1) {
		log_warn(
		    "%s queue cannot read status: %s", j->id, strerror(errno));
		memset(done, 0, env.n_targets * sizeof(*done));
		j->check_existing = true;
	}
	retry = queue_run_targets(q, j, &env, done, mailroot, hostname);
	for (i = 0; i < env.n_targets; i++)
		all = all && done[i];
	if (all) {
		if (spool_remove(q->sp, j->id) == 0)
			log_info("%s queue removed", j->id);
		else if (errno != ENOENT)
			log_warn("%s queue cannot remove message: %s", j->id,
			    strerror(errno));
		free(j);
	} else if (retry) {
		queue_retry_later(q, j);
	} else {
		free(j); /* only remote targets left: kept in the spool */
	}
	free(done);
	envelope_clear(&env);
}

static void *
queue_worker_main(void *arg)
{
	struct queue *q = arg;
	struct queue_job *j;
	char *mailroot, *hostname;
	time_t next_due;

	(void)pthread_mutex_lock(&q->mu);
	while (!q->stopping) {
		queue_promote_due(q, queue_mono_now(), &next_due);
		if (q->ready == NULL) {
			if (next_due == 0) {
				(void)pthread_cond_wait(&q->cv, &q->mu);
			} else {
				struct timespec ts = {.tv_sec = next_due};

				(void)pthread_cond_timedwait(
				    &q->cv, &q->mu, &ts);
			}
			continue;
		}
		j = q->ready;
		q->ready = j->next;
		if (q->ready == NULL)
			q->ready_tail = &q->ready;
		mailroot = xstrdup(q->mailroot);
		hostname = xstrdup(q->hostname);
		(void)pthread_mutex_unlock(&q->mu);
		queue_run(q, j, mailroot, hostname);
		free(mailroot);
		free(hostname);
		(void)pthread_mutex_lock(&q->mu);
	}
	(void)pthread_mutex_unlock(&q->mu);
	return NULL;
}

struct queue *
queue_new(const struct config *cfg, struct spool *sp)
{
	struct queue *q = xcalloc(1, sizeof(*q));
	pthread_condattr_t ca;
	size_t i;
	int rc;

	q->sp = sp;
	q->ready_tail = &q->ready;
	q->mailroot = xstrdup(cfg->mailroot);
	q->hostname =
	    xstrdup(cfg->hostname != NULL ? cfg->hostname : "localhost");
	(void)pthread_mutex_init(&q->mu, NULL);
	(void)pthread_condattr_init(&ca);
	(void)pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	(void)pthread_cond_init(&q->cv, &ca);
	(void)pthread_condattr_destroy(&ca);
	for (i = 0; i < QUEUE_WORKERS; i++) {
		rc = pthread_create(&q->threads[i], NULL, queue_worker_main, q);
		if (rc != 0) {
			log_warn("queue cannot start worker: %s", strerror(rc));
			break;
		}
		q->n_threads++;
	}
	if (q->n_threads == 0)
		log_panic("queue: no worker thread could start");
	return q;
}

static void
queue_free_jobs(struct queue_job *j)
{
	struct queue_job *next;

	for (; j != NULL; j = next) {
		next = j->next;
		free(j);
	}
}

void
queue_free(struct queue **qp)
{
	struct queue *q = *qp;
	size_t i;

	if (q == NULL)
		return;
	*qp = NULL;
	(void)pthread_mutex_lock(&q->mu);
	q->stopping = true;
	(void)pthread_cond_broadcast(&q->cv);
	(void)pthread_mutex_unlock(&q->mu);
	/* Workers finish the message in hand; the rest stays spooled. */
	for (i = 0; i < q->n_threads; i++)
		(void)pthread_join(q->threads[i], NULL);
	queue_free_jobs(q->ready);
	queue_free_jobs(q->delayed);
	(void)pthread_mutex_destroy(&q->mu);
	(void)pthread_cond_destroy(&q->cv);
	free(q->mailroot);
	free(q->hostname);
	free(q);
}

void
queue_set_config(struct queue *q, const struct config *cfg)
{
	char *mailroot = xstrdup(cfg->mailroot);
	char *hostname =
	    xstrdup(cfg->hostname != NULL ? cfg->hostname : "localhost");

	(void)pthread_mutex_lock(&q->mu);
	free(q->mailroot);
	free(q->hostname);
	q->mailroot = mailroot;
	q->hostname = hostname;
	(void)pthread_mutex_unlock(&q->mu);
}

static void
queue_add(struct queue *q, const char *id, bool check_existing)
{
	struct queue_job *j = xcalloc(1, sizeof(*j));

	if (str_copy(j->id, id, sizeof(j->id)) == -1) {
		log_err("queue refuses over-long id");
		free(j);
		return;
	}
	j->check_existing = check_existing;
	(void)pthread_mutex_lock(&q->mu);
	if (q->stopping) {
		free(j); /* still spooled: found again at startup */
	} else {
		queue_push_ready(q, j);
	}
	(void)pthread_mutex_unlock(&q->mu);
}

void
queue_submit(struct queue *q, const char *id)
{
	/* Committed by this process just now: no attempt can precede. */
	queue_add(q, id, false);
}

static void
queue_recover_one(void *arg, const char *id)
{
	/* A run before a crash may have delivered some targets already. */
	queue_add(arg, id, true);
}

int
queue_recover(struct queue *q, struct buf *err)
{
	return spool_recover(q->sp, queue_recover_one, q, err);
}
