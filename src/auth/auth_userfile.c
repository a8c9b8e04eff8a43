/* SPDX-License-Identifier: ISC */
/*
 * Users file edits for the `tern user` commands: hash a new password,
 * then rewrite the Dovecot passwd-file atomically (temporary file,
 * fsync, rename, directory fsync) under a directory flock(2).  Only the
 * one user's line changes; comments, other users and extra fields stay
 * byte for byte.  Reading the file for logins is auth_passwd.c's job.
 */
#include "auth/auth_userfile.h"

#include <sys/file.h>
#include <sys/stat.h>

#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "auth/auth.h"
#include "auth/auth_passwd.h"
#include "core/buf.h"
#include "core/str.h"
#include "core/xalloc.h"

#define AUTH_USERFILE_NEW_MODE 0640

/* Appends a reason to err (if any) and returns -1. */
static int
auth_userfile_fail(
    struct buf *err, const char *what, const char *path, int errnum)
{
	if (err == NULL)
		return -1;
	buf_reset(err);
	if (errnum != 0)
		(void)!buf_printf(
		    err, "%s %s: %s", what, path, strerror(errnum));
	else
		(void)!buf_printf(err, "%s: %s", path, what);
	return -1;
}

bool
auth_userfile_name_is_valid(const char *name)
{
	size_t len = strlen(name), i;

	if (len == 0 || len > AUTH_PASSWD_LOCALPART_MAX_BYTES ||
	    name[0] == '.' || name[len - 1] == '.')
		return false;
	for (i = 0; i < len; i++) {
		char c = name[i];

		if (c == '.' && name[i + 1] == '.')
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		        c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

static bool
auth_userfile_hash_is_valid(const char *hash)
{
	size_t i;

	if (hash[0] != '{' || strchr(hash, '}') == NULL)
		return false;
	for (i = 0; hash[i] != '\0'; i++)
		if ((unsigned char)hash[i] < 0x20 || hash[i] == 0x7f ||
		    hash[i] == ':')
			return false;
	return true;
}

int
auth_userfile_hash_password(const char *password, struct buf *hash_r)
{
	struct crypt_data *data;
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	const char *out;
	size_t len = strnlen(password, AUTH_PASSWORD_MAX_BYTES + 1);
	int rc = -1;

	if (len == 0 || len > AUTH_PASSWORD_MAX_BYTES)
		return -1;
	/* count 0: libxcrypt's default of 5000 rounds, as doveadm pw. */
	if (crypt_gensalt_rn("$6$", 0, NULL, 0, setting, sizeof(setting)) ==
	    NULL)
		return -1;
	data = xcalloc(1, sizeof(*data));
	out = crypt_rn(password, setting, data, sizeof(*data));
	if (out != NULL && strncmp(out, "$6$", 3) == 0 &&
	    strlen("{SHA512-CRYPT}") + strlen(out) <= buf_room(hash_r)) {
		(void)!buf_append_str(hash_r, "{SHA512-CRYPT}");
		(void)!buf_append_str(hash_r, out);
		rc = 0;
	}
	explicit_bzero(data, sizeof(*data));
	free(data);
	return rc;
}

/*
 * Reads path into content.  Returns 1 (exists; *st_r filled), 0 (does
 * not exist) or -1 with err.
 */
static int
auth_userfile_read(
    const char *path, struct buf *content, struct stat *st_r, struct buf *err)
{
	char chunk[8192];
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd == -1 && errno == ENOENT)
		return 0;
	if (fd == -1 || fstat(fd, st_r) == -1)
		goto fail;
	if (!S_ISREG(st_r->st_mode)) {
		errno = EINVAL;
		goto fail;
	}
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			goto fail;
		if (n == 0)
			break;
		if (buf_append(content, chunk, (size_t)n) == -1) {
			errno = EFBIG;
			goto fail;
		}
	}
	(void)close(fd);
	return 1;
fail:
	(void)auth_userfile_fail(err, "cannot read", path, errno);
	if (fd != -1)
		(void)close(fd);
	return -1;
}

