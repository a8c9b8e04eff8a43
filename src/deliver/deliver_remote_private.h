/* SPDX-License-Identifier: ISC */
/*
 * Internals of the remote delivery agent, shared by deliver_remote*.c
 * and deliver_tls_client.c only.  An agent has destinations (a domain,
 * or the smarthost), each with a connection limit, a queue of waiting
 * jobs and idle connections; a task walks its route's addresses until a
 * server answers, on a connection that runs one smtpc_session.
 */
#ifndef TERN_DELIVER_DELIVER_REMOTE_PRIVATE_H
#define TERN_DELIVER_DELIVER_REMOTE_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <time.h>

#include "core/buf.h"
#include "deliver/deliver_remote.h"
#include "smtpc/smtpc_dot.h"
#include "smtpc/smtpc_session.h"

struct bufferevent;
struct dns_query;
struct event;
struct remote_conn;
struct remote_dest;
typedef struct ssl_ctx_st SSL_CTX;

/* How long a connection waits idle for the next task of its destination. */
#define REMOTE_IDLE_TIMEOUT_S 5
/* Content is read from the spool in chunks of this size. */
#define REMOTE_CHUNK_BYTES (64 * 1024)
/* Stop reading content while this much output waits; resume below low. */
#define REMOTE_OUT_HIGH_BYTES (256 * 1024)
#define REMOTE_OUT_LOW_BYTES (64 * 1024)
/* RFC 5321 4.5.3.2.6: the reply to the final "." may take 10 minutes. */
#define REMOTE_DOT_TIMEOUT_S 600
/* Longest host name kept (RFC 1035 2.3.4). */
#define REMOTE_HOST_MAX 255

/* Parameters with their strings, shared by the jobs that use them. */
struct remote_cfg {
	unsigned refs;
	struct remote_params p; /* its strings are the copies below */
	char *helo;
	char *relay_host;
	char *relay_user;
	char *relay_password;
};

/* One address to try. */
struct remote_addr {
	char host[REMOTE_HOST_MAX + 1]; /* MX name or relay host */
	struct sockaddr_storage sa;
	socklen_t salen;
};

struct remote_task {
	TAILQ_ENTRY(remote_task) entry;      /* agent's jobs */
	TAILQ_ENTRY(remote_task) wait_entry; /* dest's waiting jobs */
	struct remote_agent *agent;
	struct remote_cfg *cfg;
	struct remote_dest *dest;
	bool waiting;  /* in dest->waiting, holds no slot */
	bool finished; /* cb is scheduled */
	bool has_slot; /* counts in dest->n_slots */

	/* A copy of what the queue handed over. */
	char *queue_id;
	char *domain;
	char *from;
	char **rcpts;
	size_t n_rcpts;
	int content_fd;
	uint64_t content_len;
	enum envelope_body body;
	bool smtputf8;
	time_t arrival;
	remote_done_fn *cb;
	void *cb_arg;

	/* Where to go. */
	struct dns_query *query;
	struct remote_addr *addrs;
	size_t n_addrs;
	size_t next_addr;
	bool no_reuse; /* a reused connection failed */
	bool no_tls;   /* retry this address in plaintext (RFC 7435) */
	struct remote_conn *conn;

	/* The last connection-level failure, for the final result. */
	char last_enh[SMTPC_ENH_MAX + 1];
	char last_error[SMTPC_RESULT_REPLY_BYTES];

	struct remote_outcome outcome;
	struct event *done_ev;
};

/* A destination: its slots (connections or running jobs) and queue. */
struct remote_dest {
	TAILQ_ENTRY(remote_dest) entry;
	struct remote_agent *agent;
	char *key; /* domain, or "[relay]host:port" */
	unsigned n_slots;
	TAILQ_HEAD(, remote_task) waiting;
	TAILQ_HEAD(, remote_conn) idle;
};

enum remote_conn_phase {
	REMOTE_CONN_CONNECTING, /* TCP connect in progress */
	REMOTE_CONN_HANDSHAKE,  /* TLS handshake in progress */
	REMOTE_CONN_SMTP,       /* talking */
	REMOTE_CONN_CLOSING,    /* flushing before close */
};

struct remote_conn {
	TAILQ_ENTRY(remote_conn) entry; /* agent's conns */
	TAILQ_ENTRY(remote_conn) idle_entry;
	struct remote_agent *agent;
	struct remote_cfg *cfg;
	struct remote_dest *dest;
	struct remote_task *task; /* NULL when idle */
	bool idle;
	enum remote_conn_phase phase;
	int fd;
	struct bufferevent *bev;
	bool tls; /* bev is TLS and owns fd */
	bool implicit_tls;
	bool verify;         /* fail the handshake on a bad cert */
	bool tls_optional;   /* STARTTLS is opportunistic */
	bool tls_failed;     /* ... and its handshake failed */
	bool reused;         /* carried an earlier task */
	bool has_slot;       /* counts in dest->n_slots */
	bool in_process;     /* deliver_remote_conn_process() runs */
	struct event *timer; /* connect, idle and close timeouts */
	struct smtpc_session *session;
	struct buf out;
	char host[REMOTE_HOST_MAX + 1];
	char relay[300];   /* "host[ip]:port" */
	char tls_desc[96]; /* "TLSv1.3 TLS_AES_..." or "" */

	/* Content streaming. */
	bool sending;
	uint64_t offset;
	struct smtpc_dot dot;
	struct buf chunk;
};

struct remote_agent {
	struct event_base *base;
	struct dns *dns;
	struct remote_cfg *cfg;
	SSL_CTX *tls_ctx; /* created on first use */
	TAILQ_HEAD(, remote_task) jobs;
	TAILQ_HEAD(, remote_conn) conns;
	TAILQ_HEAD(, remote_dest) dests;
};

/* deliver_remote.c */
void deliver_remote_cfg_unref(struct remote_cfg **cfgp);
/*
 * A connection of task failed before MAIL was accepted: try the same
 * address in plaintext after a failed opportunistic handshake, else the
 * next address.
 */
void deliver_remote_task_retry(
    struct remote_task *task, const char *enh, const char *error);
/* The task has its results in the session of task->conn: report them. */
void deliver_remote_task_done(struct remote_task *task);
/* A slot of dest came free (a connection closed or was released). */
void deliver_remote_dest_release(struct remote_dest *dest);
/* conn finished its task and can take another: hand over or park. */
void deliver_remote_dest_park(
    struct remote_dest *dest, struct remote_conn *conn);

/* deliver_remote_conn.c */
/* Connects task to task->addrs[i]; failures come back as a retry. */
void deliver_remote_conn_start(
    struct remote_task *task, const struct remote_addr *addr);
/* Gives task the idle connection conn, which starts its message. */
void deliver_remote_conn_take(
    struct remote_conn *conn, struct remote_task *task);
/* Sends QUIT (if idle) and closes; frees conn once flushed. */
void deliver_remote_conn_close(struct remote_conn *conn);
/* Frees at once; release: give back its slot (false on teardown). */
void deliver_remote_conn_free(struct remote_conn *conn, bool release);

/* deliver_tls_client.c */
/* A client SSL for host (SNI when it is a name), or NULL (logged). */
struct ssl_st *deliver_tls_client_ssl_new(
    struct remote_agent *a, const char *host, bool verify);
void deliver_tls_client_free(struct remote_agent *a);

#endif
