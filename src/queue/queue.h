/* SPDX-License-Identifier: ISC */
/*
 * The queue: owns every committed message's per-target progress (DESIGN.md
 * invariant 4) and schedules the work.  Local targets go to the Maildir
 * agent on worker threads; remote targets are grouped per destination
 * domain and handed to the remote SMTP agent on the event loop, within
 * per-domain and global limits.  Temporary failures are retried with
 * exponential backoff (RFC 5321 4.5.4.1) until [queue] max_age; failed
 * targets are reported to the sender with a bounce (RFC 3464), and a
 * message still deferred after delay_warning gets one delay notice.
 * Progress is journaled next to the message (spool_status), so a
 * restart resumes where the queue stopped.
 *
 * All functions are called from the event loop thread.
 */
#ifndef TERN_QUEUE_QUEUE_H
#define TERN_QUEUE_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "core/compat.h"

struct buf;
struct config;
struct deliver_content;
struct envelope;
struct event_base;
struct queue;
struct remote_job;
struct spool;

/*
 * Creates the queue on base: starts the local workers, the DNS resolver
 * (cfg->resolver, or /etc/resolv.conf) and the remote agent.  cfg must
 * outlive the queue or be replaced with queue_set_config() first; sp
 * and base must outlive it.  The spool's commit callbacks (bounces) come
 * through spool_dispatch(), which the caller runs as before.  NULL with
 * a reason in err on failure (the resolver could not start).
 */
struct queue *queue_new(const struct config *cfg, struct spool *sp,
    struct event_base *base, struct buf *err);
/*
 * Stops the workers (deliveries in hand finish and are journaled),
 * aborts remote deliveries in progress (their targets stay as they
 * were, and are tried again at the next start) and frees everything.
 * Call it before spool_close(): it may still write to the journal.
 */
void queue_free(struct queue **qp);

/*
 * Swaps in a new config (reload): retry times, limits and the remote
 * agent's parameters; the old config may be freed afterwards.  Jobs in
 * progress keep the old parameters.
 */
void queue_set_config(struct queue *q, const struct config *cfg);

/* Takes a message that has just been committed to the spool. */
void queue_submit(struct queue *q, const char *id);
/*
 * The same for a message whose delivery before the reply failed in
 * part: the copies that were made are looked for, not made again.
 */
void queue_submit_tried(struct queue *q, const char *id);

/*
 * Delivery before the reply.  delivered is true when every target got
 * its copy, synced (file and directory): that is as durable as a spool
 * commit (DESIGN.md invariant 1).
 */
typedef void queue_direct_fn(void *arg, bool delivered);
/*
 * Delivers every target of env, a finished but uncommitted message,
 * now, on the local workers, reading the content from content; env and
 * content must stay put until cb runs (later, on the loop, exactly
 * once; never after queue_free() has begun).  Returns false, and does
 * nothing, unless every target is local, the message is not scheduled
 * (FUTURERELEASE) and the workers have no backlog: the caller then
 * commits the message to the spool as usual.  A message with more
 * Received fields than max_received is found by the worker, which
 * delivers nothing and reports delivered false (the queue's loop check
 * then fails it).
 */
ATTR_WUR bool queue_deliver_direct(struct queue *q, const struct envelope *env,
    const struct deliver_content *content, queue_direct_fn *cb, void *arg);

/*
 * Startup: recovers the spool and takes every message found, with the
 * state its journal records.  0, or -1 with a reason in err.
 */
ATTR_WUR int queue_recover(struct queue *q, struct buf *err);

/* Counters since the start, for `tern stats`. */
struct queue_stats {
	uint64_t delivered;	/* targets delivered */
	uint64_t deferred;	/* attempts that failed temporarily */
	uint64_t failed;	/* targets failed for good (bounced) */
	uint64_t expired;	/* ... of which by max_age */
	uint64_t dsn_sent;	/* bounces and delay notices committed */
};

/* The counters, and the number of messages in the queue. */
void queue_get_stats(const struct queue *q, struct queue_stats *st,
    size_t *messages_r);

/* ---- operator commands (queue_ctl.c) ------------------------------------ */

/*
 * Each returns 0, or -1 with a reason in err ("no such message" ...).
 * They journal what they change, so it survives a restart.
 */
/* Stops every attempt for id until queue_release(). */
ATTR_WUR int queue_hold(struct queue *q, const char *id, struct buf *err);
/* Ends a hold and a schedule: deferred targets are due now. */
ATTR_WUR int queue_release(struct queue *q, const char *id, struct buf *err);
/* Removes id from the queue and the spool, with no bounce. */
ATTR_WUR int queue_delete(struct queue *q, const char *id, struct buf *err);
/* Fails every undelivered target of id now; the sender gets a DSN. */
ATTR_WUR int queue_bounce(struct queue *q, const char *id, struct buf *err);
/* Schedules id to leave at when (wall clock); held stays held. */
ATTR_WUR int queue_reschedule(struct queue *q, const char *id, time_t when,
    struct buf *err);
/*
 * Makes deferred targets due now: of message id, or of every message
 * with a target in domain (both NULL: the whole queue).  Held and
 * scheduled messages are left alone.  Returns the number of messages
 * concerned, or -1 (no such message).
 */
ATTR_WUR long queue_flush(struct queue *q, const char *id, const char *domain,
    struct buf *err);

enum queue_list_format {
	QUEUE_LIST_TEXT,	/* tern queue list */
	QUEUE_LIST_JSON,	/* tern queue list --json */
	QUEUE_LIST_MAILQ,	/* mailq, sendmail -bp */
};
/* Writes the queue to out at now; -1 if out's max was reached. */
ATTR_WUR int queue_list(struct queue *q, enum queue_list_format fmt,
    time_t now, struct buf *out);
/*
 * Writes id's envelope, state, header section and attempt history;
 * -1 with err when there is no such message.
 */
ATTR_WUR int queue_show(struct queue *q, const char *id, bool json,
    time_t now, struct buf *out, struct buf *err);

/* The callback of a remote delivery, as deliver_remote.h defines it. */
struct remote_outcome;
typedef void queue_remote_done_fn(void *arg, const struct remote_outcome *o);
/*
 * How remote jobs are started: remote_agent_deliver() unless a test
 * replaces it.  fn must call cb exactly once, later, from the loop.
 */
typedef void queue_remote_fn(void *arg, const struct remote_job *job,
    queue_remote_done_fn *cb, void *cb_arg);
/* Test seam: hands remote jobs to fn(arg, ...) instead of the agent. */
void queue_set_remote_fn(struct queue *q, queue_remote_fn *fn, void *arg);

#endif
