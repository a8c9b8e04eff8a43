/* SPDX-License-Identifier: ISC */
/*
 * Startup, the event loop and shutdown.  Order matters: bind the ports
 * (maybe as root), prepare the state directories, drop privileges, open
 * the spool and recover it, and only then take connections.
 */
#include "server/server.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/str.h"
#include "core/xalloc.h"
#include "config/config.h"
#include "queue/queue.h"
#include "server/server_private.h"
#include "spool/spool.h"
#include "tls/tls.h"

/* How long a shutdown waits for sessions to say goodbye. */
#define SERVER_SHUTDOWN_GRACE_S 10

/* mkdir -p, each created level with mode. */
static int
server_mkdirs(const char *path, mode_t mode)
{
	char *p = xstrdup(path), *s;
	int rc = 0;

	for (s = p + 1; rc == 0; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char saved = *s;

		*s = '\0';
		if (mkdir(p, mode) == -1 && errno != EEXIST)
			rc = -1;
		*s = saved;
		if (saved == '\0')
			break;
	}
	free(p);
	return rc;
}

/*
 * Creates the spool and mailroot, gives them to the run-as user, and
 * becomes that user (DESIGN.md invariant 6).
 */
static int
server_prepare_dirs_and_drop(const struct config *cfg)
{
	const char *dirs[] = { cfg->spool, cfg->mailroot };
	struct passwd *pw = NULL;
	size_t i;

	if (cfg->user != NULL) {
		errno = 0;
		pw = getpwnam(cfg->user);
		if (pw == NULL) {
			log_err("user %s: no such user", cfg->user);
			return -1;
		}
	} else if (geteuid() == 0) {
		log_warn("running as root: set [server] user to drop "
		    "privileges");
	}
	for (i = 0; i < N_ELEMENTS(dirs); i++) {
		if (server_mkdirs(dirs[i], 0700) == -1) {
			log_err("%s: %s", dirs[i], strerror(errno));
			return -1;
		}
		if (pw != NULL && geteuid() == 0 &&
		    chown(dirs[i], pw->pw_uid, pw->pw_gid) == -1) {
			log_err("chown %s: %s", dirs[i], strerror(errno));
			return -1;
		}
	}
	if (pw == NULL || (geteuid() != 0 && getuid() == pw->pw_uid))
		return 0;
	if (geteuid() != 0) {
		log_err("user %s: must start as root to switch users",
		    cfg->user);
		return -1;
	}
	if (setgroups(1, &pw->pw_gid) == -1 || setgid(pw->pw_gid) == -1 ||
	    setuid(pw->pw_uid) == -1) {
		log_err("cannot become user %s: %s", cfg->user,
		    strerror(errno));
		return -1;
	}
	if (setuid(0) != -1) {
		log_err("privileges could not be dropped");
		return -1;
	}
	log_info("running as user %s", cfg->user);
	return 0;
}

static void
server_on_spool(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;

	(void)fd;
	(void)what;
	spool_dispatch(srv->spool);
}

static void
server_on_grace_over(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;

	(void)fd;
	(void)what;
	log_warn("shutdown: %zu sessions still open, closing them",
	    srv->n_conns);
	event_base_loopbreak(srv->base);
}

void
server_maybe_stopped(struct server *srv)
{
	if (srv->stopping && srv->n_conns == 0 && srv->n_ctl_committing == 0)
		event_base_loopbreak(srv->base);
}

static void
server_on_stop_signal(evutil_socket_t sig, short what, void *arg)
{
	struct server *srv = arg;
	struct timeval tv = { SERVER_SHUTDOWN_GRACE_S, 0 };

	(void)what;
	if (srv->stopping)
		return;
	log_info("shutdown requested by signal %d", (int)sig);
	srv->stopping = true;
	server_listen_close(srv);
	server_ctl_close(srv);
	server_conn_shutdown_all(srv);
	if (srv->n_conns == 0 && srv->n_ctl_committing == 0) {
		event_base_loopbreak(srv->base);
		return;
	}
	event_base_once(srv->base, -1, EV_TIMEOUT, server_on_grace_over, srv,
	    &tv);
}

/*
 * Builds a new config and TLS contexts and swaps them in.  Any error
 * keeps the old ones.  Sessions in progress keep their TLS context;
 * listeners need a restart to change.
 */
int
server_reload(struct server *srv, struct buf *err)
{
	struct config *cfg = NULL;
	struct tls_server *tls = NULL;

	if (srv->load(srv->load_arg, &cfg, err) == -1 ||
	    server_tls_load(cfg, &tls, err) == -1) {
		log_err("reload refused, old configuration stays:\n%s",
		    buf_cstr(err));
		config_free(&cfg);
		return -1;
	}
	if (server_listen_changed(srv, cfg))
		log_warn("reload: listener changes take effect at restart");
	if (tls == NULL && srv->tls != NULL)
		log_warn("reload: [tls] removed; STARTTLS stays off for new "
		    "sessions");
	tls_server_free(&srv->tls);
	srv->tls = tls;
	queue_set_config(srv->queue, cfg);
	config_free(&srv->cfg);
	srv->cfg = cfg;
	server_auth_set_limits(srv);
	log_info("reload done config=%s", cfg->path);
	return 0;
}

