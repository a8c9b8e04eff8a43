/* SPDX-License-Identifier: ISC */
/*
 * Startup recovery.  Whatever is in tmp/ never got a successful commit,
 * so no client was told 250: it goes (a spare, or a message that was
 * being delivered before the reply: the caller hears of its envelope).
 * A file in queue/ whose trailer, checksum or envelope does not check
 * out is moved to corrupt/ for the administrator (never delivered,
 * never silently lost) and logged.  A status file without its message
 * is removed.  The good ids are then
 * reported in arrival order (ids sort by creation time).
 */
#include "spool/spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/str.h"
#include "core/xalloc.h"
#include "spool/spool_private.h"

struct spool_recover_list {
	char **v;
	size_t n, cap;
};

static void
spool_recover_list_add(struct spool_recover_list *l, const char *s, size_t len)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		l->v = xreallocarray(l->v, l->cap, sizeof(*l->v));
	}
	l->v[l->n++] = xstrndup(s, len);
}

static void
spool_recover_list_clear(struct spool_recover_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static int
spool_recover_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static DIR *
spool_recover_opendir(int fd)
{
	int dfd = dup(fd);
	DIR *d;

	if (dfd == -1)
		return NULL;
	d = fdopendir(dfd);
	if (d == NULL) {
		(void)close(dfd);
		return NULL;
	}
	rewinddir(d); /* the dup shares the offset of earlier scans */
	return d;
}

/* Reports the envelope of tmp/<name> if it has a whole one. */
static void
spool_recover_unfinished(struct spool *sp, const char *name,
    void (*unfinished)(void *arg, const struct envelope *env), void *arg)
{
	struct envelope env;
	uint64_t len;
	int fd;

	fd = openat(sp->tmp_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1)
		return;
	if (spool_file_load(fd, &env, &len, NULL) == 0) {
		unfinished(arg, &env);
		envelope_clear(&env);
	}
	(void)close(fd);
}

static int
spool_recover_tmp(struct spool *sp,
    void (*unfinished)(void *arg, const struct envelope *env), void *arg,
    struct buf *err)
{
	struct dirent *de;
	char safe[80];
	DIR *d;

	d = spool_recover_opendir(sp->tmp_fd);
	if (d == NULL) {
		(void)!buf_printf(
		    err, "spool %s/tmp: %s", sp->dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		str_sanitize(
		    safe, sizeof(safe), de->d_name, strlen(de->d_name));
		if (unfinished != NULL)
			spool_recover_unfinished(sp, de->d_name, unfinished,
			    arg);
		if (unlinkat(sp->tmp_fd, de->d_name, 0) == -1)
			log_warn("%s spool recover cannot remove tmp file: %s",
			    safe, strerror(errno));
		else
			log_info("%s spool recover removed unfinished message",
			    safe);
	}
	(void)closedir(d);
	return 0;
}

/* Sorts queue/ into message ids and status-file ids. */
static int
spool_recover_scan(struct spool *sp, struct spool_recover_list *ids,
    struct spool_recover_list *sts, struct buf *err)
{
	size_t sfx = strlen(SPOOL_STATUS_SUFFIX);
	struct dirent *de;
	char safe[80];
	DIR *d;

	d = spool_recover_opendir(sp->queue_fd);
	if (d == NULL) {
		(void)!buf_printf(
		    err, "spool %s/queue: %s", sp->dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		const char *name = de->d_name;
		size_t len = strlen(name);

		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
			continue;
		if (spool_id_is_valid(name)) {
			spool_recover_list_add(ids, name, len);
			continue;
		}
		if (len == SPOOL_ID_LEN + sfx &&
		    strcmp(name + SPOOL_ID_LEN, SPOOL_STATUS_SUFFIX) == 0) {
			char id[SPOOL_ID_LEN + 1];

			memcpy(id, name, SPOOL_ID_LEN);
			id[SPOOL_ID_LEN] = '\0';
			if (spool_id_is_valid(id)) {
				spool_recover_list_add(sts, id, SPOOL_ID_LEN);
				continue;
			}
		}
		str_sanitize(safe, sizeof(safe), name, len);
		log_warn("spool recover ignores unknown file queue/%s", safe);
	}
	(void)closedir(d);
	return 0;
}

/* Whether queue/<id> is a whole message; logs why not. */
static bool
spool_recover_check(struct spool *sp, const char *id)
{
	struct envelope env;
	struct buf why;
	uint64_t len;
	bool ok = false;
	int fd;

	buf_init(&why, 0, 512);
	fd = openat(sp->queue_fd, id, O_RDONLY | O_CLOEXEC);
	if (fd == -1) {
		(void)!buf_printf(&why, "open: %s", strerror(errno));
	} else if (spool_file_load(fd, &env, &len, &why) == 0) {
		ok = strcmp(env.id, id) == 0;
		if (!ok)
			(void)!buf_append_str(&why, "id inside differs");
		envelope_clear(&env);
	} else if (errno != EINVAL) {
		(void)!buf_printf(&why, "read: %s", strerror(errno));
	}
	if (fd != -1)
		(void)close(fd);
	if (!ok)
		log_err("%s spool recover found a corrupt message (%s), "
		        "moved to corrupt/",
		    id, buf_cstr(&why));
	buf_clear(&why);
	return ok;
}

int
spool_recover(struct spool *sp, void (*fn)(void *arg, const char *id),
    void (*unfinished)(void *arg, const struct envelope *env), void *arg,
    struct buf *err)
{
	struct spool_recover_list ids = {0}, sts = {0}, good = {0};
	char st[SPOOL_ID_LEN + 4];
	size_t i;
	int rc = -1;

	if (spool_recover_tmp(sp, unfinished, arg, err) == -1 ||
	    spool_recover_scan(sp, &ids, &sts, err) == -1)
		goto out;
	/* qsort's array must not be NULL, even for zero elements. */
	if (ids.n > 0)
		qsort(ids.v, ids.n, sizeof(*ids.v), spool_recover_cmp);
	for (i = 0; i < ids.n; i++) {
		if (spool_recover_check(sp, ids.v[i])) {
			spool_recover_list_add(
			    &good, ids.v[i], strlen(ids.v[i]));
			continue;
		}
		if (renameat(sp->queue_fd, ids.v[i], sp->corrupt_fd,
		        ids.v[i]) == -1) {
			log_err("%s spool recover cannot move to corrupt/: %s",
			    ids.v[i], strerror(errno));
			(void)unlinkat(sp->queue_fd, ids.v[i], 0);
		}
	}
	/* Status files of messages that are gone (or corrupt). */
	for (i = 0; i < sts.n; i++) {
		if (good.n > 0 &&
		    bsearch(&sts.v[i], good.v, good.n, sizeof(*good.v),
		        spool_recover_cmp) != NULL)
			continue;
		(void)snprintf(
		    st, sizeof(st), "%s%s", sts.v[i], SPOOL_STATUS_SUFFIX);
		(void)unlinkat(sp->queue_fd, st, 0);
	}
	for (i = 0; i < good.n; i++)
		fn(arg, good.v[i]);
	rc = 0;
out:
	spool_recover_list_clear(&ids);
	spool_recover_list_clear(&sts);
	spool_recover_list_clear(&good);
	return rc;
}
