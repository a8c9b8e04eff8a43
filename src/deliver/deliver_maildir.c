/* SPDX-License-Identifier: ISC */
/*
 * The Maildir agent (https://cr.yp.to/proto/maildir.html): write into
 * tmp/, fsync, link into new/, fsync new/.  The file name is fixed per
 * (spool id, target), "<arrival>.T<id>_<target>.<host>", so delivery
 * is exactly once across crashes: a retry finds new/<name> or
 * cur/<name>:2,<flags> and stops.  Prepends Return-Path (RFC 5321
 * 4.4) and Delivered-To; stores LF line ends, as Maildir readers expect.
 */
#include "deliver/deliver.h"
#include "deliver/deliver_private.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/envelope.h"
#include "core/log.h"
#include "core/str.h"
#include "core/xalloc.h"
#include "spool/spool.h"

#define DELIVER_MAILDIR_IO_BYTES ((size_t)64 * 1024)
/* Room left for the host part of a file name (NAME_MAX is 255). */
#define DELIVER_MAILDIR_HOST_MAX_BYTES 120

const struct deliver_agent deliver_maildir_agent = {
    .name = "maildir",
    .deliver = deliver_maildir,
};

/* The open directories of one mailbox. */
struct deliver_maildir_box {
	int tmp_fd, new_fd, cur_fd;
};

