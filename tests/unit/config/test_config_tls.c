/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for the [tls], [tls NAME] and [limits] sections of config/:
 * valid configs fill the struct, each invalid one gives its
 * "FILE:LINE: ..." error, SNI picks the right [tls NAME], and
 * config_load_default_tls() adds TLS and submission to the default.
 */
#include <sys/stat.h>

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

/* A private directory with a cert, a key and a users file. */
struct fixture {
	char dir[64];
	char *cert;
	char *key;
	char *users;
	char *secret;	/* mode 000 */
};

static char *
fixture_write(const struct fixture *f, const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", f->dir, name);
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
	return path;
}

static int
fixture_setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));

	assert_true(snprintf(f->dir, sizeof(f->dir),
	    "/tmp/tern-test-config-tls.XXXXXX") < (int)sizeof(f->dir));
	assert_non_null(mkdtemp(f->dir));
	/* config never parses PEM: any readable file will do. */
	f->cert = fixture_write(f, "cert.pem", "-----BEGIN CERTIFICATE-----\n");
	f->key = fixture_write(f, "key.pem", "-----BEGIN PRIVATE KEY-----\n");
	f->users = fixture_write(f, "users", "alice:{PLAIN}secret\n");
	f->secret = fixture_write(f, "secret.pem", "x\n");
	assert_int_equal(chmod(f->secret, 0), 0);
	*state = f;
	return 0;
}

static int
fixture_teardown(void **state)
{
	struct fixture *f = *state;

	(void)unlink(f->cert);
	(void)unlink(f->key);
	(void)unlink(f->users);
	(void)unlink(f->secret);
	assert_int_equal(rmdir(f->dir), 0);
	free(f->cert);
	free(f->key);
	free(f->users);
	free(f->secret);
	free(f);
	return 0;
}

/* text with each "@D@" replaced by the fixture directory. */
static char *
expand(const struct fixture *f, const char *text)
{
	struct buf b;
	const char *at;

	buf_init(&b, 0, 0);
	while ((at = strstr(text, "@D@")) != NULL) {
		assert_int_equal(buf_append(&b, text, (size_t)(at - text)), 0);
		assert_int_equal(buf_append_str(&b, f->dir), 0);
		text = at + 3;
	}
	assert_int_equal(buf_append_str(&b, text), 0);
	return buf_steal(&b);
}

#define MINIMAL                                                             \
	"[listen mx]\naddress = 127.0.0.1:25\n[domain example.test]\n"
#define TLS "[tls]\ncert = @D@/cert.pem\nkey = @D@/key.pem\n"

static struct config *
load_ok(const struct fixture *f, const char *text)
{
	struct config *cfg = NULL;
	struct buf err;
	char *full = expand(f, text);

	buf_init(&err, 0, 0);
	if (config_load_string("t.conf", full, &cfg, &err) != 0)
		fail_msg("unexpected errors:\n%s", buf_cstr(&err));
	assert_string_equal(buf_cstr(&err), "");
	assert_non_null(cfg);
	buf_clear(&err);
	free(full);
	return cfg;
}

