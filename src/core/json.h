/* SPDX-License-Identifier: ISC */
/*
 * Writing JSON (RFC 8259) text for the command line's --json output.
 * Only what tern emits is here: strings, with every byte escaped or
 * passed through so that the result is valid JSON and valid UTF-8.
 */
#ifndef TERN_CORE_JSON_H
#define TERN_CORE_JSON_H

#include <stddef.h>

#include "core/compat.h"

struct buf;

/*
 * Appends s[len] as a JSON string with its quotes.  '"', '\\' and
 * control characters (C0, DEL, C1) are escaped; valid UTF-8 sequences
 * pass as they are; any byte that is not part of one becomes U+FFFD.
 * 0, or -1 when out's max would be passed.
 */
ATTR_WUR int json_put_string_n(struct buf *out, const char *s, size_t len);
/* The same for a C string; NULL is written as null. */
ATTR_WUR int json_put_string(struct buf *out, const char *s);

#endif
