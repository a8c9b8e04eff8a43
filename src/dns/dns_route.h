/* SPDX-License-Identifier: ISC */
/*
 * The pure part of routing: turns DNS answers (already received) into a
 * struct dns_route.  No sockets, no clock, no event loop: dns.c feeds it
 * what c-ares returns, and unit tests and the fuzzer feed it directly.
 *
 * Building a route goes in three steps:
 *   1. dns_route_from_mx() or dns_route_from_answer() (MX step), or
 *      dns_route_set_implicit() / dns_route_set_host(): decides the
 *      hosts to try, in order, or makes the route final;
 *   2. dns_route_host_result() or dns_route_host_add_addr() per host:
 *      its addresses (IPv6 first, then IPv4);
 *   3. dns_route_finish(): the route's status and error text.
 */
#ifndef TERN_DNS_DNS_ROUTE_H
#define TERN_DNS_DNS_ROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/compat.h"
#include "dns/dns.h"

struct ares_addrinfo;
struct sockaddr;

/* At most this many MX hosts are kept (lowest preferences win). */
#define DNS_ROUTE_MAX_HOSTS 10
/* At most this many addresses are kept per host. */
#define DNS_HOST_MAX_ADDRS 16
/* A domain name in text, without the trailing dot (RFC 1035 2.3.4). */
#define DNS_NAME_MAX 253

/* One MX record as parsed: name is the exchange ("" or "." for root). */
struct dns_mx {
	const char *name;
	uint16_t preference;
};

/* The default dns_random_fn (dns.h): getrandom(2); arg is unused. */
uint32_t dns_route_random(void *arg, uint32_t n);

/* An empty route (status DNS_TEMPFAIL, no hosts) / frees its members. */
void dns_route_init(struct dns_route *r);
void dns_route_clear(struct dns_route *r);

/*
 * Makes r final with status and an error text (truncated to fit
 * r->error).  Hosts already in r stay.
 */
ATTR_FORMAT(3, 4) void dns_route_fail(struct dns_route *r,
    enum dns_status status, const char *fmt, ...);

/*
 * The MX step from parsed records (r must be empty).  Applies RFC 7505:
 * when every record's exchange is the root ("" or "."), the route is a
 * null MX; a root exchange among real ones is a misconfiguration
 * (RFC 7505 section 3 says it MUST NOT happen) and is skipped, so the
 * real exchanges are still tried.  Duplicate exchanges keep their lowest
 * preference; names that are not host names (LDH labels, at most
 * DNS_NAME_MAX octets) are skipped.  The rest is sorted by preference,
 * equal preferences shuffled with rnd, and cut to DNS_ROUTE_MAX_HOSTS.  n_mx == 0 is NODATA and gives the implicit MX
 * (see dns_route_set_implicit()).
 * Returns 0 when r->hosts need their addresses, or -1 when r is final
 * (null MX, no usable exchange: status and error are set).
 */
ATTR_WUR int dns_route_from_mx(struct dns_route *r, const char *domain,
    const struct dns_mx *mx, size_t n_mx, dns_random_fn *rnd,
    void *rnd_arg);

/*
 * The MX step from the outcome of an MX query: ares_status is what
 * c-ares reported (ARES_SUCCESS, ARES_ENODATA, ARES_ENOTFOUND, ...) and
 * abuf/alen the raw answer when ARES_SUCCESS (untrusted bytes; they are
 * only read through ares_parse_mx_reply()).  NXDOMAIN gives
 * DNS_NXDOMAIN; server failure, refusal, timeout and undecodable
 * answers give DNS_TEMPFAIL; NODATA, or an answer with no MX record
 * (a CNAME to a name without MX), gives the implicit MX.
 * Returns as dns_route_from_mx().
 */
ATTR_WUR int dns_route_from_answer(struct dns_route *r, const char *domain,
    int ares_status, const uint8_t *abuf, size_t alen, dns_random_fn *rnd,
    void *rnd_arg);

/*
 * No MX (RFC 5321 5.1): "the domain is treated as if it had an MX with
 * preference 0 pointing to itself".  r gets one host, domain, and
 * implicit_mx is set.  r must be empty.
 */
void dns_route_set_implicit(struct dns_route *r, const char *domain);

/* A route to one named host (smarthost), preference 0.  r must be empty. */
void dns_route_set_host(struct dns_route *r, const char *host);

/*
 * Adds sa (AF_INET or AF_INET6, else ignored) to h with port: IPv6
 * addresses go before every IPv4 one, order within a family is kept,
 * duplicates are dropped, and at most DNS_HOST_MAX_ADDRS are kept.
 */
void dns_route_host_add_addr(struct dns_host *h, const struct sockaddr *sa,
    uint16_t port);

/*
 * Records the outcome of h's address lookup: ares_status as c-ares
 * reported it and ai its result (may be NULL).  h->status becomes
 * DNS_OK when h has an address, else DNS_NXDOMAIN, DNS_NO_ADDRESS or
 * DNS_TEMPFAIL.
 */
void dns_route_host_result(struct dns_host *h, int ares_status,
    const struct ares_addrinfo *ai, uint16_t port);

/*
 * Sets r->status and r->error from its hosts, once each host has its
 * result (call it only when step 1 did not make r final): DNS_OK when
 * any host has an address; otherwise DNS_TEMPFAIL
 * when any host lookup failed temporarily; otherwise, for a host route
 * (is_host_route) whose name does not exist, DNS_NXDOMAIN; otherwise
 * DNS_NO_ADDRESS.  name is the domain or host, for the text.
 */
void dns_route_finish(struct dns_route *r, const char *name,
    bool is_host_route);

/* "ok", "nxdomain", "null-mx", "no-address", "tempfail": for logs. */
const char *dns_route_status_name(enum dns_status status);

#endif
