/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for dns/dns_route: MX ordering and shuffling with a fixed
 * random seam, null MX (RFC 7505), implicit MX (RFC 5321 5.1), caps,
 * address order, final status, and raw answers through c-ares' parser.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>
#include <ares.h>

#include "dns/dns_route.h"

struct rnd_state {
	int calls;
	uint32_t pick;	/* 0: always 0; 1: always n - 1 */
};

static uint32_t
rnd_fixed(void *arg, uint32_t n)
{
	struct rnd_state *s = arg;

	s->calls++;
	return s->pick == 0 ? 0 : n - 1;
}

static void
assert_hosts(const struct dns_route *r, const char *const *names, size_t n)
{
	size_t i;

	assert_int_equal(r->n_hosts, n);
	for (i = 0; i < n; i++)
		assert_string_equal(r->hosts[i].name, names[i]);
}

static void
test_preference_order(void **state)
{
	const struct dns_mx mx[] = {
		{ .name = "c.example", .preference = 30 },
		{ .name = "a.example", .preference = 10 },
		{ .name = "b.example", .preference = 20 },
	};
	const char *want[] = { "a.example", "b.example", "c.example" };
	struct rnd_state rs = { 0 };
	struct dns_route r;

	(void)state;
	dns_route_init(&r);
	assert_int_equal(dns_route_from_mx(&r, "example", mx, 3, rnd_fixed,
	    &rs), 0);
	assert_hosts(&r, want, 3);
	assert_false(r.implicit_mx);
	assert_int_equal(r.hosts[0].preference, 10);
	assert_int_equal(r.hosts[2].preference, 30);
	assert_int_equal(r.hosts[0].n_addrs, 0);
	/* Distinct preferences: nothing to shuffle. */
	assert_int_equal(rs.calls, 0);
	dns_route_clear(&r);
	assert_int_equal(r.n_hosts, 0);
	assert_null(r.hosts);
}

static void
test_shuffle_equal(void **state)
{
	const struct dns_mx mx[] = {
		{ .name = "x.example", .preference = 10 },
		{ .name = "y.example", .preference = 10 },
		{ .name = "z.example", .preference = 10 },
		{ .name = "w.example", .preference = 5 },
		{ .name = "v.example", .preference = 20 },
	};
	/* Fisher-Yates with j = 0 at each step rotates the run left. */
	const char *want0[] = { "w.example", "y.example", "z.example",
		"x.example", "v.example" };
	const char *want1[] = { "w.example", "x.example", "y.example",
		"z.example", "v.example" };
	struct rnd_state rs = { 0 };
	struct dns_route r;

	(void)state;
	dns_route_init(&r);
	assert_int_equal(dns_route_from_mx(&r, "example", mx, 5, rnd_fixed,
	    &rs), 0);
	assert_hosts(&r, want0, 5);
	assert_int_equal(rs.calls, 2);
	dns_route_clear(&r);

	rs = (struct rnd_state){ .pick = 1 };
	assert_int_equal(dns_route_from_mx(&r, "example", mx, 5, rnd_fixed,
	    &rs), 0);
	assert_hosts(&r, want1, 5);
	assert_int_equal(rs.calls, 2);
	dns_route_clear(&r);
}

static void
test_shuffle_real_random(void **state)
{
	const struct dns_mx mx[] = {
		{ .name = "a.example", .preference = 10 },
		{ .name = "b.example", .preference = 10 },
	};
	struct dns_route r;
	int first_a = 0, i;

	(void)state;
	/* 200 draws of a fair coin: both orders must show up. */
	for (i = 0; i < 200; i++) {
		dns_route_init(&r);
		assert_int_equal(dns_route_from_mx(&r, "example", mx, 2,
		    dns_route_random, NULL), 0);
		assert_int_equal(r.n_hosts, 2);
		if (strcmp(r.hosts[0].name, "a.example") == 0)
			first_a++;
		dns_route_clear(&r);
	}
	assert_true(first_a > 0 && first_a < 200);
	assert_int_equal(dns_route_random(NULL, 1), 0);
	assert_true(dns_route_random(NULL, 3) < 3);
}

