/* SPDX-License-Identifier: ISC */
/*
 * TLS contexts for the server side (OpenSSL 3): one default certificate
 * and any number of further ones chosen by SNI.  TLS 1.2 and 1.3 only,
 * with a modern cipher list unless the config names another.
 *
 * A struct tls_server is immutable once built; a reload builds a new
 * one and frees the old.  Connections that already hold an SSL keep
 * their context alive through OpenSSL's reference counting, so freeing
 * the old tls_server never disturbs a session in progress.
 */
#ifndef TERN_TLS_TLS_H
#define TERN_TLS_TLS_H

#include <stddef.h>

#include "core/compat.h"

struct buf;
struct tls_server;
typedef struct ssl_st SSL;

/* One certificate and key, and the SNI names it serves. */
struct tls_cert_spec {
	const char *cert;	/* PEM file: certificate, then its chain */
	const char *key;	/* PEM file: private key */
	const char *const *hostnames;	/* NULL for the default one */
	size_t n_hostnames;
};

/* TLS 1.2 suites; TLS 1.3 uses OpenSSL's default (all AEAD). */
#define TLS_DEFAULT_CIPHERS                                                 \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"        \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"        \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

/*
 * Builds the contexts: specs[0] is the default certificate.  ciphers
 * may be NULL for TLS_DEFAULT_CIPHERS.  Returns 0, or -1 with a reason
 * per failing file in err ("FILE: what is wrong").
 */
ATTR_WUR int tls_server_new(const struct tls_cert_spec *specs, size_t n,
    const char *ciphers, struct tls_server **ts_r, struct buf *err);
void tls_server_free(struct tls_server **tsp);

/*
 * A new server-side SSL for one connection, or NULL (logged).  The
 * caller owns it (libevent frees it with the bufferevent).
 */
SSL *tls_server_ssl_new(struct tls_server *ts);

/*
 * Describes a finished handshake for logs and Received headers, e.g.
 * "version=TLSv1.3 cipher=TLS_AES_256_GCM_SHA384 bits=256"; writes
 * version and cipher names into the given buffers.
 */
void tls_describe(SSL *ssl, char *version, size_t version_size,
    char *cipher, size_t cipher_size, int *bits_r);

#endif
