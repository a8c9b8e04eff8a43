/* SPDX-License-Identifier: ISC */
/*
 * Client-side TLS for the remote agent: one SSL_CTX per agent (TLS 1.2
 * or later, the system's trust store) and an SSL per connection with SNI
 * set to the host name.  For MX delivery the certificate is not checked
 * (RFC 7435 opportunistic security: an unverified channel beats
 * cleartext); a smarthost with relay_tls_verify must present a chain
 * that verifies and matches its name (RFC 6125).
 */
#include "deliver/deliver_remote_private.h"

#include <arpa/inet.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "core/log.h"

static SSL_CTX *
deliver_tls_client_ctx(struct remote_agent *a)
{
	SSL_CTX *ctx;

	if (a->tls_ctx != NULL)
		return a->tls_ctx;
	ctx = SSL_CTX_new(TLS_client_method());
	if (ctx == NULL)
		return NULL;
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	/* Without a trust store only verifying relays suffer; log it. */
	if (SSL_CTX_set_default_verify_paths(ctx) != 1)
		log_warn("deliver tls cannot load the default trust store");
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	a->tls_ctx = ctx;
	return ctx;
}

static bool
deliver_tls_client_is_numeric(const char *host)
{
	struct in6_addr a6;
	struct in_addr a4;

	return inet_pton(AF_INET, host, &a4) == 1 ||
	    inet_pton(AF_INET6, host, &a6) == 1;
}

SSL *
deliver_tls_client_ssl_new(
    struct remote_agent *a, const char *host, bool verify)
{
	SSL_CTX *ctx = deliver_tls_client_ctx(a);
	SSL *ssl;

	if (ctx == NULL || (ssl = SSL_new(ctx)) == NULL) {
		log_warn("deliver tls cannot create a client SSL: %s",
		    ERR_reason_error_string(ERR_get_error()));
		return NULL;
	}
	/* RFC 6066 3: SNI carries names only, never an address. */
	if (!deliver_tls_client_is_numeric(host) &&
	    SSL_set_tlsext_host_name(ssl, host) != 1) {
		SSL_free(ssl);
		return NULL;
	}
	if (verify) {
		SSL_set_verify(ssl, SSL_VERIFY_PEER, NULL);
		SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		if ((deliver_tls_client_is_numeric(host)
		            ? X509_VERIFY_PARAM_set1_ip_asc(
		                  SSL_get0_param(ssl), host)
		            : SSL_set1_host(ssl, host)) != 1) {
			SSL_free(ssl);
			return NULL;
		}
	}
	return ssl;
}

void
deliver_tls_client_free(struct remote_agent *a)
{
	if (a->tls_ctx != NULL)
		SSL_CTX_free(a->tls_ctx);
	a->tls_ctx = NULL;
}
