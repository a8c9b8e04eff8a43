/* SPDX-License-Identifier: ISC */
/*
 * c-ares on the libevent loop: socket watches from ARES_OPT_SOCK_STATE_CB,
 * one timer from ares_timeout(), and the query life cycle (MX, then the
 * addresses of each exchange; RFC 5321 5.1).  What the answers mean is
 * decided in dns_route.c.  Names are absolute: no search list (mail
 * domains are FQDNs), and no PTR query is ever made.
 */
#include "dns/dns.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <ares.h>
#include <event2/event.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/str.h"
#include "core/xalloc.h"
#include "dns/dns_route.h"

/* One c-ares socket and the event watching it. */
struct dns_watch {
	ares_socket_t fd;
	short what;
	struct event *ev;
};

struct dns_query_ai {
	struct dns_query *q;
	size_t host;	/* index into q->route.hosts */
};

struct dns_query {
	TAILQ_ENTRY(dns_query) entry;
	struct dns *d;
	char *name;		/* domain (route) or host name */
	uint16_t port;
	bool is_host;		/* dns_host_lookup() */
	bool is_final;		/* route decided before any address lookup */
	bool is_cancelled;
	bool is_linked;		/* in d->queries */
	/*
	 * c-ares requests not yet called back, plus one hold while a step
	 * starts requests (a callback may run before ares_* returns).
	 */
	unsigned pending;
	struct dns_route route;
	struct dns_query_ai *ai;
	struct event *done_ev;	/* runs cb outside c-ares and the caller */
	dns_route_fn *cb;
	void *arg;
};

TAILQ_HEAD(dns_query_list, dns_query);

struct dns {
	struct event_base *base;
	ares_channel ch;
	bool has_channel;
	char *servers;
	unsigned timeout_ms;
	unsigned tries;
	struct event *timer;
	struct dns_watch *watches;
	size_t n_watches;
	dns_random_fn *rnd;
	void *rnd_arg;
	struct dns_query_list queries;
};

static void dns_timer_update(struct dns *d);

static void
dns_sock_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dns *d = arg;

	/* May change or free this very event through dns_sock_state(). */
	ares_process_fd(d->ch, (what & EV_READ) ? fd : ARES_SOCKET_BAD,
	    (what & EV_WRITE) ? fd : ARES_SOCKET_BAD);
	dns_timer_update(d);
}

static void
dns_sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
	struct dns *d = data;
	short what = (short)((readable ? EV_READ : 0) |
	    (writable ? EV_WRITE : 0));
	struct dns_watch *w = NULL;
	size_t i;

	for (i = 0; i < d->n_watches; i++) {
		if (d->watches[i].fd == fd) {
			w = &d->watches[i];
			break;
		}
	}
	if (w != NULL && w->what == what)
		return;
	if (w != NULL) {
		event_free(w->ev);
		w->ev = NULL;
	}
	if (what == 0) {
		if (w != NULL)
			d->watches[i] = d->watches[--d->n_watches];
		return;
	}
	if (w == NULL) {
		d->watches = xreallocarray(d->watches, d->n_watches + 1,
		    sizeof(*d->watches));
		w = &d->watches[d->n_watches++];
		w->fd = fd;
	}
	w->what = what;
	w->ev = event_new(d->base, fd, (short)(what | EV_PERSIST), dns_sock_cb,
	    d);
	if (w->ev == NULL || event_add(w->ev, NULL) == -1)
		log_panic("dns: cannot watch resolver socket %d", (int)fd);
}

static void
dns_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dns *d = arg;

	(void)fd;
	(void)what;
	ares_process_fd(d->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	dns_timer_update(d);
}

/* Re-arms the timer for c-ares' next retransmission or timeout. */
static void
dns_timer_update(struct dns *d)
{
	struct timeval tv, *tvp;

	if (!d->has_channel)
		return;
	tvp = ares_timeout(d->ch, NULL, &tv);
	if (tvp == NULL)
		(void)event_del(d->timer);
	else if (event_add(d->timer, tvp) == -1)
		log_panic("dns: cannot arm the resolver timer");
}