static void
test_null_mx(void **state)
{
	static const struct {
		struct dns_mx mx[2];
		size_t n;
	} cases[] = {
		{ { { .name = ".", .preference = 0 } }, 1 },
		{ { { .name = "", .preference = 0 } }, 1 },
		/* Not 0, but still nothing but the root: no mail. */
		{ { { .name = ".", .preference = 10 } }, 1 },
		{ { { .name = ".", .preference = 0 },
		    { .name = "", .preference = 5 } }, 2 },
	};
	struct rnd_state rs = { 0 };
	struct dns_route r;
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(cases); i++) {
		dns_route_init(&r);
		assert_int_equal(dns_route_from_mx(&r, "nomail.example",
		    cases[i].mx, cases[i].n, rnd_fixed, &rs), -1);
		assert_int_equal(r.status, DNS_NULL_MX);
		assert_int_equal(r.n_hosts, 0);
		assert_string_equal(r.error,
		    "null MX: nomail.example accepts no mail (RFC 7505)");
		dns_route_clear(&r);
	}
}

static void
test_root_among_real(void **state)
{
	const struct dns_mx mx[] = {
		{ .name = ".", .preference = 0 },
		{ .name = "mx.example", .preference = 10 },
	};
	const char *want[] = { "mx.example" };
	struct rnd_state rs = { 0 };
	struct dns_route r;

	(void)state;
	dns_route_init(&r);
	assert_int_equal(dns_route_from_mx(&r, "example", mx, 2, rnd_fixed,
	    &rs), 0);
	assert_hosts(&r, want, 1);
	dns_route_clear(&r);
}

static void
test_implicit(void **state)
{
	struct rnd_state rs = { 0 };
	struct dns_route r;

	(void)state;
	dns_route_init(&r);
	assert_int_equal(dns_route_from_mx(&r, "plain.example.", NULL, 0,
	    rnd_fixed, &rs), 0);
	assert_true(r.implicit_mx);
	assert_int_equal(r.n_hosts, 1);
	assert_string_equal(r.hosts[0].name, "plain.example");
	assert_int_equal(r.hosts[0].preference, 0);
	/* Its A/AAAA lookup found nothing: no address, permanent. */
	dns_route_host_result(&r.hosts[0], ARES_ENODATA, NULL, 25);
	assert_int_equal(r.hosts[0].status, DNS_NO_ADDRESS);
	dns_route_finish(&r, "plain.example", false);
	assert_int_equal(r.status, DNS_NO_ADDRESS);
	assert_string_equal(r.error,
	    "plain.example has no MX and no address records");
	dns_route_clear(&r);
}

static void
test_duplicates_and_names(void **state)
{
	char long_name[300];
	struct dns_mx mx[] = {
		{ .name = "MX.Example.", .preference = 20 },
		{ .name = "mx.example", .preference = 10 },
		{ .name = long_name, .preference = 5 },
		{ .name = "other.example", .preference = 10 },
	};
	struct rnd_state rs = { .pick = 1 };
	struct dns_route r;

	(void)state;
	memset(long_name, 'a', 254);
	long_name[254] = '\0';
	dns_route_init(&r);
	assert_int_equal(dns_route_from_mx(&r, "example", mx, 4, rnd_fixed,
	    &rs), 0);
	/* Lowercased, trailing dot gone, lowest preference kept. */
	assert_int_equal(r.n_hosts, 2);
	assert_string_equal(r.hosts[0].name, "mx.example");
	assert_int_equal(r.hosts[0].preference, 10);
	assert_string_equal(r.hosts[1].name, "other.example");
	dns_route_clear(&r);

	/* Not host names: c-ares escapes, empty labels, long labels. */
	{
		char label[70];
		struct dns_mx bad[] = {
			{ .name = "a\\.b.example", .preference = 1 },
			{ .name = "a..example", .preference = 2 },
			{ .name = "sp ace.example", .preference = 3 },
			{ .name = label, .preference = 4 },
			{ .name = "ok-1_x.Example", .preference = 5 },
		};

		memset(label, 'l', 64);
		memcpy(label + 64, ".ex", 4);
		dns_route_init(&r);
		assert_int_equal(dns_route_from_mx(&r, "example", bad, 5,
		    rnd_fixed, &rs), 0);
		assert_int_equal(r.n_hosts, 1);
		assert_string_equal(r.hosts[0].name, "ok-1_x.example");
		dns_route_clear(&r);
	}

	/* Nothing usable left, but not a null MX either. */
	dns_route_init(&r);
	assert_int_equal(dns_route_from_mx(&r, "example", &mx[2], 1,
	    rnd_fixed, &rs), -1);
	assert_int_equal(r.status, DNS_NO_ADDRESS);
	assert_string_equal(r.error, "MX for example has no usable exchange");
	dns_route_clear(&r);
}