static void
test_config_tls_valid(void **state)
{
	const struct fixture *f = *state;
	struct config *cfg;
	const struct config_tls_cert *tc;

	cfg = load_ok(f,
	    MINIMAL
	    "[listen sub]\n"
	    "address = 127.0.0.1:587\n"
	    "role = submission\n"
	    "[listen subs]\n"
	    "address = 127.0.0.1:465\n"
	    "role = submissions\n"
	    "[tls]\n"
	    "cert = @D@/cert.pem\n"
	    "key = @D@/key.pem\n"
	    "ciphers = ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL:@SECLEVEL=2\n"
	    "[tls mail.other.test]\n"
	    "hostnames = Mail.Other.Test, *.other.test\n"
	    "cert = @D@/cert.pem\n"
	    "key = @D@/key.pem\n"
	    "[tls third]\n"
	    "hostnames = a.third.test b.third.test,,\tc.third.test\n"
	    "cert = @D@/cert.pem\n"
	    "key = @D@/key.pem\n"
	    "[limits]\n"
	    "user_messages_per_hour = 0\n"
	    "auth_max_failures = 3\n"
	    "auth_failure_window = 1h\n"
	    "auth_block_time = 2d\n");
	assert_string_equal(cfg->tls_cert, f->cert);
	assert_string_equal(cfg->tls_key, f->key);
	assert_string_equal(cfg->tls_ciphers,
	    "ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL:@SECLEVEL=2");
	assert_int_equal(cfg->n_tls_certs, 2);
	tc = &cfg->tls_certs[0];
	assert_string_equal(tc->name, "mail.other.test");
	assert_int_equal(tc->line, 14);
	assert_string_equal(tc->cert, f->cert);
	assert_string_equal(tc->key, f->key);
	assert_int_equal(tc->n_hostnames, 2);
	assert_string_equal(tc->hostnames[0], "mail.other.test");
	assert_string_equal(tc->hostnames[1], "*.other.test");
	tc = &cfg->tls_certs[1];
	assert_string_equal(tc->name, "third");
	assert_int_equal(tc->n_hostnames, 3);
	assert_string_equal(tc->hostnames[0], "a.third.test");
	assert_string_equal(tc->hostnames[1], "b.third.test");
	assert_string_equal(tc->hostnames[2], "c.third.test");
	assert_int_equal(cfg->listens[1].role, LISTEN_ROLE_SUBMISSION);
	assert_int_equal(cfg->listens[2].role, LISTEN_ROLE_SUBMISSIONS);
	assert_int_equal(cfg->user_messages_per_hour, 0);
	assert_int_equal(cfg->auth_max_failures, 3);
	assert_int_equal(cfg->auth_failure_window, 3600);
	assert_int_equal(cfg->auth_block_time, 2 * 86400);

	/* SNI: exact names first, then a wildcard for one whole label. */
	assert_ptr_equal(config_find_tls_cert(cfg, "mail.other.test"),
	    &cfg->tls_certs[0]);
	assert_ptr_equal(config_find_tls_cert(cfg, "MX.Other.Test"),
	    &cfg->tls_certs[0]);
	assert_ptr_equal(config_find_tls_cert(cfg, "B.third.test"),
	    &cfg->tls_certs[1]);
	assert_null(config_find_tls_cert(cfg, "other.test"));
	assert_null(config_find_tls_cert(cfg, "a.b.other.test"));
	assert_null(config_find_tls_cert(cfg, ".other.test"));
	assert_null(config_find_tls_cert(cfg, "d.third.test"));
	assert_null(config_find_tls_cert(cfg, "example.test"));
	assert_null(config_find_tls_cert(cfg, "localhost"));
	assert_null(config_find_tls_cert(cfg, ""));
	assert_null(config_find_tls_cert(cfg, NULL));
	config_free(&cfg);

	/* [tls] alone; [limits] defaults; TLS on an mx-only server. */
	cfg = load_ok(f, MINIMAL TLS);
	assert_string_equal(cfg->tls_cert, f->cert);
	assert_null(cfg->tls_ciphers);
	assert_int_equal(cfg->n_tls_certs, 0);
	assert_null(config_find_tls_cert(cfg, "mail.other.test"));
	assert_int_equal(cfg->user_messages_per_hour, 1000);
	assert_int_equal(cfg->auth_max_failures, 5);
	assert_int_equal(cfg->auth_failure_window, 15 * 60);
	assert_int_equal(cfg->auth_block_time, 15 * 60);
	config_free(&cfg);
}

/* An exact name in one section beats a wildcard in an earlier one. */
static void
test_config_tls_exact_before_wildcard(void **state)
{
	const struct fixture *f = *state;
	struct config *cfg;

	cfg = load_ok(f, MINIMAL TLS
	    "[tls wild]\nhostnames = *.x.test\n"
	    "cert = @D@/cert.pem\nkey = @D@/key.pem\n"
	    "[tls exact]\nhostnames = mail.x.test\n"
	    "cert = @D@/cert.pem\nkey = @D@/key.pem\n");
	assert_ptr_equal(config_find_tls_cert(cfg, "mail.x.test"),
	    &cfg->tls_certs[1]);
	assert_ptr_equal(config_find_tls_cert(cfg, "smtp.x.test"),
	    &cfg->tls_certs[0]);
	config_free(&cfg);
}

