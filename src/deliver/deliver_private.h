/* SPDX-License-Identifier: ISC */
/*
 * Shared by the delivery agents inside src/deliver/ only.
 */
#ifndef TERN_DELIVER_DELIVER_PRIVATE_H
#define TERN_DELIVER_DELIVER_PRIVATE_H

#include <stddef.h>
#include <sys/types.h>

#include "deliver/deliver.h"

/* One directory a batch must sync, and the deliveries that wait on it. */
struct deliver_sync_dir {
	int fd;			/* a dup of the directory's fd */
	dev_t dev;
	ino_t ino;
	struct deliver_result **res;
	size_t n_res;
};

/*
 * A Maildir file written into tmp/ whose sync and link into new/ wait
 * for the flush (deliver_maildir_finish()).
 */
struct deliver_sync_file {
	struct deliver_request req;	/* a copy, req.sync NULL */
	struct deliver_result *res;
	int fd;				/* the file, written */
	int tmp_fd, new_fd;		/* dups of the mailbox's tmp/, new/ */
	char *name;			/* in tmp/ and then new/ */
	char *mailbox;			/* its path, for the log line */
};

/* Takes over f (its descriptors and strings) until the flush. */
void deliver_sync_add_file(struct deliver_sync *s,
    const struct deliver_sync_file *f);
/*
 * Syncs f's file, links it into new/, registers new/ with s for the
 * directory sync, logs the delivery, and frees f's resources.
 */
void deliver_maildir_finish(struct deliver_sync *s,
    struct deliver_sync_file *f);

/*
 * Records that res waits for an fsync of dir_fd (at the flush).
 * 0, or -1 with errno: the caller then syncs the directory itself.
 */
int deliver_sync_add(struct deliver_sync *s, int dir_fd,
    struct deliver_result *res);

#endif
