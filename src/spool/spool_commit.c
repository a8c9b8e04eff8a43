/* SPDX-License-Identifier: ISC */
/*
 * Group commit (DESIGN.md invariants 1 and 3).  The loop thread queues
 * finished tmp files; one committer thread takes everything queued as a
 * batch, fdatasyncs the files in parallel on a small thread pool,
 * renames them all into queue/, fsyncs queue/ once, and hands the batch
 * back through the eventfd.  Only then does a callback see error 0, so
 * "250" always follows a durable file and directory entry.  While one
 * batch syncs, the next one gathers: the more sessions, the bigger the
 * batch, the fewer directory fsyncs per message.
 */
#include "spool/spool_private.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/xalloc.h"

static void
spool_commit_sync_one(struct spool_commit *c)
{
	/*
	 * fdatasync is enough for a new file: it flushes the data and the
	 * metadata needed to read it back (size, blocks), not timestamps.
	 */
	if (c->error == 0 && fdatasync(c->fd) == -1)
		c->error = errno;
}

/* Takes files of the current batch until none is left; sync_mu held. */
static void
spool_commit_sync_drain(struct spool *sp)
{
	while (sp->sync_next < sp->sync_n) {
		struct spool_commit *c = sp->sync_jobs[sp->sync_next++];

		(void)pthread_mutex_unlock(&sp->sync_mu);
		spool_commit_sync_one(c);
		(void)pthread_mutex_lock(&sp->sync_mu);
	}
}

static void *
spool_commit_syncer_main(void *arg)
{
	struct spool *sp = arg;

	(void)pthread_mutex_lock(&sp->sync_mu);
	for (;;) {
		while (!sp->sync_stopping && sp->sync_next >= sp->sync_n)
			(void)pthread_cond_wait(&sp->sync_cv, &sp->sync_mu);
		if (sp->sync_stopping)
			break;
		sp->sync_active++;
		spool_commit_sync_drain(sp);
		if (--sp->sync_active == 0)
			(void)pthread_cond_signal(&sp->sync_done_cv);
	}
	(void)pthread_mutex_unlock(&sp->sync_mu);
	return NULL;
}

/* fdatasyncs jobs[0..n) on this thread and the pool; returns when all are. */
static void
spool_commit_sync_all(struct spool *sp, struct spool_commit **jobs, size_t n)
{
	if (n == 1 || sp->n_syncers == 0) {
		size_t i;

		for (i = 0; i < n; i++)
			spool_commit_sync_one(jobs[i]);
		return;
	}
	(void)pthread_mutex_lock(&sp->sync_mu);
	sp->sync_jobs = jobs;
	sp->sync_n = n;
	sp->sync_next = 0;
	(void)pthread_cond_broadcast(&sp->sync_cv);
	sp->sync_active++;
	spool_commit_sync_drain(sp);
	sp->sync_active--;
	while (sp->sync_active > 0)
		(void)pthread_cond_wait(&sp->sync_done_cv, &sp->sync_mu);
	sp->sync_jobs = NULL;
	sp->sync_n = sp->sync_next = 0;
	(void)pthread_mutex_unlock(&sp->sync_mu);
}

