/* SPDX-License-Identifier: ISC */
/*
 * Internals shared by the files of src/server/ only.
 */
#ifndef TERN_SERVER_SERVER_PRIVATE_H
#define TERN_SERVER_SERVER_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <time.h>

#include "core/buf.h"
#include "core/envelope.h"

struct bufferevent;
struct config;
struct config_listen;
struct event;
struct event_base;
struct evconnlistener;
struct queue;
struct server;
struct smtp_result;
struct smtp_session;
struct spool;
struct spool_writer;

/* Numeric host text of an address, for logs and per-IP counting. */
#define SERVER_ADDR_MAX 64

struct server_listener {
	struct server *srv;
	const struct config_listen *conf;	/* in srv->cfg */
	struct evconnlistener *evl;
	int fd;
};

struct server_conn {
	TAILQ_ENTRY(server_conn) entry;
	struct server *srv;
	struct server_listener *listener;
	struct bufferevent *bev;
	struct smtp_session *session;
	struct buf out;			/* replies from the session */
	char sid[17];			/* session id for logs */
	char addr[SERVER_ADDR_MAX];	/* client's numeric address */
	struct timespec started;

	/* The message being received. */
	struct spool_writer *writer;
	char qid[32];
	int write_error;		/* errno of a failed spool write */
	uint64_t bytes;

	/* A commit whose completion is awaited (its callback owns conn). */
	bool commit_pending;
	struct envelope commit_env;
	struct timespec commit_started;

	bool closing;			/* flush output, then free */
	bool counted;			/* holds a slot in the per-IP table */
	const char *close_reason;
	unsigned messages;
	struct event *deadline;		/* whole-session limit */
};

TAILQ_HEAD(server_conn_list, server_conn);

struct server_iptable;

struct server {
	struct event_base *base;
	struct config *cfg;
	struct spool *spool;
	struct queue *queue;
	struct server_listener *listeners;
	size_t n_listeners;
	struct server_conn_list conns;
	size_t n_conns;
	struct server_iptable *iptable;
	uint64_t next_sid;
	bool stopping;
	struct event *spool_ev;
	struct event *sig_term, *sig_int, *sig_hup;
};

/* server_listen.c */
int server_listen_open(struct server *srv, struct buf *err);
int server_listen_start(struct server *srv);
void server_listen_close(struct server *srv);

/* server_conn.c */
void server_conn_accept(struct server_listener *l, int fd,
    const struct sockaddr *sa, socklen_t salen);
void server_conn_shutdown_all(struct server *srv);
/* Frees every session at exit, whatever its state. */
void server_conn_drop_all(struct server *srv);

/* Called by server_message.c when a commit has finished. */
void server_conn_commit_done(struct server_conn *c,
    const struct smtp_result *r);

/*
 * server_message.c: the glue between the session's content events and
 * the spool.  begin() opens a spool file and writes the Received header;
 * data() appends; end() expands the recipients and starts the commit
 * (returns 1: server_conn_commit_done() follows), or fills r and returns
 * 0 when the message is refused at once; abort() discards.
 */
void server_message_begin(struct server_conn *c, struct smtp_result *r);
void server_message_data(struct server_conn *c, const uint8_t *p,
    size_t len);
int server_message_end(struct server_conn *c, struct smtp_result *r);
void server_message_abort(struct server_conn *c);

/* server_iptable.c: open sessions per client address */
struct server_iptable *server_iptable_new(void);
void server_iptable_free(struct server_iptable **tp);
/* Adds one session for addr; returns the new count. */
uint64_t server_iptable_add(struct server_iptable *t, const char *addr);
void server_iptable_del(struct server_iptable *t, const char *addr);

#endif
