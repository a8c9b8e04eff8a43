/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for the spool: write, group commit and read back; abort;
 * write errors; recovery; the status journal; and the envelope record
 * (round trip with hostile values, rejection of damaged records).  The
 * commit path is driven by poll(2) on spool_notify_fd().
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
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/envelope.h"
#include "core/xalloc.h"
#include "spool/spool.h"
#include "spool/spool_envelope.h"
#include "spool/spool_status.h"

struct fixture {
	char dir[64];
	struct spool *sp;
};

struct commit_result {
	int calls;
	int error;
};

static void
on_commit(void *arg, int error)
{
	struct commit_result *r = arg;

	r->calls++;
	r->error = error;
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int
setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	struct buf err;

	(void)snprintf(f->dir, sizeof(f->dir), "/tmp/tern-spool-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
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

	spool_close(&f->sp);
	assert_null(f->sp);
	(void)nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* Dispatches until *calls reaches want, failing after 10 s. */
static void
wait_commits(struct spool *sp, const int *calls, int want)
{
	int rounds = 0;

	while (*calls < want) {
		struct pollfd pfd = {
		    .fd = spool_notify_fd(sp), .events = POLLIN};

		assert_true(rounds++ < 100);
		if (poll(&pfd, 1, 100) > 0)
			spool_dispatch(sp);
	}
}

/* Number of entries in <dir>/<sub>, without . and .. */
static int
count_dir(const char *dir, const char *sub)
{
	char path[128];
	struct dirent *de;
	int n = 0;
	DIR *d;

	(void)snprintf(path, sizeof(path), "%s/%s", dir, sub);
	d = opendir(path);
	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	(void)closedir(d);
	return n;
}

static void
sample_envelope(struct envelope *env)
{
	envelope_init(env);
	free(env->from);
	env->from = xstrdup("alice@example.org");
	envelope_add_rcpt(env, "bob@example.com");
	envelope_add_rcpt(env, "carol@remote.test");
	envelope_add_target(
	    env, true, "bob@example.com", "example.com", "bob", 0);
	envelope_add_target(
	    env, false, "carol@remote.test", "remote.test", "Carol", 1);
	env->body = ENVELOPE_BODY_8BITMIME;
	env->smtputf8 = true;
	env->arrival = 1700000000;
	env->helo = xstrdup("client.example.org");
	env->client_addr = xstrdup("192.0.2.7");
}

static void
assert_envelope_equal(const struct envelope *a, const struct envelope *b)
{
	size_t i;

	assert_string_equal(a->id, b->id);
	assert_string_equal(a->from, b->from);
	assert_int_equal(a->n_rcpts, b->n_rcpts);
	for (i = 0; i < a->n_rcpts; i++)
		assert_string_equal(a->rcpts[i], b->rcpts[i]);
	assert_int_equal(a->n_targets, b->n_targets);
	for (i = 0; i < a->n_targets; i++) {
		assert_int_equal(
		    a->targets[i].is_local, b->targets[i].is_local);
		assert_string_equal(
		    a->targets[i].address, b->targets[i].address);
		assert_string_equal(a->targets[i].domain, b->targets[i].domain);
		assert_string_equal(
		    a->targets[i].localpart, b->targets[i].localpart);
		assert_int_equal(
		    a->targets[i].rcpt_index, b->targets[i].rcpt_index);
	}
	assert_int_equal(a->body, b->body);
	assert_int_equal(a->smtputf8, b->smtputf8);
	assert_int_equal(a->arrival, b->arrival);
#define OPT_EQUAL(x, y)                                                        \
	do {                                                                   \
		if ((x) == NULL)                                               \
			assert_null(y);                                        \
		else                                                           \
			assert_string_equal((x), (y));                         \
	} while (0)
	OPT_EQUAL(a->helo, b->helo);
	OPT_EQUAL(a->client_addr, b->client_addr);
	OPT_EQUAL(a->auth_user, b->auth_user);
}

/* Writes content (in pieces of step bytes) and commits; returns error. */
static int
commit_message(struct spool *sp, const struct envelope *env,
    const uint8_t *content, size_t len, size_t step, char id[32])
{
	struct commit_result r = {0};
	struct spool_writer *w;
	size_t off;

	w = spool_writer_new(sp, id);
	assert_non_null(w);
	for (off = 0; off < len; off += step) {
		size_t n = len - off < step ? len - off : step;

		assert_int_equal(spool_writer_write(w, content + off, n), 0);
	}
	spool_writer_commit(w, env, on_commit, &r);
	assert_int_equal(r.calls, 0); /* never from inside commit */
	wait_commits(sp, &r.calls, 1);
	assert_int_equal(r.calls, 1);
	return r.error;
}

static uint8_t *
make_content(size_t len)
{
	uint8_t *p = xmalloc(len);
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 31 + i / 7);
	return p;
}

static void
read_all(int fd, uint8_t *p, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = read(fd, p + off, len - off);

		assert_true(n > 0);
		off += (size_t)n;
	}
}

