/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for the Maildir agent: the delivered file (name, headers,
 * LF line ends, new/ only), exactly-once on repeated delivery (also
 * after a reader moved the file to cur/), and failure classes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/envelope.h"
#include "core/xalloc.h"
#include "deliver/deliver.h"
#include "spool/spool.h"

struct fixture {
	char dir[64];
	char mailroot[96];
	struct spool *sp;
	struct envelope env; /* read back from the spool */
};

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
on_commit(void *arg, int error)
{
	int *r = arg;

	*r = error;
}

/* Commits content with the given sender and one local target. */
static void
commit(struct fixture *f, const char *from, const char *localpart,
    const void *content, size_t len)
{
	struct spool_writer *w;
	struct envelope env;
	char id[32], addr[128];
	int result = -1;

	envelope_init(&env);
	free(env.from);
	env.from = xstrdup(from);
	(void)snprintf(addr, sizeof(addr), "%s@example.com", localpart);
	envelope_add_rcpt(&env, addr);
	envelope_add_target(&env, true, addr, "example.com", localpart, 0);
	env.arrival = 1700000000;
	w = spool_writer_new(f->sp, id);
	assert_non_null(w);
	assert_int_equal(spool_writer_write(w, content, len), 0);
	spool_writer_commit(w, &env, on_commit, &result);
	while (result == -1) {
		struct pollfd pfd = {
		    .fd = spool_notify_fd(f->sp), .events = POLLIN};

		assert_true(poll(&pfd, 1, 10000) > 0);
		spool_dispatch(f->sp);
	}
	assert_int_equal(result, 0);
	envelope_clear(&env);
	envelope_clear(&f->env);
	assert_int_equal(spool_read_envelope(f->sp, id, &f->env), 0);
}

