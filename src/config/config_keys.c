/* SPDX-License-Identifier: ISC */
/*
 * The typing pass: every raw entry is looked up in the key table built
 * from config_keys.def, converted to its type and range-checked, and
 * stored in its field.  Unknown and repeated keys are errors.  Checks
 * that involve more than one key are left to config_check.c.
 */
#include "config/config_private.h"

#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/str.h"
#include "core/xalloc.h"

#define CONFIG_KEYS_STRUCT_SERVER struct config
#define CONFIG_KEYS_STRUCT_LISTEN struct config_listen
#define CONFIG_KEYS_STRUCT_DOMAIN struct config_domain
#define CONFIG_KEYS_STRUCT_TLS struct config
#define CONFIG_KEYS_STRUCT_TLS_CERT struct config_tls_cert
#define CONFIG_KEYS_STRUCT_LIMITS struct config
#define CONFIG_KEYS_STRUCT_QUEUE struct config
#define CONFIG_KEYS_STRUCT_RELAY struct config

/* The C type of the field each key type stores into. */
#define CONFIG_KEYS_CTYPE_HOSTNAME char *
#define CONFIG_KEYS_CTYPE_PATH char *
#define CONFIG_KEYS_CTYPE_USER char *
#define CONFIG_KEYS_CTYPE_UINT uint64_t
#define CONFIG_KEYS_CTYPE_SIZE uint64_t
#define CONFIG_KEYS_CTYPE_DURATION uint64_t
#define CONFIG_KEYS_CTYPE_BARE_NEWLINE enum bare_newline_policy
#define CONFIG_KEYS_CTYPE_LOG_LEVEL char *
#define CONFIG_KEYS_CTYPE_ADDRESS char *
#define CONFIG_KEYS_CTYPE_ROLE enum listen_role
#define CONFIG_KEYS_CTYPE_LOCALPART char *
#define CONFIG_KEYS_CTYPE_CIPHERS char *
#define CONFIG_KEYS_CTYPE_HOSTNAMES char **
#define CONFIG_KEYS_CTYPE_RESOLVERS char *
#define CONFIG_KEYS_CTYPE_RELAY_HOST char *
#define CONFIG_KEYS_CTYPE_RELAY_TLS enum relay_tls_mode
#define CONFIG_KEYS_CTYPE_TEXT char *

