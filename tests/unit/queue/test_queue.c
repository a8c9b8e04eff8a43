/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for the queue on a real spool and event loop, with the
 * remote agent replaced by a fake that records jobs and answers when
 * the test says: local targets are delivered and journaled, remote
 * targets are grouped per domain, results set the journal's state,
 * failures bounce to the sender (never for <>), a loop fails every
 * target with 5.4.6, old messages expire with 4.4.7, the delay warning
 * goes out once, limits hold jobs back, and recovery resumes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <event2/event.h>

#include "config/config.h"
#include "core/buf.h"
#include "core/envelope.h"
#include "core/xalloc.h"
#include "deliver/deliver.h"
#include "deliver/deliver_remote.h"
#include "queue/queue.h"
#include "spool/spool.h"
#include "spool/spool_status.h"

#define MAX_JOBS 16

/* A remote job as the fake agent saw it. */
struct job {
	char queue_id[32];
	char domain[64];
	char from[64];
	char rcpts[4][64];
	size_t n_rcpts;
	char content[16384];
	queue_remote_done_fn *cb;
	void *cb_arg;
	bool answered;
};

struct fixture {
	char dir[64];
	char spool[96];
	char mailroot[96];
	char hostname[32];
	char hostname2[32];
	char resolver[32];
	struct config cfg;
	struct spool *sp;
	struct event_base *base;
	struct queue *q;
	struct job jobs[MAX_JOBS];
	size_t n_jobs;
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

static void
fake_remote(void *arg, const struct remote_job *rj, queue_remote_done_fn *cb,
    void *cb_arg)
{
	struct fixture *f = arg;
	struct job *j;
	size_t i;
	ssize_t n;

	assert_true(f->n_jobs < MAX_JOBS);
	j = &f->jobs[f->n_jobs++];
	memset(j, 0, sizeof(*j));
	(void)snprintf(j->queue_id, sizeof(j->queue_id), "%s", rj->queue_id);
	(void)snprintf(j->domain, sizeof(j->domain), "%s", rj->domain);
	(void)snprintf(j->from, sizeof(j->from), "%s", rj->from);
	assert_true(rj->n_rcpts <= 4);
	for (i = 0; i < rj->n_rcpts; i++)
		(void)snprintf(j->rcpts[i], sizeof(j->rcpts[i]), "%s",
		    rj->rcpts[i]);
	j->n_rcpts = rj->n_rcpts;
	assert_true(rj->content_len < sizeof(j->content));
	n = pread(rj->content_fd, j->content, (size_t)rj->content_len, 0);
	assert_int_equal(n, (ssize_t)rj->content_len);
	j->cb = cb;
	j->cb_arg = cb_arg;
}

/* Answers job k: every recipient gets status/enh/reply. */
static void
answer(struct fixture *f, size_t k, enum deliver_status status,
    const char *enh, const char *reply)
{
	struct remote_rcpt_result r[4];
	struct remote_outcome o;
	struct job *j = &f->jobs[k];
	size_t i;

	assert_true(k < f->n_jobs);
	assert_false(j->answered);
	memset(r, 0, sizeof(r));
	memset(&o, 0, sizeof(o));
	for (i = 0; i < j->n_rcpts; i++) {
		r[i].result.status = status;
		(void)snprintf(r[i].result.enh, sizeof(r[i].result.enh), "%s",
		    enh);
		(void)snprintf(r[i].result.text, sizeof(r[i].result.text),
		    "%s", reply);
		(void)snprintf(r[i].reply, sizeof(r[i].reply), "%s", reply);
	}
	o.rcpts = r;
	o.n_rcpts = j->n_rcpts;
	(void)snprintf(o.relay, sizeof(o.relay), "mx.%s[127.0.0.9]:25",
	    j->domain);
	j->answered = true;
	j->cb(j->cb_arg, &o);
}

static void
fill_config(struct fixture *f)
{
	f->cfg.hostname = f->hostname;
	f->cfg.mailroot = f->mailroot;
	f->cfg.spool = f->spool;
	f->cfg.resolver = f->resolver;
	f->cfg.min_retry = 300;
	f->cfg.max_retry = 3600;
	f->cfg.max_age = 5 * 86400;
	f->cfg.delay_warning = 4 * 3600;
	f->cfg.max_received = 5;
	f->cfg.max_connections_per_domain = 10;
	f->cfg.max_connections = 100;
	f->cfg.mx_port = 25;
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
	/* Nothing listens there; the fake agent never asks anyway. */
	(void)snprintf(f->resolver, sizeof(f->resolver), "127.0.0.1:9");
	fill_config(f);
	buf_init(&err, 0, 0);
	assert_int_equal(spool_open(f->spool, &f->sp, &err), 0);
	buf_clear(&err);
	f->base = event_base_new();
	assert_non_null(f->base);
	*state = f;
	return 0;
}

static void
start(struct fixture *f)
{
	struct buf err;

	buf_init(&err, 0, 0);
	f->q = queue_new(&f->cfg, f->sp, f->base, &err);
	if (f->q == NULL)
		fail_msg("queue_new: %s", buf_cstr(&err));
	buf_clear(&err);
	queue_set_remote_fn(f->q, fake_remote, f);
}

static void
recover(struct fixture *f)
{
	struct buf err;

	buf_init(&err, 0, 0);
	assert_int_equal(queue_recover(f->q, &err), 0);
	buf_clear(&err);
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	queue_free(&f->q);
	assert_null(f->q);
	spool_close(&f->sp);
	event_base_free(f->base);
	(void)nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* Runs the loop and the spool's callbacks for a while. */
static void
spin(struct fixture *f, int ms)
{
	int i;

	for (i = 0; i < ms / 5; i++) {
		(void)event_base_loop(f->base, EVLOOP_NONBLOCK);
		spool_dispatch(f->sp);
		(void)usleep(5000);
	}
}

/* Spins until cond(f) holds, at most 10 s. */
static void
spin_until(struct fixture *f, bool (*cond)(struct fixture *), const char *what)
{
	int i;

	for (i = 0; i < 2000; i++) {
		if (cond(f))
			return;
		spin(f, 5);
	}
	fail_msg("timed out waiting for %s", what);
}

struct msg_spec {
	const char *from;
	const char *const *remotes;	/* NULL-terminated, "user@domain" */
	bool local;			/* bob and carol @example.com */
	time_t age;			/* seconds before now */
	unsigned received;		/* Received: fields in the header */
};

/* The envelope and content that s describes, for a spool writer. */
static void
build_spec(const struct msg_spec *s, struct envelope *env_r,
    struct buf *content_r)
{
	struct envelope env;
	struct buf content;
	size_t i;

	envelope_init(&env);
	free(env.from);
	env.from = xstrdup(s->from != NULL ? s->from : "");
	if (s->local) {
		envelope_add_rcpt(&env, "bob@example.com");
		envelope_add_target(&env, true, "bob@example.com",
		    "example.com", "bob", env.n_rcpts - 1);
		envelope_add_rcpt(&env, "carol@example.com");
		envelope_add_target(&env, true, "carol@example.com",
		    "example.com", "carol", env.n_rcpts - 1);
	}
	for (i = 0; s->remotes != NULL && s->remotes[i] != NULL; i++) {
		const char *at = strchr(s->remotes[i], '@');

		envelope_add_rcpt(&env, s->remotes[i]);
		envelope_add_target(&env, false, s->remotes[i], at + 1, "x",
		    env.n_rcpts - 1);
	}
	env.arrival = time(NULL) - s->age;
	buf_init(&content, 0, 0);
	for (i = 0; i < s->received; i++)
		assert_int_equal(buf_printf(&content, "Received: from h%zu by "
		    "x;\r\n\tdate\r\n", i), 0);
	assert_int_equal(buf_append_str(&content, "Subject: t\r\n\r\n"
	    "Received: in the body does not count\r\nhi\r\n"), 0);
	*env_r = env;
	*content_r = content;
}

static void
commit_spec(struct fixture *f, const struct msg_spec *s, char id[32])
{
	struct spool_writer *w;
	struct envelope env;
	struct buf content;
	int result = -1;

	build_spec(s, &env, &content);
	w = spool_writer_new(f->sp, id);
	assert_non_null(w);
	assert_int_equal(spool_writer_write(w, content.data, content.len), 0);
	spool_writer_commit(w, &env, on_commit, &result);
	while (result == -1) {
		(void)usleep(1000);
		spool_dispatch(f->sp);
	}
	assert_int_equal(result, 0);
	buf_clear(&content);
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

static size_t
count_queue(const struct fixture *f)
{
	char path[160];
	struct dirent *de;
	size_t n = 0;
	DIR *d;

	(void)snprintf(path, sizeof(path), "%s/queue", f->spool);
	d = opendir(path);
	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.' && strchr(de->d_name, '.') == NULL)
			n++;
	(void)closedir(d);
	return n;
}

/* The journaled status of target i of id. */
static struct spool_target_status
status_of(struct fixture *f, const char *id, size_t i, size_t n,
    bool *warned_r)
{
	struct spool_target_status ts[8], r;
	struct spool_status st = { .targets = ts, .n_targets = n };

	assert_true(n <= 8);
	assert_int_equal(spool_status_load(f->sp, id, &st), 0);
	assert_int_equal(st.n_bad, 0);
	if (warned_r != NULL)
		*warned_r = st.delay_warned;
	r = ts[i];
	return r;
}

static size_t
count(const char *text, const char *needle)
{
	size_t n = 0;

	while ((text = strstr(text, needle)) != NULL) {
		n++;
		text++;
	}
	return n;
}

static bool
bob_and_carol(struct fixture *f)
{
	return count_new(f, "bob") >= 1 && count_new(f, "carol") >= 1;
}

static bool
one_job(struct fixture *f)
{
	return f->n_jobs >= 1;
}

static bool
two_jobs(struct fixture *f)
{
	return f->n_jobs >= 2;
}

static bool
queue_empty(struct fixture *f)
{
	return count_queue(f) == 0;
}

static const char *const dave[] = { "dave@remote.test", NULL };

/* Local targets are delivered; a remote one in flight keeps the message. */
static void
test_remote_target_keeps_message(void **state)
{
	struct fixture *f = *state;
	const struct msg_spec s = { .local = true, .remotes = dave };
	struct spool_target_status ts;
	char id[32];

	commit_spec(f, &s, id);
	start(f);
	queue_submit(f->q, id);
	spin_until(f, bob_and_carol, "local delivery");
	spin_until(f, one_job, "the remote job");
	spin(f, 50);
	assert_true(message_exists(f, id));
	assert_int_equal(status_of(f, id, 0, 3, NULL).state,
	    SPOOL_TARGET_DELIVERED);
	assert_int_equal(status_of(f, id, 1, 3, NULL).state,
	    SPOOL_TARGET_DELIVERED);
	ts = status_of(f, id, 2, 3, NULL);
	assert_int_equal(ts.state, SPOOL_TARGET_PENDING);
	assert_string_equal(f->jobs[0].queue_id, id);
	assert_string_equal(f->jobs[0].domain, "remote.test");
	assert_string_equal(f->jobs[0].rcpts[0], "dave@remote.test");
	assert_non_null(strstr(f->jobs[0].content, "Subject: t\r\n"));

	/* After a restart: the remote is tried again, no second copies. */
	queue_free(&f->q);
	f->n_jobs = 0;
	start(f);
	recover(f);
	spin_until(f, one_job, "the remote job after restart");
	spin(f, 100);
	assert_int_equal(f->n_jobs, 1);
	assert_int_equal(count_new(f, "bob"), 1);
	assert_int_equal(count_new(f, "carol"), 1);
	answer(f, 0, DELIVER_OK, "2.0.0", "250 2.0.0 ok");
	spin_until(f, queue_empty, "removal");
	assert_false(message_exists(f, id));
}

static void
test_all_local_message_is_removed(void **state)
{
	struct fixture *f = *state;
	const struct msg_spec s = { .local = true };
	char id[32];

	commit_spec(f, &s, id);
	start(f);
	queue_submit(f->q, id);
	spin_until(f, queue_empty, "removal");
	assert_false(message_exists(f, id));
	assert_int_equal(count_new(f, "bob"), 1);
	assert_int_equal(count_new(f, "carol"), 1);
	assert_int_equal(f->n_jobs, 0);
}

/* A local TEMPFAIL defers both targets, journaled with the backoff. */
static void
test_tempfail_defers(void **state)
{
	struct fixture *f = *state;
	const struct msg_spec s = { .local = true };
	struct spool_target_status ts;
	time_t before = time(NULL);
	char id[32];
	FILE *fp;

	commit_spec(f, &s, id);
	/* A file where the mailroot should be: every delivery defers. */
	fp = fopen(f->mailroot, "w");
	assert_non_null(fp);
	(void)fclose(fp);
	start(f);
	queue_submit(f->q, id);
	spin(f, 300);
	assert_true(message_exists(f, id));
	ts = status_of(f, id, 0, 2, NULL);
	assert_int_equal(ts.state, SPOOL_TARGET_DEFERRED);
	assert_int_equal(ts.attempts, 1);
	assert_true(ts.next_attempt >= before + 300);
	assert_true(ts.next_attempt <= time(NULL) + 300);
	assert_string_equal(ts.dsn, "4.2.0");
	assert_int_equal(status_of(f, id, 1, 2, NULL).state,
	    SPOOL_TARGET_DEFERRED);
}

/* Startup: recovery submits what is spooled; a reload config is used. */
static void
test_recover_submits(void **state)
{
	struct fixture *f = *state;
	const struct msg_spec s = { .local = true };
	struct config other;
	char id1[32], id2[32];

	commit_spec(f, &s, id1);
	commit_spec(f, &s, id2);
	start(f);
	other = f->cfg;
	other.hostname = f->hostname2;
	queue_set_config(f->q, &other);
	recover(f);
	spin_until(f, queue_empty, "removal");
	queue_set_config(f->q, &f->cfg);
	assert_false(message_exists(f, id1));
	assert_false(message_exists(f, id2));
	assert_int_equal(count_new(f, "bob"), 2);
	assert_int_equal(count_new(f, "carol"), 2);
	assert_true(all_named_for(f, "reloaded"));
}

/* One job per (message, domain), carrying all of that domain's rcpts. */
static void
test_grouping_per_domain(void **state)
{
	struct fixture *f = *state;
	static const char *const rcpts[] = { "a1@a.test", "b1@b.test",
		"a2@A.test", NULL };
	const struct msg_spec s = { .from = "s@example.net", .remotes = rcpts };
	struct job *ja, *jb;
	char id[32];

	commit_spec(f, &s, id);
	start(f);
	queue_submit(f->q, id);
	spin_until(f, two_jobs, "two jobs");
	spin(f, 50);
	assert_int_equal(f->n_jobs, 2);
	ja = strcmp(f->jobs[0].domain, "a.test") == 0 ? &f->jobs[0] :
	    &f->jobs[1];
	jb = ja == &f->jobs[0] ? &f->jobs[1] : &f->jobs[0];
	assert_string_equal(ja->domain, "a.test");
	assert_int_equal(ja->n_rcpts, 2);
	assert_string_equal(ja->rcpts[0], "a1@a.test");
	assert_string_equal(ja->rcpts[1], "a2@A.test");
	assert_string_equal(ja->from, "s@example.net");
	assert_string_equal(jb->domain, "b.test");
	assert_int_equal(jb->n_rcpts, 1);
	answer(f, 0, DELIVER_OK, "2.0.0", "250 ok");
	spin(f, 20);
	assert_true(message_exists(f, id));
	answer(f, 1, DELIVER_OK, "2.0.0", "250 ok");
	spin_until(f, queue_empty, "removal");
}

/* 5xx: the target fails and the sender gets an RFC 3464 bounce. */
static void
test_permfail_bounces(void **state)
{
	struct fixture *f = *state;
	const struct msg_spec s = { .from = "s@example.net", .remotes = dave };
	struct spool_target_status ts;
	struct job *b;
	char id[32];

	commit_spec(f, &s, id);
	start(f);
	queue_submit(f->q, id);
	spin_until(f, one_job, "the job");
	answer(f, 0, DELIVER_PERMFAIL, "5.1.1",
	    "550 5.1.1 <dave@remote.test>: no such user");
	spin_until(f, two_jobs, "the bounce's job");
	/* The original is gone once its bounce is durable. */
	spin(f, 50);
	assert_false(message_exists(f, id));
	b = &f->jobs[1];
	assert_string_equal(b->from, "");
	assert_string_equal(b->domain, "example.net");
	assert_int_equal(b->n_rcpts, 1);
	assert_string_equal(b->rcpts[0], "s@example.net");
	assert_non_null(strstr(b->content, "From: Mail Delivery System "
	    "<MAILER-DAEMON@mx.example.com>\r\n"));
	assert_non_null(strstr(b->content, "To: <s@example.net>\r\n"));
	assert_non_null(strstr(b->content, "\r\nAction: failed\r\n"));
	assert_non_null(strstr(b->content, "\r\nStatus: 5.1.1\r\n"));
	assert_non_null(strstr(b->content,
	    "\r\nFinal-Recipient: rfc822;dave@remote.test\r\n"));
	assert_non_null(strstr(b->content,
	    "\r\nRemote-MTA: dns; mx.remote.test\r\n"));
	assert_non_null(strstr(b->content, "\r\nDiagnostic-Code: smtp; 550 "
	    "5.1.1 <dave@remote.test>: no such user\r\n"));
	assert_non_null(strstr(b->content, "\r\nSubject: t\r\n"));
	/* The bounce itself fails: never a bounce of a bounce. */
	answer(f, 1, DELIVER_PERMFAIL, "5.1.1", "550 5.1.1 no such user");
	spin_until(f, queue_empty, "removal of the bounce");
	spin(f, 50);
	assert_int_equal(f->n_jobs, 2);
	ts = status_of(f, f->jobs[1].queue_id, 0, 1, NULL);
	(void)ts;
}

/* A failure of a message from <> is dropped, logged, not bounced. */
static void
test_null_sender_no_bounce(void **state)
{
	struct fixture *f = *state;
	const struct msg_spec s = { .from = "", .remotes = dave };
	char id[32];

	commit_spec(f, &s, id);
	start(f);
	queue_submit(f->q, id);
	spin_until(f, one_job, "the job");
	answer(f, 0, DELIVER_PERMFAIL, "5.1.1", "550 5.1.1 no");
	spin_until(f, queue_empty, "removal");
	spin(f, 50);
	assert_int_equal(f->n_jobs, 1);
}

/* More Received fields than max_received: 5.4.6 for all, no attempt. */
static void
test_loop_fails_all(void **state)
{
	struct fixture *f = *state;
	const struct msg_spec s = { .from = "s@example.net", .remotes = dave,
		.local = true, .received = 6 };
	char id[32];

	commit_spec(f, &s, id);
	start(f);
	queue_submit(f->q, id);
	spin_until(f, one_job, "the bounce's job");
	spin(f, 50);
	assert_int_equal(f->n_jobs, 1);
	assert_string_equal(f->jobs[0].from, "");
	assert_string_equal(f->jobs[0].rcpts[0], "s@example.net");
	assert_int_equal(count_new(f, "bob"), 0);
	assert_int_equal(count_new(f, "carol"), 0);
	assert_int_equal(count(f->jobs[0].content, "\r\nStatus: 5.4.6\r\n"),
	    3);
	assert_non_null(strstr(f->jobs[0].content,
	    "mail loop: too many Received headers"));
	assert_false(message_exists(f, id));
}

/* Exactly max_received is still fine. */
static void
test_loop_limit_is_inclusive(void **state)
{
	struct fixture *f = *state;
	const struct msg_spec s = { .from = "s@example.net", .local = true,
		.received = 5 };
	char id[32];

	commit_spec(f, &s, id);
	start(f);
	queue_submit(f->q, id);
	spin_until(f, queue_empty, "removal");
	assert_int_equal(count_new(f, "bob"), 1);
	assert_int_equal(f->n_jobs, 0);
}

/* A TEMPFAIL after max_age is a failure, 4.4.7, bounced. */
static void
test_expiry(void **state)
{
	struct fixture *f = *state;
	const struct msg_spec s = { .from = "s@example.net", .remotes = dave,
		.age = 5 * 86400 + 10 };
	char id[32];

	f->cfg.delay_warning = 0;
	commit_spec(f, &s, id);
	start(f);
	queue_submit(f->q, id);
	spin_until(f, one_job, "the job");
	answer(f, 0, DELIVER_TEMPFAIL, "4.2.0", "451 4.2.0 try later");
	spin_until(f, two_jobs, "the bounce's job");
	assert_non_null(strstr(f->jobs[1].content, "\r\nStatus: 4.4.7\r\n"));
	assert_non_null(strstr(f->jobs[1].content, "\r\nAction: failed\r\n"));
	assert_non_null(strstr(f->jobs[1].content, "delivery time expired; "
	    "last error: 451 4.2.0 try later"));
	spin(f, 50);
	assert_false(message_exists(f, id));
}

/* After delay_warning, one "Action: delayed" notice, journaled once. */
static void
test_delay_warning_once(void **state)
{
	struct fixture *f = *state;
	const struct msg_spec s = { .from = "s@example.net", .remotes = dave,
		.age = 5 * 3600 };
	struct spool_target_status ts;
	bool warned = false;
	char id[32];

	commit_spec(f, &s, id);
	start(f);
	queue_submit(f->q, id);
	spin_until(f, one_job, "the job");
	answer(f, 0, DELIVER_TEMPFAIL, "4.4.1", "connection refused");
	spin_until(f, two_jobs, "the warning's job");
	spin(f, 100);
	assert_int_equal(f->n_jobs, 2);
	assert_non_null(strstr(f->jobs[1].content, "\r\nAction: delayed\r\n"));
	assert_non_null(strstr(f->jobs[1].content, "\r\nStatus: 4.4.1\r\n"));
	assert_non_null(strstr(f->jobs[1].content, "Will-Retry-Until: "));
	ts = status_of(f, id, 0, 1, &warned);
	assert_true(warned);
	assert_int_equal(ts.state, SPOOL_TARGET_DEFERRED);
	assert_true(message_exists(f, id));
	/* A restart does not warn again. */
	queue_free(&f->q);
	f->n_jobs = 0;
	start(f);
	recover(f);
	spin(f, 200);
	/* Only the warning itself (still queued) goes out again. */
	assert_int_equal(f->n_jobs, 1);
	assert_string_equal(f->jobs[0].from, "");
}

/* max_connections_per_domain = 1: the second job waits for the first. */
static void
test_domain_limit(void **state)
{
	struct fixture *f = *state;
	const struct msg_spec s = { .from = "s@example.net", .remotes = dave };
	char id1[32], id2[32];

	f->cfg.max_connections_per_domain = 1;
	commit_spec(f, &s, id1);
	commit_spec(f, &s, id2);
	start(f);
	queue_submit(f->q, id1);
	queue_submit(f->q, id2);
	spin_until(f, one_job, "the first job");
	spin(f, 100);
	assert_int_equal(f->n_jobs, 1);
	answer(f, 0, DELIVER_OK, "2.0.0", "250 ok");
	spin_until(f, two_jobs, "the second job");
	assert_string_equal(f->jobs[1].queue_id, id2);
	answer(f, 1, DELIVER_OK, "2.0.0", "250 ok");
	spin_until(f, queue_empty, "removal");
}

/* A journaled failure whose bounce never went out is bounced at start. */
static void
test_recover_pending_bounce(void **state)
{
	struct fixture *f = *state;
	const struct msg_spec s = { .from = "s@example.net", .remotes = dave };
	struct spool_target_status ts;
	char id[32];

	commit_spec(f, &s, id);
	spool_status_target_init(&ts);
	ts.state = SPOOL_TARGET_FAILED;
	ts.attempts = 1;
	(void)snprintf(ts.dsn, sizeof(ts.dsn), "5.7.1");
	(void)snprintf(ts.text, sizeof(ts.text), "550 5.7.1 go away");
	assert_int_equal(spool_status_set_target(f->sp, id, 0, &ts), 0);
	start(f);
	recover(f);
	spin_until(f, one_job, "the bounce's job");
	assert_string_equal(f->jobs[0].from, "");
	assert_non_null(strstr(f->jobs[0].content, "\r\nStatus: 5.7.1\r\n"));
	spin(f, 50);
	assert_false(message_exists(f, id));
}

/* ---- delivery before the reply (queue_deliver_direct) ----------------- */

struct direct {
	int calls;
	bool delivered;
};

static void
on_direct(void *arg, bool delivered)
{
	struct direct *d = arg;

	d->calls++;
	d->delivered = delivered;
}

/* A finished, uncommitted message of spec s: its writer and envelope. */
static struct spool_writer *
stage_spec(struct fixture *f, const struct msg_spec *s, struct envelope *env,
    struct deliver_content *content)
{
	struct spool_writer *w;
	struct buf data;

	build_spec(s, env, &data);
	w = spool_writer_new(f->sp, env->id);
	assert_non_null(w);
	assert_int_equal(spool_writer_write(w, data.data, data.len), 0);
	assert_int_equal(spool_writer_finish(w, env), 0);
	content->fd = spool_writer_content(w, &content->len);
	assert_int_equal(content->len, data.len);
	buf_clear(&data);
	return w;
}

static void
spin_direct(struct fixture *f, struct direct *d)
{
	int i;

	for (i = 0; i < 2000 && d->calls == 0; i++)
		spin(f, 5);
	assert_int_equal(d->calls, 1);
}

/* Starts the queue, stages s and delivers it before the reply. */
static struct spool_writer *
run_direct(struct fixture *f, const struct msg_spec *s, struct envelope *env,
    struct deliver_content *content, struct direct *d)
{
	struct spool_writer *w;

	start(f);
	w = stage_spec(f, s, env, content);
	assert_true(queue_deliver_direct(f->q, env, content, on_direct, d));
	spin_direct(f, d);
	return w;
}

/* Every local copy is made before the reply; the spool keeps nothing. */
static void
test_direct_delivers(void **state)
{
	struct fixture *f = *state;
	const struct msg_spec s = { .local = true };
	struct deliver_content content;
	struct queue_stats st;
	struct direct d = { 0 };
	struct spool_writer *w;
	struct envelope env;
	size_t n;

	w = run_direct(f, &s, &env, &content, &d);
	assert_true(d.delivered);
	assert_int_equal(count_new(f, "bob"), 1);
	assert_int_equal(count_new(f, "carol"), 1);
	spool_writer_discard(&w);
	assert_null(w);
	assert_int_equal(count_queue(f), 0);
	queue_get_stats(f->q, &st, &n);
	assert_int_equal(st.delivered, 2);
	assert_int_equal(n, 0);
	envelope_clear(&env);
}

/* Remote targets and scheduled messages take the spool's way. */
static void
test_direct_refuses(void **state)
{
	struct fixture *f = *state;
	const struct msg_spec s = { .local = true, .remotes = dave };
	const struct msg_spec local = { .local = true };
	struct deliver_content content;
	struct direct d = { 0 };
	struct spool_writer *w;
	struct envelope env;

	start(f);
	w = stage_spec(f, &s, &env, &content);
	assert_false(queue_deliver_direct(f->q, &env, &content, on_direct, &d));
	spool_writer_abort(&w);
	envelope_clear(&env);
	w = stage_spec(f, &local, &env, &content);
	env.hold_until = time(NULL) + 3600;
	assert_false(queue_deliver_direct(f->q, &env, &content, on_direct, &d));
	spool_writer_abort(&w);
	envelope_clear(&env);
	spin(f, 50);
	assert_int_equal(d.calls, 0);
	assert_int_equal(count_new(f, "bob"), 0);
}

/*
 * A mail loop (more Received fields than max_received) is found by the
 * worker: nothing is delivered, and the caller commits it for the
 * queue's loop check.
 */
static void
test_direct_loop_declined(void **state)
{
	struct fixture *f = *state;
	const struct msg_spec s = { .local = true, .received = 6 };
	struct deliver_content content;
	struct queue_stats st;
	struct direct d = { 0 };
	struct spool_writer *w;
	struct envelope env;
	size_t n;

	w = run_direct(f, &s, &env, &content, &d);
	assert_false(d.delivered);
	assert_int_equal(count_new(f, "bob") + count_new(f, "carol"), 0);
	queue_get_stats(f->q, &st, &n);
	assert_int_equal(st.deferred + st.delivered, 0);
	spool_writer_abort(&w);
	envelope_clear(&env);
}

/*
 * With the workers' backlog full, new messages are refused (the caller
 * queues them); once the jobs are collected, they are taken again.
 */
static void
test_direct_backlog(void **state)
{
	enum { TRIES = 400 };
	struct fixture *f = *state;
	const struct msg_spec s = { .local = true };
	struct envelope *envs = xcalloc(TRIES + 1, sizeof(*envs));
	struct deliver_content content;
	struct direct d = { 0 };
	struct spool_writer *w;
	struct buf data;
	int accepted = 0, i;

	start(f);
	w = stage_spec(f, &s, &envs[TRIES], &content);
	for (i = 0; i < TRIES; i++) {
		build_spec(&s, &envs[i], &data);
		buf_clear(&data);
		/* Distinct ids, so distinct Maildir names. */
		(void)snprintf(envs[i].id, sizeof(envs[i].id), "%024x", i + 1);
		if (!queue_deliver_direct(f->q, &envs[i], &content, on_direct,
		        &d))
			break;
		accepted++;
	}
	assert_true(accepted > 0);
	assert_true(accepted < TRIES);
	for (i = 0; i < 4000 && d.calls < accepted; i++)
		spin(f, 5);
	assert_int_equal(d.calls, accepted);
	assert_true(d.delivered);
	assert_true(queue_deliver_direct(f->q, &envs[TRIES], &content,
	    on_direct, &d));
	for (i = 0; i < 2000 && d.calls < accepted + 1; i++)
		spin(f, 5);
	assert_int_equal(d.calls, accepted + 1);
	assert_int_equal(count_new(f, "bob"), accepted + 1);
	spool_writer_discard(&w);
	for (i = 0; i <= TRIES; i++)
		envelope_clear(&envs[i]);
	free(envs);
}

/*
 * One copy fails (carol's new/ is a file): the caller commits and the
 * queue makes the missing copy, finding bob's instead of a second one.
 */
static void
test_direct_partial_failure(void **state)
{
	struct fixture *f = *state;
	const struct msg_spec s = { .local = true };
	struct deliver_content content;
	struct direct d = { 0 };
	struct spool_writer *w;
	struct envelope env;
	char path[256];
	int result = -1;
	FILE *fp;

	assert_int_equal(mkdir(f->mailroot, 0700), 0);
	(void)snprintf(path, sizeof(path), "%s/example.com", f->mailroot);
	assert_int_equal(mkdir(path, 0700), 0);
	(void)snprintf(path, sizeof(path), "%s/example.com/carol", f->mailroot);
	assert_int_equal(mkdir(path, 0700), 0);
	(void)snprintf(path, sizeof(path), "%s/example.com/carol/new",
	    f->mailroot);
	fp = fopen(path, "w");
	assert_non_null(fp);
	(void)fclose(fp);
	w = run_direct(f, &s, &env, &content, &d);
	assert_false(d.delivered);
	assert_int_equal(count_new(f, "bob"), 1);
	assert_int_equal(unlink(path), 0);
	spool_writer_commit(w, &env, on_commit, &result);
	while (result == -1) {
		(void)usleep(1000);
		spool_dispatch(f->sp);
	}
	assert_int_equal(result, 0);
	queue_submit_tried(f->q, env.id);
	spin_until(f, queue_empty, "the queue to deliver carol's copy");
	assert_int_equal(count_new(f, "bob"), 1);
	assert_int_equal(count_new(f, "carol"), 1);
	envelope_clear(&env);
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
		    test_tempfail_defers, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_recover_submits, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_grouping_per_domain, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_permfail_bounces, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_null_sender_no_bounce, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_loop_fails_all, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_loop_limit_is_inclusive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_delay_warning_once, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_domain_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_recover_pending_bounce, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_direct_delivers, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_direct_refuses, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_direct_backlog, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_direct_loop_declined, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_direct_partial_failure, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
