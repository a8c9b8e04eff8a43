/* SPDX-License-Identifier: ISC */
/*
 * Operator commands on the queue: hold, release, delete, bounce,
 * reschedule and flush.  Each changes the in-memory state, journals it
 * (spool_status) so that a restart keeps it, logs one line and kicks
 * the scheduler.  Targets in a delivery right now are left to finish;
 * the command applies to the rest.
 */
#include "queue/queue.h"

#include <errno.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/str.h"
#include "queue/queue_private.h"
#include "spool/spool.h"

static struct queue_msg *
queue_ctl_find(struct queue *q, const char *id, struct buf *err)
{
	struct queue_msg *m = queue_msg_find(q, id);

	if (m == NULL)
		(void)!buf_printf(err, "no such message in the queue: %.64s",
		    id);
	return m;
}

static void
queue_ctl_journal_failed(const struct queue_msg *m, const char *what)
{
	log_warn("%s queue cannot journal the %s: %s (it lasts until a "
	    "restart)", m->id, what, strerror(errno));
}

int
queue_hold(struct queue *q, const char *id, struct buf *err)
{
	struct queue_msg *m = queue_ctl_find(q, id, err);

	if (m == NULL)
		return -1;
	m->held = true;
	if (spool_status_set_held(q->sp, m->id, true) == -1)
		queue_ctl_journal_failed(m, "hold");
	log_info("%s queue held by the operator", m->id);
	return 0;
}

/* Makes the deferred targets of m (in domain, if not NULL) due now. */
static void
queue_ctl_due_now(struct queue_msg *m, time_t now, const char *domain)
{
	size_t i;

	for (i = 0; i < m->env.n_targets; i++) {
		struct spool_target_status *st = &m->t[i].st;

		if (domain != NULL &&
		    str_casecmp(m->env.targets[i].domain, domain) != 0)
			continue;
		if (st->state == SPOOL_TARGET_DEFERRED && st->next_attempt > now)
			st->next_attempt = now;
	}
}

/* Ends m's hold and schedule, journaled. */
static void
queue_ctl_unblock(struct queue *q, struct queue_msg *m, time_t now)
{
	if (m->held) {
		m->held = false;
		if (spool_status_set_held(q->sp, m->id, false) == -1)
			queue_ctl_journal_failed(m, "release");
	}
	if (m->release_at > now) {
		/* Its age now counts from this release. */
		m->release_at = now;
		if (spool_status_set_release(q->sp, m->id, now) == -1)
			queue_ctl_journal_failed(m, "release");
	}
}

int
queue_release(struct queue *q, const char *id, struct buf *err)
{
	struct queue_msg *m = queue_ctl_find(q, id, err);
	time_t now = time(NULL);

	if (m == NULL)
		return -1;
	queue_ctl_unblock(q, m, now);
	queue_ctl_due_now(m, now, NULL);
	log_info("%s queue released by the operator", m->id);
	queue_sched_kick(q);
	return 0;
}

int
queue_reschedule(struct queue *q, const char *id, time_t when,
    struct buf *err)
{
	struct queue_msg *m = queue_ctl_find(q, id, err);

	if (m == NULL)
		return -1;
	if (when <= 0) {
		(void)!buf_append_str(err, "bad time");
		return -1;
	}
	m->release_at = when;
	if (spool_status_set_release(q->sp, m->id, when) == -1)
		queue_ctl_journal_failed(m, "schedule");
	queue_ctl_due_now(m, when, NULL);
	log_info("%s queue rescheduled by the operator release=%lld", m->id,
	    (long long)when);
	queue_sched_kick(q);
	return 0;
}

void
queue_ctl_drop_rest(struct queue *q, struct queue_msg *m)
{
	size_t i;

	m->held = false;
	for (i = 0; i < m->env.n_targets; i++) {
		struct spool_target_status *st = &m->t[i].st;

		if (m->t[i].busy || m->t[i].reporting ||
		    st->state == SPOOL_TARGET_DELIVERED ||
		    (st->state == SPOOL_TARGET_FAILED && st->bounced))
			continue;
		st->state = SPOOL_TARGET_FAILED;
		st->bounced = true;
		(void)!str_copy(st->dsn, "5.0.0", sizeof(st->dsn));
		(void)!str_copy(st->text, "deleted by the operator",
		    sizeof(st->text));
		queue_journal_target(q, m, i);
		if (spool_status_set_bounced(q->sp, m->id, i) == -1)
			queue_ctl_journal_failed(m, "deletion");
	}
}

int
queue_delete(struct queue *q, const char *id, struct buf *err)
{
	struct queue_msg *m = queue_ctl_find(q, id, err);

	if (m == NULL)
		return -1;
	log_info("%s queue deleted by the operator", m->id);
	if (m->busy == 0 && !m->bounce_busy) {
		queue_msg_remove(q, m);
		return 0;
	}
	/*
	 * Deliveries in flight finish; every other target, and each one
	 * that comes back undelivered, is failed as already reported (so
	 * no bounce goes out), and the message leaves once the last
	 * delivery is back (queue_sched_msg).
	 */
	m->deleted = true;
	queue_ctl_drop_rest(q, m);
	queue_sched_kick(q);
	return 0;
}

int
queue_bounce(struct queue *q, const char *id, struct buf *err)
{
	struct queue_msg *m = queue_ctl_find(q, id, err);
	time_t now = time(NULL);
	size_t i, n = 0;

	if (m == NULL)
		return -1;
	for (i = 0; i < m->env.n_targets; i++) {
		enum spool_target_state s = m->t[i].st.state;

		if (m->t[i].busy || m->t[i].reporting ||
		    (s != SPOOL_TARGET_PENDING && s != SPOOL_TARGET_DEFERRED))
			continue;
		queue_sched_fail(q, m, i, "5.0.0",
		    "returned to the sender by the operator", now);
		n++;
	}
	/* A held or scheduled message must still send its DSN now. */
	queue_ctl_unblock(q, m, now);
	log_info("%s queue bounced by the operator targets=%zu", m->id, n);
	queue_sched_kick(q);
	return 0;
}

static bool
queue_ctl_has_domain(const struct queue_msg *m, const char *domain)
{
	size_t i;

	for (i = 0; i < m->env.n_targets; i++) {
		if (m->t[i].st.state == SPOOL_TARGET_DEFERRED &&
		    str_casecmp(m->env.targets[i].domain, domain) == 0)
			return true;
	}
	return false;
}

long
queue_flush(struct queue *q, const char *id, const char *domain,
    struct buf *err)
{
	struct queue_msg *m;
	time_t now = time(NULL);
	long n = 0;

	if (id != NULL && queue_ctl_find(q, id, err) == NULL)
		return -1;
	TAILQ_FOREACH(m, &q->msgs, entry) {
		if (id != NULL && strcmp(m->id, id) != 0)
			continue;
		if (domain != NULL && !queue_ctl_has_domain(m, domain))
			continue;
		/* Held mail stays held, scheduled mail waits its time. */
		if (m->held || m->release_at > now)
			continue;
		queue_ctl_due_now(m, now, domain);
		n++;
	}
	log_info("queue flush by the operator%s%.64s%s%.255s messages=%ld",
	    id != NULL ? " id=" : "", id != NULL ? id : "",
	    domain != NULL ? " domain=" : "", domain != NULL ? domain : "", n);
	queue_sched_kick(q);
	return n;
}
