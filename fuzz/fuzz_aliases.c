/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for a domain's list files: the input is parsed as an
 * aliases file and as a Dovecot passwd-file (both "name:..." lines), and
 * whatever aliases parse are then expanded by the policy module, so that
 * arbitrary alias graphs (loops, fan-outs, catch-alls) are exercised too.
 * Expansion must end, in bounded time, with targets or a 5xx reply.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "config/config.h"
#include "core/buf.h"
#include "core/envelope.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "policy/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ALIASES_MAX_BYTES 65536
#define FUZZ_ALIASES_RCPTS_MAX 8

static void
fuzz_aliases_expand(struct config_domain *d)
{
	struct config cfg;
	struct policy_client client = { .role = LISTEN_ROLE_MX };
	struct policy_result r;
	struct envelope env;
	char *addr;
	size_t i, j;

	memset(&cfg, 0, sizeof(cfg));
	cfg.domains = d;
	cfg.n_domains = 1;
	cfg.primary_domain = d;
	/* The first alias doubles as the catch-all. */
	d->catch_all = d->n_aliases > 0 ? xstrdup(d->aliases[0].name) : NULL;
	envelope_init(&env);
	for (i = 0; i < d->n_aliases && i < FUZZ_ALIASES_RCPTS_MAX; i++) {
		addr = xasprintf("%s@example.test", d->aliases[i].name);
		r = policy_check_rcpt(&cfg, &client, addr);
		ASSERT(r.code == 0 || (r.code >= 500 && r.code < 600));
		envelope_add_rcpt(&env, addr);
		free(addr);
	}
	envelope_add_rcpt(&env, "postmaster");
	envelope_add_rcpt(&env, "unknown+x@example.test");
	if (policy_expand(&cfg, &env, &r) == 0) {
		ASSERT(env.n_targets > 0 && env.n_targets <= POLICY_EXPAND_MAX);
		for (i = 0; i < env.n_targets; i++) {
			ASSERT(env.targets[i].rcpt_index < env.n_rcpts);
			for (j = 0; j < i; j++)
				ASSERT(strcmp(env.targets[i].address,
				    env.targets[j].address) != 0);
		}
	} else {
		ASSERT(r.code >= 500 && r.code < 600 && env.n_targets == 0);
	}
	envelope_clear(&env);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config_domain d;
	struct buf err;
	int rc;

	if (size > FUZZ_ALIASES_MAX_BYTES)
		return 0;
	buf_init(&err, 0, 0);
	memset(&d, 0, sizeof(d));
	d.name = xstrdup("example.test");
	rc = config_users_parse(&d, "fuzz.users", (const char *)data, size,
	    &err);
	ASSERT(rc == 0 ? err.len == 0 : err.len > 0);
	buf_reset(&err);
	rc = config_aliases_parse(&d, "fuzz.aliases", (const char *)data,
	    size, &err);
	ASSERT(rc == 0 ? err.len == 0 : err.len > 0);
	fuzz_aliases_expand(&d);
	config_domain_clear(&d);
	buf_clear(&err);
	return 0;
}