static void
test_commit_read_back(void **state)
{
	struct fixture *f = *state;
	static const size_t sizes[] = {0, 1, 4096, 65536, 300000};
	static const size_t steps[] = {1, 7, 1000, 100000};
	size_t i;

	for (i = 0; i < N_ELEMENTS(sizes); i++) {
		size_t step = steps[i % N_ELEMENTS(steps)];
		struct envelope env, back;
		uint8_t *content = make_content(sizes[i]), *got;
		uint64_t len;
		char id[32];
		int fd;

		sample_envelope(&env);
		if (sizes[i] == 1)
			step = 1;
		assert_int_equal(
		    commit_message(f->sp, &env, content, sizes[i], step, id),
		    0);
		assert_int_equal(strlen(id), 24);
		memcpy(env.id, id, sizeof(env.id));
		assert_int_equal(spool_read_envelope(f->sp, id, &back), 0);
		assert_envelope_equal(&env, &back);
		fd = spool_open_content(f->sp, id, &len);
		assert_true(fd >= 0);
		assert_int_equal(len, sizes[i]);
		got = xmalloc(sizes[i] + 1);
		read_all(fd, got, sizes[i]);
		assert_memory_equal(got, content, sizes[i]);
		(void)close(fd);
		free(got);
		free(content);
		envelope_clear(&back);
		envelope_clear(&env);
	}
	assert_int_equal(count_dir(f->dir, "tmp"), 0);
	assert_int_equal(count_dir(f->dir, "queue"), (int)N_ELEMENTS(sizes));
}

/*
 * Commits content as a new message that must take over the spare with
 * inode ino, and checks that the message holds exactly that content.
 */
static void
commit_over_spare(struct fixture *f, const struct envelope *env,
    const char *content, ino_t ino, char id_r[32])
{
	size_t n = strlen(content);
	char path[256], back[64];
	struct stat st;
	uint64_t len;
	int fd;

	assert_true(n < sizeof(back));
	assert_int_equal(commit_message(f->sp, env, (const uint8_t *)content,
	    n, n, id_r), 0);
	assert_int_equal(count_dir(f->dir, "tmp"), 0);
	(void)snprintf(path, sizeof(path), "%s/queue/%s", f->dir, id_r);
	assert_int_equal(stat(path, &st), 0);
	assert_true(st.st_ino == ino);
	fd = spool_open_content(f->sp, id_r, &len);
	assert_true(fd != -1);
	assert_true(len == n);
	read_all(fd, (uint8_t *)back, n);
	assert_memory_equal(back, content, n);
	(void)close(fd);
}

static void
test_abort_leaves_nothing(void **state)
{
	struct fixture *f = *state;
	struct spool_writer *w;
	char id[32];

	w = spool_writer_new(f->sp, id);
	assert_non_null(w);
	assert_int_equal(count_dir(f->dir, "tmp"), 1);
	assert_int_equal(spool_writer_write(w, "hello\r\n", 7), 0);
	spool_writer_abort(&w);
	assert_null(w);
	spool_writer_abort(&w); /* NULL is fine */
	assert_int_equal(count_dir(f->dir, "tmp"), 0);
	assert_int_equal(count_dir(f->dir, "queue"), 0);
}

