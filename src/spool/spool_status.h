/* SPDX-License-Identifier: ISC */
/*
 * The text form of the per-message status journal <id>.st (format in
 * docs/spool.md, "Status journal"): one line per record, appended, the
 * last record for a target wins.  Pure: no I/O, usable from any thread
 * and from the fuzzer.  Every number is range-checked, every text field
 * is length-prefixed and printable ASCII only, and a line that does not
 * parse exactly is rejected (counted, never half-applied).
 */
#ifndef TERN_SPOOL_SPOOL_STATUS_H
#define TERN_SPOOL_SPOOL_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/compat.h"

struct buf;

/* Longest reply text, and longest remote MTA name, kept per target. */
#define SPOOL_STATUS_TEXT_MAX_BYTES 512
#define SPOOL_STATUS_MTA_MAX_BYTES 255
/* Longest line, and largest journal read back. */
#define SPOOL_STATUS_LINE_MAX_BYTES 1024
#define SPOOL_STATUS_MAX_BYTES ((size_t)16 * 1024 * 1024)
/* Largest attempts count and time value accepted. */
#define SPOOL_STATUS_ATTEMPTS_MAX 1000000u
#define SPOOL_STATUS_TIME_MAX ((int64_t)1 << 40)

enum spool_target_state {
	SPOOL_TARGET_PENDING,	/* not tried yet */
	SPOOL_TARGET_DEFERRED,	/* tried, temporary failure: retry later */
	SPOOL_TARGET_DELIVERED,	/* done */
	SPOOL_TARGET_FAILED,	/* failed for good: report to the sender */
};

/* What the queue knows about one target; a value, no pointers. */
struct spool_target_status {
	enum spool_target_state state;
	uint32_t attempts;
	int64_t next_attempt;	/* wall-clock seconds; 0: as soon as may be */
	int64_t last_attempt;	/* wall-clock seconds; 0: never tried */
	char dsn[12];		/* enhanced status "5.1.1", or "" */
	/* The host that answered ("mx.example.net"), or "". */
	char remote_mta[SPOOL_STATUS_MTA_MAX_BYTES + 1];
	/* The reply or reason, printable ASCII, or "". */
	char text[SPOOL_STATUS_TEXT_MAX_BYTES + 1];
	/* FAILED and reported to the sender, or no report was due. */
	bool bounced;
};

/* A journal read back: one status per target plus per-message flags. */
struct spool_status {
	struct spool_target_status *targets;	/* n_targets, caller's */
	size_t n_targets;
	bool delay_warned;	/* the delay DSN went out */
	bool held;		/* an operator holds the message */
	bool has_release;	/* release_at was set after the commit */
	int64_t release_at;	/* scheduled release (wall clock s), 0: none */
	size_t n_bad;		/* complete lines rejected */
	/*
	 * Optional, set by the caller: called for every good target
	 * record in file order (the attempt history), target in range.
	 */
	void (*on_target)(void *arg, size_t target,
	    const struct spool_target_status *ts);
	void *on_target_arg;
};

/* Sets *ts to a target never tried (PENDING, all zero). */
void spool_status_target_init(struct spool_target_status *ts);
/* "pending", "deferred", "delivered" or "failed". */
const char *spool_status_state_name(enum spool_target_state state);

/*
 * Appends the line recording *ts for target to out.  Text fields are
 * made printable (other bytes become '?') and cut to their maximum.
 * 0, or -1 if out's max would be passed.
 */
ATTR_WUR int spool_status_format_target(struct buf *out, size_t target,
    const struct spool_target_status *ts);
/* The line saying target's failure was reported ("b <target>"). */
ATTR_WUR int spool_status_format_bounced(struct buf *out, size_t target);
/* The line saying the delay warning went out ("w"). */
ATTR_WUR int spool_status_format_warned(struct buf *out);
/* The line saying an operator held (1) or released (0) it ("h 1"). */
ATTR_WUR int spool_status_format_held(struct buf *out, bool held);
/* The line giving the scheduled release time, 0 for none ("r <t>"). */
ATTR_WUR int spool_status_format_release(struct buf *out, int64_t release_at);

/*
 * Applies a whole journal data[len] to st, whose targets must have been
 * initialised (spool_status_target_init) by the caller: each complete
 * line is parsed strictly and, if good, applied in order; a bad line is
 * counted in st->n_bad; a good one naming a target >= n_targets is
 * ignored; a last line without its '\n' (a torn append) is ignored.
 * Never fails.
 */
void spool_status_parse(const uint8_t *data, size_t len,
    struct spool_status *st);

#endif
