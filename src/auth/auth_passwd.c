/* SPDX-License-Identifier: ISC */
/*
 * Dovecot passwd-file users: the line parser, crypt(3) verification
 * through libxcrypt's reentrant crypt_rn, and a per-path cache that is
 * re-read when the file changes.  Fails closed on anything it does not
 * understand.  Threads and callbacks are auth_verifier.c's business;
 * editing the files is auth_userfile.c's.
 */
#include "auth/auth_passwd.h"

#include <sys/queue.h>
#include <sys/stat.h>

#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/xalloc.h"

struct auth_passwd_user {
	const char *name;  /* lowercased, inside file->data */
	const char *field; /* "{SCHEME}hash", or NULL: cannot log in */
	size_t line_no;    /* first line wins on duplicates, as Dovecot */
};

struct auth_passwd_file {
	TAILQ_ENTRY(auth_passwd_file) lru; /* head: least recently used */
	char *path;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtim;
	char *data; /* the file, split into strings in place */
	struct auth_passwd_user *users; /* sorted by name */
	size_t n_users;
};

TAILQ_HEAD(auth_passwd_files, auth_passwd_file);

struct auth_passwd {
	pthread_mutex_t lock; /* guards files and n_files */
	struct auth_passwd_files files;
	size_t n_files;
	char dummy[CRYPT_OUTPUT_SIZE]; /* "$6$..." of a random password */
};

/* A scheme we verify, and the crypt prefixes its hashes must carry. */
struct auth_passwd_scheme {
	const char *name;
	const char *prefixes[3]; /* NULL-terminated; none: any crypt */
};

static const struct auth_passwd_scheme auth_passwd_schemes[] = {
    {"SHA512-CRYPT", {"$6$", NULL}},
    {"SHA256-CRYPT", {"$5$", NULL}},
    {"BLF-CRYPT", {"$2b$", "$2y$", "$2a$"}},
    {"CRYPT", {NULL}},
};

static bool
auth_passwd_is_blank(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t')
			return false;
	return true;
}

int
auth_passwd_parse_line(
    const char *line, size_t len, struct auth_passwd_line *line_r)
{
	const char *colon, *field, *end, *close;
	size_t i, field_len;

	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (auth_passwd_is_blank(line, len) || line[0] == '#')
		return 0;
	colon = memchr(line, ':', len);
	end = colon != NULL
	    ? memchr(colon + 1, ':', len - (size_t)(colon + 1 - line))
	    : NULL;
	if (end == NULL)
		end = line + len;
	for (i = 0; line + i < end; i++)
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			return -1;
	*line_r = (struct auth_passwd_line){0};
	line_r->name.p = line;
	line_r->name.len = colon != NULL ? (size_t)(colon - line) : len;
	if (line_r->name.len == 0)
		return -1;
	if (colon == NULL)
		return 1; /* a bare name: a mailbox without login */
	field = colon + 1;
	field_len = (size_t)(end - field);
	line_r->has_password = field_len > 0;
	close = field_len > 0 && field[0] == '{' ? memchr(field, '}', field_len)
	                                         : NULL;
	if (close != NULL) {
		line_r->scheme.p = field + 1;
		line_r->scheme.len = (size_t)(close - field - 1);
		field = close + 1;
		field_len = (size_t)(end - field);
	}
	line_r->hash.p = field;
	line_r->hash.len = field_len;
	return 1;
}

static void
auth_passwd_reason(struct buf *reason, const char *text)
{
	if (reason == NULL)
		return;
	buf_reset(reason);
	(void)!buf_append_str(reason, text);
}

/* "<what> {SCHEME}", the scheme name capped for the log. */
static void
auth_passwd_reason_scheme(
    struct buf *reason, const char *what, const char *scheme, size_t len)
{
	if (reason == NULL)
		return;
	buf_reset(reason);
	(void)!buf_printf(
	    reason, "%s {%.*s}", what, (int)(len < 32 ? len : 32), scheme);
}

/* Hashes password with setting; the output is in data->output, or NULL. */
static const char *
auth_passwd_crypt(
    const char *password, const char *setting, struct crypt_data *data)
{
	const char *out = crypt_rn(password, setting, data, sizeof(*data));

	/* Failure tokens start with '*'; treat them like NULL. */
	if (out == NULL || out[0] == '*')
		return NULL;
	return out;
}