/*
 * A message delivered before the reply leaves its file as a spare ("r"
 * and its id) that the next writer overwrites and commits from: the
 * same inode, and only the new bytes.
 */
static void
test_discard_keeps_spare(void **state)
{
	struct fixture *f = *state;
	struct spool_writer *w;
	struct envelope env;
	char id[32], id2[32], path[256];
	struct stat st1;
	uint64_t len;
	int fd;

	sample_envelope(&env);
	w = spool_writer_new(f->sp, id);
	assert_non_null(w);
	assert_int_equal(spool_writer_write(w, "a longer old message\r\n",
	    22), 0);
	assert_int_equal(spool_writer_finish(w, &env), 0);
	fd = spool_writer_content(w, &len);
	assert_true(fd != -1);
	assert_true(len == 22);
	spool_writer_discard(&w);
	assert_null(w);
	(void)snprintf(path, sizeof(path), "%s/tmp/r%s", f->dir, id);
	assert_int_equal(stat(path, &st1), 0);
	assert_int_equal(count_dir(f->dir, "tmp"), 1);
	assert_int_equal(count_dir(f->dir, "queue"), 0);
	commit_over_spare(f, &env, "hi\r\n", st1.st_ino, id2);
	envelope_clear(&env);
}

/* Many commits in flight at once: all durable, ids unique and sorted. */
static void
test_group_commit_many(void **state)
{
	struct fixture *f = *state;
	enum { N = 200 };
	struct commit_result r[N];
	char ids[N][32];
	struct envelope env;
	int i, calls = 0;

	memset(r, 0, sizeof(r));
	sample_envelope(&env);
	for (i = 0; i < N; i++) {
		struct spool_writer *w = spool_writer_new(f->sp, ids[i]);

		assert_non_null(w);
		assert_int_equal(spool_writer_write(w, "x\r\n", 3), 0);
		spool_writer_commit(w, &env, on_commit, &r[i]);
		if (i > 0)
			assert_true(strcmp(ids[i - 1], ids[i]) < 0);
	}
	while (calls < N) {
		struct pollfd pfd = {
		    .fd = spool_notify_fd(f->sp), .events = POLLIN};

		assert_true(poll(&pfd, 1, 10000) > 0);
		spool_dispatch(f->sp);
		for (calls = 0, i = 0; i < N; i++)
			calls += r[i].calls;
	}
	for (i = 0; i < N; i++) {
		assert_int_equal(r[i].calls, 1);
		assert_int_equal(r[i].error, 0);
	}
	assert_int_equal(count_dir(f->dir, "queue"), N);
	envelope_clear(&env);
}

/* A write error reaches the commit callback; the tmp file goes away. */
static void
test_write_error_fails_commit(void **state)
{
	struct fixture *f = *state;
	struct commit_result r = {0};
	struct spool_writer *w;
	struct rlimit old, lim;
	struct envelope env;
	uint8_t *big = make_content(200000);
	char id[32];
	int rc;

	sample_envelope(&env);
	(void)signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = 100000;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	w = spool_writer_new(f->sp, id);
	assert_non_null(w);
	rc = spool_writer_write(w, big, 200000);
	assert_int_equal(rc, -1);
	assert_int_equal(errno, EFBIG);
	/* Sticky: later writes fail too. */
	assert_int_equal(spool_writer_write(w, "x", 1), -1);
	spool_writer_commit(w, &env, on_commit, &r);
	wait_commits(f->sp, &r.calls, 1);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	assert_int_equal(r.error, EFBIG);
	assert_int_equal(count_dir(f->dir, "tmp"), 0);
	assert_int_equal(count_dir(f->dir, "queue"), 0);
	free(big);
	envelope_clear(&env);
}

