/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for auth/auth_userfile: add/passwd/del/list round trips,
 * atomic rewrites that keep everything else byte for byte, and hashes
 * that auth_passwd and (when installed) Dovecot accept.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sys/stat.h>

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/auth.h"
#include "auth/auth_passwd.h"
#include "auth/auth_userfile.h"
#include "core/buf.h"
#include "core/xalloc.h"

struct fixture {
	char dir[64];
	char path[128];
	struct buf err;
};

static int
setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));

	(void)snprintf(f->dir, sizeof(f->dir), "/tmp/tern-userfile-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	(void)snprintf(
	    f->path, sizeof(f->path), "%s/example.com.users", f->dir);
	buf_init(&f->err, 0, 1024);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[256];

	buf_clear(&f->err);
	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static char *
read_all(const char *path)
{
	FILE *fp = fopen(path, "r");
	char *data = xcalloc(1, 65536);
	size_t n;

	assert_non_null(fp);
	n = fread(data, 1, 65535, fp);
	data[n] = '\0';
	assert_int_equal(fclose(fp), 0);
	return data;
}

static void
write_all(const char *path, const char *content)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_true(fputs(content, fp) >= 0);
	assert_int_equal(fclose(fp), 0);
}

/* Entries of dir other than . and .. */
static int
count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	(void)closedir(d);
	return n;
}

static char *
hash_of(const char *password)
{
	struct buf b;

	buf_init(&b, 0, 512);
	assert_int_equal(auth_userfile_hash_password(password, &b), 0);
	return buf_steal(&b);
}

static void
test_userfile_hash(void **state)
{
	char *h1 = hash_of("correct horse"), *h2 = hash_of("correct horse");
	struct buf b;

	(void)state;
	assert_memory_equal(h1, "{SHA512-CRYPT}$6$", 17);
	assert_string_not_equal(h1, h2); /* fresh salt each time */
	assert_int_equal(auth_passwd_check(h1, "correct horse", NULL), AUTH_OK);
	assert_int_equal(auth_passwd_check(h2, "correct horse", NULL), AUTH_OK);
	assert_int_equal(
	    auth_passwd_check(h1, "correct horsE", NULL), AUTH_FAIL);
	buf_init(&b, 0, 512);
	assert_int_equal(auth_userfile_hash_password("", &b), -1);
	assert_int_equal(b.len, 0);
	buf_clear(&b);
	/* Too small to hold the hash: refused, nothing appended. */
	buf_init(&b, 0, 20);
	assert_int_equal(auth_userfile_hash_password("x", &b), -1);
	assert_int_equal(b.len, 0);
	buf_clear(&b);
	free(h1);
	free(h2);
}

/* Dovecot's doveadm accepts our hashes, when it is installed. */
static void
test_userfile_doveadm(void **state)
{
	char *h = hash_of("dove secret"), cmd[512];

	(void)state;
	if (access("/usr/bin/doveadm", X_OK) != 0) {
		free(h);
		skip();
	}
	(void)snprintf(cmd, sizeof(cmd),
	    "/usr/bin/doveadm pw -t '%s' "
	    "-p 'dove secret' >/dev/null 2>&1",
	    h);
	assert_int_equal(system(cmd), 0);
	(void)snprintf(cmd, sizeof(cmd),
	    "/usr/bin/doveadm pw -t '%s' "
	    "-p 'dove secreT' >/dev/null 2>&1",
	    h);
	assert_int_not_equal(system(cmd), 0);
	free(h);
}

static void
test_userfile_names(void **state)
{
	static const char *const valid[] = {"a", "alice", "a.b", "a_b-c", "0",
	    "x1234567890123456789012345678901234567890123456789012345678901"};
	static const char *const invalid[] = {"", "Alice", "a:b", "a\nb", ".a",
	    "a.", "a..b", "a/b", "a+b", "a b", "#a", "../x",
	    "x1234567890123456789012345678901234567890123456789012345678901234"
	    "5"};
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(valid); i++)
		if (!auth_userfile_name_is_valid(valid[i]))
			fail_msg("refused \"%s\"", valid[i]);
	for (i = 0; i < N_ELEMENTS(invalid); i++)
		if (auth_userfile_name_is_valid(invalid[i]))
			fail_msg("accepted \"%s\"", invalid[i]);
}

