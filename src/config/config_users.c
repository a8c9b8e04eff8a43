/* SPDX-License-Identifier: ISC */
/*
 * A domain's users: a Dovecot passwd-file, "name:{SCHEME}hash" followed
 * by fields tern ignores (uid, gid, gecos, home, shell, extra), so the
 * same file can serve Dovecot for IMAP.  A bare "name" is a mailbox that
 * cannot log in.  Checking passwords is the auth module's business.
 */
#include "config/config.h"

#include <errno.h>
#include <string.h>

#include "config/config_private.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/str.h"
#include "core/xalloc.h"

/* A user while parsing, with the line it came from. */
struct config_users_entry {
	struct config_user user;
	unsigned line;
};

static bool
config_users_is_scheme_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
}

/*
 * The password field [s, s + len) as stored: NULL when empty, "{SCHEME}"
 * kept, or "{CRYPT}" added as Dovecot's default scheme.  -1 if the
 * scheme is malformed.
 */
static int
config_users_password(const char *s, size_t len, char **hash_r)
{
	size_t i;

	*hash_r = NULL;
	if (len == 0)
		return 0;
	if (s[0] != '{') {
		*hash_r = xasprintf("{CRYPT}%.*s", (int)len, s);
		return 0;
	}
	for (i = 1; i < len && config_users_is_scheme_char(s[i]); i++)
		continue;
	if (i == 1 || i >= len || s[i] != '}')
		return -1;
	*hash_r = xstrndup(s, len);
	return 0;
}

/* Parses one line that is neither blank nor a comment into *e. */
static int
config_users_line(const struct config_domain *d, const char *file,
    unsigned line, const char *s, size_t len, struct config_users_entry *e,
    struct config_ctx *ctx)
{
	const char *colon = memchr(s, ':', len), *at, *pw, *pw_end;
	size_t nlen = colon != NULL ? (size_t)(colon - s) : len;
	char safe[100];

	str_sanitize(safe, sizeof(safe), s, nlen);
	/* Dovecot's %u may be a whole address; only ours belong here. */
	at = memchr(s, '@', nlen);
	if (at != NULL) {
		size_t dlen = nlen - (size_t)(at - s) - 1;

		if (d->name == NULL || strlen(d->name) != dlen ||
		    !str_case_equal_n(at + 1, d->name, dlen)) {
			config_error(ctx, file, line, "user \"%s\" is not in "
			    "domain %s", safe, d->name != NULL ? d->name : "");
			return -1;
		}
		nlen = (size_t)(at - s);
	}
	if (!config_name_is_local(s, nlen)) {
		config_error(ctx, file, line, "bad user name \"%s\": expected "
		    "a local part of at most 64 bytes without '/'", safe);
		return -1;
	}
	pw = colon != NULL ? colon + 1 : s + len;
	pw_end = memchr(pw, ':', (size_t)(s + len - pw));
	if (pw_end == NULL)
		pw_end = s + len;
	if (config_users_password(pw, (size_t)(pw_end - pw),
	    &e->user.password_hash) == -1) {
		config_error(ctx, file, line, "user \"%s\": bad password "
		    "scheme: expected {SCHEME}hash", safe);
		return -1;
	}
	e->user.name = str_lower(xstrndup(s, nlen));
	e->line = line;
	return 0;
}

static int
config_users_entry_cmp(const void *a, const void *b)
{
	const struct config_users_entry *ea = a, *eb = b;
	int c = strcmp(ea->user.name, eb->user.name);

	if (c != 0)
		return c;
	return ea->line < eb->line ? -1 : ea->line > eb->line;
}

static void
config_users_entry_free(struct config_users_entry *e)
{
	free(e->user.name);
	if (e->user.password_hash != NULL) {
		explicit_bzero(e->user.password_hash,
		    strlen(e->user.password_hash));
		free(e->user.password_hash);
	}
}

/* Sorts the entries, reports duplicates, and moves the rest into d. */
static void
config_users_store(struct config_domain *d, const char *file,
    struct config_users_entry *v, size_t n, struct config_ctx *ctx)
{
	char safe[100];
	size_t i;

	if (n == 0)
		return;
	qsort(v, n, sizeof(*v), config_users_entry_cmp);
	d->users = xreallocarray(NULL, n, sizeof(*d->users));
	for (i = 0; i < n; i++) {
		if (d->n_users > 0 && strcmp(d->users[d->n_users - 1].name,
		    v[i].user.name) == 0) {
			str_sanitize(safe, sizeof(safe), v[i].user.name,
			    strlen(v[i].user.name));
			config_error(ctx, file, v[i].line, "duplicate user "
			    "\"%s\" (first on line %u)", safe, v[i - 1].line);
			config_users_entry_free(&v[i]);
			/* Later duplicates name the first line too. */
			v[i].line = v[i - 1].line;
			continue;
		}
		d->users[d->n_users++] = v[i].user;
	}
}

static void
config_users_parse_ctx(struct config_domain *d, const char *file,
    const char *text, size_t len, struct config_ctx *ctx)
{
	struct config_users_entry *v = NULL, e;
	const char *pos = text, *end = text + len, *s;
	size_t n = 0, slen;
	unsigned line = 0;

	ASSERT(d->n_users == 0);
	while (config_file_next_line(&pos, end, &s, &slen)) {
		line++;
		if (memchr(s, '\0', slen) != NULL) {
			config_error(ctx, file, line, "NUL byte in line");
			continue;
		}
		while (slen > 0 && (s[slen - 1] == ' ' || s[slen - 1] == '\t'))
			slen--;
		if (slen == 0 || s[0] == '#')
			continue;
		memset(&e, 0, sizeof(e));
		if (config_users_line(d, file, line, s, slen, &e, ctx) == -1)
			continue;
		v = xreallocarray(v, n + 1, sizeof(*v));
		v[n++] = e;
	}
	config_users_store(d, file, v, n, ctx);
	free(v);
}

int
config_users_parse(struct config_domain *d, const char *file,
    const char *text, size_t len, struct buf *err)
{
	struct config_ctx ctx = { .file = file, .err = err };

	config_users_parse_ctx(d, file, text, len, &ctx);
	return ctx.n_errors == 0 ? 0 : -1;
}

int
config_users_load(struct config_domain *d, unsigned line,
    struct config_ctx *ctx)
{
	unsigned before = ctx->n_errors;
	char *text;
	size_t len;

	if (d->users_path == NULL)
		return 0;
	if (config_file_read(d->users_path, CONFIG_LIST_MAX_BYTES, &text,
	    &len) == -1) {
		config_error(ctx, NULL, line, "users: cannot read %s: %s",
		    d->users_path, errno == EFBIG ? "file too large" :
		    strerror(errno));
		return -1;
	}
	config_users_parse_ctx(d, d->users_path, text, len, ctx);
	free(text);
	return ctx->n_errors == before ? 0 : -1;
}