struct invalid_case {
	const char *name;
	const char *text;	/* "@D@" is the fixture directory */
	const char *error;	/* expected substring, "@D@" expanded too */
};

static const struct invalid_case invalid_cases[] = {
	{ .name = "tls without cert",
	    .text = MINIMAL "[tls]\nkey = @D@/key.pem\n",
	    .error = "t.conf:4: cert: missing in [tls]" },
	{ .name = "tls without key",
	    .text = MINIMAL "[tls]\ncert = @D@/cert.pem\n",
	    .error = "t.conf:4: key: missing in [tls]" },
	{ .name = "empty tls",
	    .text = MINIMAL "\n[tls]\n",
	    .error = "t.conf:5: cert: missing in [tls]" },
	{ .name = "missing cert file",
	    .text = MINIMAL "[tls]\ncert = @D@/nope.pem\nkey = @D@/key.pem\n",
	    .error = "t.conf:5: cert: @D@/nope.pem: No such file or "
		"directory" },
	{ .name = "missing key file",
	    .text = MINIMAL "[tls]\ncert = @D@/cert.pem\nkey = @D@/no.key\n",
	    .error = "t.conf:6: key: @D@/no.key: No such file or directory" },
	{ .name = "cert is a directory",
	    .text = MINIMAL "[tls]\ncert = @D@\nkey = @D@/key.pem\n",
	    .error = "t.conf:5: cert: @D@: Is a directory" },
	{ .name = "key is a device",
	    .text = MINIMAL "[tls]\ncert = @D@/cert.pem\nkey = /dev/null\n",
	    .error = "t.conf:6: key: /dev/null: not a regular file" },
	{ .name = "duplicate tls",
	    .text = MINIMAL TLS "[tls]\n",
	    .error = "t.conf:7: duplicate [tls] section (first on line 4)" },
	{ .name = "tls NAME without tls",
	    .text = MINIMAL "[tls other]\nhostnames = other.test\n"
		"cert = @D@/cert.pem\nkey = @D@/key.pem\n",
	    .error = "t.conf:4: [tls other]: needs a [tls] section with the "
		"default certificate" },
	{ .name = "tls NAME without hostnames",
	    .text = MINIMAL TLS "[tls other]\n"
		"cert = @D@/cert.pem\nkey = @D@/key.pem\n",
	    .error = "t.conf:7: hostnames: missing in [tls other]" },
	{ .name = "tls NAME without cert",
	    .text = MINIMAL TLS "[tls other]\nhostnames = other.test\n"
		"key = @D@/key.pem\n",
	    .error = "t.conf:7: cert: missing in [tls other]" },
	{ .name = "tls NAME without key",
	    .text = MINIMAL TLS "[tls other]\nhostnames = other.test\n"
		"cert = @D@/cert.pem\n",
	    .error = "t.conf:7: key: missing in [tls other]" },
	{ .name = "tls NAME with a missing cert file",
	    .text = MINIMAL TLS "[tls other]\nhostnames = other.test\n"
		"cert = /nonexistent/c.pem\nkey = @D@/key.pem\n",
	    .error = "t.conf:9: cert: /nonexistent/c.pem: No such file or "
		"directory" },
	{ .name = "duplicate tls NAME",
	    .text = MINIMAL TLS
		"[tls other]\nhostnames = a.test\n"
		"cert = @D@/cert.pem\nkey = @D@/key.pem\n"
		"[tls Other]\nhostnames = b.test\n",
	    .error = "t.conf:11: [tls Other]: duplicate tls name (first on "
		"line 7)" },
	{ .name = "duplicate hostnames across sections",
	    .text = MINIMAL TLS
		"[tls one]\nhostnames = a.test, *.b.test\n"
		"cert = @D@/cert.pem\nkey = @D@/key.pem\n"
		"[tls two]\ncert = @D@/cert.pem\nkey = @D@/key.pem\n"
		"hostnames = c.test *.B.test\n",
	    .error = "t.conf:14: hostnames: *.b.test is already used by "
		"[tls one] on line 7" },
	{ .name = "duplicate hostnames in one section",
	    .text = MINIMAL TLS
		"[tls one]\nhostnames = a.test,A.TEST\n"
		"cert = @D@/cert.pem\nkey = @D@/key.pem\n",
	    .error = "t.conf:8: hostnames: a.test is listed twice" },
	{ .name = "bad hostname",
	    .text = MINIMAL TLS
		"[tls one]\nhostnames = a.test, b_c.test\n"
		"cert = @D@/cert.pem\nkey = @D@/key.pem\n",
	    .error = "t.conf:8: hostnames: bad value \"a.test, b_c.test\"" },
	{ .name = "partial-label wildcard",
	    .text = MINIMAL TLS
		"[tls one]\nhostnames = mail*.test\n"
		"cert = @D@/cert.pem\nkey = @D@/key.pem\n",
	    .error = "t.conf:8: hostnames: bad value \"mail*.test\"" },
	{ .name = "wildcard further right",
	    .text = MINIMAL TLS
		"[tls one]\nhostnames = a.*.test\n"
		"cert = @D@/cert.pem\nkey = @D@/key.pem\n",
	    .error = "t.conf:8: hostnames: bad value \"a.*.test\"" },
	{ .name = "only separators",
	    .text = MINIMAL TLS
		"[tls one]\nhostnames = , ,\n"
		"cert = @D@/cert.pem\nkey = @D@/key.pem\n",
	    .error = "t.conf:8: hostnames: bad value \", ,\"" },
	{ .name = "bad tls name",
	    .text = MINIMAL TLS "[tls a/b]\n",
	    .error = "t.conf:7: [tls a/b]: bad name" },
	{ .name = "ciphers in tls NAME",
	    .text = MINIMAL TLS
		"[tls one]\nhostnames = a.test\nciphers = HIGH\n"
		"cert = @D@/cert.pem\nkey = @D@/key.pem\n",
	    .error = "t.conf:9: ciphers: unknown key in [tls NAME]" },
	{ .name = "hostnames in tls",
	    .text = MINIMAL TLS "hostnames = a.test\n",
	    .error = "t.conf:7: hostnames: unknown key in [tls]" },
	{ .name = "bad ciphers",
	    .text = MINIMAL TLS "ciphers = HIGH;rm -rf\n",
	    .error = "t.conf:7: ciphers: bad value \"HIGH;rm -rf\"" },
	{ .name = "submission without tls",
	    .text = MINIMAL "[listen sub]\naddress = 127.0.0.1:587\n\n"
		"role = submission\n",
	    .error = "t.conf:7: role: role submission needs a [tls] "
		"certificate" },
	{ .name = "submissions without tls",
	    .text = MINIMAL "[listen subs]\nrole = submissions\n"
		"address = 127.0.0.1:465\n",
	    .error = "t.conf:5: role: role submissions needs a [tls] "
		"certificate" },
	{ .name = "limits with a name",
	    .text = MINIMAL "[limits x]\n",
	    .error = "t.conf:4: [limits] takes no name" },
	{ .name = "duplicate limits",
	    .text = MINIMAL "[limits]\n[limits]\n",
	    .error = "t.conf:5: duplicate [limits] section (first on line 4)" },
	{ .name = "unknown key in limits",
	    .text = MINIMAL "[limits]\nmax_auth = 3\n",
	    .error = "t.conf:5: max_auth: unknown key in [limits]" },
	{ .name = "bad uint",
	    .text = MINIMAL "[limits]\nuser_messages_per_hour = -1\n",
	    .error = "t.conf:5: user_messages_per_hour: bad value \"-1\": "
		"expected a whole number in range (0 to 100000000)" },
	{ .name = "uint with a suffix",
	    .text = MINIMAL "[limits]\nuser_messages_per_hour = 1k\n",
	    .error = "t.conf:5: user_messages_per_hour: bad value \"1k\"" },
	{ .name = "zero auth_max_failures",
	    .text = MINIMAL "[limits]\nauth_max_failures = 0\n",
	    .error = "t.conf:5: auth_max_failures: bad value \"0\": expected "
		"a whole number in range (1 to 1000000)" },
	{ .name = "bad duration",
	    .text = MINIMAL "[limits]\nauth_failure_window = 15 min\n",
	    .error = "t.conf:5: auth_failure_window: bad value \"15 min\": "
		"expected a duration in range" },
	{ .name = "duration out of range",
	    .text = MINIMAL "[limits]\nauth_block_time = 8d\n",
	    .error = "t.conf:5: auth_block_time: bad value \"8d\": expected a "
		"duration in range, with an optional s, m, h or d suffix "
		"(1 to 604800 seconds)" },
	{ .name = "zero duration",
	    .text = MINIMAL "[limits]\nauth_block_time = 0\n",
	    .error = "t.conf:5: auth_block_time: bad value \"0\"" },
};

