/* SPDX-License-Identifier: ISC */
/*
 * The DATA/BDAT content decoder: dot-unstuffing and the end-of-data
 * rule of RFC 5321 4.1.1.4 and 4.5.2, the raw chunks of RFC 3030, and
 * the bare CR/LF policy that closes the SMTP smuggling hole
 * (CVE-2023-51764/5/6).  It only transforms bytes; replies, size
 * limits' wording and storage belong to the session and the glue.
 */
#include "smtp/smtp_data.h"

#include <string.h>

#include "core/log.h"

void
smtp_data_init(struct smtp_data *d, enum smtp_data_mode mode,
    enum smtp_bare_newline bare_newline, uint64_t max_size)
{
	memset(d, 0, sizeof(*d));
	d->mode = mode;
	d->bare_newline = bare_newline;
	d->state = SMTP_DATA_STATE_BOL;
	d->max_size = max_size == 0 ? UINT64_MAX : max_size;
}

bool
smtp_data_is_done(const struct smtp_data *d)
{
	return d->state == SMTP_DATA_STATE_DONE;
}

bool
smtp_data_is_too_big(const struct smtp_data *d)
{
	return d->too_big;
}

bool
smtp_data_has_bare_newline(const struct smtp_data *d)
{
	return d->saw_bare_newline;
}

bool
smtp_data_is_failed(const struct smtp_data *d)
{
	if (d->too_big)
		return true;
	switch (d->bare_newline) {
	case SMTP_BARE_NEWLINE_REJECT:
		return d->saw_bare_newline;
	case SMTP_BARE_NEWLINE_NORMALIZE:
		return false;
	}
	log_panic("smtp_data: bad bare_newline %d", (int)d->bare_newline);
}

/*
 * Produces content.  Once the message has failed nothing more is
 * written: the glue throws it away anyway, and a failed message must
 * not cost disk space.
 */
static void
smtp_data_emit(struct smtp_data *d, uint8_t *out, size_t *o, const void *p,
    size_t n)
{
	if (smtp_data_is_failed(d))
		return;
	/* Up to the limit exactly, however the input was cut. */
	if (n > d->max_size - d->size) {
		n = (size_t)(d->max_size - d->size);
		d->too_big = true;
	}
	if (n == 0)
		return;
	memcpy(out + *o, p, n);
	*o += n;
	d->size += n;
}

/* A CR or LF that is not part of CRLF. */
static void
smtp_data_bare(struct smtp_data *d, uint8_t *out, size_t *o)
{
	d->saw_bare_newline = true;
	smtp_data_emit(d, out, o, "\r\n", 2);
	/*
	 * The next line may be dot-stuffed by a client that ends lines
	 * with LF, but it must never be taken as the end of data: that
	 * is exactly the ambiguity SMTP smuggling exploits.
	 */
	d->state = SMTP_DATA_STATE_BOL_WEAK;
}

/*
 * One step of the machine.  Returns whether c was consumed; when it
 * was not, the state changed and c must be offered again.
 */
static bool
smtp_data_step(struct smtp_data *d, uint8_t c, uint8_t *out, size_t *o)
{
	bool dots = d->mode == SMTP_DATA_MODE_DOT;

	switch (d->state) {
	case SMTP_DATA_STATE_BOL:
		if (c == '.' && dots) {
			d->state = SMTP_DATA_STATE_DOT;
			return true;
		}
		d->state = SMTP_DATA_STATE_TEXT;
		return false;
	case SMTP_DATA_STATE_BOL_WEAK:
		d->state = SMTP_DATA_STATE_TEXT;
		/* RFC 5321 4.5.2: a leading dot is deleted. */
		return c == '.' && dots;
	case SMTP_DATA_STATE_TEXT:
		if (c == '\r')
			d->state = SMTP_DATA_STATE_CR;
		else if (c == '\n')
			smtp_data_bare(d, out, o);
		else
			smtp_data_emit(d, out, o, &c, 1);
		return true;
	case SMTP_DATA_STATE_CR:
		if (c == '\n') {
			smtp_data_emit(d, out, o, "\r\n", 2);
			d->state = SMTP_DATA_STATE_BOL;
			return true;
		}
		smtp_data_bare(d, out, o);
		return false;
	case SMTP_DATA_STATE_DOT:
		if (c == '\r') {
			d->state = SMTP_DATA_STATE_DOT_CR;
			return true;
		}
		/* The stuffed dot is dropped; c is ordinary text or LF. */
		d->state = SMTP_DATA_STATE_TEXT;
		return false;
	case SMTP_DATA_STATE_DOT_CR:
		if (c == '\n') {
			d->state = SMTP_DATA_STATE_DONE;
			return true;
		}
		/* "." CR x: the dot is stuffing and the CR is bare. */
		smtp_data_bare(d, out, o);
		return false;
	case SMTP_DATA_STATE_DONE:
		break;
	}
	log_panic("smtp_data: step in state %d", (int)d->state);
}

int
smtp_data_decode(struct smtp_data *d, const uint8_t *in, size_t in_len,
    uint8_t *out, size_t out_cap, size_t *used_r, size_t *out_len_r)
{
	size_t i = 0, o = 0, n;

	ASSERT(out_cap >= SMTP_DATA_OUT_MIN_BYTES);
	ASSERT(d->state != SMTP_DATA_STATE_DONE);
	if (d->mode == SMTP_DATA_MODE_BINARY) {
		/* RFC 3030 3: BINARYMIME content is taken as it is. */
		n = in_len < out_cap ? in_len : out_cap;
		smtp_data_emit(d, out, &o, in, n);
		*used_r = n;
		*out_len_r = o;
		return 0;
	}
	while (i < in_len && out_cap - o >= SMTP_DATA_OUT_MIN_BYTES) {
		if (d->state == SMTP_DATA_STATE_TEXT) {
			/*
			 * Text up to the next CR or LF goes out at once, as
			 * far as the byte-wise steps would take it.
			 */
			const uint8_t *p = in + i;
			size_t max = out_cap - o - SMTP_DATA_OUT_MIN_BYTES + 1;
			size_t k = 0;

			if (max > in_len - i)
				max = in_len - i;
			while (k < max && p[k] != '\r' && p[k] != '\n')
				k++;
			if (k > 0) {
				smtp_data_emit(d, out, &o, p, k);
				i += k;
				continue;
			}
		}
		if (smtp_data_step(d, in[i], out, &o))
			i++;
		if (d->state == SMTP_DATA_STATE_DONE)
			break;
	}
	*used_r = i;
	*out_len_r = o;
	return d->state == SMTP_DATA_STATE_DONE ? 1 : 0;
}

void
smtp_data_finish(struct smtp_data *d, uint8_t *out, size_t out_cap,
    size_t *out_len_r)
{
	size_t o = 0;

	ASSERT(out_cap >= SMTP_DATA_OUT_MIN_BYTES);
	ASSERT(d->mode != SMTP_DATA_MODE_DOT);
	if (d->state == SMTP_DATA_STATE_CR)
		smtp_data_bare(d, out, &o);
	d->state = SMTP_DATA_STATE_DONE;
	*out_len_r = o;
}
