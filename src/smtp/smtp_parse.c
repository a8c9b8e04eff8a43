/* SPDX-License-Identifier: ISC */
/*
 * SMTP command syntax: line framing, verb splitting, paths (RFC 5321
 * 4.1.2, with RFC 6531 UTF-8 and 4.5.3.1 length limits) and the ESMTP
 * parameters SIZE (RFC 1870), BODY (RFC 6152, RFC 3030), SMTPUTF8 and
 * AUTH (RFC 4954 5).
 * What a valid command means for the session is smtp_cmd.c's business.
 */
#include "smtp/smtp_parse.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "core/str.h"
#include "core/when.h"

/* Character classes of the RFC 5321 grammar, ASCII only, no locale. */
enum smtp_parse_class {
	SMTP_PC_A = 0x01,	/* atext (RFC 5322 3.2.3) */
	SMTP_PC_Q = 0x02,	/* qtextSMTP */
	SMTP_PC_L = 0x04,	/* Let-dig */
	SMTP_PC_H = 0x08,	/* "-" in Ldh-str */
	SMTP_PC_V = 0x10,	/* esmtp-value */
	SMTP_PC_P = 0x20,	/* printable, not space */
};

static const uint8_t smtp_parse_class_table[256] = {
	[' '] = SMTP_PC_Q,
	['!'] = SMTP_PC_A | SMTP_PC_Q | SMTP_PC_V | SMTP_PC_P,
	['"'] = SMTP_PC_V | SMTP_PC_P,
	['#'] = SMTP_PC_A | SMTP_PC_Q | SMTP_PC_V | SMTP_PC_P,
	['$'] = SMTP_PC_A | SMTP_PC_Q | SMTP_PC_V | SMTP_PC_P,
	['%'] = SMTP_PC_A | SMTP_PC_Q | SMTP_PC_V | SMTP_PC_P,
	['&'] = SMTP_PC_A | SMTP_PC_Q | SMTP_PC_V | SMTP_PC_P,
	['\''] = SMTP_PC_A | SMTP_PC_Q | SMTP_PC_V | SMTP_PC_P,
	['('] = SMTP_PC_Q | SMTP_PC_V | SMTP_PC_P,
	[')'] = SMTP_PC_Q | SMTP_PC_V | SMTP_PC_P,
	['*'] = SMTP_PC_A | SMTP_PC_Q | SMTP_PC_V | SMTP_PC_P,
	['+'] = SMTP_PC_A | SMTP_PC_Q | SMTP_PC_V | SMTP_PC_P,
	[','] = SMTP_PC_Q | SMTP_PC_V | SMTP_PC_P,
	['-'] = SMTP_PC_A | SMTP_PC_Q | SMTP_PC_H | SMTP_PC_V | SMTP_PC_P,
	['.'] = SMTP_PC_Q | SMTP_PC_V | SMTP_PC_P,
	['/'] = SMTP_PC_A | SMTP_PC_Q | SMTP_PC_V | SMTP_PC_P,
	['0'] = SMTP_PC_A | SMTP_PC_Q | SMTP_PC_L | SMTP_PC_V | SMTP_PC_P,
	['1'] = SMTP_PC_A | SMTP_PC_Q | SMTP_PC_L | SMTP_PC_V | SMTP_PC_P,
	['2'] = SMTP_PC_A | SMTP_PC_Q | SMTP_PC_L | SMTP_PC_V | SMTP_PC_P,
	['3'] = SMTP_PC_A | SMTP_PC_Q | SMTP_PC_L | SMTP_PC_V | SMTP_PC_P,
	['4'] = SMTP_PC_A | SMTP_PC_Q | SMTP_PC_L | SMTP_PC_V | SMTP_PC_P,
	['5'] = SMTP_PC_A | SMTP_PC_Q | SMTP_PC_L | SMTP_PC_V | SMTP_PC_P,
	['6'] = SMTP_PC_A | SMTP_PC_Q | SMTP_PC_L | SMTP_PC_V | SMTP_PC_P,
	['7'] = SMTP_PC_A | SMTP_PC_Q | SMTP_PC_L | SMTP_PC_V | SMTP_PC_P,
	['8'] = SMTP_PC_A | SMTP_PC_Q | SMTP_PC_L | SMTP_PC_V | SMTP_PC_P,
	['9'] = SMTP_PC_A | SMTP_PC_Q | SMTP_PC_L | SMTP_PC_V | SMTP_PC_P,
	[':'] = SMTP_PC_Q | SMTP_PC_V | SMTP_PC_P,
	[';'] = SMTP_PC_Q | SMTP_PC_V | SMTP_PC_P,
	['<'] = SMTP_PC_Q | SMTP_PC_V | SMTP_PC_P,
	['='] = SMTP_PC_A | SMTP_PC_Q | SMTP_PC_P,
	['>'] = SMTP_PC_Q | SMTP_PC_V | SMTP_PC_P,
	['?'] = SMTP_PC_A | SMTP_PC_Q | SMTP_PC_V | SMTP_PC_P,
	['@'] = SMTP_PC_Q | SMTP_PC_V | SMTP_PC_P,
	['A'] = SMTP_PC_A | SMTP_PC_Q | SMTP_PC_L | SMTP_PC_V | SMTP_PC_P,
	['B'] = SMTP_PC_A | SMTP_PC_Q | SMTP_PC_L | SMTP_PC_V | SMTP_PC_P,
	['C'] = SMTP_PC_A | SMTP_PC_Q | SMTP_PC_L | SMTP_PC_V | SMTP_PC_P,
	['D'] = SMTP_PC_A | SMTP_PC_Q | SMTP_PC_L | SMTP_PC_V | SMTP_PC_P,
	['E'] = SMTP_PC_A | SMTP_PC_Q | SMTP_PC_L | SMTP_PC_V | SMTP_PC_P,
	['F'] = SMTP_PC_A | SMTP_PC_Q | SMTP_PC_L | SMTP_PC_V | SMTP_PC_P,
	['G'] = SMTP_PC_A | SMTP_PC_Q | SMTP_PC_L | SMTP_PC_V | SMTP_PC_P,
	['H'] = SMTP_PC_A | SMTP_PC_Q | SMTP_PC_L | SMTP_PC_V | SMTP_PC_P,
	['I'] = SMTP_PC_A | SMTP_PC_Q | SMTP_PC_L | SMTP_PC_V | SMTP_PC_P,
	['J'] = SMTP_PC_A | SMTP_PC_Q | SMTP_PC_L | SMTP_PC_V | SMTP_PC_P,
	['K'] = SMTP_PC_A | SMTP_PC_Q | SMTP_PC_L | SMTP_PC_V | SMTP_PC_P,
	['L'] = SMTP_PC_A | SMTP_PC_Q | SMTP_PC_L | SMTP_PC_V | SMTP_PC_P,
	['M'] = SMTP_PC_A | SMTP_PC_Q | SMTP_PC_L | SMTP_PC_V | SMTP_PC_P,
	['N'] = SMTP_PC_A | SMTP_PC_Q | SMTP_PC_L | SMTP_PC_V | SMTP_PC_P,
	['O'] = SMTP_PC_A | SMTP_PC_Q | SMTP_PC_L | SMTP_PC_V | SMTP_PC_P,
	['P'] = SMTP_PC_A | SMTP_PC_Q | SMTP_PC_L | SMTP_PC_V | SMTP_PC_P,
	['Q'] = SMTP_PC_A | SMTP_PC_Q | SMTP_PC_L | SMTP_PC_V | SMTP_PC_P,
	['R'] = SMTP_PC_A | SMTP_PC_Q | SMTP_PC_L | SMTP_PC_V | SMTP_PC_P,
	['S'] = SMTP_PC_A | SMTP_PC_Q | SMTP_PC_L | SMTP_PC_V | SMTP_PC_P,
	['T'] = SMTP_PC_A | SMTP_PC_Q | SMTP_PC_L | SMTP_PC_V | SMTP_PC_P,
	['U'] = SMTP_PC_A | SMTP_PC_Q | SMTP_PC_L | SMTP_PC_V | SMTP_PC_P,
	['V'] = SMTP_PC_A | SMTP_PC_Q | SMTP_PC_L | SMTP_PC_V | SMTP_PC_P,
	['W'] = SMTP_PC_A | SMTP_PC_Q | SMTP_PC_L | SMTP_PC_V | SMTP_PC_P,
	['X'] = SMTP_PC_A | SMTP_PC_Q | SMTP_PC_L | SMTP_PC_V | SMTP_PC_P,
	['Y'] = SMTP_PC_A | SMTP_PC_Q | SMTP_PC_L | SMTP_PC_V | SMTP_PC_P,
	['Z'] = SMTP_PC_A | SMTP_PC_Q | SMTP_PC_L | SMTP_PC_V | SMTP_PC_P,
	['['] = SMTP_PC_Q | SMTP_PC_V | SMTP_PC_P,
	['\\'] = SMTP_PC_V | SMTP_PC_P,
	[']'] = SMTP_PC_Q | SMTP_PC_V | SMTP_PC_P,
	['^'] = SMTP_PC_A | SMTP_PC_Q | SMTP_PC_V | SMTP_PC_P,
	['_'] = SMTP_PC_A | SMTP_PC_Q | SMTP_PC_V | SMTP_PC_P,
	['`'] = SMTP_PC_A | SMTP_PC_Q | SMTP_PC_V | SMTP_PC_P,
	['a'] = SMTP_PC_A | SMTP_PC_Q | SMTP_PC_L | SMTP_PC_V | SMTP_PC_P,
	['b'] = SMTP_PC_A | SMTP_PC_Q | SMTP_PC_L | SMTP_PC_V | SMTP_PC_P,
	['c'] = SMTP_PC_A | SMTP_PC_Q | SMTP_PC_L | SMTP_PC_V | SMTP_PC_P,
	['d'] = SMTP_PC_A | SMTP_PC_Q | SMTP_PC_L | SMTP_PC_V | SMTP_PC_P,
	['e'] = SMTP_PC_A | SMTP_PC_Q | SMTP_PC_L | SMTP_PC_V | SMTP_PC_P,
	['f'] = SMTP_PC_A | SMTP_PC_Q | SMTP_PC_L | SMTP_PC_V | SMTP_PC_P,
	['g'] = SMTP_PC_A | SMTP_PC_Q | SMTP_PC_L | SMTP_PC_V | SMTP_PC_P,
	['h'] = SMTP_PC_A | SMTP_PC_Q | SMTP_PC_L | SMTP_PC_V | SMTP_PC_P,
	['i'] = SMTP_PC_A | SMTP_PC_Q | SMTP_PC_L | SMTP_PC_V | SMTP_PC_P,
	['j'] = SMTP_PC_A | SMTP_PC_Q | SMTP_PC_L | SMTP_PC_V | SMTP_PC_P,
	['k'] = SMTP_PC_A | SMTP_PC_Q | SMTP_PC_L | SMTP_PC_V | SMTP_PC_P,
	['l'] = SMTP_PC_A | SMTP_PC_Q | SMTP_PC_L | SMTP_PC_V | SMTP_PC_P,
	['m'] = SMTP_PC_A | SMTP_PC_Q | SMTP_PC_L | SMTP_PC_V | SMTP_PC_P,
	['n'] = SMTP_PC_A | SMTP_PC_Q | SMTP_PC_L | SMTP_PC_V | SMTP_PC_P,
	['o'] = SMTP_PC_A | SMTP_PC_Q | SMTP_PC_L | SMTP_PC_V | SMTP_PC_P,
	['p'] = SMTP_PC_A | SMTP_PC_Q | SMTP_PC_L | SMTP_PC_V | SMTP_PC_P,
	['q'] = SMTP_PC_A | SMTP_PC_Q | SMTP_PC_L | SMTP_PC_V | SMTP_PC_P,
	['r'] = SMTP_PC_A | SMTP_PC_Q | SMTP_PC_L | SMTP_PC_V | SMTP_PC_P,
	['s'] = SMTP_PC_A | SMTP_PC_Q | SMTP_PC_L | SMTP_PC_V | SMTP_PC_P,
	['t'] = SMTP_PC_A | SMTP_PC_Q | SMTP_PC_L | SMTP_PC_V | SMTP_PC_P,
	['u'] = SMTP_PC_A | SMTP_PC_Q | SMTP_PC_L | SMTP_PC_V | SMTP_PC_P,
	['v'] = SMTP_PC_A | SMTP_PC_Q | SMTP_PC_L | SMTP_PC_V | SMTP_PC_P,
	['w'] = SMTP_PC_A | SMTP_PC_Q | SMTP_PC_L | SMTP_PC_V | SMTP_PC_P,
	['x'] = SMTP_PC_A | SMTP_PC_Q | SMTP_PC_L | SMTP_PC_V | SMTP_PC_P,
	['y'] = SMTP_PC_A | SMTP_PC_Q | SMTP_PC_L | SMTP_PC_V | SMTP_PC_P,
	['z'] = SMTP_PC_A | SMTP_PC_Q | SMTP_PC_L | SMTP_PC_V | SMTP_PC_P,
	['{'] = SMTP_PC_A | SMTP_PC_Q | SMTP_PC_V | SMTP_PC_P,
	['|'] = SMTP_PC_A | SMTP_PC_Q | SMTP_PC_V | SMTP_PC_P,
	['}'] = SMTP_PC_A | SMTP_PC_Q | SMTP_PC_V | SMTP_PC_P,
	['~'] = SMTP_PC_A | SMTP_PC_Q | SMTP_PC_V | SMTP_PC_P,
};