static int
setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	struct buf err;

	(void)snprintf(f->dir, sizeof(f->dir), "/tmp/tern-deliver-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	/* Not there yet: the agent creates mailroot and mailbox. */
	(void)snprintf(f->mailroot, sizeof(f->mailroot), "%s/mail", f->dir);
	buf_init(&err, 0, 0);
	assert_int_equal(spool_open(f->dir, &f->sp, &err), 0);
	buf_clear(&err);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	envelope_clear(&f->env);
	spool_close(&f->sp);
	(void)nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static struct deliver_result
run(struct fixture *f, bool check_existing)
{
	struct deliver_request req = {
	    .sp = f->sp,
	    .env = &f->env,
	    .target = 0,
	    .mailroot = f->mailroot,
	    .hostname = "mx/1:a",
	    .check_existing = check_existing,
	    .now = 1700000003,
	};
	struct deliver_result res;

	memset(&res, 0xff, sizeof(res));
	deliver_maildir_agent.deliver(&req, &res);
	return res;
}

static int
count_dir(const struct fixture *f, const char *box, const char *sub)
{
	char path[256];
	struct dirent *de;
	int n = 0;
	DIR *d;

	(void)snprintf(
	    path, sizeof(path), "%s/example.com/%s/%s", f->mailroot, box, sub);
	d = opendir(path);
	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	(void)closedir(d);
	return n;
}

/* Reads new/<expected name> of box into a heap string. */
static char *
read_delivered(const struct fixture *f, const char *box, const char *sub,
    const char *suffix)
{
	char path[512];
	struct stat st;
	char *p;
	int fd;

	(void)snprintf(path, sizeof(path),
	    "%s/example.com/%s/%s/1700000000.T%s_0.mx\\0571\\072a%s",
	    f->mailroot, box, sub, f->env.id, suffix);
	fd = open(path, O_RDONLY);
	if (fd == -1)
		fail_msg("missing %s", path);
	assert_int_equal(fstat(fd, &st), 0);
	p = xmalloc((size_t)st.st_size + 1);
	assert_int_equal(read(fd, p, (size_t)st.st_size), st.st_size);
	p[st.st_size] = '\0';
	(void)close(fd);
	return p;
}

static void
test_delivers_with_headers_and_lf(void **state)
{
	struct fixture *f = *state;
	static const char content[] =
	    "Received: from x\r\n\tby y\r\n"
	    "Subject: hi\r\n\r\nline one\r\nbare\rcr\r\n\r\n";
	struct deliver_result res;
	struct stat st;
	char path[256];
	char *got;

	commit(f, "alice@example.org", "bob", content, sizeof(content) - 1);
	res = run(f, false);
	assert_int_equal(res.status, DELIVER_OK);
	assert_string_equal(res.enh, "2.0.0");
	got = read_delivered(f, "bob", "new", "");
	assert_string_equal(got,
	    "Return-Path: <alice@example.org>\n"
	    "Delivered-To: bob@example.com\n"
	    "Received: from x\n\tby y\nSubject: hi\n\nline one\n"
	    "bare\rcr\n\n");
	free(got);
	assert_int_equal(count_dir(f, "bob", "tmp"), 0);
	assert_int_equal(count_dir(f, "bob", "cur"), 0);
	(void)snprintf(path, sizeof(path), "%s/example.com/bob", f->mailroot);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
}

static void
test_null_sender(void **state)
{
	struct fixture *f = *state;
	struct deliver_result res;
	char *got;

	commit(f, "", "postmaster", "X: y\r\n\r\nz\r\n", 11);
	res = run(f, false);
	assert_int_equal(res.status, DELIVER_OK);
	got = read_delivered(f, "postmaster", "new", "");
	assert_string_equal(got,
	    "Return-Path: <>\n"
	    "Delivered-To: postmaster@example.com\nX: y\n\nz\n");
	free(got);
}

/* CRLF pairs split across the agent's 64 KiB read chunks. */
static void
test_large_crlf_across_chunks(void **state)
{
	struct fixture *f = *state;
	size_t n = 300000, i, o = 0;
	char *content = xmalloc(n), *want = xmalloc(n + 100), *got;
	int hlen;

	for (i = 0; i < n; i++)
		content[i] = i % 3 == 1 ? '\r' : i % 3 == 2 ? '\n' : 'a';
	content[65535] = '\r'; /* a CR ends the first chunk... */
	content[65536] = '\n'; /* ...and its LF starts the second */
	content[n - 1] = '\r'; /* a CR at the very end is kept */
	hlen = snprintf(want, 100,
	    "Return-Path: <a@b>\n"
	    "Delivered-To: big@example.com\n");
	o = (size_t)hlen;
	for (i = 0; i < n; i++) {
		if (content[i] == '\r' && i + 1 < n && content[i + 1] == '\n')
			continue;
		want[o++] = content[i];
	}
	want[o] = '\0';
	commit(f, "a@b", "big", content, n);
	assert_int_equal(run(f, false).status, DELIVER_OK);
	got = read_delivered(f, "big", "new", "");
	assert_int_equal(strlen(got), o);
	assert_string_equal(got, want);
	free(got);
	free(content);
	free(want);
}

static void
test_second_delivery_is_noop(void **state)
{
	struct fixture *f = *state;
	char from[512], to[512];
	struct deliver_result res;

	commit(f, "alice@example.org", "bob", "a\r\n", 3);
	assert_int_equal(run(f, false).status, DELIVER_OK);
	/* A retry that looks first, and one that does not: one copy. */
	res = run(f, true);
	assert_int_equal(res.status, DELIVER_OK);
	assert_string_equal(res.text, "already there");
	res = run(f, false);
	assert_int_equal(res.status, DELIVER_OK);
	assert_int_equal(count_dir(f, "bob", "new"), 1);
	assert_int_equal(count_dir(f, "bob", "tmp"), 0);

	/* A reader (Dovecot) moved it to cur/ and flagged it seen. */
	(void)snprintf(from, sizeof(from),
	    "%s/example.com/bob/new/1700000000.T%s_0.mx\\0571\\072a",
	    f->mailroot, f->env.id);
	(void)snprintf(to, sizeof(to),
	    "%s/example.com/bob/cur/1700000000.T%s_0.mx\\0571\\072a:2,S",
	    f->mailroot, f->env.id);
	assert_int_equal(rename(from, to), 0);
	res = run(f, true);
	assert_int_equal(res.status, DELIVER_OK);
	assert_string_equal(res.text, "already there");
	assert_int_equal(count_dir(f, "bob", "new"), 0);
	assert_int_equal(count_dir(f, "bob", "cur"), 1);
	free(read_delivered(f, "bob", "cur", ":2,S"));
}

static void
test_stale_tmp_is_replaced(void **state)
{
	struct fixture *f = *state;
	char path[512];
	char *got;
	int fd;

	commit(f, "alice@example.org", "bob", "new\r\n", 5);
	assert_int_equal(run(f, false).status, DELIVER_OK);
	(void)snprintf(path, sizeof(path),
	    "%s/example.com/bob/new/1700000000.T%s_0.mx\\0571\\072a",
	    f->mailroot, f->env.id);
	assert_int_equal(unlink(path), 0);
	/* What a crash in the middle of an earlier attempt leaves. */
	(void)snprintf(path, sizeof(path),
	    "%s/example.com/bob/tmp/1700000000.T%s_0.mx\\0571\\072a",
	    f->mailroot, f->env.id);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "half a message that is longer", 29), 29);
	(void)close(fd);
	assert_int_equal(run(f, true).status, DELIVER_OK);
	got = read_delivered(f, "bob", "new", "");
	assert_string_equal(got,
	    "Return-Path: <alice@example.org>\n"
	    "Delivered-To: bob@example.com\nnew\n");
	free(got);
	assert_int_equal(count_dir(f, "bob", "tmp"), 0);
}

