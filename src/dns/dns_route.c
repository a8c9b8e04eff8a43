/* SPDX-License-Identifier: ISC */
/*
 * Route building without I/O: MX answers to an ordered host list
 * (RFC 5321 5.1: preference order, random among equals, implicit MX),
 * null MX (RFC 7505), and per-host address lists, IPv6 first.  The
 * queries themselves are made by dns.c; answers are untrusted and are
 * read only through c-ares' parsers.
 */
#include "dns/dns_route.h"

#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>

#include <ares.h>

#include "core/log.h"
#include "core/str.h"
#include "core/xalloc.h"

/* Room for a sanitised name in an error text (r->error is 160). */
#define DNS_ROUTE_TEXT_NAME_MAX 96

/* A candidate exchange while sorting: owned lowercase name. */
struct dns_route_cand {
	char *name;
	uint16_t preference;
	size_t index;	/* position in the answer, for a stable order */
};

uint32_t
dns_route_random(void *arg, uint32_t n)
{
	/* Rejection sampling: drop the 2^32 mod n values that bias. */
	uint32_t threshold, v;

	(void)arg;
	if (n <= 1)
		return 0;
	threshold = (uint32_t)(-n) % n;
	for (;;) {
		if (getrandom(&v, sizeof(v), 0) != (ssize_t)sizeof(v))
			return 0;	/* no entropy: no shuffle, still valid */
		if (v >= threshold)
			return v % n;
	}
}

void
dns_route_init(struct dns_route *r)
{
	memset(r, 0, sizeof(*r));
	r->status = DNS_TEMPFAIL;
	(void)!str_copy(r->error, "route not resolved", sizeof(r->error));
}

void
dns_route_clear(struct dns_route *r)
{
	size_t i;

	for (i = 0; i < r->n_hosts; i++) {
		free(r->hosts[i].name);
		free(r->hosts[i].addrs);
	}
	free(r->hosts);
	dns_route_init(r);
}

void
dns_route_fail(struct dns_route *r, enum dns_status status, const char *fmt,
    ...)
{
	va_list ap;

	r->status = status;
	va_start(ap, fmt);
	/* A log and DSN text: truncation is acceptable here. */
	(void)vsnprintf(r->error, sizeof(r->error), fmt, ap);
	va_end(ap);
}

/* name made printable and short enough for an error text. */
static const char *
dns_route_text_name(char *out, size_t size, const char *name)
{
	return str_sanitize(out, size, name, strlen(name));
}

/* A short reason for a c-ares status, for error texts. */
static const char *
dns_route_ares_text(int ares_status)
{
	switch (ares_status) {
	case ARES_ESERVFAIL:
		return "server failure";
	case ARES_EREFUSED:
		return "query refused";
	case ARES_ETIMEOUT:
		return "timeout";
	case ARES_ECONNREFUSED:
		/*
		 * c-ares 1.18 moves on to the next server after SERVFAIL,
		 * NOTIMP or REFUSED, and when none is left reports this.
		 */
		return "server failure or connection refused";
	case ARES_EBADRESP:
		return "malformed answer";
	case ARES_ENOTFOUND:
		return "domain not found";
	case ARES_ENODATA:
		return "no records";
	case ARES_EBADNAME:
		return "invalid name";
	case ARES_EFORMERR:
		return "format error";
	case ARES_ENOTIMP:
		return "not implemented by the server";
	default:
		return ares_strerror(ares_status);
	}
}

static bool
dns_route_is_root(const char *name)
{
	return name[0] == '\0' || (name[0] == '.' && name[1] == '\0');
}

/*
 * Whether name[len] is a host name: LDH labels of 1..63 octets (RFC 1035
 * 2.3.1, RFC 5321 2.3.5; "_" tolerated).  c-ares hands over any octets
 * in a label as \-escapes; such an exchange cannot be a mail host.
 */
static bool
dns_route_is_hostname(const char *name, size_t len)
{
	size_t i, label = 0;

	for (i = 0; i < len; i++) {
		char c = name[i];

		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return false;
		if (++label > 63)
			return false;
	}
	return label > 0;
}

