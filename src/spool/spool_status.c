/* SPDX-License-Identifier: ISC */
/*
 * The per-message status journal <spool>/queue/<id>.st: records
 * appended with one O_APPEND write(2) each, the last per target wins
 * (docs/spool.md).  Not fsynced: a crash may forget recent records, and
 * those targets are then tried again, which local delivery makes
 * harmless (fixed Maildir names) and remote delivery turns into at most
 * one duplicate.  The line grammar is parsed here strictly; the queue
 * decides what the states mean.
 */
#include "spool/spool_status.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "spool/spool.h"
#include "spool/spool_private.h"

/* A record as parsed from one line. */
enum spool_status_kind {
	SPOOL_STATUS_DONE,	/* "<n>": delivered (the first format) */
	SPOOL_STATUS_TARGET,	/* "t ...": a target's whole status */
	SPOOL_STATUS_BOUNCED,	/* "b <n>" */
	SPOOL_STATUS_WARNED,	/* "w" */
	SPOOL_STATUS_HOLD,	/* "h 0|1" */
	SPOOL_STATUS_RELEASE,	/* "r <time>" */
};

static const char *const spool_status_states[] = {
	[SPOOL_TARGET_PENDING] = "pending",
	[SPOOL_TARGET_DEFERRED] = "deferred",
	[SPOOL_TARGET_DELIVERED] = "delivered",
	[SPOOL_TARGET_FAILED] = "failed",
};

void
spool_status_target_init(struct spool_target_status *ts)
{
	memset(ts, 0, sizeof(*ts));
	ts->state = SPOOL_TARGET_PENDING;
}

const char *
spool_status_state_name(enum spool_target_state state)
{
	switch (state) {
	case SPOOL_TARGET_PENDING:
	case SPOOL_TARGET_DEFERRED:
	case SPOOL_TARGET_DELIVERED:
	case SPOOL_TARGET_FAILED:
		return spool_status_states[state];
	}
	log_panic("spool_status_state_name: %d", (int)state);
}

/* Appends "<len>:<bytes>" with bytes made printable and cut to max. */
static int
spool_status_put_text(struct buf *out, const char *s, size_t max)
{
	size_t len = strnlen(s, max), i;
	int rc;

	rc = buf_printf(out, " %zu:", len);
	for (i = 0; rc == 0 && i < len; i++) {
		char ch = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';

		rc = buf_append(out, &ch, 1);
	}
	return rc;
}

/* An enhanced status code "c.s.d" (RFC 3463), 1-3 digits per part. */
static bool
spool_status_is_dsn(const char *s, size_t len)
{
	size_t i, digits = 0, dots = 0;

	if (len < 5 || len > 11 || (s[0] < '2' || s[0] > '5') || s[1] != '.')
		return false;
	for (i = 0; i < len; i++) {
		if (s[i] >= '0' && s[i] <= '9') {
			if (++digits > 3)
				return false;
		} else if (s[i] == '.' && digits > 0 && dots < 2) {
			dots++;
			digits = 0;
		} else {
			return false;
		}
	}
	return dots == 2 && digits > 0;
}

int
spool_status_format_target(struct buf *out, size_t target,
    const struct spool_target_status *ts)
{
	const char *dsn = ts->dsn;

	if (!spool_status_is_dsn(dsn, strnlen(dsn, sizeof(ts->dsn))))
		dsn = "-";
	if (buf_printf(out, "t %zu %s %u %lld %lld %s", target,
	    spool_status_state_name(ts->state), (unsigned)ts->attempts,
	    (long long)ts->next_attempt, (long long)ts->last_attempt,
	    dsn) == -1 ||
	    spool_status_put_text(out, ts->remote_mta,
	    SPOOL_STATUS_MTA_MAX_BYTES) == -1 ||
	    spool_status_put_text(out, ts->text,
	    SPOOL_STATUS_TEXT_MAX_BYTES) == -1)
		return -1;
	return buf_append(out, "\n", 1);
}

int
spool_status_format_bounced(struct buf *out, size_t target)
{
	return buf_printf(out, "b %zu\n", target);
}

int
spool_status_format_warned(struct buf *out)
{
	return buf_append(out, "w\n", 2);
}

int
spool_status_format_held(struct buf *out, bool held)
{
	return buf_append(out, held ? "h 1\n" : "h 0\n", 4);
}

