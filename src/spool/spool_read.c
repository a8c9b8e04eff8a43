/* SPDX-License-Identifier: ISC */
/*
 * Reading committed messages, from any thread: the envelope (fully
 * checked: trailer, checksum, record, and that the id inside matches
 * the file name) and an fd on the content for delivery agents.
 */
#include "spool/spool.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/log.h"
#include "spool/spool_private.h"

static int
spool_read_open(struct spool *sp, const char *id)
{
	if (!spool_id_is_valid(id)) {
		errno = EINVAL;
		return -1;
	}
	return openat(sp->queue_fd, id, O_RDONLY | O_CLOEXEC);
}

int
spool_read_envelope(struct spool *sp, const char *id, struct envelope *env)
{
	struct buf why;
	uint64_t len;
	int fd, e;

	memset(env, 0, sizeof(*env));
	fd = spool_read_open(sp, id);
	if (fd == -1)
		return -1;
	buf_init(&why, 0, 512);
	if (spool_file_load(fd, env, &len, &why) == -1) {
		e = errno;
		if (e == EINVAL)
			log_err("%s spool corrupt message file: %s", id,
			    buf_cstr(&why));
		goto fail;
	}
	if (strcmp(env->id, id) != 0) {
		log_err("%s spool message file holds id %s", id, env->id);
		envelope_clear(env);
		e = EINVAL;
		goto fail;
	}
	buf_clear(&why);
	(void)close(fd);
	return 0;
fail:
	buf_clear(&why);
	(void)close(fd);
	errno = e;
	return -1;
}

int
spool_open_content(struct spool *sp, const char *id, uint64_t *len_r)
{
	int fd, e;

	fd = spool_read_open(sp, id);
	if (fd == -1)
		return -1;
	if (spool_file_content_len(fd, len_r) == -1) {
		e = errno;
		(void)close(fd);
		errno = e;
		return -1;
	}
	return fd; /* a fresh open file is at offset 0 */
}
