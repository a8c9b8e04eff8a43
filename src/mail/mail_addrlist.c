/* SPDX-License-Identifier: ISC */
/*
 * Address lists of To, Cc and Bcc (RFC 5322 3.4) with the obsolete
 * forms of 4.4 that mailers still write: a tokenizer that drops CFWS
 * (3.2.2) and a recursive descent parser over its tokens, one token of
 * lookahead.  Each mailbox is rebuilt from its tokens into a fixed
 * buffer of MAIL_ADDR_MAX_BYTES and handed to the caller; nothing is
 * allocated.  Validating the domain is left to whoever routes it.
 */
#include "mail/mail.h"

#include <limits.h>
#include <string.h>

enum mail_addrlist_tok {
	MAIL_ADDRLIST_TOK_END,
	MAIL_ADDRLIST_TOK_ERROR,
	MAIL_ADDRLIST_TOK_ATOM,
	MAIL_ADDRLIST_TOK_QUOTED,  /* with its quotes */
	MAIL_ADDRLIST_TOK_LITERAL, /* domain literal, with brackets */
	MAIL_ADDRLIST_TOK_SPECIAL, /* one of < > @ , : ; . */
};

struct mail_addrlist_token {
	enum mail_addrlist_tok type;
	char c;            /* SPECIAL: which one */
	size_t start, end; /* the token's bytes in s */
};

struct mail_addrlist_parser {
	const char *s;
	size_t len;
	size_t pos; /* just after tok */
	struct mail_addrlist_token tok;
	mail_addr_fn *fn;
	void *arg;
	int count;
};

/* An address being rebuilt; one byte more for the NUL. */
struct mail_addrlist_addr {
	char buf[MAIL_ADDR_MAX_BYTES + 1];
	size_t len;
};

static int mail_addrlist_address(struct mail_addrlist_parser *, bool);

/*
 * atext (RFC 5322 3.2.3) is what is neither a special, white space nor
 * a control; 8-bit bytes count as atext (RFC 6532 3.2, not checked to
 * be UTF-8).
 */
static bool
mail_addrlist_is_atext(unsigned char c)
{
	if (c >= 0x80)
		return true;
	if (c <= ' ' || c == 0x7f)
		return false;
	return strchr("()<>[]:;@\\,.\"", c) == NULL;
}