static void
test_status_and_remove(void **state)
{
	struct fixture *f = *state;
	struct envelope env;
	bool done[3];
	char id[32];

	sample_envelope(&env);
	assert_int_equal(
	    commit_message(f->sp, &env, (const uint8_t *)"a", 1, 1, id), 0);
	assert_int_equal(spool_status_read(f->sp, id, done, 3), 0);
	assert_false(done[0] || done[1] || done[2]);
	assert_int_equal(spool_status_set_done(f->sp, id, 2), 0);
	assert_int_equal(spool_status_set_done(f->sp, id, 0), 0);
	assert_int_equal(spool_status_set_done(f->sp, id, 7), 0);
	assert_int_equal(spool_status_read(f->sp, id, done, 3), 0);
	assert_true(done[0]);
	assert_false(done[1]);
	assert_true(done[2]);
	assert_int_equal(count_dir(f->dir, "queue"), 2);
	assert_int_equal(spool_remove(f->sp, id), 0);
	assert_int_equal(count_dir(f->dir, "queue"), 0);
	assert_int_equal(spool_remove(f->sp, id), -1);
	assert_int_equal(errno, ENOENT);
	/* Ids are file names: anything else is refused. */
	assert_int_equal(spool_remove(f->sp, "../../etc/passwd"), -1);
	assert_int_equal(errno, EINVAL);
	envelope_clear(&env);
	assert_int_equal(spool_read_envelope(f->sp, "queue", &env), -1);
	assert_int_equal(errno, EINVAL);
}

/* One process per spool: a second open of the directory is refused. */
static void
test_spool_locked(void **state)
{
	struct fixture *f = *state;
	struct spool *sp2 = NULL;
	struct buf err;

	buf_init(&err, 0, 0);
	assert_int_equal(spool_open(f->dir, &sp2, &err), -1);
	assert_null(sp2);
	assert_non_null(strstr(buf_cstr(&err), "another tern is running"));
	buf_clear(&err);
}

/*
 * A removed message becomes a spare in tmp/ that the next writer takes
 * over (same inode, old bytes gone); a large one is simply unlinked.
 */
static void
test_remove_keeps_spare(void **state)
{
	struct fixture *f = *state;
	struct envelope env;
	uint8_t *big = make_content(300 * 1024);
	char id[32], id2[32], path[256];
	struct stat st1;

	sample_envelope(&env);
	assert_int_equal(commit_message(f->sp, &env,
	    (const uint8_t *)"old content", 11, 11, id), 0);
	(void)snprintf(path, sizeof(path), "%s/queue/%s", f->dir, id);
	assert_int_equal(stat(path, &st1), 0);
	assert_int_equal(spool_remove(f->sp, id), 0);
	assert_int_equal(count_dir(f->dir, "queue"), 0);
	assert_int_equal(count_dir(f->dir, "tmp"), 1);
	commit_over_spare(f, &env, "new", st1.st_ino, id2);
	assert_int_equal(spool_remove(f->sp, id2), 0);
	/* A file above the spare limit goes for good. */
	assert_int_equal(commit_message(f->sp, &env, big, 300 * 1024,
	    65536, id), 0);
	assert_int_equal(count_dir(f->dir, "tmp"), 0);
	assert_int_equal(spool_remove(f->sp, id), 0);
	assert_int_equal(count_dir(f->dir, "tmp"), 0);
	free(big);
	envelope_clear(&env);
}

/*
 * A journal append cut short (the disk filled up; here RLIMIT_FSIZE) is
 * taken back whole: otherwise the next record would be glued to the torn
 * line and lost with it.
 */