static void
test_host_cap(void **state)
{
	struct dns_mx mx[15];
	char names[15][32];
	struct rnd_state rs = { 0 };
	struct dns_route r;
	size_t i;

	(void)state;
	for (i = 0; i < 15; i++) {
		snprintf(names[i], sizeof(names[i]), "mx%02zu.example", i);
		mx[i].name = names[i];
		mx[i].preference = (uint16_t)(100 - i);	/* reversed */
	}
	dns_route_init(&r);
	assert_int_equal(dns_route_from_mx(&r, "example", mx, 15, rnd_fixed,
	    &rs), 0);
	assert_int_equal(r.n_hosts, DNS_ROUTE_MAX_HOSTS);
	/* The lowest preferences are kept: mx14 (86) .. mx05 (95). */
	assert_string_equal(r.hosts[0].name, "mx14.example");
	assert_string_equal(r.hosts[9].name, "mx05.example");
	for (i = 1; i < r.n_hosts; i++)
		assert_true(r.hosts[i - 1].preference <=
		    r.hosts[i].preference);
	dns_route_clear(&r);
}

static struct sockaddr_in
v4(const char *s)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, s, &sin.sin_addr), 1);
	return sin;
}

static struct sockaddr_in6
v6(const char *s)
{
	struct sockaddr_in6 sin6;

	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	assert_int_equal(inet_pton(AF_INET6, s, &sin6.sin6_addr), 1);
	return sin6;
}

static void
assert_addr(const struct dns_host *h, size_t i, const char *want,
    uint16_t port)
{
	char a[INET6_ADDRSTRLEN];
	const struct sockaddr_storage *ss = &h->addrs[i];

	assert_true(i < h->n_addrs);
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)ss;

		inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
		assert_int_equal(ntohs(s6->sin6_port), port);
	} else {
		const struct sockaddr_in *s4 = (const void *)ss;

		assert_int_equal(ss->ss_family, AF_INET);
		inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
		assert_int_equal(ntohs(s4->sin_port), port);
	}
	assert_string_equal(a, want);
}

static void
test_addr_order(void **state)
{
	struct dns_host h = { .name = NULL };
	struct sockaddr_in a = v4("192.0.2.1"), c = v4("192.0.2.3");
	struct sockaddr_in6 b = v6("2001:db8::2"), d = v6("2001:db8::4");
	struct sockaddr un = { .sa_family = AF_UNIX };

	(void)state;
	dns_route_host_add_addr(&h, (struct sockaddr *)&a, 25);
	dns_route_host_add_addr(&h, (struct sockaddr *)&b, 25);
	dns_route_host_add_addr(&h, (struct sockaddr *)&c, 25);
	dns_route_host_add_addr(&h, (struct sockaddr *)&d, 25);
	dns_route_host_add_addr(&h, (struct sockaddr *)&a, 25);	/* dup */
	dns_route_host_add_addr(&h, (struct sockaddr *)&d, 25);	/* dup */
	dns_route_host_add_addr(&h, &un, 25);	/* not IP */
	assert_int_equal(h.n_addrs, 4);
	assert_addr(&h, 0, "2001:db8::2", 25);
	assert_addr(&h, 1, "2001:db8::4", 25);
	assert_addr(&h, 2, "192.0.2.1", 25);
	assert_addr(&h, 3, "192.0.2.3", 25);
	free(h.addrs);
}

