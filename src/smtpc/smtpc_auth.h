/* SPDX-License-Identifier: ISC */
/*
 * Client side of SMTP AUTH (RFC 4954): the base64 lines of PLAIN (RFC
 * 4616, sent as the initial response) and LOGIN.  Used by the session;
 * the lines carry secrets, so callers wipe them after use.
 */
#ifndef TERN_SMTPC_SMTPC_AUTH_H
#define TERN_SMTPC_SMTPC_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "core/compat.h"

struct buf;

/* Appends the base64 (RFC 4648 4, padded) of data to out; 0 or -1. */
ATTR_WUR int smtpc_auth_base64(const void *data, size_t len, struct buf *out);

/* Appends "AUTH PLAIN <base64(\0user\0password)>\r\n"; 0 or -1. */
ATTR_WUR int smtpc_auth_plain_line(
    const char *user, const char *password, struct buf *out);

/* Appends base64(text) "\r\n", a LOGIN step; 0 or -1. */
ATTR_WUR int smtpc_auth_login_line(const char *text, struct buf *out);

#endif
