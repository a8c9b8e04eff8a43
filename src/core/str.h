/* SPDX-License-Identifier: ISC */
/*
 * Small string helpers: non-owning views, bounded copies, ranged number
 * parsers and locale-free ASCII case handling.
 */
#ifndef TERN_CORE_STR_H
#define TERN_CORE_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/compat.h"

/* A non-owning view of bytes; each API returning one says how long. */
struct str {
	const char *p;
	size_t len;
};

/* Copies src into dst[size]; -1 (dst holds a truncated copy) if too long. */
ATTR_WUR int str_copy(char *dst, const char *src, size_t size);

/*
 * Parses a whole decimal string into *val_r within [min, max].  No sign,
 * no spaces, no trailing bytes.  0 on success, -1 otherwise.
 */
ATTR_WUR int parse_uint(const char *s, uint64_t min, uint64_t max,
    uint64_t *val_r);
/* Same for a view that is not NUL-terminated. */
ATTR_WUR int parse_uint_n(const char *s, size_t len, uint64_t min,
    uint64_t max, uint64_t *val_r);
/* A byte size with an optional suffix K, M or G (powers of 1024). */
ATTR_WUR int parse_size(const char *s, uint64_t *val_r);
/* A duration with an optional suffix s, m, h or d; result in seconds. */
ATTR_WUR int parse_duration(const char *s, uint64_t *val_r);

static inline char
ascii_tolower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Lowercases s in place (ASCII only) and returns it. */
char *str_lower(char *s);
/* ASCII-only case-insensitive comparisons; locale plays no part. */
int str_casecmp(const char *a, const char *b);
bool str_case_equal_n(const char *a, const char *b, size_t n);
/* Whether s starts with prefix, ignoring ASCII case. */
bool str_has_case_prefix(const char *s, const char *prefix);

/*
 * Writes a printable copy of peer-supplied bytes into out[out_size], for
 * logging: bytes outside 0x20..0x7e and the backslash become \xNN; when
 * out is too small the copy ends with "...".  Returns out.
 */
char *str_sanitize(char *out, size_t out_size, const void *in, size_t len);

/*
 * The length (2 to 4) of the well-formed UTF-8 sequence of a non-ASCII
 * character at p[0..left) (RFC 3629: no overlong forms, no surrogates,
 * nothing past U+10FFFF), or 0.
 */
size_t str_utf8_len(const void *p, size_t left);

#endif
