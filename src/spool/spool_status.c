/* SPDX-License-Identifier: ISC */
/*
 * The per-message status journal <spool>/queue/<id>.st: one decimal
 * target index and "\n" appended, with one O_APPEND write(2), for each
 * target that is done.  It is not fsynced: a crash may forget recent
 * lines, and the targets are then tried again, which local delivery
 * makes harmless (Maildir names are fixed per id and target).  A torn
 * last line or an index out of range is ignored when reading.
 */
#include "spool/spool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "spool/spool_private.h"

static int
spool_status_name(const char *id, char name[SPOOL_ID_LEN + 4])
{
	if (!spool_id_is_valid(id)) {
		errno = EINVAL;
		return -1;
	}
	(void)snprintf(name, SPOOL_ID_LEN + 4, "%s%s", id, SPOOL_STATUS_SUFFIX);
	return 0;
}

int
spool_status_set_done(struct spool *sp, const char *id, size_t target)
{
	char name[SPOOL_ID_LEN + 4], line[32];
	ssize_t n;
	int fd, len, e;

	if (spool_status_name(id, name) == -1)
		return -1;
	fd = openat(sp->queue_fd, name,
	    O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd == -1)
		return -1;
	len = snprintf(line, sizeof(line), "%zu\n", target);
	do
		n = write(fd, line, (size_t)len);
	while (n == -1 && errno == EINTR);
	e = errno;
	(void)close(fd);
	if (n != len) {
		errno = n == -1 ? e : EIO;
		return -1;
	}
	return 0;
}

int
spool_status_read(struct spool *sp, const char *id, bool *done, size_t n)
{
	char name[SPOOL_ID_LEN + 4];
	uint8_t chunk[4096];
	uint64_t v = 0;
	bool digits = false, bad = false;
	ssize_t got, i;
	int fd, e;

	memset(done, 0, n * sizeof(*done));
	if (spool_status_name(id, name) == -1)
		return -1;
	fd = openat(sp->queue_fd, name, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return errno == ENOENT ? 0 : -1;
	for (;;) {
		got = read(fd, chunk, sizeof(chunk));
		if (got == -1 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		for (i = 0; i < got; i++) {
			uint8_t ch = chunk[i];

			if (ch == '\n') {
				if (digits && !bad && v < n)
					done[v] = true;
				v = 0;
				digits = bad = false;
			} else if (ch >= '0' && ch <= '9' && v <= UINT32_MAX) {
				v = v * 10 + (uint64_t)(ch - '0');
				digits = true;
			} else {
				bad = true;
			}
		}
	}
	e = errno;
	(void)close(fd);
	if (got == -1) {
		errno = e;
		return -1;
	}
	return 0;
}