static bool
smtp_parse_is(char c, enum smtp_parse_class cls)
{
	return (smtp_parse_class_table[(unsigned char)c] & cls) != 0;
}

static int
smtp_parse_fail(struct smtp_parse_error *err, int code, const char *enh,
    const char *text)
{
	err->code = code;
	err->enh = enh;
	err->text = text;
	return -1;
}

size_t
smtp_parse_utf8_len(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned char lo = 0x80, hi = 0xbf;

	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		return (p[1] & 0xc0) == 0x80 ? 2 : 0;
	if (p[0] >= 0xe0 && p[0] <= 0xef) {
		/* No overlong forms, no UTF-16 surrogates (RFC 3629 4). */
		if (p[0] == 0xe0)
			lo = 0xa0;
		if (p[0] == 0xed)
			hi = 0x9f;
		if (p[1] < lo || p[1] > hi || (p[2] & 0xc0) != 0x80)
			return 0;
		return 3;
	}
	if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		if (p[0] == 0xf0)
			lo = 0x90;
		if (p[0] == 0xf4)
			hi = 0x8f;
		if (p[1] < lo || p[1] > hi || (p[2] & 0xc0) != 0x80 ||
		    (p[3] & 0xc0) != 0x80)
			return 0;
		return 4;
	}
	return 0;
}

