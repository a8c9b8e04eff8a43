/* SPDX-License-Identifier: ISC */
/*
 * Loading a config from a file, a string or the embedded default: runs
 * the INI pass (config_raw.c), the typing pass (config_keys.c), reads
 * each domain's users and aliases files, and runs the combination pass
 * (config_check.c).  Every error of every pass is reported; any error
 * means no config.  The embedded default with TLS is built as text and
 * loaded like any file, so it is checked the same way.
 */
#include "config/config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_private.h"
#include "core/buf.h"
#include "core/log.h"
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
		if (ctx->no_files)
			continue;
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
    bool no_files, struct config **cfg_r, struct buf *err)
{
	struct config_ctx ctx = { .file = name, .err = err,
	    .no_files = no_files };
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

static int
config_load_file(const char *path, bool no_files, struct config **cfg_r,
    struct buf *err)
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
	rc = config_load_text(path, text, len, no_files, cfg_r, err);
	free(text);
	return rc;
}

int
config_load(const char *path, struct config **cfg_r, struct buf *err)
{
	return config_load_file(path, false, cfg_r, err);
}

int
config_load_client(const char *path, struct config **cfg_r, struct buf *err)
{
	return config_load_file(path, true, cfg_r, err);
}

int
config_load_string(const char *name, const char *text, struct config **cfg_r,
    struct buf *err)
{
	return config_load_text(name, text, strlen(text), false, cfg_r, err);
}

int
config_load_default(struct config **cfg_r, struct buf *err)
{
	return config_load_text("(default)", config_load_default_text,
	    sizeof(config_load_default_text) - 1, false, cfg_r, err);
}

/*
 * Whether path survives being written as "key = path" on a line of its
 * own: a newline would start a new line, " ;" an inline comment, and
 * inih trims blanks at the ends and caps the line length.
 */
static bool
config_load_is_writable_path(const char *path)
{
	size_t len = strlen(path), i;

	if (len == 0 || len > CONFIG_DEFAULT_PATH_MAX_BYTES)
		return false;
	if (path[0] == ' ' || path[0] == '\t' || path[len - 1] == ' ' ||
	    path[len - 1] == '\t')
		return false;
	for (i = 0; i < len; i++) {
		if (path[i] == '\n' || path[i] == '\r')
			return false;
		if (path[i] == ';' && i > 0 &&
		    (path[i - 1] == ' ' || path[i - 1] == '\t'))
			return false;
	}
	return true;
}

int
config_load_default_tls(const char *cert, const char *key,
    const char *users_path, struct config **cfg_r, struct buf *err)
{
	const char *const paths[] = { cert, key, users_path };
	static const char *const keys[] = { "cert", "key", "users" };
	char *text;
	size_t i;
	int rc;

	ASSERT(cert != NULL && key != NULL);
	for (i = 0; i < N_ELEMENTS(paths); i++) {
		if (paths[i] == NULL || config_load_is_writable_path(paths[i]))
			continue;
		rc = buf_printf(err, "(default):0: %s: path cannot be written "
		    "in a config file (CR, LF, \" ;\", blanks at an end, or "
		    "over %d bytes)\n", keys[i], CONFIG_DEFAULT_PATH_MAX_BYTES);
		(void)rc;
		return -1;
	}
	/* The default text ends inside [domain localhost]. */
	text = xasprintf("%s%s%s%s"
	    "\n"
	    "[listen submission]\n"
	    "address = 127.0.0.1:2587\n"
	    "role = submission\n"
	    "\n"
	    "[tls]\n"
	    "cert = %s\n"
	    "key = %s\n", config_load_default_text,
	    users_path != NULL ? "users = " : "",
	    users_path != NULL ? users_path : "",
	    users_path != NULL ? "\n" : "", cert, key);
	rc = config_load_text("(default)", text, strlen(text), false, cfg_r,
	    err);
	free(text);
	return rc;
}
