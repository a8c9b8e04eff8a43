/* SPDX-License-Identifier: ISC */
/*
 * The remote delivery agent's jobs: route (smarthost or MX, RFC 5321
 * 5.1, null MX per RFC 7505), per-destination connection limits with a
 * waiting queue, reuse of idle connections, the walk through a route's
 * addresses, and the one log line per recipient.  Talking SMTP on a
 * connection is deliver_remote_conn.c's job.
 */
#include "deliver/deliver_remote.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "core/log.h"
#include "core/str.h"
#include "core/xalloc.h"
#include "deliver/deliver_remote_private.h"
#include "dns/dns.h"

#define REMOTE_DEFAULT_MAX_CONNECTIONS 10

static char *
deliver_remote_dup(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

static struct remote_cfg *
deliver_remote_cfg_new(const struct remote_params *p)
{
	struct remote_cfg *cfg = xcalloc(1, sizeof(*cfg));

	cfg->refs = 1;
	cfg->p = *p;
	cfg->helo = xstrdup(p->helo != NULL ? p->helo : "localhost");
	if (p->relay_host != NULL && p->relay_host[0] != '\0')
		cfg->relay_host = xstrdup(p->relay_host);
	cfg->relay_user = deliver_remote_dup(p->relay_user);
	cfg->relay_password = deliver_remote_dup(p->relay_password);
	cfg->p.helo = cfg->helo;
	cfg->p.relay_host = cfg->relay_host;
	cfg->p.relay_user = cfg->relay_user;
	cfg->p.relay_password = cfg->relay_password;
	if (cfg->p.mx_port == 0)
		cfg->p.mx_port = 25;
	if (cfg->p.relay_port == 0)
		cfg->p.relay_port = 25;
	if (cfg->p.max_connections_per_domain == 0)
		cfg->p.max_connections_per_domain =
		    REMOTE_DEFAULT_MAX_CONNECTIONS;
	/* RFC 5321 4.5.3.2 defaults. */
	if (cfg->p.connect_timeout_s == 0)
		cfg->p.connect_timeout_s = 30;
	if (cfg->p.command_timeout_s == 0)
		cfg->p.command_timeout_s = 300;
	if (cfg->p.data_timeout_s == 0)
		cfg->p.data_timeout_s = 180;
	if (cfg->p.dot_timeout_s == 0)
		cfg->p.dot_timeout_s = REMOTE_DOT_TIMEOUT_S;
	return cfg;
}

void
deliver_remote_cfg_unref(struct remote_cfg **cfgp)
{
	struct remote_cfg *cfg = *cfgp;

	*cfgp = NULL;
	if (cfg == NULL || --cfg->refs > 0)
		return;
	free(cfg->helo);
	free(cfg->relay_host);
	free(cfg->relay_user);
	if (cfg->relay_password != NULL) {
		explicit_bzero(
		    cfg->relay_password, strlen(cfg->relay_password));
		free(cfg->relay_password);
	}
	free(cfg);
}

struct remote_agent *
remote_agent_new(struct event_base *base, struct dns *dns,
    const struct remote_params *params)
{
	struct remote_agent *a = xcalloc(1, sizeof(*a));

	a->base = base;
	a->dns = dns;
	a->cfg = deliver_remote_cfg_new(params);
	TAILQ_INIT(&a->jobs);
	TAILQ_INIT(&a->conns);
	TAILQ_INIT(&a->dests);
	return a;
}

void
remote_agent_set_params(
    struct remote_agent *a, const struct remote_params *params)
{
	struct remote_dest *d;
	struct remote_conn *c;

	deliver_remote_cfg_unref(&a->cfg);
	a->cfg = deliver_remote_cfg_new(params);
	/* Idle connections were made with the old relay and credentials. */
	TAILQ_FOREACH (d, &a->dests, entry) {
		while ((c = TAILQ_FIRST(&d->idle)) != NULL)
			deliver_remote_conn_close(c);
	}
}

static void
deliver_remote_task_free(struct remote_task *t)
{
	size_t i;

	if (t->query != NULL)
		dns_query_cancel(t->query);
	if (t->done_ev != NULL)
		event_free(t->done_ev);
	for (i = 0; i < t->n_rcpts; i++)
		free(t->rcpts[i]);
	free(t->rcpts);
	free(t->queue_id);
	free(t->domain);
	free(t->from);
	free(t->addrs);
	free(t->outcome.rcpts);
	deliver_remote_cfg_unref(&t->cfg);
	free(t);
}

static void
deliver_remote_dest_free(struct remote_agent *a, struct remote_dest *d)
{
	TAILQ_REMOVE(&a->dests, d, entry);
	free(d->key);
	free(d);
}

void
remote_agent_free(struct remote_agent **ap)
{
	struct remote_agent *a = *ap;
	struct remote_task *t;
	struct remote_conn *c;
	struct remote_dest *d;

	if (a == NULL)
		return;
	*ap = NULL;
	while ((c = TAILQ_FIRST(&a->conns)) != NULL)
		deliver_remote_conn_free(c, false);
	while ((t = TAILQ_FIRST(&a->jobs)) != NULL) {
		TAILQ_REMOVE(&a->jobs, t, entry);
		deliver_remote_task_free(t);
	}
	while ((d = TAILQ_FIRST(&a->dests)) != NULL)
		deliver_remote_dest_free(a, d);
	deliver_tls_client_free(a);
	deliver_remote_cfg_unref(&a->cfg);
	free(a);
}

static struct remote_dest *
deliver_remote_dest_get(struct remote_agent *a, const char *key)
{
	struct remote_dest *d;

	TAILQ_FOREACH (d, &a->dests, entry) {
		if (strcmp(d->key, key) == 0)
			return d;
	}
	d = xcalloc(1, sizeof(*d));
	d->agent = a;
	d->key = xstrdup(key);
	TAILQ_INIT(&d->waiting);
	TAILQ_INIT(&d->idle);
	TAILQ_INSERT_TAIL(&a->dests, d, entry);
	return d;
}

/* Runs the callback from the loop, never from inside deliver(). */
static void
deliver_remote_task_on_done(evutil_socket_t fd, short what, void *arg)
{
	struct remote_task *t = arg;

	(void)fd;
	(void)what;
	TAILQ_REMOVE(&t->agent->jobs, t, entry);
	t->cb(t->cb_arg, &t->outcome);
	deliver_remote_task_free(t);
}

static enum deliver_status
deliver_remote_status(enum smtpc_status st)
{
	switch (st) {
	case SMTPC_OK:
		return DELIVER_OK;
	case SMTPC_PERMFAIL:
		return DELIVER_PERMFAIL;
	case SMTPC_PENDING:
	case SMTPC_TEMPFAIL:
		return DELIVER_TEMPFAIL;
	}
	log_panic("deliver_remote_status: bad status %d", (int)st);
}

/* Sets recipient i's result; enh is cut to the class when too long. */
static void
deliver_remote_task_set(struct remote_task *t, size_t i, enum smtpc_status st,
    const char *enh, const char *reply)
{
	struct remote_rcpt_result *r = &t->outcome.rcpts[i];
	char e[sizeof(r->result.enh)];

	if (str_copy(e, enh, sizeof(e)) == -1)
		(void)snprintf(e, sizeof(e), "%c.0.0", enh[0]);
	deliver_result_set(
	    &r->result, deliver_remote_status(st), e, "%s", reply);
	(void)!str_copy(r->reply, reply, sizeof(r->reply));
}

/* Logs every recipient and schedules the callback; the slot goes back. */
static void
deliver_remote_task_finish(struct remote_task *t)
{
	struct timespec now;
	double delay;
	char rcpt[300], tls[96];
	size_t i;

	ASSERT(!t->finished);
	t->finished = true;
	clock_gettime(CLOCK_REALTIME, &now);
	delay = (double)(now.tv_sec - t->arrival) + (double)now.tv_nsec / 1e9;
	if (delay < 0)
		delay = 0;
	(void)!str_copy(tls,
	    t->outcome.tls[0] != '\0' ? t->outcome.tls : "none", sizeof(tls));
	/* One token for key=value logs: "TLSv1.3/TLS_AES_256_GCM_SHA384". */
	for (i = 0; tls[i] != '\0'; i++) {
		if (tls[i] == ' ')
			tls[i] = '/';
	}
	for (i = 0; i < t->n_rcpts; i++) {
		const struct remote_rcpt_result *r = &t->outcome.rcpts[i];

		log_info("%s deliver rcpt=<%s> relay=%s delay=%.2f dsn=%s "
		         "status=%s tls=%s reply=\"%s\"",
		    t->queue_id,
		    str_sanitize(
		        rcpt, sizeof(rcpt), t->rcpts[i], strlen(t->rcpts[i])),
		    t->outcome.relay, delay, r->result.enh,
		    deliver_status_name(r->result.status), tls, r->reply);
	}
	if (t->waiting) {
		TAILQ_REMOVE(&t->dest->waiting, t, wait_entry);
		t->waiting = false;
	}
	if (t->has_slot) {
		t->has_slot = false;
		deliver_remote_dest_release(t->dest);
	}
	event_active(t->done_ev, 0, 0);
}

/* Every recipient gets the same result (route or connection failure). */
static void
deliver_remote_task_fail_all(struct remote_task *t, enum smtpc_status st,
    const char *enh, const char *text)
{
	size_t i;

	for (i = 0; i < t->n_rcpts; i++)
		deliver_remote_task_set(t, i, st, enh, text);
	deliver_remote_task_finish(t);
}

/* Tries the next address of the route, or gives up. */
static void
deliver_remote_task_next(struct remote_task *t)
{
	char e[SMTPC_ENH_MAX + 1];

	if (t->next_addr < t->n_addrs) {
		deliver_remote_conn_start(t, &t->addrs[t->next_addr++]);
		return;
	}
	/* No server took the mail: that is never permanent. */
	(void)!str_copy(
	    e, t->last_enh[0] != '\0' ? t->last_enh : "4.4.1", sizeof(e));
	e[0] = '4';
	deliver_remote_task_fail_all(t, SMTPC_TEMPFAIL, e,
	    t->last_error[0] != '\0' ? t->last_error
	                             : "no address to deliver to");
}

static void
deliver_remote_task_add_addr(struct remote_task *t, const char *host,
    const struct sockaddr *sa, socklen_t salen)
{
	struct remote_addr *ra;

	t->addrs = xreallocarray(t->addrs, t->n_addrs + 1, sizeof(*t->addrs));
	ra = &t->addrs[t->n_addrs++];
	memset(ra, 0, sizeof(*ra));
	(void)!str_copy(ra->host, host, sizeof(ra->host));
	memcpy(&ra->sa, sa, salen);
	ra->salen = salen;
}

static socklen_t
deliver_remote_salen(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
	                                 : sizeof(struct sockaddr_in);
}

static void
deliver_remote_task_on_route(void *arg, const struct dns_route *route)
{
	struct remote_task *t = arg;
	bool relay = t->cfg->p.relay_host != NULL;
	size_t h, i;

	t->query = NULL;
	switch (route->status) {
	case DNS_OK:
		break;
	case DNS_NXDOMAIN:
	case DNS_NO_ADDRESS:
		/* A smarthost that does not resolve is our problem. */
		deliver_remote_task_fail_all(t,
		    relay ? SMTPC_TEMPFAIL : SMTPC_PERMFAIL,
		    relay ? "4.4.3" : "5.1.2", route->error);
		return;
	case DNS_NULL_MX:
		deliver_remote_task_fail_all(t,
		    relay ? SMTPC_TEMPFAIL : SMTPC_PERMFAIL,
		    relay ? "4.4.3" : "5.1.10", route->error);
		return;
	case DNS_TEMPFAIL:
		deliver_remote_task_fail_all(
		    t, SMTPC_TEMPFAIL, "4.4.3", route->error);
		return;
	}
	for (h = 0; h < route->n_hosts; h++) {
		const struct dns_host *dh = &route->hosts[h];

		for (i = 0; i < dh->n_addrs; i++)
			deliver_remote_task_add_addr(t, dh->name,
			    (const struct sockaddr *)&dh->addrs[i],
			    deliver_remote_salen(&dh->addrs[i]));
	}
	deliver_remote_task_next(t);
}

/*
 * A numeric smarthost needs no DNS: "192.0.2.1", "2001:db8::1" or
 * "[2001:db8::1]".  1 when host was numeric (addrs filled), else 0.
 */
static int
deliver_remote_task_numeric(
    struct remote_task *t, const char *host, uint16_t port)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	char h[REMOTE_HOST_MAX + 1];
	size_t len = strlen(host);

	memset(&sin, 0, sizeof(sin));
	memset(&sin6, 0, sizeof(sin6));
	if (inet_pton(AF_INET, host, &sin.sin_addr) == 1) {
		sin.sin_family = AF_INET;
		sin.sin_port = htons(port);
		deliver_remote_task_add_addr(
		    t, host, (const struct sockaddr *)&sin, sizeof(sin));
		return 1;
	}
	if (len >= 2 && host[0] == '[' && host[len - 1] == ']' &&
	    len - 2 < sizeof(h)) {
		memcpy(h, host + 1, len - 2);
		h[len - 2] = '\0';
	} else if (str_copy(h, host, sizeof(h)) == -1) {
		return 0;
	}
	if (inet_pton(AF_INET6, h, &sin6.sin6_addr) == 1) {
		sin6.sin6_family = AF_INET6;
		sin6.sin6_port = htons(port);
		deliver_remote_task_add_addr(
		    t, h, (const struct sockaddr *)&sin6, sizeof(sin6));
		return 1;
	}
	return 0;
}