static void
spool_commit_batch(struct spool *sp, struct spool_commit *list)
{
	struct spool_commit *c;
	size_t n = 0, i;
	bool any_renamed = false;
	int error;

	for (c = list; c != NULL; c = c->next) {
		if (c->error != 0)
			continue;
		if (n == sp->batch_cap) {
			sp->batch_cap = sp->batch_cap ? sp->batch_cap * 2 : 64;
			sp->batch = xreallocarray(
			    sp->batch, sp->batch_cap, sizeof(*sp->batch));
		}
		sp->batch[n++] = c;
	}
	spool_commit_sync_all(sp, sp->batch, n);
	for (i = 0; i < n; i++) {
		c = sp->batch[i];
		if (c->error != 0)
			continue;
		if (renameat(sp->tmp_fd, c->tmp_name, sp->queue_fd, c->id) ==
		    -1) {
			c->error = errno;
			continue;
		}
		c->renamed = true;
		any_renamed = true;
	}
	/* One directory fsync makes every rename of the batch durable. */
	if (any_renamed && fsync(sp->queue_fd) == -1) {
		/*
		 * The entries may or may not be on disk.  The clients will
		 * hear 451 and send again, so take the files back rather
		 * than deliver them twice.
		 */
		error = errno;
		for (i = 0; i < n; i++) {
			c = sp->batch[i];
			if (!c->renamed)
				continue;
			(void)unlinkat(sp->queue_fd, c->id, 0);
			c->renamed = false;
			c->error = error;
		}
	}
	for (c = list; c != NULL; c = c->next) {
		if (c->fd != -1)
			(void)close(c->fd);
		c->fd = -1;
		if (c->error == 0)
			continue;
		(void)unlinkat(sp->tmp_fd, c->tmp_name, 0);
		log_warn(
		    "%s spool commit failed: %s", c->id, strerror(c->error));
	}
}

static void *
spool_commit_main(void *arg)
{
	struct spool *sp = arg;
	struct spool_commit *list, *c;
	uint64_t one = 1;

	(void)pthread_mutex_lock(&sp->mu);
	for (;;) {
		while (sp->pending == NULL && !sp->stopping)
			(void)pthread_cond_wait(&sp->cv, &sp->mu);
		if (sp->pending == NULL)
			break; /* stopping, and nothing left to commit */
		list = sp->pending;
		sp->pending = NULL;
		sp->pending_tail = &sp->pending;
		(void)pthread_mutex_unlock(&sp->mu);

		spool_commit_batch(sp, list);

		(void)pthread_mutex_lock(&sp->mu);
		*sp->done_tail = list;
		for (c = list; c->next != NULL; c = c->next)
			continue;
		sp->done_tail = &c->next;
		(void)pthread_mutex_unlock(&sp->mu);
		if (write(sp->notify_fd, &one, sizeof(one)) == -1 &&
		    errno != EAGAIN)
			log_err("spool cannot notify the event loop: %s",
			    strerror(errno));
		(void)pthread_mutex_lock(&sp->mu);
	}
	(void)pthread_mutex_unlock(&sp->mu);
	return NULL;
}

int
spool_commit_start(struct spool *sp)
{
	size_t i;
	int rc;

	for (i = 0; i < SPOOL_SYNC_THREADS; i++) {
		rc = pthread_create(
		    &sp->syncers[i], NULL, spool_commit_syncer_main, sp);
		if (rc != 0) {
			errno = rc;
			return -1;
		}
		sp->n_syncers++;
	}
	rc = pthread_create(&sp->committer, NULL, spool_commit_main, sp);
	if (rc != 0) {
		errno = rc;
		return -1;
	}
	sp->committer_running = true;
	return 0;
}

void
spool_commit_stop(struct spool *sp)
{
	size_t i;

	if (sp->committer_running) {
		(void)pthread_mutex_lock(&sp->mu);
		sp->stopping = true;
		(void)pthread_cond_signal(&sp->cv);
		(void)pthread_mutex_unlock(&sp->mu);
		(void)pthread_join(sp->committer, NULL);
		sp->committer_running = false;
	}
	(void)pthread_mutex_lock(&sp->sync_mu);
	sp->sync_stopping = true;
	(void)pthread_cond_broadcast(&sp->sync_cv);
	(void)pthread_mutex_unlock(&sp->sync_mu);
	for (i = 0; i < sp->n_syncers; i++)
		(void)pthread_join(sp->syncers[i], NULL);
	sp->n_syncers = 0;
}

void
spool_commit_submit(struct spool *sp, struct spool_commit *c)
{
	c->next = NULL;
	(void)pthread_mutex_lock(&sp->mu);
	ASSERT(!sp->stopping);
	*sp->pending_tail = c;
	sp->pending_tail = &c->next;
	(void)pthread_cond_signal(&sp->cv);
	(void)pthread_mutex_unlock(&sp->mu);
}
