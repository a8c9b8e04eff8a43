/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for the queue runner: local targets are delivered and
 * journaled, a remote target keeps the message spooled and pending, a
 * message whose targets are all done leaves the spool, and recovery
 * resubmits without delivering twice.  The config is filled by hand.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/envelope.h"
#include "core/xalloc.h"
#include "config/config.h"
#include "queue/queue.h"
#include "spool/spool.h"

struct fixture {
	char dir[64];
	char spool[96];
	char mailroot[96];
	char hostname[32];
	char hostname2[32];
	struct config cfg;
	struct spool *sp;
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
	*(int *)arg = error;
}

static int
setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	struct buf err;

	(void)snprintf(f->dir, sizeof(f->dir), "/tmp/tern-queue-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	(void)snprintf(f->spool, sizeof(f->spool), "%s/spool", f->dir);
	(void)snprintf(f->mailroot, sizeof(f->mailroot), "%s/mail", f->dir);
	(void)snprintf(f->hostname, sizeof(f->hostname), "mx.example.com");
	(void)snprintf(f->hostname2, sizeof(f->hostname2), "reloaded");
	f->cfg.hostname = f->hostname;
	f->cfg.mailroot = f->mailroot;
	f->cfg.spool = f->spool;
	buf_init(&err, 0, 0);
	assert_int_equal(spool_open(f->spool, &f->sp, &err), 0);
	buf_clear(&err);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	spool_close(&f->sp);
	(void)nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* Commits a message for bob and carol (local) and, if asked, a remote. */
static void
commit(struct fixture *f, bool with_remote, char id[32])
{
	struct spool_writer *w;
	struct envelope env;
	int result = -1;

	envelope_init(&env);
	envelope_add_rcpt(&env, "bob@example.com");
	envelope_add_rcpt(&env, "carol@example.com");
	envelope_add_target(
	    &env, true, "bob@example.com", "example.com", "bob", 0);
	if (with_remote) {
		envelope_add_rcpt(&env, "dave@remote.test");
		envelope_add_target(
		    &env, false, "dave@remote.test", "remote.test", "dave", 2);
	}
	envelope_add_target(
	    &env, true, "carol@example.com", "example.com", "carol", 1);
	env.arrival = time(NULL);
	w = spool_writer_new(f->sp, id);
	assert_non_null(w);
	assert_int_equal(
	    spool_writer_write(w, "Subject: t\r\n\r\nhi\r\n", 19), 0);
	spool_writer_commit(w, &env, on_commit, &result);
	while (result == -1) {
		struct pollfd pfd = {
		    .fd = spool_notify_fd(f->sp), .events = POLLIN};

		assert_true(poll(&pfd, 1, 10000) > 0);
		spool_dispatch(f->sp);
	}
	assert_int_equal(result, 0);
	envelope_clear(&env);
}

static int
count_new(const struct fixture *f, const char *box)
{
	char path[256];
	struct dirent *de;
	int n = 0;
	DIR *d;

	(void)snprintf(
	    path, sizeof(path), "%s/example.com/%s/new", f->mailroot, box);
	d = opendir(path);
	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	(void)closedir(d);
	return n;
}

/* Whether every file in bob's new/ was named with host. */
static bool
all_named_for(const struct fixture *f, const char *host)
{
	char path[256];
	struct dirent *de;
	bool all = true;
	DIR *d;

	(void)snprintf(
	    path, sizeof(path), "%s/example.com/bob/new", f->mailroot);
	d = opendir(path);
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		const char *dot = strrchr(de->d_name, '.');

		if (de->d_name[0] != '.')
			all = all && dot != NULL && strcmp(dot + 1, host) == 0;
	}
	(void)closedir(d);
	return all;
}

static bool
message_exists(struct fixture *f, const char *id)
{
	struct envelope env;

	if (spool_read_envelope(f->sp, id, &env) == 0) {
		envelope_clear(&env);
		return true;
	}
	assert_int_equal(errno, ENOENT);
	return false;
}