int
smtp_parse_line(const uint8_t *data, size_t len, size_t max,
    size_t *line_len_r, size_t *used_r)
{
	const uint8_t *lf;
	size_t i;

	lf = memchr(data, '\n', len < max ? len : max);
	if (lf != NULL) {
		i = (size_t)(lf - data);
		*used_r = i + 1;
		*line_len_r = i > 0 && data[i - 1] == '\r' ? i - 1 : i;
		return 1;
	}
	if (len < max)
		return 0;
	/* RFC 5321 4.5.3.1.4: a line of max bytes and no end is too long. */
	*used_r = max;
	return -1;
}

int
smtp_parse_command(const uint8_t *line, size_t len, struct smtp_command *cmd,
    struct smtp_parse_error *err)
{
	const char *s = (const char *)line;
	size_t i, v, end;

	for (i = 0; i < len; i++) {
		if (line[i] == '\0')
			return smtp_parse_fail(err, 500, "5.5.2",
			    "NUL byte in command line");
		if (line[i] == '\r')
			return smtp_parse_fail(err, 500, "5.5.2",
			    "bare CR in command line; lines must end with CRLF");
	}
	for (v = 0; v < len && smtp_parse_is(s[v], SMTP_PC_L) &&
	    !(s[v] >= '0' && s[v] <= '9'); v++)
		;
	if (v == 0 || v > 16 || (v < len && s[v] != ' '))
		return smtp_parse_fail(err, 500, "5.5.1", "unknown command");
	for (i = v; i < len && s[i] == ' '; i++)
		;
	for (end = len; end > i && s[end - 1] == ' '; end--)
		;
	cmd->verb.p = s;
	cmd->verb.len = v;
	cmd->args.p = s + i;
	cmd->args.len = end - i;
	return 0;
}

