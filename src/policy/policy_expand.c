/* SPDX-License-Identifier: ISC */
/*
 * Resolves recipients into final targets: local mailboxes and remote
 * addresses, each once.  A local part is looked up in this order: an
 * alias of that name (expanded recursively), a user, postmaster (which
 * always exists, RFC 5321 4.5.1), "user+detail" as "user", and last the
 * domain's catch-all.  A name already being expanded higher up is not
 * expanded again: it is the user's own mailbox if there is such a user
 * ("alice: alice, alice@example.net" keeps a copy), otherwise a loop.
 */
#include "policy/policy_private.h"

#include <string.h>

#include "core/log.h"
#include "core/str.h"
#include "core/xalloc.h"

static const struct policy_result policy_expand_relay = {
	550, "5.7.1", "relaying denied"
};
static const struct policy_result policy_expand_unknown = {
	550, "5.1.1", "no such user here"
};
static const struct policy_result policy_expand_syntax = {
	553, "5.1.3", "bad recipient address syntax"
};
static const struct policy_result policy_expand_loop = {
	550, "5.4.6", "alias loop"
};
static const struct policy_result policy_expand_deep = {
	550, "5.4.6", "alias nesting too deep"
};
static const struct policy_result policy_expand_big = {
	550, "5.5.3", "too many recipients after alias expansion"
};

static int policy_expand_local(struct policy_expander *x,
    const struct config_domain *d, const char *name, bool catch_all_ok);

void
policy_expand_init(struct policy_expander *x, const struct config *cfg,
    struct envelope *env, bool remote_ok)
{
	memset(x, 0, sizeof(*x));
	x->cfg = cfg;
	x->env = env;
	x->remote_ok = remote_ok;
}

void
policy_expand_clear(struct policy_expander *x)
{
	size_t i;

	if (x->done != NULL) {
		for (i = 0; i < x->cfg->n_domains; i++)
			free(x->done[i]);
		free(x->done);
	}
	memset(x, 0, sizeof(*x));
}

static int
policy_expand_fail(struct policy_expander *x, const struct policy_result *r)
{
	x->result = *r;
	return -1;
}

/* Appends a target unless an equal one is there; bounded in number. */
static int
policy_expand_add(struct policy_expander *x, bool is_local,
    const char *address, const char *domain, const char *localpart)
{
	struct envelope *env = x->env;
	size_t i;

	for (i = 0; i < env->n_targets; i++) {
		const struct envelope_target *t = &env->targets[i];

		if (t->is_local != is_local)
			continue;
		if (is_local && strcmp(t->domain, domain) == 0 &&
		    strcmp(t->localpart, localpart) == 0)
			return 0;
		if (!is_local && str_casecmp(t->address, address) == 0)
			return 0;
	}
	if (env->n_targets >= POLICY_EXPAND_MAX)
		return policy_expand_fail(x, &policy_expand_big);
	envelope_add_target(env, is_local, address, domain, localpart,
	    x->rcpt_index);
	return 0;
}

static int
policy_expand_mailbox(struct policy_expander *x,
    const struct config_domain *d, const char *mailbox)
{
	char *address = xasprintf("%s@%s", mailbox, d->name);
	int rc;

	rc = policy_expand_add(x, true, address, d->name, mailbox);
	free(address);
	return rc;
}

static int
policy_expand_remote(struct policy_expander *x, const char *address,
    const char *domain, const char *localpart)
{
	return policy_expand_add(x, false, address, domain, localpart);
}

/* Whether alias a of domain d was expanded fully before (memo). */
static uint8_t *
policy_expand_done_flag(struct policy_expander *x,
    const struct config_domain *d, const struct config_alias *a)
{
	size_t di = (size_t)(d - x->cfg->domains);

	ASSERT(di < x->cfg->n_domains);
	if (x->done == NULL)
		x->done = xcalloc(x->cfg->n_domains, sizeof(*x->done));
	if (x->done[di] == NULL)
		x->done[di] = xcalloc(d->n_aliases, 1);
	return &x->done[di][a - d->aliases];
}

/* An alias target: a local name of d, or an address, local or remote. */
static int
policy_expand_target(struct policy_expander *x, const struct config_domain *d,
    const char *target)
{
	const struct config_domain *td;
	const char *at = strrchr(target, '@');
	char *local, *domain;
	int rc;

	if (at == NULL)
		return policy_expand_local(x, d, target, true);
	local = xstrndup(target, (size_t)(at - target));
	domain = str_lower(xstrdup(at + 1));
	td = config_find_domain(x->cfg, domain);
	/* The administrator chose the target: it may be remote on any role. */
	if (td == NULL)
		rc = policy_expand_remote(x, target, domain, local);
	else
		rc = policy_expand_local(x, td, local, true);
	free(local);
	free(domain);
	return rc;
}

