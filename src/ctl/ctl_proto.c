/* SPDX-License-Identifier: ISC */
/*
 * Parsing of control requests (the grammar is in ctl.h).  Each line
 * must fit CTL_LINE_MAX_BYTES; numbers are decimal without sign or
 * leading zeros; anything unexpected is an error, never skipped.
 */
#include "ctl/ctl.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/str.h"
#include "core/xalloc.h"

/* Largest "at" accepted: 2^40 seconds, as the spool journal keeps. */
#define CTL_TIME_MAX ((uint64_t)1 << 40)

static const char *const ctl_status_names[] = {
	[CTL_OK] = "ok",
	[CTL_TEMP] = "temp",
	[CTL_PERM] = "perm",
	[CTL_USAGE] = "usage",
};

const char *
ctl_status_name(enum ctl_status st)
{
	return (size_t)st < N_ELEMENTS(ctl_status_names) ?
	    ctl_status_names[st] : "perm";
}

int
ctl_status_parse(const char *word, size_t len)
{
	size_t i;

	for (i = 0; i < N_ELEMENTS(ctl_status_names); i++) {
		if (strlen(ctl_status_names[i]) == len &&
		    memcmp(ctl_status_names[i], word, len) == 0)
			return (int)i;
	}
	return -1;
}

static bool
ctl_is_word_char(uint8_t ch)
{
	return ch > 0x20 && ch < 0x7f;
}

bool
ctl_word_is_valid(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		if (!ctl_is_word_char((uint8_t)s[i]) || i >= CTL_LINE_MAX_BYTES)
			return false;
	}
	return i > 0;
}

bool
ctl_addr_is_valid(const char *s)
{
	/* It must fit a line after "from " or "rcpt ". */
	size_t len = strnlen(s, CTL_LINE_MAX_BYTES);

	return len <= CTL_LINE_MAX_BYTES - 5 && strpbrk(s, "\r\n") == NULL;
}

void
ctl_request_init(struct ctl_request *req)
{
	memset(req, 0, sizeof(*req));
}

void
ctl_request_clear(struct ctl_request *req)
{
	size_t i;

	for (i = 0; i < req->argc; i++)
		free(req->argv[i]);
	free(req->from);
	for (i = 0; i < req->n_rcpts; i++)
		free(req->rcpts[i]);
	free(req->rcpts);
	ctl_request_init(req);
}

static int
ctl_fail(struct buf *err, const char *what)
{
	if (err != NULL)
		(void)!buf_append_str(err, what);
	return -1;
}

/*
 * The next line of data[len] from *off: 1 with [*line, *line_len)
 * (without LF), 0 if it is not complete yet, -1 if too long.
 */
static int
ctl_next_line(const uint8_t *data, size_t len, size_t *off,
    const uint8_t **line, size_t *line_len)
{
	size_t room = len - *off;
	const uint8_t *nl;

	if (room > CTL_LINE_MAX_BYTES + 1)
		room = CTL_LINE_MAX_BYTES + 1;
	nl = memchr(data + *off, '\n', room);
	if (nl == NULL)
		return room > CTL_LINE_MAX_BYTES ? -1 : 0;
	*line = data + *off;
	*line_len = (size_t)(nl - *line);
	*off += *line_len + 1;
	return 1;
}

/* A decimal number without sign or leading zero, at most max. */
static int
ctl_number(const uint8_t *p, size_t len, uint64_t max, uint64_t *v_r)
{
	if (len > 1 && p[0] == '0')
		return -1;
	return parse_uint_n((const char *)p, len, 0, max, v_r);
}

/* "key value": the value after "key ", or NULL. */
static const uint8_t *
ctl_field(const uint8_t *line, size_t len, const char *key, size_t *vlen)
{
	size_t klen = strlen(key);

	if (len <= klen || memcmp(line, key, klen) != 0 || line[klen] != ' ')
		return NULL;
	*vlen = len - klen - 1;
	return line + klen + 1;
}

static int
ctl_parse_words(const uint8_t *line, size_t len, struct ctl_request *req,
    struct buf *err)
{
	size_t i = 0, start, n = 0;