/*
 * Domain = sub-domain *("." sub-domain), sub-domain = Let-dig [Ldh-str]
 * (RFC 5321 4.1.2); RFC 6531 3.3 adds U-labels, taken here as any
 * well-formed UTF-8.  Returns the end, or NULL.
 */
static const char *
smtp_parse_domain(const char *p, bool *utf8_r)
{
	const char *start = p, *label;
	bool hyphen;
	size_t n;

	for (;;) {
		label = p;
		hyphen = false;
		for (;;) {
			if (smtp_parse_is(*p, SMTP_PC_L)) {
				p++;
				hyphen = false;
			} else if (*p == '-' && p != label) {
				p++;
				hyphen = true;
			} else if ((n = smtp_parse_utf8_len(p)) > 0) {
				p += n;
				hyphen = false;
				*utf8_r = true;
			} else {
				break;
			}
		}
		if (p == label || hyphen || p - label > SMTP_LABEL_MAX)
			return NULL;
		if (*p != '.')
			break;
		p++;
	}
	if (p - start > SMTP_DOMAIN_MAX)
		return NULL;
	return p;
}

/*
 * address-literal (RFC 5321 4.1.3): "[" IPv4 "]" or "[IPv6:" IPv6 "]".
 * General literals have no registered tag, so they are refused.
 */
