/* SPDX-License-Identifier: ISC */
/*
 * Server TLS contexts: certificate loading, protocol floor (TLS 1.2,
 * RFC 8996 retired 1.0 and 1.1), cipher choice and SNI selection
 * (RFC 6066 section 3).
 */
#include "tls/tls.h"

#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/str.h"
#include "core/xalloc.h"

struct tls_sni {
	char *hostname;		/* lowercased; "*.example.test" allowed */
	SSL_CTX *ctx;
};

struct tls_server {
	SSL_CTX *default_ctx;
	SSL_CTX **ctxs;		/* one per spec, [0] == default_ctx */
	size_t n_ctxs;
	struct tls_sni *sni;
	size_t n_sni;
};

/* The first queued OpenSSL error as text, and the queue cleared. */
static const char *
tls_server_ssl_error(char *buf, size_t size)
{
	unsigned long e = ERR_get_error();

	if (e == 0)
		(void)!str_copy(buf, "unknown error", size);
	else
		ERR_error_string_n(e, buf, size);
	ERR_clear_error();
	return buf;
}

/* Whether the SNI name matches a configured name, wildcards one label. */
static bool
tls_server_name_matches(const char *pattern, const char *name)
{
	const char *dot;

	if (str_casecmp(pattern, name) == 0)
		return true;
	if (pattern[0] != '*' || pattern[1] != '.')
		return false;
	dot = strchr(name, '.');
	return dot != NULL && dot != name && str_casecmp(pattern + 1, dot) == 0;
}

static int
tls_server_on_sni(SSL *ssl, int *alert, void *arg)
{
	struct tls_server *ts = arg;
	const char *name;
	size_t i;

	(void)alert;
	name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	if (name == NULL)
		return SSL_TLSEXT_ERR_NOACK;
	for (i = 0; i < ts->n_sni; i++) {
		if (tls_server_name_matches(ts->sni[i].hostname, name)) {
			if (SSL_set_SSL_CTX(ssl, ts->sni[i].ctx) == NULL)
				return SSL_TLSEXT_ERR_ALERT_FATAL;
			return SSL_TLSEXT_ERR_OK;
		}
	}
	/* Unknown names get the default certificate. */
	return SSL_TLSEXT_ERR_OK;
}

static SSL_CTX *
tls_server_ctx_new(const struct tls_cert_spec *spec, const char *ciphers,
    struct buf *err)
{
	char ebuf[256];
	SSL_CTX *ctx;

	ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL) {
		(void)!buf_printf(err, "TLS: %s\n",
		    tls_server_ssl_error(ebuf, sizeof(ebuf)));
		return NULL;
	}
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_cipher_list(ctx, ciphers) != 1) {
		(void)!buf_printf(err, "TLS ciphers \"%s\": %s\n", ciphers,
		    tls_server_ssl_error(ebuf, sizeof(ebuf)));
		goto fail;
	}
	/* No renegotiation, no compression, server's cipher order. */
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE |
	    SSL_OP_NO_TICKET);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	if (SSL_CTX_use_certificate_chain_file(ctx, spec->cert) != 1) {
		(void)!buf_printf(err, "%s: cannot load certificate: %s\n",
		    spec->cert, tls_server_ssl_error(ebuf, sizeof(ebuf)));
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, spec->key, SSL_FILETYPE_PEM) !=
	    1) {
		(void)!buf_printf(err, "%s: cannot load key: %s\n", spec->key,
		    tls_server_ssl_error(ebuf, sizeof(ebuf)));
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		(void)!buf_printf(err, "%s: key does not match certificate "
		    "%s\n", spec->key, spec->cert);
		goto fail;
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

int
tls_server_new(const struct tls_cert_spec *specs, size_t n,
    const char *ciphers, struct tls_server **ts_r, struct buf *err)
{
	struct tls_server *ts;
	size_t i, j;

	ASSERT(n > 0);
	if (ciphers == NULL)
		ciphers = TLS_DEFAULT_CIPHERS;
	ts = xcalloc(1, sizeof(*ts));
	ts->ctxs = xcalloc(n, sizeof(*ts->ctxs));
	for (i = 0; i < n; i++) {
		ts->ctxs[i] = tls_server_ctx_new(&specs[i], ciphers, err);
		if (ts->ctxs[i] == NULL)
			goto fail;
		ts->n_ctxs++;
		for (j = 0; j < specs[i].n_hostnames; j++) {
			ts->sni = xreallocarray(ts->sni, ts->n_sni + 1,
			    sizeof(*ts->sni));
			ts->sni[ts->n_sni].hostname = str_lower(
			    xstrdup(specs[i].hostnames[j]));
			ts->sni[ts->n_sni].ctx = ts->ctxs[i];
			ts->n_sni++;
		}
	}
	ts->default_ctx = ts->ctxs[0];
	SSL_CTX_set_tlsext_servername_callback(ts->default_ctx,
	    tls_server_on_sni);
	SSL_CTX_set_tlsext_servername_arg(ts->default_ctx, ts);
	*ts_r = ts;
	return 0;
fail:
	tls_server_free(&ts);
	return -1;
}

void
tls_server_free(struct tls_server **tsp)
{
	struct tls_server *ts = *tsp;
	size_t i;

	if (ts == NULL)
		return;
	for (i = 0; i < ts->n_ctxs; i++)
		SSL_CTX_free(ts->ctxs[i]);
	for (i = 0; i < ts->n_sni; i++)
		free(ts->sni[i].hostname);
	free(ts->sni);
	free(ts->ctxs);
	free(ts);
	*tsp = NULL;
}

SSL *
tls_server_ssl_new(struct tls_server *ts)
{
	char ebuf[256];
	SSL *ssl = SSL_new(ts->default_ctx);

	if (ssl == NULL)
		log_warn("tls: SSL_new: %s",
		    tls_server_ssl_error(ebuf, sizeof(ebuf)));
	return ssl;
}

void
tls_describe(SSL *ssl, char *version, size_t version_size, char *cipher,
    size_t cipher_size, int *bits_r)
{
	const SSL_CIPHER *c = SSL_get_current_cipher(ssl);

	(void)!str_copy(version, SSL_get_version(ssl), version_size);
	(void)!str_copy(cipher, c != NULL ? SSL_CIPHER_get_name(c) : "none",
	    cipher_size);
	*bits_r = c != NULL ? SSL_CIPHER_get_bits(c, NULL) : 0;
}