static int
policy_expand_alias(struct policy_expander *x, const struct config_domain *d,
    const struct config_alias *a, const char *name)
{
	uint8_t *done;
	size_t i;

	for (i = 0; i < x->depth; i++) {
		if (x->path[i] != a)
			continue;
		/* Expanding itself: the mailbox of that name, if any. */
		if (config_find_user(d, name) != NULL ||
		    strcmp(name, "postmaster") == 0)
			return policy_expand_mailbox(x, d, a->name);
		return policy_expand_fail(x, &policy_expand_loop);
	}
	done = policy_expand_done_flag(x, d, a);
	if (*done)
		return 0;
	if (x->depth >= POLICY_ALIAS_DEPTH_MAX)
		return policy_expand_fail(x, &policy_expand_deep);
	x->path[x->depth++] = a;
	for (i = 0; i < a->n_targets; i++) {
		if (policy_expand_target(x, d, a->targets[i]) == -1)
			return -1;
	}
	x->depth--;
	*done = 1;
	return 0;
}

/*
 * For "user+detail" (lowercased) whose "user" is an alias, a user or
 * postmaster: a heap copy of "user".  Otherwise NULL.
 */
static char *
policy_expand_detail_base(const struct config_domain *d, const char *name)
{
	const char *plus = strchr(name, '+');
	char *base;

	if (plus == NULL || plus == name)
		return NULL;
	base = xstrndup(name, (size_t)(plus - name));
	if (config_find_alias(d, base) != NULL ||
	    config_find_user(d, base) != NULL ||
	    strcmp(base, "postmaster") == 0)
		return base;
	free(base);
	return NULL;
}

/* Resolves the local part name (unquoted, any case) in domain d. */
static int
policy_expand_local(struct policy_expander *x, const struct config_domain *d,
    const char *name, bool catch_all_ok)
{
	const struct config_alias *a;
	const struct config_user *u;
	char *lower, *base;
	int rc;

	if (++x->steps > POLICY_EXPAND_STEPS_MAX)
		return policy_expand_fail(x, &policy_expand_big);
	lower = str_lower(xstrdup(name));
	if ((a = config_find_alias(d, lower)) != NULL) {
		rc = policy_expand_alias(x, d, a, lower);
	} else if ((u = config_find_user(d, lower)) != NULL) {
		rc = policy_expand_mailbox(x, d, u->name);
	} else if (strcmp(lower, "postmaster") == 0) {
		/* RFC 5321 4.5.1: always there, even without a user. */
		rc = policy_expand_mailbox(x, d, "postmaster");
	} else if ((base = policy_expand_detail_base(d, lower)) != NULL) {
		rc = policy_expand_local(x, d, base, false);
		free(base);
	} else if (catch_all_ok && d->catch_all != NULL) {
		rc = policy_expand_local(x, d, d->catch_all, false);
	} else {
		rc = policy_expand_fail(x, &policy_expand_unknown);
	}
	free(lower);
	return rc;
}

int
policy_expand_rcpt(struct policy_expander *x, const char *addr)
{
	const struct config_domain *d;
	struct policy_addr a;
	int rc;

	if (policy_addr_parse(addr, &a) == -1)
		return policy_expand_fail(x, &policy_expand_syntax);
	if (a.domain == NULL) {
		/* RFC 5321 4.1.1.3: only "Postmaster" may go without one. */
		if (str_casecmp(a.local, "postmaster") != 0 ||
		    x->cfg->primary_domain == NULL)
			rc = policy_expand_fail(x, &policy_expand_syntax);
		else
			rc = policy_expand_local(x, x->cfg->primary_domain,
			    "postmaster", false);
	} else if ((d = config_find_domain(x->cfg, a.domain)) != NULL) {
		rc = policy_expand_local(x, d, a.local, true);
	} else if (x->remote_ok) {
		rc = policy_expand_remote(x, addr, a.domain, a.local_raw);
	} else {
		rc = policy_expand_fail(x, &policy_expand_relay);
	}
	policy_addr_clear(&a);
	return rc;
}

/* Frees the targets of env, leaving its recipients. */
static void
policy_expand_drop_targets(struct envelope *env)
{
	size_t i;

	for (i = 0; i < env->n_targets; i++) {
		free(env->targets[i].address);
		free(env->targets[i].domain);
		free(env->targets[i].localpart);
	}
	free(env->targets);
	env->targets = NULL;
	env->n_targets = 0;
}

int
policy_expand(const struct config *cfg, struct envelope *env,
    struct policy_result *result_r)
{
	struct policy_expander x;
	size_t i;

	ASSERT(cfg != NULL && env != NULL && result_r != NULL);
	policy_expand_drop_targets(env);
	/* Accepted remote recipients came from an authenticated client. */
	policy_expand_init(&x, cfg, env, env->auth_user != NULL);
	for (i = 0; i < env->n_rcpts; i++) {
		x.rcpt_index = i;
		if (policy_expand_rcpt(&x, env->rcpts[i]) == -1) {
			*result_r = x.result;
			policy_expand_clear(&x);
			policy_expand_drop_targets(env);
			return -1;
		}
	}
	policy_expand_clear(&x);
	memset(result_r, 0, sizeof(*result_r));
	return 0;
}