static const char *
smtp_parse_literal(const char *p)
{
	const char *end;
	char tmp[64];
	unsigned char addr[sizeof(struct in6_addr)];
	size_t n;

	end = strchr(p + 1, ']');
	if (end == NULL)
		return NULL;
	n = (size_t)(end - (p + 1));
	if (n == 0 || n >= sizeof(tmp))
		return NULL;
	memcpy(tmp, p + 1, n);
	tmp[n] = '\0';
	if (str_has_case_prefix(tmp, "IPv6:")) {
		if (inet_pton(AF_INET6, tmp + 5, addr) != 1)
			return NULL;
	} else if (inet_pton(AF_INET, tmp, addr) != 1) {
		return NULL;
	}
	return end + 1;
}

/* Local-part = Dot-string / Quoted-string; returns the end or NULL. */
static const char *
smtp_parse_local(const char *p, bool *utf8_r)
{
	const char *atom;
	size_t n;

	if (*p == '"') {
		for (p++; *p != '"'; ) {
			if (*p == '\\' && p[1] >= 32 && p[1] <= 126)
				p += 2;
			else if (smtp_parse_is(*p, SMTP_PC_Q))
				p++;
			else if ((n = smtp_parse_utf8_len(p)) > 0) {
				p += n;
				*utf8_r = true;
			} else
				return NULL;
		}
		return p + 1;
	}
	for (;;) {
		atom = p;
		for (;;) {
			if (smtp_parse_is(*p, SMTP_PC_A))
				p++;
			else if ((n = smtp_parse_utf8_len(p)) > 0) {
				p += n;
				*utf8_r = true;
			} else
				break;
		}
		if (p == atom)
			return NULL;
		if (*p != '.')
			return p;
		p++;
	}
}

