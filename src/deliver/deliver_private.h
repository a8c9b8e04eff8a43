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
 * Records that res waits for an fsync of dir_fd (at the flush).
 * 0, or -1 with errno: the caller then syncs the directory itself.
 */
int deliver_sync_add(struct deliver_sync *s, int dir_fd,
    struct deliver_result *res);

#endif
