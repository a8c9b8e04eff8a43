/* SPDX-License-Identifier: ISC */
/*
 * Splits a recipient path into local part and domain (RFC 5321 4.1.2):
 * a dot-atom or a quoted string, whose quoted pairs are undone so that
 * "\"alice\"@example.test" and "alice@example.test" name one mailbox.
 * Full syntax checking is the SMTP parser's job; this only has to be
 * safe on any input.
 */
#include "policy/policy_private.h"

#include <string.h>

#include "core/str.h"
#include "core/xalloc.h"

int
policy_addr_parse(const char *addr, struct policy_addr *a)
{
	size_t len = strnlen(addr, POLICY_ADDR_MAX_BYTES + 1), i, o = 0;
	const char *at;
	char *local;

	memset(a, 0, sizeof(*a));
	if (len == 0 || len > POLICY_ADDR_MAX_BYTES)
		return -1;
	local = xmalloc(len + 1);
	if (addr[0] == '"') {
		/* quoted-string: qtext and quoted-pair up to the DQUOTE. */
		for (i = 1; i < len && addr[i] != '"'; i++) {
			if (addr[i] == '\\' && i + 1 < len)
				i++;
			local[o++] = addr[i];
		}
		if (i >= len)
			goto fail;
		at = addr + i + 1;
		if (*at != '@' && *at != '\0')
			goto fail;
	} else {
		/* A dot-atom cannot hold '@', so the first one splits. */
		at = strchr(addr, '@');
		o = at != NULL ? (size_t)(at - addr) : len;
		memcpy(local, addr, o);
	}
	local[o] = '\0';
	if (o == 0)
		goto fail;
	a->local = local;
	a->local_raw = xstrndup(addr, at != NULL && *at == '@' ?
	    (size_t)(at - addr) : len);
	if (at != NULL && *at == '@') {
		if (at[1] == '\0' || strchr(at + 1, '@') != NULL) {
			policy_addr_clear(a);
			return -1;
		}
		a->domain = str_lower(xstrdup(at + 1));
	}
	return 0;
fail:
	free(local);
	return -1;
}

void
policy_addr_clear(struct policy_addr *a)
{
	free(a->local);
	free(a->local_raw);
	free(a->domain);
	memset(a, 0, sizeof(*a));
}
