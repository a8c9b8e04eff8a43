/* SPDX-License-Identifier: ISC */
/*
 * Delivery status notifications (RFC 3464, RFC 3462 multipart/report):
 * the text of a bounce or of a delay warning, built from plain values.
 * Pure: no I/O and no clock (times are passed in), so unit tests check
 * the text.  The queue decides when one is due and injects it into the
 * spool (queue_bounce.c).
 */
#ifndef TERN_DELIVER_DELIVER_DSN_H
#define TERN_DELIVER_DELIVER_DSN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "core/compat.h"

struct buf;

/* Largest header section of the original message quoted in a DSN. */
#define DELIVER_DSN_HEADERS_MAX_BYTES ((size_t)64 * 1024)
/* Largest DSN text (the headers plus up to 1000 recipients). */
#define DELIVER_DSN_MAX_BYTES ((size_t)4 * 1024 * 1024)

/* One recipient reported on. Strings are borrowed; NULL or "" = none. */
struct deliver_dsn_rcpt {
	const char *original;	/* the RCPT TO address it came from */
	const char *final;	/* the address delivery was tried to */
	const char *status;	/* enhanced code "5.1.1" (RFC 3463) */
	const char *remote_mta;	/* host that answered */
	const char *diagnostic;	/* its reply "550 5.1.1 ...", or a reason */
	time_t last_attempt;	/* 0: never tried */
};

/* One report about one message. */
struct deliver_dsn {
	const char *hostname;	/* this host: Reporting-MTA, From domain */
	const char *queue_id;	/* the original message's spool id */
	const char *to;		/* the original sender: the report's To */
	bool delayed;		/* Action: delayed (warning), else failed */
	time_t arrival;		/* the original's Arrival-Date */
	time_t now;		/* Date of the report */
	time_t retry_until;	/* delayed: Will-Retry-Until; 0: leave out */
	const struct deliver_dsn_rcpt *rcpts;
	size_t n_rcpts;
	/* The original header section (CRLF lines), or NULL. */
	const uint8_t *headers;
	size_t headers_len;
};

/*
 * Appends the whole report (header fields, a blank line, the
 * multipart/report body; CRLF line ends, 7-bit: other bytes become '?')
 * to out.  The report is from MAILER-DAEMON@hostname; its envelope
 * sender must be the null path, which is the caller's business.
 * 0, or -1 if out's max would be passed.
 */
ATTR_WUR int deliver_dsn_build(const struct deliver_dsn *d, struct buf *out);

/*
 * The length of the header section at the start of content[len]: up to
 * and including the empty line that ends it, or all of len if there is
 * none.  Both CRLF and bare LF end a line.
 */
size_t deliver_dsn_header_len(const uint8_t *content, size_t len);

#endif