int
spool_status_format_release(struct buf *out, int64_t release_at)
{
	if (release_at < 0 || release_at > SPOOL_STATUS_TIME_MAX)
		return -1;
	return buf_printf(out, "r %lld\n", (long long)release_at);
}

/* A cursor over one line, without its '\n'. */
struct spool_status_cur {
	const uint8_t *p;
	const uint8_t *end;
};

/* A decimal number in [0, max], no sign, no leading zero; 0 or -1. */
static int
spool_status_num(struct spool_status_cur *c, uint64_t max, uint64_t *v_r)
{
	const uint8_t *start = c->p;
	uint64_t v = 0;

	while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
		uint64_t d = (uint64_t)(*c->p - '0');

		if (d > max || v > (max - d) / 10)
			return -1;
		v = v * 10 + d;
		c->p++;
	}
	if (c->p == start || (*start == '0' && c->p - start > 1))
		return -1;
	*v_r = v;
	return 0;
}

static int
spool_status_sp(struct spool_status_cur *c)
{
	if (c->p >= c->end || *c->p != ' ')
		return -1;
	c->p++;
	return 0;
}

/* A word of [a-z0-9.-] up to the next blank. */
static int
spool_status_word(struct spool_status_cur *c, const uint8_t **w_r,
    size_t *len_r)
{
	const uint8_t *start = c->p;

	while (c->p < c->end && *c->p != ' ')
		c->p++;
	*w_r = start;
	*len_r = (size_t)(c->p - start);
	return *len_r > 0 ? 0 : -1;
}

/* " <len>:<bytes>" into out[max + 1]; printable ASCII only. */
static int
spool_status_text(struct spool_status_cur *c, char *out, size_t max)
{
	uint64_t len;
	size_t i;

	if (spool_status_sp(c) == -1 || spool_status_num(c, max, &len) == -1 ||
	    c->p >= c->end || *c->p != ':')
		return -1;
	c->p++;
	if ((uint64_t)(c->end - c->p) < len)
		return -1;
	for (i = 0; i < len; i++) {
		if (c->p[i] < 0x20 || c->p[i] >= 0x7f)
			return -1;
		out[i] = (char)c->p[i];
	}
	out[len] = '\0';
	c->p += len;
	return 0;
}

/* The fields of a "t" line after "t". */
static int
spool_status_parse_target(struct spool_status_cur *c, uint64_t *target_r,
    struct spool_target_status *ts)
{
	const uint8_t *w;
	uint64_t v;
	size_t len, i;

	spool_status_target_init(ts);
	if (spool_status_sp(c) == -1 ||
	    spool_status_num(c, UINT32_MAX, target_r) == -1 ||
	    spool_status_sp(c) == -1 || spool_status_word(c, &w, &len) == -1)
		return -1;
	for (i = 0; i < N_ELEMENTS(spool_status_states); i++) {
		if (strlen(spool_status_states[i]) == len &&
		    memcmp(spool_status_states[i], w, len) == 0)
			break;
	}
	if (i == N_ELEMENTS(spool_status_states))
		return -1;
	ts->state = (enum spool_target_state)i;
	if (spool_status_sp(c) == -1 ||
	    spool_status_num(c, SPOOL_STATUS_ATTEMPTS_MAX, &v) == -1)
		return -1;
	ts->attempts = (uint32_t)v;
	if (spool_status_sp(c) == -1 ||
	    spool_status_num(c, SPOOL_STATUS_TIME_MAX, &v) == -1)
		return -1;
	ts->next_attempt = (int64_t)v;
	if (spool_status_sp(c) == -1 ||
	    spool_status_num(c, SPOOL_STATUS_TIME_MAX, &v) == -1)
		return -1;
	ts->last_attempt = (int64_t)v;
	if (spool_status_sp(c) == -1 || spool_status_word(c, &w, &len) == -1)
		return -1;
	if (!(len == 1 && w[0] == '-')) {
		if (!spool_status_is_dsn((const char *)w, len))
			return -1;
		memcpy(ts->dsn, w, len);
		ts->dsn[len] = '\0';
	}
	if (spool_status_text(c, ts->remote_mta,
	    SPOOL_STATUS_MTA_MAX_BYTES) == -1 ||
	    spool_status_text(c, ts->text, SPOOL_STATUS_TEXT_MAX_BYTES) == -1)
		return -1;
	return c->p == c->end ? 0 : -1;
}

