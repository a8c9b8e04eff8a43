/* SPDX-License-Identifier: ISC */
/*
 * The message content decoder: an incremental state machine that turns
 * the bytes after DATA (or inside BDAT chunks) into message content.
 *
 * DATA (RFC 5321 4.1.1.4, 4.5.2): leading dots are removed and the
 * content ends only at the literal sequence CRLF "." CRLF.  LF "." LF,
 * CR "." CR and every other mix of bare CR or LF never end it (SMTP
 * smuggling, CVE-2023-51764/5/6): a line that follows a bare CR or LF
 * can never be the terminator.
 *
 * A bare CR or LF (one not part of CRLF) is handled by the policy:
 * REJECT remembers it (smtp_data_has_bare_newline()) and stops
 * producing output; NORMALIZE writes CRLF in its place.  Content beyond
 * max_size is not produced either and is remembered
 * (smtp_data_is_too_big()).  In both cases the caller keeps feeding
 * until the end, then fails the message.  NUL bytes are content.
 */
#ifndef TERN_SMTP_SMTP_DATA_H
#define TERN_SMTP_SMTP_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/compat.h"
#include "smtp/smtp_session.h"

enum smtp_data_mode {
	SMTP_DATA_MODE_DOT,	/* DATA: dot-stuffed, ends at CRLF.CRLF */
	SMTP_DATA_MODE_CHUNK,	/* BDAT text: raw, bare newline policy */
	SMTP_DATA_MODE_BINARY,	/* BDAT BODY=BINARYMIME: bytes as they are */
};

enum smtp_data_state {
	SMTP_DATA_STATE_BOL,	/* after CRLF: a "." may start the end */
	SMTP_DATA_STATE_BOL_WEAK, /* after a bare CR/LF: never the end */
	SMTP_DATA_STATE_TEXT,
	SMTP_DATA_STATE_CR,	/* a CR whose meaning depends on the next byte */
	SMTP_DATA_STATE_DOT,	/* "." at a strong line start */
	SMTP_DATA_STATE_DOT_CR,	/* "." CR at a strong line start */
	SMTP_DATA_STATE_DONE,
};

/*
 * smtp_data_decode() writes at most 3 bytes per step, and stops while
 * fewer than this many bytes of out are left.
 */
#define SMTP_DATA_OUT_MIN_BYTES 4

struct smtp_data {
	enum smtp_data_mode mode;
	enum smtp_bare_newline bare_newline;
	enum smtp_data_state state;
	uint64_t max_size;	/* bytes of content allowed */
	uint64_t size;		/* bytes of content produced */
	bool saw_bare_newline;
	bool too_big;
};

/* Starts a decoder; max_size 0 means no limit. */
void smtp_data_init(struct smtp_data *d, enum smtp_data_mode mode,
    enum smtp_bare_newline bare_newline, uint64_t max_size);

/*
 * Decodes from in[0..in_len) into out[0..out_cap), out_cap >=
 * SMTP_DATA_OUT_MIN_BYTES.  *used_r is set to the bytes taken from in,
 * *out_len_r to the bytes written.  Returns 1 when the end of data was
 * taken (DOT mode only; bytes after it in in are not touched), 0
 * otherwise: call again with more input, or with a fresh out when
 * *used_r < in_len.
 */
int smtp_data_decode(struct smtp_data *d, const uint8_t *in, size_t in_len,
    uint8_t *out, size_t out_cap, size_t *used_r, size_t *out_len_r);

/*
 * Ends CHUNK or BINARY content after the last chunk: a trailing bare CR
 * is handled by the policy.  Writes at most SMTP_DATA_OUT_MIN_BYTES.
 */
void smtp_data_finish(struct smtp_data *d, uint8_t *out, size_t out_cap,
    size_t *out_len_r);

bool smtp_data_is_done(const struct smtp_data *d);
bool smtp_data_is_too_big(const struct smtp_data *d);
/* A bare CR or LF was seen (under either policy). */
bool smtp_data_has_bare_newline(const struct smtp_data *d);
/* The content cannot be accepted: too big, or a bare CR/LF under REJECT. */
bool smtp_data_is_failed(const struct smtp_data *d);

#endif