/* Writes content to a temporary file and renames it over path. */
static int
auth_userfile_replace(const char *path, int dir_fd, const struct buf *content,
    const struct stat *old_st, struct buf *err)
{
	char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	const char *what = "cannot write";
	size_t done = 0;
	int fd;

	fd = open(
	    tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd == -1)
		goto fail;
	if (old_st != NULL) {
		what = "cannot keep the mode or owner of";
		if (fchmod(fd, old_st->st_mode & 07777) == -1)
			goto fail_unlink;
		if ((old_st->st_uid != geteuid() ||
		        old_st->st_gid != getegid()) &&
		    fchown(fd, old_st->st_uid, old_st->st_gid) == -1)
			goto fail_unlink;
	} else if (fchmod(fd, AUTH_USERFILE_NEW_MODE) == -1) {
		goto fail_unlink;
	}
	what = "cannot write";
	while (done < content->len) {
		ssize_t n =
		    write(fd, content->data + done, content->len - done);

		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			goto fail_unlink;
		done += (size_t)n;
	}
	if (fsync(fd) == -1)
		goto fail_unlink;
	if (close(fd) == -1) {
		fd = -1;
		goto fail_unlink;
	}
	fd = -1;
	what = "cannot rename over";
	if (rename(tmp, path) == -1)
		goto fail_unlink;
	/* The rename is durable only once the directory is on disk. */
	what = "cannot sync the directory of";
	if (fsync(dir_fd) == -1)
		goto fail;
	free(tmp);
	return 0;
fail_unlink : {
	int saved = errno;

	if (fd != -1)
		(void)close(fd);
	(void)unlink(tmp);
	errno = saved;
}
fail:
	(void)auth_userfile_fail(err, what, path, errno);
	free(tmp);
	return -1;
}

/* Opens and locks path's directory; -1 with err. */
static int
auth_userfile_lock_dir(const char *path, struct buf *err)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash == NULL ? xstrdup(".")
	    : slash == path       ? xstrdup("/")
	                          : xstrndup(path, (size_t)(slash - path));
	int fd;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1 || flock(fd, LOCK_EX) == -1) {
		(void)auth_userfile_fail(
		    err, "cannot lock directory", dir, errno);
		if (fd != -1)
			(void)close(fd);
		fd = -1;
	}
	free(dir);
	return fd;
}

/* Appends the new line for a user that had the line body[len]. */
static int
auth_userfile_edited_line(
    struct buf *out, const char *body, size_t len, const char *hash)
{
	const char *colon = memchr(body, ':', len), *rest = NULL;
	size_t name_len = colon != NULL ? (size_t)(colon - body) : len;
	size_t rest_len = 0;

	if (colon != NULL)
		rest = memchr(colon + 1, ':', len - name_len - 1);
	if (rest != NULL)
		rest_len = len - (size_t)(rest - body);
	if (buf_append(out, body, name_len) == -1 ||
	    ((hash != NULL || rest_len > 0) && buf_append(out, ":", 1) == -1) ||
	    (hash != NULL && buf_append_str(out, hash) == -1) ||
	    (rest_len > 0 && buf_append(out, rest, rest_len) == -1))
		return -1;
	return 0;
}

/*
 * Whether a line's user field names the user name of domain: "name" or
 * "name@domain", both matched without regard to case, as the server
 * reads them.
 */
static bool
auth_userfile_line_is(const struct auth_passwd_line *parsed,
    const char *domain, const char *name)
{
	size_t name_len = strlen(name);
	const char *p = parsed->name.p;
	size_t len = parsed->name.len;

	if (len < name_len || !str_case_equal_n(p, name, name_len))
		return false;
	if (len == name_len)
		return true;
	return domain != NULL && p[name_len] == '@' &&
	    len - name_len - 1 == strlen(domain) &&
	    str_case_equal_n(p + name_len + 1, domain, len - name_len - 1);
}

/*
 * Copies content to out with name's lines edited: the first replaced
 * by hash (set) or all dropped (del).  Returns how many lines matched,
 * or -1 when out is full.
 */
static long
auth_userfile_rewrite(const struct buf *content, struct buf *out,
    const char *domain, const char *name, const char *hash, bool del)
{
	const char *p = (const char *)content->data;
	const char *end;
	long matched = 0;

	if (content->len == 0)
		return 0;
	end = p + content->len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *next = nl != NULL ? nl + 1 : end;
		size_t body_len = (size_t)((nl != NULL ? nl : end) - p);
		struct auth_passwd_line parsed;
		bool crlf = body_len > 0 && p[body_len - 1] == '\r';

		if (auth_passwd_parse_line(p, body_len, &parsed) == 1 &&
		    auth_userfile_line_is(&parsed, domain, name)) {
			matched++;
			if (del) {
				p = next;
				continue;
			}
			if (matched == 1) {
				if (auth_userfile_edited_line(
				        out, p, body_len - crlf, hash) == -1 ||
				    buf_append(out, crlf ? "\r\n" : "\n",
				        crlf ? 2 : 1) == -1)
					return -1;
				p = next;
				continue;
			}
			/* Later duplicates stay: Dovecot ignores them too. */
		}
		if (buf_append(out, p, (size_t)(next - p)) == -1)
			return -1;
		p = next;
	}
	return matched;
}