static const struct auth_passwd_scheme *
auth_passwd_scheme_find(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < N_ELEMENTS(auth_passwd_schemes); i++) {
		const char *s = auth_passwd_schemes[i].name;

		if (strlen(s) == len && str_case_equal_n(s, name, len))
			return &auth_passwd_schemes[i];
	}
	return NULL;
}

static bool
auth_passwd_scheme_accepts(
    const struct auth_passwd_scheme *scheme, const char *hash)
{
	size_t i;

	if (scheme->prefixes[0] == NULL)
		return true;
	for (i = 0;
	     i < N_ELEMENTS(scheme->prefixes) && scheme->prefixes[i] != NULL;
	     i++)
		if (strncmp(hash, scheme->prefixes[i],
		        strlen(scheme->prefixes[i])) == 0)
			return true;
	return false;
}

/* auth_passwd_check() with the crypt work area given. */
static enum auth_result
auth_passwd_check_with(const char *field, const char *password,
    struct crypt_data *data, struct buf *reason)
{
	const struct auth_passwd_scheme *scheme;
	const char *close, *hash, *out;
	size_t name_len, out_len;

	if (field[0] == '\0') {
		auth_passwd_reason(reason, "user has no password");
		return AUTH_FAIL;
	}
	/* Dovecot would assume {CRYPT}; tern wants it said. */
	if (field[0] != '{' || (close = strchr(field, '}')) == NULL) {
		auth_passwd_reason(reason, "no password scheme");
		return AUTH_FAIL;
	}
	name_len = (size_t)(close - field - 1);
	hash = close + 1;
	scheme = auth_passwd_scheme_find(field + 1, name_len);
	if (scheme == NULL) {
		auth_passwd_reason_scheme(
		    reason, "unknown scheme", field + 1, name_len);
		return AUTH_FAIL;
	}
	if (strlen(hash) >= CRYPT_OUTPUT_SIZE ||
	    !auth_passwd_scheme_accepts(scheme, hash) ||
	    (out = auth_passwd_crypt(password, hash, data)) == NULL) {
		auth_passwd_reason_scheme(
		    reason, "malformed hash for", field + 1, name_len);
		return AUTH_FAIL;
	}
	/*
	 * crypt output has a fixed length for a given setting, so a length
	 * difference means the stored hash is damaged, not a wrong password;
	 * it depends only on the file, so it tells nothing about the input.
	 */
	out_len = strlen(out);
	if (out_len != strlen(hash)) {
		auth_passwd_reason_scheme(
		    reason, "malformed hash for", field + 1, name_len);
		return AUTH_FAIL;
	}
	if (CRYPTO_memcmp(out, hash, out_len) != 0) {
		auth_passwd_reason(reason, "password mismatch");
		return AUTH_FAIL;
	}
	return AUTH_OK;
}

enum auth_result
auth_passwd_check(
    const char *scheme_hash, const char *password, struct buf *reason)
{
	struct crypt_data *data = xcalloc(1, sizeof(*data));
	enum auth_result result;

	result = auth_passwd_check_with(scheme_hash, password, data, reason);
	explicit_bzero(data, sizeof(*data));
	free(data);
	return result;
}

struct auth_passwd *
auth_passwd_new(void)
{
	struct auth_passwd *pw = xcalloc(1, sizeof(*pw));
	struct crypt_data *data = xcalloc(1, sizeof(*data));
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	const char *out;

	if (pthread_mutex_init(&pw->lock, NULL) != 0)
		log_panic("auth_passwd_new: pthread_mutex_init failed");
	TAILQ_INIT(&pw->files);
	/*
	 * The dummy uses the scheme and cost `tern user add` writes, so an
	 * unknown user costs what a typical real one does.  Its password
	 * is the random salt itself; nobody needs to know it.
	 */
	if (crypt_gensalt_rn("$6$", 0, NULL, 0, setting, sizeof(setting)) ==
	        NULL ||
	    (out = auth_passwd_crypt(setting, setting, data)) == NULL ||
	    str_copy(pw->dummy, out, sizeof(pw->dummy)) == -1)
		log_panic("auth_passwd_new: cannot make the dummy hash: %s",
		    strerror(errno));
	explicit_bzero(data, sizeof(*data));
	free(data);
	return pw;
}

