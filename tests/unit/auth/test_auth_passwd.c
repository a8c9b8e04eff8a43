/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for auth/auth_passwd and auth/auth_verifier: the line
 * parser, every scheme with hashes made at test time, fail-closed cases,
 * edits seen without a restart, and the asynchronous verifier driven by
 * poll(2) on its notify fd.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sys/stat.h>

#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/auth.h"
#include "auth/auth_passwd.h"
#include "auth/auth_verifier.h"
#include "core/buf.h"
#include "core/xalloc.h"

struct fixture {
	char dir[64];
	char path[128];
	char sha512[CRYPT_OUTPUT_SIZE];
	char sha256[CRYPT_OUTPUT_SIZE];
	char blf[CRYPT_OUTPUT_SIZE];
	char des[CRYPT_OUTPUT_SIZE];
	char md5[CRYPT_OUTPUT_SIZE];
	struct auth_passwd *pw;
	struct buf reason;
};

/* crypt(prefix-salt, password) into out, as a libxcrypt caller would. */
static void
make_hash(
    char *out, const char *prefix, unsigned long cost, const char *password)
{
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *data = xcalloc(1, sizeof(*data));
	const char *h;

	assert_non_null(
	    crypt_gensalt_rn(prefix, cost, NULL, 0, setting, sizeof(setting)));
	h = crypt_rn(password, setting, data, sizeof(*data));
	assert_non_null(h);
	assert_int_equal(
	    snprintf(out, CRYPT_OUTPUT_SIZE, "%s", h) < CRYPT_OUTPUT_SIZE, 1);
	free(data);
}

