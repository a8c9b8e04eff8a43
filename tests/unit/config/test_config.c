/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for config/: valid configs give the right values, each
 * invalid config gives its "FILE:LINE: ..." error, the users and aliases
 * files parse, and every key of config_keys.def is in docs/config.md.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/config.h"
#include "core/buf.h"
#include "core/xalloc.h"

/* A minimal valid config, for tests that change one thing. */
#define MINIMAL                                                             \
	"[listen mx]\naddress = 127.0.0.1:25\n[domain example.test]\n"

static struct config *
load_ok(const char *text)
{
	struct config *cfg = NULL;
	struct buf err;

	buf_init(&err, 0, 0);
	if (config_load_string("t.conf", text, &cfg, &err) != 0)
		fail_msg("unexpected errors:\n%s", buf_cstr(&err));
	assert_string_equal(buf_cstr(&err), "");
	buf_clear(&err);
	assert_non_null(cfg);
	return cfg;
}

struct tmpdir {
	char path[64];
};

static void
tmpdir_make(struct tmpdir *t)
{
	assert_int_equal(snprintf(t->path, sizeof(t->path),
	    "/tmp/tern-test-config.XXXXXX") < (int)sizeof(t->path), 1);
	assert_non_null(mkdtemp(t->path));
}

static char *
tmpdir_write(const struct tmpdir *t, const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", t->path, name);
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	return path;
}

static void
tmpdir_remove(const struct tmpdir *t, const char *const *names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char *path = xasprintf("%s/%s", t->path, names[i]);

		(void)unlink(path);
		free(path);
	}
	assert_int_equal(rmdir(t->path), 0);
}

static void
test_config_full(void **state)
{
	static const char *const names[] = { "cert.pem", "key.pem" };
	struct tmpdir t;
	struct config *cfg;
	const struct config_domain *d;
	char *cert, *key, *text;

	(void)state;
	/* Submission roles need [tls], whose files must be readable. */
	tmpdir_make(&t);
	cert = tmpdir_write(&t, "cert.pem", "not parsed by config\n");
	key = tmpdir_write(&t, "key.pem", "not parsed by config\n");
	text = xasprintf(
	    "; comment\n"
	    "# comment\n"
	    "[server]\n"
	    "hostname = Mail.Example.TEST   ; inline comment\n"
	    "spool = /tmp/spool\n"
	    "mailroot = rel/mail\n"
	    "user = tern\n"
	    "max_message_size = 10M\n"
	    "max_recipients = 50\n"
	    "  max_line_length = 2000\n"
	    "max_sessions = 100\n"
	    "max_sessions_per_ip = 10\n"
	    "max_errors = 3\n"
	    "command_timeout = 2m\n"
	    "data_timeout = 90s\n"
	    "session_timeout = 2h\n"
	    "bare_newline = normalize\n"
	    "log_level = debug\n"
	    "\r\n"
	    "[listen mx]\n"
	    "address = 0.0.0.0:25\n"
	    "[listen sub]\n"
	    "address = [::1]:587\n"
	    "role = submission\n"
	    "[ listen   tls ]\n"
	    "address = [0:0::0]:465\n"
	    "role = submissions\n"
	    "[domain Zeta.Example]\n"
	    "[domain alpha.example]\n"
	    "catch_all = postmaster\n"
	    "[tls]\n"
	    "cert = %s\n"
	    "key = %s\n", cert, key);
	cfg = load_ok(text);
	free(text);
	assert_string_equal(cfg->tls_cert, cert);
	assert_string_equal(cfg->tls_key, key);
	free(cert);
	free(key);
	tmpdir_remove(&t, names, N_ELEMENTS(names));
	assert_string_equal(cfg->path, "t.conf");
	assert_string_equal(cfg->hostname, "mail.example.test");
	assert_string_equal(cfg->spool, "/tmp/spool");
	assert_string_equal(cfg->mailroot, "rel/mail");
	assert_string_equal(cfg->user, "tern");
	assert_int_equal(cfg->max_message_size, 10 * 1024 * 1024);
	assert_int_equal(cfg->max_recipients, 50);
	assert_int_equal(cfg->max_line_length, 2000);
	assert_int_equal(cfg->max_sessions, 100);
	assert_int_equal(cfg->max_sessions_per_ip, 10);
	assert_int_equal(cfg->max_errors, 3);
	assert_int_equal(cfg->command_timeout, 120);
	assert_int_equal(cfg->data_timeout, 90);
	assert_int_equal(cfg->session_timeout, 7200);
	assert_int_equal(cfg->bare_newline, BARE_NEWLINE_NORMALIZE);
	assert_string_equal(cfg->log_level, "debug");

	assert_int_equal(cfg->n_listens, 3);
	assert_string_equal(cfg->listens[0].name, "mx");
	assert_string_equal(cfg->listens[0].host, "0.0.0.0");
	assert_string_equal(cfg->listens[0].port, "25");
	assert_int_equal(cfg->listens[0].role, LISTEN_ROLE_MX);
	assert_int_equal(cfg->listens[0].line, 20);
	assert_string_equal(cfg->listens[1].host, "::1");
	assert_string_equal(cfg->listens[1].port, "587");
	assert_string_equal(cfg->listens[1].address, "[::1]:587");
	assert_int_equal(cfg->listens[1].role, LISTEN_ROLE_SUBMISSION);
	assert_string_equal(cfg->listens[2].name, "tls");
	assert_string_equal(cfg->listens[2].host, "::");
	assert_int_equal(cfg->listens[2].role, LISTEN_ROLE_SUBMISSIONS);

	/* Sorted by name; the primary one is the first in the file. */
	assert_int_equal(cfg->n_domains, 2);
	assert_string_equal(cfg->domains[0].name, "alpha.example");
	assert_string_equal(cfg->domains[1].name, "zeta.example");
	assert_ptr_equal(cfg->primary_domain, &cfg->domains[1]);
	d = config_find_domain(cfg, "ALPHA.example");
	assert_ptr_equal(d, &cfg->domains[0]);
	assert_string_equal(d->catch_all, "postmaster");
	assert_null(config_find_domain(cfg, "example"));
	assert_null(config_find_domain(cfg, "alpha.example."));
	assert_null(config_find_user(d, "postmaster"));
	config_free(&cfg);
	assert_null(cfg);
	config_free(&cfg);	/* NULL is fine */
}