int
smtp_parse_path(const char *s, unsigned flags, struct smtp_path *path,
    size_t *used_r, struct smtp_parse_error *err)
{
	const char *enh = flags & SMTP_PARSE_PATH_SENDER ? "5.1.7" : "5.1.3";
	const char *p = s, *mbox, *end;
	bool utf8 = false;
	size_t n;

	if (*p != '<')
		return smtp_parse_fail(err, 501, enh,
		    "address must be enclosed in <>");
	p++;
	if (*p == '>') {
		if (!(flags & SMTP_PARSE_PATH_NULL_OK))
			return smtp_parse_fail(err, 501, enh,
			    "null address not allowed here");
		path->addr[0] = '\0';
		path->is_utf8 = false;
		*used_r = 2;
		return 0;
	}
	if (*p == '@') {
		/* RFC 5321 4.1.2 and C: a source route is checked, ignored. */
		for (;;) {
			if ((p = smtp_parse_domain(p + 1, &utf8)) == NULL)
				return smtp_parse_fail(err, 501, enh,
				    "bad source route");
			if (*p == ':')
				break;
			if (*p != ',' || p[1] != '@')
				return smtp_parse_fail(err, 501, enh,
				    "bad source route");
			p++;
		}
		p++;
	}
	mbox = p;
	if ((p = smtp_parse_local(p, &utf8)) == NULL)
		return smtp_parse_fail(err, 501, enh, "bad address syntax");
	if (p - mbox > SMTP_LOCAL_PART_MAX)
		return smtp_parse_fail(err, 501, enh, "local part too long");
	if (*p == '>' && (flags & SMTP_PARSE_PATH_POSTMASTER_OK) &&
	    p - mbox == 10 && str_case_equal_n(mbox, "postmaster", 10)) {
		/* RFC 5321 4.1.1.3: "<Postmaster>" needs no domain. */
		end = p;
	} else {
		if (*p != '@')
			return smtp_parse_fail(err, 501, enh,
			    "bad address syntax");
		p++;
		if (*p == '[')
			end = smtp_parse_literal(p);
		else
			end = smtp_parse_domain(p, &utf8);
		if (end == NULL)
			return smtp_parse_fail(err, 501, enh,
			    "bad domain in address");
		if (*end != '>')
			return smtp_parse_fail(err, 501, enh,
			    "bad address syntax");
	}
	n = (size_t)(end + 1 - s);
	if (n > SMTP_PATH_MAX)
		return smtp_parse_fail(err, 501, enh, "path too long");
	memcpy(path->addr, mbox, (size_t)(end - mbox));
	path->addr[end - mbox] = '\0';
	path->is_utf8 = utf8;
	*used_r = n;
	return 0;
}

/*
 * xtext (RFC 3461 4): xchar (33..126 but "+" and "=") or "+" and two
 * upper-case hex digits.  "<>" is xtext too.
 */
static bool
smtp_parse_is_xtext(const char *p, size_t len)
{
	size_t i;

	if (len == 0)
		return false;
	for (i = 0; i < len; i++) {
		if (p[i] == '+') {
			if (len - i < 3 ||
			    !((p[i + 1] >= '0' && p[i + 1] <= '9') ||
			    (p[i + 1] >= 'A' && p[i + 1] <= 'F')) ||
			    !((p[i + 2] >= '0' && p[i + 2] <= '9') ||
			    (p[i + 2] >= 'A' && p[i + 2] <= 'F')))
				return false;
			i += 2;
		} else if (p[i] < 33 || p[i] > 126 || p[i] == '=') {
			return false;
		}
	}
	return true;
}

/*
 * HOLDFOR=1*9DIGIT or HOLDUNTIL=date-time (RFC 4865 3, with erratum
 * 2040: the RFC 3339 date-time); one of them, once.
 */
static int
smtp_parse_hold(bool until, const char *val, size_t val_len,
    struct smtp_mail *m, struct smtp_parse_error *err)
{
	char when[64];

