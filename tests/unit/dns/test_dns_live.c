/* SPDX-License-Identifier: ISC */
/*
 * dns.c against real servers on loopback: a private dnsmasq (MX, null
 * MX, CNAME, A-only, NXDOMAIN zones under .test) and an in-process fake
 * that answers SERVFAIL, REFUSED or nothing.  The machine's resolver is
 * never used: every dns_new() names its server.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "core/buf.h"
#include "core/str.h"
#include "core/xalloc.h"
#include "dns/dns.h"
#include "dns/dns_route.h"

#define TEST_PORT 2525
#define TEST_DEADLINE_S 8

static pid_t dnsmasq_pid = -1;
static uint16_t dnsmasq_port;
static char tmpdir[] = "/tmp/tern-dns-test.XXXXXX";
static char servers[64];

/* What a callback saw: a deep copy of the route. */
struct result {
	bool done;
	int calls;
	struct dns_route route;
	struct dns **free_dns;	/* dns_free() this from the callback */
};

static void
result_cb(void *arg, const struct dns_route *r)
{
	struct result *res = arg;
	size_t i;

	res->calls++;
	res->done = true;
	dns_route_init(&res->route);
	res->route.status = r->status;
	memcpy(res->route.error, r->error, sizeof(r->error));
	res->route.implicit_mx = r->implicit_mx;
	res->route.n_hosts = r->n_hosts;
	res->route.hosts = xcalloc(r->n_hosts + 1, sizeof(*r->hosts));
	for (i = 0; i < r->n_hosts; i++) {
		struct dns_host *h = &res->route.hosts[i];

		*h = r->hosts[i];
		h->name = xstrdup(r->hosts[i].name);
		h->addrs = xcalloc(h->n_addrs + 1, sizeof(*h->addrs));
		if (h->n_addrs > 0)
			memcpy(h->addrs, r->hosts[i].addrs,
			    h->n_addrs * sizeof(*h->addrs));
	}
	if (res->free_dns != NULL)
		dns_free(res->free_dns);
}

static void
deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	*(bool *)arg = true;
}

/* Runs base until every done flag is set or the deadline passes. */
static void
run_until(struct event_base *base, bool *const *flags, size_t n)
{
	struct timeval tv = { TEST_DEADLINE_S, 0 };
	bool late = false;
	struct event *t = evtimer_new(base, deadline_cb, &late);
	size_t i;

	assert_non_null(t);
	assert_int_equal(evtimer_add(t, &tv), 0);
	for (;;) {
		bool all = true;

		for (i = 0; i < n; i++)
			all = all && *flags[i];
		if (all || late)
			break;
		assert_int_not_equal(event_base_loop(base, EVLOOP_ONCE), -1);
	}
	event_free(t);
	assert_false(late);
}

static const char *
addr_text(const struct sockaddr_storage *ss, char *out, size_t size)
{
	char a[INET6_ADDRSTRLEN];
	uint16_t port;

	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)ss;

		inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
		port = ntohs(s6->sin6_port);
		snprintf(out, size, "[%s]:%u", a, port);
	} else {
		const struct sockaddr_in *s4 = (const void *)ss;

		inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
		port = ntohs(s4->sin_port);
		snprintf(out, size, "%s:%u", a, port);
	}
	return out;
}

static void
assert_addr(const struct dns_host *h, size_t i, const char *want)
{
	char t[80];

	assert_true(i < h->n_addrs);
	assert_string_equal(addr_text(&h->addrs[i], t, sizeof(t)), want);
}

