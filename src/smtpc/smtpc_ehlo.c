/* SPDX-License-Identifier: ISC */
/*
 * Reads the EHLO reply's extension lines (RFC 5321 4.1.1.1, ehlo-line =
 * ehlo-keyword *( SP ehlo-param )).  Also takes the pre-RFC 4954
 * "AUTH=LOGIN PLAIN" spelling that some servers still send.  What the
 * client does with an extension is decided in smtpc_session.c.
 */
#include "smtpc/smtpc_ehlo.h"

#include <string.h>

#include "core/str.h"
#include "smtpc/smtpc_reply.h"

/* Compares a view with a keyword, ignoring ASCII case. */
static bool
smtpc_ehlo_is(const char *p, size_t len, const char *kw)
{
	return len == strlen(kw) && str_case_equal_n(p, kw, len);
}

/* SIZE's parameter (RFC 1870 4): the limit in octets, 0 when absent. */
static void
smtpc_ehlo_size(const char *p, size_t len, struct smtpc_ext *ext)
{
	uint64_t v;

	ext->size = true;
	ext->size_max = 0;
	if (len > 0 && parse_uint_n(p, len, 0, UINT64_MAX, &v) == 0)
		ext->size_max = v;
}

/* One ehlo-line: keyword, then parameters separated by spaces. */
static void
smtpc_ehlo_line(const char *line, size_t len, struct smtpc_ext *ext)
{
	size_t kw_len = 0, i;
	const char *params;
	size_t params_len;

	while (kw_len < len && line[kw_len] != ' ' && line[kw_len] != '=')
		kw_len++;
	params = line + kw_len;
	params_len = len - kw_len;
	if (params_len > 0) {
		params++;
		params_len--;
	}
	if (smtpc_ehlo_is(line, kw_len, "PIPELINING"))
		ext->pipelining = true;
	else if (smtpc_ehlo_is(line, kw_len, "SIZE"))
		smtpc_ehlo_size(params, params_len, ext);
	else if (smtpc_ehlo_is(line, kw_len, "8BITMIME"))
		ext->eightbitmime = true;
	else if (smtpc_ehlo_is(line, kw_len, "SMTPUTF8"))
		ext->smtputf8 = true;
	else if (smtpc_ehlo_is(line, kw_len, "STARTTLS"))
		ext->starttls = true;
	else if (smtpc_ehlo_is(line, kw_len, "ENHANCEDSTATUSCODES"))
		ext->enhancedstatuscodes = true;
	else if (smtpc_ehlo_is(line, kw_len, "CHUNKING"))
		ext->chunking = true;
	else if (smtpc_ehlo_is(line, kw_len, "AUTH")) {
		for (i = 0; i < params_len;) {
			size_t n = 0;

			while (i + n < params_len && params[i + n] != ' ')
				n++;
			if (smtpc_ehlo_is(params + i, n, "PLAIN"))
				ext->auth |= SMTPC_AUTH_PLAIN;
			else if (smtpc_ehlo_is(params + i, n, "LOGIN"))
				ext->auth |= SMTPC_AUTH_LOGIN;
			i += n + 1;
		}
	}
}

void
smtpc_ehlo_parse(const struct smtpc_reply *r, struct smtpc_ext *ext)
{
	const char *p = (const char *)r->text.data;
	size_t len = r->text.len, i, start;
	bool first = true;

	memset(ext, 0, sizeof(*ext));
	if (p == NULL)
		return;
	for (start = 0, i = 0; i <= len; i++) {
		if (i < len && p[i] != '\n')
			continue;
		/* The first line is the server's name and greeting. */
		if (!first)
			smtpc_ehlo_line(p + start, i - start, ext);
		first = false;
		start = i + 1;
	}
}