/* Finds where to go: numeric smarthost, smarthost by name, or MX. */
static void
deliver_remote_task_route(struct remote_task *t)
{
	const struct remote_params *p = &t->cfg->p;
	struct remote_agent *a = t->agent;

	free(t->addrs);
	t->addrs = NULL;
	t->n_addrs = 0;
	t->next_addr = 0;
	if (p->relay_host != NULL &&
	    deliver_remote_task_numeric(t, p->relay_host, p->relay_port)) {
		deliver_remote_task_next(t);
		return;
	}
	if (a->dns == NULL) {
		deliver_remote_task_fail_all(
		    t, SMTPC_TEMPFAIL, "4.4.3", "no resolver");
		return;
	}
	if (p->relay_host != NULL)
		t->query = dns_host_lookup(a->dns, p->relay_host, p->relay_port,
		    deliver_remote_task_on_route, t);
	else
		t->query = dns_route_lookup(a->dns, t->domain, p->mx_port,
		    deliver_remote_task_on_route, t);
}

void
deliver_remote_task_retry(
    struct remote_task *t, const char *enh, const char *error)
{
	bool reused = t->conn != NULL && t->conn->reused;
	bool tls_failed = t->conn != NULL && t->conn->tls_failed;

	t->conn = NULL;
	(void)!str_copy(t->last_enh, enh, sizeof(t->last_enh));
	(void)!str_copy(t->last_error, error, sizeof(t->last_error));
	if (tls_failed && !t->no_tls && t->next_addr > 0) {
		/*
		 * Opportunistic TLS must not make mail undeliverable: a
		 * server whose STARTTLS is broken gets the mail in
		 * plaintext, as it would without STARTTLS (RFC 7435).
		 */
		log_info("%s deliver retry without TLS", t->queue_id);
		t->no_tls = true;
		deliver_remote_conn_start(t, &t->addrs[t->next_addr - 1]);
		return;
	}
	t->no_tls = false;
	if (reused && t->addrs == NULL) {
		/* The idle connection had died: start afresh. */
		t->no_reuse = true;
		deliver_remote_task_route(t);
		return;
	}
	deliver_remote_task_next(t);
}

