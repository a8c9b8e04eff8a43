/* SPDX-License-Identifier: ISC */
/*
 * A pool of threads for the slow password hashes (DESIGN.md invariant
 * 3: nothing blocks the event loop).  Jobs go in under a mutex; results
 * come back through an eventfd and run their callbacks on the loop's
 * thread, one at a time, so a callback may cancel other jobs safely.
 * The checks themselves are auth_passwd.c's.
 */
#include "auth/auth_verifier.h"

#include <sys/eventfd.h>
#include <sys/queue.h>

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "auth/auth_passwd.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/xalloc.h"

#define AUTH_VERIFIER_REASON_MAX_BYTES 512

struct auth_verifier_job {
	TAILQ_ENTRY(auth_verifier_job) entry;
	char *path, *localpart, *password;
	size_t password_len;
	auth_verify_fn *cb;
	void *arg;
	bool cancelled; /* set while running: drop when done */
	enum auth_result result;
	struct buf reason;
};

TAILQ_HEAD(auth_verifier_jobs, auth_verifier_job);

struct auth_verifier {
	pthread_mutex_t lock; /* guards everything below but the pool */
	pthread_cond_t wake;  /* pending is non-empty, or stopping */
	struct auth_verifier_jobs pending, running, done;
	unsigned n_jobs; /* in any of the three lists */
	bool stopping;
	int notify_fd;
	struct auth_passwd *passwd; /* thread-safe on its own */
	pthread_t *threads;
	unsigned n_threads;
};

static void
auth_verifier_job_free(struct auth_verifier_job *job)
{
	if (job->password != NULL)
		explicit_bzero(job->password, job->password_len);
	free(job->password);
	free(job->path);
	free(job->localpart);
	buf_clear(&job->reason);
	free(job);
}

static void
auth_verifier_notify(struct auth_verifier *v)
{
	uint64_t one = 1;
	ssize_t n;

	/* Only EAGAIN at a counter near 2^64 can fail; it is readable then. */
	do {
		n = write(v->notify_fd, &one, sizeof(one));
	} while (n == -1 && errno == EINTR);
}

static void *
auth_verifier_worker(void *arg)
{
	struct auth_verifier *v = arg;
	struct auth_verifier_job *job;

	pthread_mutex_lock(&v->lock);
	for (;;) {
		while (!v->stopping && TAILQ_EMPTY(&v->pending))
			pthread_cond_wait(&v->wake, &v->lock);
		if (v->stopping)
			break;
		job = TAILQ_FIRST(&v->pending);
		TAILQ_REMOVE(&v->pending, job, entry);
		TAILQ_INSERT_TAIL(&v->running, job, entry);
		pthread_mutex_unlock(&v->lock);

		/* The job's strings are ours alone while it is running. */
		job->result = auth_passwd_verify(v->passwd, job->path,
		    job->localpart, job->password, &job->reason);
		explicit_bzero(job->password, job->password_len);

		pthread_mutex_lock(&v->lock);
		TAILQ_REMOVE(&v->running, job, entry);
		if (job->cancelled) {
			v->n_jobs--;
			auth_verifier_job_free(job);
			continue;
		}
		TAILQ_INSERT_TAIL(&v->done, job, entry);
		auth_verifier_notify(v);
	}
	pthread_mutex_unlock(&v->lock);
	return NULL;
}

struct auth_verifier *
auth_verifier_new(unsigned threads)
{
	struct auth_verifier *v = xcalloc(1, sizeof(*v));
	unsigned i;
	int err;

	if (threads == 0)
		threads = 2;
	ASSERT(threads <= AUTH_VERIFIER_THREADS_MAX);
	if (pthread_mutex_init(&v->lock, NULL) != 0 ||
	    pthread_cond_init(&v->wake, NULL) != 0)
		log_panic("auth_verifier_new: cannot init mutex or cond");
	TAILQ_INIT(&v->pending);
	TAILQ_INIT(&v->running);
	TAILQ_INIT(&v->done);
	v->notify_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (v->notify_fd == -1)
		log_panic("auth_verifier_new: eventfd: %s", strerror(errno));
	v->passwd = auth_passwd_new();
	v->threads = xcalloc(threads, sizeof(*v->threads));
	for (i = 0; i < threads; i++) {
		err = pthread_create(
		    &v->threads[i], NULL, auth_verifier_worker, v);
		if (err != 0)
			log_panic("auth_verifier_new: pthread_create: %s",
			    strerror(err));
		v->n_threads++;
	}
	return v;
}