/* A domain or local part is one path component, nothing more. */
static bool
deliver_maildir_is_safe_name(const char *s)
{
	if (s == NULL || *s == '\0' || strcmp(s, ".") == 0 ||
	    strcmp(s, "..") == 0)
		return false;
	for (; *s != '\0'; s++)
		if (*s == '/' || (unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

/*
 * "<arrival>.T<id>_<target>.<host>": unique, fixed for a given delivery,
 * and with '/' and ':' in the host name written "\057" and "\072" as
 * the Maildir spec asks.
 */
static void
deliver_maildir_name(struct buf *name, const struct deliver_request *req)
{
	const char *h = req->hostname != NULL && *req->hostname != '\0'
	    ? req->hostname
	    : "localhost";
	size_t start;

	if (buf_printf(name, "%" PRIu64 ".T%s_%zu.",
	        (uint64_t)(req->env->arrival > 0 ? req->env->arrival : 0),
	        req->env->id, req->target) == -1)
		log_panic("deliver: file name too long");
	start = name->len;
	for (; *h != '\0' && name->len - start < DELIVER_MAILDIR_HOST_MAX_BYTES;
	     h++) {
		int rc;

		if (*h == '/')
			rc = buf_append_str(name, "\\057");
		else if (*h == ':')
			rc = buf_append_str(name, "\\072");
		else
			rc = buf_append(name, h, 1);
		if (rc == -1)
			log_panic("deliver: file name too long");
	}
}

/*
 * The mailbox of req's target, "<mailroot>/<domain>/<localpart>", and
 * the file name of this delivery; -1 when the domain or local part is
 * not usable as a single path component.
 */
static int
deliver_maildir_where(const struct deliver_request *req, struct buf *path,
    struct buf *name)
{
	const struct envelope_target *t = &req->env->targets[req->target];

	if (!deliver_maildir_is_safe_name(t->domain) ||
	    !deliver_maildir_is_safe_name(t->localpart))
		return -1;
	if (buf_printf(path, "%s/%s/%s", req->mailroot, t->domain,
	        t->localpart) == -1)
		log_panic("deliver: path buffer");
	deliver_maildir_name(name, req);
	return 0;
}

/* mkdir, and on success fsync the parent so the new entry is durable. */
static int
deliver_maildir_mkdir(const char *path)
{
	char *parent;
	char *slash;
	int fd, rc = 0;

	if (mkdir(path, 0700) == -1)
		return errno == EEXIST ? 0 : -1;
	parent = xstrdup(path);
	slash = strrchr(parent, '/');
	if (slash == parent)
		slash[1] = '\0';
	else if (slash != NULL)
		*slash = '\0';
	fd = open(
	    slash != NULL ? parent : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1 || fsync(fd) == -1)
		rc = -1;
	if (fd != -1)
		(void)close(fd);
	free(parent);
	return rc;
}

/* Creates every missing directory of path, mailroot included. */
static int
deliver_maildir_mkdir_p(const char *path)
{
	char *p = xstrdup(path), *s;
	int rc = 0;

	for (s = p + 1; rc == 0 && *s != '\0'; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		rc = deliver_maildir_mkdir(p);
		*s = '/';
	}
	if (rc == 0)
		rc = deliver_maildir_mkdir(p);
	free(p);
	return rc;
}

static void
deliver_maildir_box_close(struct deliver_maildir_box *b)
{
	if (b->tmp_fd != -1)
		(void)close(b->tmp_fd);
	if (b->new_fd != -1)
		(void)close(b->new_fd);
	if (b->cur_fd != -1)
		(void)close(b->cur_fd);
	b->tmp_fd = b->new_fd = b->cur_fd = -1;
}

/* Opens tmp/ new/ cur/ of mailbox path, creating what is missing. */
static int
deliver_maildir_box_open(
    struct deliver_maildir_box *b, const char *path, const char **what_r)
{
	static const char *const subs[] = {"tmp", "new", "cur"};
	int *fds[] = {&b->tmp_fd, &b->new_fd, &b->cur_fd};
	char sub[4096];
	size_t i;
	int e;

	b->tmp_fd = b->new_fd = b->cur_fd = -1;
	for (i = 0; i < N_ELEMENTS(subs); i++) {
		if (snprintf(sub, sizeof(sub), "%s/%s", path, subs[i]) >=
		    (int)sizeof(sub)) {
			errno = ENAMETOOLONG;
			*what_r = "mailbox path";
			goto fail;
		}
		*fds[i] = open(sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (*fds[i] != -1)
			continue;
		if (errno != ENOENT) {
			*what_r = "open mailbox";
			goto fail;
		}
		if (deliver_maildir_mkdir_p(sub) == -1) {
			*what_r = "create mailbox";
			goto fail;
		}
		*fds[i] = open(sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (*fds[i] == -1) {
			*what_r = "open mailbox";
			goto fail;
		}
	}
	return 0;
fail:
	e = errno;
	deliver_maildir_box_close(b);
	errno = e;
	return -1;
}

/*
 * Whether an earlier delivery left new/<name>, or cur/<name>[:flags];
 * *dir_fd_r is then the directory it is in.
 */
static int
deliver_maildir_exists(const struct deliver_maildir_box *b, const char *name,
    bool *exists_r, int *dir_fd_r)
{
	size_t len = strlen(name);
	struct dirent *de;
	struct stat st;
	DIR *d;
	int fd;

	*exists_r = false;
	*dir_fd_r = b->new_fd;
	if (fstatat(b->new_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		*exists_r = true;
		return 0;
	}
	if (errno != ENOENT)
		return -1;
	/* A reader moves new/X to cur/X:2,FLAGS; any flags will do. */
	fd = dup(b->cur_fd);
	if (fd == -1)
		return -1;
	d = fdopendir(fd);
	if (d == NULL) {
		(void)close(fd);
		return -1;
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, name, len) == 0 &&
		    (de->d_name[len] == '\0' || de->d_name[len] == ':')) {
			*exists_r = true;
			*dir_fd_r = b->cur_fd;
			break;
		}
	}
	(void)closedir(d);
	return 0;
}

static int
deliver_maildir_write_all(int fd, const uint8_t *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* A header value fit for one line: control characters become '?'. */
static int
deliver_maildir_header(
    struct buf *out, const char *name, const char *v, bool angle)
{
	if (buf_printf(out, "%s: %s", name, angle ? "<" : "") == -1)
		return -1;
	for (; *v != '\0'; v++) {
		unsigned char u = (unsigned char)*v;
		char ch = u < 0x20 || u == 0x7f ? '?' : *v;

		if (buf_append(out, &ch, 1) == -1)
			return -1;
	}
	return buf_append_str(out, angle ? ">\n" : "\n");
}

/*
 * Copies len bytes of spool content from in (from offset 0, with
 * pread, so a shared descriptor keeps its offset) to out, CRLF → LF (a
 * bare CR is kept).  A CR at the end of a chunk waits for the next one.
 */
static int
deliver_maildir_copy(
    int in, uint64_t len, int out, const struct buf *head, const char **what_r)
{
	uint8_t *ibuf = xmalloc(DELIVER_MAILDIR_IO_BYTES);
	uint8_t *obuf = xmalloc(DELIVER_MAILDIR_IO_BYTES + 1);
	bool cr = false;
	size_t o = 0, i;
	off_t off = 0;
	int rc = -1;

	*what_r = "write mailbox file";
	if (deliver_maildir_write_all(out, head->data, head->len) == -1)
		goto out;
	while (len > 0) {
		size_t want = len < DELIVER_MAILDIR_IO_BYTES
		    ? (size_t)len
		    : DELIVER_MAILDIR_IO_BYTES;
		ssize_t n = pread(in, ibuf, want, off);

		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO; /* spool file shorter than said */
			*what_r = "read spool";
			goto out;
		}
		len -= (uint64_t)n;
		off += n;
		o = 0;
		for (i = 0; i < (size_t)n; i++) {
			if (cr && ibuf[i] != '\n')
				obuf[o++] = '\r';
			cr = ibuf[i] == '\r';
			if (!cr)
				obuf[o++] = ibuf[i];
		}
		if (deliver_maildir_write_all(out, obuf, o) == -1)
			goto out;
	}
	if (cr &&
	    deliver_maildir_write_all(out, (const uint8_t *)"\r", 1) == -1)
		goto out;
	rc = 0;
out:
	free(ibuf);
	free(obuf);
	return rc;
}

/*
 * Links tmp/<name> into new/ and removes the tmp/ name; *dup_r when
 * new/<name> was there already.  -1 with errno.
 */
static int
deliver_maildir_link(int tmp_fd, int new_fd, const char *name, bool *dup_r)
{
	*dup_r = false;
	if (linkat(tmp_fd, name, new_fd, name, 0) == -1) {
		if (errno == EEXIST) {
			*dup_r = true;
		} else if (errno == EPERM || errno == ENOTSUP ||
		    errno == EOPNOTSUPP || errno == EMLINK) {
			/* No hard links here (some network filesystems). */
			if (renameat(tmp_fd, name, new_fd, name) == -1)
				return -1;
			return 0;
		} else {
			return -1;
		}
	}
	(void)unlinkat(tmp_fd, name, 0);
	return 0;
}

/*
 * Writes tmp/<name>.  Alone (req->sync NULL): syncs it, links it into
 * new/ and syncs new/.  In a batch: starts its write-out and hands it
 * to the batch (*pending_r), whose flush does the rest.
 */
static int
deliver_maildir_store(const struct deliver_request *req,
    const struct deliver_maildir_box *b, const char *mailbox,
    const char *name, struct deliver_result *res, bool *dup_r,
    bool *pending_r, const char **what_r)
{
	const struct envelope_target *t = &req->env->targets[req->target];
	struct buf head;
	uint64_t len;
	int in, out = -1, e;

	*dup_r = *pending_r = false;
	if (req->content != NULL) {
		in = req->content->fd;
		len = req->content->len;
	} else {
		in = spool_open_content(req->sp, req->env->id, &len);
	}
	if (in == -1) {
		*what_r = "open spool";
		return -1;
	}
	buf_init(&head, 256, 0);
	/* RFC 5321 4.4: the reverse-path in angle brackets, <> if null. */
	if (deliver_maildir_header(
	        &head, "Return-Path", req->env->from, true) == -1 ||
	    deliver_maildir_header(&head, "Delivered-To", t->address, false) ==
	        -1)
		log_panic("deliver: header buffer");
	/* Ours by name: a stale tmp file of an earlier attempt is reused. */
	out = openat(b->tmp_fd, name,
	    O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out == -1) {
		*what_r = "create mailbox file";
		goto fail;
	}
	if (deliver_maildir_copy(in, len, out, &head, what_r) == -1)
		goto fail;
	if (req->sync != NULL) {
		struct deliver_sync_file f = {
			.req = *req,
			.res = res,
			.fd = out,
			.tmp_fd = dup(b->tmp_fd),
			.new_fd = dup(b->new_fd),
		};

		if (f.tmp_fd != -1 && f.new_fd != -1) {
			/* The batch's files are written out together. */
			(void)sync_file_range(out, 0, 0,
			    SYNC_FILE_RANGE_WRITE);
			f.req.sync = NULL;
			f.name = xstrdup(name);
			f.mailbox = xstrdup(mailbox);
			deliver_sync_add_file(req->sync, &f);
			*pending_r = true;
			goto done;
		}
		if (f.tmp_fd != -1)
			(void)close(f.tmp_fd);
		if (f.new_fd != -1)
			(void)close(f.new_fd);
	}
	*what_r = "sync mailbox file";
	if (fsync(out) == -1)
		goto fail;
	e = close(out);
	out = -1;
	if (e == -1)
		goto fail;
	*what_r = "link into new/";
	if (deliver_maildir_link(b->tmp_fd, b->new_fd, name, dup_r) == -1)
		goto fail;
	*what_r = "sync new/";
	if (fsync(b->new_fd) == -1)
		goto fail;
done:
	buf_clear(&head);
	if (req->content == NULL)
		(void)close(in);
	return 0;
fail:
	e = errno;
	if (out != -1)
		(void)close(out);
	(void)unlinkat(b->tmp_fd, name, 0);
	buf_clear(&head);
	if (req->content == NULL)
		(void)close(in);
	errno = e;
	return -1;
}

static void
deliver_maildir_log(const struct deliver_request *req, const char *mailbox,
    const struct deliver_result *res, const char *note)
{
	const struct envelope_target *t = &req->env->targets[req->target];
	char rcpt[300], box[600], reason[300];
	time_t now = req->now != 0 ? req->now : time(NULL);
	long long delay = (long long)(now - req->env->arrival);

	str_sanitize(rcpt, sizeof(rcpt), t->address, strlen(t->address));
	str_sanitize(box, sizeof(box), mailbox, strlen(mailbox));
	str_sanitize(reason, sizeof(reason), res->text, strlen(res->text));
	if (delay < 0)
		delay = 0;
	if (res->status == DELIVER_OK && note == NULL)
		log_info("%s deliver rcpt=<%s> mailbox=%s status=sent "
		         "dsn=%s delay=%lld",
		    req->env->id, rcpt, box, res->enh, delay);
	else
		log_info("%s deliver rcpt=<%s> mailbox=%s status=%s dsn=%s "
		         "delay=%lld reason=\"%s\"",
		    req->env->id, rcpt, box, deliver_status_name(res->status),
		    res->enh, delay, note != NULL ? note : reason);
}

void
deliver_maildir(const struct deliver_request *req, struct deliver_result *res)
{
	const struct envelope_target *t;
	struct deliver_maildir_box box;
	const char *what = "";
	const char *note = NULL;
	struct buf path, name;
	bool exists = false, pending = false;
	int found_fd = -1;

	ASSERT(req->target < req->env->n_targets);
	t = &req->env->targets[req->target];
	ASSERT(t->is_local);
	buf_init(&path, 256, 0);
	buf_init(&name, 128, 0);
	if (deliver_maildir_where(req, &path, &name) == -1) {
		deliver_result_set(res, DELIVER_PERMFAIL, "5.1.3",
		    "mailbox name unusable as a directory");
		(void)!buf_append_str(&path, "-");
		goto out;
	}
	if (deliver_maildir_box_open(&box, buf_cstr(&path), &what) == -1) {
		deliver_result_errno(res, errno, what);
		goto out;
	}
	if (req->check_existing && deliver_maildir_exists(&box,
	        buf_cstr(&name), &exists, &found_fd) == -1) {
		deliver_result_errno(res, errno, "look for earlier copy");
	} else if (exists) {
		/* A crash between link and unlink left our tmp/ name. */
		(void)unlinkat(box.tmp_fd, buf_cstr(&name), 0);
		deliver_result_set(res, DELIVER_OK, "2.0.0", "already there");
		note = "already delivered";
		/* The attempt that made it may have failed to sync it. */
		if ((req->sync == NULL ||
		        deliver_sync_add(req->sync, found_fd, res) == -1) &&
		    fsync(found_fd) == -1)
			deliver_result_errno(res, errno,
			    "sync mailbox directory");
	} else if (deliver_maildir_store(req, &box, buf_cstr(&path),
	               buf_cstr(&name), res, &exists, &pending, &what) == -1) {
		deliver_result_errno(res, errno, what);
	} else {
		deliver_result_set(res, DELIVER_OK, "2.0.0", "delivered");
		if (exists)
			note = "already delivered";
	}
	deliver_maildir_box_close(&box);
out:
	/* A file handed to the batch is logged when the flush finishes it. */
	if (!pending)
		deliver_maildir_log(req, buf_cstr(&path), res, note);
	buf_clear(&path);
	buf_clear(&name);
}

void
deliver_maildir_finish(struct deliver_sync *s, struct deliver_sync_file *f)
{
	const char *what = "sync mailbox file";
	const char *note = NULL;
	bool dup = false;
	int rc;

	rc = fsync(f->fd);
	if (close(f->fd) == -1 && rc == 0)
		rc = -1;
	if (rc == 0) {
		what = "link into new/";
		rc = deliver_maildir_link(f->tmp_fd, f->new_fd, f->name, &dup);
	}
	if (rc == -1) {
		int e = errno;

		(void)unlinkat(f->tmp_fd, f->name, 0);
		deliver_result_errno(f->res, e, what);
	} else {
		if (dup)
			note = "already delivered";
		/* new/ is synced once for the batch, after every link. */
		if (deliver_sync_add(s, f->new_fd, f->res) == -1 &&
		    fsync(f->new_fd) == -1)
			deliver_result_errno(f->res, errno, "sync new/");
	}
	deliver_maildir_log(&f->req, f->mailbox, f->res, note);
	(void)close(f->tmp_fd);
	(void)close(f->new_fd);
	free(f->name);
	free(f->mailbox);
}

void
deliver_maildir_forget(const struct deliver_request *req)
{
	struct buf path, name;
	int fd = -1;

	if (!req->env->targets[req->target].is_local)
		return;
	buf_init(&path, 256, 0);
	buf_init(&name, 128, 0);
	if (deliver_maildir_where(req, &path, &name) == 0 &&
	    buf_append_str(&path, "/tmp") == 0)
		fd = open(buf_cstr(&path), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd != -1) {
		if (unlinkat(fd, buf_cstr(&name), 0) == 0)
			log_info("%s deliver removed a copy cut off in %s",
			    req->env->id, buf_cstr(&path));
		(void)close(fd);
	}
	buf_clear(&path);
	buf_clear(&name);
}
