/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for the remote agent over real loopback sockets: Postfix's
 * smtp-sink as a peer, and a scripted server (a thread in this file)
 * that answers chosen replies and records what it received.  DNS is a
 * stub defined here, so route statuses and failover are scripted too.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <dirent.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "core/log.h"
#include "core/str.h"
#include "deliver/deliver_remote.h"
#include "dns/dns.h"

#define MAX_RCPTS 8

static struct event_base *base;

/* ---- DNS stub: answers from the loop with a scripted route ---------- */

struct dns_query {
	struct event *ev;
	dns_route_fn *cb;
	void *arg;
};

/* Never dereferenced: the stub functions ignore it. */
static char stub_dns_storage;
#define STUB_DNS ((struct dns *)(void *)&stub_dns_storage)

static enum dns_status stub_status = DNS_OK;
static uint16_t stub_ports[4]; /* one host per port on 127.0.0.1 */
static size_t stub_n_ports;
static unsigned stub_lookups;

static char mx1[] = "mx1.test";
static char mx2[] = "mx2.test";

static void
stub_fire(evutil_socket_t fd, short what, void *arg)
{
	struct dns_query *q = arg;
	struct dns_host hosts[4];
	struct sockaddr_storage addrs[4];
	struct dns_route route;
	size_t i;

	(void)fd;
	(void)what;
	memset(&route, 0, sizeof(route));
	memset(hosts, 0, sizeof(hosts));
	memset(addrs, 0, sizeof(addrs));
	route.status = stub_status;
	(void)!str_copy(route.error, "stub says no", sizeof(route.error));
	for (i = 0; i < stub_n_ports; i++) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&addrs[i];

		sin->sin_family = AF_INET;
		sin->sin_port = htons(stub_ports[i]);
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		hosts[i].name = i == 0 ? mx1 : mx2;
		hosts[i].preference = (uint16_t)(10 * i);
		hosts[i].addrs = &addrs[i];
		hosts[i].n_addrs = 1;
	}
	route.hosts = hosts;
	route.n_hosts = stub_status == DNS_OK ? stub_n_ports : 0;
	event_free(q->ev);
	q->cb(q->arg, &route);
	free(q);
}

static struct dns_query *
stub_lookup(dns_route_fn *cb, void *arg)
{
	struct dns_query *q = calloc(1, sizeof(*q));
	struct timeval tv = {0, 0};

	stub_lookups++;
	q->cb = cb;
	q->arg = arg;
	q->ev = evtimer_new(base, stub_fire, q);
	evtimer_add(q->ev, &tv);
	return q;
}

struct dns_query *
dns_route_lookup(struct dns *d, const char *domain, uint16_t port,
    dns_route_fn *cb, void *arg)
{
	(void)d;
	(void)domain;
	(void)port;
	return stub_lookup(cb, arg);
}

struct dns_query *
dns_host_lookup(
    struct dns *d, const char *host, uint16_t port, dns_route_fn *cb, void *arg)
{
	(void)d;
	(void)host;
	(void)port;
	return stub_lookup(cb, arg);
}

void
dns_query_cancel(struct dns_query *q)
{
	event_free(q->ev);
	free(q);
}

/* ---- scripted server ------------------------------------------------ */

struct script {
	const char *greeting; /* default "220 scripted ESMTP" */
	const char *ehlo;     /* whole reply without the last CRLF */
	const char *helo;
	const char *mail;
	const char *rcpt[MAX_RCPTS]; /* by RCPT order; default 250 */
	const char *data;            /* default "354 go ahead" */
	const char *dot;             /* default "250 2.0.0 queued" */
	bool drop_in_data;           /* close the socket after DATA's 354 */
	int n_conns;                 /* connections to serve (default 1) */
};

struct server {
	int lfd;
	uint16_t port;
	pthread_t th;
	const struct script *sc;
	char transcript[65536]; /* every byte received */
	size_t len;
	char data[65536]; /* the last DATA, stuffed, with the dot */
	size_t data_len;
	int conns;
};

