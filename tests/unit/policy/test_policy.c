/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for policy/: RCPT decisions (relay, unknown users,
 * postmaster, case, +detail, quoting, catch-all) and alias expansion
 * into deduplicated targets, against a config with real users and
 * aliases files in a temporary directory.
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
#include "core/envelope.h"
#include "core/xalloc.h"
#include "policy/policy.h"

static const char users_example[] =
    "alice:{PLAIN}x\n"
    "bob:{PLAIN}x\n"
    "carol\n"
    "dan\n"
    "bob+special\n";

static const char users_other[] = "x\n";

static const char aliases_other[] = "catchme: carol@example.test\n";

struct fixture {
	char dir[64];
	char *files[4];
	struct config *cfg;
};

static char *
fixture_write(struct fixture *f, size_t i, const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", f->dir, name);
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_true(fputs(text, fp) >= 0);
	assert_int_equal(fclose(fp), 0);
	f->files[i] = path;
	return path;
}

/* The aliases of example.test, with generated chains and fans. */
static char *
aliases_example(void)
{
	struct buf b;
	int rc = 0, i, j;

	buf_init(&b, 0, 0);
	rc |= buf_append_str(&b,
	    "# aliases of example.test\n"
	    "sales: alice, bob\n"
	    "team: sales, Alice\n"
	    "fwd: someone@example.net\n"
	    "loop1: loop2\n"
	    "loop2: loop1\n"
	    "dan: dan, dan@example.net\n"
	    "other: X@Other.Test\n"
	    "ghost: nosuchuser\n"
	    "pm: postmaster\n"
	    "mixed: sales, fwd, carol@example.test, postmaster@example.test\n");
	/* d1 -> d2 -> ... -> d21 -> alice: 21 aliases deep. */
	for (i = 1; i < 21; i++)
		rc |= buf_printf(&b, "d%d: d%d\n", i, i + 1);
	rc |= buf_append_str(&b, "d21: alice\n");
	/* f1 -> 50 x f2 -> ... -> f10 -> bob: 50^9 paths, one target. */
	for (i = 1; i <= 10; i++) {
		rc |= buf_printf(&b, "f%d: ", i);
		for (j = 0; j < 50; j++) {
			if (i < 10)
				rc |= buf_printf(&b, "%sf%d", j > 0 ? ", " : "",
				    i + 1);
			else
				rc |= buf_printf(&b, "%sbob", j > 0 ? ", " :
				    "");
		}
		rc |= buf_append_str(&b, "\n");
	}
	/* More targets than POLICY_EXPAND_MAX. */
	rc |= buf_append_str(&b, "big: ");
	for (i = 0; i <= POLICY_EXPAND_MAX; i++)
		rc |= buf_printf(&b, "%su%d@example.net", i > 0 ? ", " : "",
		    i);
	rc |= buf_append_str(&b, "\n");
	assert_int_equal(rc, 0);
	return buf_steal(&b);
}

static int
setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	char *aliases, *text;
	struct buf err;

	assert_true(snprintf(f->dir, sizeof(f->dir),
	    "/tmp/tern-test-policy.XXXXXX") < (int)sizeof(f->dir));
	assert_non_null(mkdtemp(f->dir));
	aliases = aliases_example();
	text = xasprintf(
	    "[listen mx]\naddress = 127.0.0.1:25\n"
	    "[domain example.test]\nusers = %s\naliases = %s\n"
	    "[domain other.test]\nusers = %s\naliases = %s\n"
	    "catch_all = catchme\n",
	    fixture_write(f, 0, "example.users", users_example),
	    fixture_write(f, 1, "example.aliases", aliases),
	    fixture_write(f, 2, "other.users", users_other),
	    fixture_write(f, 3, "other.aliases", aliases_other));
	buf_init(&err, 0, 0);
	if (config_load_string("t.conf", text, &f->cfg, &err) != 0)
		fail_msg("%s", buf_cstr(&err));
	buf_clear(&err);
	free(text);
	free(aliases);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	size_t i;

	config_free(&f->cfg);
	for (i = 0; i < N_ELEMENTS(f->files); i++) {
		if (f->files[i] != NULL)
			(void)unlink(f->files[i]);
		free(f->files[i]);
	}
	assert_int_equal(rmdir(f->dir), 0);
	free(f);
	return 0;
}

struct rcpt_case {
	const char *addr;
	enum listen_role role;
	bool auth;
	int code;		/* 0: accepted */
	const char *enh;
};

