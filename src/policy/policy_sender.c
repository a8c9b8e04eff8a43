/* SPDX-License-Identifier: ISC */
/*
 * Sender ownership for authenticated submission: a user may use as
 * envelope sender their own address (with or without +detail) or an
 * alias of a served domain that expands to their mailbox.  A catch-all
 * does not make every unknown address the catch-all user's to use.
 */
#include "policy/policy.h"

#include <string.h>

#include "core/envelope.h"
#include "core/str.h"
#include "core/xalloc.h"
#include "policy/policy_private.h"

/* The part of local before a '+' (RFC 5233 style detail), lowercased. */
static char *
policy_sender_base(const char *local)
{
	const char *plus = strchr(local, '+');

	return str_lower(plus != NULL && plus != local ?
	    xstrndup(local, (size_t)(plus - local)) : xstrdup(local));
}

bool
policy_sender_is_owned(const struct config *cfg, const char *login,
    const char *from)
{
	struct policy_addr user = { 0 }, sender = { 0 };
	const struct config_domain *d;
	struct envelope env;
	struct policy_result r;
	char *user_base = NULL, *sender_base = NULL;
	bool owned = false;
	size_t i;

	if (policy_addr_parse(login, &user) == -1 || user.domain == NULL ||
	    policy_addr_parse(from, &sender) == -1 || sender.domain == NULL)
		goto out;
	d = config_find_domain(cfg, sender.domain);
	if (d == NULL)
		goto out;
	user_base = str_lower(xstrdup(user.local));
	sender_base = policy_sender_base(sender.local);
	if (str_casecmp(user.domain, sender.domain) == 0 &&
	    strcmp(user_base, sender_base) == 0) {
		owned = true;
		goto out;
	}
	if (config_find_alias(d, sender.local) == NULL &&
	    config_find_alias(d, sender_base) == NULL)
		goto out;
	envelope_init(&env);
	envelope_add_rcpt(&env, from);
	if (policy_expand(cfg, &env, &r) == 0) {
		for (i = 0; i < env.n_targets && !owned; i++) {
			const struct envelope_target *t = &env.targets[i];

			owned = t->is_local &&
			    strcmp(t->domain, user.domain) == 0 &&
			    strcmp(t->localpart, user_base) == 0;
		}
	}
	envelope_clear(&env);
out:
	free(user_base);
	free(sender_base);
	policy_addr_clear(&user);
	policy_addr_clear(&sender);
	return owned;
}