static void
test_config_defaults(void **state)
{
	struct config *cfg;

	(void)state;
	cfg = load_ok(MINIMAL);
	assert_non_null(cfg->hostname);
	assert_true(cfg->hostname[0] != '\0');
	assert_string_equal(cfg->spool, "/var/spool/tern");
	assert_string_equal(cfg->mailroot, "/var/mail/tern");
	assert_null(cfg->user);
	assert_int_equal(cfg->max_message_size, 25 * 1024 * 1024);
	assert_int_equal(cfg->max_recipients, 100);
	assert_int_equal(cfg->max_line_length, 1000);
	assert_int_equal(cfg->max_sessions, 5000);
	assert_int_equal(cfg->max_sessions_per_ip, 50);
	assert_int_equal(cfg->max_errors, 10);
	assert_int_equal(cfg->command_timeout, 300);
	assert_int_equal(cfg->data_timeout, 180);
	assert_int_equal(cfg->session_timeout, 3600);
	assert_int_equal(cfg->bare_newline, BARE_NEWLINE_REJECT);
	assert_string_equal(cfg->log_level, "info");
	assert_null(cfg->tls_cert);
	assert_null(cfg->tls_key);
	assert_null(cfg->tls_ciphers);
	assert_int_equal(cfg->n_tls_certs, 0);
	assert_int_equal(cfg->user_messages_per_hour, 1000);
	assert_int_equal(cfg->auth_max_failures, 5);
	assert_int_equal(cfg->auth_failure_window, 900);
	assert_int_equal(cfg->auth_block_time, 900);
	assert_int_equal(cfg->listens[0].role, LISTEN_ROLE_MX);
	assert_null(cfg->domains[0].catch_all);
	assert_null(cfg->domains[0].users_path);
	assert_int_equal(cfg->domains[0].n_users, 0);
	config_free(&cfg);
}

