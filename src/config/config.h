/* SPDX-License-Identifier: ISC */
/*
 * The configuration: one INI file (or the embedded default) turned into
 * one immutable struct config.  Loading records raw entries with their
 * file and line, converts and range-checks them against the key table
 * (config_keys.def), then validates combinations.  Any error is reported
 * as "FILE:LINE: what is wrong" and nothing is returned.
 *
 * A loaded config also holds each domain's users and aliases, read from
 * the files the config names.  TLS certificate and key files are only
 * checked to exist and be readable; the tls module loads them.  A reload builds a new config and swaps it
 * in; a struct config is never modified after config_load() returns.
 */
#ifndef TERN_CONFIG_CONFIG_H
#define TERN_CONFIG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/compat.h"

struct buf;

enum listen_role {
	LISTEN_ROLE_MX,
	LISTEN_ROLE_SUBMISSION,
	LISTEN_ROLE_SUBMISSIONS,
};

/* What to do with a bare CR or bare LF inside DATA (never end of data). */
enum bare_newline_policy {
	BARE_NEWLINE_REJECT,	/* 550 5.5.2 the whole message, default */
	BARE_NEWLINE_NORMALIZE,	/* keep it, as CRLF, in the content */
};

/* TLS to the [relay] smarthost. */
enum relay_tls_mode {
	RELAY_TLS_STARTTLS,	/* STARTTLS required (default) */
	RELAY_TLS_IMPLICIT,	/* TLS from the first byte (port 465) */
	RELAY_TLS_NONE,		/* plaintext; AUTH is then refused */
};

struct config_listen {
	char *name;		/* NAME of [listen NAME] */
	char *host;		/* numeric address, without brackets */
	char *port;		/* numeric port as text */
	enum listen_role role;
	char *address;		/* the address key as written */
	unsigned line;		/* of the [listen NAME] header in cfg->path */
};

/*
 * One user of a domain's passwd-file.  A password field without a
 * "{SCHEME}" prefix gets "{CRYPT}", Dovecot's default scheme, so
 * password_hash always starts with '{'.
 */
struct config_user {
	char *name;		/* lowercased local part */
	char *password_hash;	/* "{SCHEME}hash", or NULL: cannot log in */
};

/*
 * One alias: a lowercased local name and its targets as written (spaces
 * trimmed).  A target is a local name of the same domain ("bob") or a
 * full address ("bob@example.net"); its syntax was checked at load.
 */
struct config_alias {
	char *name;
	char **targets;		/* local names or full addresses */
	size_t n_targets;
};

struct config_domain {
	char *name;		/* lowercased */
	char *users_path;	/* NULL if unset */
	char *aliases_path;	/* NULL if unset */
	char *catch_all;	/* lowercased local part, or NULL */
	struct config_user *users;	/* sorted by name */
	size_t n_users;
	struct config_alias *aliases;	/* sorted by name */
	size_t n_aliases;
	unsigned line;		/* of the [domain NAME] header in cfg->path */
};

/*
 * One [tls NAME]: a further certificate, chosen when the client's SNI
 * (RFC 6066 3) names one of hostnames.  A hostname is a lowercased
 * domain name or "*.domain", which matches exactly one more label.
 * Hostnames are unique across all [tls NAME] sections.
 */
struct config_tls_cert {
	char *name;		/* NAME of [tls NAME] */
	char *cert;		/* PEM file: certificate, then its chain */
	char *key;		/* PEM file: private key */
	char **hostnames;
	size_t n_hostnames;
	unsigned line;		/* of the [tls NAME] header in cfg->path */
};

struct config {
	char *path;		/* file loaded, or "(default)" */

	/* [server] */
	char *hostname;
	char *spool;
	char *mailroot;
	char *user;		/* NULL: stay the invoking user */
	uint64_t max_message_size;	/* bytes */
	uint64_t max_recipients;
	uint64_t max_line_length;	/* command line octets incl. CRLF */
	uint64_t max_sessions;		/* all clients together */
	uint64_t max_sessions_per_ip;
	uint64_t max_errors;		/* bad commands before 421 */
	uint64_t command_timeout;	/* seconds, RFC 5321 4.5.3.2.7 */
	uint64_t data_timeout;		/* seconds, per DATA block */
	uint64_t session_timeout;	/* seconds, whole session */
	enum bare_newline_policy bare_newline;
	char *log_level;	/* debug | info | notice | warn | err */
	/* "host:port,..." numeric, IPv6 as [addr]:port; NULL: resolv.conf */
	char *resolver;

	/* [tls]: the default certificate; tls_cert NULL = no TLS at all. */
	char *tls_cert;		/* PEM file: certificate, then its chain */
	char *tls_key;		/* PEM file: private key */
	char *tls_ciphers;	/* OpenSSL TLS 1.2 list; NULL: tern's own */
	/* [tls NAME], in file order; none unless tls_cert is set. */
	struct config_tls_cert *tls_certs;
	size_t n_tls_certs;

	/* [limits] */
	uint64_t user_messages_per_hour;	/* recipients; 0: no limit */
	uint64_t auth_max_failures;	/* per IP within the window */
	uint64_t auth_failure_window;	/* seconds */
	uint64_t auth_block_time;	/* seconds of 421 for AUTH */