static void
test_status_short_append(void **state)
{
	struct fixture *f = *state;
	struct spool_target_status in, out[2];
	struct spool_status st = {0};
	struct rlimit old, lim;
	struct envelope env;
	struct stat sb;
	char id[32], path[160];
	off_t size;

	sample_envelope(&env);
	assert_int_equal(
	    commit_message(f->sp, &env, (const uint8_t *)"a", 1, 1, id), 0);
	spool_status_target_init(&in);
	in.state = SPOOL_TARGET_DEFERRED;
	in.attempts = 1;
	memcpy(in.dsn, "4.3.1", 6);
	memcpy(in.text, "mail system full", 17);
	assert_int_equal(spool_status_set_target(f->sp, id, 0, &in), 0);
	(void)snprintf(path, sizeof(path), "%s/queue/%s.st", f->dir, id);
	assert_int_equal(stat(path, &sb), 0);
	size = sb.st_size;

	(void)signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = (rlim_t)size + 10;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	in.attempts = 2;
	assert_int_equal(spool_status_set_target(f->sp, id, 1, &in), -1);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_size, size);

	in.state = SPOOL_TARGET_DELIVERED;
	in.attempts = 3;
	memcpy(in.dsn, "2.0.0", 6);
	assert_int_equal(spool_status_set_target(f->sp, id, 1, &in), 0);
	st.targets = out;
	st.n_targets = 2;
	assert_int_equal(spool_status_load(f->sp, id, &st), 0);
	assert_int_equal(st.n_bad, 0);
	assert_int_equal(out[0].state, SPOOL_TARGET_DEFERRED);
	assert_int_equal(out[1].state, SPOOL_TARGET_DELIVERED);
	assert_int_equal(out[1].attempts, 3);
	envelope_clear(&env);
}

struct recovered {
	char ids[8][32];
	int n;
};

static void
on_recovered(void *arg, const char *id)
{
	struct recovered *r = arg;

	assert_true(r->n < 8);
	(void)snprintf(r->ids[r->n++], 32, "%s", id);
}

static void
write_file(const char *dir, const char *sub, const char *name, const void *p,
    size_t len)
{
	char path[160];
	int fd;

	(void)snprintf(path, sizeof(path), "%s/%s/%s", dir, sub, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, p, len), (ssize_t)len);
	(void)close(fd);
}

static size_t
read_file(
    const char *dir, const char *sub, const char *name, uint8_t *p, size_t cap)
{
	char path[160];
	ssize_t n;
	int fd;

	(void)snprintf(path, sizeof(path), "%s/%s/%s", dir, sub, name);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	n = read(fd, p, cap);
	assert_true(n > 0 && (size_t)n < cap);
	(void)close(fd);
	return (size_t)n;
}

static void
test_recover(void **state)
{
	struct fixture *f = *state;
	struct recovered rec = {0};
	char good1[32], good2[32], trunc[32], flip[32], badid[32], st[40];
	struct envelope env;
	uint8_t file[8192];
	struct buf err;
	size_t len;

	sample_envelope(&env);
	assert_int_equal(commit_message(f->sp, &env, (const uint8_t *)"one\r\n",
	                     5, 5, good1),
	    0);
	assert_int_equal(commit_message(f->sp, &env, (const uint8_t *)"two\r\n",
	                     5, 5, trunc),
	    0);
	assert_int_equal(commit_message(f->sp, &env,
	                     (const uint8_t *)"three\r\n", 7, 7, flip),
	    0);
	assert_int_equal(commit_message(f->sp, &env,
	                     (const uint8_t *)"four\r\n", 6, 6, good2),
	    0);
	assert_int_equal(commit_message(f->sp, &env,
	                     (const uint8_t *)"five\r\n", 6, 6, badid),
	    0);

	/* Truncated: the trailer is cut off. */
	len = read_file(f->dir, "queue", trunc, file, sizeof(file));
	write_file(f->dir, "queue", trunc, file, len - 10);
	/* One byte of the envelope changed: the checksum catches it. */
	len = read_file(f->dir, "queue", flip, file, sizeof(file));
	file[20] ^= 0x01;
	write_file(f->dir, "queue", flip, file, len);
	/* A whole file, but under another id's name. */
	len = read_file(f->dir, "queue", badid, file, sizeof(file));
	write_file(f->dir, "queue", "00000000000000000000000a", file, len);
	/* Leftovers: a half-written message and an orphan status file. */
	write_file(f->dir, "tmp", "0123456789abcdef01234567", "partial", 7);
	(void)snprintf(st, sizeof(st), "%s.st", "00000000000000000000000b");
	write_file(f->dir, "queue", st, "0\n", 2);
	assert_int_equal(spool_status_set_done(f->sp, good2, 0), 0);

	buf_init(&err, 0, 0);
	assert_int_equal(
	    spool_recover(f->sp, on_recovered, NULL, &rec, &err), 0);
	buf_clear(&err);
	assert_int_equal(rec.n, 3);
	assert_string_equal(rec.ids[0], good1);
	assert_string_equal(rec.ids[1], good2);
	assert_string_equal(rec.ids[2], badid);
	assert_int_equal(count_dir(f->dir, "tmp"), 0);
	/* good1, good2, good2.st, badid */
	assert_int_equal(count_dir(f->dir, "queue"), 4);
	assert_int_equal(count_dir(f->dir, "corrupt"), 3);
	envelope_clear(&env);
}

