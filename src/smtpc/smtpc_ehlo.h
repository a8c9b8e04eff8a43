/* SPDX-License-Identifier: ISC */
/*
 * The service extensions a server announces in its EHLO reply (RFC 5321
 * 4.1.1.1: the first line greets, each further line is one keyword with
 * optional parameters).  Keywords are matched without regard to case;
 * unknown ones are ignored.
 */
#ifndef TERN_SMTPC_SMTPC_EHLO_H
#define TERN_SMTPC_SMTPC_EHLO_H

#include <stdbool.h>
#include <stdint.h>

#include "core/compat.h"

struct smtpc_reply;

/* SASL mechanisms the client can use (RFC 4954; RFC 4616 PLAIN). */
#define SMTPC_AUTH_PLAIN 0x1u
#define SMTPC_AUTH_LOGIN 0x2u

struct smtpc_ext {
	bool pipelining;          /* RFC 2920 */
	bool size;                /* RFC 1870 */
	uint64_t size_max;        /* 0: announced without a limit */
	bool eightbitmime;        /* RFC 6152 */
	bool smtputf8;            /* RFC 6531 */
	bool starttls;            /* RFC 3207 */
	bool enhancedstatuscodes; /* RFC 2034 */
	bool chunking;            /* RFC 3030 (unused) */
	unsigned auth;            /* SMTPC_AUTH_* offered (RFC 4954) */
};

/*
 * Fills ext from a 2xx EHLO reply; everything absent is false/0.  A
 * malformed line is skipped, never an error: the keywords are advice.
 */
void smtpc_ehlo_parse(const struct smtpc_reply *r, struct smtpc_ext *ext);

#endif