	/* [queue] (durations in seconds) */
	uint64_t min_retry;	/* first retry delay, doubling */
	uint64_t max_retry;	/* cap of the retry delay */
	uint64_t max_age;	/* then a deferred target fails, 4.4.7 */
	uint64_t max_hold;	/* FUTURERELEASE limit (RFC 4865); 0: off */
	uint64_t delay_warning;	/* one delay DSN after this; 0: never */
	uint64_t max_received;	/* more Received fields: 5.4.6 loop */
	uint64_t max_connections_per_domain;	/* jobs in flight */
	uint64_t max_connections;	/* jobs in flight, all domains */
	uint64_t mx_port;	/* 25; tests point it elsewhere */

	/* [relay]: relay_host NULL = deliver to each domain's MX. */
	char *relay_host;	/* name or numeric address, no brackets */
	uint64_t relay_port;	/* set with relay_host */
	enum relay_tls_mode relay_tls;
	char *relay_user;	/* AUTH login, or NULL */
	char *relay_password_file;
	/* First line of relay_password_file, read at load; never logged,
	 * wiped by config_free(). NULL when relay_user is NULL. */
	char *relay_password;

	struct config_listen *listens;
	size_t n_listens;
	struct config_domain *domains;	/* sorted by name */
	size_t n_domains;
	/*
	 * The first [domain] in the file: the domain of a bare
	 * "postmaster" recipient (RFC 5321 4.5.1).  Points into domains.
	 */
	const struct config_domain *primary_domain;
};

/*
 * One key of config_keys.def, for "check-config --defaults", the docs
 * test and anything else that lists keys.  All strings are static.
 */
struct config_key_info {
	const char *section;	/* "server", "listen", "domain", "tls",
				 * "tls NAME", "limits", "queue" or
				 * "relay" */
	const char *key;
	const char *type;	/* "size", "duration", "path", ... */
	const char *default_value;	/* as it would be written, or NULL */
	uint64_t min;		/* for numbers, sizes and durations */
	uint64_t max;
	const char *doc;	/* one line */
};

/*
 * Loads and validates path.  Relative paths inside the file (spool,
 * mailroot, users, aliases) are taken relative to the process's working
 * directory, not to the config file.  On success returns 0 and a new config in
 * *cfg_r.  On failure returns -1 and appends one or more lines
 * "FILE:LINE: message\n" to err.
 */
ATTR_WUR int config_load(const char *path, struct config **cfg_r,
    struct buf *err);
/*
 * The same for a command that only talks to the server (tern queue,
 * sendmail): the files the config names (users, aliases, keys, the
 * relay password) are not read, so users who may not read them can
 * still use it.  Their domains have no users or aliases.
 */
ATTR_WUR int config_load_client(const char *path, struct config **cfg_r,
    struct buf *err);

/*
 * Loads the embedded default: 127.0.0.1:2525 as mx, domain localhost
 * with catch-all postmaster, spool ./var/spool, mailroot ./var/mail.
 */
ATTR_WUR int config_load_default(struct config **cfg_r, struct buf *err);

/*
 * The embedded default plus TLS, for "make run" and trying things out:
 * [tls] with cert and key, a [listen submission] on 127.0.0.1:2587 with
 * role submission, and users_path (NULL: none) as the users file of
 * domain localhost.  Relative paths are taken as config_load() takes
 * them.  The paths must be writable in a config file: no CR, LF or
 * " ;", no blanks at either end, at most 180 bytes; otherwise, or on
 * any other error, returns -1 with "(default):LINE: ..." lines in err.
 * 0 and a new config in *cfg_r on success.
 */
ATTR_WUR int config_load_default_tls(const char *cert, const char *key,
    const char *users_path, struct config **cfg_r, struct buf *err);

/* Loads from a string; name is used in error messages. */
ATTR_WUR int config_load_string(const char *name, const char *text,
    struct config **cfg_r, struct buf *err);

void config_free(struct config **cfgp);

/* The domain named name (any case), or NULL if tern does not serve it. */
const struct config_domain *config_find_domain(const struct config *cfg,
    const char *name);
/* The user name (any case) of d, or NULL. */
const struct config_user *config_find_user(const struct config_domain *d,
    const char *name);
/* The alias name (any case) of d, or NULL. */
const struct config_alias *config_find_alias(const struct config_domain *d,
    const char *name);

/*
 * The [tls NAME] whose hostnames match the SNI name sni (any case): an
 * exact name first, else a "*.rest" whose rest follows sni's first
 * label.  NULL: use the [tls] certificate.  sni may be NULL.
 */
const struct config_tls_cert *config_find_tls_cert(const struct config *cfg,
    const char *sni);

const char *config_role_name(enum listen_role role);

/* The key table, in declaration order; *n_r is set to its length. */
const struct config_key_info *config_keys(size_t *n_r);

/*
 * The parsers of a domain's users (Dovecot passwd-file) and aliases
 * files, exposed for the fuzzers.  text[len] need not be NUL-terminated.
 * They fill d->users / d->aliases (sorted; d must have none yet) and
 * return 0, or -1 after appending "FILE:LINE: what is wrong\n" lines to
 * err; d then holds what parsed and must still be cleared.  Names of a
 * passwd-file may be "local@domain" when domain is d->name.
 */
ATTR_WUR int config_users_parse(struct config_domain *d, const char *file,
    const char *text, size_t len, struct buf *err);
ATTR_WUR int config_aliases_parse(struct config_domain *d, const char *file,
    const char *text, size_t len, struct buf *err);
/* Frees every member of d (not d itself) and zeroes it. */
void config_domain_clear(struct config_domain *d);

#endif