static void
test_addr_cap(void **state)
{
	struct dns_host h = { .name = NULL };
	struct sockaddr_in6 six = v6("2001:db8::1");
	char s[32];
	size_t i;

	(void)state;
	for (i = 0; i < 20; i++) {
		struct sockaddr_in sin;

		snprintf(s, sizeof(s), "192.0.2.%zu", i + 1);
		sin = v4(s);
		dns_route_host_add_addr(&h, (struct sockaddr *)&sin, 587);
	}
	assert_int_equal(h.n_addrs, DNS_HOST_MAX_ADDRS);
	assert_addr(&h, 15, "192.0.2.16", 587);
	/* Full of IPv4: an IPv6 address still gets in, first. */
	dns_route_host_add_addr(&h, (struct sockaddr *)&six, 587);
	assert_int_equal(h.n_addrs, DNS_HOST_MAX_ADDRS);
	assert_addr(&h, 0, "2001:db8::1", 587);
	assert_addr(&h, 1, "192.0.2.1", 587);
	assert_addr(&h, 15, "192.0.2.15", 587);
	free(h.addrs);

	/* Full of IPv6: nothing more gets in. */
	memset(&h, 0, sizeof(h));
	for (i = 0; i < 20; i++) {
		struct sockaddr_in6 sin6;

		snprintf(s, sizeof(s), "2001:db8::%zx", i + 1);
		sin6 = v6(s);
		dns_route_host_add_addr(&h, (struct sockaddr *)&sin6, 25);
	}
	assert_int_equal(h.n_addrs, DNS_HOST_MAX_ADDRS);
	assert_addr(&h, 15, "2001:db8::10", 25);
	free(h.addrs);
}

static void
test_host_result(void **state)
{
	struct sockaddr_in a = v4("192.0.2.9");
	struct sockaddr_in6 b = v6("2001:db8::9");
	struct ares_addrinfo_node n2 = {
		.ai_family = AF_INET6,
		.ai_addr = (struct sockaddr *)&b,
		.ai_addrlen = sizeof(b),
	};
	struct ares_addrinfo_node n1 = {
		.ai_family = AF_INET,
		.ai_addr = (struct sockaddr *)&a,
		.ai_addrlen = sizeof(a),
		.ai_next = &n2,
	};
	struct ares_addrinfo ai = { .nodes = &n1 };
	static const struct {
		int ares_status;
		enum dns_status want;
	} cases[] = {
		{ ARES_ENOTFOUND, DNS_NXDOMAIN },
		{ ARES_EBADNAME, DNS_NXDOMAIN },
		{ ARES_ENODATA, DNS_NO_ADDRESS },
		{ ARES_SUCCESS, DNS_NO_ADDRESS },
		{ ARES_ETIMEOUT, DNS_TEMPFAIL },
		{ ARES_ESERVFAIL, DNS_TEMPFAIL },
		{ ARES_ECONNREFUSED, DNS_TEMPFAIL },
	};
	struct dns_host h;
	size_t i;

	(void)state;
	memset(&h, 0, sizeof(h));
	dns_route_host_result(&h, ARES_SUCCESS, &ai, 2525);
	assert_int_equal(h.status, DNS_OK);
	assert_int_equal(h.n_addrs, 2);
	assert_addr(&h, 0, "2001:db8::9", 2525);
	assert_addr(&h, 1, "192.0.2.9", 2525);
	free(h.addrs);
	for (i = 0; i < N_ELEMENTS(cases); i++) {
		memset(&h, 0, sizeof(h));
		dns_route_host_result(&h, cases[i].ares_status, NULL, 25);
		assert_int_equal(h.status, cases[i].want);
		assert_int_equal(h.n_addrs, 0);
	}
}