/* One line without its '\n'; 0 with the record, or -1. */
static int
spool_status_parse_line(const uint8_t *p, size_t len,
    enum spool_status_kind *kind_r, uint64_t *target_r,
    struct spool_target_status *ts)
{
	struct spool_status_cur c = { p, p + len };

	if (len == 0 || len > SPOOL_STATUS_LINE_MAX_BYTES)
		return -1;
	if (p[0] >= '0' && p[0] <= '9') {
		*kind_r = SPOOL_STATUS_DONE;
		return spool_status_num(&c, UINT32_MAX, target_r) == 0 &&
		    c.p == c.end ? 0 : -1;
	}
	c.p++;
	switch (p[0]) {
	case 'w':
		*kind_r = SPOOL_STATUS_WARNED;
		return len == 1 ? 0 : -1;
	case 'b':
		*kind_r = SPOOL_STATUS_BOUNCED;
		return spool_status_sp(&c) == 0 &&
		    spool_status_num(&c, UINT32_MAX, target_r) == 0 &&
		    c.p == c.end ? 0 : -1;
	case 't':
		*kind_r = SPOOL_STATUS_TARGET;
		return spool_status_parse_target(&c, target_r, ts);
	case 'h':
		*kind_r = SPOOL_STATUS_HOLD;
		return spool_status_sp(&c) == 0 &&
		    spool_status_num(&c, 1, target_r) == 0 &&
		    c.p == c.end ? 0 : -1;
	case 'r':
		*kind_r = SPOOL_STATUS_RELEASE;
		return spool_status_sp(&c) == 0 &&
		    spool_status_num(&c, SPOOL_STATUS_TIME_MAX, target_r) ==
		    0 && c.p == c.end ? 0 : -1;
	default:
		return -1;
	}
}