static int
dns_channel_open(struct dns *d, struct buf *err)
{
	/* "f"iles then "b"ind: /etc/hosts is local, trusted admin data. */
	static char lookups[] = "fb";
	struct ares_options opts;
	int mask, rc;

	memset(&opts, 0, sizeof(opts));
	/* Mail domains are absolute: never append a search domain. */
	opts.flags = ARES_FLAG_NOSEARCH;
	opts.timeout = (int)d->timeout_ms;
	opts.tries = (int)d->tries;
	opts.ndomains = 0;
	opts.domains = NULL;
	opts.lookups = lookups;
	opts.sock_state_cb = dns_sock_state;
	opts.sock_state_cb_data = d;
	mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES |
	    ARES_OPT_DOMAINS | ARES_OPT_LOOKUPS | ARES_OPT_SOCK_STATE_CB;
	rc = ares_init_options(&d->ch, &opts, mask);
	if (rc != ARES_SUCCESS) {
		(void)!buf_printf(err, "dns: resolver setup failed: %s",
		    ares_strerror(rc));
		return -1;
	}
	if (d->servers != NULL &&
	    (rc = ares_set_servers_ports_csv(d->ch, d->servers)) !=
		ARES_SUCCESS) {
		char tn[128];

		ares_destroy(d->ch);
		(void)!buf_printf(err, "dns: bad resolver servers \"%s\": %s",
		    str_sanitize(tn, sizeof(tn), d->servers,
			strlen(d->servers)),
		    ares_strerror(rc));
		return -1;
	}
	d->has_channel = true;
	return 0;
}

static void
dns_channel_close(struct dns *d)
{
	size_t i;

	if (!d->has_channel)
		return;
	/* Calls back every outstanding request with ARES_EDESTRUCTION. */
	ares_destroy(d->ch);
	d->has_channel = false;
	for (i = 0; i < d->n_watches; i++)
		event_free(d->watches[i].ev);
	free(d->watches);
	d->watches = NULL;
	d->n_watches = 0;
	(void)event_del(d->timer);
}

int
dns_new(struct event_base *base, const char *servers, struct dns **dns_r,
    struct buf *err)
{
	struct dns *d;
	int rc;

	*dns_r = NULL;
	if ((rc = ares_library_init(ARES_LIB_INIT_ALL)) != ARES_SUCCESS) {
		(void)!buf_printf(err, "dns: c-ares init failed: %s",
		    ares_strerror(rc));
		return -1;
	}
	d = xcalloc(1, sizeof(*d));
	d->base = base;
	d->servers = servers != NULL ? xstrdup(servers) : NULL;
	d->timeout_ms = DNS_TIMEOUT_MS_DEFAULT;
	d->tries = DNS_TRIES_DEFAULT;
	d->rnd = dns_route_random;
	TAILQ_INIT(&d->queries);
	d->timer = evtimer_new(base, dns_timer_cb, d);
	if (d->timer == NULL)
		log_panic("dns: evtimer_new failed");
	if (dns_channel_open(d, err) == -1) {
		event_free(d->timer);
		free(d->servers);
		free(d);
		ares_library_cleanup();
		return -1;
	}
	*dns_r = d;
	return 0;
}

static void
dns_query_destroy(struct dns_query *q)
{
	if (q->is_linked) {
		TAILQ_REMOVE(&q->d->queries, q, entry);
		q->is_linked = false;
	}
	event_free(q->done_ev);
	dns_route_clear(&q->route);
	free(q->ai);
	free(q->name);
	free(q);
}

void
dns_free(struct dns **dnsp)
{
	struct dns *d = *dnsp;
	struct dns_query *q, *next;

	if (d == NULL)
		return;
	*dnsp = NULL;
	TAILQ_FOREACH(q, &d->queries, entry)
		q->is_cancelled = true;
	/* Cancelled queries free themselves as their requests end. */
	dns_channel_close(d);
	for (q = TAILQ_FIRST(&d->queries); q != NULL; q = next) {
		next = TAILQ_NEXT(q, entry);
		ASSERT(q->pending == 0);
		dns_query_destroy(q);
	}
	event_free(d->timer);
	free(d->servers);
	free(d);
	ares_library_cleanup();
}

void
dns_set_random(struct dns *d, dns_random_fn *fn, void *arg)
{
	d->rnd = fn != NULL ? fn : dns_route_random;
	d->rnd_arg = fn != NULL ? arg : NULL;
}

int
dns_set_timeout(struct dns *d, unsigned timeout_ms, unsigned tries,
    struct buf *err)
{
	unsigned old_ms = d->timeout_ms, old_tries = d->tries;

