/* SPDX-License-Identifier: ISC */
/*
 * Group commit for local delivery: a worker writes the files of a batch
 * of messages and starts their write-out, then syncs each file and
 * links it into new/ (the writes overlap, and the file system can put
 * them all into one journal commit), then syncs each new/ directory
 * once for the whole batch before any result is reported.  A directory
 * is known by its device and inode, so two deliveries into one mailbox
 * share one fsync.
 */
#include "deliver/deliver.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "core/xalloc.h"
#include "deliver/deliver_private.h"

void
deliver_sync_init(struct deliver_sync *s)
{
	memset(s, 0, sizeof(*s));
}

int
deliver_sync_add(struct deliver_sync *s, int dir_fd,
    struct deliver_result *res)
{
	struct deliver_sync_dir *d = NULL;
	struct stat st;
	size_t i;

	if (fstat(dir_fd, &st) == -1)
		return -1;
	for (i = 0; i < s->n; i++) {
		if (s->dirs[i].dev == st.st_dev && s->dirs[i].ino == st.st_ino) {
			d = &s->dirs[i];
			break;
		}
	}
	if (d == NULL) {
		int fd = dup(dir_fd);

		if (fd == -1)
			return -1;
		if (s->n == s->cap) {
			s->cap = s->cap > 0 ? s->cap * 2 : 8;
			s->dirs = xreallocarray(s->dirs, s->cap,
			    sizeof(*s->dirs));
		}
		d = &s->dirs[s->n++];
		memset(d, 0, sizeof(*d));
		d->fd = fd;
		d->dev = st.st_dev;
		d->ino = st.st_ino;
	}
	d->res = xreallocarray(d->res, d->n_res + 1, sizeof(*d->res));
	d->res[d->n_res++] = res;
	return 0;
}

void
deliver_sync_add_file(struct deliver_sync *s,
    const struct deliver_sync_file *f)
{
	if (s->n_files == s->cap_files) {
		s->cap_files = s->cap_files > 0 ? s->cap_files * 2 : 16;
		s->files = xreallocarray(s->files, s->cap_files,
		    sizeof(*s->files));
	}
	s->files[s->n_files++] = *f;
}

size_t
deliver_sync_flush(struct deliver_sync *s)
{
	size_t i, k, failed = 0;

	for (i = 0; i < s->n_files; i++)
		deliver_maildir_finish(s, &s->files[i]);
	free(s->files);
	s->files = NULL;
	s->n_files = s->cap_files = 0;
	for (i = 0; i < s->n; i++) {
		struct deliver_sync_dir *d = &s->dirs[i];

		if (fsync(d->fd) == -1) {
			int e = errno;

			failed++;
			log_warn("deliver cannot sync a mailbox directory: %s "
			    "(%zu deliveries are retried)", strerror(e),
			    d->n_res);
			for (k = 0; k < d->n_res; k++)
				deliver_result_errno(d->res[k], e,
				    "sync new/");
		}
		(void)close(d->fd);
		free(d->res);
	}
	free(s->dirs);
	deliver_sync_init(s);
	return failed;
}
