/* SPDX-License-Identifier: ISC */
/*
 * What `tern queue list`, `queue show` and mailq print: the queue's
 * messages with their state per recipient, as text, as JSON (one
 * document, RFC 3339 times) or in the sendmail/Postfix mailq layout.
 *
 * States shown: a message is held (by an operator), scheduled (its
 * release time is ahead), deferred (a recipient failed temporarily),
 * queued (waiting for its first attempt), or, for the moment before it
 * leaves the spool, delivered or failed.  Recipients have the same
 * states; an undelivered recipient of a held or scheduled message is
 * held or scheduled.
 */
#include "queue/queue.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/json.h"
#include "core/str.h"
#include "core/when.h"
#include "core/xalloc.h"
#include "queue/queue_private.h"
#include "spool/spool.h"

/* Header bytes `queue show` prints at most. */
#define QUEUE_SHOW_HEADER_MAX_BYTES ((size_t)64 * 1024)

static const char *
queue_list_msg_state(const struct queue_msg *m, time_t now)
{
	bool deferred = false, open = false, failed = false;
	size_t i;

	if (m->held)
		return "held";
	if (m->release_at > now)
		return "scheduled";
	for (i = 0; i < m->env.n_targets; i++) {
		switch (m->t[i].st.state) {
		case SPOOL_TARGET_DEFERRED:
			deferred = true;
			/* FALLTHROUGH */
		case SPOOL_TARGET_PENDING:
			open = true;
			break;
		case SPOOL_TARGET_FAILED:
			failed = true;
			break;
		case SPOOL_TARGET_DELIVERED:
			break;
		}
	}
	if (deferred)
		return "deferred";
	if (open)
		return "queued";
	return failed ? "failed" : "delivered";
}

static const char *
queue_list_rcpt_state(const struct queue_msg *m, size_t i, time_t now)
{
	switch (m->t[i].st.state) {
	case SPOOL_TARGET_DELIVERED:
		return "delivered";
	case SPOOL_TARGET_FAILED:
		return "failed";
	case SPOOL_TARGET_PENDING:
	case SPOOL_TARGET_DEFERRED:
		break;
	}
	if (m->held)
		return "held";
	if (m->release_at > now)
		return "scheduled";
	return m->t[i].st.state == SPOOL_TARGET_DEFERRED ? "deferred" :
	    "queued";
}

/* When the next attempt is due; 0 for none (held, or nothing open). */
static time_t
queue_list_next_attempt(const struct queue_msg *m, time_t now)
{
	time_t next = 0, t;
	size_t i;

	if (m->held)
		return 0;
	for (i = 0; i < m->env.n_targets; i++) {
		const struct spool_target_status *st = &m->t[i].st;

		if (st->state == SPOOL_TARGET_PENDING)
			t = now;
		else if (st->state == SPOOL_TARGET_DEFERRED)
			t = st->next_attempt > now ? st->next_attempt : now;
		else
			continue;
		if (next == 0 || t < next)
			next = t;
	}
	if (next != 0 && m->release_at > next)
		next = m->release_at;
	return next;
}

static int
queue_list_json_time(struct buf *out, time_t t)
{
	char s[WHEN_FORMAT_SIZE];

	if (t <= 0)
		return buf_append_str(out, "null");
	when_format(t, s, sizeof(s));
	return buf_printf(out, "\"%s\"", s);
}

static int
queue_list_json_msg(struct buf *out, const struct queue_msg *m, time_t now)
{
	size_t i;

	if (buf_append_str(out, "{\"id\":") == -1 ||
	    json_put_string(out, m->id) == -1 ||
	    buf_append_str(out, ",\"arrival\":") == -1 ||
	    queue_list_json_time(out, m->env.arrival) == -1 ||
	    buf_printf(out, ",\"size\":%" PRIu64 ",\"sender\":", m->size) ==
	    -1 || json_put_string(out, m->env.from) == -1 ||
	    buf_printf(out, ",\"state\":\"%s\",\"next_attempt\":",
	    queue_list_msg_state(m, now)) == -1 ||
	    queue_list_json_time(out, queue_list_next_attempt(m, now)) == -1 ||
	    buf_append_str(out, ",\"recipients\":[") == -1)
		return -1;
	for (i = 0; i < m->env.n_targets; i++) {
		const struct spool_target_status *st = &m->t[i].st;

		if (buf_append_str(out, i > 0 ? ",{\"address\":" :
		    "{\"address\":") == -1 ||
		    json_put_string(out, m->env.targets[i].address) == -1 ||
		    buf_printf(out, ",\"state\":\"%s\",\"attempts\":%u,"
		    "\"last_error\":", queue_list_rcpt_state(m, i, now),
		    (unsigned)st->attempts) == -1 ||
		    (st->text[0] != '\0' && st->state !=
		    SPOOL_TARGET_DELIVERED ? json_put_string(out, st->text) :
		    buf_append_str(out, "null")) == -1 ||
		    buf_append_str(out, "}") == -1)
			return -1;
	}
	return buf_append_str(out, "]}");
}