static void
server_send(int fd, const char *reply)
{
	size_t len = strlen(reply);

	(void)!write(fd, reply, len);
	(void)!write(fd, "\r\n", 2);
}

/* Reads one CRLF line into line; -1 at EOF. */
static int
server_line(struct server *sv, int fd, char *line, size_t size)
{
	size_t n = 0;
	char c;

	for (;;) {
		if (read(fd, &c, 1) != 1)
			return -1;
		if (sv->len < sizeof(sv->transcript) - 1)
			sv->transcript[sv->len++] = c;
		if (n < size - 1)
			line[n++] = c;
		if (n >= 2 && line[n - 2] == '\r' && line[n - 1] == '\n') {
			line[n - 2] = '\0';
			return 0;
		}
	}
}

static void
server_data(struct server *sv, int fd)
{
	char c;

	sv->data_len = 0;
	while (read(fd, &c, 1) == 1) {
		if (sv->len < sizeof(sv->transcript) - 1)
			sv->transcript[sv->len++] = c;
		if (sv->data_len < sizeof(sv->data) - 1)
			sv->data[sv->data_len++] = c;
		if (sv->data_len == 3 && memcmp(sv->data, ".\r\n", 3) == 0)
			return;
		if (sv->data_len >= 5 &&
		    memcmp(sv->data + sv->data_len - 5, "\r\n.\r\n", 5) == 0)
			return;
	}
}

static const char *
or_default(const char *s, const char *def)
{
	return s != NULL ? s : def;
}

static void
server_conn(struct server *sv, int fd)
{
	const struct script *sc = sv->sc;
	char line[2048];
	size_t rcpt = 0;

	server_send(fd, or_default(sc->greeting, "220 scripted ESMTP"));
	if (sc->greeting != NULL && sc->greeting[0] != '2')
		return;
	while (server_line(sv, fd, line, sizeof(line)) == 0) {
		const char *r;

		if (str_has_case_prefix(line, "EHLO"))
			r = or_default(sc->ehlo, "250 scripted");
		else if (str_has_case_prefix(line, "HELO"))
			r = or_default(sc->helo, "250 scripted");
		else if (str_has_case_prefix(line, "MAIL"))
			r = or_default(sc->mail, "250 2.1.0 ok");
		else if (str_has_case_prefix(line, "RCPT")) {
			r = or_default(rcpt < MAX_RCPTS ? sc->rcpt[rcpt] : NULL,
			    "250 2.1.5 ok");
			rcpt++;
		} else if (str_has_case_prefix(line, "DATA")) {
			r = or_default(sc->data, "354 go ahead");
			server_send(fd, r);
			if (r[0] != '3')
				continue;
			if (sc->drop_in_data)
				return;
			server_data(sv, fd);
			r = or_default(sc->dot, "250 2.0.0 queued");
			rcpt = 0;
		} else if (str_has_case_prefix(line, "RSET")) {
			r = "250 2.0.0 ok";
			rcpt = 0;
		} else if (str_has_case_prefix(line, "QUIT")) {
			server_send(fd, "221 2.0.0 bye");
			return;
		} else {
			r = "502 5.5.2 what";
		}
		server_send(fd, r);
		if (strncmp(r, "421", 3) == 0)
			return;
	}
}

static void *
server_main(void *arg)
{
	struct server *sv = arg;
	int n = sv->sc->n_conns > 0 ? sv->sc->n_conns : 1;

	for (; n > 0; n--) {
		struct pollfd pfd = {.fd = sv->lfd, .events = POLLIN};
		int fd;

		if (poll(&pfd, 1, 10000) != 1)
			break;
		fd = accept(sv->lfd, NULL, NULL);
		if (fd == -1)
			break;
		sv->conns++;
		server_conn(sv, fd);
		close(fd);
	}
	return NULL;
}

/* A listening socket on 127.0.0.1 with an ephemeral port. */
static int
listen_any(uint16_t *port_r)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(fd, 16), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port_r = ntohs(sin.sin_port);
	return fd;
}