void
deliver_remote_task_done(struct remote_task *t)
{
	struct remote_conn *c = t->conn;
	size_t i;

	for (i = 0; i < t->n_rcpts; i++) {
		const struct smtpc_rcpt_result *r =
		    smtpc_session_rcpt(c->session, i);

		deliver_remote_task_set(t, i, r->status, r->enh, r->reply);
	}
	(void)!str_copy(t->outcome.relay, c->relay, sizeof(t->outcome.relay));
	(void)!str_copy(t->outcome.tls, c->tls_desc, sizeof(t->outcome.tls));
	/* The slot stays with the connection, parked or closing. */
	if (t->has_slot) {
		t->has_slot = false;
		c->has_slot = true;
	}
	t->conn = NULL;
	deliver_remote_task_finish(t);
}

/* Starts t now if its destination has room, else queues it. */
static void
deliver_remote_dest_submit(struct remote_dest *d, struct remote_task *t)
{
	struct remote_conn *c;

	c = t->no_reuse ? NULL : TAILQ_FIRST(&d->idle);
	if (c != NULL) {
		t->has_slot = true;
		c->has_slot = false;
		deliver_remote_conn_take(c, t);
		return;
	}
	if (d->n_slots < t->cfg->p.max_connections_per_domain) {
		d->n_slots++;
		t->has_slot = true;
		deliver_remote_task_route(t);
		return;
	}
	t->waiting = true;
	TAILQ_INSERT_TAIL(&d->waiting, t, wait_entry);
}

