/* SPDX-License-Identifier: ISC */
/*
 * Internals shared by the files of src/config/ and by nobody else: the
 * raw entries recorded by the INI pass, the key table, the error
 * context, and the name checks used by every pass.
 */
#ifndef TERN_CONFIG_CONFIG_PRIVATE_H
#define TERN_CONFIG_CONFIG_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "core/compat.h"

#define CONFIG_FILE_MAX_BYTES (1024 * 1024)		/* tern.conf */
#define CONFIG_LIST_MAX_BYTES (64 * 1024 * 1024)	/* users, aliases */
#define CONFIG_LOCAL_MAX_BYTES 64	/* RFC 5321 4.5.3.1.1 */
#define CONFIG_DOMAIN_MAX_BYTES 255	/* RFC 5321 4.5.3.1.2 */
#define CONFIG_LABEL_MAX_BYTES 63	/* RFC 1035 2.3.4 */
#define CONFIG_NAME_MAX_BYTES 64	/* NAME of [listen NAME] */
#define CONFIG_USER_MAX_BYTES 32	/* a system login name */
#define CONFIG_PATH_MAX_BYTES 4095
#define CONFIG_TEXT_MAX_BYTES 255	/* a [relay] user */
#define CONFIG_PASSWORD_MAX_BYTES 1024	/* [relay] password_file line */
#define CONFIG_RESOLVERS_MAX 8		/* servers in [server] resolver */
/* A path config_load_default_tls() writes into a "key = value" line. */
#define CONFIG_DEFAULT_PATH_MAX_BYTES 180

enum config_section_kind {
	CONFIG_SECTION_SERVER,
	CONFIG_SECTION_LISTEN,
	CONFIG_SECTION_DOMAIN,
	CONFIG_SECTION_TLS,		/* [tls], no name */
	CONFIG_SECTION_TLS_CERT,	/* [tls NAME] */
	CONFIG_SECTION_LIMITS,
	CONFIG_SECTION_QUEUE,
	CONFIG_SECTION_RELAY,
};

enum config_type {
	CONFIG_TYPE_HOSTNAME,
	CONFIG_TYPE_PATH,
	CONFIG_TYPE_USER,
	CONFIG_TYPE_UINT,
	CONFIG_TYPE_SIZE,
	CONFIG_TYPE_DURATION,
	CONFIG_TYPE_BARE_NEWLINE,
	CONFIG_TYPE_LOG_LEVEL,
	CONFIG_TYPE_ADDRESS,
	CONFIG_TYPE_ROLE,
	CONFIG_TYPE_LOCALPART,
	CONFIG_TYPE_CIPHERS,
	CONFIG_TYPE_HOSTNAMES,
	CONFIG_TYPE_RESOLVERS,
	CONFIG_TYPE_RELAY_HOST,
	CONFIG_TYPE_RELAY_TLS,
	CONFIG_TYPE_TEXT,
};

/* One row of config_keys.def, with the offset of its field. */
struct config_key {
	enum config_section_kind section;
	const char *key;
	enum config_type type;
	const char *def;
	uint64_t min;
	uint64_t max;
	size_t offset;		/* in struct config, _listen, _domain or
				 * _tls_cert */
};

/* "key = value" as the INI pass saw it. */
struct config_raw_entry {
	char *key;
	char *value;
	unsigned line;
};

/* One [section] header and the entries under it, in file order. */
struct config_raw_section {
	enum config_section_kind kind;
	char *name;		/* NAME of [listen|domain|tls NAME], or NULL */
	unsigned line;
	struct config_raw_entry *entries;
	size_t n_entries;
};

struct config_raw {
	struct config_raw_section *sections;
	size_t n_sections;
	unsigned n_lines;	/* lines in the file */
};

/* Where errors go while one config (or one list file) is loaded. */
struct config_ctx {
	const char *file;	/* the config file, for messages */
	struct buf *err;
	unsigned n_errors;
	/*
	 * The files the config names (users, aliases, certificates, the
	 * relay password) are neither read nor checked: a client command
	 * needs the spool and the limits only.
	 */
	bool no_files;
};