/* ---- envelope record ------------------------------------------------- */

static void
roundtrip(const struct envelope *env)
{
	struct envelope back;
	struct buf rec, err;

	buf_init(&rec, 0, 0);
	buf_init(&err, 0, 0);
	assert_int_equal(spool_envelope_format(&rec, env), 0);
	if (spool_envelope_parse(rec.data, rec.len, &back, &err) != 0)
		fail_msg("parse: %s", buf_cstr(&err));
	/* Success leaves no reason behind. */
	assert_int_equal(err.len, 0);
	assert_envelope_equal(env, &back);
	envelope_clear(&back);
	buf_clear(&rec);
	buf_clear(&err);
}

static void
test_envelope_roundtrip_hostile(void **state)
{
	struct envelope env;
	char *all, *longv;
	size_t i;

	(void)state;
	sample_envelope(&env);
	(void)snprintf(env.id, sizeof(env.id), "0123456789abcdef01234567");
	roundtrip(&env);

	/* Every byte but NUL, in every string field. */
	all = xmalloc(256);
	for (i = 1; i < 256; i++)
		all[i - 1] = (char)i;
	all[255] = '\0';
	longv = xmalloc(60001);
	memset(longv, '\n', 60000);
	longv[60000] = '\0';
	free(env.helo);
	env.helo = xstrdup("evil\r\nend\nhelo 3:abc\n");
	env.auth_user = xstrdup(all);
	free(env.client_addr);
	env.client_addr = xstrdup(longv);
	envelope_add_rcpt(&env, all);
	envelope_add_rcpt(&env, "");
	envelope_add_target(&env, true, all, "\n", "-", 99999);
	env.arrival = 0;
	env.body = ENVELOPE_BODY_BINARYMIME;
	roundtrip(&env);

	/* Absent optional fields are not the same as empty ones. */
	free(env.helo);
	env.helo = NULL;
	free(env.auth_user);
	env.auth_user = xstrdup("");
	roundtrip(&env);
	free(all);
	free(longv);
	envelope_clear(&env);

	/* Null sender, no recipients. */
	envelope_init(&env);
	roundtrip(&env);
	envelope_clear(&env);
}

static void
test_envelope_reject_truncated(void **state)
{
	struct envelope env, back;
	struct buf rec;
	size_t cut;

	(void)state;
	sample_envelope(&env);
	buf_init(&rec, 0, 0);
	assert_int_equal(spool_envelope_format(&rec, &env), 0);
	/* Every proper prefix is rejected, and so is one byte more. */
	for (cut = 0; cut < rec.len; cut++)
		assert_int_equal(
		    spool_envelope_parse(rec.data, cut, &back, NULL), -1);
	assert_int_equal(buf_append(&rec, "\n", 1), 0);
	assert_int_equal(
	    spool_envelope_parse(rec.data, rec.len, &back, NULL), -1);
	buf_clear(&rec);
	envelope_clear(&env);
}

#define HEAD "tern-envelope 1\nid 1:x\n"
#define TAIL                                                                   \
	"body 7bit\nsmtputf8 0\narrival 5\nhelo -\nclient_addr -\n"            \
	"auth_user -\nend\n"

