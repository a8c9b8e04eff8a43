/* SPDX-License-Identifier: ISC */
/*
 * The queue: owns every committed message's per-target progress and
 * hands the work to delivery agents.  For now it delivers local targets
 * to Maildir on worker threads and keeps messages with remote targets in
 * the spool, pending, until outbound delivery exists.
 *
 * All functions are called from the event loop thread.
 */
#ifndef TERN_QUEUE_QUEUE_H
#define TERN_QUEUE_QUEUE_H

#include "core/compat.h"

struct buf;
struct config;
struct queue;
struct spool;

/*
 * Creates the queue and starts its workers.  cfg must outlive the queue
 * or be replaced with queue_set_config() first.
 */
struct queue *queue_new(const struct config *cfg, struct spool *sp);
/* Finishes deliveries in progress, stops the workers, frees. */
void queue_free(struct queue **qp);

/* Swaps in a new config (reload); the old one may be freed afterwards. */
void queue_set_config(struct queue *q, const struct config *cfg);

/* Takes a message that has just been committed to the spool. */
void queue_submit(struct queue *q, const char *id);

/* Startup: recovers the spool and submits every message found. */
ATTR_WUR int queue_recover(struct queue *q, struct buf *err);

#endif