/* Appends "FILE:LINE: ...\n" (file NULL: ctx->file) and counts it. */
ATTR_FORMAT(4, 5) void config_error(struct config_ctx *ctx, const char *file,
    unsigned line, const char *fmt, ...);

/*
 * The passes return 0, or -1 with errors in ctx; a caller that wants
 * every error reported runs the next pass anyway and checks ctx.
 */
/* config_raw.c: the INI pass. */
int config_raw_parse(struct config_raw *raw, const char *text,
    size_t len, struct config_ctx *ctx);
void config_raw_clear(struct config_raw *raw);
/* The entry key of the section kind/name (name compared ignoring case). */
const struct config_raw_entry *config_raw_find(const struct config_raw *raw,
    enum config_section_kind kind, const char *name, const char *key);

/* config_keys.c: the typing pass. */
int config_keys_apply(struct config *cfg,
    const struct config_raw *raw, struct config_ctx *ctx);

/* config_check.c: the combination pass, after the lists are read. */
int config_check(struct config *cfg, const struct config_raw *raw,
    struct config_ctx *ctx);

/* config_users.c, config_aliases.c: read the files a domain names. */
int config_users_load(struct config_domain *d, unsigned line,
    struct config_ctx *ctx);
int config_aliases_load(struct config_domain *d, unsigned line,
    struct config_ctx *ctx);

/*
 * config_file.c: reads a whole regular file of at most max bytes into a
 * NUL-terminated heap string.  0, or -1 with errno set (EFBIG: too big).
 */
ATTR_WUR int config_file_read(const char *path, size_t max, char **text_r,
    size_t *len_r);
/*
 * Steps *pos through [*pos, end) one line at a time: sets the line
 * without its LF or CRLF and returns true, or false at the end.
 */
bool config_file_next_line(const char **pos, const char *end,
    const char **line_r, size_t *len_r);

/* config_name.c: syntax of names, no lookups. */
bool config_name_is_domain(const char *s, size_t len);
/* A local part usable as a mailbox directory: dot-atom without '/'. */
bool config_name_is_local(const char *s, size_t len);
/* NAME of [listen NAME]: letters, digits, '-', '_', '.'. */
bool config_name_is_listen(const char *s);
/* A login name for [server] user. */
bool config_name_is_user(const char *s);
/* A hostname of [tls NAME]: a domain name, or "*." and a domain name. */
bool config_name_is_tls_hostname(const char *s, size_t len);
/*
 * Splits a [tls NAME] hostnames value at commas and blanks into
 * lowercased heap copies in *names_r (*n_r of them, at least one).  0,
 * or -1 if a name is malformed or there is none; nothing is then set.
 */
ATTR_WUR int config_name_parse_hostnames(const char *s, char ***names_r,
    size_t *n_r);
/*
 * A numeric "host:port" or "[ipv6]:port".  Sets heap copies of the host
 * (normalized by inet_ntop, no brackets) and the port.  0 or -1.
 */
ATTR_WUR int config_name_parse_address(const char *s, char **host_r,
    char **port_r);
/*
 * A [server] resolver list: numeric addresses as for
 * config_name_parse_address(), separated by commas and/or blanks, at
 * most CONFIG_RESOLVERS_MAX.  Sets a heap copy joined by "," (the form
 * dns_new() takes).  0 or -1.
 */
ATTR_WUR int config_name_parse_resolvers(const char *s, char **list_r);
/*
 * A [relay] host: "name:port", "a.b.c.d:port" or "[ipv6]:port".  Sets a
 * heap copy of the host (lowercased name, or numeric without brackets)
 * and the port.  0 or -1.
 */
ATTR_WUR int config_name_parse_relay(const char *s, char **host_r,
    uint64_t *port_r);

#endif