/* A key whose field has the wrong type does not compile. */
#define CONFIG_KEY(sec, key, type, def, min, max, field, doc)               \
	_Static_assert(_Generic(((CONFIG_KEYS_STRUCT_##sec *)0)->field,     \
	    CONFIG_KEYS_CTYPE_##type: 1, default: 0),                       \
	    "config_keys.def: " #key ": field type does not match");
#include "config/config_keys.def"
#undef CONFIG_KEY

static const struct config_key config_keys_table[] = {
#define CONFIG_KEY(sec, key, type, def, min, max, field, doc)               \
	{ CONFIG_SECTION_##sec, #key, CONFIG_TYPE_##type, def, min, max,    \
	    offsetof(CONFIG_KEYS_STRUCT_##sec, field) },
#include "config/config_keys.def"
#undef CONFIG_KEY
};

static const char *const config_keys_section_names[] = {
	[CONFIG_SECTION_SERVER] = "server",
	[CONFIG_SECTION_LISTEN] = "listen",
	[CONFIG_SECTION_DOMAIN] = "domain",
	[CONFIG_SECTION_TLS] = "tls",
	[CONFIG_SECTION_TLS_CERT] = "tls NAME",
	[CONFIG_SECTION_LIMITS] = "limits",
	[CONFIG_SECTION_QUEUE] = "queue",
	[CONFIG_SECTION_RELAY] = "relay",
};

/* Names for config_keys(), the docs and check-config --defaults. */
#define CONFIG_KEYS_SECTION_SERVER "server"
#define CONFIG_KEYS_SECTION_LISTEN "listen"
#define CONFIG_KEYS_SECTION_DOMAIN "domain"
#define CONFIG_KEYS_SECTION_TLS "tls"
#define CONFIG_KEYS_SECTION_TLS_CERT "tls NAME"
#define CONFIG_KEYS_SECTION_LIMITS "limits"
#define CONFIG_KEYS_SECTION_QUEUE "queue"
#define CONFIG_KEYS_SECTION_RELAY "relay"
#define CONFIG_KEYS_TYPE_HOSTNAME "hostname"
#define CONFIG_KEYS_TYPE_PATH "path"
#define CONFIG_KEYS_TYPE_USER "user name"
#define CONFIG_KEYS_TYPE_UINT "integer"
#define CONFIG_KEYS_TYPE_SIZE "size"
#define CONFIG_KEYS_TYPE_DURATION "duration"
#define CONFIG_KEYS_TYPE_BARE_NEWLINE "reject | normalize"
#define CONFIG_KEYS_TYPE_LOG_LEVEL "debug | info | notice | warn | err"
#define CONFIG_KEYS_TYPE_ADDRESS "address"
#define CONFIG_KEYS_TYPE_ROLE "mx | submission | submissions"
#define CONFIG_KEYS_TYPE_LOCALPART "local part"
#define CONFIG_KEYS_TYPE_CIPHERS "cipher list"
#define CONFIG_KEYS_TYPE_HOSTNAMES "hostname list"
#define CONFIG_KEYS_TYPE_RESOLVERS "address list"
#define CONFIG_KEYS_TYPE_RELAY_HOST "host:port"
#define CONFIG_KEYS_TYPE_RELAY_TLS "starttls | implicit | none"
#define CONFIG_KEYS_TYPE_TEXT "text"

static const struct config_key_info config_keys_info[] = {
#define CONFIG_KEY(sec, key, type, def, min, max, field, doc)               \
	{ CONFIG_KEYS_SECTION_##sec, #key, CONFIG_KEYS_TYPE_##type, def,    \
	    min, max, doc },
#include "config/config_keys.def"
#undef CONFIG_KEY
};

const struct config_key_info *
config_keys(size_t *n_r)
{
	*n_r = N_ELEMENTS(config_keys_info);
	return config_keys_info;
}

static const char *const config_keys_log_levels[] = {
	"debug", "info", "notice", "warn", "err",
};

/*
 * What an OpenSSL cipher string is written with: names, ':' ',' or ' '
 * between them, '!' '-' '+' before them, "@STRENGTH", "@SECLEVEL=n".
 * Whether the names exist is for OpenSSL to say when tern starts.
 */
static bool
config_keys_is_cipher_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || (c != '\0' &&
	    strchr("-_.:, +!@=", c) != NULL);
}

static char **
config_keys_str_field(void *base, const struct config_key *k)
{
	return (char **)(void *)((char *)base + k->offset);
}

static uint64_t *
config_keys_uint_field(void *base, const struct config_key *k)
{
	return (uint64_t *)(void *)((char *)base + k->offset);
}

static void
config_keys_set_str(void *base, const struct config_key *k, char *value)
{
	char **field = config_keys_str_field(base, k);

	free(*field);
	*field = value;
}

/*
 * Converts value for key k and stores it in base (the struct of k's
 * section).  0, or -1 with what was expected in *why_r.
 */
static int
config_keys_convert(const struct config_key *k, const char *value,
    void *base, const char **why_r)
{
	struct config_tls_cert *tc;
	struct config *cfg = base;
	uint64_t v;
	size_t i, n;
	char *host, *port, **names;

	*why_r = "a value";
	if (*value == '\0')
		return -1;
	switch (k->type) {
	case CONFIG_TYPE_HOSTNAME:
		*why_r = "a domain name (letters, digits, '-', dots)";
		if (!config_name_is_domain(value, strlen(value)))
			return -1;
		config_keys_set_str(base, k, str_lower(xstrdup(value)));
		return 0;
	case CONFIG_TYPE_PATH:
		*why_r = "a path of at most 4095 bytes";
		if (strlen(value) > CONFIG_PATH_MAX_BYTES)
			return -1;
		config_keys_set_str(base, k, xstrdup(value));
		return 0;
	case CONFIG_TYPE_USER:
		*why_r = "a login name (letters, digits, '-', '_', '.')";
		if (!config_name_is_user(value))
			return -1;
		config_keys_set_str(base, k, xstrdup(value));
		return 0;
	case CONFIG_TYPE_UINT:
		*why_r = "a whole number in range";
		if (parse_uint(value, k->min, k->max, &v) == -1)
			return -1;
		*config_keys_uint_field(base, k) = v;
		return 0;
	case CONFIG_TYPE_SIZE:
		*why_r = "a size in range, with an optional K, M or G suffix";
		if (parse_size(value, &v) == -1 || v < k->min || v > k->max)
			return -1;
		*config_keys_uint_field(base, k) = v;
		return 0;
	case CONFIG_TYPE_DURATION:
		*why_r = "a duration in range, with an optional s, m, h or d "
		    "suffix";
		if (parse_duration(value, &v) == -1 || v < k->min ||
		    v > k->max)
			return -1;
		*config_keys_uint_field(base, k) = v;
		return 0;
	case CONFIG_TYPE_BARE_NEWLINE:
		*why_r = "reject or normalize";
		if (strcmp(value, "reject") == 0)
			((struct config *)base)->bare_newline =
			    BARE_NEWLINE_REJECT;
		else if (strcmp(value, "normalize") == 0)
			((struct config *)base)->bare_newline =
			    BARE_NEWLINE_NORMALIZE;
		else
			return -1;
		return 0;
	case CONFIG_TYPE_LOG_LEVEL:
		*why_r = "debug, info, notice, warn or err";
		for (i = 0; i < N_ELEMENTS(config_keys_log_levels); i++) {
			if (strcmp(value, config_keys_log_levels[i]) == 0) {
				config_keys_set_str(base, k, xstrdup(value));
				return 0;
			}
		}
		return -1;
	case CONFIG_TYPE_ADDRESS:
		*why_r = "a numeric host:port or [ipv6]:port";
		if (config_name_parse_address(value, &host, &port) == -1)
			return -1;
		config_keys_set_str(base, k, xstrdup(value));
		free(((struct config_listen *)base)->host);
		free(((struct config_listen *)base)->port);
		((struct config_listen *)base)->host = host;
		((struct config_listen *)base)->port = port;
		return 0;
	case CONFIG_TYPE_ROLE:
		*why_r = "mx, submission or submissions";
		if (strcmp(value, "mx") == 0)
			((struct config_listen *)base)->role = LISTEN_ROLE_MX;
		else if (strcmp(value, "submission") == 0)
			((struct config_listen *)base)->role =
			    LISTEN_ROLE_SUBMISSION;
		else if (strcmp(value, "submissions") == 0)
			((struct config_listen *)base)->role =
			    LISTEN_ROLE_SUBMISSIONS;
		else
			return -1;
		return 0;
	case CONFIG_TYPE_LOCALPART:
		*why_r = "a local part (user or alias name)";
		if (!config_name_is_local(value, strlen(value)))
			return -1;
		config_keys_set_str(base, k, str_lower(xstrdup(value)));
		return 0;
	case CONFIG_TYPE_CIPHERS:
		*why_r = "an OpenSSL cipher list (letters, digits and "
		    "-_.:,+!@= only)";
		for (i = 0; value[i] != '\0'; i++) {
			if (!config_keys_is_cipher_char((unsigned char)value[i]))
				return -1;
		}
		config_keys_set_str(base, k, xstrdup(value));
		return 0;
	case CONFIG_TYPE_HOSTNAMES:
		*why_r = "domain names or *.domain, separated by commas or "
		    "blanks";
		if (config_name_parse_hostnames(value, &names, &n) == -1)
			return -1;
		tc = base;
		for (i = 0; i < tc->n_hostnames; i++)
			free(tc->hostnames[i]);
		free(tc->hostnames);
		tc->hostnames = names;
		tc->n_hostnames = n;
		return 0;
	case CONFIG_TYPE_RESOLVERS:
		*why_r = "numeric host:port or [ipv6]:port addresses, "
		    "separated by commas (at most 8)";
		if (config_name_parse_resolvers(value, &host) == -1)
			return -1;
		config_keys_set_str(base, k, host);
		return 0;
	case CONFIG_TYPE_RELAY_HOST:
		*why_r = "host:port (a domain name or numeric address, "
		    "[ipv6]:port)";
		if (config_name_parse_relay(value, &host, &v) == -1)
			return -1;
		config_keys_set_str(base, k, host);
		cfg->relay_port = v;
		return 0;
	case CONFIG_TYPE_RELAY_TLS:
		*why_r = "starttls, implicit or none";
		if (strcmp(value, "starttls") == 0)
			cfg->relay_tls = RELAY_TLS_STARTTLS;
		else if (strcmp(value, "implicit") == 0)
			cfg->relay_tls = RELAY_TLS_IMPLICIT;
		else if (strcmp(value, "none") == 0)
			cfg->relay_tls = RELAY_TLS_NONE;
		else
			return -1;
		return 0;
	case CONFIG_TYPE_TEXT:
		*why_r = "printable text without blanks, at most 255 bytes";
		for (i = 0; value[i] != '\0'; i++) {
			if ((unsigned char)value[i] <= 0x20 ||
			    (unsigned char)value[i] >= 0x7f)
				return -1;
		}
		if (i > CONFIG_TEXT_MAX_BYTES)
			return -1;
		config_keys_set_str(base, k, xstrdup(value));
		return 0;
	}
	log_panic("config_keys_convert: type %d", (int)k->type);
}

/* Sets every key of section kind that has a default. */
static void
config_keys_defaults(enum config_section_kind kind, void *base)
{
	const char *why;
	size_t i;

	for (i = 0; i < N_ELEMENTS(config_keys_table); i++) {
		const struct config_key *k = &config_keys_table[i];

		if (k->section != kind || k->def == NULL)
			continue;
		if (config_keys_convert(k, k->def, base, &why) == -1)
			log_panic("config_keys.def: bad default for %s",
			    k->key);
	}
}

static const struct config_key *
config_keys_find(enum config_section_kind kind, const char *key)
{
	size_t i;

	for (i = 0; i < N_ELEMENTS(config_keys_table); i++) {
		if (config_keys_table[i].section == kind &&
		    strcmp(config_keys_table[i].key, key) == 0)
			return &config_keys_table[i];
	}
	return NULL;
}

/* Applies the entries of one section to base, reporting each bad one. */
static void
config_keys_section(const struct config_raw_section *sec, void *base,
    struct config_ctx *ctx)
{
	char skey[80], sval[120];
	const char *why;
	size_t i, j;

	for (i = 0; i < sec->n_entries; i++) {
		const struct config_raw_entry *e = &sec->entries[i];
		const struct config_key *k = config_keys_find(sec->kind,
		    e->key);

		str_sanitize(skey, sizeof(skey), e->key, strlen(e->key));
		if (k == NULL) {
			config_error(ctx, NULL, e->line, "%s: unknown key in "
			    "[%s]", skey, config_keys_section_names[sec->kind]);
			continue;
		}
		for (j = 0; j < i; j++) {
			if (strcmp(sec->entries[j].key, e->key) == 0)
				break;
		}
		if (j < i) {
			config_error(ctx, NULL, e->line, "%s: duplicate key "
			    "(first set on line %u)", skey,
			    sec->entries[j].line);
			continue;
		}
		if (config_keys_convert(k, e->value, base, &why) == -1) {
			str_sanitize(sval, sizeof(sval), e->value,
			    strlen(e->value));
			if (k->type == CONFIG_TYPE_UINT ||
			    k->type == CONFIG_TYPE_SIZE ||
			    k->type == CONFIG_TYPE_DURATION)
				config_error(ctx, NULL, e->line, "%s: bad value "
				    "\"%s\": expected %s (%llu to %llu%s)",
				    skey, sval, why,
				    (unsigned long long)k->min,
				    (unsigned long long)k->max,
				    k->type == CONFIG_TYPE_SIZE ? " bytes" :
				    k->type == CONFIG_TYPE_DURATION ?
				    " seconds" : "");
			else
				config_error(ctx, NULL, e->line, "%s: bad value "
				    "\"%s\": expected %s", skey, sval, why);
		}
	}
}

/* gethostname(), if it is a usable domain name, else "localhost". */
static char *
config_keys_default_hostname(void)
{
	char name[CONFIG_DOMAIN_MAX_BYTES + 1];

	if (gethostname(name, sizeof(name)) == -1)
		return xstrdup("localhost");
	name[sizeof(name) - 1] = '\0';
	if (!config_name_is_domain(name, strlen(name)))
		return xstrdup("localhost");
	return str_lower(xstrdup(name));
}

static void
config_keys_listen(struct config *cfg, const struct config_raw_section *sec,
    struct config_ctx *ctx)
{
	struct config_listen *l;
	char safe[80];

	if (!config_name_is_listen(sec->name)) {
		str_sanitize(safe, sizeof(safe), sec->name, strlen(sec->name));
		config_error(ctx, NULL, sec->line, "[listen %s]: bad name: "
		    "expected letters, digits, '-', '_' or '.'", safe);
		return;
	}
	cfg->listens = xreallocarray(cfg->listens, cfg->n_listens + 1,
	    sizeof(*cfg->listens));
	l = &cfg->listens[cfg->n_listens++];
	memset(l, 0, sizeof(*l));
	l->name = xstrdup(sec->name);
	l->line = sec->line;
	config_keys_defaults(CONFIG_SECTION_LISTEN, l);
	config_keys_section(sec, l, ctx);
}

static void
config_keys_tls_cert(struct config *cfg,
    const struct config_raw_section *sec, struct config_ctx *ctx)
{
	struct config_tls_cert *tc;
	char safe[80];

	if (!config_name_is_listen(sec->name)) {
		str_sanitize(safe, sizeof(safe), sec->name, strlen(sec->name));
		config_error(ctx, NULL, sec->line, "[tls %s]: bad name: "
		    "expected letters, digits, '-', '_' or '.'", safe);
		return;
	}
	cfg->tls_certs = xreallocarray(cfg->tls_certs, cfg->n_tls_certs + 1,
	    sizeof(*cfg->tls_certs));
	tc = &cfg->tls_certs[cfg->n_tls_certs++];
	memset(tc, 0, sizeof(*tc));
	tc->name = xstrdup(sec->name);
	tc->line = sec->line;
	config_keys_defaults(CONFIG_SECTION_TLS_CERT, tc);
	config_keys_section(sec, tc, ctx);
}

/*
 * For sections allowed once ([server], [tls], [limits], [queue],
 * [relay]): true the first
 * time, with its line kept in *first_line; false and an error after.
 */
static bool
config_keys_once(const struct config_raw_section *sec, unsigned *first_line,
    struct config_ctx *ctx)
{
	if (*first_line != 0) {
		config_error(ctx, NULL, sec->line, "duplicate [%s] section "
		    "(first on line %u)", config_keys_section_names[sec->kind],
		    *first_line);
		return false;
	}
	*first_line = sec->line;
	return true;
}

static void
config_keys_domain(struct config *cfg, const struct config_raw_section *sec,
    struct config_ctx *ctx)
{
	struct config_domain *d;
	char safe[80];

	if (!config_name_is_domain(sec->name, strlen(sec->name))) {
		str_sanitize(safe, sizeof(safe), sec->name, strlen(sec->name));
		config_error(ctx, NULL, sec->line, "[domain %s]: bad domain "
		    "name: expected letters, digits, '-' and dots", safe);
		return;
	}
	cfg->domains = xreallocarray(cfg->domains, cfg->n_domains + 1,
	    sizeof(*cfg->domains));
	d = &cfg->domains[cfg->n_domains++];
	memset(d, 0, sizeof(*d));
	d->name = str_lower(xstrdup(sec->name));
	d->line = sec->line;
	config_keys_defaults(CONFIG_SECTION_DOMAIN, d);
	config_keys_section(sec, d, ctx);
}

int
config_keys_apply(struct config *cfg, const struct config_raw *raw,
    struct config_ctx *ctx)
{
	unsigned before = ctx->n_errors;
	unsigned server_line = 0, tls_line = 0, limits_line = 0;
	unsigned queue_line = 0, relay_line = 0;
	size_t i;

	config_keys_defaults(CONFIG_SECTION_SERVER, cfg);
	config_keys_defaults(CONFIG_SECTION_TLS, cfg);
	config_keys_defaults(CONFIG_SECTION_LIMITS, cfg);
	config_keys_defaults(CONFIG_SECTION_QUEUE, cfg);
	config_keys_defaults(CONFIG_SECTION_RELAY, cfg);
	for (i = 0; i < raw->n_sections; i++) {
		const struct config_raw_section *sec = &raw->sections[i];

		switch (sec->kind) {
		case CONFIG_SECTION_SERVER:
			if (config_keys_once(sec, &server_line, ctx))
				config_keys_section(sec, cfg, ctx);
			break;
		case CONFIG_SECTION_TLS:
			if (config_keys_once(sec, &tls_line, ctx))
				config_keys_section(sec, cfg, ctx);
			break;
		case CONFIG_SECTION_LIMITS:
			if (config_keys_once(sec, &limits_line, ctx))
				config_keys_section(sec, cfg, ctx);
			break;
		case CONFIG_SECTION_QUEUE:
			if (config_keys_once(sec, &queue_line, ctx))
				config_keys_section(sec, cfg, ctx);
			break;
		case CONFIG_SECTION_RELAY:
			if (config_keys_once(sec, &relay_line, ctx))
				config_keys_section(sec, cfg, ctx);
			break;
		case CONFIG_SECTION_TLS_CERT:
			config_keys_tls_cert(cfg, sec, ctx);
			break;
		case CONFIG_SECTION_LISTEN:
			config_keys_listen(cfg, sec, ctx);
			break;
		case CONFIG_SECTION_DOMAIN:
			config_keys_domain(cfg, sec, ctx);
			break;
		}
	}
	if (cfg->hostname == NULL)
		cfg->hostname = config_keys_default_hostname();
	return ctx->n_errors == before ? 0 : -1;
}