void
deliver_remote_dest_release(struct remote_dest *d)
{
	struct remote_task *t;

	ASSERT(d->n_slots > 0);
	d->n_slots--;
	if ((t = TAILQ_FIRST(&d->waiting)) != NULL) {
		TAILQ_REMOVE(&d->waiting, t, wait_entry);
		t->waiting = false;
		deliver_remote_dest_submit(d, t);
		return;
	}
	/* Nothing holds or awaits the destination: forget it. */
	if (d->n_slots == 0 && TAILQ_EMPTY(&d->idle))
		deliver_remote_dest_free(d->agent, d);
}

void
deliver_remote_dest_park(struct remote_dest *d, struct remote_conn *c)
{
	struct remote_task *t;

	if ((t = TAILQ_FIRST(&d->waiting)) != NULL) {
		TAILQ_REMOVE(&d->waiting, t, wait_entry);
		t->waiting = false;
		t->has_slot = true;
		c->has_slot = false;
		deliver_remote_conn_take(c, t);
		return;
	}
	c->idle = true;
	TAILQ_INSERT_TAIL(&d->idle, c, idle_entry);
}

void
remote_agent_deliver(struct remote_agent *a, const struct remote_job *job,
    remote_done_fn *cb, void *arg)
{
	struct remote_task *t = xcalloc(1, sizeof(*t));
	const struct remote_params *p = &a->cfg->p;
	char key[REMOTE_HOST_MAX + 32];
	size_t i;

	t->agent = a;
	t->cfg = a->cfg;
	t->cfg->refs++;
	t->queue_id = xstrdup(job->queue_id != NULL ? job->queue_id : "-");
	t->domain = xstrdup(job->domain != NULL ? job->domain : "");
	t->from = xstrdup(job->from != NULL ? job->from : "");
	t->n_rcpts = job->n_rcpts;
	t->rcpts = xcalloc(job->n_rcpts + 1, sizeof(*t->rcpts));
	for (i = 0; i < job->n_rcpts; i++)
		t->rcpts[i] = xstrdup(job->rcpts[i]);
	t->content_fd = job->content_fd;
	t->content_len = job->content_len;
	t->body = job->body;
	t->smtputf8 = job->smtputf8;
	t->arrival = job->arrival;
	t->cb = cb;
	t->cb_arg = arg;
	t->outcome.rcpts = xcalloc(job->n_rcpts + 1, sizeof(*t->outcome.rcpts));
	t->outcome.n_rcpts = job->n_rcpts;
	(void)!str_copy(t->outcome.relay, "none", sizeof(t->outcome.relay));
	t->done_ev = event_new(a->base, -1, 0, deliver_remote_task_on_done, t);
	if (t->done_ev == NULL)
		log_panic("remote_agent_deliver: event_new failed");
	TAILQ_INSERT_TAIL(&a->jobs, t, entry);

	if (p->relay_host != NULL)
		(void)snprintf(key, sizeof(key), "[relay]%s:%u", p->relay_host,
		    (unsigned)p->relay_port);
	else
		(void)snprintf(key, sizeof(key), "%s", t->domain);
	t->dest = deliver_remote_dest_get(a, key);
	if (t->n_rcpts == 0) {
		deliver_remote_task_finish(t);
		return;
	}
	deliver_remote_dest_submit(t->dest, t);
}