/* "3d4h", "12m", "40s": a short age for the text list. */
static void
queue_list_age(char *s, size_t size, time_t secs)
{
	if (secs < 0)
		secs = 0;
	if (secs < 60)
		(void)snprintf(s, size, "%llds", (long long)secs);
	else if (secs < 3600)
		(void)snprintf(s, size, "%lldm", (long long)(secs / 60));
	else if (secs < 86400)
		(void)snprintf(s, size, "%lldh%lldm", (long long)(secs / 3600),
		    (long long)(secs % 3600 / 60));
	else
		(void)snprintf(s, size, "%lldd%lldh", (long long)(secs / 86400),
		    (long long)(secs % 86400 / 3600));
}

static int
queue_list_text_msg(struct buf *out, const struct queue_msg *m, time_t now)
{
	char age[32], next[WHEN_FORMAT_SIZE], addr[300], from[300];
	time_t t = queue_list_next_attempt(m, now);
	size_t i;

	queue_list_age(age, sizeof(age), now - m->env.arrival);
	if (t > 0)
		when_format(t, next, sizeof(next));
	else
		(void)!str_copy(next, "-", sizeof(next));
	str_sanitize(from, sizeof(from), m->env.from, strlen(m->env.from));
	if (buf_printf(out, "%s  age %s  size %" PRIu64 "  %s  next %s\n"
	    "  from <%s>\n", m->id, age, m->size, queue_list_msg_state(m, now),
	    next, from) == -1)
		return -1;
	for (i = 0; i < m->env.n_targets; i++) {
		const struct spool_target_status *st = &m->t[i].st;
		const char *a = m->env.targets[i].address;

		str_sanitize(addr, sizeof(addr), a, strlen(a));
		if (buf_printf(out, "  to <%s>  %s  attempts %u", addr,
		    queue_list_rcpt_state(m, i, now), (unsigned)st->attempts) ==
		    -1)
			return -1;
		if (st->text[0] != '\0' && st->state != SPOOL_TARGET_DELIVERED &&
		    buf_printf(out, "  last error: %s%s%s", st->dsn,
		    st->dsn[0] != '\0' ? " " : "", st->text) == -1)
			return -1;
		if (buf_append_str(out, "\n") == -1)
			return -1;
	}
	return 0;
}

/* The sendmail/Postfix layout: id (* active, ! held), size, date. */
static int
queue_list_mailq_msg(struct buf *out, const struct queue_msg *m, time_t now)
{
	char date[32], addr[300], reason[96];
	const char *last = "";
	struct tm tm;
	size_t i;

	(void)localtime_r(&m->env.arrival, &tm);
	(void)strftime(date, sizeof(date), "%a %b %e %H:%M:%S", &tm);
	str_sanitize(addr, sizeof(addr), m->env.from, strlen(m->env.from));
	if (buf_printf(out, "%-24s%c %8" PRIu64 " %s  %s\n", m->id,
	    m->held ? '!' : m->busy > 0 ? '*' : ' ', m->size, date,
	    m->env.from[0] != '\0' ? addr : "MAILER-DAEMON") == -1)
		return -1;
	for (i = 0; i < m->env.n_targets; i++) {
		const struct spool_target_status *st = &m->t[i].st;
		const char *a = m->env.targets[i].address;

		if (st->state == SPOOL_TARGET_DELIVERED)
			continue;
		if (st->state == SPOOL_TARGET_DEFERRED &&
		    strcmp(st->text, last) != 0) {
			(void)snprintf(reason, sizeof(reason), "%.90s",
			    st->text);
			if (buf_printf(out, "%44s(%s)\n", "", reason) == -1)
				return -1;
			last = st->text;
		} else if (m->release_at > now && i == 0 &&
		    buf_printf(out, "%44s(scheduled)\n", "") == -1) {
			return -1;
		}
		str_sanitize(addr, sizeof(addr), a, strlen(a));
		if (buf_printf(out, "%44s%s\n", "", addr) == -1)
			return -1;
	}
	return buf_append_str(out, "\n");
}

int
queue_list(struct queue *q, enum queue_list_format fmt, time_t now,
    struct buf *out)
{
	struct queue_msg *m;
	uint64_t bytes = 0;
	size_t n = 0;

