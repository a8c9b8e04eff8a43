/* SPDX-License-Identifier: ISC */
/*
 * Password checks against Dovecot-compatible passwd-files, one per
 * domain: "localpart:{SCHEME}hash[:further fields, ignored]", '#'
 * comments and blank lines; a bare "localpart" line is a mailbox that
 * cannot log in.  Schemes: {SHA512-CRYPT} ($6$), {SHA256-CRYPT} ($5$),
 * {BLF-CRYPT} ($2a$, $2b$, $2y$) and {CRYPT} (whatever libxcrypt's
 * crypt_rn accepts).  Anything else fails closed: a password field with
 * no or an unknown scheme, or a hash malformed for its scheme.
 *
 * Files are cached by path and re-read when their (st_dev, st_ino,
 * st_size, st_mtim) change, so edits are seen without a restart.  (An
 * in-place edit that keeps the size within one timestamp tick would be
 * missed; auth_userfile.h always renames, which changes the inode.)
 * Hashing is slow (bcrypt especially): call auth_passwd_verify() from
 * worker threads (auth_verifier.h), never from the event loop.
 */
#ifndef TERN_AUTH_AUTH_PASSWD_H
#define TERN_AUTH_AUTH_PASSWD_H

#include <stdbool.h>
#include <stddef.h>

#include "auth/auth.h"
#include "core/compat.h"
#include "core/str.h"

/* RFC 5321 §4.5.3.1.1: a local part has at most 64 octets. */
#define AUTH_PASSWD_LOCALPART_MAX_BYTES 64
/* A users file larger than this is refused (TEMPFAIL). */
#define AUTH_PASSWD_FILE_MAX_BYTES ((size_t)64 * 1024 * 1024)
/* Users files cached at once; the least recently used is dropped. */
#define AUTH_PASSWD_CACHE_FILES_MAX 1024

/* One parsed line; views into the line passed to the parser. */
struct buf;

struct auth_passwd_line {
	struct str name;   /* the first field, never empty */
	struct str scheme; /* "SHA512-CRYPT", no braces; empty if none */
	struct str hash;   /* the rest of the second field; may be empty */
	bool has_password; /* a non-empty second field exists */
};

/*
 * Parses one line of a passwd-file (without its '\n'; a trailing '\r'
 * is ignored).  Returns 1 with *line_r filled, 0 for a blank or comment
 * line, -1 for a malformed one (empty name, or a NUL or control
 * character in the first two fields), which readers skip.  Pure; the
 * views stay valid as long as line does.
 */
ATTR_WUR int auth_passwd_parse_line(
    const char *line, size_t len, struct auth_passwd_line *line_r);

/*
 * Checks password against one stored "{SCHEME}hash" (a whole second
 * field).  Returns AUTH_OK or AUTH_FAIL; on AUTH_FAIL, reason (if not
 * NULL) gets why: "password mismatch", "no password scheme", "unknown
 * scheme {X}", "malformed hash for {X}".  The comparison of the hashes is
 * constant-time.  Thread-safe; slow on purpose.
 */
enum auth_result auth_passwd_check(
    const char *scheme_hash, const char *password, struct buf *reason);

struct auth_passwd;

/*
 * A cache of users files with its lock, and a dummy hash that unknown
 * users are checked against, so that they take as long as real ones.
 * Never NULL.
 */
struct auth_passwd *auth_passwd_new(void);
/* Frees; no verification may be running.  Accepts NULL. */
void auth_passwd_free(struct auth_passwd **pwp);

/*
 * Verifies password for localpart in the users file at path.  The
 * caller splits the login address and passes the domain's file; the
 * local part is matched ASCII case-insensitively.  Returns
 *   AUTH_OK        the password matches;
 *   AUTH_FAIL      unknown user, a user without a password, wrong
 *                  password, bad scheme or hash, or a password that is
 *                  empty or longer than AUTH_PASSWORD_MAX_BYTES;
 *   AUTH_TEMPFAIL  the file cannot be read (or is too large).
 * reason (may be NULL) gets a short text for the log, such as "unknown
 * user" or "users file /x: Permission denied"; never the password.
 * Thread-safe: the cache is under a mutex, which is not held while
 * hashing.  Blocks for the hash time: not for the event loop.
 */
enum auth_result auth_passwd_verify(struct auth_passwd *pw, const char *path,
    const char *localpart, const char *password, struct buf *reason);

#endif
