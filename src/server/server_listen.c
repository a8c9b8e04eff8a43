/* SPDX-License-Identifier: ISC */
/*
 * Listening sockets.  They are bound while tern may still be root (ports
 * below 1024), before privileges are dropped, and handed to libevent
 * afterwards.  Accepted connections go to server_conn_accept().
 */
#include "server/server_private.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "core/log.h"
#include "core/xalloc.h"
#include "config/config.h"

#define SERVER_LISTEN_BACKLOG 1024

static int
server_listen_bind(const struct config_listen *cl, struct buf *err)
{
	struct addrinfo hints, *res;
	int fd, one = 1, rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
	rc = getaddrinfo(cl->host, cl->port, &hints, &res);
	if (rc != 0) {
		(void)!buf_printf(err, "listen %s: %s:%s: %s\n", cl->name,
		    cl->host, cl->port, gai_strerror(rc));
		return -1;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1)
		goto fail;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (res->ai_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
		    sizeof(one));
	if (bind(fd, res->ai_addr, res->ai_addrlen) == -1 ||
	    listen(fd, SERVER_LISTEN_BACKLOG) == -1)
		goto fail;
	freeaddrinfo(res);
	return fd;
fail:
	(void)!buf_printf(err, "listen %s: %s:%s: %s\n", cl->name, cl->host,
	    cl->port, strerror(errno));
	if (fd != -1)
		close(fd);
	freeaddrinfo(res);
	return -1;
}

int
server_listen_open(struct server *srv, struct buf *err)
{
	const struct config *cfg = srv->cfg;
	size_t i;

	srv->listeners = xcalloc(cfg->n_listens, sizeof(*srv->listeners));
	srv->n_listeners = cfg->n_listens;
	for (i = 0; i < cfg->n_listens; i++)
		srv->listeners[i].fd = -1;
	for (i = 0; i < cfg->n_listens; i++) {
		struct server_listener *l = &srv->listeners[i];

		l->srv = srv;
		l->name = xstrdup(cfg->listens[i].name);
		l->host = xstrdup(cfg->listens[i].host);
		l->port = xstrdup(cfg->listens[i].port);
		l->role = cfg->listens[i].role;
		l->fd = server_listen_bind(&cfg->listens[i], err);
		if (l->fd == -1)
			return -1;
	}
	return 0;
}

static void
server_listen_on_accept(struct evconnlistener *evl, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	(void)evl;
	server_conn_accept(arg, fd, sa, (socklen_t)salen);
}

static void
server_listen_on_error(struct evconnlistener *evl, void *arg)
{
	struct server_listener *l = arg;

	(void)evl;
	/*
	 * EMFILE and ENFILE end up here; libevent keeps the listener, so
	 * the next readiness retries.  Log it, since it means clients wait.
	 */
	log_warn("listen %s: accept: %s", l->name, strerror(errno));
}

int
server_listen_start(struct server *srv)
{
	size_t i;

	for (i = 0; i < srv->n_listeners; i++) {
		struct server_listener *l = &srv->listeners[i];

		l->evl = evconnlistener_new(srv->base, server_listen_on_accept,
		    l, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1,
		    l->fd);
		if (l->evl == NULL) {
			log_err("listen %s: cannot start listener", l->name);
			return -1;
		}
		evconnlistener_set_error_cb(l->evl, server_listen_on_error);
		log_info("listen %s address=%s:%s role=%s", l->name, l->host,
		    l->port, config_role_name(l->role));
	}
	return 0;
}

void
server_listen_close(struct server *srv)
{
	size_t i;

	for (i = 0; i < srv->n_listeners; i++) {
		struct server_listener *l = &srv->listeners[i];

		if (l->evl != NULL)
			evconnlistener_free(l->evl);
		else if (l->fd != -1)
			close(l->fd);
		l->evl = NULL;
		l->fd = -1;
	}
}

void
server_listen_free(struct server *srv)
{
	size_t i;

	server_listen_close(srv);
	for (i = 0; i < srv->n_listeners; i++) {
		free(srv->listeners[i].name);
		free(srv->listeners[i].host);
		free(srv->listeners[i].port);
	}
	free(srv->listeners);
	srv->listeners = NULL;
	srv->n_listeners = 0;
}

bool
server_listen_changed(const struct server *srv, const struct config *cfg)
{
	size_t i;

	if (cfg->n_listens != srv->n_listeners)
		return true;
	for (i = 0; i < cfg->n_listens; i++) {
		const struct server_listener *l = &srv->listeners[i];
		const struct config_listen *cl = &cfg->listens[i];

		if (strcmp(l->name, cl->name) != 0 ||
		    strcmp(l->host, cl->host) != 0 ||
		    strcmp(l->port, cl->port) != 0 || l->role != cl->role)
			return true;
	}
	return false;
}
