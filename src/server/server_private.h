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
#include <sys/types.h>
#include <time.h>

#include "core/buf.h"
#include "core/envelope.h"
#include "server/server.h"
#include "config/config.h"
#include "ctl/ctl.h"
#include "deliver/deliver.h"
#include "smtp/smtp_session.h"

struct bufferevent;
struct config;
struct config_listen;
struct event;
struct event_base;
struct evconnlistener;
struct queue;
struct server;
struct spool;
struct spool_writer;

/* Numeric host text of an address, for logs and per-IP counting. */
#define SERVER_ADDR_MAX 64

/*
 * A listening socket.  Its settings are copied from the config, since a
 * reload replaces the config but not the sockets.
 */
struct server_listener {
	struct server *srv;
	char *name;
	char *host;
	char *port;
	enum listen_role role;
	struct evconnlistener *evl;
	int fd;
};

struct server_conn {
	TAILQ_ENTRY(server_conn) entry;
	struct server *srv;
	struct server_listener *listener;
	struct bufferevent *bev;
	int fd;
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

	/*
	 * A commit, or a delivery before the reply, whose completion is
	 * awaited (its callback owns conn).  While the delivery runs,
	 * writer is the finished message and direct its content.
	 */
	bool commit_pending;
	struct envelope commit_env;
	struct deliver_content direct;
	struct timespec commit_started;

	/* TLS: implicit, or after STARTTLS once the 220 has been sent. */
	bool tls;			/* bev is a TLS bufferevent; owns fd */
	bool starttls_pending;		/* upgrade once output is drained */
	bool tls_done;			/* handshake finished */
	char tls_version[16];
	char tls_cipher[64];
	int tls_bits;

	/* SMTP AUTH (RFC 4954) */
	struct auth_sasl *sasl;
	bool auth_pending;		/* password check or failure delay */
	struct event *auth_delay;
	bool auth_blocked;		/* the delayed answer is 421 */
	char *auth_login;		/* login being checked */
	char *auth_user;		/* login after success */

	bool closing;			/* flush output, then free */
	bool counted;			/* holds a slot in the per-IP table */
	const char *close_reason;
	unsigned messages;
	struct event *deadline;		/* whole-session limit */
};

TAILQ_HEAD(server_conn_list, server_conn);

/* A client of a control socket (server_ctl.c). */
struct server_ctl_conn {
	LIST_ENTRY(server_ctl_conn) entry;
	struct server *srv;
	struct bufferevent *bev;	/* NULL once the client has gone */
	bool submit_only;		/* came in on submit.sock */
	uid_t uid;			/* the peer's, from SO_PEERCRED */
	struct buf in;
	bool have_head;
	struct ctl_request req;
	bool committing;		/* a submit's commit is pending */
	bool replied;			/* close once the reply is out */
	struct event *deadline;		/* the whole request's time limit */
	struct spool_writer *writer;
	char qid[32];
	struct envelope env;
};
LIST_HEAD(server_ctl_conns, server_ctl_conn);
struct server_ctl_listener;

struct server_iptable;
struct tls_server;
struct auth_verifier;
struct auth_throttle;
struct auth_ratelimit;


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
	server_load_fn *load;
	void *load_arg;

	struct tls_server *tls;		/* NULL: no [tls] */
	struct auth_verifier *verifier;
	struct event *verifier_ev;
	struct auth_throttle *throttle;
	struct auth_ratelimit *ratelimit;

	struct server_ctl_listener *ctl;	/* control, submit */
	struct server_ctl_conns ctl_conns;
	size_t n_ctl_conns;
	size_t n_ctl_committing;	/* submits waiting for their commit */
	time_t started;
	uint64_t n_received;		/* messages committed */
	uint64_t n_sessions;		/* SMTP sessions accepted */
};

/* server.c */
/*
 * Re-reads the config, users, aliases and certificates; on an error the
 * old ones stay and err has the "FILE:LINE: ..." lines.  0 or -1.
 */
int server_reload(struct server *srv, struct buf *err);
/*
 * During a shutdown: ends the loop once no SMTP session and no local
 * submission waiting for its commit is left.
 */
void server_maybe_stopped(struct server *srv);

/* server_ctl.c: the control sockets. */
int server_ctl_open(struct server *srv, struct buf *err);
/* Stops listening (shutdown); clients in progress finish. */
void server_ctl_close(struct server *srv);
void server_ctl_free(struct server *srv);
/* Answers c and closes it once the answer is out. */
void server_ctl_reply(struct server_ctl_conn *c, enum ctl_status st,
    const char *text, const struct buf *payload);