	if (m->has_hold || val == NULL)
		return smtp_parse_fail(err, 501, "5.5.4",
		    "bad or repeated HOLDFOR/HOLDUNTIL parameter");
	if (!until) {
		if (val_len > 9 || parse_uint_n(val, val_len, 0, 999999999,
		    &m->hold_for) == -1)
			return smtp_parse_fail(err, 501, "5.5.4",
			    "bad HOLDFOR parameter");
	} else {
		/* Digits first: the relative forms are for the CLI only. */
		if (val_len >= sizeof(when) || val[0] < '0' || val[0] > '9')
			return smtp_parse_fail(err, 501, "5.5.4",
			    "bad HOLDUNTIL parameter");
		memcpy(when, val, val_len);
		when[val_len] = '\0';
		if (when_parse(when, 0, &m->hold_until) == -1)
			return smtp_parse_fail(err, 501, "5.5.4",
			    "bad HOLDUNTIL parameter");
	}
	m->has_hold = true;
	m->hold_is_until = until;
	return 0;
}

/* One ESMTP parameter of MAIL (m != NULL) or RCPT (m == NULL). */
static int
smtp_parse_param(const char *kw, size_t kw_len, const char *val,
    size_t val_len, struct smtp_mail *m, struct smtp_parse_error *err)
{
	static const struct {
		const char *name;
		enum envelope_body body;
	} bodies[] = {
		{ "7BIT", ENVELOPE_BODY_7BIT },
		{ "8BITMIME", ENVELOPE_BODY_8BITMIME },
		{ "BINARYMIME", ENVELOPE_BODY_BINARYMIME },
	};
	size_t i;

	if (m == NULL)
		goto unknown;
	if (kw_len == 4 && str_case_equal_n(kw, "SIZE", 4)) {
		if (m->has_size || val == NULL ||
		    parse_uint_n(val, val_len, 0, UINT64_MAX, &m->size) == -1)
			return smtp_parse_fail(err, 501, "5.5.4",
			    "bad SIZE parameter");
		m->has_size = true;
		return 0;
	}
	if (kw_len == 4 && str_case_equal_n(kw, "BODY", 4)) {
		for (i = 0; val != NULL && i < N_ELEMENTS(bodies); i++) {
			if (strlen(bodies[i].name) == val_len &&
			    str_case_equal_n(val, bodies[i].name, val_len))
				break;
		}
		if (val == NULL || i == N_ELEMENTS(bodies) || m->has_body)
			return smtp_parse_fail(err, 501, "5.5.4",
			    "bad BODY parameter");
		m->body = bodies[i].body;
		m->has_body = true;
		return 0;
	}
	if (kw_len == 8 && str_case_equal_n(kw, "SMTPUTF8", 8)) {
		if (val != NULL || m->smtputf8)
			return smtp_parse_fail(err, 501, "5.5.4",
			    "bad SMTPUTF8 parameter");
		m->smtputf8 = true;
		return 0;
	}
	if (kw_len == 4 && str_case_equal_n(kw, "AUTH", 4)) {
		/* RFC 4954 5: accepted whether or not AUTH was used. */
		if (m->has_auth || val == NULL ||
		    !smtp_parse_is_xtext(val, val_len))
			return smtp_parse_fail(err, 501, "5.5.4",
			    "bad AUTH parameter");
		m->has_auth = true;
		return 0;
	}
	if ((kw_len == 7 && str_case_equal_n(kw, "HOLDFOR", 7)) ||
	    (kw_len == 9 && str_case_equal_n(kw, "HOLDUNTIL", 9)))
		return smtp_parse_hold(kw_len == 9, val, val_len, m, err);
unknown:
	return smtp_parse_fail(err, 555, "5.5.4", "unsupported parameter");
}

/* esmtp-param *(SP esmtp-param), RFC 5321 4.1.2. */
static int
smtp_parse_params(const char *p, bool esmtp, struct smtp_mail *m,
    struct smtp_parse_error *err)
{
	const char *kw, *val;
	size_t kw_len, val_len;

