/* SPDX-License-Identifier: ISC */
/*
 * The INI pass: inih splits "key = value" lines and strips comments; the
 * reader callback below counts lines (libinih is built without line
 * numbers in the handler), parses [section] headers itself (inih would
 * cut names at 50 bytes and drop empty sections) and removes leading
 * blanks, so that inih never joins lines as multi-line values.  Nothing
 * is typed or checked against the key table here; that is config_keys.c.
 */
#include "config/config_private.h"

#include <string.h>

#include <ini.h>

#include "core/str.h"
#include "core/xalloc.h"

struct config_raw_reader {
	const char *p;
	const char *end;
	unsigned line;
	struct config_raw *raw;
	struct config_ctx *ctx;
	bool in_section;	/* false: before any header, or a bad one */
	bool skip;		/* keys of a bad header are not reported */
};

static bool
config_raw_is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Trims blanks at both ends of [*s, *s + *len). */
static void
config_raw_trim(const char **s, size_t *len)
{
	while (*len > 0 && config_raw_is_blank(**s)) {
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && config_raw_is_blank((*s)[*len - 1]))
		(*len)--;
}

static void
config_raw_add_section(struct config_raw_reader *r,
    enum config_section_kind kind, char *name)
{
	struct config_raw *raw = r->raw;
	struct config_raw_section *sec;

	raw->sections = xreallocarray(raw->sections, raw->n_sections + 1,
	    sizeof(*raw->sections));
	sec = &raw->sections[raw->n_sections++];
	memset(sec, 0, sizeof(*sec));
	sec->kind = kind;
	sec->name = name;
	sec->line = r->line;
	r->in_section = true;
	r->skip = false;
}

/*
 * Handles "[type]" or "[type NAME]" (s is the line after leading blanks,
 * len its length without the newline).  Section types are [server],
 * [listen NAME], [domain NAME], [tls], [tls NAME], [limits], [queue]
 * and [relay].
 */
static void
config_raw_header(struct config_raw_reader *r, const char *s, size_t len)
{
	const char *close = memchr(s, ']', len), *type, *name, *rest;
	size_t tlen, nlen, rlen, i;
	char safe[80];

	r->in_section = false;
	r->skip = true;
	if (close == NULL) {
		config_error(r->ctx, NULL, r->line, "section header without ']'");
		return;
	}
	rest = close + 1;
	rlen = len - (size_t)(rest - s);
	config_raw_trim(&rest, &rlen);
	if (rlen > 0 && rest[0] != ';' && rest[0] != '#') {
		config_error(r->ctx, NULL, r->line,
		    "unexpected text after section header");
		return;
	}
	type = s + 1;
	tlen = (size_t)(close - type);
	config_raw_trim(&type, &tlen);
	for (i = 0; i < tlen && !config_raw_is_blank(type[i]); i++)
		continue;
	name = type + i;
	nlen = tlen - i;
	tlen = i;
	config_raw_trim(&name, &nlen);
	str_sanitize(safe, sizeof(safe), type, tlen);
	if ((tlen == 6 && memcmp(type, "server", 6) == 0) ||
	    (tlen == 6 && memcmp(type, "limits", 6) == 0) ||
	    (tlen == 5 && memcmp(type, "queue", 5) == 0) ||
	    (tlen == 5 && memcmp(type, "relay", 5) == 0)) {
		if (nlen > 0) {
			config_error(r->ctx, NULL, r->line,
			    "[%s] takes no name", safe);
			return;
		}
		config_raw_add_section(r, type[0] == 's' ?
		    CONFIG_SECTION_SERVER : type[0] == 'l' ?
		    CONFIG_SECTION_LIMITS : type[0] == 'q' ?
		    CONFIG_SECTION_QUEUE : CONFIG_SECTION_RELAY, NULL);
	} else if (tlen == 3 && memcmp(type, "tls", 3) == 0) {
		/* [tls] is the default certificate, [tls NAME] one by SNI. */
		if (nlen == 0)
			config_raw_add_section(r, CONFIG_SECTION_TLS, NULL);
		else
			config_raw_add_section(r, CONFIG_SECTION_TLS_CERT,
			    xstrndup(name, nlen));
	} else if ((tlen == 6 && memcmp(type, "listen", 6) == 0) ||
	    (tlen == 6 && memcmp(type, "domain", 6) == 0)) {
		if (nlen == 0) {
			config_error(r->ctx, NULL, r->line,
			    "[%s] needs a name: [%s NAME]", safe, safe);
			return;
		}
		config_raw_add_section(r, type[0] == 'l' ?
		    CONFIG_SECTION_LISTEN : CONFIG_SECTION_DOMAIN,
		    xstrndup(name, nlen));
	} else {
		config_error(r->ctx, NULL, r->line, "unknown section [%s]",
		    safe);
	}
}