static void
test_config_tls_invalid(void **state)
{
	const struct fixture *f = *state;
	struct config *cfg;
	struct buf err;
	char *text, *want;
	size_t i;

	for (i = 0; i < N_ELEMENTS(invalid_cases); i++) {
		const struct invalid_case *c = &invalid_cases[i];

		cfg = NULL;
		text = expand(f, c->text);
		want = expand(f, c->error);
		buf_init(&err, 0, 0);
		if (config_load_string("t.conf", text, &cfg, &err) != -1)
			fail_msg("%s: loaded", c->name);
		assert_null(cfg);
		if (strstr(buf_cstr(&err), want) == NULL)
			fail_msg("%s: expected \"%s\" in:\n%s", c->name, want,
			    buf_cstr(&err));
		assert_int_equal(strncmp(buf_cstr(&err), "t.conf:", 7), 0);
		assert_int_equal(buf_cstr(&err)[err.len - 1], '\n');
		buf_clear(&err);
		free(text);
		free(want);
	}
}

/* Root reads any file, so EACCES can only be tested as another user. */
static void
test_config_tls_unreadable(void **state)
{
	const struct fixture *f = *state;
	struct config *cfg = NULL;
	struct buf err;
	char *text, *want;

	if (geteuid() == 0)
		skip();
	text = expand(f, MINIMAL "[tls]\ncert = @D@/cert.pem\n"
	    "key = @D@/secret.pem\n");
	want = expand(f, "t.conf:6: key: @D@/secret.pem: Permission denied");
	buf_init(&err, 0, 0);
	assert_int_equal(config_load_string("t.conf", text, &cfg, &err), -1);
	if (strstr(buf_cstr(&err), want) == NULL)
		fail_msg("expected \"%s\" in:\n%s", want, buf_cstr(&err));
	buf_clear(&err);
	free(text);
	free(want);
}

