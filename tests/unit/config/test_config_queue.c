/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for [queue], [relay] and [server] resolver: defaults,
 * valid values, the relay password file (read at load, first line only)
 * and each invalid combination with its "FILE:LINE: ..." error.
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
#include "core/compat.h"
#include "core/xalloc.h"

#define BASE "[listen mx]\naddress = 127.0.0.1:2525\n" \
	"[domain example.test]\n"

struct fixture {
	char dir[64];
	char *pw;	/* "s3cret\nsecond line\n" */
	char *empty;	/* "" */
	char *secret;	/* mode 000 */
};

static char *
fixture_write(const struct fixture *f, const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", f->dir, name);
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_true(fputs(text, fp) >= 0);
	assert_int_equal(fclose(fp), 0);
	return path;
}

static int
fixture_setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));

	assert_true(snprintf(f->dir, sizeof(f->dir),
	    "/tmp/tern-test-config-queue.XXXXXX") < (int)sizeof(f->dir));
	assert_non_null(mkdtemp(f->dir));
	f->pw = fixture_write(f, "pw", "s3cret\r\nsecond line\n");
	f->empty = fixture_write(f, "empty", "");
	f->secret = fixture_write(f, "secret", "x\n");
	assert_int_equal(chmod(f->secret, 0), 0);
	*state = f;
	return 0;
}

static int
fixture_teardown(void **state)
{
	struct fixture *f = *state;

	(void)unlink(f->pw);
	(void)unlink(f->empty);
	(void)unlink(f->secret);
	assert_int_equal(rmdir(f->dir), 0);
	free(f->pw);
	free(f->empty);
	free(f->secret);
	free(f);
	return 0;
}

static struct config *
load_ok(const char *text)
{
	struct config *cfg = NULL;
	struct buf err;

	buf_init(&err, 0, 0);
	if (config_load_string("t.conf", text, &cfg, &err) != 0)
		fail_msg("did not load:\n%s\n%s", text, buf_cstr(&err));
	buf_clear(&err);
	return cfg;
}

static void
test_config_queue_defaults(void **state)
{
	struct config *cfg = load_ok(BASE);

	(void)state;
	assert_int_equal(cfg->min_retry, 300);
	assert_int_equal(cfg->max_retry, 3600);
	assert_int_equal(cfg->max_age, 5 * 86400);
	assert_int_equal(cfg->delay_warning, 4 * 3600);
	assert_int_equal(cfg->max_received, 100);
	assert_int_equal(cfg->max_connections_per_domain, 10);
	assert_int_equal(cfg->max_connections, 100);
	assert_int_equal(cfg->mx_port, 25);
	assert_null(cfg->resolver);
	assert_null(cfg->relay_host);
	assert_null(cfg->relay_user);
	assert_null(cfg->relay_password);
	assert_int_equal(cfg->relay_tls, RELAY_TLS_STARTTLS);
	config_free(&cfg);
	assert_null(cfg);
}