/* A crash after the link into new/, before the unlink: tmp/ is cleaned. */
/*
 * Delivers a message to bob, then gives the copy its tmp/ name again,
 * as a crash between the link into new/ and the unlink leaves it.
 */
static void
deliver_and_leave_tmp(struct fixture *f)
{
	char newp[512], tmpp[512];

	commit(f, "alice@example.org", "bob", "a\r\n", 3);
	assert_int_equal(run(f, false).status, DELIVER_OK);
	(void)snprintf(newp, sizeof(newp),
	    "%s/example.com/bob/new/1700000000.T%s_0.mx\\0571\\072a",
	    f->mailroot, f->env.id);
	(void)snprintf(tmpp, sizeof(tmpp),
	    "%s/example.com/bob/tmp/1700000000.T%s_0.mx\\0571\\072a",
	    f->mailroot, f->env.id);
	assert_int_equal(link(newp, tmpp), 0);
}

static void
test_tmp_left_after_link_is_removed(void **state)
{
	struct fixture *f = *state;
	struct deliver_result res;

	deliver_and_leave_tmp(f);
	res = run(f, true);
	assert_int_equal(res.status, DELIVER_OK);
	assert_string_equal(res.text, "already there");
	assert_int_equal(count_dir(f, "bob", "new"), 1);
	assert_int_equal(count_dir(f, "bob", "tmp"), 0);
}

/* forget() takes tmp/<name> away and leaves the copy in new/. */
static void
test_forget_removes_tmp_only(void **state)
{
	struct fixture *f = *state;
	struct deliver_request req = {
	    .sp = f->sp,
	    .target = 0,
	    .mailroot = f->mailroot,
	    .hostname = "mx/1:a",
	};

	req.env = &f->env;
	deliver_and_leave_tmp(f);
	deliver_maildir_forget(&req);
	assert_int_equal(count_dir(f, "bob", "tmp"), 0);
	assert_int_equal(count_dir(f, "bob", "new"), 1);
}

static void
test_unwritable_mailroot_tempfails(void **state)
{
	struct fixture *f = *state;
	struct deliver_result res;
	int fd;

	commit(f, "alice@example.org", "bob", "a\r\n", 3);
	/* A file where the mailroot should be: fails even for root. */
	fd = open(f->mailroot, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	(void)close(fd);
	res = run(f, false);
	assert_int_equal(res.status, DELIVER_TEMPFAIL);
	assert_string_equal(res.enh, "4.2.0");
	assert_non_null(strstr(res.text, "mailbox"));
	assert_int_equal(unlink(f->mailroot), 0);

	/* Without write permission (root ignores modes: check only then). */
	assert_int_equal(mkdir(f->mailroot, 0500), 0);
	res = run(f, false);
	if (geteuid() != 0) {
		assert_int_equal(res.status, DELIVER_TEMPFAIL);
		assert_string_equal(res.enh, "4.2.0");
	}
}

static void
test_unsafe_mailbox_name_permfails(void **state)
{
	struct fixture *f = *state;
	struct deliver_result res;
	struct stat st;

	commit(f, "alice@example.org", "..", "a\r\n", 3);
	res = run(f, false);
	assert_int_equal(res.status, DELIVER_PERMFAIL);
	assert_string_equal(res.enh, "5.1.3");
	assert_int_equal(stat(f->mailroot, &st), -1);
}

static void
test_errno_classes(void **state)
{
	static const struct {
		int error;
		enum deliver_status status;
		const char *enh;
	} cases[] = {
	    {ENOSPC, DELIVER_TEMPFAIL, "4.3.1"},
	    {EDQUOT, DELIVER_TEMPFAIL, "4.2.2"},
	    {EIO, DELIVER_TEMPFAIL, "4.3.0"},
	    {EAGAIN, DELIVER_TEMPFAIL, "4.3.0"},
	    {EACCES, DELIVER_TEMPFAIL, "4.2.0"},
	    {ENAMETOOLONG, DELIVER_PERMFAIL, "5.1.3"},
	};
	struct deliver_result res;
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(cases); i++) {
		deliver_result_errno(&res, cases[i].error, "write");
		assert_int_equal(res.status, cases[i].status);
		assert_string_equal(res.enh, cases[i].enh);
		assert_true(strncmp(res.text, "write: ", 7) == 0);
	}
	assert_string_equal(deliver_status_name(DELIVER_OK), "sent");
	assert_string_equal(deliver_status_name(DELIVER_TEMPFAIL), "deferred");
	assert_string_equal(deliver_status_name(DELIVER_PERMFAIL), "bounced");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_delivers_with_headers_and_lf, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_null_sender, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_large_crlf_across_chunks, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_second_delivery_is_noop, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_stale_tmp_is_replaced, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_tmp_left_after_link_is_removed, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_forget_removes_tmp_only, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_unwritable_mailroot_tempfails, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_unsafe_mailbox_name_permfails, setup, teardown),
	    cmocka_unit_test(test_errno_classes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