static void
test_finish(void **state)
{
	const struct dns_mx mx[] = {
		{ .name = "a.example", .preference = 10 },
		{ .name = "b.example", .preference = 20 },
	};
	struct sockaddr_in a = v4("192.0.2.1");
	struct rnd_state rs = { 0 };
	struct dns_route r;

	(void)state;
	/* The second MX has an address: OK, the first stays listed. */
	dns_route_init(&r);
	assert_int_equal(dns_route_from_mx(&r, "example", mx, 2, rnd_fixed,
	    &rs), 0);
	dns_route_host_result(&r.hosts[0], ARES_ETIMEOUT, NULL, 25);
	dns_route_host_add_addr(&r.hosts[1], (struct sockaddr *)&a, 25);
	dns_route_host_result(&r.hosts[1], ARES_SUCCESS, NULL, 25);
	dns_route_finish(&r, "example", false);
	assert_int_equal(r.status, DNS_OK);
	assert_string_equal(r.error, "");
	assert_int_equal(r.n_hosts, 2);
	assert_int_equal(r.hosts[0].status, DNS_TEMPFAIL);
	dns_route_clear(&r);

	/* No address anywhere, one lookup timed out: try later. */
	assert_int_equal(dns_route_from_mx(&r, "example", mx, 2, rnd_fixed,
	    &rs), 0);
	dns_route_host_result(&r.hosts[0], ARES_ENOTFOUND, NULL, 25);
	dns_route_host_result(&r.hosts[1], ARES_ETIMEOUT, NULL, 25);
	dns_route_finish(&r, "example", false);
	assert_int_equal(r.status, DNS_TEMPFAIL);
	assert_string_equal(r.error, "address lookup for the MX hosts of "
	    "example: temporary failure");
	dns_route_clear(&r);

	/* No address anywhere, all permanent. */
	assert_int_equal(dns_route_from_mx(&r, "example", mx, 2, rnd_fixed,
	    &rs), 0);
	dns_route_host_result(&r.hosts[0], ARES_ENOTFOUND, NULL, 25);
	dns_route_host_result(&r.hosts[1], ARES_ENODATA, NULL, 25);
	dns_route_finish(&r, "example", false);
	assert_int_equal(r.status, DNS_NO_ADDRESS);
	assert_string_equal(r.error, "no MX host of example has an address");
	dns_route_clear(&r);

	/* A host route: a missing name is NXDOMAIN. */
	dns_route_set_host(&r, "relay.example");
	dns_route_host_result(&r.hosts[0], ARES_ENOTFOUND, NULL, 25);
	dns_route_finish(&r, "relay.example", true);
	assert_int_equal(r.status, DNS_NXDOMAIN);
	assert_false(r.implicit_mx);
	assert_string_equal(r.error, "host relay.example not found");
	dns_route_clear(&r);

	dns_route_set_host(&r, "relay.example");
	dns_route_host_result(&r.hosts[0], ARES_ENODATA, NULL, 25);
	dns_route_finish(&r, "relay.example", true);
	assert_int_equal(r.status, DNS_NO_ADDRESS);
	dns_route_clear(&r);
}

/* ---- raw answers through dns_route_from_answer() ------------------ */

struct pkt {
	uint8_t b[1024];
	size_t len;
};

static void
pkt_put(struct pkt *p, const void *data, size_t n)
{
	assert_true(n <= sizeof(p->b) - p->len);
	memcpy(p->b + p->len, data, n);
	p->len += n;
}