static void
test_config_tls_default(void **state)
{
	const struct fixture *f = *state;
	struct config *cfg = NULL;
	const struct config_domain *d;
	struct buf err;

	buf_init(&err, 0, 0);
	if (config_load_default_tls(f->cert, f->key, f->users, &cfg, &err) != 0)
		fail_msg("%s", buf_cstr(&err));
	assert_string_equal(cfg->path, "(default)");
	assert_string_equal(cfg->tls_cert, f->cert);
	assert_string_equal(cfg->tls_key, f->key);
	assert_null(cfg->tls_ciphers);
	assert_int_equal(cfg->n_tls_certs, 0);
	/* The default's mx listener, then submission. */
	assert_int_equal(cfg->n_listens, 2);
	assert_string_equal(cfg->listens[0].port, "2525");
	assert_int_equal(cfg->listens[0].role, LISTEN_ROLE_MX);
	assert_string_equal(cfg->listens[1].name, "submission");
	assert_string_equal(cfg->listens[1].host, "127.0.0.1");
	assert_string_equal(cfg->listens[1].port, "2587");
	assert_int_equal(cfg->listens[1].role, LISTEN_ROLE_SUBMISSION);
	assert_string_equal(cfg->spool, "./var/spool");
	assert_int_equal(cfg->n_domains, 1);
	d = &cfg->domains[0];
	assert_string_equal(d->name, "localhost");
	assert_string_equal(d->catch_all, "postmaster");
	assert_string_equal(d->users_path, f->users);
	assert_int_equal(d->n_users, 1);
	assert_string_equal(config_find_user(d, "alice")->password_hash,
	    "{PLAIN}secret");
	config_free(&cfg);

	/* Without a users file. */
	assert_int_equal(config_load_default_tls(f->cert, f->key, NULL, &cfg,
	    &err), 0);
	assert_null(cfg->domains[0].users_path);
	assert_int_equal(cfg->domains[0].n_users, 0);
	assert_int_equal(cfg->n_listens, 2);
	config_free(&cfg);
	assert_string_equal(buf_cstr(&err), "");

	/* The files are checked like any config's. */
	assert_int_equal(config_load_default_tls("/nonexistent/c.pem", f->key,
	    NULL, &cfg, &err), -1);
	assert_null(cfg);
	assert_non_null(strstr(buf_cstr(&err), "(default):"));
	assert_non_null(strstr(buf_cstr(&err), ": cert: /nonexistent/c.pem: "
	    "No such file or directory"));
	buf_reset(&err);
	assert_int_equal(config_load_default_tls(f->cert, f->key,
	    "/nonexistent/users", &cfg, &err), -1);
	assert_non_null(strstr(buf_cstr(&err), "users: cannot read "
	    "/nonexistent/users"));
	buf_reset(&err);

	/* A path that would change the config's meaning is refused. */
	assert_int_equal(config_load_default_tls(f->cert,
	    "k.pem\n[listen evil]\naddress = 0.0.0.0:25", NULL, &cfg, &err),
	    -1);
	assert_null(cfg);
	assert_non_null(strstr(buf_cstr(&err), "(default):0: key: path "
	    "cannot be written in a config file"));
	buf_reset(&err);
	assert_int_equal(config_load_default_tls(f->cert, f->key,
	    "u ; x", &cfg, &err), -1);
	assert_non_null(strstr(buf_cstr(&err), "(default):0: users: path "));
	buf_reset(&err);
	assert_int_equal(config_load_default_tls(" c.pem", f->key, NULL, &cfg,
	    &err), -1);
	assert_non_null(strstr(buf_cstr(&err), "(default):0: cert: path "));
	buf_clear(&err);
}