static const struct rcpt_case rcpt_cases[] = {
	{ "alice@example.test", LISTEN_ROLE_MX, false, 0, NULL },
	{ "ALICE@Example.TEST", LISTEN_ROLE_MX, false, 0, NULL },
	{ "carol@example.test", LISTEN_ROLE_MX, false, 0, NULL },
	{ "nobody@example.test", LISTEN_ROLE_MX, false, 550, "5.1.1" },
	{ "someone@example.net", LISTEN_ROLE_MX, false, 550, "5.7.1" },
	{ "someone@example.net", LISTEN_ROLE_SUBMISSION, false, 550, "5.7.1" },
	{ "someone@example.net", LISTEN_ROLE_SUBMISSION, true, 0, NULL },
	{ "someone@example.net", LISTEN_ROLE_MX, true, 0, NULL },
	{ "nobody@example.test", LISTEN_ROLE_SUBMISSION, true, 550, "5.1.1" },
	/* Strict domain matching: no trailing dot, no subdomains. */
	{ "alice@example.test.", LISTEN_ROLE_MX, false, 550, "5.7.1" },
	{ "alice@sub.example.test", LISTEN_ROLE_MX, false, 550, "5.7.1" },
	{ "alice@[192.0.2.1]", LISTEN_ROLE_MX, false, 550, "5.7.1" },
	/* RFC 5321 4.5.1 postmaster, and bare "Postmaster" 4.1.1.3. */
	{ "postmaster@example.test", LISTEN_ROLE_MX, false, 0, NULL },
	{ "PostMaster@OTHER.test", LISTEN_ROLE_MX, false, 0, NULL },
	{ "postmaster", LISTEN_ROLE_MX, false, 0, NULL },
	{ "Postmaster", LISTEN_ROLE_MX, false, 0, NULL },
	{ "alice", LISTEN_ROLE_MX, false, 553, "5.1.3" },
	{ "postmaster@example.net", LISTEN_ROLE_MX, false, 550, "5.7.1" },
	/* +detail */
	{ "alice+news@example.test", LISTEN_ROLE_MX, false, 0, NULL },
	{ "Sales+x@example.test", LISTEN_ROLE_MX, false, 0, NULL },
	{ "nobody+x@example.test", LISTEN_ROLE_MX, false, 550, "5.1.1" },
	{ "+alice@example.test", LISTEN_ROLE_MX, false, 550, "5.1.1" },
	/* Quoted local parts are unquoted, then looked up. */
	{ "\"alice\"@example.test", LISTEN_ROLE_MX, false, 0, NULL },
	{ "\"Al\\ice\"@example.test", LISTEN_ROLE_MX, false, 0, NULL },
	{ "\"john doe\"@example.test", LISTEN_ROLE_MX, false, 550, "5.1.1" },
	{ "\"john doe\"@other.test", LISTEN_ROLE_MX, false, 0, NULL },
	{ "\"a@b\"@example.test", LISTEN_ROLE_MX, false, 550, "5.1.1" },
	/* SMTPUTF8 local part: unknown, but handled. */
	{ "j\xc3\xb6rg@example.test", LISTEN_ROLE_MX, false, 550, "5.1.1" },
	/* Catch-all of other.test. */
	{ "anything@other.test", LISTEN_ROLE_MX, false, 0, NULL },
	/* Aliases. */
	{ "sales@example.test", LISTEN_ROLE_MX, false, 0, NULL },
	{ "fwd@example.test", LISTEN_ROLE_MX, false, 0, NULL },
	{ "loop1@example.test", LISTEN_ROLE_MX, false, 550, "5.4.6" },
	{ "ghost@example.test", LISTEN_ROLE_MX, false, 550, "5.1.1" },
	{ "d1@example.test", LISTEN_ROLE_MX, false, 550, "5.4.6" },
	{ "d2@example.test", LISTEN_ROLE_MX, false, 0, NULL },
	{ "f1@example.test", LISTEN_ROLE_MX, false, 0, NULL },
	{ "big@example.test", LISTEN_ROLE_MX, false, 550, "5.5.3" },
	/* Malformed. */
	{ "@example.test", LISTEN_ROLE_MX, false, 553, "5.1.3" },
	{ "alice@", LISTEN_ROLE_MX, false, 553, "5.1.3" },
	{ "\"alice@example.test", LISTEN_ROLE_MX, false, 553, "5.1.3" },
	{ "\"alice\"x@example.test", LISTEN_ROLE_MX, false, 553, "5.1.3" },
	{ "a@b@example.test", LISTEN_ROLE_MX, false, 553, "5.1.3" },
	{ "", LISTEN_ROLE_MX, false, 553, "5.1.3" },
};