static int
auth_userfile_edit(const char *path, const char *domain, const char *name,
    const char *hash, enum auth_userfile_mode mode, bool del,
    struct buf *err)
{
	struct buf content, out;
	struct stat st;
	long matched;
	int dir_fd, exists, rc = -1;

	if (!auth_userfile_name_is_valid(name))
		return auth_userfile_fail(err, "invalid user name", name, 0);
	if (hash != NULL && !auth_userfile_hash_is_valid(hash))
		return auth_userfile_fail(
		    err, "invalid password hash", name, 0);
	if ((dir_fd = auth_userfile_lock_dir(path, err)) == -1)
		return -1;
	buf_init(&content, 0, AUTH_PASSWD_FILE_MAX_BYTES);
	buf_init(&out, 0, AUTH_PASSWD_FILE_MAX_BYTES);
	if ((exists = auth_userfile_read(path, &content, &st, err)) == -1)
		goto done;
	matched = auth_userfile_rewrite(&content, &out, domain, name, hash, del);
	if (matched == -1) {
		(void)auth_userfile_fail(err, "cannot rewrite", path, EFBIG);
		goto done;
	}
	if (matched == 0 && (del || mode == AUTH_USERFILE_CHANGE)) {
		(void)auth_userfile_fail(err, "no such user", name, 0);
		goto done;
	}
	if (matched > 0 && !del && mode == AUTH_USERFILE_ADD) {
		(void)auth_userfile_fail(err, "user exists", name, 0);
		goto done;
	}
	if (matched == 0) {
		/* Appended after a last line that lacked its newline. */
		if ((out.len > 0 && out.data[out.len - 1] != '\n' &&
		        buf_append(&out, "\n", 1) == -1) ||
		    buf_append_str(&out, name) == -1 ||
		    (hash != NULL &&
		        (buf_append(&out, ":", 1) == -1 ||
		            buf_append_str(&out, hash) == -1)) ||
		    buf_append(&out, "\n", 1) == -1) {
			(void)auth_userfile_fail(
			    err, "cannot rewrite", path, EFBIG);
			goto done;
		}
	}
	rc =
	    auth_userfile_replace(path, dir_fd, &out, exists ? &st : NULL, err);
done:
	buf_clear(&content);
	buf_clear(&out);
	(void)close(dir_fd); /* releases the lock */
	return rc;
}

int
auth_userfile_set(const char *path, const char *domain, const char *name,
    const char *hash, enum auth_userfile_mode mode, struct buf *err)
{
	return auth_userfile_edit(path, domain, name, hash, mode, false, err);
}

int
auth_userfile_del(const char *path, const char *domain, const char *name,
    struct buf *err)
{
	return auth_userfile_edit(
	    path, domain, name, NULL, AUTH_USERFILE_CHANGE, true, err);
}

int
auth_userfile_list(
    const char *path, auth_userfile_list_fn *fn, void *arg, struct buf *err)
{
	struct buf content;
	struct stat st;
	const char *p, *end;
	int exists;

	buf_init(&content, 0, AUTH_PASSWD_FILE_MAX_BYTES);
	exists = auth_userfile_read(path, &content, &st, err);
	if (exists == -1) {
		buf_clear(&content);
		return -1;
	}
	p = (const char *)content.data;
	end = content.len > 0 ? p + content.len : p;
	while (p != NULL && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = (size_t)((nl != NULL ? nl : end) - p);
		struct auth_passwd_line parsed;

		if (auth_passwd_parse_line(p, len, &parsed) == 1) {
			char *name = xstrndup(parsed.name.p, parsed.name.len);
			char *scheme = xstrndup(
			    parsed.scheme.p != NULL ? parsed.scheme.p : "",
			    parsed.scheme.len);

			fn(arg, name, parsed.has_password ? scheme : "");
			free(name);
			free(scheme);
		}
		p = nl != NULL ? nl + 1 : end;
	}
	buf_clear(&content);
	return 0;
}
