/* SPDX-License-Identifier: ISC */
/*
 * SMTP command syntax (RFC 5321 4.1): splitting the input into command
 * lines, a line into verb and arguments, and the arguments of MAIL,
 * RCPT and BDAT into paths and ESMTP parameters (SIZE RFC 1870, BODY
 * RFC 6152 / RFC 3030, SMTPUTF8 RFC 6531, AUTH RFC 4954 5).  Pure functions: no state,
 * no allocation.  A failure fills a struct smtp_parse_error with the
 * reply to send; its strings are static.
 */
#ifndef TERN_SMTP_SMTP_PARSE_H
#define TERN_SMTP_SMTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "core/compat.h"
#include "core/envelope.h"
#include "core/str.h"

/* RFC 5321 4.5.3.1.1-3, in octets. */
#define SMTP_LOCAL_PART_MAX 64
#define SMTP_DOMAIN_MAX 255
#define SMTP_PATH_MAX 256	/* with the "<" and ">" */
/* RFC 1035 2.3.4; RFC 5321 defers to it for labels. */
#define SMTP_LABEL_MAX 63

struct smtp_parse_error {
	int code;		/* 500, 501, 553, 555 */
	const char *enh;
	const char *text;
};

/* A command line split in two; views into the line given. */
struct smtp_command {
	struct str verb;	/* letters only, as received */
	struct str args;	/* after the first SP, outer spaces trimmed */
};

/* A path without its "<" ">" and without any source route. */
struct smtp_path {
	char addr[SMTP_PATH_MAX + 1];	/* "" for the null path <> */
	bool is_utf8;		/* holds non-ASCII (RFC 6531) */
};

struct smtp_mail {
	struct smtp_path from;
	bool has_size;
	uint64_t size;		/* SIZE= (RFC 1870) */
	bool has_body;
	enum envelope_body body;	/* BODY= (RFC 6152, RFC 3030) */
	bool smtputf8;		/* SMTPUTF8 (RFC 6531 3.4) */
	/*
	 * AUTH=<> or AUTH=xtext (RFC 4954 5) was given.  Its value is
	 * checked and dropped: tern does not trust a client's claim about
	 * who submitted a message.
	 */
	bool has_auth;
	/*
	 * FUTURERELEASE (RFC 4865): HOLDFOR=seconds (hold_for) or
	 * HOLDUNTIL=RFC 3339 date-time (hold_until, epoch seconds).
	 * Whether they are offered, and the limit, are the caller's.
	 */
	bool has_hold;
	bool hold_is_until;
	uint64_t hold_for;
	time_t hold_until;
};

struct smtp_rcpt {
	struct smtp_path to;
};

/* Flags for smtp_parse_path(). */
#define SMTP_PARSE_PATH_NULL_OK 0x01	/* "<>" is allowed (reverse-path) */
#define SMTP_PARSE_PATH_POSTMASTER_OK 0x02 /* "<Postmaster>" (RCPT) */
#define SMTP_PARSE_PATH_SENDER 0x04	/* errors say 5.1.7, not 5.1.3 */

/*
 * Finds the end of a command line in data[0..len).  A line ends at LF
 * (CRLF or, tolerated for commands only, a bare LF).  Returns 1 with the
 * line's length without its ending in *line_len_r and the bytes to
 * remove in *used_r; 0 if no line end is in the first max bytes of a
 * buffer shorter than max (need more); -1 if the line, with its ending,
 * is longer than max: *used_r bytes (the start of the line) should be
 * dropped and the rest of it discarded through the next LF.
 */
int smtp_parse_line(const uint8_t *data, size_t len, size_t max,
    size_t *line_len_r, size_t *used_r);

/*
 * Splits a command line (without its line ending).  Fails with 500
 * 5.5.2 on a NUL or CR byte in the line, and 500 5.5.1 when the verb
 * is not 1..16 letters.  Returns 0 or -1.
 */
int smtp_parse_command(const uint8_t *line, size_t len,
    struct smtp_command *cmd, struct smtp_parse_error *err);

/*
 * Parses a Path (RFC 5321 4.1.2) at the start of s, and stores the
 * mailbox in path.  Source routes "<@a,@b:user@d>" are checked and
 * dropped (RFC 5321 4.1.2, appendix C).  Quoted local parts are kept as
 * received.  UTF-8 is accepted where RFC 6531 allows it and recorded in
 * path->is_utf8; the caller refuses it without SMTPUTF8.  The mailbox
 * may be a domain or an address literal ([192.0.2.1], [IPv6:...]).
 * *used_r gets the bytes of s taken.  Returns 0 or -1 (501).
 */
int smtp_parse_path(const char *s, unsigned flags, struct smtp_path *path,
    size_t *used_r, struct smtp_parse_error *err);

/*
 * Parses the arguments of MAIL: "FROM:" reverse-path [SP params].  Only
 * with esmtp (EHLO) are parameters allowed.  Errors: 501 syntax (also a
 * bad or repeated parameter value, e.g. AUTH= that is not xtext), 553
 * 5.6.7 non-ASCII address without SMTPUTF8, 555 5.5.4 unknown
 * parameter.  The SIZE limit is the caller's to apply.
 */
int smtp_parse_mail(const char *args, bool esmtp, struct smtp_mail *m,
    struct smtp_parse_error *err);

/*
 * Parses the arguments of RCPT: "TO:" forward-path.  No parameter is
 * supported (555 5.5.4).  A non-ASCII address needs smtputf8 (the
 * transaction's MAIL had SMTPUTF8), else 553 5.6.7.
 */
int smtp_parse_rcpt(const char *args, bool smtputf8, struct smtp_rcpt *r,
    struct smtp_parse_error *err);

/* Parses the arguments of BDAT: chunk-size [SP "LAST"] (RFC 3030 2). */
int smtp_parse_bdat(const char *args, uint64_t *size_r, bool *last_r,
    struct smtp_parse_error *err);

/*
 * Checks the argument of HELO or EHLO: one word of printable ASCII of at
 * most SMTP_DOMAIN_MAX bytes (a domain or an address literal; tern is
 * lenient about what the word holds, as the name is only logged).
 */
int smtp_parse_helo(const char *args, struct smtp_parse_error *err);

/*
 * Length of the well-formed UTF-8 sequence of 2..4 bytes at p (no
 * overlong forms, no surrogates, at most U+10FFFF), or 0.  p must be
 * NUL-terminated.
 */
size_t smtp_parse_utf8_len(const char *p);

#endif
