/* SPDX-License-Identifier: ISC */
/*
 * Loading a config from a file, a string or the embedded default: runs
 * the INI pass (config_raw.c), the typing pass (config_keys.c), reads
 * each domain's users and aliases files, and runs the combination pass
 * (config_check.c).  Every error of every pass is reported; any error
 * means no config.
 */
#include "config/config.h"

#include <errno.h>
#include <string.h>

#include "config/config_private.h"
#include "core/buf.h"
#include "core/xalloc.h"

/* The config tern runs on when no file is given: see docs/config.md. */
static const char config_load_default_text[] =
    "[server]\n"
    "spool = ./var/spool\n"
    "mailroot = ./var/mail\n"
    "\n"
    "[listen default]\n"
    "address = 127.0.0.1:2525\n"
    "role = mx\n"
    "\n"
    "[domain localhost]\n"
    "catch_all = postmaster\n";

/* By name, then by line, so that duplicates sit together, first first. */
static int
config_load_domain_cmp(const void *a, const void *b)
{
	const struct config_domain *da = a, *db = b;
	int c = strcmp(da->name, db->name);

	if (c != 0)
		return c;
	return da->line < db->line ? -1 : da->line > db->line;
}

/* The line of a domain's key, for errors about the file it names. */
static unsigned
config_load_key_line(const struct config_raw *raw,
    const struct config_domain *d, const char *key)
{
	const struct config_raw_entry *e = config_raw_find(raw,
	    CONFIG_SECTION_DOMAIN, d->name, key);

	return e != NULL ? e->line : d->line;
}

/* Sorts the domains, finds the primary one, reads users and aliases. */
static void
config_load_domains(struct config *cfg, const struct config_raw *raw,
    struct config_ctx *ctx)
{
	const struct config_domain *first = NULL;
	size_t i;

	if (cfg->n_domains == 0)
		return;
	qsort(cfg->domains, cfg->n_domains, sizeof(*cfg->domains),
	    config_load_domain_cmp);
	for (i = 0; i < cfg->n_domains; i++) {
		struct config_domain *d = &cfg->domains[i];

		if (first == NULL || d->line < first->line)
			first = d;
		/* Errors go to ctx; every file is still read and checked. */
		(void)config_users_load(d, config_load_key_line(raw, d,
		    "users"), ctx);
		(void)config_aliases_load(d, config_load_key_line(raw, d,
		    "aliases"), ctx);
	}
	cfg->primary_domain = first;
}

static int
config_load_text(const char *name, const char *text, size_t len,
    struct config **cfg_r, struct buf *err)
{
	struct config_ctx ctx = { .file = name, .err = err };
	struct config_raw raw;
	struct config *cfg;

	cfg = xcalloc(1, sizeof(*cfg));
	cfg->path = xstrdup(name);
	/* Each pass runs even after errors, to report as many as it can. */
	(void)config_raw_parse(&raw, text, len, &ctx);
	(void)config_keys_apply(cfg, &raw, &ctx);
	config_load_domains(cfg, &raw, &ctx);
	(void)config_check(cfg, &raw, &ctx);
	config_raw_clear(&raw);
	if (ctx.n_errors > 0) {
		config_free(&cfg);
		return -1;
	}
	*cfg_r = cfg;
	return 0;
}

int
config_load(const char *path, struct config **cfg_r, struct buf *err)
{
	char *text;
	size_t len;
	int rc;

	if (config_file_read(path, CONFIG_FILE_MAX_BYTES, &text, &len) == -1) {
		rc = buf_printf(err, "%s: cannot read: %s\n", path,
		    errno == EFBIG ? "file too large" : strerror(errno));
		(void)rc;
		return -1;
	}
	rc = config_load_text(path, text, len, cfg_r, err);
	free(text);
	return rc;
}

int
config_load_string(const char *name, const char *text, struct config **cfg_r,
    struct buf *err)
{
	return config_load_text(name, text, strlen(text), cfg_r, err);
}

int
config_load_default(struct config **cfg_r, struct buf *err)
{
	return config_load_text("(default)", config_load_default_text,
	    sizeof(config_load_default_text) - 1, cfg_r, err);
}