static void
test_userfile_round_trip(void **state)
{
	struct fixture *f = *state;
	struct auth_passwd *pw = auth_passwd_new();
	char *h1 = hash_of("one"), *h2 = hash_of("two"), *content, *want;
	struct stat st;

	/* add creates the file, mode 0640. */
	assert_int_equal(
	    auth_userfile_set(f->path, NULL, "alice", h1, AUTH_USERFILE_ADD, &f->err),
	    0);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	content = read_all(f->path);
	want = xasprintf("alice:%s\n", h1);
	assert_string_equal(content, want);
	free(content);
	free(want);
	assert_int_equal(
	    auth_passwd_verify(pw, f->path, "alice", "one", NULL), AUTH_OK);

	/* add again: refused, file unchanged. */
	assert_int_equal(
	    auth_userfile_set(f->path, NULL, "alice", h2, AUTH_USERFILE_ADD, &f->err),
	    -1);
	assert_non_null(strstr(buf_cstr(&f->err), "user exists"));
	/* passwd of a missing user: refused. */
	assert_int_equal(auth_userfile_set(f->path, NULL, "bob", h2, AUTH_USERFILE_CHANGE, &f->err),
	    -1);
	assert_non_null(strstr(buf_cstr(&f->err), "no such user"));

	/* passwd changes it, and a running verifier sees it. */
	assert_int_equal(auth_userfile_set(f->path, NULL, "alice", h2,
	                     AUTH_USERFILE_CHANGE, &f->err),
	    0);
	assert_int_equal(
	    auth_passwd_verify(pw, f->path, "alice", "one", NULL), AUTH_FAIL);
	assert_int_equal(
	    auth_passwd_verify(pw, f->path, "alice", "two", NULL), AUTH_OK);

	/* A mailbox without login, then PUT gives it a password. */
	assert_int_equal(auth_userfile_set(f->path, NULL, "list", NULL, AUTH_USERFILE_ADD, &f->err),
	    0);
	content = read_all(f->path);
	want = xasprintf("alice:%s\nlist\n", h2);
	assert_string_equal(content, want);
	free(content);
	free(want);
	assert_int_equal(
	    auth_userfile_set(f->path, NULL, "list", h1, AUTH_USERFILE_PUT, &f->err),
	    0);
	assert_int_equal(
	    auth_passwd_verify(pw, f->path, "list", "one", NULL), AUTH_OK);

	/* del, then del again. */
	assert_int_equal(auth_userfile_del(f->path, NULL, "alice", &f->err), 0);
	assert_int_equal(
	    auth_passwd_verify(pw, f->path, "alice", "two", &f->err),
	    AUTH_FAIL);
	assert_string_equal(buf_cstr(&f->err), "unknown user");
	assert_int_equal(auth_userfile_del(f->path, NULL, "alice", &f->err), -1);
	assert_non_null(strstr(buf_cstr(&f->err), "no such user"));
	content = read_all(f->path);
	want = xasprintf("list:%s\n", h1);
	assert_string_equal(content, want);
	free(content);
	free(want);
	/* No temporary file is left behind. */
	assert_int_equal(count_entries(f->dir), 1);
	auth_passwd_free(&pw);
	free(h1);
	free(h2);
}

static void
test_userfile_keeps_other_lines(void **state)
{
	struct fixture *f = *state;
	static const char before[] =
	    "# users of example.com\n"
	    "\n"
	    "alice:{SHA512-CRYPT}$6$old$hash:1000:1000::/home/alice::quota=1G\n"
	    "carol:{BLF-CRYPT}$2b$04$x\r\n"
	    "  # indented comment\n"
	    "Dave:{CRYPT}abc\n"
	    "alice:{SHA512-CRYPT}$6$dup$hash\n"
	    "bare:with:many:fields\n"
	    "last:{PLAIN}no-newline";
	static const char after[] =
	    "# users of example.com\n"
	    "\n"
	    "alice:{SHA512-CRYPT}$6$new$hash:1000:1000::/home/alice::quota=1G\n"
	    "carol:{BLF-CRYPT}$2b$04$y\r\n"
	    "  # indented comment\n"
	    "alice:{SHA512-CRYPT}$6$dup$hash\n"
	    "bare::many:fields\n"
	    "last:{PLAIN}no-newline\n"
	    "zed:{SHA512-CRYPT}$6$z$z\n";
	char *content;
	struct stat st;

	write_all(f->path, before);
	assert_int_equal(chmod(f->path, 0600), 0);
	/* Only the first alice changes; extra fields stay. */
	assert_int_equal(
	    auth_userfile_set(f->path, NULL, "alice", "{SHA512-CRYPT}$6$new$hash",
	        AUTH_USERFILE_CHANGE, &f->err),
	    0);
	/* CRLF stays CRLF. */
	assert_int_equal(
	    auth_userfile_set(f->path, NULL, "carol", "{BLF-CRYPT}$2b$04$y",
	        AUTH_USERFILE_CHANGE, &f->err),
	    0);
	/* Names match case-insensitively, as logins do. */
	assert_int_equal(auth_userfile_del(f->path, NULL, "dave", &f->err), 0);
	/* Removing a password keeps the later fields. */
	assert_int_equal(auth_userfile_set(f->path, NULL, "bare", NULL,
	                     AUTH_USERFILE_CHANGE, &f->err),
	    0);
	/* Appending after a last line without newline. */
	assert_int_equal(
	    auth_userfile_set(f->path, NULL, "zed", "{SHA512-CRYPT}$6$z$z",
	        AUTH_USERFILE_PUT, &f->err),
	    0);
	content = read_all(f->path);
	assert_string_equal(content, after);
	free(content);
	/* The mode is kept. */
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(count_entries(f->dir), 1);
}