/* One lookup against srv, with a fresh resolver; fills res. */
static void
lookup(const char *srv, bool is_host, const char *name, struct result *res)
{
	struct event_base *base = event_base_new();
	struct dns *d = NULL;
	struct buf err;
	bool *flags[1] = { &res->done };

	memset(res, 0, sizeof(*res));
	buf_init(&err, 0, 0);
	assert_int_equal(dns_new(base, srv, &d, &err), 0);
	assert_int_equal(dns_set_timeout(d, 300, 1, &err), 0);
	if (is_host)
		assert_non_null(dns_host_lookup(d, name, TEST_PORT,
		    result_cb, res));
	else
		assert_non_null(dns_route_lookup(d, name, TEST_PORT,
		    result_cb, res));
	/* Never synchronous: the caller gets its handle first. */
	assert_false(res->done);
	run_until(base, flags, 1);
	assert_int_equal(res->calls, 1);
	dns_free(&d);
	assert_null(d);
	event_base_free(base);
	buf_clear(&err);
}

static uint16_t
random_port(void)
{
	uint16_t v = 0;

	(void)!getrandom(&v, sizeof(v), 0);
	return (uint16_t)(20000 + v % 40000);
}

static bool
port_accepts(uint16_t port)
{
	struct sockaddr_in sin;
	int fd = socket(AF_INET, SOCK_STREAM, 0), rc;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	rc = connect(fd, (struct sockaddr *)&sin, sizeof(sin));
	close(fd);
	return rc == 0;
}