static struct server *
server_start(const struct script *sc)
{
	struct server *sv = calloc(1, sizeof(*sv));

	sv->sc = sc;
	sv->lfd = listen_any(&sv->port);
	assert_int_equal(pthread_create(&sv->th, NULL, server_main, sv), 0);
	return sv;
}

static void
server_stop(struct server *sv)
{
	pthread_join(sv->th, NULL);
	close(sv->lfd);
	sv->transcript[sv->len] = '\0';
	sv->data[sv->data_len] = '\0';
}

/* ---- running jobs --------------------------------------------------- */

struct result {
	bool done;
	size_t n;
	struct remote_rcpt_result rcpts[MAX_RCPTS];
	char relay[300];
	char tls[96];
};

static void
on_done(void *arg, const struct remote_outcome *o)
{
	struct result *r = arg;

	assert_false(r->done);
	r->done = true;
	r->n = o->n_rcpts;
	memcpy(r->rcpts, o->rcpts, o->n_rcpts * sizeof(*o->rcpts));
	(void)!str_copy(r->relay, o->relay, sizeof(r->relay));
	(void)!str_copy(r->tls, o->tls, sizeof(r->tls));
}

static void
on_deadline(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	fail_msg("the agent did not finish in time");
}

/* Runs the loop until every result is done. */
static void
wait_results(struct result *rs, size_t n)
{
	struct timeval tv = {15, 0};
	struct event *deadline = evtimer_new(base, on_deadline, NULL);
	size_t i;

	evtimer_add(deadline, &tv);
	for (;;) {
		for (i = 0; i < n && rs[i].done; i++)
			;
		if (i == n)
			break;
		event_base_loop(base, EVLOOP_ONCE);
	}
	event_free(deadline);
}

static int
content_fd(const char *content)
{
	char path[] = "/tmp/tern-remote-XXXXXX";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(
	    write(fd, content, strlen(content)), (ssize_t)strlen(content));
	return fd;
}

static struct remote_params
relay_params(uint16_t port)
{
	struct remote_params p = {
	    .helo = "client.test",
	    .relay_host = "127.0.0.1",
	    .relay_port = port,
	    .relay_tls = REMOTE_TLS_OPPORTUNISTIC,
	    .max_connections_per_domain = 4,
	    .connect_timeout_s = 5,
	    .command_timeout_s = 10,
	    .data_timeout_s = 10,
	};

	return p;
}

/* Delivers content to rcpts with params p and waits for the outcome. */
static void
deliver(const struct remote_params *p, const char *const *rcpts, size_t n,
    const char *content, bool smtputf8, struct result *res)
{
	struct remote_agent *a = remote_agent_new(base, STUB_DNS, p);
	int fd = content_fd(content);
	struct remote_job job = {
	    .queue_id = "TESTQID",
	    .domain = "dest.test",
	    .from = "sender@client.test",
	    .rcpts = rcpts,
	    .n_rcpts = n,
	    .content_fd = fd,
	    .content_len = strlen(content),
	    .body = ENVELOPE_BODY_7BIT,
	    .smtputf8 = smtputf8,
	    .arrival = time(NULL),
	};

	memset(res, 0, sizeof(*res));
	remote_agent_deliver(a, &job, on_done, res);
	/* The callback never runs from inside deliver(). */
	assert_false(res->done);
	wait_results(res, 1);
	remote_agent_free(&a);
	assert_null(a);
	close(fd);
}

static void
assert_rcpt(
    const struct result *r, size_t i, enum deliver_status st, const char *enh)
{
	if (r->rcpts[i].result.status != st)
		print_message("rcpt %zu: %s %s\n", i, r->rcpts[i].result.enh,
		    r->rcpts[i].reply);
	assert_int_equal(r->rcpts[i].result.status, st);
	assert_string_equal(r->rcpts[i].result.enh, enh);
}

static const char *const rcpts3[] = {
    "a@dest.test",
    "b@dest.test",
    "c@dest.test",
};