static void
test_config_embedded_default(void **state)
{
	struct config *cfg = NULL;
	struct buf err;

	(void)state;
	buf_init(&err, 0, 0);
	assert_int_equal(config_load_default(&cfg, &err), 0);
	assert_string_equal(cfg->path, "(default)");
	assert_string_equal(cfg->spool, "./var/spool");
	assert_string_equal(cfg->mailroot, "./var/mail");
	assert_null(cfg->user);
	assert_int_equal(cfg->n_listens, 1);
	assert_string_equal(cfg->listens[0].host, "127.0.0.1");
	assert_string_equal(cfg->listens[0].port, "2525");
	assert_int_equal(cfg->listens[0].role, LISTEN_ROLE_MX);
	assert_int_equal(cfg->n_domains, 1);
	assert_string_equal(cfg->domains[0].name, "localhost");
	assert_string_equal(cfg->domains[0].catch_all, "postmaster");
	assert_ptr_equal(cfg->primary_domain, &cfg->domains[0]);
	assert_null(cfg->tls_cert);	/* no TLS without a certificate */
	config_free(&cfg);
	buf_clear(&err);
}

struct invalid_case {
	const char *name;
	const char *text;
	const char *error;	/* expected substring of the errors */
};

static const struct invalid_case invalid_cases[] = {
	{ .name = "unknown key",
	    .text = "[server]\nfoo = 1\n" MINIMAL,
	    .error = "t.conf:2: foo: unknown key in [server]" },
	{ .name = "unknown section",
	    .text = MINIMAL "[smarthost]\nhost = x\n",
	    .error = "t.conf:4: unknown section [smarthost]" },
	{ .name = "bad size",
	    .text = "[server]\nmax_message_size = 10X\n" MINIMAL,
	    .error = "t.conf:2: max_message_size: bad value \"10X\"" },
	{ .name = "size below min",
	    .text = "[server]\nmax_message_size = 10\n" MINIMAL,
	    .error = "t.conf:2: max_message_size: bad value \"10\"" },
	{ .name = "bad duration",
	    .text = "[server]\ncommand_timeout = 5 minutes\n" MINIMAL,
	    .error = "t.conf:2: command_timeout: bad value" },
	{ .name = "zero duration",
	    .text = "[server]\ndata_timeout = 0\n" MINIMAL,
	    .error = "t.conf:2: data_timeout: bad value \"0\"" },
	{ .name = "bad role",
	    .text = "[listen mx]\naddress = 127.0.0.1:25\nrole = relay\n"
		"[domain example.test]\n",
	    .error = "t.conf:3: role: bad value \"relay\": expected mx" },
	{ .name = "address without port",
	    .text = "[listen mx]\naddress = 127.0.0.1\n[domain a.test]\n",
	    .error = "t.conf:2: address: bad value \"127.0.0.1\"" },
	{ .name = "address with a host name",
	    .text = "[listen mx]\naddress = localhost:25\n[domain a.test]\n",
	    .error = "t.conf:2: address: bad value \"localhost:25\"" },
	{ .name = "ipv6 address without brackets",
	    .text = "[listen mx]\naddress = ::1:25\n[domain a.test]\n",
	    .error = "t.conf:2: address: bad value" },
	{ .name = "port out of range",
	    .text = "[listen mx]\naddress = [::1]:65536\n[domain a.test]\n",
	    .error = "t.conf:2: address: bad value" },
	{ .name = "missing address",
	    .text = "[listen mx]\nrole = mx\n[domain a.test]\n",
	    .error = "t.conf:1: address: missing in [listen mx]" },
	{ .name = "duplicate domain",
	    .text = MINIMAL "[domain Example.Test]\n",
	    .error = "t.conf:4: [domain example.test]: duplicate domain "
		"(first on line 3)" },
	{ .name = "bad domain name",
	    .text = "[listen mx]\naddress = 127.0.0.1:25\n[domain a..test]\n",
	    .error = "t.conf:3: [domain a..test]: bad domain name" },
	{ .name = "domain name with trailing dot",
	    .text = "[listen mx]\naddress = 127.0.0.1:25\n[domain a.test.]\n",
	    .error = "t.conf:3: [domain a.test.]: bad domain name" },
	{ .name = "missing listen",
	    .text = "[server]\nmax_errors = 3\n[domain a.test]\n",
	    .error = "t.conf:3: no [listen NAME] section" },
	{ .name = "missing domain",
	    .text = "[listen mx]\naddress = 127.0.0.1:25\n",
	    .error = "t.conf:2: no [domain NAME] section" },
	{ .name = "empty file",
	    .text = "",
	    .error = "t.conf:1: no [listen NAME] section" },
	{ .name = "duplicate listen name",
	    .text = MINIMAL "[listen mx]\naddress = 127.0.0.1:26\n",
	    .error = "t.conf:4: [listen mx]: duplicate listen name "
		"(first on line 1)" },
	{ .name = "duplicate listen address",
	    .text = MINIMAL "[listen other]\naddress = 127.0.0.1:25\n",
	    .error = "t.conf:4: address: 127.0.0.1:25 is already used by "
		"[listen mx] on line 1" },
	{ .name = "catch_all naming nobody",
	    .text = "[listen mx]\naddress = 127.0.0.1:25\n[domain a.test]\n"
		"catch_all = nobody\n",
	    .error = "t.conf:4: catch_all: \"nobody\" is neither a user nor "
		"an alias of a.test" },
	{ .name = "max_line_length below 512",
	    .text = "[server]\nmax_line_length = 511\n" MINIMAL,
	    .error = "t.conf:2: max_line_length: bad value \"511\": expected "
		"a whole number in range (512 to 65536)" },
	{ .name = "duplicate key",
	    .text = "[server]\nmax_errors = 3\nmax_errors = 4\n" MINIMAL,
	    .error = "t.conf:3: max_errors: duplicate key (first set on "
		"line 2)" },
	{ .name = "key outside of a section",
	    .text = "max_errors = 3\n" MINIMAL,
	    .error = "t.conf:1: max_errors: key outside of any section" },
	{ .name = "syntax error",
	    .text = MINIMAL "just words\n",
	    .error = "t.conf:4: syntax error" },
	{ .name = "header without bracket",
	    .text = MINIMAL "[domain b.test\n",
	    .error = "t.conf:4: section header without ']'" },
	{ .name = "listen without name",
	    .text = MINIMAL "[listen]\n",
	    .error = "t.conf:4: [listen] needs a name" },
	{ .name = "server with a name",
	    .text = "[server x]\n" MINIMAL,
	    .error = "t.conf:1: [server] takes no name" },
	{ .name = "duplicate server section",
	    .text = "[server]\n[server]\n" MINIMAL,
	    .error = "t.conf:2: duplicate [server] section (first on line 1)" },
	{ .name = "per-ip limit above the total",
	    .text = "[server]\nmax_sessions = 10\nmax_sessions_per_ip = 11\n"
		MINIMAL,
	    .error = "t.conf:3: max_sessions_per_ip: 11 is larger than "
		"max_sessions (10)" },
	{ .name = "session shorter than a command",
	    .text = "[server]\nsession_timeout = 1m\n" MINIMAL,
	    .error = "t.conf:2: session_timeout: 60 seconds is shorter" },
	{ .name = "bad bare_newline",
	    .text = "[server]\nbare_newline = allow\n" MINIMAL,
	    .error = "t.conf:2: bare_newline: bad value \"allow\"" },
	{ .name = "bad log_level",
	    .text = "[server]\nlog_level = verbose\n" MINIMAL,
	    .error = "t.conf:2: log_level: bad value \"verbose\"" },
	{ .name = "bad hostname",
	    .text = "[server]\nhostname = mail_1.example\n" MINIMAL,
	    .error = "t.conf:2: hostname: bad value \"mail_1.example\"" },
	{ .name = "empty value",
	    .text = "[server]\nspool =\n" MINIMAL,
	    .error = "t.conf:2: spool: bad value \"\"" },
	{ .name = "bad user",
	    .text = "[server]\nuser = 0day\n" MINIMAL,
	    .error = "t.conf:2: user: bad value \"0day\"" },
	{ .name = "bad catch_all syntax",
	    .text = MINIMAL "catch_all = a/b\n",
	    .error = "t.conf:4: catch_all: bad value \"a/b\"" },
	{ .name = "line too long",
	    .text = "[server]\nspool = /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		"\n" MINIMAL,
	    .error = "t.conf:2: line too long" },
	{ .name = "unreadable users file",
	    .text = MINIMAL "users = /nonexistent/tern-test.users\n",
	    .error = "t.conf:4: users: cannot read "
		"/nonexistent/tern-test.users: No such file or directory" },
	{ .name = "unreadable aliases file",
	    .text = MINIMAL "\naliases = /nonexistent/a\n",
	    .error = "t.conf:5: aliases: cannot read /nonexistent/a" },
	{ .name = "users file is a directory",
	    .text = MINIMAL "users = /\n",
	    .error = "t.conf:4: users: cannot read /: Is a directory" },
};

