/* SPDX-License-Identifier: ISC */
/*
 * The scheduler: one pass over the index decides, for every message,
 * what is due now (local batches, remote jobs per domain, bounces, the
 * delay warning, removal) and arms one timer for the earliest future
 * item.  Retries follow RFC 5321 4.5.4.1: exponential backoff from
 * min_retry to max_retry, and failure (4.4.7) after max_age.  The
 * decisions themselves are the pure functions at the top of the file.
 * A linear pass is fine for queues of thousands; a heap can come later.
 */
#include "queue/queue_sched.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <event2/event.h>

#include "config/config.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/str.h"
#include "core/xalloc.h"
#include "queue/queue_private.h"
#include "spool/spool.h"

uint64_t
queue_sched_backoff(uint64_t min_retry, uint64_t max_retry,
    uint32_t attempts)
{
	uint64_t delay = min_retry > 0 ? min_retry : 1;
	uint32_t i;

	for (i = 1; i < attempts && delay < max_retry; i++)
		delay = delay > UINT64_MAX / 2 ? UINT64_MAX : delay * 2;
	if (delay > max_retry)
		delay = max_retry;
	return delay > 0 ? delay : 1;
}

bool
queue_sched_is_expired(time_t arrival, time_t now, uint64_t max_age)
{
	return now >= arrival && (uint64_t)(now - arrival) >= max_age;
}

bool
queue_sched_is_delay_due(time_t arrival, time_t now, uint64_t delay_warning,
    bool warned, bool any_deferred)
{
	return delay_warning > 0 && !warned && any_deferred &&
	    queue_sched_is_expired(arrival, now, delay_warning);
}

size_t
queue_sched_group(const char *const *domains, size_t n, size_t *group_r)
{
	size_t i, j, groups = 0;

	for (i = 0; i < n; i++) {
		for (j = 0; j < i; j++) {
			if (str_casecmp(domains[j], domains[i]) == 0)
				break;
		}
		group_r[i] = j < i ? group_r[j] : groups++;
	}
	return groups;
}

size_t
queue_sched_count_received(const uint8_t *content, size_t len)
{
	static const char name[] = "received:";
	size_t i = 0, n = 0, k;

	while (i < len) {
		/* An empty line ends the header section. */
		if (content[i] == '\n' || (content[i] == '\r' && i + 1 < len &&
		    content[i + 1] == '\n'))
			break;
		for (k = 0; k < sizeof(name) - 1 && i + k < len; k++) {
			if (ascii_tolower((char)content[i + k]) != name[k])
				break;
		}
		if (k == sizeof(name) - 1)
			n++;
		while (i < len && content[i] != '\n')
			i++;
		i++;
	}
	return n;
}

static void
queue_sched_timer_add(struct queue *q, time_t delay)
{
	struct timeval tv = { delay, 0 };

	if (evtimer_add(q->timer, &tv) == -1)
		log_panic("queue: cannot arm the scheduler timer");
}

void
queue_sched_kick(struct queue *q)
{
	queue_sched_timer_add(q, 0);
}

static void
queue_sched_log_defer(struct queue_msg *m, size_t i, time_t now)
{
	char rcpt[300];

	log_info("%s queue deferred rcpt=<%s> next=+%llds attempts=%u "
	    "dsn=%s", m->id, queue_rcpt_safe(m, i, rcpt, sizeof(rcpt)),
	    (long long)(m->t[i].st.next_attempt - now),
	    (unsigned)m->t[i].st.attempts,
	    m->t[i].st.dsn[0] != '\0' ? m->t[i].st.dsn : "-");
}

void
queue_sched_fail(struct queue *q, struct queue_msg *m, size_t i,
    const char *dsn, const char *text, time_t now)
{
	struct spool_target_status *st = &m->t[i].st;
	char rcpt[300];

	(void)now;
	st->state = SPOOL_TARGET_FAILED;
	st->next_attempt = 0;
	if (str_copy(st->dsn, dsn, sizeof(st->dsn)) == -1)
		log_panic("queue_sched_fail: dsn %s", dsn);
	/* A text longer than the journal keeps is cut, not refused. */
	(void)!str_copy(st->text, text, sizeof(st->text));
	queue_journal_target(q, m, i);
	q->stats.failed++;
	log_info("%s queue failed rcpt=<%s> dsn=%s", m->id,
	    queue_rcpt_safe(m, i, rcpt, sizeof(rcpt)), dsn);
}

void
queue_sched_expire(struct queue *q, struct queue_msg *m, size_t i,
    const char *last, time_t now)
{
	char why[QUEUE_TEXT_MAX_BYTES + 1];

	/* RFC 5321 4.5.4.1: give up, and say what last went wrong. */
	(void)snprintf(why, sizeof(why), "delivery time expired; last "
	    "error: %.400s", last);
	q->stats.expired++;
	queue_sched_fail(q, m, i, "4.4.7", why, now);
}