static void
test_policy_rcpt(void **state)
{
	struct fixture *f = *state;
	struct policy_result r;
	size_t i;

	for (i = 0; i < N_ELEMENTS(rcpt_cases); i++) {
		const struct rcpt_case *c = &rcpt_cases[i];
		struct policy_client client = {
			.role = c->role,
			.authenticated = c->auth,
		};

		r = policy_check_rcpt(f->cfg, &client, c->addr);
		if (r.code != c->code)
			fail_msg("<%s> role %d auth %d: code %d (%s %s), "
			    "expected %d", c->addr, (int)c->role, c->auth,
			    r.code, r.enh ? r.enh : "", r.text ? r.text : "",
			    c->code);
		if (c->code != 0) {
			assert_string_equal(r.enh, c->enh);
			assert_non_null(r.text);
			assert_true(r.enh[0] == (char)('0' + c->code / 100));
		}
	}
}

struct expand_case {
	const char *name;
	const char *rcpts[4];
	bool auth;
	/* "L domain mailbox index" or "R address index", in order. */
	const char *targets[6];
	int code;		/* 0: expansion succeeds */
	const char *enh;
};

static const struct expand_case expand_cases[] = {
	{ "user", { "alice@example.test" }, false,
	    { "L example.test alice 0" }, 0, NULL },
	{ "alias to two users", { "sales@example.test" }, false,
	    { "L example.test alice 0", "L example.test bob 0" }, 0, NULL },
	{ "two aliases to one user", { "team@example.test" }, false,
	    { "L example.test alice 0", "L example.test bob 0" }, 0, NULL },
	{ "same recipient twice", { "alice@example.test",
	    "ALICE@example.test", "alice+x@example.test",
	    "\"alice\"@example.test" }, false,
	    { "L example.test alice 0" }, 0, NULL },
	{ "first recipient wins", { "bob@example.test",
	    "sales@example.test" }, false,
	    { "L example.test bob 0", "L example.test alice 1" }, 0, NULL },
	{ "alias to remote", { "fwd@example.test" }, false,
	    { "R someone@example.net 0" }, 0, NULL },
	{ "alias keeping a copy", { "dan@example.test" }, false,
	    { "L example.test dan 0", "R dan@example.net 0" }, 0, NULL },
	{ "alias to another served domain", { "other@example.test" }, false,
	    { "L other.test x 0" }, 0, NULL },
	{ "bare postmaster", { "postmaster" }, false,
	    { "L example.test postmaster 0" }, 0, NULL },
	{ "alias to postmaster", { "pm@example.test",
	    "Postmaster@example.test" }, false,
	    { "L example.test postmaster 0" }, 0, NULL },
	{ "catch-all alias", { "who@other.test" }, false,
	    { "L example.test carol 0" }, 0, NULL },
	{ "+detail that is a user", { "bob+special@example.test",
	    "bob+other@example.test" }, false,
	    { "L example.test bob+special 0", "L example.test bob 1" },
	    0, NULL },
	{ "nested and mixed", { "mixed@example.test" }, false,
	    { "L example.test alice 0", "L example.test bob 0",
	    "R someone@example.net 0", "L example.test carol 0",
	    "L example.test postmaster 0" }, 0, NULL },
	{ "fan-out of 50^9 paths", { "f1@example.test" }, false,
	    { "L example.test bob 0" }, 0, NULL },
	{ "authenticated remote", { "Friend@Example.NET",
	    "friend@example.net" }, true,
	    { "R Friend@Example.NET 0" }, 0, NULL },
	{ "remote without auth", { "alice@example.test",
	    "friend@example.net" }, false, { NULL }, 550, "5.7.1" },
	{ "loop", { "loop1@example.test" }, false, { NULL }, 550, "5.4.6" },
	{ "too deep", { "d1@example.test" }, false, { NULL }, 550, "5.4.6" },
	{ "too many", { "big@example.test" }, false, { NULL }, 550, "5.5.3" },
	{ "unknown", { "ghost@example.test" }, false, { NULL }, 550, "5.1.1" },
};

