/* SPDX-License-Identifier: ISC */
/*
 * Helpers for text: bounded copies, strict number parsing (tern never
 * uses atoi), and escaping of untrusted bytes before they reach a log.
 */
#include "core/str.h"

#include <errno.h>
#include <string.h>

int
str_copy(char *dst, const char *src, size_t size)
{
	size_t len = strlen(src);

	if (size == 0)
		return -1;
	if (len >= size) {
		memcpy(dst, src, size - 1);
		dst[size - 1] = '\0';
		return -1;
	}
	memcpy(dst, src, len + 1);
	return 0;
}

int
parse_uint_n(const char *s, size_t len, uint64_t min, uint64_t max,
    uint64_t *val_r)
{
	uint64_t v = 0;
	size_t i;

	if (len == 0 || len > 20)
		return -1;
	for (i = 0; i < len; i++) {
		unsigned d;

		if (s[i] < '0' || s[i] > '9')
			return -1;
		d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	if (v < min || v > max)
		return -1;
	*val_r = v;
	return 0;
}

int
parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *val_r)
{
	return parse_uint_n(s, strlen(s), min, max, val_r);
}

/* A number followed by one optional unit letter from units[]. */
static int
parse_scaled(const char *s, const char *units, const uint64_t *mult,
    uint64_t *val_r)
{
	size_t len = strlen(s);
	uint64_t v, m = 1;
	const char *u;

	if (len == 0)
		return -1;
	u = strchr(units, ascii_tolower(s[len - 1]));
	if (u != NULL && s[len - 1] != '\0') {
		m = mult[u - units];
		len--;
	}
	if (parse_uint_n(s, len, 0, UINT64_MAX, &v) == -1)
		return -1;
	if (__builtin_mul_overflow(v, m, val_r))
		return -1;
	return 0;
}

int
parse_size(const char *s, uint64_t *val_r)
{
	static const uint64_t mult[] = { 1024, 1024 * 1024,
		1024 * 1024 * 1024 };

	return parse_scaled(s, "kmg", mult, val_r);
}

int
parse_duration(const char *s, uint64_t *val_r)
{
	static const uint64_t mult[] = { 1, 60, 3600, 86400 };

	return parse_scaled(s, "smhd", mult, val_r);
}

char *
str_lower(char *s)
{
	char *p;

	for (p = s; *p != '\0'; p++)
		*p = ascii_tolower(*p);
	return s;
}

int
str_casecmp(const char *a, const char *b)
{
	for (;; a++, b++) {
		char ca = ascii_tolower(*a), cb = ascii_tolower(*b);

		if (ca != cb || ca == '\0')
			return (unsigned char)ca - (unsigned char)cb;
	}
}

bool
str_case_equal_n(const char *a, const char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (ascii_tolower(a[i]) != ascii_tolower(b[i]))
			return false;
	}
	return true;
}

bool
str_has_case_prefix(const char *s, const char *prefix)
{
	size_t n = strlen(prefix);

	return strnlen(s, n) == n && str_case_equal_n(s, prefix, n);
}

char *
str_sanitize(char *out, size_t out_size, const void *in, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = in;
	size_t i, o = 0;

	if (out_size == 0)
		return out;
	for (i = 0; i < len; i++) {
		unsigned char c = p[i];

		if (c >= 0x20 && c < 0x7f && c != '\\') {
			if (o + 1 + 3 + 1 > out_size)
				break;
			out[o++] = (char)c;
		} else {
			if (o + 4 + 3 + 1 > out_size)
				break;
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	if (i < len && o + 3 < out_size) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return out;
}

size_t
str_utf8_len(const void *p, size_t left)
{
	const unsigned char *s = p;
	size_t n, i;
	uint32_t cp;

	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (n > left)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and values past U+10FFFF. */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}
