/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for DNS answers: one input is a raw DNS message, read
 * as an MX answer through dns_route_from_answer() (ares_parse_mx_reply
 * and the RFC 5321 5.1 / RFC 7505 route builder), then as A and AAAA
 * answers whose addresses fill the hosts; the route is then checked.
 */
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <ares.h>

#include "dns/dns_route.h"

#define FUZZ_DNS_MAX_ADDRTTLS 40

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fuzz_dns_rnd {
	const uint8_t *data;
	size_t size, pos;
};

/* Random numbers taken from the input itself, so runs replay. */
static uint32_t
fuzz_dns_answer_rnd(void *arg, uint32_t n)
{
	struct fuzz_dns_rnd *s = arg;
	uint32_t v = 0;

	if (s->size > 0)
		v = s->data[s->pos++ % s->size];
	return n == 0 ? 0 : v % n;
}

static void
fuzz_dns_answer_addrs(struct dns_route *r, const uint8_t *data, size_t size)
{
	struct ares_addrttl a[FUZZ_DNS_MAX_ADDRTTLS];
	struct ares_addr6ttl a6[FUZZ_DNS_MAX_ADDRTTLS];
	int n = FUZZ_DNS_MAX_ADDRTTLS, n6 = FUZZ_DNS_MAX_ADDRTTLS;
	int rc, rc6, i;
	size_t h;

	rc = ares_parse_a_reply(data, (int)size, NULL, a, &n);
	rc6 = ares_parse_aaaa_reply(data, (int)size, NULL, a6, &n6);
	for (h = 0; h < r->n_hosts; h++) {
		struct dns_host *host = &r->hosts[h];

		/* Each host gets a different slice, as separate lookups. */
		for (i = (int)h; rc == ARES_SUCCESS && i < n; i += 2) {
			struct sockaddr_in sin = { .sin_family = AF_INET };

			memcpy(&sin.sin_addr, &a[i].ipaddr, sizeof(sin.sin_addr));
			dns_route_host_add_addr(host, (struct sockaddr *)&sin,
			    25);
		}
		for (i = (int)h; rc6 == ARES_SUCCESS && i < n6; i += 2) {
			struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };

			memcpy(&sin6.sin6_addr, &a6[i].ip6addr,
			    sizeof(sin6.sin6_addr));
			dns_route_host_add_addr(host, (struct sockaddr *)&sin6,
			    25);
		}
		dns_route_host_result(host, rc == ARES_SUCCESS ? rc : rc6,
		    NULL, 25);
	}
}

static void
fuzz_dns_answer_check(const struct dns_route *r)
{
	size_t i, j, n_addrs = 0;

	if (memchr(r->error, '\0', sizeof(r->error)) == NULL)
		abort();
	if (r->n_hosts > DNS_ROUTE_MAX_HOSTS)
		abort();
	for (i = 0; i < r->n_hosts; i++) {
		const struct dns_host *h = &r->hosts[i];
		size_t len = strlen(h->name);
		bool seen_v4 = false;

		if (len == 0 || len > DNS_NAME_MAX || h->name[len - 1] == '.')
			abort();
		/* Not the implicit MX: an exchange must be a host name. */
		if (!r->implicit_mx &&
		    strspn(h->name, "abcdefghijklmnopqrstuvwxyz0123456789-_.") !=
			len)
			abort();
		if (i > 0 && h->preference < r->hosts[i - 1].preference)
			abort();
		if (h->n_addrs > DNS_HOST_MAX_ADDRS)
			abort();
		for (j = 0; j < h->n_addrs; j++) {
			const struct sockaddr_in *s4 =
			    (const struct sockaddr_in *)&h->addrs[j];

			if (h->addrs[j].ss_family == AF_INET)
				seen_v4 = true;
			else if (h->addrs[j].ss_family != AF_INET6 || seen_v4)
				abort();	/* IPv6 after IPv4 */
			if (ntohs(s4->sin_port) != 25)
				abort();
		}
		if ((h->n_addrs > 0) != (h->status == DNS_OK))
			abort();
		n_addrs += h->n_addrs;
	}
	if ((n_addrs > 0) != (r->status == DNS_OK))
		abort();
	if (r->status == DNS_NULL_MX && r->n_hosts != 0)
		abort();
	if (r->status != DNS_OK && r->error[0] == '\0')
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_dns_rnd rs = { .data = data, .size = size };
	struct dns_route r;

	if (size > 65535)
		return 0;
	dns_route_init(&r);
	if (dns_route_from_answer(&r, "fuzz.example", ARES_SUCCESS, data, size,
		fuzz_dns_answer_rnd, &rs) == 0) {
		fuzz_dns_answer_addrs(&r, data, size);
		dns_route_finish(&r, "fuzz.example", false);
	}
	fuzz_dns_answer_check(&r);
	dns_route_clear(&r);
	return 0;
}