static void
test_policy_expand(void **state)
{
	struct fixture *f = *state;
	struct policy_result r;
	struct envelope env;
	char got[300];
	size_t i, j, n;
	int rc;

	for (i = 0; i < N_ELEMENTS(expand_cases); i++) {
		const struct expand_case *c = &expand_cases[i];

		envelope_init(&env);
		for (j = 0; j < N_ELEMENTS(c->rcpts) && c->rcpts[j]; j++)
			envelope_add_rcpt(&env, c->rcpts[j]);
		if (c->auth)
			env.auth_user = xstrdup("alice@example.test");
		memset(&r, 0xff, sizeof(r));
		rc = policy_expand(f->cfg, &env, &r);
		if (c->code != 0) {
			if (rc != -1 || r.code != c->code)
				fail_msg("%s: rc %d code %d, expected %d",
				    c->name, rc, r.code, c->code);
			assert_string_equal(r.enh, c->enh);
			assert_int_equal(env.n_targets, 0);
			envelope_clear(&env);
			continue;
		}
		if (rc != 0)
			fail_msg("%s: failed: %d %s %s", c->name, r.code,
			    r.enh, r.text);
		assert_int_equal(r.code, 0);
		for (n = 0; n < N_ELEMENTS(c->targets) && c->targets[n]; n++)
			continue;
		if (env.n_targets != n)
			fail_msg("%s: %zu targets, expected %zu", c->name,
			    env.n_targets, n);
		for (j = 0; j < n; j++) {
			const struct envelope_target *t = &env.targets[j];

			if (t->is_local) {
				assert_true(snprintf(got, sizeof(got),
				    "L %s %s %zu", t->domain, t->localpart,
				    t->rcpt_index) < (int)sizeof(got));
				/* address is mailbox@domain */
				assert_true(strncmp(t->address, t->localpart,
				    strlen(t->localpart)) == 0);
				assert_string_equal(t->address +
				    strlen(t->localpart) + 1, t->domain);
			} else {
				assert_true(snprintf(got, sizeof(got),
				    "R %s %zu", t->address, t->rcpt_index) <
				    (int)sizeof(got));
			}
			if (strcmp(got, c->targets[j]) != 0)
				fail_msg("%s: target %zu is \"%s\", expected "
				    "\"%s\"", c->name, j, got, c->targets[j]);
		}
		/* A second run replaces the targets, it does not add. */
		assert_int_equal(policy_expand(f->cfg, &env, &r), 0);
		assert_int_equal(env.n_targets, n);
		envelope_clear(&env);
	}
}

/* The remote target keeps the domain lowercased and the local part. */
static void
test_policy_remote_target(void **state)
{
	struct fixture *f = *state;
	struct policy_result r;
	struct envelope env;

	envelope_init(&env);
	envelope_add_rcpt(&env, "\"Odd Name\"@Example.NET");
	env.auth_user = xstrdup("alice@example.test");
	assert_int_equal(policy_expand(f->cfg, &env, &r), 0);
	assert_int_equal(env.n_targets, 1);
	assert_false(env.targets[0].is_local);
	assert_string_equal(env.targets[0].address, "\"Odd Name\"@Example.NET");
	assert_string_equal(env.targets[0].domain, "example.net");
	assert_string_equal(env.targets[0].localpart, "\"Odd Name\"");
	envelope_clear(&env);
}

/* The embedded default: everything for localhost goes to postmaster. */
static void
test_policy_default_config(void **state)
{
	struct config *cfg = NULL;
	struct policy_client client = { .role = LISTEN_ROLE_MX };
	struct policy_result r;
	struct envelope env;
	struct buf err;

	(void)state;
	buf_init(&err, 0, 0);
	assert_int_equal(config_load_default(&cfg, &err), 0);
	r = policy_check_rcpt(cfg, &client, "anyone@localhost");
	assert_int_equal(r.code, 0);
	r = policy_check_rcpt(cfg, &client, "anyone@example.net");
	assert_int_equal(r.code, 550);
	envelope_init(&env);
	envelope_add_rcpt(&env, "anyone@LOCALHOST");
	envelope_add_rcpt(&env, "postmaster");
	assert_int_equal(policy_expand(cfg, &env, &r), 0);
	assert_int_equal(env.n_targets, 1);
	assert_true(env.targets[0].is_local);
	assert_string_equal(env.targets[0].localpart, "postmaster");
	assert_string_equal(env.targets[0].address, "postmaster@localhost");
	envelope_clear(&env);
	config_free(&cfg);
	buf_clear(&err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy_rcpt),
		cmocka_unit_test(test_policy_expand),
		cmocka_unit_test(test_policy_remote_target),
		cmocka_unit_test(test_policy_default_config),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
