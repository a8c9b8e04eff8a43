/* SPDX-License-Identifier: ISC */
/*
 * Syntax checks for the names a config holds: domain names (RFC 1035
 * 2.3.1 LDH labels, RFC 5321 4.5.3.1.2 length), local parts that become
 * Maildir directory names (RFC 5321 4.1.2 dot-atom, minus '/'), listener
 * names, login names, numeric listen addresses and the hostnames of a
 * [tls NAME] (RFC 6125 6.4.3 wildcards, one whole leftmost label only),
 * resolver lists and the [relay] host.  No lookups here.
 */
#include "config/config_private.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/str.h"
#include "core/xalloc.h"

static bool
config_name_is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

bool
config_name_is_domain(const char *s, size_t len)
{
	size_t i, label = 0;

	if (len == 0 || len > CONFIG_DOMAIN_MAX_BYTES)
		return false;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.') {
			/* No empty label, no label ending in '-'. */
			if (label == 0 || s[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!config_name_is_alnum(c) && c != '-')
			return false;
		if (c == '-' && label == 0)
			return false;
		if (++label > CONFIG_LABEL_MAX_BYTES)
			return false;
	}
	/* No trailing dot: tern matches domain names strictly. */
	return label > 0 && s[len - 1] != '-';
}

/* RFC 5322 3.2.3 atext, without '/' so that a name is one directory. */
static bool
config_name_is_atext(unsigned char c)
{
	return config_name_is_alnum(c) || (c != '\0' &&
	    strchr("!#$%&'*+-=?^_`{|}~", c) != NULL);
}

bool
config_name_is_local(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i, n;

	if (len == 0 || len > CONFIG_LOCAL_MAX_BYTES)
		return false;
	if (s[0] == '.' || s[len - 1] == '.')
		return false;
	for (i = 0; i < len; i += n) {
		n = 1;
		if (u[i] >= 0x80) {
			/* RFC 6531 3.3: UTF-8 local parts with SMTPUTF8. */
			n = str_utf8_len(u + i, len - i);
			if (n == 0)
				return false;
		} else if (u[i] == '.') {
			if (s[i + 1] == '.')
				return false;
		} else if (!config_name_is_atext(u[i])) {
			return false;
		}
	}
	return true;
}

bool
config_name_is_listen(const char *s)
{
	size_t i, len = strlen(s);

	if (len == 0 || len > CONFIG_NAME_MAX_BYTES)
		return false;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!config_name_is_alnum(c) && c != '-' && c != '_' &&
		    c != '.')
			return false;
	}
	return true;
}

bool
config_name_is_user(const char *s)
{
	size_t i, len = strlen(s);

	/* POSIX portable user names, with a leading letter or '_'. */
	if (len == 0 || len > CONFIG_USER_MAX_BYTES || s[0] == '-' ||
	    s[0] == '.' || (s[0] >= '0' && s[0] <= '9'))
		return false;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!config_name_is_alnum(c) && c != '-' && c != '_' &&
		    c != '.')
			return false;
	}
	return true;
}

bool
config_name_is_tls_hostname(const char *s, size_t len)
{
	/*
	 * "*.rest" only: a partial label ("mail*.example") or a wildcard
	 * further right is what RFC 6125 6.4.3 allows clients to refuse.
	 */
	if (len >= 2 && s[0] == '*' && s[1] == '.')
		return config_name_is_domain(s + 2, len - 2);
	return config_name_is_domain(s, len);
}

static bool
config_name_is_list_sep(char c)
{
	return c == ',' || c == ' ' || c == '\t';
}

int
config_name_parse_hostnames(const char *s, char ***names_r, size_t *n_r)
{
	char **names = NULL;
	size_t n = 0, len, i;

	for (;;) {
		while (config_name_is_list_sep(*s))
			s++;
		if (*s == '\0')
			break;
		for (len = 0; s[len] != '\0' && !config_name_is_list_sep(s[len]);
		    len++)
			continue;
		if (!config_name_is_tls_hostname(s, len))
			goto fail;
		names = xreallocarray(names, n + 1, sizeof(*names));
		names[n++] = str_lower(xstrndup(s, len));
		s += len;
	}
	if (n == 0)
		return -1;
	*names_r = names;
	*n_r = n;
	return 0;
fail:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return -1;
}

int
config_name_parse_address(const char *s, char **host_r, char **port_r)
{
	char host[INET6_ADDRSTRLEN + 1], norm[INET6_ADDRSTRLEN];
	const char *colon, *port;
	unsigned char addr[sizeof(struct in6_addr)];
	uint64_t portnum;
	size_t hlen;
	int af;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (close == NULL || close[1] != ':')
			return -1;
		hlen = (size_t)(close - s - 1);
		if (hlen == 0 || hlen >= sizeof(host))
			return -1;
		memcpy(host, s + 1, hlen);
		host[hlen] = '\0';
		port = close + 2;
		af = AF_INET6;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL)
			return -1;
		hlen = (size_t)(colon - s);
		if (hlen == 0 || hlen >= sizeof(host))
			return -1;
		memcpy(host, s, hlen);
		host[hlen] = '\0';
		port = colon + 1;
		af = AF_INET;
	}
	if (inet_pton(af, host, addr) != 1)
		return -1;
	if (parse_uint(port, 1, 65535, &portnum) == -1)
		return -1;
	if (inet_ntop(af, addr, norm, sizeof(norm)) == NULL)
		return -1;
	*host_r = xstrdup(norm);
	*port_r = xasprintf("%u", (unsigned)portnum);
	return 0;
}

int
config_name_parse_resolvers(const char *s, char **list_r)
{
	char one[INET6_ADDRSTRLEN + 16], *host, *port;
	struct buf out;
	size_t n = 0, len;
	const char *p = s;
	int rc = 0;

	buf_init(&out, 64, 0);
	while (rc == 0 && *p != '\0') {
		while (*p == ',' || *p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		len = strcspn(p, ", \t");
		if (len >= sizeof(one) || ++n > CONFIG_RESOLVERS_MAX) {
			rc = -1;
			break;
		}
		memcpy(one, p, len);
		one[len] = '\0';
		p += len;
		if (config_name_parse_address(one, &host, &port) == -1) {
			rc = -1;
			break;
		}
		rc = buf_printf(&out, strchr(host, ':') != NULL ?
		    "%s[%s]:%s" : "%s%s:%s", n > 1 ? "," : "", host, port);
		free(host);
		free(port);
	}
	if (rc == -1 || n == 0) {
		buf_clear(&out);
		return -1;
	}
	*list_r = buf_steal(&out);
	return 0;
}

int
config_name_parse_relay(const char *s, char **host_r, uint64_t *port_r)
{
	const char *colon;
	char *host, *port;
	size_t hlen;

	if (config_name_parse_address(s, &host, &port) == 0) {
		if (parse_uint(port, 1, 65535, port_r) == -1)
			log_panic("config_name_parse_relay: port %s", port);
		free(port);
		*host_r = host;
		return 0;
	}
	colon = strrchr(s, ':');
	if (colon == NULL || s[0] == '[')
		return -1;
	hlen = (size_t)(colon - s);
	if (!config_name_is_domain(s, hlen) ||
	    parse_uint(colon + 1, 1, 65535, port_r) == -1)
		return -1;
	*host_r = str_lower(xstrndup(s, hlen));
	return 0;
}