static const struct {
	const char *name;
	const char *rec;
	const char *error; /* expected in the reason */
} envelope_invalid[] = {
    {.name = "empty", .rec = "", .error = "offset 0"},
    {.name = "magic", .rec = "tern-envelope 2\n", .error = "offset 0"},
    {.name = "length past end",
        .rec = HEAD "from 99:a\n",
        .error = "runs past"},
    {.name = "length short",
        .rec = HEAD "from 1:ab\nrcpts 0\n"
                    "targets 0\n" TAIL,
        .error = "offset 31: bad or missing"},
    {.name = "leading zero",
        .rec = HEAD "from 01:a\n",
        .error = "out of range"},
    {.name = "huge length",
        .rec = HEAD "from 99999999999999999999999:",
        .error = "out of range"},
    {.name = "value too long",
        .rec = HEAD "from 65537:",
        .error = "out of range"},
    {.name = "null from", .rec = HEAD "from -\n", .error = "number"},
    {.name = "too many rcpts",
        .rec = HEAD "from 0:\nrcpts 100001\n",
        .error = "out of range"},
    {.name = "missing rcpt",
        .rec = HEAD "from 0:\nrcpts 1\n"
                    "targets 0\n" TAIL,
        .error = "bad or missing"},
    {.name = "target kind",
        .rec = HEAD "from 0:\nrcpts 0\ntargets 1\n"
                    "target other 0 0: 0: 0:\n" TAIL,
        .error = "bad target kind"},
    {.name = "body",
        .rec = HEAD "from 0:\nrcpts 0\ntargets 0\n"
                    "body 9bit\n",
        .error = "unknown body"},
    {.name = "smtputf8 2",
        .rec = HEAD "from 0:\nrcpts 0\ntargets 0\n"
                    "body 7bit\nsmtputf8 2\n",
        .error = "out of range"},
    {.name = "negative arrival",
        .rec = HEAD "from 0:\nrcpts 0\n"
                    "targets 0\nbody 7bit\nsmtputf8 0\narrival -5\n",
        .error = "number expected"},
    {.name = "id too long",
        .rec = "tern-envelope 1\n"
               "id 32:01234567890123456789012345678901\n",
        .error = "id too long"},
    {.name = "trailing",
        .rec = HEAD "from 0:\nrcpts 0\ntargets 0\n" TAIL "x",
        .error = "trailing"},
    {.name = "CRLF", .rec = "tern-envelope 1\r\n", .error = "offset 0"},
};

static void
test_envelope_reject_table(void **state)
{
	struct envelope env;
	struct buf err;
	size_t i;

	(void)state;
	/* The frame used by the table parses when nothing is broken. */
	assert_int_equal(
	    spool_envelope_parse((const uint8_t *)HEAD
	        "from 0:\nrcpts 0\ntargets 0\n" TAIL,
	        strlen(HEAD "from 0:\nrcpts 0\ntargets 0\n" TAIL), &env, NULL),
	    0);
	assert_string_equal(env.id, "x");
	envelope_clear(&env);
	for (i = 0; i < N_ELEMENTS(envelope_invalid); i++) {
		const char *r = envelope_invalid[i].rec;

		buf_init(&err, 0, 0);
		if (spool_envelope_parse(
		        (const uint8_t *)r, strlen(r), &env, &err) != -1)
			fail_msg("%s: accepted", envelope_invalid[i].name);
		if (strstr(buf_cstr(&err), envelope_invalid[i].error) == NULL)
			fail_msg("%s: reason \"%s\"", envelope_invalid[i].name,
			    buf_cstr(&err));
		assert_null(env.from);
		buf_clear(&err);
	}
	/* A NUL inside a value. */
	assert_int_equal(
	    spool_envelope_parse((const uint8_t *)HEAD "from 1:\0\n",
	        sizeof(HEAD "from 1:\0\n") - 1, &env, NULL),
	    -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_commit_read_back, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_abort_leaves_nothing, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_discard_keeps_spare, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_group_commit_many, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_write_error_fails_commit, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_status_and_remove, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_remove_keeps_spare, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_spool_locked, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_status_short_append, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_recover, setup, teardown),
	    cmocka_unit_test(test_envelope_roundtrip_hostile),
	    cmocka_unit_test(test_envelope_reject_truncated),
	    cmocka_unit_test(test_envelope_reject_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