static void
auth_verifier_drop_all(struct auth_verifier *v, struct auth_verifier_jobs *list)
{
	struct auth_verifier_job *job;

	while ((job = TAILQ_FIRST(list)) != NULL) {
		TAILQ_REMOVE(list, job, entry);
		v->n_jobs--;
		auth_verifier_job_free(job);
	}
}

void
auth_verifier_free(struct auth_verifier **vp)
{
	struct auth_verifier *v = *vp;
	unsigned i;

	if (v == NULL)
		return;
	pthread_mutex_lock(&v->lock);
	v->stopping = true;
	pthread_cond_broadcast(&v->wake);
	pthread_mutex_unlock(&v->lock);
	for (i = 0; i < v->n_threads; i++)
		pthread_join(v->threads[i], NULL);
	/* Workers finish running jobs into done (or free them) first. */
	ASSERT(TAILQ_EMPTY(&v->running));
	auth_verifier_drop_all(v, &v->pending);
	auth_verifier_drop_all(v, &v->done);
	ASSERT(v->n_jobs == 0);
	(void)close(v->notify_fd);
	auth_passwd_free(&v->passwd);
	pthread_cond_destroy(&v->wake);
	pthread_mutex_destroy(&v->lock);
	free(v->threads);
	free(v);
	*vp = NULL;
}

int
auth_verifier_submit(struct auth_verifier *v, const char *users_path,
    const char *localpart, const char *password, auth_verify_fn *cb, void *arg)
{
	struct auth_verifier_job *job;

	pthread_mutex_lock(&v->lock);
	if (v->n_jobs >= AUTH_VERIFIER_JOBS_MAX) {
		pthread_mutex_unlock(&v->lock);
		return -1;
	}
	v->n_jobs++;
	pthread_mutex_unlock(&v->lock);

	job = xcalloc(1, sizeof(*job));
	job->path = xstrdup(users_path);
	job->localpart = xstrdup(localpart);
	job->password_len = strlen(password);
	job->password = xstrdup(password);
	job->cb = cb;
	job->arg = arg;
	job->result = AUTH_TEMPFAIL;
	buf_init(&job->reason, 0, AUTH_VERIFIER_REASON_MAX_BYTES);

	pthread_mutex_lock(&v->lock);
	TAILQ_INSERT_TAIL(&v->pending, job, entry);
	pthread_cond_signal(&v->wake);
	pthread_mutex_unlock(&v->lock);
	return 0;
}

int
auth_verifier_notify_fd(const struct auth_verifier *v)
{
	return v->notify_fd;
}

unsigned
auth_verifier_dispatch(struct auth_verifier *v)
{
	struct auth_verifier_job *job;
	uint64_t count;
	unsigned ran = 0;

	/* Drain first: a job finishing after this re-arms the fd. */
	while (
	    read(v->notify_fd, &count, sizeof(count)) == -1 && errno == EINTR)
		continue;
	for (;;) {
		pthread_mutex_lock(&v->lock);
		job = TAILQ_FIRST(&v->done);
		if (job != NULL) {
			TAILQ_REMOVE(&v->done, job, entry);
			v->n_jobs--;
		}
		pthread_mutex_unlock(&v->lock);
		if (job == NULL)
			break;
		/* Out of every list, so the callback may cancel the rest. */
		job->cb(job->arg, job->result, buf_cstr(&job->reason));
		auth_verifier_job_free(job);
		ran++;
	}
	return ran;
}

/* Frees every job of list whose arg is arg (lock held). */
static void
auth_verifier_cancel_in(
    struct auth_verifier *v, struct auth_verifier_jobs *list, void *arg)
{
	struct auth_verifier_job *job, *next;

	for (job = TAILQ_FIRST(list); job != NULL; job = next) {
		next = TAILQ_NEXT(job, entry);
		if (job->arg != arg)
			continue;
		TAILQ_REMOVE(list, job, entry);
		v->n_jobs--;
		auth_verifier_job_free(job);
	}
}

void
auth_verifier_cancel(struct auth_verifier *v, void *arg)
{
	struct auth_verifier_job *job;

	pthread_mutex_lock(&v->lock);
	auth_verifier_cancel_in(v, &v->pending, arg);
	auth_verifier_cancel_in(v, &v->done, arg);
	/* A worker owns running jobs; it frees them when it is done. */
	TAILQ_FOREACH (job, &v->running, entry)
		if (job->arg == arg)
			job->cancelled = true;
	pthread_mutex_unlock(&v->lock);
}