static bool
mail_addrlist_is_wsp(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * Skips CFWS.  CR and LF count as white space wherever they are, so a
 * field body can be parsed without unfolding it first.  Comments nest
 * and hold quoted pairs (3.2.2); -1 if one is not closed.
 */
static int
mail_addrlist_skip_cfws(struct mail_addrlist_parser *p)
{
	size_t depth;
	char c;

	while (p->pos < p->len) {
		c = p->s[p->pos];
		if (mail_addrlist_is_wsp((unsigned char)c)) {
			p->pos++;
			continue;
		}
		if (c != '(')
			break;
		depth = 0;
		do {
			if (p->pos == p->len)
				return -1;
			c = p->s[p->pos++];
			if (c == '\\') {
				if (p->pos == p->len)
					return -1;
				p->pos++;
			} else if (c == '(') {
				depth++;
			} else if (c == ')') {
				depth--;
			}
		} while (depth > 0);
	}
	return 0;
}

/*
 * A quoted string (3.2.4) from its opening quote.  A fold inside (CRLF
 * or LF, then WSP) is allowed; any other CR or LF, quoted or not, is
 * not (a quoted pair of CR or LF is obsolete, 4.4, and dangerous).
 */
static int
mail_addrlist_scan_quoted(struct mail_addrlist_parser *p)
{
	const char *s = p->s;
	char c;

	p->pos++;
	for (;;) {
		if (p->pos == p->len)
			return -1;
		c = s[p->pos++];
		if (c == '"')
			return 0;
		if (c == '\\') {
			if (p->pos == p->len || s[p->pos] == '\r' ||
			    s[p->pos] == '\n')
				return -1;
			p->pos++;
		} else if (c == '\r' || c == '\n') {
			if (c == '\r') {
				if (p->pos == p->len || s[p->pos] != '\n')
					return -1;
				p->pos++;
			}
			if (p->pos == p->len ||
			    (s[p->pos] != ' ' && s[p->pos] != '\t'))
				return -1;
		}
	}
}

/*
 * A domain literal (3.4.1) from its "[": dtext and white space.  The
 * obsolete quoted pairs are refused: no address literal has them
 * (RFC 5321 4.1.3).
 */
static int
mail_addrlist_scan_literal(struct mail_addrlist_parser *p)
{
	unsigned char c;

	p->pos++;
	for (;;) {
		if (p->pos == p->len)
			return -1;
		c = (unsigned char)p->s[p->pos++];
		if (c == ']')
			return 0;
		if (c == '[' || c == '\\' || c == 0x7f ||
		    (c < ' ' && !mail_addrlist_is_wsp(c)))
			return -1;
	}
}

/* Reads the next token into p->tok; a bad byte makes an ERROR token. */
static void
mail_addrlist_advance(struct mail_addrlist_parser *p)
{
	struct mail_addrlist_token *t = &p->tok;
	unsigned char c;
	int rc = 0;

	t->c = '\0';
	if (mail_addrlist_skip_cfws(p) == -1) {
		t->type = MAIL_ADDRLIST_TOK_ERROR;
		return;
	}
	t->start = p->pos;
	if (p->pos == p->len) {
		t->type = MAIL_ADDRLIST_TOK_END;
		t->end = p->pos;
		return;
	}
	c = (unsigned char)p->s[p->pos];
	switch (c) {
	case '"':
		t->type = MAIL_ADDRLIST_TOK_QUOTED;
		rc = mail_addrlist_scan_quoted(p);
		break;
	case '[':
		t->type = MAIL_ADDRLIST_TOK_LITERAL;
		rc = mail_addrlist_scan_literal(p);
		break;
	case '<':
	case '>':
	case '@':
	case ',':
	case ':':
	case ';':
	case '.':
		t->type = MAIL_ADDRLIST_TOK_SPECIAL;
		t->c = (char)c;
		p->pos++;
		break;
	default:
		/* ")", "]", "\" on their own, and controls, are errors. */
		if (!mail_addrlist_is_atext(c)) {
			rc = -1;
			break;
		}
		t->type = MAIL_ADDRLIST_TOK_ATOM;
		while (p->pos < p->len &&
		    mail_addrlist_is_atext((unsigned char)p->s[p->pos]))
			p->pos++;
		break;
	}
	if (rc == -1)
		t->type = MAIL_ADDRLIST_TOK_ERROR;
	t->end = p->pos;
}

static bool
mail_addrlist_is_word(const struct mail_addrlist_parser *p)
{
	return p->tok.type == MAIL_ADDRLIST_TOK_ATOM ||
	    p->tok.type == MAIL_ADDRLIST_TOK_QUOTED;
}

static bool
mail_addrlist_is_special(const struct mail_addrlist_parser *p, char c)
{
	return p->tok.type == MAIL_ADDRLIST_TOK_SPECIAL && p->tok.c == c;
}

/*
 * Appends the current token to a and moves on.  Folds inside quoted
 * strings and white space inside domain literals are left out; any
 * other control byte but HTAB makes the address invalid, so that none
 * reaches an SMTP command.  -1 also past MAIL_ADDR_MAX_BYTES.
 */
static int
mail_addrlist_take(struct mail_addrlist_parser *p, struct mail_addrlist_addr *a)
{
	bool literal = p->tok.type == MAIL_ADDRLIST_TOK_LITERAL;
	unsigned char c;
	size_t i;

	for (i = p->tok.start; i < p->tok.end; i++) {
		c = (unsigned char)p->s[i];
		if (c == '\r' || c == '\n')
			continue;
		if (literal && (c == ' ' || c == '\t'))
			continue;
		if ((c < ' ' && c != '\t') || c == 0x7f)
			return -1;
		if (a->len == MAIL_ADDR_MAX_BYTES)
			return -1;
		a->buf[a->len++] = (char)c;
	}
	mail_addrlist_advance(p);
	return 0;
}

/*
 * local-part: word *("." word), with CFWS around the dots (obs-local-
 * part, 4.4) and, as in practice, runs of dots between words.
 */
static int
mail_addrlist_local(
    struct mail_addrlist_parser *p, struct mail_addrlist_addr *a)
{
	if (!mail_addrlist_is_word(p) || mail_addrlist_take(p, a) == -1)
		return -1;
	while (mail_addrlist_is_special(p, '.')) {
		while (mail_addrlist_is_special(p, '.')) {
			if (mail_addrlist_take(p, a) == -1)
				return -1;
		}
		if (!mail_addrlist_is_word(p) || mail_addrlist_take(p, a) == -1)
			return -1;
	}
	return 0;
}

/* domain: a domain literal, or atom *("." atom) (obs-domain, 4.4). */
static int
mail_addrlist_domain(
    struct mail_addrlist_parser *p, struct mail_addrlist_addr *a)
{
	if (p->tok.type == MAIL_ADDRLIST_TOK_LITERAL)
		return mail_addrlist_take(p, a);
	if (p->tok.type != MAIL_ADDRLIST_TOK_ATOM ||
	    mail_addrlist_take(p, a) == -1)
		return -1;
	while (mail_addrlist_is_special(p, '.')) {
		if (mail_addrlist_take(p, a) == -1 ||
		    p->tok.type != MAIL_ADDRLIST_TOK_ATOM ||
		    mail_addrlist_take(p, a) == -1)
			return -1;
	}
	return 0;
}

/* addr-spec (3.4.1), or a bare local part, into a. */
static int
mail_addrlist_addr_spec(
    struct mail_addrlist_parser *p, struct mail_addrlist_addr *a)
{
	a->len = 0;
	if (mail_addrlist_local(p, a) == -1)
		return -1;
	if (mail_addrlist_is_special(p, '@')) {
		if (mail_addrlist_take(p, a) == -1 ||
		    mail_addrlist_domain(p, a) == -1)
			return -1;
	}
	return 0;
}

/*
 * Hands a complete mailbox to the caller, once the token after it is
 * one that may follow a mailbox: so "John Smith@x" or "<a@x> junk"
 * give nothing.
 */
static int
mail_addrlist_emit(
    struct mail_addrlist_parser *p, struct mail_addrlist_addr *a, bool in_group)
{
	if (p->tok.type != MAIL_ADDRLIST_TOK_END &&
	    !mail_addrlist_is_special(p, ',') &&
	    !(in_group && mail_addrlist_is_special(p, ';')))
		return -1;
	a->buf[a->len] = '\0';
	if (p->count == INT_MAX || p->fn(p->arg, a->buf, a->len) != 0)
		return -1;
	p->count++;
	return 0;
}

/*
 * The rest of an angle-addr after "<" (3.4).  An obsolete route,
 * obs-domain-list ":" (4.4), is checked and dropped: RFC 5321 C says to
 * ignore source routes.
 */
static int
mail_addrlist_angle(struct mail_addrlist_parser *p, bool in_group)
{
	struct mail_addrlist_addr route, a;

	if (mail_addrlist_is_special(p, ',') ||
	    mail_addrlist_is_special(p, '@')) {
		while (mail_addrlist_is_special(p, ','))
			mail_addrlist_advance(p);
		if (!mail_addrlist_is_special(p, '@'))
			return -1;
		mail_addrlist_advance(p);
		route.len = 0;
		if (mail_addrlist_domain(p, &route) == -1)
			return -1;
		while (mail_addrlist_is_special(p, ',')) {
			mail_addrlist_advance(p);
			if (!mail_addrlist_is_special(p, '@'))
				continue;
			mail_addrlist_advance(p);
			route.len = 0;
			if (mail_addrlist_domain(p, &route) == -1)
				return -1;
		}
		if (!mail_addrlist_is_special(p, ':'))
			return -1;
		mail_addrlist_advance(p);
	}
	if (mail_addrlist_addr_spec(p, &a) == -1 ||
	    !mail_addrlist_is_special(p, '>'))
		return -1;
	mail_addrlist_advance(p);
	return mail_addrlist_emit(p, &a, in_group);
}

/*
 * The rest of a group after its ":" (3.4): a mailbox list with empty
 * elements (obs-group-list, obs-mbox-list), up to ";".  A group still
 * open at the end of the input ends there, as mailers that write
 * "To: undisclosed-recipients:" expect.
 */
static int
mail_addrlist_group(struct mail_addrlist_parser *p)
{
	for (;;) {
		if (p->tok.type == MAIL_ADDRLIST_TOK_END)
			return 0;
		if (mail_addrlist_is_special(p, ';')) {
			mail_addrlist_advance(p);
			return 0;
		}
		if (mail_addrlist_is_special(p, ',')) {
			mail_addrlist_advance(p);
			continue;
		}
		if (mail_addrlist_address(p, true) == -1)
			return -1;
		if (p->tok.type != MAIL_ADDRLIST_TOK_END &&
		    !mail_addrlist_is_special(p, ',') &&
		    !mail_addrlist_is_special(p, ';'))
			return -1;
	}
}

/*
 * One address: a mailbox (addr-spec or name-addr) or, outside a group,
 * a group.  Which one shows only after the leading words, so they are
 * read ahead and, for an addr-spec, read again.
 */
static int
mail_addrlist_address(struct mail_addrlist_parser *p, bool in_group)
{
	struct mail_addrlist_token tok = p->tok;
	struct mail_addrlist_addr a;
	size_t pos = p->pos, words = 0;

	/* phrase: words and dots (obs-phrase, 4.1) */
	while (mail_addrlist_is_word(p) || mail_addrlist_is_special(p, '.')) {
		if (mail_addrlist_is_word(p))
			words++;
		mail_addrlist_advance(p);
	}
	if (mail_addrlist_is_special(p, '<')) {
		mail_addrlist_advance(p);
		return mail_addrlist_angle(p, in_group);
	}
	if (mail_addrlist_is_special(p, ':')) {
		if (in_group || words == 0)
			return -1;
		mail_addrlist_advance(p);
		return mail_addrlist_group(p);
	}
	if (p->tok.type == MAIL_ADDRLIST_TOK_ERROR)
		return -1;
	p->tok = tok;
	p->pos = pos;
	if (mail_addrlist_addr_spec(p, &a) == -1)
		return -1;
	return mail_addrlist_emit(p, &a, in_group);
}

int
mail_addrlist_parse(const char *s, size_t len, mail_addr_fn *fn, void *arg)
{
	struct mail_addrlist_parser p = {
	    .s = s, .len = len, .fn = fn, .arg = arg};

	mail_addrlist_advance(&p);
	/* obs-addr-list (4.4): empty elements between the commas */
	for (;;) {
		if (p.tok.type == MAIL_ADDRLIST_TOK_END)
			return p.count;
		if (mail_addrlist_is_special(&p, ',')) {
			mail_addrlist_advance(&p);
			continue;
		}
		if (mail_addrlist_address(&p, false) == -1)
			return -1;
		if (p.tok.type != MAIL_ADDRLIST_TOK_END &&
		    !mail_addrlist_is_special(&p, ','))
			return -1;
	}
}