static void
test_config_invalid(void **state)
{
	struct config *cfg;
	struct buf err;
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(invalid_cases); i++) {
		const struct invalid_case *c = &invalid_cases[i];

		cfg = NULL;
		buf_init(&err, 0, 0);
		if (config_load_string("t.conf", c->text, &cfg, &err) != -1)
			fail_msg("%s: loaded", c->name);
		assert_null(cfg);
		if (strstr(buf_cstr(&err), c->error) == NULL)
			fail_msg("%s: expected \"%s\" in:\n%s", c->name,
			    c->error, buf_cstr(&err));
		/* Every line is "t.conf:LINE: ...". */
		assert_int_equal(strncmp(buf_cstr(&err), "t.conf:", 7), 0);
		assert_int_equal(buf_cstr(&err)[err.len - 1], '\n');
		buf_clear(&err);
	}
}

/* Several errors in one file: each is reported, not just the first. */
static void
test_config_many_errors(void **state)
{
	struct config *cfg = NULL;
	struct buf err;

	(void)state;
	buf_init(&err, 0, 0);
	assert_int_equal(config_load_string("t.conf",
	    "[server]\nfoo = 1\nmax_errors = x\n[bar]\n", &cfg, &err), -1);
	assert_non_null(strstr(buf_cstr(&err), "t.conf:2: foo:"));
	assert_non_null(strstr(buf_cstr(&err), "t.conf:3: max_errors:"));
	assert_non_null(strstr(buf_cstr(&err), "t.conf:4: unknown section"));
	assert_non_null(strstr(buf_cstr(&err), "no [listen NAME]"));
	assert_non_null(strstr(buf_cstr(&err), "no [domain NAME]"));
	buf_clear(&err);
}

