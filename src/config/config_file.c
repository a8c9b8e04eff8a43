/* SPDX-License-Identifier: ISC */
/*
 * Reads the files a config names (the config itself, users, aliases)
 * whole into memory, refusing anything that is not a regular file or is
 * larger than its limit.  Parsing is left to the callers.
 */
#include "config/config_private.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "core/xalloc.h"

int
config_file_read(const char *path, size_t max, char **text_r, size_t *len_r)
{
	struct stat st;
	char *text = NULL;
	size_t len = 0, want;
	ssize_t n;
	int fd, saved;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd == -1)
		return -1;
	if (fstat(fd, &st) == -1)
		goto fail;
	if (S_ISDIR(st.st_mode)) {
		errno = EISDIR;
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		goto fail;
	}
	if (st.st_size < 0 || (uint64_t)st.st_size > max) {
		errno = EFBIG;
		goto fail;
	}
	/* A file that grows meanwhile is read as it was at fstat(). */
	want = (size_t)st.st_size;
	text = xmalloc(want + 1);
	while (len < want) {
		n = read(fd, text + len, want - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			goto fail;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	(void)close(fd);
	text[len] = '\0';
	*text_r = text;
	*len_r = len;
	return 0;
fail:
	saved = errno;
	free(text);
	(void)close(fd);
	errno = saved;
	return -1;
}

bool
config_file_next_line(const char **pos, const char *end, const char **line_r,
    size_t *len_r)
{
	const char *s = *pos, *nl;
	size_t len;

	if (s >= end)
		return false;
	nl = memchr(s, '\n', (size_t)(end - s));
	len = nl != NULL ? (size_t)(nl - s) : (size_t)(end - s);
	*pos = nl != NULL ? nl + 1 : end;
	if (len > 0 && s[len - 1] == '\r')
		len--;
	*line_r = s;
	*len_r = len;
	return true;
}
