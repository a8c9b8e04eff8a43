/* SPDX-License-Identifier: ISC */
/*
 * Strict base64 (RFC 4648 §4, standard alphabet, padded) for the SASL
 * exchanges of RFC 4954 §4.  The decoder accepts only the canonical
 * encoding: no whitespace, no characters outside the alphabet, length a
 * multiple of 4, '=' only as the last one or two characters, and unused
 * trailing bits zero.  Pure functions; safe from any thread.
 */
#ifndef TERN_AUTH_AUTH_BASE64_H
#define TERN_AUTH_AUTH_BASE64_H

#include <stddef.h>
#include <stdint.h>

#include "core/compat.h"

struct buf;

/* Bytes needed to encode len bytes (without a NUL); SIZE_MAX on overflow. */
size_t auth_base64_encoded_len(size_t len);

/*
 * Appends the base64 encoding of data[len] to out.  Returns 0, or -1
 * when out's max would be passed (out unchanged).
 */
ATTR_WUR int auth_base64_encode(
    struct buf *out, const uint8_t *data, size_t len);

/*
 * Decodes text[len] and appends the bytes to out.  Returns 0, or -1 if
 * the text is not canonical base64 or out's max would be passed; on -1
 * out keeps its old length (bytes already written past it are wiped, as
 * decoded data is often a secret).  An empty text decodes to nothing.
 * For secrets, give out its full capacity up front (buf_init) so that
 * no reallocation leaves a copy behind in freed memory.
 */
ATTR_WUR int auth_base64_decode(struct buf *out, const char *text, size_t len);

#endif