/* ---- files: users, aliases, config_load() --------------------------- */

static void
test_config_files(void **state)
{
	static const char *const names[] = { "u", "a", "tern.conf" };
	struct tmpdir t;
	struct config *cfg = NULL;
	const struct config_domain *d;
	const struct config_user *u;
	const struct config_alias *a;
	char *users, *aliases, *conf, *text;
	struct buf err;

	(void)state;
	tmpdir_make(&t);
	users = tmpdir_write(&t, "u",
	    "# users of example.test\n"
	    "\n"
	    "Bob:{SHA512-CRYPT}$6$x$y:1000:1000::/home/bob::userdb_quota=1G\n"
	    "alice@Example.Test:{BLF-CRYPT}$2y$05$abc\r\n"
	    "carol\n"
	    "dave:\n"
	    "erin:$6$salt$hash\n");
	aliases = tmpdir_write(&t, "a",
	    "# aliases\n"
	    "sales: bob, alice\n"
	    "   Info :  sales ,  someone@example.net\n"
	    "postmaster: alice\n");
	text = xasprintf("[listen mx]\naddress = 127.0.0.1:25\n"
	    "[domain example.test]\nusers = %s\naliases = %s\n"
	    "catch_all = info\n", users, aliases);
	conf = tmpdir_write(&t, "tern.conf", text);
	buf_init(&err, 0, 0);
	if (config_load(conf, &cfg, &err) != 0)
		fail_msg("%s", buf_cstr(&err));
	assert_string_equal(cfg->path, conf);
	d = config_find_domain(cfg, "example.test");
	assert_non_null(d);
	assert_string_equal(d->users_path, users);
	assert_int_equal(d->n_users, 5);
	/* Sorted and lowercased. */
	assert_string_equal(d->users[0].name, "alice");
	assert_string_equal(d->users[1].name, "bob");
	assert_string_equal(d->users[4].name, "erin");
	u = config_find_user(d, "BOB");
	assert_non_null(u);
	assert_string_equal(u->password_hash, "{SHA512-CRYPT}$6$x$y");
	u = config_find_user(d, "alice");
	assert_string_equal(u->password_hash, "{BLF-CRYPT}$2y$05$abc");
	assert_null(config_find_user(d, "carol")->password_hash);
	assert_null(config_find_user(d, "dave")->password_hash);
	assert_string_equal(config_find_user(d, "erin")->password_hash,
	    "{CRYPT}$6$salt$hash");
	assert_null(config_find_user(d, "frank"));
	assert_null(config_find_user(d, "ali"));

	assert_int_equal(d->n_aliases, 3);
	a = config_find_alias(d, "INFO");
	assert_non_null(a);
	assert_string_equal(a->name, "info");
	assert_int_equal(a->n_targets, 2);
	assert_string_equal(a->targets[0], "sales");
	assert_string_equal(a->targets[1], "someone@example.net");
	a = config_find_alias(d, "sales");
	assert_int_equal(a->n_targets, 2);
	assert_string_equal(a->targets[1], "alice");
	assert_non_null(config_find_alias(d, "postmaster"));
	assert_null(config_find_alias(d, "bob"));
	assert_string_equal(d->catch_all, "info");
	config_free(&cfg);
	free(text);

	/* Errors in the list files name the list file and its line. */
	free(tmpdir_write(&t, "u", "ok\nbad/name:{PLAIN}x\n"));
	free(tmpdir_write(&t, "a", "x: ok\n\nnocolon\n"));
	buf_reset(&err);
	assert_int_equal(config_load(conf, &cfg, &err), -1);
	assert_null(cfg);
	text = xasprintf("%s:2: bad user name \"bad/name\"", users);
	if (strstr(buf_cstr(&err), text) == NULL)
		fail_msg("no \"%s\" in:\n%s", text, buf_cstr(&err));
	free(text);
	text = xasprintf("%s:3: expected \"name: target, target\"", aliases);
	if (strstr(buf_cstr(&err), text) == NULL)
		fail_msg("no \"%s\" in:\n%s", text, buf_cstr(&err));
	free(text);

	/* A config file that is not there. */
	buf_reset(&err);
	text = xasprintf("%s/missing.conf", t.path);
	assert_int_equal(config_load(text, &cfg, &err), -1);
	assert_non_null(strstr(buf_cstr(&err), "missing.conf: cannot read: "
	    "No such file or directory"));
	free(text);

	buf_clear(&err);
	free(users);
	free(aliases);
	free(conf);
	tmpdir_remove(&t, names, N_ELEMENTS(names));
}