void
spool_status_parse(const uint8_t *data, size_t len, struct spool_status *st)
{
	struct spool_target_status *ts = xmalloc(sizeof(*ts));
	const uint8_t *p = data, *end = data + len, *nl;
	enum spool_status_kind kind;
	uint64_t target = 0;

	while (p < end && (nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		if (spool_status_parse_line(p, (size_t)(nl - p), &kind,
		    &target, ts) == -1) {
			st->n_bad++;
		} else if (kind == SPOOL_STATUS_WARNED) {
			st->delay_warned = true;
		} else if (kind == SPOOL_STATUS_HOLD) {
			st->held = target == 1;
		} else if (kind == SPOOL_STATUS_RELEASE) {
			st->has_release = true;
			st->release_at = (int64_t)target;
		} else if (target < st->n_targets) {
			struct spool_target_status *t = &st->targets[target];

			switch (kind) {
			case SPOOL_STATUS_DONE:
				spool_status_target_init(t);
				t->state = SPOOL_TARGET_DELIVERED;
				break;
			case SPOOL_STATUS_TARGET:
				*t = *ts;
				if (st->on_target != NULL)
					st->on_target(st->on_target_arg,
					    (size_t)target, ts);
				break;
			case SPOOL_STATUS_BOUNCED:
				t->bounced = true;
				break;
			case SPOOL_STATUS_WARNED:
			case SPOOL_STATUS_HOLD:
			case SPOOL_STATUS_RELEASE:
				break;
			}
		}
		p = nl + 1;
	}
	free(ts);
}

static int
spool_status_name(const char *id, char name[SPOOL_ID_LEN + 4])
{
	if (!spool_id_is_valid(id)) {
		errno = EINVAL;
		return -1;
	}
	(void)snprintf(name, SPOOL_ID_LEN + 4, "%s%s", id, SPOOL_STATUS_SUFFIX);
	return 0;
}

/*
 * Appends bytes to the journal of id with one O_APPEND write (more only
 * if it is cut short).  If the rest cannot be written either (the disk
 * is full), the torn part is truncated away: the next record would
 * otherwise be glued to it and be lost with it.  Only the loop thread
 * writes journals, so the file's end is where this write began.
 */
static int
spool_status_append(struct spool *sp, const char *id, const void *data,
    size_t len)
{
	char name[SPOOL_ID_LEN + 4];
	const uint8_t *p = data;
	struct stat sb;
	size_t done = 0;
	ssize_t n = 0;
	int fd, e;

	if (spool_status_name(id, name) == -1)
		return -1;
	fd = openat(sp->queue_fd, name,
	    O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd == -1)
		return -1;
	while (done < len) {
		n = write(fd, p + done, len - done);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	if (done == len) {
		(void)close(fd);
		return 0;
	}
	e = n == 0 ? EIO : errno;
	if (done > 0 &&
	    (fstat(fd, &sb) == -1 ||
	        ftruncate(fd, sb.st_size - (off_t)done) == -1))
		log_warn("%s spool cannot take back a torn status record: %s",
		    id, strerror(errno));
	(void)close(fd);
	errno = e;
	return -1;
}

/* Appends the line in b and frees b. */
static int
spool_status_append_buf(struct spool *sp, const char *id, struct buf *b,
    int formatted)
{
	int rc = -1;

	if (formatted == -1)
		errno = EOVERFLOW;
	else
		rc = spool_status_append(sp, id, b->data, b->len);
	buf_clear(b);
	return rc;
}

int
spool_status_set_done(struct spool *sp, const char *id, size_t target)
{
	char line[32];
	int len;

	len = snprintf(line, sizeof(line), "%zu\n", target);
	return spool_status_append(sp, id, line, (size_t)len);
}

int
spool_status_set_target(struct spool *sp, const char *id, size_t target,
    const struct spool_target_status *ts)
{
	struct buf b;

	buf_init(&b, 128, SPOOL_STATUS_LINE_MAX_BYTES + 1);
	return spool_status_append_buf(sp, id, &b,
	    spool_status_format_target(&b, target, ts));
}

int
spool_status_set_bounced(struct spool *sp, const char *id, size_t target)
{
	struct buf b;

	buf_init(&b, 32, 0);
	return spool_status_append_buf(sp, id, &b,
	    spool_status_format_bounced(&b, target));
}

int
spool_status_set_warned(struct spool *sp, const char *id)
{
	return spool_status_append(sp, id, "w\n", 2);
}

int
spool_status_set_held(struct spool *sp, const char *id, bool held)
{
	return spool_status_append(sp, id, held ? "h 1\n" : "h 0\n", 4);
}

int
spool_status_set_release(struct spool *sp, const char *id, int64_t release_at)
{
	struct buf b;

	buf_init(&b, 32, 0);
	return spool_status_append_buf(sp, id, &b,
	    spool_status_format_release(&b, release_at));
}

int
spool_status_load(struct spool *sp, const char *id, struct spool_status *st)
{
	char name[SPOOL_ID_LEN + 4];
	struct buf b;
	uint8_t chunk[4096];
	ssize_t got;
	size_t i;
	int fd, e;

	for (i = 0; i < st->n_targets; i++)
		spool_status_target_init(&st->targets[i]);
	st->delay_warned = false;
	st->held = false;
	st->has_release = false;
	st->release_at = 0;
	st->n_bad = 0;
	if (spool_status_name(id, name) == -1)
		return -1;
	fd = openat(sp->queue_fd, name, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return errno == ENOENT ? 0 : -1;
	buf_init(&b, sizeof(chunk), SPOOL_STATUS_MAX_BYTES);
	for (;;) {
		got = read(fd, chunk, sizeof(chunk));
		if (got == -1 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		if (buf_append(&b, chunk, (size_t)got) == -1) {
			got = -1;
			errno = EFBIG;
			break;
		}
	}
	e = errno;
	(void)close(fd);
	if (got == -1) {
		buf_clear(&b);
		errno = e;
		return -1;
	}
	spool_status_parse(b.data, b.len, st);
	buf_clear(&b);
	return 0;
}

int
spool_status_read(struct spool *sp, const char *id, bool *done, size_t n)
{
	struct spool_status st = { 0 };
	size_t i;

	memset(done, 0, n * sizeof(*done));
	st.targets = xcalloc(n > 0 ? n : 1, sizeof(*st.targets));
	st.n_targets = n;
	if (spool_status_load(sp, id, &st) == -1) {
		free(st.targets);
		return -1;
	}
	for (i = 0; i < n; i++)
		done[i] = st.targets[i].state == SPOOL_TARGET_DELIVERED ||
		    st.targets[i].state == SPOOL_TARGET_FAILED;
	free(st.targets);
	return 0;
}
