/* SPDX-License-Identifier: ISC */
/*
 * A domain's aliases file: "name: target, target" per line, '#' starts
 * a comment line.  A target is a local name of the same domain or a full
 * address.  Only syntax is checked here; what a target resolves to
 * (user, alias, catch-all, remote) is decided by the policy module.
 * Pipes, files and :include: of sendmail's aliases(5) are refused.
 */
#include "config/config.h"

#include <errno.h>
#include <string.h>

#include "config/config_private.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/str.h"
#include "core/xalloc.h"

/* An alias while parsing, with the line it came from. */
struct config_aliases_entry {
	struct config_alias alias;
	unsigned line;
};

static void
config_aliases_trim(const char **s, size_t *len)
{
	while (*len > 0 && (**s == ' ' || **s == '\t')) {
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t'))
		(*len)--;
}

/* NULL if [s, s + len) is a usable target, else what is wrong. */
static const char *
config_aliases_target_error(const char *s, size_t len)
{
	const char *at;

	if (len == 0)
		return "empty target";
	if (s[0] == '|')
		return "pipes to commands are not supported";
	if (s[0] == '/')
		return "delivery to files is not supported";
	if (len >= 9 && memcmp(s, ":include:", 9) == 0)
		return ":include: is not supported";
	at = memrchr(s, '@', len);
	if (at == NULL)
		return config_name_is_local(s, len) ? NULL :
		    "bad local name: expected a local part without '/'";
	if (!config_name_is_local(s, (size_t)(at - s)))
		return "bad local part: expected a dot-atom without '/'";
	if (!config_name_is_domain(at + 1, len - (size_t)(at - s) - 1))
		return "bad domain: expected letters, digits, '-' and dots";
	return NULL;
}

/* Parses one line that is neither blank nor a comment into *e. */
static int
config_aliases_line(const char *file, unsigned line, const char *s,
    size_t len, struct config_aliases_entry *e, struct config_ctx *ctx)
{
	const char *colon = memchr(s, ':', len), *name = s, *t, *comma, *why;
	size_t nlen, tlen, rest;
	char safe[100], tsafe[100];

	if (colon == NULL) {
		config_error(ctx, file, line, "expected \"name: target, "
		    "target\"");
		return -1;
	}
	nlen = (size_t)(colon - s);
	config_aliases_trim(&name, &nlen);
	str_sanitize(safe, sizeof(safe), name, nlen);
	if (!config_name_is_local(name, nlen)) {
		config_error(ctx, file, line, "bad alias name \"%s\": expected "
		    "a local part of at most 64 bytes without '/'", safe);
		return -1;
	}
	e->alias.name = str_lower(xstrndup(name, nlen));
	e->line = line;
	t = colon + 1;
	rest = (size_t)(s + len - t);
	for (;;) {
		comma = memchr(t, ',', rest);
		tlen = comma != NULL ? (size_t)(comma - t) : rest;
		rest -= tlen;
		config_aliases_trim(&t, &tlen);
		why = config_aliases_target_error(t, tlen);
		if (why != NULL) {
			str_sanitize(tsafe, sizeof(tsafe), t, tlen);
			config_error(ctx, file, line, "alias \"%s\": target "
			    "\"%s\": %s", safe, tsafe, why);
			return -1;
		}
		e->alias.targets = xreallocarray(e->alias.targets,
		    e->alias.n_targets + 1, sizeof(*e->alias.targets));
		e->alias.targets[e->alias.n_targets++] = xstrndup(t, tlen);
		if (comma == NULL)
			return 0;
		t = comma + 1;
		rest--;
	}
}

static int
config_aliases_entry_cmp(const void *a, const void *b)
{
	const struct config_aliases_entry *ea = a, *eb = b;
	int c = strcmp(ea->alias.name, eb->alias.name);

	if (c != 0)
		return c;
	return ea->line < eb->line ? -1 : ea->line > eb->line;
}

static void
config_aliases_entry_free(struct config_aliases_entry *e)
{
	size_t i;

	free(e->alias.name);
	for (i = 0; i < e->alias.n_targets; i++)
		free(e->alias.targets[i]);
	free(e->alias.targets);
	memset(&e->alias, 0, sizeof(e->alias));
}

/* Sorts the entries, reports duplicates, and moves the rest into d. */
static void
config_aliases_store(struct config_domain *d, const char *file,
    struct config_aliases_entry *v, size_t n, struct config_ctx *ctx)
{
	char safe[100];
	size_t i;

	if (n == 0)
		return;
	qsort(v, n, sizeof(*v), config_aliases_entry_cmp);
	d->aliases = xreallocarray(NULL, n, sizeof(*d->aliases));
	for (i = 0; i < n; i++) {
		if (d->n_aliases > 0 && strcmp(d->aliases[d->n_aliases - 1].name,
		    v[i].alias.name) == 0) {
			str_sanitize(safe, sizeof(safe), v[i].alias.name,
			    strlen(v[i].alias.name));
			config_error(ctx, file, v[i].line, "duplicate alias "
			    "\"%s\" (first on line %u)", safe, v[i - 1].line);
			config_aliases_entry_free(&v[i]);
			v[i].line = v[i - 1].line;
			continue;
		}
		d->aliases[d->n_aliases++] = v[i].alias;
	}
}

static void
config_aliases_parse_ctx(struct config_domain *d, const char *file,
    const char *text, size_t len, struct config_ctx *ctx)
{
	struct config_aliases_entry *v = NULL, e;
	const char *pos = text, *end = text + len, *s;
	size_t n = 0, slen;
	unsigned line = 0;

	ASSERT(d->n_aliases == 0);
	while (config_file_next_line(&pos, end, &s, &slen)) {
		line++;
		if (memchr(s, '\0', slen) != NULL) {
			config_error(ctx, file, line, "NUL byte in line");
			continue;
		}
		config_aliases_trim(&s, &slen);
		if (slen == 0 || s[0] == '#')
			continue;
		memset(&e, 0, sizeof(e));
		if (config_aliases_line(file, line, s, slen, &e, ctx) == -1) {
			config_aliases_entry_free(&e);
			continue;
		}
		v = xreallocarray(v, n + 1, sizeof(*v));
		v[n++] = e;
	}
	config_aliases_store(d, file, v, n, ctx);
	free(v);
}

int
config_aliases_parse(struct config_domain *d, const char *file,
    const char *text, size_t len, struct buf *err)
{
	struct config_ctx ctx = { .file = file, .err = err };

	config_aliases_parse_ctx(d, file, text, len, &ctx);
	return ctx.n_errors == 0 ? 0 : -1;
}

int
config_aliases_load(struct config_domain *d, unsigned line,
    struct config_ctx *ctx)
{
	unsigned before = ctx->n_errors;
	char *text;
	size_t len;

	if (d->aliases_path == NULL)
		return 0;
	if (config_file_read(d->aliases_path, CONFIG_LIST_MAX_BYTES, &text,
	    &len) == -1) {
		config_error(ctx, NULL, line, "aliases: cannot read %s: %s",
		    d->aliases_path, errno == EFBIG ? "file too large" :
		    strerror(errno));
		return -1;
	}
	config_aliases_parse_ctx(d, d->aliases_path, text, len, ctx);
	free(text);
	return ctx->n_errors == before ? 0 : -1;
}