#define STUFF_IN "Subject: dots\r\n\r\n.one\r\n..two\r\nthree"
#define STUFF_OUT "Subject: dots\r\n\r\n..one\r\n...two\r\nthree\r\n.\r\n"

/* ---- scripted tests ------------------------------------------------- */

static void
test_pipelined_partial(void **state)
{
	struct script sc = {
	    .ehlo = "250-scripted\r\n250-PIPELINING\r\n250-SIZE 100000\r\n"
	            "250 ENHANCEDSTATUSCODES",
	    .rcpt = {NULL, "550 5.1.1 no such user", "451 try later"},
	};
	struct server *sv = server_start(&sc);
	struct remote_params p = relay_params(sv->port);
	struct result r;
	char relay[64];

	(void)state;
	deliver(&p, rcpts3, 3, STUFF_IN, false, &r);
	server_stop(sv);
	assert_int_equal(r.n, 3);
	assert_rcpt(&r, 0, DELIVER_OK, "2.0.0");
	assert_rcpt(&r, 1, DELIVER_PERMFAIL, "5.1.1");
	/* No enhanced code in the reply: mapped by command and code. */
	assert_rcpt(&r, 2, DELIVER_TEMPFAIL, "4.3.0");
	assert_string_equal(r.rcpts[1].reply, "550 5.1.1 no such user");
	assert_string_equal(r.rcpts[0].reply, "250 2.0.0 queued");
	(void)snprintf(relay, sizeof(relay), "127.0.0.1[127.0.0.1]:%u",
	    (unsigned)sv->port);
	assert_string_equal(r.relay, relay);
	assert_string_equal(r.tls, "");
	assert_string_equal(sv->data, STUFF_OUT);
	assert_non_null(strstr(sv->transcript,
	    "EHLO client.test\r\n"
	    "MAIL FROM:<sender@client.test> SIZE=35\r\n"
	    "RCPT TO:<a@dest.test>\r\nRCPT TO:<b@dest.test>\r\n"
	    "RCPT TO:<c@dest.test>\r\nDATA\r\n"));
	free(sv);
}

static void
test_one_at_a_time(void **state)
{
	struct script sc = {
	    .ehlo = "250-scripted\r\n250 8BITMIME",
	    .rcpt = {"550 5.1.1 no", NULL, NULL},
	};
	struct server *sv = server_start(&sc);
	struct remote_params p = relay_params(sv->port);
	struct result r;

	(void)state;
	deliver(&p, rcpts3, 3, "x\r\n", false, &r);
	server_stop(sv);
	assert_rcpt(&r, 0, DELIVER_PERMFAIL, "5.1.1");
	assert_rcpt(&r, 1, DELIVER_OK, "2.0.0");
	assert_rcpt(&r, 2, DELIVER_OK, "2.0.0");
	/* Without PIPELINING the transcript is strictly one by one. */
	assert_non_null(strstr(sv->transcript,
	    "MAIL FROM:<sender@client.test>\r\nRCPT TO:<a@dest.test>\r\n"
	    "RCPT TO:<b@dest.test>\r\nRCPT TO:<c@dest.test>\r\nDATA\r\n"
	    "x\r\n.\r\n"));
	free(sv);
}

static void
test_all_rcpts_refused(void **state)
{
	struct script sc = {
	    .rcpt = {"550 5.1.1 no", "553 bad"},
	};
	struct server *sv = server_start(&sc);
	struct remote_params p = relay_params(sv->port);
	struct result r;

	(void)state;
	deliver(&p, rcpts3, 2, "x\r\n", false, &r);
	server_stop(sv);
	assert_rcpt(&r, 0, DELIVER_PERMFAIL, "5.1.1");
	assert_rcpt(&r, 1, DELIVER_PERMFAIL, "5.1.3");
	assert_null(strstr(sv->transcript, "DATA"));
	assert_non_null(strstr(sv->transcript, "RSET\r\n"));
	free(sv);
}

