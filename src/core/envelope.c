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

static char *
envelope_strdup_or_null(const char *s)
{
	return s == NULL ? NULL : xstrdup(s);
}

void
envelope_copy(struct envelope *dst, const struct envelope *src)
{
	size_t i;

	envelope_init(dst);
	memcpy(dst->id, src->id, sizeof(dst->id));
	free(dst->from);
	dst->from = xstrdup(src->from != NULL ? src->from : "");
	for (i = 0; i < src->n_rcpts; i++)
		envelope_add_rcpt(dst, src->rcpts[i]);
	for (i = 0; i < src->n_targets; i++) {
		const struct envelope_target *t = &src->targets[i];

		envelope_add_target(dst, t->is_local, t->address, t->domain,
		    t->localpart, t->rcpt_index);
	}
	dst->body = src->body;
	dst->smtputf8 = src->smtputf8;
	dst->arrival = src->arrival;
	dst->helo = envelope_strdup_or_null(src->helo);
	dst->client_addr = envelope_strdup_or_null(src->client_addr);
	dst->auth_user = envelope_strdup_or_null(src->auth_user);
	dst->hold_until = src->hold_until;
}