static void
auth_passwd_file_free(struct auth_passwd_file *f)
{
	free(f->path);
	free(f->data);
	free(f->users);
	free(f);
}

void
auth_passwd_free(struct auth_passwd **pwp)
{
	struct auth_passwd *pw = *pwp;
	struct auth_passwd_file *f;

	if (pw == NULL)
		return;
	while ((f = TAILQ_FIRST(&pw->files)) != NULL) {
		TAILQ_REMOVE(&pw->files, f, lru);
		auth_passwd_file_free(f);
	}
	pthread_mutex_destroy(&pw->lock);
	free(pw);
	*pwp = NULL;
}

static int
auth_passwd_user_cmp(const void *a, const void *b)
{
	const struct auth_passwd_user *ua = a, *ub = b;
	int c = strcmp(ua->name, ub->name);

	if (c != 0)
		return c;
	return ua->line_no < ub->line_no ? -1 : ua->line_no > ub->line_no;
}

/* Splits f->data (len bytes, NUL-terminated) into the sorted users. */
static void
auth_passwd_file_index(struct auth_passwd_file *f, size_t len)
{
	char *p = f->data, *end = f->data + len;
	size_t cap = 0, line_no = 0, n = 0, i;

	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t line_len =
		    nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		struct auth_passwd_line parsed;
		struct auth_passwd_user *u;
		char *name;

		line_no++;
		if (auth_passwd_parse_line(p, line_len, &parsed) == 1) {
			if (n == cap) {
				cap = cap == 0 ? 64 : cap * 2;
				f->users = xreallocarray(
				    f->users, cap, sizeof(*f->users));
			}
			u = &f->users[n++];
			name = (char *)(uintptr_t)parsed.name.p;
			name[parsed.name.len] = '\0';
			u->name = str_lower(name);
			u->line_no = line_no;
			u->field = NULL;
			if (parsed.has_password) {
				char *field = name + parsed.name.len + 1;

				field[(parsed.hash.p + parsed.hash.len) -
				    field] = '\0';
				u->field = field;
			}
		} else if (!auth_passwd_is_blank(p, line_len) && p[0] != '#') {
			log_warn("auth users file %s:%zu: malformed line "
			         "ignored",
			    f->path, line_no);
		}
		p = nl != NULL ? nl + 1 : end;
	}
	if (n > 0)
		qsort(f->users, n, sizeof(*f->users), auth_passwd_user_cmp);
	/* Keep the first of duplicates, as Dovecot does. */
	for (i = 0; i + 1 < n; i++)
		if (strcmp(f->users[i].name, f->users[i + 1].name) == 0)
			log_warn("auth users file %s:%zu: duplicate user "
			         "ignored",
			    f->path, f->users[i + 1].line_no);
	f->n_users = n;
}

/* Reads path into a new file entry; NULL with reason on error. */
static struct auth_passwd_file *
auth_passwd_file_load(const char *path, struct buf *reason)
{
	struct auth_passwd_file *f;
	struct stat st;
	size_t len = 0;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd == -1 || fstat(fd, &st) == -1)
		goto fail_errno;
	if (!S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size > AUTH_PASSWD_FILE_MAX_BYTES) {
		errno = S_ISREG(st.st_mode) ? EFBIG : EINVAL;
		goto fail_errno;
	}
	f = xcalloc(1, sizeof(*f));
	f->path = xstrdup(path);
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	f->size = st.st_size;
	f->mtim = st.st_mtim;
	f->data = xmalloc((size_t)st.st_size + 1);
	/* Read what is there; a file that grows meanwhile is re-read later. */
	while (len < (size_t)st.st_size) {
		ssize_t n = read(fd, f->data + len, (size_t)st.st_size - len);

		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			auth_passwd_file_free(f);
			goto fail_errno;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	(void)close(fd);
	f->data[len] = '\0';
	auth_passwd_file_index(f, len);
	return f;
fail_errno:
	if (reason != NULL) {
		buf_reset(reason);
		(void)!buf_printf(
		    reason, "users file %s: %s", path, strerror(errno));
	}
	if (fd != -1)
		(void)close(fd);
	return NULL;
}

static bool
auth_passwd_file_is_current(
    const struct auth_passwd_file *f, const struct stat *st)
{
	return f->dev == st->st_dev && f->ino == st->st_ino &&
	    f->size == st->st_size && f->mtim.tv_sec == st->st_mtim.tv_sec &&
	    f->mtim.tv_nsec == st->st_mtim.tv_nsec;
}

