/* SPDX-License-Identifier: ISC */
/*
 * Writing one message on the loop thread: content is gathered in a
 * 64 KiB user-space buffer and written to <spool>/tmp/<id>, or over a
 * spare file in tmp/ when there is one, with write(2), which only
 * reaches the page cache; the envelope record and trailer follow when
 * the message is finished, and what is left of a spare's old bytes is
 * cut off.  The fsync happens later, off the loop, in spool_commit.c.
 * A write error sticks to the writer and reaches the commit callback,
 * so a failed message can never be reported durable.  A message
 * delivered before the reply is never committed and leaves its file to
 * the pool of spares; an aborted one is unlinked.
 */
#include "spool/spool.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "spool/spool_envelope.h"
#include "spool/spool_private.h"

struct spool_writer {
	struct spool *sp;
	char id[32];
	char name[SPOOL_TMP_NAME_SIZE]; /* its file in tmp/ */
	off_t old_size; /* a spare's size before: bytes to cut at the end */
	int fd;
	int error;     /* sticky errno of the first failure */
	uint64_t size; /* content bytes accepted so far */
	uint8_t *buf;
	size_t len;
	bool finished; /* envelope record and trailer written */
};

struct spool_writer *
spool_writer_new(struct spool *sp, char id_r[32])
{
	struct spool_writer *w = xcalloc(1, sizeof(*w));

	w->sp = sp;
	spool_id_new(sp, w->id);
	w->fd = spool_spare_take(sp, w->name, &w->old_size);
	if (w->fd == -1) {
		memcpy(w->name, w->id, SPOOL_ID_LEN + 1);
		w->old_size = 0;
		w->fd = openat(sp->tmp_fd, w->name,
		    O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	}
	if (w->fd == -1) {
		int e = errno;

		free(w);
		errno = e;
		return NULL;
	}
	w->buf = xmalloc(SPOOL_WRITER_BUF_BYTES);
	memcpy(id_r, w->id, sizeof(w->id));
	return w;
}

static int
spool_writer_write_all(struct spool_writer *w, const uint8_t *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(w->fd, p, len);

		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			w->error = errno;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
spool_writer_flush(struct spool_writer *w)
{
	int rc;

	rc = spool_writer_write_all(w, w->buf, w->len);
	w->len = 0;
	return rc;
}

/* Appends to the file through the buffer, content or not. */
static int
spool_writer_put(struct spool_writer *w, const uint8_t *p, size_t len)
{
	if (w->error != 0) {
		errno = w->error;
		return -1;
	}
	if (len > SPOOL_WRITER_BUF_BYTES - w->len) {
		if (spool_writer_flush(w) == -1)
			return -1;
		/* A big piece goes out directly, without a copy. */
		if (len >= SPOOL_WRITER_BUF_BYTES)
			return spool_writer_write_all(w, p, len);
	}
	memcpy(w->buf + w->len, p, len);
	w->len += len;
	return 0;
}

int
spool_writer_write(struct spool_writer *w, const void *data, size_t len)
{
	if (spool_writer_put(w, data, len) == -1) {
		errno = w->error;
		return -1;
	}
	w->size += len;
	return 0;
}

int
spool_writer_finish(struct spool_writer *w, const struct envelope *env)
{
	struct envelope copy = *env;
	char trailer[SPOOL_TRAILER_BYTES + 1];
	struct buf rec;

	ASSERT(!w->finished);
	w->finished = true;
	if (w->error != 0) {
		errno = w->error;
		return -1;
	}
	/* A shallow copy: only the id differs, nothing is freed. */
	memcpy(copy.id, w->id, sizeof(copy.id));
	buf_init(&rec, 1024, SPOOL_ENVELOPE_MAX_BYTES);
	if (spool_envelope_format(&rec, &copy) == -1) {
		log_err("%s spool envelope too large", w->id);
		w->error = EFBIG;
	} else {
		spool_file_trailer(
		    trailer, w->size, spool_file_crc32(rec.data, rec.len));
		if (spool_writer_put(w, rec.data, rec.len) == 0 &&
		    spool_writer_put(
		        w, (const uint8_t *)trailer, SPOOL_TRAILER_BYTES) == 0)
			(void)spool_writer_flush(w);
	}
	/* The trailer must end the file: cut a longer spare's old bytes. */
	if (w->error == 0 && w->old_size > 0) {
		off_t end = lseek(w->fd, 0, SEEK_CUR);

		if (end == -1 ||
		    (w->old_size > end && ftruncate(w->fd, end) == -1))
			w->error = errno;
	}
	buf_clear(&rec);
	errno = w->error;
	return w->error != 0 ? -1 : 0;
}

int
spool_writer_content(const struct spool_writer *w, uint64_t *len_r)
{
	ASSERT(w->finished && w->error == 0);
	*len_r = w->size;
	return w->fd;
}

void
spool_writer_commit(struct spool_writer *w, const struct envelope *env,
    spool_commit_fn *cb, void *arg)
{
	struct spool_commit *c = xcalloc(1, sizeof(*c));
	struct spool *sp = w->sp;

	if (!w->finished)
		(void)!spool_writer_finish(w, env); /* the error sticks */
	memcpy(c->id, w->id, sizeof(c->id));
	memcpy(c->tmp_name, w->name, sizeof(c->tmp_name));
	c->fd = w->fd;
	c->error = w->error;
	c->cb = cb;
	c->arg = arg;
	free(w->buf);
	free(w);
	/* Failed ones go the same way, so cb never runs from in here. */
	spool_commit_submit(sp, c);
}

void
spool_writer_abort(struct spool_writer **wp)
{
	struct spool_writer *w = *wp;

	if (w == NULL)
		return;
	*wp = NULL;
	(void)close(w->fd);
	/* A partial message never stays on disk, not even as a spare. */
	if (unlinkat(w->sp->tmp_fd, w->name, 0) == -1)
		log_warn("%s spool cannot remove tmp file: %s", w->id,
		    strerror(errno));
	free(w->buf);
	free(w);
}

void
spool_writer_discard(struct spool_writer **wp)
{
	struct spool_writer *w = *wp;
	struct spool *sp;
	char spare[SPOOL_TMP_NAME_SIZE];
	off_t size;

	if (w == NULL)
		return;
	ASSERT(w->finished && w->error == 0);
	sp = w->sp;
	size = lseek(w->fd, 0, SEEK_CUR);
	/* A new file is named as a spare on its first use. */
	if (w->name[0] != 'r') {
		spare[0] = 'r';
		memcpy(spare + 1, w->id, SPOOL_ID_LEN + 1);
		if (renameat(sp->tmp_fd, w->name, sp->tmp_fd, spare) == 0)
			memcpy(w->name, spare, sizeof(spare));
	}
	if (w->name[0] == 'r' && size != -1 &&
	    spool_spare_return(sp, w->name, size) == 0) {
		(void)close(w->fd);
		*wp = NULL;
		free(w->buf);
		free(w);
		return;
	}
	spool_writer_abort(wp);
}