	ASSERT(TAILQ_EMPTY(&d->queries));
	if (timeout_ms == 0 || timeout_ms > 600000 || tries == 0 ||
	    tries > 10) {
		(void)!buf_printf(err, "dns: timeout %u ms or tries %u out of "
		    "range", timeout_ms, tries);
		return -1;
	}
	/* c-ares 1.18 cannot change these on a live channel. */
	dns_channel_close(d);
	d->timeout_ms = timeout_ms;
	d->tries = tries;
	if (dns_channel_open(d, err) == -1) {
		d->timeout_ms = old_ms;
		d->tries = old_tries;
		if (dns_channel_open(d, err) == -1)
			log_panic("dns: cannot reopen the resolver");
		return -1;
	}
	return 0;
}

static void
dns_query_done(evutil_socket_t fd, short what, void *arg)
{
	struct dns_query *q = arg;

	(void)fd;
	(void)what;
	/* Unlinked first, so that cb may even dns_free() our resolver. */
	if (q->is_linked) {
		TAILQ_REMOVE(&q->d->queries, q, entry);
		q->is_linked = false;
	}
	if (log_enabled(LOG_LEVEL_DEBUG)) {
		char tn[128];

		log_debug("dns %s name=%s status=%s hosts=%zu%s",
		    q->is_host ? "host" : "route",
		    str_sanitize(tn, sizeof(tn), q->name, strlen(q->name)),
		    dns_route_status_name(q->route.status), q->route.n_hosts,
		    q->route.implicit_mx ? " implicit_mx=yes" : "");
	}
	q->cb(q->arg, &q->route);
	dns_query_destroy(q);
}

/* Ends one c-ares request (or the start hold) of q. */
static void
dns_query_release(struct dns_query *q)
{
	ASSERT(q->pending > 0);
	if (--q->pending > 0)
		return;
	if (q->is_cancelled) {
		dns_query_destroy(q);
		return;
	}
	if (!q->is_final)
		dns_route_finish(&q->route, q->name, q->is_host);
	event_active(q->done_ev, EV_TIMEOUT, 0);
}

static void
dns_query_ai_cb(void *arg, int status, int timeouts, struct ares_addrinfo *res)
{
	struct dns_query_ai *ai = arg;
	struct dns_query *q = ai->q;

	(void)timeouts;
	if (!q->is_cancelled)
		dns_route_host_result(&q->route.hosts[ai->host], status, res,
		    q->port);
	if (res != NULL)
		ares_freeaddrinfo(res);
	dns_query_release(q);
}

/* Starts the AAAA+A lookups of every host in q's route. */
static void
dns_query_resolve_hosts(struct dns_query *q)
{
	struct ares_addrinfo_hints hints;
	size_t i, n = q->route.n_hosts;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;	/* AAAA and A */
	hints.ai_socktype = SOCK_STREAM;
	/* We order IPv6 before IPv4 ourselves; no probe connections. */
	hints.ai_flags = ARES_AI_NOSORT;
	q->ai = xcalloc(n == 0 ? 1 : n, sizeof(*q->ai));
	for (i = 0; i < n; i++) {
		q->ai[i].q = q;
		q->ai[i].host = i;
		q->pending++;
		ares_getaddrinfo(q->d->ch, q->route.hosts[i].name, NULL,
		    &hints, dns_query_ai_cb, &q->ai[i]);
	}
}

static void
dns_query_mx_cb(void *arg, int status, int timeouts, unsigned char *abuf,
    int alen)
{
	struct dns_query *q = arg;

	(void)timeouts;
	if (!q->is_cancelled) {
		if (dns_route_from_answer(&q->route, q->name, status, abuf,
			alen > 0 ? (size_t)alen : 0, q->d->rnd,
			q->d->rnd_arg) == -1)
			q->is_final = true;
		else
			dns_query_resolve_hosts(q);
	}
	dns_query_release(q);
}

static struct dns_query *
dns_query_new(struct dns *d, const char *name, uint16_t port, bool is_host,
    dns_route_fn *cb, void *arg)
{
	struct dns_query *q = xcalloc(1, sizeof(*q));

	q->d = d;
	q->name = xstrdup(name);
	q->port = port;
	q->is_host = is_host;
	q->cb = cb;
	q->arg = arg;
	q->pending = 1;	/* the start hold */
	dns_route_init(&q->route);
	q->done_ev = event_new(d->base, -1, 0, dns_query_done, q);
	if (q->done_ev == NULL)
		log_panic("dns: event_new failed");
	TAILQ_INSERT_TAIL(&d->queries, q, entry);
	q->is_linked = true;
	return q;
}

