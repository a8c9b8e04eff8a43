/* SPDX-License-Identifier: ISC */
/*
 * Recipient policy: which addresses tern accepts, and what they become.
 * Pure functions of the config, no I/O; the session asks, the glue calls.
 *
 * Rules (RFC 5321 sections 2.4, 4.5.1): domains and local parts match
 * case-insensitively; "user+detail" is "user"; postmaster@ every served
 * domain exists; aliases expand recursively (loop limit
 * POLICY_ALIAS_DEPTH_MAX); unknown local users are refused unless the
 * domain has a catch-all; other domains are refused on the mx role (no
 * open relay).
 */
#ifndef TERN_POLICY_POLICY_H
#define TERN_POLICY_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "core/compat.h"
#include "core/envelope.h"
#include "config/config.h"

#define POLICY_ALIAS_DEPTH_MAX 20
#define POLICY_EXPAND_MAX 1000	/* targets one message may expand to */

/* A decision: code 0 means accepted, else an SMTP reply to send. */
struct policy_result {
	int code;		/* 0, or 550, 451, ... */
	const char *enh;	/* "5.7.1"; static */
	const char *text;	/* static */
};

/* The caller's standing, as far as policy cares. */
struct policy_client {
	enum listen_role role;
	bool authenticated;	/* SMTP AUTH done (issue 3) */
};

/*
 * Checks one RCPT address (the path without <>, as received).  Returns
 * the decision; accepted addresses are later expanded with
 * policy_expand().
 */
struct policy_result policy_check_rcpt(const struct config *cfg,
    const struct policy_client *client, const char *addr);

/*
 * Expands env->rcpts (all accepted by policy_check_rcpt) into
 * env->targets, each final mailbox or remote address once, however many
 * recipients or aliases lead to it.  Returns 0, or -1 with *result_r set
 * when the expansion fails (alias loop deeper than
 * POLICY_ALIAS_DEPTH_MAX, more than POLICY_EXPAND_MAX targets, or a
 * recipient no longer accepted after a reload).
 */
ATTR_WUR int policy_expand(const struct config *cfg, struct envelope *env,
    struct policy_result *result_r);

#endif