static void
test_helo_fallback(void **state)
{
	struct script sc = {
	    .ehlo = "502 5.5.1 EHLO not implemented",
	};
	struct server *sv = server_start(&sc);
	struct remote_params p = relay_params(sv->port);
	struct result r;

	(void)state;
	deliver(&p, rcpts3, 1, "x\r\n", false, &r);
	server_stop(sv);
	assert_rcpt(&r, 0, DELIVER_OK, "2.0.0");
	assert_non_null(strstr(sv->transcript,
	    "HELO client.test\r\n"
	    "MAIL FROM:<sender@client.test>\r\n"));
	free(sv);
}

static void
test_421_midway(void **state)
{
	struct script sc = {
	    .rcpt = {NULL, "421 4.3.2 shutting down"},
	};
	struct server *sv = server_start(&sc);
	struct remote_params p = relay_params(sv->port);
	struct result r;

	(void)state;
	deliver(&p, rcpts3, 3, "x\r\n", false, &r);
	server_stop(sv);
	/* Accepted but never delivered, and the two not yet answered. */
	assert_rcpt(&r, 0, DELIVER_TEMPFAIL, "4.3.2");
	assert_rcpt(&r, 1, DELIVER_TEMPFAIL, "4.3.2");
	assert_rcpt(&r, 2, DELIVER_TEMPFAIL, "4.3.2");
	assert_string_equal(r.rcpts[2].reply, "421 4.3.2 shutting down");
	assert_null(strstr(sv->transcript, "DATA"));
	free(sv);
}

static void
test_drop_in_data(void **state)
{
	struct script sc = {.drop_in_data = true};
	struct server *sv = server_start(&sc);
	struct remote_params p = relay_params(sv->port);
	struct result r;

	(void)state;
	deliver(&p, rcpts3, 2, "x\r\n", false, &r);
	server_stop(sv);
	assert_rcpt(&r, 0, DELIVER_TEMPFAIL, "4.4.2");
	assert_rcpt(&r, 1, DELIVER_TEMPFAIL, "4.4.2");
	free(sv);
}

static void
test_size_refused(void **state)
{
	struct script sc = {
	    .ehlo = "250-scripted\r\n250 SIZE 10",
	};
	struct server *sv = server_start(&sc);
	struct remote_params p = relay_params(sv->port);
	struct result r;

	(void)state;
	deliver(&p, rcpts3, 2, "0123456789abcdef\r\n", false, &r);
	server_stop(sv);
	assert_rcpt(&r, 0, DELIVER_PERMFAIL, "5.3.4");
	assert_rcpt(&r, 1, DELIVER_PERMFAIL, "5.3.4");
	assert_null(strstr(sv->transcript, "MAIL"));
	free(sv);
}

static void
test_smtputf8_refused(void **state)
{
	struct server *sv;
	struct script sc = {0};
	struct remote_params p;
	struct result r;

	(void)state;
	sv = server_start(&sc);
	p = relay_params(sv->port);
	deliver(&p, rcpts3, 1, "x\r\n", true, &r);
	server_stop(sv);
	assert_rcpt(&r, 0, DELIVER_PERMFAIL, "5.6.7");
	assert_null(strstr(sv->transcript, "MAIL"));
	free(sv);

	/* Offered: MAIL carries SMTPUTF8 and the message goes. */
	sc.ehlo = "250-scripted\r\n250 SMTPUTF8";
	sv = server_start(&sc);
	p = relay_params(sv->port);
	deliver(&p, rcpts3, 1, "x\r\n", true, &r);
	server_stop(sv);
	assert_rcpt(&r, 0, DELIVER_OK, "2.0.0");
	assert_non_null(strstr(
	    sv->transcript, "MAIL FROM:<sender@client.test> SMTPUTF8\r\n"));
	free(sv);
}

static void
test_tls_required_not_offered(void **state)
{
	struct script sc = {0};
	struct server *sv = server_start(&sc);
	struct remote_params p = relay_params(sv->port);
	struct result r;

	(void)state;
	p.relay_tls = REMOTE_TLS_STARTTLS;
	deliver(&p, rcpts3, 1, "x\r\n", false, &r);
	server_stop(sv);
	assert_rcpt(&r, 0, DELIVER_TEMPFAIL, "4.7.4");
	assert_null(strstr(sv->transcript, "MAIL"));
	free(sv);
}