/* SIGHUP: the same as `tern reload`. */
static void
server_on_reload_signal(evutil_socket_t sig, short what, void *arg)
{
	struct buf err;

	(void)sig;
	(void)what;
	buf_init(&err, 256, 0);
	(void)server_reload(arg, &err);
	buf_clear(&err);
}

static int
server_setup_events(struct server *srv)
{
	srv->spool_ev = event_new(srv->base, spool_notify_fd(srv->spool),
	    EV_READ | EV_PERSIST, server_on_spool, srv);
	srv->sig_term = evsignal_new(srv->base, SIGTERM, server_on_stop_signal,
	    srv);
	srv->sig_int = evsignal_new(srv->base, SIGINT, server_on_stop_signal,
	    srv);
	srv->sig_hup = evsignal_new(srv->base, SIGHUP,
	    server_on_reload_signal, srv);
	if (srv->spool_ev == NULL || srv->sig_term == NULL ||
	    srv->sig_int == NULL || srv->sig_hup == NULL ||
	    event_add(srv->spool_ev, NULL) == -1 ||
	    event_add(srv->sig_term, NULL) == -1 ||
	    event_add(srv->sig_int, NULL) == -1 ||
	    event_add(srv->sig_hup, NULL) == -1)
		return -1;
	return 0;
}

static void
server_teardown(struct server *srv)
{
	server_listen_close(srv);
	/* The queue journals its last results while the spool is open. */
	queue_free(&srv->queue);
	/* Messages still being received are dropped while there is a spool. */
	server_conn_abort_writers(srv);
	/* Pending commits finish before sessions go (callbacks dropped). */
	if (srv->spool != NULL)
		spool_close(&srv->spool);
	server_conn_drop_all(srv);
	server_ctl_free(srv);
	server_auth_free(srv);
	tls_server_free(&srv->tls);
	if (srv->spool_ev != NULL)
		event_free(srv->spool_ev);
	if (srv->sig_term != NULL)
		event_free(srv->sig_term);
	if (srv->sig_int != NULL)
		event_free(srv->sig_int);
	if (srv->sig_hup != NULL)
		event_free(srv->sig_hup);
	server_iptable_free(&srv->iptable);
	server_listen_free(srv);
	if (srv->base != NULL)
		event_base_free(srv->base);
	config_free(&srv->cfg);
}

int
server_main(struct config *cfg, server_load_fn *load, void *load_arg)
{
	struct server srv;
	struct buf err;
	int status = 1;

	memset(&srv, 0, sizeof(srv));
	TAILQ_INIT(&srv.conns);
	srv.cfg = cfg;
	srv.load = load;
	srv.load_arg = load_arg;
	srv.next_sid = (uint64_t)time(NULL) << 20;
	srv.started = time(NULL);
	LIST_INIT(&srv.ctl_conns);
	buf_init(&err, 256, 0);
	(void)signal(SIGPIPE, SIG_IGN);

	if (server_listen_open(&srv, &err) == -1) {
		log_err("%s", buf_cstr(&err));
		goto out;
	}
	/* Keys are often readable by root alone: load before the drop. */
	if (server_tls_load(cfg, &srv.tls, &err) == -1) {
		log_err("%s", buf_cstr(&err));
		goto out;
	}
	if (server_prepare_dirs_and_drop(cfg) == -1)
		goto out;
	if (spool_open(cfg->spool, &srv.spool, &err) == -1) {
		log_err("spool %s: %s", cfg->spool, buf_cstr(&err));
		goto out;
	}
	srv.iptable = server_iptable_new();
	srv.base = event_base_new();
	if (srv.base == NULL || server_setup_events(&srv) == -1) {
		log_err("cannot set up the event loop");
		goto out;
	}
	srv.queue = queue_new(cfg, srv.spool, srv.base, &err);
	if (srv.queue == NULL) {
		log_err("%s", buf_cstr(&err));
		goto out;
	}
	server_auth_init(&srv);
	if (server_ctl_open(&srv, &err) == -1) {
		log_err("%s", buf_cstr(&err));
		goto out;
	}
	if (queue_recover(srv.queue, &err) == -1) {
		log_err("spool recovery: %s", buf_cstr(&err));
		goto out;
	}
	if (server_listen_start(&srv) == -1)
		goto out;
	log_info("tern started hostname=%s spool=%s mailroot=%s",
	    cfg->hostname, cfg->spool, cfg->mailroot);
	if (event_base_dispatch(srv.base) == -1) {
		log_err("event loop failed");
		goto out;
	}
	log_info("tern stopped");
	status = 0;
out:
	server_teardown(&srv);
	buf_clear(&err);
	return status;
}
