/* SPDX-License-Identifier: ISC */
/*
 * Internals shared by the queue's own files; nothing outside src/queue/
 * may include this header.  The loop thread owns struct queue and every
 * struct queue_msg; worker threads only read a message's id and
 * envelope while a local job holds it (msg->busy > 0), and touch the
 * job lists under q->mu.
 */
#ifndef TERN_QUEUE_QUEUE_PRIVATE_H
#define TERN_QUEUE_QUEUE_PRIVATE_H

#include <sys/queue.h>

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "core/envelope.h"
#include "deliver/deliver.h"
#include "queue/queue.h"
#include "spool/spool_status.h"

#define QUEUE_WORKERS 4
/* Local jobs one worker delivers before one sync of their mailboxes. */
#define QUEUE_LOCAL_BATCH 16
/*
 * Local jobs in flight beyond which a new message is queued rather than
 * delivered before the reply: its client would wait behind a backlog.
 */
#define QUEUE_DIRECT_MAX_JOBS 128
/* A bounce whose commit failed is tried again after this long. */
#define QUEUE_BOUNCE_RETRY_S 60
/* Text kept per target: the reply, or the reason. */
#define QUEUE_TEXT_MAX_BYTES SPOOL_STATUS_TEXT_MAX_BYTES

struct dns;
struct event;
struct event_base;
struct remote_agent;
struct spool;

/* One target of a message, as the queue tracks it. */
struct queue_target {
	struct spool_target_status st;	/* as journaled */
	bool busy;		/* in a local or remote job */
	bool reporting;		/* in a bounce being committed */
};

struct queue_msg {
	TAILQ_ENTRY(queue_msg) entry;
	char id[32];
	struct envelope env;	/* immutable once loaded */
	struct queue_target *t;	/* env.n_targets of them */
	unsigned busy;		/* local and remote jobs in flight */
	bool recovered;		/* an earlier run, or an attempt before
				   the reply, may have delivered */
	bool loop_checked;	/* Received fields counted */
	bool delay_warned;	/* as journaled */
	bool bounce_busy;	/* a DSN for it is being committed */
	time_t bounce_after;	/* a failed bounce waits until then */
	bool held;		/* an operator holds it: no attempts */
	bool deleted;		/* deleted while deliveries were in flight */
	time_t release_at;	/* scheduled: no attempts before; 0: none */
	uint64_t size;		/* content bytes; 0: not read yet */
};
TAILQ_HEAD(queue_msgs, queue_msg);

/* Remote jobs in flight to one destination domain. */
struct queue_domain {
	struct queue_domain *next;
	char *name;
	unsigned in_flight;
};

/*
 * A batch of local targets of one message, for a worker: of a queued
 * message m, or (m NULL) of a message delivered before the reply
 * (queue_deliver_direct()), whose result goes to cb.
 */
struct queue_local_job {
	struct queue_local_job *next;
	struct queue_msg *m;
	const struct envelope *env;	/* m's, or the direct caller's */
	size_t n;
	size_t *targets;
	struct deliver_result *res;	/* filled by the worker */
	bool check_existing;
	const struct deliver_content *content;	/* direct: the tmp file */
	queue_direct_fn *cb;
	void *arg;
	uint64_t max_received;	/* direct: a loop is left to the queue */
	bool declined;		/* direct: so it was, nothing delivered */
};

/* One remote delivery: one message to one domain. */
struct queue_remote_job {
	LIST_ENTRY(queue_remote_job) entry;
	struct queue *q;
	struct queue_msg *m;
	struct queue_domain *dom;
	size_t n;
	size_t *targets;
	const char **rcpts;	/* point into m->env */
	int fd;			/* content, open until the callback */
};
LIST_HEAD(queue_remote_jobs, queue_remote_job);

/* A DSN being committed to the spool. */
struct queue_bounce {
	LIST_ENTRY(queue_bounce) entry;
	struct queue *q;
	struct queue_msg *m;
	bool delayed;
	char new_id[32];
	size_t n;
	size_t *targets;
};
LIST_HEAD(queue_bounces, queue_bounce);

struct queue {
	const struct config *cfg;	/* loop thread only */
	struct spool *sp;
	struct event_base *base;
	struct dns *dns;
	struct remote_agent *agent;
	queue_remote_fn *remote_fn;
	void *remote_arg;

	struct queue_msgs msgs;
	struct event *timer;		/* the scheduler's one timer */
	struct queue_domain *domains;
	unsigned remote_in_flight;
	struct queue_remote_jobs remote_jobs;
	struct queue_bounces bounces;

