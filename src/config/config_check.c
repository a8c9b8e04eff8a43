/* SPDX-License-Identifier: ISC */
/*
 * The combination pass: checks that need more than one key, run after
 * every key is typed and the users and aliases files are read.  Each
 * error names the line of the key most likely to be wrong.  TLS files
 * are only checked to be readable regular files: parsing the PEM is the
 * tls module's business when the server starts.  The [relay] password
 * file is read here, and its text never appears in an error.
 */
#include "config/config_private.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "core/str.h"
#include "core/xalloc.h"

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
	if (cfg->min_retry > cfg->max_retry)
		config_error(ctx, NULL, config_check_line(raw,
		    CONFIG_SECTION_QUEUE, NULL, "min_retry", eof),
		    "min_retry: %llu seconds is longer than max_retry (%llu)",
		    (unsigned long long)cfg->min_retry,
		    (unsigned long long)cfg->max_retry);
	if (cfg->max_connections_per_domain > cfg->max_connections)
		config_error(ctx, NULL, config_check_line(raw,
		    CONFIG_SECTION_QUEUE, NULL, "max_connections_per_domain",
		    eof), "max_connections_per_domain: %llu is larger than "
		    "max_connections (%llu)",
		    (unsigned long long)cfg->max_connections_per_domain,
		    (unsigned long long)cfg->max_connections);
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

/* The first raw section of kind (any name), or NULL. */
static const struct config_raw_section *
config_check_section(const struct config_raw *raw,
    enum config_section_kind kind)
{
	size_t i;

	for (i = 0; i < raw->n_sections; i++) {
		if (raw->sections[i].kind == kind)
			return &raw->sections[i];
	}
	return NULL;
}

/*
 * Reports path unless it is a regular file this process may read.
 * stat() and access() rather than open(): a path may name a FIFO or a
 * device, and checking must not block or touch it.
 */
static void
config_check_readable(const char *path, const char *key, unsigned line,
    struct config_ctx *ctx)
{
	struct stat st;
	char safe[200];

	if (ctx->no_files)
		return;
	str_sanitize(safe, sizeof(safe), path, strlen(path));
	if (stat(path, &st) == -1) {
		config_error(ctx, NULL, line, "%s: %s: %s", key, safe,
		    strerror(errno));
		return;
	}
	if (S_ISDIR(st.st_mode)) {
		config_error(ctx, NULL, line, "%s: %s: %s", key, safe,
		    strerror(EISDIR));
		return;
	}
	if (!S_ISREG(st.st_mode)) {
		config_error(ctx, NULL, line, "%s: %s: not a regular file",
		    key, safe);
		return;
	}
	if (faccessat(AT_FDCWD, path, R_OK, AT_EACCESS) == -1)
		config_error(ctx, NULL, line, "%s: %s: %s", key, safe,
		    strerror(errno));
}

/* cert and key of one [tls] or [tls NAME]: both set, both readable. */
static void
config_check_tls_files(const struct config_raw *raw,
    enum config_section_kind kind, const char *name, const char *cert,
    const char *key, unsigned line, struct config_ctx *ctx)
{
	const char *label = kind == CONFIG_SECTION_TLS ? "tls" : "tls ";

	if (cert == NULL)
		config_error(ctx, NULL, line, "cert: missing in [%s%s]", label,
		    name != NULL ? name : "");
	else
		config_check_readable(cert, "cert", config_check_line(raw,
		    kind, name, "cert", line), ctx);
	if (key == NULL)
		config_error(ctx, NULL, line, "key: missing in [%s%s]", label,
		    name != NULL ? name : "");
	else
		config_check_readable(key, "key", config_check_line(raw,
		    kind, name, "key", line), ctx);
}

/* The [tls NAME] sections: each complete, named once, hostnames unique. */
static void
config_check_tls_certs(const struct config *cfg,
    const struct config_raw *raw, unsigned tls_line, struct config_ctx *ctx)
{
	size_t i, j, h, g;

	for (i = 0; i < cfg->n_tls_certs; i++) {
		const struct config_tls_cert *tc = &cfg->tls_certs[i];
		unsigned hline = config_check_line(raw,
		    CONFIG_SECTION_TLS_CERT, tc->name, "hostnames", tc->line);
		bool dup = false;

		if (tls_line == 0)
			config_error(ctx, NULL, tc->line, "[tls %s]: needs a "
			    "[tls] section with the default certificate",
			    tc->name);
		for (j = 0; j < i && !dup; j++) {
			if (str_casecmp(cfg->tls_certs[j].name, tc->name) != 0)
				continue;
			config_error(ctx, NULL, tc->line, "[tls %s]: duplicate "
			    "tls name (first on line %u)", tc->name,
			    cfg->tls_certs[j].line);
			dup = true;
		}
		/* A duplicate's keys are found in the first: skip them. */
		if (dup)
			continue;
		config_check_tls_files(raw, CONFIG_SECTION_TLS_CERT, tc->name,
		    tc->cert, tc->key, tc->line, ctx);
		/* A bad hostnames value was reported by the typing pass. */
		if (tc->n_hostnames == 0 && config_raw_find(raw,
		    CONFIG_SECTION_TLS_CERT, tc->name, "hostnames") == NULL)
			config_error(ctx, NULL, tc->line, "hostnames: missing "
			    "in [tls %s]", tc->name);
		for (h = 0; h < tc->n_hostnames; h++) {
			const char *name = tc->hostnames[h];
			const struct config_tls_cert *o = NULL;

			for (g = 0; g < h && o == NULL; g++) {
				if (strcmp(tc->hostnames[g], name) == 0)
					o = tc;
			}
			for (j = 0; j < i && o == NULL; j++) {
				for (g = 0; g < cfg->tls_certs[j].n_hostnames;
				    g++) {
					if (strcmp(cfg->tls_certs[j].hostnames[g],
					    name) == 0) {
						o = &cfg->tls_certs[j];
						break;
					}
				}
			}
			if (o == tc)
				config_error(ctx, NULL, hline, "hostnames: %s "
				    "is listed twice", name);
			else if (o != NULL)
				config_error(ctx, NULL, hline, "hostnames: %s "
				    "is already used by [tls %s] on line %u",
				    name, o->name, o->line);
		}
	}
}

