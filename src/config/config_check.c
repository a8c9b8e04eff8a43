/* SPDX-License-Identifier: ISC */
/*
 * The combination pass: checks that need more than one key, run after
 * every key is typed and the users and aliases files are read.  Each
 * error names the line of the key most likely to be wrong.
 */
#include "config/config_private.h"

#include <string.h>

#include "core/str.h"

/* The line of key in the given section, or fallback if it is not set. */
static unsigned
config_check_line(const struct config_raw *raw, enum config_section_kind kind,
    const char *name, const char *key, unsigned fallback)
{
	const struct config_raw_entry *e = config_raw_find(raw, kind, name, key);

	return e != NULL ? e->line : fallback;
}

static void
config_check_server(const struct config *cfg, const struct config_raw *raw,
    struct config_ctx *ctx)
{
	unsigned eof = raw->n_lines > 0 ? raw->n_lines : 1;

	if (cfg->max_sessions_per_ip > cfg->max_sessions)
		config_error(ctx, NULL, config_check_line(raw,
		    CONFIG_SECTION_SERVER, NULL, "max_sessions_per_ip", eof),
		    "max_sessions_per_ip: %llu is larger than max_sessions "
		    "(%llu)", (unsigned long long)cfg->max_sessions_per_ip,
		    (unsigned long long)cfg->max_sessions);
	if (cfg->command_timeout > cfg->session_timeout ||
	    cfg->data_timeout > cfg->session_timeout)
		config_error(ctx, NULL, config_check_line(raw,
		    CONFIG_SECTION_SERVER, NULL, "session_timeout", eof),
		    "session_timeout: %llu seconds is shorter than "
		    "command_timeout or data_timeout",
		    (unsigned long long)cfg->session_timeout);
}

static void
config_check_listens(const struct config *cfg, const struct config_raw *raw,
    struct config_ctx *ctx)
{
	size_t i, j;

	for (i = 0; i < cfg->n_listens; i++) {
		const struct config_listen *l = &cfg->listens[i];

		if (l->host == NULL) {
			/* A bad address was reported by the typing pass. */
			if (config_raw_find(raw, CONFIG_SECTION_LISTEN, l->name,
			    "address") == NULL)
				config_error(ctx, NULL, l->line, "address: "
				    "missing in [listen %s]", l->name);
			continue;
		}
		for (j = 0; j < i; j++) {
			const struct config_listen *o = &cfg->listens[j];

			if (strcmp(o->name, l->name) == 0) {
				config_error(ctx, NULL, l->line, "[listen %s]: "
				    "duplicate listen name (first on line %u)",
				    l->name, o->line);
				break;
			}
			if (o->host != NULL && strcmp(o->host, l->host) == 0 &&
			    strcmp(o->port, l->port) == 0) {
				config_error(ctx, NULL, l->line, "address: %s "
				    "is already used by [listen %s] on line %u",
				    l->address, o->name, o->line);
				break;
			}
		}
	}
}

/* Domains are sorted by name and then by line, so duplicates are adjacent. */
static void
config_check_domains(const struct config *cfg, const struct config_raw *raw,
    struct config_ctx *ctx)
{
	size_t i;

	for (i = 0; i < cfg->n_domains; i++) {
		const struct config_domain *d = &cfg->domains[i];
		unsigned line;

		if (i > 0 && strcmp(cfg->domains[i - 1].name, d->name) == 0)
			config_error(ctx, NULL, d->line, "[domain %s]: "
			    "duplicate domain (first on line %u)", d->name,
			    cfg->domains[i - 1].line);
		if (d->catch_all == NULL ||
		    strcmp(d->catch_all, "postmaster") == 0 ||
		    config_find_user(d, d->catch_all) != NULL ||
		    config_find_alias(d, d->catch_all) != NULL)
			continue;
		line = config_check_line(raw, CONFIG_SECTION_DOMAIN, d->name,
		    "catch_all", d->line);
		config_error(ctx, NULL, line, "catch_all: \"%s\" is neither a "
		    "user nor an alias of %s, nor postmaster", d->catch_all,
		    d->name);
	}
}

int
config_check(struct config *cfg, const struct config_raw *raw,
    struct config_ctx *ctx)
{
	unsigned before = ctx->n_errors;
	unsigned eof = raw->n_lines > 0 ? raw->n_lines : 1;

	config_check_server(cfg, raw, ctx);
	config_check_listens(cfg, raw, ctx);
	config_check_domains(cfg, raw, ctx);
	if (cfg->n_listens == 0)
		config_error(ctx, NULL, eof, "no [listen NAME] section: at "
		    "least one is required");
	if (cfg->n_domains == 0)
		config_error(ctx, NULL, eof, "no [domain NAME] section: at "
		    "least one is required");
	return ctx->n_errors == before ? 0 : -1;
}