	/* Local workers: ready → worker → done → loop (notify_fd). */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct queue_local_job *ready, **ready_tail;
	struct queue_local_job *done;
	bool stopping;
	char *mailroot;		/* copies for the workers, under mu */
	char *hostname;
	pthread_t threads[QUEUE_WORKERS];
	size_t n_threads;
	size_t local_jobs;	/* submitted, not yet collected (loop) */
	int notify_fd;		/* eventfd */
	struct event *notify_ev;

	struct queue_stats stats;
};

/* queue.c */
/* Removes m from the spool and the index, and frees it. */
void queue_msg_remove(struct queue *q, struct queue_msg *m);
/* Journals target i of m; a failure is logged (it costs a retry). */
void queue_journal_target(struct queue *q, struct queue_msg *m, size_t i);
/* A printable copy of target i's address, for logs. */
const char *queue_rcpt_safe(const struct queue_msg *m, size_t i,
    char *out, size_t size);

/*
 * The time a message's age counts from: its arrival, or its release
 * when it was scheduled (a message held for a week must not expire on
 * the day it is released).
 */
time_t queue_msg_age_base(const struct queue_msg *m);
/* m's content size, read from the spool the first time (listings). */
uint64_t queue_msg_size(struct queue *q, struct queue_msg *m);
/* The message with this id, or NULL. */
struct queue_msg *queue_msg_find(struct queue *q, const char *id);

/* queue_ctl.c */
/*
 * Fails every target of m that is neither delivered, nor in a job, nor
 * reported, as reported already: nothing more is tried or bounced.
 */
void queue_ctl_drop_rest(struct queue *q, struct queue_msg *m);

/* queue_sched.c */
/* Runs the scheduler soon (from the loop, never recursively). */
void queue_sched_kick(struct queue *q);
/* The scheduler timer's callback. */
void queue_sched_on_timer(int fd, short what, void *arg);
/*
 * Applies one attempt's result to target i of m (state, journal, log)
 * at now; remote_mta may be NULL or "".
 */
void queue_sched_result(struct queue *q, struct queue_msg *m, size_t i,
    enum deliver_status status, const char *dsn, const char *text,
    const char *remote_mta, time_t now);
/*
 * The same; quiet: a delivery is not journaled, because the message
 * leaves the spool at once (a crash before that only repeats a local
 * delivery, which finds its copy).
 */
void queue_sched_result_ex(struct queue *q, struct queue_msg *m, size_t i,
    enum deliver_status status, const char *dsn, const char *text,
    const char *remote_mta, time_t now, bool quiet);
/* Whether every target is delivered, or failed and reported. */
bool queue_sched_is_finished(const struct queue_msg *m);
/* Fails target i for good with dsn and text (no attempt made). */
void queue_sched_fail(struct queue *q, struct queue_msg *m, size_t i,
    const char *dsn, const char *text, time_t now);
/* Fails target i as too old (4.4.7), quoting the last error. */
void queue_sched_expire(struct queue *q, struct queue_msg *m, size_t i,
    const char *last, time_t now);

/* queue_local.c */
int queue_local_start(struct queue *q);
void queue_local_stop(struct queue *q);
/* Queues the due local targets of m (targets[n], copied). */
void queue_local_submit(struct queue *q, struct queue_msg *m,
    const size_t *targets, size_t n);
/* Applies finished local jobs (loop thread). */
void queue_local_collect(struct queue *q);

/* queue_remote.c */
/* Starts remote jobs for the due remote targets of m within limits. */
void queue_remote_run(struct queue *q, struct queue_msg *m, time_t now);
/* Aborts every job in flight (queue_free). */
void queue_remote_abort_all(struct queue *q);
void queue_remote_free_domains(struct queue *q);

/* queue_bounce.c */
/*
 * Reads up to max bytes of m's content from the start into out; 0, or
 * -1 with errno.
 */
int queue_bounce_read_head(struct queue *q, const struct queue_msg *m,
    struct buf *out, size_t max);
/* The same from content fd of len bytes (pread, the offset stays). */
int queue_read_head(int fd, uint64_t len, struct buf *out, size_t max);
/*
 * Sends a DSN about targets[n] of m (failed ones, or deferred ones if
 * delayed) to m's sender; the journal is updated when the commit lands.
 */
void queue_bounce_send(struct queue *q, struct queue_msg *m, bool delayed,
    const size_t *targets, size_t n, time_t now);
/* Frees the DSNs still being committed (queue_free). */
void queue_bounce_abort_all(struct queue *q);

#endif
