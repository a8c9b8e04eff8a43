/* SPDX-License-Identifier: ISC */
/*
 * The spool object: opening the directory tree, ids, the completion
 * hand-off to the event loop (spool_dispatch) and removal.  Writing is
 * in spool_writer.c, the group commit in spool_commit.c, reading in
 * spool_read.c, per-target status in spool_status.c and startup
 * recovery in spool_recover.c.  Layout: docs/spool.md.
 */
#include "spool/spool.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "spool/spool_private.h"

static const char *const spool_subdirs[] = {"tmp", "queue", "corrupt"};

/* mkdir -p with mode 0700 for the parts that are missing. */
static int
spool_mkdir_p(const char *path)
{
	char *p = xstrdup(path), *s;
	int rc = 0;

	for (s = p + 1; rc == 0; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		{
			char save = *s;

			*s = '\0';
			if (mkdir(p, 0700) == -1 && errno != EEXIST)
				rc = -1;
			*s = save;
		}
		if (*s == '\0')
			break;
	}
	free(p);
	return rc;
}

static int
spool_open_dirs(struct spool *sp, struct buf *err)
{
	int *fds[] = {&sp->tmp_fd, &sp->queue_fd, &sp->corrupt_fd};
	bool created = false;
	size_t i;
	int root;

	if (spool_mkdir_p(sp->dir) == -1) {
		(void)!buf_printf(err, "spool %s: cannot create: %s", sp->dir,
		    strerror(errno));
		return -1;
	}
	root = open(sp->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root == -1) {
		(void)!buf_printf(
		    err, "spool %s: %s", sp->dir, strerror(errno));
		return -1;
	}
	/*
	 * One process per spool: the lock on the directory lasts as long
	 * as the spool is open (the fd is kept), and dies with a crash.
	 */
	if (flock(root, LOCK_EX | LOCK_NB) == -1) {
		(void)!buf_printf(err, "spool %s: %s", sp->dir,
		    errno == EWOULDBLOCK ? "in use: another tern is running "
		    "on this spool" : strerror(errno));
		(void)close(root);
		return -1;
	}
	for (i = 0; i < N_ELEMENTS(spool_subdirs); i++) {
		if (mkdirat(root, spool_subdirs[i], 0700) == 0)
			created = true;
		else if (errno != EEXIST)
			goto fail;
		*fds[i] = openat(
		    root, spool_subdirs[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (*fds[i] == -1)
			goto fail;
	}
	/* The new directories' entries must survive a crash too. */
	if (created && fsync(root) == -1)
		goto fail;
	sp->root_fd = root;
	return 0;
fail:
	(void)!buf_printf(err, "spool %s/%s: %s", sp->dir,
	    i < N_ELEMENTS(spool_subdirs) ? spool_subdirs[i] : "",
	    strerror(errno));
	(void)close(root);
	return -1;
}

int
spool_open(const char *dir, struct spool **sp_r, struct buf *err)
{
	struct spool *sp = xcalloc(1, sizeof(*sp));

	sp->dir = xstrdup(dir);
	sp->tmp_fd = sp->queue_fd = sp->corrupt_fd = sp->notify_fd = -1;
	sp->root_fd = -1;
	sp->pending_tail = &sp->pending;
	sp->done_tail = &sp->done;
	(void)pthread_mutex_init(&sp->mu, NULL);
	(void)pthread_cond_init(&sp->cv, NULL);
	(void)pthread_mutex_init(&sp->sync_mu, NULL);
	(void)pthread_cond_init(&sp->sync_cv, NULL);
	(void)pthread_cond_init(&sp->sync_done_cv, NULL);
	(void)pthread_mutex_init(&sp->id_mu, NULL);
	(void)pthread_mutex_init(&sp->spare_mu, NULL);
	sp->spares = xcalloc(SPOOL_SPARES_MAX, sizeof(*sp->spares));
	if (getrandom(&sp->id_rand, sizeof(sp->id_rand), 0) !=
	    (ssize_t)sizeof(sp->id_rand))
		sp->id_rand = (uint64_t)time(NULL) ^ (uint64_t)getpid() << 32;
	sp->id_rand |= 1; /* xorshift state must not be 0 */
	if (spool_open_dirs(sp, err) == -1)
		goto fail;
	sp->notify_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (sp->notify_fd == -1) {
		(void)!buf_printf(err, "spool: eventfd: %s", strerror(errno));
		goto fail;
	}
	if (spool_commit_start(sp) == -1) {
		(void)!buf_printf(
		    err, "spool: cannot start threads: %s", strerror(errno));
		goto fail;
	}
	*sp_r = sp;
	return 0;
fail:
	spool_close(&sp);
	return -1;
}

void
spool_close(struct spool **spp)
{
	struct spool *sp = *spp;
	struct spool_commit *c, *next;

	if (sp == NULL)
		return;
	*spp = NULL;
	spool_commit_stop(sp);
	/* Completions nobody dispatched: their callers are gone. */
	for (c = sp->done; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	if (sp->notify_fd != -1)
		(void)close(sp->notify_fd);
	if (sp->root_fd != -1)
		(void)close(sp->root_fd);	/* and the lock with it */
	if (sp->tmp_fd != -1)
		(void)close(sp->tmp_fd);
	if (sp->queue_fd != -1)
		(void)close(sp->queue_fd);
	if (sp->corrupt_fd != -1)
		(void)close(sp->corrupt_fd);
	(void)pthread_mutex_destroy(&sp->mu);
	(void)pthread_cond_destroy(&sp->cv);
	(void)pthread_mutex_destroy(&sp->sync_mu);
	(void)pthread_cond_destroy(&sp->sync_cv);
	(void)pthread_cond_destroy(&sp->sync_done_cv);
	(void)pthread_mutex_destroy(&sp->id_mu);
	(void)pthread_mutex_destroy(&sp->spare_mu);
	free(sp->spares);
	free(sp->batch);
	free(sp->dir);
	free(sp);
}

int
spool_notify_fd(const struct spool *sp)
{
	return sp->notify_fd;
}

void
spool_dispatch(struct spool *sp)
{
	struct spool_commit *list, *c;
	uint64_t v;

	/* Clear the eventfd first: a completion racing in re-arms it. */
	(void)!read(sp->notify_fd, &v, sizeof(v));
	(void)pthread_mutex_lock(&sp->mu);
	list = sp->done;
	sp->done = NULL;
	sp->done_tail = &sp->done;
	(void)pthread_mutex_unlock(&sp->mu);
	while ((c = list) != NULL) {
		list = c->next;
		c->cb(c->arg, c->error);
		free(c);
	}
}

/* Whether a file of size bytes may join the pool; spare_mu held. */
static bool
spool_spare_fits(const struct spool *sp, off_t size)
{
	return sp->n_spares < SPOOL_SPARES_MAX && size <= SPOOL_SPARE_MAX_BYTES;
}

/* Adds a spare that fits to the pool; spare_mu held. */
static void
spool_spare_add(struct spool *sp, const char *name, bool was_queued)
{
	memcpy(sp->spares[sp->n_spares].name, name, SPOOL_TMP_NAME_SIZE);
	sp->spares[sp->n_spares++].was_queued = was_queued;
}

/*
 * Moves a removed message to tmp/ as a spare, if the pool has room; the
 * rename takes it out of queue/ as atomically as an unlink would.  The
 * next writer empties it; recovery deletes spares with the rest of
 * tmp/.
 */
static int
spool_spare_keep(struct spool *sp, const char *id)
{
	char name[SPOOL_TMP_NAME_SIZE];
	struct stat st;
	int rc = -1;

	(void)snprintf(name, sizeof(name), "r%s", id);
	(void)pthread_mutex_lock(&sp->spare_mu);
	/*
	 * Small files only, so spares hold little space.  They are not
	 * emptied here: a crash must find either the whole message in
	 * queue/ or nothing, never an empty file there.
	 */
	if (fstatat(sp->queue_fd, id, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISREG(st.st_mode) && spool_spare_fits(sp, st.st_size) &&
	    renameat(sp->queue_fd, id, sp->tmp_fd, name) == 0) {
		spool_spare_add(sp, name, true);
		rc = 0;
	}
	(void)pthread_mutex_unlock(&sp->spare_mu);
	return rc;
}

int
spool_spare_return(struct spool *sp, const char *name, off_t size)
{
	int rc = -1;

	(void)pthread_mutex_lock(&sp->spare_mu);
	if (spool_spare_fits(sp, size)) {
		spool_spare_add(sp, name, false);
		rc = 0;
	}
	(void)pthread_mutex_unlock(&sp->spare_mu);
	return rc;
}

/*
 * No rename, and no truncation for a spare that never was in queue/:
 * the writer overwrites the old bytes and cuts the rest at the end, so
 * the file keeps its blocks, and ext4 does not flush a file emptied by
 * truncation when it is closed.  Spares are kept by name, not open, so
 * that nothing holds the spool open for writing between messages (a
 * read-only remount stays possible).
 */
int
spool_spare_take(
    struct spool *sp, char name_r[SPOOL_TMP_NAME_SIZE], off_t *size_r)
{
	struct spool_spare s;
	struct stat st;
	int fd;

	(void)pthread_mutex_lock(&sp->spare_mu);
	if (sp->n_spares == 0) {
		(void)pthread_mutex_unlock(&sp->spare_mu);
		errno = ENOENT;
		return -1;
	}
	s = sp->spares[--sp->n_spares];
	(void)pthread_mutex_unlock(&sp->spare_mu);
	fd = openat(sp->tmp_fd, s.name, O_RDWR | O_CLOEXEC | O_NOFOLLOW |
	    (s.was_queued ? O_TRUNC : 0));
	if (fd == -1 || fstat(fd, &st) == -1) {
		if (fd != -1)
			(void)close(fd);
		(void)unlinkat(sp->tmp_fd, s.name, 0);
		return -1;
	}
	memcpy(name_r, s.name, sizeof(s.name));
	*size_r = st.st_size;
	return fd;
}

int
spool_remove(struct spool *sp, const char *id)
{
	char st[SPOOL_ID_LEN + sizeof(SPOOL_STATUS_SUFFIX)];

	if (!spool_id_is_valid(id)) {
		errno = EINVAL;
		return -1;
	}
	/*
	 * Message first: an orphaned status file is harmless (recovery
	 * removes it), a message without its status would be redelivered.
	 */
	if (spool_spare_keep(sp, id) == -1 &&
	    unlinkat(sp->queue_fd, id, 0) == -1)
		return -1;
	(void)snprintf(st, sizeof(st), "%s%s", id, SPOOL_STATUS_SUFFIX);
	if (unlinkat(sp->queue_fd, st, 0) == -1 && errno != ENOENT)
		log_warn("%s spool cannot remove status file: %s", id,
		    strerror(errno));
	return 0;
}

bool
spool_id_is_valid(const char *id)
{
	size_t i;

	for (i = 0; i < SPOOL_ID_LEN; i++)
		if (!((id[i] >= '0' && id[i] <= '9') ||
		        (id[i] >= 'a' && id[i] <= 'f')))
			return false;
	return id[SPOOL_ID_LEN] == '\0';
}

/*
 * Ids sort by creation: the time part is strictly rising microseconds
 * (it runs ahead of the clock when ids come faster, and never goes back
 * when the clock does), so no two ids of a process collide; the random
 * part keeps ids of different runs apart.
 */
void
spool_id_new(struct spool *sp, char id_r[32])
{
	struct timespec ts;
	uint64_t us, r;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	us = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
	(void)pthread_mutex_lock(&sp->id_mu);
	if (us <= sp->id_last_us)
		us = sp->id_last_us + 1;
	sp->id_last_us = us;
	/* xorshift64 */
	r = sp->id_rand;
	r ^= r << 13;
	r ^= r >> 7;
	r ^= r << 17;
	sp->id_rand = r;
	(void)pthread_mutex_unlock(&sp->id_mu);
	(void)snprintf(
	    id_r, 32, "%016" PRIx64 "%08" PRIx32, us, (uint32_t)(r >> 32));
}
