/* SPDX-License-Identifier: ISC */
/*
 * Construction and release of envelopes.
 */
#include "core/envelope.h"

#include <string.h>

#include "core/xalloc.h"

void
envelope_init(struct envelope *env)
{
	memset(env, 0, sizeof(*env));
	env->from = xstrdup("");
}

void
envelope_clear(struct envelope *env)
{
	size_t i;

	free(env->from);
	for (i = 0; i < env->n_rcpts; i++)
		free(env->rcpts[i]);
	free(env->rcpts);
	for (i = 0; i < env->n_targets; i++) {
		free(env->targets[i].address);
		free(env->targets[i].domain);
		free(env->targets[i].localpart);
	}
	free(env->targets);
	free(env->helo);
	free(env->client_addr);
	free(env->auth_user);
	memset(env, 0, sizeof(*env));
}

void
envelope_add_rcpt(struct envelope *env, const char *rcpt)
{
	env->rcpts = xreallocarray(env->rcpts, env->n_rcpts + 1,
	    sizeof(*env->rcpts));
	env->rcpts[env->n_rcpts++] = xstrdup(rcpt);
}

void
envelope_add_target(struct envelope *env, bool is_local, const char *address,
    const char *domain, const char *localpart, size_t rcpt_index)
{
	struct envelope_target *t;

	env->targets = xreallocarray(env->targets, env->n_targets + 1,
	    sizeof(*env->targets));
	t = &env->targets[env->n_targets++];
	t->is_local = is_local;
	t->address = xstrdup(address);
	t->domain = xstrdup(domain);
	t->localpart = xstrdup(localpart);
	t->rcpt_index = rcpt_index;
}
