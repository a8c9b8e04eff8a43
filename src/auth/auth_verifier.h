/* SPDX-License-Identifier: ISC */
/*
 * Password verification off the event loop.  A small pool of worker
 * threads runs auth_passwd_verify(); results come back on the caller's
 * thread: the loop watches auth_verifier_notify_fd() for readability and
 * then calls auth_verifier_dispatch(), which runs the callbacks.
 *
 *	v = auth_verifier_new(2);
 *	watch auth_verifier_notify_fd(v) for EV_READ ->
 *auth_verifier_dispatch(v) auth_verifier_submit(v, users_path, localpart,
 *password, done, sess); session closes first -> auth_verifier_cancel(v, sess):
 *no callback
 *
 * Thread-safety: submit, cancel, dispatch and free must all be called
 * from one thread (the loop's); the workers are internal.
 */
#ifndef TERN_AUTH_AUTH_VERIFIER_H
#define TERN_AUTH_AUTH_VERIFIER_H

#include "auth/auth.h"
#include "core/compat.h"

/* Jobs queued or running at most; submit fails beyond it. */
#define AUTH_VERIFIER_JOBS_MAX 1024
#define AUTH_VERIFIER_THREADS_MAX 64

/*
 * Called from auth_verifier_dispatch() with the submitter's arg, the
 * result and a short reason for the log ("unknown user", "password
 * mismatch", "users file ...: ..."; never the password), valid only
 * during the call.  The callback may submit and cancel, but must not
 * free the verifier.
 */
typedef void auth_verify_fn(
    void *arg, enum auth_result result, const char *reason);

struct auth_verifier;

/*
 * Starts threads workers (0 means 2; at most AUTH_VERIFIER_THREADS_MAX)
 * with their own users-file cache.  Aborts if threads cannot start.
 */
struct auth_verifier *auth_verifier_new(unsigned threads);

/*
 * Stops the workers (waiting for running hashes to end), drops queued
 * and finished jobs without calling back, wipes their passwords and
 * closes the notify fd.  Sets *vp = NULL; accepts NULL.
 */
void auth_verifier_free(struct auth_verifier **vp);

/*
 * Queues a check of password for localpart in the users file at
 * users_path (see auth_passwd_verify()).  All three strings are copied;
 * the password copy is wiped once checked, and the caller should wipe
 * its own.  cb(arg, ...) runs later from auth_verifier_dispatch(),
 * exactly once unless cancelled.  Returns 0, or -1 when
 * AUTH_VERIFIER_JOBS_MAX jobs are pending (reply 454 4.7.0 and do not
 * expect a callback).
 */
ATTR_WUR int auth_verifier_submit(struct auth_verifier *v,
    const char *users_path, const char *localpart, const char *password,
    auth_verify_fn *cb, void *arg);

/*
 * The fd the loop polls for readability; it stays readable until
 * auth_verifier_dispatch() runs.  Owned by v.
 */
int auth_verifier_notify_fd(const struct auth_verifier *v);

/*
 * Runs the callbacks of finished jobs, in completion order.  Returns
 * how many ran.  Never blocks.
 */
unsigned auth_verifier_dispatch(struct auth_verifier *v);

/*
 * Cancels every job submitted with arg: queued, running or finished,
 * none of them will call back.  Call it before freeing arg.
 */
void auth_verifier_cancel(struct auth_verifier *v, void *arg);

#endif
