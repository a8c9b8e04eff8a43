/* SPDX-License-Identifier: ISC */
/*
 * The spool: tern's durable message store (format in docs/spool.md).
 *
 * A message is written while it arrives, then committed: the commit
 * makes the file data and its directory entry stable (fsync) and only
 * then reports success.  Commits from many sessions are grouped and run
 * on a worker thread, off the event loop; completions come back through
 * a notification descriptor that the loop watches (DESIGN.md invariants
 * 1 and 3).  A crash at any moment leaves either no message or a whole
 * committed one; spool_recover() removes the leftovers of the rest.
 *
 * Thread rules: spool_writer_*(), spool_notify_fd() and
 * spool_dispatch() belong to the event loop thread.  spool_read_*(),
 * spool_status_*() and spool_remove() may be called from any thread.
 */
#ifndef TERN_SPOOL_SPOOL_H
#define TERN_SPOOL_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/compat.h"
#include "core/envelope.h"

struct buf;
struct spool;
struct spool_writer;

/*
 * Called on the loop thread, from spool_dispatch(), when a commit has
 * finished: error 0 means durable; otherwise an errno value (ENOSPC,
 * EIO, ...) and the message was discarded.
 */
typedef void spool_commit_fn(void *arg, int error);

/* Opens (creating as needed) the spool at dir; -1 with a reason in err. */
ATTR_WUR int spool_open(const char *dir, struct spool **sp_r, struct buf *err);
/*
 * Waits for pending commits, stops the worker, frees.  Callbacks of
 * commits not yet dispatched are dropped, not run: call spool_dispatch()
 * first if their callers still wait.  Abort open writers before.
 */
void spool_close(struct spool **spp);

/*
 * Starts a new message and returns its writer; the new id is copied to
 * id_r (NUL-terminated, at most 31 chars).  NULL with errno set on error.
 */
struct spool_writer *spool_writer_new(struct spool *sp, char id_r[32]);
/* Appends content; -1 with errno set on a write error. */
ATTR_WUR int spool_writer_write(
    struct spool_writer *w, const void *data, size_t len);
/*
 * Finishes the message: appends the envelope record (env->id is taken
 * to be the writer's id) and the trailer, so the file is whole but not
 * yet durable.  -1 with errno if this or an earlier write failed.  Then
 * either spool_writer_commit() (with the same env),
 * spool_writer_discard() or spool_writer_abort().
 */
ATTR_WUR int spool_writer_finish(
    struct spool_writer *w, const struct envelope *env);
/*
 * A finished writer's content for reading: a descriptor to use with
 * pread() (it stays the writer's; do not close it) and the content
 * length in *len_r.  Valid until the writer is consumed.
 */
int spool_writer_content(const struct spool_writer *w, uint64_t *len_r);
/*
 * Finishes the message with its envelope (copied; env->id is set to the
 * writer's id) unless spool_writer_finish() did, and queues the commit;
 * cb runs later, exactly once, from spool_dispatch().  The writer is
 * consumed in every case.  If an error is already known, cb still runs,
 * with that error.
 */
void spool_writer_commit(struct spool_writer *w, const struct envelope *env,
    spool_commit_fn *cb, void *arg);
/* Throws the message away (the client never got a 250). */
void spool_writer_abort(struct spool_writer **wp);
/*
 * Drops a finished message that needs no commit, because every copy of
 * it was delivered before the reply; its file is kept as a spare.
 */
void spool_writer_discard(struct spool_writer **wp);

/* The descriptor that becomes readable when completions are ready. */
int spool_notify_fd(const struct spool *sp);
/* Runs the callbacks of finished commits. */
void spool_dispatch(struct spool *sp);

/*
 * Startup recovery: removes half-written files and calls fn for every
 * committed message id in arrival order.  Before a file in tmp/ goes,
 * unfinished(arg, env) (if not NULL) is called with its envelope when
 * it has one (it was being delivered before the reply when the process
 * stopped): its Maildir tmp/ files may be left.
 */
ATTR_WUR int spool_recover(struct spool *sp,
    void (*fn)(void *arg, const char *id),
    void (*unfinished)(void *arg, const struct envelope *env), void *arg,
    struct buf *err);

/*
 * Reads a committed message's envelope; -1 with errno on failure
 * (EINVAL: bad id or corrupt file, logged).  *env is overwritten, not
 * freed; on success release it with envelope_clear().
 */
ATTR_WUR int spool_read_envelope(
    struct spool *sp, const char *id, struct envelope *env);
/*
 * Opens the committed content for reading: returns an fd positioned at
 * the first byte, and its length in *len_r; -1 with errno on failure.
 * The envelope follows the content in the same file: read only *len_r
 * bytes.  The caller closes the fd.
 */
ATTR_WUR int spool_open_content(
    struct spool *sp, const char *id, uint64_t *len_r);

/*
 * Per-target state, persisted next to the message in its status journal
 * (spool/spool_status.h has the record format).  Each set function
 * appends one record with one O_APPEND write; -1 with errno (EINVAL for
 * a bad id).  The journal is not fsynced (docs/spool.md).
 */
struct spool_status;
struct spool_target_status;
/* Records that target index i of message id is delivered (done). */
ATTR_WUR int spool_status_set_done(
    struct spool *sp, const char *id, size_t target);
/* Records the whole status *ts of target (the last record wins). */
ATTR_WUR int spool_status_set_target(struct spool *sp, const char *id,
    size_t target, const struct spool_target_status *ts);
/* Records that target's failure has been reported to the sender. */
ATTR_WUR int spool_status_set_bounced(
    struct spool *sp, const char *id, size_t target);
/* Records that the delay warning for message id went out. */
ATTR_WUR int spool_status_set_warned(struct spool *sp, const char *id);
/* Records that an operator holds (true) or released (false) id. */
ATTR_WUR int spool_status_set_held(struct spool *sp, const char *id, bool held);
/* Records id's scheduled release time (0: none, due now). */
ATTR_WUR int spool_status_set_release(
    struct spool *sp, const char *id, int64_t release_at);
/*
 * Reads the journal of id into st: st->targets (st->n_targets of them,
 * the caller's array) are reset to PENDING and then set from the
 * records; no journal means all pending.  -1 with errno on a read error
 * (EFBIG past SPOOL_STATUS_MAX_BYTES).  Bad lines are counted in
 * st->n_bad, not fatal.
 */
ATTR_WUR int spool_status_load(
    struct spool *sp, const char *id, struct spool_status *st);
/* Fills done[i] (delivered or failed) for each of n targets; -1 with errno. */
ATTR_WUR int spool_status_read(
    struct spool *sp, const char *id, bool *done, size_t n);
/* Removes a message whose targets are all done; -1 with errno. */
ATTR_WUR int spool_remove(struct spool *sp, const char *id);

#endif