static void
test_userfile_rejects(void **state)
{
	struct fixture *f = *state;
	char *content;
	char missing_dir[160];

	write_all(f->path, "alice:{X}y\n");
	assert_int_equal(auth_userfile_set(f->path, NULL, "Bob", "{X}y",
	                     AUTH_USERFILE_ADD, &f->err),
	    -1);
	assert_non_null(strstr(buf_cstr(&f->err), "invalid user name"));
	assert_int_equal(auth_userfile_set(f->path, NULL, "bob", "{X}y:z",
	                     AUTH_USERFILE_ADD, &f->err),
	    -1);
	assert_non_null(strstr(buf_cstr(&f->err), "invalid password hash"));
	assert_int_equal(auth_userfile_set(f->path, NULL, "bob", "{X}y\nroot:{X}",
	                     AUTH_USERFILE_ADD, &f->err),
	    -1);
	assert_int_equal(auth_userfile_set(f->path, NULL, "bob", "nobrace",
	                     AUTH_USERFILE_ADD, &f->err),
	    -1);
	assert_int_equal(auth_userfile_del(f->path, NULL, "a:b", &f->err), -1);
	content = read_all(f->path);
	assert_string_equal(content, "alice:{X}y\n");
	free(content);
	(void)snprintf(missing_dir, sizeof(missing_dir), "%s/no/users", f->dir);
	assert_int_equal(auth_userfile_set(missing_dir, NULL, "bob", "{X}y",
	                     AUTH_USERFILE_ADD, &f->err),
	    -1);
	assert_non_null(strstr(buf_cstr(&f->err), "No such file"));
	assert_int_equal(auth_userfile_del(missing_dir, NULL, "bob", &f->err), -1);
}

struct listed {
	char text[512];
	int n;
};

static void
on_user(void *arg, const char *name, const char *scheme)
{
	struct listed *l = arg;
	size_t len = strlen(l->text);

	(void)snprintf(
	    l->text + len, sizeof(l->text) - len, "%s=%s;", name, scheme);
	l->n++;
}

static void
test_userfile_list(void **state)
{
	struct fixture *f = *state;
	struct listed l = {.n = 0};
	char missing[160];

	write_all(f->path,
	    "# c\nalice:{SHA512-CRYPT}$6$a$b:1:2\n\nnologin\n"
	    "plain:secret\nbob:{BLF-CRYPT}$2b$x\r\n:{X}y\n");
	assert_int_equal(auth_userfile_list(f->path, on_user, &l, &f->err), 0);
	assert_int_equal(l.n, 4);
	assert_string_equal(l.text,
	    "alice=SHA512-CRYPT;nologin=;plain=;"
	    "bob=BLF-CRYPT;");
	(void)snprintf(missing, sizeof(missing), "%s/none", f->dir);
	l.n = 0;
	assert_int_equal(auth_userfile_list(missing, on_user, &l, &f->err), 0);
	assert_int_equal(l.n, 0);
	assert_int_equal(auth_userfile_list(f->dir, on_user, &l, &f->err), -1);
	assert_non_null(strstr(buf_cstr(&f->err), "cannot read"));
}

/* A line "name@domain" is the user name of that domain, and only of it. */
static void
test_userfile_full_address(void **state)
{
	struct fixture *f = *state;
	char *content;

	write_all(f->path, "bob@Example.com:{X}old\n"
	                   "bobby:{X}b\n"
	                   "eve@other.test:{X}e\n");
	assert_int_equal(auth_userfile_set(f->path, "example.com", "bob",
	                     "{X}new", AUTH_USERFILE_ADD, &f->err),
	    -1);
	assert_non_null(strstr(buf_cstr(&f->err), "exists"));
	assert_int_equal(auth_userfile_set(f->path, "example.com", "bob",
	                     "{X}new", AUTH_USERFILE_CHANGE, &f->err),
	    0);
	/* eve belongs to another domain; "bo" is no prefix match. */
	buf_reset(&f->err);
	assert_int_equal(
	    auth_userfile_del(f->path, "example.com", "eve", &f->err), -1);
	assert_int_equal(
	    auth_userfile_del(f->path, "example.com", "bo", &f->err), -1);
	content = read_all(f->path);
	assert_string_equal(content, "bob@Example.com:{X}new\n"
	                             "bobby:{X}b\n"
	                             "eve@other.test:{X}e\n");
	free(content);
	assert_int_equal(
	    auth_userfile_del(f->path, "example.com", "bob", &f->err), 0);
	content = read_all(f->path);
	assert_string_equal(content, "bobby:{X}b\neve@other.test:{X}e\n");
	free(content);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_userfile_hash),
	    cmocka_unit_test(test_userfile_doveadm),
	    cmocka_unit_test(test_userfile_names),
	    cmocka_unit_test_setup_teardown(
	        test_userfile_round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_userfile_keeps_other_lines, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_userfile_rejects, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_userfile_list, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_userfile_full_address, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
