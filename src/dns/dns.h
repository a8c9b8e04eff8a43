/* SPDX-License-Identifier: ISC */
/*
 * Asynchronous DNS for outbound mail (c-ares on the libevent loop):
 * where mail for a domain goes (RFC 5321 section 5.1, RFC 7505 null MX)
 * and the addresses of a named host (smarthost).  Lookups never block
 * the loop; results come back through callbacks on the loop thread.
 *
 * tern asks no question about loopback client addresses (it makes no
 * PTR lookups at all so far), and tests point the resolver at a private
 * server on loopback with [server] resolver.
 */
#ifndef TERN_DNS_DNS_H
#define TERN_DNS_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/compat.h"

struct buf;
struct dns;
struct dns_query;
struct event_base;

enum dns_status {
	DNS_OK,
	DNS_NXDOMAIN,	/* the domain does not exist: permanent, 5.1.2 */
	DNS_NULL_MX,	/* "0 ." (RFC 7505): accepts no mail, 5.1.10 */
	DNS_NO_ADDRESS,	/* exists, but no MX and no A/AAAA: 5.1.2 */
	DNS_TEMPFAIL,	/* SERVFAIL, REFUSED, timeout: try later, 4.4.3 */
};

/* One host to try, with its addresses in the order to try them. */
struct dns_host {
	char *name;		/* the MX target, or the domain itself */
	uint16_t preference;	/* MX preference; 0 for an implicit MX */
	struct sockaddr_storage *addrs;	/* port filled in */
	size_t n_addrs;
	enum dns_status status;	/* of this host's address lookup */
};

/*
 * Where to send: hosts in the order to try them (MX preference order,
 * random order among equal preferences; each host's IPv6 then IPv4
 * addresses).  status is DNS_OK when at least one address exists.
 */
struct dns_route {
	enum dns_status status;
	char error[160];	/* for logs and DSNs when not DNS_OK */
	bool implicit_mx;	/* no MX: the domain's own A/AAAA */
	struct dns_host *hosts;
	size_t n_hosts;
};

/* Called once per lookup, on the loop; route is valid during the call. */
typedef void dns_route_fn(void *arg, const struct dns_route *route);

/*
 * Starts the resolver on base.  servers: "host:port[,host:port...]"
 * (numeric addresses; IPv6 as [addr]:port) or NULL for the system's
 * /etc/resolv.conf.  0, or -1 with a reason in err.  Each query is
 * tried DNS_TRIES_DEFAULT times with DNS_TIMEOUT_MS_DEFAULT per try
 * (see dns_set_timeout()); a server answering SERVFAIL or REFUSED makes
 * c-ares move on to the next server.
 */
ATTR_WUR int dns_new(struct event_base *base, const char *servers,
    struct dns **dns_r, struct buf *err);
/* Cancels every pending query (their callbacks do not run) and frees. */
void dns_free(struct dns **dnsp);

/*
 * Looks up the route for mail to domain (MX, CNAME followed, fallback to
 * A/AAAA when there is no MX, null MX detected), addresses with port.
 * Returns a handle for dns_query_cancel(), valid until cb runs.
 *
 * Details (additions to the first contract): domain is absolute, with or
 * without its final dot, and no search list is ever applied.  cb never
 * runs before this returns, even when the answer needs no query; it may
 * start lookups, cancel others, or dns_free() the resolver.  Host
 * addresses come from /etc/hosts, then DNS (AAAA and A).  An RFC 5321
 * 4.1.3 address literal ("[192.0.2.1]", "[IPv6:2001:db8::1]") gives
 * that one address without a query.  At most 10 hosts (lowest
 * preferences) with at most 16 addresses each are returned; a host whose
 * lookup failed stays listed with no address and its own status.
 */
struct dns_query *dns_route_lookup(struct dns *d, const char *domain,
    uint16_t port, dns_route_fn *cb, void *arg);

/*
 * The addresses of one host name (or numeric address, bare or in
 * brackets: answered without a query), as a route with one host.
 * Status DNS_NXDOMAIN when the name does not exist.  Same rules as
 * dns_route_lookup() for cb and the handle.
 */
struct dns_query *dns_host_lookup(struct dns *d, const char *host,
    uint16_t port, dns_route_fn *cb, void *arg);

/* Stops a pending lookup; its callback will not run. */
void dns_query_cancel(struct dns_query *q);

/*
 * Additions (not in the first contract).
 *
 * Returns a uniformly random number in [0, n), n >= 1; the order among
 * MX hosts of equal preference is drawn with it (RFC 5321 5.1).
 */
typedef uint32_t dns_random_fn(void *arg, uint32_t n);

/* Replaces the random source (default getrandom(2)); for tests. */
void dns_set_random(struct dns *d, dns_random_fn *fn, void *arg);

/*
 * Sets the time allowed for one try at one server, and the number of
 * tries (defaults DNS_TIMEOUT_MS_DEFAULT and DNS_TRIES_DEFAULT).  Only
 * while no lookup is pending.  0, or -1 with a reason in err.
 */
#define DNS_TIMEOUT_MS_DEFAULT 2000
#define DNS_TRIES_DEFAULT 2
ATTR_WUR int dns_set_timeout(struct dns *d, unsigned timeout_ms,
    unsigned tries, struct buf *err);

#endif
