/* SPDX-License-Identifier: ISC */
/*
 * Internals shared by the spool's own files; nothing outside src/spool/
 * may include this header.
 */
#ifndef TERN_SPOOL_SPOOL_PRIVATE_H
#define TERN_SPOOL_SPOOL_PRIVATE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "spool/spool.h"

/* An id: 16 hex digits of strictly rising microseconds, 8 random. */
#define SPOOL_ID_LEN 24
/* Bytes buffered by a writer before one write(2). */
#define SPOOL_WRITER_BUF_BYTES ((size_t)64 * 1024)
/* Threads that fsync the files of one commit batch in parallel. */
#ifndef SPOOL_SYNC_THREADS
#define SPOOL_SYNC_THREADS 4
#endif
/* "tern-spool 1 off=<16 hex> crc=<8 hex>\n" */
#define SPOOL_TRAILER_BYTES 47
#define SPOOL_STATUS_SUFFIX ".st"

/* A file name in tmp/: "r" and an id. */
#define SPOOL_TMP_NAME_SIZE (SPOOL_ID_LEN + 2)

/* One queued commit, from spool_writer_commit() to its callback. */
struct spool_commit {
	struct spool_commit *next;
	char id[32];
	char tmp_name[SPOOL_TMP_NAME_SIZE]; /* its file in tmp/ */
	int fd;       /* the tmp file, open for writing */
	int error;    /* 0, or the errno that failed the commit */
	bool renamed; /* now in queue/ */
	spool_commit_fn *cb;
	void *arg;
};

struct spool {
	char *dir;
	int root_fd;    /* <dir>, flock()ed while open */
	int tmp_fd;     /* <dir>/tmp */
	int queue_fd;   /* <dir>/queue */
	int corrupt_fd; /* <dir>/corrupt */
	int notify_fd;  /* eventfd: completions ready */

	/* Commit queue: loop thread → committer → loop thread. */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct spool_commit *pending, **pending_tail;
	struct spool_commit *done, **done_tail;
	bool stopping;
	bool committer_running;
	pthread_t committer;
	struct spool_commit **batch; /* committer's scratch array */
	size_t batch_cap;

	/* Parallel fsync of one batch (spool_commit.c). */
	pthread_mutex_t sync_mu;
	pthread_cond_t sync_cv;
	pthread_cond_t sync_done_cv;
	struct spool_commit **sync_jobs;
	size_t sync_n, sync_next, sync_active;
	uint64_t sync_gen;
	bool sync_stopping;
	pthread_t syncers[SPOOL_SYNC_THREADS];
	size_t n_syncers;

	/* Id generation (spool.c). */
	pthread_mutex_t id_mu;
	uint64_t id_last_us;
	uint64_t id_rand;

	/*
	 * Spare files in tmp/, of messages removed or never committed, for
	 * new writers to reuse (spool.c): a file system then allocates and
	 * frees no inode per message.
	 */
	pthread_mutex_t spare_mu;
	struct spool_spare *spares;
	size_t n_spares;
};

/*
 * A spare: its name in tmp/, and whether it was a committed message.
 * Such a file is emptied before reuse (O_TRUNC), because its move out
 * of queue/ is not synced: after a crash queue/<id> may come back, and
 * must then hold the old message whole, or nothing, never new bytes.
 * On a journaled file system the truncation is ordered after the
 * rename; bytes written over old blocks are not.
 */
struct spool_spare {
	char name[SPOOL_TMP_NAME_SIZE];
	bool was_queued;
};

/* Spare files kept at most, and the largest file kept as one. */
#define SPOOL_SPARES_MAX 256
#define SPOOL_SPARE_MAX_BYTES ((off_t)256 * 1024)

/*
 * Takes a spare for a new message: returns it open for reading and
 * writing at offset 0, its name in tmp/ in name_r and its size in
 * *size_r (the old bytes stay until the writer overwrites or cuts
 * them; 0 for a spare that was emptied).  -1 (errno) when there is
 * none, or it could not be used.
 */
int spool_spare_take(
    struct spool *sp, char name_r[SPOOL_TMP_NAME_SIZE], off_t *size_r);
/*
 * Makes tmp/<name>, of size bytes, the file of a message that needed no
 * commit, a spare.  -1 when it is too big or the pool is full (the
 * caller then unlinks it).
 */
int spool_spare_return(struct spool *sp, const char *name, off_t size);

/* Whether id has the form of a spool id (so it is safe as a file name). */
bool spool_id_is_valid(const char *id);
/* Makes a new id into id_r. */
void spool_id_new(struct spool *sp, char id_r[32]);

/* Starts the committer and fsync threads; -1 with errno. */
int spool_commit_start(struct spool *sp);
/* Commits everything queued, then stops and joins the threads. */
void spool_commit_stop(struct spool *sp);
/* Queues c (loop thread); its callback runs from spool_dispatch(). */
void spool_commit_submit(struct spool *sp, struct spool_commit *c);

uint32_t spool_file_crc32(const uint8_t *p, size_t len);
/* Writes the trailer for an envelope at off with checksum crc. */
void spool_file_trailer(
    char out[SPOOL_TRAILER_BYTES + 1], uint64_t off, uint32_t crc);
/* Parses a trailer of exactly SPOOL_TRAILER_BYTES; 0 or -1. */
int spool_file_trailer_parse(
    const uint8_t *t, uint64_t *off_r, uint32_t *crc_r);
/*
 * Reads and checks a committed file: trailer, checksum, envelope.  On
 * success fills env (see spool_envelope_parse()) and the content length.
 * -1 with errno: EINVAL (reason in err, if not NULL) for a bad file, or
 * the errno of a failed read.
 */
int spool_file_load(
    int fd, struct envelope *env, uint64_t *content_len_r, struct buf *err);
/* Reads only the trailer: the content length.  -1 with errno. */
int spool_file_content_len(int fd, uint64_t *content_len_r);

#endif
