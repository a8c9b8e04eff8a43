/* SPDX-License-Identifier: ISC */
/*
 * The spool's text form of an envelope (docs/spool.md, "Envelope
 * record").  Every value is length-prefixed, so arbitrary bytes (a
 * hostile HELO with newlines, say) cannot break the record; the parser
 * checks every length and count and rejects trailing bytes.  Pure: no
 * I/O, usable from any thread and from the fuzzer.
 */
#ifndef TERN_SPOOL_SPOOL_ENVELOPE_H
#define TERN_SPOOL_SPOOL_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#include "core/compat.h"

struct buf;
struct envelope;

/* Longest single value (address, HELO, ...) in a record. */
#define SPOOL_ENVELOPE_VALUE_MAX_BYTES 65536
/* Most recipients, and most targets, in one record. */
#define SPOOL_ENVELOPE_ITEMS_MAX 100000
/* Longest whole record. */
#define SPOOL_ENVELOPE_MAX_BYTES ((size_t)64 * 1024 * 1024)

/*
 * Appends the record of env (including env->id) to out.  NULL strings
 * where the envelope does not allow them (from, rcpts, target fields)
 * are written as "".  Returns 0, or -1 if out's max would be passed.
 */
ATTR_WUR int spool_envelope_format(struct buf *out, const struct envelope *env);

/*
 * Parses exactly one record filling all of data[len].  On success
 * returns 0 and *env_r holds a new envelope (whatever it held before is
 * overwritten, not freed) that the caller releases with envelope_clear().
 * On failure returns -1, *env_r is left empty (all zero, nothing to
 * free) and, if err is not NULL, a reason naming the offset is appended
 * to err.
 */
ATTR_WUR int spool_envelope_parse(
    const uint8_t *data, size_t len, struct envelope *env_r, struct buf *err);

#endif
