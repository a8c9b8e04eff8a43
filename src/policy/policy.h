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
 *
 * Lookup order for a local part of a served domain: alias, user,
 * postmaster (the mailbox "postmaster" when it is neither), "user+detail"
 * as "user", catch-all, else 550 5.1.1.  A name already being expanded
 * higher up the alias chain is not expanded again: it is the user's own
 * mailbox if such a user exists ("alice: alice, alice@example.net"),
 * else an alias loop (550 5.4.6).  Bare "postmaster" (no domain, RFC
 * 5321 4.1.1.3) is the postmaster of cfg->primary_domain.  Alias targets
 * in unserved domains become remote targets on any role.
 *
 * Replies: 550 5.7.1 relaying denied; 550 5.1.1 no such user here;
 * 553 5.1.3 bad recipient address syntax; 550 5.4.6 alias loop or alias
 * nesting too deep; 550 5.5.3 too many recipients after alias expansion.
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
 * policy_expand().  It expands the recipient fully (and throws the
 * result away), so unknown alias targets and loops are refused here.
 * Remote recipients need client->authenticated, whatever the role;
 * requiring AUTH on submission (RFC 6409 4.3) is the session's job.
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
 *
 * Remote recipients are kept only when env->auth_user is set (the
 * message came from an authenticated client); otherwise they fail with
 * 550 5.7.1.  Existing env->targets are replaced; on failure env has no
 * targets.  A local target has address "mailbox@domain", domain and
 * localpart (the Maildir directory name) lowercased; a remote target
 * keeps address and localpart as given, with the domain lowercased.
 * rcpt_index is that of the first recipient leading to the target.
 */
ATTR_WUR int policy_expand(const struct config *cfg, struct envelope *env,
    struct policy_result *result_r);

/*
 * Whether the authenticated user login (a full address) may use from as
 * envelope sender: their own address, with or without +detail, or an
 * alias of a served domain that expands to their mailbox.  The null
 * sender and every other address are not theirs.
 */
bool policy_sender_is_owned(const struct config *cfg, const char *login,
    const char *from);

#endif