static void
test_config_queue_valid(void **state)
{
	struct fixture *f = *state;
	struct config *cfg;
	char *text;

	cfg = load_ok(BASE "[queue]\nmin_retry = 2s\nmax_retry = 10s\n"
	    "max_age = 1m\ndelay_warning = 0\nmax_received = 5\n"
	    "max_connections_per_domain = 2\nmax_connections = 3\n"
	    "mx_port = 2526\n[server]\n"
	    "resolver = 127.0.0.1:5353 , [::1]:53,10.0.0.1:53\n");
	assert_int_equal(cfg->min_retry, 2);
	assert_int_equal(cfg->max_retry, 10);
	assert_int_equal(cfg->max_age, 60);
	assert_int_equal(cfg->delay_warning, 0);
	assert_int_equal(cfg->max_received, 5);
	assert_int_equal(cfg->max_connections_per_domain, 2);
	assert_int_equal(cfg->max_connections, 3);
	assert_int_equal(cfg->mx_port, 2526);
	/* Normalised to the comma list dns_new() takes. */
	assert_string_equal(cfg->resolver,
	    "127.0.0.1:5353,[::1]:53,10.0.0.1:53");
	config_free(&cfg);

	text = xasprintf(BASE "[relay]\nhost = SMTP.Provider.Example:587\n"
	    "user = me@example.test\npassword_file = %s\n", f->pw);
	cfg = load_ok(text);
	free(text);
	assert_string_equal(cfg->relay_host, "smtp.provider.example");
	assert_int_equal(cfg->relay_port, 587);
	assert_int_equal(cfg->relay_tls, RELAY_TLS_STARTTLS);
	assert_string_equal(cfg->relay_user, "me@example.test");
	/* Only the first line, without its CRLF. */
	assert_string_equal(cfg->relay_password, "s3cret");
	config_free(&cfg);

	cfg = load_ok(BASE "[relay]\nhost = [::1]:465\ntls = implicit\n");
	assert_string_equal(cfg->relay_host, "::1");
	assert_int_equal(cfg->relay_port, 465);
	assert_int_equal(cfg->relay_tls, RELAY_TLS_IMPLICIT);
	assert_null(cfg->relay_password);
	config_free(&cfg);

	cfg = load_ok(BASE "[relay]\nhost = 127.0.0.2:25\ntls = none\n");
	assert_string_equal(cfg->relay_host, "127.0.0.2");
	assert_int_equal(cfg->relay_tls, RELAY_TLS_NONE);
	config_free(&cfg);
}

struct invalid_case {
	const char *name;
	const char *text;	/* a fixture path and "\n" follow if file */
	int file;		/* 0 none, 1 pw, 2 empty, 3 unreadable */
	const char *error;
};

static const struct invalid_case invalid_cases[] = {
	{ .name = "min above max",
	  .text = BASE "[queue]\nmin_retry = 2h\nmax_retry = 1h\n",
	  .error = "t.conf:5: min_retry: 7200 seconds is longer than "
	      "max_retry (3600)" },
	{ .name = "bad duration",
	  .text = BASE "[queue]\nmax_age = 5x\n",
	  .error = "t.conf:5: max_age: bad value \"5x\"" },
	{ .name = "zero retry",
	  .text = BASE "[queue]\nmin_retry = 0\n",
	  .error = "t.conf:5: min_retry: bad value" },
	{ .name = "port range",
	  .text = BASE "[queue]\nmx_port = 65536\n",
	  .error = "t.conf:5: mx_port: bad value" },
	{ .name = "per domain above global",
	  .text = BASE "[queue]\nmax_connections = 5\n"
	      "max_connections_per_domain = 6\n",
	  .error = "t.conf:6: max_connections_per_domain: 6 is larger" },
	{ .name = "queue twice",
	  .text = BASE "[queue]\n[queue]\n",
	  .error = "t.conf:5: duplicate [queue] section" },
	{ .name = "queue name",
	  .text = BASE "[queue x]\n",
	  .error = "t.conf:4: [queue] takes no name" },
	{ .name = "resolver name",
	  .text = BASE "[server]\nresolver = dns.example:53\n",
	  .error = "t.conf:5: resolver: bad value" },
	{ .name = "resolver no port",
	  .text = BASE "[server]\nresolver = 127.0.0.1\n",
	  .error = "t.conf:5: resolver: bad value" },
	{ .name = "resolver too many",
	  .text = BASE "[server]\nresolver = 1.1.1.1:53,1.1.1.2:53,"
	      "1.1.1.3:53,1.1.1.4:53,1.1.1.5:53,1.1.1.6:53,1.1.1.7:53,"
	      "1.1.1.8:53,1.1.1.9:53\n",
	  .error = "t.conf:5: resolver: bad value" },
	{ .name = "relay no host",
	  .text = BASE "[relay]\ntls = none\n",
	  .error = "t.conf:4: host: missing in [relay]" },
	{ .name = "relay no port",
	  .text = BASE "[relay]\nhost = smtp.example\n",
	  .error = "t.conf:5: host: bad value" },
	{ .name = "relay bad port",
	  .text = BASE "[relay]\nhost = smtp.example:0\n",
	  .error = "t.conf:5: host: bad value" },
	{ .name = "relay bad tls",
	  .text = BASE "[relay]\nhost = a.example:25\ntls = maybe\n",
	  .error = "t.conf:6: tls: bad value \"maybe\": expected starttls" },
	{ .name = "user without password",
	  .text = BASE "[relay]\nhost = a.example:587\nuser = me\n",
	  .error = "t.conf:6: user: needs password_file" },
	{ .name = "password without user",
	  .text = BASE "[relay]\nhost = a.example:587\n"
	      "password_file = ",
	  .file = 1,
	  .error = "t.conf:6: password_file: needs user" },
	{ .name = "plaintext auth",
	  .text = BASE "[relay]\nhost = a.example:25\ntls = none\n"
	      "user = me\npassword_file = ",
	  .file = 1,
	  .error = "t.conf:6: tls: AUTH over plaintext refused" },
	{ .name = "empty password file",
	  .text = BASE "[relay]\nhost = a.example:587\nuser = me\n"
	      "password_file = ",
	  .file = 2,
	  .error = "t.conf:7: password_file: " },
	{ .name = "unreadable password file",
	  .text = BASE "[relay]\nhost = a.example:587\nuser = me\n"
	      "password_file = ",
	  .file = 3,
	  .error = "t.conf:7: password_file: " },
	{ .name = "missing password file",
	  .text = BASE "[relay]\nhost = a.example:587\nuser = me\n"
	      "password_file = /nonexistent/tern-pw\n",
	  .error = "t.conf:7: password_file: /nonexistent/tern-pw: No such" },
	{ .name = "user with blank",
	  .text = BASE "[relay]\nhost = a.example:587\nuser = a b\n",
	  .error = "t.conf:6: user: bad value" },
};

