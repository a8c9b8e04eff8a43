/* SPDX-License-Identifier: ISC */
/*
 * The envelope of one message: the value that the SMTP stage hands to
 * the spool and the queue.  It is plain data with its own allocation,
 * so it can be written to disk or, later, sent to another process.
 */
#ifndef TERN_CORE_ENVELOPE_H
#define TERN_CORE_ENVELOPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "core/compat.h"

enum envelope_body {
	ENVELOPE_BODY_7BIT,
	ENVELOPE_BODY_8BITMIME,
	ENVELOPE_BODY_BINARYMIME,
};

/* A final destination of the message: a local mailbox or a remote address. */
struct envelope_target {
	bool is_local;
	char *address;		/* the full address delivered to */
	char *domain;		/* lowercased domain of address */
	char *localpart;	/* local: lowercased mailbox name; remote: as given */
	size_t rcpt_index;	/* index into rcpts of the RCPT that led here */
};

struct envelope {
	char id[32];		/* spool id, set by the spool */
	char *from;		/* reverse-path without <>, "" for the null sender */
	char **rcpts;		/* accepted forward-paths without <>, as received */
	size_t n_rcpts;
	struct envelope_target *targets;	/* after alias expansion, each once */
	size_t n_targets;
	enum envelope_body body;
	bool smtputf8;
	time_t arrival;		/* when the final reply was due */
	char *helo;		/* client's EHLO/HELO argument, may be NULL */
	char *client_addr;	/* numeric address of the client, may be NULL */
	char *auth_user;	/* authenticated login, or NULL */
	/*
	 * FUTURERELEASE (RFC 4865) or `sendmail --at`: the message waits
	 * in the queue until then (wall clock); 0: no wait.
	 */
	time_t hold_until;
};

void envelope_init(struct envelope *env);
/* Frees every member; env may be reused after envelope_init(). */
void envelope_clear(struct envelope *env);
/* Makes dst a deep copy of src; dst must not hold anything. */
void envelope_copy(struct envelope *dst, const struct envelope *src);
void envelope_add_rcpt(struct envelope *env, const char *rcpt);
/* Appends a target; strings are copied. */
void envelope_add_target(struct envelope *env, bool is_local,
    const char *address, const char *domain, const char *localpart,
    size_t rcpt_index);

#endif