	while (*p != '\0') {
		if (*p != ' ')
			return smtp_parse_fail(err, 501, "5.5.4",
			    "bad syntax after address");
		while (*p == ' ')
			p++;
		kw = p;
		while (smtp_parse_is(*p, SMTP_PC_L | SMTP_PC_H))
			p++;
		kw_len = (size_t)(p - kw);
		val = NULL;
		val_len = 0;
		if (*p == '=') {
			val = ++p;
			while (smtp_parse_is(*p, SMTP_PC_V))
				p++;
			val_len = (size_t)(p - val);
		}
		if (kw_len == 0 || *kw == '-' || (val != NULL && val_len == 0) ||
		    (*p != ' ' && *p != '\0'))
			return smtp_parse_fail(err, 501, "5.5.4",
			    "bad parameter syntax");
		if (!esmtp)
			return smtp_parse_fail(err, 555, "5.5.4",
			    "parameters need EHLO");
		if (smtp_parse_param(kw, kw_len, val, val_len, m, err) == -1)
			return -1;
	}
	return 0;
}

int
smtp_parse_mail(const char *args, bool esmtp, struct smtp_mail *m,
    struct smtp_parse_error *err)
{
	const char *p;
	size_t used;

	memset(m, 0, sizeof(*m));
	m->body = ENVELOPE_BODY_7BIT;
	if (!str_has_case_prefix(args, "FROM:"))
		return smtp_parse_fail(err, 501, "5.5.2",
		    "syntax: MAIL FROM:<address>");
	/* Not in RFC 5321, but common: "MAIL FROM: <a@b>". */
	for (p = args + 5; *p == ' '; p++)
		;
	if (smtp_parse_path(p, SMTP_PARSE_PATH_NULL_OK |
	    SMTP_PARSE_PATH_SENDER, &m->from, &used, err) == -1)
		return -1;
	if (smtp_parse_params(p + used, esmtp, m, err) == -1)
		return -1;
	if (m->from.is_utf8 && !m->smtputf8)
		return smtp_parse_fail(err, 553, "5.6.7",
		    "non-ASCII address needs SMTPUTF8");
	return 0;
}

int
smtp_parse_rcpt(const char *args, bool smtputf8, struct smtp_rcpt *r,
    struct smtp_parse_error *err)
{
	const char *p;
	size_t used;

	memset(r, 0, sizeof(*r));
	if (!str_has_case_prefix(args, "TO:"))
		return smtp_parse_fail(err, 501, "5.5.2",
		    "syntax: RCPT TO:<address>");
	for (p = args + 3; *p == ' '; p++)
		;
	if (smtp_parse_path(p, SMTP_PARSE_PATH_POSTMASTER_OK, &r->to, &used,
	    err) == -1)
		return -1;
	if (smtp_parse_params(p + used, true, NULL, err) == -1)
		return -1;
	if (r->to.is_utf8 && !smtputf8)
		return smtp_parse_fail(err, 553, "5.6.7",
		    "non-ASCII address needs SMTPUTF8");
	return 0;
}

int
smtp_parse_bdat(const char *args, uint64_t *size_r, bool *last_r,
    struct smtp_parse_error *err)
{
	const char *p = args;

	while (*p >= '0' && *p <= '9')
		p++;
	if (parse_uint_n(args, (size_t)(p - args), 0, UINT64_MAX,
	    size_r) == -1)
		goto fail;
	*last_r = false;
	if (*p == '\0')
		return 0;
	while (*p == ' ')
		p++;
	if (str_casecmp(p, "LAST") != 0)
		goto fail;
	*last_r = true;
	return 0;
fail:
	return smtp_parse_fail(err, 501, "5.5.4",
	    "syntax: BDAT chunk-size [LAST]");
}

int
smtp_parse_helo(const char *args, struct smtp_parse_error *err)
{
	size_t n;

	for (n = 0; smtp_parse_is(args[n], SMTP_PC_P); n++)
		;
	if (n == 0 || args[n] != '\0' || n > SMTP_DOMAIN_MAX)
		return smtp_parse_fail(err, 501, "5.5.4",
		    "syntax: EHLO hostname");
	return 0;
}