static int
dnsmasq_start(uint16_t port)
{
	char a_port[32], a_pid[300];
	const char *argv[] = {
		"/usr/sbin/dnsmasq", "--keep-in-foreground", "--no-resolv",
		"--no-hosts", a_port, "--listen-address=127.0.0.1",
		"--bind-interfaces", "--conf-file=/dev/null", a_pid,
		"--user=root", "--local=/test/", "--log-facility=/dev/null",
		"--mx-host=a.test,mx1.a.test,10",
		"--mx-host=a.test,mx2.a.test,20",
		"--host-record=mx1.a.test,127.0.0.11",
		"--host-record=mx2.a.test,127.0.0.12,::1",
		"--dns-rr=nullmx.test,15,000000",
		"--host-record=aonly.test,127.0.0.13",
		"--cname=alias.test,a.test",
		"--mx-host=nomxaddr.test,gone.nomxaddr.test,10",
		"--mx-host=mixed.test,.,10",
		"--mx-host=mixed.test,mx1.a.test,20",
		"--txt-record=empty.test,nothing-here",
		"--mx-host=eq.test,mx1.a.test,10",
		"--mx-host=eq.test,mx2.a.test,10",
		"--mx-host=eq.test,aonly.test,10",
		NULL,
	};
	pid_t pid;
	int i, status;

	snprintf(a_port, sizeof(a_port), "--port=%u", port);
	snprintf(a_pid, sizeof(a_pid), "--pid-file=%s/dnsmasq.pid", tmpdir);
	if (getuid() != 0)
		argv[9] = "--log-async";	/* --user only as root */
	pid = fork();
	if (pid == -1)
		return -1;
	if (pid == 0) {
		char *args[N_ELEMENTS(argv)];
		size_t k;

		/* A test that aborts must not leave dnsmasq behind. */
		if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1 ||
		    getppid() == 1)
			_exit(127);
		for (k = 0; argv[k] != NULL; k++)
			args[k] = xstrdup(argv[k]);
		args[k] = NULL;
		execv(args[0], args);
		_exit(127);
	}
	for (i = 0; i < 100; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return -1;	/* e.g. the port was taken */
		if (port_accepts(port)) {
			dnsmasq_pid = pid;
			dnsmasq_port = port;
			return 0;
		}
		usleep(50 * 1000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -1;
}

static int
group_setup(void **state)
{
	int i;

	(void)state;
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	for (i = 0; i < 5; i++) {
		if (dnsmasq_start(random_port()) == 0) {
			snprintf(servers, sizeof(servers), "127.0.0.1:%u",
			    dnsmasq_port);
			return 0;
		}
	}
	fprintf(stderr, "cannot start /usr/sbin/dnsmasq\n");
	return -1;
}

static int
group_teardown(void **state)
{
	char path[300];
	int status;

	(void)state;
	if (dnsmasq_pid > 0) {
		kill(dnsmasq_pid, SIGTERM);
		waitpid(dnsmasq_pid, &status, 0);
	}
	snprintf(path, sizeof(path), "%s/dnsmasq.pid", tmpdir);
	unlink(path);
	rmdir(tmpdir);
	return 0;
}

static void
test_mx_order(void **state)
{
	struct result res;
	const struct dns_host *h;

	(void)state;
	lookup(servers, false, "a.test", &res);
	assert_int_equal(res.route.status, DNS_OK);
	assert_false(res.route.implicit_mx);
	assert_int_equal(res.route.n_hosts, 2);
	h = &res.route.hosts[0];
	assert_string_equal(h->name, "mx1.a.test");
	assert_int_equal(h->preference, 10);
	assert_int_equal(h->status, DNS_OK);
	assert_int_equal(h->n_addrs, 1);
	assert_addr(h, 0, "127.0.0.11:2525");
	h = &res.route.hosts[1];
	assert_string_equal(h->name, "mx2.a.test");
	assert_int_equal(h->preference, 20);
	assert_int_equal(h->n_addrs, 2);
	assert_addr(h, 0, "[::1]:2525");	/* IPv6 first */
	assert_addr(h, 1, "127.0.0.12:2525");
	dns_route_clear(&res.route);
}

static void
test_mx_cname(void **state)
{
	struct result res;

	(void)state;
	/* alias.test CNAME a.test: the MX of a.test (RFC 5321 5.1). */
	lookup(servers, false, "alias.test", &res);
	assert_int_equal(res.route.status, DNS_OK);
	assert_false(res.route.implicit_mx);
	assert_int_equal(res.route.n_hosts, 2);
	assert_string_equal(res.route.hosts[0].name, "mx1.a.test");
	assert_string_equal(res.route.hosts[1].name, "mx2.a.test");
	dns_route_clear(&res.route);
}

static void
test_null_mx(void **state)
{
	struct result res;

	(void)state;
	lookup(servers, false, "nullmx.test", &res);
	assert_int_equal(res.route.status, DNS_NULL_MX);
	assert_int_equal(res.route.n_hosts, 0);
	assert_non_null(strstr(res.route.error, "RFC 7505"));
	assert_non_null(strstr(res.route.error, "nullmx.test"));
	dns_route_clear(&res.route);
}

static void
test_root_among_real(void **state)
{
	struct result res;

	(void)state;
	/* "10 ." next to "20 mx1.a.test": the root is skipped. */
	lookup(servers, false, "mixed.test", &res);
	assert_int_equal(res.route.status, DNS_OK);
	assert_int_equal(res.route.n_hosts, 1);
	assert_string_equal(res.route.hosts[0].name, "mx1.a.test");
	assert_int_equal(res.route.hosts[0].preference, 20);
	dns_route_clear(&res.route);
}

static void
test_implicit_mx(void **state)
{
	struct result res;

	(void)state;
	lookup(servers, false, "aonly.test", &res);
	assert_int_equal(res.route.status, DNS_OK);
	assert_true(res.route.implicit_mx);
	assert_int_equal(res.route.n_hosts, 1);
	assert_string_equal(res.route.hosts[0].name, "aonly.test");
	assert_int_equal(res.route.hosts[0].preference, 0);
	assert_addr(&res.route.hosts[0], 0, "127.0.0.13:2525");
	dns_route_clear(&res.route);

	/* Trailing dot: the same absolute name. */
	lookup(servers, false, "aonly.test.", &res);
	assert_int_equal(res.route.status, DNS_OK);
	assert_string_equal(res.route.hosts[0].name, "aonly.test");
	dns_route_clear(&res.route);
}

static void
test_no_address(void **state)
{
	struct result res;

	(void)state;
	/* Exists (TXT), no MX, no A/AAAA. */
	lookup(servers, false, "empty.test", &res);
	assert_int_equal(res.route.status, DNS_NO_ADDRESS);
	assert_true(res.route.implicit_mx);
	assert_int_equal(res.route.hosts[0].n_addrs, 0);
	assert_non_null(strstr(res.route.error, "empty.test"));
	dns_route_clear(&res.route);

	/* The only MX host does not exist: kept, with 0 addresses. */
	lookup(servers, false, "nomxaddr.test", &res);
	assert_int_equal(res.route.status, DNS_NO_ADDRESS);
	assert_false(res.route.implicit_mx);
	assert_int_equal(res.route.n_hosts, 1);
	assert_string_equal(res.route.hosts[0].name, "gone.nomxaddr.test");
	assert_int_equal(res.route.hosts[0].status, DNS_NXDOMAIN);
	assert_int_equal(res.route.hosts[0].n_addrs, 0);
	dns_route_clear(&res.route);
}

static void
test_nxdomain(void **state)
{
	struct result res;

	(void)state;
	lookup(servers, false, "nx.test", &res);
	assert_int_equal(res.route.status, DNS_NXDOMAIN);
	assert_int_equal(res.route.n_hosts, 0);
	assert_non_null(strstr(res.route.error, "nx.test"));
	dns_route_clear(&res.route);

	lookup(servers, false, "", &res);
	assert_int_equal(res.route.status, DNS_NXDOMAIN);
	dns_route_clear(&res.route);

	lookup(servers, false, "a..test", &res);
	assert_int_equal(res.route.status, DNS_NXDOMAIN);
	dns_route_clear(&res.route);
}

static uint32_t
rnd_zero(void *arg, uint32_t n)
{
	(void)n;
	(*(int *)arg)++;
	return 0;
}

static uint32_t
rnd_last(void *arg, uint32_t n)
{
	(*(int *)arg)++;
	return n - 1;
}

/* The three equal-preference hosts of eq.test, as ordered by rnd. */
static void
eq_order(dns_random_fn *rnd, char out[3][32], int *calls)
{
	struct event_base *base = event_base_new();
	struct dns *d = NULL;
	struct buf err;
	struct result res;
	bool *flags[1] = { &res.done };
	size_t i;

	memset(&res, 0, sizeof(res));
	buf_init(&err, 0, 0);
	assert_int_equal(dns_new(base, servers, &d, &err), 0);
	dns_set_random(d, rnd, calls);
	assert_non_null(dns_route_lookup(d, "eq.test", 25, result_cb, &res));
	run_until(base, flags, 1);
	assert_int_equal(res.route.status, DNS_OK);
	assert_int_equal(res.route.n_hosts, 3);
	for (i = 0; i < 3; i++) {
		assert_int_equal(res.route.hosts[i].preference, 10);
		assert_int_equal(str_copy(out[i], res.route.hosts[i].name,
		    32), 0);
	}
	dns_route_clear(&res.route);
	dns_free(&d);
	event_base_free(base);
	buf_clear(&err);
}

static void
test_equal_preference_seam(void **state)
{
	char a[3][32], b[3][32];
	int calls_a = 0, calls_b = 0;

	(void)state;
	eq_order(rnd_zero, a, &calls_a);
	eq_order(rnd_last, b, &calls_b);
	/* Fisher-Yates over 3 draws twice; the seam decides the order. */
	assert_int_equal(calls_a, 2);
	assert_int_equal(calls_b, 2);
	/* rnd_last is the identity; rnd_zero rotates left by one. */
	assert_string_equal(a[0], b[1]);
	assert_string_equal(a[1], b[2]);
	assert_string_equal(a[2], b[0]);
}

static void
test_host_lookup(void **state)
{
	struct result res;

	(void)state;
	lookup(servers, true, "mx2.a.test", &res);
	assert_int_equal(res.route.status, DNS_OK);
	assert_false(res.route.implicit_mx);
	assert_int_equal(res.route.n_hosts, 1);
	assert_string_equal(res.route.hosts[0].name, "mx2.a.test");
	assert_addr(&res.route.hosts[0], 0, "[::1]:2525");
	assert_addr(&res.route.hosts[0], 1, "127.0.0.12:2525");
	dns_route_clear(&res.route);

	lookup(servers, true, "gone.test", &res);
	assert_int_equal(res.route.status, DNS_NXDOMAIN);
	assert_int_equal(res.route.hosts[0].n_addrs, 0);
	dns_route_clear(&res.route);
}

/* A UDP port on loopback: open (never answered) or already closed. */
static int
udp_port(bool keep_open, uint16_t *port_r)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	assert_true(fd >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port_r = ntohs(sin.sin_port);
	if (!keep_open) {
		close(fd);
		return -1;
	}
	return fd;
}

static void
test_numeric_no_query(void **state)
{
	struct result res;
	char srv[64];
	uint16_t port;

	(void)state;
	/* A dead server: a numeric name must not need it. */
	(void)udp_port(false, &port);
	snprintf(srv, sizeof(srv), "127.0.0.1:%u", port);
	lookup(srv, true, "192.0.2.7", &res);
	assert_int_equal(res.route.status, DNS_OK);
	assert_addr(&res.route.hosts[0], 0, "192.0.2.7:2525");
	dns_route_clear(&res.route);

	lookup(srv, true, "[2001:db8::7]", &res);
	assert_int_equal(res.route.status, DNS_OK);
	assert_addr(&res.route.hosts[0], 0, "[2001:db8::7]:2525");
	dns_route_clear(&res.route);

	/* RFC 5321 4.1.3 address literals as a destination domain. */
	lookup(srv, false, "[192.0.2.8]", &res);
	assert_int_equal(res.route.status, DNS_OK);
	assert_int_equal(res.route.n_hosts, 1);
	assert_addr(&res.route.hosts[0], 0, "192.0.2.8:2525");
	dns_route_clear(&res.route);

	lookup(srv, false, "[IPv6:2001:db8::8]", &res);
	assert_int_equal(res.route.status, DNS_OK);
	assert_addr(&res.route.hosts[0], 0, "[2001:db8::8]:2525");
	dns_route_clear(&res.route);
}

static void
test_tempfail_refused_port(void **state)
{
	struct result res;
	char srv[64];
	uint16_t port;

	(void)state;
	(void)udp_port(false, &port);
	snprintf(srv, sizeof(srv), "127.0.0.1:%u", port);
	lookup(srv, false, "a.test", &res);
	assert_int_equal(res.route.status, DNS_TEMPFAIL);
	assert_int_equal(res.route.n_hosts, 0);
	assert_non_null(strstr(res.route.error, "MX lookup for a.test"));
	dns_route_clear(&res.route);

	lookup(srv, true, "mx1.a.test", &res);
	assert_int_equal(res.route.status, DNS_TEMPFAIL);
	assert_int_equal(res.route.hosts[0].status, DNS_TEMPFAIL);
	dns_route_clear(&res.route);
}

static void
test_tempfail_timeout(void **state)
{
	struct result res;
	struct timespec t0, t1;
	char srv[64];
	uint16_t port;
	int fd;
	double secs;

	(void)state;
	fd = udp_port(true, &port);	/* bound, never answers */
	snprintf(srv, sizeof(srv), "127.0.0.1:%u", port);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	lookup(srv, false, "a.test", &res);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	close(fd);
	assert_int_equal(res.route.status, DNS_TEMPFAIL);
	assert_non_null(strstr(res.route.error, "timeout"));
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	/* One try of 300 ms: the timer, not a packet, ended it. */
	assert_true(secs >= 0.25);
	assert_true(secs < 3.0);
	dns_route_clear(&res.route);
}

/* A fake server answering every query with rcode (SERVFAIL, REFUSED). */
struct fake {
	int fd;
	int rcode;
	int queries;
};

static void
fake_cb(evutil_socket_t fd, short what, void *arg)
{
	struct fake *f = arg;
	struct sockaddr_storage from;
	socklen_t flen = sizeof(from);
	uint8_t pkt[512];
	ssize_t n;

	(void)what;
	n = recvfrom(fd, pkt, sizeof(pkt), 0, (struct sockaddr *)&from,
	    &flen);
	if (n < 12)
		return;
	f->queries++;
	pkt[2] |= 0x80;				/* QR */
	pkt[3] = (uint8_t)((pkt[3] & 0xf0) | f->rcode);
	(void)!sendto(fd, pkt, (size_t)n, 0, (struct sockaddr *)&from, flen);
}

static void
fake_lookup(int rcode, struct result *res, int *queries_r)
{
	struct event_base *base = event_base_new();
	struct fake f = { .rcode = rcode };
	struct event *ev;
	struct dns *d = NULL;
	struct buf err;
	bool *flags[1] = { &res->done };
	char srv[64];
	uint16_t port;

	memset(res, 0, sizeof(*res));
	f.fd = udp_port(true, &port);
	ev = event_new(base, f.fd, EV_READ | EV_PERSIST, fake_cb, &f);
	assert_int_equal(event_add(ev, NULL), 0);
	snprintf(srv, sizeof(srv), "127.0.0.1:%u", port);
	buf_init(&err, 0, 0);
	assert_int_equal(dns_new(base, srv, &d, &err), 0);
	assert_non_null(dns_route_lookup(d, "a.test", 25, result_cb, res));
	run_until(base, flags, 1);
	dns_free(&d);
	event_free(ev);
	close(f.fd);
	event_base_free(base);
	buf_clear(&err);
	*queries_r = f.queries;
}

static void
test_servfail_refused(void **state)
{
	struct result res;
	int queries;

	(void)state;
	fake_lookup(2, &res, &queries);
	assert_int_equal(res.route.status, DNS_TEMPFAIL);
	/* c-ares 1.18 tries the next server and reports ECONNREFUSED. */
	assert_non_null(strstr(res.route.error, "server failure"));
	assert_non_null(strstr(res.route.error, "MX lookup for a.test"));
	assert_true(queries >= 1);
	dns_route_clear(&res.route);

	fake_lookup(5, &res, &queries);
	assert_int_equal(res.route.status, DNS_TEMPFAIL);
	assert_non_null(strstr(res.route.error, "refused"));
	assert_true(queries >= 1);
	dns_route_clear(&res.route);
}

static void
test_cancel(void **state)
{
	struct event_base *base = event_base_new();
	struct dns *d = NULL;
	struct buf err;
	struct result r1, r2, r3;
	struct dns_query *q;
	bool *flags[1] = { &r2.done };

	(void)state;
	memset(&r1, 0, sizeof(r1));
	memset(&r2, 0, sizeof(r2));
	memset(&r3, 0, sizeof(r3));
	buf_init(&err, 0, 0);
	assert_int_equal(dns_new(base, servers, &d, &err), 0);
	/* Cancelled while its MX query is out. */
	q = dns_route_lookup(d, "a.test", 25, result_cb, &r1);
	dns_query_cancel(q);
	/* Cancelled after it completed but before its callback ran. */
	q = dns_host_lookup(d, "192.0.2.1", 25, result_cb, &r3);
	dns_query_cancel(q);
	dns_query_cancel(NULL);
	assert_non_null(dns_route_lookup(d, "a.test", 25, result_cb, &r2));
	run_until(base, flags, 1);
	assert_int_equal(r2.route.status, DNS_OK);
	/* Let any late answer for the cancelled query arrive. */
	{
		struct timeval tv = { 0, 200 * 1000 };

		event_base_loopexit(base, &tv);
		event_base_dispatch(base);
	}
	assert_int_equal(r1.calls, 0);
	assert_int_equal(r3.calls, 0);
	dns_route_clear(&r2.route);
	dns_free(&d);
	event_base_free(base);
	buf_clear(&err);
}

static void
test_free_pending(void **state)
{
	struct event_base *base = event_base_new();
	struct dns *d = NULL;
	struct buf err;
	struct result r1, r2, r3;
	char srv[64];
	uint16_t port;
	int fd;

	(void)state;
	memset(&r1, 0, sizeof(r1));
	memset(&r2, 0, sizeof(r2));
	memset(&r3, 0, sizeof(r3));
	fd = udp_port(true, &port);
	snprintf(srv, sizeof(srv), "127.0.0.1:%u", port);
	buf_init(&err, 0, 0);
	assert_int_equal(dns_new(base, srv, &d, &err), 0);
	assert_non_null(dns_route_lookup(d, "a.test", 25, result_cb, &r1));
	assert_non_null(dns_host_lookup(d, "mx1.a.test", 25, result_cb,
	    &r2));
	assert_non_null(dns_host_lookup(d, "192.0.2.1", 25, result_cb, &r3));
	/* r3 was complete and due: dns_free() must still suppress it. */
	dns_free(&d);
	assert_null(d);
	{
		struct timeval tv = { 0, 100 * 1000 };

		event_base_loopexit(base, &tv);
		event_base_dispatch(base);
	}
	assert_int_equal(r1.calls + r2.calls + r3.calls, 0);
	close(fd);
	event_base_free(base);
	buf_clear(&err);
}

static void
test_free_from_callback(void **state)
{
	struct event_base *base = event_base_new();
	struct dns *d = NULL;
	struct buf err;
	struct result r1, r2;
	bool *flags[1] = { &r1.done };

	(void)state;
	memset(&r1, 0, sizeof(r1));
	memset(&r2, 0, sizeof(r2));
	buf_init(&err, 0, 0);
	assert_int_equal(dns_new(base, servers, &d, &err), 0);
	r1.free_dns = &d;
	assert_non_null(dns_host_lookup(d, "192.0.2.1", 25, result_cb, &r1));
	assert_non_null(dns_route_lookup(d, "a.test", 25, result_cb, &r2));
	run_until(base, flags, 1);
	assert_null(d);
	assert_int_equal(r2.calls, 0);
	dns_route_clear(&r1.route);
	event_base_free(base);
	buf_clear(&err);
}

static void
test_bad_servers(void **state)
{
	struct event_base *base = event_base_new();
	struct dns *d = NULL;
	struct buf err;

	(void)state;
	buf_init(&err, 0, 0);
	assert_int_equal(dns_new(base, "not an address", &d, &err), -1);
	assert_null(d);
	assert_non_null(strstr(buf_cstr(&err), "resolver servers"));
	buf_reset(&err);
	assert_int_equal(dns_new(base, "[::1]:53,127.0.0.1:5353", &d, &err),
	    0);
	assert_int_equal(dns_set_timeout(d, 0, 1, &err), -1);
	dns_free(&d);
	event_base_free(base);
	buf_clear(&err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mx_order),
		cmocka_unit_test(test_mx_cname),
		cmocka_unit_test(test_null_mx),
		cmocka_unit_test(test_root_among_real),
		cmocka_unit_test(test_implicit_mx),
		cmocka_unit_test(test_no_address),
		cmocka_unit_test(test_nxdomain),
		cmocka_unit_test(test_equal_preference_seam),
		cmocka_unit_test(test_host_lookup),
		cmocka_unit_test(test_numeric_no_query),
		cmocka_unit_test(test_tempfail_refused_port),
		cmocka_unit_test(test_tempfail_timeout),
		cmocka_unit_test(test_servfail_refused),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_free_pending),
		cmocka_unit_test(test_free_from_callback),
		cmocka_unit_test(test_bad_servers),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