	if (fmt == QUEUE_LIST_JSON && buf_append_str(out, "[") == -1)
		return -1;
	if (fmt == QUEUE_LIST_MAILQ && !TAILQ_EMPTY(&q->msgs) &&
	    buf_printf(out, "%-24s  %8s %-17s  %s\n", "-Queue ID-", "--Size--",
	    "--Arrival Time--", "-Sender/Recipient-------") == -1)
		return -1;
	TAILQ_FOREACH(m, &q->msgs, entry) {
		int rc = 0;

		(void)queue_msg_size(q, m);
		switch (fmt) {
		case QUEUE_LIST_JSON:
			rc = (n > 0 && buf_append_str(out, ",") == -1) ? -1 :
			    queue_list_json_msg(out, m, now);
			break;
		case QUEUE_LIST_TEXT:
			rc = queue_list_text_msg(out, m, now);
			break;
		case QUEUE_LIST_MAILQ:
			rc = queue_list_mailq_msg(out, m, now);
			break;
		}
		if (rc == -1)
			return -1;
		bytes += m->size;
		n++;
	}
	switch (fmt) {
	case QUEUE_LIST_JSON:
		return buf_append_str(out, "]\n");
	case QUEUE_LIST_TEXT:
		return buf_printf(out, "%zu message%s, %" PRIu64 " bytes\n", n,
		    n == 1 ? "" : "s", bytes);
	case QUEUE_LIST_MAILQ:
		if (n == 0)
			return buf_append_str(out, "Mail queue is empty\n");
		return buf_printf(out, "-- %" PRIu64 " Kbytes in %zu "
		    "Request%s.\n", (bytes + 1023) / 1024, n, n == 1 ? "" : "s");
	}
	return 0;
}

/* ---- queue show ------------------------------------------------------ */

struct queue_show_history {
	const struct queue_msg *m;
	struct buf *out;
	bool json;
	size_t n;
	int rc;
};

static void
queue_show_on_record(void *arg, size_t target,
    const struct spool_target_status *ts)
{
	struct queue_show_history *h = arg;
	char when[WHEN_FORMAT_SIZE], addr[300];
	const char *a = h->m->env.targets[target].address;
	struct buf *out = h->out;

	/* Only records of attempts; a bare state change is no attempt. */
	if (h->rc == -1 || ts->last_attempt <= 0)
		return;
	when_format((time_t)ts->last_attempt, when, sizeof(when));
	if (h->json) {
		if ((h->n > 0 && buf_append_str(out, ",") == -1) ||
		    buf_printf(out, "{\"time\":\"%s\",\"address\":", when) ==
		    -1 || json_put_string(out, a) == -1 ||
		    buf_printf(out, ",\"result\":\"%s\",\"attempt\":%u,"
		    "\"dsn\":", spool_status_state_name(ts->state),
		    (unsigned)ts->attempts) == -1 ||
		    json_put_string(out, ts->dsn) == -1 ||
		    buf_append_str(out, ",\"remote_mta\":") == -1 ||
		    json_put_string(out, ts->remote_mta) == -1 ||
		    buf_append_str(out, ",\"text\":") == -1 ||
		    json_put_string(out, ts->text) == -1 ||
		    buf_append_str(out, "}") == -1)
			h->rc = -1;
	} else {
		str_sanitize(addr, sizeof(addr), a, strlen(a));
		if (buf_printf(out, "  %s  <%s>  %s  attempt %u  %s%s%s%s%s\n",
		    when, addr, spool_status_state_name(ts->state),
		    (unsigned)ts->attempts, ts->dsn,
		    ts->remote_mta[0] != '\0' ? "  " : "", ts->remote_mta,
		    ts->text[0] != '\0' ? "  " : "", ts->text) == -1)
			h->rc = -1;
	}
	h->n++;
}

static int
queue_show_history(struct queue *q, const struct queue_msg *m, bool json,
    struct buf *out)
{
	struct queue_show_history h = { m, out, json, 0, 0 };
	struct spool_status st = { 0 };
	size_t n = m->env.n_targets;

	st.targets = xcalloc(n > 0 ? n : 1, sizeof(*st.targets));
	st.n_targets = n;
	st.on_target = queue_show_on_record;
	st.on_target_arg = &h;
	if (spool_status_load(q->sp, m->id, &st) == -1 && !json)
		h.rc = buf_printf(out, "  (cannot read the journal: %s)\n",
		    strerror(errno));
	free(st.targets);
	if (!json && h.rc == 0 && h.n == 0)
		h.rc = buf_append_str(out, "  (no attempt yet)\n");
	return h.rc;
}

/* The header section of m's content, up to its empty line. */
static void
queue_show_headers(struct queue *q, const struct queue_msg *m,
    struct buf *head)
{
	const uint8_t *p;
	size_t i;