/* Lowercase copy without the trailing dot, or NULL when not a host name. */
static char *
dns_route_norm_name(const char *name)
{
	size_t len = strlen(name);
	char *s;

	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0 || len > DNS_NAME_MAX || !dns_route_is_hostname(name, len))
		return NULL;
	s = xstrndup(name, len);
	return str_lower(s);
}

static int
dns_route_cmp_name(const void *a, const void *b)
{
	const struct dns_route_cand *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c != 0)
		return c;
	if (x->preference != y->preference)
		return x->preference < y->preference ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

static int
dns_route_cmp_pref(const void *a, const void *b)
{
	const struct dns_route_cand *x = a, *y = b;

	if (x->preference != y->preference)
		return x->preference < y->preference ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* Fisher-Yates within each run of equal preference (RFC 5321 5.1). */
static void
dns_route_shuffle(struct dns_route_cand *c, size_t n, dns_random_fn *rnd,
    void *rnd_arg)
{
	size_t i = 0, j, k;

	while (i < n) {
		for (j = i + 1; j < n && c[j].preference == c[i].preference;
		    j++)
			;
		for (k = j - 1; k > i; k--) {
			size_t span = k - i + 1;
			size_t s;
			struct dns_route_cand t;

			s = i + (span > UINT32_MAX ? 0 : rnd(rnd_arg,
			    (uint32_t)span) % span);
			t = c[k];
			c[k] = c[s];
			c[s] = t;
		}
		i = j;
	}
}

static void
dns_route_add_host(struct dns_route *r, char *name, uint16_t preference)
{
	struct dns_host *h;

	r->hosts = xreallocarray(r->hosts, r->n_hosts + 1, sizeof(*r->hosts));
	h = &r->hosts[r->n_hosts++];
	memset(h, 0, sizeof(*h));
	h->name = name;
	h->preference = preference;
	h->status = DNS_TEMPFAIL;	/* until its lookup reports */
}

int
dns_route_from_mx(struct dns_route *r, const char *domain,
    const struct dns_mx *mx, size_t n_mx, dns_random_fn *rnd, void *rnd_arg)
{
	char tn[DNS_ROUTE_TEXT_NAME_MAX];
	struct dns_route_cand *c;
	size_t i, n = 0, n_root = 0, kept;

	ASSERT(r->n_hosts == 0);
	if (n_mx == 0) {
		dns_route_set_implicit(r, domain);
		return 0;
	}
	c = xcalloc(n_mx, sizeof(*c));
	for (i = 0; i < n_mx; i++) {
		char *name;

		if (dns_route_is_root(mx[i].name)) {
			n_root++;
			continue;
		}
		if ((name = dns_route_norm_name(mx[i].name)) == NULL)
			continue;
		c[n].name = name;
		c[n].preference = mx[i].preference;
		c[n].index = i;
		n++;
	}
	/*
	 * RFC 7505 3: a null MX is the domain's only MX.  When all that is
	 * published is root exchanges, nothing can take mail either way.
	 */
	if (n_root == n_mx) {
		free(c);
		dns_route_fail(r, DNS_NULL_MX,
		    "null MX: %s accepts no mail (RFC 7505)",
		    dns_route_text_name(tn, sizeof(tn), domain));
		return -1;
	}
	/* Duplicates: sort by name, keep each name's lowest preference. */
	qsort(c, n, sizeof(*c), dns_route_cmp_name);
	kept = 0;
	for (i = 0; i < n; i++) {
		if (kept > 0 && strcmp(c[kept - 1].name, c[i].name) == 0) {
			free(c[i].name);
			continue;
		}
		c[kept++] = c[i];
	}
	n = kept;
	if (n == 0) {
		free(c);
		dns_route_fail(r, DNS_NO_ADDRESS,
		    "MX for %s has no usable exchange",
		    dns_route_text_name(tn, sizeof(tn), domain));
		return -1;
	}
	qsort(c, n, sizeof(*c), dns_route_cmp_pref);
	dns_route_shuffle(c, n, rnd, rnd_arg);
	for (i = 0; i < n; i++) {
		if (i < DNS_ROUTE_MAX_HOSTS)
			dns_route_add_host(r, c[i].name, c[i].preference);
		else
			free(c[i].name);
	}
	free(c);
	return 0;
}

int
dns_route_from_answer(struct dns_route *r, const char *domain,
    int ares_status, const uint8_t *abuf, size_t alen, dns_random_fn *rnd,
    void *rnd_arg)
{
	char tn[DNS_ROUTE_TEXT_NAME_MAX];
	struct ares_mx_reply *list = NULL, *p;
	struct dns_mx *mx;
	size_t n = 0, i;
	int rc;

	ASSERT(r->n_hosts == 0);
	switch (ares_status) {
	case ARES_SUCCESS:
		break;
	case ARES_ENODATA:
		dns_route_set_implicit(r, domain);
		return 0;
	case ARES_ENOTFOUND:
	case ARES_EBADNAME:
		dns_route_fail(r, DNS_NXDOMAIN, "MX lookup for %s: %s",
		    dns_route_text_name(tn, sizeof(tn), domain),
		    dns_route_ares_text(ares_status));
		return -1;
	default:
		dns_route_fail(r, DNS_TEMPFAIL, "MX lookup for %s: %s",
		    dns_route_text_name(tn, sizeof(tn), domain),
		    dns_route_ares_text(ares_status));
		return -1;
	}
	if (abuf == NULL || alen > INT_MAX) {
		dns_route_fail(r, DNS_TEMPFAIL, "MX lookup for %s: %s",
		    dns_route_text_name(tn, sizeof(tn), domain),
		    dns_route_ares_text(ARES_EBADRESP));
		return -1;
	}
	rc = ares_parse_mx_reply(abuf, (int)alen, &list);
	if (rc == ARES_ENODATA) {
		/* e.g. only a CNAME to a name without MX: no MX at all. */
		dns_route_set_implicit(r, domain);
		return 0;
	}
	if (rc != ARES_SUCCESS) {
		if (list != NULL)
			ares_free_data(list);
		dns_route_fail(r, DNS_TEMPFAIL, "MX lookup for %s: %s",
		    dns_route_text_name(tn, sizeof(tn), domain),
		    dns_route_ares_text(rc));
		return -1;
	}
	for (p = list; p != NULL; p = p->next)
		n++;
	mx = xcalloc(n == 0 ? 1 : n, sizeof(*mx));
	for (i = 0, p = list; p != NULL; p = p->next, i++) {
		mx[i].name = p->host != NULL ? p->host : "";
		mx[i].preference = p->priority;
	}
	rc = dns_route_from_mx(r, domain, mx, n, rnd, rnd_arg);
	free(mx);
	ares_free_data(list);
	return rc;
}

void
dns_route_set_implicit(struct dns_route *r, const char *domain)
{
	size_t len = strlen(domain);

	ASSERT(r->n_hosts == 0);
	if (len > 0 && domain[len - 1] == '.')
		len--;
	dns_route_add_host(r, xstrndup(domain, len), 0);
	r->implicit_mx = true;
}

void
dns_route_set_host(struct dns_route *r, const char *host)
{
	ASSERT(r->n_hosts == 0);
	dns_route_add_host(r, xstrdup(host), 0);
}

static bool
dns_route_same_addr(const struct sockaddr_storage *a,
    const struct sockaddr *b)
{
	if (a->ss_family != b->sa_family)
		return false;
	if (b->sa_family == AF_INET)
		return memcmp(&((const struct sockaddr_in *)a)->sin_addr,
		    &((const struct sockaddr_in *)b)->sin_addr,
		    sizeof(struct in_addr)) == 0;
	return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
	    &((const struct sockaddr_in6 *)b)->sin6_addr,
	    sizeof(struct in6_addr)) == 0;
}