	while (i < len) {
		start = i;
		while (i < len && line[i] != ' ') {
			if (!ctl_is_word_char(line[i]))
				return ctl_fail(err, "bad character in request");
			i++;
		}
		if (i == start)
			return ctl_fail(err, "empty word in request");
		if (n == 0) {
			if (i - start > CTL_VERB_MAX)
				return ctl_fail(err, "unknown verb");
			memcpy(req->verb, line + start, i - start);
			req->verb[i - start] = '\0';
		} else if (req->argc == CTL_ARGS_MAX) {
			return ctl_fail(err, "too many arguments");
		} else {
			req->argv[req->argc++] =
			    xstrndup((const char *)line + start, i - start);
		}
		n++;
		if (i < len && ++i == len)
			return ctl_fail(err, "trailing space in request");
	}
	if (n == 0)
		return ctl_fail(err, "empty request");
	return 0;
}

/* An address field: any bytes but NUL (CR and LF cannot occur here). */
static char *
ctl_addr(const uint8_t *v, size_t vlen)
{
	if (memchr(v, '\0', vlen) != NULL || memchr(v, '\r', vlen) != NULL)
		return NULL;
	return xstrndup((const char *)v, vlen);
}

static int
ctl_parse_submit(const uint8_t *data, size_t len, size_t off,
    const struct ctl_limits *lim, struct ctl_request *req, struct buf *err)
{
	const uint8_t *line, *v;
	size_t line_len, vlen;
	uint64_t n;
	int rc;

	for (;;) {
		rc = ctl_next_line(data, len, &off, &line, &line_len);
		if (rc <= 0)
			return rc == 0 ? 0 : ctl_fail(err, "line too long");
		/* "from " with nothing after it is the null sender. */
		if ((v = ctl_field(line, line_len, "from", &vlen)) != NULL) {
			if (req->from != NULL || req->n_rcpts > 0)
				return ctl_fail(err, "misplaced from");
			if ((req->from = ctl_addr(v, vlen)) == NULL)
				return ctl_fail(err, "bad from address");
		} else if ((v = ctl_field(line, line_len, "rcpt", &vlen)) !=
		    NULL) {
			if (req->from == NULL || req->at != 0)
				return ctl_fail(err, "misplaced rcpt");
			if (req->n_rcpts >= lim->max_rcpts)
				return ctl_fail(err, "too many recipients");
			req->rcpts = xreallocarray(req->rcpts,
			    req->n_rcpts + 1, sizeof(*req->rcpts));
			if ((req->rcpts[req->n_rcpts] = ctl_addr(v, vlen)) ==
			    NULL)
				return ctl_fail(err, "bad rcpt address");
			req->n_rcpts++;
		} else if ((v = ctl_field(line, line_len, "at", &vlen)) !=
		    NULL) {
			if (req->n_rcpts == 0 || req->at != 0 ||
			    ctl_number(v, vlen, CTL_TIME_MAX, &n) == -1 ||
			    n == 0)
				return ctl_fail(err, "bad at");
			req->at = (int64_t)n;
		} else if ((v = ctl_field(line, line_len, "data", &vlen)) !=
		    NULL) {
			if (req->n_rcpts == 0)
				return ctl_fail(err, "no recipients");
			if (ctl_number(v, vlen, UINT64_MAX, &n) == -1)
				return ctl_fail(err, "bad data length");
			if (n > lim->max_data)
				return ctl_fail(err, "message too big");
			req->data_len = n;
			req->head_len = off;
			return 1;
		} else {
			return ctl_fail(err, "bad submit field");
		}
	}
}

int
ctl_request_parse(const uint8_t *data, size_t len,
    const struct ctl_limits *lim, struct ctl_request *req, struct buf *err)
{
	struct ctl_request tmp;
	const uint8_t *line;
	size_t line_len, off = 0;
	int rc;

	ctl_request_init(&tmp);
	rc = ctl_next_line(data, len, &off, &line, &line_len);
	if (rc <= 0)
		return rc == 0 ? 0 : ctl_fail(err, "request line too long");
	if (ctl_parse_words(line, line_len, &tmp, err) == -1) {
		ctl_request_clear(&tmp);
		return -1;
	}
	if (strcmp(tmp.verb, "submit") == 0) {
		if (tmp.argc != 0) {
			ctl_request_clear(&tmp);
			return ctl_fail(err, "submit takes no arguments");
		}
		rc = ctl_parse_submit(data, len, off, lim, &tmp, err);
		if (rc != 1) {
			ctl_request_clear(&tmp);
			return rc;
		}
	} else {
		tmp.head_len = off;
	}
	*req = tmp;
	return 1;
}
