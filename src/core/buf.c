/* SPDX-License-Identifier: ISC */
/*
 * Growable byte buffers with a hard maximum.  Growth is geometric;
 * consumption moves the tail down, which is cheap for the short lines
 * and small blocks tern keeps in them.
 */
#include "core/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/xalloc.h"

static const char buf_empty[1] = "";

void
buf_init(struct buf *b, size_t initial, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max == 0 ? SIZE_MAX - 1 : max;
	if (initial > 0) {
		b->data = xmalloc(initial + 1);
		b->cap = initial + 1;
		b->data[0] = '\0';
	}
}

void
buf_clear(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void
buf_clear_secret(struct buf *b)
{
	if (b->data != NULL)
		explicit_bzero(b->data, b->cap);
	buf_clear(b);
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

size_t
buf_room(const struct buf *b)
{
	return b->max - b->len;
}

/* Makes room for len more bytes plus the NUL; -1 past max. */
static int
buf_reserve(struct buf *b, size_t len)
{
	size_t need, cap;

	if (len > b->max - b->len)
		return -1;
	need = b->len + len + 1;
	if (need <= b->cap)
		return 0;
	cap = b->cap < 64 ? 64 : b->cap;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	b->data = xreallocarray(b->data, cap, 1);
	b->cap = cap;
	return 0;
}

int
buf_append(struct buf *b, const void *data, size_t len)
{
	if (buf_reserve(b, len) == -1)
		return -1;
	if (len > 0)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

int
buf_append_str(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

int
buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0 || buf_reserve(b, (size_t)n) == -1)
		return -1;
	(void)vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return r;
}

const uint8_t *
buf_getline(const struct buf *b, size_t *len_r)
{
	const uint8_t *p, *end;

	if (b->len < 2)
		return NULL;
	end = b->data + b->len;
	for (p = b->data; (p = memchr(p, '\n', (size_t)(end - p))) != NULL;
	    p++) {
		if (p > b->data && p[-1] == '\r') {
			*len_r = (size_t)(p - 1 - b->data);
			return b->data;
		}
	}
	return NULL;
}

void
buf_consume(struct buf *b, size_t n)
{
	if (n >= b->len) {
		buf_reset(b);
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
	b->data[b->len] = '\0';
}

const char *
buf_cstr(const struct buf *b)
{
	return b->data == NULL ? buf_empty : (const char *)b->data;
}

char *
buf_steal(struct buf *b)
{
	char *s = b->data == NULL ? xstrdup("") : (char *)b->data;

	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	return s;
}
