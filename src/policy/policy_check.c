/* SPDX-License-Identifier: ISC */
/*
 * The RCPT decision.  It runs the whole expansion of the one recipient
 * (bounded by POLICY_EXPAND_MAX and the alias depth), so that an unknown
 * user, a relay attempt or an alias loop is refused at RCPT time rather
 * than after DATA.  The targets found are thrown away; policy_expand()
 * finds them again for the message.
 */
#include "policy/policy.h"

#include <string.h>

#include "core/log.h"
#include "policy/policy_private.h"

struct policy_result
policy_check_rcpt(const struct config *cfg, const struct policy_client *client,
    const char *addr)
{
	struct policy_result result = { 0, NULL, NULL };
	struct policy_expander x;
	struct envelope env;

	ASSERT(cfg != NULL && client != NULL && addr != NULL);
	/*
	 * Remote domains only for authenticated clients, on every role.
	 * That submission requires AUTH before MAIL (RFC 6409 4.3) is the
	 * session's rule, not this one's.
	 */
	envelope_init(&env);
	policy_expand_init(&x, cfg, &env, client->authenticated);
	if (policy_expand_rcpt(&x, addr) == -1)
		result = x.result;
	policy_expand_clear(&x);
	envelope_clear(&env);
	return result;
}