static void
test_tls_none_ignores_starttls(void **state)
{
	struct script sc = {
	    .ehlo = "250-scripted\r\n250 STARTTLS",
	};
	struct server *sv = server_start(&sc);
	struct remote_params p = relay_params(sv->port);
	struct result r;

	(void)state;
	p.relay_tls = REMOTE_TLS_NONE;
	deliver(&p, rcpts3, 1, "x\r\n", false, &r);
	server_stop(sv);
	assert_rcpt(&r, 0, DELIVER_OK, "2.0.0");
	assert_null(strstr(sv->transcript, "STARTTLS"));
	free(sv);
}

static void
test_auth_needs_tls(void **state)
{
	struct script sc = {
	    .ehlo = "250-scripted\r\n250 AUTH PLAIN LOGIN",
	};
	struct server *sv = server_start(&sc);
	struct remote_params p = relay_params(sv->port);
	struct result r;

	(void)state;
	p.relay_user = "user";
	p.relay_password = "secret";
	deliver(&p, rcpts3, 1, "x\r\n", false, &r);
	server_stop(sv);
	assert_rcpt(&r, 0, DELIVER_TEMPFAIL, "4.7.0");
	assert_string_equal(r.rcpts[0].reply, "TLS required for AUTH");
	assert_null(strstr(sv->transcript, "AUTH"));
	assert_null(strstr(sv->transcript, "MAIL"));
	free(sv);
}

/* Two jobs for one destination share one connection. */
static void
test_reuse_and_limit(void **state)
{
	struct script sc = {.n_conns = 2};
	struct server *sv = server_start(&sc);
	struct remote_params p = relay_params(sv->port);
	struct remote_agent *a;
	struct result r[2];
	int fd = content_fd("x\r\n");
	struct remote_job job = {
	    .queue_id = "Q",
	    .domain = "dest.test",
	    .from = "s@client.test",
	    .rcpts = rcpts3,
	    .n_rcpts = 1,
	    .content_fd = fd,
	    .content_len = 3,
	};

	(void)state;
	p.max_connections_per_domain = 1;
	a = remote_agent_new(base, NULL, &p);
	memset(r, 0, sizeof(r));
	remote_agent_deliver(a, &job, on_done, &r[0]);
	remote_agent_deliver(a, &job, on_done, &r[1]);
	wait_results(r, 2);
	remote_agent_free(&a);
	server_stop(sv);
	assert_rcpt(&r[0], 0, DELIVER_OK, "2.0.0");
	assert_rcpt(&r[1], 0, DELIVER_OK, "2.0.0");
	assert_int_equal(sv->conns, 1);
	assert_non_null(strstr(strstr(sv->transcript, "MAIL FROM") + 1,
	    "MAIL FROM:<s@client.test>"));
	close(fd);
	free(sv);
}

/* ---- routes through the DNS stub ------------------------------------ */

static void
test_route_statuses(void **state)
{
	static const struct {
		enum dns_status status;
		enum deliver_status want;
		const char *enh;
	} cases[] = {
	    {DNS_NXDOMAIN, DELIVER_PERMFAIL, "5.1.2"},
	    {DNS_NO_ADDRESS, DELIVER_PERMFAIL, "5.1.2"},
	    {DNS_NULL_MX, DELIVER_PERMFAIL, "5.1.10"},
	    {DNS_TEMPFAIL, DELIVER_TEMPFAIL, "4.4.3"},
	};
	struct remote_params p = relay_params(0);
	struct remote_agent *a;
	struct result r;
	size_t i;

	(void)state;
	p.relay_host = NULL;
	p.mx_port = 9;
	a = remote_agent_new(base, STUB_DNS, &p);
	for (i = 0; i < N_ELEMENTS(cases); i++) {
		struct remote_job job = {
		    .queue_id = "Q",
		    .domain = "dest.test",
		    .from = "",
		    .rcpts = rcpts3,
		    .n_rcpts = 2,
		    .content_fd = -1,
		};

		stub_status = cases[i].status;
		stub_n_ports = 0;
		memset(&r, 0, sizeof(r));
		remote_agent_deliver(a, &job, on_done, &r);
		wait_results(&r, 1);
		assert_rcpt(&r, 0, cases[i].want, cases[i].enh);
		assert_rcpt(&r, 1, cases[i].want, cases[i].enh);
		assert_string_equal(r.rcpts[0].reply, "stub says no");
	}
	remote_agent_free(&a);
	stub_status = DNS_OK;
}