static void
pkt_u16(struct pkt *p, uint16_t v)
{
	uint8_t x[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	pkt_put(p, x, 2);
}

static void
pkt_name(struct pkt *p, const char *name)
{
	const char *s = name, *dot;
	uint8_t zero = 0;

	while (*s != '\0') {
		uint8_t len;

		dot = strchr(s, '.');
		len = (uint8_t)(dot != NULL ? (size_t)(dot - s) : strlen(s));
		pkt_put(p, &len, 1);
		pkt_put(p, s, len);
		s += len;
		if (*s == '.')
			s++;
	}
	pkt_put(p, &zero, 1);
}

static void
pkt_begin(struct pkt *p, const char *qname, uint16_t ancount)
{
	p->len = 0;
	pkt_u16(p, 0x1234);	/* id */
	pkt_u16(p, 0x8180);	/* QR RD RA, NOERROR */
	pkt_u16(p, 1);
	pkt_u16(p, ancount);
	pkt_u16(p, 0);
	pkt_u16(p, 0);
	pkt_name(p, qname);
	pkt_u16(p, 15);		/* MX */
	pkt_u16(p, 1);		/* IN */
}

static void
pkt_rr(struct pkt *p, const char *owner, uint16_t type, const struct pkt *rd)
{
	pkt_name(p, owner);
	pkt_u16(p, type);
	pkt_u16(p, 1);
	pkt_u16(p, 0);
	pkt_u16(p, 300);	/* ttl */
	pkt_u16(p, (uint16_t)rd->len);
	pkt_put(p, rd->b, rd->len);
}

static void
pkt_mx(struct pkt *p, const char *owner, uint16_t pref, const char *target)
{
	struct pkt rd = { .len = 0 };

	pkt_u16(&rd, pref);
	pkt_name(&rd, target);
	pkt_rr(p, owner, 15, &rd);
}

static void
pkt_cname(struct pkt *p, const char *owner, const char *target)
{
	struct pkt rd = { .len = 0 };

	pkt_name(&rd, target);
	pkt_rr(p, owner, 5, &rd);
}

static void
test_answer_cname_chain(void **state)
{
	const char *want[] = { "mx1.real.example", "mx2.real.example" };
	struct rnd_state rs = { 0 };
	struct dns_route r;
	struct pkt p;

	(void)state;
	/* alias -> real, then real's MX: the MX records are used. */
	pkt_begin(&p, "alias.example", 3);
	pkt_cname(&p, "alias.example", "real.example");
	pkt_mx(&p, "real.example", 20, "mx2.real.example");
	pkt_mx(&p, "real.example", 10, "mx1.real.example");
	dns_route_init(&r);
	assert_int_equal(dns_route_from_answer(&r, "alias.example",
	    ARES_SUCCESS, p.b, p.len, rnd_fixed, &rs), 0);
	assert_hosts(&r, want, 2);
	assert_false(r.implicit_mx);
	dns_route_clear(&r);

	/* Only a CNAME, its target has no MX: implicit MX. */
	pkt_begin(&p, "alias.example", 1);
	pkt_cname(&p, "alias.example", "real.example");
	assert_int_equal(dns_route_from_answer(&r, "alias.example",
	    ARES_SUCCESS, p.b, p.len, rnd_fixed, &rs), 0);
	assert_true(r.implicit_mx);
	assert_string_equal(r.hosts[0].name, "alias.example");
	dns_route_clear(&r);
}

static void
test_answer_escaped_label(void **state)
{
	struct rnd_state rs = { 0 };
	struct dns_route r;
	struct pkt p;

	(void)state;
	/* Found by fuzz_dns_answer: a label holding a "." octet. */
	pkt_begin(&p, "x.example", 2);
	pkt_mx(&p, "x.example", 10, "mx.x.example");
	{
		struct pkt rd = { .len = 0 };
		static const uint8_t odd[] = { 3, 'a', '.', 'b', 0 };

		pkt_u16(&rd, 5);
		pkt_put(&rd, odd, sizeof(odd));
		pkt_rr(&p, "x.example", 15, &rd);
	}
	dns_route_init(&r);
	assert_int_equal(dns_route_from_answer(&r, "x.example",
	    ARES_SUCCESS, p.b, p.len, rnd_fixed, &rs), 0);
	assert_int_equal(r.n_hosts, 1);
	assert_string_equal(r.hosts[0].name, "mx.x.example");
	dns_route_clear(&r);
}

static void
test_answer_null_mx(void **state)
{
	struct rnd_state rs = { 0 };
	struct dns_route r;
	struct pkt p;

	(void)state;
	pkt_begin(&p, "nomail.example", 1);
	pkt_mx(&p, "nomail.example", 0, "");
	dns_route_init(&r);
	assert_int_equal(dns_route_from_answer(&r, "nomail.example",
	    ARES_SUCCESS, p.b, p.len, rnd_fixed, &rs), -1);
	assert_int_equal(r.status, DNS_NULL_MX);
	dns_route_clear(&r);
}

static void
test_answer_bad(void **state)
{
	struct rnd_state rs = { 0 };
	struct dns_route r;
	struct pkt p;

	(void)state;
	pkt_begin(&p, "x.example", 1);
	pkt_mx(&p, "x.example", 10, "mx.x.example");
	p.len -= 4;	/* cut inside the exchange name */
	dns_route_init(&r);
	assert_int_equal(dns_route_from_answer(&r, "x.example",
	    ARES_SUCCESS, p.b, p.len, rnd_fixed, &rs), -1);
	assert_int_equal(r.status, DNS_TEMPFAIL);
	assert_string_equal(r.error, "MX lookup for x.example: malformed "
	    "answer");
	dns_route_clear(&r);

	assert_int_equal(dns_route_from_answer(&r, "x.example",
	    ARES_SUCCESS, NULL, 0, rnd_fixed, &rs), -1);
	assert_int_equal(r.status, DNS_TEMPFAIL);
	dns_route_clear(&r);
}

static void
test_answer_status(void **state)
{
	static const struct {
		int ares_status;
		enum dns_status want;
		const char *error;
	} cases[] = {
		{ ARES_ENOTFOUND, DNS_NXDOMAIN,
		    "MX lookup for x.example: domain not found" },
		{ ARES_EBADNAME, DNS_NXDOMAIN,
		    "MX lookup for x.example: invalid name" },
		{ ARES_ESERVFAIL, DNS_TEMPFAIL,
		    "MX lookup for x.example: server failure" },
		{ ARES_EREFUSED, DNS_TEMPFAIL,
		    "MX lookup for x.example: query refused" },
		{ ARES_ETIMEOUT, DNS_TEMPFAIL,
		    "MX lookup for x.example: timeout" },
		{ ARES_ECONNREFUSED, DNS_TEMPFAIL,
		    "MX lookup for x.example: server failure or connection "
		    "refused" },
		{ ARES_EDESTRUCTION, DNS_TEMPFAIL, NULL },
	};
	struct rnd_state rs = { 0 };
	struct dns_route r;
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(cases); i++) {
		dns_route_init(&r);
		assert_int_equal(dns_route_from_answer(&r, "x.example",
		    cases[i].ares_status, NULL, 0, rnd_fixed, &rs), -1);
		assert_int_equal(r.status, cases[i].want);
		assert_int_equal(r.n_hosts, 0);
		if (cases[i].error != NULL)
			assert_string_equal(r.error, cases[i].error);
		dns_route_clear(&r);
	}
	/* NODATA: the implicit MX. */
	dns_route_init(&r);
	assert_int_equal(dns_route_from_answer(&r, "x.example", ARES_ENODATA,
	    NULL, 0, rnd_fixed, &rs), 0);
	assert_true(r.implicit_mx);
	dns_route_clear(&r);
}

