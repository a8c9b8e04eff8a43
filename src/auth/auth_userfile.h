/* SPDX-License-Identifier: ISC */
/*
 * Editing a domain's users file for `tern user add|passwd|del|list`.
 * The format is auth_passwd.h's (Dovecot passwd-file).  Every change
 * rewrites the file atomically: a temporary file beside it, fsync,
 * rename over it, fsync of the directory; the file's mode and owner are
 * kept, and every other line (comments, unknown extra fields, CRLF) is
 * kept byte for byte.  Concurrent editors are serialised with flock(2)
 * on the directory.  New files are created with mode 0640.
 *
 * Blocking I/O: for the CLI, not for the event loop.  The functions
 * share no state and may be called from any thread.
 */
#ifndef TERN_AUTH_AUTH_USERFILE_H
#define TERN_AUTH_AUTH_USERFILE_H

#include <stdbool.h>

#include "core/compat.h"

struct buf;

/* Which existing state auth_userfile_set() insists on. */
enum auth_userfile_mode {
	AUTH_USERFILE_ADD,    /* the user must not exist yet */
	AUTH_USERFILE_CHANGE, /* the user must exist */
	AUTH_USERFILE_PUT,    /* either */
};

/*
 * Whether name may be written as a user: 1 to 64 characters from
 * [a-z0-9._-], no leading, trailing or doubled '.'.  This keeps names
 * safe as Maildir directory names and free of ':' and newlines.
 */
bool auth_userfile_name_is_valid(const char *name);

/*
 * Hashes password (1 to AUTH_PASSWORD_MAX_BYTES bytes) with a fresh
 * salt and appends "{SHA512-CRYPT}$6$<salt>$<hash>" to hash_r.  Returns
 * 0, or -1 with hash_r unchanged (bad length, no entropy, or hash_r
 * full).  The caller wipes its password.
 */
ATTR_WUR int auth_userfile_hash_password(
    const char *password, struct buf *hash_r);

/*
 * Sets name's password field to hash ("{SCHEME}..." without ':' or
 * control characters), or makes name a mailbox without login when
 * hash is NULL.  A line for "name" or "name@domain" (domain may be
 * NULL: only "name") is the user's; it keeps its other fields.  A new
 * user is appended as "name".  Returns 0, or -1 with the reason in err
 * (may be NULL): invalid name or hash, user exists (ADD) or does not
 * (CHANGE), I/O.
 */
ATTR_WUR int auth_userfile_set(const char *path, const char *domain,
    const char *name, const char *hash, enum auth_userfile_mode mode,
    struct buf *err);

/*
 * Removes every line of name ("name" or "name@domain"); -1 with err if
 * there is none, or on I/O.
 */
ATTR_WUR int auth_userfile_del(const char *path, const char *domain,
    const char *name, struct buf *err);

/*
 * Called for each user line, in file order: name and the password
 * scheme as written ("SHA512-CRYPT"; "" for a user without a password
 * or without a {SCHEME}, who cannot log in).  Both are valid during the
 * call only.
 */
typedef void auth_userfile_list_fn(
    void *arg, const char *name, const char *scheme);

/*
 * Lists the users of path.  A missing file has no users.  Returns 0, or
 * -1 with err when the file cannot be read.
 */
ATTR_WUR int auth_userfile_list(
    const char *path, auth_userfile_list_fn *fn, void *arg, struct buf *err);

#endif
