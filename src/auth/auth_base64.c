/* SPDX-License-Identifier: ISC */
/*
 * Strict base64 for SASL (RFC 4648 §4; RFC 4954 §4 requires a 501 for a
 * response that is not base64).  Written by hand rather than with
 * EVP_DecodeBlock, which ignores padding in its length and accepts
 * leading whitespace.  Table-driven, no locale.
 */
#include "auth/auth_base64.h"

#include <stdbool.h>
#include <string.h>

#include "core/buf.h"

static const char auth_base64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* 0..63 for alphabet characters, 0xff for everything else. */
static int
auth_base64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

size_t
auth_base64_encoded_len(size_t len)
{
	size_t groups = len / 3 + (len % 3 != 0);

	if (groups > SIZE_MAX / 4)
		return SIZE_MAX;
	return groups * 4;
}

int
auth_base64_encode(struct buf *out, const uint8_t *data, size_t len)
{
	size_t need = auth_base64_encoded_len(len), i;
	char quad[4];

	if (need == SIZE_MAX || need > buf_room(out))
		return -1;
	for (i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)data[i] << 16;
		size_t left = len - i;

		if (left > 1)
			v |= (uint32_t)data[i + 1] << 8;
		if (left > 2)
			v |= data[i + 2];
		quad[0] = auth_base64_alphabet[(v >> 18) & 63];
		quad[1] = auth_base64_alphabet[(v >> 12) & 63];
		quad[2] = '=';
		quad[3] = '=';
		if (left > 1)
			quad[2] = auth_base64_alphabet[(v >> 6) & 63];
		if (left > 2)
			quad[3] = auth_base64_alphabet[v & 63];
		if (buf_append(out, quad, sizeof(quad)) == -1)
			return -1; /* cannot happen: room checked above */
	}
	return 0;
}

int
auth_base64_decode(struct buf *out, const char *text, size_t len)
{
	size_t old_len = out->len, i, tail = 0;
	uint8_t tmp[3];

	if (len % 4 != 0)
		return -1;
	if (len > 0 && text[len - 1] == '=')
		tail = text[len - 2] == '=' ? 2 : 1;
	if (len / 4 * 3 - tail > buf_room(out))
		return -1;
	for (i = 0; i < len; i += 4) {
		int v[4], k, pad = 0;
		uint32_t w;
		bool last = i + 4 == len;

		for (k = 0; k < 4; k++) {
			unsigned char c = (unsigned char)text[i + k];

			/* '=' may only end the text, as "x=" or "==". */
			if (c == '=' && last && k >= 2 &&
			    (k == 3 || text[i + 3] == '=')) {
				v[k] = 0;
				pad++;
				continue;
			}
			if (pad > 0)
				goto fail;
			v[k] = auth_base64_value(c);
			if (v[k] < 0)
				goto fail;
		}
		w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 |
		    (uint32_t)v[2] << 6 | (uint32_t)v[3];
		/* Canonical only: the bits padding discards must be zero. */
		if ((pad == 1 && (w & 0xff) != 0) ||
		    (pad == 2 && (w & 0xffff) != 0))
			goto fail;
		tmp[0] = (uint8_t)(w >> 16);
		tmp[1] = (uint8_t)(w >> 8);
		tmp[2] = (uint8_t)w;
		if (buf_append(out, tmp, (size_t)(3 - pad)) == -1)
			goto fail;
	}
	explicit_bzero(tmp, sizeof(tmp));
	return 0;
fail:
	explicit_bzero(tmp, sizeof(tmp));
	if (out->data != NULL)
		explicit_bzero(out->data + old_len, out->len - old_len);
	out->len = old_len;
	if (out->data != NULL)
		out->data[old_len] = '\0';
	return -1;
}
