/* SPDX-License-Identifier: ISC */
/*
 * The remote delivery agent: hands one message to the recipients'
 * server over SMTP (RFC 5321) with opportunistic STARTTLS (RFC 3207,
 * RFC 7435), or to a configured smarthost with AUTH (RFC 4954).  It runs
 * on the event loop: DNS through src/dns/, I/O through libevent, and
 * reports one result per recipient through a callback.
 *
 * The agent is stateless towards the queue: the queue decides what to
 * send and when, and records the results.  The agent keeps idle
 * connections per destination for a short while, so that the next job
 * for the same destination reuses them.
 *
 * All functions are called from the event loop thread.
 */
#ifndef TERN_DELIVER_DELIVER_REMOTE_H
#define TERN_DELIVER_DELIVER_REMOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "core/compat.h"
#include "core/envelope.h"
#include "deliver/deliver.h"

struct dns;
struct event_base;
struct remote_agent;

enum remote_tls {
	REMOTE_TLS_OPPORTUNISTIC,	/* STARTTLS when offered (MX default) */
	REMOTE_TLS_STARTTLS,		/* STARTTLS required (smarthost) */
	REMOTE_TLS_IMPLICIT,		/* TLS from the first byte (465) */
	REMOTE_TLS_NONE,		/* never */
};

struct remote_params {
	const char *helo;		/* our hostname for EHLO/HELO */
	/* Smarthost: when relay_host is set, all mail goes there. */
	const char *relay_host;		/* name or numeric address, or NULL */
	uint16_t relay_port;
	enum remote_tls relay_tls;
	const char *relay_user;		/* AUTH PLAIN/LOGIN when set */
	const char *relay_password;
	uint16_t mx_port;		/* 25; tests may change it */
	unsigned max_connections_per_domain;	/* default 10 */
	unsigned connect_timeout_s;	/* RFC 5321 4.5.3.2: client timeouts */
	unsigned command_timeout_s;	/* greeting, EHLO, MAIL, RCPT: 5m */
	unsigned data_timeout_s;	/* DATA 2m, block 3m, final dot 10m */
	unsigned dot_timeout_s;		/* reply to the final ".": 10m */
	/*
	 * Smarthost only: the certificate must verify against the system
	 * trust store and match relay_host (RFC 6125).  MX delivery never
	 * verifies (RFC 7435); the log says verify=ok|none.
	 */
	bool relay_tls_verify;
	/*
	 * A zero in any number above means its default: ports 25, 10
	 * connections, timeouts 30s connect, 5m command, 3m data, 10m dot.
	 */
};

/* One message to one destination domain, as the queue hands it over. */
struct remote_job {
	const char *queue_id;		/* for logs */
	const char *domain;		/* destination (lowercased) */
	const char *from;		/* reverse-path, "" for <> */
	const char *const *rcpts;	/* forward-paths of this domain */
	size_t n_rcpts;
	int content_fd;			/* spool content, CRLF, at offset 0 */
	uint64_t content_len;
	enum envelope_body body;
	bool smtputf8;			/* needs SMTPUTF8 at the server */
	time_t arrival;			/* for delay= in logs */
};

/* What happened to one recipient; reply is the server's, sanitised. */
struct remote_rcpt_result {
	struct deliver_result result;	/* OK / TEMPFAIL / PERMFAIL + x.y.z */
	char reply[512];		/* "550 5.1.1 <x@y>: no such user" */
};

struct remote_outcome {
	struct remote_rcpt_result *rcpts;	/* one per job rcpt, same order */
	size_t n_rcpts;
	char relay[300];		/* "host[ip]:port", or "none" */
	char tls[96];			/* "TLSv1.3 TLS_AES_...", or "" */
};

/* Called once per job, on the loop; outcome is valid during the call. */
typedef void remote_done_fn(void *arg, const struct remote_outcome *o);

struct remote_agent *remote_agent_new(struct event_base *base,
    struct dns *dns, const struct remote_params *params);
/* Replaces the parameters (reload); jobs in progress keep the old. */
void remote_agent_set_params(struct remote_agent *a,
    const struct remote_params *params);
/* Aborts jobs in progress (their callbacks do not run) and frees. */
void remote_agent_free(struct remote_agent **ap);

/*
 * Starts delivering job (copied, except content_fd, which must stay
 * open until cb runs).  cb runs exactly once, later, from the loop.
 * Logs one line per recipient:
 *   "<qid> deliver rcpt=<a@b> relay=host[ip]:port delay=1.2 dsn=2.0.0
 *    status=sent|deferred|bounced tls=... reply=\"250 ...\""
 */
void remote_agent_deliver(struct remote_agent *a,
    const struct remote_job *job, remote_done_fn *cb, void *arg);

#endif