struct list_case {
	const char *name;
	const char *text;
	const char *error;	/* NULL: valid */
};

static const struct list_case users_cases[] = {
	{ "comments and blanks", "# x\n\n   \nbob\n", NULL },
	{ "crlf", "bob:{PLAIN}x\r\nann\r\n", NULL },
	{ "utf-8 name", "j\xc3\xb6rg:{PLAIN}x\n", NULL },
	{ "bad utf-8 name", "j\xc3rg:{PLAIN}x\n", "u:1: bad user name" },
	{ "other domain", "bob@example.net:{PLAIN}x\n",
	    "u:1: user \"bob@example.net\" is not in domain example.test" },
	{ "slash", "x/y:{PLAIN}x\n", "u:1: bad user name \"x/y\"" },
	{ "dot dot", "\nx..y\n", "u:2: bad user name" },
	{ "leading dot", ".x\n", "u:1: bad user name" },
	{ "empty name", ":{PLAIN}x\n", "u:1: bad user name \"\"" },
	{ "too long", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaa:{PLAIN}x\n", "u:1: bad user name" },
	{ "bad scheme", "bob:{PLA IN}x\n", "u:1: user \"bob\": bad password "
	    "scheme" },
	{ "unclosed scheme", "bob:{PLAIN\n", "u:1: user \"bob\": bad" },
	{ "duplicate", "bob\nann\nBOB:{PLAIN}x\n",
	    "u:3: duplicate user \"bob\" (first on line 1)" },
};

static const struct list_case aliases_cases[] = {
	{ "simple", "a: b\nc:d,e@example.net , f\n# x\n\n", NULL },
	{ "crlf", "a: b\r\n", NULL },
	{ "no colon", "a b\n", "a:1: expected \"name: target, target\"" },
	{ "no target", "a:\n", "a:1: alias \"a\": target \"\": empty target" },
	{ "trailing comma", "a: b,\n", "a:1: alias \"a\": target \"\": empty" },
	{ "bad name", "a/b: c\n", "a:1: bad alias name \"a/b\"" },
	{ "pipe", "a: |/bin/sh\n", "a:1: alias \"a\": target \"|/bin/sh\": "
	    "pipes to commands are not supported" },
	{ "file", "a: /tmp/x\n", "delivery to files is not supported" },
	{ "include", "a: :include:/etc/x\n", ":include: is not supported" },
	{ "bad domain", "a: b@-x.test\n", "a:1: alias \"a\": target "
	    "\"b@-x.test\": bad domain" },
	{ "bad local", "a: b..c@x.test\n", "bad local part" },
	{ "duplicate", "a: b\nA: c\n",
	    "a:2: duplicate alias \"a\" (first on line 1)" },
};

static void
test_config_lists(void **state)
{
	struct config_domain d;
	struct buf err;
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < N_ELEMENTS(users_cases) + N_ELEMENTS(aliases_cases);
	    i++) {
		bool is_users = i < N_ELEMENTS(users_cases);
		const struct list_case *c = is_users ? &users_cases[i] :
		    &aliases_cases[i - N_ELEMENTS(users_cases)];

		memset(&d, 0, sizeof(d));
		d.name = xstrdup("example.test");
		buf_init(&err, 0, 0);
		rc = is_users ?
		    config_users_parse(&d, "u", c->text, strlen(c->text),
		    &err) :
		    config_aliases_parse(&d, "a", c->text, strlen(c->text),
		    &err);
		if (c->error == NULL && rc != 0)
			fail_msg("%s: %s", c->name, buf_cstr(&err));
		if (c->error != NULL && (rc != -1 ||
		    strstr(buf_cstr(&err), c->error) == NULL))
			fail_msg("%s: expected \"%s\", got rc %d:\n%s",
			    c->name, c->error, rc, buf_cstr(&err));
		config_domain_clear(&d);
		buf_clear(&err);
	}
}