void
dns_route_host_add_addr(struct dns_host *h, const struct sockaddr *sa,
    uint16_t port)
{
	struct sockaddr_storage ss;
	size_t i, n_v6 = 0, at;

	if (sa->sa_family != AF_INET && sa->sa_family != AF_INET6)
		return;
	for (i = 0; i < h->n_addrs; i++) {
		if (dns_route_same_addr(&h->addrs[i], sa))
			return;
		if (h->addrs[i].ss_family == AF_INET6)
			n_v6++;
	}
	memset(&ss, 0, sizeof(ss));
	if (sa->sa_family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;

		in->sin_family = AF_INET;
		in->sin_addr = ((const struct sockaddr_in *)sa)->sin_addr;
		in->sin_port = htons(port);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
		const struct sockaddr_in6 *src = (const struct sockaddr_in6 *)sa;

		in6->sin6_family = AF_INET6;
		in6->sin6_addr = src->sin6_addr;
		in6->sin6_scope_id = src->sin6_scope_id;
		in6->sin6_port = htons(port);
	}
	if (h->n_addrs == DNS_HOST_MAX_ADDRS) {
		/* Full: an IPv6 address still displaces the last IPv4 one. */
		if (sa->sa_family == AF_INET || n_v6 == h->n_addrs)
			return;
		h->n_addrs--;
	}
	if (h->addrs == NULL)
		h->addrs = xcalloc(DNS_HOST_MAX_ADDRS, sizeof(*h->addrs));
	at = sa->sa_family == AF_INET6 ? n_v6 : h->n_addrs;
	memmove(&h->addrs[at + 1], &h->addrs[at],
	    (h->n_addrs - at) * sizeof(*h->addrs));
	h->addrs[at] = ss;
	h->n_addrs++;
}