void server_ctl_on_event(struct bufferevent *bev, short what, void *arg);

/* server_ctl_cmd.c: what the requests do. */
/* An operator command (c->req); answers c. */
void server_ctl_command(struct server_ctl_conn *c);
/* A complete submit request; answers c, at once or after the commit. */
void server_ctl_submit(struct server_ctl_conn *c);

/* server_listen.c */
int server_listen_open(struct server *srv, struct buf *err);
int server_listen_start(struct server *srv);
void server_listen_close(struct server *srv);
void server_listen_free(struct server *srv);
/* Whether cfg's listeners differ from the sockets in use. */
bool server_listen_changed(const struct server *srv,
    const struct config *cfg);

/* server_conn.c */
void server_conn_accept(struct server_listener *l, int fd,
    const struct sockaddr *sa, socklen_t salen);
void server_conn_shutdown_all(struct server *srv);
/* Frees every session at exit, whatever its state. */
void server_conn_drop_all(struct server *srv);
/* Drops the messages being received (before the spool closes). */
void server_conn_abort_writers(struct server *srv);

/* Whether the connection waits for a commit, a password check or TLS. */
bool server_conn_is_waiting(const struct server_conn *c);
/* Continues with buffered input after a wait ended. */
void server_conn_process(struct server_conn *c);
/* Marks the connection for an orderly close; see server_conn.c. */
void server_conn_close(struct server_conn *c, const char *reason);
/* Sends what the session queued in c->out. */
void server_conn_flush(struct server_conn *c);
/* Sends the rest of a closing connection's output, then frees it. */
void server_conn_finish(struct server_conn *c);
/* Installs the libevent callbacks and timeouts on c->bev. */
void server_conn_setup_bev(struct server_conn *c);

/* Called by server_message.c when a commit has finished. */
void server_conn_commit_done(struct server_conn *c,
    const struct smtp_result *r);

/*
 * server_message.c: the glue between the session's content events and
 * the spool.  begin() opens a spool file and writes the Received header;
 * data() appends; end() expands the recipients and starts the delivery
 * before the reply or the commit (returns 1: server_conn_commit_done()
 * follows), or fills r and returns 0 when the message is refused at
 * once; abort() discards, except while end()'s work is pending; drop()
 * discards in any case, at exit, once the queue's workers are stopped.
 */
void server_message_begin(struct server_conn *c, struct smtp_result *r);
void server_message_data(struct server_conn *c, const uint8_t *p,
    size_t len);
int server_message_end(struct server_conn *c, struct smtp_result *r);
void server_message_abort(struct server_conn *c);
void server_message_drop(struct server_conn *c);

/*
 * server_tls.c: TLS contexts from the config, implicit TLS at accept,
 * the STARTTLS upgrade (RFC 3207) and the end of the handshake.
 */
int server_tls_load(const struct config *cfg, struct tls_server **ts_r,
    struct buf *err);
struct bufferevent *server_tls_bev_new(struct server_conn *c, int state);
void server_tls_upgrade(struct server_conn *c);
void server_tls_on_connected(struct server_conn *c);
/* Logs why a handshake failed (OpenSSL's reason). */
void server_tls_log_error(struct server_conn *c);

/*
 * server_auth.c: SMTP AUTH exchanges, password checks off the loop,
 * the per-IP failure throttle, sender ownership and the per-user rate.
 */
void server_auth_init(struct server *srv);
void server_auth_free(struct server *srv);
void server_auth_set_limits(struct server *srv);
void server_auth_on_event(struct server_conn *c, enum smtp_event ev,
    const struct smtp_event_data *d);
/* Drops a connection's pending check and delay, and its secrets. */
void server_auth_conn_clear(struct server_conn *c);
/* MAIL: 0, or fills r when the sender is not the user's to use. */
int server_auth_check_sender(struct server_conn *c, const char *from,
    struct smtp_result *r);
/* RCPT accepted by policy: 0, or fills r when over the user's rate. */
int server_auth_take_rcpt(struct server_conn *c, struct smtp_result *r);

/* server_iptable.c: open sessions per client address */
struct server_iptable *server_iptable_new(void);
void server_iptable_free(struct server_iptable **tp);
/* Adds one session for addr; returns the new count. */
uint64_t server_iptable_add(struct server_iptable *t, const char *addr);
void server_iptable_del(struct server_iptable *t, const char *addr);

#endif