void
queue_sched_result(struct queue *q, struct queue_msg *m, size_t i,
    enum deliver_status status, const char *dsn, const char *text,
    const char *remote_mta, time_t now)
{
	queue_sched_result_ex(q, m, i, status, dsn, text, remote_mta, now,
	    false);
}

void
queue_sched_result_ex(struct queue *q, struct queue_msg *m, size_t i,
    enum deliver_status status, const char *dsn, const char *text,
    const char *remote_mta, time_t now, bool quiet)
{
	struct spool_target_status *st = &m->t[i].st;
	const struct config *cfg = q->cfg;

	if (st->attempts < SPOOL_STATUS_ATTEMPTS_MAX)
		st->attempts++;
	st->last_attempt = now;
	(void)!str_copy(st->remote_mta, remote_mta != NULL ? remote_mta : "",
	    sizeof(st->remote_mta));
	switch (status) {
	case DELIVER_OK:
		q->stats.delivered++;
		st->state = SPOOL_TARGET_DELIVERED;
		st->next_attempt = 0;
		(void)!str_copy(st->dsn, dsn, sizeof(st->dsn));
		(void)!str_copy(st->text, text, sizeof(st->text));
		if (!quiet)
			queue_journal_target(q, m, i);
		return;
	case DELIVER_PERMFAIL:
		queue_sched_fail(q, m, i, dsn, text, now);
		return;
	case DELIVER_TEMPFAIL:
		break;
	}
	q->stats.deferred++;
	if (queue_sched_is_expired(queue_msg_age_base(m), now, cfg->max_age)) {
		queue_sched_expire(q, m, i, text, now);
		return;
	}
	st->state = SPOOL_TARGET_DEFERRED;
	st->next_attempt = now + (time_t)queue_sched_backoff(cfg->min_retry,
	    cfg->max_retry, st->attempts);
	(void)!str_copy(st->dsn, dsn, sizeof(st->dsn));
	(void)!str_copy(st->text, text, sizeof(st->text));
	queue_journal_target(q, m, i);
	queue_sched_log_defer(m, i, now);
}

/*
 * RFC 5321 6.3: a message that has passed through too many hosts is in
 * a loop.  Counted once, when the message is first scheduled.
 */
static void
queue_sched_loop_check(struct queue *q, struct queue_msg *m, time_t now)
{
	struct buf head;
	size_t n, i;

	m->loop_checked = true;
	buf_init(&head, 4096, QUEUE_SCHED_HEADER_MAX_BYTES);
	if (queue_bounce_read_head(q, m, &head,
	    QUEUE_SCHED_HEADER_MAX_BYTES) == -1) {
		log_warn("%s queue cannot read the header to count Received "
		    "fields", m->id);
		buf_clear(&head);
		return;
	}
	n = queue_sched_count_received(head.data, head.len);
	buf_clear(&head);
	if (n <= q->cfg->max_received)
		return;
	log_warn("%s queue mail loop: %zu Received headers (max %llu)", m->id,
	    n, (unsigned long long)q->cfg->max_received);
	for (i = 0; i < m->env.n_targets; i++) {
		enum spool_target_state s = m->t[i].st.state;

		if (!m->t[i].busy && (s == SPOOL_TARGET_PENDING ||
		    s == SPOOL_TARGET_DEFERRED))
			queue_sched_fail(q, m, i, "5.4.6",
			    "mail loop: too many Received headers", now);
	}
}

/* Whether target i may be attempted now; fails it if it is too old. */
static bool
queue_sched_is_due(struct queue *q, struct queue_msg *m, size_t i,
    time_t now)
{
	struct spool_target_status *st = &m->t[i].st;

	if (m->t[i].busy || m->t[i].reporting)
		return false;
	if (st->state == SPOOL_TARGET_PENDING)
		return true;
	if (st->state != SPOOL_TARGET_DEFERRED || st->next_attempt > now)
		return false;
	if (queue_sched_is_expired(queue_msg_age_base(m), now,
	    q->cfg->max_age)) {
		queue_sched_expire(q, m, i, st->text, now);
		return false;
	}
	return true;
}