void
dns_route_host_result(struct dns_host *h, int ares_status,
    const struct ares_addrinfo *ai, uint16_t port)
{
	const struct ares_addrinfo_node *node;

	if (ai != NULL) {
		for (node = ai->nodes; node != NULL; node = node->ai_next) {
			if (node->ai_addr != NULL)
				dns_route_host_add_addr(h, node->ai_addr,
				    port);
		}
	}
	if (h->n_addrs > 0) {
		h->status = DNS_OK;
		return;
	}
	switch (ares_status) {
	case ARES_SUCCESS:
	case ARES_ENODATA:
		h->status = DNS_NO_ADDRESS;
		break;
	case ARES_ENOTFOUND:
	case ARES_EBADNAME:
		h->status = DNS_NXDOMAIN;
		break;
	default:
		h->status = DNS_TEMPFAIL;
		break;
	}
}

void
dns_route_finish(struct dns_route *r, const char *name, bool is_host_route)
{
	char tn[DNS_ROUTE_TEXT_NAME_MAX];
	bool any_temp = false, any_nx = false;
	size_t i;

	for (i = 0; i < r->n_hosts; i++) {
		if (r->hosts[i].n_addrs > 0) {
			r->status = DNS_OK;
			r->error[0] = '\0';
			return;
		}
		if (r->hosts[i].status == DNS_TEMPFAIL)
			any_temp = true;
		if (r->hosts[i].status == DNS_NXDOMAIN)
			any_nx = true;
	}
	dns_route_text_name(tn, sizeof(tn), name);
	if (any_temp) {
		dns_route_fail(r, DNS_TEMPFAIL,
		    is_host_route || r->implicit_mx ?
			"address lookup for %s: temporary failure" :
			"address lookup for the MX hosts of %s: temporary "
			"failure",
		    tn);
	} else if (is_host_route && any_nx) {
		dns_route_fail(r, DNS_NXDOMAIN, "host %s not found", tn);
	} else if (is_host_route) {
		dns_route_fail(r, DNS_NO_ADDRESS, "host %s has no address", tn);
	} else if (r->implicit_mx) {
		dns_route_fail(r, DNS_NO_ADDRESS,
		    "%s has no MX and no address records", tn);
	} else {
		dns_route_fail(r, DNS_NO_ADDRESS,
		    "no MX host of %s has an address", tn);
	}
}

const char *
dns_route_status_name(enum dns_status status)
{
	switch (status) {
	case DNS_OK:
		return "ok";
	case DNS_NXDOMAIN:
		return "nxdomain";
	case DNS_NULL_MX:
		return "null-mx";
	case DNS_NO_ADDRESS:
		return "no-address";
	case DNS_TEMPFAIL:
		return "tempfail";
	}
	log_panic("dns_route_status_name: bad status %d", (int)status);
}
