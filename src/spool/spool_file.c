/* SPDX-License-Identifier: ISC */
/*
 * The framing of a committed spool file: content, envelope record, and
 * a fixed-size trailer giving the record's offset and CRC-32, so one
 * file (and one fsync) holds a whole message.  Reading checks every
 * offset against the file size before trusting it.
 */
#include "spool/spool_private.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/envelope.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "spool/spool_envelope.h"

#define SPOOL_FILE_TRAILER_FMT                                                 \
	"tern-spool 1 off=%016" PRIx64 " crc=%08" PRIx32 "\n"

/* CRC-32 (IEEE 802.3, reflected), bitwise: records are small. */
uint32_t
spool_file_crc32(const uint8_t *p, size_t len)
{
	uint32_t crc = 0xffffffffu;
	size_t i;
	int k;

	for (i = 0; i < len; i++) {
		crc ^= p[i];
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
	}
	return ~crc;
}

void
spool_file_trailer(
    char out[SPOOL_TRAILER_BYTES + 1], uint64_t off, uint32_t crc)
{
	int n;

	n = snprintf(
	    out, SPOOL_TRAILER_BYTES + 1, SPOOL_FILE_TRAILER_FMT, off, crc);
	ASSERT(n == SPOOL_TRAILER_BYTES);
}

static int
spool_file_hex(const uint8_t *p, size_t n, uint64_t *val_r)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned d;

		if (p[i] >= '0' && p[i] <= '9')
			d = (unsigned)(p[i] - '0');
		else if (p[i] >= 'a' && p[i] <= 'f')
			d = (unsigned)(p[i] - 'a' + 10);
		else
			return -1;
		v = (v << 4) | d;
	}
	*val_r = v;
	return 0;
}

int
spool_file_trailer_parse(const uint8_t *t, uint64_t *off_r, uint32_t *crc_r)
{
	uint64_t crc;

	/* "tern-spool 1 off=" 16 hex " crc=" 8 hex "\n" */
	if (memcmp(t, "tern-spool 1 off=", 17) != 0 ||
	    spool_file_hex(t + 17, 16, off_r) == -1 ||
	    memcmp(t + 33, " crc=", 5) != 0 ||
	    spool_file_hex(t + 38, 8, &crc) == -1 || t[46] != '\n')
		return -1;
	*crc_r = (uint32_t)crc;
	return 0;
}

static int
spool_file_pread_all(int fd, void *p, size_t len, uint64_t off)
{
	uint8_t *dst = p;

	while (len > 0) {
		ssize_t n = pread(fd, dst, len, (off_t)off);

		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		if (n == 0) {
			errno = EINVAL; /* shrank under us: truncated */
			return -1;
		}
		dst += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

/* Finds the envelope record: its offset and length. */
static int
spool_file_locate(
    int fd, uint64_t *off_r, uint64_t *len_r, uint32_t *crc_r, struct buf *err)
{
	uint8_t t[SPOOL_TRAILER_BYTES];
	struct stat st;
	uint64_t size;

	if (fstat(fd, &st) == -1)
		return -1;
	size = (uint64_t)st.st_size;
	if (size < SPOOL_TRAILER_BYTES) {
		if (err != NULL)
			(void)!buf_printf(
			    err, "file too short (%" PRIu64 " bytes)", size);
		errno = EINVAL;
		return -1;
	}
	if (spool_file_pread_all(
	        fd, t, sizeof(t), size - SPOOL_TRAILER_BYTES) == -1)
		return -1;
	if (spool_file_trailer_parse(t, off_r, crc_r) == -1 ||
	    *off_r > size - SPOOL_TRAILER_BYTES) {
		if (err != NULL)
			(void)!buf_append_str(err, "bad trailer");
		errno = EINVAL;
		return -1;
	}
	*len_r = size - SPOOL_TRAILER_BYTES - *off_r;
	return 0;
}

int
spool_file_content_len(int fd, uint64_t *content_len_r)
{
	uint64_t len;
	uint32_t crc;

	return spool_file_locate(fd, content_len_r, &len, &crc, NULL);
}

int
spool_file_load(
    int fd, struct envelope *env, uint64_t *content_len_r, struct buf *err)
{
	uint64_t off, len;
	uint32_t crc;
	uint8_t *rec;

	memset(env, 0, sizeof(*env));
	if (spool_file_locate(fd, &off, &len, &crc, err) == -1)
		return -1;
	if (len > SPOOL_ENVELOPE_MAX_BYTES) {
		if (err != NULL)
			(void)!buf_append_str(err, "envelope record too long");
		errno = EINVAL;
		return -1;
	}
	rec = xmalloc(len > 0 ? (size_t)len : 1);
	if (spool_file_pread_all(fd, rec, (size_t)len, off) == -1) {
		free(rec);
		return -1;
	}
	if (spool_file_crc32(rec, (size_t)len) != crc) {
		free(rec);
		if (err != NULL)
			(void)!buf_append_str(
			    err, "envelope checksum mismatch");
		errno = EINVAL;
		return -1;
	}
	if (spool_envelope_parse(rec, (size_t)len, env, err) == -1) {
		free(rec);
		errno = EINVAL;
		return -1;
	}
	free(rec);
	*content_len_r = off;
	return 0;
}