/*
 * A numeric address, bare or in brackets, or an RFC 5321 4.1.3 address
 * literal ("[192.0.2.1]", "[IPv6:2001:db8::1]").  0 with *ss set, or -1.
 */
static int
dns_query_numeric(const char *s, struct sockaddr_storage *ss)
{
	char tmp[INET6_ADDRSTRLEN + 8];
	size_t len = strlen(s);
	const char *p = s;

	memset(ss, 0, sizeof(*ss));
	if (len >= 2 && s[0] == '[' && s[len - 1] == ']') {
		if (len - 2 >= sizeof(tmp))
			return -1;
		memcpy(tmp, s + 1, len - 2);
		tmp[len - 2] = '\0';
		p = tmp;
		if (str_has_case_prefix(p, "IPv6:"))
			p += 5;
	}
	if (inet_pton(AF_INET, p, &((struct sockaddr_in *)ss)->sin_addr) ==
	    1) {
		ss->ss_family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, p, &((struct sockaddr_in6 *)ss)->sin6_addr) ==
	    1) {
		ss->ss_family = AF_INET6;
		return 0;
	}
	return -1;
}

/* A name c-ares can be asked about: 1..253 octets, plus a final dot. */
static bool
dns_query_is_name_ok(const char *name)
{
	size_t len = strlen(name);

	if (len > 0 && name[len - 1] == '.')
		len--;
	return len > 0 && len <= DNS_NAME_MAX;
}

struct dns_query *
dns_route_lookup(struct dns *d, const char *domain, uint16_t port,
    dns_route_fn *cb, void *arg)
{
	struct sockaddr_storage ss;
	struct dns_query *q;

	ASSERT(d != NULL && domain != NULL && cb != NULL);
	q = dns_query_new(d, domain, port, false, cb, arg);
	if (domain[0] == '[' && dns_query_numeric(domain, &ss) == 0) {
		/* An address literal names the host itself: no DNS. */
		dns_route_set_host(&q->route, domain);
		dns_route_host_add_addr(&q->route.hosts[0],
		    (struct sockaddr *)&ss, port);
		q->route.hosts[0].status = DNS_OK;
	} else if (!dns_query_is_name_ok(domain)) {
		dns_route_fail(&q->route, DNS_NXDOMAIN,
		    "MX lookup: invalid domain name");
		q->is_final = true;
	} else {
		q->pending++;
		/* ares_query: the name as given, no search list. */
		ares_query(d->ch, domain, ns_c_in, ns_t_mx, dns_query_mx_cb, q);
	}
	/* Nobody could cancel q yet: it outlives the release. */
	ASSERT(!q->is_cancelled);
	dns_query_release(q);
	dns_timer_update(d);
	return q;
}

struct dns_query *
dns_host_lookup(struct dns *d, const char *host, uint16_t port,
    dns_route_fn *cb, void *arg)
{
	struct sockaddr_storage ss;
	struct dns_query *q;

	ASSERT(d != NULL && host != NULL && cb != NULL);
	q = dns_query_new(d, host, port, true, cb, arg);
	if (dns_query_numeric(host, &ss) == 0) {
		dns_route_set_host(&q->route, host);
		dns_route_host_add_addr(&q->route.hosts[0],
		    (struct sockaddr *)&ss, port);
		q->route.hosts[0].status = DNS_OK;
	} else if (!dns_query_is_name_ok(host)) {
		dns_route_fail(&q->route, DNS_NXDOMAIN,
		    "host lookup: invalid host name");
		q->is_final = true;
	} else {
		dns_route_set_host(&q->route, host);
		dns_query_resolve_hosts(q);
	}
	/* Nobody could cancel q yet: it outlives the release. */
	ASSERT(!q->is_cancelled);
	dns_query_release(q);
	dns_timer_update(d);
	return q;
}

void
dns_query_cancel(struct dns_query *q)
{
	if (q == NULL)
		return;
	q->is_cancelled = true;
	/* With requests outstanding, the last one to end frees q. */
	if (q->pending == 0)
		dns_query_destroy(q);
}
