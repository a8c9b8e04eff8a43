/* SPDX-License-Identifier: ISC */
/*
 * TLS on SMTP connections: implicit TLS from the first byte on the
 * submissions role (RFC 8314), and STARTTLS (RFC 3207) elsewhere.  The
 * upgrade happens only after the "220 Ready to start TLS" has left, on a
 * fresh bufferevent; the plain one is freed with whatever the client
 * sent after STARTTLS, so such bytes are never executed (CVE-2011-0411).
 */
#include "server/server_private.h"

#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/str.h"
#include "core/xalloc.h"
#include "config/config.h"
#include "smtp/smtp_session.h"
#include "tls/tls.h"

int
server_tls_load(const struct config *cfg, struct tls_server **ts_r,
    struct buf *err)
{
	struct tls_cert_spec *specs;
	size_t i, n;
	int rc;

	*ts_r = NULL;
	if (cfg->tls_cert == NULL)
		return 0;
	n = 1 + cfg->n_tls_certs;
	specs = xcalloc(n, sizeof(*specs));
	specs[0].cert = cfg->tls_cert;
	specs[0].key = cfg->tls_key;
	for (i = 0; i < cfg->n_tls_certs; i++) {
		const struct config_tls_cert *tc = &cfg->tls_certs[i];

		specs[i + 1].cert = tc->cert;
		specs[i + 1].key = tc->key;
		specs[i + 1].hostnames = (const char *const *)tc->hostnames;
		specs[i + 1].n_hostnames = tc->n_hostnames;
	}
	rc = tls_server_new(specs, n, cfg->tls_ciphers, ts_r, err);
	free(specs);
	return rc;
}

/*
 * A TLS bufferevent on c->fd in the given libevent SSL state; it owns
 * the fd from now on.  NULL when no SSL could be made.
 */
struct bufferevent *
server_tls_bev_new(struct server_conn *c, int state)
{
	struct bufferevent *bev;
	SSL *ssl;

	if (c->srv->tls == NULL)
		return NULL;
	ssl = tls_server_ssl_new(c->srv->tls);
	if (ssl == NULL)
		return NULL;
	bev = bufferevent_openssl_socket_new(c->srv->base, c->fd, ssl,
	    (enum bufferevent_ssl_state)state, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		SSL_free(ssl);
		return NULL;
	}
	/* Many clients close without close_notify; that is not an error. */
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	c->tls = true;
	return bev;
}

/* The 220 has been sent: drop the plain channel and start the handshake. */
void
server_tls_upgrade(struct server_conn *c)
{
	struct bufferevent *bev;

	c->starttls_pending = false;
	/* Unread plaintext goes with the old bufferevent (RFC 3207 4.2). */
	bufferevent_free(c->bev);
	c->bev = NULL;
	bev = server_tls_bev_new(c, BUFFEREVENT_SSL_ACCEPTING);
	if (bev == NULL) {
		log_warn("%s smtp cannot start TLS", c->sid);
		server_conn_close(c, "tls-error");
		server_conn_finish(c);
		return;
	}
	c->bev = bev;
	server_conn_setup_bev(c);
}

void
server_tls_on_connected(struct server_conn *c)
{
	SSL *ssl = bufferevent_openssl_get_ssl(c->bev);

	c->tls_done = true;
	tls_describe(ssl, c->tls_version, sizeof(c->tls_version),
	    c->tls_cipher, sizeof(c->tls_cipher), &c->tls_bits);
	log_info("%s smtp tls version=%s cipher=%s bits=%d", c->sid,
	    c->tls_version, c->tls_cipher, c->tls_bits);
	/* After STARTTLS the session starts over (RFC 3207 4.2). */
	if (c->listener->role != LISTEN_ROLE_SUBMISSIONS)
		smtp_session_tls_started(c->session);
	server_conn_process(c);
}

void
server_tls_log_error(struct server_conn *c)
{
	unsigned long e;
	char buf[256];

	e = c->bev != NULL ? bufferevent_get_openssl_error(c->bev) : 0;
	if (e == 0)
		(void)!str_copy(buf, "connection closed", sizeof(buf));
	else
		ERR_error_string_n(e, buf, sizeof(buf));
	log_info("%s smtp tls handshake failed ip=%s error=\"%s\"", c->sid,
	    c->addr, buf);
}