static void
write_file(const char *path, const char *content)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_int_equal(fputs(content, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
}

/* Writes via a temporary file and rename, like auth_userfile does. */
static void
replace_file(const char *path, const char *content)
{
	char tmp[256];

	(void)snprintf(tmp, sizeof(tmp), "%s.new", path);
	write_file(tmp, content);
	assert_int_equal(rename(tmp, path), 0);
}

static int
setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	char *content;

	(void)snprintf(f->dir, sizeof(f->dir), "/tmp/tern-auth-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	(void)snprintf(f->path, sizeof(f->path), "%s/users", f->dir);
	make_hash(f->sha512, "$6$", 0, "sha512 secret");
	make_hash(f->sha256, "$5$", 0, "sha256 secret");
	make_hash(f->blf, "$2b$", 4, "blf secret");
	make_hash(f->des, "", 0, "des");
	make_hash(f->md5, "$1$", 0, "md5 secret");
	content = xasprintf(
	    "# tern users for example.com\n"
	    "\n"
	    "alice:{SHA512-CRYPT}%s\n"
	    "bob:{SHA256-CRYPT}%s:1000:1000::/home/bob::userdb_quota=1G\n"
	    "carol:{BLF-CRYPT}%s\r\n"
	    "dave:{CRYPT}%s\n"
	    "erin:{crypt}%s\n"
	    "   \t\n"
	    "nologin\n"
	    "empty:\n"
	    "noscheme:%s\n"
	    "md5:{MD5}0123456789abcdef0123456789abcdef\n"
	    "wrongprefix:{SHA512-CRYPT}%s\n"
	    "truncated:{SHA512-CRYPT}$6$abc\n"
	    "toolong:{SHA512-CRYPT}%sx\n"
	    "emptyhash:{SHA512-CRYPT}\n"
	    "star:{CRYPT}*\n"
	    ":{SHA512-CRYPT}%s\n"
	    "Upper:{SHA512-CRYPT}%s\n"
	    "dup:{SHA256-CRYPT}%s\n"
	    "dup:{SHA512-CRYPT}%s\n"
	    "last:{SHA512-CRYPT}%s",
	    f->sha512, f->sha256, f->blf, f->des, f->md5, f->sha512, f->sha256,
	    f->sha512, f->sha512, f->sha512, f->sha256, f->sha512, f->sha512);
	write_file(f->path, content);
	free(content);
	f->pw = auth_passwd_new();
	buf_init(&f->reason, 0, 1024);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[256];

	auth_passwd_free(&f->pw);
	buf_clear(&f->reason);
	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

struct verify_case {
	const char *user;
	const char *password;
	enum auth_result result;
	const char *reason; /* expected for AUTH_FAIL */
};

static const struct verify_case verify_cases[] = {
    {"alice", "sha512 secret", AUTH_OK, NULL},
    {"alice", "sha512 Secret", AUTH_FAIL, "password mismatch"},
    {"alice", "", AUTH_FAIL, "password empty or too long"},
    {"ALICE", "sha512 secret", AUTH_OK, NULL},
    {"bob", "sha256 secret", AUTH_OK, NULL},
    {"bob", "sha512 secret", AUTH_FAIL, "password mismatch"},
    {"carol", "blf secret", AUTH_OK, NULL},
    {"carol", "blf secreT", AUTH_FAIL, "password mismatch"},
    {"dave", "des", AUTH_OK, NULL},
    {"dave", "de", AUTH_FAIL, "password mismatch"},
    {"erin", "md5 secret", AUTH_OK, NULL},
    {"erin", "md5 secreT", AUTH_FAIL, "password mismatch"},
    {"nobody", "sha512 secret", AUTH_FAIL, "unknown user"},
    {"nologin", "", AUTH_FAIL, "password empty or too long"},
    {"nologin", "x", AUTH_FAIL, "user has no password"},
    {"empty", "x", AUTH_FAIL, "user has no password"},
    {"noscheme", "sha512 secret", AUTH_FAIL, "no password scheme"},
    {"md5", "x", AUTH_FAIL, "unknown scheme {MD5}"},
    {"wrongprefix", "sha256 secret", AUTH_FAIL,
        "malformed hash for {SHA512-CRYPT}"},
    {"truncated", "x", AUTH_FAIL, "malformed hash for {SHA512-CRYPT}"},
    {"toolong", "sha512 secret", AUTH_FAIL,
        "malformed hash for {SHA512-CRYPT}"},
    {"emptyhash", "x", AUTH_FAIL, "malformed hash for {SHA512-CRYPT}"},
    {"star", "x", AUTH_FAIL, "malformed hash for {CRYPT}"},
    {"upper", "sha512 secret", AUTH_OK, NULL},
    {"dup", "sha256 secret", AUTH_OK, NULL},
    {"dup", "sha512 secret", AUTH_FAIL, "password mismatch"},
    {"last", "sha512 secret", AUTH_OK, NULL},
    {"", "x", AUTH_FAIL, "invalid local part"},
    {"a:b", "x", AUTH_FAIL, "invalid local part"},
    {"a b", "x", AUTH_FAIL, "invalid local part"},
};

static void
test_passwd_verify(void **state)
{
	struct fixture *f = *state;
	size_t i;

	for (i = 0; i < N_ELEMENTS(verify_cases); i++) {
		const struct verify_case *c = &verify_cases[i];
		enum auth_result r;

		buf_reset(&f->reason);
		r = auth_passwd_verify(
		    f->pw, f->path, c->user, c->password, &f->reason);
		if (r != c->result)
			fail_msg("%s/%s: got %s (%s)", c->user, c->password,
			    auth_result_name(r), buf_cstr(&f->reason));
		if (c->reason != NULL)
			assert_string_equal(buf_cstr(&f->reason), c->reason);
		/* The password never reaches the reason. */
		if (c->password[0] != '\0')
			assert_null(strstr(buf_cstr(&f->reason), c->password));
	}
}

static void
test_passwd_limits_and_files(void **state)
{
	struct fixture *f = *state;
	char missing[160];
	char *longpw = xmalloc(AUTH_PASSWORD_MAX_BYTES + 2);

	memset(longpw, 'x', AUTH_PASSWORD_MAX_BYTES + 1);
	longpw[AUTH_PASSWORD_MAX_BYTES + 1] = '\0';
	assert_int_equal(
	    auth_passwd_verify(f->pw, f->path, "alice", longpw, &f->reason),
	    AUTH_FAIL);
	free(longpw);

	(void)snprintf(missing, sizeof(missing), "%s/none", f->dir);
	assert_int_equal(auth_passwd_verify(f->pw, missing, "alice",
	                     "sha512 secret", &f->reason),
	    AUTH_TEMPFAIL);
	assert_non_null(strstr(buf_cstr(&f->reason), "No such file"));
	/* A directory is not a users file. */
	assert_int_equal(
	    auth_passwd_verify(f->pw, f->dir, "alice", "sha512 secret", NULL),
	    AUTH_TEMPFAIL);
	/* Unreadable: only meaningful when not root. */
	if (geteuid() != 0) {
		assert_int_equal(chmod(f->path, 0), 0);
		replace_file(missing, "x:{CRYPT}x\n");
		assert_int_equal(chmod(missing, 0), 0);
		assert_int_equal(
		    auth_passwd_verify(f->pw, missing, "x", "x", &f->reason),
		    AUTH_TEMPFAIL);
		assert_non_null(
		    strstr(buf_cstr(&f->reason), "Permission denied"));
		assert_int_equal(chmod(f->path, 0600), 0);
	}
}

static void
test_passwd_edit_seen(void **state)
{
	struct fixture *f = *state;
	char *content;

	assert_int_equal(
	    auth_passwd_verify(f->pw, f->path, "alice", "sha512 secret", NULL),
	    AUTH_OK);
	/* A new file (new inode) with alice's password changed. */
	content = xasprintf(
	    "alice:{SHA256-CRYPT}%s\nfrank:{BLF-CRYPT}%s\n", f->sha256, f->blf);
	replace_file(f->path, content);
	free(content);
	assert_int_equal(auth_passwd_verify(f->pw, f->path, "alice",
	                     "sha512 secret", &f->reason),
	    AUTH_FAIL);
	assert_int_equal(
	    auth_passwd_verify(f->pw, f->path, "alice", "sha256 secret", NULL),
	    AUTH_OK);
	assert_int_equal(
	    auth_passwd_verify(f->pw, f->path, "frank", "blf secret", NULL),
	    AUTH_OK);
	/* Rewritten in place (same inode, other size): seen as well. */
	content = xasprintf("frank\nalice:{SHA512-CRYPT}%s\n", f->sha512);
	write_file(f->path, content);
	free(content);
	assert_int_equal(auth_passwd_verify(
	                     f->pw, f->path, "frank", "blf secret", &f->reason),
	    AUTH_FAIL);
	assert_string_equal(buf_cstr(&f->reason), "user has no password");
	assert_int_equal(
	    auth_passwd_verify(f->pw, f->path, "alice", "sha512 secret", NULL),
	    AUTH_OK);
	/* Removed: a temporary failure, not a wrong password. */
	assert_int_equal(unlink(f->path), 0);
	assert_int_equal(
	    auth_passwd_verify(f->pw, f->path, "alice", "sha512 secret", NULL),
	    AUTH_TEMPFAIL);
}

static void
test_passwd_check(void **state)
{
	struct fixture *f = *state;
	char field[CRYPT_OUTPUT_SIZE + 32];

	(void)snprintf(field, sizeof(field), "{SHA512-CRYPT}%s", f->sha512);
	assert_int_equal(
	    auth_passwd_check(field, "sha512 secret", NULL), AUTH_OK);
	assert_int_equal(
	    auth_passwd_check(field, "nope", &f->reason), AUTH_FAIL);
	assert_string_equal(buf_cstr(&f->reason), "password mismatch");
	(void)snprintf(field, sizeof(field), "{BLF-CRYPT}%s", f->sha512);
	assert_int_equal(
	    auth_passwd_check(field, "sha512 secret", &f->reason), AUTH_FAIL);
	assert_string_equal(
	    buf_cstr(&f->reason), "malformed hash for {BLF-CRYPT}");
	assert_int_equal(
	    auth_passwd_check("{PLAIN}secret", "secret", &f->reason),
	    AUTH_FAIL);
	assert_string_equal(buf_cstr(&f->reason), "unknown scheme {PLAIN}");
	assert_int_equal(
	    auth_passwd_check("{SHA512-CRYPT", "x", &f->reason), AUTH_FAIL);
	assert_string_equal(buf_cstr(&f->reason), "no password scheme");
}

/* Accepts a hash made by Dovecot's own tool, when it is installed. */
static void
test_passwd_doveadm_hash(void **state)
{
	struct fixture *f = *state;
	char line[512];
	FILE *fp;

	if (access("/usr/bin/doveadm", X_OK) != 0)
		skip();
	fp = popen("/usr/bin/doveadm pw -s SHA512-CRYPT -p 'dove secret' "
	           "2>/dev/null",
	    "r");
	assert_non_null(fp);
	if (fgets(line, sizeof(line), fp) == NULL) {
		(void)pclose(fp);
		skip();
	}
	(void)pclose(fp);
	line[strcspn(line, "\n")] = '\0';
	assert_int_equal(
	    auth_passwd_check(line, "dove secret", &f->reason), AUTH_OK);
	assert_int_equal(
	    auth_passwd_check(line, "dove secreT", &f->reason), AUTH_FAIL);
}

struct parse_case {
	const char *line;
	int rc;
	const char *name, *scheme, *hash;
	bool has_password;
};

static const struct parse_case parse_cases[] = {
    {"", 0, NULL, NULL, NULL, false},
    {"# comment:{X}y", 0, NULL, NULL, NULL, false},
    {" \t ", 0, NULL, NULL, NULL, false},
    {"user", 1, "user", "", "", false},
    {"user:", 1, "user", "", "", false},
    {"user:{SHA512-CRYPT}$6$s$h", 1, "user", "SHA512-CRYPT", "$6$s$h", true},
    {"user:{X}h:1:2::/home::extra\r", 1, "user", "X", "h", true},
    {"user:plain", 1, "user", "", "plain", true},
    {"user:{nobrace", 1, "user", "", "{nobrace", true},
    {"user:{}h", 1, "user", "", "h", true},
    {"user:{X}h\r", 1, "user", "X", "h", true},
    {":{X}h", -1, NULL, NULL, NULL, false},
    {"us\ter:{X}h", -1, NULL, NULL, NULL, false},
    {"user:{X}h\x01", -1, NULL, NULL, NULL, false},
    {"user:{X}h:\x01 later fields are not checked", 1, "user", "X", "h", true},
};

static void
test_passwd_parse_line(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(parse_cases); i++) {
		const struct parse_case *c = &parse_cases[i];
		struct auth_passwd_line l;
		int rc = auth_passwd_parse_line(c->line, strlen(c->line), &l);

		if (rc != c->rc)
			fail_msg("\"%s\": rc %d, want %d", c->line, rc, c->rc);
		if (rc != 1)
			continue;
		assert_int_equal(l.name.len, strlen(c->name));
		assert_memory_equal(l.name.p, c->name, l.name.len);
		assert_int_equal(l.scheme.len, strlen(c->scheme));
		if (l.scheme.len > 0)
			assert_memory_equal(
			    l.scheme.p, c->scheme, l.scheme.len);
		assert_int_equal(l.hash.len, strlen(c->hash));
		if (l.hash.len > 0)
			assert_memory_equal(l.hash.p, c->hash, l.hash.len);
		assert_int_equal(l.has_password, c->has_password);
	}
}

/* ---- the asynchronous verifier ---------------------------------------- */

struct session {
	int calls;
	enum auth_result result;
	char reason[128];
	struct auth_verifier *v;
	void *cancel_in_callback; /* another session to cancel */
};

static void
on_verified(void *arg, enum auth_result result, const char *reason)
{
	struct session *s = arg;

	s->calls++;
	s->result = result;
	(void)snprintf(s->reason, sizeof(s->reason), "%s", reason);
	if (s->cancel_in_callback != NULL)
		auth_verifier_cancel(s->v, s->cancel_in_callback);
}

/* Polls and dispatches until *calls becomes non-zero (5 s at most). */
static void
wait_for(struct auth_verifier *v, const int *calls)
{
	struct pollfd pfd = {
	    .fd = auth_verifier_notify_fd(v), .events = POLLIN};
	int rounds;

	for (rounds = 0; *calls == 0 && rounds < 500; rounds++) {
		if (poll(&pfd, 1, 10) == 1) {
			assert_true(pfd.revents & POLLIN);
			(void)auth_verifier_dispatch(v);
		}
	}
	assert_int_not_equal(*calls, 0);
}

static void
test_verifier_results(void **state)
{
	struct fixture *f = *state;
	struct auth_verifier *v = auth_verifier_new(2);
	struct session ok = {0}, bad = {0}, unknown = {0}, temp = {0};
	char missing[160];
	char password[] = "sha512 secret";

	(void)snprintf(missing, sizeof(missing), "%s/none", f->dir);
	assert_int_equal(auth_verifier_submit(
	                     v, f->path, "alice", password, on_verified, &ok),
	    0);
	/* Inputs are copied: the caller may wipe its password at once. */
	explicit_bzero(password, sizeof(password));
	assert_int_equal(auth_verifier_submit(
	                     v, f->path, "alice", "wrong", on_verified, &bad),
	    0);
	assert_int_equal(auth_verifier_submit(
	                     v, f->path, "zed", "wrong", on_verified, &unknown),
	    0);
	assert_int_equal(
	    auth_verifier_submit(v, missing, "alice", "x", on_verified, &temp),
	    0);
	wait_for(v, &ok.calls);
	wait_for(v, &bad.calls);
	wait_for(v, &unknown.calls);
	wait_for(v, &temp.calls);
	assert_int_equal(ok.result, AUTH_OK);
	assert_int_equal(bad.result, AUTH_FAIL);
	assert_string_equal(bad.reason, "password mismatch");
	assert_int_equal(unknown.result, AUTH_FAIL);
	assert_string_equal(unknown.reason, "unknown user");
	assert_int_equal(temp.result, AUTH_TEMPFAIL);
	/* Each exactly once. */
	assert_int_equal(ok.calls + bad.calls + unknown.calls + temp.calls, 4);
	assert_int_equal(auth_verifier_dispatch(v), 0);
	auth_verifier_free(&v);
	assert_null(v);
}

static void
test_verifier_cancel(void **state)
{
	struct fixture *f = *state;
	struct auth_verifier *v = auth_verifier_new(1);
	struct session gone = {0}, gone2 = {0}, stays = {0};
	struct session first = {0}, victim = {0}, marker = {0};
	struct pollfd pfd = {
	    .fd = auth_verifier_notify_fd(v), .events = POLLIN};

	/* One worker, FIFO: once "stays" is back, the others are done. */
	assert_int_equal(auth_verifier_submit(v, f->path, "carol", "blf secret",
	                     on_verified, &gone),
	    0);
	assert_int_equal(
	    auth_verifier_submit(v, f->path, "alice", "x", on_verified, &gone2),
	    0);
	assert_int_equal(
	    auth_verifier_submit(v, f->path, "alice", "x", on_verified, &gone),
	    0);
	assert_int_equal(auth_verifier_submit(v, f->path, "bob",
	                     "sha256 secret", on_verified, &stays),
	    0);
	auth_verifier_cancel(v, &gone);
	/* Cancelled after finishing, before dispatch: still no callback. */
	while (stays.calls == 0 && poll(&pfd, 1, 5000) == 1) {
		auth_verifier_cancel(v, &gone2);
		(void)auth_verifier_dispatch(v);
	}
	assert_int_equal(stays.calls, 1);
	assert_int_equal(stays.result, AUTH_OK);
	assert_int_equal(gone.calls, 0);
	assert_int_equal(gone2.calls, 0);

	/* A callback may cancel another session's finished job. */
	first.v = v;
	first.cancel_in_callback = &victim;
	assert_int_equal(
	    auth_verifier_submit(v, f->path, "alice", "x", on_verified, &first),
	    0);
	assert_int_equal(auth_verifier_submit(
	                     v, f->path, "alice", "x", on_verified, &victim),
	    0);
	assert_int_equal(auth_verifier_submit(
	                     v, f->path, "alice", "x", on_verified, &marker),
	    0);
	wait_for(v, &marker.calls);
	assert_int_equal(first.calls, 1);
	assert_int_equal(victim.calls, 0);

	/* Freeing with jobs in flight calls nobody back. */
	assert_int_equal(auth_verifier_submit(v, f->path, "carol", "blf secret",
	                     on_verified, &gone),
	    0);
	assert_int_equal(auth_verifier_submit(v, f->path, "carol", "blf secret",
	                     on_verified, &gone),
	    0);
	auth_verifier_free(&v);
	assert_int_equal(gone.calls, 0);
}

static void
test_verifier_bounded(void **state)
{
	struct fixture *f = *state;
	struct auth_verifier *v = auth_verifier_new(1);
	struct session s = {0};
	unsigned i, accepted = 0;

	for (i = 0; i < AUTH_VERIFIER_JOBS_MAX + 10; i++)
		if (auth_verifier_submit(
		        v, f->path, "nobody", "x", on_verified, &s) == 0)
			accepted++;
	/* Never more than the cap in flight (some may finish meanwhile). */
	assert_true(accepted >= AUTH_VERIFIER_JOBS_MAX);
	assert_true(accepted < AUTH_VERIFIER_JOBS_MAX + 10 || s.calls == 0);
	auth_verifier_cancel(v, &s);
	auth_verifier_free(&v);
	assert_int_equal(s.calls, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_passwd_verify, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_passwd_limits_and_files, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_passwd_edit_seen, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_passwd_check, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_passwd_doveadm_hash, setup, teardown),
	    cmocka_unit_test(test_passwd_parse_line),
	    cmocka_unit_test_setup_teardown(
	        test_verifier_results, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_verifier_cancel, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_verifier_bounded, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
