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

#include "core/compat.h"

struct buf;
struct config;
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
 * Startup: recovers the spool and takes every message found, with the
 * state its journal records.  0, or -1 with a reason in err.
 */
ATTR_WUR int queue_recover(struct queue *q, struct buf *err);

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
