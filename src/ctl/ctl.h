/* SPDX-License-Identifier: ISC */
/*
 * The protocol between `tern` commands and the running server, over a
 * UNIX stream socket in the spool (docs/control.md).  One request per
 * connection; the server answers and closes.
 *
 *   request  = verb *(SP arg) LF                  (admin verbs)
 *            / "submit" LF submit-head data       (sendmail)
 *   submit-head = "from " addr LF 1*("rcpt " addr LF)
 *                 ["at " seconds LF] "data " length LF
 *   reply    = status SP text LF payload          (payload up to EOF)
 *   status   = "ok" / "temp" / "perm" / "usage"
 *
 * Verbs and args are printable ASCII without spaces; addresses are any
 * bytes but NUL, CR and LF.  The parser here is pure and strict (it
 * reads bytes from local users, so it is fuzzed: fuzz/fuzz_ctl.c).
 */
#ifndef TERN_CTL_CTL_H
#define TERN_CTL_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/compat.h"

struct buf;

/* Longest request line (verb and args, or one submit-head line). */
#define CTL_LINE_MAX_BYTES 1024
/* Most args after the verb. */
#define CTL_ARGS_MAX 6
/* Longest verb. */
#define CTL_VERB_MAX 16
/* Socket names in the spool directory. */
#define CTL_CONTROL_SOCKET "control.sock"
#define CTL_SUBMIT_SOCKET "submit.sock"

enum ctl_status {
	CTL_OK,		/* "ok": done; the payload is the answer */
	CTL_TEMP,	/* "temp": try later (server busy, disk full) */
	CTL_PERM,	/* "perm": refused (no such message, bad address) */
	CTL_USAGE,	/* "usage": the request itself is wrong */
};

struct ctl_request {
	char verb[CTL_VERB_MAX + 1];
	size_t argc;
	char *argv[CTL_ARGS_MAX];
	/* submit only */
	char *from;		/* "" for the null sender */
	char **rcpts;
	size_t n_rcpts;
	int64_t at;		/* release time, wall clock s; 0: now */
	uint64_t data_len;
	size_t head_len;	/* bytes of the request before the data */
};

/* Limits a parse enforces on submit requests. */
struct ctl_limits {
	uint64_t max_data;	/* the message size limit */
	size_t max_rcpts;
};

void ctl_request_init(struct ctl_request *req);
void ctl_request_clear(struct ctl_request *req);

/*
 * Parses the request at the start of data[len].  Returns 1 when the
 * head is complete (req filled; for submit, data_len bytes of message
 * follow at head_len, maybe not all received yet), 0 when more input
 * is needed (nothing filled), or -1 with a reason in err (a line too
 * long, a bad verb, arg or field, limits passed).  req must be fresh
 * (ctl_request_init) for each call.
 */
ATTR_WUR int ctl_request_parse(const uint8_t *data, size_t len,
    const struct ctl_limits *lim, struct ctl_request *req, struct buf *err);

/* "ok", "temp", "perm" or "usage". */
const char *ctl_status_name(enum ctl_status st);
/* The status named by the reply line's first word, or -1. */
int ctl_status_parse(const char *word, size_t len);

/*
 * Whether s may be sent as a verb or arg: 1 to CTL_LINE_MAX_BYTES
 * printable ASCII characters other than space.
 */
bool ctl_word_is_valid(const char *s);
/* Whether s may be sent as an address (no NUL, CR or LF; bounded). */
bool ctl_addr_is_valid(const char *s);

#endif