static void
config_check_tls(const struct config *cfg, const struct config_raw *raw,
    struct config_ctx *ctx)
{
	const struct config_raw_section *tls = config_check_section(raw,
	    CONFIG_SECTION_TLS);
	unsigned tls_line = tls != NULL ? tls->line : 0;
	size_t i;

	if (tls != NULL)
		config_check_tls_files(raw, CONFIG_SECTION_TLS, NULL,
		    cfg->tls_cert, cfg->tls_key, tls->line, ctx);
	config_check_tls_certs(cfg, raw, tls_line, ctx);
	/*
	 * AUTH is offered only over TLS, so a submission port without a
	 * certificate could never take mail from anyone (RFC 8314 3.3,
	 * RFC 4954 4).  An incomplete [tls] was reported above.
	 */
	if (tls != NULL)
		return;
	for (i = 0; i < cfg->n_listens; i++) {
		const struct config_listen *l = &cfg->listens[i];

		if (l->role == LISTEN_ROLE_MX)
			continue;
		config_error(ctx, NULL, config_check_line(raw,
		    CONFIG_SECTION_LISTEN, l->name, "role", l->line),
		    "role: role %s needs a [tls] certificate",
		    config_role_name(l->role));
	}
}

/*
 * Reads the first line of the [relay] password_file into
 * cfg->relay_password.  The password itself never reaches an error
 * message; the file's text is wiped before it is freed.
 */
static void
config_check_password_file(struct config *cfg, unsigned line,
    struct config_ctx *ctx)
{
	char safe[200], *text = NULL;
	size_t len = 0, n;

	config_check_readable(cfg->relay_password_file, "password_file", line,
	    ctx);
	str_sanitize(safe, sizeof(safe), cfg->relay_password_file,
	    strlen(cfg->relay_password_file));
	if (config_file_read(cfg->relay_password_file,
	    CONFIG_PASSWORD_MAX_BYTES + 2, &text, &len) == -1) {
		config_error(ctx, NULL, line, "password_file: %s: %s", safe,
		    errno == EFBIG ? "longer than a password line" :
		    strerror(errno));
		return;
	}
	n = strcspn(text, "\r\n");
	if (n == 0 || n > CONFIG_PASSWORD_MAX_BYTES || memchr(text, '\0',
	    len) != NULL)
		config_error(ctx, NULL, line, "password_file: %s: the first "
		    "line must hold the password (1 to %d bytes, no NUL)",
		    safe, CONFIG_PASSWORD_MAX_BYTES);
	else
		cfg->relay_password = xstrndup(text, n);
	explicit_bzero(text, len);
	free(text);
}

/* [relay]: user and password_file together, and never over plaintext. */
static void
config_check_relay(struct config *cfg, const struct config_raw *raw,
    struct config_ctx *ctx)
{
	const struct config_raw_section *sec = config_check_section(raw,
	    CONFIG_SECTION_RELAY);
	unsigned line, uline, pline;

	if (sec == NULL)
		return;
	line = sec->line;
	uline = config_check_line(raw, CONFIG_SECTION_RELAY, NULL, "user",
	    line);
	pline = config_check_line(raw, CONFIG_SECTION_RELAY, NULL,
	    "password_file", line);
	/* A bad host value was reported by the typing pass. */
	if (cfg->relay_host == NULL && config_raw_find(raw,
	    CONFIG_SECTION_RELAY, NULL, "host") == NULL)
		config_error(ctx, NULL, line, "host: missing in [relay]");
	if (cfg->relay_user != NULL && cfg->relay_password_file == NULL)
		config_error(ctx, NULL, uline, "user: needs password_file in "
		    "[relay]");
	if (cfg->relay_user == NULL && cfg->relay_password_file != NULL)
		config_error(ctx, NULL, pline, "password_file: needs user in "
		    "[relay]");
	/* RFC 4954 4: credentials never travel unencrypted. */
	if (cfg->relay_user != NULL && cfg->relay_tls == RELAY_TLS_NONE)
		config_error(ctx, NULL, config_check_line(raw,
		    CONFIG_SECTION_RELAY, NULL, "tls", uline),
		    "tls: AUTH over plaintext refused (user is set)");
	if (cfg->relay_user != NULL && cfg->relay_password_file != NULL &&
	    !ctx->no_files)
		config_check_password_file(cfg, pline, ctx);
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
	config_check_tls(cfg, raw, ctx);
	config_check_relay(cfg, raw, ctx);
	if (cfg->n_listens == 0)
		config_error(ctx, NULL, eof, "no [listen NAME] section: at "
		    "least one is required");
	if (cfg->n_domains == 0)
		config_error(ctx, NULL, eof, "no [domain NAME] section: at "
		    "least one is required");
	return ctx->n_errors == before ? 0 : -1;
}