/*
 * Looks localpart up (lock held) and copies its password field into
 * *field_r (NULL if the user has none).  Returns 1 found, 0 unknown
 * user, -1 file error.
 */
static int
auth_passwd_lookup(struct auth_passwd *pw, const char *path,
    const char *localpart, char **field_r, struct buf *reason)
{
	struct auth_passwd_file *f;
	struct auth_passwd_user key = {.name = localpart, .line_no = 0};
	const struct auth_passwd_user *u;
	struct stat st;
	size_t lo, hi;

	TAILQ_FOREACH (f, &pw->files, lru)
		if (strcmp(f->path, path) == 0)
			break;
	if (f != NULL &&
	    (stat(path, &st) == -1 || !auth_passwd_file_is_current(f, &st))) {
		TAILQ_REMOVE(&pw->files, f, lru);
		pw->n_files--;
		auth_passwd_file_free(f);
		f = NULL;
	}
	if (f == NULL) {
		if ((f = auth_passwd_file_load(path, reason)) == NULL)
			return -1;
		if (pw->n_files == AUTH_PASSWD_CACHE_FILES_MAX) {
			struct auth_passwd_file *old = TAILQ_FIRST(&pw->files);

			TAILQ_REMOVE(&pw->files, old, lru);
			auth_passwd_file_free(old);
			pw->n_files--;
		}
		pw->n_files++;
	} else {
		TAILQ_REMOVE(&pw->files, f, lru);
	}
	TAILQ_INSERT_TAIL(&pw->files, f, lru);

	/*
	 * The first of equal names: key.line_no is 0, below every real
	 * line, so the lower bound of key is that entry if it exists.
	 */
	lo = 0;
	hi = f->n_users;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (auth_passwd_user_cmp(&f->users[mid], &key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == f->n_users || strcmp(f->users[lo].name, localpart) != 0)
		return 0;
	u = &f->users[lo];
	*field_r = u->field != NULL ? xstrdup(u->field) : NULL;
	return 1;
}

static bool
auth_passwd_localpart_ok(const char *localpart)
{
	size_t len = strlen(localpart), i;

	if (len == 0 || len > AUTH_PASSWD_LOCALPART_MAX_BYTES)
		return false;
	for (i = 0; i < len; i++)
		if ((unsigned char)localpart[i] <= 0x20 ||
		    localpart[i] == ':' || localpart[i] == 0x7f)
			return false;
	return true;
}

enum auth_result
auth_passwd_verify(struct auth_passwd *pw, const char *path,
    const char *localpart, const char *password, struct buf *reason)
{
	char name[AUTH_PASSWD_LOCALPART_MAX_BYTES + 1];
	char *field = NULL;
	const char *why = NULL;
	size_t pw_len = strnlen(password, AUTH_PASSWORD_MAX_BYTES + 1);
	struct crypt_data *data;
	enum auth_result result;
	int found;

	if (pw_len == 0 || pw_len > AUTH_PASSWORD_MAX_BYTES)
		why = "password empty or too long";
	else if (!auth_passwd_localpart_ok(localpart))
		why = "invalid local part";
	if (why == NULL) {
		(void)!str_copy(name, localpart, sizeof(name));
		str_lower(name);
		pthread_mutex_lock(&pw->lock);
		found = auth_passwd_lookup(pw, path, name, &field, reason);
		pthread_mutex_unlock(&pw->lock);
		if (found == -1)
			return AUTH_TEMPFAIL;
		if (found == 0)
			why = "unknown user";
		else if (field == NULL)
			why = "user has no password";
	}
	data = xcalloc(1, sizeof(*data));
	if (why != NULL) {
		/* As slow as a real check, so timing does not tell. */
		(void)auth_passwd_crypt(
		    pw_len > 0 && pw_len <= AUTH_PASSWORD_MAX_BYTES ? password
		                                                    : "x",
		    pw->dummy, data);
		auth_passwd_reason(reason, why);
		result = AUTH_FAIL;
	} else {
		result = auth_passwd_check_with(field, password, data, reason);
	}
	explicit_bzero(data, sizeof(*data));
	free(data);
	free(field);
	return result;
}
