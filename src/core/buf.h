/* SPDX-License-Identifier: ISC */
/*
 * The one growable byte buffer of tern.  Every buffer a peer can fill is
 * created with a max; an append that would pass it fails with -1 and
 * leaves the buffer unchanged, so data is never silently truncated.
 * data is always NUL-terminated one byte past len (not counted in len),
 * so a buffer of text can be handed to string functions directly.
 */
#ifndef TERN_CORE_BUF_H
#define TERN_CORE_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "core/compat.h"

struct buf {
	uint8_t *data;
	size_t len;	/* bytes in use, excluding the trailing NUL */
	size_t cap;	/* bytes allocated, including room for the NUL */
	size_t max;	/* largest len allowed; 0 means SIZE_MAX */
};

/* Starts an empty buffer; nothing is allocated until the first append. */
void buf_init(struct buf *b, size_t initial, size_t max);
/* Frees the storage; the buffer may be reused after buf_init(). */
void buf_clear(struct buf *b);
/* Like buf_clear(), but wipes the bytes first (secrets). */
void buf_clear_secret(struct buf *b);
/* Drops the contents and keeps the storage. */
void buf_reset(struct buf *b);

/* Appends; 0 on success, -1 if max would be passed (b unchanged). */
ATTR_WUR int buf_append(struct buf *b, const void *data, size_t len);
ATTR_WUR int buf_append_str(struct buf *b, const char *s);
ATTR_WUR ATTR_FORMAT(2, 3) int buf_printf(struct buf *b, const char *fmt, ...);
ATTR_WUR ATTR_FORMAT(2, 0) int buf_vprintf(struct buf *b, const char *fmt,
    va_list ap);

/*
 * Finds a line ending in CRLF at the start of b.  Returns a pointer to
 * the line and its length without the CRLF in *len_r, or NULL until a
 * full line is present.  The view stays valid until the next call that
 * modifies b; remove the line with buf_consume(b, *len_r + 2).
 */
const uint8_t *buf_getline(const struct buf *b, size_t *len_r);

/* Removes the first n bytes (n <= len). */
void buf_consume(struct buf *b, size_t n);

/* Bytes that can still be appended before max. */
size_t buf_room(const struct buf *b);

/* Returns the contents as a C string (never NULL; "" when empty). */
const char *buf_cstr(const struct buf *b);

/* Takes the storage as a heap string (caller frees); b becomes empty. */
char *buf_steal(struct buf *b);

#endif