/* The new sections are listed for check-config --defaults and the docs. */
static void
test_config_tls_keys(void **state)
{
	const struct config_key_info *keys;
	size_t n, i;
	unsigned seen = 0;

	(void)state;
	keys = config_keys(&n);
	for (i = 0; i < n; i++) {
		if (strcmp(keys[i].section, "tls") == 0 &&
		    strcmp(keys[i].key, "ciphers") == 0) {
			assert_null(keys[i].default_value);
			seen |= 1;
		}
		if (strcmp(keys[i].section, "tls NAME") == 0 &&
		    strcmp(keys[i].key, "hostnames") == 0)
			seen |= 2;
		if (strcmp(keys[i].section, "limits") == 0 &&
		    strcmp(keys[i].key, "auth_block_time") == 0) {
			assert_string_equal(keys[i].default_value, "15m");
			assert_string_equal(keys[i].type, "duration");
			assert_int_equal(keys[i].min, 1);
			assert_int_equal(keys[i].max, 7 * 86400);
			seen |= 4;
		}
	}
	assert_int_equal(seen, 7);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_tls_valid),
		cmocka_unit_test(test_config_tls_exact_before_wildcard),
		cmocka_unit_test(test_config_tls_invalid),
		cmocka_unit_test(test_config_tls_unreadable),
		cmocka_unit_test(test_config_tls_default),
		cmocka_unit_test(test_config_tls_keys),
	};

	return cmocka_run_group_tests(tests, fixture_setup, fixture_teardown);
}