	if (queue_bounce_read_head(q, m, head, QUEUE_SHOW_HEADER_MAX_BYTES) ==
	    -1) {
		buf_reset(head);
		return;
	}
	p = head->data;
	for (i = 0; i + 1 < head->len; i++) {
		if (p[i] == '\n' && (p[i + 1] == '\n' || (p[i + 1] == '\r' &&
		    i + 2 < head->len && p[i + 2] == '\n'))) {
			head->len = i + 1;
			break;
		}
	}
}

static const char *
queue_show_safe(char *out, size_t size, const char *s)
{
	if (s == NULL)
		return "-";
	return str_sanitize(out, size, s, strlen(s));
}

/*
 * Header bytes for a terminal: no control characters but TAB, LF and
 * the CR of a CRLF, and no C1 controls (0x80-0x9f, or U+0080-U+009F
 * in UTF-8), which terminals may take as escape sequences.
 */
static int
queue_show_put_text(struct buf *out, const struct buf *text)
{
	const uint8_t *p = text->data;
	size_t i, n = text->len;

	for (i = 0; i < n; i++) {
		uint8_t ch = p[i];
		bool ok;

		if (ch == 0xc2 && i + 1 < n && p[i + 1] >= 0x80 &&
		    p[i + 1] <= 0x9f) {
			if (buf_append(out, "??", 2) == -1)
				return -1;
			i++;
			continue;
		}
		if (ch == '\r')
			ok = i + 1 < n && p[i + 1] == '\n';
		else if (ch < 0x20)
			ok = ch == '\n' || ch == '\t';
		else
			ok = ch != 0x7f && (ch < 0x80 || ch > 0x9f ||
			    (i > 0 && p[i - 1] >= 0xc0));
		if (buf_append(out, ok ? (const char *)&p[i] : "?", 1) == -1)
			return -1;
	}
	return 0;
}

int
queue_show(struct queue *q, const char *id, bool json, time_t now,
    struct buf *out, struct buf *err)
{
	struct queue_msg *m = queue_msg_find(q, id);
	struct buf head;
	char s[WHEN_FORMAT_SIZE], s_client[80], s_helo[300], s_auth[300];
	int rc = -1;

	if (m == NULL) {
		(void)!buf_printf(err, "no such message in the queue: %.64s",
		    id);
		return -1;
	}
	(void)queue_msg_size(q, m);
	buf_init(&head, 4096, QUEUE_SHOW_HEADER_MAX_BYTES);
	queue_show_headers(q, m, &head);
	if (json) {
		if (buf_append_str(out, "{\"message\":") == -1 ||
		    queue_list_json_msg(out, m, now) == -1 ||
		    buf_append_str(out, ",\"auth_user\":") == -1 ||
		    json_put_string(out, m->env.auth_user) == -1 ||
		    buf_append_str(out, ",\"client_addr\":") == -1 ||
		    json_put_string(out, m->env.client_addr) == -1 ||
		    buf_append_str(out, ",\"helo\":") == -1 ||
		    json_put_string(out, m->env.helo) == -1 ||
		    buf_append_str(out, ",\"release_at\":") == -1 ||
		    queue_list_json_time(out, m->release_at) == -1 ||
		    buf_append_str(out, ",\"headers\":") == -1 ||
		    json_put_string_n(out, (const char *)head.data, head.len) ==
		    -1 || buf_append_str(out, ",\"history\":[") == -1 ||
		    queue_show_history(q, m, true, out) == -1 ||
		    buf_append_str(out, "]}\n") == -1)
			goto done;
	} else {
		if (queue_list_text_msg(out, m, now) == -1)
			goto done;
		if (m->release_at > 0) {
			when_format(m->release_at, s, sizeof(s));
			if (buf_printf(out, "release %s\n", s) == -1)
				goto done;
		}
		if (buf_printf(out, "client %s  helo %s  auth %s\n",
		    queue_show_safe(s_client, sizeof(s_client),
		    m->env.client_addr), queue_show_safe(s_helo,
		    sizeof(s_helo), m->env.helo), queue_show_safe(s_auth,
		    sizeof(s_auth), m->env.auth_user)) == -1 ||
		    buf_append_str(out, "\nheaders:\n") == -1 ||
		    queue_show_put_text(out, &head) == -1 ||
		    buf_append_str(out, "\nattempts:\n") == -1 ||
		    queue_show_history(q, m, false, out) == -1)
			goto done;
	}
	rc = 0;
done:
	buf_clear(&head);
	if (rc == -1)
		(void)!buf_append_str(err, "the answer is too long");
	return rc;
}