static void
test_config_queue_invalid(void **state)
{
	struct fixture *f = *state;
	struct config *cfg;
	struct buf err;
	size_t i;

	/* Root reads mode-000 files: that case only means something else. */
	for (i = 0; i < N_ELEMENTS(invalid_cases); i++) {
		const struct invalid_case *c = &invalid_cases[i];
		const char *path = c->file == 1 ? f->pw : c->file == 2 ?
		    f->empty : f->secret;
		char *text;

		if (c->file == 3 && geteuid() == 0)
			continue;
		text = c->file != 0 ? xasprintf("%s%s\n", c->text, path) :
		    xstrdup(c->text);
		cfg = NULL;
		buf_init(&err, 0, 0);
		if (config_load_string("t.conf", text, &cfg, &err) != -1)
			fail_msg("%s: loaded", c->name);
		assert_null(cfg);
		if (strstr(buf_cstr(&err), c->error) == NULL)
			fail_msg("%s: expected \"%s\" in:\n%s", c->name,
			    c->error, buf_cstr(&err));
		/* The password never shows up in an error. */
		assert_null(strstr(buf_cstr(&err), "s3cret"));
		buf_clear(&err);
		free(text);
	}
}

/* The keys are listed for check-config --defaults and the docs test. */
static void
test_config_queue_keys(void **state)
{
	const struct config_key_info *keys;
	size_t n, i;
	unsigned seen = 0;

	(void)state;
	keys = config_keys(&n);
	for (i = 0; i < n; i++) {
		if (strcmp(keys[i].section, "queue") == 0 &&
		    strcmp(keys[i].key, "min_retry") == 0) {
			assert_string_equal(keys[i].default_value, "5m");
			assert_string_equal(keys[i].type, "duration");
			seen |= 1;
		}
		if (strcmp(keys[i].section, "relay") == 0 &&
		    strcmp(keys[i].key, "tls") == 0) {
			assert_string_equal(keys[i].default_value, "starttls");
			seen |= 2;
		}
		if (strcmp(keys[i].section, "server") == 0 &&
		    strcmp(keys[i].key, "resolver") == 0) {
			assert_null(keys[i].default_value);
			seen |= 4;
		}
	}
	assert_int_equal(seen, 7);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_queue_defaults),
		cmocka_unit_test(test_config_queue_valid),
		cmocka_unit_test(test_config_queue_invalid),
		cmocka_unit_test(test_config_queue_keys),
	};

	return cmocka_run_group_tests(tests, fixture_setup, fixture_teardown);
}
