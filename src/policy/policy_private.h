/* SPDX-License-Identifier: ISC */
/*
 * Internals shared by the files of src/policy/: the parsed form of a
 * recipient address and the alias expander that both
 * policy_check_rcpt() and policy_expand() run.
 */
#ifndef TERN_POLICY_POLICY_PRIVATE_H
#define TERN_POLICY_POLICY_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/policy.h"

/* Longest address looked at; RFC 5321 4.5.3.1.3 allows 256 octets. */
#define POLICY_ADDR_MAX_BYTES 1024
/* Lookups one expansion may make, whatever the alias graph looks like. */
#define POLICY_EXPAND_STEPS_MAX 100000

/* A recipient split into its parts (heap strings). */
struct policy_addr {
	char *local;		/* unquoted local part, case as received */
	char *local_raw;	/* local part as received, quotes included */
	char *domain;		/* lowercased; NULL if there was no '@' */
};

/*
 * Splits addr ("local@domain", '"quoted local"@domain, or a bare local
 * part) into a.  0, or -1 if addr is malformed (a is then empty).
 */
ATTR_WUR int policy_addr_parse(const char *addr, struct policy_addr *a);
void policy_addr_clear(struct policy_addr *a);

/* The state of one expansion: one RCPT, or every RCPT of a message. */
struct policy_expander {
	const struct config *cfg;
	struct envelope *env;	/* targets are appended here */
	bool remote_ok;		/* an authenticated client may relay */
	size_t rcpt_index;	/* recorded in the targets it adds */
	const struct config_alias *path[POLICY_ALIAS_DEPTH_MAX];
	size_t depth;		/* aliases on path */
	uint8_t **done;		/* [domain][alias]: expanded already */
	size_t steps;
	struct policy_result result;	/* why it failed */
};

void policy_expand_init(struct policy_expander *x, const struct config *cfg,
    struct envelope *env, bool remote_ok);
void policy_expand_clear(struct policy_expander *x);
/* Expands one recipient into x->env.  0, or -1 with x->result set. */
ATTR_WUR int policy_expand_rcpt(struct policy_expander *x, const char *addr);

#endif