/* A 554 greeting and a refused port are skipped; the next MX takes it. */
static void
test_mx_failover(void **state)
{
	struct script bad = {.greeting = "554 5.7.1 go away"};
	struct script good = {0};
	struct server *sv_bad = server_start(&bad);
	struct server *sv_good = server_start(&good);
	uint16_t closed_port;
	int lfd = listen_any(&closed_port);
	struct remote_params p = relay_params(0);
	struct result r;
	char relay[64];
	unsigned lookups = stub_lookups;

	(void)state;
	close(lfd); /* nothing listens there any more */
	p.relay_host = NULL;
	stub_status = DNS_OK;
	stub_ports[0] = closed_port;
	stub_ports[1] = sv_bad->port;
	stub_ports[2] = sv_good->port;
	stub_n_ports = 3;
	deliver(&p, rcpts3, 1, "x\r\n", false, &r);
	/* Named hosts go through the (stub) resolver. */
	assert_rcpt(&r, 0, DELIVER_OK, "2.0.0");
	(void)snprintf(relay, sizeof(relay), "mx2.test[127.0.0.1]:%u",
	    (unsigned)sv_good->port);
	assert_string_equal(r.relay, relay);
	server_stop(sv_bad);
	server_stop(sv_good);
	assert_null(strstr(sv_bad->transcript, "MAIL"));
	assert_int_equal(stub_lookups, lookups + 1);
	free(sv_bad);
	free(sv_good);
	stub_n_ports = 0;
}

/* Every address fails: a temporary failure with the last error. */
static void
test_all_addresses_fail(void **state)
{
	struct script bad = {.greeting = "554 5.7.1 go away"};
	struct server *sv = server_start(&bad);
	struct remote_params p = relay_params(sv->port);
	struct result r;

	(void)state;
	deliver(&p, rcpts3, 1, "x\r\n", false, &r);
	server_stop(sv);
	assert_rcpt(&r, 0, DELIVER_TEMPFAIL, "4.7.1");
	assert_string_equal(r.rcpts[0].reply, "554 5.7.1 go away");
	free(sv);
}

/* ---- smtp-sink ------------------------------------------------------ */

struct sink {
	pid_t pid;
	uint16_t port;
	char dir[64];
};

static bool
sink_start(struct sink *s, const char *flags)
{
	char addr[32], tmpl[96], cmd[512];
	int i;

	if (access("/usr/sbin/smtp-sink", X_OK) != 0)
		return false;
	(void)!str_copy(s->dir, "/tmp/tern-sink-XXXXXX", sizeof(s->dir));
	assert_non_null(mkdtemp(s->dir));
	assert_int_equal(chmod(s->dir, 0777), 0);
	close(listen_any(&s->port));
	(void)snprintf(addr, sizeof(addr), "127.0.0.1:%u", (unsigned)s->port);
	(void)snprintf(tmpl, sizeof(tmpl), "%s/%%M.", s->dir);
	(void)snprintf(cmd, sizeof(cmd),
	    "exec /usr/sbin/smtp-sink %s %s "
	    "-d %s %s 10",
	    geteuid() == 0 ? "-u nobody" : "", flags, tmpl, addr);
	s->pid = fork();
	assert_true(s->pid >= 0);
	if (s->pid == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 100; i++) {
		struct sockaddr_in sin = {.sin_family = AF_INET};
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		int rc;

		sin.sin_port = htons(s->port);
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		rc = connect(fd, (struct sockaddr *)&sin, sizeof(sin));
		close(fd);
		if (rc == 0)
			return true;
		usleep(50000);
	}
	fail_msg("smtp-sink did not start");
	return false;
}