/*
 * fgets-like reader for ini_parse_stream(): hands inih one line per call,
 * so inih's count of calls and ours agree.  Headers and over-long lines
 * are dealt with here and reach inih as empty lines.
 */
static char *
config_raw_read(char *str, int num, void *stream)
{
	struct config_raw_reader *r = stream;
	const char *s = r->p, *nl;
	size_t len, len_out;

	if (r->p >= r->end)
		return NULL;
	nl = memchr(s, '\n', (size_t)(r->end - s));
	len = nl != NULL ? (size_t)(nl - s) : (size_t)(r->end - s);
	r->p = nl != NULL ? nl + 1 : r->end;
	r->line++;
	if (len > 0 && s[len - 1] == '\r')
		len--;
	if (r->line == 1 && len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0) {
		s += 3;
		len -= 3;
	}
	while (len > 0 && config_raw_is_blank(*s)) {
		s++;
		len--;
	}
	str[0] = '\0';
	len_out = 0;
	if (memchr(s, '\0', len) != NULL) {
		config_error(r->ctx, NULL, r->line, "NUL byte in line");
	} else if (len > 0 && s[0] == '[') {
		config_raw_header(r, s, len);
	} else if (num < 3 || len > (size_t)num - 2) {
		config_error(r->ctx, NULL, r->line,
		    "line too long (at most %d bytes)", num - 2);
	} else {
		memcpy(str, s, len);
		len_out = len;
	}
	/* The newline is what inih expects of fgets; it strips it again. */
	str[len_out] = '\n';
	str[len_out + 1] = '\0';
	return str;
}

static int
config_raw_handler(void *user, const char *section, const char *key,
    const char *value)
{
	struct config_raw_reader *r = user;
	struct config_raw_section *sec;
	struct config_raw_entry *e;

	(void)section;	/* inih's view of sections is not used */
	if (!r->in_section) {
		if (!r->skip)
			config_error(r->ctx, NULL, r->line, "%s: key outside "
			    "of any section", key);
		return 1;
	}
	sec = &r->raw->sections[r->raw->n_sections - 1];
	sec->entries = xreallocarray(sec->entries, sec->n_entries + 1,
	    sizeof(*sec->entries));
	e = &sec->entries[sec->n_entries++];
	e->key = xstrdup(key);
	e->value = xstrdup(value != NULL ? value : "");
	e->line = r->line;
	return 1;
}

int
config_raw_parse(struct config_raw *raw, const char *text, size_t len,
    struct config_ctx *ctx)
{
	struct config_raw_reader r = {
		.p = text,
		.end = text + len,
		.raw = raw,
		.ctx = ctx,
	};
	unsigned before = ctx->n_errors;
	int rc;

	memset(raw, 0, sizeof(*raw));
	rc = ini_parse_stream(config_raw_read, &r, config_raw_handler, &r);
	raw->n_lines = r.line;
	if (rc > 0) {
		/* inih reports only the first line it could not parse. */
		config_error(ctx, NULL, (unsigned)rc, "syntax error: expected "
		    "[section], key = value, or a comment");
	} else if (rc < 0) {
		config_error(ctx, NULL, 0, "cannot parse (inih error %d)", rc);
	}
	return ctx->n_errors == before ? 0 : -1;
}

void
config_raw_clear(struct config_raw *raw)
{
	size_t i, j;

	for (i = 0; i < raw->n_sections; i++) {
		for (j = 0; j < raw->sections[i].n_entries; j++) {
			free(raw->sections[i].entries[j].key);
			free(raw->sections[i].entries[j].value);
		}
		free(raw->sections[i].entries);
		free(raw->sections[i].name);
	}
	free(raw->sections);
	memset(raw, 0, sizeof(*raw));
}

const struct config_raw_entry *
config_raw_find(const struct config_raw *raw, enum config_section_kind kind,
    const char *name, const char *key)
{
	size_t i, j;

	for (i = 0; i < raw->n_sections; i++) {
		const struct config_raw_section *sec = &raw->sections[i];

		if (sec->kind != kind)
			continue;
		if (name != NULL &&
		    (sec->name == NULL || str_casecmp(sec->name, name) != 0))
			continue;
		for (j = 0; j < sec->n_entries; j++) {
			if (strcmp(sec->entries[j].key, key) == 0)
				return &sec->entries[j];
		}
	}
	return NULL;
}