/* Failed targets not yet reported: one bounce for all of them. */
static void
queue_sched_bounces(struct queue *q, struct queue_msg *m, time_t now)
{
	size_t *idx, n = 0, i;
	char rcpt[300];

	if (m->bounce_busy || m->bounce_after > now)
		return;
	idx = xcalloc(m->env.n_targets + 1, sizeof(*idx));
	for (i = 0; i < m->env.n_targets; i++) {
		if (m->t[i].st.state == SPOOL_TARGET_FAILED &&
		    !m->t[i].st.bounced && !m->t[i].busy)
			idx[n++] = i;
	}
	if (n > 0 && m->env.from[0] == '\0') {
		/* RFC 3464 / RFC 5321 6.1: never bounce a bounce. */
		for (i = 0; i < n; i++) {
			log_info("%s queue bounce not sent rcpt=<%s> "
			    "reason=\"null sender\"", m->id,
			    queue_rcpt_safe(m, idx[i], rcpt, sizeof(rcpt)));
			m->t[idx[i]].st.bounced = true;
			if (spool_status_set_bounced(q->sp, m->id, idx[i]) ==
			    -1)
				log_warn("%s queue cannot journal: %s", m->id,
				    strerror(errno));
		}
	} else if (n > 0) {
		queue_bounce_send(q, m, false, idx, n, now);
	}
	free(idx);
}

static void
queue_sched_delay_warning(struct queue *q, struct queue_msg *m, time_t now)
{
	size_t *idx, n = 0, i;

	if (m->bounce_busy || m->bounce_after > now)
		return;
	idx = xcalloc(m->env.n_targets + 1, sizeof(*idx));
	for (i = 0; i < m->env.n_targets; i++) {
		if (m->t[i].st.state == SPOOL_TARGET_DEFERRED)
			idx[n++] = i;
	}
	if (queue_sched_is_delay_due(queue_msg_age_base(m), now,
	    q->cfg->delay_warning, m->delay_warned, n > 0)) {
		if (m->env.from[0] == '\0') {
			m->delay_warned = true;
			if (spool_status_set_warned(q->sp, m->id) == -1)
				log_warn("%s queue cannot journal: %s", m->id,
				    strerror(errno));
		} else {
			queue_bounce_send(q, m, true, idx, n, now);
		}
	}
	free(idx);
}

bool
queue_sched_is_finished(const struct queue_msg *m)
{
	size_t i;

	if (m->busy > 0 || m->bounce_busy)
		return false;
	for (i = 0; i < m->env.n_targets; i++) {
		const struct spool_target_status *st = &m->t[i].st;

		if (st->state == SPOOL_TARGET_DELIVERED)
			continue;
		if (st->state == SPOOL_TARGET_FAILED && st->bounced)
			continue;
		return false;
	}
	return true;
}

/* One message's due work; returns the time of its next item, or 0. */
static time_t
queue_sched_msg(struct queue *q, struct queue_msg *m, time_t now)
{
	size_t *local, n_local = 0, i;
	time_t next = 0, t;

	/* Deleted with jobs in flight: what comes back is dropped. */
	if (m->deleted) {
		queue_ctl_drop_rest(q, m);
		return 0;
	}
	/* An operator's hold, or a schedule: nothing happens before. */
	if (m->held)
		return 0;
	if (m->release_at > now)
		return m->release_at;
	if (!m->loop_checked)
		queue_sched_loop_check(q, m, now);
	local = xcalloc(m->env.n_targets + 1, sizeof(*local));
	for (i = 0; i < m->env.n_targets; i++) {
		if (m->env.targets[i].is_local && queue_sched_is_due(q, m, i,
		    now))
			local[n_local++] = i;
	}
	if (n_local > 0)
		queue_local_submit(q, m, local, n_local);
	free(local);
	queue_remote_run(q, m, now);
	queue_sched_bounces(q, m, now);
	queue_sched_delay_warning(q, m, now);
	for (i = 0; i < m->env.n_targets; i++) {
		const struct queue_target *qt = &m->t[i];

		if (qt->busy || qt->st.state != SPOOL_TARGET_DEFERRED)
			continue;
		t = qt->st.next_attempt > now ? qt->st.next_attempt : now + 1;
		if (next == 0 || t < next)
			next = t;
	}
	if (q->cfg->delay_warning > 0 && !m->delay_warned && next != 0) {
		t = queue_msg_age_base(m) + (time_t)q->cfg->delay_warning;
		if (t > now && t < next)
			next = t;
	}
	if (m->bounce_after > now && (next == 0 || m->bounce_after < next))
		next = m->bounce_after;
	return next;
}

void
queue_sched_on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct queue *q = arg;
	struct queue_msg *m, *tmp;
	time_t now = time(NULL), next = 0, t;

	(void)fd;
	(void)what;
	for (m = TAILQ_FIRST(&q->msgs); m != NULL; m = tmp) {
		tmp = TAILQ_NEXT(m, entry);
		t = queue_sched_msg(q, m, now);
		if (queue_sched_is_finished(m)) {
			queue_msg_remove(q, m);
			continue;
		}
		if (t != 0 && (next == 0 || t < next))
			next = t;
	}
	if (next != 0)
		queue_sched_timer_add(q, next > now ? next - now : 1);
}