/* Reads the one dump file smtp-sink wrote, and removes the directory. */
static void
sink_stop(struct sink *s, char *dump, size_t size)
{
	char path[512];
	struct dirent *de;
	DIR *d;
	size_t n = 0;

	kill(s->pid, SIGTERM);
	waitpid(s->pid, NULL, 0);
	dump[0] = '\0';
	d = opendir(s->dir);
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		(void)snprintf(path, sizeof(path), "%s/%s", s->dir, de->d_name);
		f = fopen(path, "r");
		assert_non_null(f);
		n += fread(dump + n, 1, size - 1 - n, f);
		fclose(f);
		unlink(path);
	}
	dump[n] = '\0';
	closedir(d);
	rmdir(s->dir);
}

static void
run_sink(const char *flags)
{
	struct sink s;
	struct remote_params p;
	struct result r;
	char dump[8192];

	if (!sink_start(&s, flags))
		skip();
	p = relay_params(s.port);
	deliver(&p, rcpts3, 2, STUFF_IN, false, &r);
	sink_stop(&s, dump, sizeof(dump));
	assert_rcpt(&r, 0, DELIVER_OK, "2.0.0");
	assert_rcpt(&r, 1, DELIVER_OK, "2.0.0");
	assert_non_null(strstr(dump, "X-Rcpt-Args: <a@dest.test>"));
	assert_non_null(strstr(dump, "X-Rcpt-Args: <b@dest.test>"));
	/* smtp-sink unstuffs: the content arrives as it was. */
	assert_non_null(strstr(dump, "\n.one\n..two\nthree"));
}

static void
test_sink_pipelining(void **state)
{
	(void)state;
	run_sink("");
}

static void
test_sink_no_esmtp(void **state)
{
	(void)state;
	run_sink("-e");
}

static void
test_sink_soft_reject_rcpt(void **state)
{
	struct sink s;
	struct remote_params p;
	struct result r;
	char dump[8192];

	(void)state;
	if (!sink_start(&s, "-r RCPT"))
		skip();
	p = relay_params(s.port);
	deliver(&p, rcpts3, 2, "x\r\n", false, &r);
	sink_stop(&s, dump, sizeof(dump));
	assert_rcpt(&r, 0, DELIVER_TEMPFAIL, "4.3.0");
	assert_rcpt(&r, 1, DELIVER_TEMPFAIL, "4.3.0");
	assert_null(strstr(dump, "X-Rcpt-Args"));
}

static int
setup(void **state)
{
	(void)state;
	signal(SIGPIPE, SIG_IGN);
	log_set_level(LOG_LEVEL_WARN);
	base = event_base_new();
	return base != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	event_base_free(base);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pipelined_partial),
	    cmocka_unit_test(test_one_at_a_time),
	    cmocka_unit_test(test_all_rcpts_refused),
	    cmocka_unit_test(test_helo_fallback),
	    cmocka_unit_test(test_421_midway),
	    cmocka_unit_test(test_drop_in_data),
	    cmocka_unit_test(test_size_refused),
	    cmocka_unit_test(test_smtputf8_refused),
	    cmocka_unit_test(test_tls_required_not_offered),
	    cmocka_unit_test(test_tls_none_ignores_starttls),
	    cmocka_unit_test(test_auth_needs_tls),
	    cmocka_unit_test(test_reuse_and_limit),
	    cmocka_unit_test(test_route_statuses),
	    cmocka_unit_test(test_mx_failover),
	    cmocka_unit_test(test_all_addresses_fail),
	    cmocka_unit_test(test_sink_pipelining),
	    cmocka_unit_test(test_sink_no_esmtp),
	    cmocka_unit_test(test_sink_soft_reject_rcpt),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
