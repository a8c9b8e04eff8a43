/* SPDX-License-Identifier: ISC */
/*
 * Header fields of a message in memory (RFC 5322 2.2): finding one,
 * removing every instance of one (Bcc, 3.6.3), and collecting the
 * recipients of To, Cc and Bcc for sendmail -t (3.6.3).  The header
 * section ends where mail.h says; lines end in CRLF or a bare LF.
 */
#include "mail/mail.h"

#include <limits.h>
#include <string.h>

#include "core/buf.h"
#include "core/str.h"

/* One field: its lines msg[start..end), the name and the body. */
struct mail_header_field {
	size_t start;
	size_t end; /* after the newline of its last line */
	const char *name;
	size_t name_len;
	size_t body; /* just after the colon */
};

/* Walks the header section; pos is where the next field may start. */
struct mail_header_iter {
	const uint8_t *msg;
	size_t len;
	size_t pos;
};

/* Offset just after the line at pos: after its "\n", or len. */
static size_t
mail_header_line_end(const uint8_t *msg, size_t len, size_t pos)
{
	const uint8_t *nl = memchr(msg + pos, '\n', len - pos);

	return nl != NULL ? (size_t)(nl - msg) + 1 : len;
}

/*
 * ftext is printable US-ASCII but ":" (RFC 5322 2.2); obsolete syntax
 * allows white space between the name and the colon (4.5).
 */
static bool
mail_header_is_ftext(uint8_t c)
{
	return c >= 33 && c <= 126 && c != ':';
}

/*
 * Sets *f to the field at it->pos and moves past it.  Returns false at
 * the end of the header section: the end of msg, an empty line, or a
 * line that is not a field.
 */
static bool
mail_header_next(struct mail_header_iter *it, struct mail_header_field *f)
{
	const uint8_t *msg = it->msg;
	size_t len = it->len, p = it->pos;

	while (p < len && mail_header_is_ftext(msg[p]))
		p++;
	if (p == it->pos)
		return false;
	f->start = it->pos;
	f->name = (const char *)msg + it->pos;
	f->name_len = p - it->pos;
	while (p < len && (msg[p] == ' ' || msg[p] == '\t'))
		p++;
	if (p == len || msg[p] != ':')
		return false;
	f->body = p + 1;
	p = mail_header_line_end(msg, len, p);
	while (p < len && (msg[p] == ' ' || msg[p] == '\t'))
		p = mail_header_line_end(msg, len, p);
	f->end = p;
	it->pos = p;
	return true;
}

static void
mail_header_iter_init(
    struct mail_header_iter *it, const uint8_t *msg, size_t len)
{
	it->msg = msg;
	it->len = len;
	it->pos = 0;
}

static bool
mail_header_is_named(const struct mail_header_field *f, const char *name)
{
	return f->name_len == strlen(name) &&
	    str_case_equal_n(f->name, name, f->name_len);
}

bool
mail_header_has(const uint8_t *msg, size_t len, const char *name)
{
	struct mail_header_iter it;
	struct mail_header_field f;

	mail_header_iter_init(&it, msg, len);
	while (mail_header_next(&it, &f)) {
		if (mail_header_is_named(&f, name))
			return true;
	}
	return false;
}

int
mail_header_remove(
    const uint8_t *msg, size_t len, const char *name, struct buf *out)
{
	struct mail_header_iter it;
	struct mail_header_field f;
	size_t copied = 0;

	mail_header_iter_init(&it, msg, len);
	while (mail_header_next(&it, &f)) {
		if (!mail_header_is_named(&f, name))
			continue;
		if (buf_append(out, msg + copied, f.start - copied) == -1)
			return -1;
		copied = f.end;
	}
	return buf_append(out, msg + copied, len - copied);
}

int
mail_header_recipients(
    const uint8_t *msg, size_t len, mail_addr_fn *fn, void *arg)
{
	struct mail_header_iter it;
	struct mail_header_field f;
	int n, total = 0;

	mail_header_iter_init(&it, msg, len);
	while (mail_header_next(&it, &f)) {
		if (!mail_header_is_named(&f, "To") &&
		    !mail_header_is_named(&f, "Cc") &&
		    !mail_header_is_named(&f, "Bcc"))
			continue;
		/*
		 * The body goes as it is: the parser takes a fold (CRLF or
		 * LF, then WSP) as white space, and removes it inside quoted
		 * strings, which is what unfolding (RFC 5322 2.2.3) does.
		 * The field's own last newline is white space too.
		 */
		n = mail_addrlist_parse(
		    (const char *)msg + f.body, f.end - f.body, fn, arg);
		if (n == -1 || n > INT_MAX - total)
			return -1;
		total += n;
	}
	return total;
}
