/* SPDX-License-Identifier: ISC */
/*
 * The control sockets (docs/control.md): <spool>/control.sock, mode
 * 0600, for the operator's `tern queue|stats|reload`, and
 * <spool>/submit.sock, mode 0666, for `tern sendmail` from any local
 * user (it only accepts "submit"; the peer's uid goes into the trace
 * header).  One request per connection, parsed by ctl/ctl.h; the
 * answer is written and the connection closed.
 */
#include "server/server_private.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "core/log.h"
#include "core/str.h"
#include "core/xalloc.h"
#include "ctl/ctl.h"
#include "queue/queue.h"
#include "spool/spool.h"

/* A control client may be idle this long... */
#define SERVER_CTL_TIMEOUT_S 60
/* ... and has this long for its whole request. */
#define SERVER_CTL_DEADLINE_S 300
/*
 * Clients at once, in all and per uid: each may buffer a message of
 * max_message_size, and submit.sock is open to every local user.
 */
#define SERVER_CTL_MAX_CONNS 32
#define SERVER_CTL_MAX_PER_UID 4

struct server_ctl_listener {
	struct server *srv;
	struct evconnlistener *evl;
	bool submit_only;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

static void
server_ctl_conn_free(struct server_ctl_conn *c)
{
	LIST_REMOVE(c, entry);
	c->srv->n_ctl_conns--;
	if (c->deadline != NULL)
		event_free(c->deadline);
	if (c->writer != NULL)
		spool_writer_abort(&c->writer);
	if (c->bev != NULL)
		bufferevent_free(c->bev);
	ctl_request_clear(&c->req);
	envelope_clear(&c->env);
	buf_clear(&c->in);
	free(c);
}

static void
server_ctl_on_write(struct bufferevent *bev, void *arg)
{
	struct server_ctl_conn *c = arg;

	(void)bev;
	if (c->replied)
		server_ctl_conn_free(c);
}

void
server_ctl_reply(struct server_ctl_conn *c, enum ctl_status st,
    const char *text, const struct buf *payload)
{
	struct evbuffer *out;

	if (c->replied)
		return;
	c->replied = true;
	if (c->bev == NULL) {
		/* The client went away while a commit was pending. */
		server_ctl_conn_free(c);
		return;
	}
	out = bufferevent_get_output(c->bev);
	bufferevent_disable(c->bev, EV_READ);
	if (evbuffer_add_printf(out, "%s %s\n", ctl_status_name(st), text) ==
	    -1 || (payload != NULL && payload->len > 0 &&
	    evbuffer_add(out, payload->data, payload->len) == -1)) {
		server_ctl_conn_free(c);
		return;
	}
	bufferevent_setcb(c->bev, NULL, server_ctl_on_write,
	    server_ctl_on_event, c);
	bufferevent_enable(c->bev, EV_WRITE);
}

void
server_ctl_on_event(struct bufferevent *bev, short what, void *arg)
{
	struct server_ctl_conn *c = arg;

	(void)bev;
	(void)what;
	if (c->committing) {
		/* The commit's callback frees c once it lands. */
		bufferevent_free(c->bev);
		c->bev = NULL;
		return;
	}
	server_ctl_conn_free(c);
}

static void
server_ctl_on_read(struct bufferevent *bev, void *arg)
{
	struct server_ctl_conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct ctl_limits lim;
	const uint8_t *fresh;
	struct buf err;
	size_t n;
	int rc;

	n = evbuffer_get_length(in);
	if (n > buf_room(&c->in)) {
		server_ctl_reply(c, CTL_PERM, "request too long", NULL);
		return;
	}
	fresh = evbuffer_pullup(in, -1);
	if (buf_append(&c->in, fresh, n) == -1)
		log_panic("server_ctl: input buffer");
	(void)evbuffer_drain(in, n);
	/* The head is parsed again only when a line has ended. */
	if (!c->have_head && memchr(c->in.data + c->in.len - n, '\n', n) !=
	    NULL) {
		lim.max_data = c->srv->cfg->max_message_size;
		lim.max_rcpts = c->srv->cfg->max_recipients;
		buf_init(&err, 64, 256);
		rc = ctl_request_parse(c->in.data, c->in.len, &lim, &c->req,
		    &err);
		if (rc == -1)
			server_ctl_reply(c, CTL_USAGE, buf_cstr(&err), NULL);
		buf_clear(&err);
		if (rc != 1)
			return;
		c->have_head = true;
	}
	if (!c->have_head)
		return;
	if (strcmp(c->req.verb, "submit") == 0) {
		if (c->in.len - c->req.head_len < c->req.data_len)
			return;
		bufferevent_disable(c->bev, EV_READ);
		server_ctl_submit(c);
		return;
	}
	if (c->submit_only) {
		server_ctl_reply(c, CTL_PERM, "this socket takes only submit; "
		    "operator commands use " CTL_CONTROL_SOCKET, NULL);
		return;
	}
	server_ctl_command(c);
}

static void
server_ctl_on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct server_ctl_conn *c = arg;

	(void)fd;
	(void)what;
	/* A submit being committed is answered by its commit. */
	if (!c->committing)
		server_ctl_conn_free(c);
}

