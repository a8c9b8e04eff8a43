/* SPDX-License-Identifier: ISC */
/*
 * Internet message helpers for tern sendmail (RFC 5322): line endings,
 * header fields and address lists of a message held in memory.  Pure
 * functions, no I/O; none keeps state between calls or allocates memory
 * that outlives it.  Input is raw bytes with a length: it may hold NUL
 * and 8-bit bytes, and nothing is read beyond the length.
 *
 * The header section, for every mail_header_*() function, is the run of
 * lines from the start of the message up to the first empty line or the
 * first line that is neither a field ("name:", RFC 5322 2.2; spaces
 * before the colon are allowed, obsolete syntax 4.5) nor a continuation
 * line (one that starts with SP or HTAB, after a field).  That line and
 * everything after it are the body, as in Postfix and Sendmail.  Lines
 * end in CRLF or in a bare LF; the last line may lack either.
 */
#ifndef TERN_MAIL_MAIL_H
#define TERN_MAIL_MAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/compat.h"

struct buf;

/*
 * Longest address mail_addrlist_parse() hands out: a 64-byte local
 * part, "@" and a 255-byte domain (RFC 5321 4.5.3.1.1, 4.5.3.1.2).
 */
#define MAIL_ADDR_MAX_BYTES 320

/*
 * Converts in[0..len) to CRLF line endings and appends it to out.
 * "\r\n" stays, and a bare "\n" or a bare "\r" (one not followed by
 * "\n", also at the very end) becomes "\r\n", as SMTP would store it.
 * The last line gets a CRLF when it lacks one; empty input gives empty
 * output.
 * Dots are copied as they are (no dot-stuffing, ".." stays "..").
 *
 * With dot_ends (sendmail without -i), a line that is exactly "."
 * (ended by "\n", "\r\n" or the end of input) ends the message: it is
 * not copied and neither is anything after it.  *consumed_r (may be
 * NULL) is set to the number of input bytes taken, the "." line
 * included; len when no such line was found.
 *
 * Returns 0, or -1 when out's max would be passed; out then holds the
 * part converted so far and should be thrown away.
 */
ATTR_WUR int mail_lines_normalize(const uint8_t *in, size_t len, bool dot_ends,
    struct buf *out, size_t *consumed_r);

/*
 * Whether the header section of msg[0..len) has a field named name
 * (ASCII case-insensitive, e.g. "From", "Date", "Message-ID").
 */
bool mail_header_has(const uint8_t *msg, size_t len, const char *name);

/*
 * Appends msg[0..len) to out without the header fields named name
 * (ASCII case-insensitive), each with its continuation lines; used to
 * drop Bcc (RFC 5322 3.6.3).  Every other byte, the body included, is
 * copied unchanged.  Returns 0, or -1 when out's max would be passed
 * (out then holds a partial copy).
 */
ATTR_WUR int mail_header_remove(
    const uint8_t *msg, size_t len, const char *name, struct buf *out);

/*
 * Receives one address: addr[0..len) is NUL-terminated at len and
 * valid only during the call.  Returns 0 to go on, anything else (by
 * convention -1) to stop the parse.
 */
typedef int mail_addr_fn(void *arg, const char *addr, size_t len);

/*
 * Parses s[0..len) as an address-list (RFC 5322 3.4, with the obsolete
 * forms of 4.4) and calls fn once per mailbox, in order, with its
 * addr-spec: "local@domain", or a bare local part when there is no "@"
 * (sendmail -t "To: root").  The address is rebuilt from its tokens, so
 * it has no display name, comments, angle brackets or white space;
 * quoted strings keep their quotes and backslashes ("a b"@example.com,
 * folds inside removed) and domain literals their brackets.
 *
 * Accepted: display names of atoms, quoted strings and dots; comments
 * (nested, with quoted pairs) wherever CFWS may be; folded white space
 * (CR and LF count as white space outside quoted strings); groups
 * ("Team: a@x, b@y;", members delivered, "undisclosed-recipients:;"
 * gives nothing; a group still open at the end of s is closed there);
 * empty list elements (",,"); obsolete routes ("<@a,@b:u@d>", route
 * dropped); local parts with white space or comments around their dots
 * and with ".." inside them; 8-bit bytes in atoms (RFC 6532).
 *
 * Syntax errors: unbalanced quotes, comments or angle brackets, a
 * stray special (">", ";" outside a group, "]", "\"), control bytes
 * outside quoted strings and comments, two words in a row in an
 * addr-spec ("John Smith@x"), nested groups, an empty "<>", a domain
 * with an empty label, an address longer than MAIL_ADDR_MAX_BYTES, or
 * one with a control byte other than HTAB (quoted pairs included, so
 * no CR, LF or NUL ever reaches fn).
 *
 * Returns the number of addresses, or -1 on a syntax error or when fn
 * asked to stop.  fn gets a mailbox once what follows it is known to be
 * a list separator or the end, so it may already have been called for
 * the addresses before an error, never for the one in error.
 */
ATTR_WUR int mail_addrlist_parse(
    const char *s, size_t len, mail_addr_fn *fn, void *arg);

/*
 * For sendmail -t: parses every To, Cc and Bcc field of the header
 * section of msg[0..len), continuation lines included, with
 * mail_addrlist_parse().  Returns the number of addresses found in all
 * of them, or -1 on a syntax error in any of them or when fn asked to
 * stop (fn may have been called for earlier addresses).
 */
ATTR_WUR int mail_header_recipients(
    const uint8_t *msg, size_t len, mail_addr_fn *fn, void *arg);

#endif
