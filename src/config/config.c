/* SPDX-License-Identifier: ISC */
/*
 * Lookups in a loaded config, its release, and the error reporting that
 * every loading pass shares.  Loading itself is in config_load.c; the
 * per-domain users and aliases are in config_users.c / config_aliases.c.
 */
#include "config/config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_private.h"
#include "core/buf.h"
#include "core/str.h"

/* More errors than this are counted but not printed: one typo is enough. */
#define CONFIG_ERRORS_SHOWN_MAX 50

void
config_error(struct config_ctx *ctx, const char *file, unsigned line,
    const char *fmt, ...)
{
	va_list ap;
	int rc = 0;

	ctx->n_errors++;
	if (ctx->err == NULL || ctx->n_errors > CONFIG_ERRORS_SHOWN_MAX + 1)
		return;
	if (file == NULL)
		file = ctx->file;
	if (ctx->n_errors == CONFIG_ERRORS_SHOWN_MAX + 1) {
		rc = buf_printf(ctx->err, "%s:%u: too many errors, "
		    "the rest are not shown\n", file, line);
		(void)rc;
		return;
	}
	rc |= buf_printf(ctx->err, "%s:%u: ", file, line);
	va_start(ap, fmt);
	rc |= buf_vprintf(ctx->err, fmt, ap);
	va_end(ap);
	rc |= buf_append_str(ctx->err, "\n");
	/* A full err buffer loses text, never the failure itself. */
	(void)rc;
}

void
config_domain_clear(struct config_domain *d)
{
	size_t i, j;

	free(d->name);
	free(d->users_path);
	free(d->aliases_path);
	free(d->catch_all);
	for (i = 0; i < d->n_users; i++) {
		free(d->users[i].name);
		if (d->users[i].password_hash != NULL) {
			explicit_bzero(d->users[i].password_hash,
			    strlen(d->users[i].password_hash));
			free(d->users[i].password_hash);
		}
	}
	free(d->users);
	for (i = 0; i < d->n_aliases; i++) {
		free(d->aliases[i].name);
		for (j = 0; j < d->aliases[i].n_targets; j++)
			free(d->aliases[i].targets[j]);
		free(d->aliases[i].targets);
	}
	free(d->aliases);
	memset(d, 0, sizeof(*d));
}

static void
config_tls_cert_clear(struct config_tls_cert *tc)
{
	size_t i;

	free(tc->name);
	free(tc->cert);
	free(tc->key);
	for (i = 0; i < tc->n_hostnames; i++)
		free(tc->hostnames[i]);
	free(tc->hostnames);
	memset(tc, 0, sizeof(*tc));
}

void
config_free(struct config **cfgp)
{
	struct config *cfg = *cfgp;
	size_t i;

	if (cfg == NULL)
		return;
	free(cfg->path);
	free(cfg->hostname);
	free(cfg->spool);
	free(cfg->mailroot);
	free(cfg->user);
	free(cfg->log_level);
	free(cfg->resolver);
	free(cfg->relay_host);
	free(cfg->relay_user);
	free(cfg->relay_password_file);
	if (cfg->relay_password != NULL) {
		explicit_bzero(cfg->relay_password,
		    strlen(cfg->relay_password));
		free(cfg->relay_password);
	}
	free(cfg->tls_cert);
	free(cfg->tls_key);
	free(cfg->tls_ciphers);
	for (i = 0; i < cfg->n_tls_certs; i++)
		config_tls_cert_clear(&cfg->tls_certs[i]);
	free(cfg->tls_certs);
	for (i = 0; i < cfg->n_listens; i++) {
		free(cfg->listens[i].name);
		free(cfg->listens[i].host);
		free(cfg->listens[i].port);
		free(cfg->listens[i].address);
	}
	free(cfg->listens);
	for (i = 0; i < cfg->n_domains; i++)
		config_domain_clear(&cfg->domains[i]);
	free(cfg->domains);
	free(cfg);
	*cfgp = NULL;
}

static int
config_domain_cmp(const void *key, const void *elem)
{
	const struct config_domain *d = elem;

	return str_casecmp(key, d->name);
}

const struct config_domain *
config_find_domain(const struct config *cfg, const char *name)
{
	if (cfg->n_domains == 0)	/* bsearch's base must not be NULL */
		return NULL;
	return bsearch(name, cfg->domains, cfg->n_domains,
	    sizeof(*cfg->domains), config_domain_cmp);
}

/*
 * Names are stored lowercased and sorted with strcmp, which orders them
 * like str_casecmp once lowercased, so bsearch may compare ignoring case.
 */
static int
config_user_cmp(const void *key, const void *elem)
{
	const struct config_user *u = elem;

	return str_casecmp(key, u->name);
}

const struct config_user *
config_find_user(const struct config_domain *d, const char *name)
{
	if (d->n_users == 0)
		return NULL;
	return bsearch(name, d->users, d->n_users, sizeof(*d->users),
	    config_user_cmp);
}

static int
config_alias_cmp(const void *key, const void *elem)
{
	const struct config_alias *a = elem;

	return str_casecmp(key, a->name);
}

const struct config_alias *
config_find_alias(const struct config_domain *d, const char *name)
{
	if (d->n_aliases == 0)
		return NULL;
	return bsearch(name, d->aliases, d->n_aliases, sizeof(*d->aliases),
	    config_alias_cmp);
}

/* The [tls NAME] with a hostname equal to name, any case, or NULL. */
static const struct config_tls_cert *
config_find_tls_hostname(const struct config *cfg, const char *name)
{
	size_t i, j;

	for (i = 0; i < cfg->n_tls_certs; i++) {
		const struct config_tls_cert *tc = &cfg->tls_certs[i];

		for (j = 0; j < tc->n_hostnames; j++) {
			if (str_casecmp(tc->hostnames[j], name) == 0)
				return tc;
		}
	}
	return NULL;
}

/*
 * A linear scan without allocation: a handful of certificates, one
 * lookup per handshake, possibly inside OpenSSL's SNI callback.
 */
const struct config_tls_cert *
config_find_tls_cert(const struct config *cfg, const char *sni)
{
	const struct config_tls_cert *tc;
	const char *dot;
	size_t i, j;

	if (sni == NULL || cfg->n_tls_certs == 0)
		return NULL;
	tc = config_find_tls_hostname(cfg, sni);
	dot = strchr(sni, '.');
	if (tc != NULL || dot == NULL || dot == sni)
		return tc;
	/* RFC 6125 6.4.3: "*" stands for exactly one whole label. */
	for (i = 0; i < cfg->n_tls_certs; i++) {
		const struct config_tls_cert *w = &cfg->tls_certs[i];

		for (j = 0; j < w->n_hostnames; j++) {
			if (w->hostnames[j][0] == '*' &&
			    str_casecmp(w->hostnames[j] + 1, dot) == 0)
				return w;
		}
	}
	return NULL;
}

const char *
config_role_name(enum listen_role role)
{
	switch (role) {
	case LISTEN_ROLE_MX:
		return "mx";
	case LISTEN_ROLE_SUBMISSION:
		return "submission";
	case LISTEN_ROLE_SUBMISSIONS:
		return "submissions";
	}
	return "unknown";
}