/* Whether one more client of uid fits the limits. */
static bool
server_ctl_has_room(const struct server *srv, uid_t uid)
{
	const struct server_ctl_conn *c;
	size_t n = 0;

	if (srv->n_ctl_conns >= SERVER_CTL_MAX_CONNS)
		return false;
	LIST_FOREACH(c, &srv->ctl_conns, entry) {
		if (c->uid == uid)
			n++;
	}
	return n < SERVER_CTL_MAX_PER_UID;
}

static void
server_ctl_on_accept(struct evconnlistener *evl, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct server_ctl_listener *l = arg;
	struct server *srv = l->srv;
	struct server_ctl_conn *c;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct timeval tv = { SERVER_CTL_TIMEOUT_S, 0 };

	(void)evl;
	(void)sa;
	(void)salen;
	struct timeval dl = { SERVER_CTL_DEADLINE_S, 0 };
	static const char busy[] = "temp too many control connections, try "
	    "again later\n";

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
		(void)close(fd);
		return;
	}
	if (!server_ctl_has_room(srv, cred.uid)) {
		log_warn("control uid=%u refused: too many connections",
		    (unsigned)cred.uid);
		(void)!send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL |
		    MSG_DONTWAIT);
		(void)close(fd);
		return;
	}
	c = xcalloc(1, sizeof(*c));
	c->srv = srv;
	c->submit_only = l->submit_only;
	c->uid = cred.uid;
	ctl_request_init(&c->req);
	envelope_init(&c->env);
	/* The largest submit: its head, the message, CRLF growth aside. */
	buf_init(&c->in, 4096, srv->cfg->max_message_size +
	    (srv->cfg->max_recipients + 4) * CTL_LINE_MAX_BYTES);
	LIST_INSERT_HEAD(&srv->ctl_conns, c, entry);
	srv->n_ctl_conns++;
	c->deadline = evtimer_new(srv->base, server_ctl_on_deadline, c);
	c->bev = bufferevent_socket_new(srv->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (c->deadline == NULL || evtimer_add(c->deadline, &dl) == -1)
		log_panic("server_ctl: cannot arm a deadline");
	if (c->bev == NULL) {
		(void)close(fd);
		server_ctl_conn_free(c);
		return;
	}
	bufferevent_setcb(c->bev, server_ctl_on_read, NULL,
	    server_ctl_on_event, c);
	bufferevent_set_timeouts(c->bev, &tv, &tv);
	bufferevent_enable(c->bev, EV_READ);
}

static int
server_ctl_listen(struct server *srv, struct server_ctl_listener *l,
    const char *name, mode_t mode, struct buf *err)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if ((size_t)snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%s",
	    srv->cfg->spool, name) >= sizeof(sun.sun_path)) {
		(void)!buf_printf(err, "spool path %s is too long for its "
		    "control socket (at most %zu bytes)", srv->cfg->spool,
		    sizeof(sun.sun_path) - strlen(name) - 2);
		return -1;
	}
	/* The spool's lock is ours: a socket left here is stale. */
	(void)unlink(sun.sun_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    chmod(sun.sun_path, mode) == -1 || listen(fd, 64) == -1) {
		(void)!buf_printf(err, "control socket %s: %s", sun.sun_path,
		    strerror(errno));
		if (fd != -1)
			(void)close(fd);
		return -1;
	}
	(void)!str_copy(l->path, sun.sun_path, sizeof(l->path));
	l->srv = srv;
	l->evl = evconnlistener_new(srv->base, server_ctl_on_accept, l,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, fd);
	if (l->evl == NULL) {
		(void)close(fd);
		(void)!buf_printf(err, "control socket %s: cannot listen",
		    sun.sun_path);
		return -1;
	}
	return 0;
}

int
server_ctl_open(struct server *srv, struct buf *err)
{
	srv->ctl = xcalloc(2, sizeof(*srv->ctl));
	if (server_ctl_listen(srv, &srv->ctl[0], CTL_CONTROL_SOCKET, 0600,
	    err) == -1)
		return -1;
	srv->ctl[1].submit_only = true;
	if (server_ctl_listen(srv, &srv->ctl[1], CTL_SUBMIT_SOCKET, 0666,
	    err) == -1)
		return -1;
	/*
	 * Local users reach submit.sock through the spool directory:
	 * they may pass it (x), never list or read it (its subdirectories
	 * stay 0700).
	 */
	if (chmod(srv->cfg->spool, 0711) == -1)
		log_warn("chmod %s: %s (sendmail works for the owner only)",
		    srv->cfg->spool, strerror(errno));
	return 0;
}

void
server_ctl_close(struct server *srv)
{
	size_t i;

	if (srv->ctl == NULL)
		return;
	for (i = 0; i < 2; i++) {
		if (srv->ctl[i].evl == NULL)
			continue;
		evconnlistener_free(srv->ctl[i].evl);
		srv->ctl[i].evl = NULL;
		(void)unlink(srv->ctl[i].path);
	}
}

void
server_ctl_free(struct server *srv)
{
	struct server_ctl_conn *c;

	server_ctl_close(srv);
	while ((c = LIST_FIRST(&srv->ctl_conns)) != NULL)
		server_ctl_conn_free(c);
	free(srv->ctl);
	srv->ctl = NULL;
}