static void
test_error_text_sanitised(void **state)
{
	const struct dns_mx mx[] = { { .name = ".", .preference = 0 } };
	struct rnd_state rs = { 0 };
	struct dns_route r;
	char big[400];

	(void)state;
	dns_route_init(&r);
	assert_int_equal(dns_route_from_mx(&r, "a\nb.example", mx, 1,
	    rnd_fixed, &rs), -1);
	assert_string_equal(r.error,
	    "null MX: a\\x0ab.example accepts no mail (RFC 7505)");
	dns_route_clear(&r);

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(dns_route_from_answer(&r, big, ARES_ETIMEOUT, NULL,
	    0, rnd_fixed, &rs), -1);
	assert_true(strlen(r.error) < sizeof(r.error));
	assert_non_null(strstr(r.error, "...: timeout"));
	dns_route_clear(&r);
}

static void
test_status_names(void **state)
{
	(void)state;
	assert_string_equal(dns_route_status_name(DNS_OK), "ok");
	assert_string_equal(dns_route_status_name(DNS_NXDOMAIN), "nxdomain");
	assert_string_equal(dns_route_status_name(DNS_NULL_MX), "null-mx");
	assert_string_equal(dns_route_status_name(DNS_NO_ADDRESS),
	    "no-address");
	assert_string_equal(dns_route_status_name(DNS_TEMPFAIL), "tempfail");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_preference_order),
		cmocka_unit_test(test_shuffle_equal),
		cmocka_unit_test(test_shuffle_real_random),
		cmocka_unit_test(test_null_mx),
		cmocka_unit_test(test_root_among_real),
		cmocka_unit_test(test_implicit),
		cmocka_unit_test(test_duplicates_and_names),
		cmocka_unit_test(test_host_cap),
		cmocka_unit_test(test_addr_order),
		cmocka_unit_test(test_addr_cap),
		cmocka_unit_test(test_host_result),
		cmocka_unit_test(test_finish),
		cmocka_unit_test(test_answer_cname_chain),
		cmocka_unit_test(test_answer_escaped_label),
		cmocka_unit_test(test_answer_null_mx),
		cmocka_unit_test(test_answer_bad),
		cmocka_unit_test(test_answer_status),
		cmocka_unit_test(test_error_text_sanitised),
		cmocka_unit_test(test_status_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