/* Embedded NUL bytes cannot come from a string but can from a file. */
static void
test_config_nul(void **state)
{
	static const char users[] = "bob\nx\0y\n";
	struct config_domain d;
	struct buf err;

	(void)state;
	memset(&d, 0, sizeof(d));
	buf_init(&err, 0, 0);
	assert_int_equal(config_users_parse(&d, "u", users, sizeof(users) - 1,
	    &err), -1);
	assert_string_equal(buf_cstr(&err), "u:2: NUL byte in line\n");
	assert_int_equal(d.n_users, 1);
	config_domain_clear(&d);
	buf_clear(&err);
}

/* ---- docs/config.md documents every key ---------------------------- */

static char *
read_all(const char *path)
{
	FILE *f = fopen(path, "r");
	struct buf b;
	char chunk[4096];
	size_t n;

	if (f == NULL)
		fail_msg("cannot open %s (tests run from the repository root)",
		    path);
	buf_init(&b, 0, 0);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		assert_int_equal(buf_append(&b, chunk, n), 0);
	assert_int_equal(fclose(f), 0);
	return buf_steal(&b);
}

static void
test_config_docs(void **state)
{
	const struct config_key_info *keys;
	char *doc, *heading, *want;
	const char *sec, *next, *entry, *end;
	size_t n, i;

	(void)state;
	doc = read_all("docs/config.md");
	keys = config_keys(&n);
	assert_true(n >= 20);
	for (i = 0; i < n; i++) {
		/* "## [server]", "## [listen NAME]", "## [domain NAME]" */
		heading = xasprintf("\n## [%s", keys[i].section);
		sec = strstr(doc, heading);
		if (sec == NULL)
			fail_msg("docs/config.md: no \"%s\" heading",
			    heading + 1);
		next = strstr(sec + 1, "\n## ");
		free(heading);
		heading = xasprintf("\n### %s\n", keys[i].key);
		entry = strstr(sec, heading);
		if (entry == NULL || (next != NULL && entry > next))
			fail_msg("docs/config.md: [%s] %s is not documented "
			    "(want a \"### %s\" heading)", keys[i].section,
			    keys[i].key, keys[i].key);
		free(heading);
		/* The documented default is the one in config_keys.def. */
		end = strstr(entry + 1, "\n#");
		if (end == NULL)
			end = entry + strlen(entry);
		want = xasprintf("Default: `%s`", keys[i].default_value ?
		    keys[i].default_value : "");
		if (keys[i].default_value != NULL &&
		    (strstr(entry, want) == NULL || strstr(entry, want) > end))
			fail_msg("docs/config.md: %s: no \"%s\"", keys[i].key,
			    want);
		free(want);
		assert_non_null(keys[i].doc);
		assert_non_null(keys[i].type);
	}
	free(doc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_full),
		cmocka_unit_test(test_config_defaults),
		cmocka_unit_test(test_config_embedded_default),
		cmocka_unit_test(test_config_invalid),
		cmocka_unit_test(test_config_many_errors),
		cmocka_unit_test(test_config_files),
		cmocka_unit_test(test_config_lists),
		cmocka_unit_test(test_config_nul),
		cmocka_unit_test(test_config_docs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
