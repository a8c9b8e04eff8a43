/* SPDX-License-Identifier: ISC */
/*
 * Delivery agents: stateless workers that take one target of a
 * committed message and return a result value, {OK | TEMPFAIL |
 * PERMFAIL, enhanced status code (RFC 3463), text} (DESIGN.md: a
 * delivery result is a value).  The queue owns retries and per-target
 * state; an agent only delivers, logs its one line, and reports.
 *
 * Agents may run on any thread; they touch no shared state beyond the
 * spool's read functions and the filesystem.
 */
#ifndef TERN_DELIVER_DELIVER_H
#define TERN_DELIVER_DELIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "core/compat.h"

struct envelope;
struct spool;

enum deliver_status {
	DELIVER_OK,
	DELIVER_TEMPFAIL, /* try again later */
	DELIVER_PERMFAIL, /* failed for good: bounce */
};

struct deliver_result {
	enum deliver_status status;
	char enh[8];    /* enhanced status code, "4.2.2" */
	char text[200]; /* human-readable reason */
};

/* Message content not (yet) in the spool's queue: read with pread(). */
struct deliver_content {
	int fd;
	uint64_t len;
};

/* One delivery: target number target of the committed message env->id. */
struct deliver_request {
	struct spool *sp;           /* the content is read from here */
	/*
	 * Or from here, when not NULL: a message delivered before its
	 * commit (queue_deliver_direct()).
	 */
	const struct deliver_content *content;
	const struct envelope *env; /* as read back from the spool */
	size_t target;              /* index into env->targets */
	const char *mailroot;       /* Maildir root: <mailroot>/<dom>/<lp> */
	const char *hostname;       /* this host, part of file names */
	/*
	 * false only for the first attempt at a message committed by this
	 * process; true whenever an earlier attempt (before a crash, or a
	 * TEMPFAIL that may have come late) could have left a copy.
	 */
	bool check_existing;
	time_t now; /* for the delay in the log line */
	/*
	 * NULL: the agent syncs the file and the mailbox directory itself
	 * before it reports success.  Otherwise it writes the file, starts
	 * its write-out and leaves the rest to the caller, who calls
	 * deliver_sync_flush() once for a batch of deliveries: the files'
	 * writes overlap, and each directory is synced once (group commit).
	 * Until the flush, req->env, mailroot and hostname must stay put,
	 * and res is provisional.
	 */
	struct deliver_sync *sync;
};

/* What a batch of deliveries still owes (see above). */
struct deliver_sync {
	struct deliver_sync_file *files;
	size_t n_files, cap_files;
	struct deliver_sync_dir *dirs;
	size_t n, cap;
};

void deliver_sync_init(struct deliver_sync *s);
/*
 * Finishes the batch: syncs each written file and links it into new/
 * (logging each delivery's line), then syncs each directory once, and
 * forgets them.  A delivery whose file or directory could not be synced
 * becomes a TEMPFAIL (a copy that made it is found by the retry).
 * Returns the number of failed directories.
 */
size_t deliver_sync_flush(struct deliver_sync *s);

typedef void deliver_fn(
    const struct deliver_request *req, struct deliver_result *res);

/* A backend the queue can hand targets to. */
struct deliver_agent {
	const char *name;
	deliver_fn *deliver;
};

extern const struct deliver_agent deliver_maildir_agent;

/*
 * Delivers a local target into <mailroot>/<domain>/<localpart>/ by the
 * Maildir rules (tmp/, fsync, link into new/, fsync new/), with
 * Return-Path and Delivered-To prepended and CRLF turned into LF.  The
 * file name is fixed per (spool id, target), so a repeated delivery
 * finds the earlier copy in new/ or cur/ and reports OK without a
 * second one.  Logs one "deliver" line.  See docs/spool.md.
 */
void deliver_maildir(
    const struct deliver_request *req, struct deliver_result *res);
/*
 * Removes tmp/<name> of req's target, which a delivery cut off by a
 * crash may have left; a copy in new/ or cur/ stays.  Creates nothing.
 */
void deliver_maildir_forget(const struct deliver_request *req);

/* Fills res; text is formatted (truncated to fit). */
ATTR_FORMAT(4, 5)
void deliver_result_set(struct deliver_result *res, enum deliver_status status,
    const char *enh, const char *fmt, ...);
/*
 * The one place where an errno becomes a delivery result: class and
 * enhanced code by errno, text "<what>: <strerror>".  Table in
 * docs/spool.md.
 */
void deliver_result_errno(
    struct deliver_result *res, int error, const char *what);
/* "sent", "deferred" or "bounced": the log word for a status. */
const char *deliver_status_name(enum deliver_status status);

#endif