/* Waits up to 10 s for both local copies of a message. */
static void
wait_delivered(struct fixture *f, int want)
{
	int i;

	for (i = 0; i < 1000; i++) {
		if (count_new(f, "bob") >= want &&
		    count_new(f, "carol") >= want)
			return;
		(void)usleep(10000);
	}
	fail_msg("not delivered");
}

static void
test_remote_target_keeps_message(void **state)
{
	struct fixture *f = *state;
	struct queue *q;
	struct buf err;
	bool done[3];
	char id[32];

	commit(f, true, id);
	q = queue_new(&f->cfg, f->sp);
	queue_submit(q, id);
	wait_delivered(f, 1);
	queue_free(&q); /* waits for the worker to journal its work */
	assert_null(q);
	assert_true(message_exists(f, id));
	assert_int_equal(spool_status_read(f->sp, id, done, 3), 0);
	assert_true(done[0]);  /* bob */
	assert_false(done[1]); /* dave, remote: pending */
	assert_true(done[2]);  /* carol */

	/* After a restart: the remote still waits, no second copies. */
	q = queue_new(&f->cfg, f->sp);
	buf_init(&err, 0, 0);
	assert_int_equal(queue_recover(q, &err), 0);
	buf_clear(&err);
	(void)usleep(200000);
	queue_free(&q);
	assert_true(message_exists(f, id));
	assert_int_equal(count_new(f, "bob"), 1);
	assert_int_equal(count_new(f, "carol"), 1);
}

static void
test_all_local_message_is_removed(void **state)
{
	struct fixture *f = *state;
	struct queue *q;
	char id[32];
	int i;

	commit(f, false, id);
	q = queue_new(&f->cfg, f->sp);
	queue_submit(q, id);
	for (i = 0; i < 1000 && message_exists(f, id); i++)
		(void)usleep(10000);
	queue_free(&q);
	assert_false(message_exists(f, id));
	assert_int_equal(count_new(f, "bob"), 1);
	assert_int_equal(count_new(f, "carol"), 1);
}

/* A local TEMPFAIL keeps the message and its targets pending. */
static void
test_tempfail_keeps_message(void **state)
{
	struct fixture *f = *state;
	struct queue *q;
	bool done[2];
	char id[32];
	FILE *fp;

	commit(f, false, id);
	/* A file where the mailroot should be: every delivery defers. */
	fp = fopen(f->mailroot, "w");
	assert_non_null(fp);
	(void)fclose(fp);
	q = queue_new(&f->cfg, f->sp);
	queue_submit(q, id);
	(void)usleep(300000);
	queue_free(&q);
	assert_true(message_exists(f, id));
	assert_int_equal(spool_status_read(f->sp, id, done, 2), 0);
	assert_false(done[0]);
	assert_false(done[1]);
}

/* Startup: recovery submits what is spooled; a reload config is used. */
static void
test_recover_submits(void **state)
{
	struct fixture *f = *state;
	struct config other = f->cfg;
	struct buf err;
	struct queue *q;
	char id1[32], id2[32];
	int i;

	commit(f, false, id1);
	commit(f, false, id2);
	q = queue_new(&f->cfg, f->sp);
	other.hostname = f->hostname2;
	queue_set_config(q, &other);
	buf_init(&err, 0, 0);
	assert_int_equal(queue_recover(q, &err), 0);
	buf_clear(&err);
	for (i = 0;
	     i < 1000 && (message_exists(f, id1) || message_exists(f, id2));
	     i++)
		(void)usleep(10000);
	queue_free(&q);
	assert_false(message_exists(f, id1));
	assert_false(message_exists(f, id2));
	assert_int_equal(count_new(f, "bob"), 2);
	assert_int_equal(count_new(f, "carol"), 2);
	assert_true(all_named_for(f, "reloaded"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_remote_target_keeps_message, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_all_local_message_is_removed, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_tempfail_keeps_message, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_recover_submits, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
